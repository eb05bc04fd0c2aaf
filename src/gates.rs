//! Every version gate in one place: what a containerd or kubelet release does differently, named
//! once and read by validation, rendering, lint, resolve and the credential plugin.

use crate::version::Version;

/// containerd knows the `referrers` capability (an unknown one rejects the whole hosts.toml).
pub(crate) const REFERRERS: Version = Version::new(2, 2, 0);

/// containerd's hosts.toml parser is go-toml v2, which accepts `]` inside a quoted table key
/// (`[host."http://[::1]:5000"]`) and honours only hosts introduced by their own table header.
pub(crate) const GO_TOML_V2: Version = Version::new(2, 0, 0);

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

/// The `KubeletServiceAccountTokenForCredentialProviders` gate's default for a kubelet release.
pub(crate) fn service_account_token_gate_default(kubelet: Version) -> bool {
    kubelet >= CACHE_TYPE
}

/// The CredentialProviderConfig / provider API versions and the kubelet release that
/// introduced each, newest first.
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
