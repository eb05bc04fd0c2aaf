//! Rules that span containerd and the kubelet, and the rules of mirrorctl's own credential plugin.

use super::Checker;
use crate::code::Code;
use crate::error::clip_text;
use crate::image_pattern;
use crate::inventory::model::*;
use crate::inventory::path::{index, key};
use std::collections::{HashMap, HashSet};

impl Checker<'_> {
    /// Rules that span the two halves: containerd's mirrors and the kubelet's providers.
    pub(super) fn cross(&mut self) {
        let providers: HashMap<&str, (&CredentialProvider, Vec<Pattern<'_>>)> = self
            .inventory
            .credential_providers
            .iter()
            .rev()
            .map(|p| (p.name.value.as_str(), (p, distinct_patterns(p))))
            .collect();
        for registry in &self.inventory.registries {
            let path = key("registries", &registry.name);
            if !registry.fallback && !registry.mirrors.is_empty() {
                let resolves = registry.mirrors.iter().any(|m| match &m.capabilities {
                    None => true,
                    Some(caps) => {
                        caps.value
                            .iter()
                            .any(|c| c.value.eq_ignore_ascii_case("resolve"))
                            && caps
                                .value
                                .iter()
                                .any(|c| c.value.eq_ignore_ascii_case("pull"))
                    }
                });
                if !resolves {
                    self.problem(
                        Code::X005,
                        &key(&path, "fallback"),
                        Some(registry.mark),
                        "with `fallback: false` and no mirror that has both `pull` and `resolve`, containerd can never resolve a tag: every pull by tag fails; add `resolve` to a mirror or allow the fallback",
                    );
                }
            }
            if registry.name == "*" {
                continue;
            }
            // Mirrors aliasing one list name the same providers: each is judged once here.
            let mut judged: HashMap<&str, Vec<String>> = HashMap::new();
            for (i, mirror) in registry.mirrors.iter().enumerate() {
                let Some(Auth::Provider(name)) = mirror.auth.as_deref() else {
                    continue;
                };
                let Some((provider, patterns)) = providers.get(name.value.as_str()) else {
                    continue;
                };
                let reasons = judged
                    .entry(name.value.as_str())
                    .or_insert_with(|| mismatches(patterns, &registry.name))
                    .clone();
                if !reasons.is_empty() {
                    self.problem(
                        Code::X002,
                        &key(&key(&index(&key(&path, "mirrors"), i), "auth"), "provider"),
                        Some(name.mark),
                        format!(
                            "the kubelet never runs `{}` for {} images, so this mirror never gets its credentials: the kubelet matches `matchImages` against the IMAGE's name ({}/…), never the mirror's. {}",
                            clip_text(&provider.name.value),
                            clip_text(&registry.name),
                            clip_text(&registry.name),
                            reasons.join("; ")
                        ),
                    );
                }
            }
        }
    }
}

impl Checker<'_> {
    /// `credentialPlugin`: grants that can be matched and files where nothing scans them.
    pub(super) fn plugin(&mut self) {
        let Some(plugin) = &self.inventory.credential_plugin else {
            return;
        };
        let path = "credentialPlugin";
        if plugin.grants.is_empty() {
            self.problem(
                Code::P001,
                &key(path, "grants"),
                Some(plugin.mark),
                "at least one grant is required; without grants the plugin denies every pull",
            );
        }
        let paths = &self.inventory.paths;
        let mapping = plugin.mapping_file.value.as_str();
        let config_dir = paths
            .credential_provider_config
            .rsplit_once('/')
            .map_or("/", |(d, _)| d);
        for (inside, what) in [
            (paths.certs_dir.child(""), "containerd's certs dir"),
            (
                paths.credential_provider_bin_dir.child(""),
                "the kubelet's provider bin dir",
            ),
            (
                format!("{config_dir}/"),
                "the directory of the kubelet's provider config (read as a config directory since 1.34)",
            ),
        ] {
            if mapping.starts_with(&inside) {
                self.problem(Code::P002, &key(path, "mappingFile"), Some(plugin.mapping_file.mark), format!("`{mapping}` is inside {what}; keep the mapping where neither containerd nor the kubelet reads configuration"));
            }
        }
        for (i, grant) in plugin.grants.iter().enumerate() {
            let grant_path = index(&key(path, "grants"), i);
            if let Err(why) =
                image_pattern::check_pattern(&grant.registry.value, self.inventory.target.kubelet)
            {
                self.problem(
                    Code::P003,
                    &key(&grant_path, "registry"),
                    Some(grant.registry.mark),
                    format!(
                        "the kubelet cannot parse `{}`: it {why}",
                        grant.registry.value
                    ),
                );
            }
            if !is_dns_label(&grant.namespace.value) {
                self.problem(Code::P004, &key(&grant_path, "namespace"), Some(grant.namespace.mark), format!("`{}` is not a namespace name (a DNS label: lowercase letters, digits and `-`, at most 63)", grant.namespace.value));
            }
            if let Some(sa) = &grant.service_account
                && !(sa.value.len() <= 253 && sa.value.split('.').all(is_dns_label))
            {
                self.problem(
                    Code::P004,
                    &key(&grant_path, "serviceAccount"),
                    Some(sa.mark),
                    format!("`{}` is not a service account name", sa.value),
                );
            }
            for (field, file) in [
                ("usernameFile", &grant.username_file),
                ("passwordFile", &grant.password_file),
            ] {
                self.file_path(&key(&grant_path, field), file);
            }
            for (name, _) in &grant.annotations {
                if !plugin
                    .required_annotation_keys
                    .iter()
                    .any(|k| &k.value == name)
                {
                    self.problem(Code::P005, &key(&key(&grant_path, "annotations"), name), Some(grant.mark), format!("the kubelet sends only the annotations listed in `requiredAnnotationKeys`; add `{name}` there, or the grant can never match"));
                }
            }
        }
    }
}

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// One distinct `matchImages` pattern of a provider, parsed once: aliased copies of a pattern
/// are judged once.
struct Pattern<'a> {
    text: &'a str,
    parsed: Result<image_pattern::UrlParts, String>,
}

fn distinct_patterns(provider: &CredentialProvider) -> Vec<Pattern<'_>> {
    let mut seen = HashSet::new();
    provider
        .match_images
        .iter()
        .filter(|p| seen.insert(p.value.as_str()))
        .map(|p| Pattern {
            text: &p.value,
            parsed: image_pattern::parse(&p.value),
        })
        .collect()
}

/// Why each of `provider`'s patterns fails to match images of `registry`; empty when one matches.
pub fn provider_mismatches(provider: &CredentialProvider, registry: &str) -> Vec<String> {
    mismatches(&distinct_patterns(provider), registry)
}

/// Reasons past this many are counted, not spelt out: the message is clipped anyway.
const MAX_REASONS: usize = 5;

fn mismatches(patterns: &[Pattern<'_>], registry: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut images: HashMap<&str, Result<image_pattern::UrlParts, String>> = HashMap::new();
    for pattern in patterns {
        let path = pattern.parsed.as_ref().map_or("", |p| p.path.as_str());
        let image = &*images.entry(path).or_insert_with(|| {
            image_pattern::parse(&format!(
                "{registry}{}",
                if path.is_empty() { "/x" } else { path }
            ))
        });
        let outcome = match (&pattern.parsed, image) {
            (Ok(glob), Ok(image)) => image_pattern::matches_parsed(glob, image),
            (Err(why), _) | (_, Err(why)) => Err(image_pattern::Mismatch::Unparsable(why.clone())),
        };
        match outcome {
            Ok(()) => return Vec::new(),
            Err(why) if reasons.len() < MAX_REASONS => {
                reasons.push(format!(
                    "`{}`: {}",
                    clip_text(pattern.text),
                    clip_text(&why.to_string())
                ));
            }
            Err(_) => {}
        }
    }
    if patterns.len() > reasons.len() && !reasons.is_empty() {
        reasons.push(format!(
            "and {} more patterns",
            patterns.len() - reasons.len()
        ));
    }
    reasons
}
