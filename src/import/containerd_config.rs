//! `import containerd-config`: the deprecated `registry.mirrors` and `registry.configs` of a
//! containerd config.toml (file versions 1 to 3), as containerd's CRI plugin uses them.
//!
//! The rules are those of containerd 1.7's `pkg/cri/server/image_pull.go` (`registryEndpoints`,
//! `registryHosts`, `ParseAuth`) and 2.x's `internal/cri/server/images/image_pull.go`, which
//! kept them: a registry's endpoints are its own `mirrors` entry's (else the `*` entry's), in
//! order, scheme added when missing, then its default endpoint unless one of them already has
//! the registry's host. TLS and credentials come from `configs."<host>"` of the host each
//! endpoint contacts; an endpoint with a path uses that path as the API root.

use toml_edit::{Document, Item, TableLike};

use super::error::{ImportError, source_text};
use super::secret_file::{InlineAuth, SecretFiles, parse_auth};
use super::{CaSource, ImportWarning, Imported, ImportedAuth, ImportedMirror, ImportedRegistry};

/// Reads a containerd config.toml. `name` is the source as the user named it, for messages.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let text = source_text(name, bytes)?;
    let document = Document::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        ImportError::new(name, line, format!("not TOML: {}", e.message()))
    })?;
    Reader {
        name,
        text,
        imported: Imported::default(),
        secrets: SecretFiles::default(),
    }
    .read(document.as_table())
}

/// The plugin table that holds `registry` for each config version.
const PLUGIN_BY_VERSION: [(i64, &str); 3] = [
    (1, "cri"),
    (2, "io.containerd.grpc.v1.cri"),
    (3, "io.containerd.cri.v1.images"),
];

struct Reader<'a> {
    name: &'a str,
    text: &'a str,
    imported: Imported,
    secrets: SecretFiles,
}

/// One `configs."<host>"` entry as the CRI plugin uses it.
#[derive(Default)]
struct HostConfig {
    host: String,
    line: usize,
    ca_file: Option<String>,
    client: Option<(String, Option<String>)>,
    skip_verify: Option<bool>,
    /// Username and password file names.
    basic: Option<(String, String)>,
    not_imported: Vec<ImportWarning>,
}

struct MirrorEntry {
    name: String,
    line: usize,
    endpoints: Vec<String>,
    not_imported: Vec<ImportWarning>,
}

impl Reader<'_> {
    fn read(mut self, root: &toml_edit::Table) -> Result<Imported, ImportError> {
        let version = match root.get("version") {
            None => 1,
            Some(item) => item.as_integer().ok_or_else(|| {
                self.error(self.item_line(item), "`version` is not an integer".into())
            })?,
        };
        if !(1..=4).contains(&version) {
            return Err(self.error(
                root.get("version").and_then(|i| self.item_line(i)),
                format!("config version {version} is not one containerd knows (1 to 4)"),
            ));
        }
        let wanted = if version >= 3 { 3 } else { version };
        let plugins = match root.get("plugins") {
            None => None,
            Some(item) => Some(self.table(item, "plugins")?),
        };
        let mut registry = None;
        for (v, plugin) in PLUGIN_BY_VERSION {
            let Some(item) = plugins
                .and_then(|p| p.get(plugin))
                .and_then(|p| p.as_table_like())
                .and_then(|p| p.get("registry"))
            else {
                continue;
            };
            let path = format!("plugins.\"{plugin}\".registry");
            let table = self.table(item, &path)?;
            if v == wanted {
                registry = Some(table);
            } else {
                let line = self.key_line(plugins.and_then(|p| p.get_key_value(plugin)));
                self.warn(
                    line,
                    format!(
                        "[{path}] is ignored: a version {version} file is read from \
                         plugins.\"{}\".registry",
                        PLUGIN_BY_VERSION[(wanted - 1) as usize].1
                    ),
                );
            }
        }
        let Some(registry) = registry else {
            return Ok(self.finish());
        };
        self.read_registry(registry)?;
        Ok(self.finish())
    }

    fn finish(mut self) -> Imported {
        self.imported.secrets = self.secrets.into_vec();
        self.imported
    }

    fn read_registry(&mut self, registry: &dyn TableLike) -> Result<(), ImportError> {
        let mut mirrors = Vec::new();
        let mut configs = Vec::new();
        for (key, item) in registry.iter() {
            let line = self.key_line(registry.get_key_value(key));
            match key {
                "mirrors" => {
                    let table = self.table(item, "registry.mirrors")?;
                    for (host, entry) in table.iter() {
                        let line = self.key_line(table.get_key_value(host));
                        mirrors.push(self.mirror_entry(host, line, entry)?);
                    }
                }
                "configs" => {
                    let table = self.table(item, "registry.configs")?;
                    for (host, entry) in table.iter() {
                        let line = self.key_line(table.get_key_value(host));
                        configs.push(self.host_config(host, line, entry)?);
                    }
                }
                // `containerd config default` writes these empty: nothing to say then.
                "config_path" | "auths" | "headers" if empty(item) => {}
                "config_path" => {
                    let path = item.as_str().unwrap_or_default();
                    self.warn(
                        line,
                        format!(
                            "registry.config_path = {path:?}: the hosts.toml files there are not \
                             read here (import them with `mirrorctl import certs-d {path}`); \
                             containerd 1.x refuses to start when it is set beside \
                             registry.mirrors or registry.configs.*.tls"
                        ),
                    );
                }
                "auths" => self.warn(
                    line,
                    "registry.auths (deprecated, keyed by URL) is not imported: move the \
                     credentials to the inventory's auth by hand"
                        .into(),
                ),
                "headers" => self.warn(
                    line,
                    "registry.headers is not imported: containerd sends these headers to every \
                     host, the registries' own endpoints included, which the inventory cannot say"
                        .into(),
                ),
                other => self.warn(line, format!("registry.{other} is not imported")),
            }
        }
        self.build(mirrors, configs);
        Ok(())
    }

    fn mirror_entry(
        &self,
        host: &str,
        line: usize,
        item: &Item,
    ) -> Result<MirrorEntry, ImportError> {
        let path = format!("registry.mirrors.{host:?}");
        let table = self.table(item, &path)?;
        let mut entry = MirrorEntry {
            name: host.to_owned(),
            line,
            endpoints: Vec::new(),
            not_imported: Vec::new(),
        };
        for (key, value) in table.iter() {
            let key_line = self.key_line(table.get_key_value(key));
            if key != "endpoint" {
                entry.not_imported.push(ImportWarning {
                    line: Some(key_line),
                    message: format!("{path}.{key} is not a key containerd reads"),
                });
                continue;
            }
            let array = value.as_array().ok_or_else(|| {
                self.error(Some(key_line), format!("{path}.endpoint is not a list"))
            })?;
            for endpoint in array.iter() {
                let text = endpoint.as_str().ok_or_else(|| {
                    self.error(
                        Some(key_line),
                        format!("{path}.endpoint holds something other than strings"),
                    )
                })?;
                entry.endpoints.push(with_default_scheme(text));
            }
        }
        Ok(entry)
    }

    fn host_config(
        &mut self,
        host: &str,
        line: usize,
        item: &Item,
    ) -> Result<HostConfig, ImportError> {
        let path = format!("registry.configs.{host:?}");
        let table = self.table(item, &path)?;
        let mut config = HostConfig {
            host: host.to_owned(),
            line,
            ..HostConfig::default()
        };
        for (key, value) in table.iter() {
            let key_line = self.key_line(table.get_key_value(key));
            match key {
                "tls" => self.tls(&mut config, &format!("{path}.tls"), key_line, value)?,
                "auth" => self.auth(&mut config, &format!("{path}.auth"), value)?,
                other => config.not_imported.push(ImportWarning {
                    line: Some(key_line),
                    message: format!("{path}.{other} is not a key containerd reads"),
                }),
            }
        }
        Ok(config)
    }

    fn tls(
        &self,
        config: &mut HostConfig,
        path: &str,
        line: usize,
        item: &Item,
    ) -> Result<(), ImportError> {
        let table = self.table(item, path)?;
        let (mut cert, mut key) = (None, None);
        for (name, value) in table.iter() {
            let key_line = Some(self.key_line(table.get_key_value(name)));
            let string = || {
                value
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.error(key_line, format!("{path}.{name} is not a string")))
            };
            match name {
                "ca_file" => config.ca_file = Some(string()?).filter(|s| !s.is_empty()),
                "cert_file" => cert = Some(string()?).filter(|s| !s.is_empty()),
                "key_file" => key = Some(string()?).filter(|s| !s.is_empty()),
                "insecure_skip_verify" => {
                    config.skip_verify = Some(value.as_bool().ok_or_else(|| {
                        self.error(key_line, format!("{path}.{name} is not a boolean"))
                    })?);
                }
                other => config.not_imported.push(ImportWarning {
                    line: key_line,
                    message: format!("{path}.{other} is not imported"),
                }),
            }
        }
        match (cert, key) {
            (Some(cert), Some(key)) => config.client = Some((cert, Some(key))),
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => config.not_imported.push(ImportWarning {
                line: Some(line),
                message: format!(
                    "{path}: cert_file and key_file go together; containerd fails the pull \
                     with one alone, so neither is imported"
                ),
            }),
        }
        Ok(())
    }

    fn auth(
        &mut self,
        config: &mut HostConfig,
        path: &str,
        item: &Item,
    ) -> Result<(), ImportError> {
        let table = self.table(item, path)?;
        let mut fields: [(&str, Option<(String, usize)>); 4] = [
            ("username", None),
            ("password", None),
            ("auth", None),
            ("identitytoken", None),
        ];
        for (name, value) in table.iter() {
            let key_line = self.key_line(table.get_key_value(name));
            let Some(slot) = fields.iter_mut().find(|(n, _)| *n == name) else {
                config.not_imported.push(ImportWarning {
                    line: Some(key_line),
                    message: format!("{path}.{name} is not imported"),
                });
                continue;
            };
            let text = value.as_str().ok_or_else(|| {
                self.error(Some(key_line), format!("{path}.{name} is not a string"))
            })?;
            slot.1 = Some((text.to_owned(), key_line)).filter(|(t, _)| !t.is_empty());
        }
        let [(_, username), (_, password), (_, auth), (_, token)] = fields;
        let host = config.host.clone();
        let (user, pass) = match parse_auth(username, password, auth, token) {
            InlineAuth::Basic { user, pass } => (user, pass),
            InlineAuth::IdentityToken(line) => {
                config.not_imported.push(ImportWarning {
                    line: Some(line),
                    message: format!(
                        "{path}.identitytoken is not imported: containerd trades it for a token \
                         at the registry's token service, which the inventory has no field for"
                    ),
                });
                return Ok(());
            }
            InlineAuth::BadAuth(line) => {
                config.not_imported.push(ImportWarning {
                    line: Some(line),
                    message: format!(
                        "{path}.auth is not base64 of `user:password`; containerd fails \
                         every pull from {host} with it"
                    ),
                });
                return Ok(());
            }
            InlineAuth::None => return Ok(()),
        };
        config.basic = Some(self.secrets.add_basic(&host, user, pass));
        Ok(())
    }

    /// Every registry the source configures: each `mirrors` entry, then each `configs` host
    /// that is some registry's own endpoint and has no `mirrors` entry of its own.
    fn build(&mut self, mirrors: Vec<MirrorEntry>, configs: Vec<HostConfig>) {
        let wildcard = mirrors
            .iter()
            .find(|m| m.name == "*")
            .map(|m| m.endpoints.clone());
        let mut registries = Vec::new();
        for entry in &mirrors {
            let mut registry = self.registry(
                &entry.name,
                &entry.endpoints,
                &configs,
                format!(
                    "{}:{} registry.mirrors.{:?}",
                    self.name, entry.line, entry.name
                ),
            );
            registry
                .not_imported
                .extend(entry.not_imported.iter().cloned());
            registries.push(registry);
        }
        let endpoint_hosts: Vec<String> = mirrors
            .iter()
            .flat_map(|m| m.endpoints.iter().map(|e| split_url(e).1.to_owned()))
            .collect();
        for config in &configs {
            let name = if config.host == "registry-1.docker.io" {
                "docker.io"
            } else {
                config.host.as_str()
            };
            if config.host == "docker.io" {
                if !endpoint_hosts.iter().any(|h| h == "docker.io") {
                    self.warn(
                        config.line,
                        "registry.configs.\"docker.io\" is never used: containerd contacts \
                         registry-1.docker.io for docker.io images"
                            .into(),
                    );
                }
                continue;
            }
            if mirrors.iter().any(|m| m.name == name) {
                continue;
            }
            let endpoints = wildcard.clone().unwrap_or_default();
            let registry = self.registry(
                name,
                &endpoints,
                &configs,
                format!(
                    "{}:{} registry.configs.{:?}",
                    self.name, config.line, config.host
                ),
            );
            registries.push(registry);
        }
        for config in &configs {
            for warning in &config.not_imported {
                // A configs entry's problems belong to every registry that contacts its host.
                let mut owners = registries.iter_mut().filter(|r| {
                    r.mirrors.iter().any(|m| split_url(&m.url).1 == config.host)
                        || (r.fallback && default_host(&r.name) == config.host)
                });
                let mut any = false;
                for registry in owners.by_ref() {
                    registry.not_imported.push(warning.clone());
                    any = true;
                }
                if !any {
                    self.imported.warnings.push(warning.clone());
                }
            }
        }
        self.imported.registries = registries;
    }

    fn registry(
        &self,
        name: &str,
        endpoints: &[String],
        configs: &[HostConfig],
        origin: String,
    ) -> ImportedRegistry {
        let mut registry = ImportedRegistry {
            name: name.to_owned(),
            origin,
            mirrors: endpoints.iter().map(|e| mirror(e, configs)).collect(),
            fallback: true,
            server: None,
            not_imported: Vec::new(),
        };
        if name == "*" {
            return registry;
        }
        if endpoints.iter().any(|e| split_url(e).1 == name) {
            // registryEndpoints adds no default endpoint after one with the registry's host.
            registry.fallback = false;
            return registry;
        }
        let own = default_host(name);
        if configs.iter().any(|c| c.host == own && c.has_settings()) {
            // The inventory's fallback carries no TLS or credentials: the registry's own
            // endpoint, with its `configs` entry, becomes the last mirror instead.
            let url = format!("{}://{own}", default_scheme(own));
            registry.mirrors.push(mirror(&url, configs));
            registry.fallback = false;
        } else if default_scheme(own) == "http" {
            // A loopback registry's own endpoint is plain HTTP here (`defaultScheme`), where
            // the inventory's fallback would try HTTPS first on 1.7+: said as its server.
            registry.server = Some(format!("http://{own}"));
        }
        registry
    }

    fn table<'i>(&self, item: &'i Item, path: &str) -> Result<&'i dyn TableLike, ImportError> {
        item.as_table_like()
            .ok_or_else(|| self.error(self.item_line(item), format!("{path} is not a table")))
    }

    fn warn(&mut self, line: usize, message: String) {
        self.imported.warnings.push(ImportWarning {
            line: Some(line),
            message,
        });
    }

    fn error(&self, line: Option<usize>, message: String) -> ImportError {
        ImportError::new(self.name, line, message)
    }

    fn item_line(&self, item: &Item) -> Option<usize> {
        item.span().map(|s| line_of(self.text, s.start))
    }

    fn key_line(&self, pair: Option<(&toml_edit::Key, &Item)>) -> usize {
        pair.and_then(|(key, item)| key.span().or_else(|| item.span()))
            .map_or(0, |s| line_of(self.text, s.start))
    }
}

impl HostConfig {
    fn has_settings(&self) -> bool {
        self.ca_file.is_some()
            || self.client.is_some()
            || self.skip_verify.is_some()
            || self.basic.is_some()
    }
}

/// The mirror for one endpoint, with the `configs` entry of the host it contacts.
fn mirror(endpoint: &str, configs: &[HostConfig]) -> ImportedMirror {
    let (_, host, path) = split_url(endpoint);
    let mut mirror = ImportedMirror {
        url: endpoint.to_owned(),
        // registryHosts uses a path as the API root and adds `/v2` only when there is none.
        override_path: (!path.is_empty()).then_some(true),
        ..ImportedMirror::default()
    };
    if let Some(config) = configs.iter().find(|c| c.host == host) {
        mirror.ca = config.ca_file.iter().cloned().map(CaSource::Path).collect();
        mirror.client = config.client.iter().cloned().collect();
        mirror.skip_verify = config.skip_verify;
        mirror.auth = config.basic.as_ref().map(|(u, p)| ImportedAuth::Basic {
            username_file: u.clone(),
            password_file: p.clone(),
        });
    }
    mirror
}

/// `addDefaultScheme`: an endpoint without `://` gets `http` for a loopback host, else `https`.
fn with_default_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("{}://{endpoint}", default_scheme(endpoint))
    }
}

/// `docker.DefaultHost`.
fn default_host(name: &str) -> &str {
    if name == "docker.io" {
        "registry-1.docker.io"
    } else {
        name
    }
}

/// `defaultScheme`: `docker.IsLocalhost` hosts are contacted over plain HTTP.
fn default_scheme(host: &str) -> &'static str {
    let host = host.split('/').next().unwrap_or_default();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or_default()
    } else {
        host
    };
    let loopback = bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback { "http" } else { "https" }
}

/// Scheme, host (with port, IPv6 in brackets) and path of an endpoint URL, as Go's
/// `url.Parse` splits them; query and fragment are part of no endpoint containerd contacts.
fn split_url(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    match rest.find('/') {
        Some(i) => (scheme, &rest[..i], &rest[i..]),
        None => (scheme, rest, ""),
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// An empty string, table or array, as `containerd config default` writes unset settings.
fn empty(item: &Item) -> bool {
    match item {
        Item::None => true,
        Item::Value(value) => {
            value.as_str().is_some_and(str::is_empty)
                || value.as_array().is_some_and(|a| a.is_empty())
                || value.as_inline_table().is_some_and(|t| t.is_empty())
        }
        Item::Table(table) => table.is_empty(),
        Item::ArrayOfTables(tables) => tables.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::MAX_BYTES;
    use super::super::testing::{check_reader, fuzz};
    use super::*;

    #[track_caller]
    fn check(source: &str, expected: &str) {
        check_reader(read, "config.toml", source, expected);
    }

    #[test]
    fn version_2_endpoints_tls_auth_and_wildcard() {
        check(
            include_str!("../../fixtures/import/containerd-config/version-2-mirrors-tls-auth.toml"),
            r#"docker.io fallback=false server=None (config.toml:6 registry.mirrors."docker.io")
  https://mirror.example:5000 ca=/etc/containerd/certs/mirror-ca.pem client=/etc/containerd/certs/client.pem+/etc/containerd/certs/client-key.pem basic=mirror.example_5000-username,mirror.example_5000-password
  https://mirror2.example/v2/dockerhub override_path=true
  https://registry-1.docker.io basic=registry-1.docker.io-username,registry-1.docker.io-password
gcr.io fallback=false server=None (config.toml:8 registry.mirrors."gcr.io")
  https://gcr.io
* fallback=true server=None (config.toml:10 registry.mirrors."*")
  https://catchall.example
[fd00::1]:5000 fallback=true server=None (config.toml:12 registry.mirrors."[fd00::1]:5000")
  http://[fd00::2]:5000
mirror.example:5000 fallback=false server=None (config.toml:15 registry.configs."mirror.example:5000")
  https://catchall.example
  https://mirror.example:5000 ca=/etc/containerd/certs/mirror-ca.pem client=/etc/containerd/certs/client.pem+/etc/containerd/certs/client-key.pem basic=mirror.example_5000-username,mirror.example_5000-password
private.example:8443 fallback=false server=None (config.toml:24 registry.configs."private.example:8443")
  https://catchall.example
  https://private.example:8443 skip_verify=true
secret mirror.example_5000-username (mirror.example:5000 auth.username)
secret mirror.example_5000-password (mirror.example:5000 auth.password)
secret registry-1.docker.io-username (registry-1.docker.io auth.username)
secret registry-1.docker.io-password (registry-1.docker.io auth.password)
"#,
        );
    }

    #[test]
    fn auth_is_decoded_into_secret_values_never_shown() {
        let source =
            include_str!("../../fixtures/import/containerd-config/version-2-mirrors-tls-auth.toml");
        let imported = read("config.toml", source.as_bytes()).expect("reads");
        let values: Vec<(&str, &str)> = imported
            .secrets
            .iter()
            .map(|s| (s.file_name.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                ("mirror.example_5000-username", "puller"),
                ("mirror.example_5000-password", "s3cret"),
                ("registry-1.docker.io-username", "hub"),
                ("registry-1.docker.io-password", "hubpass"),
            ]
        );
        assert!(!format!("{imported:?}").contains("s3cret"));
    }

    #[test]
    fn version_1_cert_without_key_and_identity_token_are_warnings() {
        check(
            include_str!("../../fixtures/import/containerd-config/version-1.toml"),
            r#"docker.io fallback=true server=None (config.toml:2 registry.mirrors."docker.io")
  https://mirror.example ca=/etc/ssl/mirror.pem
  ! Some(4) registry.configs."mirror.example".tls: cert_file and key_file go together; containerd fails the pull with one alone, so neither is imported
  ! Some(8) registry.configs."mirror.example".auth.identitytoken is not imported: containerd trades it for a token at the registry's token service, which the inventory has no field for
mirror.example fallback=false server=None (config.toml:4 registry.configs."mirror.example")
  https://mirror.example ca=/etc/ssl/mirror.pem
  ! Some(4) registry.configs."mirror.example".tls: cert_file and key_file go together; containerd fails the pull with one alone, so neither is imported
  ! Some(8) registry.configs."mirror.example".auth.identitytoken is not imported: containerd trades it for a token at the registry's token service, which the inventory has no field for
"#,
        );
    }

    #[test]
    fn version_3_loopback_empty_list_and_ignored_tables() {
        check(
            include_str!("../../fixtures/import/containerd-config/version-3.toml"),
            r#"localhost:5000 fallback=true server=Some("http://localhost:5000") (config.toml:5 registry.mirrors."localhost:5000")
  http://localhost:5001
quay.io fallback=true server=None (config.toml:7 registry.mirrors."quay.io")
  ! Some(9) registry.mirrors."quay.io".rewrite is not a key containerd reads
! Some(12) [plugins."io.containerd.grpc.v1.cri".registry] is ignored: a version 3 file is read from plugins."io.containerd.cri.v1.images".registry
! Some(4) registry.headers is not imported: containerd sends these headers to every host, the registries' own endpoints included, which the inventory cannot say
"#,
        );
    }

    #[test]
    fn config_path_and_docker_io_key_are_warnings() {
        check(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/etc/containerd/certs.d\"\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"docker.io\".tls]\ninsecure_skip_verify = true\n",
            "! Some(3) registry.config_path = \"/etc/containerd/certs.d\": the hosts.toml files there are not read here (import them with `mirrorctl import certs-d /etc/containerd/certs.d`); containerd 1.x refuses to start when it is set beside registry.mirrors or registry.configs.*.tls\n\
             ! Some(4) registry.configs.\"docker.io\" is never used: containerd contacts registry-1.docker.io for docker.io images\n",
        );
    }

    #[test]
    fn no_registry_table_is_empty() {
        check(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"pause\"\n",
            "",
        );
    }

    #[test]
    fn unreadable_sources_are_errors_with_lines() {
        let cases: [(&[u8], &str); 6] = [
            (b"version = 2\n[plugins\n", "config.toml:2: not TOML"),
            (b"version = \"2\"\n", "config.toml:1: `version` is not an integer"),
            (b"version = 9\n", "config.toml:1: config version 9"),
            (
                b"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors]\n\"docker.io\" = { endpoint = \"https://m\" }\n",
                "config.toml:3: registry.mirrors.\"docker.io\".endpoint is not a list",
            ),
            (
                b"[plugins.cri.registry.configs.\"m\".tls]\ninsecure_skip_verify = \"yes\"\n",
                "config.toml:2: registry.configs.\"m\".tls.insecure_skip_verify is not a boolean",
            ),
            (b"\xff\xfe", "config.toml: not UTF-8 text"),
        ];
        for (source, expected) in cases {
            match read("config.toml", source) {
                Ok(imported) => panic!("{expected}: read as {imported:?}"),
                Err(e) => assert!(e.to_string().starts_with(expected), "{e} / {expected}"),
            }
        }
        let huge = vec![b'#'; MAX_BYTES + 1];
        assert!(read("config.toml", &huge).is_err());
    }

    #[test]
    fn fuzzed_sources_never_panic() {
        fuzz(
            0x5eed_c0f1,
            4000,
            &[
                include_str!(
                    "../../fixtures/import/containerd-config/version-2-mirrors-tls-auth.toml"
                ),
                include_str!("../../fixtures/import/containerd-config/version-1.toml"),
                include_str!("../../fixtures/import/containerd-config/version-3.toml"),
            ],
            |bytes| {
                let _ = read("config.toml", bytes);
            },
        );
    }
}
