//! Every version gate in one place: what a containerd or kubelet release does differently, and
//! the kubelet feature gates an inventory can declare (`target.kubeletFeatureGates`), named once
//! and read by validation, rendering, lint, resolve and the credential plugin.

use crate::inventory::model::Spanned;
use crate::version::Version;

/// containerd knows the `referrers` capability (an unknown one rejects the whole hosts.toml).
pub(crate) const REFERRERS: Version = Version::new(2, 2, 0);

/// containerd's hosts.toml parser is go-toml v2, which accepts `]` inside a quoted table key
/// (`[host."http://[::1]:5000"]`) and honours only hosts introduced by their own table header.
pub(crate) const GO_TOML_V2: Version = Version::new(2, 0, 0);

/// containerd sends a host's `header`s on its token requests too (the Bearer realm).
pub(crate) const TOKEN_REQUEST_HEADERS: Version = Version::new(2, 1, 0);

/// containerd honours `dial_timeout` (2.0.7 in the 2.0 line, 2.1.0 onwards); older releases
/// ignore it as an unknown key.
pub(crate) fn dial_timeout(containerd: Version) -> bool {
    containerd >= Version::new(2, 1, 0)
        || (containerd.major == 2 && containerd.minor == 0 && containerd.patch >= 7)
}

/// containerd tries HTTPS first, falling back to HTTP, for an `http://` host with TLS settings
/// and for a loopback registry's default endpoint: backported to 1.6.32 and 1.7.16, always in 2.x.
/// Before that an `http://` host is plain HTTP whatever its TLS keys say.
pub(crate) fn https_first(containerd: Version) -> bool {
    match (containerd.major, containerd.minor) {
        (1, 6) => containerd.patch >= 32,
        (1, 7) => containerd.patch >= 16,
        (1, _) => containerd.minor > 7,
        _ => true,
    }
}

/// The kubelet reads `tokenAttributes` (KEP-4412) from this release: alpha, gate off by default.
pub(crate) const TOKEN_ATTRIBUTES: Version = Version::new(1, 33, 0);

/// From this release the service-account token gate is beta (on by default) and
/// `tokenAttributes.cacheType` is required; on 1.33 it is an unknown field.
pub(crate) const CACHE_TYPE: Version = Version::new(1, 34, 0);

/// The oldest releases mirrorctl renders for (T001 / T002).
pub(crate) const OLDEST_CONTAINERD: Version = Version::new(1, 6, 0);
pub(crate) const OLDEST_KUBELET: Version = Version::new(1, 20, 0);

/// containerd's config.toml `version` by release: 3 from 2.0, 4 (3 still accepted) from 2.3.
pub(crate) const CONFIG_VERSION_3: Version = Version::new(2, 0, 0);
pub(crate) const CONFIG_VERSION_4: Version = Version::new(2, 3, 0);

/// The kubelet built with Go 1.26 (1.36) refuses a `matchImages` host with more than one colon:
/// the first colon starts the port. Older ones split at the last colon.
pub(crate) const STRICT_HOST_COLONS: Version = Version::new(1, 36, 0);

/// The exec-provider API versions (`providers[].apiVersion`) and the CredentialProviderConfig
/// API versions, newest first, each with the first kubelet that knows it.
pub(crate) const PROVIDER_API_VERSIONS: [(&str, Version); 3] = [
    (
        "credentialprovider.kubelet.k8s.io/v1",
        Version::new(1, 26, 0),
    ),
    (
        "credentialprovider.kubelet.k8s.io/v1beta1",
        Version::new(1, 24, 0),
    ),
    (
        "credentialprovider.kubelet.k8s.io/v1alpha1",
        Version::new(1, 20, 0),
    ),
];
pub(crate) const CONFIG_API_VERSIONS: [(&str, Version); 3] = [
    ("kubelet.config.k8s.io/v1", Version::new(1, 26, 0)),
    ("kubelet.config.k8s.io/v1beta1", Version::new(1, 24, 0)),
    ("kubelet.config.k8s.io/v1alpha1", Version::new(1, 20, 0)),
];

/// The newest of `versions` that `kubelet` knows (the oldest when it knows none).
pub(crate) fn newest_known(versions: &[(&'static str, Version)], kubelet: Version) -> &'static str {
    versions
        .iter()
        .find(|(_, since)| kubelet >= *since)
        .or(versions.last())
        .map_or("", |(name, _)| name)
}

/// When a kubelet learnt `api_version`; `None` for one it never knows.
pub(crate) fn api_version_since(
    versions: &[(&'static str, Version)],
    api_version: &str,
) -> Option<Version> {
    versions
        .iter()
        .find(|(name, _)| *name == api_version)
        .map(|(_, since)| *since)
}

/// A kubelet feature gate mirrorctl knows; the inventory names it as the kubelet does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeletFeatureGate {
    /// KEP-4412: `tokenAttributes` (service-account tokens for credential providers).
    ServiceAccountTokenForCredentialProviders,
}

impl KubeletFeatureGate {
    pub const ALL: [KubeletFeatureGate; 1] =
        [KubeletFeatureGate::ServiceAccountTokenForCredentialProviders];

    /// The name in `--feature-gates` and in the inventory.
    pub fn name(self) -> &'static str {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                "KubeletServiceAccountTokenForCredentialProviders"
            }
        }
    }

    /// The first kubelet that knows the gate; an older one refuses to start with it set.
    pub fn since(self) -> Version {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => TOKEN_ATTRIBUTES,
        }
    }

    /// The first kubelet on which the gate is on unless turned off (alpha, off, on 1.33;
    /// beta, on, from 1.34).
    pub fn on_by_default_since(self) -> Version {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => CACHE_TYPE,
        }
    }
}

/// The gates the inventory declares for the node's kubelet, each where it was written.
/// mirrorctl writes no kubelet flags: a declaration says how the node's kubelet is started.
#[derive(Debug, Clone, Copy, Default)]
pub struct KubeletFeatureGates {
    service_account_token_for_credential_providers: Option<Spanned<bool>>,
}

impl KubeletFeatureGates {
    fn slot(&mut self, gate: KubeletFeatureGate) -> &mut Option<Spanned<bool>> {
        match gate {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                &mut self.service_account_token_for_credential_providers
            }
        }
    }

    pub fn declare(&mut self, gate: KubeletFeatureGate, value: Spanned<bool>) {
        *self.slot(gate) = Some(value);
    }

    /// What the inventory declares for `gate`, if anything.
    pub fn declared(&self, gate: KubeletFeatureGate) -> Option<Spanned<bool>> {
        match gate {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                self.service_account_token_for_credential_providers
            }
        }
    }

    /// Whether `gate` is on in `kubelet`: as declared, else the kubelet's default.
    pub fn enabled(&self, gate: KubeletFeatureGate, kubelet: Version) -> bool {
        self.declared(gate)
            .map_or(kubelet >= gate.on_by_default_since(), |d| d.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_first_follows_the_backports() {
        let v = |s| Version::parse(s).expect("version");
        for (version, expected) in [
            ("1.6.20", false),
            ("1.6.31", false),
            ("1.6.32", true),
            ("1.7.15", false),
            ("1.7.16", true),
            ("1.7.24", true),
            ("2.0", true),
            ("2.1.9", true),
        ] {
            assert_eq!(https_first(v(version)), expected, "{version}");
        }
        assert!(!dial_timeout(v("2.0.6")) && dial_timeout(v("2.0.7")) && dial_timeout(v("2.1")));
        assert!(!dial_timeout(v("1.7.30")));
    }
}
