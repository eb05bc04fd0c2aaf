//! The effective model: for each registry, the endpoints containerd will try, in order, each as
//! containerd normalizes it. Computed here once from the validated inventory and the target;
//! the hosts.toml renderer, `resolve` and lint read it and never decide these things again.

use std::fmt;

use crate::gates;
use crate::inventory::{Mirror, Registry, Target};
use crate::version::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A hosts.toml capability. containerd compares them case-insensitively and rejects the whole
/// file on any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Capability {
    Pull,
    Resolve,
    Push,
    Referrers,
}

impl Capability {
    pub(crate) const ALL: [Capability; 4] = [
        Capability::Pull,
        Capability::Resolve,
        Capability::Push,
        Capability::Referrers,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Capability::Pull => "pull",
            Capability::Resolve => "resolve",
            Capability::Push => "push",
            Capability::Referrers => "referrers",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Capability> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(text))
    }

    /// What containerd gives an endpoint whose capabilities are not written (the server
    /// without root `capabilities`, the registry's default endpoint).
    pub(crate) fn every(containerd: Version) -> Vec<Capability> {
        Self::ALL
            .into_iter()
            .filter(|c| *c != Capability::Referrers || containerd >= gates::REFERRERS)
            .collect()
    }

    /// What mirrorctl writes for a mirror that lists none: never push.
    pub(crate) const MIRROR_DEFAULT: [Capability; 2] = [Capability::Pull, Capability::Resolve];
}

/// An endpoint URL as containerd reads it from hosts.toml: scheme, host (`host[:port]`) and the
/// path as written, cleaned (`path.Clean`) and without trailing slashes, so `https://m/`,
/// `https://m` and `https://m//` are one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointUrl {
    pub(crate) scheme: Scheme,
    pub(crate) host: String,
    path: String,
}

impl EndpointUrl {
    /// `None` unless `url` is `http://` or `https://` followed by a host.
    pub(crate) fn parse(url: &str) -> Option<EndpointUrl> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.is_empty() {
            return None;
        }
        let path = clean_path(path);
        Some(EndpointUrl {
            scheme,
            host: host.to_string(),
            path: if path == "/" { String::new() } else { path },
        })
    }

    /// The URL mirrorctl writes into hosts.toml.
    pub(crate) fn written(&self) -> String {
        format!("{}://{}{}", self.scheme.name(), self.host, self.path)
    }

    /// A URL path other than the API root: containerd would append `/v2` to it, which is never
    /// what an Artifactory or Nexus prefix means, so `override_path` is inferred.
    pub(crate) fn infers_override_path(&self) -> bool {
        !self.path.is_empty() && !self.path.ends_with("/v2")
    }

    /// The path containerd puts before `/<repository>/manifests/…`: `/v2` appended unless the
    /// path already ends in `/v2` or `override_path` is set.
    pub(crate) fn api_path(&self, override_path: bool) -> String {
        if override_path || self.path.ends_with("/v2") {
            self.path.clone()
        } else {
            format!("{}/v2", self.path)
        }
    }

    /// The port as written (`None` without one); an IPv6 literal keeps its brackets in `host`.
    pub(crate) fn port(&self) -> Option<&str> {
        port_of(&self.host)
    }

    /// `[::1]:5000`: go-toml v1 (containerd 1.x) cannot read a table header holding `]`.
    pub(crate) fn is_ipv6_literal(&self) -> bool {
        self.host.starts_with('[')
    }

    /// What makes two URLs the same endpoint to containerd: scheme, host (case-insensitive)
    /// and the API path.
    pub(crate) fn identity(&self, override_path: bool) -> (Scheme, String, String) {
        (
            self.scheme,
            self.host.to_ascii_lowercase(),
            self.api_path(override_path),
        )
    }
}

/// The port of `host[:port]` as written; an IPv6 literal's own colons are inside brackets.
fn port_of(host: &str) -> Option<&str> {
    let (_, port) = host.rsplit_once(':')?;
    (!port.contains(']')).then_some(port)
}

/// Go's `path.Clean` for an absolute path (`""` stays `""`).
fn clean_path(path: &str) -> String {
    // Most paths are clean already: no empty or dot segment, no trailing slash.
    if path.is_empty() || !(path.contains("//") || path.contains("/.") || path.ends_with('/')) {
        return path.to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Where an endpoint comes from in hosts.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A `[host."URL"]` table.
    Mirror,
    /// The root `server`: an explicit one, or the last mirror of a `fallback: false` registry.
    Server,
    /// Not written: the registry's own default endpoint, tried after the mirrors.
    Upstream,
}

impl Role {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Mirror => "mirror",
            Role::Server => "server",
            Role::Upstream => "upstream",
        }
    }
}

/// One endpoint containerd tries.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint<'a> {
    pub(crate) role: Role,
    pub(crate) url: EndpointUrl,
    /// Whether hosts.toml says `override_path = true` for it.
    pub(crate) override_path: bool,
    pub(crate) capabilities: Vec<Capability>,
    /// The inventory's mirror behind it (TLS files, headers, auth, dial timeout); `None` for an
    /// explicit `server` and for the upstream.
    pub(crate) mirror: Option<(usize, &'a Mirror)>,
    /// TLS verification is skipped: `skipVerify: true`, or containerd's own choice for a
    /// loopback registry's default endpoint.
    pub(crate) skip_verify: bool,
    /// An `http://` endpoint that containerd tries with HTTPS first, then plain HTTP.
    pub(crate) https_first: bool,
    /// `dial_timeout` as written and honoured by the target (ignored before 2.0.7/2.1).
    pub(crate) dial_timeout: Option<&'a str>,
}

impl Endpoint<'_> {
    /// The URL containerd builds requests on, `/v2` included.
    pub(crate) fn api_url(&self) -> String {
        format!(
            "{}://{}{}",
            self.url.scheme.name(),
            self.url.host,
            self.url.api_path(self.override_path)
        )
    }

    pub(crate) fn has(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Tag pulls need pull and resolve; pulls by digest only pull.
    pub(crate) fn serves(&self, by_digest: bool) -> bool {
        self.has(Capability::Pull) && (by_digest || self.has(Capability::Resolve))
    }
}

impl fmt::Display for Endpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_url())
    }
}

/// One registry's hosts.toml, decided.
#[derive(Debug)]
pub(crate) struct RegistryModel<'a> {
    pub(crate) registry: &'a Registry,
    /// `[host."URL"]` tables, in the order containerd tries them.
    pub(crate) hosts: Vec<Endpoint<'a>>,
    /// The root `server`, when one is written; otherwise the upstream comes last.
    pub(crate) server: Option<Endpoint<'a>>,
    target: Target,
}

/// With `fallback: false` the last mirror becomes the root `server`, so the upstream is never
/// contacted; it is not also written as a `[host]` (containerd would try it twice).
pub(crate) fn server_mirror(registry: &Registry) -> Option<usize> {
    (!registry.fallback && !registry.mirrors.is_empty()).then(|| registry.mirrors.len() - 1)
}

impl<'a> RegistryModel<'a> {
    pub(crate) fn new(registry: &'a Registry, target: Target) -> Self {
        let server_index = server_mirror(registry);
        let hosts = registry
            .mirrors
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != server_index)
            .filter_map(|(i, m)| mirror_endpoint(Role::Mirror, i, m, target))
            .collect();
        let server = match server_index {
            Some(i) => mirror_endpoint(Role::Server, i, &registry.mirrors[i], target),
            None => registry.server.as_ref().and_then(|s| {
                let url = EndpointUrl::parse(&s.value)?;
                Some(Endpoint {
                    role: Role::Server,
                    override_path: url.infers_override_path(),
                    capabilities: Capability::every(target.containerd),
                    mirror: None,
                    skip_verify: false,
                    https_first: false,
                    dial_timeout: None,
                    url,
                })
            }),
        };
        RegistryModel {
            registry,
            hosts,
            server,
            target,
        }
    }

    /// The directory containerd reads for this registry under its `config_path`.
    pub(crate) fn directory(&self) -> String {
        self.registry.dir_name()
    }

    /// The registry's default endpoint, tried last when no `server` is written (`None` for
    /// `"*"`: there it is the image's own registry, see [`upstream`]).
    pub(crate) fn upstream(&self) -> Option<Endpoint<'static>> {
        match (&self.server, self.registry.name.as_str()) {
            (Some(_), _) | (None, "*") => None,
            (None, name) => Some(upstream(name, self.target.containerd)),
        }
    }

    /// Every endpoint containerd tries for an image of `image_registry`, in order.
    pub(crate) fn endpoints_for(&self, image_registry: &str) -> Vec<Endpoint<'a>> {
        let mut out = self.hosts.clone();
        match &self.server {
            Some(server) => out.push(server.clone()),
            None => out.push(upstream(image_registry, self.target.containerd)),
        }
        out
    }
}

fn mirror_endpoint<'a>(
    role: Role,
    index: usize,
    mirror: &'a Mirror,
    target: Target,
) -> Option<Endpoint<'a>> {
    let url = EndpointUrl::parse(&mirror.url.value)?;
    let skip_verify = mirror.skip_verify == Some(true);
    // Only a written key counts: mirrorctl writes `skip_verify` only when true.
    let tls_keys = !mirror.ca.is_empty() || !mirror.client.is_empty() || skip_verify;
    let https_first = url.scheme == Scheme::Http
        && tls_keys
        && url.port() != Some("80")
        && gates::https_first(target.containerd);
    let capabilities = match &mirror.capabilities {
        Some(caps) => caps
            .value
            .iter()
            .filter_map(|c| Capability::parse(&c.value))
            .collect(),
        None => Capability::MIRROR_DEFAULT.to_vec(),
    };
    Some(Endpoint {
        role,
        override_path: mirror
            .override_path
            .unwrap_or_else(|| url.infers_override_path()),
        capabilities,
        mirror: Some((index, mirror)),
        skip_verify,
        https_first,
        dial_timeout: mirror
            .dial_timeout
            .as_ref()
            .filter(|_| gates::dial_timeout(target.containerd))
            .map(|d| d.value.as_str()),
        url,
    })
}

/// The endpoint containerd uses for `host` when hosts.toml writes no `server`.
pub(crate) fn upstream(host: &str, containerd: Version) -> Endpoint<'static> {
    let endpoint = |scheme, host: &str, skip_verify, https_first| Endpoint {
        role: Role::Upstream,
        url: EndpointUrl {
            scheme,
            host: host.to_string(),
            path: String::new(),
        },
        override_path: false,
        capabilities: Capability::every(containerd),
        mirror: None,
        skip_verify,
        https_first,
        dial_timeout: None,
    };
    if host == "docker.io" {
        return endpoint(Scheme::Https, "registry-1.docker.io", false, false);
    }
    if !is_localhost(host) {
        return endpoint(Scheme::Https, host, false, false);
    }
    if !gates::https_first(containerd) {
        return endpoint(Scheme::Http, host, false, false);
    }
    // containerd skips verification for loopback and, where the port leaves the protocol
    // ambiguous, tries HTTPS first and falls back to HTTP.
    match port_of(host) {
        None | Some("443") => endpoint(Scheme::Https, host, true, false),
        Some("80") => endpoint(Scheme::Http, host, false, false),
        Some(_) => endpoint(Scheme::Http, host, true, true),
    }
}

/// containerd's `IsLocalhost`: `localhost` or a loopback IP, after splitting off a port. A
/// bracketed IPv6 literal without a port does not split, so it is not loopback to containerd.
fn is_localhost(host: &str) -> bool {
    let bare = split_host_port(host).unwrap_or(host);
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Go's `net.SplitHostPort`, the host part: `None` when there is no port to split off.
fn split_host_port(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        return after.strip_prefix(':').map(|_| inner);
    }
    let (h, _) = host.rsplit_once(':')?;
    (!h.contains(':')).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalize_as_containerd_reads_them() {
        let url = |s| EndpointUrl::parse(s).expect("url");
        assert_eq!(url("https://m.example/").written(), "https://m.example");
        assert_eq!(
            url("https://m.example//a/./b/../c/").written(),
            "https://m.example/a/c"
        );
        assert_eq!(
            url("https://m").identity(false),
            url("https://m/v2").identity(false)
        );
        assert_eq!(url("https://m/").api_path(false), "/v2");
        assert!(url("https://m/prefix").infers_override_path());
        assert!(!url("https://m/prefix/v2").infers_override_path());
        assert_eq!(url("http://[::1]:5000").port(), Some("5000"));
        assert_eq!(url("http://[::1]").port(), None);
        assert!(url("http://[::1]:5000").is_ipv6_literal());
        assert_eq!(EndpointUrl::parse("ftp://x"), None);
    }

    #[test]
    fn localhost_is_containerds() {
        for (host, expected) in [
            ("localhost", true),
            ("localhost:5000", true),
            ("127.0.0.1:5000", true),
            ("127.9.9.9", true),
            ("[::1]:5000", true),
            ("[::1]", false),
            ("127.mirror.example", false),
            ("registry.example:5000", false),
        ] {
            assert_eq!(is_localhost(host), expected, "{host}");
        }
    }

    #[test]
    fn default_endpoint_of_loopback_depends_on_version() {
        let v = |s| Version::parse(s).expect("version");
        let up = upstream("127.0.0.1:5000", v("1.6.20"));
        assert_eq!(
            (up.api_url(), up.https_first),
            ("http://127.0.0.1:5000/v2".into(), false)
        );
        let up = upstream("127.0.0.1:5000", v("1.7.24"));
        assert_eq!(
            (up.api_url(), up.https_first),
            ("http://127.0.0.1:5000/v2".into(), true)
        );
        let up = upstream("localhost", v("2.1"));
        assert_eq!(
            (up.api_url(), up.skip_verify),
            ("https://localhost/v2".into(), true)
        );
        let up = upstream("docker.io", v("2.2"));
        assert_eq!(up.api_url(), "https://registry-1.docker.io/v2");
        assert!(up.has(Capability::Referrers));
        assert!(!upstream("docker.io", v("2.1")).has(Capability::Referrers));
    }
}
