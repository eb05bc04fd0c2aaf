//! `credentialPlugin`: mirrorctl as the kubelet's credential provider, and its grants.

use super::Decoder;
use super::fields::{GRANT, PLUGIN};
use crate::inventory::model::*;
use crate::inventory::node_path::NodePath;
use crate::inventory::path::{index, key};
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn credential_plugin(&mut self, node: &Node) -> Option<CredentialPlugin> {
        let path = "credentialPlugin";
        let map = self.object(node, path, &PLUGIN)?;
        // The table's default stands in for an absent field (and for one that is invalid:
        // reported, and lint can still look further).
        let defaulted = |d: &mut Self, name: &str| -> Spanned<String> {
            d.field(&map, path, name)
                .and_then(|n| d.string(n, &key(path, name)))
                .unwrap_or(Spanned {
                    value: PLUGIN.default_str(name).to_string(),
                    mark: node.mark,
                })
        };
        let name = defaulted(self, "name");
        let binary = defaulted(self, "binary");
        let mapping_file = defaulted(self, "mappingFile");
        let cache_duration = defaulted(self, "cacheDuration");
        let audience = self
            .required(&map, path, node.mark, "audience")
            .and_then(|n| self.string(n, &key(path, "audience")));
        let required_annotation_keys = self
            .field(&map, path, "requiredAnnotationKeys")
            .map(|n| self.string_list(n, &key(path, "requiredAnnotationKeys")))
            .unwrap_or_default();
        let grants_path = key(path, "grants");
        let grants = match self.required(&map, path, node.mark, "grants") {
            Some(n) => match self.sequence(n, &grants_path) {
                Some(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.grant(item, &index(&grants_path, i)))
                    .collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        // A path that fails the check leaves the default in its place, so that lint can look
        // further; the problem makes the inventory invalid.
        let node_path = |d: &mut Self, field: &str, value: Spanned<String>| {
            let checked = NodePath::parse(&value.value);
            Spanned {
                value: d
                    .checked(checked, &key(path, field), value.mark)
                    .unwrap_or_else(|| default_path(PLUGIN.default_str(field))),
                mark: value.mark,
            }
        };
        let binary = node_path(self, "binary", binary);
        let mapping_file = node_path(self, "mappingFile", mapping_file);
        Some(CredentialPlugin {
            mark: node.mark,
            name,
            audience: audience?,
            binary,
            mapping_file,
            cache_duration,
            required_annotation_keys,
            grants,
        })
    }

    fn grant(&mut self, node: &Node, path: &str) -> Option<Grant> {
        let map = self.object(node, path, &GRANT)?;
        let field = |d: &mut Self, name: &str| {
            d.required(&map, path, node.mark, name)
                .and_then(|n| d.string(n, &key(path, name)))
        };
        let registry = field(self, "registry");
        let namespace = field(self, "namespace");
        let username_file = field(self, "usernameFile");
        let password_file = field(self, "passwordFile");
        let service_account = self
            .field(&map, path, "serviceAccount")
            .and_then(|n| self.string(n, &key(path, "serviceAccount")));
        let annotations = self
            .field(&map, path, "annotations")
            .map(|n| self.env(n, &key(path, "annotations")))
            .unwrap_or_default();
        Some(Grant {
            mark: node.mark,
            registry: registry?,
            namespace: namespace?,
            service_account,
            annotations,
            username_file: username_file?,
            password_file: password_file?,
        })
    }
}

/// The kubelet provider entry that runs mirrorctl as `plugin.name`: it matches the registries
/// of the grants and asks for the pod's service-account token.
pub(super) fn plugin_provider(plugin: &CredentialPlugin, target: Target) -> CredentialProvider {
    let mut patterns: Vec<Spanned<String>> = Vec::new();
    for grant in &plugin.grants {
        if !patterns.iter().any(|p| p.value == grant.registry.value) {
            patterns.push(grant.registry.clone());
        }
    }
    let cache_type = (target.kubelet >= crate::gates::CACHE_TYPE).then(|| Spanned {
        value: "ServiceAccount".to_string(),
        mark: plugin.mark,
    });
    CredentialProvider {
        name: plugin.name.clone(),
        mark: plugin.mark,
        match_images: patterns,
        default_cache_duration: plugin.cache_duration.clone(),
        api_version: None,
        args: vec![
            "credential-provider".into(),
            "--mapping".into(),
            plugin.mapping_file.value.to_string(),
        ],
        env: Vec::new(),
        token_attributes: Some(TokenAttributes {
            mark: plugin.mark,
            service_account_token_audience: Some(plugin.audience.clone()),
            require_service_account: Some(true),
            required_service_account_annotation_keys: plugin.required_annotation_keys.clone(),
            optional_service_account_annotation_keys: Vec::new(),
            cache_type,
        }),
        plugin: true,
    }
}
