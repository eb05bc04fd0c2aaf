//! The clap definitions: one source for `--help`, the man page and the shell completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::inventory;

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
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write every file the inventory implies; exit 2 when something changed.
    Apply(ApplyArgs),
    /// Read-only: report what apply would change (= apply --check); exit 2 when something would.
    Check(CheckArgs),
    /// Read-only: unified diff of what apply would change (= apply --check --diff).
    Diff(RunArgs),
    /// Print (or write under --out) the desired files only, without comparing with the node.
    Render(RenderArgs),
    /// Check an inventory offline (and, with --root, the node's CA files and provider binaries).
    Lint(LintArgs),
    /// Show where a pull of IMAGE will go: directory, endpoints in order, TLS, credentials.
    Resolve(ResolveArgs),
    /// Convert the mirrors a node already has (k3s, Talos, Kubespray, legacy config.toml,
    /// certs.d) into an inventory; warnings on stderr for what cannot be expressed.
    Import(ImportArgs),
    /// Print the JSON Schema (draft 2020-12) of the inventory, for editors and CI validators.
    Schema,
    /// Run as the kubelet's credential provider (exec plugin protocol v1, request on stdin).
    CredentialProvider(CredentialProviderArgs),
    /// Contact the endpoints as containerd would, from this node, now: each step timed, and
    /// for each IMAGE the endpoint containerd would get it from; exit 1 unless every image
    /// comes through a mirror (without IMAGE: unless every mirror answers).
    Probe(ProbeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The source's format.
    #[arg(value_enum)]
    pub(crate) format: crate::import::Format,
    /// The source: a file (k3s, talos, kubespray, containerd-config) or a directory (certs-d).
    #[arg(value_name = "SOURCE")]
    pub(crate) source: PathBuf,
    /// Write the inventory to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Write the source's inline credentials into DIR as root-only files (0600) and reference
    /// them there; without it the inventory references /etc/mirrorctl/secrets/ and stderr says
    /// which secret belongs in which file.
    #[arg(long, value_name = "DIR")]
    pub(crate) secrets_dir: Option<PathBuf>,
    /// k3s/RKE2 only: the node runs with `--disable-default-registry-endpoint`, so registries
    /// of the file do not fall back to their own endpoint after the mirrors.
    #[arg(long)]
    pub(crate) disable_default_registry_endpoint: bool,
    /// `target.containerd` of the inventory.
    #[arg(long, value_name = "V", default_value = crate::import::DEFAULT_TARGET_CONTAINERD)]
    pub(crate) target_containerd: String,
}

#[derive(Debug, Args)]
pub(crate) struct CredentialProviderArgs {
    /// The plugin's mapping file, written by `apply` from `credentialPlugin`.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/lib/mirrorctl/credential-plugin.json"
    )]
    pub(crate) mapping: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LintFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Inventory files to lint (as a pre-commit hook passes them), after those -i names.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<String>,
    /// Inventory file to lint (repeatable; `-` reads standard input). With neither -i nor FILE:
    /// $MIRRORCTL_INVENTORY, else /etc/mirrorctl/inventory.yaml.
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub(crate) inventories: Vec<String>,
    /// Report format: human text, JSON, or GitHub workflow annotations.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub(crate) format: LintFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Also check the node under DIR: CA and client files, provider binaries, stray directories.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// An image reference as written in a pod spec: `nginx`, `ghcr.io/org/app:1.2`, `reg:5000/app@sha256:…`.
    pub(crate) image: String,
    #[command(flatten)]
    pub(crate) inventory: InventoryArg,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub(crate) output: Output,
    /// Show the credentials `credentialPlugin` grants to a pod of this namespace.
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,
    /// With --namespace: the pod's service account (default: `default`).
    #[arg(long, value_name = "SA", requires = "namespace")]
    pub(crate) service_account: Option<String>,
    /// With --namespace: an annotation of the service account, as the kubelet sends it to the
    /// plugin (repeatable); with any, resolve says which grant the plugin answers with.
    #[arg(long, value_name = "KEY=VALUE", requires = "namespace", value_parser = parse_annotation)]
    pub(crate) annotation: Vec<(String, String)>,
}

fn parse_annotation(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct InventoryArg {
    /// Inventory file; `-` reads standard input.
    #[arg(
        short = 'i',
        long = "inventory",
        env = "MIRRORCTL_INVENTORY",
        default_value = inventory::DEFAULT_PATH,
        value_name = "INVENTORY"
    )]
    pub(crate) inventory: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) inventory: InventoryArg,
    /// Prefix every node path with DIR (image builds, tests, dry runs as non-root).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub(crate) root: PathBuf,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub(crate) output: Output,
}

/// What apply, check and diff share: the plan's arguments and how a run takes its lock.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
    /// Take over files at desired paths that mirrorctl did not write.
    #[arg(long)]
    pub(crate) adopt: bool,
    /// Seconds to wait for another run's lock before failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub(crate) lock_timeout: f64,
}

/// `check`: apply's arguments but `--check`, which it always is.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,
    /// Show a unified diff of every change (with --output json: `before`/`after` per file).
    #[arg(long)]
    pub(crate) diff: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) base: CheckArgs,
    /// Change nothing; report what would change (exit 2 when something would).
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub(crate) inventory: InventoryArg,
    /// Write the files under DIR as if it were the node's root (secrets included, 0600);
    /// `-` (the default) prints them with secrets redacted.
    #[arg(long, value_name = "DIR", default_value = "-")]
    pub(crate) out: String,
}

/// The command line as parsed: [`Cli`] with each subcommand's usage line fixed to its plain
/// form, so that an error never shows an option the user gave (`--output <OUTPUT>`) as if it
/// were required.
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    cli.build();
    let usages: Vec<(String, String)> = cli
        .get_subcommands_mut()
        .filter(|sub| sub.get_name() != "help")
        .map(|sub| {
            let usage = sub.render_usage().to_string();
            let usage = usage.trim_start_matches("Usage: ").to_string();
            (sub.get_name().to_string(), usage)
        })
        .collect();
    let mut cli = Cli::command();
    for (name, usage) in usages {
        cli = cli.mut_subcommand(name, |sub| sub.override_usage(usage));
    }
    cli
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProbeOutput {
    Text,
    Json,
    /// The node-exporter textfile format (metrics `mirrorctl_probe_*`).
    Prometheus,
}

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// Images to pull-test (`nginx`, `ghcr.io/org/app:1.2`); without any, every mirror and
    /// server of every registry gets the base request.
    #[arg(value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
    #[command(flatten)]
    pub(crate) inventory: InventoryArg,
    /// Read the CA, client certificate and secret files under DIR (their node paths prefixed).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub(crate) root: PathBuf,
    /// Send the credentials `credentialPlugin` grants to a pod of this namespace, as the
    /// kubelet would, to every endpoint that challenges.
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,
    /// With --namespace: the pod's service account (default: `default`).
    #[arg(long, value_name = "SA", requires = "namespace")]
    pub(crate) service_account: Option<String>,
    /// With --namespace: an annotation of the service account, as the kubelet sends it to the
    /// plugin (repeatable); without any, grants that depend on annotations are not used.
    #[arg(long, value_name = "KEY=VALUE", requires = "namespace", value_parser = parse_annotation)]
    pub(crate) annotation: Vec<(String, String)>,
    /// Seconds each step may take: name resolution, connect (unless the mirror's
    /// `dialTimeout` says otherwise), TLS handshake, each request.
    #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = parse_timeout)]
    pub(crate) timeout: f64,
    /// Report format on stdout (or in --textfile).
    #[arg(long, value_enum, default_value_t = ProbeOutput::Text)]
    pub(crate) output: ProbeOutput,
    /// With --output prometheus: write the metrics to PATH atomically (node-exporter's
    /// textfile collector never reads half a file) instead of standard output.
    #[arg(long, value_name = "PATH")]
    pub(crate) textfile: Option<PathBuf>,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 3600"
        )),
    }
}
