//! `modes`: the file modes of the written hosts.toml files and provider config.

use super::Decoder;
use super::fields::MODES;
use crate::inventory::model::*;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn modes(&mut self, node: &Node) -> Modes {
        let mut modes = Modes::default();
        if let Some(map) = self.object(node, "modes", &MODES) {
            if let Some(m) = self
                .field(&map, "modes", "hostsToml")
                .and_then(|n| self.mode(n, "modes.hostsToml"))
            {
                modes.hosts_toml = m;
            }
            if let Some(m) = self
                .field(&map, "modes", "credentialProviderConfig")
                .and_then(|n| self.mode(n, "modes.credentialProviderConfig"))
            {
                modes.credential_provider_config = m;
            }
        }
        modes
    }
}
