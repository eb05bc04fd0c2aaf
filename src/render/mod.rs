//! Pure rendering: inventory (plus secrets read beforehand) in, [`DesiredState`] out.
//! No I/O here; same inventory, same bytes.

pub mod containerd_config;
pub mod credential_provider;
pub mod hosts_toml;

use std::collections::BTreeMap;

use crate::effective::RegistryModel;
use crate::inventory::{Ca, Inventory};
use crate::secrets::Secrets;

/// What a file is for; decides its restart hint and how its secrets are redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    HostsToml,
    /// A CA certificate given as `ca: {pem: …}`, in its registry's directory: the hosts.toml
    /// there names it, so it is written before that file and deleted after it.
    CaCertificate,
    CredentialProviderConfig,
    /// containerd's own config.toml: edited in place (only `config_path`), never owned or pruned.
    ContainerdConfig,
    /// The credential plugin's mapping (read on every request: no restart).
    CredentialPluginMapping,
    /// The executable the kubelet runs from its bin dir (run on every pull: no restart).
    CredentialPluginExec,
}

/// A service that must be restarted to see a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Containerd,
    Kubelet,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Containerd => "containerd",
            Service::Kubelet => "kubelet",
        }
    }
}

impl FileKind {
    const ALL: [FileKind; 6] = [
        FileKind::HostsToml,
        FileKind::CaCertificate,
        FileKind::CredentialProviderConfig,
        FileKind::ContainerdConfig,
        FileKind::CredentialPluginMapping,
        FileKind::CredentialPluginExec,
    ];

    /// The name used in the JSON report and the state file.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::HostsToml => "hostsToml",
            FileKind::CaCertificate => "caCertificate",
            FileKind::CredentialProviderConfig => "credentialProviderConfig",
            FileKind::ContainerdConfig => "containerdConfig",
            FileKind::CredentialPluginMapping => "credentialPluginMapping",
            FileKind::CredentialPluginExec => "credentialPluginExec",
        }
    }

    pub fn from_name(name: &str) -> Option<FileKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// hosts.toml (and the CA files it names) is read on every pull; the kubelet reads its config once at start.
    pub fn restart(self) -> Option<Service> {
        match self {
            FileKind::HostsToml
            | FileKind::CaCertificate
            | FileKind::CredentialPluginMapping
            | FileKind::CredentialPluginExec => None,
            FileKind::CredentialProviderConfig => Some(Service::Kubelet),
            FileKind::ContainerdConfig => Some(Service::Containerd),
        }
    }

    /// mirrorctl records (and may prune) the files it creates; config.toml is only edited.
    pub fn owned(self) -> bool {
        self != FileKind::ContainerdConfig
    }

    /// Files another file names must exist before it; lower ranks are written first
    /// and deleted last.
    pub fn rank(self) -> u8 {
        match self {
            // The provider config names the plugin: the plugin's files come first. A
            // hosts.toml names its CA files.
            FileKind::CredentialPluginMapping
            | FileKind::CredentialPluginExec
            | FileKind::CaCertificate => 0,
            FileKind::HostsToml
            | FileKind::CredentialProviderConfig
            | FileKind::ContainerdConfig => 1,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct DesiredFile {
    pub contents: Vec<u8>,
    pub mode: u32,
    /// Carries a credential: written 0600 and redacted in every output.
    pub secret: bool,
    pub kind: FileKind,
}

impl std::fmt::Debug for DesiredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredFile")
            .field("len", &self.contents.len())
            .field("mode", &format_args!("{:04o}", self.mode))
            .field("secret", &self.secret)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Every file the inventory implies, keyed by node path (sorted).
#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    pub files: BTreeMap<String, DesiredFile>,
}

/// Renders every file the inventory implies.
pub fn render(inventory: &Inventory, secrets: &Secrets) -> DesiredState {
    let mut files = BTreeMap::new();
    for (index, registry) in inventory.registries.iter().enumerate() {
        registry_files(inventory, registry, index, secrets, &mut files);
    }
    render_rest(inventory, files)
}

/// [`render`], taking the registries out of `inventory` and dropping each once its file is
/// rendered: a fleet-sized inventory and its rendered files are never both whole in memory.
pub fn render_consuming(inventory: &mut Inventory, secrets: &Secrets) -> DesiredState {
    let registries = std::mem::take(&mut inventory.registries);
    let mut files = BTreeMap::new();
    for (index, registry) in registries.into_iter().enumerate() {
        registry_files(inventory, &registry, index, secrets, &mut files);
    }
    render_rest(inventory, files)
}

/// One registry's hosts.toml and the CA files given as PEM content that it names, each in
/// the registry's own directory (two registries with the same PEM get a copy each).
fn registry_files(
    inventory: &Inventory,
    registry: &crate::inventory::Registry,
    index: usize,
    secrets: &Secrets,
    files: &mut BTreeMap<String, DesiredFile>,
) {
    let model = RegistryModel::new(registry, inventory.target);
    let dir = inventory.paths.certs_dir.child(&model.directory());
    let (contents, secret) = hosts_toml::render(&model, &dir, index, secrets);
    // Formatting leaves up to twice the length in capacity; ten thousand files keep it.
    let mut contents = contents.into_bytes();
    contents.shrink_to_fit();
    for mirror in &registry.mirrors {
        for ca in &mirror.ca {
            if let Ca::Pem(pem) = ca {
                files.insert(
                    ca.node_path(&dir),
                    DesiredFile {
                        contents: pem.value.as_bytes().to_vec(),
                        mode: Ca::PEM_MODE,
                        secret: false,
                        kind: FileKind::CaCertificate,
                    },
                );
            }
        }
    }
    let file = DesiredFile {
        contents,
        mode: if secret {
            0o600
        } else {
            inventory.modes.hosts_toml
        },
        secret,
        kind: FileKind::HostsToml,
    };
    files.insert(format!("{dir}/hosts.toml"), file);
}

/// Everything but the hosts.toml files.
fn render_rest(inventory: &Inventory, mut files: BTreeMap<String, DesiredFile>) -> DesiredState {
    if !inventory.credential_providers.is_empty() {
        let path = &inventory.paths.credential_provider_config;
        files.insert(
            path.clone(),
            DesiredFile {
                contents: credential_provider::render(inventory, path.ends_with(".json"))
                    .into_bytes(),
                mode: inventory.modes.credential_provider_config,
                secret: false,
                kind: FileKind::CredentialProviderConfig,
            },
        );
    }
    if let Some(plugin) = &inventory.credential_plugin {
        files.insert(
            plugin.mapping_file.value.to_string(),
            DesiredFile {
                contents: crate::credential_plugin::render_mapping(inventory, plugin).into_bytes(),
                mode: 0o600,
                secret: false,
                kind: FileKind::CredentialPluginMapping,
            },
        );
        files.insert(
            inventory
                .paths
                .credential_provider_bin_dir
                .child(&plugin.name.value),
            DesiredFile {
                contents: crate::credential_plugin::render_exec(plugin).into_bytes(),
                mode: 0o755,
                secret: false,
                kind: FileKind::CredentialPluginExec,
            },
        );
    }
    DesiredState { files }
}
