//! Issue 14: secrets from files (`{file: …}` header values, `auth.bearerFrom`, `auth.basicFrom`)
//! and their rotation. A changed secret file makes `check` exit 2 and `diff` show only the two
//! digests; `apply` rewrites the file; no secret byte reaches any output, log or error.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::{Node, Run};

fn hosts(registry: &str) -> String {
    format!("/etc/containerd/certs.d/{registry}/hosts.toml")
}

const TOKEN: &str = "/etc/mirrorctl/creds/token";
const TENANT: &str = "/etc/mirrorctl/creds/tenant";
const BEARER: &str = "/etc/mirrorctl/creds/bearer";
const FIRST: [&str; 3] = ["Tok-First-0001", "Tenant-First-0002", "Bearer-First-0003"];
const SECOND: [&str; 3] = [
    "Tok-Second-0004",
    "Tenant-Second-0005",
    "Bearer-Second-0006",
];

/// A mirror with a token header (a credential's name), a header whose name says nothing
/// (`X-Tenant`, in a list beside a plain value) and a bearer token, all from files.
fn node_with_secrets() -> Node {
    let node = Node::new();
    write_secrets(&node, FIRST);
    node.inventory(&format!(
        "version: 1
registries:
  docker.io:
    mirrors:
      - url: https://mirror.example
        headers:
          X-Team: platform
          X-Mirror-Token: {{file: {TOKEN}}}
          X-Tenant: [plain-tenant, {{file: {TENANT}}}]
        auth: {{bearerFrom: {{tokenFile: {BEARER}}}}}
  quay.io:
    mirrors: [{{url: https://quay-mirror.example}}]
"
    ));
    node
}

fn write_secrets(node: &Node, [token, tenant, bearer]: [&str; 3]) {
    for (path, value) in [(TOKEN, token), (TENANT, tenant), (BEARER, bearer)] {
        node.write(path, &format!("{value}\n"));
        fs::set_permissions(node.path(path), fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

/// No value of either generation, raw or as `Bearer …`, in the run's stdout or stderr.
#[track_caller]
fn no_secret(run: &Run) {
    for secret in FIRST.iter().chain(&SECOND) {
        run.nowhere(secret);
    }
}

#[test]
fn header_files_and_bearer_tokens_are_written_0600_and_never_shown() {
    let node = node_with_secrets();
    let runs = [
        node.run("diff", &[]),
        node.run("check", &["--output", "json"]),
        node.run("apply", &["--check", "--diff", "--output", "json"]),
        node.run("lint", &[]),
    ];
    runs[0]
        .status(2)
        .stdout_has("+X-Mirror-Token = \"<redacted sha256:")
        .stdout_has("+Authorization = \"<redacted sha256:")
        .stdout_has("+X-Team = \"platform\"")
        .stdout_has("+X-Tenant = [\"<redacted sha256:");
    let report = runs[1].status(2).json();
    let docker = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == hosts("docker.io"))
        .expect("docker.io's hosts.toml");
    assert_eq!(docker["secret"], true, "{docker}");
    assert_eq!(docker["mode"], "0600", "{docker}");
    let apply = node.run("apply", &["--diff"]);
    apply.status(2);
    let text = node.read(&hosts("docker.io"));
    for line in [
        format!("X-Mirror-Token = \"{}\"", FIRST[0]),
        format!("X-Tenant = [\"plain-tenant\", \"{}\"]", FIRST[1]),
        format!("Authorization = \"Bearer {}\"", FIRST[2]),
        "X-Team = \"platform\"".to_string(),
    ] {
        assert!(text.contains(&line), "{line} in\n{text}");
    }
    assert_eq!(node.mode(&hosts("docker.io")), 0o600);
    assert_eq!(
        node.mode(&hosts("quay.io")),
        0o644,
        "no secret, default mode"
    );
    let resolve = crate::support::run(
        &[
            "resolve",
            "nginx",
            "-i",
            node.inventory_path().to_str().expect("utf-8"),
        ],
        None,
    );
    resolve
        .status(0)
        .stdout_has(&format!("header X-Mirror-Token: <redacted: from {TOKEN}>"))
        .stdout_has(&format!(
            "header Authorization: Bearer <redacted: from {BEARER}>"
        ));
    let lint_root = node.run("lint", &[]);
    lint_root.status(0);
    for run in runs.iter().chain([&apply, &resolve, &lint_root]) {
        no_secret(run);
    }
}

#[test]
fn render_to_stdout_reads_no_secret_and_says_so() {
    let node = node_with_secrets();
    let render = crate::support::run(
        &[
            "render",
            "-i",
            node.inventory_path().to_str().expect("utf-8"),
        ],
        None,
    );
    render
        .status(0)
        .stdout_has(&format!("X-Mirror-Token = \"<secret not read: {TOKEN}>\""))
        .stdout_has(&format!(
            "Authorization = \"Bearer <secret not read: {BEARER}>\""
        ))
        .stdout_has("(0600) <==")
        .stderr_has(
            "render reads no secret file: 3 secret values are shown as `<secret not read: FILE>`",
        );
    no_secret(&render);
    assert_eq!(
        render.stdout.matches("<redacted sha256:").count(),
        1,
        "only the plain value beside a file's value is a digest:\n{}",
        render.stdout
    );
}

#[test]
fn a_rotated_secret_file_is_a_change_of_two_digests_and_apply_rewrites_it() {
    let node = node_with_secrets();
    node.run("apply", &[]).status(2);
    node.run("check", &[]).status(0);
    let before = node.read(&hosts("docker.io"));
    let first_inode = std::os::unix::fs::MetadataExt::ino(
        &fs::metadata(node.path(&hosts("docker.io"))).expect("metadata"),
    );

    // Rotate only the header whose name says nothing: only its line may change.
    write_secrets(&node, [FIRST[0], SECOND[1], FIRST[2]]);
    let check = node.run("check", &[]);
    check
        .status(2)
        .stdout_has(&format!("would update     {} (0600)", hosts("docker.io")));
    let diff = node.run("diff", &[]);
    diff.status(2);
    let changed: Vec<&str> = diff
        .stdout
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    assert_eq!(changed.len(), 2, "one line out, one in:\n{}", diff.stdout);
    for (line, sign) in changed.iter().zip(["-", "+"]) {
        assert!(
            line.starts_with(&format!("{sign}X-Tenant = [\"<redacted sha256:"))
                && line.matches("<redacted sha256:").count() == 2,
            "{line}"
        );
    }
    assert_ne!(changed[0], changed[1]);
    let json = node.run("diff", &["--output", "json"]);
    json.status(2);

    // All three rotated at once: still only digests.
    write_secrets(&node, SECOND);
    let diff_all = node.run("diff", &[]);
    diff_all.status(2);
    let apply = node.run("apply", &["--diff", "--output", "json"]);
    apply.status(2);
    let after = node.read(&hosts("docker.io"));
    assert_ne!(before, after);
    for secret in SECOND {
        assert!(after.contains(secret), "{secret} in\n{after}");
    }
    let second_inode = std::os::unix::fs::MetadataExt::ino(
        &fs::metadata(node.path(&hosts("docker.io"))).expect("metadata"),
    );
    assert_ne!(
        first_inode, second_inode,
        "replaced by rename, not rewritten in place"
    );
    assert_eq!(node.mode(&hosts("docker.io")), 0o600);
    node.run("check", &[]).status(0);

    // The registry leaves the inventory: the delete's diff hides what the file on disk holds.
    node.inventory(
        "version: 1\nregistries:\n  quay.io:\n    mirrors: [{url: https://quay-mirror.example}]\n",
    );
    let delete = node.run("diff", &[]);
    delete
        .status(2)
        .stdout_has("deleted file mode 100600")
        .stdout_has("-X-Tenant = [\"<redacted sha256:");
    let delete_json = node.run("apply", &["--diff", "--output", "json"]);
    delete_json.status(2);
    for run in [
        &check,
        &diff,
        &json,
        &diff_all,
        &apply,
        &delete,
        &delete_json,
    ] {
        no_secret(run);
    }
}

#[test]
fn a_bad_secret_file_is_an_error_naming_field_and_file_never_its_content() {
    let cases: [(&str, &str, &str); 6] = [
        (TOKEN, "Tok-Line-One\nTok-Line-Two\n", "more than one line"),
        (TOKEN, "Tok-With\r-CR", "control character"),
        (TENANT, "Tenant\0Nul", "control character"),
        (BEARER, "Bearer-Trailing-Space \n", "whitespace"),
        (BEARER, "\n", "is empty"),
        (TOKEN, "<secret not read: /x>", "placeholder"),
    ];
    for (path, content, reason) in cases {
        let node = node_with_secrets();
        node.write(path, content);
        let field = match path {
            TOKEN => "registries.\"docker.io\".mirrors[0].headers.\"X-Mirror-Token\".file",
            TENANT => "registries.\"docker.io\".mirrors[0].headers.\"X-Tenant\"[1].file",
            _ => "registries.\"docker.io\".mirrors[0].auth.bearerFrom.tokenFile",
        };
        for run in [
            node.run("apply", &[]),
            node.run("diff", &[]),
            node.run("check", &["--output", "json"]),
        ] {
            run.status(1);
            let said = format!("{}{}", run.stdout, run.stderr);
            for needle in [field, path, reason] {
                assert!(said.contains(needle), "{needle} in {said}");
            }
            for secret in ["Tok-Line", "Tok-With", "Nul", "Bearer-Trailing"] {
                run.nowhere(secret);
            }
        }
        assert!(!node.exists(&hosts("docker.io")), "nothing written");
    }
    let node = node_with_secrets();
    fs::remove_file(node.path(TENANT)).expect("rm");
    node.run("apply", &[])
        .status(1)
        .stderr_has("X-Tenant")
        .stderr_has(TENANT)
        .stderr_has("cannot be read");
}

#[test]
fn lint_with_root_names_secret_files_others_can_read() {
    let node = node_with_secrets();
    fs::set_permissions(node.path(BEARER), fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::remove_file(node.path(TOKEN)).expect("rm");
    let lint = node.run("lint", &["--format", "json"]);
    let report = lint.json();
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["code"].to_string(), f["path"].to_string()))
        .collect();
    for field in [
        "registries.\\\"docker.io\\\".mirrors[0].auth.bearerFrom.tokenFile",
        "registries.\\\"docker.io\\\".mirrors[0].headers.\\\"X-Mirror-Token\\\".file",
    ] {
        assert!(
            found
                .iter()
                .any(|(c, f)| c == "\"N005\"" && f.contains(field)),
            "N005 at {field}: {found:?}"
        );
    }
    no_secret(&lint);
}
