#!/usr/bin/env python3
"""Adversarial inventories at growing sizes, and the time and peak memory mirrorctl needs.

    benches/adversarial.py gen CASE SCALE OUT.yaml     # write one inventory
    benches/adversarial.py run [MIRRORCTL]             # every case and size: a Markdown table

Each case is a small file built to make work grow faster than the file (issue 18):

- mirrors-x-patterns: SCALE mirrors and SCALE aliased `matchImages` patterns (the cross rules
  and lint compare every pattern with every mirror);
- shared-mirror-list: SCALE registries aliasing one 100-mirror list, plus aliased patterns;
- grants-x-registries: 10*SCALE aliased plugin grants and SCALE registries (one warning per
  grant and registry);
- alias-bytes: a string of SCALE KiB aliased through four nested 10-element lists under an
  `x-` key (a few KiB expanding to SCALE*10,000 KiB);
- long-name: a registry name of SCALE KiB with 5,000 invalid mirrors (messages quoting it);
- long-glob: one pattern of SCALE*1,000 `*a` against a mirror whose host is one label of
  SCALE*2,000 characters (the glob matcher, through lint's pattern rules).

`run` times `lint`, `check`, `apply --root` and a second (no-op) `apply --root` as whole
processes with `/usr/bin/time -f '%e %M'` (seconds, peak RSS in KiB), each under a timeout
(`BENCH_TIMEOUT`, 20 s) and an 8 GiB address-space limit, for every case (or those
named in `BENCH_CASES`), and prints one row per case, size
and command. Same arguments, same files. The roots live in `BENCH_DIR` (default `/dev/shm`):
this benchmark measures what the input costs to compute, not the fsync of every file written,
which `benches/run.sh` measures on a disk.
"""

import os
import resource
import subprocess
import sys
import tempfile

PROVIDER = """credentialProviders:
  - name: corp-mirror
    matchImages:
{patterns}
    defaultCacheDuration: 12h
"""

HEADER = """version: 1
target: {containerd: "2.1", kubelet: "1.34"}
"""


def mirrors_x_patterns(scale):
    out = [HEADER, "registries:\n"]
    for i in range(scale):
        out.append(f"  reg{i}.corp.example:\n    mirrors:\n      - url: https://m{i}.mirror.example\n")
    out.append("x-pattern: &p '*.mirror.example'\n")
    out.append(PROVIDER.format(patterns="\n".join(["      - *p"] * scale)))
    return "".join(out)


def shared_mirror_list(scale):
    out = [HEADER, "x-mirrors: &mirrors\n"]
    for i in range(100):
        out.append(f"  - url: https://m{i}.mirror.example\n")
    out.append("registries:\n")
    for i in range(scale):
        out.append(f"  reg{i}.corp.example: {{mirrors: *mirrors}}\n")
    out.append("x-pattern: &p '*.mirror.example'\n")
    out.append(PROVIDER.format(patterns="\n".join(["      - *p"] * (scale * 10))))
    return "".join(out)


def grants_x_registries(scale):
    out = [HEADER, "registries:\n"]
    for i in range(scale):
        out.append(f"  reg{i}.corp.example:\n    mirrors: [{{url: https://m{i}.mirror.example}}]\n")
    out.append(
        "x-grant: &g {registry: '*.corp.example', namespace: team-a,"
        " usernameFile: /etc/mirrorctl/creds/user, passwordFile: /etc/mirrorctl/creds/pass}\n"
    )
    out.append("credentialPlugin:\n  audience: mirrors.corp.example\n  grants:\n")
    out.append("    - *g\n" * (scale * 10))
    return "".join(out)


def alias_bytes(scale):
    text = "a" * (scale * 1024)
    out = [HEADER, f"x-s: &s0 '{text}'\n"]
    for level in range(1, 5):
        items = ", ".join([f"*s{level - 1}"] * 10)
        out.append(f"x-l{level}: &s{level} [{items}]\n")
    out.append("registries:\n  docker.io:\n    mirrors: [{url: https://m.mirror.example}]\n")
    return "".join(out)


def long_name(scale):
    name = "r" * (scale * 1024)
    # An explicit key (`? …`): YAML allows an implicit one only up to 1,024 characters.
    out = [HEADER, f"registries:\n  ? {name}.example\n  : mirrors:\n"]
    out.append("      - url: 'ftp://not a url'\n" * 5000)
    return "".join(out)


def long_glob(scale):
    label = "a" * (scale * 2000)
    pattern = "*a" * (scale * 1000)
    out = [HEADER, f"registries:\n  docker.io:\n    mirrors: [{{url: 'https://{label}'}}]\n"]
    out.append(PROVIDER.format(patterns=f"      - '{pattern}'"))
    return "".join(out)


CASES = {
    "mirrors-x-patterns": (mirrors_x_patterns, [100, 1000, 10000, 20000]),
    "shared-mirror-list": (shared_mirror_list, [10, 100, 800, 1000, 3000, 10000]),
    "grants-x-registries": (grants_x_registries, [20, 200, 2000, 20000]),
    "alias-bytes": (alias_bytes, [1, 10, 100, 1000]),
    "long-name": (long_name, [1, 10, 100, 200]),
    "long-glob": (long_glob, [1, 10, 50, 100]),
}


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))


def measure(argv, timeout=float(os.environ.get("BENCH_TIMEOUT", "20"))):
    """(seconds, peak RSS MiB, exit status, stdout+stderr bytes); seconds None on a timeout."""
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", "/dev/stderr"] + argv
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=timeout, preexec_fn=limit_memory
        )
    except subprocess.TimeoutExpired:
        return None, None, None, None
    last = done.stderr.rstrip().rsplit(b"\n", 1)[-1].split()
    seconds, kib = float(last[0]), int(last[1])
    output = len(done.stdout) + len(done.stderr)
    return seconds, kib / 1024, done.returncode, output


def run(binary):
    print("| case | scale | file | command | seconds | peak RSS MiB | exit | output bytes |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    base = os.environ.get("BENCH_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)
    with tempfile.TemporaryDirectory(prefix="mirrorctl-adversarial-", dir=base) as work:
        only = os.environ.get("BENCH_CASES", "").split()
        for name, (gen, scales) in CASES.items():
            if only and name not in only:
                continue
            for scale in scales:
                path = os.path.join(work, f"{name}-{scale}.yaml")
                with open(path, "w") as f:
                    f.write(gen(scale))
                size = os.path.getsize(path)
                root = os.path.join(work, f"root-{name}-{scale}")
                creds = os.path.join(root, "etc/mirrorctl/creds")
                os.makedirs(creds, exist_ok=True)
                for secret in ("user", "pass"):
                    with open(os.path.join(creds, secret), "w") as f:
                        f.write("bench\n")
                for label, command in (
                    ("lint", ["lint", "-i", path]),
                    ("check", ["check", "-i", path, "--root", root]),
                    ("apply", ["apply", "-i", path, "--root", root]),
                    ("apply again", ["apply", "-i", path, "--root", root]),
                ):
                    seconds, mib, status, output = measure([binary] + command)
                    if seconds is None:
                        limit = os.environ.get("BENCH_TIMEOUT", "20")
                        cells = [f"> {limit} (killed)", "-", "-", "-"]
                    else:
                        cells = [f"{seconds:.2f}", f"{mib:.0f}", str(status), f"{output:,}"]
                    print(
                        f"| {name} | {scale} | {size:,} | {label} | " + " | ".join(cells) + " |",
                        flush=True,
                    )


def main(argv):
    if len(argv) == 5 and argv[1] == "gen":
        gen, _ = CASES[argv[2]]
        with open(argv[4], "w") as f:
            f.write(gen(int(argv[3])))
    elif len(argv) in (2, 3) and argv[1] == "run":
        run(argv[2] if len(argv) == 3 else "target/release/mirrorctl")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
