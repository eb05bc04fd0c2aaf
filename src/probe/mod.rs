//! `mirrorctl probe`: contact the endpoints of the effective model as containerd would — same
//! URLs, `?ns=`, TLS files, headers and credentials — and report each step with its timing,
//! and, for an image, which endpoint containerd would get it from (the first that answers the
//! manifest request; any transport error or status ≥ 400 moves on, as in containerd).

mod http;
pub(crate) mod output;
mod session;
mod tls;
mod token;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::effective::{Endpoint, RegistryModel, Role, Scheme};
use crate::error::Error;
use crate::grants::{self, Identity, Verdict};
use crate::image_pattern::{self, ImageName};
use crate::inventory::{ClientCert, HeaderValue, Inventory};
use crate::resolve;
use crate::secrets::{self, Secrets};

use session::Session;
pub(crate) use tls::{CertInfo, ConfiguredCert};

/// The `Accept` header of containerd's manifest requests.
const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*";
/// Largest token answer or manifest body read.
const MAX_BODY: usize = 4 << 20;

/// What to probe, and how.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) images: Vec<String>,
    pub(crate) root: PathBuf,
    /// Per step: name resolution, connect (unless `dialTimeout`), TLS, each request.
    pub(crate) timeout: Duration,
    /// The pod (`--namespace`, `--service-account`) and its annotations (`--annotation`).
    pub(crate) who: Option<resolve::Who>,
}

/// One timed step of an endpoint's probe.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// `dns`, `connect`, `tls`, `base`, `token`, `manifest`.
    pub(crate) name: &'static str,
    pub(crate) ok: bool,
    pub(crate) seconds: f64,
    /// What happened, for a person; never a secret.
    pub(crate) detail: String,
}

/// One endpoint, in try order.
#[derive(Debug, Clone)]
pub(crate) struct EndpointReport {
    pub(crate) url: String,
    pub(crate) role: &'static str,
    /// The registry's own endpoint (the default one, or an explicit `server`): reaching it is
    /// leaving the mirrors.
    pub(crate) upstream: bool,
    /// Why it was not contacted (`None`: it was).
    pub(crate) not_contacted: Option<String>,
    pub(crate) ok: bool,
    pub(crate) error: Option<String>,
    pub(crate) steps: Vec<Step>,
    pub(crate) seconds: f64,
    pub(crate) server_cert: Option<CertInfo>,
    pub(crate) configured: Vec<ConfiguredCert>,
    /// The manifest digest it answered with (image probes).
    pub(crate) digest: Option<String>,
    /// The endpoint answered HTTP at all (any status).
    pub(crate) answered: bool,
}

#[derive(Debug)]
pub(crate) struct ImageReport {
    pub(crate) image: String,
    pub(crate) registry: String,
    pub(crate) directory: String,
    pub(crate) endpoints: Vec<EndpointReport>,
    /// Index into `endpoints` of the one containerd would get the image from.
    pub(crate) served_by: Option<usize>,
    /// With --namespace: the grant whose credentials were sent (`credentialPlugin.grants[i]`
    /// and its registry pattern), or `None` when the plugin grants that pod nothing.
    pub(crate) grant: Option<Granted>,
}

/// The grant whose credentials a probe with --namespace sent.
#[derive(Debug)]
pub(crate) struct Granted {
    /// `credentialPlugin.grants[i]`.
    pub(crate) field: String,
    /// Its registry pattern.
    pub(crate) registry: String,
}

impl ImageReport {
    pub(crate) fn served(&self) -> Option<&EndpointReport> {
        self.served_by.map(|i| &self.endpoints[i])
    }

    /// The registry itself serves, or (nothing serving) was the first to answer at all.
    pub(crate) fn upstream_reached(&self) -> bool {
        match self.served() {
            Some(e) => e.upstream,
            None => self
                .endpoints
                .iter()
                .find(|e| e.answered)
                .is_some_and(|e| e.upstream),
        }
    }

    pub(crate) fn via_mirror(&self) -> bool {
        self.served().is_some_and(|e| !e.upstream)
    }
}

#[derive(Debug)]
pub(crate) struct RegistryReport {
    pub(crate) registry: String,
    pub(crate) endpoints: Vec<EndpointReport>,
}

#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) images: Vec<ImageReport>,
    pub(crate) registries: Vec<RegistryReport>,
    /// Unix seconds when the probe started (expiry metrics count from it).
    pub(crate) started: i64,
    pub(crate) timeout: Duration,
    pub(crate) identity: Option<Identity>,
}

impl Report {
    /// Exit 0: every image through a mirror; without images, every endpoint answered.
    pub(crate) fn success(&self) -> bool {
        if self.images.is_empty() {
            self.registries
                .iter()
                .flat_map(|r| &r.endpoints)
                .all(|e| e.ok)
        } else {
            self.images.iter().all(ImageReport::via_mirror)
        }
    }

    /// What failed, for the one error line on stderr.
    pub(crate) fn failure(&self) -> String {
        if self.images.is_empty() {
            let failed: Vec<&str> = self
                .registries
                .iter()
                .flat_map(|r| &r.endpoints)
                .filter(|e| !e.ok)
                .map(|e| e.url.as_str())
                .collect();
            format!(
                "probe: {} endpoint{} did not answer as a registry: {}",
                failed.len(),
                if failed.len() == 1 { "" } else { "s" },
                failed.join(", ")
            )
        } else {
            let failed: Vec<String> = self
                .images
                .iter()
                .filter(|i| !i.via_mirror())
                .map(|i| match i.served() {
                    Some(e) => format!("{} (from the upstream {})", i.image, e.url),
                    None => format!("{} (from no endpoint)", i.image),
                })
                .collect();
            format!(
                "probe: {} of {} image{} not served through a mirror: {}",
                failed.len(),
                self.images.len(),
                if self.images.len() == 1 { "" } else { "s" },
                failed.join(", ")
            )
        }
    }
}

/// Credentials the kubelet would send with the pull (the credential plugin's grant for
/// `--namespace`): offered to every host that challenges, as containerd's CRI does.
#[derive(Clone)]
struct Credentials {
    username: String,
    secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// Everything one run shares.
struct Context<'a> {
    inventory: &'a Inventory,
    secrets: Secrets,
    root: &'a Path,
    timeout: Duration,
    system: tls::SystemRoots,
}

/// Runs the probe. Errors are those of the inventory's secret and certificate files, before
/// anything is contacted.
pub(crate) fn run(inventory: &Inventory, options: &Options) -> Result<Report, Error> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut images = Vec::new();
    for reference in &options.images {
        images.push(image_pattern::normalize_image(reference).map_err(|why| {
            Error::Partial(format!(
                "`{reference}` is not a valid image reference: {why}"
            ))
        })?);
    }
    let secrets = Secrets::load(inventory, &options.root)?;
    let ctx = Context {
        inventory,
        secrets,
        root: &options.root,
        timeout: options.timeout,
        system: tls::SystemRoots::load(),
    };
    let mut report = Report {
        images: Vec::new(),
        registries: Vec::new(),
        started,
        timeout: options.timeout,
        identity: options.who.as_ref().map(|who| who.identity.clone()),
    };
    for image in &images {
        let granted = match &options.who {
            Some(who) => credentials_for(&ctx, &who.identity, who.annotations.as_ref(), image)?,
            None => None,
        };
        let (grant, credentials) = granted.unzip();
        let mut probed = probe_image(&ctx, image, credentials.as_ref());
        probed.grant = grant;
        report.images.push(probed);
    }
    if images.is_empty() {
        for registry in &inventory.registries {
            let model = RegistryModel::new(registry, inventory.target);
            // The endpoints the inventory names; the upstream is an image's, not the inventory's.
            let endpoints: Vec<Endpoint<'_>> = model
                .hosts
                .iter()
                .chain(model.server.as_ref())
                .cloned()
                .collect();
            let name = if registry.name == "*" {
                None
            } else {
                Some(registry.name.as_str())
            };
            report.registries.push(RegistryReport {
                registry: registry.name.clone(),
                endpoints: endpoints
                    .iter()
                    .map(|e| probe_endpoint(&ctx, e, name, None, None))
                    .collect(),
            });
        }
    }
    Ok(report)
}

/// The first grant the plugin answers with for this identity and image (its field path and
/// registry pattern, and its files read below the root). Grants that depend on annotations
/// are not guessed.
fn credentials_for(
    ctx: &Context<'_>,
    who: &Identity,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    image: &ImageName,
) -> Result<Option<(Granted, Credentials)>, Error> {
    let Some(plugin) = &ctx.inventory.credential_plugin else {
        return Ok(None);
    };
    let mapping = crate::credential_plugin::mapping(plugin, ctx.inventory.target.kubelet);
    let evaluations = grants::evaluate(&mapping.grants, who, annotations, &image.name);
    let Some(e) = evaluations.iter().find(|e| e.verdict == Verdict::Answers) else {
        return Ok(None);
    };
    let read = |node_path: &str, what: &str| {
        let path = crate::fsx::under_root(ctx.root, node_path);
        secrets::read_secret_file(&path).map_err(|reason| Error::Secret {
            field: format!("{} {what}", grants::field_path(e.index)),
            path: path.clone(),
            reason: format!("the file {reason}"),
        })
    };
    let credentials = Credentials {
        username: read(&e.grant.username_file, "usernameFile")?,
        secret: read(&e.grant.password_file, "passwordFile")?,
    };
    let grant = Granted {
        field: grants::field_path(e.index),
        registry: e.grant.registry.clone(),
    };
    Ok(Some((grant, credentials)))
}

fn probe_image(ctx: &Context<'_>, image: &ImageName, creds: Option<&Credentials>) -> ImageReport {
    let walk = resolve::walk(ctx.inventory, image);
    let by_digest = image.digest.is_some();
    let mut endpoints = Vec::new();
    let mut served_by = None;
    for e in &walk.endpoints {
        let mut r = if served_by.is_some() {
            not_contacted(e, "an earlier endpoint serves the image")
        } else if !e.serves(by_digest) {
            not_contacted(
                e,
                "containerd does not ask it for this pull (a tag needs pull and resolve)",
            )
        } else {
            probe_endpoint(ctx, e, Some(&image.registry), Some(image), creds)
        };
        if served_by.is_none() && r.ok && r.not_contacted.is_none() {
            served_by = Some(endpoints.len());
        }
        r.upstream = is_upstream(e);
        endpoints.push(r);
    }
    let reference = match (&image.tag, &image.digest) {
        (_, Some(d)) => format!("{}@{d}", image.name),
        (Some(t), None) => format!("{}:{t}", image.name),
        (None, None) => format!("{}:latest", image.name),
    };
    ImageReport {
        image: reference,
        registry: image.registry.clone(),
        directory: walk.directory,
        endpoints,
        served_by,
        grant: None,
    }
}

fn is_upstream(e: &Endpoint<'_>) -> bool {
    e.role == Role::Upstream || (e.role == Role::Server && e.mirror.is_none())
}

fn not_contacted(e: &Endpoint<'_>, why: &str) -> EndpointReport {
    EndpointReport {
        url: e.api_url(),
        role: e.role.name(),
        upstream: is_upstream(e),
        not_contacted: Some(why.to_string()),
        ok: false,
        error: None,
        steps: Vec::new(),
        seconds: 0.0,
        server_cert: None,
        configured: Vec::new(),
        digest: None,
        answered: false,
    }
}

/// containerd's `isProxy`: a request carries `?ns=` unless it goes to the image's own
/// registry (`registry-1.docker.io` counting as `docker.io`).
fn is_proxy(host: &str, registry: &str) -> bool {
    host != registry && !(registry == "docker.io" && host == "registry-1.docker.io")
}

/// One endpoint as containerd contacts it.
struct Target {
    scheme: Scheme,
    host: String,
    port: u16,
    explicit_port: bool,
    /// `host[:port]` as written, for the Host header.
    authority: String,
    api_path: String,
    ns: Option<String>,
    headers: Vec<(String, String)>,
    tls: Option<tls::Setup>,
    /// `dialTimeout` when the target honours it.
    dial: Option<Duration>,
    https_first: bool,
}

/// The parts of `host[:port]`; brackets stay off an IPv6 literal.
fn split_authority(authority: &str) -> (String, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[')
        && let Some((inner, after)) = rest.split_once(']')
    {
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (inner.to_string(), port);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()),
        _ => (authority.to_string(), None),
    }
}

fn probe_endpoint(
    ctx: &Context<'_>,
    e: &Endpoint<'_>,
    registry: Option<&str>,
    image: Option<&ImageName>,
    creds: Option<&Credentials>,
) -> EndpointReport {
    let started = Instant::now();
    let mut report = not_contacted(e, "");
    report.not_contacted = None;
    let target = match prepare(ctx, e, registry) {
        Ok(t) => t,
        Err(error) => {
            report.error = Some(error.clone());
            report.steps.push(Step {
                name: "setup",
                ok: false,
                seconds: 0.0,
                detail: error,
            });
            report.seconds = started.elapsed().as_secs_f64();
            return report;
        }
    };
    if let Some(setup) = &target.tls {
        report.configured = setup.configured.clone();
    }
    let mut session = Session {
        ctx,
        target: &target,
        scheme: None,
        steps: Vec::new(),
        creds,
        answered: false,
    };
    let base_target = format!("{}/{}", target.api_path, ns_query(&target.ns, '?'));
    let base = session.request_with_auth("base", "GET", &base_target, None, None);
    let mut ok = false;
    match image {
        None => ok = base.is_ok_and(|resp| (200..300).contains(&resp.status)),
        // containerd asks for the manifest straight away; the base request is the probe's
        // own, so whatever it got (a 401 its scope-less token request cannot answer, say)
        // does not stop the manifest request once the endpoint answers HTTP at all.
        Some(_) if !session.answered => {}
        Some(image) => {
            let repository = image
                .name
                .strip_prefix(&format!("{}/", image.registry))
                .unwrap_or(&image.name);
            let reference = image
                .digest
                .clone()
                .or_else(|| image.tag.clone())
                .unwrap_or_else(|| "latest".into());
            let path = format!(
                "{}/{repository}/manifests/{reference}{}",
                target.api_path,
                ns_query(&target.ns, '?')
            );
            let manifest = session.request_with_auth(
                "manifest",
                "HEAD",
                &path,
                Some(MANIFEST_ACCEPT),
                Some(repository),
            );
            if let Ok(resp) = manifest
                && (200..300).contains(&resp.status)
            {
                report.digest = match resp.header("Docker-Content-Digest") {
                    Some(d) => Some(d.to_string()),
                    None => session.digest_by_get(&path),
                };
                ok = true;
            }
        }
    }
    report.answered = session.answered;
    report.ok = ok;
    report.error = if ok {
        None
    } else {
        session
            .steps
            .iter()
            .rev()
            .find(|s| !s.ok)
            .map(|s| format!("{}: {}", s.name, s.detail))
    };
    if let Some(setup) = &target.tls
        && let Ok(o) = setup.observed.lock()
    {
        report.server_cert = o.server_cert.clone();
    }
    report.steps = session.steps;
    report.seconds = started.elapsed().as_secs_f64();
    report
}

fn ns_query(ns: &Option<String>, lead: char) -> String {
    match ns {
        Some(ns) => format!("{lead}ns={}", token::query_escape(ns)),
        None => String::new(),
    }
}

/// The endpoint's URL parts, headers (secrets read), TLS config and dial timeout.
fn prepare<'a>(
    ctx: &Context<'_>,
    e: &'a Endpoint<'a>,
    registry: Option<&str>,
) -> Result<Target, String> {
    let (host, port) = split_authority(&e.url.host);
    let default_port = match e.url.scheme {
        Scheme::Https => 443,
        Scheme::Http => 80,
    };
    let mut headers = Vec::new();
    let mut settings = tls::Settings {
        skip_verify: e.skip_verify,
        ..tls::Settings::default()
    };
    if let Some((m, mirror)) = e.mirror {
        let r = ctx
            .inventory
            .registries
            .iter()
            .position(|r| r.mirrors.iter().any(|x| std::ptr::eq(x, mirror)))
            .ok_or_else(|| "the mirror is not in the inventory".to_string())?;
        let dir = ctx
            .inventory
            .paths
            .certs_dir
            .child(&ctx.inventory.registries[r].dir_name());
        settings.ca = mirror.ca.iter().map(|c| c.node_path(&dir)).collect();
        settings.client = mirror
            .client
            .iter()
            .map(|c| match c {
                ClientCert::Combined(f) => tls::ClientFiles {
                    cert: f.value.clone(),
                    key: f.value.clone(),
                },
                ClientCert::Pair { cert, key } => tls::ClientFiles {
                    cert: cert.value.clone(),
                    key: key.value.clone(),
                },
            })
            .collect();
        for (h, header) in mirror.headers.iter().enumerate() {
            for (v, value) in header.values.iter().enumerate() {
                let text = match value {
                    HeaderValue::Inline(text) => text.clone(),
                    HeaderValue::File(_) => ctx
                        .secrets
                        .header_value(r, m, h, v)
                        .ok_or_else(|| {
                            format!("header {}: its file was not read", header.name.value)
                        })?
                        .to_string(),
                };
                headers.push((header.name.value.clone(), text));
            }
        }
        if let Some(value) = ctx.secrets.authorization(r, m) {
            headers.push(("Authorization".to_string(), value.to_string()));
        }
    }
    // containerd gives a host its own TLS config only for these keys; otherwise the default
    // transport, which trusts the system roots, is the same thing here.
    let needs_tls = e.url.scheme == Scheme::Https || e.https_first;
    let tls = if needs_tls {
        Some(tls::setup(&settings, ctx.root, &ctx.system)?)
    } else {
        None
    };
    let dial = match e.dial_timeout {
        Some(text) => Some(
            crate::duration::parse_go_duration(text)
                .filter(|n| *n > 0)
                .map(|n| Duration::from_nanos(n as u64))
                .ok_or_else(|| format!("dialTimeout `{text}` is not a Go duration"))?,
        ),
        None => None,
    };
    Ok(Target {
        scheme: e.url.scheme,
        explicit_port: port.is_some(),
        port: port.unwrap_or(default_port),
        host,
        authority: e.url.host.clone(),
        api_path: e.url.api_path(e.override_path),
        ns: registry
            .filter(|r| is_proxy(&e.url.host, r))
            .map(str::to_string),
        headers,
        tls,
        dial,
        https_first: e.https_first,
    })
}
