//! Strict decoding of the YAML tree into the typed inventory: unknown keys, wrong types and
//! missing fields are all collected, each with its field path and position, never just the first.
//!
//! This file holds the generic primitives (the [`Decoder`] collecting problems, typed getters,
//! unknown keys with a did-you-mean); each inventory section has its own module.

mod ca;
mod containerd;
mod document;
pub(super) mod fields;
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
use fields::{Kind, Object};

pub(super) struct Decoder {
    pub problems: Findings,
    /// Registries decoded while parsing (see [`Decoder::stream_registry`]).
    streamed: Option<Vec<Registry>>,
    streamed_names: std::collections::HashSet<String>,
}

/// A mapping's entries; the first occurrence of a key wins (duplicates are already reported).
struct Map<'a> {
    entries: &'a [(Node, Node)],
    object: &'static Object,
    /// Known fields an unknown key was taken for (`did you mean`): when such a field is
    /// missing, the typo is the one finding, not a second "missing" one.
    suggested: Vec<&'static str>,
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

    /// A mapping whose keys must all be fields of `object`.
    fn object<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        object: &'static Object,
    ) -> Option<Map<'a>> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping");
            return None;
        };
        let mut suggested = Vec::new();
        let mut unexplained = 0;
        for (k, _) in entries {
            let Some(name) = scalar_text(k) else { continue };
            // `x-…` keys are free-form where the table says so: a home for YAML anchors.
            if (object.extensions && name.starts_with("x-")) || name == "<<" {
                continue;
            }
            if object.field(name).is_none() {
                let known = object.names();
                let mut message = format!("unknown field `{name}`");
                match suggest(name, &known) {
                    Some(s) => {
                        message.push_str(&format!("; did you mean `{s}`?"));
                        suggested.push(s);
                    }
                    None => {
                        message.push_str(&format!("; expected one of {}", list(&known)));
                        unexplained += 1;
                    }
                }
                self.problem(Code::S001, &key(path, name), k.mark, message);
            }
        }
        // One unknown key too far from any name to suggest, and one required field missing
        // (`headers: {X-Token: {valueFrom: …}}`): that key is the one mistake, and its
        // finding already lists the field; a second "missing" finding would be the same typo.
        let missing: Vec<&'static str> = object
            .fields
            .iter()
            .filter(|f| f.required && !suggested.contains(&f.name))
            .filter(|f| !entries.iter().any(|(k, _)| scalar_text(k) == Some(f.name)))
            .map(|f| f.name)
            .collect();
        if unexplained == 1 && missing.len() == 1 {
            suggested.extend(missing);
        }
        Some(Map {
            entries,
            object,
            suggested,
        })
    }

    /// The value of the field `name` of `map`'s table, when it is given with the shape of the
    /// field's kind; a value of another shape is reported (S002) and not returned.
    fn field<'a>(&mut self, map: &Map<'a>, path: &str, name: &str) -> Option<&'a Node> {
        let node = map.get(name)?;
        let kind = &map.object.field(name)?.kind;
        let field_path = key(path, name);
        self.shaped(node, &field_path, kind).then_some(node)
    }

    /// Like [`Decoder::field`]; a required field that is absent is reported (S003) unless an
    /// unknown key was already taken for it.
    fn required<'a>(
        &mut self,
        map: &Map<'a>,
        path: &str,
        mark: Mark,
        name: &str,
    ) -> Option<&'a Node> {
        if map.get(name).is_none() && !map.suggested.contains(&name) {
            self.problem(
                Code::S003,
                path,
                mark,
                format!("missing required field `{name}`"),
            );
        }
        self.field(map, path, name)
    }

    /// Whether `node` has the shape `kind` takes, reporting a type error when it does not.
    /// Forms with several shapes (`ca`, `client`, header values) are checked where decoded.
    fn shaped(&mut self, node: &Node, path: &str, kind: &Kind) -> bool {
        let ok = match kind {
            Kind::Str { .. } => is_string(node),
            Kind::Duration => {
                if matches!(node.kind(), "an integer" | "a number")
                    && let Some(text) = scalar_text(node)
                {
                    self.problem(
                        Code::S002,
                        path,
                        node.mark,
                        format!(
                            "expected a Go duration string, found {}; {}",
                            node.kind(),
                            bare_number(text)
                        ),
                    );
                    return false;
                }
                is_string(node)
            }
            Kind::Bool => {
                matches!(
                    &node.value,
                    Value::Scalar {
                        style: Style::Plain,
                        ..
                    }
                ) && node.kind() == "a boolean"
            }
            Kind::InventoryVersion | Kind::Version | Kind::Mode => {
                matches!(node.value, Value::Scalar { .. })
            }
            Kind::List(_) => matches!(node.value, Value::Sequence(_)),
            Kind::Map { .. } | Kind::Object(_) => matches!(node.value, Value::Mapping(_)),
            Kind::OneOf(_) => true,
        };
        if !ok {
            self.wrong_type(path, node, kind.expected());
        }
        ok
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar { text, .. } if is_string(node) => Some(Spanned {
                value: text.clone(),
                mark: node.mark,
            }),
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

/// What a duration written as a bare number most likely meant.
fn bare_number(text: &str) -> String {
    format!("a bare number has no unit: write \"{text}s\" (or \"{text}m\", \"{text}h\")")
}

/// A quoted scalar, or a plain one that YAML's core schema reads as a string.
fn is_string(node: &Node) -> bool {
    match &node.value {
        Value::Scalar { style, .. } => *style == Style::Quoted || node.kind() == "a string",
        _ => false,
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
