#!/usr/bin/env bash
# The fleet-sized benchmark of mirrorctl (issue 8): whole processes at 10, 100, 1,000 and 10,000
# registries, side by side with the hashing floor (find | xargs sha256sum over the same files)
# and, with BENCH_ANSIBLE=1, the Ansible template loop at 100 registries. Writes the results
# section of benches/README.md. Not part of `cargo test` or CI: it takes minutes.
#
#   benches/run.sh                      # about 5 minutes
#   BENCH_ANSIBLE=1 benches/run.sh      # plus the Ansible loop: about 10 minutes
#
# Environment:
#   BENCH_ANSIBLE=1        also time the Ansible loop (ansible-core: pip install ansible-core)
#   BENCH_ANSIBLE_RUNS=N   runs per Ansible measurement (default 3)
#   BENCH_SIZES="10 100"   registry counts (default "10 100 1000 10000")
#   BENCH_RUNS=N           minimum runs per fast measurement (default 10)
#   BENCH_DIR=DIR          where the roots go (default /var/tmp); must be a real disk, not tmpfs
#   BENCH_REV=REV          benchmark a commit (git archive REV, built in target/bench-rev)
#                          instead of the working tree
#   MIRRORCTL=PATH         benchmark this binary instead of building one
#   BENCH_README=PATH      write the results here (default benches/README.md; "-" = stdout only)
#
# Needs (Debian): hyperfine time strace python3; optional: eatmydata, linux-perf, ansible-core.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
sizes=${BENCH_SIZES:-10 100 1000 10000}
runs=${BENCH_RUNS:-10}
ansible_runs=${BENCH_ANSIBLE_RUNS:-3}
readme=${BENCH_README:-$here/README.md}

log() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

missing=()
for tool in hyperfine strace python3 find xargs sha256sum; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ -x /usr/bin/time ]] || missing+=("time (/usr/bin/time)")
((${#missing[@]} == 0)) || die "missing ${missing[*]}; on Debian: apt-get install hyperfine time strace python3"
have_eatmydata=false
command -v eatmydata >/dev/null && have_eatmydata=true
if [[ ${BENCH_ANSIBLE:-} == 1 ]]; then
  command -v ansible-playbook >/dev/null || die "BENCH_ANSIBLE=1 needs ansible-playbook: python3 -m pip install ansible-core"
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/mirrorctl-bench.XXXXXX")
# On failure the directory stays, for a look at what went wrong.
trap 'if (($? == 0)); then rm -rf "$work"; else echo "bench: left $work" >&2; fi' EXIT
results=$work/results
mkdir -p "$results"
fs_type=$(df --output=fstype "$work" | tail -n 1)
[[ $fs_type != tmpfs ]] || log "warning: $work is on tmpfs, where fsync costs nothing; set BENCH_DIR to a disk"

# A private copy of the binary: a rebuild during the run must not change what is measured.
if [[ -n ${MIRRORCTL:-} ]]; then
  cp "$MIRRORCTL" "$work/mirrorctl"
  built="binary $MIRRORCTL"
elif [[ -n ${BENCH_REV:-} ]]; then
  rev=$(git -C "$repo" rev-parse --short "$BENCH_REV^{commit}") || die "no commit $BENCH_REV"
  log "cargo build --release of $rev"
  mkdir "$work/src"
  git -C "$repo" archive "$rev" | tar -x -C "$work/src"
  (cd "$work/src" && CARGO_TARGET_DIR=$repo/target/bench-rev cargo build --release --quiet)
  cp "$repo/target/bench-rev/release/mirrorctl" "$work/mirrorctl"
  built="commit $rev"
else
  log "cargo build --release"
  (cd "$repo" && cargo build --release --quiet)
  cp "$repo/target/release/mirrorctl" "$work/mirrorctl"
  built="commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$repo" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null ||
    built+=" + uncommitted changes"
fi
bin=$work/mirrorctl

# hf NAME [hyperfine args...]: one hyperfine measurement, exported as JSON.
hf() {
  local name=$1
  shift
  hyperfine --style basic --export-json "$results/hf-$name.json" "$@" >&2
}

# rss NAME COUNT PREPARE COMMAND...: peak RSS (KiB) of COUNT runs, one number a line; PREPARE
# runs before each.
rss() {
  local name=$1 count=$2 prepare=$3
  shift 3
  local i
  for ((i = 0; i < count; i++)); do
    sh -c "$prepare"
    /usr/bin/time -f %M -o "$work/rss.tmp" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$work/rss.tmp" >>"$results/rss-$name.txt"
  done
}

# expect STATUS COMMAND...: runs once, fails the benchmark on another exit status; leaves the
# wall time in $elapsed (seconds) so that a pathologically slow command is not run 13 times.
expect() {
  local want=$1 status=0 start
  shift
  start=$(date +%s%N)
  "$@" >"$work/out.tmp" 2>"$work/err.tmp" || status=$?
  elapsed=$((($(date +%s%N) - start) / 1000000000))
  if [[ $status != "$want" ]]; then
    cat "$work/err.tmp" >&2
    die "expected exit $want, got $status: $*"
  fi
  if [[ -s $work/err.tmp ]]; then
    log "stderr of $* (the generated inventory should be warning-free):"
    head -n 5 "$work/err.tmp" >&2
  fi
}

# budget SECONDS: hyperfine run counts for a command that took SECONDS once; sets $hf_runs
# and $rss_runs. Fast commands get warmups and at least $runs runs; slow ones fewer.
budget() {
  if (($1 < 2)); then
    hf_runs=(--warmup 3 --min-runs "$runs")
    rss_runs=3
  elif (($1 < 30)); then
    hf_runs=(--warmup 1 --runs 3)
    rss_runs=3
  else
    log "a single run took $1 s: measuring it once"
    hf_runs=(--runs 1)
    rss_runs=1
  fi
}

# fresh.sh DIR: an empty DIR for an apply of new files. The previous one is moved aside, not
# deleted (the filesystem would still be busy with the deletion during the timed run), and
# everything is synced so that each run starts from a quiet filesystem.
mkdir -p "$work/trash"
cat >"$work/fresh.sh" <<EOF
#!/bin/sh
[ -d "\$1" ] && mv "\$1" "$work/trash/\$(date +%s%N)"
mkdir "\$1"
sync
EOF

# Every call that could change the managed tree; `?`: a name this architecture lacks is fine.
traced=?write,?pwrite64,?writev,?pwritev,?pwritev2,?rename,?renameat,?renameat2,?chmod,?fchmod,?fchmodat,?fchmodat2,?chown,?fchown,?fchownat,?lchown,?unlink,?unlinkat,?rmdir,?mkdir,?mkdirat,?link,?linkat,?symlink,?symlinkat,?truncate,?ftruncate,?utimensat,?fsync,?fdatasync,?open,?openat,?openat2,?creat

for n in $sizes; do
  log "$n registries"
  inv=$work/inv-$n.yaml
  python3 "$here/gen_inventory.py" "$n" "$inv" --ansible-vars "$work/vars-$n.yml"
  steady=$work/steady-$n
  fresh=$work/fresh-$n
  floor="find $steady -name hosts.toml -print0 | xargs -0 sha256sum"
  fresh_root="sh $work/fresh.sh $fresh"
  mkdir -p "$steady"

  expect 2 "$bin" apply -i "$inv" --root "$steady"
  t_new=$elapsed
  files=$(find "$steady" -name hosts.toml | wc -l)
  [[ $files == "$n" ]] || die "$n registries but $files hosts.toml files"

  expect 0 "$bin" render -i "$inv"
  budget "$elapsed"
  hf "$n-render" -N "${hf_runs[@]}" "$bin render -i $inv"
  rss "$n-render" "$rss_runs" true "$bin" render -i "$inv"

  expect 0 "$bin" check -i "$inv" --root "$steady"
  budget "$elapsed"
  hf "$n-check" -N "${hf_runs[@]}" "$bin check -i $inv --root $steady"
  rss "$n-check" "$rss_runs" true "$bin" check -i "$inv" --root "$steady"

  expect 0 "$bin" apply -i "$inv" --root "$steady"
  budget "$elapsed"
  hf "$n-apply_noop" -N "${hf_runs[@]}" "$bin apply -i $inv --root $steady"
  rss "$n-apply_noop" "$rss_runs" true "$bin" apply -i "$inv" --root "$steady"

  hf "$n-floor" --shell bash --warmup 3 --min-runs "$runs" "$floor"
  rss "$n-floor" 3 true sh -c "$floor"

  new_runs=5
  ((n < 10000 && t_new < 30)) || new_runs=3
  ((t_new < 120)) || new_runs=1
  hf "$n-apply_new" -N -i --runs "$new_runs" --prepare "$fresh_root" \
    "$bin apply -i $inv --root $fresh"
  rss "$n-apply_new" "$(((new_runs + 1) / 2))" "$fresh_root" "$bin" apply -i "$inv" --root "$fresh"
  if $have_eatmydata; then
    hf "$n-apply_new_eatmydata" -N -i --runs "$new_runs" --prepare "$fresh_root" \
      "eatmydata $bin apply -i $inv --root $fresh"
  fi

  # The syscall check: a no-op apply must not write, rename, chmod, unlink or create anything
  # under the managed tree (the root's etc/); mtimes must not move.
  find "$steady/etc" -printf '%p %T@ %m\n' | sort >"$work/before.txt"
  strace -f -y -qq -o "$work/strace-noop.txt" \
    -e "trace=$traced" \
    "$bin" apply -i "$inv" --root "$steady" >/dev/null
  find "$steady/etc" -printf '%p %T@ %m\n' | sort >"$work/after.txt"
  python3 "$here/report.py" syscalls "$work/strace-noop.txt" "$steady" \
    >"$results/syscalls-$n.json"
  if cmp -s "$work/before.txt" "$work/after.txt"; then
    echo true >"$results/mtimes-$n.txt"
  else
    echo false >"$results/mtimes-$n.txt"
  fi

  # Where the time of an apply of new files goes: wall-clock time per syscall, with perf trace
  # (low overhead) or else strace.
  if [[ $n == 1000 ]]; then
    sh -c "$fresh_root"
    perf trace -s -o "$results/perf-trace-apply_new-$n.txt" \
      "$bin" apply -i "$inv" --root "$fresh" >/dev/null 2>&1 || true
    if ! grep -qs fsync "$results/perf-trace-apply_new-$n.txt"; then
      rm -f "$results/perf-trace-apply_new-$n.txt"
      sh -c "$fresh_root"
      strace -f -c -w -qq -o "$results/strace-c-apply_new-$n.txt" \
        "$bin" apply -i "$inv" --root "$fresh" >/dev/null || true
    fi
  fi
  rm -rf "$work/trash" "$fresh"
  mkdir "$work/trash"
done

if [[ ${BENCH_ANSIBLE:-} == 1 ]]; then
  n=100
  log "Ansible template loop, $n registries"
  [[ -f $work/vars-$n.yml ]] ||
    python3 "$here/gen_inventory.py" "$n" "$work/inv-$n.yaml" --ansible-vars "$work/vars-$n.yml"
  # Ansible refuses to start under LC_ALL=C; modules run with the Python ansible itself runs on.
  export LC_ALL=C.UTF-8 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=false
  export ANSIBLE_HOME=$work/ansible-home ANSIBLE_LOCAL_TEMP=$work/ansible-tmp
  # Not `ansible --version | head`: ansible dies of the broken pipe.
  ansible --version >"$work/ansible-version.txt"
  python=$(sed -n 's/^ *python version = .*(\(.*\))$/\1/p' "$work/ansible-version.txt")
  [[ -n $python ]] || die "cannot find the Python ansible runs on (ansible --version)"
  aroot=$work/ansible-root
  play="ansible-playbook -i localhost, -c local $here/ansible/hosts.yml -e root=$aroot -e @$work/vars-$n.yml -e ansible_python_interpreter=$python"
  rm -rf "$aroot"
  $play >"$work/ansible-first.log" 2>&1 || {
    tail -n 30 "$work/ansible-first.log" >&2
    die "the Ansible playbook failed"
  }
  $play >"$work/ansible-again.log" 2>&1 || die "the second Ansible run failed"
  grep -q 'changed=0 ' "$work/ansible-again.log" || die "the second Ansible run changed something"
  # Same files, same bytes, same modes as mirrorctl's (its state directory aside).
  same=true
  diff -r "$aroot/etc" "$work/steady-$n/etc" >&2 || same=false
  (cd "$aroot/etc" && find . -printf '%P %m\n' | sort) >"$work/ansible-modes.txt"
  (cd "$work/steady-$n/etc" && find . -printf '%P %m\n' | sort) >"$work/mirrorctl-modes.txt"
  cmp -s "$work/ansible-modes.txt" "$work/mirrorctl-modes.txt" || same=false
  echo "$same" >"$results/ansible-identical.txt"
  head -n 1 "$work/ansible-version.txt" >"$results/ansible-version.txt"
  hf "ansible-first" -N --runs "$ansible_runs" --prepare "sh -c 'rm -rf $aroot && sync'" "$play"
  hf "ansible-noop" -N --runs "$ansible_runs" "$play"
  hf "ansible-floor" --shell bash --warmup 3 --min-runs "$runs" \
    "find $aroot -name hosts.toml -print0 | xargs -0 sha256sum"
fi

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(sed -n '/^model name/{s/^[^:]*: //p;q}' /proc/cpuinfo)"
  echo "cores=$(nproc)"
  echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "fs=$fs_type on $(df --output=source "$work" | tail -n 1)"
  echo "mirrorctl=$("$bin" --version)"
  echo "commit=$built"
  echo "hyperfine=$(hyperfine --version)"
  echo "eatmydata=$have_eatmydata"
  echo "sizes=$sizes"
  echo "runs=$runs"
} >"$results/meta.txt"

python3 "$here/report.py" table "$results" "$readme"
