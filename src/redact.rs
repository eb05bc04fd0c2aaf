//! Secrets never reach an output: every text shown to a user (diff, JSON, render to stdout)
//! passes through here, and credential values become `<redacted sha256:…>`. Also the one
//! definition of a credential-carrying header, which validation reads too: what the inventory
//! may not write inline is exactly what every output hides. A header whose value came from a
//! file is named in the file's own opening comments ([`FILE_HEADERS`]), so it is hidden
//! whatever its name, in the bytes on disk as in those to be written.

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

/// The opening comment of a hosts.toml that names the headers whose values were read from
/// files, followed by those names separated by ", ".
pub const FILE_HEADERS: &str = "# Header values read from files (redacted in every output): ";

/// What a secret not read (`render` to stdout) is shown as; never a digest.
const UNREAD: &str = "<secret not read: ";

/// The stand-in for a secret read from `source` (a file, or two).
pub fn unread(source: &str) -> String {
    format!("{UNREAD}{source}>")
}

/// Whether a value holds the stand-in of [`unread`]; a secret file holding it is refused, so
/// such a value is never a secret.
pub(crate) fn is_unread(value: &str) -> bool {
    value.contains(UNREAD)
}

/// Whether a header (or config key) of this name carries a credential.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let lower = name.to_lowercase();
    SECRET_NAMES.contains(&lower.as_str()) || SECRET_PARTS.iter().any(|p| lower.contains(p))
}

/// Whether a value is a credential whatever the name of its header: `Basic …`, `Bearer …`.
pub(crate) fn is_credential_value(value: &str) -> bool {
    let value = value.trim_start().to_lowercase();
    value.starts_with("basic ") || value.starts_with("bearer ")
}

/// The text with every credential value replaced by a short digest of it, so a change of
/// secret still shows as a changed line without showing either value.
pub(crate) fn redact(kind: FileKind, text: &str) -> String {
    match kind {
        FileKind::HostsToml | FileKind::ContainerdConfig => redact_toml(text),
        FileKind::CredentialProviderConfig
        | FileKind::CaCertificate
        | FileKind::CredentialPluginMapping
        | FileKind::CredentialPluginExec => text.to_string(),
    }
}

pub(crate) fn has_secret(kind: FileKind, text: &str) -> bool {
    redact(kind, text) != text
}

pub(crate) fn placeholder(secret: &str) -> String {
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
    let from_files = file_headers(text);
    let mut redacted = false;
    table(document.as_table_mut(), &from_files, &mut redacted);
    if redacted {
        document.to_string()
    } else {
        text.to_string()
    }
}

/// The lowercase names [`FILE_HEADERS`] lists in the file's opening comments.
fn file_headers(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| line.starts_with('#'))
        .filter_map(|line| line.strip_prefix(FILE_HEADERS))
        .flat_map(|names| names.split(", "))
        .map(|name| name.trim().to_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

fn table(table: &mut Table, from_files: &[String], redacted: &mut bool) {
    for (key, item) in table.iter_mut() {
        let name = key.get();
        let secret = is_secret_header(name) || from_files.contains(&name.to_lowercase());
        match item {
            Item::None => {}
            Item::Value(v) => value(v, secret, from_files, redacted),
            Item::Table(t) => self::table(t, from_files, redacted),
            Item::ArrayOfTables(tables) => {
                for t in tables.iter_mut() {
                    self::table(t, from_files, redacted);
                }
            }
        }
    }
}

/// `secret`: the value belongs to a credential's key. It passes into arrays (one header with
/// several values) but not into tables, whose keys each say for themselves: a host table
/// keyed `https://token.example` holds no secret for its name.
fn value(v: &mut Value, secret: bool, from_files: &[String], redacted: &mut bool) {
    let shown = match &mut *v {
        Value::Array(array) => {
            for element in array.iter_mut() {
                value(element, secret, from_files, redacted);
            }
            return;
        }
        Value::InlineTable(inline) => {
            for (key, element) in inline.iter_mut() {
                let name = key.get();
                let secret = is_secret_header(name) || from_files.contains(&name.to_lowercase());
                value(element, secret, from_files, redacted);
            }
            return;
        }
        // A stand-in for a secret not read is shown as it is: it holds no secret.
        Value::String(s) if shown_unread(s.value()) => return,
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

/// `<secret not read: …>`, alone or after an auth scheme.
fn shown_unread(value: &str) -> bool {
    let bare = ["Basic ", "Bearer "]
        .iter()
        .find_map(|scheme| value.strip_prefix(scheme))
        .unwrap_or(value);
    bare.starts_with(UNREAD) && bare.ends_with('>')
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

    #[test]
    fn redacts_headers_the_file_says_were_read_from_files() {
        let text = format!(
            "# Managed\n{FILE_HEADERS}X-Tenant-Key, X-Other\n\n[host.\"https://m\".header]\nX-Team = \"a\"\nx-tenant-key = \"hunter2\"\nX-Other = [\"one\", \"two\"]\n"
        );
        let out = redact(FileKind::HostsToml, &text);
        assert!(
            !out.contains("hunter2") && !out.contains("\"one\""),
            "{out}"
        );
        assert!(out.contains("X-Team = \"a\""), "{out}");
        assert_eq!(out.matches("<redacted sha256:").count(), 3, "{out}");
    }

    #[test]
    fn shows_secrets_not_read_as_they_are() {
        let text = format!(
            "[host.\"https://m\".header]\nAuthorization = \"Bearer {}\"\n",
            unread("/etc/token")
        );
        assert_eq!(redact(FileKind::HostsToml, &text), text);
    }
}
