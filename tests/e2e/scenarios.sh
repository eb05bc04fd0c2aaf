# shellcheck shell=bash
# The scenarios of issue 3 (and of issue 9: 11; of issue 14: 18-20) and the checks they share. Sourced by run.sh after
# bench.sh; each scenario runs in its own subshell with errexit on, SCENARIO (its number) and DIR
# (its own directory under WORK) set, and ends by exiting: 0 proven, 1 failed, 42 pending.

PENDING_EXIT=42

# Evidence printed under "ok" lines.
note() { printf '# %s\n' "$*"; }

# Shows every hosts.toml of the scenario (credentials masked), then fails.
fail() {
  printf 'FAILED: %s\n' "$*"
  local f
  while IFS= read -r f; do
    printf -- '--- %s\n' "${f#"$DIR"/}"
    sed -E -e 's/(Authorization = .?(Basic|Bearer) )[^"]*/\1<masked>/' -e 's/(X-Mirror-Token = ")[^"]*/\1<masked>/' "$f"
  done < <(find "$DIR" -name hosts.toml 2>/dev/null | sort)
  exit 1
}

# A scenario that cannot pass until mirrorctl grows a feature: printed as pending, not ok.
pending() {
  # shellcheck disable=SC2153  # SCENARIO is set by run.sh
  printf '%s\n' "$*" >"$WORK/pending.$SCENARIO"
  exit "$PENDING_EXIT"
}

# The names in directory DIR, on one line.
entries() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' '; }

certs_dir() { printf '%s/etc/containerd/certs.d' "$1"; }

# inventory NAME: writes stdin to DIR/NAME.yaml and prints its path.
inventory() {
  cat >"$DIR/$1.yaml"
  printf '%s' "$DIR/$1.yaml"
}

# mirrorctl_apply INVENTORY ROOT: runs apply; output in DIR/apply.N.out; sets APPLY_RC and APPLY_OUT.
APPLY_N=0
mirrorctl_apply() {
  APPLY_N=$((APPLY_N + 1))
  LAST_INVENTORY=$1
  APPLY_OUT=$DIR/apply.$APPLY_N.out
  APPLY_RC=0
  "$MIRRORCTL" apply -i "$1" --root "$2" >"$APPLY_OUT" 2>&1 || APPLY_RC=$?
}

# apply INVENTORY ROOT: apply must report a change (2), and a second apply nothing (0).
apply() {
  mirrorctl_apply "$1" "$2"
  if [[ $APPLY_RC != 2 ]]; then
    cat "$APPLY_OUT"
    fail "mirrorctl apply -i ${1##*/} exited $APPLY_RC, expected 2 (changed)"
  fi
  mirrorctl_apply "$1" "$2"
  if [[ $APPLY_RC != 0 ]]; then
    cat "$APPLY_OUT"
    fail "second mirrorctl apply -i ${1##*/} exited $APPLY_RC, expected 0 (unchanged)"
  fi
}

# pull NS REF ROOT: ctr pulls REF into containerd namespace NS with --hosts-dir set to ROOT's
# rendered certs dir; the ctr debug log goes to DIR/pull.NS.log. ctr 1.x resolves and fetches
# itself; ctr 2.x hands the pull (and the hosts dir) to the daemon's transfer service, so what
# the bench's containerd logged meanwhile (at debug level) goes to DIR/pull.NS.daemon.log.
# Returns ctr's status; ctr is stopped after PULL_LIMIT seconds (default 60), status 124.
pull() {
  local ns=$1 ref=$2 root=$3 rc=0 before
  before=$(stat -c %s "$WORK/containerd.out")
  timeout "${PULL_LIMIT:-60}" ctr --address "$SOCK" --namespace "$ns" --debug images pull \
    --hosts-dir "$(certs_dir "$root")" "$ref" >"$DIR/pull.$ns.log" 2>&1 || rc=$?
  tail -c +$((before + 1)) "$WORK/containerd.out" >"$DIR/pull.$ns.daemon.log"
  return "$rc"
}

# The hosts containerd tried for the tag, in order, one per line: from ctr's log (1.x) or from
# the daemon's (2.x, the transfer service); the other one has no such line.
hosts_tried() {
  # logrus quotes a value only when it needs to (host="127.0.0.1:6001", host=registry-1.docker.io).
  sed -nE 's/.*msg=resolving host=("([^"]*)"|([^ ]*)).*/\2\3/p' "$DIR/pull.$1.log" "$DIR/pull.$1.daemon.log"
}

# The hosts (host:port) `mirrorctl resolve REF` names over the last applied inventory, in its
# order, one per line: the endpoints that serve this pull (a tag needs pull and resolve).
hosts_resolved() {
  "$MIRRORCTL" resolve "$1" -i "$LAST_INVENTORY" --output json >"$DIR/resolve.json" ||
    fail "mirrorctl resolve $1 failed"
  /usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["endpoints"]:
    if e["used"]:
        print(e["url"].split("://", 1)[1].split("/", 1)[0])
' "$DIR/resolve.json"
}

# expect_resolve_matches NS REF SERVED: the hosts containerd tried for the pull in namespace NS
# are the ones `resolve` names, in its order: all of them when SERVED is empty (the pull
# failed), else up to and including SERVED (host:port of the mirror whose access log has it).
# resolve is checked against containerd here, never against mirrorctl's own hosts.toml.
expect_resolve_matches() {
  local ns=$1 ref=$2 served=$3 tried resolved wanted=() host
  tried=$(hosts_tried "$ns" | paste -sd' ')
  resolved=$(hosts_resolved "$ref" | paste -sd' ')
  for host in $resolved; do
    wanted+=("$host")
    [[ -n $served && $host == "$served" ]] && break
  done
  [[ $tried == "${wanted[*]}" ]] ||
    fail "containerd tried '$tried' for $ref; resolve names '$resolved' (expected '${wanted[*]}')"
  note "resolve agrees with containerd for $ref: tried ${tried// / then }"
}

# The manifest digest containerd recorded for REF in namespace NS.
pulled_digest() {
  ctr --address "$SOCK" --namespace "$1" images ls | awk -v ref="$2" '$1 == ref { print $3 }'
}

mirror_log() { printf '%s/logs/%s.log' "$WORK" "$1"; }

# The access-log lines of mirror PORT whose request URI is exactly URI.
requests() {
  awk -v uri="$2" '$2 == uri' "$(mirror_log "$1")" 2>/dev/null || true
}

show_pull_failure() {
  printf -- '--- ctr log (tail)\n'
  tail -n 15 "$DIR/pull.$1.log"
  printf -- '--- containerd log during the pull (tail)\n'
  tail -n 15 "$DIR/pull.$1.daemon.log"
}

# expect_pull_via NS REF ROOT PORT URI: the pull succeeds, the digest is the pushed one, and
# mirror PORT answered the manifest request URI with 200.
expect_pull_via() {
  local ns=$1 ref=$2 root=$3 port=$4 uri=$5 digest line
  if ! pull "$ns" "$ref" "$root"; then
    show_pull_failure "$ns"
    fail "pull of $ref failed; expected it through mirror :$port"
  fi
  digest=$(pulled_digest "$ns" "$ref")
  [[ $digest == "$PUSHED_DIGEST" ]] || fail "pulled $ref as '$digest', pushed $PUSHED_DIGEST"
  line=$(requests "$port" "$uri" | awk '$3 == 200' | head -n 1)
  if [[ -z $line ]]; then
    printf -- '--- access log of :%s\n' "$port"
    cat "$(mirror_log "$port")" 2>/dev/null || true
    fail "pulled $ref, but mirror :$port did not answer $uri"
  fi
  # Fields that are empty ("-") are left out of the evidence.
  note "$ref -> $digest; mirror :$port logged: $(sed -E 's/ [a-z]+="?-"?//g' <<<"$line")"
  expect_resolve_matches "$ns" "$ref" "${MIRROR_HOST:-127.0.0.1}:$port"
}

# expect_pull_fails NS REF ROOT
expect_pull_fails() {
  if pull "$1" "$2" "$3"; then
    fail "pull of $2 succeeded; it must fail (tried: $(hosts_tried "$1" | paste -sd' '))"
  fi
  note "$2 not pulled, as expected: $(grep -o 'ctr: .*' "$DIR/pull.$1.log" | tail -n 1)"
  expect_resolve_matches "$1" "$2" ""
}

# expect_silent PORT...: those mirrors received no request at all.
expect_silent() {
  local port
  for port; do
    if [[ -s $(mirror_log "$port") ]]; then
      printf -- '--- access log of :%s\n' "$port"
      cat "$(mirror_log "$port")"
      fail "mirror :$port was asked, it must not be"
    fi
  done
  note "silent: $(printf ':%s\n' "$@" | paste -sd' ')"
}

# Empties every access log (nginx appends, so truncating in place is safe).
reset_logs() {
  local f
  for f in "$WORK"/logs/*.log; do
    [[ -e $f ]] && : >"$f"
  done
}

# http_status CURL_ARGS...: the status curl gets (000 when it cannot connect or verify).
http_status() {
  curl -s -o /dev/null -w '%{http_code}' "$@" || true
}

header() {
  cat <<EOF
version: 1
target: {containerd: "$CONTAINERD_VERSION", kubelet: "1.34"}
paths:
  certsDir: /etc/containerd/certs.d
registries:
EOF
}

M=http://127.0.0.1

scenario_1() {
  local root=$DIR/root inv
  inv=$(inventory ab <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6001
      - url: $M:6002
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s1a docker.io/library/e2e:1 "$root" 6001 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_silent 6002
  inv=$(inventory ba <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6002
      - url: $M:6001
EOF
  )
  apply "$inv" "$root"
  reset_logs
  expect_pull_via s1b docker.io/library/e2e:1 "$root" 6002 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_silent 6001
}

scenario_2() {
  local root=$DIR/root inv tried
  inv=$(inventory down-first <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6003
      - url: $M:6002
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s2 docker.io/library/e2e:1 "$root" 6002 '/v2/library/e2e/manifests/1?ns=docker.io'
  tried=$(hosts_tried s2 | paste -sd' ')
  [[ $tried == "127.0.0.1:6003 127.0.0.1:6002" ]] || fail "hosts tried: '$tried', expected :6003 then :6002"
  cat "$DIR/pull.s2.log" "$DIR/pull.s2.daemon.log" | grep -q '127.0.0.1:6003.*connection refused' ||
    fail "ctr did not report :6003 refusing the connection"
  note "tried in order: $tried (:6003 refused the connection)"
}

scenario_3() {
  local root=$DIR/root inv pki=$WORK/pki status
  status=$(http_status https://127.0.0.1:6443/v2/)
  [[ $status == 000 ]] || fail "premise: :6443 answered $status without the suite's CA"
  status=$(http_status --cacert "$pki/ca.pem" https://127.0.0.1:6444/v2/)
  [[ $status == 400 ]] || fail "premise: :6444 answered $status without a client certificate, expected 400"
  note "premise: :6443 is untrusted without the CA; :6444 refuses a client without a certificate ($status)"
  inv=$(inventory tls <<EOF
$(header)
  docker.io:
    mirrors:
      - url: https://127.0.0.1:6443
        ca: $pki/ca.pem
    fallback: false
  ghcr.io:
    mirrors:
      - url: https://127.0.0.1:6444
        ca: $pki/ca.pem
        client: [{cert: $pki/client.crt, key: $pki/client.key}]
    fallback: false
  gcr.io:
    mirrors:
      - url: https://127.0.0.1:6444
        ca: [$pki/ca.pem]
        client: $pki/client.pem
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6005
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s3tls docker.io/library/e2e:1 "$root" 6443 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_pull_via s3mtls ghcr.io/e2e/tiny:1 "$root" 6444 '/v2/e2e/tiny/manifests/1?ns=ghcr.io'
  expect_pull_via s3pem gcr.io/e2e/tiny:1 "$root" 6444 '/v2/e2e/tiny/manifests/1?ns=gcr.io'
  grep -q 'client="CN=mirrorctl-e2e-client"' "$(mirror_log 6444)" ||
    fail "mirror :6444 did not log the suite's client certificate"
  expect_pull_via s3http quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
  note "ctr ran without --plain-http, --tlscacert or --tlscert: hosts.toml alone carried them"
}

scenario_4() {
  local root=$DIR/root inv status
  status=$(http_status http://127.0.0.1:6006/artifactory/api/docker/hub/v2/library/e2e/manifests/1)
  [[ $status == 404 ]] || fail "premise: the prefix mirror answered $status under .../v2/, expected 404"
  inv=$(inventory prefix <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6006/artifactory/api/docker/hub
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s4 docker.io/library/e2e:1 "$root" 6006 \
    '/artifactory/api/docker/hub/library/e2e/manifests/1?ns=docker.io'
  grep -q '^ *override_path = true' "$(certs_dir "$root")/docker.io/hosts.toml" ||
    fail "hosts.toml lacks the inferred override_path = true"
  note "override_path = true inferred; without it containerd would ask .../hub/v2/... (404 there)"
}

scenario_5() {
  local root=$DIR/root inv status
  status=$(http_status http://127.0.0.1:6007/v2/library/e2e/manifests/1)
  [[ $status == 403 ]] || fail "premise: the header mirror answered $status without the header, expected 403"
  inv=$(inventory headers <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6007
        headers: {X-Mirror-Tenant: platform-e2e}
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s5 docker.io/library/e2e:1 "$root" 6007 '/v2/library/e2e/manifests/1?ns=docker.io'
  requests 6007 '/v2/library/e2e/manifests/1?ns=docker.io' | grep -q 'tenant=platform-e2e' ||
    fail "mirror :6007 did not log the header"
  note "premise: :6007 answers 403 without X-Mirror-Tenant"
}

scenario_6() {
  local root=$DIR/root inv certs
  inv=$(inventory default-and-port <<EOF
$(header)
  "*":
    mirrors:
      - url: $M:6008
  "registry.example:5000":
    mirrors:
      - url: $M:6009
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s6default quay.io/e2e/tiny:1 "$root" 6008 '/v2/e2e/tiny/manifests/1?ns=quay.io'
  expect_silent 6009
  reset_logs
  # url.Values.Encode escapes the colon of the registry's port.
  expect_pull_via s6port registry.example:5000/e2e/tiny:1 "$root" 6009 \
    '/v2/e2e/tiny/manifests/1?ns=registry.example%3A5000'
  expect_silent 6008
  certs=$(certs_dir "$root")
  [[ -f $certs/_default/hosts.toml && -f $certs/registry.example_5000_/hosts.toml ]] ||
    fail "expected _default/ and registry.example_5000_/ in the certs dir: $(entries "$certs")"
  note "rendered: $(entries "$certs")"
}

scenario_7() {
  local root=$DIR/root inv tried https_first tls_attempts
  inv=$(inventory mirror-only <<EOF
$(header)
  "127.0.0.1:5100":
    mirrors:
      - url: $M:6003
      - url: $M:6010
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_fails s7a 127.0.0.1:5100/e2e/tiny:1 "$root"
  tried=$(hosts_tried s7a | paste -sd' ')
  [[ $tried == "127.0.0.1:6003 127.0.0.1:6010" ]] ||
    fail "hosts tried: '$tried', expected only the mirrors :6003 and :6010"
  note "tried: $tried, nothing else"
  expect_silent 5100
  # Control: the same inventory with fallback left at true pulls from that very upstream, so its
  # silence above comes from fallback: false, not from an unreachable upstream.
  inv=$(inventory with-fallback <<EOF
$(header)
  "127.0.0.1:5100":
    mirrors:
      - url: $M:6003
      - url: $M:6010
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s7b 127.0.0.1:5100/e2e/tiny:1 "$root" 5100 /v2/e2e/tiny/manifests/1
  note "control: with fallback true the upstream :5100 serves the same pull"
  # The loopback upstream's default endpoint: HTTPS first (then HTTP) exactly when resolve says
  # so; nginx logs the TLS attempt on its plain port as a 400.
  https_first=$(endpoint_field 127.0.0.1:5100/e2e/tiny:1 127.0.0.1:5100 httpsFirst)
  tls_attempts=$(awk '$3 == 400' "$(mirror_log 5100)" | wc -l)
  if [[ $https_first == true && $tls_attempts == 0 ]] || [[ $https_first != true && $tls_attempts != 0 ]]; then
    cat "$(mirror_log 5100)"
    fail "resolve gives the loopback upstream httpsFirst $https_first, but :5100 logged $tls_attempts TLS attempts"
  fi
  note "loopback upstream: resolve httpsFirst $https_first, and :5100 logged $tls_attempts TLS attempt(s) before plain HTTP"
}

# The credential files of scenario 8, at node paths below ROOT (apply reads them through --root),
# ending in a newline as `echo` writes them.
basic_auth_files() {
  local root=$1
  mkdir -p "$root/etc/mirrorctl/basic"
  printf 'e2euser\n' >"$root/etc/mirrorctl/basic/username"
  printf 'e2e-secret\n' >"$root/etc/mirrorctl/basic/password"
  chmod 600 "$root/etc/mirrorctl/basic/username" "$root/etc/mirrorctl/basic/password"
}

scenario_8() {
  local root=$DIR/root inv hosts mode
  basic_auth_files "$root"
  inv=$(inventory basic-auth <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6011
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/basic/username, passwordFile: /etc/mirrorctl/basic/password}}
    fallback: false
EOF
  )
  mirrorctl_apply "$inv" "$root"
  if [[ $APPLY_RC == 1 ]] && grep -qiE 'auth|basicFrom' "$APPLY_OUT" &&
    grep -qiE 'unknown|unsupported|not (yet )?(implemented|supported)' "$APPLY_OUT"; then
    pending "mirrorctl does not render auth.basicFrom yet: $(head -n 3 "$APPLY_OUT" | paste -sd' ')"
  fi
  [[ $APPLY_RC == 2 ]] || { cat "$APPLY_OUT"; fail "mirrorctl apply exited $APPLY_RC, expected 2"; }
  hosts=$(certs_dir "$root")/docker.io/hosts.toml
  mode=$(stat -c %a "$hosts")
  [[ $mode == 600 ]] || fail "hosts.toml carrying credentials has mode $mode, expected 600"
  grep -q 'Authorization' "$hosts" || fail "hosts.toml has no Authorization header"
  expect_pull_via s8a docker.io/library/e2e:1 "$root" 6011 '/v2/library/e2e/manifests/1?ns=docker.io'
  requests 6011 '/v2/library/e2e/manifests/1?ns=docker.io' | grep -q 'user=e2euser' ||
    fail "mirror :6011 did not log the user"
  note "hosts.toml mode 600 with an Authorization header; no credentials given to ctr"
  inv=$(inventory no-auth <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6011
    fallback: false
EOF
  )
  apply "$inv" "$root"
  reset_logs
  expect_pull_fails s8b docker.io/library/e2e:1 "$root"
  [[ -n $(requests 6011 '/v2/library/e2e/manifests/1?ns=docker.io' | awk '$3 == 401') ]] ||
    fail "mirror :6011 did not answer 401 to the pull without credentials"
  note "without auth in the inventory :6011 answered 401"
}

# --- scenario 9: the node's own containerd, its config_path set by `mirrorctl apply` ----------

# The node's /etc/containerd is ROOT/etc/containerd, bind-mounted over the host's directory in the
# suite's private mount namespace (nothing is created on the host: the mountpoint exists, as
# Debian's containerd package ships it; run.sh checks the host's view after the suite). The
# node's containerd then runs as a node runs it: without --config, reading
# /etc/containerd/config.toml, with `config_path` the node path /etc/containerd/certs.d.
NODE_PID=
NODE_MOUNTED=

node_mount() {
  mount --bind "$1/etc/containerd" /etc/containerd || fail "cannot bind-mount $1/etc/containerd on /etc/containerd"
  NODE_MOUNTED=1
  if ! mountpoint -q /etc/containerd || ! cmp -s /etc/containerd/config.toml "$1/etc/containerd/config.toml"; then
    fail "/etc/containerd is not the scenario's ROOT/etc/containerd after the bind mount"
  fi
}

# node_containerd_start [VAR=VALUE...]: as a node starts it, with no --config, with those
# variables added to its environment; output appended to DIR/containerd.log.
node_containerd_start() {
  printf -- '--- containerd started\n' >>"$DIR/containerd.log"
  env "$@" containerd --log-level debug >>"$DIR/containerd.log" 2>&1 &
  NODE_PID=$!
  wait_for "the node's containerd" "$NODE_PID" ctr --address "$SOCK" version
}

node_containerd_stop() {
  [[ -n $NODE_PID ]] || return 0
  stop_pid "the node's containerd" "$NODE_PID"
  NODE_PID=
}

# The EXIT trap of the scenario's subshell: whether it passed or failed, containerd stops (by
# PID) before the mount goes.
# shellcheck disable=SC2317  # invoked by a trap
node_cleanup() {
  node_containerd_stop || true
  if [[ -n $NODE_MOUNTED ]]; then
    umount /etc/containerd || log "cannot unmount /etc/containerd"
    NODE_MOUNTED=
  fi
}

# cri_inventory NAME MIRROR_PORT...: docker.io through those mirrors only, and mirrorctl owning
# config_path in /etc/containerd/config.toml.
cri_inventory() {
  local name=$1 port
  shift
  {
    header | sed '/^registries:$/i containerd: {manageConfig: true, configFile: /etc/containerd/config.toml}'
    printf '  docker.io:\n    mirrors:\n'
    for port; do printf '      - url: %s:%s\n' "$M" "$port"; done
    printf '    fallback: false\n'
  } | inventory "$name"
}

# json_check INVENTORY ROOT: `mirrorctl check --output json`, which must exit 2; sets REPORT to
# one line `restart: …` (the top-level list) and one per file: `PATH ACTION restart=SERVICE|null`.
REPORT=
json_check() {
  local rc=0 out=$DIR/check.$((APPLY_N + 1)).json
  "$MIRRORCTL" check -i "$1" --root "$2" --output json >"$out" 2>"$out.err" || rc=$?
  [[ $rc == 2 ]] || { cat "$out" "$out.err"; fail "mirrorctl check --output json exited $rc, expected 2"; }
  REPORT=$(/usr/bin/python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
print("restart: " + json.dumps(report["restart"]))
for f in report["files"]:
    print("%s %s restart=%s" % (f["path"], f["action"], f["restart"] or "null"))
' "$out") || { cat "$out"; fail "cannot read the JSON report of mirrorctl check"; }
}

# cri_pull OUT [--username U --password P]: PullImage of docker.io/library/e2e:1 over SOCK;
# the image ref on stdout, errors in DIR/OUT (cri.LABEL.err). What the node's containerd logged
# meanwhile goes to DIR/pull.cri-LABEL.daemon.log, read by expect_cri_via.
cri_pull() {
  local out=$1 label rc=0 before
  shift
  label=${out#cri.}
  label=cri-${label%.err}
  before=$(stat -c %s "$DIR/containerd.log")
  /usr/bin/python3 "$HERE/cri_pull.py" "$SOCK" docker.io/library/e2e:1 --timeout 20 "$@" 2>"$DIR/$out" || rc=$?
  : >"$DIR/pull.$label.log"
  tail -c +$((before + 1)) "$DIR/containerd.log" >"$DIR/pull.$label.daemon.log"
  return "$rc"
}

# CRI pulls go through the transfer service from 2.1 on (unless use_local_image_pull is set,
# which the default config does not).
cri_uses_transfer() {
  local major=${CONTAINERD_VERSION%%.*} minor=${CONTAINERD_VERSION#*.}
  minor=${minor%%.*}
  ((major > 2 || (major == 2 && minor >= 1)))
}

# expect_cri_via LABEL SERVED: the CRI pull cri_pull made as cri.LABEL.err took the pull path of
# this version (the transfer service from 2.1 on, containerd's own CRI pull before), and the
# hosts the node's containerd tried are the ones `resolve` names, up to SERVED (host:port).
expect_cri_via() {
  local log=$DIR/pull.cri-$1.daemon.log
  if cri_uses_transfer; then
    grep -q 'using transfer service' "$log" || fail "containerd $CONTAINERD_VERSION did not log its CRI pull 'using transfer service'"
  elif grep -q 'using transfer service' "$log"; then
    fail "containerd $CONTAINERD_VERSION pulled through the transfer service; expected its own CRI pull"
  fi
  expect_resolve_matches "cri-$1" docker.io/library/e2e:1 "$2"
  note "CRI pull path: $(if cri_uses_transfer; then echo "transfer service"; else echo "CRI's own (no transfer service)"; fi)"
}

MANIFEST_URI='/v2/library/e2e/manifests/1?ns=docker.io'

# The table of `containerd config default` that holds the CRI's config_path, spelt as that
# default spells it, and its config_path line there before and after apply: config version 2
# (1.x) quotes with "", version 3 (2.x) with '' (apply writes its value with "").
if ((CONTAINERD_MAJOR >= 2)); then
  REGISTRY_TABLE="[plugins.'io.containerd.cri.v1.images'.registry]"
  CONFIG_PATH_UNSET="      config_path = ''"
else
  REGISTRY_TABLE='[plugins."io.containerd.grpc.v1.cri".registry]'
  CONFIG_PATH_UNSET='      config_path = ""'
fi
CONFIG_PATH_SET='      config_path = "/etc/containerd/certs.d"'

scenario_9() {
  local root=$DIR/root inv hosts ref digest changes pid table line first
  local config=$root/etc/containerd/config.toml orig=$DIR/config.toml.orig edited=$DIR/config.toml.edited
  # pulled_digest and the CRI calls below use the node's socket, not the bench's.
  local SOCK=$DIR/containerd/containerd.sock
  mkdir -p "$root/etc/containerd" "$DIR/containerd/cni/bin" "$DIR/containerd/cni/conf"
  containerd_config "$DIR/containerd" "$config"
  cp -p "$config" "$orig"
  grep -qxF "$CONFIG_PATH_UNSET" "$orig" || fail "premise: containerd config default has no line '$CONFIG_PATH_UNSET'"
  trap node_cleanup EXIT
  node_mount "$root"
  node_containerd_start
  note "node: ROOT/etc/containerd at /etc/containerd; containerd (no --config) on its own containerd config default (version $(awk '/^version = / { print $3; exit }' "$orig")) + sandbox tweaks, ${CONFIG_PATH_UNSET#"${CONFIG_PATH_UNSET%%[! ]*}"}"

  inv=$(cri_inventory cri 6011)
  json_check "$inv" "$root"
  if ! grep -qx 'restart: \["containerd"\]' <<<"$REPORT" ||
    ! grep -qx '/etc/containerd/config.toml update restart=containerd' <<<"$REPORT"; then
    fail "check --output json before apply: expected restart [containerd] and config.toml update: $REPORT"
  fi
  cmp -s "$config" "$orig" || fail "mirrorctl check changed config.toml"
  note "check --output json: $(grep -x 'restart: .*' <<<"$REPORT"); $(grep '/config.toml ' <<<"$REPORT")"
  apply "$inv" "$root"
  first=$DIR/apply.$((APPLY_N - 1)).out
  grep -q 'restart containerd' "$first" || { cat "$first"; fail "apply did not name the containerd restart"; }
  note "apply: exit 2, \"$(tail -n 1 "$first")\"; again: exit 0"

  # Only the config_path line differs, in the table this containerd reads for its version.
  cp -p "$config" "$edited"
  changes=$(diff "$orig" "$edited" || true)
  if ! awk -v unset="< $CONFIG_PATH_UNSET" -v set="> $CONFIG_PATH_SET" \
    'NR == 1 && /^[0-9]+c[0-9]+$/ { split($0, n, "c"); ok = n[1] == n[2] }
            NR == 2 && $0 != unset { ok = 0 }
            NR == 3 && $0 != "---" { ok = 0 }
            NR == 4 && $0 != set { ok = 0 }
            END { exit !(ok && NR == 4) }' <<<"$changes"; then
    printf -- '--- diff of config.toml\n%s\n' "$changes"
    fail "apply changed more (or other) than the config_path line"
  fi
  table=$(awk -v n="${changes%%c*}" 'NR < n && /^ *\[/ { t = $0 } NR == n { sub(/^ */, "", t); print t; exit }' "$edited")
  [[ $table == "$REGISTRY_TABLE" ]] || fail "config_path was set under $table, not $REGISTRY_TABLE"
  [[ $(stat -c %a "$edited") == "$(stat -c %a "$orig")" ]] || fail "config.toml mode changed"
  note "diff config.toml: line ${changes%%c*} only, ${CONFIG_PATH_UNSET##* } -> ${CONFIG_PATH_SET##* }, in $table"

  # The restart is real: the containerd that was running before apply still ignores hosts.toml.
  hosts=/etc/containerd/certs.d/docker.io/hosts.toml
  cmp -s "$hosts" "$(certs_dir "$root")/docker.io/hosts.toml" || fail "$hosts is not the rendered file"
  if grep -qi authorization "$hosts"; then fail "hosts.toml must not carry credentials here"; fi
  if cri_pull cri.stale.err --username e2euser --password e2e-secret >/dev/null; then
    fail "the containerd started before apply pulled docker.io; it must not know the mirror yet"
  fi
  grep -q 'registry-1.docker.io' "$DIR/cri.stale.err" ||
    fail "the containerd started before apply did not fail on the upstream: $(cat "$DIR/cri.stale.err")"
  note "not restarted yet, containerd still asks the upstream: $(grep -o 'failed to do request: .*' "$DIR/cri.stale.err")"
  expect_silent 6011
  pid=$NODE_PID
  node_containerd_stop
  node_containerd_start
  note "containerd restarted ($pid -> $NODE_PID) with the edited /etc/containerd/config.toml"

  if cri_pull cri.noauth.err >/dev/null; then
    fail "CRI PullImage without credentials succeeded; the mirror requires them"
  fi
  [[ -n $(requests 6011 "$MANIFEST_URI" | awk '$3 == 401') ]] ||
    fail "CRI PullImage without credentials did not reach :6011 ($(cat "$DIR/cri.noauth.err"))"
  note "without credentials: $(cat "$DIR/cri.noauth.err")"
  reset_logs
  if ! ref=$(cri_pull cri.auth.err --username e2euser --password e2e-secret); then
    cat "$DIR/cri.auth.err"
    fail "CRI PullImage with credentials (empty server_address) failed"
  fi
  [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered image ref '$ref', expected $CONFIG_DIGEST"
  digest=$(pulled_digest k8s.io docker.io/library/e2e:1)
  [[ $digest == "$PUSHED_DIGEST" ]] || fail "CRI pulled '$digest', pushed $PUSHED_DIGEST"
  requests 6011 "$MANIFEST_URI" | grep -q ' 200 user=e2euser ' ||
    fail "mirror :6011 did not serve the manifest to e2euser"
  note "PullImage(auth: e2euser, server_address: \"\") -> $ref, manifest $digest"
  expect_cri_via auth 127.0.0.1:6011
  note "mirror :6011 logged: $(requests 6011 "$MANIFEST_URI" | sed -E 's/ [a-z]+="?-"?//g' | paste -sd'|')"

  # A hosts.toml-only change (a mirror put in front) names no restart, and the running
  # containerd follows it: containerd reads hosts.toml on every pull.
  inv=$(cri_inventory cri-mirror-in-front 6002 6011)
  json_check "$inv" "$root"
  if ! grep -qx 'restart: \[\]' <<<"$REPORT" ||
    ! grep -qx '/etc/containerd/config.toml unchanged restart=null' <<<"$REPORT"; then
    fail "check --output json of a hosts.toml-only change: expected restart [] and config.toml unchanged: $REPORT"
  fi
  apply "$inv" "$root"
  first=$DIR/apply.$((APPLY_N - 1)).out
  if grep -qi restart "$first"; then cat "$first"; fail "a hosts.toml-only change named a restart"; fi
  cmp -s "$config" "$edited" || fail "the hosts.toml-only change touched config.toml"
  note "mirror :6002 put in front: check restart [], apply \"$(tail -n 1 "$first")\", config.toml untouched"
  reset_logs
  kill -0 "$NODE_PID" 2>/dev/null || fail "the node's containerd is gone"
  if ! ref=$(cri_pull cri.front.err); then
    cat "$DIR/cri.front.err"
    fail "CRI PullImage after the hosts.toml-only change failed"
  fi
  [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered image ref '$ref', expected $CONFIG_DIGEST"
  line=$(requests 6002 "$MANIFEST_URI" | awk '$3 == 200' | head -n 1)
  [[ -n $line ]] || fail "containerd ($NODE_PID, not restarted) did not follow hosts.toml to :6002"
  expect_silent 6011
  note "same containerd ($NODE_PID) -> $ref; mirror :6002 logged: $(sed -E 's/ [a-z]+="?-"?//g' <<<"$line")"
  expect_cri_via front 127.0.0.1:6002
}

scenario_10() {
  local root=$DIR/root inv certs
  inv=$(inventory before <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6001
      - url: $M:6002
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6013
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s10a docker.io/library/e2e:1 "$root" 6001 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_pull_via s10b quay.io/e2e/tiny:1 "$root" 6013 '/v2/e2e/tiny/manifests/1?ns=quay.io'
  inv=$(inventory after <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6002
    fallback: false
  ghcr.io:
    mirrors:
      - url: $M:6012
    fallback: false
  "*":
    mirrors:
      - url: $M:6008
EOF
  )
  apply "$inv" "$root"
  note "re-applied: docker.io lost :6001, quay.io removed, ghcr.io and * added"
  reset_logs
  expect_pull_via s10c docker.io/library/e2e:1 "$root" 6002 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_silent 6001
  expect_pull_via s10d ghcr.io/e2e/tiny:1 "$root" 6012 '/v2/e2e/tiny/manifests/1?ns=ghcr.io'
  certs=$(certs_dir "$root")
  if [[ -e $certs/quay.io/hosts.toml ]]; then
    pending "mirrorctl does not prune yet: $certs/quay.io/hosts.toml is still there after quay.io left the inventory"
  fi
  # Even an empty quay.io/ would hide _default/ from containerd.
  [[ ! -e $certs/quay.io ]] || fail "quay.io/ is left behind (holding: $(entries "$certs/quay.io")); it hides _default/"
  expect_pull_via s10e quay.io/e2e/tiny:1 "$root" 6008 '/v2/e2e/tiny/manifests/1?ns=quay.io'
  expect_silent 6013
  note "quay.io is no longer steered to :6013: its directory is gone and _default/ now applies"
}

# --- scenario 11: namespace-scoped credentials, mirrorctl as the kubelet's credential provider --

# The node paths apply writes for credentialPlugin (the inventory leaves them at their defaults).
PLUGIN_CONFIG=/etc/kubernetes/credential-providers.yaml
PLUGIN_BIN_DIR=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin
PLUGIN_NAME=mirrorctl-credentials
PLUGIN_AUDIENCE=mirrors.e2e.example
# The mirror that accepts team-a only, and the forward-proxy stand-in (see nginx.conf.in).
TEAMS_PORT=6014
PROXY_PORT=3128

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# sa_token NS SA: a service-account token for PLUGIN_AUDIENCE as the kubelet requests it for a
# pod (header.payload.signature, base64url; the claims of a bound token, valid for 10 minutes).
# The signature is random bytes: the plugin does not verify it (README, credentialPlugin).
sa_token() {
  local ns=$1 sa=$2 now
  now=$(date +%s)
  printf '%s.%s.%s' \
    "$(printf '{"alg":"RS256","kid":"mirrorctl-e2e"}' | b64url)" \
    "$(printf '{"aud":["%s"],"exp":%d,"iat":%d,"nbf":%d,"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:%s:%s","kubernetes.io":{"namespace":"%s","serviceaccount":{"name":"%s","uid":"5f0c1a2b-0000-4000-8000-00000000000a"},"pod":{"name":"app-0","uid":"6e1d2b3c-0000-4000-8000-00000000000b"}}}' \
      "$PLUGIN_AUDIENCE" $((now + 600)) "$now" "$now" "$ns" "$sa" "$ns" "$sa" | b64url)" \
    "$(head -c 256 /dev/urandom | b64url)"
}

# provider_args CONFIG NAME: the `args` of provider NAME in a CredentialProviderConfig, one per
# line. Reads the form mirrorctl renders (block YAML, every scalar a double-quoted JSON string);
# anything else fails.
provider_args() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
name, current, in_args, args = sys.argv[2], None, False, None
for line in open(sys.argv[1]):
    text = line.strip()
    if text.startswith("- name: "):
        current, in_args = json.loads(text[len("- name: "):]), False
    elif current == name and text == "args:":
        in_args, args = True, []
    elif in_args and text.startswith("- "):
        args.append(json.loads(text[2:]))
    else:
        in_args = False
if not args:
    sys.exit("no args for provider %s in %s" % (name, sys.argv[1]))
print("\n".join(args))
EOF
}

# plugin_ask LABEL NS SA: runs the installed bin-dir executable (PLUGIN_EXEC, PLUGIN_ARGS) as the
# kubelet runs it: argv = the provider's args, a CredentialProviderRequest on stdin, a minimal
# environment, the kubelet's 1-minute limit. Files DIR/plugin.LABEL.{request,json,err}. Checks
# the exit status, the single stderr line and the response's exact schema; sets ANSWER (what
# it decided, for notes), ANSWER_USER and ANSWER_PASS (auth["docker.io"], empty when auth is {}).
ANSWER='' ANSWER_USER='' ANSWER_PASS=''
plugin_ask() {
  local label=$1 ns=$2 sa=$3 rc=0 fields
  local req=$DIR/plugin.$label.request out=$DIR/plugin.$label.json err=$DIR/plugin.$label.err
  printf '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"docker.io/library/e2e","serviceAccountToken":"%s"}' \
    "$(sa_token "$ns" "$sa")" >"$req"
  timeout 60 env -i PATH=/usr/bin:/bin "$PLUGIN_EXEC" "${PLUGIN_ARGS[@]}" <"$req" >"$out" 2>"$err" || rc=$?
  [[ $rc == 0 ]] || { cat "$err"; fail "the plugin exited $rc for $ns/$sa"; }
  [[ $(wc -l <"$err") == 1 ]] || { cat "$err"; fail "the plugin wrote $(wc -l <"$err") lines on stderr for $ns/$sa, expected 1"; }
  fields=$(/usr/bin/python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
keys = sorted(r)
if keys != ["apiVersion", "auth", "cacheDuration", "cacheKeyType", "kind"]:
    sys.exit("response fields %s, expected exactly apiVersion, auth, cacheDuration, cacheKeyType, kind" % keys)
if (r["apiVersion"], r["kind"]) != ("credentialprovider.kubelet.k8s.io/v1", "CredentialProviderResponse"):
    sys.exit("response is %s %s" % (r["apiVersion"], r["kind"]))
auth = r["auth"]
if sorted(auth) not in ([], ["docker.io"]):
    sys.exit("auth keys %s, expected none or docker.io" % sorted(auth))
entry = auth.get("docker.io", {"username": "", "password": ""})
if sorted(entry) != ["password", "username"]:
    sys.exit("auth[docker.io] fields %s" % sorted(entry))
print("cacheKeyType %s, cacheDuration %s, auth {%s}" % (r["cacheKeyType"], r["cacheDuration"], ", ".join(sorted(auth))))
print(entry["username"])
print(entry["password"])
EOF
  ) || { cat "$out"; fail "the plugin's response for $ns/$sa is not a strict CredentialProviderResponse"; }
  # Not `read`: $( ) dropped the empty lines of an empty auth.
  mapfile -t fields <<<"$fields"
  ANSWER=${fields[0]} ANSWER_USER=${fields[1]-} ANSWER_PASS=${fields[2]-}
}

# teams_requests STATUS: the manifest requests mirror TEAMS_PORT answered with STATUS.
teams_requests() { requests "$TEAMS_PORT" "$MANIFEST_URI" | awk -v s="$1" '$3 == s'; }

# plugin_inventory NAME FALLBACK CREDS: docker.io through the team mirror only, mirrorctl owning
# config_path, and the credential plugin (this mirrorctl) granting docker.io to team-a and team-b.
plugin_inventory() {
  local creds=$3
  inventory "$1" <<EOF
$(header | sed '/^registries:$/i containerd: {manageConfig: true, configFile: /etc/containerd/config.toml}')
  docker.io:
    mirrors:
      - url: $M:$TEAMS_PORT
        auth: {provider: $PLUGIN_NAME}
    fallback: $2
credentialPlugin:
  audience: $PLUGIN_AUDIENCE
  binary: $MIRRORCTL
  grants:
    - {registry: docker.io, namespace: team-a, usernameFile: $creds/team-a/username, passwordFile: $creds/team-a/password}
    - {registry: docker.io, namespace: team-b, usernameFile: $creds/team-b/username, passwordFile: $creds/team-b/password}
EOF
}

scenario_11() {
  local root=$DIR/root creds=$DIR/creds inv team pass_a pass_b status exec mapping i ref digest line
  local config=$root/etc/containerd/config.toml first leaks
  # pulled_digest and the CRI calls below use the node's socket, not the bench's.
  local SOCK=$DIR/containerd/containerd.sock PLUGIN_EXEC
  local -a PLUGIN_ARGS secrets outputs
  # Fresh secrets per run, so a match anywhere can only be a leak of this run's files.
  pass_a=team-a-$(openssl rand -hex 16)
  pass_b=team-b-$(openssl rand -hex 16)
  mkdir -m 700 "$creds"
  for team in team-a team-b; do
    mkdir -m 700 "$creds/$team"
    printf '%s-bot\n' "$team" >"$creds/$team/username"
  done
  printf '%s\n' "$pass_a" >"$creds/team-a/password"
  printf '%s\n' "$pass_b" >"$creds/team-b/password"
  chmod 600 "$creds"/*/*
  # The mirror knows team-a only; team-b's credentials are real files the plugin hands out.
  printf 'team-a-bot:%s\n' "$(openssl passwd -apr1 -stdin <<<"$pass_a")" >"$WORK/nginx/htpasswd.teams"
  status=$(http_status "$M:$TEAMS_PORT/v2/")/$(curl -K - -s -o /dev/null -w '%{http_code}' "$M:$TEAMS_PORT/v2/" <<<"user = \"team-b-bot:$pass_b\"" || true)/$(curl -K - -s -o /dev/null -w '%{http_code}' "$M:$TEAMS_PORT/v2/" <<<"user = \"team-a-bot:$pass_a\"" || true)
  [[ $status == 401/401/200 ]] || fail "premise: :$TEAMS_PORT answered $status to none/team-b/team-a, expected 401/401/200"
  note "premise: mirror :$TEAMS_PORT (basic auth, htpasswd with team-a-bot only) answers none/team-b/team-a with $status"

  mkdir -p "$root/etc/containerd" "$DIR/containerd/cni/bin" "$DIR/containerd/cni/conf"
  containerd_config "$DIR/containerd" "$config"
  trap node_cleanup EXIT
  inv=$(plugin_inventory plugin false "$creds")
  apply "$inv" "$root"
  first=$DIR/apply.$((APPLY_N - 1)).out
  grep -q 'restart containerd and kubelet' "$first" ||
    { cat "$first"; fail "apply did not name the containerd and kubelet restarts"; }
  "$MIRRORCTL" lint -i "$inv" >"$DIR/lint.out" 2>&1 || { cat "$DIR/lint.out"; fail "mirrorctl lint failed"; }
  if grep -qE 'X004|X007' "$DIR/lint.out"; then cat "$DIR/lint.out"; fail "lint warns that the credentials reach the upstream with fallback: false"; fi
  note "apply: exit 2, \"$(grep -m1 'files changed' "$first")\"; again: exit 0; lint: $(tail -n 1 "$DIR/lint.out" | sed 's/^.*: //')"

  # What the kubelet would load: the provider entry, its executable, and the plugin's mapping.
  [[ $(stat -c %a "$root$PLUGIN_CONFIG") == 600 ]] || fail "$PLUGIN_CONFIG has mode $(stat -c %a "$root$PLUGIN_CONFIG")"
  for line in "name: \"$PLUGIN_NAME\"" '- "docker.io"' "serviceAccountTokenAudience: \"$PLUGIN_AUDIENCE\"" \
    'requireServiceAccount: true' 'cacheType: "ServiceAccount"'; do
    grep -qF -- "$line" "$root$PLUGIN_CONFIG" || { cat "$root$PLUGIN_CONFIG"; fail "$PLUGIN_CONFIG lacks $line"; }
  done
  exec=$root$PLUGIN_BIN_DIR/$PLUGIN_NAME
  [[ -x $exec && $(stat -c %a "$exec") == 755 ]] || fail "$PLUGIN_BIN_DIR/$PLUGIN_NAME is not an executable (mode 755)"
  grep -qxF "exec '$MIRRORCTL' \"\$@\"" "$exec" || { cat "$exec"; fail "the bin-dir entry does not exec $MIRRORCTL"; }
  mapfile -t PLUGIN_ARGS < <(provider_args "$root$PLUGIN_CONFIG" "$PLUGIN_NAME")
  note "rendered provider $PLUGIN_NAME: matchImages docker.io, audience $PLUGIN_AUDIENCE, cacheType ServiceAccount; args: ${PLUGIN_ARGS[*]}"
  # --mapping names a node path; under --root apply wrote the file at ROOT/<path>, so the
  # plugin, run here without --root, is given that file: the one argument rewritten.
  mapping=
  for ((i = 1; i < ${#PLUGIN_ARGS[@]}; i++)); do
    if [[ ${PLUGIN_ARGS[i - 1]} == --mapping ]]; then
      mapping=${PLUGIN_ARGS[i]}
      PLUGIN_ARGS[i]=$root$mapping
    fi
  done
  [[ -n $mapping && -f $root$mapping ]] || fail "the provider's args name no --mapping file that apply wrote"
  [[ $(stat -c %a "$root$mapping") == 600 ]] || fail "the mapping has mode $(stat -c %a "$root$mapping"), expected 600"
  PLUGIN_EXEC=$exec
  note "the kubelet's exec: $PLUGIN_BIN_DIR/$PLUGIN_NAME ${PLUGIN_ARGS[*]/#$root/ROOT} (mapping mode 600; ROOT/ for the node path under --root)"

  plugin_ask team-a team-a default
  [[ $ANSWER_USER == team-a-bot && $ANSWER_PASS == "$pass_a" ]] ||
    fail "team-a's answer carries user '$ANSWER_USER' and not team-a's password ($ANSWER)"
  local user_a=$ANSWER_USER secret_a=$ANSWER_PASS
  note "team-a/default -> $ANSWER, user team-a-bot; stderr: $(cat "$DIR/plugin.team-a.err")"
  plugin_ask team-b team-b default
  [[ $ANSWER_USER == team-b-bot && $ANSWER_PASS == "$pass_b" ]] ||
    fail "team-b's answer carries user '$ANSWER_USER' and not team-b's password ($ANSWER)"
  local user_b=$ANSWER_USER secret_b=$ANSWER_PASS
  note "team-b/default -> $ANSWER, user team-b-bot"
  plugin_ask team-c team-c default
  [[ -z $ANSWER_USER && -z $ANSWER_PASS && $ANSWER == *'auth {}' ]] || fail "the unmapped team-c got credentials ($ANSWER)"
  note "team-c/default (no grant) -> $ANSWER; stderr: $(cat "$DIR/plugin.team-c.err")"
  "$MIRRORCTL" resolve docker.io/library/e2e:1 -i "$inv" --namespace team-a >"$DIR/resolve.out" 2>&1 ||
    { cat "$DIR/resolve.out"; fail "mirrorctl resolve --namespace team-a failed"; }
  grep -qF "password from $creds/team-a/password" "$DIR/resolve.out" ||
    { cat "$DIR/resolve.out"; fail "resolve --namespace team-a does not name team-a's password file"; }

  # The node's containerd reads /etc/containerd/config.toml, where apply set config_path. Every
  # request it makes to a host that is not loopback goes to the proxy stand-in, whose log is
  # then the upstream's access log (and any other endpoint's).
  node_mount "$root"
  node_containerd_start HTTPS_PROXY="$M:$PROXY_PORT" HTTP_PROXY="$M:$PROXY_PORT"
  grep -qxF "$CONFIG_PATH_SET" /etc/containerd/config.toml ||
    fail "apply did not set config_path in /etc/containerd/config.toml"
  note "node containerd ($NODE_PID) on /etc/containerd/config.toml with config_path set by apply; HTTPS_PROXY=:$PROXY_PORT"

  # PullImage as the kubelet sends it: the answer's username/password, server_address empty.
  if cri_pull cri.team-b.err --username "$user_b" --password "$secret_b" >/dev/null; then
    fail "CRI PullImage with team-b's answer succeeded; the mirror accepts team-a only"
  fi
  teams_requests 401 | grep -q ' user=team-b-bot ' ||
    fail "mirror :$TEAMS_PORT did not refuse team-b-bot ($(cat "$DIR/cri.team-b.err"))"
  note "team-b's answer: $(sed 's/^.*failed to resolve reference [^:]*: //' "$DIR/cri.team-b.err"); :$TEAMS_PORT refused team-b-bot"
  if cri_pull cri.team-c.err >/dev/null; then
    fail "CRI PullImage without credentials (team-c's empty auth) succeeded"
  fi
  teams_requests 401 | grep -q ' user=- ' || fail "mirror :$TEAMS_PORT did not answer 401 to the pull without credentials"
  note "team-c's empty auth, no credentials: 401 at :$TEAMS_PORT"
  if ! ref=$(cri_pull cri.team-a.err --username "$user_a" --password "$secret_a"); then
    cat "$DIR/cri.team-a.err"
    fail "CRI PullImage with team-a's answer (empty server_address) failed"
  fi
  [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered image ref '$ref', expected $CONFIG_DIGEST"
  digest=$(pulled_digest k8s.io docker.io/library/e2e:1)
  [[ $digest == "$PUSHED_DIGEST" ]] || fail "CRI pulled '$digest', pushed $PUSHED_DIGEST"
  line=$(teams_requests 200 | grep ' user=team-a-bot ' | head -n 1)
  [[ -n $line ]] || fail "mirror :$TEAMS_PORT did not serve the manifest to team-a-bot"
  note "team-a's answer: PullImage(auth: team-a-bot, server_address: \"\") -> $ref, manifest $digest"
  expect_cri_via team-a "127.0.0.1:$TEAMS_PORT"
  # containerd asks the one mirror twice per pull (as [host] and as server) and retries refused
  # credentials; counted, not listed.
  note "mirror :$TEAMS_PORT logged for the manifest: $(requests "$TEAMS_PORT" "$MANIFEST_URI" | awk '{ print $1, $3, $4 }' |
    sort | uniq -c | awk '{ printf "%s%s %s %s x%d", sep, $2, $3, ($4 == "user=-" ? "(no credentials)" : $4), $1; sep = ", " }')"
  expect_silent "$PROXY_PORT"
  if grep -q 'registry-1.docker.io' "$DIR/containerd.log"; then
    grep 'registry-1.docker.io' "$DIR/containerd.log" | tail -n 3
    fail "containerd's log names registry-1.docker.io: it tried the upstream"
  fi
  note "fallback: false: no request left for any host but :$TEAMS_PORT (proxy log empty, registry-1.docker.io never in containerd's log)"

  # Control: with fallback: true (a hosts.toml-only change the same containerd follows), team-b's
  # refused pull goes on to the upstream through the proxy: the silence above is fallback: false.
  inv=$(plugin_inventory plugin-fallback true "$creds")
  apply "$inv" "$root"
  reset_logs
  if cri_pull cri.fallback.err --username "$user_b" --password "$secret_b" >/dev/null; then
    fail "CRI PullImage with team-b's answer succeeded with fallback: true"
  fi
  line=$(grep -m1 '^"CONNECT registry-1.docker.io:443 ' "$(mirror_log "$PROXY_PORT")" || true)
  [[ -n $line ]] || fail "control: with fallback: true the proxy saw no CONNECT to registry-1.docker.io ($(cat "$DIR/cri.fallback.err"))"
  note "control, fallback: true: team-b refused at :$TEAMS_PORT, then the upstream was asked: proxy logged $line"

  # The secrets (and the Basic form of each user:password) appear in none of mirrorctl's
  # outputs, logs or files: apply, lint, resolve, the plugin's stderr, everything under ROOT.
  # Only the plugin's stdout carries them: it is the answer to the kubelet.
  secrets=("$pass_a" "$pass_b" "$(printf 'team-a-bot:%s' "$pass_a" | base64 -w0)" "$(printf 'team-b-bot:%s' "$pass_b" | base64 -w0)")
  grep -qF "$pass_a" "$DIR/plugin.team-a.json" || fail "self-check: team-a's password not found in the plugin's answer"
  mapfile -t outputs < <(find "$DIR" -maxdepth 1 \( -name 'apply.*.out' -o -name 'plugin.*.err' -o -name lint.out -o -name resolve.out \) | sort)
  mapfile -t -O "${#outputs[@]}" outputs < <(find "$root" -type f | sort)
  leaks=$(grep -lF -f <(printf '%s\n' "${secrets[@]}") -- "${outputs[@]}" | sed "s|^$DIR/||" | paste -sd' ' || true)
  [[ -z $leaks ]] || fail "a secret appears in: $leaks"
  note "no password (nor base64 user:password) in ${#outputs[@]} outputs and files of mirrorctl: $(printf '%s\n' "${outputs[@]}" | grep -c '/apply\.') apply, $(printf '%s\n' "${outputs[@]}" | grep -c '/plugin\.') plugin stderr, lint, resolve, $(find "$root" -type f | wc -l) files under ROOT"
  if grep -qF -e "$pass_a" -e "$pass_b" "$DIR/containerd.log"; then
    note "(containerd's own log holds a password)"
  fi
}

# --- scenarios 12 and 13: the one-truth fixes of issue 12, proven on containerd --------------

scenario_12() {
  local root=$DIR/root inv hosts
  inv=$(inventory ipv6 <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6003
      - url: http://[::1]:6016
    fallback: false
EOF
  )
  apply "$inv" "$root"
  hosts=$(certs_dir "$root")/docker.io/hosts.toml
  grep -q '^server = "http://\[::1\]:6016"' "$hosts" || fail "the IPv6 mirror is not the server"
  MIRROR_HOST='[::1]' expect_pull_via s12 docker.io/library/e2e:1 "$root" 6016 \
    '/v2/library/e2e/manifests/1?ns=docker.io'
  # The IPv6 mirror first, as a [host] table: 1.x cannot parse that form (go-toml v1 refuses
  # `]` in a table key and the whole file would be ignored), so it is refused for a 1.x target
  # and never written; 2.x reads it, and it serves.
  inv=$(inventory ipv6-table <<EOF
$(header)
  docker.io:
    mirrors:
      - url: http://[::1]:6016
      - url: $M:6003
EOF
  )
  if ((CONTAINERD_MAJOR < 2)); then
    mirrorctl_apply "$inv" "$root"
    if [[ $APPLY_RC != 1 ]] || ! grep -q 'M012' "$APPLY_OUT"; then
      cat "$APPLY_OUT"
      fail "an IPv6 [host] table for containerd $CONTAINERD_VERSION was not refused (exit $APPLY_RC)"
    fi
    grep -q '^server = "http://\[::1\]:6016"' "$hosts" || fail "the refused apply changed hosts.toml"
    note "refused for $CONTAINERD_VERSION: a [host.\"http://[::1]:6016\"] table (M012); the file on disk is unchanged"
    return 0
  fi
  apply "$inv" "$root"
  grep -qF '[host."http://[::1]:6016"]' "$hosts" || fail "the IPv6 mirror is not written as a [host] table"
  reset_logs
  MIRROR_HOST='[::1]' expect_pull_via s12table docker.io/library/e2e:1 "$root" 6016 \
    '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_silent 6003
  note "accepted for $CONTAINERD_VERSION: [host.\"http://[::1]:6016\"] first, and it served"
}

# manifest_asks PORT: how many manifest requests mirror PORT logged.
manifest_asks() { awk '$2 ~ /^\/v2\/library\/e2e\/manifests\/1/' "$(mirror_log "$1")" | wc -l; }

scenario_13() {
  local root=$DIR/root inv asked tried expected
  inv=$(inventory dead-only <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6017
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_fails s13 docker.io/library/e2e:1 "$root"
  # One endpoint: containerd resolved on :6017 once (expect_resolve_matches compared the whole
  # list with resolve; this is the count).
  tried=$(hosts_tried s13 | grep -c '^127.0.0.1:6017$' || true)
  [[ $tried == 1 ]] || fail "containerd tried the endpoint :6017 $tried times, expected once"
  asked=$(manifest_asks 6017)
  # 1.x sends one request per endpoint; 2.x re-sends a request that got a 5xx from the LAST
  # endpoint it has (once), still within that one endpoint. The control below shows that the
  # same 503 from an endpoint that is not the last is asked once on every version.
  expected=1
  ((CONTAINERD_MAJOR < 2)) || expected=2
  if [[ $asked != "$expected" ]]; then
    cat "$(mirror_log 6017)"
    fail "the dead mirror-only endpoint was asked $asked times for the manifest, expected $expected"
  fi
  note "the dead mirror-only endpoint :6017 (503) was tried once as an endpoint; manifest requests: $asked$( ((CONTAINERD_MAJOR >= 2)) && echo " (containerd 2.x re-sends once on a 5xx from its last endpoint)")"
  inv=$(inventory dead-first <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6017
      - url: $M:6002
    fallback: false
EOF
  )
  apply "$inv" "$root"
  reset_logs
  expect_pull_via s13b docker.io/library/e2e:1 "$root" 6002 "$MANIFEST_URI"
  asked=$(manifest_asks 6017)
  [[ $asked == 1 ]] || { cat "$(mirror_log 6017)"; fail "control: :6017 in front of :6002 was asked $asked times, expected once"; }
  note "control: :6017 (503) in front of :6002 was asked once, then :6002 served"
}

# --- scenarios 14-16 (issue 13): where containerd versions differ, each against resolve -------

# endpoint_field REF HOSTPORT FIELD: FIELD (httpsFirst, dialTimeout, …) of the endpoint on
# HOSTPORT in `mirrorctl resolve REF` over the last applied inventory, as JSON ("true", "null").
endpoint_field() {
  "$MIRRORCTL" resolve "$1" -i "$LAST_INVENTORY" --output json >"$DIR/resolve.json" ||
    fail "mirrorctl resolve $1 failed"
  /usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["endpoints"]:
    if e["url"].split("://", 1)[1].split("/", 1)[0] == sys.argv[2]:
        print(json.dumps(e[sys.argv[3]]))
        break
else:
    sys.exit("resolve names no endpoint on %s" % sys.argv[2])
' "$DIR/resolve.json" "$2" "$3" || fail "resolve: no endpoint $2 for $1"
}

# The inventory of scenarios 14 and 48: `http://` mirrors with skipVerify, docker.io's on the
# TLS port (6443), quay.io's on the plain one (6005).
https_first_inventory() {
  inventory https-first <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6443
        skipVerify: true
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6005
        skipVerify: true
    fallback: false
EOF
}

scenario_14() {
  local root=$DIR/root inv tls plain
  inv=$(https_first_inventory)
  apply "$inv" "$root"
  tls=$(endpoint_field docker.io/library/e2e:1 127.0.0.1:6443 httpsFirst)
  plain=$(endpoint_field quay.io/e2e/tiny:1 127.0.0.1:6005 httpsFirst)
  [[ $tls == "$plain" ]] || fail "resolve gives the two http:// mirrors with skipVerify different httpsFirst ($tls, $plain)"
  note "resolve for containerd $CONTAINERD_VERSION: http:// with skipVerify -> httpsFirst $tls"
  if [[ $tls == true ]]; then
    # HTTPS first: the TLS port behind an http:// URL serves...
    expect_pull_via s14tls docker.io/library/e2e:1 "$root" 6443 "$MANIFEST_URI"
    # ...and the plain port got a TLS handshake first (nginx: 400, no request line), then HTTP.
    expect_pull_via s14plain quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
    awk '$3 == 400' "$(mirror_log 6005)" | grep -q . ||
      { cat "$(mirror_log 6005)"; fail "plain :6005 saw no TLS attempt (400) before HTTP, yet resolve says httpsFirst"; }
    note "containerd spoke HTTPS to http://127.0.0.1:6443 and fell back to HTTP on :6005 after a TLS attempt there (nginx 400)"
  else
    # Plain HTTP: the TLS port answers 400 to a plain request, and the plain port sees HTTP only.
    expect_pull_fails s14tls docker.io/library/e2e:1 "$root"
    requests 6443 "$MANIFEST_URI" | awk '$3 == 400' | grep -q . ||
      { cat "$(mirror_log 6443)"; fail "TLS :6443 did not get a plain-HTTP manifest request (400), yet resolve says not httpsFirst"; }
    expect_pull_via s14plain quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
    if awk '$3 == 400' "$(mirror_log 6005)" | grep -q .; then
      cat "$(mirror_log 6005)"
      fail "plain :6005 saw a failed (TLS?) request, yet resolve says not httpsFirst"
    fi
    note "containerd spoke plain HTTP to both: TLS :6443 answered 400 to it, plain :6005 served with no TLS attempt"
  fi
}

# pull_timed NS REF ROOT LIMIT: pull under `timeout LIMIT`; sets PULL_RC and PULL_SECS.
pull_timed() {
  local t0=$EPOCHREALTIME
  PULL_RC=0
  PULL_LIMIT=$4 pull "$1" "$2" "$3" || PULL_RC=$?
  PULL_SECS=$(seconds_since "$t0")
}

scenario_15() {
  local root=$DIR/root inv rc=0 dial t0 dials
  # Premise: a connection to the blackholed port never completes.
  t0=$EPOCHREALTIME
  curl -s -o /dev/null --connect-timeout 1 "$M:$BLACKHOLE_PORT/v2/" || rc=$?
  [[ $rc == 28 ]] || fail "premise: curl to :$BLACKHOLE_PORT ended with $rc, expected 28 (connect timeout)"
  note "premise: connect to :$BLACKHOLE_PORT still pending after $(seconds_since "$t0")s (curl --connect-timeout 1)"
  inv=$(inventory dial-timeout <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:$BLACKHOLE_PORT
        dialTimeout: 1s
      - url: $M:6002
    fallback: false
EOF
  )
  mirrorctl_apply "$inv" "$root"
  if [[ $APPLY_RC == 2 ]]; then
    mirrorctl_apply "$inv" "$root"
    [[ $APPLY_RC == 0 ]] || { cat "$APPLY_OUT"; fail "second apply exited $APPLY_RC, expected 0"; }
    dial=$(endpoint_field docker.io/library/e2e:1 "127.0.0.1:$BLACKHOLE_PORT" dialTimeout)
    [[ $dial == '"1s"' ]] || fail "apply accepted dialTimeout for $CONTAINERD_VERSION but resolve says dialTimeout $dial"
    reset_logs
    pull_timed s15 docker.io/library/e2e:1 "$root" 20
    [[ $PULL_RC == 0 ]] || { show_pull_failure s15; fail "pull failed ($PULL_RC) after ${PULL_SECS}s; expected failover to :6002 after 1s"; }
    [[ -n $(requests 6002 "$MANIFEST_URI" | awk '$3 == 200') ]] || fail ":6002 did not serve the manifest"
    # Every request to the blackholed mirror (the tag, then each blob: blobs are fetched from
    # every host in file order) waits for its dial, then gives up: how long each wait was, from
    # containerd's own timestamps ("do request" to the "i/o timeout" that follows).
    dials=$(/usr/bin/python3 - "127.0.0.1:$BLACKHOLE_PORT" "$DIR/pull.s15.log" "$DIR/pull.s15.daemon.log" <<'EOF'
import datetime, re, sys
host, waits, start = sys.argv[1], [], None
for path in sys.argv[2:]:
    for line in open(path, errors="replace"):
        m = re.match(r'time="([^"]+)"', line)
        if not m or ("//" + host + "/") not in line:
            continue
        # 2026-12-01T21:39:11.100306114Z: Python reads microseconds at most.
        stamp, _, frac = m.group(1).rstrip("Z").partition(".")
        t = datetime.datetime.fromisoformat(stamp) + datetime.timedelta(seconds=float("0." + (frac or "0")))
        if 'msg="do request"' in line:
            start = t
        elif "i/o timeout" in line and start is not None:
            waits.append((t - start).total_seconds())
            start = None
print(" ".join("%.2f" % w for w in waits))
EOF
    ) || fail "cannot read the dial times from containerd's log"
    [[ -n $dials ]] || { show_pull_failure s15; fail "containerd logged no dial timeout (i/o timeout) for :$BLACKHOLE_PORT"; }
    awk -v d="$dials" -v total="$PULL_SECS" 'BEGIN {
      n = split(d, w, " "); for (i = 1; i <= n; i++) if (w[i] < 0.9 || w[i] > 1.5) exit 1
      exit !(total >= 0.9 * n && total < n + 3) }' ||
      fail "dial waits at :$BLACKHOLE_PORT were ${dials}s and the pull ${PULL_SECS}s; with dial_timeout = 1s each wait must be 0.9-1.5 s"
    note "dial_timeout honoured: $(wc -w <<<"$dials") dials to blackholed :$BLACKHOLE_PORT (the tag, then each blob) each gave up after ${dials// /s, }s (i/o timeout), :6002 served; whole pull ${PULL_SECS}s (resolve: dialTimeout $dial; without it each dial waits 30 s)"
    # probe honours the same dialTimeout (not its --timeout 4) and names :6002, as this pull did.
    probe_run docker.io/library/e2e:1 "$root" --timeout 4
    [[ $(probe_verdict) == "127.0.0.1:6002|127.0.0.1:$BLACKHOLE_PORT 127.0.0.1:6002|false" ]] ||
      fail "probe with dialTimeout 1s: $(probe_verdict)"
    expect_step "127.0.0.1:$BLACKHOLE_PORT" connect 'timed out after 1s'
    awk -v s="$PROBE_SECS" 'BEGIN { exit !(s >= 0.9 && s < 3) }' ||
      fail "probe took ${PROBE_SECS}s past the blackhole with dialTimeout 1s and --timeout 4"
    note "probe: connect to :$BLACKHOLE_PORT gave up after dialTimeout 1s (--timeout 4), :6002 serves; ${PROBE_SECS}s"
    return 0
  fi
  # Refused for a containerd that ignores dial_timeout; shown right by that containerd itself:
  # the same file, rendered for 2.1, does not bound its dial.
  if [[ $APPLY_RC != 1 ]] || ! grep -q 'M011' "$APPLY_OUT"; then
    cat "$APPLY_OUT"
    fail "mirrorctl apply exited $APPLY_RC for dialTimeout on $CONTAINERD_VERSION, expected 1 (M011)"
  fi
  [[ ! -e $(certs_dir "$root")/docker.io ]] || fail "the refused apply wrote docker.io/"
  note "refused for $CONTAINERD_VERSION: dialTimeout (M011); nothing written"
  sed 's/^target: {containerd: "[^"]*"/target: {containerd: "2.1"/' "$inv" >"$DIR/dial-timeout-2.1.yaml"
  apply "$DIR/dial-timeout-2.1.yaml" "$DIR/root-2.1"
  grep -q '^dial_timeout = "1s"' "$(certs_dir "$DIR/root-2.1")/docker.io/hosts.toml" || fail "the 2.1 rendering has no dial_timeout"
  pull_timed s15 docker.io/library/e2e:1 "$DIR/root-2.1" 4
  [[ $PULL_RC == 124 ]] ||
    { show_pull_failure s15; fail "with dial_timeout = 1s written, containerd $CONTAINERD_VERSION's pull ended ($PULL_RC) within ${PULL_SECS}s; expected it still dialing the blackholed mirror at 4 s"; }
  expect_silent 6002
  note "containerd $CONTAINERD_VERSION given the 2.1 file (dial_timeout = \"1s\"): still dialing :$BLACKHOLE_PORT after ${PULL_SECS}s (killed), :6002 never asked"
}

scenario_16() {
  local root=$DIR/root inv tried
  inv=$(inventory referrers <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6001
        capabilities: [pull, resolve, referrers]
    fallback: false
EOF
  )
  mirrorctl_apply "$inv" "$root"
  if [[ $APPLY_RC == 2 ]]; then
    mirrorctl_apply "$inv" "$root"
    [[ $APPLY_RC == 0 ]] || { cat "$APPLY_OUT"; fail "second apply exited $APPLY_RC, expected 0"; }
    grep -q '"referrers"' "$(certs_dir "$root")/docker.io/hosts.toml" || fail "hosts.toml lacks referrers"
    [[ $(endpoint_field docker.io/library/e2e:1 127.0.0.1:6001 capabilities) == *referrers* ]] ||
      fail "resolve does not list referrers"
    expect_pull_via s16 docker.io/library/e2e:1 "$root" 6001 "$MANIFEST_URI"
    note "accepted for $CONTAINERD_VERSION: capabilities [pull, resolve, referrers], and containerd read the file"
    return 0
  fi
  if [[ $APPLY_RC != 1 ]] || ! grep -q 'M005' "$APPLY_OUT"; then
    cat "$APPLY_OUT"
    fail "mirrorctl apply exited $APPLY_RC for referrers on $CONTAINERD_VERSION, expected 1 (M005)"
  fi
  [[ ! -e $(certs_dir "$root")/docker.io ]] || fail "the refused apply wrote docker.io/"
  note "refused for $CONTAINERD_VERSION: capability referrers (M005), nothing written$( ((CONTAINERD_MAJOR >= 2)) && echo "; acceptance needs containerd 2.2+, which this run does not have")"
  # Why: the file rendered for 2.2 makes this containerd ignore the WHOLE file (unknown
  # capability): it goes straight to the upstream, and the mirror is never asked.
  sed 's/^target: {containerd: "[^"]*"/target: {containerd: "2.2"/' "$inv" >"$DIR/referrers-2.2.yaml"
  apply "$DIR/referrers-2.2.yaml" "$DIR/root-2.2"
  if pull s16 docker.io/library/e2e:1 "$DIR/root-2.2"; then
    fail "containerd $CONTAINERD_VERSION pulled with the 2.2 file; it must have ignored it"
  fi
  tried=$(hosts_tried s16 | paste -sd' ')
  [[ $tried == registry-1.docker.io ]] || fail "containerd $CONTAINERD_VERSION tried '$tried' with the 2.2 file, expected only the upstream registry-1.docker.io (file ignored)"
  cat "$DIR/pull.s16.log" "$DIR/pull.s16.daemon.log" | grep -q 'failed to decode.*unknown capability referrers' ||
    fail "containerd $CONTAINERD_VERSION did not log that it could not decode hosts.toml (unknown capability referrers)"
  expect_silent 6001
  note "containerd $CONTAINERD_VERSION given the 2.2 file: \"failed to decode hosts.toml: unknown capability referrers\", tried only $tried; :6001 never asked"
}

# docker.io through :6002 only; with MANAGE=1 mirrorctl also owns config_path.
list_inventory() {
  {
    if [[ ${MANAGE:-} == 1 ]]; then
      header | sed '/^registries:$/i containerd: {manageConfig: true, configFile: /etc/containerd/config.toml}'
    else
      header
    fi
    printf '  docker.io:\n    mirrors:\n      - url: %s:6002\n    fallback: false\n' "$M"
  } | inventory "$1"
}

scenario_17() {
  local root=$DIR/root inv ref config=$DIR/root/etc/containerd/config.toml listed
  local SOCK=$DIR/containerd/containerd.sock
  mkdir -p "$root/etc/containerd" "$DIR/containerd/cni/bin" "$DIR/containerd/cni/conf"
  containerd_config "$DIR/containerd" "$config"
  # The 2.2+ default when neither is set, written out: a list of two directories, the second
  # absent. Quoted as this version's default quotes.
  local q=${CONFIG_PATH_UNSET: -1}
  listed="${CONFIG_PATH_UNSET%"$q$q"}$q/etc/containerd/certs.d:/etc/docker/certs.d$q"
  [[ $(grep -cxF "$CONFIG_PATH_UNSET" "$config") == 1 ]] || fail "premise: no single '$CONFIG_PATH_UNSET' line to replace"
  awk -v from="$CONFIG_PATH_UNSET" -v to="$listed" '$0 == from { $0 = to } { print }' "$config" >"$config.new" && mv "$config.new" "$config"
  grep -qxF "$listed" "$config" || fail "could not write the list into config.toml"
  inv=$(list_inventory hosts-only)
  apply "$inv" "$root"
  trap node_cleanup EXIT
  node_mount "$root"
  node_containerd_start
  note "node containerd on its default config with ${listed#"${listed%%[! ]*}"}; hosts.toml for docker.io (mirror :6002) written by apply, config.toml not managed"
  if cri_uses_transfer; then
    if cri_pull cri.list.err >/dev/null; then
      fail "containerd $CONTAINERD_VERSION pulled with a config_path list; its transfer service was expected to ignore it"
    fi
    grep -q 'registry-1.docker.io' "$DIR/cri.list.err" || fail "the pull did not fail on the upstream: $(cat "$DIR/cri.list.err")"
    grep -q 'using transfer service' "$DIR/pull.cri-list.daemon.log" || fail "containerd $CONTAINERD_VERSION did not log its CRI pull 'using transfer service'"
    expect_silent 6002
    note "transfer service ($CONTAINERD_VERSION): the list is ignored, the pull went to the upstream: $(grep -o 'failed to do request: .*' "$DIR/cri.list.err" | cut -c1-120)"
  else
    ref=$(cri_pull cri.list.err) || { cat "$DIR/cri.list.err"; fail "CRI pull with a config_path list failed on $CONTAINERD_VERSION"; }
    [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered '$ref', expected $CONFIG_DIGEST"
    expect_cri_via list 127.0.0.1:6002
    note "containerd $CONTAINERD_VERSION's own CRI pull splits the list: :6002 served"
  fi
  # mirrorctl owning config_path replaces the list with its one directory, and says why (C004).
  inv=$(MANAGE=1 list_inventory managed)
  apply "$inv" "$root"
  grep -q 'C004' "$DIR/apply.$((APPLY_N - 1)).out" || { cat "$DIR/apply.$((APPLY_N - 1)).out"; fail "apply did not warn C004 about the list"; }
  grep -qxF "$CONFIG_PATH_SET" "$config" || fail "apply did not set the single directory"
  node_containerd_stop
  node_containerd_start
  reset_logs
  ref=$(cri_pull cri.single.err) || { cat "$DIR/cri.single.err"; fail "CRI pull after apply set one directory failed"; }
  [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered '$ref', expected $CONFIG_DIGEST"
  expect_cri_via single 127.0.0.1:6002
  note "apply replaced the list with ${CONFIG_PATH_SET##* } (warning C004); restarted, the CRI pull went through :6002"
}

# --- scenarios 18-20: secrets from files and their rotation (issue 14) ------------------------

# The tokens the mirrors of scenarios 18 and 19 require (fixed in nginx.conf.in too).
TOKEN_18=e2e-token-18-c0ffee
TOKEN_19=e2e-bearer-19-decaf

# secret_file ROOT NODE_PATH VALUE: a root-only secret file at a node path below ROOT, ending in
# a newline as `echo` writes it.
secret_file() {
  mkdir -p "$(dirname "$1$2")"
  chmod 700 "$(dirname "$1$2")"
  printf '%s\n' "$3" >"$1$2"
  chmod 600 "$1$2"
}

# run_mirrorctl NAME ARGS...: mirrorctl's stdout and stderr in DIR/NAME.mirrorctl; its status
# in RUN_RC (never fails the scenario by itself).
RUN_RC=0
run_mirrorctl() {
  local name=$1
  shift
  RUN_RC=0
  "$MIRRORCTL" "$@" >"$DIR/$name.mirrorctl" 2>&1 || RUN_RC=$?
}

# expect_no_leak SECRET...: no output of mirrorctl in this scenario (apply, check, diff, render,
# lint, resolve, the plugin's stderr) holds any of them.
expect_no_leak() {
  local leaks outputs
  mapfile -t outputs < <(find "$DIR" -maxdepth 1 \( -name 'apply.*.out' -o -name '*.mirrorctl' -o -name 'plugin.*.err' \) | sort)
  leaks=$(grep -lF -f <(printf '%s\n' "$@") -- "${outputs[@]}" | sed "s|^$DIR/||" | paste -sd' ' || true)
  [[ -z $leaks ]] || fail "a secret appears in: $leaks"
  note "no secret in ${#outputs[@]} outputs of mirrorctl ($(printf '%s\n' "${outputs[@]##*/}" | sed -E 's/\.(out|mirrorctl|err)$//' | paste -sd' '))"
}

# changed_lines FILE: the -/+ lines of a unified diff, headers left out.
changed_lines() { grep -E '^[-+]' "$1" | grep -vE '^(---|\+\+\+) ' || true; }

scenario_18() {
  local root=$DIR/root inv hosts status
  status=$(http_status "$M:6021/v2/")/$(http_status -H "X-Mirror-Token: $TOKEN_18" "$M:6021/v2/")
  [[ $status == 403/200 ]] || fail "premise: :6021 answered $status without/with the token header, expected 403/200"
  note "premise: :6021 answers 403 without X-Mirror-Token, 200 with it"
  secret_file "$root" /etc/mirrorctl/creds/token "$TOKEN_18"
  inv=$(inventory token-header <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6021
        headers: {X-Mirror-Tenant: platform-e2e, X-Mirror-Token: {file: /etc/mirrorctl/creds/token}}
    fallback: false
EOF
  )
  run_mirrorctl diff diff -i "$inv" --root "$root"
  [[ $RUN_RC == 2 ]] || { cat "$DIR/diff.mirrorctl"; fail "mirrorctl diff exited $RUN_RC, expected 2"; }
  grep -q '^+.*X-Mirror-Token = "<redacted sha256:[0-9a-f]*>"' "$DIR/diff.mirrorctl" ||
    { cat "$DIR/diff.mirrorctl"; fail "diff does not show the token header as a digest"; }
  apply "$inv" "$root"
  hosts=$(certs_dir "$root")/docker.io/hosts.toml
  [[ $(stat -c %a "$hosts") == 600 ]] || fail "hosts.toml carrying the token has mode $(stat -c %a "$hosts"), expected 600"
  grep -qF "X-Mirror-Token = \"$TOKEN_18\"" "$hosts" || fail "hosts.toml does not carry the token read from the file"
  expect_pull_via s18 docker.io/library/e2e:1 "$root" 6021 "$MANIFEST_URI"
  note "hosts.toml mode 600; X-Mirror-Token read from /etc/mirrorctl/creds/token; diff showed $(grep -o 'X-Mirror-Token = "<redacted[^"]*"' "$DIR/diff.mirrorctl")"
  run_mirrorctl check check -i "$inv" --root "$root" --output json
  run_mirrorctl render render -i "$inv"
  grep -qF 'X-Mirror-Token = "<secret not read: /etc/mirrorctl/creds/token>"' "$DIR/render.mirrorctl" ||
    { cat "$DIR/render.mirrorctl"; fail "render does not show the token as a secret not read"; }
  run_mirrorctl resolve resolve docker.io/library/e2e:1 -i "$inv"
  run_mirrorctl lint lint -i "$inv" --root "$root"
  expect_no_leak "$TOKEN_18"
  # Control: the same mirror without the token header refuses the pull.
  inv=$(inventory no-token <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6021
        headers: {X-Mirror-Tenant: platform-e2e}
    fallback: false
EOF
  )
  apply "$inv" "$root"
  reset_logs
  expect_pull_fails s18b docker.io/library/e2e:1 "$root"
  [[ -n $(requests 6021 "$MANIFEST_URI" | awk '$3 == 403') ]] || fail "control: :6021 did not answer 403 without the token"
  note "control: without the header from the file :6021 answered 403"
}

scenario_19() {
  local root=$DIR/root inv hosts status
  status=$(http_status "$M:6022/v2/")/$(http_status -H "Authorization: Bearer $TOKEN_19" "$M:6022/v2/")
  [[ $status == 403/200 ]] || fail "premise: :6022 answered $status without/with the bearer token, expected 403/200"
  note "premise: :6022 answers 403 without Authorization: Bearer <token>, 200 with it"
  secret_file "$root" /etc/mirrorctl/creds/bearer "$TOKEN_19"
  inv=$(inventory bearer <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6022
        auth: {bearerFrom: {tokenFile: /etc/mirrorctl/creds/bearer}}
    fallback: false
EOF
  )
  apply "$inv" "$root"
  hosts=$(certs_dir "$root")/docker.io/hosts.toml
  [[ $(stat -c %a "$hosts") == 600 ]] || fail "hosts.toml carrying the bearer token has mode $(stat -c %a "$hosts"), expected 600"
  expect_pull_via s19 docker.io/library/e2e:1 "$root" 6022 "$MANIFEST_URI"
  note "hosts.toml mode 600 with Authorization = \"Bearer …\" from /etc/mirrorctl/creds/bearer"
  # A token the mirror does not know: check says 2, diff shows two digests, apply writes it
  # and the pull is refused: the header is the file's, rewritten.
  secret_file "$root" /etc/mirrorctl/creds/bearer "revoked-$TOKEN_19"
  run_mirrorctl check check -i "$inv" --root "$root"
  [[ $RUN_RC == 2 ]] || { cat "$DIR/check.mirrorctl"; fail "check after the token changed exited $RUN_RC, expected 2"; }
  run_mirrorctl diff diff -i "$inv" --root "$root"
  [[ $(changed_lines "$DIR/diff.mirrorctl" | grep -c 'Authorization = "<redacted sha256:[0-9a-f]*>"') == 2 &&
    $(changed_lines "$DIR/diff.mirrorctl" | wc -l) == 2 ]] ||
    { cat "$DIR/diff.mirrorctl"; fail "diff of a changed token is not exactly two redacted Authorization lines"; }
  apply "$inv" "$root"
  reset_logs
  expect_pull_fails s19b docker.io/library/e2e:1 "$root"
  [[ -n $(requests 6022 "$MANIFEST_URI" | awk '$3 == 403') ]] || fail ":6022 did not answer 403 to the revoked token"
  note "token changed: check 2, diff $(changed_lines "$DIR/diff.mirrorctl" | paste -sd' '); after apply :6022 answered 403"
  run_mirrorctl render render -i "$inv"
  expect_no_leak "$TOKEN_19"
}

scenario_20() {
  local root=$DIR/root creds inv config hosts pid ref digest pass1 pass2 line
  local SOCK=$DIR/containerd/containerd.sock PLUGIN_EXEC i
  local -a PLUGIN_ARGS
  config=$root/etc/containerd/config.toml
  creds=$root/etc/mirrorctl/rotate
  pass1=rotate-1-$(openssl rand -hex 12)
  pass2=rotate-2-$(openssl rand -hex 12)
  secret_file "$root" /etc/mirrorctl/rotate/username rot-user
  secret_file "$root" /etc/mirrorctl/rotate/password "$pass1"
  printf 'rot-user:%s\n' "$(openssl passwd -apr1 -stdin <<<"$pass1")" >"$WORK/nginx/htpasswd.rotate"
  mkdir -p "$root/etc/containerd" "$DIR/containerd/cni/bin" "$DIR/containerd/cni/conf"
  containerd_config "$DIR/containerd" "$config"
  trap node_cleanup EXIT
  # One password file, two readers: apply renders it into hosts.toml (basicFrom, a node path
  # under --root), and the credential plugin reads it on every request (a grant names the real
  # path: the plugin runs on the node, without --root).
  inv=$(inventory rotate <<EOF
$(header | sed '/^registries:$/i containerd: {manageConfig: true, configFile: /etc/containerd/config.toml}')
  docker.io:
    mirrors:
      - url: $M:6023
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/rotate/username, passwordFile: /etc/mirrorctl/rotate/password}}
    fallback: false
credentialPlugin:
  audience: $PLUGIN_AUDIENCE
  binary: $MIRRORCTL
  grants:
    - {registry: docker.io, namespace: team-a, usernameFile: $creds/username, passwordFile: $creds/password}
EOF
  )
  apply "$inv" "$root"
  hosts=$(certs_dir "$root")/docker.io/hosts.toml
  node_mount "$root"
  node_containerd_start
  pid=$NODE_PID
  if ! ref=$(cri_pull cri.first.err); then
    cat "$DIR/cri.first.err"
    fail "CRI PullImage through the basic-auth mirror failed before the rotation"
  fi
  requests 6023 "$MANIFEST_URI" | grep -q ' 200 user=rot-user ' || fail "mirror :6023 did not serve rot-user"
  note "before: node containerd ($pid) -> $ref through :6023 as rot-user (first password)"
  mapfile -t PLUGIN_ARGS < <(provider_args "$root$PLUGIN_CONFIG" "$PLUGIN_NAME")
  for ((i = 1; i < ${#PLUGIN_ARGS[@]}; i++)); do
    if [[ ${PLUGIN_ARGS[i - 1]} == --mapping ]]; then
      PLUGIN_ARGS[i]=$root${PLUGIN_ARGS[i]}
    fi
  done
  PLUGIN_EXEC=$root$PLUGIN_BIN_DIR/$PLUGIN_NAME
  plugin_ask before team-a default
  [[ $ANSWER_PASS == "$pass1" ]] || fail "the plugin's answer before the rotation is not the first password"

  # The rotation: the mirror's password changes, and so does the file (as Ansible or Puppet
  # would write it). Nothing has been applied yet.
  printf 'rot-user:%s\n' "$(openssl passwd -apr1 -stdin <<<"$pass2")" >"$WORK/nginx/htpasswd.rotate"
  secret_file "$root" /etc/mirrorctl/rotate/password "$pass2"
  plugin_ask after team-a default
  [[ $ANSWER_PASS == "$pass2" ]] || fail "the plugin did not answer with the new password on the next request"
  note "credential plugin: the next request answers with the new password (no apply, no kubelet restart)"
  run_mirrorctl check check -i "$inv" --root "$root"
  [[ $RUN_RC == 2 ]] || { cat "$DIR/check.mirrorctl"; fail "check after the rotation exited $RUN_RC, expected 2"; }
  grep -q "would update .*docker.io/hosts.toml (0600)" "$DIR/check.mirrorctl" ||
    { cat "$DIR/check.mirrorctl"; fail "check does not name docker.io's hosts.toml"; }
  if grep -qi restart "$DIR/check.mirrorctl"; then cat "$DIR/check.mirrorctl"; fail "a rotated secret named a restart"; fi
  run_mirrorctl diff diff -i "$inv" --root "$root"
  [[ $(changed_lines "$DIR/diff.mirrorctl" | grep -c 'Authorization = "<redacted sha256:[0-9a-f]*>"') == 2 &&
    $(changed_lines "$DIR/diff.mirrorctl" | wc -l) == 2 ]] ||
    { cat "$DIR/diff.mirrorctl"; fail "the diff of a rotated password is not exactly two redacted lines"; }
  note "check: exit 2, $(grep 'would update' "$DIR/check.mirrorctl" | awk '{ print $2, $3 }'), no restart; diff: $(changed_lines "$DIR/diff.mirrorctl" | paste -sd' ')"
  reset_logs
  if cri_pull cri.stale.err >/dev/null; then
    fail "CRI PullImage succeeded before apply; hosts.toml still holds the old password"
  fi
  requests 6023 "$MANIFEST_URI" | grep -q ' 401 user=rot-user ' || fail ":6023 did not refuse the old password ($(cat "$DIR/cri.stale.err"))"
  note "before apply: the pull fails, :6023 answered 401 to the old password"
  mirrorctl_apply "$inv" "$root"
  [[ $APPLY_RC == 2 ]] || { cat "$APPLY_OUT"; fail "apply after the rotation exited $APPLY_RC, expected 2"; }
  if grep -qi restart "$APPLY_OUT"; then cat "$APPLY_OUT"; fail "apply of a rotated secret named a restart"; fi
  [[ $(stat -c %a "$hosts") == 600 ]] || fail "the rewritten hosts.toml has mode $(stat -c %a "$hosts")"
  reset_logs
  if ! kill -0 "$pid" 2>/dev/null || [[ $NODE_PID != "$pid" ]]; then
    fail "the node's containerd ($pid) is not the one running"
  fi
  if ! ref=$(cri_pull cri.rotated.err); then
    cat "$DIR/cri.rotated.err"
    fail "CRI PullImage after apply failed; containerd did not pick up the rewritten hosts.toml"
  fi
  digest=$(pulled_digest k8s.io docker.io/library/e2e:1)
  [[ $digest == "$PUSHED_DIGEST" ]] || fail "CRI pulled '$digest', pushed $PUSHED_DIGEST"
  line=$(requests 6023 "$MANIFEST_URI" | awk '$3 == 200' | head -n 1)
  [[ -n $line ]] || fail ":6023 did not serve the pull after apply"
  note "after apply (\"$(grep -m1 'changed' "$APPLY_OUT")\"): the same containerd ($pid, not restarted) -> $ref; :6023 logged $(sed -E 's/ [a-z]+="?-"?//g' <<<"$line")"
  expect_cri_via rotated 127.0.0.1:6023
  expect_no_leak "$pass1" "$pass2" "$(printf 'rot-user:%s' "$pass1" | base64 -w0)" "$(printf 'rot-user:%s' "$pass2" | base64 -w0)"
}

# --- scenario 30: a TLS mirror whose CA the inventory carries as PEM content ------------------

# The node has no CA file before apply: mirrorctl writes the inventory's PEM beside hosts.toml,
# which names it by its node path. ROOT/etc/containerd is bind-mounted on /etc/containerd (as in
# scenario 9) so that node path is where containerd reads it; the bench's containerd pulls.
scenario_30() {
  local root=$DIR/root inv pki=$WORK/pki status certs ca sum named
  status=$(http_status https://127.0.0.1:6060/v2/)
  [[ $status == 000 ]] || fail "premise: :6060 answered $status without the suite's CA"
  status=$(http_status --cacert "$pki/ca.pem" https://127.0.0.1:6060/v2/)
  [[ $status == 200 ]] || fail "premise: :6060 answered $status with the suite's CA, expected 200"
  mkdir -p "$root/etc/containerd"
  # node_mount compares config.toml; no containerd of this scenario reads it.
  printf '# scenario 30: the bench containerd pulls; this file is not read\n' >"$root/etc/containerd/config.toml"
  [[ -z $(find "$root" -name '*.pem') ]] || fail "premise: a PEM file is on the node before apply"
  note "premise: :6060 is untrusted without the suite's CA, 200 with it; no CA file on the node"
  inv=$(inventory pem <<EOF
$(header)
  docker.io:
    mirrors:
      - url: https://127.0.0.1:6060
        ca:
          pem: |
$(sed 's/^/            /' "$pki/ca.pem")
    fallback: false
EOF
  )
  apply "$inv" "$root"
  certs=$(certs_dir "$root")/docker.io
  ca=$(find "$certs" -name 'ca-*.pem')
  [[ -n $ca && $(wc -l <<<"$ca") == 1 ]] || fail "apply wrote no single ca-*.pem in $certs: $(entries "$certs")"
  sum=$(sha256sum "$ca" | cut -c1-16)
  [[ ${ca##*/} == "ca-$sum.pem" ]] || fail "${ca##*/} is not named after its content's sha256 (ca-$sum.pem)"
  cmp -s "$ca" "$pki/ca.pem" || fail "${ca##*/} is not the suite's CA"
  [[ $(stat -c %a "$ca") == 644 ]] || fail "${ca##*/} has mode $(stat -c %a "$ca"), expected 644"
  named=/etc/containerd/certs.d/docker.io/ca-$sum.pem
  grep -qxF "ca = \"$named\"" "$certs/hosts.toml" || fail "hosts.toml does not name $named"
  /usr/bin/python3 -c '
import json, sys
record = json.load(open(sys.argv[1]))["files"][sys.argv[2]]
assert record["kind"] == "caCertificate" and record["mode"] == "0644", record
' "$root/var/lib/mirrorctl/state.json" "$named" || fail "state.json does not own $named as a caCertificate 0644"
  "$MIRRORCTL" resolve docker.io/library/e2e:1 -i "$inv" | grep -qF "$named" || fail "resolve does not show $named"
  note "apply wrote ${ca##*/} (0644, owned in state.json), named by hosts.toml as $named; resolve shows it"

  trap node_cleanup EXIT
  node_mount "$root"
  cmp -s "$named" "$pki/ca.pem" || fail "$named is not the written CA after the bind mount"
  expect_pull_via s30 docker.io/library/e2e:1 "$root" 6060 '/v2/library/e2e/manifests/1?ns=docker.io'

  # The written file is what makes TLS work: without it the pull fails closed.
  mv "$ca" "$DIR/ca.moved-away"
  if pull s30b docker.io/library/e2e:1 "$root"; then
    fail "pulled with $named moved away; the CA file must be what made TLS work"
  fi
  cat "$DIR/pull.s30b.log" "$DIR/pull.s30b.daemon.log" | grep -q "ca-$sum.pem" ||
    fail "the failed pull does not name the missing ca-$sum.pem: $(grep -o 'ctr: .*' "$DIR/pull.s30b.log" | tail -n 1)"
  note "with the file moved away: $(grep -o 'ctr: .*' "$DIR/pull.s30b.log" | tail -n 1)"
  mirrorctl_apply "$inv" "$root"
  [[ $APPLY_RC == 2 ]] || {
    cat "$APPLY_OUT"
    fail "apply after the CA file went exited $APPLY_RC, expected 2"
  }
  cmp -s "$ca" "$pki/ca.pem" || fail "apply did not write ${ca##*/} again"
  reset_logs
  expect_pull_via s30c docker.io/library/e2e:1 "$root" 6060 '/v2/library/e2e/manifests/1?ns=docker.io'
  note "apply wrote it again (drift restored) and containerd pulled through :6060, no restart"
}

# --- scenario 21: off the legacy registry.mirrors, through import (issue 15) -----------------

# The legacy mirrors table of docker.io in the CRI registry table this version reads, spelt as
# its config default spells tables.
legacy_mirror_table() {
  if ((CONTAINERD_MAJOR >= 2)); then
    printf "[plugins.'io.containerd.cri.v1.images'.registry.mirrors.'docker.io']"
  else
    printf '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]'
  fi
}

# The access-log line of mirror PORT that served the e2e manifest (200), with or without `?ns=`.
manifest_served() {
  awk '$2 ~ /^\/v2\/library\/e2e\/manifests\/1([?]|$)/ && $3 == 200' "$(mirror_log "$1")" 2>/dev/null | head -n 1
}

scenario_21() {
  local root=$DIR/root imported ref config=$DIR/root/etc/containerd/config.toml table line
  local legacy=$DIR/config.toml.legacy legacy_via='' why_not='' out
  local SOCK=$DIR/containerd/containerd.sock
  mkdir -p "$root/etc/containerd" "$DIR/containerd/cni/bin" "$DIR/containerd/cni/conf"
  containerd_config "$DIR/containerd" "$config"
  grep -qxF "$CONFIG_PATH_UNSET" "$config" || fail "premise: containerd config default has no line '$CONFIG_PATH_UNSET'"
  table=$(legacy_mirror_table)
  printf '\n%s\n  endpoint = ["%s:6002"]\n' "$table" "$M" >>"$config"
  cp -p "$config" "$legacy"
  trap node_cleanup EXIT
  node_mount "$root"
  node_containerd_start
  note "node: its containerd config default (version $(awk '/^version = / { print $3; exit }' "$legacy")), ${CONFIG_PATH_UNSET#"${CONFIG_PATH_UNSET%%[! ]*}"}, and $table endpoint = [\"$M:6002\"]"

  # 1. The legacy form pulls through its mirror (where this version still honours it). From
  # 2.1 on, CRI pulls go through the transfer service, which has no legacy mirrors: containerd
  # says so at start and falls back to its own pull for as long as the table is there.
  if ref=$(cri_pull cri.legacy.err) && line=$(manifest_served 6002) && [[ -n $line ]]; then
    if grep -q 'using transfer service' "$DIR/pull.cri-legacy.daemon.log"; then
      legacy_via="the transfer service"
    else
      legacy_via="CRI's own pull"
    fi
    if cri_uses_transfer; then
      grep -q "Registry.Mirrors.*Falling back to local image pull mode" "$DIR/containerd.log" ||
        fail "containerd $CONTAINERD_VERSION did not log its fallback to the local pull for registry.mirrors"
      [[ $legacy_via == "CRI's own pull" ]] || fail "containerd $CONTAINERD_VERSION pulled the legacy mirror through the transfer service"
      legacy_via+=" (containerd: \"$(grep -o 'Found .Registry.Mirrors[^.]*' "$DIR/containerd.log" | head -n 1)… Falling back to local image pull mode\")"
    fi
    [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered '$ref', expected $CONFIG_DIGEST"
    note "legacy registry.mirrors, $legacy_via: PullImage -> $ref; mirror :6002 logged: $(sed -E 's/ [a-z]+="?-"?//g' <<<"$line")"
  else
    why_not="containerd $CONTAINERD_VERSION did not pull through its legacy registry.mirrors: $(cat "$DIR/cri.legacy.err")"
    note "legacy half skipped: $why_not"
  fi

  # 2. import reads the node's own config.toml; the inventory takes over config_path.
  imported=$DIR/imported.yaml
  "$MIRRORCTL" import containerd-config /etc/containerd/config.toml -o "$imported" \
    --target-containerd "$CONTAINERD_VERSION" 2>"$DIR/import.err" ||
    { cat "$DIR/import.err"; fail "mirrorctl import containerd-config exited non-zero"; }
  if grep -q '^warning: ' "$DIR/import.err"; then
    cat "$DIR/import.err"
    fail "import of a default config with one legacy mirror warned"
  fi
  grep -qxF "      - url: \"$M:6002\"" "$imported" || { cat "$imported"; fail "the imported inventory does not mirror docker.io through :6002"; }
  sed -i '/^registries:$/i containerd: {manageConfig: true, configFile: /etc/containerd/config.toml}' "$imported"
  LAST_INVENTORY=$imported
  note "import: $(grep -c '^  "' "$imported") registry, docker.io -> $M:6002, no warning; manageConfig added"
  if [[ -n $legacy_via ]]; then
    # What containerd did with the legacy table is what resolve says of the imported inventory.
    expect_resolve_matches cri-legacy docker.io/library/e2e:1 127.0.0.1:6002
  fi

  # 3. apply reports the legacy table and never deletes it.
  mirrorctl_apply "$imported" "$root"
  out=$APPLY_OUT
  grep -q 'C001.*legacy .registry[.]mirrors. (docker[.]io)' "$out" || { cat "$out"; fail "apply did not report the legacy registry.mirrors (C001)"; }
  grep -qxF "$table" "$config" || fail "apply removed the legacy table"
  if ((CONTAINERD_MAJOR < 2)); then
    [[ $APPLY_RC == 1 ]] || { cat "$out"; fail "apply beside the legacy table exited $APPLY_RC on 1.x, expected 1 (it would break the CRI plugin)"; }
    cmp -s "$config" "$legacy" || fail "apply refused, yet config.toml changed"
    [[ ! -e $(certs_dir "$root")/docker.io/hosts.toml ]] || fail "apply refused, yet wrote hosts.toml"
    note "apply beside the legacy table: exit 1, nothing written: $(grep -o 'C001.*' "$out" | cut -c1-110)"
  else
    [[ $APPLY_RC == 2 ]] || { cat "$out"; fail "apply beside the legacy table exited $APPLY_RC on 2.x, expected 2 (a warning)"; }
    note "apply beside the legacy table: exit 2, warning $(grep -o 'C001.*' "$out" | cut -c1-100)"
  fi

  # 4. The operator removes the legacy table; apply takes over config_path; restart.
  awk -v t="$table" '$0 == t { skip = 2 } skip > 0 { skip--; next } { print }' "$config" >"$config.new"
  cat "$config.new" >"$config" && rm "$config.new"
  if grep -qF 'registry.mirrors.' "$config"; then fail "the legacy table is still in config.toml"; fi
  mirrorctl_apply "$imported" "$root"
  if grep -q C001 "$APPLY_OUT"; then cat "$APPLY_OUT"; fail "apply still reports C001 after the removal"; fi
  [[ $APPLY_RC == 0 || $APPLY_RC == 2 ]] || { cat "$APPLY_OUT"; fail "apply after the removal exited $APPLY_RC"; }
  mirrorctl_apply "$imported" "$root"
  [[ $APPLY_RC == 0 ]] || { cat "$APPLY_OUT"; fail "apply again exited $APPLY_RC, expected 0"; }
  grep -qxF "$CONFIG_PATH_SET" "$config" || fail "config_path is not set to the certs dir"
  [[ -f /etc/containerd/certs.d/docker.io/hosts.toml ]] || fail "no /etc/containerd/certs.d/docker.io/hosts.toml"
  grep -qF "[host.\"$M:6002\"]" /etc/containerd/certs.d/docker.io/hosts.toml || fail "hosts.toml does not name $M:6002"
  note "legacy table removed by hand; apply: config_path ${CONFIG_PATH_SET##* }, docker.io/hosts.toml [host.\"$M:6002\"]; again: exit 0"
  node_containerd_stop
  node_containerd_start
  reset_logs

  # 5. The same CRI pull, through the same mirror, now from hosts.toml.
  ref=$(cri_pull cri.hosts.err) || { cat "$DIR/cri.hosts.err"; fail "CRI pull after the migration failed"; }
  [[ $ref == "$CONFIG_DIGEST" ]] || fail "PullImage answered '$ref', expected $CONFIG_DIGEST"
  line=$(manifest_served 6002)
  [[ -n $line ]] || fail "after the migration, mirror :6002 did not serve the manifest"
  grep -q 'loading host directory.*dir=/etc/containerd/certs.d/docker.io' "$DIR/pull.cri-hosts.daemon.log" ||
    fail "containerd did not log loading /etc/containerd/certs.d/docker.io for the pull"
  expect_cri_via hosts 127.0.0.1:6002
  note "restarted; PullImage -> $ref via /etc/containerd/certs.d/docker.io (containerd: loading host directory); mirror :6002 logged: $(sed -E 's/ [a-z]+="?-"?//g' <<<"$line")"
  if [[ -z $legacy_via ]]; then
    note "only the hosts.toml half ran on $CONTAINERD_VERSION: $why_not"
  fi
}

# Read by run.sh: number|name|function.
# shellcheck disable=SC2034
SCENARIOS=(
  "1|two mirrors in inventory order, then swapped|scenario_1"
  "2|first mirror down, the second serves|scenario_2"
  "3|TLS with ca, mTLS with client cert, plain http|scenario_3"
  "4|overridePath inferred for a path prefix|scenario_4"
  "5|a header the mirror requires|scenario_5"
  "6|* as _default, a registry with a port|scenario_6"
  "7|fallback: false never contacts the upstream|scenario_7"
  "8|basic auth from files|scenario_8"
  "9|CRI PullImage, config_path set by mirrorctl|scenario_9"
  "10|re-apply after the inventory changed|scenario_10"
  "11|namespace-scoped credentials from the kubelet credential plugin|scenario_11"
  "12|an IPv6 mirror: the server on every version, a [host] table on 2.x only|scenario_12"
  "13|a dead single mirror-only endpoint is tried once|scenario_13"
  "14|http:// mirrors with TLS settings: HTTPS first exactly where resolve says so|scenario_14"
  "15|dial_timeout: honoured (2.0.7+, 2.1+) or refused|scenario_15"
  "16|referrers: accepted on 2.2+, refused below|scenario_16"
  "17|a config_path list: ignored by the 2.1+ transfer service, replaced by mirrorctl|scenario_17"
  "18|a token header read from a file|scenario_18"
  "19|a bearer token from auth.bearerFrom|scenario_19"
  "20|rotation: a new password, apply, the same containerd pulls; the plugin answers at once|scenario_20"
  "21|legacy registry.mirrors imported, applied, removed: the same CRI pull through the same mirror|scenario_21"
  "30|TLS with a CA given only as pem: content, written by mirrorctl|scenario_30"
)
