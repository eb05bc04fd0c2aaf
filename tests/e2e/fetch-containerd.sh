#!/usr/bin/env bash
# Fetches the containerd of newer Debian suites for the end-to-end suite (issue 13): trixie's
# (1.7.x) and sid's (2.x), with this machine's own apt and its own configured Debian source, into
# a cache outside the work tree. Nothing is installed: the system's containerd stays as it is.
#
# Usage: fetch-containerd.sh [SUITE...]   fetch (default: trixie sid); prints each version found
#        fetch-containerd.sh --list       print "SUITE<TAB>BINDIR" per suite, fetched or not
#
# The temporary sources list copies the machine's entry for its own release (deb822 stanza in
# /etc/apt/sources.list.d/*.sources, or a one-line entry) with only the suite changed, so the
# URIs and Signed-By are the machine's (a deb822 copy also limits the index targets to Packages,
# sparing translations and AppStream data). apt runs with its own lists, cache, status and
# sources under the cache directory, so the system's package lists are not touched either.
#
# Environment: MIRRORCTL_CONTAINERD_CACHE  the cache (default: ${XDG_CACHE_HOME:-$HOME/.cache}/mirrorctl/containerd)
# Exit status: 0 every suite fetched, 1 an error, 64 usage.
set -euo pipefail
shopt -s inherit_errexit

SUITES=(trixie sid)
CACHE=${MIRRORCTL_CONTAINERD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mirrorctl/containerd}

die() {
  printf 'fetch-containerd: %s\n' "$*" >&2
  exit 1
}

bin_dir() { printf '%s/%s/root/usr/bin' "$CACHE" "$1"; }

case ${1:-} in
  --list)
    for suite in "${SUITES[@]}"; do printf '%s\t%s\n' "$suite" "$(bin_dir "$suite")"; done
    exit 0
    ;;
  -*)
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit 64
    ;;
esac
(($#)) && SUITES=("$@")

for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null || die "needs $tool (Debian's apt and dpkg)"
done
# The packages depend on runc (and libc6 >= 2.34, which bookworm has); nothing here installs it.
command -v runc >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v runc >/dev/null ||
  die "runc is not installed (apt-get install runc): the fetched containerd packages depend on it"

# The machine's own release, and its apt entry for that release: "SOURCESENTRY" (file:N, N the
# stanza of a .sources file or the line of a .list file) as apt itself reports it.
. /etc/os-release
[[ -n ${VERSION_CODENAME:-} ]] || die "no VERSION_CODENAME in /etc/os-release"
# shellcheck disable=SC2016  # $(FIELD) is apt's own template syntax
entry=$(apt-get indextargets --no-release-info --format '$(RELEASE) $(TARGET_OF) $(IDENTIFIER) $(SOURCESENTRY)' |
  awk -v rel="$VERSION_CODENAME" '$1 == rel && $2 == "deb" && $3 == "Packages" { print $4; exit }')
[[ -n $entry ]] || die "apt has no 'deb' source for $VERSION_CODENAME (apt-get indextargets); is apt configured?"
entry_file=${entry%:*}
entry_n=${entry##*:}

# source_entry SUITE: the machine's entry for its release with the suite replaced, on stdout.
source_entry() {
  local suite=$1
  case $entry_file in
    *.sources)
      # Stanza number entry_n (stanzas are separated by blank lines); Suites replaced, and the
      # index targets limited to Packages (apt would also fetch translations and AppStream data).
      awk -v n="$entry_n" -v suite="$suite" '
        /^[ \t]*$/ { if (in_stanza) { stanza++ } in_stanza = 0; next }
        /^#/ { next }
        { if (!in_stanza) { in_stanza = 1; cur = stanza + 1 } }
        cur == n {
          if ($0 ~ /^[Ss]uites:/) { print "Suites: " suite; next }
          if ($0 ~ /^[Tt]argets:/) next
          print
        }
        END { print "Targets: Packages" }
      ' "$entry_file"
      ;;
    *)
      # One-line format: deb [options] URI SUITE COMPONENT...
      sed -n "${entry_n}p" "$entry_file" | awk -v suite="$suite" '
        { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } $(i + 1) = suite; print }'
      ;;
  esac
}

fetch() {
  local suite=$1 dir=$CACHE/$1 apt candidate have deb
  apt=$dir/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/preferences.d" "$apt/download"
  : >"$apt/status"
  : >"$apt/sources.list"
  source_entry "$suite" >"$apt/sources.list.d/$suite.${entry_file##*.}"
  local -a opts=(
    -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
    -o "Dir::Cache=$apt/cache" -o "Dir::Etc::SourceList=$apt/sources.list"
    -o "Dir::Etc::SourceParts=$apt/sources.list.d" -o "Dir::Etc::Preferences=$apt/preferences"
    -o "Dir::Etc::PreferencesParts=$apt/preferences.d"
    # The download directory belongs to whoever runs this, not to apt's sandbox user.
    -o "APT::Sandbox::User=$(id -un)"
  )
  apt-get "${opts[@]}" -qq update >"$apt/update.log" 2>&1 ||
    { cat "$apt/update.log" >&2; die "apt-get update for $suite failed (sources: $apt/sources.list.d)"; }
  candidate=$(apt-cache "${opts[@]}" policy containerd | awk '$1 == "Candidate:" { print $2 }')
  [[ -n $candidate && $candidate != "(none)" ]] || die "$suite has no containerd package"
  have=$(cat "$dir/root.version" 2>/dev/null || true)
  if [[ $have != "$candidate" || ! -x $(bin_dir "$suite")/containerd ]]; then
    rm -rf "$apt/download"/* "$dir/root" "$dir/root.version"
    (cd "$apt/download" && apt-get "${opts[@]}" -qq download "containerd=$candidate") >"$apt/download.log" 2>&1 ||
      { cat "$apt/download.log" >&2; die "apt-get download containerd=$candidate ($suite) failed"; }
    deb=$(find "$apt/download" -name 'containerd_*.deb' | head -n 1)
    [[ -n $deb ]] || die "apt-get download left no containerd .deb for $suite"
    dpkg-deb -x "$deb" "$dir/root"
    printf '%s\n' "$candidate" >"$dir/root.version"
  fi
  local bin
  bin=$(bin_dir "$suite")
  for tool in containerd ctr containerd-shim-runc-v2; do
    [[ -x $bin/$tool ]] || die "the $suite package ($candidate) has no usr/bin/$tool"
  done
  printf '%s: %s (package %s) in %s\n' "$suite" "$("$bin/containerd" --version | awk '{ print $1, $3 }')" "$candidate" "$bin"
}

for suite in "${SUITES[@]}"; do
  fetch "$suite"
done
