//! containerd's own config.toml: mirrorctl owns exactly one setting, `config_path`, in the
//! table that the file's own `version` reads. Every other byte stays as it was (toml_edit keeps
//! comments, order and formatting). Pure: the existing bytes come in, the new bytes go out.

use crate::code::Code;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::error::{Problem, Severity};
use crate::gates;
use crate::version::Version;

/// The result of editing (or creating) config.toml.
#[derive(Debug)]
pub struct Edited {
    pub contents: Vec<u8>,
    /// Warnings (and, when `errors` is non-empty, the reasons the edit is refused).
    pub findings: Vec<Problem>,
}

impl Edited {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// The table path that holds `config_path` for a config file `version`.
pub fn registry_table(version: i64) -> Option<[&'static str; 3]> {
    match version {
        1 => Some(["plugins", "cri", "registry"]),
        2 => Some(["plugins", "io.containerd.grpc.v1.cri", "registry"]),
        3 | 4 => Some(["plugins", "io.containerd.cri.v1.images", "registry"]),
        _ => None,
    }
}

/// The config `version` a containerd release writes by default.
fn version_for(containerd: Version) -> i64 {
    if containerd >= gates::CONFIG_VERSION_4 {
        4
    } else if containerd >= gates::CONFIG_VERSION_3 {
        3
    } else {
        2
    }
}

/// The smallest config.toml that points containerd at `certs_dir`.
pub fn minimal(containerd: Version, certs_dir: &str) -> Vec<u8> {
    let version = version_for(containerd);
    let [plugins, plugin, registry] =
        registry_table(version).unwrap_or(["plugins", "io.containerd.grpc.v1.cri", "registry"]);
    format!(
        "# Written by mirrorctl: config_path points containerd at the hosts.toml directory.\n\
         version = {version}\n\n[{plugins}.\"{plugin}\".{registry}]\n  config_path = {}\n",
        toml_edit::Value::from(certs_dir)
    )
    .into_bytes()
}

/// Sets `config_path` to `certs_dir` in `existing` (the bytes of `file`, a node path).
pub fn edit(existing: &[u8], file: &str, containerd: Version, certs_dir: &str) -> Edited {
    let mut findings = Vec::new();
    let text = match std::str::from_utf8(existing) {
        Ok(text) => text,
        Err(_) => {
            findings.push(Problem::hinted(
                Code::C005,
                Severity::Error,
                "",
                None,
                format!("`{file}` is not UTF-8 text"),
                "fix or remove the file; mirrorctl edits only valid TOML",
            ));
            return Edited {
                contents: existing.to_vec(),
                findings,
            };
        }
    };
    let mut doc: DocumentMut = match text.parse() {
        Ok(doc) => doc,
        Err(e) => {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            findings.push(Problem::hinted(Code::C005, Severity::Error, "", None, format!("`{file}` is not valid TOML ({first}); containerd would not start with it either"), "fix the file; mirrorctl edits only valid TOML"));
            return Edited {
                contents: existing.to_vec(),
                findings,
            };
        }
    };
    let version = match doc.get("version") {
        None => 1,
        Some(item) => match item.as_integer() {
            Some(v) => v,
            None => {
                findings.push(Problem::hinted(
                    Code::C006,
                    Severity::Error,
                    "version",
                    None,
                    format!("`version` in `{file}` is not an integer"),
                    "write `version = 2` (containerd 1.x) or `version = 3` (2.x)",
                ));
                return Edited {
                    contents: existing.to_vec(),
                    findings,
                };
            }
        },
    };
    let Some(table_path) = registry_table(version) else {
        findings.push(Problem::hinted(
            Code::C006,
            Severity::Error,
            "version",
            None,
            format!("`{file}` has config version {version}, which no containerd reads"),
            "use version 2 (containerd 1.x) or 3 (2.x)",
        ));
        return Edited {
            contents: existing.to_vec(),
            findings,
        };
    };
    let expected = version_for(containerd);
    let matches_target = match containerd.major {
        1 => version <= 2,
        _ => version >= 2 && (version != 4 || containerd >= gates::CONFIG_VERSION_4),
    };
    if !matches_target || (containerd.major >= 2 && version == 2) {
        let what = if containerd.major >= 2 && version == 2 {
            "containerd 2.x migrates a version 2 file at every start-up"
        } else {
            "the target containerd does not read this version"
        };
        findings.push(Problem::hinted(Code::C003, Severity::Warning, "version", None, format!("`{file}` is config version {version} but the target is containerd {containerd} (version {expected}): {what}"), "regenerate the file with the target's `containerd config default`, or fix `target.containerd`"));
    }
    let dotted = table_path.iter().fold(String::new(), |path, k| {
        crate::inventory::path::key(&path, k)
    });
    let registry = navigate(&mut doc, &table_path);
    let Some(mut registry) = registry else {
        findings.push(Problem::hinted(
            Code::C006,
            Severity::Error,
            &dotted,
            None,
            format!("`{dotted}` in `{file}` is not a table"),
            "make it a table; mirrorctl sets `config_path` inside it",
        ));
        return Edited {
            contents: existing.to_vec(),
            findings,
        };
    };
    conflicts(&registry, file, &dotted, containerd, &mut findings);
    if findings.iter().any(|f| f.severity == Severity::Error) {
        // Refused: the bytes stay as they are (found by the fuzz target's invariant).
        return Edited {
            contents: existing.to_vec(),
            findings,
        };
    }
    if let Some(current) = registry.get("config_path").and_then(Item::as_str)
        && current.contains(':')
    {
        findings.push(Problem::hinted(Code::C004, Severity::Warning, format!("{dotted}.config_path"), None, format!("replacing the colon-separated `config_path = \"{current}\"` with the single directory `{certs_dir}`: from containerd 2.1 the transfer service that CRI pulls go through reads one directory only and silently ignores a list"), "keep every hosts.toml under one directory"));
    }
    let unchanged = registry.get("config_path").and_then(Item::as_str) == Some(certs_dir);
    if !unchanged {
        match &mut registry {
            Node::Table(table) => {
                if let Some(current) = table.get_mut("config_path").and_then(Item::as_value_mut) {
                    // Replace the value only: the key keeps its indentation, the value its
                    // surrounding spaces and trailing comment.
                    let decor = current.decor().clone();
                    *current = certs_dir.into();
                    *current.decor_mut() = decor;
                } else {
                    // A new key is indented like its first sibling.
                    let mut key = toml_edit::Key::new("config_path");
                    let sibling = table
                        .iter()
                        .next()
                        .and_then(|(k, _)| table.key(k))
                        .map(|k| k.leaf_decor().clone());
                    if let Some(decor) = sibling {
                        *key.leaf_decor_mut() = decor;
                    }
                    table.insert_formatted(&key, value(certs_dir));
                }
            }
            Node::Inline(inline) => {
                if let Some(current) = inline.get_mut("config_path") {
                    let decor = current.decor().clone();
                    *current = certs_dir.into();
                    *current.decor_mut() = decor;
                } else {
                    // `{ a = 1 }` becomes `{ a = 1, config_path = "…" }`; an empty `{  }`
                    // becomes `{ config_path = "…" }`, spaced as a hand would write it.
                    let mut new = toml_edit::Value::from(certs_dir);
                    new.decor_mut().set_prefix(" ");
                    new.decor_mut()
                        .set_suffix(if inline.is_empty() { " " } else { "" });
                    let mut key = toml_edit::Key::new("config_path");
                    key.leaf_decor_mut().set_prefix(" ");
                    key.leaf_decor_mut().set_suffix(" ");
                    if inline.is_empty() {
                        inline.set_trailing("");
                    } else if let Some((_, last)) = inline.iter_mut().last() {
                        // The closing space moves from the old last value to the new one.
                        let suffix = last.decor().suffix().cloned();
                        last.decor_mut().set_suffix("");
                        if let Some(suffix) = suffix {
                            new.decor_mut().set_suffix(suffix);
                        }
                    }
                    inline.insert_formatted(&key, new);
                }
            }
        }
    }
    let contents = if unchanged {
        existing.to_vec()
    } else {
        doc.to_string().into_bytes()
    };
    Edited { contents, findings }
}

/// The registry table, however the file writes it: a `[header]` table, dotted keys
/// (`registry.config_path = …`) or an inline table (`registry = { … }`), at any level.
enum Node<'a> {
    Table(&'a mut Table),
    Inline(&'a mut toml_edit::InlineTable),
}

impl Node<'_> {
    fn get(&self, key: &str) -> Option<&Item> {
        self.table_like().get(key)
    }

    fn table_like(&self) -> &dyn toml_edit::TableLike {
        match self {
            Node::Table(t) => *t,
            Node::Inline(t) => *t,
        }
    }
}

/// The registry table, created where missing (as `[a."b".c]` headers, or in the form of the
/// table that holds it: dotted keys under dotted keys, inline under inline); `None` when a key
/// on the way holds something other than a table.
fn navigate<'a>(doc: &'a mut DocumentMut, path: &[&str; 3]) -> Option<Node<'a>> {
    let mut node = Node::Table(doc.as_table_mut());
    for (depth, key) in path.iter().enumerate() {
        node = match node {
            Node::Table(table) => {
                if !table.contains_key(key) {
                    let mut new = Table::new();
                    new.set_implicit(depth + 1 < path.len());
                    new.set_dotted(table.is_dotted());
                    table.insert(key, Item::Table(new));
                }
                match table.get_mut(key)? {
                    Item::Table(t) => Node::Table(t),
                    Item::Value(toml_edit::Value::InlineTable(t)) => Node::Inline(t),
                    _ => return None,
                }
            }
            Node::Inline(inline) => {
                if !inline.contains_key(key) {
                    let mut new = toml_edit::InlineTable::new();
                    new.set_dotted(depth + 1 < path.len());
                    inline.insert(*key, toml_edit::Value::InlineTable(new));
                }
                match inline.get_mut(key)? {
                    toml_edit::Value::InlineTable(t) => Node::Inline(t),
                    _ => return None,
                }
            }
        };
    }
    Some(node)
}

/// Legacy settings that containerd 1.x refuses next to `config_path`, and deprecated auth.
fn conflicts(
    registry: &Node<'_>,
    file: &str,
    dotted: &str,
    containerd: Version,
    findings: &mut Vec<Problem>,
) {
    let table = registry.table_like();
    let fatal = containerd.major < 2;
    let severity = if fatal {
        Severity::Error
    } else {
        Severity::Warning
    };
    let effect = if fatal {
        "with `config_path` set, containerd 1.x fails to load its CRI plugin (the daemon runs, the kubelet gets `unknown service runtime.v1.ImageService`)"
    } else {
        "they are deprecated (removal targeted for containerd 2.4) and conflict with hosts.toml"
    };
    let non_empty = |item: &Item| item.as_table_like().is_some_and(|t| !t.is_empty());
    if let Some(mirrors) = table.get("mirrors")
        && non_empty(mirrors)
    {
        let names: Vec<String> = mirrors
            .as_table_like()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        findings.push(Problem::hinted(Code::C001, severity, format!("{dotted}.mirrors"), None, format!("legacy `registry.mirrors` ({}) in `{file}`: {effect}", names.join(", ")), "move each mirror into the inventory's `registries` and delete the `mirrors` table; mirrorctl never deletes your settings itself"));
    }
    if let Some(configs) = table.get("configs").and_then(Item::as_table_like) {
        for (host, config) in configs.iter() {
            let Some(config) = config.as_table_like() else {
                continue;
            };
            // Even an empty `tls` table counts (measured with containerd 1.6.20).
            if config.get("tls").is_some() {
                findings.push(Problem::hinted(Code::C001, severity, crate::inventory::path::key(&crate::inventory::path::key(&format!("{dotted}.configs"), host), "tls"), None, format!("legacy `registry.configs.\"{host}\".tls` in `{file}`: {effect}"), "move the CA and client settings into the inventory (`ca`, `client`, `skipVerify`) and delete the `tls` table"));
            }
            if config.get("auth").is_some_and(non_empty) {
                findings.push(Problem::hinted(Code::C002, Severity::Warning, crate::inventory::path::key(&crate::inventory::path::key(&format!("{dotted}.configs"), host), "auth"), None, format!("`registry.configs.\"{host}\".auth` in `{file}` is deprecated and used only when the kubelet sends no credentials, keyed by the host containerd contacts"), "use a kubelet credential provider or `auth.basicFrom`"));
            }
        }
    }
}

/// The desired config.toml for `inventory`, from the file's current bytes and mode (`None` when
/// it does not exist). Errors among the findings mean the file must not be written.
pub fn desired(
    inventory: &crate::inventory::Inventory,
    existing: Option<(&[u8], u32)>,
) -> (super::DesiredFile, Vec<Problem>) {
    let settings = &inventory.containerd;
    let (contents, mode, findings) = match existing {
        None => (
            minimal(
                inventory.target.containerd,
                inventory.paths.certs_dir.as_str(),
            ),
            0o644,
            Vec::new(),
        ),
        Some((bytes, mode)) => {
            let edited = edit(
                bytes,
                settings.config_file.as_str(),
                inventory.target.containerd,
                inventory.paths.certs_dir.as_str(),
            );
            (edited.contents, mode, edited.findings)
        }
    };
    (
        super::DesiredFile {
            contents,
            mode,
            secret: false,
            kind: super::FileKind::ContainerdConfig,
        },
        findings,
    )
}
