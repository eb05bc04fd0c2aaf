//! One registry's `hosts.toml`, written to containerd's rules (see the containerd reference):
//! explicit `[host."URL"]` tables in inventory order, each host's sub-tables right after it,
//! scheme always written, capabilities never empty, at least one `[host]` table.

use toml_edit::{Array, DocumentMut, Item, Table, Value, value};

use crate::effective::{Endpoint, RegistryModel};
use std::collections::BTreeSet;

use crate::inventory::{ClientCert, HeaderValue};
use crate::redact::FILE_HEADERS;
use crate::secrets::Secrets;

pub const MANAGED_NOTICE: &str =
    "# Managed by mirrorctl. Do not edit by hand: the next apply overwrites changes.";

/// Returns the file's text and whether it carries a secret.
/// `dir` is the node path of the registry's directory, where the CA files given as PEM
/// content are written.
pub(crate) fn render(
    model: &RegistryModel<'_>,
    dir: &str,
    registry_index: usize,
    secrets: &Secrets,
) -> (String, bool) {
    let registry = model.registry;
    let mut doc = DocumentMut::new();
    let mut secret = false;
    let mut from_files = BTreeSet::new();
    let mut notice = format!("{MANAGED_NOTICE}\n# Registry: {}\n", registry.name);

    match (&model.server, model.upstream()) {
        (Some(server), _) => {
            if server.mirror.is_some() {
                notice.push_str(
                    "# fallback: false: the last mirror is the server; the upstream is never contacted.\n",
                );
            } else {
                notice.push_str("# After the mirrors, containerd tries the server.\n");
            }
            doc.insert("server", value(server.url.written()));
            for (key, item) in settings(
                server,
                dir,
                registry_index,
                secrets,
                &mut secret,
                &mut from_files,
            ) {
                let item = match item {
                    Item::Table(table) => {
                        Item::Value(Value::InlineTable(table.into_inline_table()))
                    }
                    other => other,
                };
                doc.insert(&key, item);
            }
        }
        (None, Some(upstream)) => notice.push_str(&format!(
            "# After the mirrors, containerd tries the upstream: {}\n",
            upstream.url.written()
        )),
        (None, None) => {
            notice.push_str("# After the mirrors, containerd tries the image's own registry.\n")
        }
    }

    // With no [host] table left (a single mirror-only endpoint), a bare `[host]` still
    // satisfies containerd 1.6/1.7, which reject a file without one, and adds no endpoint.
    let mut hosts = Table::new();
    hosts.set_implicit(!model.hosts.is_empty());
    let mut position = 0isize;
    for endpoint in &model.hosts {
        let mut table = Table::new();
        table.set_position(Some(position));
        position += 1;
        for (key, item) in settings(
            endpoint,
            dir,
            registry_index,
            secrets,
            &mut secret,
            &mut from_files,
        ) {
            let item = match item {
                Item::Table(mut sub) => {
                    sub.set_position(Some(position));
                    position += 1;
                    Item::Table(sub)
                }
                other => other,
            };
            table.insert(&key, item);
        }
        hosts.insert(&endpoint.url.written(), Item::Table(table));
    }
    doc.insert("host", Item::Table(hosts));
    // Redaction reads this line: a header from a file is hidden whatever its name.
    if !from_files.is_empty() {
        let names: Vec<&str> = from_files.into_iter().collect();
        notice.push_str(&format!("{FILE_HEADERS}{}\n", names.join(", ")));
    }
    (format!("{notice}\n{doc}"), secret)
}

/// The keys of one endpoint, in a fixed order; `header` comes back as a table. An explicit
/// `server` has only what its URL implies. Header names whose values came from files join
/// `from_files`.
fn settings<'a>(
    endpoint: &Endpoint<'a>,
    dir: &str,
    registry_index: usize,
    secrets: &Secrets,
    secret: &mut bool,
    from_files: &mut BTreeSet<&'a str>,
) -> Vec<(String, Item)> {
    let mut out: Vec<(String, Item)> = Vec::new();
    let Some((index, mirror)) = endpoint.mirror else {
        if endpoint.override_path {
            out.push(("override_path".into(), value(true)));
        }
        return out;
    };
    let capabilities = endpoint.capabilities.iter().map(|c| c.name());
    out.push(("capabilities".into(), value(Array::from_iter(capabilities))));
    match mirror.ca.as_slice() {
        [] => {}
        [one] => out.push(("ca".into(), value(one.node_path(dir)))),
        many => out.push((
            "ca".into(),
            value(Array::from_iter(many.iter().map(|c| c.node_path(dir)))),
        )),
    }
    match mirror.client.as_slice() {
        [] => {}
        [ClientCert::Combined(one)] => out.push(("client".into(), value(one.value.as_str()))),
        many => {
            let mut array = Array::new();
            for client in many {
                match client {
                    ClientCert::Combined(file) => array.push(file.value.as_str()),
                    ClientCert::Pair { cert, key } => {
                        array.push(Array::from_iter([cert.value.as_str(), key.value.as_str()]))
                    }
                }
            }
            out.push(("client".into(), value(array)));
        }
    }
    // `skip_verify = false` is the default, yet any written TLS key makes containerd 1.7+ try
    // HTTPS first for an http:// host: it is written only when true.
    if endpoint.skip_verify {
        out.push(("skip_verify".into(), value(true)));
    }
    if endpoint.override_path {
        out.push(("override_path".into(), value(true)));
    }
    if let Some(timeout) = endpoint.dial_timeout {
        out.push(("dial_timeout".into(), value(timeout)));
    }
    let mut headers: Vec<(&str, Value)> = Vec::new();
    for (h, header) in mirror.headers.iter().enumerate() {
        let name = header.name.value.as_str();
        let values: Vec<&str> = header
            .values
            .iter()
            .enumerate()
            .map(|(v, value)| match value {
                HeaderValue::Inline(text) => text.as_str(),
                HeaderValue::File(_) => {
                    *secret = true;
                    from_files.insert(name);
                    secrets
                        .header_value(registry_index, index, h, v)
                        .unwrap_or_default()
                }
            })
            .collect();
        let v: Value = if header.list {
            Value::Array(Array::from_iter(values))
        } else {
            Value::from(values.first().copied().unwrap_or_default())
        };
        headers.push((name, v));
    }
    if let Some(authorization) = secrets.authorization(registry_index, index) {
        headers.push(("Authorization", Value::from(authorization)));
        *secret = true;
    }
    if !headers.is_empty() {
        headers.sort_by(|a, b| a.0.cmp(b.0));
        let mut table = Table::new();
        for (name, v) in headers {
            table.insert(name, Item::Value(v));
        }
        out.push(("header".into(), Item::Table(table)));
    }
    out
}
