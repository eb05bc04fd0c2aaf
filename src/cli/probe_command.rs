//! The runner of `probe`: options from the flags, the report in the chosen format, exit 1
//! (with one line on stderr) when an image does not come through a mirror.

use std::time::Duration;

use super::Stdout;
use super::args::{ProbeArgs, ProbeOutput};
use super::pipeline::load;
use crate::error::Error;
use crate::probe::{self, output};

pub(crate) fn run_probe(args: ProbeArgs, out: &mut Stdout) -> Result<bool, Error> {
    let inventory = load(&args.inventory)?;
    // Without a plugin there is no grant to send: a probe "as" that pod would be an anonymous
    // one that looks like a credentials check.
    if let Some(ns) = &args.namespace
        && inventory.credential_plugin.is_none()
    {
        return Err(Error::Partial(format!(
            "--namespace {ns}: the inventory has no `credentialPlugin`, so no credentials would be \
             granted to that pod; probe without --namespace"
        )));
    }
    let root = std::path::absolute(&args.root)
        .map_err(|e| Error::io("resolve the root", &args.root, e))?;
    let options = probe::Options {
        images: args.images.clone(),
        root,
        timeout: Duration::from_secs_f64(args.timeout),
        who: super::commands::pod(
            args.namespace.as_deref(),
            args.service_account.as_deref(),
            &args.annotation,
        )?,
    };
    let report = probe::run(&inventory, &options)?;
    match args.output {
        ProbeOutput::Text => out.print(&output::text(&report))?,
        ProbeOutput::Json => out.print(&format!("{:#}\n", output::json(&report)))?,
        ProbeOutput::Prometheus => {
            let text = output::prometheus(&report);
            match &args.textfile {
                Some(path) => crate::fsx::write_atomic(path, text.as_bytes(), 0o644, None)?,
                None => out.print(&text)?,
            }
        }
    }
    if report.success() {
        Ok(false)
    } else {
        Err(Error::Partial(report.failure()))
    }
}
