//! Safe on shared nodes: ownership and pruning, adoption, drift, symlinks, secrets, the lock,
//! leftovers of killed runs, and concurrent runs.

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;
use std::process::Command;

use mirrorctl::fsx::TEMP_SUFFIX;

use crate::support::{BIN, Node, Run, run};

fn inventory(registries: &[&str]) -> String {
    if registries.is_empty() {
        return "version: 1\nregistries: {}\n".into();
    }
    let mut text = String::from("version: 1\nregistries:\n");
    for r in registries {
        text.push_str(&format!(
            "  \"{r}\":\n    mirrors: [{{url: \"https://mirror.{}\"}}]\n",
            r.replace(':', "-")
        ));
    }
    text
}

fn hosts(registry: &str) -> String {
    format!("/etc/containerd/certs.d/{registry}/hosts.toml")
}

#[test]
fn removed_registries_are_pruned_and_foreign_files_survive() {
    let node = Node::new();
    node.inventory(&inventory(&["docker.io", "quay.io"]));
    node.run("apply", &[]).status(2);
    node.write("/etc/containerd/certs.d/docker.io/ca.crt", "foreign");
    node.write(
        "/etc/containerd/certs.d/_backup/hosts.toml",
        "foreign backup",
    );

    node.inventory(&inventory(&["docker.io"]));
    node.run("diff", &[])
        .status(2)
        .stdout_has("deleted file mode 100644")
        .stdout_has("+++ /dev/null");
    let report = node.run("check", &["--output", "json"]).status(2).json();
    let actions: Vec<(String, String)> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&(hosts("quay.io"), "delete".into())),
        "{actions:?}"
    );
    node.run("apply", &[])
        .status(2)
        .stdout_has(&format!("delete           {}", hosts("quay.io")));
    assert!(
        !node.exists("/etc/containerd/certs.d/quay.io"),
        "the directory mirrorctl created is gone"
    );
    assert!(node.exists(&hosts("docker.io")));
    assert_eq!(
        node.read("/etc/containerd/certs.d/docker.io/ca.crt"),
        "foreign"
    );
    assert_eq!(
        node.read("/etc/containerd/certs.d/_backup/hosts.toml"),
        "foreign backup"
    );
    node.run("apply", &[]).status(0);

    node.inventory(&inventory(&[]));
    node.run("apply", &[]).status(2);
    assert!(!node.exists(&hosts("docker.io")));
    assert_eq!(
        node.read("/etc/containerd/certs.d/docker.io/ca.crt"),
        "foreign",
        "a managed dir holding a foreign file stays"
    );
    assert_eq!(
        node.read("/etc/containerd/certs.d/_backup/hosts.toml"),
        "foreign backup"
    );
}

#[test]
fn foreign_files_need_adopt() {
    let node = Node::new();
    node.inventory(&inventory(&["docker.io"]));
    node.write(&hosts("docker.io"), "# written by Ansible\n");
    node.run("check", &[]).status(2).stdout_has("needs --adopt");
    node.run("apply", &[])
        .status(1)
        .stderr_has("refusing to replace 1 file that mirrorctl did not write")
        .stderr_has(&hosts("docker.io"))
        .stderr_has("--adopt");
    assert_eq!(node.read(&hosts("docker.io")), "# written by Ansible\n");
    node.run("apply", &["--adopt"]).status(2);
    assert!(
        node.read(&hosts("docker.io"))
            .starts_with("# Managed by mirrorctl")
    );
    node.run("apply", &[]).status(0);
}

#[test]
fn symlinks_at_or_below_managed_paths_are_refused() {
    let node = Node::new();
    node.inventory(&inventory(&["docker.io"]));
    let elsewhere = node.dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    fs::create_dir_all(node.path("/etc/containerd/certs.d")).expect("mkdir");
    symlink(&elsewhere, node.path("/etc/containerd/certs.d/docker.io")).expect("symlink");
    node.run("apply", &[])
        .status(1)
        .stderr_has("refusing to follow the symlink");
    assert_eq!(
        fs::read_dir(&elsewhere).expect("ls").count(),
        0,
        "nothing written through the link"
    );

    fs::remove_file(node.path("/etc/containerd/certs.d/docker.io")).expect("rm");
    fs::create_dir(node.path("/etc/containerd/certs.d/docker.io")).expect("mkdir");
    let target = elsewhere.join("target.toml");
    fs::write(&target, "untouched").expect("write");
    symlink(&target, node.path(&hosts("docker.io"))).expect("symlink");
    node.run("apply", &[])
        .status(1)
        .stderr_has("refusing to follow the symlink");
    node.run("check", &[]).status(1);
    assert_eq!(fs::read_to_string(&target).expect("read"), "untouched");
}

/// No temporary file anywhere under `dir`.
#[track_caller]
fn assert_no_temp_file(dir: &Path) {
    for entry in fs::read_dir(dir).expect("ls").flatten() {
        assert!(
            !entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX),
            "temporary file left behind: {}",
            entry.path().display()
        );
        if entry.file_type().expect("file type").is_dir() {
            assert_no_temp_file(&entry.path());
        }
    }
}

/// `render --out DIR` writes through the one writer: each file with its desired mode whatever
/// the umask, an unchanged file left alone, a symlink at or below a path refused, and never a
/// temporary file left behind.
#[test]
fn issue_12_render_out_writes_through_the_one_writer() {
    let node = Node::new();
    node.inventory(crate::cli::INVENTORY);
    let inventory = node.inventory_path();
    let inventory = inventory.to_str().expect("utf-8");
    let out = node.root();
    let render_out = |umask: &str| {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" render -i \"$1\" --out \"$2\""
            ))
            .arg(BIN)
            .arg(inventory)
            .arg(&out)
            .env_remove("MIRRORCTL_INVENTORY")
            .output()
            .expect("sh");
        Run::new(
            vec!["render".into(), "--out".into(), format!("umask {umask}")],
            output.status.code().unwrap_or(-1),
            &output.stdout,
            &output.stderr,
        )
    };
    // The modes `render` announces are the modes `render --out` gives, under any umask.
    let printed = run(&["render", "-i", inventory], None);
    printed.status(0);
    let want: Vec<(String, u32)> = printed
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix("# ==> "))
        .filter_map(|line| line.strip_suffix(") <=="))
        .filter_map(|line| line.split_once(" ("))
        .map(|(path, mode)| {
            (
                path.to_string(),
                u32::from_str_radix(mode, 8).expect("octal mode"),
            )
        })
        .collect();
    assert!(want.iter().any(|(_, mode)| *mode == 0o600), "{want:?}");
    assert!(want.iter().any(|(_, mode)| *mode == 0o644), "{want:?}");
    let paths: Vec<String> = want.iter().map(|(path, _)| path.clone()).collect();
    for umask in ["000", "077"] {
        render_out(umask)
            .status(0)
            .stdout_has(&format!("rendered {} files under ", want.len()));
        assert_eq!(node.files(), paths, "umask {umask}");
        for (path, mode) in &want {
            assert_eq!(node.mode(path), *mode, "{path} under umask {umask}");
        }
        assert_no_temp_file(&out);
    }
    // An unchanged file is not written again: it is still the same inode.
    let inode = |path: &str| fs::metadata(node.path(path)).expect("metadata").ino();
    let before: Vec<u64> = paths.iter().map(|p| inode(p)).collect();
    render_out("022").status(0);
    assert_eq!(paths.iter().map(|p| inode(p)).collect::<Vec<_>>(), before);

    // A symlink at a file: refused before anything is written, the link and its target kept.
    let docker = hosts("docker.io");
    let elsewhere = node.dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    let target = elsewhere.join("target.toml");
    fs::write(&target, "untouched").expect("write");
    fs::remove_file(node.path(&docker)).expect("rm");
    symlink(&target, node.path(&docker)).expect("symlink");
    render_out("022")
        .status(1)
        .stderr_has("refusing to follow the symlink")
        .stderr_has(&docker);
    assert!(
        fs::symlink_metadata(node.path(&docker))
            .expect("lstat")
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).expect("read"), "untouched");
    assert_no_temp_file(&out);
    assert_no_temp_file(&elsewhere);

    // A symlink at a directory, a registry's or the kubelet's: nothing written through it.
    fs::remove_file(&target).expect("rm");
    for dir in ["/etc/containerd/certs.d/docker.io", "/etc/kubernetes"] {
        fs::remove_dir_all(&out).expect("rm -r");
        fs::create_dir_all(node.path(dir).parent().expect("parent")).expect("mkdir");
        symlink(&elsewhere, node.path(dir)).expect("symlink");
        render_out("022")
            .status(1)
            .stderr_has("refusing to follow the symlink")
            .stderr_has(dir);
        assert_eq!(
            fs::read_dir(&elsewhere).expect("ls").count(),
            0,
            "nothing written through the link at {dir}"
        );
        assert_no_temp_file(&out);
    }
}

#[test]
fn secrets_come_from_files_and_never_reach_an_output() {
    let node = Node::new();
    let password = "s3cr3t-Pa55word";
    let base64 = "bWlycm9yLWJvdDpzM2NyM3QtUGE1NXdvcmQ="; // mirror-bot:s3cr3t-Pa55word
    node.write("/etc/mirrorctl/secrets/user", "mirror-bot\n");
    node.write("/etc/mirrorctl/secrets/pass", &format!("{password}\n"));
    node.inventory(
        "version: 1
registries:
  docker.io:
    mirrors:
      - url: https://private.example
        auth: {basicFrom: {usernameFile: /etc/mirrorctl/secrets/user, passwordFile: /etc/mirrorctl/secrets/pass}}
",
    );
    let mut runs = vec![
        node.run("diff", &[]),
        node.run("check", &["--output", "json"]),
        node.run("apply", &["--diff", "--check", "--output", "json"]),
        node.run("apply", &["--diff"]),
    ];
    let text = node.read(&hosts("docker.io"));
    assert!(
        text.contains(&format!("Authorization = \"Basic {base64}\"")),
        "{text}"
    );
    assert_eq!(node.mode(&hosts("docker.io")), 0o600);

    node.write("/etc/mirrorctl/secrets/pass", "rotated-Pa55word\n");
    let diff = node.run("diff", &[]);
    diff.status(2)
        .stdout_has("-Authorization = \"<redacted sha256:")
        .stdout_has("+Authorization = \"<redacted sha256:");
    runs.push(diff);
    runs.push(node.run("apply", &["--output", "json", "--diff"]));
    runs.push(node.run("render", &[]));
    fs::remove_file(node.path("/etc/mirrorctl/secrets/pass")).expect("rm");
    let failed = node.run("apply", &[]);
    failed
        .status(1)
        .stderr_has("passwordFile")
        .stderr_has("/etc/mirrorctl/secrets/pass");
    runs.push(failed);
    for run in &runs {
        run.nowhere(password)
            .nowhere(base64)
            .nowhere("rotated-Pa55word")
            .nowhere("cm90YXRlZC1QYTU1d29yZA");
    }
}

#[test]
fn a_second_writer_waits_then_names_the_lock_holder() {
    let node = Node::new();
    node.inventory(&inventory(&["docker.io"]));
    node.run("apply", &[]).status(2);
    let lock_path = node.path("/var/lib/mirrorctl/lock");
    let holder = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock_path)
        .expect("open lock");
    holder.lock().expect("lock");
    // The kernel names the holder: this test process.
    node.run("apply", &["--lock-timeout", "0.3"])
        .status(1)
        .stderr_has(&format!("pid {})", std::process::id()))
        .stderr_has("--lock-timeout");
    node.run("check", &[]).status(0);
    drop(holder);
    node.run("apply", &["--lock-timeout", "0.3"]).status(0);
}

/// Marks `path` in the ownership record as being written, as a run's intent save does before
/// its first write: what a run killed mid-write leaves behind.
pub(crate) fn mark_pending(node: &Node, path: &str) {
    let state_path = "/var/lib/mirrorctl/state.json";
    let mut state: serde_json::Value = serde_json::from_str(&node.read(state_path)).expect("state");
    let record = &mut state["files"][path];
    record["pending"] =
        serde_json::json!({"sha256": "0".repeat(64), "mode": record["mode"].clone()});
    node.write(
        state_path,
        &serde_json::to_string_pretty(&state).expect("json"),
    );
}

#[test]
fn temp_files_of_a_killed_run_are_removed() {
    let node = Node::new();
    node.inventory(&inventory(&["docker.io"]));
    node.run("apply", &[]).status(2);
    let temp = "/etc/containerd/certs.d/docker.io/.hosts.toml.99999.mirrorctl-tmp";
    node.write(temp, "half a fi");
    mark_pending(&node, &hosts("docker.io"));
    node.run("apply", &[]).status(0);
    assert!(!node.exists(temp));
    assert!(
        !node
            .read("/var/lib/mirrorctl/state.json")
            .contains("pending"),
        "the record is settled"
    );
}

#[test]
fn concurrent_applies_never_interleave() {
    let node = Node::new();
    let inventories: Vec<Vec<String>> = (0..6)
        .map(|i| {
            (0..20)
                .map(|j| format!("r{}.example", (i * 7 + j) % 40))
                .collect()
        })
        .collect();
    let paths: Vec<std::path::PathBuf> = inventories
        .iter()
        .enumerate()
        .map(|(i, regs)| {
            let path = node.dir.path().join(format!("inv{i}.yaml"));
            let names: Vec<&str> = regs.iter().map(String::as_str).collect();
            fs::write(&path, inventory(&names)).expect("write");
            path
        })
        .collect();
    for _round in 0..3 {
        let children: Vec<_> = paths
            .iter()
            .map(|p| {
                std::process::Command::new(crate::support::BIN)
                    .args(["apply", "--adopt", "--lock-timeout", "60", "-i"])
                    .arg(p)
                    .arg("--root")
                    .arg(node.root())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut child in children {
            let status = child.wait().expect("wait");
            assert!(matches!(status.code(), Some(0) | Some(2)), "{status:?}");
        }
        let on_disk: Vec<String> = node
            .files()
            .into_iter()
            .filter(|f| f.ends_with("/hosts.toml"))
            .collect();
        let winner = inventories
            .iter()
            .position(|regs| {
                let mut expected: Vec<String> = regs.iter().map(|r| hosts(r)).collect();
                expected.sort();
                expected == on_disk
            })
            .unwrap_or_else(|| panic!("disk matches no inventory: {on_disk:?}"));
        let state: serde_json::Value =
            serde_json::from_str(&node.read("/var/lib/mirrorctl/state.json")).expect("state");
        let recorded: Vec<String> = state["files"]
            .as_object()
            .expect("files")
            .keys()
            .cloned()
            .collect();
        assert_eq!(recorded, on_disk, "the state file matches the disk");
        let check = crate::support::run(
            &[
                "check",
                "-i",
                paths[winner].to_str().expect("utf-8"),
                "--root",
                node.root().to_str().expect("utf-8"),
            ],
            None,
        );
        check.status(0);
    }
}

/// Regression: planning a delete for every recorded file the inventory no longer wants once
/// looked the desired paths up in a list it was appending deletes to, and deleted registries
/// both inventories want.
#[test]
fn switching_to_an_overlapping_inventory_keeps_the_shared_registries() {
    let node = Node::new();
    let first: Vec<String> = (0..20).map(|i| format!("r{i}.example")).collect();
    let second: Vec<String> = (7..27).map(|i| format!("r{i}.example")).collect();
    let first_names: Vec<&str> = first.iter().map(String::as_str).collect();
    let second_names: Vec<&str> = second.iter().map(String::as_str).collect();
    node.inventory(&inventory(&first_names));
    node.run("apply", &[]).status(2);
    node.inventory(&inventory(&second_names));
    node.run("apply", &[]).status(2);
    node.run("check", &[]).status(0);
    let mut expected: Vec<String> = second.iter().map(|r| hosts(r)).collect();
    expected.sort();
    let on_disk: Vec<String> = node
        .files()
        .into_iter()
        .filter(|f| f.ends_with("/hosts.toml"))
        .collect();
    assert_eq!(on_disk, expected);
}
