//! The command line: dispatch of a parsed command to its runner, and the one table that maps
//! the outcome of a run to the exit status.

mod args;
mod commands;
mod pipeline;
mod probe_command;

use std::io::Write;
use std::process::ExitCode;

use clap::FromArgMatches;

pub use args::Cli;
use args::Command;
use commands::{run_credential_provider, run_import, run_lint, run_render, run_resolve};
use pipeline::run_plan;
use probe_command::run_probe;

use crate::error::Error;

/// What a run ended with; [`exit_status`] is the only place it becomes a number.
#[derive(Debug)]
pub(crate) enum Outcome {
    Unchanged,
    Changed,
    Failed(Error),
    Usage,
}

pub(crate) fn exit_status(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Unchanged => 0,
        Outcome::Failed(_) => 1,
        Outcome::Changed => 2,
        Outcome::Usage => 64,
    }
}

pub fn main() -> ExitCode {
    let parsed = args::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .and_then(usage_checks);
    let outcome = match parsed {
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

/// Option combinations clap's attributes cannot say: a usage error (64), printed as clap's own.
fn usage_checks(cli: Cli) -> Result<Cli, clap::Error> {
    if let Command::Probe(probe) = &cli.command
        && probe.textfile.is_some()
        && probe.output != args::ProbeOutput::Prometheus
    {
        // The error of the subcommand, so that its usage line is probe's.
        let mut command = args::command();
        command.build();
        let probe = command.find_subcommand_mut("probe").cloned();
        return Err(probe.unwrap_or(command).error(
            clap::error::ErrorKind::ArgumentConflict,
            "--textfile writes the prometheus format: use it with --output prometheus",
        ));
    }
    Ok(cli)
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

pub(crate) fn run(cli: Cli) -> Outcome {
    let mut stdout = Stdout { closed: false };
    let result = match cli.command {
        Command::Apply(args) => run_plan(args.base.run, args.check, args.base.diff, &mut stdout),
        Command::Check(args) => run_plan(args.run, true, args.diff, &mut stdout),
        Command::Diff(args) => run_plan(args, true, true, &mut stdout),
        Command::Render(args) => run_render(args, &mut stdout),
        Command::Lint(args) => run_lint(args, &mut stdout),
        Command::Resolve(args) => run_resolve(args, &mut stdout),
        Command::Import(args) => run_import(args, &mut stdout),
        Command::Schema => stdout
            .print(&crate::inventory::schema::text())
            .map(|()| false),
        Command::CredentialProvider(args) => run_credential_provider(args, &mut stdout),
        Command::Probe(args) => run_probe(args, &mut stdout),
    };
    // A reader that stopped early (`mirrorctl diff | head -1`) changes nothing about what the
    // run found or did: the status stays the outcome, so `set -o pipefail` still sees drift.
    match result {
        Ok(true) => Outcome::Changed,
        Ok(false) => Outcome::Unchanged,
        Err(e) => Outcome::Failed(e),
    }
}
