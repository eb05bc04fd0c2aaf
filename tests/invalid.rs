//! Invalid inventories: each fixture under `fixtures/invalid/` snapshots the whole error
//! message, so the wording, field paths and positions are reviewed like any other output.

use crate::support::{Node, fixtures, run};

#[test]
fn invalid_fixtures_report_every_problem() {
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let node = Node::new();
        node.inventory(&text);
        let result = node.run("check", &[]);
        result.status(1);
        assert!(node.files().is_empty(), "nothing written");
        let dir = node.dir.path().display().to_string();
        insta::assert_snapshot!(result.stderr.replace(&dir, "[TEMP]"));
    });
}

#[test]
fn invalid_inventory_on_apply_writes_nothing() {
    let node = Node::new();
    node.inventory(
        &std::fs::read_to_string(fixtures().join("invalid/mirrors-and-urls.yaml"))
            .expect("fixture"),
    );
    node.run("apply", &[])
        .status(1)
        .stderr_has("error: invalid inventory");
    assert!(node.files().is_empty(), "{:?}", node.files());
}

#[test]
fn invalid_utf8_and_binary_junk_are_errors_not_crashes() {
    let r = run(&["check", "-i", "-", "--root", "/nonexistent"], None);
    r.status(1);
    let node = Node::new();
    std::fs::write(
        node.inventory_path(),
        b"version: 1\nregistries:\n  \xff\xfe: {}\n",
    )
    .expect("write");
    node.run("check", &[])
        .status(1)
        .stderr_has("not valid UTF-8");
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(node.inventory_path(), junk).expect("write");
    node.run("check", &[]).status(1);
}
