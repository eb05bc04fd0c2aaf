//! `import k3s`: a k3s or RKE2 `registries.yaml`, read as k3s v1.31–v1.34 turns it into
//! containerd hosts.toml files (docs.k3s.io "Private Registry Configuration"): each
//! `mirrors.<registry>.endpoint` in order, then the registry's default endpoint unless the node
//! runs with `--disable-default-registry-endpoint` (which the file cannot say: the caller
//! does); `configs` keyed by the
//! host of the endpoint contacted, so TLS and credentials attach to the mirror of that host;
//! a `"*"` mirror is the default of every registry without its own entry.

use std::collections::BTreeSet;
use std::path::Path;

use super::{
    CaSource, ImportWarning, Imported, ImportedAuth, ImportedMirror, ImportedRegistry, Secret,
    read_text,
};
use crate::error::Error;
use crate::inventory::yaml::{self, Node, Value};

pub(crate) fn read(source: &Path, default_endpoint_disabled: bool) -> Result<Imported, Error> {
    let text = read_text(source)?;
    let file = source.display().to_string();
    let short = source
        .file_name()
        .map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned());
    let not_k3s = |line: Option<u32>, what: &str| {
        let at = line.map_or_else(String::new, |l| format!(":{l}"));
        Error::Partial(format!("{file}{at}: not a k3s registries.yaml: {what}"))
    };
    let (root, _) = yaml::parse(&text).map_err(|problems| {
        let first = problems.first();
        not_k3s(
            first.and_then(|p| p.location).map(|(l, _)| l as u32),
            &first.map_or_else(
                || "not YAML".to_string(),
                |p| super::yaml_source::source_message(&p.message),
            ),
        )
    })?;
    let mut imported = Imported::default();
    if root.is_null() {
        return Ok(imported);
    }
    let top = mapping(&root)
        .ok_or_else(|| not_k3s(Some(root.mark.line), "the top level is not a mapping"))?;
    // k3s ignores keys it does not know, but a file with keys and neither of its two is
    // another file given by mistake (a mirrorctl inventory, Kubespray group_vars), not an
    // empty registries.yaml: importing it would write an inventory with no registry.
    if !top.is_empty()
        && !top
            .iter()
            .any(|(key, _)| matches!(scalar(key), Some("mirrors" | "configs")))
    {
        return Err(not_k3s(
            Some(root.mark.line),
            "it has neither `mirrors` nor `configs`",
        ));
    }
    let mut mirrors: Vec<(&Node, &Node)> = Vec::new();
    let mut configs: Vec<(String, Config)> = Vec::new();
    for (key, value) in top {
        match scalar(key) {
            Some("mirrors") if !value.is_null() => {
                mirrors = mapping(value)
                    .ok_or_else(|| not_k3s(Some(value.mark.line), "`mirrors` is not a mapping"))?
                    .iter()
                    .map(|(k, v)| (k, v))
                    .collect();
            }
            Some("configs") if !value.is_null() => {
                for (host, config) in mapping(value)
                    .ok_or_else(|| not_k3s(Some(value.mark.line), "`configs` is not a mapping"))?
                {
                    let name = scalar(host).ok_or_else(|| {
                        not_k3s(Some(host.mark.line), "a `configs` key is not a string")
                    })?;
                    let parsed = parse_config(config, &mut imported.warnings).map_err(|why| {
                        not_k3s(
                            Some(config.mark.line),
                            &format!("configs.\"{name}\": {why}"),
                        )
                    })?;
                    configs.push((name.to_string(), parsed));
                }
            }
            Some("mirrors" | "configs") => {}
            other => imported.warnings.push(ImportWarning::new(
                Some(key.mark.line as usize),
                format!("`{}`: not a key k3s reads", other.unwrap_or("?")),
            )),
        }
    }
    let mut used = BTreeSet::new();
    for (name_node, entry) in mirrors {
        let name = scalar(name_node)
            .ok_or_else(|| not_k3s(Some(name_node.mark.line), "a `mirrors` key is not a string"))?;
        let map = mapping(entry).ok_or_else(|| {
            not_k3s(
                Some(entry.mark.line),
                &format!("mirrors.\"{name}\" is not a mapping"),
            )
        })?;
        let mut registry = ImportedRegistry {
            name: name.to_string(),
            origin: format!("{short}:{} mirrors.\"{name}\"", name_node.mark.line),
            mirrors: Vec::new(),
            fallback: true,
            server: None,
            not_imported: Vec::new(),
        };
        let mut endpoints = Vec::new();
        for (key, value) in map {
            match scalar(key) {
                Some("endpoint") => {
                    let items = match &value.value {
                        Value::Sequence(items) => items.iter().collect(),
                        Value::Scalar { .. } if !value.is_null() => vec![value],
                        _ => vec![],
                    };
                    for item in items {
                        let url = scalar(item).ok_or_else(|| {
                            not_k3s(Some(item.mark.line), &format!("mirrors.\"{name}\".endpoint has an entry that is not a string"))
                        })?;
                        endpoints.push(url.to_string());
                    }
                }
                Some("rewrite") => registry.not_imported.push(ImportWarning::new(
                    Some(key.mark.line as usize),
                    "`rewrite`: the inventory cannot rewrite repository names; pulls through the imported mirrors use the image's own name",
                )),
                other => registry.not_imported.push(ImportWarning::new(
                    Some(key.mark.line as usize),
                    format!("`{}`: not a key k3s reads", other.unwrap_or("?")),
                )),
            }
        }
        let upstream = (name != "*").then(|| default_endpoint(name));
        // k3s normalizes each endpoint as its `normalizeEndpointAddress` does and skips one
        // it has already seen.
        let mut seen = BTreeSet::new();
        let mut endpoints: Vec<Endpoint> = endpoints
            .iter()
            .map(|e| Endpoint::of(e))
            .filter(|e| seen.insert(e.url.clone()))
            .collect();
        // The default endpoint listed last is what k3s adds anyway; with the default endpoint
        // disabled, listing it is how a registry keeps its fallback.
        registry.fallback = !default_endpoint_disabled;
        if let (Some(last), Some(up)) = (endpoints.last(), &upstream)
            && !last.override_path
            && last.url == *up
        {
            endpoints.pop();
            registry.fallback = true;
        }
        if endpoints.is_empty() && !registry.fallback {
            registry.not_imported.push(ImportWarning::new(
                Some(name_node.mark.line as usize),
                "no endpoint and the default endpoint disabled: k3s pulls of this registry have nowhere to go",
            ));
        }
        for endpoint in endpoints {
            let host = host_of(&endpoint.url);
            let mut mirror = ImportedMirror {
                url: endpoint.url,
                override_path: endpoint.override_path.then_some(true),
                ..ImportedMirror::default()
            };
            if let Some((key, config)) = endpoint
                .config_keys
                .iter()
                .find_map(|k| configs.iter().find(|(h, _)| h == k))
            {
                used.insert(key.clone());
                config.apply(&mut mirror, &host, &mut imported.secrets);
            }
            registry.mirrors.push(mirror);
        }
        // TLS or credentials for the registry's own host: its default endpoint, tried last,
        // carries them — the inventory says that as a last mirror and no fallback.
        if let Some(up) = upstream.as_ref().filter(|_| registry.fallback) {
            let host = host_of(up);
            if let Some((key, config)) = configs.iter().find(|(h, _)| *h == host || *h == name) {
                used.insert(config_key(&configs, &host, name));
                let mut mirror = ImportedMirror {
                    url: up.clone(),
                    capabilities: Some(vec!["pull".into(), "resolve".into(), "push".into()]),
                    ..ImportedMirror::default()
                };
                config.apply(&mut mirror, key, &mut imported.secrets);
                registry.mirrors.push(mirror);
                registry.fallback = false;
            } else if up.starts_with("http://") {
                // k3s writes this plain-HTTP default endpoint as the `server`; the inventory's
                // own fallback would try HTTPS first on containerd 1.7+.
                registry.server = Some(up.clone());
            }
        }
        imported.registries.push(registry);
    }
    // A `configs` entry no endpoint names is a registry pulled directly with those settings.
    for (host, config) in &configs {
        if used.contains(host) || imported.registries.iter().any(|r| r.name == *host) {
            continue;
        }
        if host == "*" {
            imported.warnings.push(ImportWarning::new(
                None,
                "configs.\"*\": the inventory has no TLS or credentials for every registry",
            ));
            continue;
        }
        let mut mirror = ImportedMirror {
            url: default_endpoint(host),
            capabilities: Some(vec!["pull".into(), "resolve".into(), "push".into()]),
            ..ImportedMirror::default()
        };
        config.apply(&mut mirror, host, &mut imported.secrets);
        imported.registries.push(ImportedRegistry {
            name: host.clone(),
            origin: format!("{short} configs.\"{host}\" (no mirror: the registry itself)"),
            mirrors: vec![mirror],
            fallback: false,
            server: None,
            not_imported: Vec::new(),
        });
    }
    Ok(imported)
}

fn config_key(configs: &[(String, Config)], host: &str, name: &str) -> String {
    if configs.iter().any(|(h, _)| h == host) {
        host.to_string()
    } else {
        name.to_string()
    }
}

#[derive(Debug, Default)]
struct Config {
    ca_file: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    insecure_skip_verify: Option<bool>,
    username: Option<String>,
    password: Option<String>,
    auth: Option<String>,
    token: Option<String>,
    identity_token: bool,
}

fn parse_config(node: &Node, warnings: &mut Vec<ImportWarning>) -> Result<Config, String> {
    let mut config = Config::default();
    if node.is_null() {
        return Ok(config);
    }
    for (key, value) in mapping(node).ok_or("not a mapping")? {
        match scalar(key) {
            Some("tls") if !value.is_null() => {
                for (k, v) in mapping(value).ok_or("`tls` is not a mapping")? {
                    let k = scalar(k).unwrap_or("?");
                    match k {
                        "ca_file" => config.ca_file = Some(string(v, k)?),
                        "cert_file" => config.cert_file = Some(string(v, k)?),
                        "key_file" => config.key_file = Some(string(v, k)?),
                        "insecure_skip_verify" => {
                            config.insecure_skip_verify = Some(match scalar(v) {
                                Some("true") => true,
                                Some("false") => false,
                                _ => return Err("`insecure_skip_verify` is not a boolean".into()),
                            });
                        }
                        other => warnings.push(ImportWarning::new(
                            Some(v.mark.line as usize),
                            format!("tls.`{other}`: not a key k3s reads"),
                        )),
                    }
                }
            }
            Some("auth") if !value.is_null() => {
                for (k, v) in mapping(value).ok_or("`auth` is not a mapping")? {
                    let k = scalar(k).unwrap_or("?");
                    match k {
                        "username" => config.username = Some(string(v, k)?),
                        "password" => config.password = Some(string(v, k)?),
                        "auth" => config.auth = Some(string(v, k)?),
                        "token" => config.token = Some(string(v, k)?),
                        "identity_token" => {
                            string(v, k)?;
                            config.identity_token = true;
                            warnings.push(ImportWarning::new(
                                Some(v.mark.line as usize),
                                "auth.identity_token: the inventory has no OAuth refresh tokens; its value is not copied",
                            ));
                        }
                        other => warnings.push(ImportWarning::new(
                            Some(v.mark.line as usize),
                            format!("auth.`{other}`: not a key k3s reads"),
                        )),
                    }
                }
            }
            Some("tls" | "auth") => {}
            other => warnings.push(ImportWarning::new(
                Some(key.mark.line as usize),
                format!("`{}`: not a key k3s reads", other.unwrap_or("?")),
            )),
        }
    }
    Ok(config)
}

impl Config {
    fn apply(&self, mirror: &mut ImportedMirror, host: &str, secrets: &mut Vec<Secret>) {
        if let Some(ca) = &self.ca_file {
            mirror.ca.push(CaSource::Path(ca.clone()));
        }
        if let Some(cert) = &self.cert_file {
            mirror.client.push((cert.clone(), self.key_file.clone()));
        }
        mirror.skip_verify = self.insecure_skip_verify;
        let stem = super::certs_d::file_stem(host);
        let mut secret = |suffix: &str, field: &str, value: &str| {
            let file_name = format!("{stem}-{suffix}");
            if !secrets.iter().any(|s| s.file_name == file_name) {
                secrets.push(Secret {
                    file_name: file_name.clone(),
                    belongs_to: format!("configs.\"{host}\".auth.{field}"),
                    value: value.to_string(),
                });
            }
            file_name
        };
        let basic = match (&self.username, &self.password, &self.auth) {
            (Some(u), Some(p), _) => Some((u.clone(), p.clone(), "username", "password")),
            (_, _, Some(auth)) => super::certs_d::base64_text(auth)
                .and_then(|t| {
                    t.split_once(':')
                        .map(|(u, p)| (u.to_string(), p.to_string()))
                })
                .map(|(u, p)| (u, p, "auth (username)", "auth (password)")),
            _ => None,
        };
        if let Some((user, password, uf, pf)) = basic {
            let username_file = secret("username", uf, &user);
            let password_file = secret("password", pf, &password);
            mirror.auth = Some(ImportedAuth::Basic {
                username_file,
                password_file,
            });
        } else if let Some(token) = &self.token {
            let token_file = secret("token", "token", token);
            mirror.auth = Some(ImportedAuth::Bearer { token_file });
        }
    }
}

/// The registry's default endpoint as k3s writes it (`defaultHostConfig`): the registry's
/// name normalized like any endpoint, so a loopback registry on a port is `http://`.
fn default_endpoint(registry: &str) -> String {
    Endpoint::of(registry).url
}

/// An endpoint as k3s's `normalizeEndpointAddress` (pkg/agent/containerd/config.go) writes it
/// into hosts.toml.
struct Endpoint {
    /// Scheme and host, and the path when it is not the API root (`""`, `/` or `/v2`).
    url: String,
    /// A path other than the API root: k3s sets `override_path`, containerd uses it verbatim.
    override_path: bool,
    /// The `configs` keys k3s looks up for it (`configForHost`), in order.
    config_keys: Vec<String>,
}

impl Endpoint {
    fn of(endpoint: &str) -> Endpoint {
        let (scheme, rest) = match endpoint.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, endpoint.trim_start_matches("//")),
        };
        let (host, path) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        // Loopback hosts on a port other than 443 default to plain HTTP.
        let scheme = scheme.unwrap_or_else(|| match port_of(host) {
            Some(port) if port != "443" && is_localhost(host) => "http",
            _ => "https",
        });
        // containerd's `DefaultHost`: `docker.io` is contacted as `registry-1.docker.io`,
        // whose config k3s looks up first, then `docker.io`'s.
        let (host, config_keys) = if host == "docker.io" || host == "registry-1.docker.io" {
            (
                "registry-1.docker.io",
                vec!["registry-1.docker.io".to_string(), "docker.io".to_string()],
            )
        } else {
            (host, vec![host.to_string()])
        };
        let override_path = !matches!(path, "" | "/" | "/v2");
        let url = if override_path {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}")
        };
        Endpoint {
            url,
            override_path,
            config_keys,
        }
    }
}

/// The port of `host:port` or `[v6]:port`.
fn port_of(host: &str) -> Option<&str> {
    let (_, port) = host.rsplit_once(':')?;
    (!port.contains(']') && (!host.starts_with('[') || host.contains("]:"))).then_some(port)
}

/// containerd's `docker.IsLocalhost`: `localhost` or a loopback IP, with or without a port.
fn is_localhost(host: &str) -> bool {
    let bare = match port_of(host) {
        Some(port) => &host[..host.len() - port.len() - 1],
        None => host,
    };
    let bare = bare
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .unwrap_or(bare);
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of an endpoint URL, as `configs` keys are written.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

fn mapping(node: &Node) -> Option<&Vec<(Node, Node)>> {
    match &node.value {
        Value::Mapping(m) => Some(m),
        _ => None,
    }
}

fn scalar(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn string(node: &Node, key: &str) -> Result<String, String> {
    scalar(node)
        .map(str::to_string)
        .ok_or_else(|| format!("`{key}` is not a string"))
}
