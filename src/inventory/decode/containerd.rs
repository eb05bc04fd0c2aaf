//! `containerd`: whether mirrorctl manages containerd's own config.toml, and where it is.

use super::Decoder;
use crate::inventory::model::*;
use crate::inventory::node_path::NodePath;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn containerd(&mut self, node: &Node) -> ContainerdSettings {
        let mut settings = ContainerdSettings::default();
        if let Some(map) = self.mapping(node, "containerd", &["manageConfig", "configFile"]) {
            if let Some(b) = map
                .get("manageConfig")
                .and_then(|n| self.bool(n, "containerd.manageConfig"))
            {
                settings.manage_config = b;
            }
            if let Some(file) = map
                .get("configFile")
                .and_then(|n| self.string(n, "containerd.configFile"))
            {
                let checked = NodePath::parse(&file.value);
                if let Some(file) = self.checked(checked, "containerd.configFile", file.mark) {
                    settings.config_file = file;
                }
            }
        }
        settings
    }
}
