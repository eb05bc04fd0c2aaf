//! Strict decoding of the YAML tree into the typed inventory: unknown keys, wrong types and
//! missing fields are all collected, each with its field path and position, never just the first.

use super::model::*;
use super::path::{index, key};
use super::yaml::{Mark, Node, Style, Value};
use crate::code::Code;
use crate::error::Problem;
use crate::gates::{KubeletFeatureGate, KubeletFeatureGates};
use crate::version::Version;

pub struct Decoder {
    pub problems: Vec<Problem>,
    /// Registries decoded while parsing (see [`Decoder::stream_registry`]).
    streamed: Option<Vec<Registry>>,
    streamed_names: std::collections::HashSet<String>,
}

/// A mapping's entries; the first occurrence of a key wins (duplicates are already reported).
struct Map<'a> {
    entries: &'a [(Node, Node)],
}

impl<'a> Map<'a> {
    fn get(&self, name: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| scalar_text(k) == Some(name))
            .map(|(_, v)| v)
    }
}

fn scalar_text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            problems: Vec::new(),
            streamed: None,
            streamed_names: std::collections::HashSet::new(),
        }
    }

    fn problem(&mut self, code: Code, path: &str, mark: Mark, message: impl Into<String>) {
        self.problems
            .push(Problem::error(code, path, mark, message));
    }

    fn wrong_type(&mut self, path: &str, node: &Node, expected: &str) {
        let found = node.kind();
        let hint = if expected == "a string" && found != "a list" && found != "a mapping" {
            "; quote it"
        } else {
            ""
        };
        self.problem(
            Code::S002,
            path,
            node.mark,
            format!("expected {expected}, found {found}{hint}"),
        );
    }

    /// A mapping whose keys must all be in `known`.
    fn mapping<'a>(&mut self, node: &'a Node, path: &str, known: &[&str]) -> Option<Map<'a>> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping");
            return None;
        };
        for (k, _) in entries {
            let Some(name) = scalar_text(k) else { continue };
            // Top-level `x-…` keys are free-form: a home for YAML anchors.
            if (path.is_empty() && name.starts_with("x-")) || name == "<<" {
                continue;
            }
            if !known.contains(&name) {
                let mut message = format!("unknown field `{name}`");
                match suggest(name, known) {
                    Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                    None => message.push_str(&format!("; expected one of {}", list(known))),
                }
                self.problem(Code::S001, &key(path, name), k.mark, message);
            }
        }
        Some(Map { entries })
    }

    fn required<'a>(
        &mut self,
        map: &Map<'a>,
        path: &str,
        mark: Mark,
        name: &str,
    ) -> Option<&'a Node> {
        let node = map.get(name);
        if node.is_none() {
            self.problem(
                Code::S003,
                path,
                mark,
                format!("missing required field `{name}`"),
            );
        }
        node
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar { text, style }
                if *style == Style::Quoted || node.kind() == "a string" =>
            {
                Some(Spanned {
                    value: text.clone(),
                    mark: node.mark,
                })
            }
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } if node.kind() == "a boolean" => Some(text.eq_ignore_ascii_case("true")),
            _ => {
                self.wrong_type(path, node, "a boolean (true or false)");
                None
            }
        }
    }

    fn sequence<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Sequence(items) => Some(items),
            _ => {
                self.wrong_type(path, node, "a list");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, path: &str) -> Vec<Spanned<String>> {
        let Some(items) = self.sequence(node, path) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.string(item, &index(path, i)))
            .collect()
    }

    /// A string, or a list of strings.
    fn one_or_many(&mut self, node: &Node, path: &str) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Sequence(_) => self.string_list(node, path),
            _ => self.string(node, path).into_iter().collect(),
        }
    }

    /// A version like `"2.1"`; an unquoted `2.1` is read from its source text, so `1.10`
    /// stays 1.10 and never becomes 1.1.
    fn version(&mut self, node: &Node, path: &str) -> Option<Version> {
        let text = match &node.value {
            Value::Scalar { text, .. } => text,
            _ => {
                self.wrong_type(path, node, "a version like \"2.1\"");
                return None;
            }
        };
        let version = Version::parse(text);
        if version.is_none() {
            self.problem(
                Code::S004,
                path,
                node.mark,
                format!("`{text}` is not a version; write MAJOR.MINOR or MAJOR.MINOR.PATCH, like \"2.1\""),
            );
        }
        version
    }

    fn mode(&mut self, node: &Node, path: &str) -> Option<u32> {
        let text = match &node.value {
            Value::Scalar { text, .. } => text,
            _ => {
                self.wrong_type(path, node, "an octal file mode like \"0644\"");
                return None;
            }
        };
        let mode = text
            .strip_prefix("0o")
            .or(Some(text.as_str()))
            .filter(|t| !t.is_empty() && t.len() <= 4)
            .and_then(|t| u32::from_str_radix(t, 8).ok())
            .filter(|m| *m <= 0o777);
        if mode.is_none() {
            self.problem(
                Code::S004,
                path,
                node.mark,
                format!("`{text}` is not a file mode; write it in octal, like \"0644\""),
            );
        }
        mode
    }

    pub fn inventory(&mut self, root: &Node) -> Option<Inventory> {
        let map = self.mapping(
            root,
            "",
            &[
                "version",
                "target",
                "paths",
                "modes",
                "registries",
                "credentialProviders",
                "containerd",
                "credentialPlugin",
            ],
        )?;
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
        let target = map
            .get("target")
            .map(|node| self.target(node))
            .unwrap_or_default();
        let paths = map
            .get("paths")
            .map(|node| self.paths(node))
            .unwrap_or_default();
        let modes = map
            .get("modes")
            .map(|node| self.modes(node))
            .unwrap_or_default();
        let registries = match map.get("registries") {
            Some(node) => self.registries(node),
            None => Vec::new(),
        };
        let credential_providers = match map.get("credentialProviders") {
            Some(node) => self.providers(node),
            None => Vec::new(),
        };
        let containerd = map
            .get("containerd")
            .map(|node| self.containerd(node))
            .unwrap_or_default();
        let credential_plugin = map
            .get("credentialPlugin")
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

    fn credential_plugin(&mut self, node: &Node) -> Option<CredentialPlugin> {
        let path = "credentialPlugin";
        let map = self.mapping(
            node,
            path,
            &[
                "name",
                "audience",
                "binary",
                "mappingFile",
                "cacheDuration",
                "requiredAnnotationKeys",
                "grants",
            ],
        )?;
        let defaulted = |d: &mut Self, name: &str, default: &str| -> Spanned<String> {
            map.get(name)
                .and_then(|n| d.string(n, &key(path, name)))
                .unwrap_or(Spanned {
                    value: default.to_string(),
                    mark: node.mark,
                })
        };
        let name = defaulted(self, "name", "mirrorctl-credentials");
        let binary = defaulted(self, "binary", "/usr/local/bin/mirrorctl");
        let mapping_file = defaulted(
            self,
            "mappingFile",
            "/var/lib/mirrorctl/credential-plugin.json",
        );
        let cache_duration = defaulted(self, "cacheDuration", "5m");
        let audience = self
            .required(&map, path, node.mark, "audience")
            .and_then(|n| self.string(n, &key(path, "audience")));
        let required_annotation_keys = map
            .get("requiredAnnotationKeys")
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
        for (field, value) in [("binary", &binary), ("mappingFile", &mapping_file)] {
            if let Err(why) = check_node_path(&value.value) {
                self.problem(Code::S004, &key(path, field), value.mark, why);
            }
        }
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
        let map = self.mapping(
            node,
            path,
            &[
                "registry",
                "namespace",
                "serviceAccount",
                "annotations",
                "usernameFile",
                "passwordFile",
            ],
        )?;
        let field = |d: &mut Self, name: &str| {
            d.required(&map, path, node.mark, name)
                .and_then(|n| d.string(n, &key(path, name)))
        };
        let registry = field(self, "registry");
        let namespace = field(self, "namespace");
        let username_file = field(self, "usernameFile");
        let password_file = field(self, "passwordFile");
        let service_account = map
            .get("serviceAccount")
            .and_then(|n| self.string(n, &key(path, "serviceAccount")));
        let annotations = map
            .get("annotations")
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

    fn containerd(&mut self, node: &Node) -> ContainerdSettings {
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
                if let Err(why) = check_node_path(&file.value) {
                    self.problem(Code::S004, "containerd.configFile", file.mark, why);
                }
                settings.config_file = file.value;
            }
        }
        settings
    }

    fn target(&mut self, node: &Node) -> Target {
        let mut target = Target::default();
        if let Some(map) = self.mapping(
            node,
            "target",
            &["containerd", "kubelet", "kubeletFeatureGates"],
        ) {
            if let Some(v) = map
                .get("containerd")
                .and_then(|n| self.version(n, "target.containerd"))
            {
                target.containerd = v;
            }
            if let Some(v) = map
                .get("kubelet")
                .and_then(|n| self.version(n, "target.kubelet"))
            {
                target.kubelet = v;
            }
            if let Some(gates) = map.get("kubeletFeatureGates") {
                target.kubelet_feature_gates = self.kubelet_feature_gates(gates);
            }
        }
        target
    }

    /// `target.kubeletFeatureGates`: gate name → bool, only gates mirrorctl knows.
    fn kubelet_feature_gates(&mut self, node: &Node) -> KubeletFeatureGates {
        let path = "target.kubeletFeatureGates";
        let mut gates = KubeletFeatureGates::default();
        let names = KubeletFeatureGate::ALL.map(KubeletFeatureGate::name);
        let Some(map) = self.mapping(node, path, &names) else {
            return gates;
        };
        for gate in KubeletFeatureGate::ALL {
            if let Some(value) = map.get(gate.name())
                && let Some(on) = self.bool(value, &key(path, gate.name()))
            {
                gates.declare(
                    gate,
                    Spanned {
                        value: on,
                        mark: value.mark,
                    },
                );
            }
        }
        gates
    }

    fn paths(&mut self, node: &Node) -> Paths {
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

    fn modes(&mut self, node: &Node) -> Modes {
        let mut modes = Modes::default();
        if let Some(map) = self.mapping(node, "modes", &["hostsToml", "credentialProviderConfig"]) {
            if let Some(m) = map
                .get("hostsToml")
                .and_then(|n| self.mode(n, "modes.hostsToml"))
            {
                modes.hosts_toml = m;
            }
            if let Some(m) = map
                .get("credentialProviderConfig")
                .and_then(|n| self.mode(n, "modes.credentialProviderConfig"))
            {
                modes.credential_provider_config = m;
            }
        }
        modes
    }

    fn registries(&mut self, node: &Node) -> Vec<Registry> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type("registries", node, "a mapping of registry name to settings");
            return Vec::new();
        };
        if let Some(decoded) = self.streamed.take() {
            return decoded;
        }
        let mut registries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries {
            let Some(name) = scalar_text(k) else { continue };
            if seen.insert(name)
                && let Some(registry) = self.registry(name, k.mark, v)
            {
                registries.push(registry);
            }
        }
        registries
    }

    /// One registry entry. The parser hands these over one at a time as they complete
    /// ([`Decoder::stream_registry`]), so that a 10,000-registry inventory never holds its
    /// whole YAML tree in memory.
    pub fn registry(&mut self, name: &str, mark: Mark, v: &Node) -> Option<Registry> {
        let path = key("registries", name);
        let map = self.mapping(v, &path, &["mirrors", "fallback", "server"])?;
        let declared_mirrors = match map.get("mirrors").map(|n| &n.value) {
            Some(Value::Sequence(items)) => items.len(),
            Some(_) => 1,
            None => 0,
        };
        let mirrors = match self.required(&map, &path, v.mark, "mirrors") {
            Some(node) => {
                let mirrors_path = key(&path, "mirrors");
                match self.sequence(node, &mirrors_path) {
                    Some(items) => items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, item)| self.mirror(item, &index(&mirrors_path, i)))
                        .collect(),
                    None => Vec::new(),
                }
            }
            None => Vec::new(),
        };
        let fallback = map
            .get("fallback")
            .and_then(|n| self.bool(n, &key(&path, "fallback")))
            .unwrap_or(true);
        let server = map
            .get("server")
            .and_then(|n| self.string(n, &key(&path, "server")));
        Some(Registry {
            name: name.to_string(),
            mark,
            mirrors,
            declared_mirrors,
            fallback,
            server,
        })
    }

    /// Decodes a registry entry as soon as the parser completes it (first occurrence of a
    /// name wins, as everywhere); [`Decoder::registries`] then returns these.
    pub fn stream_registry(&mut self, name: &str, mark: Mark, value: &Node) {
        let seen = self.streamed_names.insert(name.to_string());
        let decoded = if seen {
            self.registry(name, mark, value)
        } else {
            None
        };
        let list = self.streamed.get_or_insert_with(Vec::new);
        list.extend(decoded);
    }

    fn mirror(&mut self, node: &Node, path: &str) -> Option<Mirror> {
        let map = self.mapping(
            node,
            path,
            &[
                "url",
                "capabilities",
                "ca",
                "client",
                "skipVerify",
                "overridePath",
                "headers",
                "dialTimeout",
                "auth",
            ],
        )?;
        let url = self
            .required(&map, path, node.mark, "url")
            .and_then(|n| self.string(n, &key(path, "url")));
        let capabilities = map.get("capabilities").and_then(|n| {
            let list_path = key(path, "capabilities");
            self.sequence(n, &list_path)?;
            Some(Spanned {
                value: self.string_list(n, &list_path),
                mark: n.mark,
            })
        });
        let ca = map
            .get("ca")
            .map(|n| self.one_or_many(n, &key(path, "ca")))
            .unwrap_or_default();
        let client = map
            .get("client")
            .map(|n| self.client(n, &key(path, "client")))
            .unwrap_or_default();
        let skip_verify = map
            .get("skipVerify")
            .and_then(|n| self.bool(n, &key(path, "skipVerify")));
        let override_path = map
            .get("overridePath")
            .and_then(|n| self.bool(n, &key(path, "overridePath")));
        let headers = map
            .get("headers")
            .map(|n| self.headers(n, &key(path, "headers")))
            .unwrap_or_default();
        let dial_timeout = map
            .get("dialTimeout")
            .and_then(|n| self.string(n, &key(path, "dialTimeout")));
        let auth = map
            .get("auth")
            .and_then(|n| self.auth(n, &key(path, "auth")))
            .map(Box::new);
        Some(Mirror {
            url: url?,
            mark: node.mark,
            capabilities,
            ca,
            client,
            skip_verify,
            override_path,
            headers,
            dial_timeout,
            auth,
        })
    }

    /// `client`: a combined PEM path, a `{cert, key}` pair, or a list mixing both.
    fn client(&mut self, node: &Node, path: &str) -> Vec<ClientCert> {
        match &node.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.client_one(item, &index(path, i)))
                .collect(),
            _ => self.client_one(node, path).into_iter().collect(),
        }
    }

    fn client_one(&mut self, node: &Node, path: &str) -> Option<ClientCert> {
        match &node.value {
            Value::Mapping(_) => {
                let map = self.mapping(node, path, &["cert", "key"])?;
                let cert = self
                    .required(&map, path, node.mark, "cert")
                    .and_then(|n| self.string(n, &key(path, "cert")));
                let key_file = self
                    .required(&map, path, node.mark, "key")
                    .and_then(|n| self.string(n, &key(path, "key")));
                Some(ClientCert::Pair {
                    cert: cert?,
                    key: key_file?,
                })
            }
            Value::Scalar { .. } => self.string(node, path).map(ClientCert::Combined),
            Value::Sequence(_) => {
                self.wrong_type(path, node, "a PEM path or a {cert, key} mapping");
                None
            }
        }
    }

    fn headers(&mut self, node: &Node, path: &str) -> Vec<Header> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping of header name to value");
            return Vec::new();
        };
        let mut headers = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries {
            let Some(name) = scalar_text(k) else { continue };
            if !seen.insert(name) {
                continue;
            }
            let value_path = key(path, name);
            let list = matches!(v.value, Value::Sequence(_));
            let values: Vec<String> = self
                .one_or_many(v, &value_path)
                .into_iter()
                .map(|s| s.value)
                .collect();
            headers.push(Header {
                name: Spanned {
                    value: name.to_string(),
                    mark: k.mark,
                },
                values,
                list,
            });
        }
        headers
    }

    fn auth(&mut self, node: &Node, path: &str) -> Option<Auth> {
        let map = self.mapping(node, path, &["provider", "basicFrom"])?;
        match (map.get("provider"), map.get("basicFrom")) {
            (Some(_), Some(_)) | (None, None) => {
                self.problem(
                    Code::S005,
                    path,
                    node.mark,
                    "write exactly one of `provider` (a kubelet credential provider) or `basicFrom` (username and password files)",
                );
                None
            }
            (Some(p), None) => self.string(p, &key(path, "provider")).map(Auth::Provider),
            (None, Some(b)) => {
                let basic_path = key(path, "basicFrom");
                let map = self.mapping(b, &basic_path, &["usernameFile", "passwordFile"])?;
                let user = self
                    .required(&map, &basic_path, b.mark, "usernameFile")
                    .and_then(|n| self.string(n, &key(&basic_path, "usernameFile")));
                let pass = self
                    .required(&map, &basic_path, b.mark, "passwordFile")
                    .and_then(|n| self.string(n, &key(&basic_path, "passwordFile")));
                Some(Auth::BasicFrom {
                    username_file: user?,
                    password_file: pass?,
                })
            }
        }
    }

    fn providers(&mut self, node: &Node) -> Vec<CredentialProvider> {
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

    fn env(&mut self, node: &Node, path: &str) -> Vec<(String, String)> {
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

/// The kubelet provider entry that runs mirrorctl as `plugin.name`: it matches the registries
/// of the grants and asks for the pod's service-account token.
fn plugin_provider(plugin: &CredentialPlugin, target: Target) -> CredentialProvider {
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
            plugin.mapping_file.value.clone(),
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

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name closest to a misspelt one, when it is close enough to be the intent.
fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(&name.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = if ca == b[j] {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
