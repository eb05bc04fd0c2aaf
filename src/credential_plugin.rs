//! mirrorctl as the kubelet's credential provider (`credentialprovider.kubelet.k8s.io/v1`):
//! namespace-scoped mirror credentials. The kubelet hands the plugin the pod's service-account
//! token (KEP-4412, `tokenAttributes`); the plugin reads the namespace and service account from
//! its claims and answers with the credentials granted to that identity, read at request time
//! from root-only files. Deny by default: no grant, empty `auth`.
//!
//! The token's signature is not verified. The kubelet is the trusted channel: it requests the
//! token from the API server for this pod's own service account, with the configured audience,
//! and passes it over the plugin's stdin; nothing else can invoke the plugin with the kubelet's
//! privileges. Verifying would need the cluster's signing keys on every node and buys nothing
//! against an attacker who can already run processes as root there.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::gates;
use crate::grants::{self, Identity};
use crate::image_pattern;
use crate::inventory::{CredentialPlugin, Inventory};
use crate::version::Version;

pub(crate) const API_VERSION: &str = "credentialprovider.kubelet.k8s.io/v1";
const MAX_REQUEST_BYTES: u64 = 1 << 20;
const MAX_MAPPING_BYTES: u64 = 16 << 20;

/// The plugin's mapping file, written by `apply` (0600) and read on every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Mapping {
    pub version: u32,
    pub audience: String,
    pub cache_key_type: String,
    pub cache_duration: String,
    pub grants: Vec<MappingGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MappingGrant {
    pub registry: String,
    pub namespace: String,
    pub service_account: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub username_file: String,
    pub password_file: String,
}

/// The mapping for `plugin`. Before kubelet 1.34 there is no `cacheType: ServiceAccount`, so
/// the kubelet's cache could hand one identity's answer to another: the answer then says
/// `cacheDuration: 0s` (never cached). From 1.34 the kubelet keys its cache by service account
/// and the configured duration is safe.
pub(crate) fn mapping(plugin: &CredentialPlugin, kubelet: Version) -> Mapping {
    Mapping {
        version: 1,
        audience: plugin.audience.value.clone(),
        cache_key_type: "Registry".into(),
        cache_duration: if kubelet >= gates::CACHE_TYPE {
            plugin.cache_duration.value.clone()
        } else {
            "0s".into()
        },
        grants: plugin
            .grants
            .iter()
            .map(|g| MappingGrant {
                registry: g.registry.value.clone(),
                namespace: g.namespace.value.clone(),
                service_account: g.service_account.as_ref().map(|s| s.value.clone()),
                annotations: g.annotations.iter().cloned().collect(),
                username_file: g.username_file.value.clone(),
                password_file: g.password_file.value.clone(),
            })
            .collect(),
    }
}

pub(crate) fn render_mapping(inventory: &Inventory, plugin: &CredentialPlugin) -> String {
    let mut text = serde_json::to_string_pretty(&mapping(plugin, inventory.target.kubelet))
        .unwrap_or_default();
    text.push('\n');
    text
}

/// The executable the kubelet runs from its bin dir: it hands over to the mirrorctl binary.
pub(crate) fn render_exec(plugin: &CredentialPlugin) -> String {
    let quoted = plugin.binary.value.as_str().replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n# Managed by mirrorctl: the kubelet's credential provider `{}`.\nexec '{quoted}' \"$@\"\n",
        plugin.name.value
    )
}

/// The kubelet's request. Unknown fields are ignored, not refused: the request grows with the
/// kubelet (1.33 added the service-account fields), and a plugin that refused a new field
/// would fail every credentialed pull on the first kubelet that sends one. The known fields
/// keep their types, and `apiVersion` and `kind` are checked.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    api_version: String,
    kind: String,
    image: String,
    #[serde(default)]
    service_account_token: Option<String>,
    #[serde(default)]
    service_account_annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    api_version: &'static str,
    kind: &'static str,
    cache_key_type: String,
    cache_duration: String,
    auth: BTreeMap<String, AuthConfig>,
}

#[derive(Serialize)]
struct AuthConfig {
    username: String,
    password: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthConfig(<redacted>)")
    }
}

/// What the plugin decided, for its one stderr line (never a secret).
#[derive(Debug)]
pub(crate) struct Answer {
    pub json: String,
    pub note: String,
}

/// Handles one request. `Err` is a one-line reason for a malformed request or mapping; the
/// caller exits non-zero with it.
pub(crate) fn answer(mapping_path: &Path, request: &[u8], now: u64) -> Result<Answer, String> {
    let mapping_bytes = read_mapping(mapping_path)?;
    let mapping: Mapping = serde_json::from_slice(&mapping_bytes)
        .map_err(|e| format!("the mapping `{}` is invalid: {e}", mapping_path.display()))?;
    let request: Request =
        serde_json::from_slice(request).map_err(|e| format!("malformed request: {e}"))?;
    if request.api_version != API_VERSION {
        return Err(format!(
            "unsupported apiVersion `{}`; this plugin speaks {API_VERSION}",
            request.api_version
        ));
    }
    if request.kind != "CredentialProviderRequest" {
        return Err(format!("unexpected kind `{}`", request.kind));
    }
    let name = image_pattern::normalize_image(&request.image)
        .map(|i| i.name)
        .unwrap_or_else(|_| request.image.clone());
    // The notes name the image clipped: the kubelet's request may hold any string.
    let image = crate::error::clip_text(&name);
    let deny = |note: String| Answer {
        json: respond(&mapping, BTreeMap::new()),
        note,
    };
    // No grant pattern can match a host beyond DNS limits (the inventory's patterns are held
    // to them), so such an image gets no credentials, and costs no matching.
    let host = name.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    if host.len() > 253 || host.split('.').any(|label| label.len() > 63) {
        return Ok(deny(format!(
            "{image}: the image's host is not a DNS name (labels of at most 63 characters, \
             253 in all): denied"
        )));
    }
    let Some(token) = request
        .service_account_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Ok(deny(format!("{image}: no service account token: denied")));
    };
    let claims = decode_claims(token)?;
    if !audience_matches(&claims, &mapping.audience) {
        return Ok(deny(format!(
            "{image}: the token is not for audience `{}`: denied",
            mapping.audience
        )));
    }
    if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_u64)
        && exp <= now
    {
        return Ok(deny(format!("{image}: the token has expired: denied")));
    }
    let identity = identity(&claims)?;
    let annotations = request.service_account_annotations.unwrap_or_default();
    let mut auth = BTreeMap::new();
    for evaluation in grants::evaluate(&mapping.grants, &identity, Some(&annotations), &name) {
        if evaluation.verdict != grants::Verdict::Answers {
            continue;
        }
        let grant = evaluation.grant;
        let username = read_secret(&grant.username_file)?;
        let password = read_secret(&grant.password_file)?;
        auth.insert(grant.registry, AuthConfig { username, password });
    }
    let who = format!("{}/{}", identity.namespace, identity.service_account);
    let note = if auth.is_empty() {
        format!("{image}: no grant for {who}: denied")
    } else {
        let keys: Vec<&str> = auth.keys().map(String::as_str).collect();
        format!("{image}: credentials for {who} ({})", keys.join(", "))
    };
    Ok(Answer {
        json: respond(&mapping, auth),
        note,
    })
}

fn respond(mapping: &Mapping, auth: BTreeMap<String, AuthConfig>) -> String {
    let response = Response {
        api_version: API_VERSION,
        kind: "CredentialProviderResponse",
        cache_key_type: mapping.cache_key_type.clone(),
        cache_duration: mapping.cache_duration.clone(),
        auth,
    };
    serde_json::to_string(&response).unwrap_or_default()
}

/// The mapping names every team's credential files: group or others reading it learn who may
/// pull what, and a writable copy could point a namespace at another's secrets. Refused like a
/// credential file, checked on the opened file so the check and the read see the same inode.
fn read_mapping(path: &Path) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::PermissionsExt;
    let cannot = |e: std::io::Error| format!("cannot read the mapping `{}`: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!(
            "the mapping `{}` is not a regular file",
            path.display()
        ));
    }
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "the mapping `{}` is open to group or others (mode {:04o}); make it root-only: chmod 600",
            path.display(),
            mode & 0o7777
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_MAPPING_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_MAPPING_BYTES {
        return Err(format!(
            "cannot read the mapping `{}`: larger than {MAX_MAPPING_BYTES} bytes",
            path.display()
        ));
    }
    Ok(bytes)
}

fn read_secret(path: &str) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the credential file `{path}`: {e}"))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "the credential file `{path}` is readable by group or others (mode {:04o}); make it root-only: chmod 600",
            mode & 0o7777
        ));
    }
    crate::secrets::read_secret_file(Path::new(path))
        .map_err(|reason| format!("the credential file `{path}` {reason}"))
}

/// The JSON payload of a JWT, without verifying its signature (see the module docs).
pub(crate) fn decode_claims(
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(
            "malformed service account token: not a JWT (three dot-separated parts)".into(),
        );
    }
    let payload = base64url_decode(parts[1])
        .ok_or("malformed service account token: the payload is not base64url")?;
    match serde_json::from_slice(&payload) {
        Ok(serde_json::Value::Object(claims)) => Ok(claims),
        _ => Err("malformed service account token: the payload is not a JSON object".into()),
    }
}

fn audience_matches(claims: &serde_json::Map<String, serde_json::Value>, audience: &str) -> bool {
    match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == audience,
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}

/// Namespace and service account from the `kubernetes.io` claim, cross-checked with `sub`
/// (`system:serviceaccount:NS:NAME`).
pub(crate) fn identity(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Identity, String> {
    let from_sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| s.strip_prefix("system:serviceaccount:"))
        .and_then(|s| s.split_once(':'))
        .map(|(ns, sa)| Identity {
            namespace: ns.to_string(),
            service_account: sa.to_string(),
        });
    let k8s = claims.get("kubernetes.io");
    let from_claim = k8s.and_then(|k| {
        Some(Identity {
            namespace: k.get("namespace")?.as_str()?.to_string(),
            service_account: k.get("serviceaccount")?.get("name")?.as_str()?.to_string(),
        })
    });
    match (from_claim, from_sub) {
        (Some(a), Some(b)) if a != b => Err(
            "malformed service account token: `sub` and the `kubernetes.io` claim name different accounts".into(),
        ),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(
            "malformed service account token: no namespace and service account in its claims".into(),
        ),
    }
}

pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Reads the request from stdin (bounded) for the CLI.
pub(crate) fn read_request() -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the request from stdin: {e}"))?;
    if bytes.len() as u64 > MAX_REQUEST_BYTES {
        return Err("the request is larger than 1 MiB".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        assert_eq!(base64url_decode("eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(base64url_decode("_-8").unwrap(), [0xff, 0xef]);
        assert!(base64url_decode("a b").is_none());
    }
}
