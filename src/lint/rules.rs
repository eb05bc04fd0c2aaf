//! Warnings and notes: inventories that containerd and the kubelet accept but that do not do
//! what their authors meant.

use crate::code::Code;
use crate::effective::{RegistryModel, Scheme};
use crate::error::{Findings, Problem, Severity, clip_text};
use crate::gates::KubeletFeatureGate;
use crate::image_pattern;
use crate::inventory::path::{index as index_path, key};
use crate::inventory::{Auth, Inventory};
use std::collections::{HashMap, HashSet};

pub(super) fn check(inventory: &Inventory) -> Vec<Problem> {
    let mut out = Findings::default();
    patterns(inventory, &mut out);
    mirrors(inventory, &mut out);
    plugin(inventory, &mut out);
    out.into_vec()
}

/// `credentialPlugin` grants: where their credentials go.
fn plugin(inventory: &Inventory, out: &mut Findings) {
    let Some(plugin) = &inventory.credential_plugin else {
        return;
    };
    let registries: Vec<&crate::inventory::Registry> = inventory
        .registries
        .iter()
        .filter(|r| r.name != "*")
        .collect();
    let index = image_pattern::ImageIndex::new(
        registries
            .iter()
            .map(|r| {
                image_pattern::parse(&format!("{}/x", r.name)).unwrap_or_else(|_| unmatchable())
            })
            .collect(),
    );
    // Per distinct pattern (aliased grants share one): the registries it steers, and of those
    // the ones with `fallback: true`.
    let mut steered: HashMap<&str, (bool, Vec<usize>)> = HashMap::new();
    for (i, grant) in plugin.grants.iter().enumerate() {
        let path = index_path("credentialPlugin.grants", i);
        let (any, fallback) = steered
            .entry(grant.registry.value.as_str())
            .or_insert_with(|| match image_pattern::parse(&grant.registry.value) {
                Ok(pattern) => {
                    let found = index.matching(&pattern);
                    let any = !found.is_empty();
                    (
                        any,
                        found
                            .into_iter()
                            .filter(|&r| registries[r].fallback)
                            .collect(),
                    )
                }
                Err(_) => (false, Vec::new()),
            });
        if !*any {
            out.push(Problem::hinted(Code::P006, Severity::Warning, key(&path, "registry"), grant.registry.mark,
                format!("no registry in the inventory matches `{}`: these credentials go straight to the upstream, not to a mirror", clip_text(&grant.registry.value)),
                "add the registry with its mirrors, or fix the pattern"));
        }
        if !fallback.is_empty() {
            let names = name_list(
                fallback.iter().map(|&r| registries[r].name.as_str()),
                fallback.len(),
            );
            out.push(Problem::hinted(Code::X007, Severity::Warning, key(&path, "registry"), grant.registry.mark,
                format!("{names} {} `fallback: true`: the namespace credentials this grant hands out are also offered to the upstream when a pull falls through the mirrors", if fallback.len() == 1 { "has" } else { "have" }),
                "set `fallback: false` on the registry"));
        }
    }
}

/// A name no pattern matches (its host has an empty label and a port no pattern can have),
/// standing in for one that does not parse so that indices stay aligned.
fn unmatchable() -> image_pattern::UrlParts {
    image_pattern::UrlParts {
        host: String::new(),
        port: Some(String::from("-")),
        path: String::new(),
    }
}

/// `a, b, c and 7 more`: the first few names of a list, clipped.
fn name_list<'a>(names: impl Iterator<Item = &'a str>, total: usize) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<String> = names
        .take(SHOWN)
        .map(|n| clip_text(n).into_owned())
        .collect();
    match total.saturating_sub(shown.len()) {
        0 => match shown.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => String::new(),
        },
        more => format!("{} and {more} more registries", shown.join(", ")),
    }
}

fn patterns(inventory: &Inventory, out: &mut Findings) {
    // Each mirror host once (the first registry naming it), parsed once as an image name and
    // indexed, not compared with every pattern.
    let mut hosts_seen = HashSet::new();
    let mut mirror_hosts: Vec<(&str, &str)> = Vec::new();
    let mut mirror_images = Vec::new();
    for r in &inventory.registries {
        for m in &r.mirrors {
            let Some(rest) = m.url.value.split_once("://").map(|(_, rest)| rest) else {
                continue;
            };
            let host = rest.split('/').next().unwrap_or_default();
            if !hosts_seen.insert(host) {
                continue;
            }
            if let Ok(parsed) = image_pattern::parse(&format!("{host}/x")) {
                mirror_hosts.push((r.name.as_str(), host));
                mirror_images.push(parsed);
            }
        }
    }
    let mirror_index = image_pattern::ImageIndex::new(mirror_images);
    let registry_index = image_pattern::ImageIndex::new(
        inventory
            .registries
            .iter()
            .filter_map(|r| image_pattern::parse(&format!("{}/x", r.name)).ok())
            .collect(),
    );
    // Per distinct pattern text: the first mirror host it names when it names no registry.
    let mut named_mirror: HashMap<&str, Option<usize>> = HashMap::new();
    for (i, provider) in inventory.credential_providers.iter().enumerate() {
        let provider_path = index_path("credentialProviders", i);
        for (j, pattern) in provider.match_images.iter().enumerate() {
            let path = index_path(&key(&provider_path, "matchImages"), j);
            let text = &pattern.value;
            if text.contains("://") {
                out.push(Problem::hinted(Code::K103, Severity::Warning, path.clone(), pattern.mark,
                    format!("`{text}` carries a scheme; the kubelet prefixes https:// itself, so this pattern can never match an image"),
                    "write the registry as in image references, e.g. `docker.io`"));
                continue;
            }
            if text.contains(['?', '#']) {
                out.push(Problem::hinted(Code::K105, Severity::Warning, path.clone(), pattern.mark,
                    format!("`{text}` contains `?` or `#`, which start a URL query or fragment for the kubelet's parser, not a glob"),
                    "only `*` works as a wildcard, one per host label"));
            }
            let Ok(parts) = image_pattern::parse(text) else {
                continue;
            };
            if let Some(port) = &parts.port
                && port.parse::<u32>().map_or(true, |p| p == 0 || p > 65535)
            {
                out.push(Problem::hinted(
                    Code::K102,
                    Severity::Warning,
                    path.clone(),
                    pattern.mark,
                    format!("`{text}` has port {port}, outside 1-65535: no image can have it"),
                    "fix the port or drop it",
                ));
            }
            if parts.host == "*" {
                out.push(Problem::hinted(Code::K104, Severity::Warning, path.clone(), pattern.mark,
                    format!("`{text}` matches only one-label hosts such as `localhost`: a `*` stands for exactly one label, and docker.io has two"),
                    "list the registries, or use one `*` per label (`*.io`, `*.*.example.com`)"));
            }
            if parts.host != parts.host.to_lowercase() {
                out.push(Problem::hinted(Code::K106, Severity::Warning, path.clone(), pattern.mark,
                    format!("`{text}` has uppercase letters; matching is case-sensitive and image hosts are written in lowercase"),
                    "write the pattern in lowercase"));
            }
            let named = *named_mirror.entry(text.as_str()).or_insert_with(|| {
                if registry_index.matching(&parts).is_empty() {
                    mirror_index.matching(&parts).first().copied()
                } else {
                    None
                }
            });
            if let Some(m) = named {
                let (registry, host) = mirror_hosts[m];
                let (registry, host) = (clip_text(registry), clip_text(host));
                out.push(Problem::hinted(Code::X003, Severity::Warning, path.clone(), pattern.mark,
                    format!("`{}` names the mirror host `{host}` (a mirror of {registry}), but the kubelet matches `matchImages` against image names, never mirrors: this provider never runs for {registry} images", clip_text(text)),
                    "match the upstream registry the images are named after, e.g. the registry key"));
            }
        }
        // mirrorctl writes no kubelet flags: an inventory that declares the gate on where it
        // is off by default describes a kubelet someone else must start that way.
        let gate = KubeletFeatureGate::ServiceAccountTokenForCredentialProviders;
        let target = inventory.target;
        if let Some(attrs) = &provider.token_attributes
            && target.kubelet >= gate.since()
            && target.kubelet < gate.on_by_default_since()
            && target.kubelet_feature_gates.enabled(gate, target.kubelet)
        {
            out.push(Problem::hinted(Code::K107, Severity::Info, key(&provider_path, "tokenAttributes"), attrs.mark,
                format!("kubelet {} reads `tokenAttributes` only with the alpha feature gate {} on, as the inventory declares; mirrorctl does not set kubelet flags", target.kubelet, gate.name()),
                &format!("start the node's kubelet with --feature-gates={}=true", gate.name())));
        }
    }
}

fn mirrors(inventory: &Inventory, out: &mut Findings) {
    for registry in &inventory.registries {
        let path = key("registries", &registry.name);
        let model = RegistryModel::new(registry, inventory.target);
        let endpoints = model.endpoints_for(&registry.name);
        // Each mirror's endpoint, found once rather than by a search per mirror.
        let mut endpoint_of = vec![None; registry.mirrors.len()];
        for e in &endpoints {
            if let Some((j, _)) = e.mirror
                && let Some(slot) = endpoint_of.get_mut(j)
                && slot.is_none()
            {
                *slot = Some(e);
            }
        }
        let mut provider_mirror = None;
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index_path(&key(&path, "mirrors"), i);
            if let Some(e) = endpoint_of[i]
                && e.url.scheme == Scheme::Http
            {
                let containerd = inventory.target.containerd;
                let tls = !mirror.ca.is_empty() || !mirror.client.is_empty();
                match (e.https_first, e.skip_verify, tls) {
                    (true, skip, _) => out.push(Problem::hinted(
                        if skip { Code::M101 } else { Code::M102 },
                        Severity::Info,
                        key(&mirror_path, if skip { "skipVerify" } else { "url" }),
                        mirror.url.mark,
                        format!("containerd {containerd} tries `{}` with HTTPS first{}, because it has TLS settings, then falls back to plain HTTP", e.url.written(), if skip { " without verifying the certificate" } else { "" }),
                        "use https:// when the mirror speaks TLS, or drop the TLS settings of a plain-HTTP mirror",
                    )),
                    (false, true, _) => out.push(Problem::hinted(
                        Code::M101,
                        Severity::Warning,
                        key(&mirror_path, "skipVerify"),
                        mirror.url.mark,
                        format!("`skipVerify` does nothing for the plain-HTTP mirror `{}` on containerd {containerd}; from 1.6.32/1.7.16 it makes containerd try HTTPS first", mirror.url.value),
                        "remove it, or use https:// if the mirror speaks TLS",
                    )),
                    (false, false, true) => out.push(Problem::hinted(
                        Code::M102,
                        Severity::Warning,
                        key(&mirror_path, "url"),
                        mirror.url.mark,
                        format!("the TLS settings of the plain-HTTP mirror `{}` do nothing on containerd {containerd}; from 1.6.32/1.7.16 they make containerd try HTTPS first", mirror.url.value),
                        "remove them, or use https:// if the mirror speaks TLS",
                    )),
                    (false, false, false) => {}
                }
            }
            if let Some(Auth::Provider(name)) = mirror.auth.as_deref()
                && inventory
                    .credential_providers
                    .iter()
                    .any(|p| p.name.value == name.value)
            {
                provider_mirror.get_or_insert((name.value.clone(), mirror_path));
            }
        }
        if let Some((provider, mirror_path)) = provider_mirror
            && registry.fallback
        {
            let upstream = match (&model.server, model.upstream()) {
                (Some(server), _) => server.api_url(),
                (None, Some(upstream)) => upstream.api_url(),
                (None, None) => "the image's own registry".to_string(),
            };
            out.push(Problem::hinted(Code::X004, Severity::Warning, key(&key(&mirror_path, "auth"), "provider"), registry.mark,
                format!("the credentials the kubelet gets from `{provider}` for {} pulls are offered to every endpoint that challenges, the upstream {upstream} included, when a pull falls through the mirrors (`fallback: true`)", registry.name),
                "set `fallback: false` to keep the mirror's credentials away from the upstream"));
        }
    }
}
