//! Issue 12, items 1–6: the hosts.toml mirrorctl writes and the endpoints `resolve` names agree
//! with what containerd's own parser makes of them (containerd reference §8). The pulls that
//! prove it against real containerd are in the e2e suite (scenarios 1–14).

use crate::support::{Node, run};

const HOSTS: &str = "/etc/containerd/certs.d";

fn inventory(containerd: &str, registries: &str) -> String {
    format!(
        "version: 1\ntarget: {{containerd: \"{containerd}\", kubelet: \"1.34\"}}\nregistries:\n{registries}"
    )
}

/// `resolve IMAGE --output json` over the node's inventory.
fn resolve(node: &Node, image: &str) -> serde_json::Value {
    let inventory = node.inventory_path();
    run(
        &[
            "resolve",
            image,
            "-i",
            inventory.to_str().expect("utf-8"),
            "--output",
            "json",
        ],
        None,
    )
    .status(0)
    .json()
}

/// (url, role, httpsFirst) of every endpoint, in order.
fn endpoints(json: &serde_json::Value) -> Vec<(String, String, bool)> {
    json["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            (
                e["url"].as_str().expect("url").to_string(),
                e["role"].as_str().expect("role").to_string(),
                e["httpsFirst"].as_bool().expect("httpsFirst"),
            )
        })
        .collect()
}

fn endpoint(url: &str, role: &str, https_first: bool) -> (String, String, bool) {
    (url.to_string(), role.to_string(), https_first)
}

#[test]
fn issue_12_item_1_ipv6_mirror_is_never_a_table_containerd_1_ignores() {
    let node = Node::new();
    // A [host."http://[::1]:5001"] table: containerd 1.6 and 1.7 ignore the whole file.
    node.inventory(&inventory(
        "1.7",
        "  docker.io:\n    mirrors:\n      - url: http://[::1]:5001\n      - url: https://m.example\n",
    ));
    node.run("apply", &[])
        .status(1)
        .stderr_has("M012")
        .stderr_has("registries.\"docker.io\".mirrors[0].url");
    assert!(!node.exists(&format!("{HOSTS}/docker.io/hosts.toml")));

    // As the last mirror of a mirror-only registry it is the root `server`, which 1.x reads.
    node.inventory(&inventory(
        "1.6",
        "  docker.io:\n    mirrors:\n      - url: https://m.example\n      - url: http://[::1]:5001\n    fallback: false\n",
    ));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    assert!(text.contains("server = \"http://[::1]:5001\""), "{text}");
    assert!(!text.contains("[host.\"http://[::1]"), "{text}");
    assert_eq!(
        endpoints(&resolve(&node, "nginx")),
        [
            endpoint("https://m.example/v2", "mirror", false),
            endpoint("http://[::1]:5001/v2", "server", false),
        ]
    );

    // containerd 2.x (go-toml v2) reads the table.
    node.inventory(&inventory(
        "2.1",
        "  docker.io:\n    mirrors:\n      - url: http://[::1]:5001\n",
    ));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    assert!(text.contains("[host.\"http://[::1]:5001\"]"), "{text}");
}

#[test]
fn issue_12_item_2_single_mirror_only_endpoint_is_tried_once() {
    let node = Node::new();
    node.inventory(&inventory(
        "1.6",
        "  docker.io:\n    mirrors:\n      - url: https://only.example\n    fallback: false\n",
    ));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    let doc: toml::Table = text.parse().expect("TOML");
    assert_eq!(
        doc["server"].as_str(),
        Some("https://only.example"),
        "{text}"
    );
    // A bare [host] keeps 1.x's "at least one host table" rule and adds no endpoint.
    assert_eq!(doc["host"].as_table().map(|t| t.len()), Some(0), "{text}");
    assert!(text.contains("\n[host]\n"), "{text}");
    assert_eq!(
        endpoints(&resolve(&node, "nginx")),
        [endpoint("https://only.example/v2", "server", false)]
    );
}

#[test]
fn issue_12_item_3_trailing_slash_and_v2_are_normalized_once() {
    let node = Node::new();
    node.inventory(&inventory(
        "2.1",
        "  docker.io:\n    mirrors:\n      - url: https://m.example/\n",
    ));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    assert!(text.contains("[host.\"https://m.example\"]"), "{text}");
    assert_eq!(
        endpoints(&resolve(&node, "nginx"))[0],
        endpoint("https://m.example/v2", "mirror", false)
    );

    for (a, b) in [
        ("https://m.example", "https://m.example/v2"),
        ("https://m.example/", "https://M.example/v2/"),
        ("https://m.example/a/../v2", "https://m.example"),
    ] {
        node.inventory(&inventory(
            "2.1",
            &format!("  docker.io:\n    mirrors:\n      - url: {a}\n      - url: {b}\n"),
        ));
        node.run("apply", &[])
            .status(1)
            .stderr_has("[M002] registries.\"docker.io\".mirrors[1].url")
            .stderr_has("same endpoint");
    }
    // The server counts too.
    node.inventory(&inventory(
        "2.1",
        "  docker.io:\n    mirrors:\n      - url: https://m.example\n    server: https://m.example/v2\n",
    ));
    node.run("apply", &[])
        .status(1)
        .stderr_has("[M002] registries.\"docker.io\".server");
}

#[test]
fn issue_12_item_4_http_mirror_with_tls_keys_is_https_first_from_1_7_16() {
    let node = Node::new();
    let mirrors = "  docker.io:\n    mirrors:\n      - url: http://plain.example:5000\n        skipVerify: false\n      - url: http://tls.example:5000\n        skipVerify: true\n      - url: http://ca.example:5000\n        ca: /etc/pki/ca.pem\n      - url: http://ca.example:80\n        ca: /etc/pki/ca.pem\n";
    node.inventory(&inventory("1.7.24", mirrors));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    // `skip_verify = false` alone would switch HTTPS-first on: never written.
    assert!(!text.contains("skip_verify = false"), "{text}");
    let wanted = |first: bool| {
        vec![
            endpoint("http://plain.example:5000/v2", "mirror", false),
            endpoint("http://tls.example:5000/v2", "mirror", first),
            endpoint("http://ca.example:5000/v2", "mirror", first),
            // Port 80 is unambiguous: plain HTTP on every version.
            endpoint("http://ca.example:80/v2", "mirror", false),
            endpoint("https://registry-1.docker.io/v2", "upstream", false),
        ]
    };
    assert_eq!(endpoints(&resolve(&node, "nginx")), wanted(true));
    let lint = run(
        &["lint", "-i", node.inventory_path().to_str().expect("utf-8")],
        None,
    );
    lint.status(0)
        .stdout_has("tries `http://tls.example:5000` with HTTPS first")
        .nowhere("does nothing");

    node.inventory(&inventory("1.6.20", mirrors));
    assert_eq!(endpoints(&resolve(&node, "nginx")), wanted(false));
    run(
        &["lint", "-i", node.inventory_path().to_str().expect("utf-8")],
        None,
    )
    .stdout_has(
        "does nothing for the plain-HTTP mirror `http://tls.example:5000` on containerd 1.6.20",
    );
}

#[test]
fn issue_12_item_5_server_and_upstream_capabilities_and_loopback_scheme() {
    let node = Node::new();
    node.inventory(&inventory(
        "2.2",
        "  docker.io:\n    mirrors:\n      - url: https://m.example\n    server: https://proxy.example\n  quay.io:\n    mirrors:\n      - url: https://m.example\n",
    ));
    for image in ["nginx", "quay.io/x/y"] {
        let json = resolve(&node, image);
        let last = json["endpoints"]
            .as_array()
            .and_then(|e| e.last())
            .expect("an endpoint");
        assert_eq!(
            last["capabilities"],
            serde_json::json!(["pull", "resolve", "push", "referrers"]),
            "{image}: {last}"
        );
    }
    node.inventory(&inventory(
        "2.1",
        "  docker.io:\n    mirrors:\n      - url: https://m.example\n",
    ));
    let json = resolve(&node, "nginx");
    assert_eq!(
        json["endpoints"][1]["capabilities"],
        serde_json::json!(["pull", "resolve", "push"])
    );

    // A loopback registry's own endpoint: plain HTTP on 1.6.20, HTTPS first from 1.7.16.
    for (containerd, https_first) in [("1.6.20", false), ("1.7.24", true), ("2.1", true)] {
        node.inventory(&inventory(
            containerd,
            "  \"127.0.0.1:5000\":\n    mirrors:\n      - url: https://m.example\n",
        ));
        assert_eq!(
            endpoints(&resolve(&node, "127.0.0.1:5000/x/y:1"))[1],
            endpoint("http://127.0.0.1:5000/v2", "upstream", https_first),
            "containerd {containerd}"
        );
    }
}

#[test]
fn issue_12_item_6_server_path_follows_the_mirror_rule() {
    let node = Node::new();
    node.inventory(&inventory(
        "2.1",
        "  docker.io:\n    mirrors:\n      - url: https://art.example/api/docker/hub\n    server: https://art.example/api/docker/hub-digests\n",
    ));
    node.run("apply", &[]).status(2);
    let text = node.read(&format!("{HOSTS}/docker.io/hosts.toml"));
    let doc: toml::Table = text.parse().expect("TOML");
    assert_eq!(doc["override_path"].as_bool(), Some(true), "{text}");
    assert_eq!(
        doc["host"]["https://art.example/api/docker/hub"]["override_path"].as_bool(),
        Some(true),
        "{text}"
    );
    assert_eq!(
        endpoints(&resolve(&node, "nginx")),
        [
            endpoint("https://art.example/api/docker/hub", "mirror", false),
            endpoint(
                "https://art.example/api/docker/hub-digests",
                "server",
                false
            ),
        ]
    );
}
