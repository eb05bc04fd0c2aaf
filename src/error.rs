//! The library's error type: every variant names the file or field it concerns.

use crate::code::Code;
use std::{fmt, io, path::PathBuf};

/// How bad a problem is. Errors stop `apply`; warnings and notes are shown and only fail
/// `lint --strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem found in an inventory, located by field path and, where the parser knows it,
/// by line and column. `code` is stable across releases (see docs/lint.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub severity: Severity,
    /// Field path in the inventory, e.g. `registries."docker.io".mirrors[0].url`.
    pub path: String,
    /// 1-based line and column of the offending node.
    pub location: Option<(usize, usize)>,
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub hint: Option<String>,
    /// Non-zero only on the one line that stands for the findings of `code` past
    /// [`MAX_PER_CODE`]: how many it stands for.
    pub omitted: usize,
}

/// Longest message kept: a value of megabytes quoted in an error helps nobody.
const MAX_MESSAGE: usize = 1024;

/// `message`, cut at [`MAX_MESSAGE`] bytes (on a character boundary) with a note.
pub fn clip(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &message[..end], message.len() - end)
}

/// Longest text quoted in a message (a key, a value, a name), in bytes.
pub const MAX_QUOTED: usize = 160;
/// Longest field path kept: a path repeats its registry's name, which may be long.
const MAX_PATH: usize = 320;

/// `text` for quoting in a message: at most [`MAX_QUOTED`] bytes (cut on a character
/// boundary, an ellipsis and the full length after it).
pub fn clip_text(text: &str) -> std::borrow::Cow<'_, str> {
    clip_to(text, MAX_QUOTED)
}

fn clip_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…({} bytes)", &text[..end], text.len()))
}

fn clip_path(path: String) -> String {
    match clip_to(&path, MAX_PATH) {
        std::borrow::Cow::Borrowed(_) => path,
        std::borrow::Cow::Owned(clipped) => clipped,
    }
}

impl Problem {
    /// An error, its message clipped.
    pub fn error(
        code: Code,
        path: impl Into<String>,
        location: impl Into<Option<(usize, usize)>>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            severity: Severity::Error,
            path: clip_path(path.into()),
            location: location.into(),
            message: clip(message.into()),
            hint: None,
            omitted: 0,
        }
    }

    /// A finding with a hint, for lint rules and node checks.
    pub fn hinted(
        code: Code,
        severity: Severity,
        path: impl Into<String>,
        location: impl Into<Option<(usize, usize)>>,
        message: impl Into<String>,
        hint: &str,
    ) -> Problem {
        Problem {
            code,
            severity,
            path: clip_path(path.into()),
            location: location.into(),
            message: clip(message.into()),
            hint: Some(hint.to_string()),
            omitted: 0,
        }
    }

    /// How many findings this line stands for: one, or the count a summary line omits.
    pub fn weight(&self) -> usize {
        self.omitted.max(1)
    }

    /// The line that stands for `omitted` findings of `code` beyond the first ones.
    fn summary(code: Code, severity: Severity, omitted: usize) -> Problem {
        let n = crate::inventory::yaml::thousands(omitted as u64);
        Problem {
            code,
            severity,
            path: String::new(),
            location: None,
            message: format!(
                "… and {n} more {code} finding{}",
                if omitted == 1 { "" } else { "s" }
            ),
            hint: None,
            omitted,
        }
    }
}

/// Most findings of one code that are kept and shown; the rest are counted in one line.
pub const MAX_PER_CODE: usize = 50;

/// Findings as they are found, keeping at most [`MAX_PER_CODE`] of each code (the first ones)
/// and counting the rest, so that a rule that fires millions of times costs a counter.
#[derive(Debug, Default)]
pub struct Findings {
    kept: Vec<Problem>,
    /// Per code: findings seen, findings kept, severity of the first.
    seen: std::collections::BTreeMap<Code, (usize, usize, Severity)>,
}

impl Findings {
    pub fn push(&mut self, problem: Problem) {
        let (seen, kept, _) = self
            .seen
            .entry(problem.code)
            .or_insert((0, 0, problem.severity));
        *seen += problem.weight();
        if problem.omitted == 0 && *kept < MAX_PER_CODE {
            *kept += 1;
            self.kept.push(problem);
        }
    }

    pub fn append(&mut self, other: &mut Findings) {
        for problem in std::mem::take(other).into_vec() {
            self.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Findings seen, those past the cap included.
    pub fn total(&self) -> usize {
        self.seen.values().map(|(seen, _, _)| seen).sum()
    }

    /// The kept findings in the order found, then one summary line per code that had more.
    pub fn into_vec(self) -> Vec<Problem> {
        let mut out = self.kept;
        for (code, (seen, kept, severity)) in self.seen {
            if seen > kept {
                out.push(Problem::summary(code, severity, seen - kept));
            }
        }
        out
    }
}

impl Extend<Problem> for Findings {
    fn extend<I: IntoIterator<Item = Problem>>(&mut self, iter: I) {
        for problem in iter {
            self.push(problem);
        }
    }
}

/// `problems` sorted by `key`, at most [`MAX_PER_CODE`] of each code (the first in that
/// order) and one summary line per code at the end for the rest; summary lines already in
/// `problems` are merged into these.
pub fn cap_sorted<K: Ord>(mut problems: Vec<Problem>, key: impl Fn(&Problem) -> K) -> Vec<Problem> {
    let (mut summaries, mut found): (Vec<Problem>, Vec<Problem>) =
        problems.drain(..).partition(|p| p.omitted > 0);
    found.sort_by_key(&key);
    summaries.sort_by_key(|p| p.code);
    let mut findings = Findings::default();
    findings.extend(found);
    findings.extend(summaries);
    findings.into_vec()
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every error mirrorctl reports. Messages never carry secret values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", render_problems(.file, .problems))]
    Inventory {
        file: String,
        problems: Vec<Problem>,
    },

    /// A node file mirrorctl edits (containerd's config.toml) that it must not or cannot edit.
    #[error("{}", render_problems_as("refusing to edit", .file, .problems))]
    NodeFile {
        file: String,
        problems: Vec<Problem>,
    },

    #[error("failed to {action} `{}`: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("refusing to follow the symlink `{}`: mirrorctl never writes through a symlink at or below a managed path; replace it with a real {expected}", .path.display())]
    Symlink {
        path: PathBuf,
        expected: &'static str,
    },

    #[error("`{}` is not a regular file; mirrorctl will not replace it", .path.display())]
    NotAFile { path: PathBuf },

    /// Certificates or keys the inventory names that containerd could not use (N002, N006,
    /// N007), refused before anything is written.
    #[error("{}", render_certificates(.problems))]
    Certificates { problems: Vec<Problem> },

    #[error("failed to read the secret for {field} from `{}`: {reason}", .path.display())]
    Secret {
        field: String,
        path: PathBuf,
        reason: String,
    },

    /// Another run holds the lock; `holder` is its pid when the kernel names it.
    #[error("{} holds the lock `{}`; gave up after {waited_secs:.1}s (raise --lock-timeout to wait longer)", holder_name(*.holder), .path.display())]
    Locked {
        path: PathBuf,
        holder: Option<u32>,
        waited_secs: f64,
    },

    /// Files at desired paths that mirrorctl did not write, refused before anything is written.
    #[error("refusing to replace {} file{} that mirrorctl did not write: {}; nothing was changed. Re-run with --adopt to take them over", .paths.len(), if .paths.len() == 1 { "" } else { "s" }, .paths.join(", "))]
    Foreign { paths: Vec<String> },

    /// An apply that stopped part-way: `done` hold their new content, `not_done` their old.
    #[error("{}", render_stopped(.source, .stage, .done, .not_done))]
    Stopped {
        #[source]
        source: Box<Error>,
        stage: Stage,
        done: Vec<String>,
        not_done: Vec<String>,
    },

    #[error("{0}")]
    Partial(String),
}

/// Where in an apply a failure struck; says what the node holds afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Saving the run's intent in the ownership record, before the first write.
    Intent,
    /// Writing, removing or syncing the named node path (or directory).
    Applying(String),
    /// Saving the ownership record after the files were written.
    Record,
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Intent => "intent",
            Stage::Applying(_) => "apply",
            Stage::Record => "record",
        }
    }
}

/// What went wrong, as a stable name for machine-readable reports (`error.kind` in the JSON
/// report); the prose message may change between releases, these names do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Inventory,
    NodeFile,
    Io,
    Symlink,
    NotAFile,
    Certificate,
    Secret,
    Locked,
    Foreign,
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Inventory,
        ErrorKind::NodeFile,
        ErrorKind::Io,
        ErrorKind::Symlink,
        ErrorKind::NotAFile,
        ErrorKind::Certificate,
        ErrorKind::Secret,
        ErrorKind::Locked,
        ErrorKind::Foreign,
        ErrorKind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Inventory => "inventory",
            ErrorKind::NodeFile => "nodeFile",
            ErrorKind::Io => "io",
            ErrorKind::Symlink => "symlink",
            ErrorKind::NotAFile => "notAFile",
            ErrorKind::Certificate => "certificate",
            ErrorKind::Secret => "secret",
            ErrorKind::Locked => "locked",
            ErrorKind::Foreign => "foreign",
            ErrorKind::Other => "other",
        }
    }
}

impl Error {
    /// The kind of the underlying failure: a stopped apply is as its cause.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Inventory { .. } => ErrorKind::Inventory,
            Error::NodeFile { .. } => ErrorKind::NodeFile,
            Error::Io { .. } => ErrorKind::Io,
            Error::Symlink { .. } => ErrorKind::Symlink,
            Error::NotAFile { .. } => ErrorKind::NotAFile,
            Error::Certificates { .. } => ErrorKind::Certificate,
            Error::Secret { .. } => ErrorKind::Secret,
            Error::Locked { .. } => ErrorKind::Locked,
            Error::Foreign { .. } => ErrorKind::Foreign,
            Error::Stopped { source, .. } => source.kind(),
            Error::Partial(_) => ErrorKind::Other,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    render_problems_as("invalid inventory", file, problems)
}

fn render_problems_as(what: &str, file: &str, problems: &[Problem]) -> String {
    let total: usize = problems.iter().map(Problem::weight).sum();
    let mut out = format!(
        "{what} `{file}`: {} problem{}",
        crate::inventory::yaml::thousands(total as u64),
        if total == 1 { "" } else { "s" }
    );
    for problem in problems {
        out.push_str("\n  ");
        match problem.location {
            Some((line, col)) => out.push_str(&format!("{file}:{line}:{col}: ")),
            None => out.push_str(&format!("{file}: ")),
        }
        out.push_str(&format!("[{}] {problem}", problem.code));
    }
    out
}

fn render_certificates(problems: &[Problem]) -> String {
    let mut out = format!(
        "refusing to write a hosts.toml that names a certificate or key containerd cannot use: {} problem{} (`mirrorctl lint --root` shows them too)",
        problems.iter().map(Problem::weight).sum::<usize>(),
        if problems.iter().map(Problem::weight).sum::<usize>() == 1 {
            ""
        } else {
            "s"
        }
    );
    for problem in problems {
        out.push_str(&format!("\n  [{}] {problem}", problem.code));
    }
    out
}

fn holder_name(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("another mirrorctl run (pid {pid})"),
        None => "another mirrorctl run".to_string(),
    }
}

fn render_stopped(source: &Error, stage: &Stage, done: &[String], not_done: &[String]) -> String {
    let during = match stage {
        Stage::Intent => return format!("{source}\n  while recording the run's intent; nothing was changed"),
        Stage::Applying(path) => format!("while applying `{path}`"),
        Stage::Record => "while saving the ownership record after the files were written (the next run completes it)".to_string(),
    };
    let list = |paths: &[String]| {
        if paths.is_empty() {
            "nothing".to_string()
        } else {
            paths.join(", ")
        }
    };
    format!(
        "{source}\n  {during}; every file holds either its old or its new complete content\n  done: {}\n  not done: {}",
        list(done),
        list(not_done)
    )
}
