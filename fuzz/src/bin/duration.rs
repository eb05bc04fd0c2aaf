//! AFL++ target: `mirrorctl::fuzz_targets::duration` (see fuzz/README.md).

fn main() {
    afl::fuzz!(|data: &[u8]| mirrorctl::fuzz_targets::duration(data));
}
