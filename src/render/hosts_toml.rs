//! One registry's `hosts.toml`, written to containerd's rules (see the containerd reference):
//! explicit `[host."URL"]` tables in inventory order, each host's sub-tables right after it,
//! scheme always written, capabilities never empty, at least one `[host]` table.

use toml_edit::{Array, DocumentMut, Item, Table, Value, value};

use crate::inventory::{Auth, ClientCert, Mirror, Registry};
use crate::secrets::Secrets;

pub const MANAGED_NOTICE: &str =
    "# Managed by mirrorctl. Do not edit by hand: the next apply overwrites changes.";

/// Returns the file's text and whether it carries a secret.
pub fn render(registry: &Registry, registry_index: usize, secrets: &Secrets) -> (String, bool) {
    let mut doc = DocumentMut::new();
    let mut secret = false;
    let mut mirrors: Vec<(usize, &Mirror)> = registry.mirrors.iter().enumerate().collect();
    let mut notice = format!("{MANAGED_NOTICE}\n# Registry: {}\n", registry.name);

    let last = mirrors.last().copied();
    if let (false, Some((index, last))) = (registry.fallback, last) {
        // Mirror-only: the last mirror becomes `server`, so the upstream is never contacted.
        // With a single mirror it stays a [host] as well: containerd 1.6 and 1.7 reject a
        // file without any [host] table.
        if mirrors.len() > 1 {
            mirrors.pop();
        }
        notice.push_str(
            "# fallback: false: the last mirror is the server; the upstream is never contacted.\n",
        );
        doc.insert("server", value(last.url.value.as_str()));
        let fields = settings(last, registry_index, index, secrets, &mut secret);
        for (key, item) in fields {
            let item = match item {
                Item::Table(table) => Item::Value(Value::InlineTable(table.into_inline_table())),
                other => other,
            };
            doc.insert(&key, item);
        }
    } else {
        match (&registry.server, registry.default_endpoint()) {
            (Some(server), _) => {
                doc.insert("server", value(server.value.as_str()));
                notice.push_str("# After the mirrors, containerd tries the server.\n");
            }
            (None, Some(endpoint)) => notice.push_str(&format!(
                "# After the mirrors, containerd tries the upstream: {endpoint}\n"
            )),
            (None, None) => {
                notice.push_str("# After the mirrors, containerd tries the image's own registry.\n")
            }
        }
    }

    let mut hosts = Table::new();
    hosts.set_implicit(true);
    let mut position = 0isize;
    for (index, mirror) in mirrors {
        let mut table = Table::new();
        table.set_position(Some(position));
        position += 1;
        for (key, item) in settings(mirror, registry_index, index, secrets, &mut secret) {
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
        hosts.insert(&mirror.url.value, Item::Table(table));
    }
    doc.insert("host", Item::Table(hosts));
    (format!("{notice}\n{doc}"), secret)
}

/// The keys of one endpoint, in a fixed order; `header` comes back as a table.
fn settings(
    mirror: &Mirror,
    registry_index: usize,
    index: usize,
    secrets: &Secrets,
    secret: &mut bool,
) -> Vec<(String, Item)> {
    let mut out: Vec<(String, Item)> = Vec::new();
    let capabilities: Vec<String> = match &mirror.capabilities {
        Some(caps) => caps.value.iter().map(|c| c.value.to_lowercase()).collect(),
        None => vec!["pull".into(), "resolve".into()],
    };
    out.push(("capabilities".into(), value(Array::from_iter(capabilities))));
    match mirror.ca.as_slice() {
        [] => {}
        [one] => out.push(("ca".into(), value(one.value.as_str()))),
        many => out.push((
            "ca".into(),
            value(Array::from_iter(many.iter().map(|c| c.value.as_str()))),
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
    if let Some(skip) = mirror.skip_verify {
        out.push(("skip_verify".into(), value(skip)));
    }
    if let Some(override_path) = mirror
        .override_path
        .or_else(|| infer_override_path(&mirror.url.value).then_some(true))
    {
        out.push(("override_path".into(), value(override_path)));
    }
    if let Some(timeout) = &mirror.dial_timeout {
        out.push(("dial_timeout".into(), value(timeout.value.as_str())));
    }
    let mut headers: Vec<(&str, Value)> = mirror
        .headers
        .iter()
        .map(|h| {
            let v: Value = if h.list {
                Value::Array(Array::from_iter(h.values.iter().map(String::as_str)))
            } else {
                Value::from(h.values.first().map_or("", String::as_str))
            };
            (h.name.value.as_str(), v)
        })
        .collect();
    if let Some(Auth::BasicFrom { .. }) = mirror.auth.as_deref()
        && let Some(basic) = secrets.basic_header(registry_index, index)
    {
        headers.push(("Authorization", Value::from(basic)));
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

/// containerd appends `/v2` unless `override_path` is set: a mirror URL with any other path
/// (an Artifactory or Nexus prefix) only works with `override_path = true`.
pub fn infer_override_path(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.trim_end_matches('/');
    !path.is_empty() && path != "/v2"
}
