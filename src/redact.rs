//! Secrets never reach an output: every text shown to a user (diff, JSON, render to stdout)
//! passes through here, and credential values become `<redacted sha256:…>`.

use crate::plan::sha256_hex;
use crate::render::FileKind;

/// Header names whose values are credentials in a hosts.toml.
const SECRET_KEYS: [&str; 2] = ["proxy-authorization", "authorization"];

/// The text with every credential value replaced by a short digest of it, so a change of
/// secret still shows as a changed line without showing either value.
pub fn redact(kind: FileKind, text: &str) -> String {
    match kind {
        FileKind::HostsToml => redact_toml(text),
        FileKind::CredentialProviderConfig
        | FileKind::ContainerdConfig
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

/// Replaces the string value of every `Authorization`-like key, in tables and inline tables.
fn redact_toml(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(key) = SECRET_KEYS
            .iter()
            .find(|k| lower.as_bytes()[i..].starts_with(k.as_bytes()))
        else {
            i += 1;
            continue;
        };
        // The key must stand alone: start of line, `{`, `,`, whitespace or a quote before it.
        let before_ok = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'{' | b',' | b'"' | b'\''
            );
        let mut j = i + key.len();
        if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
            j += 1;
        }
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if !before_ok || j >= bytes.len() || bytes[j] != b'=' {
            i += key.len();
            continue;
        }
        j += 1;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        let Some((start, end)) = string_span(bytes, j) else {
            i = j;
            continue;
        };
        out.push_str(&text[copied..start]);
        out.push('"');
        out.push_str(&placeholder(&text[start + 1..end - 1]));
        out.push('"');
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The byte span of a TOML basic or literal string starting at `at`, quotes included.
fn string_span(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let quote = *bytes.get(at)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut k = at + 1;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' if quote == b'"' => k += 2,
            b'\n' => return None,
            c if c == quote => return Some((at, k + 1)),
            _ => k += 1,
        }
    }
    None
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
