//! Secrets never reach an output: every text shown to a user (diff, JSON, render to stdout)
//! passes through here, and credential values become `<redacted sha256:…>`. Also the one
//! definition of a credential-carrying header, which validation reads too: what the inventory
//! may not write inline is exactly what every output hides.

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::plan::sha256_hex;
use crate::render::FileKind;

/// Header (and config key) names that carry credentials, lowercase; compared
/// case-insensitively. `auth` is the base64 `user:password` of containerd's `registry.configs`.
const SECRET_NAMES: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "auth",
    "x-jfrog-art-api",
];

/// Parts that mark any other name as a credential: `X-Mirror-Token`, `X-Api-Key`,
/// `identitytoken`, `password`, `Cookie`.
const SECRET_PARTS: [&str; 8] = [
    "token", "secret", "password", "passwd", "api-key", "api_key", "apikey", "cookie",
];

/// Whether a header (or config key) of this name carries a credential.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_lowercase();
    SECRET_NAMES.contains(&lower.as_str()) || SECRET_PARTS.iter().any(|p| lower.contains(p))
}

/// Whether a value is a credential whatever the name of its header: `Basic …`, `Bearer …`.
pub fn is_credential_value(value: &str) -> bool {
    let value = value.trim_start().to_lowercase();
    value.starts_with("basic ") || value.starts_with("bearer ")
}

/// The text with every credential value replaced by a short digest of it, so a change of
/// secret still shows as a changed line without showing either value.
pub fn redact(kind: FileKind, text: &str) -> String {
    match kind {
        FileKind::HostsToml | FileKind::ContainerdConfig => redact_toml(text),
        FileKind::CredentialProviderConfig
        | FileKind::CaCertificate
        | FileKind::CredentialPluginMapping
        | FileKind::CredentialPluginExec => text.to_string(),
    }
}

pub fn has_secret(kind: FileKind, text: &str) -> bool {
    redact(kind, text) != text
}

pub fn placeholder(secret: &str) -> String {
    format!("<redacted sha256:{}>", &sha256_hex(secret.as_bytes())[..12])
}

/// Parses the text, so that a secret is found in whatever form TOML allows (dotted or quoted
/// or escaped keys, inline tables, arrays, multi-line and literal strings, any depth), and
/// replaces only the secret values: the rest stays as written, so a diff still shows what
/// changed. Text that does not parse cannot be searched reliably and is shown as a digest.
fn redact_toml(text: &str) -> String {
    let Ok(mut document) = text.parse::<DocumentMut>() else {
        return format!("{} (not valid TOML, so not shown)\n", placeholder(text));
    };
    let mut redacted = false;
    table(document.as_table_mut(), &mut redacted);
    if redacted {
        document.to_string()
    } else {
        text.to_string()
    }
}

fn table(table: &mut Table, redacted: &mut bool) {
    for (key, item) in table.iter_mut() {
        let secret = is_secret_header(key.get());
        match item {
            Item::None => {}
            Item::Value(v) => value(v, secret, redacted),
            Item::Table(t) => self::table(t, redacted),
            Item::ArrayOfTables(tables) => {
                for t in tables.iter_mut() {
                    self::table(t, redacted);
                }
            }
        }
    }
}

/// `secret`: the value belongs to a credential's key. It passes into arrays (one header with
/// several values) but not into tables, whose keys each say for themselves: a host table
/// keyed `https://token.example` holds no secret for its name.
fn value(v: &mut Value, secret: bool, redacted: &mut bool) {
    let shown = match &mut *v {
        Value::Array(array) => {
            for element in array.iter_mut() {
                value(element, secret, redacted);
            }
            return;
        }
        Value::InlineTable(inline) => {
            for (key, element) in inline.iter_mut() {
                value(element, is_secret_header(key.get()), redacted);
            }
            return;
        }
        Value::String(s) if secret || is_credential_value(s.value()) => placeholder(s.value()),
        Value::String(_) => return,
        scalar if secret => placeholder(&scalar.clone().decorated("", "").to_string()),
        _ => return,
    };
    let decor = v.decor().clone();
    *v = Value::from(shown);
    *v.decor_mut() = decor;
    *redacted = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tables_and_inline_tables() {
        let text = "header = { Authorization = \"Basic c2VjcmV0\" }\n[host.\"x\".header]\nX-Team = \"a\"\nauthorization = 'Bearer abc'\n";
        let out = redact(FileKind::HostsToml, text);
        assert!(!out.contains("c2VjcmV0"), "{out}");
        assert!(!out.contains("Bearer abc"), "{out}");
        assert!(out.contains("X-Team = \"a\""));
        assert_eq!(out.matches("<redacted sha256:").count(), 2);
    }
}
