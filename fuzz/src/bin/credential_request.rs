//! AFL++ target: `mirrorctl::fuzz_targets::credential_request` (see fuzz/README.md).

fn main() {
    afl::fuzz!(|data: &[u8]| mirrorctl::fuzz_targets::credential_request(data));
}
