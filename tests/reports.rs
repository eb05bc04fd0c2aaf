//! The text reports and diffs of apply, check and diff, whole: what Ansible logs and people read
//! is reviewed like any other output, not only probed for substrings.

use crate::support::{Node, fixtures};

/// The run's status, stdout and stderr, with the node's temp root replaced by `[ROOT]`.
fn shown(node: &Node, subcommand: &str, extra: &[&str]) -> String {
    let run = node.run(subcommand, extra);
    let root = node.root().display().to_string();
    let inventory = node.inventory_path().display().to_string();
    let clean = |text: &str| {
        text.replace(&inventory, "[INVENTORY]")
            .replace(&root, "[ROOT]")
    };
    format!(
        "$ mirrorctl {subcommand} {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
        extra.join(" "),
        run.status,
        clean(&run.stdout),
        clean(&run.stderr)
    )
}

#[test]
fn apply_check_and_diff_reports() {
    let node = Node::new();
    let example = std::fs::read_to_string(fixtures().join("../examples/inventory.yaml"))
        .expect("the bundled example");
    node.inventory(&example);
    let mut out = Vec::new();
    out.push(shown(&node, "check", &[]));
    out.push(shown(&node, "apply", &[]));
    out.push(shown(&node, "check", &[]));
    // A change of mirror order, a registry gone, and a hand edit of a managed file.
    let edited = example
        .replace(
            "      - url: https://cache.corp.example\n",
            "      - url: https://cache-2.corp.example\n",
        )
        .replace("  ghcr.io:\n    mirrors:\n      - url: https://artifactory.corp.example/artifactory/api/docker/ghcr\n        capabilities: [pull]\n", "");
    assert_ne!(
        edited, example,
        "the example changed shape: update this test"
    );
    node.inventory(&edited);
    out.push(shown(&node, "check", &[]));
    out.push(shown(&node, "diff", &[]));
    out.push(shown(&node, "apply", &["--diff"]));
    out.push(shown(&node, "apply", &[]));
    insta::assert_snapshot!(out.join("\n"));
}
