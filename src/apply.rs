//! The only writer: executes a [`Plan`] with atomic writes, in an order that never lets
//! containerd see a hosts.toml naming a missing file, and keeps the ownership record true even
//! when the run is killed at any moment: intent is recorded before the first write, the truth
//! after the last.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, Stage};
use crate::fsx;
use crate::plan::{Action, Change, Plan, sha256_hex};
use crate::state::{Pending, Record, State};

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

/// The record of what `change` leaves on disk once done; `None` for files mirrorctl does not
/// own and for deletes.
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
            pending: None,
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
    Err(Error::Foreign {
        paths: foreign.into_iter().map(str::to_string).collect(),
    })
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/')
        .map(|(d, _)| d)
        .filter(|d| !d.is_empty())
}

pub fn apply(plan: &Plan, options: Options) -> Result<Applied, Error> {
    preflight(plan, options)?;
    let root = plan.root.as_path();
    let mut applied = Applied::default();

    // Temp files of a killed run: beside every file this run writes, beside every file the
    // record says a run was writing (a killed run leaves its intent there), and beside the
    // record itself. A no-op run looks in one directory, not in thousands.
    let mut dirs: BTreeSet<String> = plan
        .changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| c.path.as_str())
        .chain(
            plan.state
                .files
                .iter()
                .filter(|(_, r)| r.pending.is_some())
                .map(|(p, _)| p.as_str()),
        )
        .filter_map(parent)
        .map(str::to_string)
        .collect();
    dirs.insert(plan.state_dir.to_string());
    applied.stale_temps_removed = sweep_stale_temps(root, &dirs)?;

    let mut state = State {
        version: 1,
        files: plan.state.files.clone(),
        dirs: plan.state.dirs.clone(),
    };
    // Whether the record on disk is the intent saved below rather than `plan.state`.
    let mut intent_saved = false;

    if plan.changed() {
        // Intent: every file about to be written is recorded with its new content pending,
        // and every directory about to be created is recorded, before the first write.
        for change in &plan.changes {
            if let Some((path, new)) = record(change).filter(|_| change.is_change()) {
                let pending = Pending {
                    sha256: new.sha256.clone(),
                    mode: new.mode.clone(),
                };
                let entry = state.files.entry(path).or_insert(new);
                entry.pending = Some(pending);
            }
            if change.action == Action::Create {
                let mut dir = parent(&change.path);
                while let Some(d) = dir {
                    if fsx::under_root(root, d).exists() {
                        break;
                    }
                    state.dirs.insert(d.to_string());
                    dir = parent(d);
                }
            }
        }
        state
            .save(root, &plan.state_dir)
            .map_err(|e| Error::Stopped {
                source: Box::new(e),
                stage: Stage::Intent,
                done: Vec::new(),
                not_done: changed_paths(plan),
            })?;
        intent_saved = true;
    }

    // Writes before deletes; dependencies written first and deleted last. Directory fsyncs
    // are batched within a step, never across: a file another names is durable before the
    // file that names it is written, and after it is deleted.
    let ordered = in_order(&plan.changes);
    let (written, mut failure) = execute_in_order(root, &ordered);
    applied.written = written;

    // The truth: done changes recorded as done; what was not done keeps its intent record,
    // so the next run neither loses track of it nor calls it drift.
    // Edited in place: a second map of every record would double a fleet's record in memory.
    let done: BTreeSet<&str> = applied.written.iter().map(String::as_str).collect();
    state.files.retain(|path, _| {
        plan.changes
            .binary_search_by(|c| c.path.as_str().cmp(path))
            .is_ok()
    });
    for change in &plan.changes {
        if change.is_change() && !done.contains(change.path.as_str()) {
            continue;
        }
        match record(change) {
            Some((path, settled)) => {
                state.files.insert(path, settled);
            }
            None => {
                state.files.remove(&change.path);
            }
        }
    }

    if failure.is_none() {
        // Directories mirrorctl created and no longer needs, deepest first.
        let created: Vec<String> = state.dirs.iter().rev().cloned().collect();
        for dir in created {
            let prefix = format!("{dir}/");
            // The first recorded path at or after the prefix tells whether any lies below it.
            let holds_files = state
                .files
                .range::<str, _>((
                    std::ops::Bound::Included(prefix.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .is_some_and(|(f, _)| f.starts_with(&prefix));
            if holds_files {
                continue;
            }
            let disk = fsx::under_root(root, &dir);
            match fsx::remove_dir_if_empty(&disk) {
                Ok(true) => {
                    state.dirs.remove(&dir);
                    applied.removed_dirs.push(dir);
                }
                Ok(false) if !disk.is_dir() => {
                    state.dirs.remove(&dir);
                }
                Ok(false) => {}
                Err(e) => {
                    failure = Some((dir.clone(), e));
                    break;
                }
            }
        }
    }

    let saved = if intent_saved || state != plan.state {
        state.save(root, &plan.state_dir)
    } else {
        Ok(())
    };
    let stopped = |source: Error, stage: Stage| Error::Stopped {
        source: Box::new(source),
        stage,
        not_done: ordered
            .iter()
            .map(|c| c.path.clone())
            .filter(|p| !done.contains(p.as_str()))
            .collect(),
        done: applied.written.clone(),
    };
    match (failure, saved) {
        (None, Ok(())) => Ok(applied),
        (Some((path, error)), _) => Err(stopped(error, Stage::Applying(path))),
        (None, Err(error)) => Err(stopped(error, Stage::Record)),
    }
}

/// `render --out`: makes `changes` under `root` exactly as [`apply`] makes a plan's (stale
/// temporary files swept, the same order, the same atomic writes, the same symlink refusal),
/// but keeps no ownership record and takes no lock: the tree is a build's output, not a node
/// mirrorctl manages.
pub(crate) fn write_unrecorded(root: &Path, changes: &[Change]) -> Result<(), Error> {
    let ordered = in_order(changes);
    let dirs: BTreeSet<String> = ordered
        .iter()
        .filter_map(|c| parent(&c.path))
        .map(str::to_string)
        .collect();
    sweep_stale_temps(root, &dirs)?;
    let (done, failure) = execute_in_order(root, &ordered);
    let Some((path, source)) = failure else {
        return Ok(());
    };
    Err(Error::Stopped {
        source: Box::new(source),
        stage: Stage::Applying(path),
        not_done: ordered
            .iter()
            .map(|c| c.path.clone())
            .filter(|p| !done.contains(p))
            .collect(),
        done,
    })
}

/// Removes the temporary files a killed run left in `dirs` (node paths). Returns how many.
fn sweep_stale_temps(root: &Path, dirs: &BTreeSet<String>) -> Result<usize, Error> {
    let mut removed = 0;
    for dir in dirs {
        for temp in fsx::stale_temps(&fsx::under_root(root, dir)) {
            fsx::remove_file(&temp)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The changes to make, in the order they run: see [`step`]; within a step, by path.
fn in_order(changes: &[Change]) -> Vec<&Change> {
    let mut ordered: Vec<&Change> = changes.iter().filter(|c| c.is_change()).collect();
    ordered.sort_by(|a, b| step(a).cmp(&step(b)).then_with(|| a.path.cmp(&b.path)));
    ordered
}

/// Runs `ordered` one step at a time, each step durable before the next begins, and stops at
/// the first failure. Returns the paths done and that failure.
fn execute_in_order(root: &Path, ordered: &[&Change]) -> (Vec<String>, Option<(String, Error)>) {
    let mut written = Vec::new();
    for batch in ordered.chunk_by(|a, b| step(a) == step(b)) {
        let (done, error) = execute_batch(root, batch);
        written.extend(done);
        if error.is_some() {
            return (written, error);
        }
    }
    (written, None)
}

/// Every path the plan changes, in path order.
fn changed_paths(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| c.path.clone())
        .collect()
}

/// The step a change runs in; steps run in ascending order: writes by rank, then deletes by
/// descending rank.
fn step(change: &Change) -> (bool, u8) {
    let delete = change.action == Action::Delete;
    let rank = change.kind.rank();
    (delete, if delete { u8::MAX - rank } else { rank })
}

/// Threads for a large batch: each file's fsync waits on the disk, and concurrent fsyncs
/// share journal commits, so a fleet's first apply is bound by commits, not by one queue.
const WRITERS: usize = 8;

/// Runs one step's changes (in parallel when there are many), then makes the directories
/// they touched durable. Returns the paths done and the first failure.
fn execute_batch(root: &Path, batch: &[&Change]) -> (Vec<String>, Option<(String, Error)>) {
    if batch.len() < 2 * WRITERS {
        let mut dirty = fsx::Dirty::default();
        let mut outcomes = Vec::with_capacity(batch.len());
        for change in batch {
            let outcome = execute(root, change, &mut dirty);
            let failed = outcome.is_err();
            outcomes.push(Some(outcome));
            if failed {
                break;
            }
        }
        outcomes.resize_with(batch.len(), || None);
        let synced = dirty.sync();
        return settle(batch, outcomes, synced);
    }
    {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let slots: Vec<std::sync::Mutex<Option<Result<(), Error>>>> =
            batch.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let dirties: Vec<fsx::Dirty> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..WRITERS)
                .map(|_| {
                    scope.spawn(|| {
                        use std::sync::atomic::Ordering::SeqCst;
                        let mut dirty = fsx::Dirty::default();
                        while !stop.load(SeqCst) {
                            let i = next.fetch_add(1, SeqCst);
                            let Some(change) = batch.get(i) else { break };
                            let outcome = execute(root, change, &mut dirty);
                            if outcome.is_err() {
                                stop.store(true, SeqCst);
                            }
                            if let Ok(mut slot) = slots[i].lock() {
                                *slot = Some(outcome);
                            }
                        }
                        dirty
                    })
                })
                .collect();
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
        let mut dirty = fsx::Dirty::default();
        for other in dirties {
            dirty.merge(other);
        }
        let synced = dirty.sync();
        let outcomes = slots
            .into_iter()
            .map(|slot| slot.into_inner().ok().flatten())
            .collect();
        settle(batch, outcomes, synced)
    }
}

/// The paths done, in batch order, and the first failure (a change's, or the final fsync's).
fn settle(
    batch: &[&Change],
    outcomes: Vec<Option<Result<(), Error>>>,
    synced: Result<(), Error>,
) -> (Vec<String>, Option<(String, Error)>) {
    let mut done = Vec::new();
    let mut failure = None;
    for (change, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            Some(Ok(())) => done.push(change.path.clone()),
            Some(Err(e)) if failure.is_none() => failure = Some((change.path.clone(), e)),
            _ => {}
        }
    }
    if let (Err(e), None) = (synced, &failure) {
        failure = Some(("the directories written".to_string(), e));
    }
    (done, failure)
}

fn execute(root: &Path, change: &Change, dirty: &mut fsx::Dirty) -> Result<(), Error> {
    let disk = fsx::under_root(root, &change.path);
    match change.action {
        Action::Create | Action::Update => {
            let Some(after) = &change.after else {
                return Ok(());
            };
            if let Some(node_dir) = parent(&change.path) {
                fsx::create_dirs_deferred(&fsx::under_root(root, node_dir), dirty)?;
            }
            let owner = change.before.as_ref().map(|b| b.owner);
            fsx::write_atomic_deferred(&disk, &after.contents, after.mode, owner, dirty)?;
        }
        Action::Chmod => {
            if let Some(after) = &change.after {
                fsx::chmod(&disk, after.mode)?;
            }
        }
        Action::Delete => fsx::remove_file_deferred(&disk, dirty)?,
        Action::Unchanged => {}
    }
    Ok(())
}
