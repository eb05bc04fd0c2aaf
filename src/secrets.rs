//! Secrets are never in the inventory: `auth.basicFrom` names root-only files that are read
//! here, at apply time, into values that only the renderer sees.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Problem, Severity};
use crate::fsx;
use crate::inventory::{Auth, Inventory, path::index, path::key};
use crate::lint::check_certificates;

/// Largest secret file accepted.
const MAX_SECRET_BYTES: u64 = 64 << 10;

/// The `Authorization` header value of each mirror with `auth.basicFrom`, keyed by
/// (registry index, mirror index) in inventory order.
#[derive(Clone, Default)]
pub struct Secrets {
    basic: HashMap<(usize, usize), String>,
    /// When true, values are placeholders: the files were not read.
    placeholder: bool,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("count", &self.basic.len())
            .finish_non_exhaustive()
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
        let mut basic = HashMap::new();
        for (r, registry) in inventory.registries.iter().enumerate() {
            for (m, mirror) in registry.mirrors.iter().enumerate() {
                let Some(Auth::BasicFrom {
                    username_file,
                    password_file,
                }) = mirror.auth.as_deref()
                else {
                    continue;
                };
                let field = key(
                    &key(
                        &index(&key(&key("registries", &registry.name), "mirrors"), m),
                        "auth",
                    ),
                    "basicFrom",
                );
                let user = read_secret(root, &username_file.value, &key(&field, "usernameFile"))?;
                let pass = read_secret(root, &password_file.value, &key(&field, "passwordFile"))?;
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
                basic.insert((r, m), format!("Basic {}", base64(&pair)));
            }
        }
        Ok(Secrets {
            basic,
            placeholder: false,
        })
    }

    /// Stand-ins that show where each secret would come from, for output that must not read them.
    pub fn placeholders(inventory: &Inventory) -> Self {
        let mut basic = HashMap::new();
        for (r, registry) in inventory.registries.iter().enumerate() {
            for (m, mirror) in registry.mirrors.iter().enumerate() {
                if let Some(Auth::BasicFrom { password_file, .. }) = mirror.auth.as_deref() {
                    basic.insert(
                        (r, m),
                        format!("Basic <read at apply time from {}>", password_file.value),
                    );
                }
            }
        }
        Secrets {
            basic,
            placeholder: true,
        }
    }

    pub fn basic_header(&self, registry: usize, mirror: usize) -> Option<&str> {
        self.basic.get(&(registry, mirror)).map(String::as_str)
    }

    pub fn is_placeholder(&self) -> bool {
        self.placeholder
    }
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
        return Err("holds a control character or more than one line".into());
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
