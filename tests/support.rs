//! A fluent harness around the real binary: a temp node root, an inventory, a run, and
//! assertions that print the whole run (status, stdout, stderr) when they fail.

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_mirrorctl");

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A throwaway node: `root/` is what `--root` points at, the inventory lives beside it.
pub(crate) struct Node {
    pub dir: tempfile::TempDir,
}

impl Node {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("root")).expect("root dir");
        Node { dir }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub(crate) fn inventory_path(&self) -> PathBuf {
        self.dir.path().join("inventory.yaml")
    }

    pub(crate) fn inventory(&self, text: &str) -> &Self {
        fs::write(self.inventory_path(), text).expect("write inventory");
        self
    }

    /// Runs `mirrorctl SUBCOMMAND -i INVENTORY --root ROOT EXTRA…`.
    pub(crate) fn run(&self, subcommand: &str, extra: &[&str]) -> Run {
        let inventory = self.inventory_path();
        let root = self.root();
        let mut args: Vec<&str> = vec![
            subcommand,
            "-i",
            inventory.to_str().expect("utf-8 path"),
            "--root",
            root.to_str().expect("utf-8 path"),
        ];
        args.extend_from_slice(extra);
        run(&args, None)
    }

    /// The disk path of a node path.
    pub(crate) fn path(&self, node_path: &str) -> PathBuf {
        self.root().join(node_path.trim_start_matches('/'))
    }

    pub(crate) fn read(&self, node_path: &str) -> String {
        fs::read_to_string(self.path(node_path)).unwrap_or_else(|e| panic!("read {node_path}: {e}"))
    }

    pub(crate) fn exists(&self, node_path: &str) -> bool {
        fs::symlink_metadata(self.path(node_path)).is_ok()
    }

    pub(crate) fn write(&self, node_path: &str, text: &str) {
        let path = self.path(node_path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    pub(crate) fn mode(&self, node_path: &str) -> u32 {
        fs::metadata(self.path(node_path))
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    /// Every regular file under the root, as node paths, sorted.
    pub(crate) fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.root(), &self.root(), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).expect("metadata");
        if meta.is_dir() {
            walk(root, &path, out);
        } else {
            out.push(format!(
                "/{}",
                path.strip_prefix(root).expect("under root").display()
            ));
        }
    }
}

/// One run of the binary. Its checks record every mismatch (with the line of the check) and
/// the run fails once, when it is dropped, listing them all with the whole run.
pub(crate) struct Run {
    pub args: Vec<String>,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    mismatches: RefCell<Vec<String>>,
}

pub(crate) fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("MIRRORCTL_INVENTORY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn mirrorctl");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run::new(
        args.iter().map(|a| a.to_string()).collect(),
        status.code().unwrap_or(-1),
        &stdout,
        &stderr,
    )
}

impl Run {
    pub(crate) fn new(args: Vec<String>, status: i32, stdout: &[u8], stderr: &[u8]) -> Self {
        Run {
            args,
            status,
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
            mismatches: RefCell::new(Vec::new()),
        }
    }

    fn report(&self, mismatches: &[String]) -> String {
        format!(
            "{}\n--- args: {:?}\n--- status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            mismatches.join("\n"),
            self.args,
            self.status,
            self.stdout,
            self.stderr
        )
    }

    #[track_caller]
    fn mismatch(&self, what: String) {
        let at = std::panic::Location::caller();
        self.mismatches
            .borrow_mut()
            .push(format!("{}:{}: {what}", at.file(), at.line()));
    }

    #[track_caller]
    pub(crate) fn status(&self, expected: i32) -> &Self {
        if self.status != expected {
            self.mismatch(format!(
                "expected exit status {expected}, got {}",
                self.status
            ));
        }
        self
    }

    #[track_caller]
    pub(crate) fn stdout_has(&self, needle: &str) -> &Self {
        if !self.stdout.contains(needle) {
            self.mismatch(format!("stdout lacks {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub(crate) fn stderr_has(&self, needle: &str) -> &Self {
        if !self.stderr.contains(needle) {
            self.mismatch(format!("stderr lacks {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub(crate) fn nowhere(&self, needle: &str) -> &Self {
        if self.stdout.contains(needle) || self.stderr.contains(needle) {
            self.mismatch(format!("output contains {needle:?}"));
        }
        self
    }

    /// stdout as JSON; fails at once (with the mismatches so far) when it is not.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.stdout) {
            Ok(json) => json,
            Err(e) => {
                let mut mismatches = self.mismatches.take();
                mismatches.push(format!("stdout is not JSON: {e}"));
                panic!("{}", self.report(&mismatches))
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let mismatches = self.mismatches.take();
        if !mismatches.is_empty() && !std::thread::panicking() {
            panic!(
                "{} mismatch(es):\n{}",
                mismatches.len(),
                self.report(&mismatches)
            );
        }
    }
}

/// A real component a test needs: skip loudly on a laptop without it, fail under CI.
pub(crate) fn require(component: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {component} is missing: .ci/run must install it");
    }
    eprintln!("SKIPPED: {component} is not available on this machine");
    false
}

pub(crate) fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The string `key` of every object in the array `json[list]`, e.g. each finding's code.
pub(crate) fn each<'a>(json: &'a serde_json::Value, list: &str, key: &str) -> Vec<&'a str> {
    json[list]
        .as_array()
        .unwrap_or_else(|| panic!("`{list}` is not an array: {json}"))
        .iter()
        .filter_map(|item| item[key].as_str())
        .collect()
}
