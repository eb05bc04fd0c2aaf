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
