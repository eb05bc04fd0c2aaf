//! The runners of the commands that do not plan: render, lint, resolve and the kubelet's
//! credential provider.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{
    CredentialProviderArgs, ImportArgs, LintArgs, LintFormat, Output, RenderArgs, ResolveArgs,
};
use super::pipeline::load;
use super::{Stdout, to_stderr};
use crate::error::Error;
use crate::inventory;
use crate::render;
use crate::secrets::Secrets;
use crate::state::State;
use crate::{apply, lint, plan, redact, report, resolve};

/// Lint's exit status is its own: `Ok(true)` here means "findings fail the run".
pub(crate) fn run_lint(args: LintArgs, out: &mut Stdout) -> Result<bool, Error> {
    let mut sources: Vec<String> = args
        .inventories
        .iter()
        .chain(&args.files)
        .cloned()
        .collect();
    if sources.is_empty() {
        sources.push(
            std::env::var("MIRRORCTL_INVENTORY")
                .unwrap_or_else(|_| inventory::DEFAULT_PATH.to_string()),
        );
    }
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    for source in &sources {
        let report = match inventory::read_source(source) {
            Ok((name, bytes)) => lint::lint(&name, &bytes, args.root.as_deref()),
            // Too large to read: a finding like any other.
            Err(Error::Inventory { file, problems }) => lint::Report {
                file,
                findings: problems,
            },
            Err(other) => return Err(other),
        };
        let name = report.file.clone();
        if report.failed(args.strict) {
            failed.push(name.clone());
        }
        match args.format {
            LintFormat::Text => {
                let colour =
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                out.print(&lint::text(&report, colour))?;
            }
            LintFormat::Github => out.print(&lint::github(&report))?,
            LintFormat::Json => reports.push(lint::json(&report)),
        }
    }
    if args.format == LintFormat::Json {
        let value = if reports.len() == 1 {
            reports.remove(0)
        } else {
            serde_json::Value::Array(reports)
        };
        out.print(&format!("{value:#}\n"))?;
    }
    if !failed.is_empty() {
        let what = if args.strict {
            "errors or warnings (--strict)"
        } else {
            "errors"
        };
        return Err(Error::Partial(format!(
            "lint found {what} in {}",
            failed.join(", ")
        )));
    }
    Ok(false)
}

/// The kubelet reads stdout as the response; one line on stderr says what was decided.
pub(crate) fn run_credential_provider(
    args: CredentialProviderArgs,
    out: &mut Stdout,
) -> Result<bool, Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let answer = crate::credential_plugin::read_request()
        .and_then(|request| crate::credential_plugin::answer(&args.mapping, &request, now))
        .map_err(Error::Partial)?;
    out.print(&answer.json)?;
    to_stderr(&format!("mirrorctl credential-provider: {}", answer.note));
    Ok(false)
}

/// The pod `--namespace`, `--service-account` and `--annotation` name (resolve and probe): the
/// service account defaults to `default`, as the kubelet's pods do.
pub(super) fn pod(
    namespace: Option<&str>,
    service_account: Option<&str>,
    annotation: &[(String, String)],
) -> Result<Option<resolve::Who>, Error> {
    let mut annotations = std::collections::BTreeMap::new();
    for (key, value) in annotation {
        if annotations.insert(key.clone(), value.clone()).is_some() {
            return Err(Error::Partial(format!(
                "--annotation `{key}` is given twice; a service account has one value per key"
            )));
        }
    }
    Ok(namespace.map(|namespace| resolve::Who {
        identity: crate::grants::Identity {
            namespace: namespace.to_owned(),
            service_account: service_account.unwrap_or("default").to_owned(),
        },
        annotations: (!annotation.is_empty()).then_some(annotations),
    }))
}

pub(crate) fn run_resolve(args: ResolveArgs, out: &mut Stdout) -> Result<bool, Error> {
    let inventory = load(&args.inventory)?;
    let identity = pod(
        args.namespace.as_deref(),
        args.service_account.as_deref(),
        &args.annotation,
    )?;
    let resolution =
        resolve::resolve_as(&inventory, &args.image, identity.as_ref()).map_err(|why| {
            Error::Partial(format!(
                "`{}` is not a valid image reference: {why}",
                args.image
            ))
        })?;
    match args.output {
        Output::Text => out.print(&resolve::text(&resolution))?,
        Output::Json => out.print(&format!("{:#}\n", resolve::json(&resolution)))?,
    }
    Ok(false)
}

pub(crate) fn run_render(args: RenderArgs, out: &mut Stdout) -> Result<bool, Error> {
    let inventory = load(&args.inventory)?;
    if args.out == "-" {
        let desired = render::render(&inventory, &Secrets::placeholders(&inventory));
        // In chunks: a fleet-sized render never holds its whole output.
        let mut text = String::new();
        for (path, file) in &desired.files {
            text.push_str(&format!("# ==> {path} ({:04o}) <==\n", file.mode));
            let contents = String::from_utf8_lossy(&file.contents);
            // Only a file the renderer put a credential into can hold one: validation refuses
            // every credential written inline, by the same list redaction uses.
            if file.secret {
                text.push_str(&redact::redact(file.kind, &contents));
            } else {
                text.push_str(&contents);
            }
            text.push('\n');
            if text.len() > 1 << 16 {
                out.print(&text)?;
                text.clear();
            }
        }
        if let Some(hash) = report::kubelet_config_hash(desired.files.values()) {
            text.push_str(&format!(
                "# kubelet credential provider config hash: {hash}\n"
            ));
        }
        out.print(&text)?;
    } else {
        let root = PathBuf::from(&args.out);
        let secrets = Secrets::load(&inventory, std::path::Path::new("/"))?;
        let desired = render::render(&inventory, &secrets);
        let count = desired.files.len();
        // Through the one writer, as apply writes a node, but with no ownership record.
        let changes = plan::compare(desired, &root, &State::default())?;
        apply::write_unrecorded(&root, &changes)?;
        out.print(&format!(
            "rendered {count} file{} under {}\n",
            if count == 1 { "" } else { "s" },
            root.display()
        ))?;
    }
    Ok(false)
}

/// Reads the source, writes its secrets (with `--secrets-dir`), then the inventory: a source
/// that is not readable or not that format writes nothing.
pub(crate) fn run_import(args: ImportArgs, out: &mut Stdout) -> Result<bool, Error> {
    use crate::import;
    use clap::ValueEnum;
    if args.disable_default_registry_endpoint && args.format != import::Format::K3s {
        return Err(Error::Partial(
            "--disable-default-registry-endpoint is a k3s/RKE2 setting; it applies to `import k3s` only".into(),
        ));
    }
    let Some(target) = crate::version::Version::parse(&args.target_containerd) else {
        return Err(Error::Partial(format!(
            "--target-containerd `{}` is not a version such as 2.1",
            args.target_containerd
        )));
    };
    let node = import::NodeFacts {
        k3s_default_endpoint_disabled: args.disable_default_registry_endpoint,
        referrers: target >= crate::version::Version::new(2, 2, 0),
    };
    let imported = import::read(args.format, &args.source, node)?;
    let secrets_dir = match &args.secrets_dir {
        Some(dir) => {
            let dir = std::path::absolute(dir).map_err(|e| Error::io("read", dir, e))?;
            if !dir.exists() {
                return Err(Error::Partial(format!(
                    "--secrets-dir {}: does not exist; create it (root-only, mode 0700) first",
                    dir.display()
                )));
            }
            if !dir.is_dir() {
                return Err(Error::Partial(format!(
                    "--secrets-dir {}: is not a directory",
                    dir.display()
                )));
            }
            dir.to_string_lossy().into_owned()
        }
        None => import::DEFAULT_SECRETS_DIR.to_string(),
    };
    let source = format!(
        "{} {}",
        args.format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string()),
        args.source.display()
    );
    let text = import::to_inventory(&imported, &source, &args.target_containerd, &secrets_dir);
    if let Some(dir) = &args.secrets_dir {
        import::write_secrets(dir, &imported.secrets)?;
    }
    match &args.output {
        Some(path) => crate::fsx::write_atomic(path, text.as_bytes(), 0o644, None)?,
        None => out.print(&text)?,
    }
    for warning in &imported.warnings {
        to_stderr(&format!(
            "warning: {}: {}",
            args.source.display(),
            import::warning_text(warning)
        ));
    }
    for registry in &imported.registries {
        for warning in &registry.not_imported {
            to_stderr(&format!(
                "warning: {}: not imported: {}",
                registry.origin,
                import::warning_text(warning)
            ));
        }
    }
    for secret in &imported.secrets {
        let path = import::secret_path(&imported, &secrets_dir, &secret.file_name);
        if args.secrets_dir.is_some() {
            to_stderr(&format!(
                "wrote the secret of {} into {path}",
                secret.belongs_to
            ));
        } else {
            to_stderr(&format!(
                "secret: put the value of {} into {path} (mode 0600)",
                secret.belongs_to
            ));
        }
    }
    Ok(false)
}
