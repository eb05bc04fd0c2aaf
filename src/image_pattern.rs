//! The kubelet's `matchImages` semantics (`URLsMatchStr`), written once for validation, lint
//! and resolve: pattern and image are both read as `https://` + text; ports must be equal,
//! hosts must have the same number of dot-separated labels, each label is a shell glob, and
//! the path is a raw string prefix.

use std::fmt;

/// A pattern or an image name as the kubelet's URL parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts {
    pub host: String,
    pub port: Option<String>,
    pub path: String,
}

/// Parses `text` the way `url.Parse("https://" + text)` would, or says why Go would fail.
pub fn parse(text: &str) -> Result<UrlParts, String> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    let end = text.find(['/', '?', '#']).unwrap_or(text.len());
    let (authority, rest) = text.split_at(end);
    let path = match rest.find(['?', '#']) {
        Some(i) => &rest[..i],
        None => rest,
    };
    let authority = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or_else(|| "has an unclosed `[` in its host".to_string())?;
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("has an invalid port {after:?}")),
        };
        (&authority[..close + 2], port)
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && !port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("has an invalid port {port:?}"));
    }
    if !host.starts_with('[')
        && let Some(c) = host.chars().find(|&c| {
            c.is_ascii() && !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:<>\"%".contains(c))
        })
    {
        return Err(format!("has the invalid character {c:?} in its host"));
    }
    Ok(UrlParts {
        host: host.to_string(),
        port: port.filter(|p| !p.is_empty()).map(str::to_string),
        path: path.to_string(),
    })
}

/// Why a pattern does not match an image, in the kubelet's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Unparsable(String),
    Port {
        pattern: Option<String>,
        image: Option<String>,
    },
    LabelCount {
        pattern: usize,
        image: usize,
    },
    Label {
        pattern: String,
        image: String,
        case_only: bool,
    },
    PathPrefix {
        pattern: String,
        image: String,
        case_only: bool,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
        match self {
            Mismatch::Unparsable(why) => write!(f, "the kubelet cannot parse it: it {why}"),
            Mismatch::Port { pattern, image } => write!(
                f,
                "ports must be equal: the pattern's port is {}, the image's is {}",
                port(pattern),
                port(image)
            ),
            Mismatch::LabelCount { pattern, image } => write!(
                f,
                "the pattern's host has {pattern} dot-separated labels and the image's has {image}; a `*` matches exactly one label"
            ),
            Mismatch::Label {
                pattern,
                image,
                case_only,
            } => {
                write!(f, "host label `{pattern}` does not match `{image}`")?;
                if *case_only {
                    write!(f, " (matching is case-sensitive)")?;
                }
                Ok(())
            }
            Mismatch::PathPrefix {
                pattern,
                image,
                case_only,
            } => {
                write!(
                    f,
                    "the image path `{image}` does not start with `{pattern}`"
                )?;
                if *case_only {
                    write!(f, " (matching is case-sensitive)")?;
                }
                Ok(())
            }
        }
    }
}

/// Does `pattern` match the normalized image name `image` (no tag or digest)?
pub fn matches(pattern: &str, image: &str) -> Result<(), Mismatch> {
    let glob = parse(pattern).map_err(Mismatch::Unparsable)?;
    let target = parse(image).map_err(Mismatch::Unparsable)?;
    if glob.port != target.port {
        return Err(Mismatch::Port {
            pattern: glob.port,
            image: target.port,
        });
    }
    let glob_labels: Vec<&str> = glob.host.split('.').collect();
    let image_labels: Vec<&str> = target.host.split('.').collect();
    if glob_labels.len() != image_labels.len() {
        return Err(Mismatch::LabelCount {
            pattern: glob_labels.len(),
            image: image_labels.len(),
        });
    }
    for (g, i) in glob_labels.iter().zip(&image_labels) {
        if !glob_match(g, i) {
            return Err(Mismatch::Label {
                pattern: g.to_string(),
                image: i.to_string(),
                case_only: glob_match(&g.to_lowercase(), &i.to_lowercase()),
            });
        }
    }
    if !target.path.starts_with(&glob.path) {
        return Err(Mismatch::PathPrefix {
            case_only: target
                .path
                .to_lowercase()
                .starts_with(&glob.path.to_lowercase()),
            pattern: glob.path,
            image: target.path,
        });
    }
    Ok(())
}

/// Shell-glob match of one host label: `*` any run of characters, `?` one character.
/// Character classes cannot occur: `[` already fails the kubelet's URL parser.
fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

/// An image reference as a user writes it, normalized the way the kubelet and containerd see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// The registry host as in the reference, `docker.io` for Docker Hub.
    pub registry: String,
    /// The full name without tag or digest: `docker.io/library/nginx`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Normalizes `nginx`, `nginx:1.27`, `ghcr.io/org/app@sha256:…`, `reg.local:5000/team/app`.
pub fn normalize_image(reference: &str) -> Result<ImageName, String> {
    if reference.is_empty() {
        return Err("the image reference is empty".into());
    }
    if let Some(c) = reference
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("the image reference contains {c:?}"));
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => {
            let valid = d.split_once(':').is_some_and(|(alg, hex)| {
                !alg.is_empty() && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if !valid {
                return Err(format!("`{d}` is not a valid digest"));
            }
            (r, Some(d.to_string()))
        }
        None => (reference, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (rest, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let tag = &rest[last_slash + i + 1..];
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                && !tag.starts_with(['.', '-']);
            if !valid {
                return Err(format!("`{tag}` is not a valid tag"));
            }
            (&rest[..last_slash + i], Some(tag.to_string()))
        }
        None => (rest, None),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') =>
        {
            let first = if first == "index.docker.io" {
                "docker.io"
            } else {
                first
            };
            (first.to_string(), path.to_string())
        }
        _ => ("docker.io".to_string(), rest.to_string()),
    };
    let path = if registry == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c.as_bytes()[0].is_ascii_alphanumeric()
            && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
    };
    if let Some(bad) = path.split('/').find(|c| !component_ok(c)) {
        return Err(format!(
            "`{bad}` is not a valid repository path component (lowercase letters, digits and . _ - only)"
        ));
    }
    parse(&registry).map_err(|why| format!("the registry `{registry}` {why}"))?;
    Ok(ImageName {
        name: format!("{registry}/{path}"),
        registry,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_matching_rules() {
        assert!(matches("docker.io", "docker.io/library/nginx").is_ok());
        assert!(matches("docker.io/library", "docker.io/library/nginx").is_ok());
        assert!(matches("*.io", "docker.io/library/nginx").is_ok());
        assert!(matches("*.io", "a.quay.io/x").is_err());
        assert!(matches("*.*.example.com", "a.b.example.com/x").is_ok());
        assert!(matches("reg:5000/team", "reg:5000/teamx/app").is_ok());
        assert!(matches("reg", "reg:5000/app").is_err());
        assert!(matches("Docker.io", "docker.io/x").is_err());
        assert!(matches("*", "docker.io/library/nginx").is_err());
        assert!(matches("*", "localhost/app").is_ok());
    }

    #[test]
    fn normalizes_references() {
        let n = normalize_image("nginx:1.27").unwrap();
        assert_eq!(n.name, "docker.io/library/nginx");
        assert_eq!(n.tag.as_deref(), Some("1.27"));
        let n = normalize_image("registry.local:5000/team/app").unwrap();
        assert_eq!(n.registry, "registry.local:5000");
        assert_eq!(n.name, "registry.local:5000/team/app");
        let n = normalize_image("[::1]:5000/app").unwrap();
        assert_eq!(n.registry, "[::1]:5000");
        assert!(normalize_image("Nginx").is_err());
        assert!(normalize_image("nginx@sha256:zz").is_err());
    }
}
