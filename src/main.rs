//! The `mirrorctl` binary: everything happens in the library; this only forwards.

fn main() -> std::process::ExitCode {
    mirrorctl::cli::main()
}
