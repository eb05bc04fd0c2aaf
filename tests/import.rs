//! `mirrorctl import`: each format's fixtures under `fixtures/import/<format>/<case>/`
//! (or `fixtures/import/<format>/<name>.<ext>` beside `<name>.expect.txt`) imported, the
//! inventory snapshotted, linted, and `resolve`d for the images of the case's `expect.txt`
//! (image → endpoints, derived from the source's own semantics); the certs.d round trip of every
//! render fixture; hostile sources.

use std::path::{Path, PathBuf};

use crate::support::{Run, fixtures, run};

/// The URLs `resolve --output json` lists, in the order containerd tries them.
fn endpoints(inventory: &Path, image: &str) -> Vec<String> {
    endpoint_fields(inventory, image, &["url"])
}

/// What containerd does with each endpoint: the URL and everything that changes the pull,
/// whatever role (`mirror`, `server`, `upstream`) the inventory gives it.
const BEHAVIOUR: [&str; 9] = [
    "url",
    "capabilities",
    "ca",
    "client",
    "skipVerify",
    "overridePath",
    "headers",
    "dialTimeout",
    "httpsFirst",
];

fn endpoint_fields(inventory: &Path, image: &str, fields: &[&str]) -> Vec<String> {
    let inventory = inventory.to_string_lossy().into_owned();
    let r = run(
        &["resolve", image, "-i", &inventory, "--output", "json"],
        None,
    );
    r.status(0);
    let json = r.json();
    json["endpoints"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    if let [field] = fields {
                        return e[field].as_str().unwrap_or_default().to_string();
                    }
                    fields
                        .iter()
                        .map(|f| format!("{f}={}", e[f]))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn source_of(format: &str, case: &Path) -> PathBuf {
    match format {
        "certs-d" => case.join("certs.d"),
        _ => case.join("registries.yaml"),
    }
}

/// A case directory of `fixtures/import/<format>/`: the source, `args.txt` (what the node's
/// own flags add, one argument a line) and `expect.txt`.
#[track_caller]
fn check_case(format: &str, case: &Path) {
    let extra = std::fs::read_to_string(case.join("args.txt")).unwrap_or_default();
    check_source(
        format,
        &source_of(format, case),
        &case.join("expect.txt"),
        &extra,
        &case.file_name().unwrap_or_default().to_string_lossy(),
        case,
    );
}

/// Imports `source`, snapshots the inventory with stderr, lints it, and checks the table in
/// `expect`: `IMAGE => URL…` (the endpoints in order), `IMAGE @ URL FIELD = JSON` (one
/// setting of one endpoint) and `secret VALUE` (a credential of the source, never shown).
#[track_caller]
fn check_source(format: &str, source: &Path, expect: &Path, extra: &str, name: &str, here: &Path) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("inventory.yaml");
    let mut args = vec![
        "import".to_string(),
        format.to_string(),
        source.to_string_lossy().into_owned(),
        "-o".to_string(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(extra.lines().filter(|l| !l.is_empty()).map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&args, None);
    r.status(0);
    let inventory = std::fs::read_to_string(&out).expect("imported inventory");
    let here = here.to_string_lossy().into_owned();
    let text = format!("{inventory}\n--- stderr ---\n{}", r.stderr).replace(&here, "[CASE]");
    insta::assert_snapshot!(format!("import_{format}_{name}"), text);
    run(&["lint", "-i", &out.to_string_lossy()], None).status(0);
    let expect_text = std::fs::read_to_string(expect).expect("expect table");
    let mut mismatches = Vec::new();
    let mut images = 0;
    for line in expect_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        if let Some(secret) = line.strip_prefix("secret ") {
            if text.contains(secret) {
                mismatches.push(format!("{}: secret `{secret}` shown", expect.display()));
            }
            continue;
        }
        if let Some((image, rest)) = line.split_once(" @ ") {
            check_setting(&out, image.trim(), rest, expect, &mut mismatches);
            continue;
        }
        let Some((image, want)) = line.split_once("=>") else {
            panic!("{}: `{line}` is not IMAGE => URL…", expect.display());
        };
        images += 1;
        let want: Vec<String> = want.split_whitespace().map(str::to_string).collect();
        let got = endpoints(&out, image.trim());
        if got != want {
            mismatches.push(format!(
                "{}: {image}: want {want:?}, got {got:?}",
                expect.display()
            ));
        }
    }
    assert!(images > 0, "{}: no image in the table", expect.display());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `IMAGE @ URL FIELD = JSON`: that endpoint of the image's resolution has that setting.
fn check_setting(inventory: &Path, image: &str, rest: &str, case: &Path, out: &mut Vec<String>) {
    let (Some((url, setting)), true) = (rest.split_once(' '), rest.contains(" = ")) else {
        panic!("{}: `{rest}` is not URL FIELD = JSON", case.display());
    };
    let (field, want) = setting.split_once(" = ").unwrap_or_default();
    let want: serde_json::Value = serde_json::from_str(want.trim())
        .unwrap_or_else(|e| panic!("{}: `{want}`: {e}", case.display()));
    let inventory = inventory.to_string_lossy().into_owned();
    let r = run(
        &["resolve", image, "-i", &inventory, "--output", "json"],
        None,
    );
    r.status(0);
    let json = r.json();
    let endpoint = json["endpoints"]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["url"] == url));
    match endpoint {
        Some(e) if e[field.trim()] == want => {}
        Some(e) => out.push(format!(
            "{}: {image} @ {url}: {field} want {want}, got {}",
            case.display(),
            e[field.trim()]
        )),
        None => out.push(format!("{}: {image}: no endpoint {url}", case.display())),
    }
}

fn cases(format: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures().join("import").join(format))
        .expect("fixtures/import/<format>")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.txt").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no {format} fixtures");
    cases
}

#[test]
fn k3s_fixtures_resolve_as_k3s_does() {
    for case in cases("k3s") {
        check_case("k3s", &case);
    }
}

#[test]
fn certs_d_fixtures_resolve_as_containerd_does() {
    for case in cases("certs-d") {
        check_case("certs-d", &case);
    }
}

/// An image of every registry: `*` stands for one no registry of the inventory names.
fn image_of(registry: &str) -> String {
    match registry {
        "*" => "unlisted.example/org/app:1".into(),
        name => format!("{name}/org/app:1"),
    }
}

/// The registry names of an inventory and its certs.d directory, as its own loader reads them.
fn registries_of(inventory: &Path) -> (Vec<String>, String, String) {
    let text = std::fs::read_to_string(inventory).expect("inventory");
    let inventory =
        mirrorctl::inventory::load_str("inventory.yaml", &text).expect("valid inventory");
    let names = inventory
        .registries
        .iter()
        .map(|r| r.name.clone())
        .collect();
    (
        names,
        inventory.paths.certs_dir.to_string(),
        inventory.target.containerd.to_string(),
    )
}

/// Every node path an inventory reads a secret from (`basicFrom`, `bearerFrom`, `{file: …}`).
fn secret_paths(inventory: &mirrorctl::inventory::Inventory) -> Vec<String> {
    use mirrorctl::inventory::{Auth, HeaderValue};
    let mut paths = Vec::new();
    for mirror in inventory.registries.iter().flat_map(|r| &r.mirrors) {
        match mirror.auth.as_deref() {
            Some(Auth::BasicFrom {
                username_file,
                password_file,
            }) => paths.extend([username_file.value.clone(), password_file.value.clone()]),
            Some(Auth::BearerFrom { token_file }) => paths.push(token_file.value.clone()),
            _ => {}
        }
        for header in &mirror.headers {
            for value in &header.values {
                if let HeaderValue::File(file) = value {
                    paths.push(file.value.clone());
                }
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// `inventory` rendered with its secrets read below `root`: the files under `certs_dir`,
/// written into `tree`; per hosts.toml, its header lines (sorted), credentials included.
fn render_tree(
    inventory: &mirrorctl::inventory::Inventory,
    root: &Path,
    tree: &Path,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let secrets = mirrorctl::secrets::Secrets::load(inventory, root).expect("secrets readable");
    let desired = mirrorctl::render::render(inventory, &secrets);
    let certs_dir = inventory.paths.certs_dir.to_string();
    let mut headers = std::collections::BTreeMap::new();
    for (path, file) in &desired.files {
        let Some(rest) = path.strip_prefix(certs_dir.trim_end_matches('/')) else {
            continue;
        };
        let target = tree.join(rest.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dirs");
        std::fs::write(&target, &file.contents).expect("write");
        if rest.ends_with("/hosts.toml") {
            let text = String::from_utf8_lossy(&file.contents);
            let mut lines: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.starts_with('#') && (l.starts_with("Authorization") || l.starts_with("X-"))
                })
                .map(str::to_string)
                .collect();
            lines.sort();
            headers.insert(rest.to_string(), lines);
        }
    }
    headers
}

/// [`endpoint_fields`] with the values of every header that holds a redacted secret shown as
/// `<secret>`: the imported inventory reads the same secret from its own secrets directory,
/// and keeps every value of a header secret where the hosts.toml says one was read from a
/// file (it does not say which); the bytes sent are compared by the render that follows.
fn endpoint_fields_masked(inventory: &Path, image: &str) -> Vec<String> {
    let inventory = inventory.to_string_lossy().into_owned();
    let r = run(
        &["resolve", image, "-i", &inventory, "--output", "json"],
        None,
    );
    r.status(0);
    let mut json = r.json();
    let Some(list) = json["endpoints"].as_array_mut() else {
        return Vec::new();
    };
    // A hosts.toml names the headers read from files for all its hosts at once: a name
    // secret at one endpoint is kept secret at every endpoint of the registry.
    let secret_names: Vec<String> = list
        .iter()
        .flat_map(|e| e["headers"].as_array().cloned().unwrap_or_default())
        .filter(|h| h["value"].as_str().is_some_and(|v| v.contains("<redacted")))
        .filter_map(|h| h["name"].as_str().map(str::to_lowercase))
        .collect();
    list.iter_mut()
        .map(|e| {
            if let Some(headers) = e["headers"].as_array_mut() {
                for header in headers {
                    let name = header["name"].as_str().unwrap_or_default().to_lowercase();
                    if secret_names.contains(&name) {
                        header["value"] = "<secret>".into();
                    }
                }
            }
            BEHAVIOUR
                .iter()
                .map(|f| format!("{f}={}", e[f]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// For every render fixture: its certs.d tree (rendered, with made-up secrets where it reads
/// some) imported with `import certs-d` resolves the same for every registry, and rendered
/// again carries the same header lines — the same credentials — in every hosts.toml.
/// `import certs-d TREE -o IMPORTED --secrets-dir SECRETS --target-containerd TARGET`.
fn import_tree(tree: &Path, imported: &Path, secrets: &Path, target: &str) -> Run {
    run(
        &[
            "import",
            "certs-d",
            &tree.to_string_lossy(),
            "-o",
            &imported.to_string_lossy(),
            "--secrets-dir",
            &secrets.to_string_lossy(),
            "--target-containerd",
            target,
        ],
        None,
    )
}

#[test]
fn render_then_import_certs_d_resolves_the_same() {
    let mut mismatches = Vec::new();
    let (mut checked, mut with_secrets) = (0, 0);
    let mut renders: Vec<PathBuf> = std::fs::read_dir(fixtures().join("render"))
        .expect("render fixtures")
        .filter_map(|e| e.ok().map(|e| e.path().join("inventory.yaml")))
        .filter(|p| p.is_file())
        .collect();
    renders.sort();
    for original in renders {
        let node = tempfile::tempdir().expect("tempdir");
        let (registries, _, target) = registries_of(&original);
        if registries.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(&original).expect("inventory");
        let inventory =
            mirrorctl::inventory::load_str("inventory.yaml", &text).expect("valid inventory");
        // The secrets the fixture reads, made up below a root of its own.
        let root = node.path().join("root");
        let paths = secret_paths(&inventory);
        for (i, path) in paths.iter().enumerate() {
            let file = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
            std::fs::write(&file, format!("made-up-secret-{i}\n")).expect("secret");
        }
        with_secrets += usize::from(!paths.is_empty());
        let certs_d = node.path().join("certs.d");
        let rendered = render_tree(&inventory, &root, &certs_d);
        let imported = node.path().join("imported.yaml");
        let secrets_dir = node.path().join("secrets");
        std::fs::create_dir(&secrets_dir).expect("secrets dir");
        let r = import_tree(&certs_d, &imported, &secrets_dir, &target);
        r.status(0).nowhere("made-up-secret");
        let imported_text = std::fs::read_to_string(&imported).expect("imported");
        assert!(!imported_text.contains("made-up-secret"), "{imported_text}");
        for registry in registries {
            let image = image_of(&registry);
            let want = endpoint_fields_masked(&original, &image);
            let got = endpoint_fields_masked(&imported, &image);
            if want != got {
                mismatches.push(format!(
                    "{}: {image}:\n  original {want:#?}\n  imported {got:#?}",
                    original.display()
                ));
            }
            checked += 1;
        }
        // Rendered again, with the secrets the import wrote: the same credentials go out.
        let again = mirrorctl::inventory::load_str("imported.yaml", &imported_text)
            .expect("imported inventory loads");
        let again = render_tree(&again, Path::new("/"), &node.path().join("again"));
        if again != rendered {
            mismatches.push(format!(
                "{}: header lines differ after the round trip:\n  original {rendered:#?}\n  again {again:#?}",
                original.display()
            ));
        }
    }
    assert!(
        checked > 0 && with_secrets >= 2,
        "{checked} registries, {with_secrets} with secrets"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Imports `source` with `-o`; the run must fail with status 1, name `names`, and write
/// nothing: not the `-o` file (absent, or, when it already exists, byte for byte as before),
/// no temporary file beside it, nothing in the secrets directory.
#[track_caller]
fn refused(format: &str, source: &Path, names: &str) -> String {
    let mut first = None;
    for existing in [
        None,
        Some(b"# the inventory already here\nversion: 1\n".as_slice()),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("inventory.yaml");
        if let Some(bytes) = existing {
            std::fs::write(&out, bytes).expect("existing -o file");
        }
        let secrets = dir.path().join("secrets");
        std::fs::create_dir(&secrets).expect("secrets dir");
        let r = run(
            &[
                "import",
                format,
                &source.to_string_lossy(),
                "-o",
                &out.to_string_lossy(),
                "--secrets-dir",
                &secrets.to_string_lossy(),
            ],
            None,
        );
        r.status(1).stderr_has(names).stderr_has("error: ");
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        match existing {
            None => assert!(!out.exists(), "{} written", out.display()),
            Some(bytes) => assert_eq!(
                std::fs::read(&out).expect("-o file"),
                bytes,
                "{} changed",
                out.display()
            ),
        }
        let mut beside: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        beside.sort();
        let want: &[&str] = if existing.is_some() {
            &["inventory.yaml", "secrets"]
        } else {
            &["secrets"]
        };
        assert_eq!(beside, want, "left beside the -o file");
        let left: Vec<_> = std::fs::read_dir(&secrets).expect("secrets").collect();
        assert!(left.is_empty(), "secrets written: {left:?}");
        first.get_or_insert(r.stderr.clone());
    }
    first.unwrap_or_default()
}

fn k3s_source(dir: &Path, text: &[u8]) -> PathBuf {
    let path = dir.join("registries.yaml");
    std::fs::write(&path, text).expect("write source");
    path
}

#[test]
fn hostile_k3s_sources_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut messages = Vec::new();
    let cases: [(&str, &[u8]); 6] = [
        (
            "truncated",
            b"mirrors:\n  docker.io:\n    endpoint: [\"https://a.example\"\nconfigs:\n  a.example:\n    auth: {username: u, password: p",
        ),
        ("list at the top", b"- mirrors\n- configs\n"),
        ("mirrors a list", b"mirrors: [docker.io]\n"),
        (
            "endpoint a mapping entry",
            b"mirrors:\n  docker.io:\n    endpoint: [{url: x}]\nconfigs:\n  x: {auth: {username: u, password: p}}\n",
        ),
        (
            "skip_verify a string",
            b"configs:\n  a.example:\n    auth: {username: u, password: p}\n    tls: {insecure_skip_verify: maybe}\n",
        ),
        ("not UTF-8", b"mirrors:\n  \xff\xfe: {}\n"),
    ];
    for (what, text) in cases {
        let case = dir.path().join(what.replace(' ', "-"));
        std::fs::create_dir(&case).expect("case dir");
        let source = k3s_source(&case, text);
        messages.push(refused("k3s", &source, &source.to_string_lossy()));
    }
    let huge = dir.path().join("huge");
    std::fs::create_dir(&huge).expect("dir");
    let mut text = b"mirrors:\n".to_vec();
    while text.len() < 5 << 20 {
        text.extend_from_slice(b"  # padding padding padding padding padding padding padding\n");
    }
    let source = k3s_source(&huge, &text);
    messages.push(refused("k3s", &source, "more than"));
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&source, &link).expect("symlink");
    messages.push(refused("k3s", &link, "symlink"));
    let here = dir.path().to_string_lossy().into_owned();
    insta::assert_snapshot!(messages.concat().replace(&here, "[DIR]"));
}

#[test]
fn hostile_certs_d_trees_are_refused_and_nothing_is_written() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = |name: &str| {
        let root = dir.path().join(name).join("certs.d");
        std::fs::create_dir_all(root.join("docker.io")).expect("tree");
        std::fs::write(
            root.join("docker.io/hosts.toml"),
            "[host.\"https://m.example\"]\nheader = {Authorization = \"Bearer secret-token\"}\n",
        )
        .expect("hosts.toml");
        root
    };
    let truncated = tree("truncated");
    std::fs::write(truncated.join("ghcr.io.toml"), "").expect("stray file");
    std::fs::create_dir(truncated.join("ghcr.io")).expect("dir");
    std::fs::write(
        truncated.join("ghcr.io/hosts.toml"),
        "[host.\"https://g.example\"\ncapabilities = [\"pull\"",
    )
    .expect("hosts.toml");
    let mut messages = vec![refused("certs-d", &truncated, "ghcr.io/hosts.toml")];

    let linked_dir = tree("linked-dir");
    std::os::unix::fs::symlink(linked_dir.join("docker.io"), linked_dir.join("quay.io"))
        .expect("symlink");
    messages.push(refused("certs-d", &linked_dir, "symlink"));

    let linked_file = tree("linked-file");
    std::fs::create_dir(linked_file.join("quay.io")).expect("dir");
    std::os::unix::fs::symlink("/etc/passwd", linked_file.join("quay.io/hosts.toml"))
        .expect("symlink");
    messages.push(refused("certs-d", &linked_file, "symlink"));

    let non_utf8 = tree("non-utf8");
    let name = std::ffi::OsStr::from_bytes(b"reg\xff.example");
    std::fs::create_dir(non_utf8.join(name)).expect("dir");
    messages.push(refused("certs-d", &non_utf8, "not UTF-8"));

    let huge = tree("huge");
    std::fs::create_dir(huge.join("quay.io")).expect("dir");
    let mut text = b"[host.\"https://q.example\"]\n".to_vec();
    while text.len() < 5 << 20 {
        text.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(huge.join("quay.io/hosts.toml"), &text).expect("hosts.toml");
    messages.push(refused("certs-d", &huge, "more than"));

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("file");
    messages.push(refused("certs-d", &file, "not a directory"));
    let here = dir.path().to_string_lossy().into_owned();
    insta::assert_snapshot!(messages.concat().replace(&here, "[DIR]"));
}

/// A temporary certs.d tree (`certs.d/docker.io/hosts.toml` with `hosts_toml`) and its root.
fn docker_io_tree(hosts_toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("certs.d");
    std::fs::create_dir_all(root.join("docker.io")).expect("tree");
    std::fs::write(root.join("docker.io/hosts.toml"), hosts_toml).expect("hosts.toml");
    (dir, root)
}

#[test]
fn wrong_types_in_hosts_toml_import_as_containerd_reads_them() {
    // containerd ignores a whole hosts.toml with a wrong value type and pulls from upstream.
    let (_dir, root) = docker_io_tree("[host.\"https://m.example\"]\nskip_verify = \"yes\"\n");
    let r = run(&["import", "certs-d", &root.to_string_lossy()], None);
    r.status(0)
        .stderr_has("containerd ignores this whole file")
        .stdout_has("# not imported: ")
        .nowhere("m.example\"\n");
}

#[test]
fn secrets_go_into_root_only_files_and_never_over_a_different_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = k3s_source(
        dir.path(),
        b"mirrors:\n  docker.io:\n    endpoint: [\"https://m.example\"]\nconfigs:\n  m.example:\n    auth: {username: alice, password: \"s3cr=t\"}\n",
    );
    let secrets = dir.path().join("secrets");
    let args = [
        "import",
        "k3s",
        &source.to_string_lossy(),
        "--secrets-dir",
        &secrets.to_string_lossy(),
    ]
    .map(str::to_string);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A directory that is not there is said so (it was "is not a directory"); nothing written.
    run(&args, None)
        .status(1)
        .stderr_has("does not exist; create it")
        .nowhere("s3cr=t");
    assert!(!secrets.exists());
    std::fs::create_dir(&secrets).expect("dir");
    let r = run(&args, None);
    r.status(0)
        .nowhere("s3cr=t")
        .nowhere("alice")
        .stdout_has(&format!("{}/m.example-password", secrets.display()));
    for name in ["m.example-username", "m.example-password"] {
        let path = secrets.join(name);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).expect("secret file").permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(secrets.join("m.example-password")).expect("read"),
        "s3cr=t"
    );
    // The same secrets again: nothing to do.
    run(&args, None).status(0);
    std::fs::write(secrets.join("m.example-password"), "other").expect("write");
    run(&args, None)
        .status(1)
        .stderr_has("exists with other contents")
        .nowhere("s3cr=t");
    assert_eq!(
        std::fs::read_to_string(secrets.join("m.example-password")).expect("read"),
        "other"
    );
    // Without --secrets-dir: the default paths, and stderr says which secret goes where.
    run(&["import", "k3s", &source.to_string_lossy()], None)
        .status(0)
        .stdout_has("/etc/mirrorctl/secrets/m.example-username")
        .stderr_has(
            "configs.\"m.example\".auth.password into /etc/mirrorctl/secrets/m.example-password",
        )
        .nowhere("s3cr=t");
}

#[test]
fn a_source_not_of_the_named_format_exits_1_and_usage_errors_exit_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = k3s_source(dir.path(), b"- not: [a, mapping\n");
    for format in ["talos", "kubespray", "containerd-config"] {
        run(&["import", format, &source.to_string_lossy()], None)
            .status(1)
            .stderr_has(&source.to_string_lossy());
    }
    // Well-formed YAML of another kind: no silent import of an empty or default inventory.
    let out = dir.path().join("out.yaml");
    let out_arg = out.to_string_lossy().into_owned();
    let inventory = dir.path().join("inventory.yaml");
    std::fs::write(
        &inventory,
        "version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n",
    )
    .expect("write");
    let registries = k3s_source(
        dir.path(),
        b"mirrors:\n  docker.io:\n    endpoint: [\"https://m.example\"]\n",
    );
    for (format, source, says) in [
        ("k3s", &inventory, "neither `mirrors` nor `configs`"),
        ("kubespray", &inventory, "no `containerd_…` variable"),
        ("kubespray", &registries, "no `containerd_…` variable"),
    ] {
        let source = source.to_string_lossy();
        run(&["import", format, &source, "-o", &out_arg], None)
            .status(1)
            .stderr_has(&source)
            .stderr_has(says);
        assert!(!out.exists(), "import {format} {source} wrote its output");
    }
    // The YAML reader's messages name the source a file, not "the inventory".
    let two = dir.path().join("two-documents.yaml");
    std::fs::write(&two, "machine: {}\n---\nmachine: {}\n").expect("write");
    for format in ["k3s", "kubespray"] {
        run(&["import", format, &two.to_string_lossy()], None)
            .status(1)
            .stderr_has("the file holds more than one YAML document")
            .nowhere("the inventory");
    }
    run(&["import", "k3s"], None).status(64);
    run(&["import", "k4s", &source.to_string_lossy()], None).status(64);
}

/// The round trip over generated inventories: each valid one rendered (in memory, with
/// made-up secrets where it reads some), its hosts.toml tree imported, and every registry
/// resolved the same, and rendered again with the same header lines (credentials included).
/// Fixed seed (`MIRRORCTL_IMPORT_SEED` replays another).
#[test]
fn generated_inventories_survive_render_and_import() {
    let mut rng = crate::fuzz::Rng::new(crate::fuzz::seed("MIRRORCTL_IMPORT_SEED"));
    let mut mismatches = Vec::new();
    let (mut compared, mut with_secrets) = (0, 0);
    for case in 0..400 {
        let bytes = crate::fuzz::generated(&mut rng, &[]);
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(inventory) = mirrorctl::inventory::load_str("inventory.yaml", &text) else {
            continue;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let original = dir.path().join("original.yaml");
        std::fs::write(&original, &text).expect("write");
        let root = dir.path().join("root");
        let paths = secret_paths(&inventory);
        for (i, path) in paths.iter().enumerate() {
            let file = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
            std::fs::write(&file, format!("made-up-secret-{i}\n")).expect("secret");
        }
        let tree = dir.path().join("certs.d");
        std::fs::create_dir(&tree).expect("tree");
        let rendered = render_tree(&inventory, &root, &tree);
        let imported = dir.path().join("imported.yaml");
        let secrets_dir = dir.path().join("secrets");
        std::fs::create_dir(&secrets_dir).expect("secrets dir");
        let target = inventory.target.containerd.to_string();
        let r = import_tree(&tree, &imported, &secrets_dir, &target);
        if r.status != 0 {
            mismatches.push(format!("case {case}: import failed: {}\n{text}", r.stderr));
            r.status(r.status);
            continue;
        }
        r.nowhere("made-up-secret");
        with_secrets += usize::from(!paths.is_empty());
        for registry in &inventory.registries {
            // A name with no dot or colon (other than `localhost`) is not a registry in an
            // image reference: `x/org/app` is docker.io's.
            let addressable = registry.name == "*"
                || registry.name == "localhost"
                || registry.name.contains(['.', ':']);
            if !addressable {
                continue;
            }
            let image = image_of(&registry.name);
            let want = endpoint_fields_masked(&original, &image);
            let got = endpoint_fields_masked(&imported, &image);
            compared += 1;
            if want != got {
                mismatches.push(format!(
                    "case {case}: {image}:\n  original {want:#?}\n  imported {got:#?}\n{text}"
                ));
            }
        }
        let imported_text = std::fs::read_to_string(&imported).expect("imported");
        let again = mirrorctl::inventory::load_str("imported.yaml", &imported_text)
            .expect("imported inventory loads");
        let again = render_tree(&again, Path::new("/"), &dir.path().join("again"));
        if again != rendered {
            mismatches.push(format!(
                "case {case}: header lines differ:\n  original {rendered:#?}\n  again {again:#?}\n{text}"
            ));
        }
    }
    eprintln!(
        "round trip: {compared} registries compared, {with_secrets} inventories with secrets"
    );
    assert!(
        compared > 0 && with_secrets > 0,
        "{compared} compared, {with_secrets} with secrets"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The single-file fixtures of the containerd-config, kubespray and talos readers: each
/// `<name>.expect.txt` beside its source `<name>.<ext>` holds the table of images → endpoints
/// derived from that system's own semantics (see each table's comments).
#[test]
fn file_format_fixtures_resolve_as_their_sources_do() {
    let mut checked = 0;
    for format in ["containerd-config", "kubespray", "talos"] {
        let dir = fixtures().join("import").join(format);
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| !p.to_string_lossy().ends_with(".expect.txt"))
            .collect();
        sources.sort();
        for source in sources {
            let stem = source
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let expect = dir.join(format!("{stem}.expect.txt"));
            assert!(
                expect.is_file(),
                "{} has no {}",
                source.display(),
                expect.display()
            );
            check_source(format, &source, &expect, "", &stem, &dir);
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} fixtures");
}

/// The single-file formats' hostile sources: truncated, wrong types, not the format, not
/// UTF-8, huge, a symlink, a directory. Each a clear error naming the file (and the field
/// and line where there is one), nothing written.
#[test]
fn hostile_file_sources_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str, &[u8], &str); 15] = [
        ("containerd-config", "truncated", b"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://m.example\"\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"m.example\".auth]\n  password = \"s3cr", "not TOML"),
        ("containerd-config", "endpoint-a-number", b"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = 5\n", ":3: registry.mirrors.\"docker.io\".endpoint is not a list"),
        ("containerd-config", "skip-verify-a-string", b"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"m\".tls]\n  insecure_skip_verify = \"yes\"\n", "insecure_skip_verify is not a boolean"),
        ("containerd-config", "version-a-string", b"version = \"two\"\n", "`version` is not an integer"),
        ("containerd-config", "yaml", b"mirrors:\n  docker.io:\n    endpoint: [a]\n", "not TOML"),
        ("kubespray", "truncated", b"containerd_registries_mirrors:\n  - prefix: docker.io\n    mirrors:\n      - host: [https://m.example\n", ":5: YAML syntax error"),
        ("kubespray", "mirrors-a-mapping", b"containerd_registries_mirrors: {prefix: x}\n", ":1: containerd_registries_mirrors is a mapping, not a list"),
        ("kubespray", "skip-verify-a-string", b"containerd_registries_mirrors:\n  - prefix: q\n    mirrors:\n      - host: h\n        capabilities: [pull]\n        skip_verify: maybe\n", ":6: containerd_registries_mirrors[0].mirrors[0].skip_verify is a string, not a boolean"),
        ("kubespray", "auth-without-password", b"containerd_registries_mirrors:\n  - prefix: q\n    mirrors:\n      - host: h\n        capabilities: [pull]\n        auth: {username: u}\n", "needs username and password"),
        ("talos", "truncated", b"machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints: [http://m\n", ":6: YAML syntax error"),
        ("talos", "endpoints-a-string", b"machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints: http://m\n", ":5: machine.registries.mirrors.\"docker.io\".endpoints is a string, not a list"),
        ("talos", "machine-a-list", b"machine: [a]\n", ":1: machine is a list, not a mapping"),
        ("talos", "document-url-a-list", b"apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: q\nendpoints: [{url: [x]}]\n", ":4: RegistryMirrorConfig[name=q].endpoints[0].url is a list, not a string"),
        ("talos", "document-without-name", b"apiVersion: v1alpha1\nkind: RegistryTLSConfig\nca: x\n", "a RegistryTLSConfig document has no name"),
        ("talos", "ca-not-base64", b"machine:\n  registries:\n    config:\n      m:\n        tls:\n          ca: \"not base64!\"\n        auth: {username: u, password: s3cr3t}\n", ":6: machine.registries.config.\"m\".tls.ca is not base64"),
    ];
    let mut messages = Vec::new();
    for (format, what, text, names) in cases {
        let source = dir.path().join(format!("{format}-{what}"));
        std::fs::write(&source, text).expect("source");
        let stderr = refused(format, &source, names);
        assert!(stderr.contains(&*source.to_string_lossy()), "{stderr}");
        assert!(!stderr.contains("s3cr"), "{stderr}");
        messages.push(stderr);
    }
    let huge = dir.path().join("huge");
    let mut text = b"containerd_registries_mirrors:\n".to_vec();
    while text.len() < 5 << 20 {
        text.extend_from_slice(b"  # padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&huge, &text).expect("huge");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&huge, &link).expect("symlink");
    for format in ["containerd-config", "kubespray", "talos"] {
        messages.push(refused(format, &huge, "more than"));
        messages.push(refused(format, &link, "symlink"));
        messages.push(refused(format, dir.path(), "not a regular file"));
        let latin1 = dir.path().join(format!("{format}-latin1"));
        std::fs::write(&latin1, b"# caf\xe9\nversion = 2\n").expect("latin1");
        messages.push(refused(format, &latin1, "not UTF-8"));
    }
    let here = dir.path().to_string_lossy().into_owned();
    insta::assert_snapshot!(messages.concat().replace(&here, "[DIR]"));
}

/// A credential in a non-`Authorization` header of a hosts.toml (by its name, by its value, or
/// because mirrorctl's own comment says it was read from a file) goes into a secret file and
/// is read back with `{file: …}`; the inventory and every output name only the file.
#[test]
fn credential_headers_of_a_certs_d_tree_become_secret_files() {
    let (dir, root) = docker_io_tree(&format!(
        "{}X-Tenant\n[host.\"https://m.example\"]\n  [host.\"https://m.example\".header]\n    X-JFrog-Art-Api = \"art-key-123\"\n    X-Custom = \"Bearer tok-456\"\n    X-Tenant = [\"  spaced  \", \"tenant-789\"]\n    X-Team = [\"platform\"]\n",
        mirrorctl::redact::FILE_HEADERS
    ));
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).expect("secrets");
    let out = dir.path().join("inventory.yaml");
    let r = run(
        &[
            "import",
            "certs-d",
            &root.to_string_lossy(),
            "-o",
            &out.to_string_lossy(),
            "--secrets-dir",
            &secrets.to_string_lossy(),
        ],
        None,
    );
    r.status(0)
        .nowhere("art-key-123")
        .nowhere("tok-456")
        .nowhere("tenant-789");
    let inventory = std::fs::read_to_string(&out).expect("inventory");
    for secret in ["art-key-123", "tok-456", "tenant-789"] {
        assert!(!inventory.contains(secret), "{inventory}");
    }
    let file = |name: &str| format!("{{file: \"{}/{name}\"}}", secrets.display());
    for line in [
        format!(
            "\"X-JFrog-Art-Api\": {}",
            file("docker.io-0-header-x-jfrog-art-api")
        ),
        format!("\"X-Custom\": {}", file("docker.io-0-header-x-custom")),
        // A space-bounded value no secret file can hold stays as written.
        format!(
            "\"X-Tenant\": [\"  spaced  \", {}]",
            file("docker.io-0-header-x-tenant-2")
        ),
        "\"X-Team\": [\"platform\"]".to_string(),
    ] {
        assert!(inventory.contains(&line), "no `{line}` in\n{inventory}");
    }
    assert_eq!(
        std::fs::read_to_string(secrets.join("docker.io-0-header-x-tenant-2")).expect("secret"),
        "tenant-789"
    );
    run(&["lint", "-i", &out.to_string_lossy()], None).status(0);
}
