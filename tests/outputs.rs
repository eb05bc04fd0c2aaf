//! Outputs that must tell the truth (issue 12, items 13–17): redaction of TOML mirrorctl did not
//! write, exit statuses through closed pipes, a JSON report even on failure, a no-op that writes
//! nothing, and OS constants taken from the platform instead of one architecture's numbers.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::crash::{FaultNode, read_only};
use crate::support::{BIN, Node, Run};

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

/// An inventory whose diff is far larger than a pipe's buffer (64 KiB on Linux), so mirrorctl
/// is still writing when `head` exits.
fn fleet(registries: usize) -> String {
    let mut inventory = String::from("version: 1\nregistries:\n");
    for i in 0..registries {
        inventory.push_str(&format!(
            "  r{i}.example:\n    mirrors: [{{url: \"https://m{i}.example\"}}]\n"
        ));
    }
    inventory
}

/// Runs `bash -o pipefail -c SCRIPT` with `$0` the binary, `$1` the inventory, `$2` the root,
/// the way a shell script or a CI step runs mirrorctl into a pipe.
fn pipeline(node: &Node, script: &str) -> Run {
    let output = Command::new("bash")
        .args(["-o", "pipefail", "-c", script])
        .arg(BIN)
        .arg(node.inventory_path())
        .arg(node.root())
        .output()
        .expect("run bash");
    Run::new(
        vec![script.to_string()],
        output.status.code().unwrap_or(-1),
        &output.stdout,
        &output.stderr,
    )
}

#[test]
fn issue_12_item_14_diff_into_head_exits_2() {
    let node = Node::new();
    node.inventory(&fleet(600));
    let whole = node.run("diff", &[]).status(2).stdout.len();
    assert!(
        whole > 1 << 17,
        "the diff ({whole} bytes) must overflow the pipe"
    );
    for script in [
        r#""$0" diff -i "$1" --root "$2" | head -1"#,
        r#""$0" check -i "$1" --root "$2" --output json | head -1"#,
        r#""$0" diff -i "$1" --root "$2" 2>&1 | head -1"#,
    ] {
        let run = pipeline(&node, script);
        run.status(2).nowhere("error").nowhere("panicked");
        assert_eq!(run.stdout.lines().count(), 1, "{script}: {}", run.stdout);
    }
    assert!(node.files().is_empty(), "diff wrote {:?}", node.files());

    // A small diff fits the pipe: the same status, as before.
    let small = Node::new();
    small.inventory(&fleet(1));
    pipeline(&small, r#""$0" diff -i "$1" --root "$2" | head -1"#).status(2);
}

#[test]
fn issue_12_item_14_apply_diff_into_head_writes_and_exits_2() {
    let node = Node::new();
    node.inventory(&fleet(600));
    pipeline(&node, r#""$0" apply --diff -i "$1" --root "$2" | head -1"#)
        .status(2)
        .stdout_has("diff --git")
        .nowhere("error");
    assert!(node.exists("/etc/containerd/certs.d/r599.example/hosts.toml"));
    node.run("check", &[]).status(0);
    // Nothing left to write: the same pipe now says so.
    pipeline(&node, r#""$0" apply --diff -i "$1" --root "$2" | head -1"#).status(0);
}

/// What a write of any kind changes about a file or directory.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    bytes: Vec<u8>,
    mode: u32,
    inode: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// Everything under `dir`, directories too (their mtime moves when an entry is created,
/// renamed or removed), by path below `dir`.
fn disk_state(dir: &Path) -> BTreeMap<String, Entry> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for entry in fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).expect("metadata");
            let bytes = if meta.is_file() {
                fs::read(&path).expect("read")
            } else {
                Vec::new()
            };
            let name = path.strip_prefix(base).expect("under base").display();
            out.insert(
                format!("/{name}"),
                Entry {
                    bytes,
                    mode: meta.mode(),
                    inode: meta.ino(),
                    mtime: (meta.mtime(), meta.mtime_nsec()),
                    ctime: (meta.ctime(), meta.ctime_nsec()),
                },
            );
            if meta.is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn issue_12_item_16_a_no_op_apply_writes_nothing() {
    let node = Node::new();
    node.inventory(crate::cli::INVENTORY);
    node.run("apply", &[]).status(2);
    let before = disk_state(&node.root());
    assert!(before.contains_key("/var/lib/mirrorctl/lock"), "{before:?}");
    assert!(before.contains_key("/var/lib/mirrorctl/state.json"));
    // Past the filesystem's timestamp granularity, so a rewrite would show.
    std::thread::sleep(std::time::Duration::from_millis(50));
    node.run("apply", &[]).status(0);
    node.run("apply", &["--output", "json"]).status(0);
    let after = disk_state(&node.root());
    for (path, was) in &before {
        assert_eq!(after.get(path), Some(was), "a no-op apply touched {path}");
    }
    assert_eq!(before.len(), after.len(), "a no-op apply created files");
}

#[test]
fn issue_12_item_16_a_waiting_run_names_the_holders_pid() {
    let node = Node::new();
    node.inventory(ONE_REGISTRY);
    node.run("apply", &[]).status(2);
    let holder = fs::File::open(node.path("/var/lib/mirrorctl/lock")).expect("open the lock");
    holder.lock().expect("take the lock");
    node.run("apply", &["--lock-timeout", "0.2"])
        .status(1)
        .stderr_has(&format!(
            "another mirrorctl run (pid {}) holds the lock",
            std::process::id()
        ));
    drop(holder);
    node.run("apply", &["--lock-timeout", "0.2"]).status(0);
}

const DOCKER_HOSTS: &str = "/etc/containerd/certs.d/docker.io/hosts.toml";

/// A hosts.toml mirrorctl did not write, holding a secret in each form TOML allows.
const FOREIGN_HOSTS: &str = r#"server = "https://registry-1.docker.io"
header.Authorization = "Basic ZG90dGVkLXNlY3JldA=="

[host."https://a.example"]
capabilities = ["pull", "resolve"]
header."authorization" = "quoted-secret-1"

[host."https://b.example"]
"header".'Authorization' = 'quoted-secret-2'

[host."https://c.example"]
header = { "Proxy-Authorization" = "inline-secret", X-Team = "platform" }

[host."https://d.example".header]
X-Mirror-Token = ["array-secret-1", "array-secret-2"]
"\u0041uthorization" = """
multi-line-secret"""
X-JFrog-Art-Api = '''literal-secret'''
X-Custom = "Bearer value-secret"

[[host."https://e.example".extra]]
deep = { header = { x-api-key = "deep-secret" } }
"#;

const FOREIGN_SECRETS: [&str; 11] = [
    "ZG90dGVkLXNlY3JldA==",
    "dotted-secret",
    "quoted-secret-1",
    "quoted-secret-2",
    "inline-secret",
    "array-secret-1",
    "array-secret-2",
    "multi-line-secret",
    "literal-secret",
    "value-secret",
    "deep-secret",
];

#[test]
fn issue_12_item_13_foreign_toml_is_redacted_in_every_form() {
    let node = Node::new();
    node.inventory(ONE_REGISTRY);
    node.write(DOCKER_HOSTS, FOREIGN_HOSTS);
    let diff = node.run("diff", &[]);
    diff.status(2)
        // The rest of the file stays as written, so the diff still says what changes.
        .stdout_has("-[host.\"https://a.example\"]\n+[host.\"https://mirror.example:5000\"]\n capabilities = [\"pull\", \"resolve\"]\n")
        .stdout_has("X-Team = \"platform\"")
        .stdout_has("-header.Authorization = \"<redacted sha256:");
    let json_check = node.run("apply", &["--check", "--diff", "--output", "json"]);
    json_check.status(2);
    let adopted = node.run("apply", &["--adopt", "--diff", "--output", "json"]);
    adopted.status(2);
    for run in [&diff, &json_check, &adopted] {
        for secret in FOREIGN_SECRETS {
            run.nowhere(secret);
        }
    }
    let before = adopted.json()["files"][0]["before"]
        .as_str()
        .expect("before")
        .to_string();
    assert_eq!(before.matches("<redacted sha256:").count(), 10, "{before}");
    assert_eq!(
        before.lines().count(),
        FOREIGN_HOSTS.lines().count() - 1,
        "only the multi-line string lost a line: {before}"
    );

    // Hand-edited after adoption: the drifted file's `before` is redacted the same way.
    node.write(DOCKER_HOSTS, FOREIGN_HOSTS);
    let drift = node.run("diff", &[]);
    drift.status(2);
    for secret in FOREIGN_SECRETS {
        drift.nowhere(secret);
    }
}

#[test]
fn issue_12_item_13_text_that_is_not_toml_is_redacted_whole() {
    let node = Node::new();
    node.inventory(ONE_REGISTRY);
    node.write(
        DOCKER_HOSTS,
        "[host.\"https://m.example\"]\nheader = { Authorization = \"Basic broken-secret\"\nX-Other = 'half\n",
    );
    node.run("diff", &[])
        .status(2)
        .stdout_has("(not valid TOML, so not shown)")
        .nowhere("broken-secret")
        .nowhere("m.example\"]");
}

/// Validation and redaction read one rule: every header name an output hides is refused
/// inline in the inventory, and every one refused is hidden in a file mirrorctl did not write.
#[test]
fn issue_12_item_13_validation_refuses_what_redaction_hides() {
    for name in [
        "Authorization",
        "proxy-authorization",
        "X-JFrog-Art-Api",
        "X-Mirror-Token",
        "X-Api-Key",
        "Cookie",
    ] {
        let node = Node::new();
        node.inventory(&format!(
            "version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://mirror.example:5000\n        headers: {{{name}: inline-value}}\n"
        ));
        node.run("check", &[])
            .status(1)
            .stderr_has("[M009]")
            .stderr_has(&format!("`{name}` carries a credential"))
            .nowhere("inline-value");
        node.inventory(ONE_REGISTRY);
        node.write(
            DOCKER_HOSTS,
            &format!("[host.\"https://m.example\".header]\n{name} = \"foreign-value\"\n"),
        );
        node.run("diff", &[])
            .status(2)
            .stdout_has(&format!("-{name} = \"<redacted sha256:"))
            .nowhere("foreign-value");
    }
}

/// containerd's config.toml, written last, in a directory that is read-only on the node.
const MIDWAY_CONFIG: &str = "/etc/zz/config.toml";

/// A node whose apply stops midway: the inventory's last file in write order, containerd's
/// config.toml, lies in a directory that is read-only (a read-only bind mount in a private
/// mount namespace: root ignores modes, not a read-only mount). The hosts.toml and the
/// kubelet's provider config, written before it, land; then the run stops. `None`, after
/// saying so, where the namespace cannot be made (under CI that fails instead).
fn fails_midway(test: &str) -> Option<FaultNode> {
    let fault = FaultNode::new(test, "/etc/zz", "1m")?;
    read_only(&fault, "/etc/zz");
    fault.node.inventory(&format!(
        "version: 1
containerd: {{manageConfig: true, configFile: {MIDWAY_CONFIG}}}
registries:
  docker.io:
    mirrors: [{{url: \"https://mirror.example:5000\"}}]
credentialProviders:
  - name: corp
    matchImages: [docker.io]
    defaultCacheDuration: 12h
"
    ));
    Some(fault)
}

const PROVIDERS: &str = "/etc/kubernetes/credential-providers.yaml";

#[test]
fn issue_12_item_15_failed_apply_still_prints_its_json_report() {
    let Some(fault) = fails_midway("the failed-apply report test") else {
        return;
    };
    let config = MIDWAY_CONFIG;
    let run = fault.run("apply", &["--output", "json"]);
    run.status(1)
        .stderr_has("error: failed to create the temporary file");
    let report = run.json();
    assert_eq!(report["changed"], true, "{report:#}");
    assert_eq!(report["check"], false);
    assert_eq!(
        report["written"],
        serde_json::json!([DOCKER_HOSTS, PROVIDERS])
    );
    assert_eq!(report["notWritten"], serde_json::json!([config]));
    // The kubelet's file was written: its restart is due. config.toml was not: no containerd.
    assert_eq!(report["restart"], serde_json::json!(["kubelet"]));
    let error = &report["error"];
    assert_eq!(error["kind"], "io", "{error:#}");
    assert_eq!(error["stage"], "apply");
    assert_eq!(error["file"], config);
    assert_eq!(error["action"], "create the temporary file");
    assert!(
        error["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(".mirrorctl-tmp")),
        "{error:#}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("Read-only file system") && m.contains("not done: ")),
        "{error:#}"
    );
    assert!(fault.node.exists(DOCKER_HOSTS) && fault.node.exists(PROVIDERS));
    // In text, the same truth on stderr.
    let Some(text) = fails_midway("the failed-apply report test") else {
        return;
    };
    text.run("apply", &[])
        .status(1)
        .stderr_has("note: restart kubelet: files it reads were written before the failure")
        .stderr_has("  done: /etc/containerd/certs.d/docker.io/hosts.toml, /etc/kubernetes/credential-providers.yaml\n")
        .nowhere("restart containerd");
    // What was written is recorded: the next run does not call it foreign or drift.
    let again = fault.run("apply", &["--output", "json"]).status(1).json();
    assert_eq!(again["written"], serde_json::json!([]));
    assert_eq!(again["changed"], false);
    assert_eq!(again["restart"], serde_json::json!([]));
    assert_eq!(again["notWritten"], serde_json::json!([config]));
}

#[test]
fn issue_12_item_15_every_failure_has_a_typed_error_in_the_report() {
    // Before any plan: an invalid inventory, with each problem typed.
    let node = Node::new();
    node.inventory("version: 1\nbogus: true\n");
    let report = node.run("apply", &["--output", "json"]).status(1).json();
    assert_eq!(report["changed"], false);
    assert_eq!(report["written"], serde_json::json!([]));
    assert_eq!(report["files"], serde_json::json!([]));
    assert_eq!(report["error"]["kind"], "inventory", "{report:#}");
    assert_eq!(report["error"]["problems"][0]["field"], "bogus");
    assert_eq!(report["error"]["problems"][0]["line"], 2);
    let report = node.run("check", &["--output", "json"]).status(1).json();
    assert_eq!(report["error"]["kind"], "inventory", "{report:#}");

    // A foreign file, refused before anything is written.
    node.inventory(ONE_REGISTRY);
    node.write(DOCKER_HOSTS, "server = \"https://registry-1.docker.io\"\n");
    let report = node.run("apply", &["--output", "json"]).status(1).json();
    assert_eq!(report["error"]["kind"], "foreign", "{report:#}");
    assert_eq!(report["error"]["paths"], serde_json::json!([DOCKER_HOSTS]));
    assert_eq!(report["written"], serde_json::json!([]));
    assert_eq!(report["notWritten"], serde_json::json!([DOCKER_HOSTS]));
    assert_eq!(report["changed"], false);

    // The lock held by another process: the kernel names it.
    node.run("apply", &["--adopt"]).status(2);
    let holder = fs::File::open(node.path("/var/lib/mirrorctl/lock")).expect("open the lock");
    holder.lock().expect("take the lock");
    let report = node
        .run("apply", &["--output", "json", "--lock-timeout", "0"])
        .status(1)
        .json();
    assert_eq!(report["error"]["kind"], "locked", "{report:#}");
    assert_eq!(report["error"]["pid"], std::process::id());
}

/// The README documents every error kind the JSON report can carry.
#[test]
fn issue_12_item_15_readme_documents_every_error_kind() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for kind in mirrorctl::error::ErrorKind::ALL {
        assert!(
            readme.contains(&format!("`{}`", kind.name())),
            "README lacks the error kind `{}`",
            kind.name()
        );
    }
}
