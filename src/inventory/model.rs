//! The inventory as typed values, after strict decoding: what the renderer and the linters read.

use super::node_path::NodePath;
use super::yaml::Mark;
use crate::gates::KubeletFeatureGates;
use crate::version::Version;

/// A value and where it was written in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub mark: Mark,
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub version: u32,
    pub target: Target,
    pub paths: Paths,
    pub modes: Modes,
    /// In inventory order.
    pub registries: Vec<Registry>,
    pub credential_providers: Vec<CredentialProvider>,
    pub containerd: ContainerdSettings,
    /// mirrorctl itself as a credential provider: per-namespace mirror credentials.
    pub credential_plugin: Option<CredentialPlugin>,
}

/// `credentialPlugin`: the kubelet hands mirrorctl the pod's service-account token, and
/// mirrorctl answers with the credentials granted to that namespace (and service account).
#[derive(Debug, Clone)]
pub struct CredentialPlugin {
    pub mark: Mark,
    /// Provider name = file name of the executable in the kubelet's bin dir.
    pub name: Spanned<String>,
    pub audience: Spanned<String>,
    /// Where the mirrorctl binary lives on the node; the bin-dir entry execs it.
    pub binary: Spanned<NodePath>,
    /// The plugin's mapping (0600), outside every directory containerd and the kubelet read.
    pub mapping_file: Spanned<NodePath>,
    pub cache_duration: Spanned<String>,
    pub required_annotation_keys: Vec<Spanned<String>>,
    pub grants: Vec<Grant>,
}

/// Credentials for images of `registry`, for pods of `namespace` (and `service_account`).
#[derive(Debug, Clone)]
pub struct Grant {
    pub mark: Mark,
    /// A kubelet `matchImages` pattern naming the upstream registry (`docker.io`).
    pub registry: Spanned<String>,
    pub namespace: Spanned<String>,
    pub service_account: Option<Spanned<String>>,
    /// Service-account annotations the pod's account must carry, with these values.
    pub annotations: Vec<(String, String)>,
    pub username_file: Spanned<String>,
    pub password_file: Spanned<String>,
}

/// Whether mirrorctl sets `config_path` in containerd's own config.toml.
#[derive(Debug, Clone)]
pub struct ContainerdSettings {
    pub manage_config: bool,
    pub config_file: NodePath,
}

impl Default for ContainerdSettings {
    fn default() -> Self {
        ContainerdSettings {
            manage_config: false,
            config_file: default_path("/etc/containerd/config.toml"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub containerd: Version,
    pub kubelet: Version,
    /// `kubeletFeatureGates`: how the node's kubelet is started, where that changes what it accepts.
    pub kubelet_feature_gates: KubeletFeatureGates,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            containerd: Version::new(2, 1, 0),
            kubelet: Version::new(1, 34, 0),
            kubelet_feature_gates: KubeletFeatureGates::default(),
        }
    }
}

/// Node paths (absolute, as on the node; `--root` is prefixed only when reading or writing).
#[derive(Debug, Clone)]
pub struct Paths {
    pub certs_dir: NodePath,
    /// Checked like the others, yet still a `String`: the tests in `tests/` look its desired
    /// file up by it (`DesiredState::files` is keyed by `String`).
    pub credential_provider_config: String,
    pub credential_provider_bin_dir: NodePath,
    pub state_dir: NodePath,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            certs_dir: default_path("/etc/containerd/certs.d"),
            credential_provider_config: "/etc/kubernetes/credential-providers.yaml".into(),
            credential_provider_bin_dir: default_path(
                "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin",
            ),
            state_dir: default_path("/var/lib/mirrorctl"),
        }
    }
}

/// A default node path, which passes the one check like every other.
pub(crate) fn default_path(path: &str) -> NodePath {
    NodePath::parse(path).expect("the default node paths are absolute and normalized")
}

#[derive(Debug, Clone, Copy)]
pub struct Modes {
    pub hosts_toml: u32,
    pub credential_provider_config: u32,
}

impl Default for Modes {
    fn default() -> Self {
        Modes {
            hosts_toml: 0o644,
            credential_provider_config: 0o600,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Registry {
    /// As written in image references: `docker.io`, `reg.local:5000`, `[::1]:5000`, `*`.
    pub name: String,
    pub mark: Mark,
    pub mirrors: Vec<Mirror>,
    /// How many mirrors the inventory lists, decodable or not (avoids a second, cascading
    /// "no mirrors" problem when the only mirror was invalid).
    pub declared_mirrors: usize,
    pub fallback: bool,
    pub server: Option<Spanned<String>>,
}

impl Registry {
    /// The directory containerd reads for this registry under its `config_path`.
    pub fn dir_name(&self) -> String {
        registry_dir_name(&self.name)
    }
}

/// `host_port_` for a registry with a port (split at the LAST colon, so `[::1]:5000` gives
/// `[::1]_5000_`), the host otherwise, `_default` for `*`.
pub fn registry_dir_name(name: &str) -> String {
    if name == "*" {
        return "_default".into();
    }
    match name.rfind(':') {
        Some(i) if !name[i..].contains(']') => format!("{}_{}_", &name[..i], &name[i + 1..]),
        _ => name.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Mirror {
    pub url: Spanned<String>,
    pub mark: Mark,
    pub capabilities: Option<Spanned<Vec<Spanned<String>>>>,
    pub ca: Vec<Ca>,
    pub client: Vec<ClientCert>,
    pub skip_verify: Option<bool>,
    pub override_path: Option<bool>,
    pub headers: Vec<Header>,
    pub dial_timeout: Option<Spanned<String>>,
    pub auth: Option<Box<Auth>>,
}

/// One entry of a mirror's `ca`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ca {
    /// A CA file something else puts on the node.
    File(Spanned<String>),
    /// `{pem: "…"}`: certificates carried by the inventory, which mirrorctl writes into the
    /// registry's directory (see [`Ca::pem_file_name`]). Ends with a newline.
    Pem(Spanned<String>),
}

impl Ca {
    /// The mode of a CA file mirrorctl writes: certificates are public.
    pub const PEM_MODE: u32 = 0o644;

    /// The node path hosts.toml names for this CA; `registry_dir` is the node path of the
    /// registry's directory (where its hosts.toml lives).
    pub fn node_path(&self, registry_dir: &str) -> String {
        match self {
            Ca::File(file) => file.value.clone(),
            Ca::Pem(pem) => format!("{registry_dir}/{}", Ca::pem_file_name(&pem.value)),
        }
    }

    /// `ca-<first 16 hex digits of the content's sha256>.pem`: a changed PEM is a new file,
    /// written before the hosts.toml that names it, the old one pruned after. Never `.crt`,
    /// `.cert` or `.key`, the names containerd reads as docker-style certificates.
    pub fn pem_file_name(pem: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(pem.as_bytes());
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("ca-{hex}.pem")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCert {
    /// One PEM file holding certificate and key.
    Combined(Spanned<String>),
    Pair {
        cert: Spanned<String>,
        key: Spanned<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Header {
    pub name: Spanned<String>,
    pub values: Vec<HeaderValue>,
    /// Written as a list in the inventory (kept as a list in hosts.toml).
    pub list: bool,
}

/// One value of a header: written in the inventory, or read at apply time from a root-only
/// file (a secret: the hosts.toml carrying it is 0600 and every output shows a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Inline(String),
    File(Spanned<String>),
}

impl HeaderValue {
    pub fn inline(&self) -> Option<&str> {
        match self {
            HeaderValue::Inline(text) => Some(text),
            HeaderValue::File(_) => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    /// Credentials come from this kubelet credential provider.
    Provider(Spanned<String>),
    /// An `Authorization: Basic` header built at apply time from two root-only files.
    BasicFrom {
        username_file: Spanned<String>,
        password_file: Spanned<String>,
    },
    /// An `Authorization: Bearer` header whose token is read at apply time from a root-only file.
    BearerFrom { token_file: Spanned<String> },
}

#[derive(Debug, Clone)]
pub struct CredentialProvider {
    pub name: Spanned<String>,
    pub mark: Mark,
    pub match_images: Vec<Spanned<String>>,
    pub default_cache_duration: Spanned<String>,
    pub api_version: Option<Spanned<String>>,
    pub args: Vec<String>,
    /// Sorted by name.
    pub env: Vec<(String, String)>,
    pub token_attributes: Option<TokenAttributes>,
    /// Synthesized from `credentialPlugin` rather than written in `credentialProviders`.
    pub plugin: bool,
}

#[derive(Debug, Clone)]
pub struct TokenAttributes {
    pub mark: Mark,
    pub service_account_token_audience: Option<Spanned<String>>,
    pub require_service_account: Option<bool>,
    pub required_service_account_annotation_keys: Vec<Spanned<String>>,
    pub optional_service_account_annotation_keys: Vec<Spanned<String>>,
    pub cache_type: Option<Spanned<String>>,
}
