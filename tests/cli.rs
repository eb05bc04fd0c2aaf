//! The command-line contract: exit statuses, idempotence, diff, JSON, stdin, broken pipes.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::support::{BIN, Node, fixtures, have, require, run};

pub(crate) const INVENTORY: &str = "\
version: 1
registries:
  docker.io:
    mirrors:
      - url: https://mirror-a.example
      - url: https://mirror-b.example:5000
  \"registry.example:5000\":
    mirrors: [{url: \"http://127.0.0.1:5001\"}]
credentialProviders:
  - name: corp
    matchImages: [docker.io]
    defaultCacheDuration: 12h
";

const DOCKER_HOSTS: &str = "/etc/containerd/certs.d/docker.io/hosts.toml";
const PROVIDERS: &str = "/etc/kubernetes/credential-providers.yaml";

fn mtimes(node: &Node) -> Vec<(String, SystemTime)> {
    node.files()
        .into_iter()
        .filter(|f| !f.starts_with("/var/lib/mirrorctl/"))
        .map(|f| {
            let m = fs::metadata(node.path(&f))
                .and_then(|m| m.modified())
                .expect("mtime");
            (f, m)
        })
        .collect()
}

#[test]
fn apply_then_apply_again_changes_nothing() {
    let node = Node::new();
    node.inventory(INVENTORY);
    node.run("apply", &[])
        .status(2)
        .stdout_has(&format!("create           {DOCKER_HOSTS} (0644)"))
        .stdout_has("restart kubelet");
    assert_eq!(node.mode(DOCKER_HOSTS), 0o644);
    assert_eq!(node.mode(PROVIDERS), 0o600);
    assert!(node.exists("/etc/containerd/certs.d/registry.example_5000_/hosts.toml"));
    let before = mtimes(&node);
    std::thread::sleep(std::time::Duration::from_millis(20));
    node.run("apply", &[])
        .status(0)
        .stdout_has("0 files to change");
    assert_eq!(before, mtimes(&node), "a no-op apply touches no file");
    node.run("check", &[]).status(0);
    node.run("diff", &[]).status(0);
    assert_eq!(node.run("diff", &[]).stdout, "");
}

#[test]
fn hand_edit_is_seen_by_check_and_diff_and_undone_by_apply() {
    let node = Node::new();
    node.inventory(INVENTORY);
    node.run("apply", &[]).status(2);
    let original = node.read(DOCKER_HOSTS);
    node.write(
        DOCKER_HOSTS,
        &original.replace("mirror-a.example", "evil.example"),
    );
    node.run("check", &[])
        .status(2)
        .stdout_has("would update")
        .stdout_has("drift: changed by hand");
    node.run("diff", &[])
        .status(2)
        .stdout_has("--- a/etc/containerd/certs.d/docker.io/hosts.toml")
        .stdout_has("+++ b/etc/containerd/certs.d/docker.io/hosts.toml")
        .stdout_has("-[host.\"https://evil.example\"]")
        .stdout_has("+[host.\"https://mirror-a.example\"]");
    node.run("apply", &[]).status(2);
    assert_eq!(node.read(DOCKER_HOSTS), original);
    node.run("check", &[]).status(0);

    fs::remove_file(node.path(DOCKER_HOSTS)).expect("rm");
    node.run("check", &[])
        .status(2)
        .stdout_has("drift: removed by hand");
    node.run("apply", &[]).status(2);
    assert_eq!(node.read(DOCKER_HOSTS), original);
}

#[test]
fn mode_change_alone_is_a_chmod() {
    let node = Node::new();
    node.inventory(INVENTORY);
    node.run("apply", &[]).status(2);
    fs::set_permissions(
        node.path(PROVIDERS),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("chmod");
    node.run("diff", &[])
        .status(2)
        .stdout_has("old mode 100644\nnew mode 100600");
    node.run("apply", &[]).status(2).stdout_has("chmod");
    assert_eq!(node.mode(PROVIDERS), 0o600);
}

#[test]
fn usage_errors_exit_64_never_2() {
    run(&["apply", "--bogus"], None).status(64);
    run(&["nonsense"], None).status(64);
    run(&["apply", "--output", "yaml"], None).status(64);
    run(&[], None).status(64);
    run(&["--help"], None).status(0).stdout_has("Usage");
    run(&["--version"], None).status(0);
    run(&["apply", "--help"], None)
        .status(0)
        .stdout_has("--root");
}

#[test]
fn missing_inventory_is_an_error_naming_it() {
    let node = Node::new();
    node.run("check", &[])
        .status(1)
        .stderr_has("inventory.yaml");
}

#[test]
fn inventory_from_stdin_and_environment() {
    let node = Node::new();
    let root = node.root();
    let root = root.to_str().expect("utf-8");
    run(&["apply", "-i", "-", "--root", root], Some(INVENTORY)).status(2);
    run(&["check", "-i", "-", "--root", root], Some(INVENTORY)).status(0);
    node.inventory(INVENTORY);
    let status = Command::new(BIN)
        .args(["check", "--root", root])
        .env("MIRRORCTL_INVENTORY", node.inventory_path())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn check_and_diff_write_nothing() {
    let node = Node::new();
    node.inventory(INVENTORY);
    node.run("check", &[]).status(2).stdout_has("would create");
    node.run("diff", &[]).status(2).stdout_has("--- /dev/null");
    node.run("apply", &["--check", "--diff"]).status(2);
    assert!(node.files().is_empty(), "{:?}", node.files());
}

#[test]
fn json_report_follows_the_documented_schema() {
    let node = Node::new();
    node.inventory(INVENTORY);
    let report = node
        .run("apply", &["--check", "--output", "json"])
        .status(2)
        .json();
    assert_eq!(report["changed"], true);
    assert_eq!(report["check"], true);
    assert_eq!(report["restart"], serde_json::json!(["kubelet"]));
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.len(), 3);
    let docker = files
        .iter()
        .find(|f| f["path"] == DOCKER_HOSTS)
        .expect("docker.io file");
    assert_eq!(docker["action"], "create");
    assert_eq!(docker["kind"], "hostsToml");
    assert_eq!(docker["mode"], "0644");
    assert!(docker["sha256Before"].is_null());
    assert_eq!(docker["sha256After"].as_str().map(str::len), Some(64));
    assert!(docker.get("before").is_none(), "content only with --diff");
    assert!(
        report["kubeletCredentialProviderConfigHash"]
            .as_str()
            .expect("hash")
            .starts_with("sha256:")
    );

    node.run("apply", &["--output", "json"]).status(2);
    let report = node.run("check", &["--output", "json"]).status(0).json();
    assert_eq!(report["changed"], false);
    assert!(
        report["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["action"] == "unchanged")
    );
    assert_eq!(report["restart"], serde_json::json!([]));

    let edited = node.read(DOCKER_HOSTS) + "# hand edit\n";
    node.write(DOCKER_HOSTS, &edited);
    let report = node
        .run("apply", &["--check", "--diff", "--output", "json"])
        .status(2)
        .json();
    let docker = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == DOCKER_HOSTS)
        .cloned()
        .expect("file");
    assert_eq!(docker["action"], "update");
    assert_eq!(docker["drift"], true);
    assert!(
        docker["before"]
            .as_str()
            .expect("before")
            .ends_with("# hand edit\n")
    );
    assert_eq!(
        report["restart"],
        serde_json::json!([]),
        "hosts.toml needs no restart"
    );
}

#[test]
fn closed_stdout_exits_cleanly() {
    let mut inventory = String::from("version: 1\nregistries:\n");
    for i in 0..400 {
        inventory.push_str(&format!(
            "  r{i}.example:\n    mirrors: [{{url: \"https://m{i}.example\"}}]\n"
        ));
    }
    let node = Node::new();
    node.inventory(&inventory);
    let mut child = Command::new(BIN)
        .args(["diff", "-i"])
        .arg(node.inventory_path())
        .arg("--root")
        .arg(node.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read");
    assert!(first.starts_with("diff --git"));
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "`mirrorctl diff | head -1` still says that something would change"
    );
}

#[test]
fn diff_applies_with_patch_p1() {
    if !require("patch", have("patch")) {
        return;
    }
    let node = Node::new();
    node.inventory(INVENTORY);
    let diff = node.run("diff", &[]).status(2).stdout.clone();
    let target = tempfile::tempdir().expect("dir");
    let mut child = Command::new("patch")
        .args(["-p1", "--quiet", "-d"])
        .arg(target.path())
        .stdin(Stdio::piped())
        .spawn()
        .expect("patch");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(diff.as_bytes())
        .expect("write");
    assert!(child.wait().expect("wait").success());
    node.run("apply", &[]).status(2);
    for file in node
        .files()
        .iter()
        .filter(|f| !f.starts_with("/var/lib/mirrorctl"))
    {
        let patched = fs::read_to_string(target.path().join(file.trim_start_matches('/')))
            .expect("patched file");
        assert_eq!(patched, node.read(file), "{file}");
    }
}

#[test]
fn bundled_example_applies() {
    let node = Node::new();
    node.inventory(
        &fs::read_to_string(fixtures().join("../examples/inventory.yaml")).expect("example"),
    );
    node.run("apply", &[]).status(2);
    node.run("apply", &[]).status(0);
}

#[test]
fn render_prints_and_writes_the_desired_files() {
    let node = Node::new();
    node.inventory(INVENTORY);
    let out = run(
        &[
            "render",
            "-i",
            node.inventory_path().to_str().expect("utf-8"),
        ],
        None,
    );
    out.status(0)
        .stdout_has(&format!("# ==> {DOCKER_HOSTS} (0644) <=="));
    let dir = tempfile::tempdir().expect("dir");
    run(
        &[
            "render",
            "-i",
            node.inventory_path().to_str().expect("utf-8"),
            "--out",
            dir.path().to_str().expect("utf-8"),
        ],
        None,
    )
    .status(0);
    node.run("apply", &[]).status(2);
    assert_eq!(
        fs::read_to_string(dir.path().join(DOCKER_HOSTS.trim_start_matches('/')))
            .expect("rendered"),
        node.read(DOCKER_HOSTS)
    );
}

#[test]
fn credential_provider_config_json_by_extension() {
    let node = Node::new();
    node.inventory(&INVENTORY.replace(
        "version: 1\n",
        "version: 1\npaths: {credentialProviderConfig: /etc/kubernetes/cp.json}\n",
    ));
    node.run("apply", &[]).status(2);
    let value: serde_json::Value =
        serde_json::from_str(&node.read("/etc/kubernetes/cp.json")).expect("JSON");
    assert_eq!(value["kind"], "CredentialProviderConfig");
    assert_eq!(value["providers"][0]["defaultCacheDuration"], "12h");
}

#[test]
fn modes_do_not_depend_on_the_umask() {
    for umask in ["022", "002", "077"] {
        let node = Node::new();
        node.inventory(INVENTORY);
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" apply -i \"$1\" --root \"$2\" >/dev/null"
            ))
            .arg(BIN)
            .arg(node.inventory_path())
            .arg(node.root())
            .status()
            .expect("sh");
        assert_eq!(status.code(), Some(2));
        assert_eq!(node.mode(DOCKER_HOSTS), 0o644, "umask {umask}");
        assert_eq!(node.mode(PROVIDERS), 0o600, "umask {umask}");
        let dir_mode = fs::metadata(node.path("/etc/containerd/certs.d/docker.io"))
            .expect("dir")
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&dir_mode) & 0o777,
            0o755,
            "umask {umask}"
        );
    }
}
