//! `mirrorctl import FORMAT SOURCE`: the mirrors a node already has (k3s/RKE2, Talos,
//! Kubespray, containerd's legacy config.toml, a certs.d tree) as an inventory that sends every
//! pull to the same endpoints, in the same order, with the same TLS and credentials.
//!
//! Each format's reader yields an [`Imported`]; one writer turns it into inventory YAML. What a
//! source says that the inventory cannot is never dropped silently: it is a warning on stderr
//! and a `# not imported: …` comment beside the registry it concerns.

mod certs_d;
mod containerd_config;
mod error;
mod k3s;
mod kubespray;
mod secret_file;
mod secrets_dir;
mod talos;
#[cfg(test)]
mod testing;
mod writer;
mod yaml_source;

use std::path::Path;

use crate::error::Error;

pub(crate) use secrets_dir::write_secrets;
pub(crate) use writer::{
    DEFAULT_SECRETS_DIR, DEFAULT_TARGET_CONTAINERD, secret_path, to_inventory, warning_text,
};

/// The source formats `mirrorctl import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// k3s or RKE2 `registries.yaml`.
    K3s,
    /// A Talos machine config (`machine.registries`).
    Talos,
    /// A Kubespray group_vars file (`containerd_registries_mirrors`).
    Kubespray,
    /// containerd's config.toml with the legacy `registry.mirrors` / `registry.configs`.
    ContainerdConfig,
    /// A directory of `<host>/hosts.toml` files (containerd's `config_path`).
    CertsD,
}

/// What the source file cannot say about the node it configures.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NodeFacts {
    /// k3s/RKE2 started with `--disable-default-registry-endpoint`.
    pub(crate) k3s_default_endpoint_disabled: bool,
    /// containerd 2.2 or later: a host with no `capabilities` also has `referrers`.
    pub(crate) referrers: bool,
}

/// Reads `source` as `format`: one line per format, so a new reader is a one-line change.
pub(crate) fn read(format: Format, source: &Path, node: NodeFacts) -> Result<Imported, Error> {
    match format {
        Format::K3s => k3s::read(source, node.k3s_default_endpoint_disabled),
        Format::Talos => from_bytes(source, talos::read),
        Format::Kubespray => from_bytes(source, kubespray::read),
        Format::ContainerdConfig => from_bytes(source, containerd_config::read),
        Format::CertsD => certs_d::read(source, node.referrers),
    }
}

/// A reader of one file's bytes, run on `source` as [`read_text`] reads it.
fn from_bytes(
    source: &Path,
    reader: fn(&str, &[u8]) -> Result<Imported, error::ImportError>,
) -> Result<Imported, Error> {
    let text = read_text(source)?;
    reader(&source.display().to_string(), text.as_bytes())
        .map_err(|e| Error::Partial(e.to_string()))
}

/// At most this many bytes of one source file are read: a bigger one is not a node's config.
pub(crate) const MAX_SOURCE_BYTES: u64 = 4 << 20;

/// Reads one source file as UTF-8 text, refusing symlinks and oversized files, naming the file.
pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io("read", path, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::Partial(format!(
            "{}: is a symlink; import reads only regular files",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(Error::Partial(format!(
            "{}: is not a regular file",
            path.display()
        )));
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(Error::Partial(format!(
            "{}: is {} bytes, more than the {MAX_SOURCE_BYTES} a source may have",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::Partial(format!("{}: is not UTF-8 text", path.display())))
}

impl ImportWarning {
    pub(crate) fn new(line: Option<usize>, message: impl Into<String>) -> Self {
        ImportWarning {
            line,
            message: message.into(),
        }
    }
}

/// What a reader found in its source, in source order.
#[derive(Debug, Default)]
pub(crate) struct Imported {
    pub(crate) registries: Vec<ImportedRegistry>,
    /// Problems that concern no single registry (an unreadable entry, an unknown top-level key).
    pub(crate) warnings: Vec<ImportWarning>,
    /// Inline credentials of the source: written into `--secrets-dir`, never printed.
    pub(crate) secrets: Vec<Secret>,
}

/// One registry as the inventory will hold it.
#[derive(Debug)]
pub(crate) struct ImportedRegistry {
    /// As in image references: `docker.io`, `reg:5000`, `[::1]:5000`; `*` for every other one.
    pub(crate) name: String,
    /// Where it came from, for the comment above it: `registries.yaml:4 mirrors."docker.io"`.
    pub(crate) origin: String,
    pub(crate) mirrors: Vec<ImportedMirror>,
    /// `false`: the source never contacts the registry's own endpoint after the mirrors.
    pub(crate) fallback: bool,
    /// An explicit last endpoint other than the registry's own (`server` in the inventory).
    pub(crate) server: Option<String>,
    /// What the source says here that the inventory cannot: each a warning and a comment.
    pub(crate) not_imported: Vec<ImportWarning>,
}

/// One mirror endpoint, with the settings the inventory has fields for.
#[derive(Debug, Default)]
pub(crate) struct ImportedMirror {
    pub(crate) url: String,
    /// `None`: the inventory's default (pull, resolve).
    pub(crate) capabilities: Option<Vec<String>>,
    pub(crate) ca: Vec<CaSource>,
    /// Client certificates: a combined PEM file (`key` `None`) or a cert and key pair.
    pub(crate) client: Vec<(String, Option<String>)>,
    pub(crate) skip_verify: Option<bool>,
    pub(crate) override_path: Option<bool>,
    /// Header name and its values (several for a list).
    pub(crate) headers: Vec<ImportedHeader>,
    pub(crate) auth: Option<ImportedAuth>,
    /// `dialTimeout`, a Go duration (`5s`).
    pub(crate) dial_timeout: Option<String>,
}

/// One header of a mirror.
#[derive(Debug)]
pub(crate) struct ImportedHeader {
    pub(crate) name: String,
    pub(crate) values: Vec<HeaderSource>,
    /// Written as a list in the source (a list of one stays a list).
    pub(crate) list: bool,
}

/// One value of a header: as written, or a credential moved into a secret file.
#[derive(Debug)]
pub(crate) enum HeaderSource {
    Inline(String),
    /// A [`Secret`]'s `file_name`: the inventory reads it with `{file: …}`.
    Secret(String),
}

#[derive(Debug)]
pub(crate) enum CaSource {
    /// A CA file on the node.
    Path(String),
    /// CA content (Talos carries it base64-encoded): `ca: {pem: …}`.
    #[allow(dead_code, reason = "the Talos reader yields it")]
    Pem(String),
}

/// Credentials by reference to root-only files, never by value. Each name is a [`Secret`]'s
/// `file_name` (the writer puts the secrets directory in front) or, when no `Secret` has that
/// name, a node path the source already named.
#[derive(Debug)]
pub(crate) enum ImportedAuth {
    Basic {
        username_file: String,
        password_file: String,
    },
    Bearer {
        token_file: String,
    },
}

/// A credential the source held inline, to be written into `file_name` under `--secrets-dir`.
pub(crate) struct Secret {
    /// The file name under the secrets directory (no directory part).
    pub(crate) file_name: String,
    /// Which registry and field it belongs to, for the stderr list: `docker.io auth.password`.
    pub(crate) belongs_to: String,
    pub(crate) value: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("file_name", &self.file_name)
            .field("belongs_to", &self.belongs_to)
            .finish_non_exhaustive()
    }
}

/// Something the source says that the inventory cannot, with the source's line where known.
#[derive(Debug, Clone)]
pub(crate) struct ImportWarning {
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}
