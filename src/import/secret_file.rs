//! The file names inline credentials get under `--secrets-dir`: derived from the registry or
//! host and the field, so that the same source always yields the same names.

use super::Secret;

/// Collects a source's inline credentials, naming each file `<owner>-<field>` with the owner
/// reduced to file-name characters, and a `-2`, `-3`… suffix when two owners reduce alike.
#[derive(Debug, Default)]
pub(crate) struct SecretFiles {
    secrets: Vec<Secret>,
}

impl SecretFiles {
    /// Records `value` and returns the bare file name (no directory) the inventory refers to.
    pub(crate) fn add(
        &mut self,
        owner: &str,
        field: &str,
        belongs_to: String,
        value: String,
    ) -> String {
        let stem = format!("{}-{field}", file_name_part(owner));
        let mut file_name = stem.clone();
        let mut n = 1;
        while self.secrets.iter().any(|s| s.file_name == file_name) {
            n += 1;
            file_name = format!("{stem}-{n}");
        }
        self.secrets.push(Secret {
            file_name: file_name.clone(),
            belongs_to,
            value,
        });
        file_name
    }

    /// The two files of a `user:password` credential of `host`: (username file, password file).
    pub(crate) fn add_basic(&mut self, host: &str, user: String, pass: String) -> (String, String) {
        (
            self.add(host, "username", format!("{host} auth.username"), user),
            self.add(host, "password", format!("{host} auth.password"), pass),
        )
    }

    pub(crate) fn into_vec(self) -> Vec<Secret> {
        self.secrets
    }
}

/// `[::1]:5000` → `__1_5000`, `reg.example:5000` → `reg.example_5000`, `*` → `_`: only
/// characters that are safe in a file name on every system, never `/`, never a leading `.`.
fn file_name_part(owner: &str) -> String {
    let mut out: String = owner
        .chars()
        .filter(|c| !matches!(c, '[' | ']'))
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_safe_and_unique() {
        let mut files = SecretFiles::default();
        assert_eq!(
            files.add("[::1]:5000", "password", String::new(), String::new()),
            "__1_5000-password"
        );
        assert_eq!(
            files.add("reg:5000", "username", String::new(), String::new()),
            "reg_5000-username"
        );
        assert_eq!(
            files.add("reg_5000", "username", String::new(), String::new()),
            "reg_5000-username-2"
        );
        assert_eq!(
            files.add("../x", "token", String::new(), String::new()),
            "_.._x-token"
        );
        assert_eq!(
            files.add("*", "token", String::new(), String::new()),
            "_-token"
        );
    }
}

/// A field's text and its line in the source.
pub(crate) type Located = Option<(String, usize)>;

/// The inline credential containerd's CRI plugin uses (`ParseAuth`): username and password
/// first, then an identity token, then `auth` (base64 of `user:password`).
#[derive(Debug)]
pub(crate) enum InlineAuth {
    Basic {
        user: String,
        pass: String,
    },
    /// An identity token, which the inventory has no field for (its line).
    IdentityToken(usize),
    /// An `auth` that is not base64 of `user:password` (its line).
    BadAuth(usize),
    None,
}

pub(crate) fn parse_auth(
    username: Located,
    password: Located,
    auth: Located,
    token: Located,
) -> InlineAuth {
    if let Some((user, _)) = username {
        return InlineAuth::Basic {
            user,
            pass: password.map(|p| p.0).unwrap_or_default(),
        };
    }
    if let Some((_, line)) = token {
        return InlineAuth::IdentityToken(line);
    }
    let Some((auth, line)) = auth else {
        return InlineAuth::None;
    };
    let decoded = crate::credential_plugin::base64url_decode(auth.trim())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|text| text.split_once(':')) {
        Some((user, pass)) => InlineAuth::Basic {
            user: user.to_owned(),
            pass: pass.to_owned(),
        },
        None => InlineAuth::BadAuth(line),
    }
}
