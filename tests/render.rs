//! Rendering: one snapshot per fixture under `fixtures/render/`, and every rendered hosts.toml
//! re-parsed with the `toml` crate and held to containerd's rules.

use std::path::Path;

use mirrorctl::inventory::{self, Inventory};
use mirrorctl::render::{self, DesiredState, FileKind};
use mirrorctl::secrets::Secrets;

fn load(path: &Path) -> Inventory {
    let text = std::fs::read_to_string(path).expect("fixture");
    inventory::load_str("inventory.yaml", &text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rendered(inventory: &Inventory) -> DesiredState {
    render::render(inventory, &Secrets::unread(inventory))
}

#[test]
fn fixtures_render_to_snapshots() {
    insta::glob!("../fixtures/render", "*/inventory.yaml", |path| {
        let inventory = load(path);
        let desired = rendered(&inventory);
        let mut text = String::new();
        for (node_path, file) in &desired.files {
            text.push_str(&format!(
                "==> {node_path} (mode {:04o}, secret {}) <==\n{}\n",
                file.mode,
                file.secret,
                String::from_utf8_lossy(&file.contents)
            ));
        }
        insta::assert_snapshot!(text);
    });
}

#[test]
fn rendering_is_deterministic() {
    insta::glob!("../fixtures/render", "*/inventory.yaml", |path| {
        let a = rendered(&load(path));
        let b = rendered(&load(path));
        assert_eq!(
            a.files
                .iter()
                .map(|(p, f)| (p, &f.contents, f.mode))
                .collect::<Vec<_>>(),
            b.files
                .iter()
                .map(|(p, f)| (p, &f.contents, f.mode))
                .collect::<Vec<_>>()
        );
    });
}

/// The `[host."URL"]` keys in file order, read back by a real TOML parser.
fn host_order(text: &str) -> Vec<String> {
    let doc: toml::Table = text.parse().expect("hosts.toml parses as TOML");
    match doc.get("host") {
        Some(toml::Value::Table(hosts)) => hosts.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_hosts_toml_follows_containerds_rules() {
    insta::glob!("../fixtures/render", "*/inventory.yaml", |path| {
        let inventory = load(path);
        let desired = rendered(&inventory);
        for registry in &inventory.registries {
            let node_path = format!(
                "{}/{}/hosts.toml",
                inventory.paths.certs_dir,
                registry.dir_name()
            );
            let file = &desired.files[&node_path];
            assert_eq!(file.kind, FileKind::HostsToml);
            let text = String::from_utf8(file.contents.clone()).expect("utf-8");
            assert!(
                text.starts_with("# Managed by mirrorctl"),
                "{node_path}: managed notice first"
            );
            let doc: toml::Table = text.parse().expect("valid TOML");

            // Inventory order, minus the last mirror when it became the server.
            let mut expected: Vec<String> = registry
                .mirrors
                .iter()
                .map(|m| m.url.value.trim_end_matches('/').to_string())
                .collect();
            if !registry.fallback {
                let last = expected.pop().expect("a mirror");
                assert_eq!(
                    doc.get("server").and_then(|s| s.as_str()),
                    Some(last.as_str())
                );
            }
            // The toml crate keeps keys sorted unless `preserve_order`; compare as sets, then
            // check the order on the raw text.
            let mut order = host_order(&text);
            order.sort();
            let mut sorted = expected.clone();
            sorted.sort();
            assert_eq!(order, sorted, "{node_path}: hosts");
            let positions: Vec<usize> = expected
                .iter()
                .map(|u| {
                    text.find(&format!("[host.\"{u}\"]"))
                        .expect("host table header")
                })
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{node_path}: inventory order"
            );
            assert!(
                text.contains("\n[host"),
                "{node_path}: at least one [host] table header (containerd 1.6/1.7 need one)"
            );

            for (url, host) in doc["host"].as_table().expect("host table") {
                assert!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "scheme written"
                );
                let caps = host
                    .get("capabilities")
                    .and_then(|c| c.as_array())
                    .expect("capabilities");
                assert!(!caps.is_empty(), "{node_path}: never capabilities = []");
                // A host's sub-tables come right after it: the next [host."…"] header
                // after this host's own must not precede its header sub-table.
                let own = text.find(&format!("[host.\"{url}\"]")).expect("header");
                if let Some(sub) = text.find(&format!("[host.\"{url}\".header]")) {
                    let between = &text[own + 1..sub];
                    assert!(
                        !between.contains("\n[host.\""),
                        "{node_path}: {url} header right after its host"
                    );
                }
            }
        }
    });
}
