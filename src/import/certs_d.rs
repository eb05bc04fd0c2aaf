//! `import certs-d`: a containerd `config_path` tree — one `<host>/hosts.toml` per registry,
//! `_default` and `host_port_` names included — read as containerd reads it (see
//! `shared` reference: containerd-hosts-toml): `[host."URL"]` tables in file order, then `server`
//! or the registry's default endpoint.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Value};

use super::{
    CaSource, HeaderSource, ImportWarning, Imported, ImportedAuth, ImportedHeader, ImportedMirror,
    ImportedRegistry, Secret, read_text,
};
use crate::error::Error;

const ROOT_KEYS: [&str; 9] = [
    "server",
    "capabilities",
    "ca",
    "client",
    "skip_verify",
    "header",
    "override_path",
    "dial_timeout",
    "host",
];

/// `referrers`: the target containerd (2.2+) gives a host without `capabilities` that one too.
pub(crate) fn read(source: &Path, referrers: bool) -> Result<Imported, Error> {
    let root = std::path::absolute(source).map_err(|e| Error::io("read", source, e))?;
    let meta = std::fs::symlink_metadata(&root).map_err(|e| Error::io("read", &root, e))?;
    if !meta.is_dir() {
        return Err(Error::Partial(format!(
            "{}: is not a directory; certs-d reads a directory of <host>/hosts.toml",
            root.display()
        )));
    }
    let mut imported = Imported::default();
    for (name, dir) in entries(&root)? {
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| Error::io("read", &dir, e))?;
        if !meta.is_dir() {
            imported.warnings.push(ImportWarning::new(
                None,
                format!("{name}: not a directory; containerd reads only <host>/hosts.toml"),
            ));
            continue;
        }
        let registry = registry_name(&name);
        let files = entries(&dir)?;
        let hosts = dir.join("hosts.toml");
        let has_hosts = files.iter().any(|(n, _)| n == "hosts.toml")
            && std::fs::metadata(&hosts).map_or(0, |m| m.len()) > 0;
        if has_hosts {
            let text = read_text(&hosts)?;
            imported.registries.push(hosts_toml(
                &registry,
                &format!("{name}/hosts.toml"),
                &dir,
                &hosts,
                &text,
                &mut imported.secrets,
            )?);
        } else if let Some(r) = docker_certs(&registry, &name, &dir, &files) {
            imported.registries.push(r);
        }
    }
    // `None` stood for containerd's "every capability" while reading.
    for mirror in imported
        .registries
        .iter_mut()
        .flat_map(|r| r.mirrors.iter_mut())
    {
        if mirror.capabilities.is_none() {
            let mut all = all_capabilities();
            if referrers {
                all.push("referrers".into());
            }
            mirror.capabilities = Some(all);
        }
    }
    Ok(imported)
}

/// The entries of `dir`, sorted by name; a symlink or a name that is not UTF-8 is an error.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(Error::Partial(format!(
                "{}: a name that is not UTF-8 ({}); nothing imported",
                dir.display(),
                entry.file_name().to_string_lossy()
            )));
        };
        let kind = entry.file_type().map_err(|e| Error::io("read", &path, e))?;
        if kind.is_symlink() {
            return Err(Error::Partial(format!(
                "{}: is a symlink; import does not follow symlinks in a certs.d tree, nothing imported",
                path.display()
            )));
        }
        out.push((name, path));
    }
    out.sort();
    Ok(out)
}

/// `_default` → `*`; `host_port_` → `host:port` (`[::1]_5000_` → `[::1]:5000`).
pub(crate) fn registry_name(dir: &str) -> String {
    if dir == "_default" {
        return "*".into();
    }
    if let Some(stem) = dir.strip_suffix('_')
        && let Some(i) = stem.rfind('_')
        && !stem[i + 1..].is_empty()
        && stem[i + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        return format!("{}:{}", &stem[..i], &stem[i + 1..]);
    }
    dir.to_string()
}

/// The endpoint containerd tries last when `server` is absent; `None` for `*`.
fn default_endpoint(registry: &str) -> Option<String> {
    match registry {
        "*" => None,
        "docker.io" => Some("https://registry-1.docker.io".into()),
        host => Some(format!("https://{host}")),
    }
}

/// As containerd parses `server` and host keys: `https://` prefixed unless the string starts
/// with `http`, and the `/v2` suffix and trailing slashes compared away.
fn normalized(url: &str) -> String {
    let with_scheme = if url.starts_with("http") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let trimmed = with_scheme.trim_end_matches('/');
    trimmed
        .strip_suffix("/v2")
        .unwrap_or(trimmed)
        .trim_end_matches('/')
        .to_string()
}

/// A host key as the inventory writes the same endpoint: without `override_path` containerd
/// appends `/v2` to a path that does not end in it, while the inventory infers
/// `overridePath: true` for such a path, so the `/v2` is written out.
fn inventory_url(url: &str, override_path: &mut Option<bool>) -> String {
    let with_scheme = if url.starts_with("http") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    if *override_path == Some(true) {
        return with_scheme;
    }
    *override_path = None;
    let (scheme, rest) = with_scheme
        .split_once("://")
        .unwrap_or(("https", &with_scheme));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_matches('/');
    if path.is_empty() {
        format!("{scheme}://{authority}")
    } else if path == "v2" || path.ends_with("/v2") {
        format!("{scheme}://{authority}/{path}")
    } else {
        format!("{scheme}://{authority}/{path}/v2")
    }
}

/// Whether the inventory infers `overridePath: true` for this URL: a path that is not `/v2`.
fn path_implies_override(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.trim_end_matches('/');
    !(path.is_empty() || path.ends_with("/v2"))
}

/// A directory without hosts.toml: containerd uses docker-style `*.crt`, `*.cert` + `*.key`
/// with the default endpoint only.
fn docker_certs(
    registry: &str,
    name: &str,
    dir: &Path,
    files: &[(String, PathBuf)],
) -> Option<ImportedRegistry> {
    let node = |p: &PathBuf| p.to_string_lossy().into_owned();
    let ca: Vec<CaSource> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".crt"))
        .map(|(_, p)| CaSource::Path(node(p)))
        .collect();
    let client: Vec<(String, Option<String>)> = files
        .iter()
        .filter_map(|(n, p)| {
            let stem = n.strip_suffix(".cert")?;
            let key = dir.join(format!("{stem}.key"));
            Some((node(p), Some(key.to_string_lossy().into_owned())))
        })
        .collect();
    if ca.is_empty() && client.is_empty() {
        return None;
    }
    let mut registry_out = ImportedRegistry {
        name: registry.to_string(),
        origin: format!("{name}/ (docker-style certificates, no hosts.toml)"),
        mirrors: Vec::new(),
        fallback: false,
        server: None,
        not_imported: Vec::new(),
    };
    match default_endpoint(registry) {
        Some(url) => registry_out.mirrors.push(ImportedMirror {
            url,
            ca,
            client,
            ..ImportedMirror::default()
        }),
        None => registry_out.not_imported.push(ImportWarning::new(
            None,
            format!(
                "{name}/: docker-style certificates apply to each registry's own endpoint; the inventory cannot say that for `*`"
            ),
        )),
    }
    Some(registry_out)
}

fn all_capabilities() -> Vec<String> {
    vec!["pull".into(), "resolve".into(), "push".into()]
}

/// Why containerd would ignore the whole file: it then pulls from the upstream.
struct Rejected(String);

/// What every table of one hosts.toml is read with.
struct Context<'a> {
    /// Headers the file's opening comment says mirrorctl read from files.
    file_headers: &'a [String],
    /// The 1-based line of the first line holding a text.
    line_of: &'a dyn Fn(&str) -> Option<usize>,
}

fn hosts_toml(
    registry: &str,
    origin: &str,
    dir: &Path,
    path: &Path,
    text: &str,
    secrets: &mut Vec<Secret>,
) -> Result<ImportedRegistry, Error> {
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::Partial(format!(
            "{}: not a hosts.toml (TOML error: {})",
            path.display(),
            e.message()
        ))
    })?;
    let mut out = ImportedRegistry {
        name: registry.to_string(),
        origin: origin.to_string(),
        mirrors: Vec::new(),
        fallback: true,
        server: None,
        not_imported: Vec::new(),
    };
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    // mirrorctl names the headers whose values it read from files in the file's opening
    // comment: those are credentials whatever their names.
    let file_headers: Vec<String> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(crate::redact::FILE_HEADERS))
        .flat_map(|names| names.split(", ").map(str::to_string))
        .collect();
    let context = Context {
        file_headers: &file_headers,
        line_of: &line_of,
    };
    if let Err(Rejected(why)) = parse_document(&doc, registry, dir, &mut out, secrets, &context) {
        out.mirrors.clear();
        out.server = None;
        out.fallback = true;
        out.not_imported.push(ImportWarning::new(
            None,
            format!(
                "containerd ignores this whole file ({why}) and pulls from the registry itself"
            ),
        ));
    }
    Ok(out)
}

fn parse_document(
    doc: &DocumentMut,
    registry: &str,
    dir: &Path,
    out: &mut ImportedRegistry,
    secrets: &mut Vec<Secret>,
    context: &Context<'_>,
) -> Result<(), Rejected> {
    let line_of = context.line_of;
    let table = doc.as_table();
    for (key, _) in table.iter() {
        if !ROOT_KEYS.contains(&key) {
            out.not_imported.push(ImportWarning::new(
                line_of(key),
                format!("`{key}`: containerd ignores this key"),
            ));
        }
    }
    if let Some(hosts) = table.get("host") {
        let Some(hosts) = hosts.as_table_like() else {
            return Err(Rejected("`host` is not a table".into()));
        };
        for (url, item) in hosts.iter() {
            if !matches!(item, Item::Table(t) if !t.is_dotted()) {
                out.not_imported.push(ImportWarning::new(
                    line_of(url),
                    format!(
                        "host `{url}` is not written as its own [host.\"URL\"] table; containerd 2.x skips it, so it is not imported"
                    ),
                ));
                continue;
            }
            if let Some(t) = item.as_table() {
                for (key, _) in t.iter() {
                    if !ROOT_KEYS[1..8].contains(&key) {
                        out.not_imported.push(ImportWarning::new(
                            line_of(&format!("{key} =")).or_else(|| line_of(key)),
                            format!("host `{url}`: `{key}`: containerd ignores this key"),
                        ));
                    }
                }
            }
            let index = out.mirrors.len();
            let mut mirror = settings(item, registry, index, dir, secrets, out, context)?;
            mirror.url = inventory_url(url, &mut mirror.override_path);
            out.mirrors.push(mirror);
        }
    }
    let server = match table.get("server") {
        Some(item) => Some(
            item.as_str()
                .ok_or_else(|| Rejected("`server` is not a string".into()))?,
        ),
        None => None,
    };
    let index = out.mirrors.len();
    let root = settings(doc.as_item(), registry, index, dir, secrets, out, context)?;
    let upstream = default_endpoint(registry);
    // `override_path` as the inventory infers it from the server's path is no mirror setting.
    let inferred = server.is_some_and(|url| {
        table.get("override_path").and_then(Item::as_bool) == Some(path_implies_override(url))
    });
    let root_has_settings = ROOT_KEYS[1..8]
        .iter()
        .any(|k| table.contains_key(k) && !(*k == "override_path" && inferred));
    match server {
        // A server with settings at the root is a last mirror even when it is the registry's
        // own endpoint: containerd tries it with those settings (and, for a loopback
        // registry, without the plain-HTTP fallback of the default endpoint).
        Some(raw) if root_has_settings || Some(&normalized(raw)) != upstream.as_ref() => {
            if root_has_settings || out.mirrors.is_empty() {
                // The inventory writes a mirror-only registry this way: the last mirror as
                // `server`, with that mirror's settings at the root.
                let mut root = root;
                root.url = inventory_url(raw, &mut root.override_path);
                out.mirrors.push(root);
                out.fallback = false;
            } else {
                out.server = Some(raw.to_string());
            }
        }
        _ if root_has_settings => out.not_imported.push(ImportWarning::new(
            None,
            "root-level settings apply to the registry's own endpoint; the inventory has no field for them",
        )),
        _ => {}
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn settings(
    item: &Item,
    registry: &str,
    index: usize,
    dir: &Path,
    secrets: &mut Vec<Secret>,
    out: &mut ImportedRegistry,
    context: &Context<'_>,
) -> Result<ImportedMirror, Rejected> {
    let (line_of, file_headers) = (context.line_of, context.file_headers);
    let mut mirror = ImportedMirror::default();
    let Some(t) = item.as_table_like() else {
        return Err(Rejected("a host is not a table".into()));
    };
    if let Some(v) = t.get("capabilities") {
        let list =
            strings(v).ok_or_else(|| Rejected("`capabilities` is not a list of strings".into()))?;
        let mut caps = Vec::new();
        for c in list {
            let lower = c.to_ascii_lowercase();
            if !["pull", "resolve", "push", "referrers"].contains(&lower.as_str()) {
                return Err(Rejected(format!("unknown capability `{c}`")));
            }
            caps.push(lower);
        }
        if !caps.is_empty() {
            mirror.capabilities = Some(caps);
        }
    }
    let node = |p: &str| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            dir.join(p).to_string_lossy().into_owned()
        }
    };
    if let Some(v) = t.get("ca") {
        let list = strings_or_one(v)
            .ok_or_else(|| Rejected("`ca` is not a string or list of strings".into()))?;
        mirror.ca = list.iter().map(|p| CaSource::Path(node(p))).collect();
    }
    if let Some(v) = t.get("client") {
        mirror.client = clients(v)
            .ok_or_else(|| {
                Rejected("`client` is not a path, a list of paths or [cert, key] pairs".into())
            })?
            .into_iter()
            .map(|(c, k)| (node(&c), k.map(|k| node(&k))))
            .collect();
    }
    if let Some(v) = t.get("skip_verify") {
        mirror.skip_verify = Some(
            v.as_bool()
                .ok_or_else(|| Rejected("`skip_verify` is not a boolean".into()))?,
        );
    }
    if let Some(v) = t.get("override_path") {
        mirror.override_path = Some(
            v.as_bool()
                .ok_or_else(|| Rejected("`override_path` is not a boolean".into()))?,
        );
    }
    if let Some(v) = t.get("dial_timeout") {
        mirror.dial_timeout = Some(
            v.as_str()
                .ok_or_else(|| Rejected("`dial_timeout` is not a string".into()))?
                .to_string(),
        );
    }
    if let Some(v) = t.get("header") {
        let headers = v
            .as_table_like()
            .ok_or_else(|| Rejected("`header` is not a table".into()))?;
        for (name, value) in headers.iter() {
            let list = value.as_str().is_none();
            let values = strings_or_one(value).ok_or_else(|| {
                Rejected(format!(
                    "header `{name}` is not a string or list of strings"
                ))
            })?;
            if name.eq_ignore_ascii_case("authorization") {
                authorization(
                    registry,
                    index,
                    &values,
                    &mut mirror,
                    secrets,
                    out,
                    line_of(name),
                );
            } else if crate::redact::is_secret_header(name)
                || values.iter().any(|v| crate::redact::is_credential_value(v))
                || file_headers.iter().any(|h| h.eq_ignore_ascii_case(name))
            {
                // A credential (by its name or value, or because mirrorctl read it from a
                // file): into secret files, never into the inventory's text.
                let stem = format!(
                    "{}-{index}-header-{}",
                    file_stem(registry),
                    file_stem(&name.to_lowercase())
                );
                let mut refs = Vec::new();
                for (i, value) in values.iter().enumerate() {
                    // No secret file holds an empty or space-bounded value (mirrorctl refuses
                    // one): such a value was written inline.
                    if value.is_empty() || value.trim() != value {
                        refs.push(HeaderSource::Inline(value.clone()));
                        continue;
                    }
                    let file_name = match values.len() {
                        1 => stem.clone(),
                        _ => format!("{stem}-{}", i + 1),
                    };
                    secrets.push(Secret {
                        file_name: file_name.clone(),
                        belongs_to: format!("{registry} mirrors[{index}] header {name}"),
                        value: value.clone(),
                    });
                    refs.push(HeaderSource::Secret(file_name));
                }
                mirror.headers.push(ImportedHeader {
                    name: name.to_string(),
                    values: refs,
                    list,
                });
            } else {
                mirror.headers.push(ImportedHeader {
                    name: name.to_string(),
                    values: values.into_iter().map(HeaderSource::Inline).collect(),
                    list,
                });
            }
        }
    }
    Ok(mirror)
}

/// An `Authorization` header holds a credential: it becomes secret files and `auth`.
fn authorization(
    registry: &str,
    index: usize,
    values: &[String],
    mirror: &mut ImportedMirror,
    secrets: &mut Vec<Secret>,
    out: &mut ImportedRegistry,
    line: Option<usize>,
) {
    let base = format!("{}-{index}", file_stem(registry));
    let field = format!("{registry} mirrors[{index}] header Authorization");
    let [value] = values else {
        out.not_imported.push(ImportWarning::new(
            line,
            "an Authorization header with several values; write its credential by hand",
        ));
        return;
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic")
        && let Some(decoded) = base64_decode(rest).and_then(|b| String::from_utf8(b).ok())
        && let Some((user, password)) = decoded.split_once(':')
    {
        let (u, p) = (format!("{base}-username"), format!("{base}-password"));
        secrets.push(Secret {
            file_name: u.clone(),
            belongs_to: format!("{field} (username)"),
            value: user.to_string(),
        });
        secrets.push(Secret {
            file_name: p.clone(),
            belongs_to: format!("{field} (password)"),
            value: password.to_string(),
        });
        mirror.auth = Some(ImportedAuth::Basic {
            username_file: u,
            password_file: p,
        });
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        let t = format!("{base}-token");
        secrets.push(Secret {
            file_name: t.clone(),
            belongs_to: format!("{field} (bearer token)"),
            value: rest.to_string(),
        });
        mirror.auth = Some(ImportedAuth::Bearer { token_file: t });
    } else {
        out.not_imported.push(ImportWarning::new(
            line,
            "an Authorization header that is neither Basic user:password nor Bearer; its value is not copied",
        ));
    }
}

/// A registry name as a file name: `[::1]:5000` → `--1--5000`, `*` → `_default`.
pub(crate) fn file_stem(registry: &str) -> String {
    if registry == "*" {
        return "_default".into();
    }
    registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Base64 text decoded as UTF-8, `None` when it is neither.
pub(crate) fn base64_text(text: &str) -> Option<String> {
    base64_decode(text).and_then(|b| String::from_utf8(b).ok())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

fn strings(item: &Item) -> Option<Vec<String>> {
    item.as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn strings_or_one(item: &Item) -> Option<Vec<String>> {
    match item.as_str() {
        Some(s) => Some(vec![s.to_string()]),
        None => strings(item),
    }
}

fn clients(item: &Item) -> Option<Vec<(String, Option<String>)>> {
    if let Some(s) = item.as_str() {
        return Some(vec![(s.to_string(), None)]);
    }
    item.as_array()?
        .iter()
        .map(|v| match v {
            Value::String(s) => Some((s.value().clone(), None)),
            Value::Array(pair) if pair.len() == 2 => Some((
                pair.get(0)?.as_str()?.to_string(),
                Some(pair.get(1)?.as_str()?.to_string()),
            )),
            _ => None,
        })
        .collect()
}
