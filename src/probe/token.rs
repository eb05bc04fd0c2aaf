//! Registry auth as containerd's docker authorizer does it: the `WWW-Authenticate` challenge
//! of a 401, then for Bearer a token from the realm — POST of an OAuth2 form when credentials
//! are known (falling back to GET on 400, 401, 404, or 405 with a username), GET with basic
//! credentials or anonymously otherwise — and for Basic the credentials themselves.

use std::collections::BTreeMap;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// Lower-case: `bearer`, `basic`, …
    pub(crate) scheme: String,
    /// Parameter names lower-case.
    pub(crate) params: BTreeMap<String, String>,
}

/// Every challenge in the headers' values, in order (RFC 7235: `scheme k=v, k="v", scheme2 …`).
pub(crate) fn challenges(values: &[&str]) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        let mut rest = value.trim();
        let mut current: Option<Challenge> = None;
        while !rest.is_empty() {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let token_end = rest.find([' ', '\t', ',', '=']).unwrap_or(rest.len());
            let token = &rest[..token_end];
            let after = rest[token_end..].trim_start_matches([' ', '\t']);
            if let Some(value_text) = after.strip_prefix('=') {
                // A parameter of the current challenge.
                let value_text = value_text.trim_start_matches([' ', '\t']);
                let (param, remaining) = if let Some(quoted) = value_text.strip_prefix('"') {
                    let mut param = String::new();
                    let mut chars = quoted.char_indices();
                    let mut end = quoted.len();
                    while let Some((i, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, escaped)) = chars.next() {
                                    param.push(escaped);
                                }
                            }
                            '"' => {
                                end = i + 1;
                                break;
                            }
                            c => param.push(c),
                        }
                    }
                    (param, &quoted[end.min(quoted.len())..])
                } else {
                    let end = value_text
                        .find([',', ' ', '\t'])
                        .unwrap_or(value_text.len());
                    (value_text[..end].to_string(), &value_text[end..])
                };
                if let Some(c) = current.as_mut() {
                    c.params.insert(token.to_ascii_lowercase(), param);
                }
                rest = remaining;
            } else {
                if let Some(c) = current.take() {
                    out.push(c);
                }
                current = Some(Challenge {
                    scheme: token.to_ascii_lowercase(),
                    params: BTreeMap::new(),
                });
                rest = after;
            }
        }
        if let Some(c) = current {
            out.push(c);
        }
    }
    out
}

/// containerd's `GetTokenScopes`: the scopes of the pull (`repository:<name>:pull`) and of
/// the challenge, sorted, without duplicates.
pub(crate) fn scopes(challenge: &Challenge, repository: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = challenge
        .params
        .get("scope")
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(repo) = repository {
        out.push(format!("repository:{repo}:pull"));
    }
    out.sort();
    out.dedup();
    out
}

/// `application/x-www-form-urlencoded` / query escaping (Go's `url.QueryEscape`).
pub(crate) fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The GET token request's query: `scope` (one per scope) and `service` (Go's `url.Values`
/// encodes keys in sorted order).
pub(crate) fn get_query(service: Option<&str>, scopes: &[String]) -> String {
    let mut pairs: Vec<(String, String)> = scopes
        .iter()
        .map(|s| ("scope".to_string(), s.clone()))
        .collect();
    if let Some(service) = service {
        pairs.push(("service".into(), service.to_string()));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The OAuth2 POST form of `FetchTokenWithOAuth`: password grant (or refresh-token grant when
/// there is no username), scopes space-separated.
pub(crate) fn oauth_form(
    service: Option<&str>,
    scopes: &[String],
    username: &str,
    secret: &str,
) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("scope", scopes.join(" "))];
    if let Some(service) = service {
        pairs.push(("service", service.to_string()));
    }
    pairs.push(("client_id", "containerd-client".into()));
    if username.is_empty() {
        pairs.push(("grant_type", "refresh_token".into()));
        pairs.push(("refresh_token", secret.to_string()));
    } else {
        pairs.push(("grant_type", "password".into()));
        pairs.push(("username", username.to_string()));
        pairs.push(("password", secret.to_string()));
    }
    pairs.push(("access_type", "offline".into()));
    // url.Values.Encode sorts by key.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether containerd falls back from the OAuth POST to a GET on this status.
pub(crate) fn post_falls_back(status: u16, has_username: bool) -> bool {
    matches!(status, 400 | 401 | 404) || (status == 405 && has_username)
}

/// The token of a realm's JSON answer: `token`, else `access_token` (GET); `access_token`
/// (POST).
pub(crate) fn token_of(body: &[u8], oauth: bool) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the realm's answer is not JSON".to_string())?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let token = if oauth {
        field("access_token")
    } else {
        field("token").or_else(|| field("access_token"))
    };
    token.ok_or_else(|| "the realm's answer holds no token".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        let c = challenges(&[
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        ]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].params["realm"], "https://auth.example/token");
        assert_eq!(c[0].params["service"], "registry.example");
        let c = challenges(&[r#"Basic realm="x \"y\"", Bearer realm=r,error="invalid_token""#]);
        assert_eq!(
            c.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            ["basic", "bearer"]
        );
        assert_eq!(c[0].params["realm"], "x \"y\"");
        assert_eq!(c[1].params["error"], "invalid_token");
        assert!(challenges(&["", ",,,", "=x"]).is_empty());
    }

    #[test]
    fn token_requests_encode_as_containerd() {
        let c = challenges(&[r#"Bearer realm="r",scope="repository:x:pull""#]);
        let s = scopes(&c[0], Some("library/e2e"));
        assert_eq!(s, ["repository:library/e2e:pull", "repository:x:pull"]);
        assert_eq!(
            get_query(Some("reg svc"), &s),
            "scope=repository%3Alibrary%2Fe2e%3Apull&scope=repository%3Ax%3Apull&service=reg+svc"
        );
        assert_eq!(
            oauth_form(Some("s"), &s[..1], "u", "p&w"),
            "access_type=offline&client_id=containerd-client&grant_type=password&password=p%26w&scope=repository%3Alibrary%2Fe2e%3Apull&service=s&username=u"
        );
        assert!(
            post_falls_back(404, false)
                && !post_falls_back(405, false)
                && post_falls_back(405, true)
        );
        assert_eq!(
            token_of(br#"{"token":"t","access_token":"a"}"#, false),
            Ok("t".into())
        );
        assert_eq!(token_of(br#"{"access_token":"a"}"#, false), Ok("a".into()));
        assert!(token_of(b"<html>", false).is_err());
    }
}
