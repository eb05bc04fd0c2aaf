//! `mirrorctl lint`: one inventory per rule under `fixtures/lint/`, each snapshotted with its
//! exit status; the formats; and the node checks under `--root`.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::{Node, run};

#[test]
fn lint_corpus_snapshots() {
    insta::glob!("../fixtures/lint", "*.yaml", |path| {
        let file = path.to_str().expect("utf-8");
        let text = run(&["lint", "-i", file], None);
        let json = run(&["lint", "-i", file, "--format", "json"], None).json();
        assert_eq!(text.status, if json["errors"] == 0 { 0 } else { 1 });
        let name = path.file_name().expect("name").to_string_lossy();
        let expected_code = name.split('-').next().unwrap_or_default();
        if expected_code.len() == 4 && expected_code != "clea" {
            let codes: Vec<&str> = crate::support::each(&json, "findings", "code");
            assert!(
                codes.contains(&expected_code),
                "{name}: expected {expected_code} in {codes:?}"
            );
        }
        let shown = text.stdout.replace(file, "[FILE]");
        insta::assert_snapshot!(format!("exit {}\n{shown}", text.status));
    });
}

#[test]
fn strict_fails_on_warnings() {
    let fixture =
        crate::support::fixtures().join("lint/X004-provider-credentials-reach-upstream.yaml");
    let file = fixture.to_str().expect("utf-8");
    run(&["lint", "-i", file], None)
        .status(0)
        .stdout_has("warning[X004]");
    run(&["lint", "-i", file, "--strict"], None).status(1);
}

#[test]
fn github_annotations_carry_file_line_and_column() {
    let fixture = crate::support::fixtures().join("lint/X002-provider-never-runs.yaml");
    let file = fixture.to_str().expect("utf-8");
    let out = run(&["lint", "-i", file, "--format", "github"], None);
    out.status(1);
    let first = out.stdout.lines().next().expect("an annotation");
    assert!(
        first.starts_with(&format!("::error file={file},line=4,col=")),
        "{first}"
    );
    assert!(first.contains("title=mirrorctl X002::"), "{first}");
    assert!(
        out.stdout.lines().all(|l| l.starts_with("::")),
        "one line per finding: {}",
        out.stdout
    );
}

#[test]
fn node_checks_under_root() {
    let node = Node::new();
    node.inventory(
        "version: 1
registries:
  docker.io:
    mirrors:
      - url: https://mirror.example
        ca: /etc/pki/missing.pem
        client: {cert: /etc/pki/node.crt, key: /etc/pki/node.key}
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/user, passwordFile: /etc/mirrorctl/pass}}
  \"*\":
    mirrors: [{url: \"https://cache.example\"}]
credentialProviders:
  - {name: corp, matchImages: [docker.io], defaultCacheDuration: 12h}
  - {name: absent, matchImages: [quay.io], defaultCacheDuration: 12h}
",
    );
    node.write(
        "/etc/pki/node.crt",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    node.write("/etc/pki/node.key", "not a key\n");
    node.write("/etc/mirrorctl/user", "u\n");
    fs::set_permissions(
        node.path("/etc/mirrorctl/user"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    node.write("/etc/mirrorctl/pass", "p\n");
    fs::set_permissions(
        node.path("/etc/mirrorctl/pass"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    node.write("/etc/containerd/certs.d/quay.io/ca.crt", "stray");
    let bin = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin";
    node.write(&format!("{bin}/corp"), "#!/bin/sh\n");
    fs::set_permissions(
        node.path(&format!("{bin}/corp")),
        fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let root = node.root();
    let inventory = node.inventory_path();
    let args = [
        "lint",
        "-i",
        inventory.to_str().expect("utf-8"),
        "--root",
        root.to_str().expect("utf-8"),
        "--format",
        "json",
    ];
    let report = run(&args, None);
    report.status(1);
    let codes = code_path_pairs(&report.json());
    for expected in [
        ("N001", "registries.\"docker.io\".mirrors[0].ca[0]"),
        ("N002", "registries.\"docker.io\".mirrors[0].client[0].key"),
        ("N003", "credentialProviders[1].name"),
        ("R101", "registries.\"*\""),
        (
            "N005",
            "registries.\"docker.io\".mirrors[0].auth.basicFrom.passwordFile",
        ),
    ] {
        assert!(
            codes.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {codes:?}"
        );
    }
    assert!(
        !codes
            .iter()
            .any(|(c, p)| c == "N003" && p == "credentialProviders[0].name"),
        "corp is installed"
    );
    assert!(
        !codes
            .iter()
            .any(|(c, p)| c == "N002" && p.ends_with(".cert")),
        "the cert is PEM"
    );
    assert!(
        !codes
            .iter()
            .any(|(c, p)| c == "N005" && p.ends_with("usernameFile")),
        "the user file is 0600"
    );
    // Without --root, lint stays offline.
    run(&["lint", "-i", inventory.to_str().expect("utf-8")], None).status(0);
}

/// The findings of `inventory` as (code, path) pairs, and lint's exit status.
fn findings(inventory: &str) -> (i32, Vec<(String, String)>) {
    let node = Node::new();
    node.inventory(inventory);
    let file = node.inventory_path();
    let report = run(
        &[
            "lint",
            "-i",
            file.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        None,
    );
    (report.status, code_path_pairs(&report.json()))
}

/// Every finding of a JSON lint report as (code, path).
fn code_path_pairs(json: &serde_json::Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn issue_12_item_8_duration_past_int64() {
    let provider = |duration: &str| {
        format!(
            "version: 1\ncredentialProviders:\n  - {{name: p, matchImages: [docker.io], defaultCacheDuration: \"{duration}\"}}\n"
        )
    };
    let path = "credentialProviders[0].defaultCacheDuration";
    for past in ["9223372036854775808ns", "2562047h47m16.854775808s"] {
        let (status, found) = findings(&provider(past));
        assert_eq!(status, 1, "{past}: {found:?}");
        assert!(
            found.contains(&("K005".into(), path.into())),
            "{past}: {found:?}"
        );
    }
    let (status, found) = findings(&provider("9223372036854775807ns"));
    assert_eq!(
        (status, found),
        (0, Vec::new()),
        "the largest duration is valid"
    );
}

#[test]
fn issue_12_item_10_annotation_keys_compare_exactly() {
    let inventory = |required: &str, optional: &str| {
        format!(
            "version: 1
credentialProviders:
  - name: p
    matchImages: [docker.io]
    defaultCacheDuration: 1h
    tokenAttributes:
      serviceAccountTokenAudience: a
      requireServiceAccount: true
      cacheType: ServiceAccount
      requiredServiceAccountAnnotationKeys: {required}
      optionalServiceAccountAnnotationKeys: {optional}
"
        )
    };
    let (status, found) = findings(&inventory(
        "[example.com/role, example.com/ROLE]",
        "[Example.com/role]",
    ));
    assert_eq!(
        (status, found),
        (0, Vec::new()),
        "keys differing in case are distinct to the kubelet"
    );
    let attrs = "credentialProviders[0].tokenAttributes";
    let (status, found) = findings(&inventory(
        "[example.com/role, example.com/role]",
        "[example.com/ROLE, example.com/ROLE]",
    ));
    assert_eq!(status, 1);
    for item in [
        "requiredServiceAccountAnnotationKeys[1]",
        "optionalServiceAccountAnnotationKeys[1]",
    ] {
        let expected = ("K011".to_string(), format!("{attrs}.{item}"));
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    let (status, found) = findings(&inventory("[example.com/role]", "[example.com/role]"));
    assert_eq!(status, 1);
    assert_eq!(
        found,
        [(
            "K011".to_string(),
            format!("{attrs}.optionalServiceAccountAnnotationKeys[0]")
        )],
        "both required and optional"
    );
}

#[test]
fn issue_12_item_7_token_attributes_need_the_feature_gate() {
    let inventory = |target: &str| {
        format!(
            "version: 1
target: {target}
credentialProviders:
  - name: sa
    matchImages: [docker.io]
    defaultCacheDuration: 1h
    tokenAttributes: {{serviceAccountTokenAudience: corp, requireServiceAccount: true{}}}
",
            if target.contains("1.33") {
                ""
            } else {
                ", cacheType: ServiceAccount"
            }
        )
    };
    let gate = "KubeletServiceAccountTokenForCredentialProviders";
    let refused = (
        "K014".to_string(),
        "credentialProviders[0].tokenAttributes".to_string(),
    );
    for target in [
        "{kubelet: \"1.33\"}".to_string(),
        format!("{{kubelet: \"1.33\", kubeletFeatureGates: {{{gate}: false}}}}"),
        format!("{{kubelet: \"1.34\", kubeletFeatureGates: {{{gate}: false}}}}"),
        format!("{{kubelet: \"1.36\", kubeletFeatureGates: {{{gate}: false}}}}"),
    ] {
        let (status, found) = findings(&inventory(&target));
        assert_eq!(status, 1, "{target}: {found:?}");
        assert!(found.contains(&refused), "{target}: {found:?}");
        let node = Node::new();
        node.inventory(&inventory(&target));
        node.run("apply", &[]).status(1).stderr_has("[K014]");
        assert!(node.files().is_empty(), "{target}: nothing written");
    }
    for target in [
        format!("{{kubelet: \"1.33\", kubeletFeatureGates: {{{gate}: true}}}}"),
        "{kubelet: \"1.34\"}".to_string(),
        format!("{{kubelet: \"1.35\", kubeletFeatureGates: {{{gate}: true}}}}"),
    ] {
        let (status, found) = findings(&inventory(&target));
        assert_eq!(status, 0, "{target}: {found:?}");
        assert!(!found.contains(&refused), "{target}: {found:?}");
    }
    let (status, found) = findings(&format!(
        "version: 1\ntarget: {{kubelet: \"1.34\", kubeletFeatureGates: {{{gate}: true, KubeletFoo: true}}}}\n"
    ));
    assert_eq!(status, 1);
    assert_eq!(
        found,
        [(
            "S001".to_string(),
            "target.kubeletFeatureGates.KubeletFoo".to_string()
        )],
        "unknown gates are errors naming the field"
    );
    let plugin = |target: &str| {
        format!(
            "version: 1\ntarget: {target}\ncredentialPlugin:\n  audience: a\n  grants: [{{registry: docker.io, namespace: a, usernameFile: /u, passwordFile: /p}}]\n"
        )
    };
    let (status, found) = findings(&plugin("{kubelet: \"1.33\"}"));
    assert_eq!(status, 1);
    assert!(
        found.contains(&("K014".into(), "credentialPlugin.tokenAttributes".into())),
        "the plugin's own provider: {found:?}"
    );
    let (_, found) = findings(&plugin(&format!(
        "{{kubelet: \"1.33\", kubeletFeatureGates: {{{gate}: true}}}}"
    )));
    assert!(!found.iter().any(|(code, _)| code == "K014"), "{found:?}");
}

#[test]
fn issue_12_item_8_patterns_are_urls_to_the_kubelet() {
    let inventory = |kubelet: &str, pattern: &str| {
        format!(
            "version: 1
target: {{kubelet: \"{kubelet}\"}}
credentialProviders:
  - {{name: p, matchImages: [\"{pattern}\", ok.example], defaultCacheDuration: 1h}}
credentialPlugin:
  audience: a
  grants: [{{registry: \"{pattern}\", namespace: a, usernameFile: /u, passwordFile: /p}}]
"
        )
    };
    let refused = [
        (
            "K004".to_string(),
            "credentialProviders[0].matchImages[0]".to_string(),
        ),
        (
            "P003".to_string(),
            "credentialPlugin.grants[0].registry".to_string(),
        ),
    ];
    for (kubelet, pattern, rejected) in [
        ("1.34", "%41.io", true),
        ("1.34", "x.io/%", true),
        ("1.34", "x.io/%zz/app", true),
        ("1.34", "x.io/%74eam", false),
        ("1.35", "a:b:5000", false),
        ("1.36", "a:b:5000", true),
        ("1.36", "reg:5000/team", false),
        ("1.36", "[::1]:5000", false),
    ] {
        let (status, found) = findings(&inventory(kubelet, pattern));
        for problem in &refused {
            assert_eq!(
                found.contains(problem),
                rejected,
                "{pattern} on {kubelet}: {problem:?} in {found:?}"
            );
        }
        assert_eq!(
            status,
            i32::from(rejected),
            "{pattern} on {kubelet}: {found:?}"
        );
        assert!(
            !found
                .iter()
                .any(|(_, path)| path.ends_with("matchImages[1]")),
            "{found:?}"
        );
    }
}
