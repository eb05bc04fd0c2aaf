//! AFL++ target: `mirrorctl::fuzz_targets::containerd_config` (see fuzz/README.md).

fn main() {
    afl::fuzz!(|data: &[u8]| mirrorctl::fuzz_targets::containerd_config(data));
}
