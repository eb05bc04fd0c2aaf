//! containerd's rules: registry names, mirror URLs, capabilities, TLS files, headers, timeouts.

use super::Checker;
use crate::code::Code;
use crate::duration::parse_go_duration;
use crate::effective::{self, Capability, EndpointUrl, Scheme};
use crate::error::clip_text;
use crate::gates;
use crate::inventory::model::*;
use crate::inventory::path::{index, key};
use crate::redact;
use crate::x509;
use std::collections::{HashMap, HashSet};

impl Checker<'_> {
    pub(super) fn registries(&mut self) {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for registry in &self.inventory.registries {
            let path = key("registries", &registry.name);
            if let Err(why) = check_registry_name(&registry.name) {
                self.problem(Code::R001, &path, Some(registry.mark), why);
            } else if let Some(first) = seen.insert(registry.name.to_lowercase(), &registry.name) {
                self.problem(Code::R003,
                    &path,
                    Some(registry.mark),
                    format!("`{}` and `{first}` differ only in case; registry names are matched case-insensitively here because both would steer the same pulls", registry.name),
                );
            }
            self.registry(registry, &path);
        }
    }

    fn registry(&mut self, registry: &Registry, path: &str) {
        if registry.declared_mirrors == 0 {
            self.problem(Code::R004,
                &key(path, "mirrors"),
                Some(registry.mark),
                "a registry needs at least one mirror (containerd 1.6 and 1.7 reject a hosts.toml without a [host] table)",
            );
        }
        if let Some(server) = &registry.server {
            if let Err(why) = check_url(&server.value) {
                self.problem(Code::M001, &key(path, "server"), Some(server.mark), why);
            }
            if !registry.fallback {
                self.problem(Code::R005,
                    &key(path, "server"),
                    Some(server.mark),
                    "`server` and `fallback: false` contradict each other: with fallback off the last mirror becomes the server",
                );
            }
        }
        // One endpoint to containerd (scheme, host, API path) is one endpoint here: `https://m`,
        // `https://m/` and `https://m/v2` would be tried twice.
        let target = self.inventory.target;
        let server_index = effective::server_mirror(registry);
        let mut seen: HashMap<(Scheme, String, String), String> = HashMap::new();
        // Two endpoints that differ only in `override_path` (`https://m/` verbatim and `https://m`
        // with /v2) are written under one `[host."https://m"]` key, which TOML holds once.
        let mut tables: HashMap<String, String> = HashMap::new();
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(path, "mirrors"), i);
            self.mirror(mirror, &mirror_path);
            let Some(url) = EndpointUrl::parse(&mirror.url.value) else {
                continue;
            };
            if url.is_ipv6_literal()
                && Some(i) != server_index
                && target.containerd < gates::GO_TOML_V2
            {
                self.problem(Code::M012,
                    &key(&mirror_path, "url"),
                    Some(mirror.url.mark),
                    format!("containerd {} cannot read a `[host.\"{}\"]` table (its TOML parser refuses `]` in a table key) and would ignore the whole hosts.toml; use a host name, or make it the last mirror of a `fallback: false` registry (written as `server`)", target.containerd, url.written()),
                );
            }
            let override_path = mirror
                .override_path
                .unwrap_or_else(|| url.infers_override_path());
            let identity = url.identity(override_path);
            let table = (Some(i) != server_index).then(|| url.written());
            match (seen.get(&identity), table.as_ref().and_then(|t| tables.get(t))) {
                (Some(first), _) => self.problem(Code::M002,
                    &key(&mirror_path, "url"),
                    Some(mirror.url.mark),
                    format!("`{}` is the same endpoint as `{first}` to containerd ({}://{}{}); it would be tried twice", mirror.url.value, url.scheme.name(), url.host, identity.2),
                ),
                (None, Some(first)) => self.problem(Code::M002,
                    &key(&mirror_path, "url"),
                    Some(mirror.url.mark),
                    format!("`{}` and `{first}` are both written as `[host.\"{}\"]`, and a hosts.toml holds one table per key: one of them would be lost; give them URLs that differ", mirror.url.value, table.as_deref().unwrap_or_default()),
                ),
                (None, None) => {
                    seen.insert(identity, mirror.url.value.clone());
                    if let Some(table) = table {
                        tables.insert(table, mirror.url.value.clone());
                    }
                }
            }
        }
        if let Some(server) = &registry.server
            && let Some(url) = EndpointUrl::parse(&server.value)
            && let Some(first) = seen.get(&url.identity(url.infers_override_path()))
        {
            self.problem(Code::M002,
                &key(path, "server"),
                Some(server.mark),
                format!("the server `{}` is the same endpoint as the mirror `{first}`; containerd would try it twice", server.value),
            );
        }
    }

    fn mirror(&mut self, mirror: &Mirror, path: &str) {
        let target = self.inventory.target;
        if let Err(why) = check_url(&mirror.url.value) {
            self.problem(Code::M001, &key(path, "url"), Some(mirror.url.mark), why);
        }
        if let Some(caps) = &mirror.capabilities {
            let caps_path = key(path, "capabilities");
            if caps.value.is_empty() {
                self.problem(Code::M003,
                    &caps_path,
                    Some(caps.mark),
                    "an empty list means ALL capabilities to containerd, push included; list them, or omit the field for [pull, resolve]",
                );
            }
            let mut seen = HashSet::new();
            for (i, cap) in caps.value.iter().enumerate() {
                let lower = cap.value.to_lowercase();
                let capability = Capability::parse(&cap.value);
                if capability.is_none() {
                    self.problem(Code::M004,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("unknown capability `{}`: containerd ignores the whole hosts.toml on an unknown capability; use pull, resolve, push or referrers", cap.value),
                    );
                } else if capability == Some(Capability::Referrers)
                    && target.containerd < gates::REFERRERS
                {
                    self.problem(Code::M005,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("`referrers` needs containerd 2.2 or later; containerd {} ignores the whole hosts.toml", target.containerd),
                    );
                }
                if !seen.insert(lower) {
                    self.problem(
                        Code::M006,
                        &index(&caps_path, i),
                        Some(cap.mark),
                        format!("capability `{}` is listed twice", cap.value),
                    );
                }
            }
        }
        for (i, ca) in mirror.ca.iter().enumerate() {
            let ca_path = if mirror.ca.len() == 1 {
                key(path, "ca")
            } else {
                index(&key(path, "ca"), i)
            };
            match ca {
                Ca::File(file) => self.file_path(&ca_path, file),
                Ca::Pem(pem) => self.pem_certificates(&key(&ca_path, "pem"), pem),
            }
        }
        for (i, client) in mirror.client.iter().enumerate() {
            let client_path = if mirror.client.len() == 1 {
                key(path, "client")
            } else {
                index(&key(path, "client"), i)
            };
            match client {
                ClientCert::Combined(file) => self.file_path(&client_path, file),
                ClientCert::Pair {
                    cert,
                    key: key_file,
                } => {
                    self.file_path(&key(&client_path, "cert"), cert);
                    self.file_path(&key(&client_path, "key"), key_file);
                }
            }
        }
        let mut names = HashSet::new();
        for header in &mirror.headers {
            let header_path = key(&key(path, "headers"), &header.name.value);
            let name = &header.name.value;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    format!("`{name}` is not a valid HTTP header name"),
                );
            }
            if !names.insert(name.to_lowercase()) {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    format!("header `{name}` is set twice (header names are case-insensitive)"),
                );
            }
            if header.values.is_empty() {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    "a header needs at least one value",
                );
            }
            let inline: Vec<&str> = header
                .values
                .iter()
                .filter_map(HeaderValue::inline)
                .collect();
            if inline
                .iter()
                .any(|v| v.chars().any(|c| c.is_control() && c != '\t'))
            {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    "a header value may not contain control characters or line breaks",
                );
            }
            if let Some(hint) = inline_secret_hint(name, &inline) {
                self.problem(
                    Code::M009,
                    &header_path,
                    Some(header.name.mark),
                    format!("`{name}` carries a credential and may not be written inline in the inventory; {hint}, so the secret is read from a root-only file at apply time"),
                );
            }
            for (i, value) in header.values.iter().enumerate() {
                if let HeaderValue::File(file) = value {
                    let file_path = if header.list {
                        key(&index(&header_path, i), "file")
                    } else {
                        key(&header_path, "file")
                    };
                    self.file_path(&file_path, file);
                }
            }
            let auth_header = matches!(
                mirror.auth.as_deref(),
                Some(Auth::BasicFrom { .. } | Auth::BearerFrom { .. })
            );
            if auth_header && name.eq_ignore_ascii_case("authorization") {
                self.problem(
                    Code::M008,
                    &header_path,
                    Some(header.name.mark),
                    "header `Authorization` is set twice: here and by `auth`; keep one",
                );
            }
        }
        if let Some(timeout) = &mirror.dial_timeout {
            let timeout_path = key(path, "dialTimeout");
            match parse_go_duration(&timeout.value) {
                None => self.problem(Code::M010, &timeout_path, Some(timeout.mark), format!("`{}` is not a Go duration (like \"5s\" or \"1m30s\"); containerd would ignore the whole hosts.toml", timeout.value)),
                Some(n) if n <= 0 => self.problem(Code::M010, &timeout_path, Some(timeout.mark), "the dial timeout must be positive"),
                Some(_) => {}
            }
            if !gates::dial_timeout(target.containerd) {
                self.problem(Code::M011,
                    &timeout_path,
                    Some(timeout.mark),
                    format!("`dial_timeout` needs containerd 2.0.7+ or 2.1+; containerd {} ignores it silently", target.containerd),
                );
            }
        }
        match mirror.auth.as_deref() {
            Some(Auth::Provider(name))
                if !self
                    .inventory
                    .credential_providers
                    .iter()
                    .any(|p| p.name.value == name.value) =>
            {
                self.problem(
                    Code::X001,
                    &key(&key(path, "auth"), "provider"),
                    Some(name.mark),
                    format!(
                        "no credential provider named `{}` is defined in `credentialProviders`",
                        name.value
                    ),
                );
            }
            Some(Auth::BasicFrom {
                username_file,
                password_file,
            }) => {
                let auth_path = key(&key(path, "auth"), "basicFrom");
                self.file_path(&key(&auth_path, "usernameFile"), username_file);
                self.file_path(&key(&auth_path, "passwordFile"), password_file);
            }
            Some(Auth::BearerFrom { token_file }) => {
                let auth_path = key(&key(path, "auth"), "bearerFrom");
                self.file_path(&key(&auth_path, "tokenFile"), token_file);
            }
            Some(Auth::Provider(_)) | None => {}
        }
    }
}

/// Credentials may only come from files; the rule is redaction's, so that what may not be
/// written inline is exactly what every output hides. `Some` is the way to write it instead.
fn inline_secret_hint(name: &str, values: &[&str]) -> Option<&'static str> {
    let credential_value = values.iter().any(|v| redact::is_credential_value(v));
    if values.is_empty() || !(credential_value || redact::is_secret_header(name)) {
        return None;
    }
    let scheme = |s: &str| {
        values
            .iter()
            .any(|v| v.trim_start().to_lowercase().starts_with(s))
    };
    Some(if scheme("basic ") {
        "use `auth: {basicFrom: {usernameFile: …, passwordFile: …}}`"
    } else if scheme("bearer ") {
        "use `auth: {bearerFrom: {tokenFile: …}}`"
    } else if name.eq_ignore_ascii_case("authorization") {
        "use `auth: {bearerFrom: {tokenFile: …}}` for a bearer token, `auth: {basicFrom: …}` for basic auth, or `{file: …}` for any other value"
    } else {
        "write the value as `{file: /etc/mirrorctl/creds/…}`"
    })
}

/// A registry name as in image references, which becomes a directory name under certsDir.
pub fn check_registry_name(name: &str) -> Result<(), String> {
    check_name(name, true)
}

/// A registry name (`as_directory`: one that becomes a directory under certsDir) or the host
/// of a mirror URL, which may well be `registry-1.docker.io`.
fn check_name(name: &str, as_directory: bool) -> Result<(), String> {
    if name == "*" {
        return Ok(());
    }
    let shown = clip_text(name);
    if name.is_empty() {
        return Err("a registry name may not be empty; use \"*\" for containerd's _default".into());
    }
    // DNS limits first: everything after this point, messages included, handles short text.
    if let Some(long) = name.split(['.', ':']).find(|label| label.len() > 63) {
        return Err(format!(
            "`{}` has a label of {} characters; a host name's labels have at most 63",
            shown,
            long.len()
        ));
    }
    if name.len() > 253 + ":65535".len() {
        return Err(format!(
            "`{}` is {} characters long; a host name has at most 253",
            shown,
            name.len()
        ));
    }
    if name.contains("://") {
        return Err(format!(
            "`{shown}` has a scheme; write the registry as in image references (`docker.io`, `reg.local:5000`); the scheme belongs to mirror URLs"
        ));
    }
    if name.contains(['/', '\\']) {
        return Err(format!(
            "`{shown}` contains a path separator; a registry name becomes one directory under certsDir and may not contain `/` or `\\`"
        ));
    }
    if name == "." || name == ".." || name.contains("..") {
        return Err(format!(
            "`{shown}` contains `..`; it would name a directory outside certsDir"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a registry name may not contain whitespace or control characters".into());
    }
    let lower = name.to_lowercase();
    if as_directory
        && (lower == "index.docker.io"
            || lower == "registry-1.docker.io"
            || lower.starts_with("index.docker.io:")
            || lower.starts_with("registry-1.docker.io:"))
    {
        return Err(format!(
            "containerd never reads a `{shown}` directory: Docker Hub images are keyed `docker.io`; write `docker.io`"
        ));
    }
    let (host, port) = if let Some(rest) = name.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or("an IPv6 address needs a closing `]`")?;
        let addr = &rest[..close];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{}` is not an IPv6 address", clip_text(addr)));
        }
        let after = &rest[close + 1..];
        match after.strip_prefix(':') {
            Some(port) => (None, Some(port)),
            None if after.is_empty() => (None, None),
            None => {
                return Err(format!(
                    "unexpected `{}` after the IPv6 address",
                    clip_text(after)
                ));
            }
        }
    } else {
        match name.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(name), None),
        }
    };
    if let Some(port) = port {
        match port.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) && !port.starts_with('0') => {}
            _ => return Err(format!("`{}` is not a port (1-65535)", clip_text(port))),
        }
    }
    if let Some(host) = host {
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(valid_label) {
            let shown_host = clip_text(host);
            return Err(format!(
                "`{shown_host}` is not a host name: labels of letters, digits and `-`, separated by dots (IPv6 goes in brackets, `*` stands for every other registry)"
            ));
        }
    }
    Ok(())
}

/// A mirror or server URL: explicit http/https scheme, a host, no credentials, query or fragment.
pub fn check_url(url: &str) -> Result<(), String> {
    let shown = clip_text(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`{shown}` has no scheme; write it explicitly, e.g. `https://{shown}`"
        ));
    };
    let shown_scheme = clip_text(scheme);
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "scheme `{shown_scheme}` is not supported; use https (or http for a plain-HTTP mirror)"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL may not contain whitespace or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "credentials in the URL are not supported; use `auth.basicFrom` with root-only files"
                .into(),
        );
    }
    if rest.contains(['?', '#']) {
        return Err("a mirror URL may not carry a query or fragment".into());
    }
    if authority.is_empty() {
        return Err(format!("`{shown}` has no host"));
    }
    check_name(authority, false).map_err(|why| format!("the host of `{shown}` is invalid: {why}"))
}

impl Checker<'_> {
    /// `ca: {pem: …}` must hold what a CA file must: at least one `CERTIFICATE` block, each an
    /// X.509 certificate (Go reads only blocks labelled exactly so), and no private key, which
    /// would be written 0644 into a directory every pull reads. Messages never quote the content.
    fn pem_certificates(&mut self, path: &str, pem: &Spanned<String>) {
        let blocks = x509::pem_blocks(&pem.value);
        if let Some(key_block) = blocks
            .iter()
            .find(|b| b.label == "PRIVATE KEY" || b.label.ends_with(" PRIVATE KEY"))
        {
            self.problem(
                Code::M013,
                path,
                Some(pem.mark),
                format!(
                    "the PEM content holds a {} block (line {} of it): a private key does not belong in the inventory, and mirrorctl would write it world-readable; give client keys as `client` files",
                    key_block.label, key_block.line
                ),
            );
            return;
        }
        let certificates: Vec<&x509::PemBlock> =
            blocks.iter().filter(|b| b.label == "CERTIFICATE").collect();
        if certificates.is_empty() {
            self.problem(
                Code::M013,
                path,
                Some(pem.mark),
                "the PEM content holds no CERTIFICATE block; write the CA certificate itself (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)",
            );
            return;
        }
        let count = certificates.len();
        for (k, block) in certificates.into_iter().enumerate() {
            if let Err(reason) = x509::certificate_block(block) {
                let which = if count == 1 {
                    String::new()
                } else {
                    format!(" (certificate {} of {count})", k + 1)
                };
                self.problem(
                    Code::M013,
                    path,
                    Some(pem.mark),
                    format!(
                        "the CERTIFICATE block at line {} of the PEM content{which} is not an X.509 certificate: {reason}",
                        block.line
                    ),
                );
            }
        }
    }
}
