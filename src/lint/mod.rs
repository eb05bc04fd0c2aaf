//! `mirrorctl lint`: every validation error plus the warnings that only matter on a real node
//! (credentials reaching the upstream, patterns that can never match, settings that do nothing),
//! offline, in text, JSON or GitHub workflow annotations. Codes are documented in docs/lint.md.

mod certificates;
mod node;
mod rules;

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::error::{Problem, Severity};
use crate::inventory;

pub(crate) use certificates::check_certificates;

/// The findings for one inventory file.
#[derive(Debug)]
pub struct Report {
    pub file: String,
    pub findings: Vec<Problem>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(Problem::weight)
            .sum()
    }

    /// Lint's exit rule: errors fail; warnings fail only when `strict`.
    pub fn failed(&self, strict: bool) -> bool {
        self.count(Severity::Error) > 0 || (strict && self.count(Severity::Warning) > 0)
    }
}

/// The warnings and notes of a valid inventory, which `apply`, `check` and `diff` print on stderr.
pub fn warnings(inventory: &inventory::Inventory) -> Vec<Problem> {
    rules::check(inventory)
}

/// Lints `bytes`; with `root`, also checks the node's files under it, certificates' dates
/// against the system clock.
pub fn lint(file: &str, bytes: &[u8], root: Option<&Path>) -> Report {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    lint_at(file, bytes, root, now)
}

/// [`lint`] with the clock given: `now` in Unix seconds judges certificates' validity dates.
pub fn lint_at(file: &str, bytes: &[u8], root: Option<&Path>, now: i64) -> Report {
    let (parsed, mut findings) = inventory::analyze_bytes(bytes);
    if let Some(inv) = &parsed {
        findings.extend(rules::check(inv));
        findings.extend(certificates::check_pem_certificates(inv, now));
        if let Some(root) = root {
            findings.extend(node::check(inv, root));
            findings.extend(check_certificates(inv, root, Some(now)));
        }
    }
    let findings = crate::error::cap_sorted(findings, |f| {
        (f.location.unwrap_or((usize::MAX, 0)), f.severity)
    });
    Report {
        file: file.to_string(),
        findings,
    }
}

fn summary(report: &Report) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {}",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        plural(report.count(Severity::Info), "note")
    )
}

/// Human text, grouped under the file name; ANSI colour when `colour`.
pub fn text(report: &Report, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    if !report.findings.is_empty() {
        let _ = writeln!(out, "{}", paint("1", &report.file));
    }
    for f in &report.findings {
        let position = f
            .location
            .map_or_else(String::new, |(l, c)| format!("{l}:{c}"));
        let severity = match f.severity {
            Severity::Error => paint("1;31", "error"),
            Severity::Warning => paint("1;33", "warning"),
            Severity::Info => paint("1;36", "note"),
        };
        let _ = writeln!(out, "  {position:<7} {severity}[{}] {f}", f.code);
        if let Some(hint) = &f.hint {
            let _ = writeln!(out, "          {} {hint}", paint("2", "hint:"));
        }
    }
    let _ = writeln!(out, "{}: {}", report.file, summary(report));
    out
}

pub fn json(report: &Report) -> serde_json::Value {
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let mut finding = json!({
                "code": f.code,
                "severity": f.severity.name(),
                "file": report.file,
                "path": f.path,
                "line": f.location.map(|l| l.0),
                "column": f.location.map(|l| l.1),
                "message": f.message,
                "hint": f.hint,
            });
            if f.omitted > 0 {
                finding["omitted"] = json!(f.omitted);
            }
            finding
        })
        .collect();
    json!({
        "file": report.file,
        "total": report.findings.iter().map(Problem::weight).sum::<usize>(),
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "notes": report.count(Severity::Info),
        "findings": findings,
    })
}

/// GitHub Actions workflow commands: one `::error file=…,line=…,col=…::…` line per finding.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = format!("file={}", escape_property(&report.file));
        if let Some((line, col)) = f.location {
            let _ = write!(properties, ",line={line},col={col}");
        }
        let _ = write!(
            properties,
            ",title={}",
            escape_property(&format!("mirrorctl {}", f.code))
        );
        let mut message = f.to_string();
        if let Some(hint) = &f.hint {
            let _ = write!(message, "\nhint: {hint}");
        }
        let _ = writeln!(out, "::{command} {properties}::{}", escape_data(&message));
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
