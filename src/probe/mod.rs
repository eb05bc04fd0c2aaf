//! `mirrorctl probe`: contact the endpoints of the effective model as containerd would — same
//! URLs, `?ns=`, TLS files, headers and credentials — and report each step with its timing,
//! and, for an image, which endpoint containerd would get it from (the first that answers the
//! manifest request; any transport error or status ≥ 400 moves on, as in containerd).

mod http;
pub(crate) mod output;
mod tls;
mod token;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::effective::{self, Endpoint, RegistryModel, Role, Scheme};
use crate::error::Error;
use crate::gates;
use crate::grants::{self, Identity, Verdict};
use crate::image_pattern::{self, ImageName};
use crate::inventory::{ClientCert, HeaderValue, Inventory};
use crate::resolve;
use crate::secrets::{self, Secrets};

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
    pub(crate) who: Option<Identity>,
    /// The service account's annotations, when given (`--annotation`).
    pub(crate) annotations: Option<std::collections::BTreeMap<String, String>>,
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
        identity: options.who.clone(),
    };
    for image in &images {
        let credentials = match &options.who {
            Some(who) => credentials_for(&ctx, who, options.annotations.as_ref(), image)?,
            None => None,
        };
        report
            .images
            .push(probe_image(&ctx, image, credentials.as_ref()));
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

/// The first grant the plugin answers with for this identity and image (its files read
/// below the root). Grants that depend on annotations are not guessed.
fn credentials_for(
    ctx: &Context<'_>,
    who: &Identity,
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    image: &ImageName,
) -> Result<Option<Credentials>, Error> {
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
    Ok(Some(Credentials {
        username: read(&e.grant.username_file, "usernameFile")?,
        secret: read(&e.grant.password_file, "passwordFile")?,
    }))
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

/// The requests of one endpoint's probe.
struct Session<'a> {
    ctx: &'a Context<'a>,
    target: &'a Target,
    /// The scheme and port that worked (after HTTPS-first fell back, HTTP stays).
    scheme: Option<(Scheme, u16)>,
    steps: Vec<Step>,
    creds: Option<&'a Credentials>,
    /// The endpoint answered in HTTP at least once.
    answered: bool,
}

fn step(name: &'static str, started: Instant, result: &Result<String, String>) -> Step {
    Step {
        name,
        ok: result.is_ok(),
        seconds: started.elapsed().as_secs_f64(),
        detail: match result {
            Ok(s) | Err(s) => s.clone(),
        },
    }
}

impl Session<'_> {
    /// Connects to `host:port` with `scheme`, recording dns/connect/tls steps on the first
    /// connection of the endpoint only (later ones are timed within their request).
    fn connect(
        &mut self,
        host: &str,
        port: u16,
        scheme: Scheme,
        setup: Option<&tls::Setup>,
        record: bool,
    ) -> Result<http::Conn, ConnectError> {
        let limit = self.ctx.timeout;
        let t = Instant::now();
        let addrs = http::resolve(host, port, limit);
        if record {
            let r = addrs.as_ref().map(|a| {
                let list: Vec<String> = a.iter().map(|x| x.ip().to_string()).collect();
                list.join(" ")
            });
            self.steps.push(step("dns", t, &r.map_err(Clone::clone)));
        }
        let addrs = addrs.map_err(ConnectError::Other)?;
        let dial = self.target.dial.unwrap_or(limit);
        let t = Instant::now();
        let connected = http::connect(&addrs, dial);
        if record {
            let r = connected
                .as_ref()
                .map(|(_, a)| {
                    let mut s = format!("connected to {a}");
                    if let Some(d) = self.target.dial {
                        s.push_str(&format!(" (dialTimeout {})", http::seconds(d)));
                    }
                    s
                })
                .map_err(Clone::clone);
            self.steps.push(step("connect", t, &r));
        }
        let (tcp, _) = connected.map_err(ConnectError::Connect)?;
        let timed = http::Timed::new(tcp, Instant::now() + limit);
        if scheme == Scheme::Http {
            return Ok(http::Conn::Plain(timed));
        }
        let Some(setup) = setup else {
            return Err(ConnectError::Other("no TLS configuration".into()));
        };
        let name = tls::server_name(host).map_err(ConnectError::Other)?;
        let t = Instant::now();
        match http::handshake(timed, setup.config.clone(), name) {
            Ok(conn) => {
                if record {
                    let detail = tls_detail(setup, None);
                    self.steps.push(step("tls", t, &Ok(detail)));
                }
                Ok(conn)
            }
            Err((sock, e)) => {
                let plain_http = sock.first_bytes.starts_with(b"HTTP/");
                let timed_out = matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                );
                let why = if plain_http {
                    "the server answered in plain HTTP, not TLS".to_string()
                } else {
                    http::io_error(&e, limit)
                };
                if record {
                    let detail = tls_detail(setup, Some(&why));
                    self.steps.push(step("tls", t, &Err(detail)));
                }
                Err(ConnectError::Tls {
                    why,
                    fallback: plain_http || timed_out,
                })
            }
        }
    }

    /// One request on a fresh connection; the answer's body read only when `body` asks.
    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(String, String)],
        body: http::Body,
        record: bool,
    ) -> Result<http::Response, String> {
        let target = self.target;
        let (scheme, port) = match self.scheme {
            Some(s) => s,
            None if target.https_first => (Scheme::Https, target.port),
            None => (target.scheme, target.port),
        };
        let mut conn = match self.connect(&target.host, port, scheme, target.tls.as_ref(), record) {
            Ok(conn) => {
                self.scheme = Some((scheme, port));
                conn
            }
            Err(ConnectError::Tls { why, fallback })
                if target.https_first && self.scheme.is_none() && fallback =>
            {
                // containerd's HTTP fallback: a TLS attempt answered in plain HTTP (or a TLS
                // handshake that timed out) is retried over HTTP.
                self.steps.push(Step {
                    name: "fallback",
                    ok: true,
                    seconds: 0.0,
                    detail: format!("HTTPS failed ({why}); plain HTTP, as containerd falls back"),
                });
                self.scheme = Some((Scheme::Http, target.port));
                self.connect(&target.host, target.port, Scheme::Http, None, record)
                    .map_err(|e| e.text())?
            }
            Err(ConnectError::Connect(why))
                if target.https_first && self.scheme.is_none() && !target.explicit_port =>
            {
                self.steps.push(Step {
                    name: "fallback",
                    ok: true,
                    seconds: 0.0,
                    detail: format!(
                        "HTTPS failed ({why}); plain HTTP on port 80, as containerd falls back"
                    ),
                });
                self.scheme = Some((Scheme::Http, 80));
                self.connect(&target.host, 80, Scheme::Http, None, record)
                    .map_err(|e| e.text())?
            }
            Err(e) => return Err(e.text()),
        };
        let mut headers = vec![(
            "User-Agent".to_string(),
            format!("mirrorctl/{} probe", env!("CARGO_PKG_VERSION")),
        )];
        // An Authorization the authorizer computed replaces the configured one.
        let replaced = extra
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Authorization"));
        for (name, value) in &target.headers {
            if !(replaced && name.eq_ignore_ascii_case("Authorization")) {
                headers.push((name.clone(), value.clone()));
            }
        }
        headers.extend(extra.iter().cloned());
        let resp = send(
            &mut conn,
            method,
            &target.authority,
            path,
            headers.clone(),
            b"",
            body,
            self.ctx.timeout,
        )?;
        self.answered = true;
        self.follow_redirects(method, scheme, resp, headers, body)
    }

    /// Go's client follows redirects (301, 302, 303, 307, 308; at most 10), keeping the
    /// method for GET and HEAD and dropping `Authorization` when the host changes; so does
    /// the probe. A redirect's step shows the URL without its query (presigned URLs carry
    /// credentials there).
    fn follow_redirects(
        &mut self,
        method: &str,
        scheme: Scheme,
        mut resp: http::Response,
        mut headers: Vec<(String, String)>,
        body: http::Body,
    ) -> Result<http::Response, String> {
        let mut current = Location {
            scheme,
            authority: self.target.authority.clone(),
            path: String::new(),
        };
        for _ in 0..10 {
            if !matches!(resp.status, 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(text) = resp.header("Location") else {
                return Ok(resp);
            };
            let next = current.join(text)?;
            if !next.authority.eq_ignore_ascii_case(&current.authority) {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Authorization"));
            }
            let t = Instant::now();
            let (host, port) = split_authority(&next.authority);
            let default_port = if next.scheme == Scheme::Https {
                443
            } else {
                80
            };
            let own;
            let tls = match (next.scheme, &self.target.tls) {
                (Scheme::Http, _) => None,
                (Scheme::Https, Some(setup)) => Some(setup),
                (Scheme::Https, None) => {
                    own = tls::setup(&tls::Settings::default(), self.ctx.root, &self.ctx.system)?;
                    Some(&own)
                }
            };
            let mut conn = self
                .connect(&host, port.unwrap_or(default_port), next.scheme, tls, false)
                .map_err(|e| format!("redirected to {}: {}", next.shown(), e.text()))?;
            let status = resp.status;
            resp = send(
                &mut conn,
                method,
                &next.authority,
                &next.path,
                headers.clone(),
                b"",
                body,
                self.ctx.timeout,
            )?;
            self.steps.push(step(
                "redirect",
                t,
                &Ok(format!(
                    "HTTP {status} to {}: HTTP {}",
                    next.shown(),
                    resp.status
                )),
            ));
            current = next;
        }
        Err("stopped after 10 redirects".into())
    }

    /// A request, then the auth flow on a 401: a Bearer token from the realm, or the basic
    /// credentials; then the request again. Records one step (and `token` when fetched).
    fn request_with_auth(
        &mut self,
        name: &'static str,
        method: &str,
        path: &str,
        accept: Option<&str>,
        repository: Option<&str>,
    ) -> Result<http::Response, String> {
        let record = self.steps.iter().all(|s| s.name != "dns");
        let mut extra = Vec::new();
        if let Some(accept) = accept {
            extra.push(("Accept".to_string(), accept.to_string()));
        }
        let t = Instant::now();
        let what = format!("{method} {path}");
        let first = self.exchange(method, path, &extra, http::Body::Skip, record);
        let resp = match first {
            Err(e) => {
                self.steps.push(step(name, t, &Err(format!("{what}: {e}"))));
                return Err(e);
            }
            Ok(resp) => resp,
        };
        if resp.status != 401 {
            return self.finish(name, t, &what, resp, "");
        }
        let challenges = token::challenges(&resp.all("WWW-Authenticate"));
        let chosen = challenges
            .iter()
            .find(|c| c.scheme == "bearer" || (c.scheme == "basic" && self.creds.is_some()));
        let Some(challenge) = chosen else {
            let why = if challenges.iter().any(|c| c.scheme == "basic") {
                "; Basic challenge, and no credentials to answer it (containerd: no basic auth credentials)"
            } else {
                "; no challenge containerd can answer"
            };
            return self.finish(name, t, &what, resp, why);
        };
        let authorization = if challenge.scheme == "basic" {
            let Some(creds) = self.creds else {
                return self.finish(name, t, &what, resp, "");
            };
            format!(
                "Basic {}",
                secrets::base64(format!("{}:{}", creds.username, creds.secret).as_bytes())
            )
        } else {
            match self.fetch_token(challenge, repository) {
                Ok(token) => format!("Bearer {token}"),
                Err(e) => {
                    let detail = format!("{what}: HTTP 401, Bearer challenge; {e}");
                    self.steps.push(step(name, t, &Err(detail)));
                    return Err(e);
                }
            }
        };
        extra.push(("Authorization".to_string(), authorization));
        let how = if challenge.scheme == "basic" {
            " after a Basic challenge, with the credentials of --namespace"
        } else {
            " with a Bearer token from the realm"
        };
        match self.exchange(method, path, &extra, http::Body::Skip, false) {
            Err(e) => {
                self.steps.push(step(name, t, &Err(format!("{what}: {e}"))));
                Err(e)
            }
            Ok(resp) => self.finish(name, t, &what, resp, how),
        }
    }

    fn finish(
        &mut self,
        name: &'static str,
        t: Instant,
        what: &str,
        resp: http::Response,
        note: &str,
    ) -> Result<http::Response, String> {
        let mut detail = format!("HTTP {} for {what}{note}", resp.status);
        if let Some(d) = resp.header("Docker-Content-Digest") {
            detail.push_str(&format!(" (digest {d})"));
        }
        if resp.status == 401 {
            let schemes: Vec<String> = token::challenges(&resp.all("WWW-Authenticate"))
                .iter()
                .map(challenge_text)
                .collect();
            if !schemes.is_empty() {
                detail.push_str(&format!("; challenge: {}", schemes.join(", ")));
            }
        }
        let ok = resp.status < 400;
        self.steps.push(Step {
            name,
            ok,
            seconds: t.elapsed().as_secs_f64(),
            detail,
        });
        Ok(resp)
    }

    /// A token from the challenge's realm, as containerd's authorizer fetches it.
    fn fetch_token(
        &mut self,
        challenge: &token::Challenge,
        repository: Option<&str>,
    ) -> Result<String, String> {
        let t = Instant::now();
        let result = self.fetch_token_inner(challenge, repository);
        let realm = challenge.params.get("realm").cloned().unwrap_or_default();
        let detail = match &result {
            Ok((how, _)) => Ok(format!("token from {realm} ({how})")),
            Err(e) => Err(format!("token from `{realm}`: {e}")),
        };
        self.steps.push(step("token", t, &detail));
        result.map(|(_, token)| token)
    }

    fn fetch_token_inner(
        &mut self,
        challenge: &token::Challenge,
        repository: Option<&str>,
    ) -> Result<(String, String), String> {
        let realm = challenge
            .params
            .get("realm")
            .ok_or_else(|| "the Bearer challenge names no realm".to_string())?;
        let url = effective::EndpointUrl::parse(realm)
            .ok_or_else(|| "the realm is not an http(s) URL".to_string())?;
        let (realm_path, realm_query) = match realm
            .split_once("://")
            .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
        {
            Some(rest) => match rest.split_once('?') {
                Some((p, q)) => (p.to_string(), Some(q.to_string())),
                None => (rest.to_string(), None),
            },
            None => ("/".to_string(), None),
        };
        let service = challenge.params.get("service").map(String::as_str);
        let scopes = token::scopes(challenge, repository);
        // From containerd 2.1 the host's headers go on token requests too.
        let mut headers: Vec<(String, String)> =
            if self.ctx.inventory.target.containerd >= gates::TOKEN_REQUEST_HEADERS {
                self.target.headers.clone()
            } else {
                Vec::new()
            };
        let (host, port) = split_authority(&url.host);
        let port = port.unwrap_or(if url.scheme == Scheme::Https { 443 } else { 80 });
        // The realm is asked with the endpoint's own TLS config (containerd's host client).
        let tls = if url.scheme == Scheme::Https {
            self.target.tls.as_ref()
        } else {
            None
        };
        if url.scheme == Scheme::Https && tls.is_none() {
            return Err("an https realm for an endpoint without TLS settings".into());
        }
        let limit = self.ctx.timeout;
        if let Some(creds) = self.creds {
            let form = token::oauth_form(service, &scopes, &creds.username, &creds.secret);
            let mut post_headers = headers.clone();
            post_headers.push((
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ));
            let mut conn = self
                .connect(&host, port, url.scheme, tls, false)
                .map_err(|e| e.text())?;
            let resp = send(
                &mut conn,
                "POST",
                &url.host,
                &with_query(&realm_path, realm_query.as_deref(), None),
                post_headers,
                form.as_bytes(),
                http::Body::UpTo(MAX_BODY),
                limit,
            )?;
            if (200..300).contains(&resp.status) {
                return token::token_of(&resp.body, true)
                    .map(|t| ("OAuth POST with the credentials of --namespace".into(), t));
            }
            if !token::post_falls_back(resp.status, !creds.username.is_empty()) {
                return Err(format!("the OAuth POST answered HTTP {}", resp.status));
            }
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Authorization"));
            headers.push((
                "Authorization".to_string(),
                format!(
                    "Basic {}",
                    secrets::base64(format!("{}:{}", creds.username, creds.secret).as_bytes())
                ),
            ));
        }
        let query = token::get_query(service, &scopes);
        let mut conn = self
            .connect(&host, port, url.scheme, tls, false)
            .map_err(|e| e.text())?;
        let resp = send(
            &mut conn,
            "GET",
            &url.host,
            &with_query(&realm_path, realm_query.as_deref(), Some(&query)),
            headers,
            b"",
            http::Body::UpTo(MAX_BODY),
            limit,
        )?;
        if !(200..300).contains(&resp.status) {
            return Err(format!("the realm answered HTTP {}", resp.status));
        }
        let how = if self.creds.is_some() {
            "GET with the credentials of --namespace"
        } else {
            "anonymous GET"
        };
        token::token_of(&resp.body, false).map(|t| (how.to_string(), t))
    }

    /// The digest of a manifest whose HEAD named none: containerd GETs it and digests it.
    fn digest_by_get(&mut self, path: &str) -> Option<String> {
        let extra = vec![("Accept".to_string(), MANIFEST_ACCEPT.to_string())];
        let resp = self
            .exchange("GET", path, &extra, http::Body::UpTo(MAX_BODY), false)
            .ok()?;
        (200..300).contains(&resp.status).then(|| {
            let digest: String = Sha256::digest(&resp.body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256:{digest}")
        })
    }
}

/// Where a request went: what a `Location` is resolved against.
struct Location {
    scheme: Scheme,
    authority: String,
    /// Path and query.
    path: String,
}

impl Location {
    /// An absolute `http(s)://…` Location, or a path on the same host.
    fn join(&self, location: &str) -> Result<Location, String> {
        if let Some(path) = location.strip_prefix('/').filter(|p| !p.starts_with('/')) {
            return Ok(Location {
                scheme: self.scheme,
                authority: self.authority.clone(),
                path: format!("/{path}"),
            });
        }
        let (scheme, rest) = match location.split_once("://") {
            Some(("https", rest)) => (Scheme::Https, rest),
            Some(("http", rest)) => (Scheme::Http, rest),
            _ => {
                return Err(
                    "a redirect to a Location that is neither http(s):// nor a path".into(),
                );
            }
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err("a redirect to a Location without a plain host".into());
        }
        Ok(Location {
            scheme,
            authority: authority.to_string(),
            path,
        })
    }

    /// The URL without its query.
    fn shown(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        format!("{}://{}{path}", self.scheme.name(), self.authority)
    }
}

fn with_query(path: &str, existing: Option<&str>, extra: Option<&str>) -> String {
    let parts: Vec<&str> = [existing, extra]
        .into_iter()
        .flatten()
        .filter(|q| !q.is_empty())
        .collect();
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

#[expect(clippy::too_many_arguments, reason = "one request's parts")]
fn send(
    conn: &mut http::Conn,
    method: &str,
    authority: &str,
    target: &str,
    headers: Vec<(String, String)>,
    body: &[u8],
    want: http::Body,
    limit: Duration,
) -> Result<http::Response, String> {
    use std::io::Write as _;
    let request = http::Request {
        method,
        host: authority,
        target,
        headers,
        body,
    };
    let bytes = request.encode()?;
    conn.set_deadline(Instant::now() + limit);
    conn.write_all(&bytes)
        .and_then(|()| conn.flush())
        .map_err(|e| format!("sending the request: {}", http::io_error(&e, limit)))?;
    http::read_response(conn, method == "HEAD", want).map_err(|e| {
        if e.contains("timed out")
            || e.contains("deadline")
            || e.contains("would block")
            || e.contains("Resource temporarily unavailable")
        {
            format!("no complete answer within {}", http::seconds(limit))
        } else {
            e
        }
    })
}

enum ConnectError {
    Connect(String),
    Tls { why: String, fallback: bool },
    Other(String),
}

impl ConnectError {
    fn text(self) -> String {
        match self {
            ConnectError::Connect(s) | ConnectError::Other(s) => s,
            ConnectError::Tls { why, .. } => format!("TLS: {why}"),
        }
    }
}

fn challenge_text(c: &token::Challenge) -> String {
    let mut out = c.scheme.clone();
    for key in ["realm", "service", "scope"] {
        if let Some(v) = c.params.get(key) {
            out.push_str(&format!(" {key}=\"{v}\""));
        }
    }
    out
}

fn tls_detail(setup: &tls::Setup, error: Option<&str>) -> String {
    let Ok(o) = setup.observed.lock() else {
        return error.unwrap_or("").to_string();
    };
    let mut parts = Vec::new();
    if let Some(v) = &o.verification {
        parts.push(tls::verification_text(v));
    }
    if let Some(c) = &o.server_cert {
        parts.push(format!(
            "server {} (notAfter {})",
            c.subject,
            c.not_after_text()
        ));
    }
    parts.push(match (o.client_cert_requested, o.client_cert_sent) {
        (false, _) => "client certificate not requested".into(),
        (true, true) => "client certificate requested and sent".into(),
        (true, false) => "client certificate requested, none configured".into(),
    });
    if let Some(e) = error
        && !matches!(&o.verification, Some(tls::Verification::Failed(_)))
    {
        parts.insert(0, e.to_string());
    }
    parts.join("; ")
}
