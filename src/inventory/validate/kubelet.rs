//! The kubelet's rules: credential providers, their `matchImages`, durations, apiVersion and
//! `tokenAttributes`.

use super::Checker;
use crate::code::Code;
use crate::duration::parse_go_duration;
use crate::gates;
use crate::gates::KubeletFeatureGate;
use crate::image_pattern;
use crate::inventory::model::*;
use crate::inventory::path::{index, key};
use crate::version::Version;
use std::collections::HashSet;

impl Checker<'_> {
    pub(super) fn providers(&mut self) {
        let target = self.inventory.target;
        let mut names = HashSet::new();
        for (i, provider) in self.inventory.credential_providers.iter().enumerate() {
            let path = if provider.plugin {
                "credentialPlugin".to_string()
            } else {
                index("credentialProviders", i)
            };
            let name = &provider.name;
            let name_path = key(&path, "name");
            if name.value.is_empty() {
                self.problem(
                    Code::K001,
                    &name_path,
                    Some(name.mark),
                    "the name is empty; it must be the provider binary's file name in the bin dir",
                );
            } else if name.value.contains('/')
                || name.value.contains(char::is_whitespace)
                || name.value == "."
                || name.value == ".."
            {
                self.problem(Code::K001, &name_path, Some(name.mark), format!("`{}` cannot be a binary name in the bin dir: no `/`, no spaces, not `.` or `..`", name.value));
            }
            if !names.insert(name.value.clone()) {
                self.problem(
                    Code::K002,
                    &name_path,
                    Some(name.mark),
                    format!(
                        "provider `{}` is defined twice; the kubelet requires unique names",
                        name.value
                    ),
                );
            }
            let images_path = key(&path, "matchImages");
            if provider.match_images.is_empty() {
                self.problem(
                    Code::K003,
                    &images_path,
                    Some(provider.mark),
                    "at least one pattern is required",
                );
            }
            for (j, pattern) in provider.match_images.iter().enumerate() {
                if let Err(why) = image_pattern::check_pattern(&pattern.value, target.kubelet) {
                    self.problem(
                        Code::K004,
                        &index(&images_path, j),
                        Some(pattern.mark),
                        format!("the kubelet cannot parse `{}`: it {why}", pattern.value),
                    );
                }
            }
            let duration = &provider.default_cache_duration;
            match parse_go_duration(&duration.value) {
                None => self.problem(
                    Code::K005,
                    &key(&path, "defaultCacheDuration"),
                    Some(duration.mark),
                    format!(
                        "`{}` is not a Go duration (like \"12h\" or \"0s\"; there is no `d` unit)",
                        duration.value
                    ),
                ),
                Some(n) if n < 0 => self.problem(
                    Code::K005,
                    &key(&path, "defaultCacheDuration"),
                    Some(duration.mark),
                    "the cache duration must not be negative",
                ),
                Some(_) => {}
            }
            let api = provider_api_version(provider, target.kubelet);
            if let Some(explicit) = &provider.api_version {
                let since =
                    gates::api_version_since(&gates::PROVIDER_API_VERSIONS, &explicit.value);
                match since {
                    None => self.problem(Code::K006, &key(&path, "apiVersion"), Some(explicit.mark), format!("`{}` is not a credential provider API; use credentialprovider.kubelet.k8s.io/v1", explicit.value)),
                    Some(v) if target.kubelet < v => self.problem(Code::K006, &key(&path, "apiVersion"), Some(explicit.mark), format!("`{}` needs kubelet {}.{} or later", explicit.value, v.major, v.minor)),
                    Some(_) => {}
                }
            }
            for (name, _) in &provider.env {
                if name.is_empty() || name.contains('=') || name.contains('\0') {
                    self.problem(
                        Code::K013,
                        &key(&key(&path, "env"), name),
                        Some(provider.mark),
                        "not a valid environment variable name",
                    );
                }
            }
            if let Some(attrs) = &provider.token_attributes {
                self.token_attributes(attrs, &key(&path, "tokenAttributes"), api);
            }
        }
    }

    fn token_attributes(&mut self, attrs: &TokenAttributes, path: &str, api: &str) {
        let kubelet = self.inventory.target.kubelet;
        let mark = Some(attrs.mark);
        if kubelet < gates::TOKEN_ATTRIBUTES {
            self.problem(
                Code::K007,
                path,
                mark,
                format!("`tokenAttributes` needs kubelet 1.33 or later (target is {kubelet})"),
            );
        }
        let gate = KubeletFeatureGate::ServiceAccountTokenForCredentialProviders;
        let gates = self.inventory.target.kubelet_feature_gates;
        if kubelet >= gates::TOKEN_ATTRIBUTES && !gates.enabled(gate, kubelet) {
            let declared = key("target.kubeletFeatureGates", gate.name());
            let message = match gates.declared(gate) {
                Some(_) => format!(
                    "`{declared}` is false: the kubelet refuses `tokenAttributes` with the gate off and does not start; remove the provider's `tokenAttributes` or turn the gate on"
                ),
                None => format!(
                    "kubelet {kubelet} refuses `tokenAttributes` unless the feature gate {} is on (alpha, off by default) and then does not start; when the node's kubelet runs with --feature-gates={}=true, declare `{declared}: true`, or target kubelet {}.{}+",
                    gate.name(),
                    gate.name(),
                    gate.on_by_default_since().major,
                    gate.on_by_default_since().minor
                ),
            };
            self.problem(Code::K014, path, mark, message);
        }
        if api != "credentialprovider.kubelet.k8s.io/v1" {
            self.problem(Code::K008, path, mark, "`tokenAttributes` needs the provider apiVersion credentialprovider.kubelet.k8s.io/v1");
        }
        match &attrs.service_account_token_audience {
            Some(a) if !a.value.is_empty() => {}
            Some(a) => self.problem(
                Code::K009,
                &key(path, "serviceAccountTokenAudience"),
                Some(a.mark),
                "the audience must not be empty",
            ),
            None => self.problem(
                Code::K009,
                path,
                mark,
                "missing required field `serviceAccountTokenAudience`",
            ),
        }
        match attrs.require_service_account {
            None => self.problem(
                Code::K010,
                path,
                mark,
                "missing required field `requireServiceAccount` (the kubelet has no default)",
            ),
            Some(false) if !attrs.required_service_account_annotation_keys.is_empty() => self
                .problem(
                    Code::K010,
                    &key(path, "requireServiceAccount"),
                    mark,
                    "must be true when `requiredServiceAccountAnnotationKeys` is set",
                ),
            Some(_) => {}
        }
        let mut all = HashSet::new();
        for (list, name) in [
            (
                &attrs.required_service_account_annotation_keys,
                "requiredServiceAccountAnnotationKeys",
            ),
            (
                &attrs.optional_service_account_annotation_keys,
                "optionalServiceAccountAnnotationKeys",
            ),
        ] {
            let mut seen = HashSet::new();
            for (i, annotation) in list.iter().enumerate() {
                let item_path = index(&key(path, name), i);
                // The kubelet validates each key lowercased but compares them exactly:
                // `role` and `ROLE` are two keys to it.
                if let Err(why) = check_qualified_name(&annotation.value.to_lowercase()) {
                    self.problem(
                        Code::K011,
                        &item_path,
                        Some(annotation.mark),
                        format!(
                            "`{}` is not a valid annotation key: {why}",
                            annotation.value
                        ),
                    );
                }
                if !seen.insert(annotation.value.as_str()) {
                    self.problem(
                        Code::K011,
                        &item_path,
                        Some(annotation.mark),
                        format!("`{}` is listed twice", annotation.value),
                    );
                } else if !all.insert(annotation.value.as_str()) {
                    self.problem(
                        Code::K011,
                        &item_path,
                        Some(annotation.mark),
                        format!("`{}` is both required and optional", annotation.value),
                    );
                }
            }
        }
        match &attrs.cache_type {
            Some(c) if kubelet < gates::CACHE_TYPE => self.problem(Code::K012,
                &key(path, "cacheType"),
                Some(c.mark),
                format!("kubelet {kubelet} does not know `cacheType` and refuses to start (strict decoding); remove it or target kubelet 1.34+"),
            ),
            Some(c) if c.value != "ServiceAccount" && c.value != "Token" => self.problem(Code::K012,
                &key(path, "cacheType"),
                Some(c.mark),
                format!("`{}` is not a cache type; use ServiceAccount or Token", c.value),
            ),
            None if kubelet >= gates::CACHE_TYPE => self.problem(Code::K012,
                path,
                mark,
                format!("missing required field `cacheType` (required by kubelet 1.34+, target is {kubelet}): ServiceAccount or Token"),
            ),
            _ => {}
        }
    }
}

/// The provider apiVersion rendered for `provider` on `kubelet`.
pub fn provider_api_version(provider: &CredentialProvider, kubelet: Version) -> &str {
    match &provider.api_version {
        Some(v) => &v.value,
        None => gates::newest_known(&gates::PROVIDER_API_VERSIONS, kubelet),
    }
}

/// A Kubernetes qualified name: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters.
fn check_qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if !name_ok {
        return Err("the name part must be 1-63 characters of letters, digits, `-`, `_`, `.`, starting and ending alphanumeric".into());
    }
    if let Some(prefix) = prefix {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if prefix.is_empty() || prefix.len() > 253 || !prefix.split('.').all(label_ok) {
            return Err("the prefix must be a DNS subdomain".into());
        }
    }
    Ok(())
}
