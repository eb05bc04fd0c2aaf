//! The ownership record: every file mirrorctl created (path, sha256, mode) and every directory
//! it created, kept outside the directories containerd and the kubelet read. Only recorded
//! files are ever pruned; anything else on the node is never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::fsx;
use crate::inventory::NodePath;

pub const STATE_FILE: &str = "state.json";
pub const LOCK_FILE: &str = "lock";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    /// Node path → what mirrorctl last wrote there.
    pub files: BTreeMap<String, Record>,
    /// Directories mirrorctl created (node paths); removed when they become empty.
    pub dirs: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub sha256: String,
    pub mode: String,
    /// What the file is for (`hostsToml`, `credentialProviderConfig`, …), so that a file the
    /// inventory no longer mentions is still deleted in the right order.
    #[serde(default)]
    pub kind: String,
    /// Written into the record before a run writes the file, cleared after: a run killed in
    /// between leaves either content, and neither counts as drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// The content a run was about to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub sha256: String,
    pub mode: String,
}

impl Record {
    /// Whether `sha256` and `mode` are what mirrorctl wrote (or was writing) there.
    pub fn matches(&self, sha256: &str, mode: &str) -> bool {
        (self.sha256 == sha256 && self.mode == mode)
            || self
                .pending
                .as_ref()
                .is_some_and(|p| p.sha256 == sha256 && p.mode == mode)
    }
}

impl State {
    pub fn path(root: &Path, state_dir: &NodePath) -> PathBuf {
        state_dir.under(root).join(STATE_FILE)
    }

    /// Reads the record; a missing file is an empty record.
    pub fn load(root: &Path, state_dir: &NodePath) -> Result<State, Error> {
        let path = Self::path(root, state_dir);
        match fsx::inspect(&path)? {
            fsx::Actual::Absent => Ok(State {
                version: 1,
                ..State::default()
            }),
            fsx::Actual::File { bytes, .. } => {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Error::io(
                        "parse the state file",
                        &path,
                        std::io::Error::other(format!(
                            "{e}; move it away to start over (every file then counts as foreign and needs --adopt)"
                        )),
                    )
                })
            }
            fsx::Actual::Symlink => Err(Error::Symlink {
                path,
                expected: "file",
            }),
            fsx::Actual::NotAFile => Err(Error::NotAFile { path }),
        }
    }

    pub fn save(&self, root: &Path, state_dir: &NodePath) -> Result<(), Error> {
        let dir = state_dir.under(root);
        fsx::create_dirs(&dir)?;
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::io("serialize the state for", &dir, std::io::Error::other(e)))?;
        bytes.push(b'\n');
        fsx::write_atomic(&dir.join(STATE_FILE), &bytes, 0o600, None)
    }
}
