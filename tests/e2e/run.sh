#!/usr/bin/env bash
# The containerd end-to-end suite of mirrorctl (issues 3 and 13): real containerd (1.6, 1.7 or
# 2.x) pulls a tiny image through real docker-registry mirrors (behind nginx) configured only by
# files that `mirrorctl apply` wrote, inside private network, mount and PID namespaces with
# loopback only. Every inventory targets the containerd under test (`containerd --version`).
#
# Usage: run.sh MIRRORCTL      run the suite with that mirrorctl binary (as root)
#        run.sh --preflight    print the missing components, one per line; exit 77 if any
#
# Environment: E2E_CONTAINERD_BIN=DIR  the containerd under test: DIR holds containerd, ctr and
#                                      containerd-shim-runc-v2 (default: those on PATH)
#              E2E_ONLY="1 7"  run only those scenarios
#              E2E_KEEP=1      keep the temp dir (logs, inventories, rendered files)
#              E2E_STRICT=1    a pending scenario fails the run
# Exit status: 0 every scenario proven (or pending), 1 a scenario or the bench failed or the
#              host's /etc/containerd changed, 77 a component is missing, 64 usage.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# nginx and ip live in sbin, which a non-login root shell may not have on its PATH.
PATH=$PATH:/usr/sbin:/sbin
# The containerd under test comes first on PATH: the suite, ctr and containerd's own lookup of
# its shim all find it there.
if [[ -n ${E2E_CONTAINERD_BIN:-} ]]; then
  PATH=$E2E_CONTAINERD_BIN:$PATH
fi

missing_components() {
  local cmd
  [[ $(id -u) == 0 ]] || echo "root (uid 0)"
  if [[ -n ${E2E_CONTAINERD_BIN:-} ]]; then
    for cmd in containerd ctr containerd-shim-runc-v2; do
      [[ -x $E2E_CONTAINERD_BIN/$cmd ]] || echo "$E2E_CONTAINERD_BIN/$cmd (E2E_CONTAINERD_BIN)"
    done
  fi
  for cmd in unshare ip containerd ctr docker-registry nginx openssl curl timeout mount umount mountpoint; do
    command -v "$cmd" >/dev/null 2>&1 || echo "$cmd"
  done
  # Scenarios 9, 11, 17, 20 and 21 bind-mount their node's /etc/containerd over this directory
  # (inside the suite's mount namespace only); it must exist, as Debian's containerd ships it.
  [[ -d /etc/containerd ]] || echo "the directory /etc/containerd (a mountpoint for scenarios 9, 11, 17, 20 and 21)"
  /usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || echo "python3-grpcio (/usr/bin/python3 -c 'import grpc')"
  if command -v unshare >/dev/null 2>&1 && [[ $(id -u) == 0 ]] &&
    ! unshare --net --mount --pid --fork --propagation private --mount-proc true >/dev/null 2>&1; then
    echo "permission to create network, mount and PID namespaces (unshare)"
  fi
}

# What the host sees of /etc/containerd, from outside the suite's namespaces: mounts on it and
# every entry below it, with type, mode, owner, size and mtime.
host_view() {
  awk '$5 == "/etc/containerd" || index($5, "/etc/containerd/") == 1 { print "mount " $5 }' /proc/self/mountinfo
  if [[ -e /etc/containerd ]]; then
    find /etc/containerd -printf '%p %y %m %u:%g %s %T@\n' | sort
  else
    echo "/etc/containerd absent"
  fi
}

case ${1:-} in
  --preflight)
    missing=$(missing_components)
    [[ -z $missing ]] && exit 0
    printf '%s\n' "$missing"
    exit 77
    ;;
  '' | -h | --help)
    sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
    exit 64
    ;;
esac

if [[ -z ${MIRRORCTL_E2E_INSIDE:-} ]]; then
  [[ -x $1 ]] || {
    echo "run.sh: $1 is not an executable mirrorctl" >&2
    exit 64
  }
  missing=$(missing_components)
  if [[ -n $missing ]]; then
    echo "SKIPPED: containerd end-to-end suite: missing $(printf '%s' "$missing" | paste -sd, | sed 's/,/, /g')" >&2
    exit 77
  fi
  # The suite re-runs itself as PID 1 of fresh namespaces: when it exits, the kernel ends every
  # process left in them; --kill-child sends it TERM (it cleans up) if unshare itself is killed.
  # In the foreground, not exec'd: this shell then checks that nothing of the suite's reached
  # the host's /etc/containerd (scenarios 9 and 11 mount over it inside the namespace).
  host_before=$(host_view)
  rc=0
  MIRRORCTL_E2E_INSIDE=1 unshare --net --mount --pid --fork --propagation private \
    --mount-proc --kill-child=SIGTERM -- bash "$HERE/run.sh" "$(realpath "$1")" || rc=$?
  host_after=$(host_view)
  if [[ $host_after != "$host_before" ]]; then
    echo "FAIL: the suite changed the host's /etc/containerd (its mounts and files must stay in its namespace)"
    diff <(printf '%s\n' "$host_before") <(printf '%s\n' "$host_after") | sed 's/^/    /'
    exit 1
  fi
  echo "host's /etc/containerd as before the suite: $(grep -c ' ' <<<"$host_after") entries, same mounts, modes, sizes and mtimes"
  exit "$rc"
fi

MIRRORCTL=$1
# shellcheck source=bench.sh
source "$HERE/bench.sh"
# The version under test (scenarios.sh reads it).
# containerd_version TOOL: MAJOR.MINOR.PATCH of `TOOL --version` ("1.7.24~ds1", "2.1.9+unknown").
containerd_version() {
  "$1" --version | awk '{ print $3 }' | sed -nE 's/^v?([0-9]+\.[0-9]+\.[0-9]+).*/\1/p'
}
CONTAINERD_VERSION=$(containerd_version containerd)
[[ -n $CONTAINERD_VERSION ]] || die "cannot read a version from \`containerd --version\`: $(containerd --version)"
[[ $(containerd_version ctr) == "$CONTAINERD_VERSION" ]] ||
  die "ctr ($(command -v ctr)) is $(containerd_version ctr), containerd ($(command -v containerd)) is $CONTAINERD_VERSION"
CONTAINERD_MAJOR=${CONTAINERD_VERSION%%.*}
# shellcheck source=scenarios.sh
source "$HERE/scenarios.sh"
# shellcheck source=scenarios_probe.sh
source "$HERE/scenarios_probe.sh"

SUITE_START=$EPOCHREALTIME
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mirrorctl-e2e.XXXXXX")

# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
  local rc=$? leftover proc comm
  trap - EXIT INT TERM
  bench_stop
  # Anything else still alive in this PID namespace (where this shell is 1) was started by the
  # suite too. Read from /proc with builtins only, so the check sees no process of its own.
  leftover=()
  for proc in /proc/[0-9]*; do
    [[ ${proc#/proc/} == 1 ]] && continue
    read -r comm 2>/dev/null <"$proc/comm" || continue
    leftover+=("${proc#/proc/}:$comm")
  done
  if ((${#leftover[@]})); then
    log "bench: processes left over, killing them: ${leftover[*]}"
    kill -KILL "${leftover[@]%%:*}" 2>/dev/null || true
  fi
  if [[ -n ${E2E_KEEP:-} ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

seconds_since() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}


ip link set lo up
echo "mirrorctl end-to-end suite: $("$MIRRORCTL" --version 2>/dev/null || echo "$MIRRORCTL"), containerd $CONTAINERD_VERSION ($(command -v containerd); $(containerd --version | awk '{ print $3 }'))"
t0=$EPOCHREALTIME
bench_start
echo "bench up in $(seconds_since "$t0")s: docker-registry, nginx mirrors, containerd; image $PUSHED_DIGEST"

PASSED=()
FAILED=()
PENDING=()

run_scenario() {
  local n=$1 name=$2 fn=$3 rc=0 t0 secs
  DIR=$WORK/s$n
  SCENARIO=$n
  mkdir -p "$DIR"
  reset_logs
  t0=$EPOCHREALTIME
  # Not `( … ) || rc=$?`: errexit would be off inside the subshell.
  set +e
  (
    set -e
    "$fn"
  ) >"$DIR/output" 2>&1
  rc=$?
  set -e
  secs=$(seconds_since "$t0")
  case $rc in
    0)
      echo "ok $n $name (${secs}s)"
      sed -n 's/^# /    /p' "$DIR/output"
      PASSED+=("$n")
      ;;
    "$PENDING_EXIT")
      echo "pending $n $name (${secs}s): $(cat "$WORK/pending.$n")"
      sed -n 's/^# /    /p' "$DIR/output"
      PENDING+=("$n")
      ;;
    *)
      echo "FAIL $n $name (${secs}s)"
      sed 's/^/    /' "$DIR/output"
      FAILED+=("$n")
      ;;
  esac
}

for entry in "${SCENARIOS[@]}"; do
  IFS='|' read -r n name fn <<<"$entry"
  if [[ -n ${E2E_ONLY:-} && " $E2E_ONLY " != *" $n "* ]]; then
    continue
  fi
  run_scenario "$n" "$name" "$fn"
done

echo "${#PASSED[@]} ok, ${#FAILED[@]} failed${FAILED[*]:+ (${FAILED[*]})}, ${#PENDING[@]} pending${PENDING[*]:+ (${PENDING[*]})}; total wall time $(seconds_since "$SUITE_START")s"
if ((${#FAILED[@]})); then
  exit 1
fi
if ((${#PENDING[@]})) && [[ -n ${E2E_STRICT:-} ]]; then
  echo "E2E_STRICT is set: pending scenarios fail the run"
  exit 1
fi
exit 0
