# shellcheck shell=bash
# What the Ansible and Puppet integration scripts share for the "failure midway" steps of issue
# 12 item 15. Sourced after the script sets `bin` (the mirrorctl under test) and defines `fail`
# and `step`.

# write_midway_inventory FILE: an inventory whose apply stops midway under a mirrorctl from
# read_only_mirrorctl for the root's /etc/zz. containerd's config.toml lies there and is written
# last: the hosts.toml and the kubelet's provider config land, then the run fails.
write_midway_inventory() {
  cat >"$1" <<YAML
version: 1
containerd: {manageConfig: true, configFile: /etc/zz/config.toml}
registries:
  docker.io:
    mirrors: [{url: "https://mirror.example:5000"}]
credentialProviders:
  - name: corp
    matchImages: [docker.io]
    defaultCacheDuration: 12h
YAML
}

# read_only_mirrorctl WRAPPER DIR: writes WRAPPER, a mirrorctl that runs with DIR (made here)
# read-only: a read-only bind mount in a private mount namespace of that run's own (root ignores
# modes, not a read-only mount). An apply stops at the first file it writes in DIR. Fails where
# such a namespace cannot be made (not root, no unshare).
read_only_mirrorctl() {
  mkdir -p "$2"
  cat >"$1" <<SH
#!/bin/sh
exec unshare --mount --propagation private sh -ec 'mount --bind "\$0" "\$0"; mount -o remount,bind,ro "\$0"; exec "\$@"' '$2' '$bin' "\$@"
SH
  chmod +x "$1"
  "$1" --version >/dev/null 2>&1
}

# unavailable WHAT: the step needs WHAT, which this machine lacks: skipped, or a failure under CI.
unavailable() {
  if [[ ${CI:-} == true ]]; then
    fail "CI needs $1"
  else
    echo "SKIPPED [$step]: $1 is not available on this machine" >&2
  fi
}
