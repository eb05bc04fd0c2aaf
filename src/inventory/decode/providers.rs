//! `credentialProviders`: the kubelet's credential providers and their `tokenAttributes`.

use super::fields::{PROVIDER, TOKEN_ATTRIBUTES};
use super::{Decoder, bare_number, scalar_text};
use crate::code::Code;
use crate::inventory::model::*;
use crate::inventory::path::{index, key};
use crate::inventory::yaml::{Node, Value};

impl Decoder {
    pub(super) fn providers(&mut self, node: &Node) -> Vec<CredentialProvider> {
        let Some(items) = self.sequence(node, "credentialProviders") else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.provider(item, &index("credentialProviders", i)))
            .collect()
    }

    fn provider(&mut self, node: &Node, path: &str) -> Option<CredentialProvider> {
        let map = self.object(node, path, &PROVIDER)?;
        let name = self
            .required(&map, path, node.mark, "name")
            .and_then(|n| self.string(n, &key(path, "name")));
        // A provider without its patterns is reported once, here; the rules about patterns
        // do not see it.
        let match_images = self
            .required(&map, path, node.mark, "matchImages")
            .map(|n| self.string_list(n, &key(path, "matchImages")));
        let duration_path = key(path, "defaultCacheDuration");
        let duration = match map.get("defaultCacheDuration") {
            // The kubelet's own rule (K005), with the unit the number most likely meant.
            Some(n) if matches!(n.kind(), "an integer" | "a number") => {
                self.problem(
                    Code::K005,
                    &duration_path,
                    n.mark,
                    format!(
                        "expected a Go duration string like \"12h\" or \"0s\"; {}",
                        bare_number(scalar_text(n).unwrap_or_default())
                    ),
                );
                None
            }
            _ => self
                .required(&map, path, node.mark, "defaultCacheDuration")
                .and_then(|n| self.string(n, &duration_path)),
        };
        let api_version = self
            .field(&map, path, "apiVersion")
            .and_then(|n| self.string(n, &key(path, "apiVersion")));
        let args = self
            .field(&map, path, "args")
            .map(|n| {
                self.string_list(n, &key(path, "args"))
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            })
            .unwrap_or_default();
        let env = self
            .field(&map, path, "env")
            .map(|n| self.env(n, &key(path, "env")))
            .unwrap_or_default();
        let token_attributes = self
            .field(&map, path, "tokenAttributes")
            .and_then(|n| self.token_attributes(n, &key(path, "tokenAttributes")));
        Some(CredentialProvider {
            plugin: false,
            name: name?,
            mark: node.mark,
            match_images: match_images?,
            default_cache_duration: duration?,
            api_version,
            args,
            env,
            token_attributes,
        })
    }

    pub(super) fn env(&mut self, node: &Node, path: &str) -> Vec<(String, String)> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping of variable name to value");
            return Vec::new();
        };
        let mut env: Vec<(String, String)> = entries
            .iter()
            .filter_map(|(k, v)| {
                let name = scalar_text(k)?;
                let value = self.string(v, &key(path, name))?;
                Some((name.to_string(), value.value))
            })
            .collect();
        env.sort();
        env.dedup_by(|a, b| a.0 == b.0);
        env
    }

    fn token_attributes(&mut self, node: &Node, path: &str) -> Option<TokenAttributes> {
        let map = self.object(node, path, &TOKEN_ATTRIBUTES)?;
        Some(TokenAttributes {
            mark: node.mark,
            service_account_token_audience: self
                .field(&map, path, "serviceAccountTokenAudience")
                .and_then(|n| self.string(n, &key(path, "serviceAccountTokenAudience"))),
            require_service_account: self
                .field(&map, path, "requireServiceAccount")
                .and_then(|n| self.bool(n, &key(path, "requireServiceAccount"))),
            required_service_account_annotation_keys: self
                .field(&map, path, "requiredServiceAccountAnnotationKeys")
                .map(|n| self.string_list(n, &key(path, "requiredServiceAccountAnnotationKeys")))
                .unwrap_or_default(),
            optional_service_account_annotation_keys: self
                .field(&map, path, "optionalServiceAccountAnnotationKeys")
                .map(|n| self.string_list(n, &key(path, "optionalServiceAccountAnnotationKeys")))
                .unwrap_or_default(),
            cache_type: self
                .field(&map, path, "cacheType")
                .and_then(|n| self.string(n, &key(path, "cacheType"))),
        })
    }
}
