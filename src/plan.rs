//! The plan: what is on disk compared with the desired state, as a sorted list of changes.
//! `diff`, `check`, `apply --check` and `apply` all print this one value, so they can never
//! disagree. Planning only reads.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::fsx::{self, Actual};
use crate::inventory::NodePath;
use crate::render::{DesiredFile, DesiredState, FileKind};
use crate::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Chmod,
    Delete,
    Unchanged,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Chmod => "chmod",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }
}

/// A file as found on disk before the run.
#[derive(Clone, PartialEq, Eq)]
pub struct Before {
    /// Empty for an unchanged file (whose bytes are `after.contents`).
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub owner: (u32, u32),
}

impl std::fmt::Debug for Before {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Before({} bytes, {:04o})", self.bytes.len(), self.mode)
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    /// Node path (as on the node, without `--root`).
    pub path: String,
    pub action: Action,
    pub kind: FileKind,
    pub before: Option<Before>,
    /// `None` for a delete.
    pub after: Option<DesiredFile>,
    /// A managed file changed or removed by hand since mirrorctl wrote it.
    pub drift: bool,
    /// The path holds a file mirrorctl did not write: `apply` needs `--adopt` to replace it.
    pub foreign: bool,
}

impl Change {
    pub fn is_change(&self) -> bool {
        self.action != Action::Unchanged
    }

    pub fn secret(&self) -> bool {
        self.after.as_ref().is_some_and(|a| a.secret)
            || (self.after.is_none()
                && self.kind == FileKind::HostsToml
                && self.before_has_secret())
    }

    fn before_has_secret(&self) -> bool {
        self.before.as_ref().is_some_and(|b| {
            crate::redact::has_secret(self.kind, &String::from_utf8_lossy(&b.bytes))
        })
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub root: PathBuf,
    /// Sorted by path.
    pub changes: Vec<Change>,
    /// The ownership record read before planning.
    pub state: State,
    pub state_dir: NodePath,
}

impl Plan {
    pub fn changed(&self) -> bool {
        self.changes.iter().any(Change::is_change)
    }

    pub fn disk_path(&self, node_path: &str) -> PathBuf {
        fsx::under_root(&self.root, node_path)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Compares `desired` with what is under `root`, using the ownership record in `state_dir`.
pub fn plan(desired: DesiredState, root: &Path, state_dir: &NodePath) -> Result<Plan, Error> {
    let state = State::load(root, state_dir)?;
    let mut changes = compare(desired, root, &state)?;
    // The desired files, in path order; deletes are appended after them.
    let desired = changes.len();
    for path in state.files.keys() {
        if changes[..desired]
            .binary_search_by(|c| c.path.as_str().cmp(path))
            .is_ok()
        {
            continue;
        }
        let Some(before) = existing(fsx::under_root(root, path))? else {
            continue;
        };
        let record = &state.files[path];
        changes.push(Change {
            path: path.clone(),
            action: Action::Delete,
            kind: FileKind::from_name(&record.kind).unwrap_or(FileKind::HostsToml),
            drift: drifted(record, &before.bytes, before.mode),
            before: Some(before),
            after: None,
            foreign: false,
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Plan {
        root: root.to_path_buf(),
        changes,
        state,
        state_dir: state_dir.clone(),
    })
}

/// Each desired file against what is on disk under `root`, in path order: the changes that
/// make the disk hold it. `state` is the ownership record that tells drift and foreign files.
pub(crate) fn compare(
    desired: DesiredState,
    root: &Path,
    state: &State,
) -> Result<Vec<Change>, Error> {
    let mut changes = Vec::with_capacity(desired.files.len());
    for (path, want) in desired.files {
        let disk = fsx::under_root(root, &path);
        if let Some(dir) = disk.parent()
            && matches!(want.kind, FileKind::HostsToml | FileKind::CaCertificate)
        {
            fsx::refuse_symlink(dir, "directory")?;
        }
        let record = state.files.get(&path);
        let (action, before, drift, foreign) = match existing(disk)? {
            // A file whose write a killed run never finished was not removed by hand.
            None => (
                Action::Create,
                None,
                record.is_some_and(|r| r.pending.is_none()),
                false,
            ),
            Some(mut before) => {
                let drift = record.is_some_and(|r| drifted(r, &before.bytes, before.mode));
                let action = if before.bytes != want.contents {
                    Action::Update
                } else if before.mode != want.mode {
                    Action::Chmod
                } else {
                    Action::Unchanged
                };
                let foreign = want.kind.owned() && record.is_none() && action != Action::Unchanged;
                // An unchanged file's bytes are the desired ones: keeping them twice would
                // double the memory of a fleet-sized check for nothing.
                if action == Action::Unchanged {
                    before.bytes = Vec::new();
                }
                (action, Some(before), drift, foreign)
            }
        };
        changes.push(Change {
            path,
            action,
            kind: want.kind,
            before,
            after: Some(want),
            drift,
            foreign,
        });
    }
    Ok(changes)
}

/// A managed file whose bytes or mode differ from what mirrorctl last wrote.
fn drifted(record: &crate::state::Record, bytes: &[u8], mode: u32) -> bool {
    !record.matches(&sha256_hex(bytes), &format!("{mode:04o}"))
}

/// What is at a managed path: `None` when absent. A symlink or anything but a regular file is
/// refused, never followed or replaced.
pub fn existing(disk: PathBuf) -> Result<Option<Before>, Error> {
    match fsx::inspect(&disk)? {
        Actual::Absent => Ok(None),
        Actual::File {
            bytes,
            mode,
            uid,
            gid,
        } => Ok(Some(Before {
            bytes,
            mode,
            owner: (uid, gid),
        })),
        Actual::Symlink => Err(Error::Symlink {
            path: disk,
            expected: "file",
        }),
        Actual::NotAFile => Err(Error::NotAFile { path: disk }),
    }
}
