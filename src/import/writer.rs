//! The one writer of `mirrorctl import`: an [`Imported`] as inventory YAML that mirrorctl's own
//! loader accepts, registries in source order, each under a comment naming its origin.

use super::{
    CaSource, HeaderSource, ImportWarning, Imported, ImportedAuth, ImportedMirror, ImportedRegistry,
};

/// `target.containerd` when `--target-containerd` is not given: the inventory's own default.
pub(crate) const DEFAULT_TARGET_CONTAINERD: &str = "2.1";

/// Where the imported inventory says secrets live when no `--secrets-dir` is given.
pub(crate) const DEFAULT_SECRETS_DIR: &str = "/etc/mirrorctl/secrets";

/// `source` names the format and file for the heading; `secrets_dir` is the node directory that
/// the `Secret` file names are referenced under.
pub(crate) fn to_inventory(
    imported: &Imported,
    source: &str,
    target_containerd: &str,
    secrets_dir: &str,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Imported by mirrorctl from {}. Review, then `mirrorctl lint` and `mirrorctl diff`.\n",
        comment_text(source)
    ));
    for warning in &imported.warnings {
        out.push_str(&format!("# not imported: {}\n", warning_text(warning)));
    }
    out.push_str("version: 1\n");
    out.push_str(&format!(
        "target: {{containerd: {}}}\n",
        quote(target_containerd)
    ));
    if imported.registries.iter().all(|r| r.mirrors.is_empty()) {
        out.push_str("registries: {}\n");
    } else {
        out.push_str("registries:\n");
    }
    for registry in &imported.registries {
        registry_yaml(&mut out, registry, imported, secrets_dir);
    }
    out
}

fn registry_yaml(out: &mut String, registry: &ImportedRegistry, imported: &Imported, dir: &str) {
    out.push_str(&format!("  # from {}\n", comment_text(&registry.origin)));
    for warning in &registry.not_imported {
        out.push_str(&format!("  # not imported: {}\n", warning_text(warning)));
    }
    if registry.mirrors.is_empty() {
        out.push_str(&format!(
            "  # not imported: {} has no mirror; its pulls go to the registry itself\n",
            comment_text(&registry.name)
        ));
        return;
    }
    out.push_str(&format!("  {}:\n    mirrors:\n", quote(&registry.name)));
    for mirror in &registry.mirrors {
        mirror_yaml(out, mirror, imported, dir);
    }
    if !registry.fallback {
        out.push_str("    fallback: false\n");
    }
    if let Some(server) = &registry.server {
        out.push_str(&format!("    server: {}\n", quote(server)));
    }
}

fn mirror_yaml(out: &mut String, mirror: &ImportedMirror, imported: &Imported, dir: &str) {
    out.push_str(&format!("      - url: {}\n", quote(&mirror.url)));
    let field = "        ";
    if let Some(capabilities) = &mirror.capabilities {
        out.push_str(&format!("{field}capabilities: {}\n", list(capabilities)));
    }
    if !mirror.ca.is_empty() {
        let items: Vec<String> = mirror
            .ca
            .iter()
            .map(|ca| match ca {
                CaSource::Path(path) => quote(path),
                CaSource::Pem(pem) => format!("{{pem: {}}}", quote(pem)),
            })
            .collect();
        out.push_str(&format!("{field}ca: [{}]\n", items.join(", ")));
    }
    if !mirror.client.is_empty() {
        let items: Vec<String> = mirror
            .client
            .iter()
            .map(|(cert, key)| {
                // A certificate or key the source held inline (Talos) is a secret file.
                let cert = quote(&secret_path(imported, dir, cert));
                match key {
                    Some(key) => {
                        format!(
                            "{{cert: {cert}, key: {}}}",
                            quote(&secret_path(imported, dir, key))
                        )
                    }
                    None => cert,
                }
            })
            .collect();
        out.push_str(&format!("{field}client: [{}]\n", items.join(", ")));
    }
    if let Some(skip) = mirror.skip_verify {
        out.push_str(&format!("{field}skipVerify: {skip}\n"));
    }
    if let Some(override_path) = mirror.override_path {
        out.push_str(&format!("{field}overridePath: {override_path}\n"));
    }
    if !mirror.headers.is_empty() {
        out.push_str(&format!("{field}headers:\n"));
        for header in &mirror.headers {
            let each: Vec<String> = header
                .values
                .iter()
                .map(|v| match v {
                    HeaderSource::Inline(text) => quote(text),
                    HeaderSource::Secret(file) => {
                        format!("{{file: {}}}", quote(&secret_path(imported, dir, file)))
                    }
                })
                .collect();
            let value = match each.as_slice() {
                [one] if !header.list => one.clone(),
                many => format!("[{}]", many.join(", ")),
            };
            out.push_str(&format!("{field}  {}: {value}\n", quote(&header.name)));
        }
    }
    if let Some(timeout) = &mirror.dial_timeout {
        out.push_str(&format!("{field}dialTimeout: {}\n", quote(timeout)));
    }
    match &mirror.auth {
        Some(ImportedAuth::Basic {
            username_file,
            password_file,
        }) => out.push_str(&format!(
            "{field}auth: {{basicFrom: {{usernameFile: {}, passwordFile: {}}}}}\n",
            quote(&secret_path(imported, dir, username_file)),
            quote(&secret_path(imported, dir, password_file)),
        )),
        Some(ImportedAuth::Bearer { token_file }) => out.push_str(&format!(
            "{field}auth: {{bearerFrom: {{tokenFile: {}}}}}\n",
            quote(&secret_path(imported, dir, token_file)),
        )),
        None => {}
    }
}

/// A `Secret`'s file name becomes a path under the secrets directory; any other name is a path
/// the source gave and stays as it is.
pub(crate) fn secret_path(imported: &Imported, dir: &str, name: &str) -> String {
    if imported.secrets.iter().any(|s| s.file_name == name) {
        format!("{}/{name}", dir.trim_end_matches('/'))
    } else {
        name.to_string()
    }
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A YAML double-quoted scalar: JSON's string escapes are YAML's, so every string is safe.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// Text for a `#` comment: one line, whatever the source held.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn warning_text(warning: &ImportWarning) -> String {
    match warning.line {
        Some(line) => format!("{} (line {line})", comment_text(&warning.message)),
        None => comment_text(&warning.message),
    }
}
