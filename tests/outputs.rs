//! Outputs that must tell the truth (issue 12, items 13–17): redaction of TOML mirrorctl did not
//! write, exit statuses through closed pipes, a JSON report even on failure, a no-op that writes
//! nothing, and OS constants taken from the platform instead of one architecture's numbers.

use std::fs;
use std::path::Path;

use crate::support::Node;

const ONE_REGISTRY: &str = "\
version: 1
registries:
  docker.io:
    mirrors: [{url: \"https://mirror.example:5000\"}]
";

/// Every `.rs` file under `dir`, sorted, so a failure names files in a stable order.
fn rust_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read src")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `O_NOFOLLOW` is 0o400000 on x86 only (arm64 and ppc64le: 0o100000, where 0o400000 is
/// `O_LARGEFILE` and guards nothing), and errno values differ between architectures too; the
/// number must come from `libc` or `std`, never be written in the source.
#[test]
fn issue_12_item_17_os_flags_and_errnos_come_from_libc_and_std() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_sources(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let raw_errno = line.contains("raw_os_error() == Some(")
                && line
                    .split("raw_os_error() == Some(")
                    .nth(1)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
            let raw_flags = line.contains("custom_flags(") && !line.contains("custom_flags(libc::");
            if raw_errno || raw_flags || line.contains("0o400000") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "hard-coded OS numbers:\n{}",
        found.join("\n")
    );
}

/// The ENOTDIR branch, through the binary: a file where a managed directory belongs is named
/// in a clear error, and left as it was.
#[test]
fn issue_12_item_17_a_file_in_place_of_a_directory_is_named() {
    let node = Node::new();
    node.inventory(ONE_REGISTRY);
    node.write("/etc/containerd/certs.d/docker.io", "not a directory\n");
    node.run("check", &[])
        .status(1)
        .stderr_has("certs.d/docker.io/hosts.toml` is not a regular file");
    node.run("apply", &[]).status(1);
    assert_eq!(
        node.read("/etc/containerd/certs.d/docker.io"),
        "not a directory\n"
    );
}
