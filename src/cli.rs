//! The command line: clap definitions (one source for `--help`, the man page and completions),
//! dispatch, and the one table that maps an outcome to the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::inventory::{self, Inventory};
use crate::render;
use crate::secrets::Secrets;
use crate::{apply, lint, lock, plan, redact, report, resolve};

const AFTER_HELP: &str = "\
Exit status: 0 unchanged, 2 changed (or would change), 1 error, 64 usage error.";

#[derive(Debug, Parser)]
#[command(
    name = "mirrorctl",
    version,
    about = "Render, diff and atomically write containerd hosts.toml and kubelet credential-provider files from one inventory",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write every file the inventory implies; exit 2 when something changed.
    Apply(ApplyArgs),
    /// Read-only: report what apply would change (= apply --check); exit 2 when something would.
    Check(PlanArgs),
    /// Read-only: unified diff of what apply would change (= apply --check --diff).
    Diff(PlanArgs),
    /// Print (or write under --out) the desired files only, without comparing with the node.
    Render(RenderArgs),
    /// Check an inventory offline (and, with --root, the node's CA files and provider binaries).
    Lint(LintArgs),
    /// Show where a pull of IMAGE will go: directory, endpoints in order, TLS, credentials.
    Resolve(ResolveArgs),
    /// Run as the kubelet's credential provider (exec plugin protocol v1, request on stdin).
    CredentialProvider(CredentialProviderArgs),
}

#[derive(Debug, Args)]
pub struct CredentialProviderArgs {
    /// The plugin's mapping file, written by `apply` from `credentialPlugin`.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/lib/mirrorctl/credential-plugin.json"
    )]
    pub mapping: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Inventory files to lint (as a pre-commit hook passes them); default: the -i inventory.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Report format: human text, JSON, or GitHub workflow annotations.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Also check the node under DIR: CA and client files, provider binaries, stray directories.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// An image reference as written in a pod spec: `nginx`, `ghcr.io/org/app:1.2`, `reg:5000/app@sha256:…`.
    pub image: String,
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Show the credentials `credentialPlugin` grants to a pod of this namespace.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// With --namespace: the pod's service account (default: `default`).
    #[arg(long, value_name = "SA", requires = "namespace")]
    pub service_account: Option<String>,
    /// With --namespace: an annotation of the service account, as the kubelet sends it to the
    /// plugin (repeatable); with any, resolve says which grant the plugin answers with.
    #[arg(long, value_name = "KEY=VALUE", requires = "namespace", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,
}

fn parse_annotation(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Args)]
pub struct InventoryArg {
    /// Inventory file; `-` reads standard input.
    #[arg(
        short = 'i',
        long = "inventory",
        env = "MIRRORCTL_INVENTORY",
        default_value = inventory::DEFAULT_PATH,
        value_name = "INVENTORY"
    )]
    pub inventory: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Prefix every node path with DIR (image builds, tests, dry runs as non-root).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Change nothing; report what would change (exit 2 when something would).
    #[arg(long)]
    pub check: bool,
    /// Show a unified diff of every change (with --output json: `before`/`after` per file).
    #[arg(long)]
    pub diff: bool,
    /// Take over files at desired paths that mirrorctl did not write.
    #[arg(long)]
    pub adopt: bool,
    /// Seconds to wait for another run's lock before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub lock_timeout: f64,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Write the files under DIR as if it were the node's root (secrets included, 0600);
    /// `-` (the default) prints them with secrets redacted.
    #[arg(long, value_name = "DIR", default_value = "-")]
    pub out: String,
}

/// What a run ended with; [`exit_status`] is the only place it becomes a number.
#[derive(Debug)]
pub enum Outcome {
    Unchanged,
    Changed,
    Failed(Error),
    Usage,
}

pub fn exit_status(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Unchanged => 0,
        Outcome::Failed(_) => 1,
        Outcome::Changed => 2,
        Outcome::Usage => 64,
    }
}

pub fn main() -> ExitCode {
    let outcome = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) => {
            let _ = e.print();
            match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Outcome::Unchanged
                }
                _ => Outcome::Usage,
            }
        }
    };
    if let Outcome::Failed(error) = &outcome {
        to_stderr(&format!("error: {error}"));
    }
    ExitCode::from(exit_status(&outcome))
}

/// One line on stderr. `eprintln!` panics (exit 101) when stderr is a closed pipe, as in
/// `mirrorctl apply 2>&1 | head -1`; a message nobody reads must not change the outcome.
fn to_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
struct Stdout {
    closed: bool,
}

impl Stdout {
    fn print(&mut self, text: &str) -> Result<(), Error> {
        if self.closed {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Error::io("write to", "<stdout>", e)),
        }
    }
}

pub fn run(cli: Cli) -> Outcome {
    let mut stdout = Stdout { closed: false };
    let result = match cli.command {
        Command::Apply(args) => {
            let check = args.check;
            let show_diff = args.diff;
            run_plan(args, check, show_diff, &mut stdout)
        }
        Command::Check(plan) => run_plan(ApplyArgs::read_only(plan), true, false, &mut stdout),
        Command::Diff(plan) => run_plan(ApplyArgs::read_only(plan), true, true, &mut stdout),
        Command::Render(args) => run_render(args, &mut stdout),
        Command::Lint(args) => run_lint(args, &mut stdout),
        Command::Resolve(args) => run_resolve(args, &mut stdout),
        Command::CredentialProvider(args) => run_credential_provider(args, &mut stdout),
    };
    // A reader that stopped early (`mirrorctl diff | head -1`) changes nothing about what the
    // run found or did: the status stays the outcome, so `set -o pipefail` still sees drift.
    match result {
        Ok(true) => Outcome::Changed,
        Ok(false) => Outcome::Unchanged,
        Err(e) => Outcome::Failed(e),
    }
}

impl ApplyArgs {
    fn read_only(plan: PlanArgs) -> Self {
        ApplyArgs {
            plan,
            check: true,
            diff: false,
            adopt: false,
            lock_timeout: 0.0,
        }
    }
}

fn load(arg: &InventoryArg) -> Result<Inventory, Error> {
    inventory::load(&arg.inventory)
}

/// apply, check and diff: one code path, with writes disabled for the read-only ones. With
/// `--output json` a failed run still prints its one report object: what was written before
/// the failure is as true as the failure (an Ansible task must see both).
fn run_plan(
    args: ApplyArgs,
    check: bool,
    show_diff: bool,
    out: &mut Stdout,
) -> Result<bool, Error> {
    let mut planned = None;
    let result = std::path::absolute(&args.plan.root)
        .map_err(|e| Error::io("resolve the root", &args.plan.root, e))
        .and_then(|root| plan_and_apply(&args, &root, check, show_diff, out, &mut planned));
    if let (Err(error), Output::Json) = (&result, args.plan.output) {
        let value = match &planned {
            Some(plan) => report::json(plan, check, show_diff, Some(error)),
            None => report::json_unplanned(&args.plan.root, check, error),
        };
        // The run's error is the one to report; a failing stdout cannot add to it.
        let _ = out.print(&format!("{value:#}\n"));
    }
    result
}

/// Loads, renders, plans and (unless `check`) applies; leaves the plan in `planned` as soon as
/// there is one, for the report of a run that fails after it.
fn plan_and_apply(
    args: &ApplyArgs,
    root: &std::path::Path,
    check: bool,
    show_diff: bool,
    out: &mut Stdout,
    planned: &mut Option<plan::Plan>,
) -> Result<bool, Error> {
    let mut inventory = load(&args.plan.inventory)?;
    for warning in lint::warnings(&inventory) {
        to_stderr(&format!(
            "{}[{}] {warning}",
            warning.severity.name(),
            warning.code
        ));
    }
    let secrets = Secrets::load(&inventory, root)?;
    let mut desired = render::render_consuming(&mut inventory, &secrets);
    drop(secrets);
    add_containerd_config(&inventory, root, &mut desired)?;
    let state_dir = &inventory.paths.state_dir.clone();
    // From here on only the desired files matter: the inventory's memory goes back.
    drop(inventory);
    let _lock = if check {
        None
    } else {
        let timeout = Duration::from_secs_f64(args.lock_timeout.clamp(0.0, 86_400.0));
        Some(lock::Lock::acquire(root, state_dir, timeout)?)
    };
    let plan: &plan::Plan = planned.insert(plan::plan(desired, root, state_dir)?);
    if !check {
        apply::preflight(plan, apply::Options { adopt: args.adopt })?;
    }
    match args.plan.output {
        Output::Json => {
            if !check {
                apply::apply(plan, apply::Options { adopt: args.adopt })?;
            }
            let value = report::json(plan, check, show_diff, None);
            out.print(&format!("{value:#}\n"))?;
        }
        Output::Text => {
            if show_diff {
                out.print(&report::diff(plan))?;
            }
            if !check {
                apply::apply(plan, apply::Options { adopt: args.adopt })
                    .inspect_err(|error| note_restarts_due(plan, error))?;
            }
            if !(show_diff && check) {
                out.print(&report::text(plan, check))?;
            }
        }
    }
    Ok(plan.changed())
}

/// A run that stopped after writing files whose service must restart says so: the restart is
/// due although the run failed (the JSON report carries the same in `restart`).
fn note_restarts_due(plan: &plan::Plan, error: &Error) {
    let Error::Stopped { done, .. } = error else {
        return;
    };
    let done: Vec<&str> = done.iter().map(String::as_str).collect();
    let due: Vec<&str> = report::restarts_of(plan, &done)
        .iter()
        .map(|s| s.name())
        .collect();
    if !due.is_empty() {
        to_stderr(&format!(
            "note: restart {}: files it reads were written before the failure",
            due.join(" and ")
        ));
    }
}

/// Lint's exit status is its own: `Ok(true)` here means "findings fail the run".
fn run_lint(args: LintArgs, out: &mut Stdout) -> Result<bool, Error> {
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
fn run_credential_provider(args: CredentialProviderArgs, out: &mut Stdout) -> Result<bool, Error> {
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

fn run_resolve(args: ResolveArgs, out: &mut Stdout) -> Result<bool, Error> {
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

/// With `containerd.manageConfig`, config.toml joins the desired state: the node's file with
/// `config_path` set, or a minimal file when there is none.
fn add_containerd_config(
    inventory: &Inventory,
    root: &std::path::Path,
    desired: &mut render::DesiredState,
) -> Result<(), Error> {
    if !inventory.containerd.manage_config {
        return Ok(());
    }
    let node_path = &inventory.containerd.config_file;
    let disk = node_path.under(root);
    let current = plan::existing(disk)?.map(|b| (b.bytes, b.mode));
    let (file, findings) = render::containerd_config::desired(
        inventory,
        current.as_ref().map(|(b, m)| (b.as_slice(), *m)),
    );
    let (errors, warnings): (Vec<_>, Vec<_>) = findings
        .into_iter()
        .partition(|f| f.severity == crate::error::Severity::Error);
    for warning in &warnings {
        to_stderr(&format!(
            "{}[{}] {node_path}: {warning}",
            warning.severity.name(),
            warning.code
        ));
    }
    if !errors.is_empty() {
        return Err(Error::NodeFile {
            file: node_path.to_string(),
            problems: errors,
        });
    }
    desired.files.insert(node_path.to_string(), file);
    Ok(())
}

fn run_render(args: RenderArgs, out: &mut Stdout) -> Result<bool, Error> {
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
        for (path, file) in &desired.files {
            let disk = crate::fsx::under_root(&root, path);
            if let Some(dir) = disk.parent() {
                crate::fsx::create_dirs(dir)?;
            }
            crate::fsx::write_atomic(&disk, &file.contents, file.mode, None)?;
        }
        out.print(&format!(
            "rendered {} file{} under {}\n",
            desired.files.len(),
            if desired.files.len() == 1 { "" } else { "s" },
            root.display()
        ))?;
    }
    Ok(false)
}
