//! `paths`: where containerd and the kubelet read the files mirrorctl writes; and the node-path
//! check as every section's decoder applies it.

use super::Decoder;
use super::fields::PATHS;
use crate::code::Code;
use crate::inventory::model::*;
use crate::inventory::node_path::NodePath;
use crate::inventory::path::key;
use crate::inventory::yaml::{Mark, Node};

impl Decoder {
    pub(super) fn paths(&mut self, node: &Node) -> Paths {
        let mut paths = Paths::default();
        if let Some(map) = self.object(node, "paths", &PATHS) {
            for name in PATHS.names() {
                let path = key("paths", name);
                let Some(value) = self
                    .field(&map, "paths", name)
                    .and_then(|n| self.string(n, &path))
                else {
                    continue;
                };
                // containerd reads `config_path` as a `:`-separated list (1.x's CRI plugin, and
                // 2.2+), so a certs directory with `:` in it would be two other directories.
                let parsed = NodePath::parse_dir(&value.value).and_then(|dir| match name {
                    "certsDir" if dir.as_str().contains(':') => Err(
                        "contains `:`, which containerd's `config_path` reads as a list separator"
                            .to_string(),
                    ),
                    _ => Ok(dir),
                });
                // A path that fails the check leaves the default in its place.
                let checked = self.checked(parsed, &path, value.mark);
                match (name, checked) {
                    ("credentialProviderConfig", _) => {
                        paths.credential_provider_config =
                            value.value.trim_end_matches('/').to_string();
                    }
                    ("certsDir", Some(dir)) => paths.certs_dir = dir,
                    ("credentialProviderBinDir", Some(dir)) => {
                        paths.credential_provider_bin_dir = dir
                    }
                    ("stateDir", Some(dir)) => paths.state_dir = dir,
                    _ => {}
                }
            }
        }
        paths
    }

    /// The node path `checked` made, or an S004 problem at `path` saying why there is none.
    pub(super) fn checked(
        &mut self,
        checked: Result<NodePath, String>,
        path: &str,
        mark: Mark,
    ) -> Option<NodePath> {
        checked
            .map_err(|why| self.problem(Code::S004, path, mark, why))
            .ok()
    }
}
