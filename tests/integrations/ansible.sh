#!/usr/bin/env bash
# Drives the mirrorctl.node collection, its role and the command-module recipe with a real
# ansible-playbook against localhost, every file written under a temporary --root.
#
#   tests/integrations/ansible.sh PATH/TO/mirrorctl
#
# Exit 0 passed, 1 failed, 77 skipped (tools missing and CI is not "true").
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PATH/TO/mirrorctl" >&2
  exit 64
fi
bin=$(realpath "$1")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=midway.sh
source "$repo/tests/integrations/midway.sh"
examples=$repo/ansible/examples

missing=()
for tool in ansible-playbook ansible-doc ansible-test ansible-lint; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  if [[ ${CI:-} == true ]]; then
    echo "error: CI needs ${missing[*]} (pip install ansible-core ansible-lint)" >&2
    exit 1
  fi
  echo "SKIPPED: Ansible integration tests: ${missing[*]} not found (pip install ansible-core ansible-lint)" >&2
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Ansible refuses to start under LC_ALL=C; only this checkout's collection is on the path.
export LC_ALL=C.UTF-8
export ANSIBLE_COLLECTIONS_PATH=$repo/ansible
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_HOME=$tmp/ansible-home
export ANSIBLE_LOCAL_TEMP=$tmp/ansible-tmp
export ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=false

failures=0
step=""

begin() {
  step=$1
  echo "== [${SECONDS}s] $step"
}

fail() {
  echo "FAIL [$step]: $*" >&2
  failures=$((failures + 1))
}

# play LOG PLAYBOOK ARGS...: runs ansible-playbook on localhost, keeps its output in $tmp/LOG.log
# and its exit status in $status.
play() {
  local log=$tmp/$1.log
  shift
  status=0
  ansible-playbook -i localhost, -c local \
    -e 'ansible_python_interpreter={{ ansible_playbook_python }}' "$@" >"$log" 2>&1 || status=$?
  last_log=$log
  sed 's/^/    /' "$log"
}

expect_status() {
  [[ $status -eq $1 ]] || fail "ansible-playbook exited $status, expected $1"
}

# expect_recap KEY=VALUE...: checks counters of the PLAY RECAP line of the last run.
expect_recap() {
  local recap
  recap=$(grep -E '^localhost +:' "$last_log" || true)
  for want in "$@"; do
    [[ " $recap " == *" $want "* ]] || fail "recap '$recap' lacks $want"
  done
}

expect_log() {
  grep -qF -- "$1" "$last_log" || fail "output lacks: $1"
}

expect_no_log() {
  if grep -qF -- "$1" "$last_log"; then fail "output has: $1"; fi
}

# snapshot DIR: every file under DIR with its mode and digest, to prove a run wrote nothing.
snapshot() {
  if [[ -d $1 ]]; then
    (cd "$1" && find . -type f -printf '%p %m ' -exec sha256sum {} \; | sort)
  fi
}

write_inventory() { # write_inventory FILE MIRROR_URL CACHE_DURATION
  cat >"$1" <<YAML
version: 1
registries:
  docker.io:
    mirrors: [{url: "$2"}]
credentialProviders:
  - name: corp
    matchImages: [docker.io]
    defaultCacheDuration: $3
YAML
}

hosts_toml=/etc/containerd/certs.d/docker.io/hosts.toml
provider_config=/etc/kubernetes/credential-providers.yaml



begin "ansible-doc renders the module and the role"
if ansible-doc mirrorctl.node.apply >"$tmp/doc.txt" 2>&1; then
  for want in inventory content root binary adopt exit_code restart; do
    grep -q -- "$want" "$tmp/doc.txt" || fail "ansible-doc output lacks $want"
  done
else
  cat "$tmp/doc.txt"
  fail "ansible-doc mirrorctl.node.apply failed"
fi
ansible-doc -t role mirrorctl.node.mirrorctl >"$tmp/role-doc.txt" 2>&1 ||
  { cat "$tmp/role-doc.txt"; fail "ansible-doc -t role mirrorctl.node.mirrorctl failed"; }
ansible-doc --json mirrorctl.node.apply >"$tmp/doc.json" 2>&1 ||
  fail "ansible-doc --json failed"
python3 - "$tmp/doc.json" <<'PY' || fail "module documentation incomplete"
import json, sys
doc = json.load(open(sys.argv[1]))["mirrorctl.node.apply"]
missing = [name for name, opt in doc["doc"]["options"].items() if not opt.get("description")]
missing += [name for name, attr in doc["doc"]["attributes"].items() if not attr.get("description")]
assert not missing, "undocumented: %s" % missing
author = doc["doc"]["author"]
assert author in ("mirrorctl developers (@mirrorctl)", ["mirrorctl developers (@mirrorctl)"]), author
assert "rc" not in doc["return"], "documents a return key rc"
for key in ("changed", "exit_code", "files", "restart"):
    assert key in doc["return"], "RETURN lacks %s" % key
assert doc["examples"].strip()
PY

# The production profile, offline, on the collection and the examples that use it (their role:
# references resolve through ANSIBLE_COLLECTIONS_PATH). Its caches go to $tmp.
begin "ansible-lint --profile production"
status=0
(cd "$repo/ansible" && XDG_CACHE_HOME=$tmp/cache ansible-lint --profile production --offline \
  --nocolor ansible_collections/mirrorctl/node examples) >"$tmp/ansible-lint.log" 2>&1 || status=$?
sed 's/^/    /' "$tmp/ansible-lint.log"
[[ $status -eq 0 ]] || fail "ansible-lint exited $status"
grep -qF "Profile 'production' was required, and it passed" "$tmp/ansible-lint.log" ||
  fail "ansible-lint did not pass the production profile"

# --- the role, through ansible/examples/node.yml ----------------------------------------------
# A fresh node: nothing exists under the root, not even the inventory's directory or the
# binary's. The role installs the binary under test from the "controller" (this machine) with
# its SHA-256, then the inventory, then applies it.
root=$tmp/role-root
marker_dir=$tmp/restarted
mkdir -p "$marker_dir"
bin_sha256=$(sha256sum "$bin" | cut -d' ' -f1)
write_inventory "$tmp/v1.yaml" https://mirror.example:5000 12h
# role LOG INVENTORY_SRC ARGS...: the documented playbook against $root. The binary comes from
# $role_binary_vars (by default: installed from the controller at $root/usr/local/bin).
role() {
  inventory=$root/etc/mirrorctl/inventory.yaml
  mkdir -p "$tmp/node-tmp"
  TMPDIR=$tmp/node-tmp play "$1" "$examples/node.yml" \
    -e "mirrorctl_root=$root mirrorctl_inventory_path=$inventory" \
    -e "${role_binary_vars:-mirrorctl_binary=$root/usr/local/bin/mirrorctl mirrorctl_binary_src=$bin mirrorctl_binary_sha256=$bin_sha256}" \
    -e "mirrorctl_inventory_src=$2" \
    -e "{\"mirrorctl_restart_commands\": {\"containerd\": [\"touch\", \"$marker_dir/containerd\"], \"kubelet\": [\"touch\", \"$marker_dir/kubelet\"]}}" \
    "${@:3}"
}

# changed_tasks LOG: the tasks (not handlers) a run reported changed, in order, one per line.
changed_tasks() {
  awk '/^TASK \[/ { task = $0; handler = 0 }
       /^RUNNING HANDLER \[/ { handler = 1 }
       /^changed: \[localhost\]/ && !handler { sub(/ \*+$/, "", task); print task }' "$1"
}

begin "role: --check on a fresh node predicts every change and writes nothing"
role role-check "$tmp/v1.yaml" --check --diff
check_log=$last_log
expect_status 0
expect_recap failed=0
expect_log "TASK [mirrorctl.node.mirrorctl : Create the inventory's directory]"
expect_log "+++ after: $hosts_toml"
[[ -z $(snapshot "$root") && ! -e $root ]] || fail "check mode wrote under the root: $(find "$root" 2>/dev/null)"
[[ ! -e $marker_dir/kubelet ]] || fail "check mode restarted the kubelet"
[[ -z $(ls -A "$tmp/node-tmp") ]] || fail "check mode left files behind: $(ls -A "$tmp/node-tmp")"

begin "role: first run with --diff converges, does what check mode predicted, restarts the kubelet"
role role-first "$tmp/v1.yaml" --diff
expect_status 0
expect_recap failed=0
expect_log "+++ after: $hosts_toml"
expect_log "+++ after: $provider_config"
expect_log "https://mirror.example:5000"
expect_log "RUNNING HANDLER [mirrorctl.node.mirrorctl : Restart kubelet]"
expect_no_log "Restart containerd]"
[[ -f $root$hosts_toml ]] || fail "$hosts_toml not written"
[[ -f $root$provider_config ]] || fail "$provider_config not written"
cmp -s "$inventory" "$tmp/v1.yaml" || fail "inventory not installed"
cmp -s "$root/usr/local/bin/mirrorctl" "$bin" || fail "binary not installed"
[[ -x $root/usr/local/bin/mirrorctl ]] || fail "binary not executable"
[[ -e $marker_dir/kubelet ]] || fail "the kubelet handler did not run"
predicted=$(changed_tasks "$check_log")
done_tasks=$(changed_tasks "$last_log")
for want in "Create the binary's directory" "Install the binary" "Create the inventory's directory" \
  "Install the inventory once mirrorctl lint accepts it" "Apply the inventory" "Ask for a kubelet restart"; do
  grep -qF ": $want]" <<<"$done_tasks" || fail "the real run did not change: $want"
done
[[ $predicted == "$done_tasks" ]] ||
  fail "check mode predicted other changes than the real run made:$(diff <(echo "$predicted") <(echo "$done_tasks"))"
rm -f "$marker_dir"/*

begin "role: check mode, then the second run, change nothing"
role role-second-check "$tmp/v1.yaml" --check
expect_status 0
expect_recap changed=0 failed=0
role role-second "$tmp/v1.yaml"
expect_status 0
expect_recap changed=0 failed=0
[[ ! -e $marker_dir/kubelet ]] || fail "the kubelet handler ran on an unchanged node"

begin "role: a hosts.toml-only change restarts nothing"
write_inventory "$tmp/v2.yaml" https://mirror2.example:5000 12h
before=$(snapshot "$root")
role role-hosts "$tmp/v2.yaml" --diff
expect_status 0
expect_recap failed=0
expect_log "-[host.\"https://mirror.example:5000\"]"
expect_log "+[host.\"https://mirror2.example:5000\"]"
expect_no_log "RUNNING HANDLER"
[[ $(snapshot "$root") != "$before" ]] || fail "nothing was written"
[[ -z $(ls -A "$marker_dir") ]] || fail "a handler ran: $(ls "$marker_dir")"

begin "role: a credential-provider change restarts the kubelet only"
write_inventory "$tmp/v3.yaml" https://mirror2.example:5000 6h
role role-provider "$tmp/v3.yaml"
expect_status 0
expect_recap failed=0
[[ -e $marker_dir/kubelet ]] || fail "the kubelet handler did not run"
[[ ! -e $marker_dir/containerd ]] || fail "the containerd handler ran"
rm -f "$marker_dir"/*

# A typo in a key: mirrorctl names the field. The good inventory installed by the last step and
# every node file stay as they are, whatever mode the play runs in.
write_inventory "$tmp/typo.yaml" https://mirror3.example:5000 6h
sed -i 's/mirrors:/mirorrs:/' "$tmp/typo.yaml"
typo_field='registries."docker.io".mirorrs'

begin "role: --check with a typo'd inventory fails and names the field"
before=$(snapshot "$root")
role role-typo-check "$tmp/typo.yaml" --check
expect_status 2
expect_recap failed=1
expect_log "$typo_field"
[[ $(snapshot "$root") == "$before" ]] || fail "check mode wrote under the root"

begin "role: a typo'd inventory never replaces the installed one; nothing is applied"
role role-typo "$tmp/typo.yaml"
expect_status 2
expect_recap failed=1
expect_log "$inventory was not replaced"
expect_log "$typo_field"
expect_no_log "TASK [mirrorctl.node.mirrorctl : Apply the inventory]"
expect_no_log "RUNNING HANDLER"
cmp -s "$inventory" "$tmp/v3.yaml" || fail "the installed inventory was replaced"
[[ $(snapshot "$root") == "$before" ]] || fail "a node file changed"
[[ -z $(ls -A "$marker_dir") ]] || fail "a handler ran: $(ls "$marker_dir")"

begin "role: a binary whose SHA-256 differs is refused before anything is installed"
before=$(snapshot "$root")
role role-bad-sha "$tmp/v1.yaml" \
  -e "mirrorctl_binary_sha256=$(printf '0%.0s' {1..64})"
expect_status 2
expect_recap failed=1
expect_log "expected 0000000000000000"
expect_log "nothing installed"
[[ $(snapshot "$root") == "$before" ]] || fail "a file under the root changed"

begin "issue 12 item 15, role: a failure midway restarts the kubelet for the file it wrote, then fails"
write_midway_inventory "$tmp/midway.yaml"
root=$tmp/role-midway-root
if read_only_mirrorctl "$tmp/role-midway-mirrorctl" "$root/etc/zz"; then
  role_binary_vars="mirrorctl_binary=$tmp/role-midway-mirrorctl" \
    role role-midway "$tmp/midway.yaml"
  expect_status 2
  expect_recap failed=1
  expect_log "RUNNING HANDLER [mirrorctl.node.mirrorctl : Restart kubelet]"
  expect_no_log "Restart containerd]"
  expect_log "Read-only file system"
  [[ -f $root$provider_config ]] || fail "$provider_config not written"
  [[ -e $marker_dir/kubelet ]] || fail "the kubelet handler did not run"
  [[ ! -e $marker_dir/containerd ]] || fail "the containerd handler ran for a file never written"
  rm -f "$marker_dir"/*
else
  unavailable "a private mount namespace (root, unshare)"
fi

# --- the module's return values, asserted inside a play ---------------------------------------
begin "module: return values, check mode, diff mode, redaction, adopt, failures"
write_inventory "$tmp/m1.yaml" https://mirror.example:5000 12h
cat >"$tmp/module.yml" <<'PLAY'
- hosts: all
  gather_facts: false
  vars:
    apply: &apply
      binary: "{{ bin }}"
      root: "{{ root }}"
  tasks:
    - name: First run from an inventory path
      mirrorctl.node.apply:
        <<: *apply
        inventory: "{{ inventory }}"
      register: first
    - ansible.builtin.assert:
        that:
          - first is changed
          - first.exit_code == 2
          - "'rc' not in first"
          - first.restart == ['kubelet']
          - first.files | selectattr('path', 'equalto', hosts_toml) | map(attribute='action') | list == ['create']
          - first.files | selectattr('path', 'equalto', provider_config) | map(attribute='action') | list == ['create']
          - first.files | map('list') | map('sort') | unique | list == [['action', 'path']]
          - first.diff is not defined

    - name: Second run from the same inventory as content on stdin
      mirrorctl.node.apply:
        <<: *apply
        content: "{{ lookup('ansible.builtin.file', inventory, rstrip=false) }}"
      register: second
    - ansible.builtin.assert:
        that:
          - second is not changed
          - second.exit_code == 0
          - "'rc' not in second"
          - second.restart == []
          - second.files | map(attribute='action') | unique | list == ['unchanged']

    - name: Check mode and diff mode on a pending change
      mirrorctl.node.apply:
        <<: *apply
        content: "{{ lookup('ansible.builtin.file', inventory, rstrip=false) | replace('mirror.example', 'mirror3.example') }}"
      check_mode: true
      diff: true
      register: pending
    - ansible.builtin.slurp:
        src: "{{ root }}{{ hosts_toml }}"
      register: on_disk
    - ansible.builtin.assert:
        that:
          - pending is changed
          - pending.exit_code == 2
          - "'--check' in pending.cmd and '--diff' in pending.cmd"
          - pending.restart == []
          - pending.diff | length == 1
          - pending.diff[0].before_header == hosts_toml
          - pending.diff[0].after_header == hosts_toml
          - "'mirror.example' in pending.diff[0].before"
          - "'mirror3.example' in pending.diff[0].after"
          - "'mirror3.example' not in (on_disk.content | b64decode)"

    - name: An invalid inventory fails with mirrorctl's message
      mirrorctl.node.apply:
        <<: *apply
        content: "version: 1\nbogus: true\n"
      register: invalid
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - invalid is failed
          - invalid.exit_code == 1
          - "'rc' not in invalid"
          - invalid.msg is match('error:')
          - "'bogus' in invalid.msg"

    - name: A file mirrorctl did not write is refused without adopt
      mirrorctl.node.apply:
        <<: *apply
        root: "{{ adopt_root }}"
        inventory: "{{ inventory }}"
      register: foreign
      ignore_errors: true
    - name: and taken over with adopt
      mirrorctl.node.apply:
        <<: *apply
        root: "{{ adopt_root }}"
        inventory: "{{ inventory }}"
        adopt: true
      register: adopted
    - ansible.builtin.assert:
        that:
          - foreign is failed
          - foreign.exit_code == 1
          - "'--adopt' in foreign.msg"
          - adopted is changed
          - "'--adopt' in adopted.cmd"
          - adopted.files | selectattr('path', 'equalto', hosts_toml) | map(attribute='action') | list == ['update']

    - name: Diff mode redacts a file that carries a secret
      mirrorctl.node.apply:
        <<: *apply
        root: "{{ secret_root }}"
        content: |
          version: 1
          registries:
            docker.io:
              mirrors:
                - url: https://mirror.example:5000
                  auth: {basicFrom: {usernameFile: /etc/mirrorctl/user, passwordFile: /etc/mirrorctl/password}}
      diff: true
      register: secret
    - ansible.builtin.assert:
        that:
          - secret is changed
          - secret.diff | length == 1
          - "'<redacted' in secret.diff[0].after"
          - "'s3cr3t-pw' not in (secret | to_json)"
          - "('alice:s3cr3t-pw' | b64encode) not in (secret | to_json)"

    - name: An unknown binary fails
      mirrorctl.node.apply:
        <<: *apply
        binary: mirrorctl-does-not-exist
      register: nobinary
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - nobinary is failed
          - "'mirrorctl-does-not-exist' in nobinary.msg"
PLAY
mkdir -p "$tmp/adopt-root/etc/containerd/certs.d/docker.io"
echo 'server = "https://registry-1.docker.io"' >"$tmp/adopt-root$hosts_toml"
mkdir -p "$tmp/secret-root/etc/mirrorctl"
printf alice >"$tmp/secret-root/etc/mirrorctl/user"
printf s3cr3t-pw >"$tmp/secret-root/etc/mirrorctl/password"
play module "$tmp/module.yml" \
  -e "bin=$bin root=$tmp/module-root adopt_root=$tmp/adopt-root secret_root=$tmp/secret-root" \
  -e "inventory=$tmp/m1.yaml" \
  -e "hosts_toml=$hosts_toml provider_config=$provider_config"
expect_status 0
expect_recap failed=0 ignored=3

begin "issue 12 item 15, module: a run that fails after writing some files reports them, changed, and fails"
cat >"$tmp/module-midway.yml" <<'PLAY'
- hosts: all
  gather_facts: false
  tasks:
    - name: A run that stops at a read-only directory
      mirrorctl.node.apply:
        binary: "{{ bin }}"
        root: "{{ root }}"
        content: "{{ lookup('ansible.builtin.file', midway_inventory, rstrip=false) }}"
      register: midway
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - midway is failed
          - midway is changed
          - midway.exit_code == 1
          - "'rc' not in midway"
          - midway.written == [hosts_toml, provider_config]
          - midway.not_written == ['/etc/zz/config.toml']
          - midway.restart == ['kubelet']
          - midway.error.kind == 'io'
          - midway.error.stage == 'apply'
          - midway.error.file == midway.not_written[0]
          - midway.files | map(attribute='action') | unique | list == ['create']
          - "'Read-only file system' in midway.msg"
PLAY
if read_only_mirrorctl "$tmp/module-midway-mirrorctl" "$tmp/midway-root/etc/zz"; then
  play module-midway "$tmp/module-midway.yml" \
    -e "bin=$tmp/module-midway-mirrorctl root=$tmp/midway-root midway_inventory=$tmp/midway.yaml" \
    -e "hosts_toml=$hosts_toml provider_config=$provider_config"
  expect_status 0
  expect_recap failed=0 ignored=1
else
  unavailable "a private mount namespace (root, unshare)"
fi

# --- the plain command-module recipe, ansible/examples/command.yml ----------------------------
root=$tmp/command-root
command_recipe() {
  play "$1" "$examples/command.yml" \
    -e "mirrorctl_binary=$bin mirrorctl_root=$root mirrorctl_inventory_path=$2" "${@:3}"
}

begin "command recipe: --check reports changed and writes nothing"
command_recipe command-check "$tmp/v1.yaml" --check
expect_status 0
expect_recap changed=1 failed=0
[[ -z $(snapshot "$root") ]] || fail "check mode wrote under the root"

begin "command recipe: first run changed, second run ok"
command_recipe command-first "$tmp/v1.yaml"
expect_status 0
expect_recap changed=1 failed=0
[[ -f $root$hosts_toml ]] || fail "$hosts_toml not written"
command_recipe command-second "$tmp/v1.yaml"
expect_status 0
expect_recap changed=0 failed=0

begin "command recipe: --check --diff prints mirrorctl's diff and writes nothing"
before=$(snapshot "$root")
command_recipe command-diff "$tmp/v2.yaml" --check --diff
expect_status 0
expect_recap changed=1 failed=0
expect_log "mirror2.example"
[[ $(snapshot "$root") == "$before" ]] || fail "check mode wrote under the root"

begin "command recipe: an invalid inventory fails"
command_recipe command-invalid "$tmp/invalid.yaml"
expect_status 2
expect_recap failed=1
expect_log "error:"

# --- ansible-test sanity ------------------------------------------------------------------------
# Its per-test virtualenvs bootstrap pip with a script fetched from Ansible's CI file server,
# which this network does not reach. The stand-in written below does the same job with the
# standard library's ensurepip and pip from PyPI (PIP_CERT carried over: ansible-test runs the
# script in a trimmed environment). HOME and the collection are copies under $tmp, so nothing
# lands in the checkout (ansible-test writes tests/output/) or in the user's ~/.ansible.
begin "ansible-test sanity"
python_version=$(ansible --version | sed -n 's/^ *python version = \([0-9]*\.[0-9]*\).*/\1/p')
sanity_home=$tmp/sanity-home
sanity_collection=$tmp/sanity/ansible_collections/mirrorctl/node
mkdir -p "$(dirname "$sanity_collection")"
cp -R "$repo/ansible/ansible_collections/mirrorctl/node" "$sanity_collection"
if bootstrap=$(HOME=$sanity_home python3 - "$python_version" <<'PY'
import os, sys, types
from ansible_test._internal.python_requirements import get_venv_packages
pip = get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"]
print(os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % pip.replace(".", "_")))
PY
); then
  mkdir -p "$(dirname "$bootstrap")"
  cat >"$bootstrap" <<PY
import ensurepip, subprocess, sys
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = ["--cert", "${PIP_CERT:-}"] if "${PIP_CERT:-}" else []
subprocess.check_call([sys.executable, "-m", "pip", "install"] + cert + args)
PY
  status=0
  (cd "$sanity_collection" && HOME=$sanity_home ansible-test sanity --python "$python_version") \
    >"$tmp/sanity.log" 2>&1 || status=$?
  grep -E '^(ERROR|FATAL|Running)' "$tmp/sanity.log" | sed 's/^/    /' || true
  if [[ $status -ne 0 ]]; then
    sed 's/^/    /' "$tmp/sanity.log"
    fail "ansible-test sanity exited $status"
  fi
else
  fail "cannot tell which pip bootstrap script this ansible-test wants"
fi

if ((failures)); then
  echo "ansible integration: $failures check(s) failed" >&2
  exit 1
fi
echo "ansible integration: all checks passed in ${SECONDS}s"
