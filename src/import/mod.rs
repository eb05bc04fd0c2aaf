//! `mirrorctl import FORMAT SOURCE`: the mirrors a node already has (k3s/RKE2, Talos,
//! Kubespray, containerd's legacy config.toml, a certs.d tree) as an inventory that sends every
//! pull to the same endpoints, in the same order, with the same TLS and credentials.
//!
//! Each format's reader yields an [`Imported`]; one writer turns it into inventory YAML. What a
//! source says that the inventory cannot is never dropped silently: it is a warning on stderr
//! and a `# not imported: …` comment beside the registry it concerns.

mod containerd_config;
mod error;
mod kubespray;
mod secret_file;
mod talos;
#[cfg(test)]
mod testing;
mod yaml_source;

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
    pub(crate) headers: Vec<(String, Vec<String>)>,
    pub(crate) auth: Option<ImportedAuth>,
}

#[derive(Debug)]
pub(crate) enum CaSource {
    /// A CA file on the node.
    Path(String),
    /// CA content (Talos carries it base64-encoded): `ca: {pem: …}`.
    Pem(String),
}

/// Credentials by reference to root-only files, never by value.
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
