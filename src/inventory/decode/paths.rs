//! `paths`: where containerd and the kubelet read the files mirrorctl writes, and what makes
//! a node path acceptable.

use super::Decoder;
use crate::code::Code;
use crate::inventory::model::*;
use crate::inventory::path::key;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn paths(&mut self, node: &Node) -> Paths {
        let mut paths = Paths::default();
        let fields = [
            "certsDir",
            "credentialProviderConfig",
            "credentialProviderBinDir",
            "stateDir",
        ];
        if let Some(map) = self.mapping(node, "paths", &fields) {
            let slots = [
                &mut paths.certs_dir,
                &mut paths.credential_provider_config,
                &mut paths.credential_provider_bin_dir,
                &mut paths.state_dir,
            ];
            for (name, slot) in fields.iter().zip(slots) {
                let path = key("paths", name);
                if let Some(value) = map.get(name).and_then(|n| self.string(n, &path)) {
                    if let Err(why) = check_node_path(&value.value) {
                        self.problem(Code::S004, &path, value.mark, why);
                    }
                    *slot = value.value.trim_end_matches('/').to_string();
                }
            }
        }
        paths
    }
}

/// An absolute, normalized node path.
pub fn check_node_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("`{path}` is not an absolute path"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err("the path contains a control character".into());
    }
    if path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "`{path}` is not a normalized path (no `.`, `..` or empty components)"
        ));
    }
    Ok(())
}
