//! `containerd`: whether mirrorctl manages containerd's own config.toml, and where it is.

use super::Decoder;
use super::fields::CONTAINERD;
use crate::inventory::model::*;
use crate::inventory::node_path::NodePath;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn containerd(&mut self, node: &Node) -> ContainerdSettings {
        let mut settings = ContainerdSettings::default();
        if let Some(map) = self.object(node, "containerd", &CONTAINERD) {
            if let Some(b) = self
                .field(&map, "containerd", "manageConfig")
                .and_then(|n| self.bool(n, "containerd.manageConfig"))
            {
                settings.manage_config = b;
            }
            if let Some(file) = self
                .field(&map, "containerd", "configFile")
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
