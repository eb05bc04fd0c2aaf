//! Semantic validation: what containerd and the kubelet really accept (see the references),
//! checked for the target versions, with every problem collected at once.

use crate::code::Code;
use std::collections::{HashMap, HashSet};

use super::model::*;
use super::path::{index, key};
use super::yaml::Mark;
use crate::duration::parse_go_duration;
use crate::effective::{self, Capability, EndpointUrl, Scheme};
use crate::error::Problem;
use crate::gates;
use crate::gates::KubeletFeatureGate;
use crate::image_pattern;
use crate::redact;
use crate::version::Version;

struct Checker<'a> {
    inventory: &'a Inventory,
    problems: Vec<Problem>,
}

pub fn validate(inventory: &Inventory) -> Vec<Problem> {
    let mut checker = Checker {
        inventory,
        problems: Vec::new(),
    };
    checker.target();
    checker.registries();
    checker.providers();
    checker.cross();
    checker.plugin();
    checker.problems
}

impl Checker<'_> {
    fn problem(&mut self, code: Code, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        self.problems.push(Problem::error(
            code,
            path,
            mark.and_then(Mark::pair),
            message,
        ));
    }

    fn target(&mut self) {
        let target = self.inventory.target;
        if target.containerd < gates::OLDEST_CONTAINERD {
            self.problem(
                Code::T001,
                "target.containerd",
                None,
                format!(
                    "containerd {} is not supported: hosts.toml needs 1.6 or later",
                    target.containerd
                ),
            );
        }
        if target.kubelet < gates::OLDEST_KUBELET {
            self.problem(
                Code::T002,
                "target.kubelet",
                None,
                format!(
                    "kubelet {} is not supported: credential providers need 1.20 or later",
                    target.kubelet
                ),
            );
        }
        for gate in KubeletFeatureGate::ALL {
            if let Some(declared) = target.kubelet_feature_gates.declared(gate)
                && target.kubelet < gate.since()
            {
                let since = gate.since();
                self.problem(
                    Code::T003,
                    &key("target.kubeletFeatureGates", gate.name()),
                    Some(declared.mark),
                    format!(
                        "kubelet {} does not know the feature gate {} (it exists from {}.{}); a kubelet started with an unknown gate refuses to start",
                        target.kubelet,
                        gate.name(),
                        since.major,
                        since.minor
                    ),
                );
            }
        }
    }

    fn registries(&mut self) {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for registry in &self.inventory.registries {
            let path = key("registries", &registry.name);
            if let Err(why) = check_registry_name(&registry.name) {
                self.problem(Code::R001, &path, Some(registry.mark), why);
            } else if let Some(first) = seen.insert(registry.name.to_lowercase(), &registry.name) {
                self.problem(Code::R003,
                    &path,
                    Some(registry.mark),
                    format!("`{}` and `{first}` differ only in case; registry names are matched case-insensitively here because both would steer the same pulls", registry.name),
                );
            }
            self.registry(registry, &path);
        }
    }

    fn registry(&mut self, registry: &Registry, path: &str) {
        if registry.declared_mirrors == 0 {
            self.problem(Code::R004,
                &key(path, "mirrors"),
                Some(registry.mark),
                "a registry needs at least one mirror (containerd 1.6 and 1.7 reject a hosts.toml without a [host] table)",
            );
        }
        if let Some(server) = &registry.server {
            if let Err(why) = check_url(&server.value) {
                self.problem(Code::M001, &key(path, "server"), Some(server.mark), why);
            }
            if !registry.fallback {
                self.problem(Code::R005,
                    &key(path, "server"),
                    Some(server.mark),
                    "`server` and `fallback: false` contradict each other: with fallback off the last mirror becomes the server",
                );
            }
        }
        // One endpoint to containerd (scheme, host, API path) is one endpoint here: `https://m`,
        // `https://m/` and `https://m/v2` would be tried twice.
        let target = self.inventory.target;
        let server_index = effective::server_mirror(registry);
        let mut seen: HashMap<(Scheme, String, String), String> = HashMap::new();
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(path, "mirrors"), i);
            self.mirror(mirror, &mirror_path);
            let Some(url) = EndpointUrl::parse(&mirror.url.value) else {
                continue;
            };
            if url.is_ipv6_literal()
                && Some(i) != server_index
                && target.containerd < gates::GO_TOML_V2
            {
                self.problem(Code::M012,
                    &key(&mirror_path, "url"),
                    Some(mirror.url.mark),
                    format!("containerd {} cannot read a `[host.\"{}\"]` table (its TOML parser refuses `]` in a table key) and would ignore the whole hosts.toml; use a host name, or make it the last mirror of a `fallback: false` registry (written as `server`)", target.containerd, url.written()),
                );
            }
            let override_path = mirror
                .override_path
                .unwrap_or_else(|| url.infers_override_path());
            let identity = url.identity(override_path);
            match seen.get(&identity) {
                Some(first) => self.problem(Code::M002,
                    &key(&mirror_path, "url"),
                    Some(mirror.url.mark),
                    format!("`{}` is the same endpoint as `{first}` to containerd ({}://{}{}); it would be tried twice", mirror.url.value, url.scheme.name(), url.host, identity.2),
                ),
                None => {
                    seen.insert(identity, mirror.url.value.clone());
                }
            }
        }
        if let Some(server) = &registry.server
            && let Some(url) = EndpointUrl::parse(&server.value)
            && let Some(first) = seen.get(&url.identity(url.infers_override_path()))
        {
            self.problem(Code::M002,
                &key(path, "server"),
                Some(server.mark),
                format!("the server `{}` is the same endpoint as the mirror `{first}`; containerd would try it twice", server.value),
            );
        }
    }

    fn mirror(&mut self, mirror: &Mirror, path: &str) {
        let target = self.inventory.target;
        if let Err(why) = check_url(&mirror.url.value) {
            self.problem(Code::M001, &key(path, "url"), Some(mirror.url.mark), why);
        }
        if let Some(caps) = &mirror.capabilities {
            let caps_path = key(path, "capabilities");
            if caps.value.is_empty() {
                self.problem(Code::M003,
                    &caps_path,
                    Some(caps.mark),
                    "an empty list means ALL capabilities to containerd, push included; list them, or omit the field for [pull, resolve]",
                );
            }
            let mut seen = HashSet::new();
            for (i, cap) in caps.value.iter().enumerate() {
                let lower = cap.value.to_lowercase();
                let capability = Capability::parse(&cap.value);
                if capability.is_none() {
                    self.problem(Code::M004,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("unknown capability `{}`: containerd ignores the whole hosts.toml on an unknown capability; use pull, resolve, push or referrers", cap.value),
                    );
                } else if capability == Some(Capability::Referrers)
                    && target.containerd < gates::REFERRERS
                {
                    self.problem(Code::M005,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("`referrers` needs containerd 2.2 or later; containerd {} ignores the whole hosts.toml", target.containerd),
                    );
                }
                if !seen.insert(lower) {
                    self.problem(
                        Code::M006,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("capability `{}` is listed twice", cap.value),
                    );
                }
            }
        }
        for (i, ca) in mirror.ca.iter().enumerate() {
            let ca_path = if mirror.ca.len() == 1 {
                key(path, "ca")
            } else {
                index(&key(path, "ca"), i)
            };
            self.file_path(&ca_path, ca);
        }
        for (i, client) in mirror.client.iter().enumerate() {
            let client_path = if mirror.client.len() == 1 {
                key(path, "client")
            } else {
                index(&key(path, "client"), i)
            };
            match client {
                ClientCert::Combined(file) => self.file_path(&client_path, file),
                ClientCert::Pair {
                    cert,
                    key: key_file,
                } => {
                    self.file_path(&key(&client_path, "cert"), cert);
                    self.file_path(&key(&client_path, "key"), key_file);
                }
            }
        }
        let mut names = HashSet::new();
        for header in &mirror.headers {
            let header_path = key(&key(path, "headers"), &header.name.value);
            let name = &header.name.value;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    format!("`{name}` is not a valid HTTP header name"),
                );
            }
            if !names.insert(name.to_lowercase()) {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    format!("header `{name}` is set twice (header names are case-insensitive)"),
                );
            }
            if header.values.is_empty() {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    "a header needs at least one value",
                );
            }
            if header
                .values
                .iter()
                .any(|v| v.chars().any(|c| c.is_control() && c != '\t'))
            {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    "a header value may not contain control characters or line breaks",
                );
            }
            if is_secret_header(name, &header.values) {
                self.problem(Code::M009,
                    &header_path,
                    Some(header.name.mark),
                    format!("`{name}` carries a credential and may not be written inline in the inventory; use `auth: {{basicFrom: {{usernameFile: …, passwordFile: …}}}}` so the secret is read from root-only files at apply time"),
                );
            }
        }
        if let Some(timeout) = &mirror.dial_timeout {
            let timeout_path = key(path, "dialTimeout");
            match parse_go_duration(&timeout.value) {
                None => self.problem(Code::M010, &timeout_path, Some(timeout.mark), format!("`{}` is not a Go duration (like \"5s\" or \"1m30s\"); containerd would ignore the whole hosts.toml", timeout.value)),
                Some(n) if n <= 0 => self.problem(Code::M010, &timeout_path, Some(timeout.mark), "the dial timeout must be positive"),
                Some(_) => {}
            }
            if !gates::dial_timeout(target.containerd) {
                self.problem(Code::M011,
                    &timeout_path,
                    Some(timeout.mark),
                    format!("`dial_timeout` needs containerd 2.0.7+ or 2.1+; containerd {} ignores it silently", target.containerd),
                );
            }
        }
        match mirror.auth.as_deref() {
            Some(Auth::Provider(name))
                if !self
                    .inventory
                    .credential_providers
                    .iter()
                    .any(|p| p.name.value == name.value) =>
            {
                self.problem(
                    Code::X001,
                    &key(&key(path, "auth"), "provider"),
                    Some(name.mark),
                    format!(
                        "no credential provider named `{}` is defined in `credentialProviders`",
                        name.value
                    ),
                );
            }
            Some(Auth::BasicFrom {
                username_file,
                password_file,
            }) => {
                let auth_path = key(&key(path, "auth"), "basicFrom");
                self.file_path(&key(&auth_path, "usernameFile"), username_file);
                self.file_path(&key(&auth_path, "passwordFile"), password_file);
            }
            Some(Auth::Provider(_)) | None => {}
        }
    }

    fn file_path(&mut self, path: &str, file: &Spanned<String>) {
        if let Err(why) = super::decode::check_node_path(&file.value) {
            self.problem(Code::M007, path, Some(file.mark), why);
        }
    }

    fn providers(&mut self) {
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

impl Checker<'_> {
    /// Rules that span the two halves: containerd's mirrors and the kubelet's providers.
    fn cross(&mut self) {
        for registry in &self.inventory.registries {
            let path = key("registries", &registry.name);
            if !registry.fallback && !registry.mirrors.is_empty() {
                let resolves = registry.mirrors.iter().any(|m| match &m.capabilities {
                    None => true,
                    Some(caps) => {
                        caps.value
                            .iter()
                            .any(|c| c.value.eq_ignore_ascii_case("resolve"))
                            && caps
                                .value
                                .iter()
                                .any(|c| c.value.eq_ignore_ascii_case("pull"))
                    }
                });
                if !resolves {
                    self.problem(
                        Code::X005,
                        &key(&path, "fallback"),
                        Some(registry.mark),
                        "with `fallback: false` and no mirror that has both `pull` and `resolve`, containerd can never resolve a tag: every pull by tag fails; add `resolve` to a mirror or allow the fallback",
                    );
                }
            }
            if registry.name == "*" {
                continue;
            }
            for (i, mirror) in registry.mirrors.iter().enumerate() {
                let Some(Auth::Provider(name)) = mirror.auth.as_deref() else {
                    continue;
                };
                let Some(provider) = self
                    .inventory
                    .credential_providers
                    .iter()
                    .find(|p| p.name.value == name.value)
                else {
                    continue;
                };
                let reasons = provider_mismatches(provider, &registry.name);
                if reasons.len() == provider.match_images.len() && !reasons.is_empty() {
                    self.problem(
                        Code::X002,
                        &key(&key(&index(&key(&path, "mirrors"), i), "auth"), "provider"),
                        Some(name.mark),
                        format!(
                            "the kubelet never runs `{}` for {} images, so this mirror never gets its credentials: the kubelet matches `matchImages` against the IMAGE's name ({}/…), never the mirror's. {}",
                            provider.name.value,
                            registry.name,
                            registry.name,
                            reasons.join("; ")
                        ),
                    );
                }
            }
        }
    }
}

impl Checker<'_> {
    /// `credentialPlugin`: grants that can be matched and files where nothing scans them.
    fn plugin(&mut self) {
        let Some(plugin) = &self.inventory.credential_plugin else {
            return;
        };
        let path = "credentialPlugin";
        if plugin.grants.is_empty() {
            self.problem(
                Code::P001,
                &key(path, "grants"),
                Some(plugin.mark),
                "at least one grant is required; without grants the plugin denies every pull",
            );
        }
        let paths = &self.inventory.paths;
        let mapping = &plugin.mapping_file.value;
        let config_dir = paths
            .credential_provider_config
            .rsplit_once('/')
            .map_or("/", |(d, _)| d);
        for (dir, what) in [
            (paths.certs_dir.as_str(), "containerd's certs dir"),
            (
                paths.credential_provider_bin_dir.as_str(),
                "the kubelet's provider bin dir",
            ),
            (
                config_dir,
                "the directory of the kubelet's provider config (read as a config directory since 1.34)",
            ),
        ] {
            if mapping.starts_with(&format!("{dir}/")) {
                self.problem(Code::P002, &key(path, "mappingFile"), Some(plugin.mapping_file.mark), format!("`{mapping}` is inside {what}; keep the mapping where neither containerd nor the kubelet reads configuration"));
            }
        }
        for (i, grant) in plugin.grants.iter().enumerate() {
            let grant_path = index(&key(path, "grants"), i);
            if let Err(why) =
                image_pattern::check_pattern(&grant.registry.value, self.inventory.target.kubelet)
            {
                self.problem(
                    Code::P003,
                    &key(&grant_path, "registry"),
                    Some(grant.registry.mark),
                    format!(
                        "the kubelet cannot parse `{}`: it {why}",
                        grant.registry.value
                    ),
                );
            }
            if !is_dns_label(&grant.namespace.value) {
                self.problem(Code::P004, &key(&grant_path, "namespace"), Some(grant.namespace.mark), format!("`{}` is not a namespace name (a DNS label: lowercase letters, digits and `-`, at most 63)", grant.namespace.value));
            }
            if let Some(sa) = &grant.service_account
                && !(sa.value.len() <= 253 && sa.value.split('.').all(is_dns_label))
            {
                self.problem(
                    Code::P004,
                    &key(&grant_path, "serviceAccount"),
                    Some(sa.mark),
                    format!("`{}` is not a service account name", sa.value),
                );
            }
            for (field, file) in [
                ("usernameFile", &grant.username_file),
                ("passwordFile", &grant.password_file),
            ] {
                self.file_path(&key(&grant_path, field), file);
            }
            for (name, _) in &grant.annotations {
                if !plugin
                    .required_annotation_keys
                    .iter()
                    .any(|k| &k.value == name)
                {
                    self.problem(Code::P005, &key(&key(&grant_path, "annotations"), name), Some(grant.mark), format!("the kubelet sends only the annotations listed in `requiredAnnotationKeys`; add `{name}` there, or the grant can never match"));
                }
            }
        }
    }
}

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// Why each of `provider`'s patterns fails to match images of `registry`; empty when one matches.
pub fn provider_mismatches(provider: &CredentialProvider, registry: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    for pattern in &provider.match_images {
        let path = image_pattern::parse(&pattern.value)
            .map(|p| p.path)
            .unwrap_or_default();
        let image = format!(
            "{registry}{}",
            if path.is_empty() {
                "/x".to_string()
            } else {
                path
            }
        );
        match image_pattern::matches(&pattern.value, &image) {
            Ok(()) => return Vec::new(),
            Err(why) => reasons.push(format!("`{}`: {why}", pattern.value)),
        }
    }
    reasons
}

/// The provider apiVersion rendered for `provider` on `kubelet`.
pub fn provider_api_version(provider: &CredentialProvider, kubelet: Version) -> &str {
    match &provider.api_version {
        Some(v) => &v.value,
        None => gates::newest_known(&gates::PROVIDER_API_VERSIONS, kubelet),
    }
}

/// Credentials may only come from files (`auth.basicFrom`); the rule is redaction's, so that
/// what may not be written inline is exactly what every output hides.
fn is_secret_header(name: &str, values: &[String]) -> bool {
    redact::is_secret_header(name) || values.iter().any(|v| redact::is_credential_value(v))
}

/// A registry name as in image references, which becomes a directory name under certsDir.
pub fn check_registry_name(name: &str) -> Result<(), String> {
    if name == "*" {
        return Ok(());
    }
    if name.is_empty() {
        return Err("a registry name may not be empty; use \"*\" for containerd's _default".into());
    }
    if name.contains("://") {
        return Err(format!(
            "`{name}` has a scheme; write the registry as in image references (`docker.io`, `reg.local:5000`); the scheme belongs to mirror URLs"
        ));
    }
    if name.contains(['/', '\\']) {
        return Err(format!(
            "`{name}` contains a path separator; a registry name becomes one directory under certsDir and may not contain `/` or `\\`"
        ));
    }
    if name == "." || name == ".." || name.contains("..") {
        return Err(format!(
            "`{name}` contains `..`; it would name a directory outside certsDir"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a registry name may not contain whitespace or control characters".into());
    }
    let lower = name.to_lowercase();
    if lower == "index.docker.io"
        || lower == "registry-1.docker.io"
        || lower.starts_with("index.docker.io:")
        || lower.starts_with("registry-1.docker.io:")
    {
        return Err(format!(
            "containerd never reads a `{name}` directory: Docker Hub images are keyed `docker.io`; write `docker.io`"
        ));
    }
    let (host, port) = if let Some(rest) = name.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or("an IPv6 address needs a closing `]`")?;
        let addr = &rest[..close];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{addr}` is not an IPv6 address"));
        }
        let after = &rest[close + 1..];
        match after.strip_prefix(':') {
            Some(port) => (None, Some(port)),
            None if after.is_empty() => (None, None),
            None => return Err(format!("unexpected `{after}` after the IPv6 address")),
        }
    } else {
        match name.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(name), None),
        }
    };
    if let Some(port) = port {
        match port.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) && !port.starts_with('0') => {}
            _ => return Err(format!("`{port}` is not a port (1-65535)")),
        }
    }
    if let Some(host) = host {
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(valid_label) {
            return Err(format!(
                "`{host}` is not a host name: labels of letters, digits and `-`, separated by dots (IPv6 goes in brackets, `*` stands for every other registry)"
            ));
        }
    }
    Ok(())
}

/// A mirror or server URL: explicit http/https scheme, a host, no credentials, query or fragment.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`{url}` has no scheme; write it explicitly, e.g. `https://{url}`"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "scheme `{scheme}` is not supported; use https (or http for a plain-HTTP mirror)"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL may not contain whitespace or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "credentials in the URL are not supported; use `auth.basicFrom` with root-only files"
                .into(),
        );
    }
    if rest.contains(['?', '#']) {
        return Err("a mirror URL may not carry a query or fragment".into());
    }
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    check_registry_name(authority).map_err(|why| format!("the host of `{url}` is invalid: {why}"))
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
