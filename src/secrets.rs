//! Secrets are never in the inventory: `auth.basicFrom`, `auth.bearerFrom` and `{file: …}`
//! header values name root-only files that are read here, at apply time, into values that only
//! the renderer sees.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Problem, Severity};
use crate::fsx;
use crate::inventory::{Auth, HeaderValue, Inventory, Mirror, path::index, path::key};
use crate::lint::check_certificates;
use crate::redact;

/// Largest secret file accepted.
const MAX_SECRET_BYTES: u64 = 64 << 10;

/// The secret values of each mirror, keyed by (registry index, mirror index) in inventory order.
#[derive(Clone, Default)]
pub struct Secrets {
    /// The `Authorization` header value of each mirror with `auth.basicFrom` or `auth.bearerFrom`.
    authorization: HashMap<(usize, usize), String>,
    /// Each `{file: …}` header value, keyed by (registry, mirror, header, value) indexes.
    headers: HashMap<(usize, usize, usize, usize), String>,
    /// When true, values are placeholders: the files were not read.
    placeholder: bool,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("count", &(self.authorization.len() + self.headers.len()))
            .finish_non_exhaustive()
    }
}

/// The field path of a mirror: `registries."docker.io".mirrors[0]`.
fn mirror_field(registry: &str, mirror: usize) -> String {
    index(&key(&key("registries", registry), "mirrors"), mirror)
}

/// The field path of a header's `{file: …}` value.
fn header_file_field(mirror: &str, name: &str, list: bool, value: usize) -> String {
    let header = key(&key(mirror, "headers"), name);
    if list {
        key(&index(&header, value), "file")
    } else {
        key(&header, "file")
    }
}

impl Secrets {
    /// Reads every secret file, below `root`, and checks the certificates and keys the
    /// inventory names (those that exist: see [`check_certificates`]), so that `apply`, `check`
    /// and `diff` refuse a hosts.toml naming one containerd cannot use. Errors name the field
    /// and file, never content.
    pub fn load(inventory: &Inventory, root: &Path) -> Result<Self, Error> {
        let problems: Vec<Problem> = check_certificates(inventory, root, None)
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        if !problems.is_empty() {
            return Err(Error::Certificates { problems });
        }
        let mut secrets = Secrets::default();
        for (r, registry) in inventory.registries.iter().enumerate() {
            for (m, mirror) in registry.mirrors.iter().enumerate() {
                let field = mirror_field(&registry.name, m);
                secrets.load_headers(root, mirror, &field, (r, m))?;
                let value = match mirror.auth.as_deref() {
                    Some(Auth::BasicFrom {
                        username_file,
                        password_file,
                    }) => {
                        let field = key(&key(&field, "auth"), "basicFrom");
                        let user =
                            read_secret(root, &username_file.value, &key(&field, "usernameFile"))?;
                        let pass =
                            read_secret(root, &password_file.value, &key(&field, "passwordFile"))?;
                        if user.contains(':') {
                            return Err(Error::Secret {
                                field: key(&field, "usernameFile"),
                                path: fsx::under_root(root, &username_file.value),
                                reason: "a username for basic auth may not contain `:`".into(),
                            });
                        }
                        let mut pair = user.into_bytes();
                        pair.push(b':');
                        pair.extend_from_slice(pass.as_bytes());
                        format!("Basic {}", base64(&pair))
                    }
                    Some(Auth::BearerFrom { token_file }) => {
                        let field = key(&key(&key(&field, "auth"), "bearerFrom"), "tokenFile");
                        format!(
                            "Bearer {}",
                            read_header_value(root, &token_file.value, &field)?
                        )
                    }
                    Some(Auth::Provider(_)) | None => continue,
                };
                secrets.authorization.insert((r, m), value);
            }
        }
        Ok(secrets)
    }

    fn load_headers(
        &mut self,
        root: &Path,
        mirror: &Mirror,
        field: &str,
        (r, m): (usize, usize),
    ) -> Result<(), Error> {
        for (h, header) in mirror.headers.iter().enumerate() {
            for (v, value) in header.values.iter().enumerate() {
                if let HeaderValue::File(file) = value {
                    let field = header_file_field(field, &header.name.value, header.list, v);
                    let text = read_header_value(root, &file.value, &field)?;
                    self.headers.insert((r, m, h, v), text);
                }
            }
        }
        Ok(())
    }

    /// Stand-ins for output that reads no secret file (`render` to stdout): each value is
    /// `<secret not read: FILE>`, which every output shows as it is, never as a digest. Says
    /// so on stderr, once, when there is any.
    pub fn placeholders(inventory: &Inventory) -> Self {
        let secrets = Self::unread(inventory);
        let count = secrets.authorization.len() + secrets.headers.len();
        if count > 0 {
            // A message nobody reads (stderr closed) changes nothing.
            let _ = writeln!(
                std::io::stderr().lock(),
                "note: render reads no secret file: {count} secret value{} shown as `<secret not read: FILE>`; `mirrorctl diff` reads them and shows their digests",
                if count == 1 { " is" } else { "s are" }
            );
        }
        secrets
    }

    /// [`Secrets::placeholders`] without the note on stderr.
    pub fn unread(inventory: &Inventory) -> Self {
        let mut secrets = Secrets {
            placeholder: true,
            ..Secrets::default()
        };
        for (r, registry) in inventory.registries.iter().enumerate() {
            for (m, mirror) in registry.mirrors.iter().enumerate() {
                for (h, header) in mirror.headers.iter().enumerate() {
                    for (v, value) in header.values.iter().enumerate() {
                        if let HeaderValue::File(file) = value {
                            secrets
                                .headers
                                .insert((r, m, h, v), redact::unread(&file.value));
                        }
                    }
                }
                let value = match mirror.auth.as_deref() {
                    Some(Auth::BasicFrom {
                        username_file,
                        password_file,
                    }) => format!(
                        "Basic {}",
                        redact::unread(&format!(
                            "{} and {}",
                            username_file.value, password_file.value
                        ))
                    ),
                    Some(Auth::BearerFrom { token_file }) => {
                        format!("Bearer {}", redact::unread(&token_file.value))
                    }
                    Some(Auth::Provider(_)) | None => continue,
                };
                secrets.authorization.insert((r, m), value);
            }
        }
        secrets
    }

    /// The `Authorization` value `auth.basicFrom` or `auth.bearerFrom` gives this mirror.
    pub fn authorization(&self, registry: usize, mirror: usize) -> Option<&str> {
        self.authorization
            .get(&(registry, mirror))
            .map(String::as_str)
    }

    /// The value read for a header's `{file: …}` value (indexes in the mirror's `headers` and
    /// that header's values).
    pub fn header_value(
        &self,
        registry: usize,
        mirror: usize,
        header: usize,
        value: usize,
    ) -> Option<&str> {
        self.headers
            .get(&(registry, mirror, header, value))
            .map(String::as_str)
    }

    pub fn is_placeholder(&self) -> bool {
        self.placeholder
    }
}

/// A secret that becomes a header value as it is: a bearer token, a `{file: …}` header.
/// Besides a secret file's rules, HTTP drops whitespace at either end, so it is refused.
fn read_header_value(root: &Path, node_path: &str, field: &str) -> Result<String, Error> {
    let value = read_secret(root, node_path, field)?;
    if value.trim_matches([' ', '\t']) != value {
        return Err(Error::Secret {
            field: field.to_string(),
            path: fsx::under_root(root, node_path),
            reason: "the file's value begins or ends with whitespace, which HTTP drops from a header value".into(),
        });
    }
    Ok(value)
}

fn read_secret(root: &Path, node_path: &str, field: &str) -> Result<String, Error> {
    let path = fsx::under_root(root, node_path);
    read_secret_file(&path).map_err(|reason| Error::Secret {
        field: field.to_string(),
        path: path.clone(),
        reason: format!("the file {reason}"),
    })
}

/// The one-line value of a secret file (a trailing newline is not part of it). `Err` says
/// what is wrong with the file, as a phrase that follows "the file": never its content.
pub fn read_secret_file(path: &Path) -> Result<String, String> {
    let bytes =
        fsx::read_limited(path, MAX_SECRET_BYTES).map_err(|e| format!("cannot be read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    let value = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if value.is_empty() {
        return Err("is empty".into());
    }
    if value.chars().any(|c| c.is_control()) {
        return Err("holds a control character (a NUL, a tab) or more than one line".into());
    }
    if redact::is_unread(value) {
        return Err("holds mirrorctl's placeholder for a secret not read".into());
    }
    Ok(value.to_string())
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP basic auth uses.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }
}
