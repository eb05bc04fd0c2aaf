//! Issue 14, "CA certificates as content": `ca: {pem: …}` is written by apply beside the
//! hosts.toml that names it, before that file and deleted after it, owned and pruned like
//! every file mirrorctl writes. The order is read from the system calls of the real binary
//! (`strace`), not from the code.

use std::path::Path;
use std::process::Command;

use mirrorctl::plan::sha256_hex;
use mirrorctl::state::State;

use crate::support::{BIN, Node, Run, have, require};

const CERTS: &str = "/etc/containerd/certs.d";
const CA_A: &str = include_str!("../fixtures/x509/ec-p256-until-2051.pem");
const CA_B: &str = include_str!("../fixtures/x509/ec-p256-second-until-2051.pem");
const EXPIRED: &str = include_str!("../fixtures/x509/ec-p256-expired-2021.pem");

/// The node path mirrorctl writes `pem` to in `registry`'s directory, computed here from the
/// documented rule: `ca-` and the first 16 hex digits of the content's sha256.
fn ca_path(registry: &str, pem: &str) -> String {
    format!(
        "{CERTS}/{registry}/ca-{}.pem",
        &sha256_hex(pem.as_bytes())[..16]
    )
}

fn hosts(registry: &str) -> String {
    format!("{CERTS}/{registry}/hosts.toml")
}

/// `pem` as a YAML double-quoted string (a JSON string is one).
fn quoted(pem: &str) -> String {
    serde_json::to_string(pem).expect("a string")
}

/// One mirror per registry, each with its CA given as `pem` content.
fn inventory(registries: &[(&str, &str)]) -> String {
    let mut text = String::from("version: 1\nregistries:\n");
    for (registry, pem) in registries {
        text.push_str(&format!(
            "  {registry}:\n    mirrors:\n      - url: https://mirror.{registry}\n        ca: {{pem: {}}}\n",
            quoted(pem)
        ));
    }
    text
}

fn state(node: &Node) -> State {
    serde_json::from_str(&node.read("/var/lib/mirrorctl/state.json")).expect("state.json parses")
}

/// What one apply did to files below the root, in order: `write PATH` for each rename onto a
/// target, `delete PATH` for each unlink (temporary files left out), paths as node paths.
/// `None` where strace is missing (which fails the test under CI).
fn traced_apply(node: &Node) -> Option<(Run, Vec<String>)> {
    if !require("strace (the order of apply's writes)", have("strace")) {
        return None;
    }
    let log = node.dir.path().join("strace.log");
    let root = node.root();
    let output = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=rename,renameat,renameat2,unlink,unlinkat",
        ])
        .arg("-o")
        .arg(&log)
        .arg(BIN)
        .args(["apply", "-i"])
        .arg(node.inventory_path())
        .arg("--root")
        .arg(&root)
        .env_remove("MIRRORCTL_INVENTORY")
        .output()
        .expect("run strace");
    let run = Run::new(
        vec!["strace".into(), "apply".into()],
        output.status.code().unwrap_or(-1),
        &output.stdout,
        &output.stderr,
    );
    let text = std::fs::read_to_string(&log).expect("strace log");
    let events = text
        .lines()
        .filter(|line| line.ends_with("= 0"))
        .filter_map(|line| event(line, &root))
        .collect();
    Some((run, events))
}

/// `write PATH` / `delete PATH` from one strace line, for a path below `root`.
fn event(line: &str, root: &Path) -> Option<String> {
    let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    let (what, path) = if line.contains("rename") {
        ("write", *quoted.last()?)
    } else if line.contains("unlink") {
        ("delete", *quoted.first()?)
    } else {
        return None;
    };
    let node_path = path.strip_prefix(root.to_str()?)?;
    (!node_path.ends_with(mirrorctl::fsx::TEMP_SUFFIX)
        && !node_path.starts_with("/var/lib/mirrorctl/"))
    .then(|| format!("{what} {node_path}"))
}

/// Asserts that `first` happened before `second` in `events`, both present.
#[track_caller]
fn before(events: &[String], first: &str, second: &str) {
    let at = |needle: &str| {
        events
            .iter()
            .position(|e| e == needle)
            .unwrap_or_else(|| panic!("no `{needle}` in {events:#?}"))
    };
    assert!(
        at(first) < at(second),
        "`{first}` must come before `{second}`: {events:#?}"
    );
}

#[test]
fn apply_writes_the_pem_under_a_content_derived_name_before_the_hosts_toml_naming_it() {
    let node = Node::new();
    node.inventory(&inventory(&[("docker.io", CA_A)]));
    let ca = ca_path("docker.io", CA_A);
    let traced = traced_apply(&node);
    match &traced {
        Some((run, events)) => {
            run.status(2);
            before(
                events,
                &format!("write {ca}"),
                &format!("write {}", hosts("docker.io")),
            );
        }
        None => {
            node.run("apply", &[]).status(2);
        }
    }
    assert_eq!(node.read(&ca), CA_A, "the CA file holds the PEM as given");
    assert_eq!(node.mode(&ca), 0o644);
    assert!(
        node.read(&hosts("docker.io"))
            .contains(&format!("ca = \"{ca}\"")),
        "hosts.toml names the CA by its node path:\n{}",
        node.read(&hosts("docker.io"))
    );
    let record = state(&node)
        .files
        .get(&ca)
        .cloned()
        .expect("state.json records the CA");
    assert_eq!(
        (
            record.sha256.as_str(),
            record.mode.as_str(),
            record.kind.as_str()
        ),
        (
            sha256_hex(CA_A.as_bytes()).as_str(),
            "0644",
            "caCertificate"
        )
    );
    node.run("apply", &[]).status(0);
    node.run("check", &[]).status(0);
    node.run("apply", &["--check", "--output", "json"])
        .status(0)
        .stdout_has("\"kind\": \"caCertificate\"");
}

#[test]
fn a_changed_pem_is_a_new_file_and_the_old_one_goes_after_the_hosts_toml_stops_naming_it() {
    let node = Node::new();
    node.inventory(&inventory(&[("docker.io", CA_A)]));
    node.run("apply", &[]).status(2);
    let (old, new) = (ca_path("docker.io", CA_A), ca_path("docker.io", CA_B));
    node.inventory(&inventory(&[("docker.io", CA_B)]));
    node.run("diff", &[])
        .status(2)
        .stdout_has(&old)
        .stdout_has(&new);
    match traced_apply(&node) {
        Some((run, events)) => {
            run.status(2);
            let hosts = format!("write {}", hosts("docker.io"));
            before(&events, &format!("write {new}"), &hosts);
            before(&events, &hosts, &format!("delete {old}"));
        }
        None => {
            node.run("apply", &[]).status(2);
        }
    }
    assert!(!node.exists(&old), "the old CA file is pruned");
    assert_eq!(node.read(&new), CA_B);
    let recorded = state(&node);
    assert!(recorded.files.contains_key(&new) && !recorded.files.contains_key(&old));
    assert_eq!(
        node.files(),
        vec![
            new.clone(),
            hosts("docker.io"),
            "/var/lib/mirrorctl/lock".into(),
            "/var/lib/mirrorctl/state.json".into(),
        ]
    );
    node.run("apply", &[]).status(0);
}

#[test]
fn removing_the_registry_removes_its_hosts_toml_first_then_its_ca() {
    let node = Node::new();
    // The same PEM in two registries: each directory gets its own copy.
    node.inventory(&inventory(&[("docker.io", CA_A), ("quay.io", CA_A)]));
    node.run("apply", &[]).status(2);
    let (docker, quay) = (ca_path("docker.io", CA_A), ca_path("quay.io", CA_A));
    assert_eq!(
        (node.read(&docker), node.read(&quay)),
        (CA_A.into(), CA_A.into())
    );
    node.inventory(&inventory(&[("docker.io", CA_A)]));
    match traced_apply(&node) {
        Some((run, events)) => {
            run.status(2);
            before(
                &events,
                &format!("delete {}", hosts("quay.io")),
                &format!("delete {quay}"),
            );
        }
        None => {
            node.run("apply", &[]).status(2);
        }
    }
    assert!(
        !node.exists(&format!("{CERTS}/quay.io")),
        "quay.io's directory goes"
    );
    assert_eq!(node.read(&docker), CA_A, "docker.io keeps its copy");
    node.run("apply", &[]).status(0);
}

#[test]
fn a_pem_that_is_not_a_certificate_is_an_error_naming_the_field() {
    let node = Node::new();
    let key =
        "-----BEGIN PRIVATE KEY-----\nTUlSUk9SQ1RMLUtFWS1CWVRFUw==\n-----END PRIVATE KEY-----\n";
    node.inventory(&format!(
        "version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        ca: [/etc/pki/corp.pem, {{pem: \"just text\"}}]\n      - url: https://n.example\n        ca: {{pem: \"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\"}}\n      - url: https://o.example\n        ca: {{pem: {}}}\n",
        quoted(key)
    ));
    for command in ["apply", "check", "lint"] {
        node.run(command, &[])
            .status(1)
            .nowhere("TUlSUk9SQ1RMLUtFWS1CWVRFUw")
            .nowhere("just text");
    }
    let run = node.run("apply", &[]);
    run.status(1)
        .stderr_has("[M013] registries.\"docker.io\".mirrors[0].ca[1].pem: the PEM content holds no CERTIFICATE block")
        .stderr_has("[M013] registries.\"docker.io\".mirrors[1].ca.pem: the CERTIFICATE block at line 1 of the PEM content is not an X.509 certificate")
        .stderr_has("[M013] registries.\"docker.io\".mirrors[2].ca.pem: the PEM content holds a PRIVATE KEY block");
    assert!(
        !node.exists(CERTS),
        "nothing is written: {:?}",
        node.files()
    );
    node.inventory("version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        ca: {file: /etc/pki/corp.pem}\n");
    node.run("apply", &[])
        .status(1)
        .stderr_has("registries.\"docker.io\".mirrors[0].ca.file: unknown field `file`");
}

#[test]
fn lint_checks_the_dates_of_pem_content_without_a_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inventory.yaml");
    std::fs::write(&path, inventory(&[("docker.io", EXPIRED)])).expect("write");
    let written = ca_path("docker.io", EXPIRED);
    crate::support::run(&["lint", "-i", path.to_str().expect("utf-8")], None)
        .status(1)
        .stdout_has(&format!(
            "error[N008] registries.\"docker.io\".mirrors[0].ca[0].pem: `{written}`: the certificate `CN=expired mirror CA` expired on 2021-01-01T00:00:00Z"
        ));

    // Within 30 days of notAfter (2051-01-01), with the clock given.
    let text = inventory(&[("docker.io", CA_A)]);
    let now = 2_556_144_000 - 10 * 86_400;
    let report = mirrorctl::lint::lint_at("inventory.yaml", text.as_bytes(), None, now);
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["N101"], "{report:?}");
    assert!(
        report.findings[0]
            .to_string()
            .contains(&ca_path("docker.io", CA_A)),
        "{report:?}"
    );
}

#[test]
fn resolve_shows_the_path_the_pem_is_written_to() {
    let node = Node::new();
    node.inventory(&inventory(&[("docker.io", CA_A)]));
    let inventory = node.inventory_path();
    crate::support::run(
        &["resolve", "nginx", "-i", inventory.to_str().expect("utf-8")],
        None,
    )
    .status(0)
    .stdout_has(&ca_path("docker.io", CA_A))
    .nowhere("BEGIN CERTIFICATE");
}
