//! `credentialProviders`: the kubelet's credential providers and their `tokenAttributes`.

use super::{Decoder, scalar_text};
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
        let map = self.mapping(
            node,
            path,
            &[
                "name",
                "matchImages",
                "defaultCacheDuration",
                "apiVersion",
                "args",
                "env",
                "tokenAttributes",
            ],
        )?;
        let name = self
            .required(&map, path, node.mark, "name")
            .and_then(|n| self.string(n, &key(path, "name")));
        let match_images = self
            .required(&map, path, node.mark, "matchImages")
            .map(|n| self.string_list(n, &key(path, "matchImages")))
            .unwrap_or_default();
        let duration = self
            .required(&map, path, node.mark, "defaultCacheDuration")
            .and_then(|n| {
                let duration_path = key(path, "defaultCacheDuration");
                if matches!(n.kind(), "an integer" | "a number") {
                    self.problem(
                        Code::K005,
                        &duration_path,
                        n.mark,
                        "expected a Go duration string like \"12h\" or \"0s\"; a bare number has no unit",
                    );
                    return None;
                }
                self.string(n, &duration_path)
            });
        let api_version = map
            .get("apiVersion")
            .and_then(|n| self.string(n, &key(path, "apiVersion")));
        let args = map
            .get("args")
            .map(|n| {
                self.string_list(n, &key(path, "args"))
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            })
            .unwrap_or_default();
        let env = map
            .get("env")
            .map(|n| self.env(n, &key(path, "env")))
            .unwrap_or_default();
        let token_attributes = map
            .get("tokenAttributes")
            .and_then(|n| self.token_attributes(n, &key(path, "tokenAttributes")));
        Some(CredentialProvider {
            plugin: false,
            name: name?,
            mark: node.mark,
            match_images,
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
        let map = self.mapping(
            node,
            path,
            &[
                "serviceAccountTokenAudience",
                "requireServiceAccount",
                "requiredServiceAccountAnnotationKeys",
                "optionalServiceAccountAnnotationKeys",
                "cacheType",
            ],
        )?;
        Some(TokenAttributes {
            mark: node.mark,
            service_account_token_audience: map
                .get("serviceAccountTokenAudience")
                .and_then(|n| self.string(n, &key(path, "serviceAccountTokenAudience"))),
            require_service_account: map
                .get("requireServiceAccount")
                .and_then(|n| self.bool(n, &key(path, "requireServiceAccount"))),
            required_service_account_annotation_keys: map
                .get("requiredServiceAccountAnnotationKeys")
                .map(|n| self.string_list(n, &key(path, "requiredServiceAccountAnnotationKeys")))
                .unwrap_or_default(),
            optional_service_account_annotation_keys: map
                .get("optionalServiceAccountAnnotationKeys")
                .map(|n| self.string_list(n, &key(path, "optionalServiceAccountAnnotationKeys")))
                .unwrap_or_default(),
            cache_type: map
                .get("cacheType")
                .and_then(|n| self.string(n, &key(path, "cacheType"))),
        })
    }
}
