//! The top level of the inventory: `version`, and each section handed to its own decoder.

use super::fields::ROOT;
use super::plugin::plugin_provider;
use super::{Decoder, scalar_text};
use crate::code::Code;
use crate::inventory::model::*;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(crate) fn inventory(&mut self, root: &Node) -> Option<Inventory> {
        let map = self.object(root, "", &ROOT)?;
        let version = match self.required(&map, "", root.mark, "version") {
            Some(node) => match scalar_text(node) {
                Some("1") if node.kind() == "an integer" || node.kind() == "a string" => 1,
                _ => {
                    self.problem(
                        Code::S004,
                        "version",
                        node.mark,
                        "unsupported inventory version; this mirrorctl reads `version: 1`",
                    );
                    0
                }
            },
            None => 0,
        };
        let target = self
            .field(&map, "", "target")
            .map(|node| self.target(node))
            .unwrap_or_default();
        let paths = self
            .field(&map, "", "paths")
            .map(|node| self.paths(node))
            .unwrap_or_default();
        let modes = self
            .field(&map, "", "modes")
            .map(|node| self.modes(node))
            .unwrap_or_default();
        let registries = match self.field(&map, "", "registries") {
            Some(node) => self.registries(node),
            None => Vec::new(),
        };
        let credential_providers = match self.field(&map, "", "credentialProviders") {
            Some(node) => self.providers(node),
            None => Vec::new(),
        };
        let containerd = self
            .field(&map, "", "containerd")
            .map(|node| self.containerd(node))
            .unwrap_or_default();
        let credential_plugin = self
            .field(&map, "", "credentialPlugin")
            .and_then(|node| self.credential_plugin(node));
        let mut credential_providers = credential_providers;
        if let Some(plugin) = &credential_plugin {
            credential_providers.push(plugin_provider(plugin, target));
        }
        Some(Inventory {
            version,
            target,
            paths,
            modes,
            registries,
            credential_providers,
            containerd,
            credential_plugin,
        })
    }
}
