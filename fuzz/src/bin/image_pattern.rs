//! AFL++ target: `mirrorctl::fuzz_targets::image_pattern` (see fuzz/README.md).

fn main() {
    afl::fuzz!(|data: &[u8]| mirrorctl::fuzz_targets::image_pattern(data));
}
