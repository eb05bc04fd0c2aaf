//! Node paths: where a file or directory lives on the node, checked once, when the inventory is
//! decoded, so that every later reader holds a path that passed the check.

use camino::Utf8PathBuf;
use std::fmt;
use std::path::{Path, PathBuf};

/// An absolute, normalized UTF-8 path as on the node; `--root` is joined only when reading or
/// writing (`under`). UTF-8 because it is written into TOML and YAML. Only
/// `NodePath::parse` makes one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodePath(Utf8PathBuf);

impl NodePath {
    /// The one check of a node path: absolute, no control character, no `.`, `..` or empty
    /// component (a trailing `/` is allowed, and kept).
    pub(crate) fn parse(path: &str) -> Result<NodePath, String> {
        if !path.starts_with('/') {
            return Err(format!("`{path}` is not an absolute path"));
        }
        if path.chars().any(|c| c.is_control()) {
            return Err("the path contains a control character".into());
        }
        if path
            .trim_end_matches('/')
            .split('/')
            .skip(1)
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(format!(
                "`{path}` is not a normalized path (no `.`, `..` or empty components)"
            ));
        }
        Ok(NodePath(path.into()))
    }

    /// [`NodePath::parse`] of a directory, without its trailing slashes (`/` stays `/`).
    pub(crate) fn parse_dir(path: &str) -> Result<NodePath, String> {
        NodePath::parse(path)?;
        let trimmed = path.trim_end_matches('/');
        NodePath::parse(if trimmed.is_empty() { "/" } else { trimmed })
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The node path of `name` in this directory.
    pub(crate) fn child(&self, name: &str) -> String {
        format!("{}/{name}", self.as_str().trim_end_matches('/'))
    }

    /// Where this node path is under `root` (`/` for the node itself).
    pub(crate) fn under(&self, root: &Path) -> PathBuf {
        root.join(self.as_str().trim_start_matches('/'))
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::NodePath;
    use std::path::Path;

    #[test]
    fn only_absolute_normalized_paths_pass() {
        for bad in ["etc/x", "/etc/../x", "/etc//x", "/etc/./x", "/etc/\nx", ""] {
            assert!(NodePath::parse(bad).is_err(), "{bad:?} passed");
        }
        assert_eq!(
            NodePath::parse("/etc/x/").map(|p| p.to_string()),
            Ok("/etc/x/".into())
        );
        assert_eq!(
            NodePath::parse_dir("/etc/x//").map(|p| p.to_string()),
            Ok("/etc/x".into())
        );
        assert_eq!(
            NodePath::parse_dir("/").map(|p| p.to_string()),
            Ok("/".into())
        );
    }

    #[test]
    fn under_joins_the_root() {
        let path = NodePath::parse("/etc/containerd/config.toml").expect("valid");
        assert_eq!(
            path.under(Path::new("/r")),
            Path::new("/r/etc/containerd/config.toml")
        );
        assert_eq!(
            path.under(Path::new("/")),
            Path::new("/etc/containerd/config.toml")
        );
    }

    #[test]
    fn child_names_a_file_in_the_directory() {
        let dir = |d| NodePath::parse_dir(d).expect("valid");
        assert_eq!(
            dir("/etc/containerd/certs.d/").child("docker.io"),
            "/etc/containerd/certs.d/docker.io"
        );
        assert_eq!(dir("/").child("docker.io"), "/docker.io");
    }
}
