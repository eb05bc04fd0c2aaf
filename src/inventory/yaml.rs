//! A YAML tree that remembers where every node came from, built from yaml-rust2's event
//! parser so that every problem in an inventory can be reported with its line and column.
//!
//! Hostile input is bounded: nesting depth, total node count (alias expansion included) and
//! input size all have limits, and a duplicate mapping key is an error, never "last one wins".

use crate::code::Code;
use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Problem;

/// Largest inventory accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Deepest nesting accepted; a real inventory needs fewer than ten levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to, counting every alias expansion.
pub const MAX_NODES: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub line: u32,
    pub col: u32,
}

impl Mark {
    fn of(marker: Marker) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Mark {
            line: clamp(marker.line()),
            col: clamp(marker.col() + 1),
        }
    }

    pub fn pair(self) -> Option<(usize, usize)> {
        Some((self.line as usize, self.col as usize))
    }
}

impl From<Mark> for Option<(usize, usize)> {
    fn from(mark: Mark) -> Self {
        mark.pair()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
}

#[derive(Debug, Clone)]
pub enum Value {
    Scalar { text: String, style: Style },
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
    /// Number of nodes in this subtree, itself included.
    pub size: usize,
}

impl Node {
    /// What a plain scalar means under YAML 1.2's core schema, for type errors.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Scalar {
                style: Style::Quoted,
                ..
            } => "a string",
            Value::Scalar { text, .. } => plain_kind(text),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: Style::Plain } if plain_kind(text) == "null")
    }
}

pub fn plain_kind(text: &str) -> &'static str {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => "null",
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => "a boolean",
        _ if is_int(text) => "an integer",
        _ if is_float(text) => "a number",
        _ => "a string",
    }
}

fn is_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_float(text: &str) -> bool {
    matches!(
        text,
        ".inf" | "-.inf" | "+.inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    ) || (text.chars().any(|c| c.is_ascii_digit())
        && text.parse::<f64>().is_ok()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c)))
}

enum Frame {
    Sequence {
        items: Vec<Node>,
        mark: Mark,
        anchor: usize,
    },
    Mapping {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        seen: HashSet<String>,
        mark: Mark,
        anchor: usize,
    },
}

/// Called with each `registries` entry (key, value) as it completes; returns what the tree
/// keeps in its place.
pub type RegistryHook<'h> = &'h mut dyn FnMut(&Node, Node) -> Node;

struct Builder<'h> {
    hook: Option<RegistryHook<'h>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    documents: usize,
    root: Option<Node>,
    problems: Vec<Problem>,
}

/// Parses `source` into one document tree. A syntax error or a limit ends parsing (`Err`);
/// duplicate keys do not: they come back beside the tree so that every other problem in the
/// document can still be reported in the same run. The first occurrence of a key is the one
/// the tree's readers see.
pub fn parse(source: &str) -> Result<(Node, Vec<Problem>), Vec<Problem>> {
    parse_with(source, None)
}

/// [`parse`], handing each entry of the top-level `registries` mapping to `hook` as soon as
/// it is complete and keeping only what the hook returns: memory then grows with one registry,
/// not with the whole inventory.
pub fn parse_with(
    source: &str,
    hook: Option<RegistryHook<'_>>,
) -> Result<(Node, Vec<Problem>), Vec<Problem>> {
    if source.len() > MAX_INPUT_BYTES {
        return Err(vec![fatal(
            None,
            format!(
                "the inventory is {} bytes; the limit is {MAX_INPUT_BYTES}",
                source.len()
            ),
        )]);
    }
    let mut parser = Parser::new_from_str(source);
    let mut builder = Builder {
        hook,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: 0,
        root: None,
        problems: Vec::new(),
    };
    loop {
        let (event, marker) = match parser.next_token() {
            Ok(next) => next,
            Err(error) => {
                let mark = Mark::of(*error.marker());
                builder.problems.push(fatal(
                    mark.pair(),
                    format!("YAML syntax error: {}", error.info()),
                ));
                return Err(builder.problems);
            }
        };
        let mark = Mark::of(marker);
        match builder.event(event, mark) {
            Ok(true) => break,
            Ok(false) => {}
            Err(problem) => {
                builder.problems.push(problem);
                return Err(builder.problems);
            }
        }
    }
    match builder.root {
        Some(root) if !root.is_null() => Ok((root, builder.problems)),
        _ => Err(vec![fatal(None, "the inventory is empty".into())]),
    }
}

fn fatal(location: Option<(usize, usize)>, message: String) -> Problem {
    problem(Code::Y001, location, message)
}

fn problem(code: Code, location: Option<(usize, usize)>, message: String) -> Problem {
    Problem::error(code, "", location, message)
}

impl Builder<'_> {
    /// Returns `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event, mark: Mark) -> Result<bool, Problem> {
        match event {
            Event::StreamEnd => return Ok(true),
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(fatal(
                        mark.pair(),
                        "the inventory holds more than one YAML document; write one".into(),
                    ));
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let style = match style {
                    TScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                let node = Node {
                    value: Value::Scalar { text, style },
                    mark,
                    size: 1,
                };
                self.complete(node, anchor)?;
            }
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map(|n| n.size).ok_or_else(|| {
                    fatal(mark.pair(), "alias refers to an unknown anchor".into())
                })?;
                // Count before cloning, so an alias bomb stops before it allocates.
                self.count(size)?;
                let node = self.anchors[&id].clone();
                self.attach(node, 0);
            }
            Event::SequenceStart(anchor, _tag) => {
                self.open()?;
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    mark,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _tag) => {
                self.open()?;
                self.stack.push(Frame::Mapping {
                    entries: Vec::new(),
                    key: None,
                    seen: HashSet::new(),
                    mark,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        items,
                        mark,
                        anchor,
                    }) => {
                        let size = 1 + items.iter().map(|n| n.size).sum::<usize>();
                        (
                            Node {
                                value: Value::Sequence(items),
                                mark,
                                size,
                            },
                            anchor,
                        )
                    }
                    Some(Frame::Mapping {
                        entries,
                        mark,
                        anchor,
                        ..
                    }) => {
                        let size = 1 + entries.iter().map(|(k, v)| k.size + v.size).sum::<usize>();
                        (
                            Node {
                                value: Value::Mapping(entries),
                                mark,
                                size,
                            },
                            anchor,
                        )
                    }
                    None => return Err(fatal(mark.pair(), "unbalanced YAML structure".into())),
                };
                // The container's own node was counted when it opened.
                self.nodes -= 1;
                self.complete(node, anchor)?;
            }
        }
        Ok(false)
    }

    fn open(&mut self) -> Result<(), Problem> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(fatal(
                None,
                format!("the inventory nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.count(1)
    }

    fn count(&mut self, nodes: usize) -> Result<(), Problem> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(fatal(
                None,
                format!("the inventory expands to more than {MAX_NODES} nodes (an alias bomb?)"),
            ));
        }
        Ok(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), Problem> {
        self.count(node.size)?;
        self.attach(node, anchor);
        Ok(())
    }

    fn attach(&mut self, mut node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        if let Some(hook) = self.hook.as_mut()
            && let [
                Frame::Mapping { key: Some(top), .. },
                Frame::Mapping {
                    key: Some(name), ..
                },
            ] = self.stack.as_slice()
            && matches!(&top.value, Value::Scalar { text, .. } if text == "registries")
        {
            node = hook(name, node);
        }

        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping {
                entries, key, seen, ..
            }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    match &node.value {
                        Value::Scalar { text, .. } => {
                            if text == "<<" {
                                self.problems.push(problem(
                                    Code::Y004,
                                    node.mark.pair(),
                                    "YAML merge keys (`<<`) are not supported; write the fields out"
                                        .into(),
                                ));
                            } else if !seen.insert(text.clone()) {
                                self.problems.push(problem(
                                    Code::Y002,
                                    node.mark.pair(),
                                    format!("duplicate key `{text}`"),
                                ));
                            }
                        }
                        _ => self.problems.push(fatal(
                            node.mark.pair(),
                            "a mapping key must be a plain string".into(),
                        )),
                    }
                    *key = Some(node);
                }
            },
        }
    }
}
