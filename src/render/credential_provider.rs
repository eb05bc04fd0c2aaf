//! The kubelet's `CredentialProviderConfig`: keys only from its schema, durations always quoted
//! Go durations, YAML by default and JSON when the configured path ends in `.json`.

use crate::gates;
use crate::inventory::{Inventory, provider_api_version};
use crate::version::Version;

/// A tiny ordered document model, so that YAML and JSON come from one value in one key order.
enum Doc {
    Str(String),
    Bool(bool),
    List(Vec<Doc>),
    Map(Vec<(&'static str, Doc)>),
}

fn s(text: &str) -> Doc {
    Doc::Str(text.to_string())
}

pub fn config_api_version(kubelet: Version) -> &'static str {
    gates::newest_known(&gates::CONFIG_API_VERSIONS, kubelet)
}

pub fn render(inventory: &Inventory, json: bool) -> String {
    let kubelet = inventory.target.kubelet;
    let providers = inventory
        .credential_providers
        .iter()
        .map(|p| {
            let mut fields = vec![
                ("name", s(&p.name.value)),
                (
                    "matchImages",
                    Doc::List(p.match_images.iter().map(|m| s(&m.value)).collect()),
                ),
                ("defaultCacheDuration", s(&p.default_cache_duration.value)),
                ("apiVersion", s(provider_api_version(p, kubelet))),
            ];
            if !p.args.is_empty() {
                fields.push(("args", Doc::List(p.args.iter().map(|a| s(a)).collect())));
            }
            if !p.env.is_empty() {
                fields.push((
                    "env",
                    Doc::List(
                        p.env
                            .iter()
                            .map(|(name, value)| {
                                Doc::Map(vec![("name", s(name)), ("value", s(value))])
                            })
                            .collect(),
                    ),
                ));
            }
            if let Some(t) = &p.token_attributes {
                let mut attrs = Vec::new();
                if let Some(a) = &t.service_account_token_audience {
                    attrs.push(("serviceAccountTokenAudience", s(&a.value)));
                }
                if let Some(r) = t.require_service_account {
                    attrs.push(("requireServiceAccount", Doc::Bool(r)));
                }
                if !t.required_service_account_annotation_keys.is_empty() {
                    attrs.push((
                        "requiredServiceAccountAnnotationKeys",
                        Doc::List(
                            t.required_service_account_annotation_keys
                                .iter()
                                .map(|k| s(&k.value))
                                .collect(),
                        ),
                    ));
                }
                if !t.optional_service_account_annotation_keys.is_empty() {
                    attrs.push((
                        "optionalServiceAccountAnnotationKeys",
                        Doc::List(
                            t.optional_service_account_annotation_keys
                                .iter()
                                .map(|k| s(&k.value))
                                .collect(),
                        ),
                    ));
                }
                if let Some(c) = &t.cache_type {
                    attrs.push(("cacheType", s(&c.value)));
                }
                fields.push(("tokenAttributes", Doc::Map(attrs)));
            }
            Doc::Map(fields)
        })
        .collect();
    let doc = Doc::Map(vec![
        ("apiVersion", s(config_api_version(kubelet))),
        ("kind", s("CredentialProviderConfig")),
        ("providers", Doc::List(providers)),
    ]);
    let mut out = String::new();
    if json {
        json_value(&doc, 0, &mut out);
        out.push('\n');
    } else {
        out.push_str(super::hosts_toml::MANAGED_NOTICE);
        out.push('\n');
        yaml_map_body(&doc, 0, &mut out);
    }
    out
}

/// Every string is written double-quoted with JSON escapes, which YAML reads the same way:
/// no value can turn into a number, a boolean or a null.
fn quoted(text: &str) -> String {
    let json = serde_json::Value::String(text.to_string()).to_string();
    // JSON leaves DEL, the C1 controls and U+FFFE/U+FFFF raw; YAML allows none of them in a
    // stream. `\uXXXX` means the same in both.
    json.chars()
        .map(|c| match u32::from(c) {
            0x7f..=0x9f | 0xfffe | 0xffff => format!("\\u{:04x}", u32::from(c)),
            _ => c.to_string(),
        })
        .collect()
}

fn yaml_map_body(doc: &Doc, indent: usize, out: &mut String) {
    let Doc::Map(fields) = doc else { return };
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 || indent == 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(key);
        out.push(':');
        yaml_value(value, indent, out);
    }
}

fn yaml_value(doc: &Doc, indent: usize, out: &mut String) {
    match doc {
        Doc::Str(text) => {
            out.push(' ');
            out.push_str(&quoted(text));
            out.push('\n');
        }
        Doc::Bool(b) => out.push_str(if *b { " true\n" } else { " false\n" }),
        Doc::List(items) if items.is_empty() => out.push_str(" []\n"),
        Doc::List(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str("- ");
                match item {
                    Doc::Map(_) => yaml_map_body(item, indent + 4, out),
                    Doc::Str(text) => {
                        out.push_str(&quoted(text));
                        out.push('\n');
                    }
                    Doc::Bool(b) => out.push_str(if *b { "true\n" } else { "false\n" }),
                    Doc::List(_) => yaml_value(item, indent + 4, out),
                }
            }
        }
        Doc::Map(fields) if fields.is_empty() => out.push_str(" {}\n"),
        Doc::Map(_) => {
            out.push('\n');
            out.push_str(&" ".repeat(indent + 2));
            yaml_map_body_continued(doc, indent + 2, out);
        }
    }
}

/// Like [`yaml_map_body`] when the caller already wrote the first line's indentation.
fn yaml_map_body_continued(doc: &Doc, indent: usize, out: &mut String) {
    let Doc::Map(fields) = doc else { return };
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(key);
        out.push(':');
        yaml_value(value, indent, out);
    }
}

fn json_value(doc: &Doc, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match doc {
        Doc::Str(text) => out.push_str(&quoted(text)),
        Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Doc::List(items) if items.is_empty() => out.push_str("[]"),
        Doc::Map(fields) if fields.is_empty() => out.push_str("{}"),
        Doc::List(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                json_value(item, indent + 2, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Doc::Map(fields) => {
            out.push_str("{\n");
            for (i, (key, value)) in fields.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                out.push_str(&quoted(key));
                out.push_str(": ");
                json_value(value, indent + 2, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
    }
}
