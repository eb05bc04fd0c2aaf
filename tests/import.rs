//! `mirrorctl import`: each format's fixtures under `fixtures/import/<format>/<case>/` imported,
//! the inventory snapshotted, linted, and `resolve`d for the images of the case's `expect.txt`
//! (image → endpoints, derived from the source's own semantics); the certs.d round trip of every
//! render fixture; hostile sources.

use std::path::{Path, PathBuf};

use crate::support::{fixtures, run};

/// The URLs `resolve --output json` lists, in the order containerd tries them.
fn endpoints(inventory: &Path, image: &str) -> Vec<String> {
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
                .filter_map(|e| e["url"].as_str().map(str::to_string))
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

#[track_caller]
fn check_case(format: &str, case: &Path) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("inventory.yaml");
    let source = source_of(format, case);
    let r = run(
        &[
            "import",
            format,
            &source.to_string_lossy(),
            "-o",
            &out.to_string_lossy(),
        ],
        None,
    );
    r.status(0);
    let inventory = std::fs::read_to_string(&out).expect("imported inventory");
    let here = case.to_string_lossy().into_owned();
    let text = format!("{inventory}\n--- stderr ---\n{}", r.stderr).replace(&here, "[CASE]");
    insta::assert_snapshot!(
        format!(
            "import_{format}_{}",
            case.file_name().unwrap_or_default().to_string_lossy()
        ),
        text
    );
    run(&["lint", "-i", &out.to_string_lossy()], None).status(0);
    let expect = std::fs::read_to_string(case.join("expect.txt")).expect("expect.txt");
    let mut mismatches = Vec::new();
    for line in expect
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((image, want)) = line.split_once("=>") else {
            panic!("{}: `{line}` is not IMAGE => URL…", case.display());
        };
        let want: Vec<String> = want.split_whitespace().map(str::to_string).collect();
        let got = endpoints(&out, image.trim());
        if got != want {
            mismatches.push(format!(
                "{}: {image}: want {want:?}, got {got:?}",
                case.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
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

#[test]
fn render_then_import_certs_d_resolves_the_same() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    let mut renders: Vec<PathBuf> = std::fs::read_dir(fixtures().join("render"))
        .expect("render fixtures")
        .filter_map(|e| e.ok().map(|e| e.path().join("inventory.yaml")))
        .filter(|p| p.is_file())
        .collect();
    renders.sort();
    for original in renders {
        let node = tempfile::tempdir().expect("tempdir");
        let root = node.path().join("root");
        let (registries, certs_dir, target) = registries_of(&original);
        if registries.is_empty() {
            continue;
        }
        let r = run(
            &[
                "render",
                "-i",
                &original.to_string_lossy(),
                "--out",
                &root.to_string_lossy(),
            ],
            None,
        );
        // `render --out` reads the secrets the inventory names from the host itself.
        if r.status != 0 && r.stderr.contains("failed to read the secret") {
            eprintln!(
                "round trip skipped for {}: its secrets are not on this host",
                original.display()
            );
            r.status(1);
            continue;
        }
        r.status(0);
        let certs_d = root.join(certs_dir.trim_start_matches('/'));
        let imported = node.path().join("imported.yaml");
        let r = run(
            &[
                "import",
                "certs-d",
                &certs_d.to_string_lossy(),
                "-o",
                &imported.to_string_lossy(),
                "--secrets-dir",
                &node.path().to_string_lossy(),
                "--target-containerd",
                &target,
            ],
            None,
        );
        r.status(0);
        for registry in registries {
            let image = image_of(&registry);
            let want = endpoints(&original, &image);
            let got = endpoints(&imported, &image);
            if want != got {
                mismatches.push(format!(
                    "{}: {image}: original {want:?}, imported {got:?}",
                    original.display()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
