//! With `--root`: the node's own files. A CA or client file that is missing makes every pull of
//! that registry fail (no fallback; what the file holds is checked in `certificates`); a
//! provider binary that is missing or not executable makes the kubelet fail the pull; an empty
//! registry directory hides `_default`.

use crate::code::Code;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Problem, Severity};
use crate::fsx;
use crate::inventory::path::{index, key};
use crate::inventory::{Auth, Ca, ClientCert, HeaderValue, Inventory, Spanned, registry_dir_name};

/// A CA or client file must be readable; what it holds is checked as X.509 (`certificates`).
fn readable(root: &Path, file: &Spanned<String>, path: String, out: &mut Vec<Problem>) {
    let disk = fsx::under_root(root, &file.value);
    if let Err(e) = fsx::read_limited(&disk, 1 << 20) {
        out.push(Problem::hinted(Code::N001, Severity::Error, path, file.mark.pair(),
            format!("`{}` cannot be read ({e}): containerd fails every pull of this registry, with no fallback", file.value),
            "install the file before the hosts.toml that names it, or fix the path"));
    }
}

/// A credential file: present, and readable by its owner only. `refused` when the reader (the
/// credential plugin) refuses a file others can read, rather than merely being unwise.
fn secret_file(
    root: &Path,
    file: &Spanned<String>,
    path: String,
    refused: bool,
    out: &mut Vec<Problem>,
) {
    match std::fs::metadata(fsx::under_root(root, &file.value)) {
        Err(e) => out.push(Problem::hinted(
            Code::N005,
            Severity::Error,
            path,
            file.mark,
            format!("the credential file `{}` cannot be read ({e})", file.value),
            "create it, mode 0600, owned by root",
        )),
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => out.push(Problem::hinted(
            Code::N005,
            if refused {
                Severity::Error
            } else {
                Severity::Warning
            },
            path,
            file.mark,
            format!(
                "the credential file `{}` is readable by group or others (mode {:04o}){}",
                file.value,
                meta.permissions().mode() & 0o7777,
                if refused {
                    ": the plugin refuses it"
                } else {
                    ""
                }
            ),
            "chmod 600",
        )),
        Ok(_) => {}
    }
}

pub(super) fn check(inventory: &Inventory, root: &Path) -> Vec<Problem> {
    let mut out = Vec::new();
    for registry in &inventory.registries {
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(&key("registries", &registry.name), "mirrors"), i);
            for header in &mirror.headers {
                let header_path = key(&key(&mirror_path, "headers"), &header.name.value);
                for (j, value) in header.values.iter().enumerate() {
                    if let HeaderValue::File(file) = value {
                        let path = if header.list {
                            key(&index(&header_path, j), "file")
                        } else {
                            key(&header_path, "file")
                        };
                        secret_file(root, file, path, false, &mut out);
                    }
                }
            }
            let auth_path = key(&mirror_path, "auth");
            match mirror.auth.as_deref() {
                Some(Auth::BasicFrom {
                    username_file,
                    password_file,
                }) => {
                    let basic_path = key(&auth_path, "basicFrom");
                    secret_file(
                        root,
                        username_file,
                        key(&basic_path, "usernameFile"),
                        false,
                        &mut out,
                    );
                    secret_file(
                        root,
                        password_file,
                        key(&basic_path, "passwordFile"),
                        false,
                        &mut out,
                    );
                }
                Some(Auth::BearerFrom { token_file }) => secret_file(
                    root,
                    token_file,
                    key(&key(&auth_path, "bearerFrom"), "tokenFile"),
                    false,
                    &mut out,
                ),
                Some(Auth::Provider(_)) | None => {}
            }
        }
    }
    if let Some(plugin) = &inventory.credential_plugin {
        for (i, grant) in plugin.grants.iter().enumerate() {
            let grant_path = index("credentialPlugin.grants", i);
            secret_file(
                root,
                &grant.username_file,
                key(&grant_path, "usernameFile"),
                true,
                &mut out,
            );
            secret_file(
                root,
                &grant.password_file,
                key(&grant_path, "passwordFile"),
                true,
                &mut out,
            );
        }
    }
    for registry in &inventory.registries {
        let path = key("registries", &registry.name);
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(&path, "mirrors"), i);
            for (j, ca) in mirror.ca.iter().enumerate() {
                if let Ca::File(file) = ca {
                    readable(root, file, index(&key(&mirror_path, "ca"), j), &mut out);
                }
            }
            for (j, client) in mirror.client.iter().enumerate() {
                let client_path = index(&key(&mirror_path, "client"), j);
                match client {
                    ClientCert::Combined(file) => readable(root, file, client_path, &mut out),
                    ClientCert::Pair {
                        cert,
                        key: key_file,
                    } => {
                        readable(root, cert, key(&client_path, "cert"), &mut out);
                        readable(root, key_file, key(&client_path, "key"), &mut out);
                    }
                }
            }
        }
    }
    if !inventory.credential_providers.is_empty() {
        let bin_dir = inventory.paths.credential_provider_bin_dir.under(root);
        if !bin_dir.is_dir() {
            out.push(Problem::hinted(
                Code::N004,
                Severity::Error,
                "paths.credentialProviderBinDir",
                None,
                format!(
                    "the bin dir `{}` does not exist; the kubelet refuses to start without it",
                    inventory.paths.credential_provider_bin_dir
                ),
                "create it and install the provider binaries",
            ));
        } else {
            for (i, provider) in inventory.credential_providers.iter().enumerate() {
                let binary = bin_dir.join(&provider.name.value);
                let executable = std::fs::metadata(&binary)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
                if !executable {
                    out.push(Problem::hinted(Code::N003, Severity::Error, key(&index("credentialProviders", i), "name"), provider.name.mark.pair(),
                        format!("`{}` is missing or not executable: the kubelet fails every pull this provider matches", inventory.paths.credential_provider_bin_dir.child(&provider.name.value)),
                        "install the provider binary under its name, mode 0755"));
                }
            }
        }
    }
    if inventory.containerd.manage_config {
        let file = &inventory.containerd.config_file;
        if let Ok(fsx::Actual::File { bytes, mode, .. }) = fsx::inspect(&file.under(root)) {
            let (_, findings) =
                crate::render::containerd_config::desired(inventory, Some((&bytes, mode)));
            out.extend(findings.into_iter().map(|mut f| {
                f.path = format!("{file}: {}", f.path);
                f
            }));
        }
    }
    if inventory.registries.iter().any(|r| r.name == "*") {
        let certs = inventory.paths.certs_dir.under(root);
        let ours: Vec<String> = inventory
            .registries
            .iter()
            .map(|r| registry_dir_name(&r.name))
            .collect();
        if let Ok(entries) = std::fs::read_dir(&certs) {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !ours.contains(n) && n != "_default")
                .collect();
            names.sort();
            for name in names {
                let hosts = certs.join(&name).join("hosts.toml");
                let empty = std::fs::metadata(&hosts).map_or(true, |m| m.len() == 0);
                if empty {
                    out.push(Problem::hinted(Code::R101, Severity::Warning, "registries.\"*\"", None,
                        format!("the directory `{}` has no hosts.toml, yet containerd picks it before `_default`: pulls from {name} skip the default mirror", inventory.paths.certs_dir.child(&name)),
                        "remove the directory, or give that registry its own entry"));
                }
            }
        }
    }
    out
}
