//! `import kubespray`: a group_vars file's `containerd_registries_mirrors` and
//! `containerd_registry_auth`, as Kubespray's containerd role renders them.
//!
//! Followed: `roles/container-engine/containerd/templates/hosts.toml.j2` at kubespray commit
//! 0c4d6b7a (one certs.d/`<prefix>`/hosts.toml per entry: `server` is the entry's `server`,
//! else `https://<prefix>`; one `host` per mirror with `capabilities`, `skip_verify` and
//! `override_path` defaulting to false, and a Basic `authorization` header from `auth`), and
//! the role's config.toml template, which writes `containerd_registry_auth` as the legacy
//! `registry.configs."<registry>".auth`: credentials for the host contacted.

use super::error::{ImportError, source_text};
use super::secret_file::SecretFiles;
use super::yaml_source::{Field, key_text, parse};
use super::{ImportWarning, Imported, ImportedAuth, ImportedMirror, ImportedRegistry};

/// Kubespray's default when the file does not set `containerd_registries_mirrors`
/// (`roles/container-engine/containerd/defaults/main.yml`).
const DEFAULT_MIRRORS: &str = "containerd_registries_mirrors:\n  - prefix: docker.io\n    mirrors:\n      - host: https://registry-1.docker.io\n        capabilities: [\"pull\", \"resolve\"]\n        skip_verify: false\n";

/// Reads a Kubespray group_vars YAML file. `name` is the source as the user named it.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let text = source_text(name, bytes)?;
    let (root, duplicates) = parse(name, text, 0)?;
    let mut imported = Imported::default();
    for (line, message) in duplicates {
        imported.warnings.push(ImportWarning {
            line: Some(line),
            message,
        });
    }
    let root = Field {
        node: &root,
        path: String::new(),
        offset: 0,
        source: name,
    };
    if root.entries().is_err() {
        return Err(ImportError::new(
            name,
            Some(root.line()),
            "a group_vars file is a mapping of variables",
        ));
    }
    // Kubespray's default is imported for a containerd group_vars file that does not set the
    // mirrors; a file with no `containerd_…` variable at all is another file given by mistake
    // (a k3s registries.yaml, a mirrorctl inventory) and would silently import that default.
    let containerd_vars = root
        .entries()?
        .iter()
        .any(|(key, _)| key_text(key).is_some_and(|k| k.starts_with("containerd_")));
    if !containerd_vars {
        return Err(ImportError::new(
            name,
            Some(root.line()),
            "no `containerd_…` variable: not a Kubespray group_vars file for containerd",
        ));
    }
    let mut secrets = SecretFiles::default();
    let default_tree;
    let set = get_var(&root, "containerd_registries_mirrors")?;
    let from_default = set.is_none();
    let mirrors = match set {
        Some(field) => field,
        None => {
            imported.warnings.push(ImportWarning {
                line: None,
                message: "containerd_registries_mirrors is not set: Kubespray's default \
                          (docker.io through https://registry-1.docker.io) is imported"
                    .into(),
            });
            default_tree = parse(name, DEFAULT_MIRRORS, 0)?.0;
            Field {
                node: &default_tree,
                path: String::new(),
                offset: 0,
                source: name,
            }
            .get("containerd_registries_mirrors")?
            .ok_or_else(|| ImportError::new(name, None, "the default does not parse"))?
        }
    };
    for (i, entry) in mirrors.items()?.iter().enumerate() {
        let entry = mirrors.child(entry, &format!("[{i}]"));
        if let Some(mut registry) = registry(&entry, &mut secrets, &mut imported.warnings)? {
            if from_default {
                registry.origin = "Kubespray's default containerd_registries_mirrors".into();
            }
            imported.registries.push(registry);
        }
    }
    if let Some(auths) = get_var(&root, "containerd_registry_auth")? {
        for (i, auth) in auths.items()?.iter().enumerate() {
            let auth = auths.child(auth, &format!("[{i}]"));
            registry_auth(&auth, &mut imported, &mut secrets)?;
        }
    }
    imported.secrets = secrets.into_vec();
    Ok(imported)
}

fn get_var<'a>(root: &Field<'a>, name: &str) -> Result<Option<Field<'a>>, ImportError> {
    let mut field = root.get(name)?;
    if let Some(field) = &mut field {
        field.path = name.to_owned();
    }
    Ok(field)
}

/// A Jinja expression Kubespray would evaluate at deploy time: its value is not in the file.
fn templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

fn registry(
    entry: &Field<'_>,
    secrets: &mut SecretFiles,
    warnings: &mut Vec<ImportWarning>,
) -> Result<Option<ImportedRegistry>, ImportError> {
    let Some(prefix) = entry.get("prefix")? else {
        return Err(ImportError::new(
            entry.source,
            Some(entry.line()),
            format!(
                "{} has no prefix (Kubespray's template needs one)",
                entry.path
            ),
        ));
    };
    let name = prefix.text()?.to_owned();
    if templated(&name) {
        warnings.push(ImportWarning {
            line: Some(prefix.line()),
            message: format!(
                "{}.prefix {name:?} is a template expression: its registry is not imported",
                entry.path
            ),
        });
        return Ok(None);
    }
    let mut registry = ImportedRegistry {
        name: name.clone(),
        origin: format!(
            "{}:{} containerd_registries_mirrors[prefix={name}]",
            entry.source,
            entry.line()
        ),
        mirrors: Vec::new(),
        // hosts.toml always ends with its `server`.
        fallback: true,
        server: None,
        not_imported: Vec::new(),
    };
    let mut explicit_server = None;
    for (key, value) in entry.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = entry.child(value, &format!(".{key}"));
        match key {
            "prefix" => {}
            "server" => {
                let server = value.text()?;
                if templated(server) {
                    registry.not_imported.push(ImportWarning {
                        line: Some(value.line()),
                        message: format!("{}: a template expression, not imported", value.path),
                    });
                } else {
                    explicit_server = Some(server.to_owned());
                }
            }
            "mirrors" => {
                for (i, item) in value.items()?.iter().enumerate() {
                    let item = value.child(item, &format!("[{i}]"));
                    if let Some(mirror) = mirror(&item, &name, secrets, &mut registry.not_imported)?
                    {
                        registry.mirrors.push(mirror);
                    }
                }
            }
            other => registry.not_imported.push(ImportWarning {
                line: Some(value.line()),
                message: format!(
                    "{}.{other} is not rendered by Kubespray's hosts.toml template",
                    entry.path
                ),
            }),
        }
    }
    // The template writes `server = "https://<prefix>"` when the entry has none: for
    // `docker.io` that is `https://docker.io` itself, not containerd's default endpoint.
    let server = explicit_server.unwrap_or_else(|| format!("https://{name}"));
    let default_endpoint = match name.as_str() {
        "docker.io" => "https://registry-1.docker.io".to_owned(),
        other => format!("https://{other}"),
    };
    if server.trim_end_matches('/') != default_endpoint {
        registry.server = Some(server);
    }
    Ok(Some(registry))
}

fn mirror(
    item: &Field<'_>,
    registry: &str,
    secrets: &mut SecretFiles,
    not_imported: &mut Vec<ImportWarning>,
) -> Result<Option<ImportedMirror>, ImportError> {
    let Some(host) = item.get("host")? else {
        return Err(ImportError::new(
            item.source,
            Some(item.line()),
            format!("{} has no host (Kubespray's template needs one)", item.path),
        ));
    };
    let host = host.text()?;
    if templated(host) {
        not_imported.push(ImportWarning {
            line: Some(item.line()),
            message: format!(
                "{}.host {host:?} is a template expression: not imported",
                item.path
            ),
        });
        return Ok(None);
    }
    let url = if host.contains("://") {
        host.to_owned()
    } else {
        format!("https://{host}")
    };
    let mut mirror = ImportedMirror {
        url: url.clone(),
        ..ImportedMirror::default()
    };
    for (key, value) in item.entries()? {
        let key = key_text(key).unwrap_or_default();
        let value = item.child(value, &format!(".{key}"));
        match key {
            "host" => {}
            // `[ capabilities ] | flatten`: a list or one string.
            "capabilities" => {
                let list = match value.items() {
                    Ok(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, c)| value.child(c, &format!("[{i}]")).text().map(str::to_owned))
                        .collect::<Result<Vec<_>, _>>()?,
                    Err(_) => vec![value.text()?.to_owned()],
                };
                mirror.capabilities = Some(list);
            }
            "skip_verify" => mirror.skip_verify = Some(value.boolean()?),
            "override_path" => mirror.override_path = Some(value.boolean()?),
            "auth" => {
                let username = value.get("username")?;
                let password = value.get("password")?;
                let (Some(username), Some(password)) = (username, password) else {
                    return Err(ImportError::new(
                        item.source,
                        Some(value.line()),
                        format!("{} needs username and password", value.path),
                    ));
                };
                let (user, pass) = (username.text()?, password.text()?);
                if templated(user) || templated(pass) {
                    not_imported.push(ImportWarning {
                        line: Some(value.line()),
                        message: format!(
                            "{}: template expressions (a vault variable?), not imported; set \
                             the mirror's auth by hand",
                            value.path
                        ),
                    });
                    continue;
                }
                let owner = url.split_once("://").map_or(url.as_str(), |(_, h)| h);
                let owner = owner.split('/').next().unwrap_or_default();
                let username_file = secrets.add(
                    owner,
                    "username",
                    format!("{registry} mirror {url} auth.username"),
                    user.to_owned(),
                );
                let password_file = secrets.add(
                    owner,
                    "password",
                    format!("{registry} mirror {url} auth.password"),
                    pass.to_owned(),
                );
                mirror.auth = Some(ImportedAuth::Basic {
                    username_file,
                    password_file,
                });
            }
            other => not_imported.push(ImportWarning {
                line: Some(value.line()),
                message: format!(
                    "{}.{other} is not rendered by Kubespray's hosts.toml template, so containerd \
                     never sees it",
                    item.path
                ),
            }),
        }
    }
    if mirror.capabilities.is_none() {
        not_imported.push(ImportWarning {
            line: Some(item.line()),
            message: format!(
                "{} has no capabilities: Kubespray's template fails on it; the inventory's \
                 default (pull, resolve) is imported",
                item.path
            ),
        });
    }
    Ok(Some(mirror))
}

/// `containerd_registry_auth`: legacy `registry.configs."<registry>".auth`, offered by
/// containerd to whichever endpoint has that host.
fn registry_auth(
    auth: &Field<'_>,
    imported: &mut Imported,
    secrets: &mut SecretFiles,
) -> Result<(), ImportError> {
    let field = |key: &str| -> Result<Field<'_>, ImportError> {
        auth.get(key)?.ok_or_else(|| {
            ImportError::new(
                auth.source,
                Some(auth.line()),
                format!("{} has no {key}", auth.path),
            )
        })
    };
    let (host, user, pass) = (field("registry")?, field("username")?, field("password")?);
    let (host_text, user, pass) = (host.text()?, user.text()?, pass.text()?);
    let host = host_text
        .split_once("://")
        .map_or(host_text, |(_, h)| h)
        .trim_end_matches('/');
    if templated(host) || templated(user) || templated(pass) {
        imported.warnings.push(ImportWarning {
            line: Some(auth.line()),
            message: format!(
                "{}: template expressions (a vault variable?), not imported; set this auth by hand",
                auth.path
            ),
        });
        return Ok(());
    }
    let username_file = secrets.add(
        host,
        "username",
        format!("{host} auth.username"),
        user.to_owned(),
    );
    let password_file = secrets.add(
        host,
        "password",
        format!("{host} auth.password"),
        pass.to_owned(),
    );
    let basic = || ImportedAuth::Basic {
        username_file: username_file.clone(),
        password_file: password_file.clone(),
    };
    let note = ImportWarning {
        line: Some(auth.line()),
        message: format!(
            "{}: its condition, that containerd uses config.toml credentials only when the \
             kubelet sends none; the imported `auth.basicFrom` is sent on every request",
            auth.path
        ),
    };
    for registry in &mut imported.registries {
        for mirror in &mut registry.mirrors {
            let mirror_host = mirror
                .url
                .split_once("://")
                .map_or(mirror.url.as_str(), |(_, h)| h);
            if mirror_host.split('/').next() == Some(host) && mirror.auth.is_none() {
                mirror.auth = Some(basic());
                registry.not_imported.push(note.clone());
            }
        }
        let own = registry
            .server
            .clone()
            .unwrap_or_else(|| format!("https://{}", registry.name));
        let own_host = own.split_once("://").map_or(own.as_str(), |(_, h)| h);
        if registry.fallback && own_host.split('/').next() == Some(host) {
            // The inventory's fallback carries no credentials: the server becomes the last
            // mirror, with them.
            registry.mirrors.push(ImportedMirror {
                url: own,
                auth: Some(basic()),
                ..ImportedMirror::default()
            });
            registry.fallback = false;
            registry.server = None;
            registry.not_imported.push(note.clone());
        }
    }
    // Images of the host itself are pulled from it with these credentials too, unless an
    // entry of its own says otherwise.
    let own_registry = imported.registries.iter().any(|r| r.name == host)
        || matches!(host, "registry-1.docker.io" | "index.docker.io");
    if !own_registry {
        imported.registries.push(ImportedRegistry {
            name: host.to_owned(),
            origin: format!(
                "{}:{} containerd_registry_auth[registry={host}]",
                auth.source,
                auth.line()
            ),
            mirrors: vec![ImportedMirror {
                url: format!("https://{host}"),
                auth: Some(basic()),
                ..ImportedMirror::default()
            }],
            fallback: false,
            server: None,
            not_imported: vec![note],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::error::MAX_BYTES;
    use super::super::testing::{check_reader, fuzz};
    use super::*;

    #[track_caller]
    fn check(source: &str, expected: &str) {
        check_reader(read, "containerd.yml", source, expected);
    }

    #[test]
    fn mirrors_server_and_auth_follow_the_template() {
        check(
            include_str!("../../fixtures/import/kubespray/mirrors-and-auth.yaml"),
            r#"docker.io fallback=true server=Some("https://docker.io") (containerd.yml:4 containerd_registries_mirrors[prefix=docker.io])
  https://mirror.gcr.io capabilities=["pull", "resolve"] skip_verify=false basic=mirror.gcr.io-username,mirror.gcr.io-password
  https://registry-1.docker.io capabilities=["pull", "resolve"] skip_verify=false
  ! Some(40) containerd_registry_auth[2]: its condition, that containerd uses config.toml credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
registry.k8s.io fallback=true server=Some("https://k8s.internal.example") (containerd.yml:12 containerd_registries_mirrors[prefix=registry.k8s.io])
  http://192.168.106.12:8084 capabilities=["pull"] skip_verify=true override_path=true
[fd00::10]:5000 fallback=true server=None (containerd.yml:19 containerd_registries_mirrors[prefix=[fd00::10]:5000])
  https://[fd00::11]:5000 capabilities=["pull", "resolve"] basic=fd00__11_5000-username,fd00__11_5000-password
  ! Some(27) containerd_registries_mirrors[2].mirrors[0].header is not rendered by Kubespray's hosts.toml template, so containerd never sees it
10.0.0.2:5000 fallback=false server=None (containerd.yml:34 containerd_registry_auth[registry=10.0.0.2:5000])
  https://10.0.0.2:5000 basic=10.0.0.2_5000-username,10.0.0.2_5000-password
  ! Some(34) containerd_registry_auth[0]: its condition, that containerd uses config.toml credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
mirror.gcr.io fallback=false server=None (containerd.yml:40 containerd_registry_auth[registry=mirror.gcr.io])
  https://mirror.gcr.io basic=mirror.gcr.io-username,mirror.gcr.io-password
  ! Some(40) containerd_registry_auth[2]: its condition, that containerd uses config.toml credentials only when the kubelet sends none; the imported `auth.basicFrom` is sent on every request
secret fd00__11_5000-username ([fd00::10]:5000 mirror https://[fd00::11]:5000 auth.username)
secret fd00__11_5000-password ([fd00::10]:5000 mirror https://[fd00::11]:5000 auth.password)
secret 10.0.0.2_5000-username (10.0.0.2:5000 auth.username)
secret 10.0.0.2_5000-password (10.0.0.2:5000 auth.password)
secret mirror.gcr.io-username (mirror.gcr.io auth.username)
secret mirror.gcr.io-password (mirror.gcr.io auth.password)
! Some(28) containerd_registries_mirrors[3].prefix "{{ registry_addr }}" is a template expression: its registry is not imported
! Some(37) containerd_registry_auth[1]: template expressions (a vault variable?), not imported; set this auth by hand
"#,
        );
    }

    #[test]
    fn unset_mirrors_import_kubesprays_default() {
        check(
            "containerd_version: 1.7.22\n",
            r#"docker.io fallback=true server=Some("https://docker.io") (Kubespray's default containerd_registries_mirrors)
  https://registry-1.docker.io capabilities=["pull", "resolve"] skip_verify=false
! None containerd_registries_mirrors is not set: Kubespray's default (docker.io through https://registry-1.docker.io) is imported
"#,
        );
    }

    #[test]
    fn unreadable_sources_are_errors_with_lines() {
        let cases: [(&[u8], &str); 6] = [
            (b"containerd_registries_mirrors:\n  - prefix: [a\n", "containerd.yml:3: YAML syntax error"),
            (b"- a\n- b\n", "containerd.yml:1: a group_vars file is a mapping"),
            (b"containerd_registries_mirrors: 3\n", "containerd.yml:1: containerd_registries_mirrors is an integer, not a list"),
            (b"containerd_registries_mirrors:\n  - mirrors: []\n", "containerd.yml:2: containerd_registries_mirrors[0] has no prefix"),
            (
                b"containerd_registries_mirrors:\n  - prefix: q\n    mirrors:\n      - host: h\n        skip_verify: maybe\n",
                "containerd.yml:5: containerd_registries_mirrors[0].mirrors[0].skip_verify is a string, not a boolean",
            ),
            (b"\xff", "containerd.yml: not UTF-8"),
        ];
        for (source, expected) in cases {
            match read("containerd.yml", source) {
                Ok(imported) => panic!("{expected}: read as {imported:?}"),
                Err(e) => assert!(e.to_string().starts_with(expected), "{e} / {expected}"),
            }
        }
        assert!(read("containerd.yml", &vec![b' '; MAX_BYTES + 1]).is_err());
    }

    #[test]
    fn fuzzed_sources_never_panic() {
        fuzz(
            0x6b75_6265,
            4000,
            &[include_str!(
                "../../fixtures/import/kubespray/mirrors-and-auth.yaml"
            )],
            |bytes| {
                let _ = read("containerd.yml", bytes);
            },
        );
    }
}
