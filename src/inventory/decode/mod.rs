//! Strict decoding of the YAML tree into the typed inventory: unknown keys, wrong types and
//! missing fields are all collected, each with its field path and position, never just the first.
//!
//! This file holds the generic primitives (the [`Decoder`] collecting problems, typed getters,
//! unknown keys with a did-you-mean); each inventory section has its own module.

mod ca;
mod containerd;
mod document;
mod modes;
mod paths;
mod plugin;
mod providers;
mod registries;
mod target;

use super::model::*;
use super::path::{index, key};
use super::yaml::{Mark, Node, Style, Value};
use crate::code::Code;
use crate::error::{Findings, Problem};
use crate::version::Version;

pub(super) struct Decoder {
    pub problems: Findings,
    /// Registries decoded while parsing (see [`Decoder::stream_registry`]).
    streamed: Option<Vec<Registry>>,
    streamed_names: std::collections::HashSet<String>,
}

/// A mapping's entries; the first occurrence of a key wins (duplicates are already reported).
struct Map<'a> {
    entries: &'a [(Node, Node)],
}

impl<'a> Map<'a> {
    fn get(&self, name: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| scalar_text(k) == Some(name))
            .map(|(_, v)| v)
    }
}

fn scalar_text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

impl Decoder {
    pub(super) fn new() -> Self {
        Decoder {
            problems: Findings::default(),
            streamed: None,
            streamed_names: std::collections::HashSet::new(),
        }
    }

    fn problem(&mut self, code: Code, path: &str, mark: Mark, message: impl Into<String>) {
        self.problems
            .push(Problem::error(code, path, mark, message));
    }

    fn wrong_type(&mut self, path: &str, node: &Node, expected: &str) {
        let found = node.kind();
        let hint = if expected == "a string" && found != "a list" && found != "a mapping" {
            "; quote it"
        } else {
            ""
        };
        self.problem(
            Code::S002,
            path,
            node.mark,
            format!("expected {expected}, found {found}{hint}"),
        );
    }

    /// A mapping whose keys must all be in `known`.
    fn mapping<'a>(&mut self, node: &'a Node, path: &str, known: &[&str]) -> Option<Map<'a>> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping");
            return None;
        };
        for (k, _) in entries {
            let Some(name) = scalar_text(k) else { continue };
            // Top-level `x-…` keys are free-form: a home for YAML anchors.
            if (path.is_empty() && name.starts_with("x-")) || name == "<<" {
                continue;
            }
            if !known.contains(&name) {
                let mut message = format!("unknown field `{name}`");
                match suggest(name, known) {
                    Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                    None => message.push_str(&format!("; expected one of {}", list(known))),
                }
                self.problem(Code::S001, &key(path, name), k.mark, message);
            }
        }
        Some(Map { entries })
    }

    fn required<'a>(
        &mut self,
        map: &Map<'a>,
        path: &str,
        mark: Mark,
        name: &str,
    ) -> Option<&'a Node> {
        let node = map.get(name);
        if node.is_none() {
            self.problem(
                Code::S003,
                path,
                mark,
                format!("missing required field `{name}`"),
            );
        }
        node
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar { text, style }
                if *style == Style::Quoted || node.kind() == "a string" =>
            {
                Some(Spanned {
                    value: text.clone(),
                    mark: node.mark,
                })
            }
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } if node.kind() == "a boolean" => Some(text.eq_ignore_ascii_case("true")),
            _ => {
                self.wrong_type(path, node, "a boolean (true or false)");
                None
            }
        }
    }

    fn sequence<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Sequence(items) => Some(items),
            _ => {
                self.wrong_type(path, node, "a list");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, path: &str) -> Vec<Spanned<String>> {
        let Some(items) = self.sequence(node, path) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.string(item, &index(path, i)))
            .collect()
    }

    /// A version like `"2.1"`; an unquoted `2.1` is read from its source text, so `1.10`
    /// stays 1.10 and never becomes 1.1.
    fn version(&mut self, node: &Node, path: &str) -> Option<Version> {
        let text = match &node.value {
            Value::Scalar { text, .. } => text,
            _ => {
                self.wrong_type(path, node, "a version like \"2.1\"");
                return None;
            }
        };
        let version = Version::parse(text);
        if version.is_none() {
            self.problem(
                Code::S004,
                path,
                node.mark,
                format!("`{text}` is not a version; write MAJOR.MINOR or MAJOR.MINOR.PATCH, like \"2.1\""),
            );
        }
        version
    }

    fn mode(&mut self, node: &Node, path: &str) -> Option<u32> {
        let text = match &node.value {
            Value::Scalar { text, .. } => text,
            _ => {
                self.wrong_type(path, node, "an octal file mode like \"0644\"");
                return None;
            }
        };
        let mode = text
            .strip_prefix("0o")
            .or(Some(text.as_str()))
            .filter(|t| !t.is_empty() && t.len() <= 4)
            .and_then(|t| u32::from_str_radix(t, 8).ok())
            .filter(|m| *m <= 0o777);
        if mode.is_none() {
            self.problem(
                Code::S004,
                path,
                node.mark,
                format!("`{text}` is not a file mode; write it in octal, like \"0644\""),
            );
        }
        mode
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name closest to a misspelt one, when it is close enough to be the intent.
fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(&name.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = if ca == b[j] {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
