//! `import talos`: a Talos machine config's `machine.registries` (`mirrors` and `config`), as
//! Talos turns it into containerd's hosts.toml files and CRI credentials.
//!
//! Followed: siderolabs/talos `internal/pkg/containers/cri/containerd/hosts.go`
//! (`GenerateHosts`, commit 0359c853) and the machine config reference for v1alpha1: each
//! mirror's endpoints in order, capabilities pull and resolve, `overridePath` on every
//! endpoint, no `server` (so containerd falls back to the registry's own endpoint unless
//! `skipFallback`); `config."<host>"` TLS (base64 CA and client identity) for every endpoint
//! contacting that host, and a directory of its own for a configured host that mirrors
//! nothing; `auth` is handed to the CRI plugin keyed by the contacted host.

use super::error::{ImportError, source_text};
use super::secret_file::{InlineAuth, SecretFiles, parse_auth};
use super::yaml_source::{Field, key_text, parse};
use super::{CaSource, ImportWarning, Imported, ImportedAuth, ImportedMirror, ImportedRegistry};

/// Reads a Talos machine config (one or several YAML documents). `name` names the source.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let text = source_text(name, bytes)?;
    let mut imported = Imported::default();
    let mut machine_config = None;
    let mut documents_read = Vec::new();
    for (first_line, document) in documents(text) {
        if document.trim().is_empty()
            || document
                .lines()
                .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        {
            continue;
        }
        let (root, duplicates) = parse(name, document, first_line)?;
        let field = Field {
            node: &root,
            path: String::new(),
            offset: first_line,
            source: name,
        };
        let kind = field
            .get("kind")
            .ok()
            .flatten()
            .and_then(|k| k.text().ok().map(str::to_owned));
        let is_machine = field.get("machine").ok().flatten().is_some();
        if is_machine && machine_config.is_none() {
            for (line, message) in duplicates {
                imported.warnings.push(ImportWarning {
                    line: Some(line),
                    message,
                });
            }
            machine_config = Some((root, first_line));
        } else if let Some(kind) = kind.filter(|k| k.starts_with("Registry")) {
            documents_read.push((kind, root, first_line));
        }
    }
    if machine_config.is_none() && documents_read.is_empty() {
        return Err(ImportError::new(
            name,
            None,
            "no document with `machine` and no Registry*Config document: not a Talos machine config",
        ));
    }
    let empty = crate::inventory::yaml::Node {
        value: crate::inventory::yaml::Value::Mapping(Vec::new()),
        mark: crate::inventory::yaml::Mark { line: 0, col: 0 },
        size: 1,
    };
    let (machine_root, machine_offset) = match &machine_config {
        Some((root, offset)) => (root, *offset),
        None => (&empty, 0),
    };
    let root = Field {
        node: machine_root,
        path: String::new(),
        offset: machine_offset,
        source: name,
    };
    if let Some(version) = root.get("version")? {
        let version = version.text()?;
        if version != "v1alpha1" {
            imported.warnings.push(ImportWarning {
                line: Some(root.line()),
                message: format!("config version {version:?}: read as v1alpha1"),
            });
        }
    }
    let registries = root
        .get("machine")?
        .map(|m| m.get("registries"))
        .transpose()?
        .flatten()
        .unwrap_or_else(|| root.child(&empty, ""));
    let mut registries = registries;
    registries.path = "machine.registries".into();
    let mut secrets = SecretFiles::default();
    let mut configs = Vec::new();
    if let Some(config) = registries.get("config")? {
        for (key, value) in config.entries()? {
            let host = key_text(key).unwrap_or_default().to_owned();
            let line = config.child(key, "").line();
            let value = config.child(value, &format!(".{host:?}"));
            configs.push(host_config(&host, line, &value, &mut secrets)?);
        }
    }
    // Talos 1.12+ documents replace the machine config's entry of the same name: TLS and auth
    // separately (its config container merges them so), mirrors whole.
    let mut mirror_documents = Vec::new();
    for (kind, doc_root, first_line) in &documents_read {
        let doc = Field {
            node: doc_root,
            path: kind.clone(),
            offset: *first_line,
            source: name,
        };
        let doc_name = match doc.get("name")? {
            Some(n) => n.text()?.to_owned(),
            None => {
                return Err(ImportError::new(
                    name,
                    Some(doc.line()),
                    format!("a {kind} document has no name"),
                ));
            }
        };
        let mut doc = doc;
        doc.path = format!("{kind}[name={doc_name}]");
        match kind.as_str() {
            "RegistryMirrorConfig" => mirror_documents.push((doc_name, doc)),
            "RegistryTLSConfig" | "RegistryAuthConfig" => {
                let at = match configs.iter().position(|c: &HostConfig| c.host == doc_name) {
                    Some(at) => at,
                    None => {
                        configs.push(HostConfig {
                            host: doc_name.clone(),
                            line: doc.line(),
                            ..HostConfig::default()
                        });
                        configs.len() - 1
                    }
                };
                let config = &mut configs[at];
                config.line = doc.line();
                config.document = Some(format!("{kind} {doc_name:?}"));
                if kind == "RegistryTLSConfig" {
                    config.has_tls = true;
                    config.ca = None;
                    config.client = None;
                    config.skip_verify = false;
                    tls(config, &doc, &mut secrets, TlsForm::Document)?;
                } else {
                    config.basic = None;
                    auth(config, &doc, &mut secrets, DOCUMENT_KEYS)?;
                }
            }
            other => imported.warnings.push(ImportWarning {
                line: Some(doc.line()),
                message: format!("a {other} document is not imported"),
            }),
        }
    }
    let mut mirrored = Vec::new();
    for (key, value) in registries.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = registries.child(value, &format!(".{key}"));
        match key {
            "mirrors" => {
                for (name_node, entry) in value.entries()? {
                    let registry_name = key_text(name_node).unwrap_or_default();
                    let line = value.child(name_node, "").line();
                    let entry = value.child(entry, &format!(".{registry_name:?}"));
                    mirrored.push(registry_name.to_owned());
                    if let Some((_, doc)) =
                        mirror_documents.iter().find(|(n, _)| n == registry_name)
                    {
                        imported.registries.push(mirror_registry(
                            registry_name,
                            doc.line(),
                            doc,
                            &configs,
                            true,
                        )?);
                        continue;
                    }
                    imported.registries.push(mirror_registry(
                        registry_name,
                        line,
                        &entry,
                        &configs,
                        false,
                    )?);
                }
            }
            "config" => {}
            other => imported.warnings.push(ImportWarning {
                line: Some(value.line()),
                message: format!("machine.registries.{other} is not imported"),
            }),
        }
    }
    for (registry_name, doc) in &mirror_documents {
        if !mirrored.contains(registry_name) {
            mirrored.push(registry_name.clone());
            imported.registries.push(mirror_registry(
                registry_name,
                doc.line(),
                doc,
                &configs,
                true,
            )?);
        }
    }
    let mut own_directory = Vec::new();
    for config in &configs {
        if mirrored.contains(&config.host) || !config.generates_directory() {
            continue;
        }
        if config.host == "*" {
            return Err(ImportError::new(
                name,
                Some(config.line),
                "machine.registries.config.\"*\": Talos refuses TLS configuration for the wildcard host",
            ));
        }
        let mut mirror = ImportedMirror {
            url: format!("https://{}", own_host(&config.host)),
            ..ImportedMirror::default()
        };
        config.apply(&mut mirror);
        own_directory.push(config.host.clone());
        // Talos writes the registry's own endpoint as the `server` of its directory (TLS) or
        // leaves the default endpoint alone (auth only): either way the one endpoint tried.
        imported.registries.push(ImportedRegistry {
            name: config.host.clone(),
            origin: match &config.document {
                Some(document) => format!("{name}:{} {document}", config.line),
                None => format!(
                    "{name}:{} machine.registries.config.{:?}",
                    config.line, config.host
                ),
            },
            mirrors: vec![mirror],
            fallback: false,
            server: None,
            not_imported: config.not_imported.clone(),
        });
    }
    for config in &configs {
        let used = own_directory.contains(&config.host)
            || imported.registries.iter().any(|r| {
                r.mirrors
                    .iter()
                    .any(|m| endpoint_host(&m.url) == config.host)
            });
        if !used {
            imported.warnings.push(ImportWarning {
                line: Some(config.line),
                message: format!(
                    "machine.registries.config.{:?} configures a host no endpoint contacts",
                    config.host
                ),
            });
        }
    }
    imported.secrets = secrets.into_vec();
    Ok(imported)
}

/// The keys every Talos document has besides its own.
const DOCUMENT_KEYS: &[&str] = &["apiVersion", "kind", "name"];

/// The host containerd contacts for a registry of that name when nothing else is said.
fn own_host(registry: &str) -> &str {
    if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    }
}

/// The documents of a YAML stream with the line each starts on (0-based offset).
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 0, 0);
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            out.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

/// One `config."<host>"` entry.
#[derive(Default)]
struct HostConfig {
    host: String,
    line: usize,
    has_tls: bool,
    ca: Option<String>,
    client: Option<(String, String)>,
    skip_verify: bool,
    basic: Option<(String, String)>,
    not_imported: Vec<ImportWarning>,
    /// The last document that set it (`RegistryTLSConfig "host"`), when one did.
    document: Option<String>,
}

impl HostConfig {
    /// `GenerateHosts` skips a `tls` with nothing set; a host with only `auth` still gets a
    /// directory.
    fn generates_directory(&self) -> bool {
        !self.has_tls
            || self.ca.is_some()
            || self.client.is_some()
            || self.skip_verify
            || self.basic.is_some()
    }

    fn apply(&self, mirror: &mut ImportedMirror) {
        if self.skip_verify {
            mirror.skip_verify = Some(true);
        }
        mirror.ca = self.ca.iter().cloned().map(CaSource::Pem).collect();
        mirror.client = self
            .client
            .iter()
            .map(|(c, k)| (c.clone(), Some(k.clone())))
            .collect();
        mirror.auth = self.basic.as_ref().map(|(u, p)| ImportedAuth::Basic {
            username_file: u.clone(),
            password_file: p.clone(),
        });
    }
}

fn host_config(
    host: &str,
    line: usize,
    entry: &Field<'_>,
    secrets: &mut SecretFiles,
) -> Result<HostConfig, ImportError> {
    let mut config = HostConfig {
        host: host.to_owned(),
        line,
        ..HostConfig::default()
    };
    for (key, value) in entry.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = entry.child(value, &format!(".{key}"));
        match key {
            "tls" => {
                config.has_tls = !value.node.is_null();
                tls(&mut config, &value, secrets, TlsForm::MachineConfig)?;
            }
            "auth" => auth(&mut config, &value, secrets, &[])?,
            other => config.not_imported.push(ImportWarning {
                line: Some(value.line()),
                message: format!("{}.{other} is not imported", entry.path),
            }),
        }
    }
    Ok(config)
}

/// The two spellings of a host's TLS settings: `machine.registries.config.<host>.tls` (CA and
/// client identity base64-encoded, the certificate under `crt`) and a Talos 1.12+
/// `RegistryTLSConfig` document (PEM text, the certificate under `cert`, beside the document's
/// own keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsForm {
    MachineConfig,
    Document,
}

fn tls(
    config: &mut HostConfig,
    tls: &Field<'_>,
    secrets: &mut SecretFiles,
    form: TlsForm,
) -> Result<(), ImportError> {
    let pem = |field: &Field<'_>| match form {
        TlsForm::MachineConfig => decode_text(field),
        TlsForm::Document => Ok(field.text()?.to_owned()),
    };
    let (cert_key, labels) = match form {
        TlsForm::MachineConfig => ("crt", ["tls.clientIdentity.crt", "tls.clientIdentity.key"]),
        TlsForm::Document => (
            "cert",
            [
                "RegistryTLSConfig clientIdentity.cert",
                "RegistryTLSConfig clientIdentity.key",
            ],
        ),
    };
    for (key, value) in tls.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = tls.child(value, &format!(".{key}"));
        match key {
            "insecureSkipVerify" => config.skip_verify = value.boolean()?,
            "ca" => config.ca = Some(pem(&value)?),
            "clientIdentity" => {
                let (Some(cert), Some(key)) = (value.get(cert_key)?, value.get("key")?) else {
                    return Err(ImportError::new(
                        tls.source,
                        Some(value.line()),
                        format!("{} needs {cert_key} and key", value.path),
                    ));
                };
                let files = (pem(&cert)?, pem(&key)?);
                add_client(config, secrets, &value, labels, files);
            }
            k if form == TlsForm::Document && DOCUMENT_KEYS.contains(&k) => {}
            other => config.not_imported.push(ImportWarning {
                line: Some(value.line()),
                message: format!("{}.{other} is not imported", tls.path),
            }),
        }
    }
    Ok(())
}

/// A client certificate and key (PEM) written into the secrets directory, as the mirror's
/// `client`; `labels` say in the secrets listing which source field each came from.
fn add_client(
    config: &mut HostConfig,
    secrets: &mut SecretFiles,
    field: &Field<'_>,
    labels: [&str; 2],
    (cert, key): (String, String),
) {
    let host = config.host.clone();
    let cert_file = secrets.add(&host, "client.crt", format!("{host} {}", labels[0]), cert);
    let key_file = secrets.add(&host, "client.key", format!("{host} {}", labels[1]), key);
    config.not_imported.push(ImportWarning {
        line: Some(field.line()),
        message: format!(
            "{}: written as {cert_file} and {key_file} under the secrets directory; the \
             mirror's client refers to them there, so keep them on the node",
            field.path
        ),
    });
    config.client = Some((cert_file, key_file));
}

fn auth(
    config: &mut HostConfig,
    auth: &Field<'_>,
    secrets: &mut SecretFiles,
    skip: &[&str],
) -> Result<(), ImportError> {
    let text = |key: &str| -> Result<Option<(String, usize)>, ImportError> {
        Ok(match auth.get(key)? {
            Some(f) => Some((f.text()?.to_owned(), f.line())).filter(|(t, _)| !t.is_empty()),
            None => None,
        })
    };
    let (username, password, encoded, token) = (
        text("username")?,
        text("password")?,
        text("auth")?,
        text("identityToken")?,
    );
    for (key, value) in auth.entries()? {
        let key = key_text(key).unwrap_or_default();
        if !matches!(key, "username" | "password" | "auth" | "identityToken")
            && !skip.contains(&key)
        {
            config.not_imported.push(ImportWarning {
                line: Some(auth.child(value, "").line()),
                message: format!("{}.{key} is not imported", auth.path),
            });
        }
    }
    let host = config.host.clone();
    let (user, pass) = match parse_auth(username, password, encoded, token) {
        InlineAuth::Basic { user, pass } => (user, pass),
        InlineAuth::IdentityToken(line) => {
            config.not_imported.push(ImportWarning {
                line: Some(line),
                message: format!(
                    "{}.identityToken is not imported: containerd trades it for a token at the \
                     registry's token service, which the inventory has no field for",
                    auth.path
                ),
            });
            return Ok(());
        }
        InlineAuth::BadAuth(line) => {
            config.not_imported.push(ImportWarning {
                line: Some(line),
                message: format!(
                    "{}.auth is not base64 of `user:password`: not imported",
                    auth.path
                ),
            });
            return Ok(());
        }
        InlineAuth::None => return Ok(()),
    };
    config.basic = Some(secrets.add_basic(&host, user, pass));
    config.not_imported.push(ImportWarning {
        line: Some(auth.line()),
        message: format!(
            "{}: its condition, that containerd uses these credentials only when the kubelet \
             sends none; the imported `auth.basicFrom` is sent on every request",
            auth.path
        ),
    });
    Ok(())
}

/// One registry's mirror: a `machine.registries.mirrors` entry (`overridePath` for every
/// endpoint) or, with `document`, a `RegistryMirrorConfig` (`overridePath` per endpoint).
fn mirror_registry(
    name: &str,
    line: usize,
    entry: &Field<'_>,
    configs: &[HostConfig],
    document: bool,
) -> Result<ImportedRegistry, ImportError> {
    let origin = if document {
        format!("{}:{line} RegistryMirrorConfig {name:?}", entry.source)
    } else {
        format!(
            "{}:{line} machine.registries.mirrors.{name:?}",
            entry.source
        )
    };
    let mut registry = ImportedRegistry {
        name: name.to_owned(),
        origin,
        mirrors: Vec::new(),
        fallback: true,
        server: None,
        not_imported: Vec::new(),
    };
    let override_path = match entry.get("overridePath")? {
        Some(field) if !document => field.boolean()?,
        _ => false,
    };
    if let Some(skip) = entry.get("skipFallback")? {
        registry.fallback = !skip.boolean()?;
    }
    for (key, value) in entry.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = entry.child(value, &format!(".{key}"));
        match key {
            "overridePath" if !document => {}
            "skipFallback" => {}
            k if document && DOCUMENT_KEYS.contains(&k) => {}
            "endpoints" => {
                for (i, endpoint) in value.items()?.iter().enumerate() {
                    let endpoint = value.child(endpoint, &format!("[{i}]"));
                    let (url, own_override) = if document {
                        let url = endpoint.get("url")?.ok_or_else(|| {
                            ImportError::new(
                                entry.source,
                                Some(endpoint.line()),
                                format!("{} has no url", endpoint.path),
                            )
                        })?;
                        let own = match endpoint.get("overridePath")? {
                            Some(field) => field.boolean()?,
                            None => false,
                        };
                        (url.text()?.to_owned(), own)
                    } else {
                        (endpoint.text()?.to_owned(), override_path)
                    };
                    let mut mirror = ImportedMirror {
                        url,
                        override_path: own_override.then_some(true),
                        ..ImportedMirror::default()
                    };
                    if let Some(config) = configs
                        .iter()
                        .find(|c| c.host == endpoint_host(&mirror.url))
                    {
                        config.apply(&mut mirror);
                        for warning in &config.not_imported {
                            let known = registry
                                .not_imported
                                .iter()
                                .any(|w| w.line == warning.line && w.message == warning.message);
                            if !known {
                                registry.not_imported.push(warning.clone());
                            }
                        }
                    }
                    registry.mirrors.push(mirror);
                }
            }
            other => registry.not_imported.push(ImportWarning {
                line: Some(value.line()),
                message: format!("{}.{other} is not imported", entry.path),
            }),
        }
    }
    // Credentials of the registry's own host reach its default endpoint too (the CRI plugin
    // offers them to whichever host it contacts; TLS of a directory's hosts does not): the
    // inventory says that as the default endpoint, with them, as the last mirror.
    let own = own_host(name);
    if let Some(config) = configs.iter().find(|c| c.host == own)
        && registry.fallback
        && name != "*"
        && !registry
            .mirrors
            .iter()
            .any(|m| endpoint_host(&m.url) == own)
        && let Some((username_file, password_file)) = &config.basic
    {
        registry.mirrors.push(ImportedMirror {
            url: format!("https://{own}"),
            capabilities: Some(vec!["pull".into(), "resolve".into(), "push".into()]),
            auth: Some(ImportedAuth::Basic {
                username_file: username_file.clone(),
                password_file: password_file.clone(),
            }),
            ..ImportedMirror::default()
        });
        registry.fallback = false;
    } else if let Some(config) = configs.iter().find(|c| c.host == own)
        && registry.fallback
        && config.basic.is_some()
    {
        registry.not_imported.push(ImportWarning {
            line: Some(config.line),
            message: format!(
                "containerd tries {own} again as the registry's default endpoint, with the \
                 credentials of machine.registries.config.{own:?}; the inventory's fallback \
                 carries none"
            ),
        });
    }
    Ok(registry)
}

/// The host (with port) an endpoint URL contacts, as Go's `url.Parse` gives `Host`.
fn endpoint_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// A base64 field (Go `[]byte` in YAML) holding text: a PEM certificate or key.
fn decode_text(field: &Field<'_>) -> Result<String, ImportError> {
    let text: String = field.text()?.split_whitespace().collect();
    crate::credential_plugin::base64url_decode(&text)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ImportError::new(
                field.source,
                Some(field.line()),
                format!("{} is not base64 of PEM text", field.path),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::error::MAX_BYTES;
    use super::super::testing::{check_reader, fuzz};
    use super::*;

    const FIXTURE: &str = include_str!("../../fixtures/import/talos/machine-registries.yaml");

    #[track_caller]
    fn check(source: &str, expected: &str) {
        check_reader(read, "controlplane.yaml", source, expected);
    }

    #[test]
    fn mirrors_fallback_tls_and_auth() {
        check(
            FIXTURE,
            r#"docker.io fallback=true server=None (controlplane.yaml:14 machine.registries.mirrors."docker.io")
  http://10.5.0.1:5000 override_path=true basic=10.5.0.1_5000-username,10.5.0.1_5000-password
  https://mirror.example/v2/proxy-docker override_path=true
  ! Some(32) machine.registries.config."10.5.0.1:5000".auth: its condition, that containerd uses these credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
ghcr.io fallback=false server=None (controlplane.yaml:19 machine.registries.mirrors."ghcr.io")
  https://ghcr-mirror.example ca=pem(587 bytes) client=ghcr-mirror.example-client.crt+ghcr-mirror.example-client.key skip_verify=true
  ! Some(39) machine.registries.config."ghcr-mirror.example".tls.clientIdentity: written as ghcr-mirror.example-client.crt and ghcr-mirror.example-client.key under the secrets directory; the mirror's client refers to them there, so keep them on the node
* fallback=true server=None (controlplane.yaml:23 machine.registries.mirrors."*")
  https://catchall.example
[fd00::1]:5000 fallback=true server=None (controlplane.yaml:26 machine.registries.mirrors."[fd00::1]:5000")
  https://[fd00::1]:5000 basic=fd00__1_5000-username,fd00__1_5000-password
  ! Some(48) machine.registries.config."[fd00::1]:5000".auth: its condition, that containerd uses these credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
  ! Some(46) containerd tries [fd00::1]:5000 again as the registry's default endpoint, with the credentials of machine.registries.config."[fd00::1]:5000"; the inventory's fallback carries none
quay.io fallback=true server=None (controlplane.yaml:56 RegistryMirrorConfig "quay.io")
  https://quay-mirror.example ca=pem(587 bytes) basic=quay-mirror.example-username,quay-mirror.example-password
  https://quay-mirror.example/v2/quay-proxy ca=pem(587 bytes) override_path=true basic=quay-mirror.example-username,quay-mirror.example-password
  ! Some(82) RegistryAuthConfig[name=quay-mirror.example]: its condition, that containerd uses these credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
10.5.0.1:5000 fallback=false server=None (controlplane.yaml:30 machine.registries.config."10.5.0.1:5000")
  https://10.5.0.1:5000 basic=10.5.0.1_5000-username,10.5.0.1_5000-password
  ! Some(32) machine.registries.config."10.5.0.1:5000".auth: its condition, that containerd uses these credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
ghcr-mirror.example fallback=false server=None (controlplane.yaml:34 machine.registries.config."ghcr-mirror.example")
  https://ghcr-mirror.example ca=pem(587 bytes) client=ghcr-mirror.example-client.crt+ghcr-mirror.example-client.key skip_verify=true
  ! Some(39) machine.registries.config."ghcr-mirror.example".tls.clientIdentity: written as ghcr-mirror.example-client.crt and ghcr-mirror.example-client.key under the secrets directory; the mirror's client refers to them there, so keep them on the node
private.example:8443 fallback=false server=None (controlplane.yaml:41 machine.registries.config."private.example:8443")
  https://private.example:8443 ca=pem(587 bytes)
  ! Some(45) machine.registries.config."private.example:8443".auth.identityToken is not imported: containerd trades it for a token at the registry's token service, which the inventory has no field for
quay-mirror.example fallback=false server=None (controlplane.yaml:82 RegistryAuthConfig "quay-mirror.example")
  https://quay-mirror.example ca=pem(587 bytes) basic=quay-mirror.example-username,quay-mirror.example-password
  ! Some(82) RegistryAuthConfig[name=quay-mirror.example]: its condition, that containerd uses these credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
secret 10.5.0.1_5000-username (10.5.0.1:5000 auth.username)
secret 10.5.0.1_5000-password (10.5.0.1:5000 auth.password)
secret ghcr-mirror.example-client.crt (ghcr-mirror.example tls.clientIdentity.crt)
secret ghcr-mirror.example-client.key (ghcr-mirror.example tls.clientIdentity.key)
secret fd00__1_5000-username ([fd00::1]:5000 auth.username)
secret fd00__1_5000-password ([fd00::1]:5000 auth.password)
secret quay-mirror.example-username (quay-mirror.example auth.username)
secret quay-mirror.example-password (quay-mirror.example auth.password)
! Some(49) machine.registries.config."unused.example" configures a host no endpoint contacts
"#,
        );
    }

    #[test]
    fn base64_material_is_decoded_into_pem_and_secrets() {
        let imported = read("controlplane.yaml", FIXTURE.as_bytes()).expect("reads");
        let ghcr = &imported.registries[1].mirrors[0];
        assert!(
            matches!(&ghcr.ca[..], [CaSource::Pem(p)] if p.starts_with("-----BEGIN CERTIFICATE-----\nMII"))
        );
        let key = imported
            .secrets
            .iter()
            .find(|s| s.file_name == "ghcr-mirror.example-client.key");
        assert!(key.is_some_and(|k| k.value.contains("EC PRIVATE KEY")));
        let basic = imported
            .secrets
            .iter()
            .find(|s| s.file_name == "fd00__1_5000-password");
        assert!(basic.is_some_and(|s| s.value == "pass"));
        assert!(!format!("{imported:?}").contains("s3cret"));
    }

    #[test]
    fn unreadable_sources_are_errors_with_lines() {
        let cases: [(&[u8], &str); 6] = [
            (b"version: v1alpha1\nmachine:\n  registries: [\n", "controlplane.yaml:4: YAML syntax error"),
            (b"apiVersion: v1alpha1\nkind: SideroLinkConfig\n", "controlplane.yaml: no document with `machine`"),
            (b"machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints: http://m\n", "controlplane.yaml:5: machine.registries.mirrors.\"docker.io\".endpoints is a string, not a list"),
            (b"machine:\n  registries:\n    config:\n      m:\n        tls:\n          ca: \"not base64!\"\n", "controlplane.yaml:6: machine.registries.config.\"m\".tls.ca is not base64"),
            (b"---\nfoo: 1\n---\nmachine:\n  registries:\n    config:\n      \"*\":\n        tls: {insecureSkipVerify: true}\n", "controlplane.yaml:7: machine.registries.config.\"*\": Talos refuses"),
            (b"\xff", "controlplane.yaml: not UTF-8"),
        ];
        for (source, expected) in cases {
            match read("controlplane.yaml", source) {
                Ok(imported) => panic!("{expected}: read as {imported:?}"),
                Err(e) => assert!(e.to_string().starts_with(expected), "{e} / {expected}"),
            }
        }
        assert!(read("controlplane.yaml", &vec![b' '; MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn fuzzed_sources_never_panic() {
        fuzz(0x7a10_5000, 4000, &[FIXTURE], |bytes| {
            let _ = read("controlplane.yaml", bytes);
        });
    }
}
