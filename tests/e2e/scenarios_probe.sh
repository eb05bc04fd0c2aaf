# shellcheck shell=bash
# The scenarios of issue 16 (`mirrorctl probe`), numbered 40-49. Sourced by run.sh after
# scenarios.sh, whose helpers they use. Each pulls an image with real containerd through files
# `mirrorctl apply` wrote, then runs `mirrorctl probe` on the same inventory and root: probe's
# verdict (servedBy) must name the mirror whose access log shows the manifest request, or null
# when the pull failed, and the endpoints probe contacted must be the hosts containerd tried,
# in its order.

# probe_run REF ROOT [ARGS...]: probe over the last applied inventory, JSON to PROBE_JSON,
# stderr to PROBE_ERR, status in PROBE_RC, wall time in PROBE_SECS.
PROBE_N=0
probe_run() {
  local ref=$1 root=$2 t0
  shift 2
  PROBE_N=$((PROBE_N + 1))
  PROBE_JSON=$DIR/probe.$PROBE_N.json
  PROBE_ERR=$DIR/probe.$PROBE_N.err
  PROBE_RC=0
  t0=$EPOCHREALTIME
  "$MIRRORCTL" probe "$ref" -i "$LAST_INVENTORY" --root "$root" --output json "$@" \
    >"$PROBE_JSON" 2>"$PROBE_ERR" || PROBE_RC=$?
  PROBE_SECS=$(seconds_since "$t0")
}

# The verdict of PROBE_JSON's first image: "SERVED|CONTACTED|UPSTREAM" with SERVED the
# host:port of servedBy (or "none"), CONTACTED the hosts probe contacted, space-separated.
probe_verdict() {
  /usr/bin/python3 -c '
import json, sys
image = json.load(open(sys.argv[1]))["images"][0]
host = lambda url: url.split("://", 1)[1].split("/", 1)[0]
served = host(image["servedBy"]) if image["servedBy"] else "none"
contacted = " ".join(host(e["url"]) for e in image["endpoints"] if e["contacted"])
print("%s|%s|%s" % (served, contacted, str(image["upstreamReached"]).lower()))
' "$PROBE_JSON"
}

# The steps of endpoint HOST in PROBE_JSON, one "name ok detail" per line.
probe_steps() {
  /usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["images"][0]["endpoints"]:
    if e["url"].split("://", 1)[1].split("/", 1)[0] == sys.argv[2]:
        for s in e["steps"]:
            print(s["name"], "ok" if s["ok"] else "FAIL", s["detail"])
' "$PROBE_JSON" "$1"
}

# expect_probe_agrees NS REF ROOT SERVED [ARGS...]: the pull of REF in containerd namespace NS
# happened (served through SERVED, host:port, or failed when SERVED is "none"); probe agrees:
# the same verdict, the same hosts in the same order, exit 0 exactly when a mirror serves.
expect_probe_agrees() {
  local ns=$1 ref=$2 root=$3 served=$4 verdict got contacted upstream tried want_rc=1 wanted=() host
  shift 4
  probe_run "$ref" "$root" "$@"
  verdict=$(probe_verdict) || { cat "$PROBE_JSON" "$PROBE_ERR"; fail "probe of $ref printed no report (exit $PROBE_RC)"; }
  IFS='|' read -r got contacted upstream <<<"$verdict"
  if [[ $got != "$served" ]]; then
    cat "$PROBE_JSON"
    fail "probe says $ref is served by '$got'; containerd's pull: '$served'"
  fi
  tried=$(hosts_tried "$ns" | paste -sd' ')
  # containerd stops at the host that served; probe contacts no host after it either.
  for host in $tried; do
    wanted+=("$host")
    [[ $host == "$served" ]] && break
  done
  [[ $contacted == "${wanted[*]}" ]] ||
    fail "probe contacted '$contacted' for $ref; containerd tried '$tried'"
  [[ $served != none && $upstream == false ]] && want_rc=0
  [[ $PROBE_RC == "$want_rc" ]] || { cat "$PROBE_ERR"; fail "probe of $ref exited $PROBE_RC, expected $want_rc"; }
  note "probe agrees with containerd for $ref: served by $got, contacted ${contacted// / then } (exit $PROBE_RC, ${PROBE_SECS}s)"
}

# expect_step HOST STEP PATTERN: probe's STEP for HOST (last probe) has a detail matching PATTERN.
expect_step() {
  local steps
  steps=$(probe_steps "$1")
  grep -E "^$2 " <<<"$steps" | grep -qE -- "$3" ||
    fail "probe's $2 step for $1 does not match /$3/: $(printf '%s\n' "$steps" | paste -sd'|')"
}

# node_pki ROOT: the suite's PKI files at their node paths under ROOT, where `probe --root`
# reads them (ctr reads the same paths on this host, outside any root).
node_pki() {
  mkdir -p "$1$WORK/pki"
  cp "$WORK"/pki/*.pem "$WORK"/pki/*.crt "$WORK"/pki/*.key "$1$WORK/pki/"
}

# expect_no_secret SECRET FILES...: none of the files holds SECRET (nor its base64 forms).
expect_no_secret() {
  local secret=$1 f
  shift
  for f; do
    if grep -qF -- "$secret" "$f"; then
      fail "${f#"$DIR"/} holds a secret"
    fi
  done
}

# expect_expiry_metrics REF ROOT KIND=PEM...: `probe REF --output prometheus` has, for each KIND
# (server, ca, client), a certificate_expiry_seconds sample within 5 minutes of what openssl reads
# as PEM's notAfter, minus now.
expect_expiry_metrics() {
  local ref=$1 root=$2 pair kind pem want got
  shift 2
  "$MIRRORCTL" probe "$ref" -i "$LAST_INVENTORY" --root "$root" --output prometheus >"$DIR/probe.expiry.prom" 2>/dev/null || true
  for pair; do
    kind=${pair%%=*} pem=${pair#*=}
    want=$(($(date -d "$(openssl x509 -enddate -noout -in "$pem" | cut -d= -f2)" +%s) - $(date +%s)))
    got=$(awk -v k="kind=\"$kind\"" '/^mirrorctl_probe_certificate_expiry_seconds\{/ && index($0, k) { print $NF; exit }' "$DIR/probe.expiry.prom")
    [[ -n $got ]] || fail "no certificate_expiry_seconds sample of kind $kind: $(grep expiry "$DIR/probe.expiry.prom" | head -c 800)"
    got=${got%.*}
    ((got - want < 300 && want - got < 300)) ||
      fail "certificate_expiry_seconds of kind $kind is $got; openssl says $want for $pem"
  done
  note "probe's certificate expiry metrics match openssl's notAfter (${*%%=*})"
}

scenario_40() {
  local root=$DIR/root inv pki=$WORK/pki
  node_pki "$root"
  inv=$(inventory tls-http <<EOF
$(header)
  docker.io:
    mirrors:
      - url: https://127.0.0.1:6443
        ca: $pki/ca.pem
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6005
    fallback: false
  gcr.io:
    mirrors:
      - url: https://127.0.0.1:6443
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s40tls docker.io/library/e2e:1 "$root" 6443 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_probe_agrees s40tls docker.io/library/e2e:1 "$root" 127.0.0.1:6443
  expect_step 127.0.0.1:6443 tls "verified by ca $pki/ca.pem; server CN=127.0.0.1 \(notAfter 20"
  expect_step 127.0.0.1:6443 manifest "HTTP 200 .*digest $PUSHED_DIGEST"
  expect_pull_via s40http quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
  expect_probe_agrees s40http quay.io/e2e/tiny:1 "$root" 127.0.0.1:6005
  reset_logs
  expect_pull_fails s40noca gcr.io/e2e/tiny:1 "$root"
  expect_probe_agrees s40noca gcr.io/e2e/tiny:1 "$root" none
  expect_step 127.0.0.1:6443 tls "not verified"
  note "TLS with the inventory's CA, plain HTTP, and the same TLS mirror without the CA (not verified): probe and containerd agree"
}

scenario_41() {
  local root=$DIR/root inv f
  basic_auth_files "$root"
  mkdir -p "$root/etc/mirrorctl/wrong"
  printf 'e2euser\n' >"$root/etc/mirrorctl/wrong/username"
  printf 'not-the-e2e-password\n' >"$root/etc/mirrorctl/wrong/password"
  chmod 600 "$root"/etc/mirrorctl/wrong/*
  inv=$(inventory basic <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6011
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/basic/username, passwordFile: /etc/mirrorctl/basic/password}}
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6011
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/wrong/username, passwordFile: /etc/mirrorctl/wrong/password}}
    fallback: false
  gcr.io:
    mirrors:
      - url: $M:6011
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s41ok docker.io/library/e2e:1 "$root" 6011 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_probe_agrees s41ok docker.io/library/e2e:1 "$root" 127.0.0.1:6011
  local outputs=("$PROBE_JSON" "$PROBE_ERR")
  reset_logs
  expect_pull_fails s41wrong quay.io/e2e/tiny:1 "$root"
  expect_probe_agrees s41wrong quay.io/e2e/tiny:1 "$root" none
  expect_step 127.0.0.1:6011 manifest 'HTTP 401 .*Basic challenge, and no credentials'
  outputs+=("$PROBE_JSON" "$PROBE_ERR")
  reset_logs
  expect_pull_fails s41none gcr.io/e2e/tiny:1 "$root"
  expect_probe_agrees s41none gcr.io/e2e/tiny:1 "$root" none
  # Every output format, for the image and without one: no password, no base64(user:password).
  "$MIRRORCTL" probe docker.io/library/e2e:1 quay.io/e2e/tiny:1 -i "$LAST_INVENTORY" --root "$root" >"$DIR/probe.text" 2>&1 || true
  "$MIRRORCTL" probe -i "$LAST_INVENTORY" --root "$root" --output prometheus >"$DIR/probe.prom" 2>&1 || true
  "$MIRRORCTL" probe -i "$LAST_INVENTORY" --root "$root" --output prometheus --textfile "$DIR/probe.textfile.prom" >"$DIR/probe.textfile.out" 2>&1 || true
  grep -q '^mirrorctl_probe_endpoint_up{.*url="http://127.0.0.1:6011/v2".*} 1$' "$DIR/probe.textfile.prom" ||
    fail "the textfile has no endpoint_up 1 for :6011: $(head -c 600 "$DIR/probe.textfile.prom")"
  outputs+=("$DIR/probe.text" "$DIR/probe.prom" "$DIR/probe.textfile.prom" "$DIR/probe.textfile.out")
  for f in e2e-secret not-the-e2e-password "$(printf 'e2euser:e2e-secret' | base64)" "$(printf 'e2euser:not-the-e2e-password' | base64)"; do
    expect_no_secret "$f" "${outputs[@]}"
  done
  note "basic auth: right credentials serve, wrong ones and none get 401 (probe and containerd agree); no output of probe holds either password or its base64"
}

scenario_42() {
  local root=$DIR/root inv pki=$WORK/pki
  node_pki "$root"
  inv=$(inventory mtls <<EOF
$(header)
  ghcr.io:
    mirrors:
      - url: https://127.0.0.1:6444
        ca: $pki/ca.pem
        client: [{cert: $pki/client.crt, key: $pki/client.key}]
    fallback: false
  gcr.io:
    mirrors:
      - url: https://127.0.0.1:6444
        ca: $pki/ca.pem
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s42cert ghcr.io/e2e/tiny:1 "$root" 6444 '/v2/e2e/tiny/manifests/1?ns=ghcr.io'
  expect_probe_agrees s42cert ghcr.io/e2e/tiny:1 "$root" 127.0.0.1:6444
  expect_step 127.0.0.1:6444 tls 'client certificate requested and sent'
  grep -q '"kind": "client"' "$PROBE_JSON" || fail "probe's JSON lists no configured client certificate"
  expect_expiry_metrics ghcr.io/e2e/tiny:1 "$root" server="$pki/server.crt" ca="$pki/ca.pem" client="$pki/client.crt"
  reset_logs
  expect_pull_fails s42nocert gcr.io/e2e/tiny:1 "$root"
  expect_probe_agrees s42nocert gcr.io/e2e/tiny:1 "$root" none
  expect_step 127.0.0.1:6444 tls 'client certificate requested, none configured'
  expect_step 127.0.0.1:6444 manifest 'HTTP 400'
  note "mTLS: with the client certificate it serves; without, nginx answers 400 and both fail"
}

scenario_43() {
  local root=$DIR/root inv
  inv=$(inventory prefix <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6006/artifactory/api/docker/hub
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s43 docker.io/library/e2e:1 "$root" 6006 \
    '/artifactory/api/docker/hub/library/e2e/manifests/1?ns=docker.io'
  expect_probe_agrees s43 docker.io/library/e2e:1 "$root" 127.0.0.1:6006
  expect_step 127.0.0.1:6006 manifest 'HEAD /artifactory/api/docker/hub/library/e2e/manifests/1\?ns=docker.io'
  note "override_path: probe asked the prefix itself, as containerd did"
}

scenario_44() {
  local root=$DIR/root inv
  mkdir -p "$root/etc/mirrorctl/creds"
  printf 'platform-e2e\n' >"$root/etc/mirrorctl/creds/tenant"
  chmod 600 "$root/etc/mirrorctl/creds/tenant"
  inv=$(inventory headers <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6007
        headers: {X-Mirror-Tenant: {file: /etc/mirrorctl/creds/tenant}}
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6007
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s44 docker.io/library/e2e:1 "$root" 6007 '/v2/library/e2e/manifests/1?ns=docker.io'
  expect_probe_agrees s44 docker.io/library/e2e:1 "$root" 127.0.0.1:6007
  expect_no_secret platform-e2e "$PROBE_JSON" "$PROBE_ERR"
  reset_logs
  expect_pull_fails s44no quay.io/e2e/tiny:1 "$root"
  expect_probe_agrees s44no quay.io/e2e/tiny:1 "$root" none
  expect_step 127.0.0.1:6007 manifest 'HTTP 403'
  note "a header from a file opens the guarded mirror (its value in no probe output); without it 403"
}

# A second nginx for scenarios 45 and 46, in front of the same docker-registry: a mirror that
# lacks every image (:6041), and a Bearer token-auth registry (:6042) whose realm (:6043) is
# the python script below. Started and stopped by PID inside the scenario.
probe_nginx() {
  local dir=$DIR/nginx
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    log_format e2e '\$request_method \$request_uri \$status auth=\$http_authorization';
    proxy_http_version 1.1;
    proxy_set_header Host \$http_host;
    server {
        listen 127.0.0.1:6041;
        access_log $WORK/logs/6041.log e2e;
        location ~ /manifests/ { return 404; }
        location / { proxy_pass http://127.0.0.1:5000; }
    }
    server {
        listen 127.0.0.1:6042;
        access_log $WORK/logs/6042.log e2e;
        location / {
            if (\$http_authorization != "Bearer e2e-bearer-46") {
                add_header WWW-Authenticate 'Bearer realm="http://127.0.0.1:6043/token",service="e2e-probe"' always;
                return 401;
            }
            proxy_pass http://127.0.0.1:5000;
        }
    }
}
EOF
  cat >"$DIR/realm.py" <<'EOF'
"""A token realm: GET /token?service=e2e-probe&scope=repository:library/e2e:pull gets a token;
any other scope or service, 401; POST, 404 (no OAuth). Logs each request on stdout."""
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

class Realm(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        good = url.path == "/token" and q.get("service") == ["e2e-probe"] and q.get("scope") == ["repository:library/e2e:pull"]
        print("GET", self.path, 200 if good else 401, flush=True)
        body = json.dumps({"token": "e2e-bearer-46"}).encode() if good else b"{}"
        self.send_response(200 if good else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        print("POST", self.path, 404, flush=True)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Realm).serve_forever()
EOF
  nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out" 2>&1 &
  PROBE_NGINX_PID=$!
  /usr/bin/python3 "$DIR/realm.py" 6043 >"$WORK/logs/6043.log" 2>"$DIR/realm.err" &
  PROBE_REALM_PID=$!
  trap 'stop_pid nginx "$PROBE_NGINX_PID"; stop_pid realm "$PROBE_REALM_PID"' EXIT
  wait_for "probe nginx" "$PROBE_NGINX_PID" curl -fsS http://127.0.0.1:6041/v2/
  wait_for "token realm" "$PROBE_REALM_PID" curl -sS -o /dev/null http://127.0.0.1:6043/token
  : >"$WORK/logs/6043.log"
}

scenario_45() {
  local root=$DIR/root inv
  probe_nginx
  inv=$(inventory dead-lacking <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6003
      - url: $M:6041
      - url: $M:6002
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6041
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s45 docker.io/library/e2e:1 "$root" 6002 '/v2/library/e2e/manifests/1?ns=docker.io'
  [[ -n $(requests 6041 '/v2/library/e2e/manifests/1?ns=docker.io' | awk '$3 == 404') ]] ||
    fail "the mirror lacking the image (:6041) was not asked before :6002"
  expect_probe_agrees s45 docker.io/library/e2e:1 "$root" 127.0.0.1:6002
  expect_step 127.0.0.1:6003 connect 'refused'
  expect_step 127.0.0.1:6041 base 'HTTP 200'
  expect_step 127.0.0.1:6041 manifest 'HTTP 404'
  # quay.io falls back to the upstream, which is unreachable here: the pull fails there.
  reset_logs
  expect_pull_fails s45up quay.io/e2e/tiny:1 "$root"
  expect_probe_agrees s45up quay.io/e2e/tiny:1 "$root" none
  note "a dead port (refused) and a mirror lacking the image (404) are passed over, by containerd and probe alike"
}

scenario_46() {
  local root=$DIR/root inv
  probe_nginx
  inv=$(inventory bearer <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:6042
    fallback: false
  quay.io:
    mirrors:
      - url: $M:6042
    fallback: false
EOF
  )
  apply "$inv" "$root"
  expect_pull_via s46 docker.io/library/e2e:1 "$root" 6042 '/v2/library/e2e/manifests/1?ns=docker.io'
  grep -q '^GET /token?scope=repository%3Alibrary%2Fe2e%3Apull&service=e2e-probe 200' "$WORK/logs/6043.log" ||
    fail "containerd did not fetch its token from the realm: $(cat "$WORK/logs/6043.log")"
  : >"$WORK/logs/6043.log"
  expect_probe_agrees s46 docker.io/library/e2e:1 "$root" 127.0.0.1:6042
  expect_step 127.0.0.1:6042 token 'token from http://127.0.0.1:6043/token \(anonymous GET\)'
  expect_step 127.0.0.1:6042 manifest 'HTTP 200 .*with a Bearer token from the realm'
  grep -q '^GET /token?scope=repository%3Alibrary%2Fe2e%3Apull&service=e2e-probe 200' "$WORK/logs/6043.log" ||
    fail "probe's token request differs from containerd's: $(cat "$WORK/logs/6043.log")"
  expect_no_secret e2e-bearer-46 "$PROBE_JSON" "$PROBE_ERR"
  # The realm refuses a token for e2e/tiny: both fail at the token step.
  reset_logs
  expect_pull_fails s46no quay.io/e2e/tiny:1 "$root"
  expect_probe_agrees s46no quay.io/e2e/tiny:1 "$root" none
  expect_step 127.0.0.1:6042 token 'realm answered HTTP 401'
  note "Bearer: token from the realm with the same query containerd sent; a refused scope fails both; the token in no output"
}

scenario_47() {
  local root=$DIR/root inv secs
  inv=$(inventory blackhole <<EOF
$(header)
  docker.io:
    mirrors:
      - url: $M:$BLACKHOLE_PORT
      - url: https://127.0.0.1:$BLACKHOLE_PORT
        skipVerify: true
      - url: $M:6002
    fallback: false
EOF
  )
  apply "$inv" "$root"
  probe_run docker.io/library/e2e:1 "$root" --timeout 1
  secs=$PROBE_SECS
  [[ $(probe_verdict) == "127.0.0.1:6002|127.0.0.1:$BLACKHOLE_PORT 127.0.0.1:$BLACKHOLE_PORT 127.0.0.1:6002|false" ]] ||
    fail "probe past two blackholed endpoints: $(probe_verdict)"
  # Two endpoints whose connect waits the 1 s limit each, then :6002: well within 4 s.
  awk -v s="$secs" 'BEGIN { exit !(s >= 2 && s < 4) }' || fail "probe took ${secs}s with --timeout 1 past two blackholes (expected 2-4 s)"
  expect_step "127.0.0.1:$BLACKHOLE_PORT" connect 'timed out after 1s'
  "$MIRRORCTL" probe -i "$LAST_INVENTORY" --root "$root" --timeout 1 --output json >"$DIR/all.json" 2>"$DIR/all.err" && fail "probe without an image exited 0 with blackholed mirrors"
  note "blackholed endpoints: each gives up after --timeout 1 (total ${secs}s), the third mirror serves"
}

scenario_48() {
  local root=$DIR/root inv tls
  inv=$(https_first_inventory)
  apply "$inv" "$root"
  tls=$(endpoint_field docker.io/library/e2e:1 127.0.0.1:6443 httpsFirst)
  if [[ $tls == true ]]; then
    expect_pull_via s48tls docker.io/library/e2e:1 "$root" 6443 '/v2/library/e2e/manifests/1?ns=docker.io'
    expect_probe_agrees s48tls docker.io/library/e2e:1 "$root" 127.0.0.1:6443
    expect_step 127.0.0.1:6443 tls 'skip_verify: not checked; it would not verify'
    reset_logs
    expect_pull_via s48plain quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
    expect_probe_agrees s48plain quay.io/e2e/tiny:1 "$root" 127.0.0.1:6005
    expect_step 127.0.0.1:6005 fallback 'answered in plain HTTP.*plain HTTP, as containerd falls back'
    note "HTTPS first ($CONTAINERD_VERSION): the TLS port serves behind http://; the plain port after the fallback, for probe as for containerd"
  else
    expect_pull_fails s48tls docker.io/library/e2e:1 "$root"
    expect_probe_agrees s48tls docker.io/library/e2e:1 "$root" none
    expect_step 127.0.0.1:6443 manifest 'HTTP 400'
    reset_logs
    expect_pull_via s48plain quay.io/e2e/tiny:1 "$root" 6005 '/v2/e2e/tiny/manifests/1?ns=quay.io'
    expect_probe_agrees s48plain quay.io/e2e/tiny:1 "$root" 127.0.0.1:6005
    note "plain HTTP ($CONTAINERD_VERSION): the TLS port answers 400 to probe and containerd alike; the plain port serves"
  fi
}

# Read by run.sh after scenarios.sh: number|name|function.
SCENARIOS+=(
  "40|probe: TLS with ca, plain http, TLS without the CA|scenario_40"
  "41|probe: basic auth with right, wrong and no credentials; no secret in any output|scenario_41"
  "42|probe: mTLS with and without the client certificate|scenario_42"
  "43|probe: override_path for a path prefix|scenario_43"
  "44|probe: a header from a file, and without it|scenario_44"
  "45|probe: a dead port and a mirror lacking the image are passed over|scenario_45"
  "46|probe: a Bearer token registry and its realm|scenario_46"
  "47|probe: blackholed endpoints end within --timeout|scenario_47"
  "48|probe: http:// mirrors with skipVerify, HTTPS first where containerd does it|scenario_48"
)
