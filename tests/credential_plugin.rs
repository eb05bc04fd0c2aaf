//! mirrorctl as the kubelet's credential provider: the exec protocol (request on stdin, response
//! on stdout), identity from the service-account token, deny by default, and what `apply`
//! installs for it. Secrets never reach an output.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{BIN, Node, run};

const BIN_DIR: &str = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin";
const MAPPING: &str = "/var/lib/mirrorctl/credential-plugin.json";

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A service-account token as the kubelet passes it (signature not checked by the plugin).
fn token(namespace: &str, service_account: &str, audience: &str, exp: u64) -> String {
    let header = b64url(br#"{"alg":"RS256","kid":"test"}"#);
    let claims = serde_json::json!({
        "aud": [audience],
        "exp": exp,
        "iss": "https://kubernetes.default.svc",
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": service_account, "uid": "8a1c3f0e-0000-4000-8000-000000000000"},
            "pod": {"name": "app-0", "uid": "1b2c3d4e-0000-4000-8000-000000000000"}
        }
    });
    format!(
        "{header}.{}.c2lnbmF0dXJl",
        b64url(claims.to_string().as_bytes())
    )
}

const FUTURE: u64 = 4_102_444_800; // 2100-01-01

/// Grants for team-a, team-b's `puller` and ci's release pipeline; `CREDS` is the directory of
/// the credential files.
const GRANTS: &str = "    - {registry: docker.io, namespace: team-a, usernameFile: CREDS/a/user, passwordFile: CREDS/a/pass}
    - {registry: docker.io, namespace: team-b, serviceAccount: puller, usernameFile: CREDS/b/user, passwordFile: CREDS/b/pass}
    - registry: docker.io
      namespace: ci
      annotations: {mirrors.example/pipeline: release}
      usernameFile: CREDS/ci/user
      passwordFile: CREDS/ci/pass
";

struct Plugin {
    node: Node,
}

impl Plugin {
    fn new() -> Self {
        Plugin::with(GRANTS)
    }

    /// Applies an inventory with `grants` under a temp root; the mapping points at credential
    /// files under the same temp dir (node paths = real paths here, because the plugin runs on
    /// the node, without --root): `CREDS/{a,b,ci}/{user,pass}`.
    fn with(grants: &str) -> Self {
        let node = Node::new();
        let creds = node.dir.path().join("creds");
        for (team, user, pass) in [
            ("a", "team-a-bot", "Secret-A-123"),
            ("b", "team-b-bot", "Secret-B-456"),
            ("ci", "ci-bot", "Secret-CI-789"),
        ] {
            std::fs::create_dir_all(creds.join(team)).expect("mkdir");
            std::fs::write(creds.join(team).join("user"), format!("{user}\n")).expect("write");
            std::fs::write(creds.join(team).join("pass"), format!("{pass}\n")).expect("write");
            for file in ["user", "pass"] {
                std::fs::set_permissions(
                    creds.join(team).join(file),
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .expect("chmod");
            }
        }
        let c = creds.display();
        node.inventory(&format!(
            "version: 1
target: {{kubelet: \"1.34\"}}
registries:
  docker.io:
    mirrors: [{{url: \"https://mirror.example\", auth: {{provider: mirrorctl-credentials}}}}]
    fallback: false
credentialPlugin:
  audience: mirrors.example
  binary: {BIN}
  requiredAnnotationKeys: [mirrors.example/pipeline]
  grants:
{}",
            grants.replace("CREDS", &c.to_string())
        ));
        node.run("apply", &[]).status(2);
        Plugin { node }
    }

    /// Runs the installed bin-dir executable, as the kubelet does.
    fn exec(&self, request: &str) -> (i32, String, String) {
        let mapping = self.node.path(MAPPING);
        let mut child = Command::new(self.node.path(&format!("{BIN_DIR}/mirrorctl-credentials")))
            .args(["credential-provider", "--mapping"])
            .arg(mapping)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bin-dir entry runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(request.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        for secret in ["Secret-A-123", "Secret-B-456", "Secret-CI-789"] {
            assert!(!stderr.contains(secret), "a secret on stderr: {stderr}");
        }
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    fn ask(
        &self,
        image: &str,
        token: Option<&str>,
        annotations: Option<serde_json::Value>,
    ) -> (i32, serde_json::Value, String) {
        let mut request = serde_json::json!({
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "kind": "CredentialProviderRequest",
            "image": image,
        });
        if let Some(t) = token {
            request["serviceAccountToken"] = t.into();
        }
        if let Some(a) = annotations {
            request["serviceAccountAnnotations"] = a;
        }
        let (status, stdout, stderr) = self.exec(&request.to_string());
        let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
        (status, json, stderr)
    }
}

#[test]
fn apply_installs_provider_entry_mapping_and_executable() {
    let plugin = Plugin::new();
    let node = &plugin.node;
    let config = node.read("/etc/kubernetes/credential-providers.yaml");
    for needle in [
        "name: \"mirrorctl-credentials\"",
        "- \"docker.io\"",
        "- \"credential-provider\"",
        "serviceAccountTokenAudience: \"mirrors.example\"",
        "requireServiceAccount: true",
        "cacheType: \"ServiceAccount\"",
        "- \"mirrors.example/pipeline\"",
    ] {
        assert!(config.contains(needle), "{needle} in\n{config}");
    }
    assert_eq!(node.mode(MAPPING), 0o600);
    assert_eq!(
        node.mode(&format!("{BIN_DIR}/mirrorctl-credentials")),
        0o755
    );
    let mapping = node.read(MAPPING);
    assert!(
        !mapping.contains("Secret-"),
        "the mapping names files, never secrets"
    );
    node.run("apply", &[]).status(0);
    let report = node.run("check", &["--output", "json"]).status(0).json();
    let kinds: Vec<&str> = crate::support::each(&report, "files", "kind");
    assert!(
        kinds.contains(&"credentialPluginMapping") && kinds.contains(&"credentialPluginExec"),
        "{kinds:?}"
    );
}

#[test]
fn each_team_gets_its_own_credentials_and_nobody_else_any() {
    let plugin = Plugin::new();
    let image = "docker.io/library/nginx";
    let (status, a, note) = plugin.ask(
        image,
        Some(&token("team-a", "default", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(status, 0, "{note}");
    assert_eq!(a["auth"]["docker.io"]["username"], "team-a-bot");
    assert_eq!(a["auth"]["docker.io"]["password"], "Secret-A-123");
    assert_eq!(a["kind"], "CredentialProviderResponse");
    assert_eq!(a["apiVersion"], "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(a["cacheKeyType"], "Registry");
    assert_eq!(a["cacheDuration"], "5m");
    let keys: Vec<&String> = a.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "apiVersion",
            "auth",
            "cacheDuration",
            "cacheKeyType",
            "kind"
        ],
        "exactly the schema's fields"
    );
    assert!(note.contains("credentials for team-a/default"), "{note}");

    let (_, b, _) = plugin.ask(
        "nginx:1.27",
        Some(&token("team-b", "puller", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(b["auth"]["docker.io"]["username"], "team-b-bot");

    let (status, wrong_sa, note) = plugin.ask(
        image,
        Some(&token("team-b", "default", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(status, 0);
    assert_eq!(
        wrong_sa["auth"],
        serde_json::json!({}),
        "team-b's grant is for the puller account only"
    );
    assert!(
        note.contains("no grant for team-b/default: denied"),
        "{note}"
    );

    let (_, unmapped, _) = plugin.ask(
        image,
        Some(&token("team-c", "default", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(unmapped["auth"], serde_json::json!({}));

    let (_, other_registry, _) = plugin.ask(
        "quay.io/org/app",
        Some(&token("team-a", "default", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(
        other_registry["auth"],
        serde_json::json!({}),
        "grants are per registry"
    );

    let ci = token("ci", "builder", "mirrors.example", FUTURE);
    let (_, without, _) = plugin.ask(
        image,
        Some(&ci),
        Some(serde_json::json!({"mirrors.example/pipeline": "test"})),
    );
    assert_eq!(
        without["auth"],
        serde_json::json!({}),
        "the annotation value must match"
    );
    let (_, with, _) = plugin.ask(
        image,
        Some(&ci),
        Some(serde_json::json!({"mirrors.example/pipeline": "release"})),
    );
    assert_eq!(with["auth"]["docker.io"]["username"], "ci-bot");
}

/// Issue 14: the plugin reads a grant's files on every request, so a rotated password is
/// answered at once: no apply (nothing on disk changes) and no kubelet restart.
#[test]
fn issue_14_a_rotated_grant_is_answered_on_the_next_request_without_apply() {
    let plugin = Plugin::new();
    let team_a = token("team-a", "default", "mirrors.example", FUTURE);
    let (_, first, _) = plugin.ask("docker.io/library/nginx:1", Some(&team_a), None);
    assert_eq!(first["auth"]["docker.io"]["password"], "Secret-A-123");
    let pass = plugin.node.dir.path().join("creds/a/pass");
    std::fs::write(&pass, "Rotated-A-321\n").expect("rotate");
    let (status, second, stderr) = plugin.ask("docker.io/library/nginx:1", Some(&team_a), None);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(second["auth"]["docker.io"]["username"], "team-a-bot");
    assert_eq!(second["auth"]["docker.io"]["password"], "Rotated-A-321");
    assert!(!stderr.contains("Rotated-A-321"), "{stderr}");
    plugin
        .node
        .run("check", &[])
        .status(0)
        .nowhere("Rotated-A-321");
}

#[test]
fn credential_files_readable_by_others_are_refused() {
    let plugin = Plugin::new();
    let pass = plugin.node.dir.path().join("creds/a/pass");
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let (status, response, note) = plugin.ask(
        "nginx",
        Some(&token("team-a", "default", "mirrors.example", FUTURE)),
        None,
    );
    assert_eq!(status, 1, "{note}");
    assert_eq!(response, serde_json::Value::Null);
    assert!(
        note.contains("readable by group or others (mode 0644)"),
        "{note}"
    );
}

#[test]
fn issue_12_item_12_unknown_request_fields_are_tolerated() {
    let plugin = Plugin::new();
    let request = serde_json::json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": "docker.io/library/nginx",
        "serviceAccountToken": token("team-a", "default", "mirrors.example", FUTURE),
        "serviceAccountAnnotations": {},
        "podNamespace": "team-a",
        "aFieldOfKubelet2": {"nested": [1, 2]},
    });
    let (status, stdout, stderr) = plugin.exec(&request.to_string());
    assert_eq!(status, 0, "a newer kubelet's extra fields: {stderr}");
    let response: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON response");
    assert_eq!(response["auth"]["docker.io"]["username"], "team-a-bot");
    let mut wrong_kind = request.clone();
    wrong_kind["kind"] = "CredentialProviderResponse".into();
    let (status, stdout, stderr) = plugin.exec(&wrong_kind.to_string());
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stdout.is_empty() && stderr.contains("unexpected kind"),
        "{stderr}"
    );
    let mut wrong_version = request;
    wrong_version["apiVersion"] = "credentialprovider.kubelet.k8s.io/v2".into();
    let (status, _, stderr) = plugin.exec(&wrong_version.to_string());
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("unsupported apiVersion"), "{stderr}");
}

#[test]
fn issue_12_item_12_mapping_readable_by_others_is_refused() {
    let plugin = Plugin::new();
    let mapping = plugin.node.path(MAPPING);
    let ask = || {
        plugin.ask(
            "nginx",
            Some(&token("team-a", "default", "mirrors.example", FUTURE)),
            None,
        )
    };
    for mode in [0o640, 0o604, 0o620] {
        std::fs::set_permissions(&mapping, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .expect("chmod");
        let (status, response, note) = ask();
        assert_eq!(status, 1, "{note}");
        assert_eq!(response, serde_json::Value::Null, "no answer");
        let expected = format!(
            "the mapping `{}` is open to group or others (mode {mode:04o})",
            mapping.display()
        );
        assert!(note.contains(&expected), "{expected} in {note}");
        assert_eq!(note.trim_end().lines().count(), 1, "one line: {note}");
    }
    std::fs::set_permissions(
        &mapping,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let (status, response, note) = ask();
    assert_eq!(status, 0, "{note}");
    assert_eq!(response["auth"]["docker.io"]["username"], "team-a-bot");
    std::fs::remove_file(&mapping).expect("remove");
    std::fs::create_dir(&mapping).expect("mkdir");
    let (status, _, note) = ask();
    assert_eq!(status, 1, "{note}");
    assert!(note.contains("is not a regular file"), "{note}");
}

#[test]
fn wrong_audience_expired_and_missing_tokens_are_denied() {
    let plugin = Plugin::new();
    let image = "docker.io/library/nginx";
    let (status, r, note) = plugin.ask(
        image,
        Some(&token("team-a", "default", "someone-else", FUTURE)),
        None,
    );
    assert_eq!((status, &r["auth"]), (0, &serde_json::json!({})));
    assert!(
        note.contains("not for audience `mirrors.example`"),
        "{note}"
    );
    let (status, r, note) = plugin.ask(
        image,
        Some(&token("team-a", "default", "mirrors.example", 1_000_000)),
        None,
    );
    assert_eq!((status, &r["auth"]), (0, &serde_json::json!({})));
    assert!(note.contains("expired"), "{note}");
    let (status, r, note) = plugin.ask(image, None, None);
    assert_eq!((status, &r["auth"]), (0, &serde_json::json!({})));
    assert!(note.contains("no service account token"), "{note}");
}

#[test]
fn an_image_host_beyond_dns_limits_gets_no_credentials_and_a_clipped_note() {
    let plugin = Plugin::new();
    let good = token("team-a", "default", "mirrors.example", FUTURE);
    // team-a is granted docker.io; a grant pattern could never match these hosts.
    let (status, r, _) = plugin.ask("docker.io/library/nginx", Some(&good), None);
    assert_eq!(status, 0);
    assert_ne!(
        r["auth"],
        serde_json::json!({}),
        "premise: team-a gets docker.io"
    );
    for host in [
        format!("{}.example", "a".repeat(100_000)),
        vec!["abc"; 70_000].join("."),
    ] {
        let (status, r, note) = plugin.ask(&format!("{host}/library/nginx"), Some(&good), None);
        assert_eq!((status, &r["auth"]), (0, &serde_json::json!({})), "{note}");
        assert!(note.contains("not a DNS name"), "{note}");
        assert!(
            note.len() < 1_000,
            "the note is clipped: {} bytes",
            note.len()
        );
    }
}

#[test]
fn malformed_requests_fail_with_one_line() {
    let plugin = Plugin::new();
    let good = token("team-a", "default", "mirrors.example", FUTURE);
    for (request, reason) in [
        ("not json".to_string(), "malformed request"),
        (format!(r#"{{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":"{good}","serviceAccountAnnotations":["a"]}}"#), "malformed request"),
        (r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":5}"#.to_string(), "malformed request"),
        (r#"{"kind":"CredentialProviderRequest","image":"nginx"}"#.to_string(), "missing field `apiVersion`"),
        (r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"nginx"}"#.to_string(), "unsupported apiVersion"),
        (r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Other","image":"nginx"}"#.to_string(), "unexpected kind"),
        (r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":"a.b"}"#.to_string(), "not a JWT"),
        (r#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"nginx","serviceAccountToken":"a.!!!.c"}"#.to_string(), "not base64url"),
    ] {
        let (status, stdout, stderr) = plugin.exec(&request);
        assert_eq!(status, 1, "{request}: {stderr}");
        assert!(stdout.is_empty(), "no response on failure: {stdout}");
        assert!(stderr.contains(reason), "{reason} in {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
}

#[test]
fn kubelet_1_33_answers_are_never_cached() {
    let node = Node::new();
    node.inventory(
        "version: 1
target: {kubelet: \"1.33\", kubeletFeatureGates: {KubeletServiceAccountTokenForCredentialProviders: true}}
registries:
  docker.io: {mirrors: [{url: \"https://m.example\"}], fallback: false}
credentialPlugin:
  audience: a
  grants: [{registry: docker.io, namespace: team-a, usernameFile: /u, passwordFile: /p}]
",
    );
    node.run("apply", &[]).status(2);
    let mapping: serde_json::Value = serde_json::from_str(&node.read(MAPPING)).expect("json");
    assert_eq!(mapping["cacheDuration"], "0s");
    assert!(
        !node
            .read("/etc/kubernetes/credential-providers.yaml")
            .contains("cacheType")
    );
}

#[test]
fn resolve_shows_the_grant_by_file_never_the_secret() {
    let plugin = Plugin::new();
    let inventory = plugin.node.inventory_path();
    let inventory = inventory.to_str().expect("utf-8");
    let out = run(
        &["resolve", "nginx", "-i", inventory, "--namespace", "team-a"],
        None,
    );
    out.status(0)
        .stdout_has("credentialPlugin grants for team-a/default:")
        .stdout_has("/creds/a/pass")
        .stdout_has("runs    mirrorctl-credentials")
        .nowhere("Secret-A-123");
    run(
        &[
            "resolve",
            "nginx",
            "-i",
            inventory,
            "--namespace",
            "team-b",
            "--service-account",
            "other",
        ],
        None,
    )
    .status(0)
    .stdout_has("none: the plugin answers with no credentials");
}

#[test]
fn lint_flags_plugin_credentials_that_reach_the_upstream() {
    let node = Node::new();
    node.inventory(
        "version: 1
target: {kubelet: \"1.34\"}
registries:
  docker.io: {mirrors: [{url: \"https://m.example\"}]}
credentialPlugin:
  audience: a
  grants:
    - {registry: docker.io, namespace: team-a, usernameFile: /u, passwordFile: /p}
    - {registry: quay.io, namespace: team-a, usernameFile: /u, passwordFile: /p}
",
    );
    let inventory = node.inventory_path();
    let report = run(
        &[
            "lint",
            "-i",
            inventory.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        None,
    )
    .status(0)
    .json();
    let codes: Vec<&str> = crate::support::each(&report, "findings", "code");
    assert!(
        codes.contains(&"X007") && codes.contains(&"P006"),
        "{codes:?}"
    );
    node.inventory("version: 1\ntarget: {kubelet: \"1.32\"}\ncredentialPlugin:\n  audience: a\n  grants: [{registry: docker.io, namespace: a, usernameFile: /u, passwordFile: /p}]\n");
    run(&["lint", "-i", inventory.to_str().expect("utf-8")], None)
        .status(1)
        .stdout_has("K007");
}

#[test]
fn issue_12_item_9_matching_as_the_kubelet() {
    let plugin = Plugin::with(
        "    - {registry: \"[::1]\", namespace: team-a, usernameFile: CREDS/a/user, passwordFile: CREDS/a/pass}
    - {registry: \"reg:5000/%74eam\", namespace: team-a, usernameFile: CREDS/b/user, passwordFile: CREDS/b/pass}
    - {registry: UPPER, namespace: team-a, usernameFile: CREDS/ci/user, passwordFile: CREDS/ci/pass}
    - {registry: docker.io, namespace: team-z, usernameFile: CREDS/a/user, passwordFile: CREDS/a/pass}
",
    );
    let team_a = token("team-a", "default", "mirrors.example", FUTURE);
    let inventory = plugin.node.inventory_path();
    let inventory = inventory.to_str().expect("utf-8");
    for (image, key, user) in [
        // A bracketed host without a port keeps its brackets: a glob character class.
        ("[::1]/x", None, None),
        // The pattern's path is %-decoded before the prefix comparison.
        (
            "reg:5000/team/app",
            Some("reg:5000/%74eam"),
            Some("team-b-bot"),
        ),
        // An uppercase first component is a registry host, not a Docker Hub path.
        ("UPPER/x", Some("UPPER"), Some("ci-bot")),
    ] {
        let (status, response, note) = plugin.ask(image, Some(&team_a), None);
        assert_eq!(status, 0, "{image}: {note}");
        match (key, user) {
            (Some(key), Some(user)) => {
                assert_eq!(
                    response["auth"][key]["username"], user,
                    "{image}: {response}"
                )
            }
            _ => assert_eq!(response["auth"], serde_json::json!({}), "{image}"),
        }
        let resolved = run(
            &[
                "resolve",
                image,
                "-i",
                inventory,
                "--namespace",
                "team-a",
                "--output",
                "json",
            ],
            None,
        );
        let json = resolved.status(0).json();
        let runs = json["credentialProviders"]
            .as_array()
            .expect("providers")
            .iter()
            .any(|p| p["name"] == "mirrorctl-credentials" && p["runs"] == true);
        assert_eq!(runs, key.is_some(), "{image}: the kubelet runs the plugin");
        let granted: Vec<&str> = crate::support::each(&json, "granted", "registry");
        assert_eq!(granted, key.into_iter().collect::<Vec<_>>(), "{image}");
    }
}

#[test]
fn issue_12_item_11_resolve_and_the_plugin_choose_the_same_grant() {
    let plugin = Plugin::with(
        "    - registry: docker.io
      namespace: ci
      annotations: {mirrors.example/pipeline: release}
      usernameFile: CREDS/ci/user
      passwordFile: CREDS/ci/pass
    - {registry: docker.io, namespace: ci, usernameFile: CREDS/b/user, passwordFile: CREDS/b/pass}
",
    );
    let inventory = plugin.node.inventory_path();
    let inventory = inventory.to_str().expect("utf-8");
    let ci = token("ci", "builder", "mirrors.example", FUTURE);
    let resolve = |extra: &[&str]| {
        let mut args = vec![
            "resolve",
            "nginx",
            "-i",
            inventory,
            "--namespace",
            "ci",
            "--service-account",
            "builder",
        ];
        args.extend_from_slice(extra);
        run(&args, None).status(0).json()
    };
    for (value, expected) in [
        ("other", "team-b-bot"),
        ("release", "ci-bot"),
        ("", "team-b-bot"),
    ] {
        let (status, answer, note) = plugin.ask(
            "nginx",
            Some(&ci),
            Some(serde_json::json!({ "mirrors.example/pipeline": value })),
        );
        assert_eq!(status, 0, "{note}");
        let username = answer["auth"]["docker.io"]["username"]
            .as_str()
            .unwrap_or_else(|| panic!("{value}: credentials in {answer}"));
        assert_eq!(username, expected, "the plugin, annotated {value:?}");
        let annotation = format!("mirrors.example/pipeline={value}");
        let json = resolve(&["--annotation", &annotation, "--output", "json"]);
        let granted = json["granted"].as_array().expect("granted");
        assert_eq!(granted.len(), 1, "{value}: one answer in {json}");
        let file = granted[0]["usernameFile"].as_str().expect("a file");
        let shown = std::fs::read_to_string(file).expect("the credential file");
        assert_eq!(
            shown.trim_end(),
            username,
            "resolve names the grant the plugin answers with, annotated {value:?}"
        );
        let verdicts: Vec<&str> = crate::support::each(&json, "grants", "verdict");
        let expected_verdicts = if value == "release" {
            ["answers", "shadowed"]
        } else {
            ["skipped", "answers"]
        };
        assert_eq!(verdicts, expected_verdicts, "{value}");
    }
    // Without the annotations, resolve shows each grant's condition and decides nothing.
    let text = run(
        &["resolve", "nginx", "-i", inventory, "--namespace", "ci"],
        None,
    );
    text.status(0)
        .stdout_has("only if annotated mirrors.example/pipeline=release")
        .stdout_has("unless credentialPlugin.grants[0] applies")
        .nowhere("the plugin answers with credentialPlugin")
        .nowhere("none: the plugin answers with no credentials");
    let json = resolve(&["--output", "json"]);
    assert_eq!(json["granted"], serde_json::json!([]), "{json}");
    let verdicts: Vec<&str> = crate::support::each(&json, "grants", "verdict");
    assert_eq!(verdicts, ["depends", "depends"]);
    run(
        &[
            "resolve",
            "nginx",
            "-i",
            inventory,
            "--namespace",
            "ci",
            "--annotation",
            "mirrors.example/pipeline",
        ],
        None,
    )
    .status(64)
    .stderr_has("is not KEY=VALUE");
}
