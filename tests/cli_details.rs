//! Details of the command line found by trying it (issue 17): `check` takes what
//! `apply --check` takes, usage lines, `lint -i A B`, the pre-commit hook's pattern, and the
//! messages for a typo, an image reference with a scheme, a bare-number duration, adoption and
//! deletion.

use std::process::Command;

use crate::support::{Node, fixtures, have, require, run};

const EXAMPLE: &str = include_str!("../examples/inventory.yaml");

#[test]
fn check_and_diff_take_the_options_apply_check_takes() {
    let node = Node::new();
    node.inventory(EXAMPLE);
    let apply_check = node.run("apply", &["--check", "--diff", "--output", "json"]);
    apply_check.status(2);
    for (subcommand, extra) in [
        ("check", &["--diff", "--output", "json"][..]),
        (
            "check",
            &[
                "--diff",
                "--adopt",
                "--lock-timeout",
                "5",
                "--output",
                "json",
            ],
        ),
        (
            "diff",
            &["--adopt", "--lock-timeout", "5", "--output", "json"],
        ),
    ] {
        let r = node.run(subcommand, extra);
        r.status(2);
        assert_eq!(
            r.json(),
            apply_check.json(),
            "`{subcommand} {extra:?}` reports what `apply --check --diff` does"
        );
    }
    node.run("check", &["--diff"])
        .status(2)
        .stdout_has("diff --git a/etc/containerd/certs.d/docker.io/hosts.toml");
    // What the subcommand always is, it does not offer: `check --check`, `diff --diff` and
    // `diff --check` are usage errors, not silent no-ops.
    for (subcommand, redundant) in [
        ("check", "--check"),
        ("diff", "--diff"),
        ("diff", "--check"),
    ] {
        node.run(subcommand, &[redundant])
            .status(64)
            .stderr_has(&format!("unexpected argument '{redundant}'"));
    }
    assert!(node.files().is_empty(), "check wrote nothing");
}

#[test]
fn usage_lines_never_show_a_given_option_as_required() {
    for args in [
        &["diff", "--output", "json", "--bogus"][..],
        &["check", "--root", "/", "--bogus"],
        &["apply", "--lock-timeout", "3", "--bogus"],
        &["import", "--target-containerd", "2.1", "k3s"],
        &["lint", "--format", "json", "--bogus"],
        &["resolve", "--namespace", "team-a"],
        &["render", "--out", "-", "--bogus"],
    ] {
        let r = run(args, None);
        r.status(64);
        let usage = r
            .stderr
            .lines()
            .find(|l| l.starts_with("Usage: "))
            .unwrap_or_else(|| panic!("{args:?}: no usage line in {}", r.stderr));
        assert!(
            !usage.contains("--"),
            "{args:?}: the usage line shows an option as required: {usage}"
        );
        assert!(
            usage.starts_with(&format!("Usage: mirrorctl {} [OPTIONS]", args[0])),
            "{usage}"
        );
    }
}

#[test]
fn lint_lints_every_file_given_with_and_without_i() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let a = write("a.yaml", "version: 1\ntaget: {}\n");
    let b = write("b.yaml", "version: 1\nmodez: {}\n");
    let c = write("c.yaml", "version: 1\npathz: {}\n");
    let r = run(&["lint", "-i", &a, &b], None);
    r.status(1).stdout_has("`taget`").stdout_has("`modez`");
    let r = run(&["lint", "-i", &a, "-i", &b, &c], None);
    r.status(1)
        .stdout_has("`taget`")
        .stdout_has("`modez`")
        .stdout_has("`pathz`")
        .stderr_has(&format!("{a}, {b}, {c}"));
    // $MIRRORCTL_INVENTORY is the default when no file is named, not one more file.
    let clean = write("clean.yaml", "version: 1\nregistries: {}\n");
    let status = Command::new(crate::support::BIN)
        .args(["lint", &clean])
        .env("MIRRORCTL_INVENTORY", &a)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(0), "lint of clean.yaml alone");
    let status = Command::new(crate::support::BIN)
        .args(["lint"])
        .env("MIRRORCTL_INVENTORY", &a)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(1), "lint of $MIRRORCTL_INVENTORY");
}

/// pre-commit matches `files:` with Python's `re.search` against each path relative to the
/// repository's root.
#[test]
fn pre_commit_hook_matches_the_readme_layout_and_nothing_else() {
    if !require("python3", have("python3")) {
        return;
    }
    let hooks = std::fs::read_to_string(fixtures().join("../.pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml");
    let pattern = hooks
        .lines()
        .find_map(|l| l.trim().strip_prefix("files: "))
        .expect("a files: pattern");
    let readme = std::fs::read_to_string(fixtures().join("../README.md")).expect("README");
    assert!(readme.contains("mirrorctl lint --format github --strict inventories/*.yaml"));
    let cases = [
        ("inventories/prod.yaml", true),
        ("inventories/staging-eu.yaml", true),
        // An Ansible layout and other YAML that is no mirrorctl inventory.
        ("inventory.yml", false),
        ("ansible/inventory.yaml", false),
        ("inventories/production/hosts.yml", false),
        ("inventories/production/group_vars/all.yaml", false),
        ("mirrorctl-values.yaml", false),
        ("ansible/roles/mirrorctl/defaults/main.yml", false),
        (".github/workflows/lint.yaml", false),
        ("docs/inventories/prod.yaml", false),
    ];
    let script =
        "import re, sys\nfor p in sys.argv[2:]:\n    print(p, bool(re.search(sys.argv[1], p)))";
    let mut args = vec!["-c", script, pattern];
    args.extend(cases.iter().map(|(p, _)| *p));
    let out = Command::new("python3")
        .args(&args)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut mismatches = Vec::new();
    for ((path, expected), line) in cases.iter().zip(text.lines()) {
        if line != format!("{path} {}", if *expected { "True" } else { "False" }) {
            mismatches.push(line.to_string());
        }
    }
    assert!(
        mismatches.is_empty() && text.lines().count() == cases.len(),
        "pattern {pattern}: {mismatches:?}\n{text}"
    );
}

/// `lint --format json` of the node's inventory, which must fail: its findings.
fn lint_findings(node: &Node) -> serde_json::Value {
    let r = run(
        &[
            "lint",
            "--format",
            "json",
            &node.inventory_path().display().to_string(),
        ],
        None,
    );
    r.status(1);
    r.json()["findings"].clone()
}

#[test]
fn a_typo_is_one_finding() {
    let text = std::fs::read_to_string(fixtures().join("invalid/typo-of-a-required-field.yaml"))
        .expect("fixture");
    let node = Node::new();
    node.inventory(&text);
    let findings = lint_findings(&node);
    let codes: Vec<(&str, &str)> = findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or(""),
                f["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("S001", "registries.\"docker.io\".mirorrs"),
            ("S001", "registries.\"quay.io\".mirrors[0].uri"),
            ("S001", "credentialProviders[0].matchImage"),
        ],
        "one finding per typo: {findings:#}"
    );
}

#[test]
fn an_image_reference_with_a_scheme_is_told_references_have_none() {
    let node = Node::new();
    node.inventory(EXAMPLE);
    node.run("resolve", &[]).status(64);
    let r = run(
        &[
            "resolve",
            "https://ghcr.io/org/app:1.2",
            "-i",
            &node.inventory_path().display().to_string(),
        ],
        None,
    );
    r.status(1)
        .stderr_has("image references have no scheme (`https://`): write `ghcr.io/org/app:1.2`");
}

#[test]
fn a_bare_number_duration_hints_the_string() {
    let node = Node::new();
    node.inventory(
        "version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        dialTimeout: 5\n",
    );
    node.run("check", &[])
        .status(1)
        .stderr_has("registries.\"docker.io\".mirrors[0].dialTimeout: expected a Go duration string, found an integer; a bare number has no unit: write \"5s\"");
}

#[test]
fn adopt_reports_files_as_adopted_and_delete_lines_show_no_mode() {
    let node = Node::new();
    node.inventory(
        "version: 1\nregistries:\n  docker.io:\n    mirrors: [{url: \"https://m.example\"}]\n  quay.io:\n    mirrors: [{url: \"https://m.example\"}]\n",
    );
    let docker = "/etc/containerd/certs.d/docker.io/hosts.toml";
    node.write(docker, "# written by hand\n");
    let line = |r: &crate::support::Run, path: &str| {
        r.stdout
            .lines()
            .find(|l| l.contains(path))
            .unwrap_or_else(|| panic!("no line for {path}: {}", r.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let check = node.run("check", &[]);
    check.status(2);
    assert_eq!(
        line(&check, docker),
        format!("would update {docker} (0644, not written by mirrorctl: needs --adopt)")
    );
    let check = node.run("check", &["--adopt"]);
    check.status(2);
    assert_eq!(
        line(&check, docker),
        format!("would update {docker} (0644, not written by mirrorctl: would adopt)")
    );
    let apply = node.run("apply", &["--adopt"]);
    apply.status(2).nowhere("needs --adopt");
    assert_eq!(
        line(&apply, docker),
        format!("update {docker} (0644, adopted)")
    );
    node.inventory(
        "version: 1\nregistries:\n  quay.io:\n    mirrors: [{url: \"https://m.example\"}]\n",
    );
    let check = node.run("check", &[]);
    check.status(2);
    assert_eq!(line(&check, docker), format!("would delete {docker} (-)"));
    let apply = node.run("apply", &[]);
    apply.status(2);
    assert_eq!(line(&apply, docker), format!("delete {docker} (-)"));
}

#[test]
fn a_typo_too_far_for_a_suggestion_is_one_finding_too() {
    // `valueFrom` is no near miss of `file`, the only field of a header's value: the unknown key
    // is the one mistake, not also a "missing required field `file`".
    let node = Node::new();
    node.inventory(
        "version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        headers: {X-Token: {valueFrom: {file: /etc/tok}}}\n",
    );
    let findings = lint_findings(&node);
    let codes: Vec<&str> = findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["S001"], "one finding for one typo: {findings:#}");
}
