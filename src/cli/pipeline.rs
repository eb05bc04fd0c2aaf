//! apply, check and diff: load → render → plan, then apply and report, on one code path with
//! writes disabled for the read-only commands, so that they can never disagree.

use std::time::Duration;

use super::args::{InventoryArg, Output, RunArgs};
use super::{Stdout, to_stderr};
use crate::error::Error;
use crate::inventory::{self, Inventory};
use crate::render;
use crate::secrets::Secrets;
use crate::{apply, lint, lock, plan, report};

pub(crate) fn load(arg: &InventoryArg) -> Result<Inventory, Error> {
    inventory::load(&arg.inventory)
}

/// apply, check and diff: one code path, with writes disabled for the read-only ones. With
/// `--output json` a failed run still prints its one report object: what was written before
/// the failure is as true as the failure (an Ansible task must see both).
pub(crate) fn run_plan(
    args: RunArgs,
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
    args: &RunArgs,
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
                out.print(&report::text(plan, check, args.adopt))?;
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
