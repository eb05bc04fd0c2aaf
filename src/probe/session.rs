//! The requests of one endpoint's probe, as containerd makes them: a fresh connection per
//! request (DNS, connect, TLS timed on the first), HTTPS first with containerd's fallback to
//! HTTP, redirects as Go's client follows them, and the auth flow on a 401.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Context, Credentials, MANIFEST_ACCEPT, MAX_BODY, Step, Target, split_authority};
use super::{http, tls, token};
use crate::effective::{self, Scheme};
use crate::gates;
use crate::secrets;

/// The requests of one endpoint's probe.
pub(super) struct Session<'a> {
    pub(super) ctx: &'a Context<'a>,
    pub(super) target: &'a Target,
    /// The scheme and port that worked (after HTTPS-first fell back, HTTP stays).
    pub(super) scheme: Option<(Scheme, u16)>,
    pub(super) steps: Vec<Step>,
    pub(super) creds: Option<&'a Credentials>,
    /// The endpoint answered in HTTP at least once.
    pub(super) answered: bool,
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
    pub(super) fn request_with_auth(
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
    pub(super) fn digest_by_get(&mut self, path: &str) -> Option<String> {
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
