//! What the user sees: the plan as text, as a unified diff, or as the documented JSON object;
//! secrets redacted in every one of them.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};
use similar::TextDiff;

use crate::error::{Error, Problem, Stage};
use crate::plan::{Action, Change, Plan, sha256_hex};
use crate::redact::redact;
use crate::render::{DesiredFile, FileKind, Service};

/// Services to restart so that the changes in `plan` take effect.
pub(crate) fn restarts(plan: &Plan) -> Vec<Service> {
    let mut services: Vec<Service> = plan
        .changes
        .iter()
        .filter(|c| c.is_change())
        .filter_map(|c| c.kind.restart())
        .collect();
    services.sort();
    services.dedup();
    services
}

/// Services to restart for the changes of `plan` at `paths` (those a failed run did carry out).
pub(crate) fn restarts_of(plan: &Plan, paths: &[&str]) -> Vec<Service> {
    let mut services: Vec<Service> = plan
        .changes
        .iter()
        .filter(|c| c.is_change() && paths.contains(&c.path.as_str()))
        .filter_map(|c| c.kind.restart())
        .collect();
    services.sort();
    services.dedup();
    services
}

/// The hash a kubelet (1.34+) exports as `kubelet_credential_provider_config_info{hash=…}`:
/// sha256 over each file's length (big-endian u64) followed by its bytes.
pub(crate) fn kubelet_config_hash<'a>(
    files: impl IntoIterator<Item = &'a DesiredFile>,
) -> Option<String> {
    let file = files
        .into_iter()
        .find(|f| f.kind == FileKind::CredentialProviderConfig)?;
    let mut framed = (file.contents.len() as u64).to_be_bytes().to_vec();
    framed.extend_from_slice(&file.contents);
    Some(format!("sha256:{}", sha256_hex(&framed)))
}

/// [`kubelet_config_hash`] of what a plan leaves on disk.
fn plan_hash(plan: &Plan) -> Option<String> {
    kubelet_config_hash(plan.changes.iter().filter_map(|c| c.after.as_ref()))
}

fn shown(change: &Change, bytes: &[u8]) -> String {
    redact(change.kind, &String::from_utf8_lossy(bytes))
}

/// One line per change, then a summary line.
pub(crate) fn text(plan: &Plan, check: bool, adopt: bool) -> String {
    let mut out = String::new();
    let mut unchanged = 0;
    for change in &plan.changes {
        if !change.is_change() {
            unchanged += 1;
            continue;
        }
        let verb = if check {
            format!("would {}", change.action.name())
        } else {
            change.action.name().to_string()
        };
        let mut notes = Vec::new();
        // The mode the file will have; a deleted file has none.
        match &change.after {
            Some(after) => notes.push(format!("{:04o}", after.mode)),
            None => notes.push("-".into()),
        }
        if change.drift {
            notes.push(if change.action == Action::Create {
                "drift: removed by hand".to_string()
            } else {
                "drift: changed by hand".to_string()
            });
        }
        match (change.foreign, adopt, check) {
            (false, _, _) => {}
            (true, false, _) => notes.push("not written by mirrorctl: needs --adopt".into()),
            (true, true, true) => notes.push("not written by mirrorctl: would adopt".into()),
            (true, true, false) => notes.push("adopted".into()),
        }
        let _ = writeln!(out, "{verb:<16} {} ({})", change.path, notes.join(", "));
    }
    let changed = plan.changes.len() - unchanged;
    let restart: Vec<&str> = restarts(plan).iter().map(|s| s.name()).collect();
    let _ = write!(
        out,
        "{changed} file{} {}, {unchanged} unchanged",
        if changed == 1 { "" } else { "s" },
        match (check, changed) {
            (_, 0) => "to change",
            (true, _) => "would change",
            (false, _) => "changed",
        }
    );
    if !restart.is_empty() {
        let _ = write!(
            out,
            "; restart {}{}",
            restart.join(" and "),
            if check { " after apply" } else { "" }
        );
    }
    out.push('\n');
    if let Some(hash) = plan_hash(plan) {
        let _ = writeln!(out, "kubelet credential provider config hash: {hash}");
    }
    out
}

/// A git-style unified diff (`a/PATH`, `b/PATH`, relative to `--root`) that `patch -p1` or
/// `git apply` can apply; new files diff against `/dev/null`.
pub(crate) fn diff(plan: &Plan) -> String {
    let mut out = String::new();
    for change in plan.changes.iter().filter(|c| c.is_change()) {
        let rel = change.path.trim_start_matches('/');
        let (a, b) = (format!("a/{rel}"), format!("b/{rel}"));
        let _ = writeln!(out, "diff --git {a} {b}");
        let before_mode = change.before.as_ref().map(|b| b.mode);
        let after_mode = change.after.as_ref().map(|a| a.mode);
        match (before_mode, after_mode) {
            (None, Some(m)) => {
                let _ = writeln!(out, "new file mode 100{m:03o}");
            }
            (Some(m), None) => {
                let _ = writeln!(out, "deleted file mode 100{m:03o}");
            }
            (Some(old), Some(new)) if old != new => {
                let _ = writeln!(out, "old mode 100{old:03o}\nnew mode 100{new:03o}");
            }
            _ => {}
        }
        if change.action == Action::Chmod {
            continue;
        }
        let before = change
            .before
            .as_ref()
            .map(|b| shown(change, &b.bytes))
            .unwrap_or_default();
        let after = change
            .after
            .as_ref()
            .map(|a| shown(change, &a.contents))
            .unwrap_or_default();
        let old_header = if change.before.is_some() {
            a
        } else {
            "/dev/null".into()
        };
        let new_header = if change.after.is_some() {
            b
        } else {
            "/dev/null".into()
        };
        let text_diff = TextDiff::from_lines(&before, &after);
        let unified = text_diff
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &new_header)
            .missing_newline_hint(true)
            .to_string();
        out.push_str(&unified);
    }
    out
}

fn mode(m: Option<u32>) -> Value {
    m.map_or(Value::Null, |m| Value::String(format!("{m:04o}")))
}

/// The node paths a run changed, sorted: none in check mode, those done before a failure,
/// every change of a run that succeeded.
fn written<'a>(plan: &'a Plan, check: bool, error: Option<&'a Error>) -> Vec<&'a str> {
    match (check, error) {
        (true, _) => Vec::new(),
        (false, Some(Error::Stopped { done, .. })) => {
            let mut done: Vec<&str> = done.iter().map(String::as_str).collect();
            done.sort_unstable();
            done
        }
        (false, Some(_)) => Vec::new(),
        (false, None) => plan
            .changes
            .iter()
            .filter(|c| c.is_change())
            .map(|c| c.path.as_str())
            .collect(),
    }
}

/// The documented JSON report (README, "JSON report"): the plan, what this run wrote of it,
/// the restarts that what it wrote needs, and the error that stopped it, if any.
pub(crate) fn json(plan: &Plan, check: bool, with_content: bool, error: Option<&Error>) -> Value {
    let files: Vec<Value> = plan
        .changes
        .iter()
        .map(|change| {
            let mut file = json!({
                "path": change.path,
                "action": change.action.name(),
                "kind": change.kind.name(),
                "sha256Before": change.before.as_ref().map(|b| match (&change.after, change.action) {
                    (Some(after), Action::Unchanged) => sha256_hex(&after.contents),
                    _ => sha256_hex(&b.bytes),
                }),
                "sha256After": change.after.as_ref().map(|a| sha256_hex(&a.contents)),
                "modeBefore": mode(change.before.as_ref().map(|b| b.mode)),
                "mode": mode(change.after.as_ref().map(|a| a.mode)),
                "secret": change.secret(),
                "drift": change.drift,
                "foreign": change.foreign,
                "restart": if change.is_change() { change.kind.restart().map(Service::name) } else { None },
            });
            if with_content && change.is_change() {
                file["before"] = json!(change.before.as_ref().map(|b| shown(change, &b.bytes)).unwrap_or_default());
                file["after"] = json!(change.after.as_ref().map(|a| shown(change, &a.contents)).unwrap_or_default());
            }
            file
        })
        .collect();
    let written = written(plan, check, error);
    let not_written: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.is_change() && !written.contains(&c.path.as_str()))
        .map(|c| c.path.as_str())
        .collect();
    // In check mode the restarts apply would need; otherwise those that what was written needs.
    let restart = if check || error.is_none() {
        restarts(plan)
    } else {
        restarts_of(plan, &written)
    };
    json!({
        "changed": if check { plan.changed() } else { !written.is_empty() },
        "check": check,
        "root": plan.root.display().to_string(),
        "files": files,
        "written": written,
        "notWritten": not_written,
        "restart": restart.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "kubeletCredentialProviderConfigHash": plan_hash(plan),
        "error": error.map(error_json),
    })
}

/// The report of a run that failed before it had a plan (an invalid inventory, an unreadable
/// secret, a held lock): nothing was written, and the error says why.
pub(crate) fn json_unplanned(root: &Path, check: bool, error: &Error) -> Value {
    json!({
        "changed": false,
        "check": check,
        "root": root.display().to_string(),
        "files": [],
        "written": [],
        "notWritten": [],
        "restart": [],
        "kubeletCredentialProviderConfigHash": null,
        "error": error_json(error),
    })
}

/// `{"kind": …, "message": …, "path": …}` and what else the kind knows: a stable `kind` to act
/// on, the prose `message` as on stderr, and the typed details.
pub(crate) fn error_json(error: &Error) -> Value {
    let mut value = json!({
        "kind": error.kind().name(),
        "message": error.to_string(),
        "path": null,
    });
    let cause = match error {
        Error::Stopped { source, stage, .. } => {
            value["stage"] = json!(stage.name());
            if let Stage::Applying(path) = stage {
                value["file"] = json!(path);
            }
            source.as_ref()
        }
        other => other,
    };
    let problems = |problems: &[Problem]| -> Value {
        problems
            .iter()
            .map(|p| {
                let mut row = json!({
                    "code": p.code,
                    "severity": p.severity.name(),
                    "field": p.path,
                    "line": p.location.map(|(line, _)| line),
                    "column": p.location.map(|(_, column)| column),
                    "message": p.message,
                });
                // The line standing for the findings of a code past the first ones.
                if p.omitted > 0 {
                    row["omitted"] = json!(p.omitted);
                }
                row
            })
            .collect()
    };
    match cause {
        Error::Inventory {
            file,
            problems: found,
        }
        | Error::NodeFile {
            file,
            problems: found,
        } => {
            value["path"] = json!(file);
            value["problems"] = problems(found);
        }
        Error::Certificates { problems: found } => value["problems"] = problems(found),
        Error::Io { action, path, .. } => {
            value["path"] = json!(path.display().to_string());
            value["action"] = json!(action);
        }
        Error::Symlink { path, .. } | Error::NotAFile { path } => {
            value["path"] = json!(path.display().to_string());
        }
        Error::Secret { field, path, .. } => {
            value["path"] = json!(path.display().to_string());
            value["field"] = json!(field);
        }
        Error::Locked { path, holder, .. } => {
            value["path"] = json!(path.display().to_string());
            value["pid"] = json!(holder);
        }
        Error::Foreign { paths } => value["paths"] = json!(paths),
        Error::Stopped { .. } | Error::Partial(_) => {}
    }
    value
}
