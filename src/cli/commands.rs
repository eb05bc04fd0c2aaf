//! The runners of the commands that do not plan: render, lint, resolve and the kubelet's
//! credential provider.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{CredentialProviderArgs, LintArgs, LintFormat, Output, RenderArgs, ResolveArgs};
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
    let sources = if args.files.is_empty() {
        vec![args.inventory.inventory.clone()]
    } else {
        args.files.clone()
    };
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    for source in &sources {
        let (name, bytes) = inventory::read_source(source)?;
        let report = lint::lint(&name, &bytes, args.root.as_deref());
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

pub(crate) fn run_resolve(args: ResolveArgs, out: &mut Stdout) -> Result<bool, Error> {
    let inventory = load(&args.inventory)?;
    let mut annotations = std::collections::BTreeMap::new();
    for (key, value) in &args.annotation {
        if annotations.insert(key.clone(), value.clone()).is_some() {
            return Err(Error::Partial(format!(
                "--annotation `{key}` is given twice; a service account has one value per key"
            )));
        }
    }
    let identity = args.namespace.as_ref().map(|ns| resolve::Who {
        identity: crate::grants::Identity {
            namespace: ns.clone(),
            service_account: args
                .service_account
                .clone()
                .unwrap_or_else(|| "default".into()),
        },
        annotations: (!args.annotation.is_empty()).then_some(annotations),
    });
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
