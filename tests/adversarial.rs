//! Issue 18, "bounded cost on any input": the adversarial inventories of
//! `benches/adversarial.py`, generated here at sizes that hit each bound, and the bounds that
//! do not depend on the machine's speed: an alias expansion refused with the alias named,
//! findings capped per code with a summary line in every output format, messages and field
//! paths clipped, output size bounded. (Time and memory are the benchmark's.)

use crate::support::{Node, each, run};

const HEADER: &str = "version: 1\ntarget: {containerd: \"2.1\", kubelet: \"1.34\"}\n";

/// A string of `kib` KiB aliased through four nested 10-element lists under `x-` keys.
fn alias_bytes(kib: usize) -> String {
    let mut out = format!("{HEADER}x-s: &s0 '{}'\n", "a".repeat(kib * 1024));
    for level in 1..=4 {
        let items = vec![format!("*s{}", level - 1); 10].join(", ");
        out.push_str(&format!("x-l{level}: &s{level} [{items}]\n"));
    }
    out.push_str("registries:\n  docker.io:\n    mirrors: [{url: https://m.mirror.example}]\n");
    out
}

/// `registries` registries and `10 * registries` aliased grants matching all of them.
fn grants_x_registries(registries: usize) -> String {
    let mut out = format!("{HEADER}registries:\n");
    for i in 0..registries {
        out.push_str(&format!(
            "  reg{i}.corp.example:\n    mirrors: [{{url: https://m{i}.mirror.example}}]\n"
        ));
    }
    out.push_str("x-grant: &g {registry: '*.corp.example', namespace: team-a, usernameFile: /etc/mirrorctl/creds/user, passwordFile: /etc/mirrorctl/creds/pass}\n");
    out.push_str("credentialPlugin:\n  audience: mirrors.corp.example\n  grants:\n");
    out.push_str(&"    - *g\n".repeat(registries * 10));
    out
}

/// `n` mirrors and `n` aliased patterns naming every mirror host.
fn mirrors_x_patterns(n: usize) -> String {
    let mut out = format!("{HEADER}registries:\n");
    for i in 0..n {
        out.push_str(&format!(
            "  reg{i}.corp.example:\n    mirrors:\n      - url: https://m{i}.mirror.example\n"
        ));
    }
    out.push_str("x-pattern: &p '*.mirror.example'\ncredentialProviders:\n  - name: corp-mirror\n    matchImages:\n");
    out.push_str(&"      - *p\n".repeat(n));
    out.push_str("    defaultCacheDuration: 12h\n");
    out
}

/// A registry name of `kib` KiB with 5,000 invalid mirrors.
fn long_name(kib: usize) -> String {
    format!(
        "{HEADER}registries:\n  ? {}.example\n  : mirrors:\n{}",
        "r".repeat(kib * 1024),
        "      - url: 'ftp://not a url'\n".repeat(5000)
    )
}

fn lint(node: &Node, format: &str) -> crate::support::Run {
    let inventory = node.inventory_path();
    run(
        &[
            "lint",
            "-i",
            inventory.to_str().expect("path"),
            "--format",
            format,
        ],
        None,
    )
}

#[test]
fn alias_expansion_beyond_the_byte_budget_is_refused_naming_the_alias() {
    // 100 KiB repeated 10,000 times: a 100 KiB file standing for a gigabyte.
    let node = Node::new();
    node.inventory(&alias_bytes(100));
    let report = lint(&node, "json");
    report.status(1);
    let json = report.json();
    assert_eq!(each(&json, "findings", "code"), ["Y001"], "{json}");
    let message = json["findings"][0]["message"].as_str().expect("message");
    // The first alias whose copies cross the budget: the third level (line 6).
    for needle in ["`*s2` on line 6", "`&s2` (line 5)", "16 MiB"] {
        assert!(message.contains(needle), "{needle} in {message}");
    }
    assert!(report.stdout.len() < 4096, "{} bytes", report.stdout.len());
    // apply refuses it the same way and writes nothing.
    node.run("apply", &[]).status(1).stderr_has("`*s2`");
    assert!(node.files().is_empty(), "{:?}", node.files());
    // Within the budget the same shape is an ordinary valid inventory.
    node.inventory(&alias_bytes(1));
    lint(&node, "json").status(0);
}

#[test]
fn findings_are_capped_per_code_in_every_format() {
    let node = Node::new();
    // 200 registries and 2,000 grants: one X007 per grant (not per grant and registry).
    node.inventory(&grants_x_registries(200));
    let json = lint(&node, "json").status(0).json();
    let x007: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "X007")
        .collect();
    assert_eq!(x007.len(), 51, "50 findings and the summary");
    let summary = x007.last().expect("summary");
    assert_eq!(summary["omitted"], 1950, "{summary}");
    assert_eq!(summary["message"], "… and 1,950 more X007 findings");
    assert_eq!(json["warnings"], 2000, "the count says the total");
    assert_eq!(json["total"], 2000);
    assert!(
        x007[0]["message"]
            .as_str()
            .expect("message")
            .starts_with("reg0.corp.example, reg1.corp.example, reg2.corp.example and 197 more registries have `fallback: true`"),
        "{}",
        x007[0]["message"]
    );

    let text = lint(&node, "text");
    text.status(0)
        .stdout_has("… and 1,950 more X007 findings")
        .stdout_has("0 errors, 2000 warnings");
    assert!(text.stdout.lines().count() < 200, "{}", text.stdout.len());
    let github = lint(&node, "github");
    github
        .status(0)
        .stdout_has("… and 1,950 more X007 findings");
    assert!(github.stdout.lines().count() <= 52, "{}", github.stdout);

    // check prints the same warnings on stderr, capped the same way.
    node.write("/etc/mirrorctl/creds/user", "u\n");
    node.write("/etc/mirrorctl/creds/pass", "p\n");
    let check = node.run("check", &[]);
    check.stderr_has("… and 1,950 more X007 findings");
    assert!(check.stderr.lines().count() < 200, "{}", check.stderr);
}

#[test]
fn aliased_patterns_meet_every_mirror_once_and_are_capped() {
    let node = Node::new();
    node.inventory(&mirrors_x_patterns(2000));
    let json = lint(&node, "json").status(0).json();
    let codes = each(&json, "findings", "code");
    assert_eq!(codes.iter().filter(|c| **c == "X003").count(), 51);
    let summary = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "X003" && f["omitted"].is_number())
        .expect("summary");
    assert_eq!(summary["omitted"], 1950);
}

#[test]
fn long_names_are_clipped_in_every_message_and_path() {
    let node = Node::new();
    // A 200 KiB registry name (refused: DNS names have at most 253 characters) under which
    // 5,000 mirrors are invalid: every message and path under it would repeat the name.
    node.inventory(&long_name(200));
    for format in ["text", "json", "github"] {
        let report = lint(&node, format);
        report.status(1);
        assert!(
            report.stdout.len() < 64 * 1024,
            "{format}: {} bytes",
            report.stdout.len()
        );
        assert!(
            report.stdout.lines().all(|l| l.len() < 4096),
            "{format}: a line of {} bytes",
            report.stdout.lines().map(str::len).max().unwrap_or(0)
        );
    }
    let json = lint(&node, "json").json();
    let name = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "R001")
        .expect("the name is refused");
    assert!(
        name["message"]
            .as_str()
            .expect("message")
            .contains("a host name's labels have at most 63"),
        "{name}"
    );
    let path = name["path"].as_str().expect("path");
    assert!(path.len() < 400 && path.contains("…"), "{path}");
    assert_eq!(json["errors"], 5001, "the total counts every problem");
    let check = node.run("check", &["--output", "json"]);
    check.status(1);
    assert!(check.stdout.len() + check.stderr.len() < 64 * 1024);
}

#[test]
fn too_large_inventory_names_its_real_size() {
    let node = Node::new();
    // Sparse: 70 MB of nothing on disk.
    let file = std::fs::File::create(node.inventory_path()).expect("create");
    file.set_len(70_000_000).expect("set_len");
    lint(&node, "text")
        .status(1)
        .stdout_has("the inventory is 70,000,000 bytes (66.8 MiB); the limit is 64 MiB");
}
