#!/bin/sh
# Rebuilds fuzz/corpus/ from the repository's fixtures (run from anywhere; same fixtures, same
# files). Hand-written seeds (credential requests, durations, patterns) live in seeds/ and
# are copied too; files AFL++ found and that were kept as regressions live in regressions/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures"
corpus="$here/corpus"
rm -rf "$corpus"
for target in inventory containerd_config image_pattern credential_request duration; do
    mkdir -p "$corpus/$target"
done
n=0
for f in $(cd "$fixtures" && find render invalid lint resolve -name '*.yaml' | sort); do
    n=$((n + 1))
    cp "$fixtures/$f" "$corpus/inventory/$(printf '%03d' $n)-$(basename "$f")"
done
n=0
for f in $(cd "$fixtures" && find containerd-config import/containerd-config -name '*.toml' | sort); do
    n=$((n + 1))
    cp "$fixtures/$f" "$corpus/containerd_config/$(printf '%03d' $n)-$(basename "$f")"
done
for target in image_pattern credential_request duration; do
    cp "$here/seeds/$target"/* "$corpus/$target/"
done
