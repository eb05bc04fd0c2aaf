//! `mirrorctl resolve IMAGE`: where a pull will go before it happens — the normalized name, the
//! certs directory containerd reads, the endpoints in the order it tries them, and which
//! credential providers the kubelet runs and where their credentials are offered.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::credential_plugin;
use crate::effective::{self, RegistryModel};
use crate::grants::{self, Evaluation, Identity, Skip, Verdict};
use crate::image_pattern::{self, ImageName};
use crate::inventory::{Auth, ClientCert, HeaderValue, Inventory, Registry, registry_dir_name};

#[derive(Debug)]
pub struct Endpoint {
    /// As containerd normalizes it: scheme, host, and the API path (`/v2` appended or not).
    pub url: String,
    /// `mirror`, `server` (the last mirror with `fallback: false`, or a `server` override) or `upstream`.
    pub role: &'static str,
    /// An `http://` endpoint containerd tries with HTTPS first, then plain HTTP.
    pub https_first: bool,
    pub capabilities: Vec<String>,
    /// Whether containerd asks this endpoint for this pull (tags need pull + resolve).
    pub used: bool,
    pub ca: Vec<String>,
    pub client: Vec<String>,
    pub skip_verify: bool,
    pub override_path: bool,
    pub headers: Vec<(String, String)>,
    pub dial_timeout: Option<String>,
    pub provider: Option<String>,
}

#[derive(Debug)]
pub struct ProviderMatch {
    pub name: String,
    pub runs: bool,
    /// The first matching pattern, or every pattern's reason for not matching.
    pub detail: Vec<String>,
}

/// A pod identity for `credentialPlugin` grants, with its service account's annotations when
/// they are known (`--annotation`); unknown ones leave the grants that need them undecided.
#[derive(Debug, Clone)]
pub struct Who {
    pub identity: Identity,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug)]
pub struct Resolution {
    pub who: Option<Who>,
    /// The plugin's grants for `who`, in its order, each with its verdict (see [`grants`]).
    pub grants: Vec<Evaluation>,
    pub image: ImageName,
    pub directory: String,
    pub why: String,
    pub registry: Option<String>,
    pub endpoints: Vec<Endpoint>,
    pub providers: Vec<ProviderMatch>,
}

/// The directories containerd considers, in order: `host_port_` (with a port), `host:port`,
/// `_default`. The first that exists wins; mirrorctl creates one per registry entry.
pub fn resolve(inventory: &Inventory, reference: &str) -> Result<Resolution, String> {
    resolve_as(inventory, reference, None)
}

/// [`resolve`], plus the `credentialPlugin` grants for the pod identity `who`.
pub fn resolve_as(
    inventory: &Inventory,
    reference: &str,
    who: Option<&Who>,
) -> Result<Resolution, String> {
    let image = image_pattern::normalize_image(reference)?;
    let by_digest = image.digest.is_some();
    let Walk {
        registry,
        directory,
        why,
        endpoints,
    } = walk(inventory, &image);
    let certs_dir = inventory.paths.certs_dir.child(&directory);
    let endpoints = endpoints
        .iter()
        .map(|e| endpoint(e, &certs_dir, by_digest))
        .collect();

    let providers = inventory
        .credential_providers
        .iter()
        .map(|p| {
            let mut reasons = Vec::new();
            for pattern in &p.match_images {
                match image_pattern::matches(&pattern.value, &image.name) {
                    Ok(()) => {
                        return ProviderMatch {
                            name: p.name.value.clone(),
                            runs: true,
                            detail: vec![format!("`{}` matches {}", pattern.value, image.name)],
                        };
                    }
                    Err(why) => reasons.push(format!("`{}`: {why}", pattern.value)),
                }
            }
            ProviderMatch {
                name: p.name.value.clone(),
                runs: false,
                detail: reasons,
            }
        })
        .collect();

    // The grants of the mapping `apply` writes, evaluated by the plugin's own function.
    let grants = match (who, &inventory.credential_plugin) {
        (Some(who), Some(plugin)) => grants::evaluate(
            &credential_plugin::mapping(plugin, inventory.target.kubelet).grants,
            &who.identity,
            who.annotations.as_ref(),
            &image.name,
        ),
        _ => Vec::new(),
    };
    Ok(Resolution {
        who: who.cloned(),
        grants,
        registry: registry.map(|r| r.name.clone()),
        image,
        directory,
        why,
        endpoints,
        providers,
    })
}

/// The registry entry containerd's directory lookup lands on for `image`, and the endpoints
/// of the effective model in the order containerd tries them: what `resolve` prints and
/// `probe` contacts.
pub(crate) struct Walk<'a> {
    pub(crate) registry: Option<&'a Registry>,
    pub(crate) directory: String,
    pub(crate) why: String,
    pub(crate) endpoints: Vec<effective::Endpoint<'a>>,
}

pub(crate) fn walk<'a>(inventory: &'a Inventory, image: &ImageName) -> Walk<'a> {
    // mirrorctl writes one directory per entry, named from the registry (`host_port_` with a
    // port), so the entry decides; without one, containerd falls back to `_default`.
    let dir = registry_dir_name(&image.registry);
    let entry = |name: &str| inventory.registries.iter().find(|r| r.name == name);
    let (registry, directory, why): (Option<&Registry>, String, String) =
        match (entry(&image.registry), entry("*")) {
            (Some(r), _) if dir != image.registry => (
                Some(r),
                dir.clone(),
                format!("`{dir}` is the first candidate for a registry with a port"),
            ),
            (Some(r), _) => (
                Some(r),
                dir,
                format!("the inventory has an entry for {}", image.registry),
            ),
            (None, Some(r)) => (
                Some(r),
                "_default".into(),
                format!(
                    "no entry for {}, so containerd falls back to `_default` (\"*\")",
                    image.registry
                ),
            ),
            (None, None) => (
                None,
                dir,
                format!(
                    "no entry for {} and no \"*\": containerd pulls straight from the registry",
                    image.registry
                ),
            ),
        };

    let endpoints = match registry {
        None => vec![effective::upstream(
            &image.registry,
            inventory.target.containerd,
        )],
        Some(r) => RegistryModel::new(r, inventory.target).endpoints_for(&image.registry),
    };
    Walk {
        registry,
        directory,
        why,
        endpoints,
    }
}

/// `dir` is the node path of the registry's directory, where CA files given as PEM content
/// are written (the path `ca` lists for them).
fn endpoint(e: &effective::Endpoint<'_>, dir: &str, by_digest: bool) -> Endpoint {
    let mut out = Endpoint {
        url: e.api_url(),
        role: e.role.name(),
        https_first: e.https_first,
        capabilities: e
            .capabilities
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        used: e.serves(by_digest),
        ca: Vec::new(),
        client: Vec::new(),
        skip_verify: e.skip_verify,
        override_path: e.override_path,
        headers: Vec::new(),
        dial_timeout: e.dial_timeout.map(str::to_string),
        provider: None,
    };
    let Some((_, mirror)) = e.mirror else {
        return out;
    };
    out.ca = mirror.ca.iter().map(|c| c.node_path(dir)).collect();
    out.client = mirror
        .client
        .iter()
        .map(|c| match c {
            ClientCert::Combined(f) => f.value.clone(),
            ClientCert::Pair { cert, key } => format!("{} + {}", cert.value, key.value),
        })
        .collect();
    out.headers = mirror
        .headers
        .iter()
        .map(|h| {
            let values: Vec<String> = h
                .values
                .iter()
                .map(|v| match v {
                    HeaderValue::Inline(text) => text.clone(),
                    HeaderValue::File(file) => format!("<redacted: from {}>", file.value),
                })
                .collect();
            (h.name.value.clone(), values.join(", "))
        })
        .collect();
    match mirror.auth.as_deref() {
        Some(Auth::BasicFrom {
            username_file,
            password_file,
        }) => out.headers.push((
            "Authorization".into(),
            format!(
                "Basic <redacted: from {} and {}>",
                username_file.value, password_file.value
            ),
        )),
        Some(Auth::BearerFrom { token_file }) => out.headers.push((
            "Authorization".into(),
            format!("Bearer <redacted: from {}>", token_file.value),
        )),
        Some(Auth::Provider(name)) => out.provider = Some(name.value.clone()),
        None => {}
    }
    out.headers.sort();
    out
}

pub fn text(r: &Resolution) -> String {
    let mut out = String::new();
    let reference = match (&r.image.tag, &r.image.digest) {
        (_, Some(d)) => format!("{}@{d}", r.image.name),
        (Some(t), None) => format!("{}:{t}", r.image.name),
        (None, None) => format!("{}:latest", r.image.name),
    };
    let _ = writeln!(out, "image:      {reference}");
    let _ = writeln!(out, "registry:   {}", r.image.registry);
    let _ = writeln!(out, "directory:  {} ({})", r.directory, r.why);
    let _ = writeln!(out, "endpoints, in the order containerd tries them:");
    for (i, e) in r.endpoints.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} [{}] {}{}",
            i + 1,
            e.url,
            e.role,
            e.capabilities.join(","),
            if e.used {
                ""
            } else {
                " (skipped: this pull needs pull+resolve)"
            }
        );
        let mut details = Vec::new();
        if !e.ca.is_empty() {
            details.push(format!("ca {}", e.ca.join(", ")));
        }
        if !e.client.is_empty() {
            details.push(format!("client {}", e.client.join(", ")));
        }
        if e.https_first {
            details.push(format!(
                "tried with HTTPS first ({}), then plain HTTP",
                e.url.replacen("http://", "https://", 1)
            ));
        }
        if e.skip_verify {
            details.push("skip_verify".into());
        }
        if e.override_path {
            details.push("override_path".into());
        }
        if let Some(t) = &e.dial_timeout {
            details.push(format!("dial_timeout {t}"));
        }
        for (name, value) in &e.headers {
            details.push(format!("header {name}: {value}"));
        }
        if let Some(p) = &e.provider {
            details.push(format!("credentials expected from provider {p}"));
        }
        if !details.is_empty() {
            let _ = writeln!(out, "     {}", details.join("; "));
        }
    }
    let running: Vec<&ProviderMatch> = r.providers.iter().filter(|p| p.runs).collect();
    let _ = writeln!(
        out,
        "credential providers the kubelet runs for {}:",
        r.image.name
    );
    if running.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for p in &r.providers {
        let _ = writeln!(
            out,
            "  {} {}: {}",
            if p.runs { "runs   " } else { "skipped" },
            p.name,
            p.detail.join("; ")
        );
    }
    if let Some(who) = &r.who {
        grants_text(&mut out, who, &r.grants);
    }
    if !running.is_empty() {
        let receivers: Vec<&str> = r.endpoints.iter().map(|e| e.url.as_str()).collect();
        let _ = writeln!(
            out,
            "their credentials are offered to every endpoint that answers 401: {}",
            receivers.join(", ")
        );
    }
    out
}

/// The plugin's grants for `who`, in its order; grants of other namespaces are left out (the
/// JSON has them).
fn grants_text(out: &mut String, who: &Who, evaluations: &[Evaluation]) {
    let _ = writeln!(
        out,
        "credentialPlugin grants for {}/{}:",
        who.identity.namespace, who.identity.service_account
    );
    match &who.annotations {
        Some(a) if a.is_empty() => {
            let _ = writeln!(out, "  the service account has no annotations");
        }
        Some(a) => {
            let list: Vec<String> = a.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                out,
                "  the service account is annotated {}",
                list.join(", ")
            );
        }
        None if evaluations
            .iter()
            .any(|e| matches!(e.verdict, Verdict::Depends { .. })) =>
        {
            let _ = writeln!(
                out,
                "  annotations not given: the answer depends on them (--annotation KEY=VALUE decides)"
            );
        }
        None => {}
    }
    for e in evaluations
        .iter()
        .filter(|e| e.verdict != Verdict::Skipped(Skip::Namespace))
    {
        let _ = writeln!(
            out,
            "  {} {}: {}; {}",
            grants::field_path(e.index),
            e.grant.registry,
            e.condition(),
            e.outcome()
        );
        if matches!(e.verdict, Verdict::Answers | Verdict::Depends { .. }) {
            let _ = writeln!(
                out,
                "     username from {}, password from {}",
                e.grant.username_file, e.grant.password_file
            );
        }
    }
    let answering: Vec<String> = evaluations
        .iter()
        .filter(|e| e.verdict == Verdict::Answers)
        .map(|e| format!("{} ({})", grants::field_path(e.index), e.grant.registry))
        .collect();
    let undecided = evaluations
        .iter()
        .any(|e| matches!(e.verdict, Verdict::Depends { .. }));
    if !answering.is_empty() {
        let _ = writeln!(out, "  the plugin answers with {}", answering.join(", "));
    } else if !undecided {
        let _ = writeln!(
            out,
            "  none: the plugin answers with no credentials (deny by default)"
        );
    }
}

fn grant_json(e: &Evaluation) -> Value {
    json!({
        "grant": grants::field_path(e.index),
        "registry": e.grant.registry,
        "namespace": e.grant.namespace,
        "serviceAccount": e.grant.service_account,
        "usernameFile": e.grant.username_file,
        "passwordFile": e.grant.password_file,
        "annotations": e.grant.annotations.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "condition": e.condition(),
        "verdict": e.verdict_name(),
        "outcome": e.outcome(),
    })
}

pub fn json(r: &Resolution) -> Value {
    json!({
        "image": {
            "name": r.image.name,
            "registry": r.image.registry,
            "tag": r.image.tag,
            "digest": r.image.digest,
        },
        "directory": r.directory,
        "why": r.why,
        "registryEntry": r.registry,
        "endpoints": r.endpoints.iter().map(|e| json!({
            "url": e.url,
            "role": e.role,
            "httpsFirst": e.https_first,
            "capabilities": e.capabilities,
            "used": e.used,
            "ca": e.ca,
            "client": e.client,
            "skipVerify": e.skip_verify,
            "overridePath": e.override_path,
            "headers": e.headers.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "dialTimeout": e.dial_timeout,
            "provider": e.provider,
        })).collect::<Vec<_>>(),
        "credentialProviders": r.providers.iter().map(|p| json!({
            "name": p.name,
            "runs": p.runs,
            "detail": p.detail,
        })).collect::<Vec<_>>(),
        "identity": r.who.as_ref().map(|w| json!({
            "namespace": w.identity.namespace,
            "serviceAccount": w.identity.service_account,
            "annotations": w.annotations,
        })),
        "grants": r.grants.iter().map(grant_json).collect::<Vec<_>>(),
        "granted": r.grants.iter().filter(|e| e.verdict == Verdict::Answers).map(grant_json).collect::<Vec<_>>(),
        "credentialsOfferedTo": if r.providers.iter().any(|p| p.runs) {
            r.endpoints.iter().map(|e| e.url.clone()).collect::<Vec<_>>()
        } else {
            Vec::new()
        },
    })
}
