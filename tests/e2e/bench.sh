# shellcheck shell=bash
# The bench of the end-to-end suite: throwaway PKI, the test image, docker-registry, the nginx
# mirrors, containerd; started once, stopped by PID. Sourced by run.sh inside the suite's private
# network, mount and PID namespaces; expects WORK (temp dir) and HERE (this directory).

REGISTRY=http://127.0.0.1:5000
SOCK=
PUSHED_DIGEST=
CONFIG_DIGEST=
# name:pid of every server this bench started, in start order.
STARTED=()

log() { printf '%s\n' "$*" >&2; }

die() {
  log "bench: $*"
  exit 1
}

# Replaces @WORK@ in a template.
fill() {
  sed -e "s|@WORK@|$WORK|g" "$1" >"$2"
}

# containerd_config DIR OUT: the real `containerd config default` of the containerd under test
# with the sandbox tweaks of containerd.vN.tweaks, N the config version that default writes
# (2 for 1.x, 3 for 2.x), @DIR@ = DIR (which receives root, state and sockets), written to OUT.
# Every tweak must replace exactly one existing line: a default that moved or vanished fails the
# bench instead of being silently added or ignored. config_path stays as the default has it ("").
containerd_config() {
  local dir=$1 out=$2 version tweaks
  containerd config default >"$out.default" || die "containerd config default failed"
  version=$(awk '/^version = / { print $3; exit }' "$out.default")
  tweaks=$HERE/containerd.v$version.tweaks
  [[ -f $tweaks ]] || die "containerd config default writes config version '$version'; there is no ${tweaks##*/}"
  awk -v dir="$dir" -v tweaks="${tweaks##*/}" '
    # The value with every @DIR@ replaced, by index: dir is a path, not a regex replacement.
    function expand(v,   i, r) {
      r = ""
      while ((i = index(v, "@DIR@")) > 0) { r = r substr(v, 1, i - 1) dir; v = substr(v, i + 5) }
      return r v
    }
    FNR == NR {
      if ($0 ~ /^[ \t]*(#|$)/) next
      line = $0; table = ""
      if (substr(line, 1, 1) == "[") {
        i = index(line, "] "); table = substr(line, 2, i - 2); line = substr(line, i + 2)
      }
      i = index(line, " = ")
      n++; T[n] = table; K[n] = substr(line, 1, i - 1); V[n] = expand(substr(line, i + 3)); hits[n] = 0
      next
    }
    /^[ \t]*\[.*\][ \t]*$/ { current = $0; sub(/^[ \t]*\[/, "", current); sub(/\][ \t]*$/, "", current) }
    {
      if (match($0, /^[ \t]*[^ \t=]+ = /)) {
        indent = $0; sub(/[^ \t].*$/, "", indent)
        key = substr($0, length(indent) + 1); sub(/ = .*$/, "", key)
        for (t = 1; t <= n; t++) {
          if (T[t] == current && K[t] == key) { $0 = indent key " = " V[t]; hits[t]++ }
        }
      }
      print
    }
    END {
      for (t = 1; t <= n; t++) {
        if (hits[t] != 1) {
          printf "%s: [%s] %s matched %d lines of `containerd config default`, expected 1\n", tweaks, T[t], K[t], hits[t] > "/dev/stderr"
          bad = 1
        }
      }
      exit bad
    }
  ' "$tweaks" "$out.default" >"$out" || die "cannot apply ${tweaks##*/}"
  rm -f "$out.default"
}

# wait_for DESCRIPTION PID COMMAND...: polls COMMAND for up to 10 s while PID is alive.
wait_for() {
  local what=$1 pid=$2
  shift 2
  local i
  for i in $(seq 100); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$what exited while starting"
    sleep 0.1
  done
  die "$what not ready after 10 s"
}

bench_pki() {
  local pki=$WORK/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=mirrorctl-e2e-ca -keyout ca.key -out ca.pem
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj /CN=127.0.0.1 -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
      -extfile server.ext -out server.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj /CN=mirrorctl-e2e-client -keyout client.key -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 \
      -extfile client.ext -out client.crt
    cat client.crt client.key >client.pem
  ) >"$WORK/pki.log" 2>&1 || {
    cat "$WORK/pki.log" >&2
    die "openssl failed"
  }
}

# Go's name for this machine's architecture, as an image config must state it.
go_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l) echo arm ;;
    i?86) echo 386 ;;
    *) uname -m ;;
  esac
}

# Builds the test image (one layer, a config, an OCI manifest) under $WORK/image.
bench_image() {
  local img=$WORK/image
  mkdir -p "$img/rootfs"
  printf 'pulled through a mirror that mirrorctl configured\n' >"$img/rootfs/hello.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$img/rootfs" -cf "$img/layer.tar" hello.txt
  gzip -n -c "$img/layer.tar" >"$img/layer.tar.gz"
  local diff_id layer_digest layer_size config_size
  diff_id=sha256:$(sha256sum <"$img/layer.tar" | cut -d' ' -f1)
  layer_digest=sha256:$(sha256sum <"$img/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$img/layer.tar.gz")
  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$(go_arch)" "$diff_id" >"$img/config.json"
  CONFIG_DIGEST=sha256:$(sha256sum <"$img/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$img/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
    "$CONFIG_DIGEST" "$config_size" "$layer_digest" "$layer_size" >"$img/manifest.json"
  PUSHED_DIGEST=sha256:$(sha256sum <"$img/manifest.json" | cut -d' ' -f1)
  printf '%s\n' "$layer_digest" >"$img/layer.digest"
}

# push_blob REPO FILE: monolithic upload (POST, then PUT ?digest=).
push_blob() {
  local repo=$1 file=$2 digest location
  digest=sha256:$(sha256sum <"$file" | cut -d' ' -f1)
  location=$(curl -fsS -o /dev/null -D - -X POST "$REGISTRY/v2/$repo/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [[ -n $location ]] || die "no upload location for $repo"
  [[ $location == /* ]] && location=$REGISTRY$location
  if [[ $location == *\?* ]]; then location+="&digest=$digest"; else location+="?digest=$digest"; fi
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$location" || die "blob upload of $file to $repo failed"
}

# push_image REPO TAG: pushes the test image and checks the digest the registry reports.
push_image() {
  local repo=$1 tag=$2 img=$WORK/image answer
  push_blob "$repo" "$img/layer.tar.gz"
  push_blob "$repo" "$img/config.json"
  answer=$(curl -fsS -o /dev/null -D - -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$img/manifest.json" "$REGISTRY/v2/$repo/manifests/$tag" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
  [[ $answer == "$PUSHED_DIGEST" ]] || die "registry stored $repo:$tag as '$answer', expected $PUSHED_DIGEST"
}

start_server() {
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>&1 &
  STARTED+=("$name:$!")
  LAST_PID=$!
}

bench_registry() {
  mkdir -p "$WORK/registry/data"
  fill "$HERE/registry.yml.in" "$WORK/registry/config.yml"
  start_server docker-registry docker-registry serve "$WORK/registry/config.yml"
  wait_for docker-registry "$LAST_PID" curl -fsS "$REGISTRY/v2/"
  push_image library/e2e 1
  push_image e2e/tiny 1
}

bench_nginx() {
  local dir=$WORK/nginx
  mkdir -p "$dir" "$WORK/logs"
  printf 'e2euser:%s\n' "$(openssl passwd -apr1 e2e-secret)" >"$dir/htpasswd"
  fill "$HERE/nginx.conf.in" "$dir/nginx.conf"
  # -e: the error log of the startup phase, before the config's own error_log applies.
  start_server nginx nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  wait_for nginx "$LAST_PID" curl -fsS "http://127.0.0.1:5100/v2/"
}

# The blackholed mirror of the dial_timeout scenario: connections to :6018 never complete.
BLACKHOLE_PORT=6018
bench_blackhole() {
  start_server blackhole /usr/bin/python3 "$HERE/blackhole.py" "$BLACKHOLE_PORT"
  wait_for blackhole "$LAST_PID" grep -qx ready "$WORK/blackhole.out"
}

bench_containerd() {
  local dir=$WORK/containerd
  mkdir -p "$dir/cni/bin" "$dir/cni/conf"
  containerd_config "$dir" "$dir/config.toml"
  SOCK=$dir/containerd.sock
  start_server containerd containerd --config "$dir/config.toml" --log-level debug
  wait_for containerd "$LAST_PID" ctr --address "$SOCK" version
}

bench_start() {
  bench_pki
  bench_image
  bench_registry
  bench_nginx
  bench_blackhole
  bench_containerd
}

# stop_pid NAME PID: TERM, then KILL after 5 s; reaps PID (a child of this shell).
stop_pid() {
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "bench: $name ($pid) ignored TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops every server this bench started, last started first.
bench_stop() {
  local i entry
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    entry=${STARTED[i]}
    stop_pid "${entry%%:*}" "${entry##*:}"
  done
  STARTED=()
}
