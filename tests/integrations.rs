//! The Ansible and Puppet integrations, driven by their real tools against the built binary.
//!
//! Each test runs one script of `tests/integrations/` with the path of the binary cargo built.
//! A script exits 77 when its tools are missing and `CI` is not `true`; under `CI=true` it fails
//! instead, naming what is missing.

use std::path::Path;
use std::process::Command;

/// Exit status of a script whose tools are not installed (automake's convention for "skipped").
const SKIPPED: i32 = 77;

fn run_script(name: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integrations")
        .join(name);
    let output = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mirrorctl"))
        .output()
        .unwrap_or_else(|error| panic!("failed to run `{}`: {error}", script.display()));
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if output.status.code() == Some(SKIPPED) {
        eprintln!("SKIPPED: {name} (its tools are not installed; CI=true makes this a failure)");
        return;
    }
    assert!(
        output.status.success(),
        "`{}` failed with {}",
        script.display(),
        output.status
    );
}

#[test]
fn ansible_collection_role_and_command_recipe() {
    run_script("ansible.sh");
}

#[test]
fn puppet_module() {
    run_script("puppet.sh");
}
