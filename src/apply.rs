//! The only writer: executes a [`Plan`] with atomic writes, in an order that never lets
//! containerd see a hosts.toml naming a missing file, and keeps the ownership record true.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::Error;
use crate::fsx;
use crate::plan::{Action, Change, Plan, sha256_hex};
use crate::state::{Record, State};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace files at desired paths that mirrorctl did not write.
    pub adopt: bool,
}

/// What an apply did, for the report.
#[derive(Debug, Default)]
pub struct Applied {
    pub written: Vec<String>,
    pub removed_dirs: Vec<String>,
    pub stale_temps_removed: usize,
}

fn record(change: &Change) -> Option<(String, Record)> {
    if !change.kind.owned() {
        return None;
    }
    let after = change.after.as_ref()?;
    Some((
        change.path.clone(),
        Record {
            sha256: sha256_hex(&after.contents),
            mode: format!("{:04o}", after.mode),
            kind: change.kind.name().to_string(),
        },
    ))
}

/// Refuses foreign files unless adopting. Call before anything is written.
pub fn preflight(plan: &Plan, options: Options) -> Result<(), Error> {
    if options.adopt {
        return Ok(());
    }
    let foreign: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.foreign)
        .map(|c| c.path.as_str())
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::Partial(format!(
        "refusing to replace {} file{} that mirrorctl did not write: {}; nothing was changed. Re-run with --adopt to take them over",
        foreign.len(),
        if foreign.len() == 1 { "" } else { "s" },
        foreign.join(", ")
    )))
}

pub fn apply(plan: &Plan, options: Options) -> Result<Applied, Error> {
    preflight(plan, options)?;
    let root = plan.root.as_path();
    let mut applied = Applied::default();

    // Temp files of a killed run, in every directory this run may touch.
    let dirs: BTreeSet<&str> = plan
        .changes
        .iter()
        .filter_map(|c| c.path.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let changed = plan.changed();
    for dir in &dirs {
        for temp in fsx::stale_temps(&fsx::under_root(root, dir)) {
            fsx::remove_file(&temp)?;
            applied.stale_temps_removed += 1;
        }
    }

    let desired_state = {
        let mut state = State {
            version: 1,
            files: plan.changes.iter().filter_map(record).collect(),
            dirs: plan.state.dirs.clone(),
        };
        state.files.retain(|path, _| {
            plan.changes
                .iter()
                .any(|c| &c.path == path && c.action != Action::Delete)
        });
        state
    };
    if !changed {
        if desired_state != plan.state {
            desired_state.save(root, &plan.state_dir)?;
        }
        return Ok(applied);
    }

    // Record intent first: a crash after a create must not leave an unowned file behind.
    let mut state = plan.state.clone();
    state.version = 1;
    for change in &plan.changes {
        if let Some((path, rec)) = record(change) {
            state.files.entry(path).or_insert(rec);
        }
    }
    state.save(root, &plan.state_dir)?;

    let mut writes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Chmod))
        .collect();
    writes.sort_by_key(|c| (c.kind.rank(), c.path.clone()));
    let mut deletes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .collect();
    deletes.sort_by_key(|c| (std::cmp::Reverse(c.kind.rank()), c.path.clone()));

    let mut failure = None;
    for change in writes.iter().chain(deletes.iter()) {
        match execute(root, change, &mut state) {
            Ok(()) => applied.written.push(change.path.clone()),
            Err(e) => {
                failure = Some((change.path.clone(), e));
                break;
            }
        }
    }

    if failure.is_none() {
        // Directories mirrorctl created and no longer needs, deepest first.
        let dirs: Vec<String> = state.dirs.iter().rev().cloned().collect();
        for dir in dirs {
            let still_wanted = state
                .files
                .keys()
                .any(|f| f.starts_with(&format!("{dir}/")));
            if still_wanted {
                continue;
            }
            match fsx::remove_dir_if_empty(&fsx::under_root(root, &dir)) {
                Ok(true) => {
                    state.dirs.remove(&dir);
                    applied.removed_dirs.push(dir);
                }
                Ok(false) => {
                    if !fsx::under_root(root, &dir).is_dir() {
                        state.dirs.remove(&dir);
                    }
                }
                Err(e) => {
                    failure = Some((dir.clone(), e));
                    break;
                }
            }
        }
    }

    state.save(root, &plan.state_dir)?;
    match failure {
        None => Ok(applied),
        Some((path, error)) => {
            let done = &applied.written;
            let not_done: Vec<&str> = writes
                .iter()
                .chain(deletes.iter())
                .map(|c| c.path.as_str())
                .filter(|p| !done.iter().any(|d| d == p))
                .collect();
            Err(Error::Partial(format!(
                "{error}\n  while applying `{path}`; every file holds either its old or its new complete content\n  done: {}\n  not done: {}",
                if done.is_empty() {
                    "nothing".into()
                } else {
                    done.join(", ")
                },
                not_done.join(", ")
            )))
        }
    }
}

fn execute(root: &Path, change: &Change, state: &mut State) -> Result<(), Error> {
    let disk = fsx::under_root(root, &change.path);
    match change.action {
        Action::Create | Action::Update => {
            let Some(after) = &change.after else {
                return Ok(());
            };
            if let Some((node_dir, _)) = change.path.rsplit_once('/') {
                let created = fsx::create_dirs(&fsx::under_root(root, node_dir))?;
                for dir in created {
                    if let Ok(rel) = dir.strip_prefix(root) {
                        state.dirs.insert(format!("/{}", rel.display()));
                    }
                }
            }
            let owner = change.before.as_ref().map(|b| b.owner);
            fsx::write_atomic(&disk, &after.contents, after.mode, owner)?;
            if let Some((path, rec)) = record(change) {
                state.files.insert(path, rec);
            }
        }
        Action::Chmod => {
            if let Some(after) = &change.after {
                fsx::chmod(&disk, after.mode)?;
                if let Some((path, rec)) = record(change) {
                    state.files.insert(path, rec);
                }
            }
        }
        Action::Delete => {
            fsx::remove_file(&disk)?;
            state.files.remove(&change.path);
        }
        Action::Unchanged => {}
    }
    Ok(())
}
