//! containerd's config.toml: `config_path` set in the table the file's own version reads, every
//! other byte kept. A corpus of real-world shapes under `fixtures/containerd-config/`, each
//! snapshotted as the diff (and the warnings or errors) mirrorctl produces; plus the output of
//! the real `containerd config default`.

use std::fs;
use std::path::Path;

use crate::support::{Node, have, require};

const CONFIG: &str = "/etc/containerd/config.toml";

/// The changed lines of a unified diff (without headers).
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect()
}

fn node_from(dir: &Path) -> Node {
    let node = Node::new();
    node.inventory(&fs::read_to_string(dir.join("inventory.yaml")).expect("inventory"));
    node.write(
        CONFIG,
        &fs::read_to_string(dir.join("config.toml")).expect("config"),
    );
    node
}

#[test]
fn corpus_changes_only_config_path() {
    insta::glob!("../fixtures/containerd-config", "*/config.toml", |path| {
        let dir = path.parent().expect("dir");
        let node = node_from(dir);
        let original = node.read(CONFIG);
        let diff = node.run("diff", &[]);
        let shown = format!(
            "exit {}\n--- stdout (config.toml only)\n{}--- stderr\n{}",
            diff.status,
            diff.stdout
                .split("diff --git ")
                .filter(|d| d.contains("config.toml"))
                .map(|d| format!("diff --git {d}"))
                .collect::<String>(),
            diff.stderr
        );
        insta::assert_snapshot!(shown);
        if diff.status == 1 {
            node.run("apply", &[]).status(1);
            assert_eq!(
                node.read(CONFIG),
                original,
                "a refused edit leaves the file alone"
            );
            return;
        }
        for line in changed_lines(&diff.stdout) {
            assert!(
                line.contains("config_path")
                    // The old line of an inline table that config_path is added to.
                    || (line.starts_with('-') && line.contains("registry = {"))
                    || line.starts_with("+[")
                    || line == "+"
                    || line.contains("hosts.toml")
                    || line.starts_with("+# ")
                    || line.starts_with("+capabilities")
                    || line.starts_with("+[host"),
                "only config_path may change: {line}"
            );
        }
        node.run("apply", &[]).status(2);
        let after = node.read(CONFIG);
        let parsed: toml::Table = after.parse().expect("still valid TOML");
        assert!(
            after.contains("/etc/containerd/certs.d\"")
                || after.contains("/etc/containerd/certs.d'"),
            "{after}"
        );
        drop(parsed);
        node.run("apply", &[]).status(0);
        let report = node.run("check", &["--output", "json"]).status(0).json();
        assert_eq!(report["restart"], serde_json::json!([]));
        let state = node.read("/var/lib/mirrorctl/state.json");
        assert!(
            !state.contains("config.toml"),
            "config.toml is edited, never owned"
        );
    });
}

#[test]
fn restart_hint_names_containerd_and_mode_is_kept() {
    let dir = crate::support::fixtures().join("containerd-config/containerd-1.7-default");
    let node = node_from(&dir);
    fs::set_permissions(
        node.path(CONFIG),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .expect("chmod");
    let report = node.run("apply", &["--output", "json"]).status(2).json();
    assert_eq!(report["restart"], serde_json::json!(["containerd"]));
    let file = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == CONFIG)
        .cloned()
        .expect("config.toml");
    assert_eq!(file["kind"], "containerdConfig");
    assert_eq!(file["restart"], "containerd");
    assert_eq!(node.mode(CONFIG), 0o640);
}

#[test]
fn missing_config_gets_the_minimal_file_for_the_target() {
    for (target, table) in [
        ("1.6", "[plugins.\"io.containerd.grpc.v1.cri\".registry]"),
        ("2.1", "[plugins.\"io.containerd.cri.v1.images\".registry]"),
        ("2.3", "[plugins.\"io.containerd.cri.v1.images\".registry]"),
    ] {
        let node = Node::new();
        node.inventory(&format!(
            "version: 1\ntarget: {{containerd: \"{target}\"}}\ncontainerd: {{manageConfig: true}}\nregistries:\n  docker.io:\n    mirrors: [{{url: \"https://m.example\"}}]\n"
        ));
        node.run("apply", &[])
            .status(2)
            .stdout_has("restart containerd");
        let text = node.read(CONFIG);
        assert!(text.contains(table), "{target}: {text}");
        assert!(text.contains("config_path = \"/etc/containerd/certs.d\""));
        node.run("apply", &[]).status(0);
    }
}

#[test]
fn real_containerd_default_config_round_trips() {
    if !require("containerd", have("containerd")) {
        return;
    }
    let out = std::process::Command::new("containerd")
        .args(["config", "default"])
        .output()
        .expect("containerd");
    assert!(out.status.success());
    let original = String::from_utf8(out.stdout).expect("utf-8");
    let node = Node::new();
    node.inventory("version: 1\ntarget: {containerd: \"1.6\"}\ncontainerd: {manageConfig: true}\nregistries: {}\n");
    node.write(CONFIG, &original);
    let diff = node.run("diff", &[]).status(2).stdout.clone();
    assert_eq!(
        changed_lines(&diff),
        [
            "-      config_path = \"\"",
            "+      config_path = \"/etc/containerd/certs.d\""
        ],
        "{diff}"
    );
    node.run("apply", &[]).status(2);
    let after = node.read(CONFIG);
    assert_eq!(
        after.replace(
            "config_path = \"/etc/containerd/certs.d\"",
            "config_path = \"\""
        ),
        original
    );
}

/// The fixtures that write the registry table in one form or another (`form-*`): a header
/// table, an inline table, dotted keys, and a mix, for config version 2 (1.6, 1.7) and 3 (2.x).
fn form_fixtures() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = fs::read_dir(crate::support::fixtures().join("containerd-config"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("form-"))
        })
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_form_of_the_registry_table_is_read_like_a_header_table() {
    let forms = form_fixtures();
    assert!(forms.len() >= 24, "{forms:?}");
    for dir in forms {
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        let node = node_from(&dir);
        let original = node.read(CONFIG);
        let first = node.run("check", &["--output", "json"]).json();
        let config = first["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["path"] == CONFIG)
            .cloned()
            .unwrap_or_else(|| panic!("{name}: config.toml is not in the plan: {first}"));
        let correct = name.contains("-set-");
        assert_eq!(
            config["action"],
            if correct { "unchanged" } else { "update" },
            "{name}: {config}"
        );
        node.run("apply", &[]).status(2);
        let after = node.read(CONFIG);
        if correct {
            assert_eq!(
                after, original,
                "{name}: a correct file is left byte for byte"
            );
        }
        // One apply settles it: the second changes nothing and restarts nothing.
        let second = node.run("check", &["--output", "json"]).status(0).json();
        assert_eq!(second["restart"], serde_json::json!([]), "{name}: {second}");
        let parsed: toml::Table = after.parse().expect("still valid TOML");
        let version = parsed["version"].as_integer().expect("version");
        let table = if version == 2 {
            "io.containerd.grpc.v1.cri"
        } else {
            "io.containerd.cri.v1.images"
        };
        assert_eq!(
            parsed["plugins"][table]["registry"]["config_path"].as_str(),
            Some("/etc/containerd/certs.d"),
            "{name}: {after}"
        );
    }
}

/// containerd binaries of this machine: the system's (Debian's 1.6) and those
/// `tests/e2e/fetch-containerd.sh` extracted (1.7, 2.x), each with its version.
fn containerd_binaries() -> Vec<(String, std::path::PathBuf)> {
    let mut dirs = vec![];
    if let Ok(out) = std::process::Command::new("bash")
        .args(["tests/e2e/fetch-containerd.sh", "--list"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((_, dir)) = line.split_once('\t') {
                dirs.push(Path::new(dir).join("containerd"));
            }
        }
    }
    if have("containerd") {
        dirs.push("containerd".into());
    }
    dirs.into_iter()
        .filter_map(|bin| {
            let out = std::process::Command::new(&bin)
                .arg("--version")
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let version = text.split_whitespace().nth(2)?.trim_start_matches('v');
            Some((version.to_string(), bin))
        })
        .collect()
}

#[test]
fn real_containerd_reads_config_path_from_every_form() {
    let binaries = containerd_binaries();
    for major in ["1.6", "1.7", "2."] {
        if !require(
            &format!("containerd {major}x"),
            binaries.iter().any(|(v, _)| v.starts_with(major)),
        ) {
            return;
        }
    }
    for dir in form_fixtures() {
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        let node = node_from(&dir);
        node.run("apply", &[]).status(2);
        let version: i64 = node.read(CONFIG).parse::<toml::Table>().expect("toml")["version"]
            .as_integer()
            .expect("version");
        for (release, bin) in &binaries {
            // 1.x reads version 2; 2.x reads 3 and migrates 2 at start-up.
            let reads = if release.starts_with("1.") {
                version == 2
            } else {
                version >= 2
            };
            if !reads {
                continue;
            }
            let out = std::process::Command::new(bin)
                .args(["--config"])
                .arg(node.path(CONFIG))
                .args(["config", "dump"])
                .output()
                .expect("containerd");
            assert!(
                out.status.success(),
                "{name}: containerd {release} refused the file: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let dump: toml::Table = String::from_utf8_lossy(&out.stdout)
                .parse()
                .unwrap_or_else(|e| panic!("{name}: containerd {release} dump: {e}"));
            let table = if release.starts_with("1.") {
                "io.containerd.grpc.v1.cri"
            } else {
                "io.containerd.cri.v1.images"
            };
            assert_eq!(
                dump["plugins"][table]["registry"]["config_path"].as_str(),
                Some("/etc/containerd/certs.d"),
                "{name}: containerd {release} reads another config_path"
            );
        }
    }
}
