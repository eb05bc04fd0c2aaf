//! A YAML tree that remembers where every node came from, built from yaml-rust2's event
//! parser so that every problem in an inventory can be reported with its line and column.
//!
//! Hostile input is bounded: nesting depth, total node count and scalar bytes (alias expansion
//! included) and input size all have limits, and a duplicate mapping key is an error, never
//! "last one wins".

use crate::code::Code;
use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::{Findings, Problem};

/// Largest inventory accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Deepest nesting accepted; a real inventory needs fewer than ten levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to, counting every alias expansion.
pub const MAX_NODES: usize = 4_000_000;
/// Most scalar text a document may expand to, in bytes, counting every alias expansion: a
/// few kilobytes of nested aliases can otherwise stand for gigabytes.
pub const MAX_EXPANDED_BYTES: usize = 16 << 20;
/// Most nodes alias expansions may add to a document: each copy is decoded and checked like
/// written text, so a few lines of nested aliases must not stand for millions of mirrors.
pub const MAX_ALIAS_NODES: usize = 250_000;

/// A byte count as people read it: `17 MiB`, `70,000,000 bytes`.
pub fn bytes_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        return format!("{} MiB", n >> 20);
    }
    format!("{} bytes", thousands(n))
}

/// `n` with thousands separators: `4,000,000`.
pub fn thousands(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The error for an inventory larger than [`MAX_INPUT_BYTES`]; `size` when it is known
/// (a file's length), `None` for a stream read only up to the limit.
pub fn too_large(size: Option<u64>) -> Problem {
    let limit = bytes_text(MAX_INPUT_BYTES as u64);
    fatal(
        None,
        match size {
            Some(size) => format!(
                "the inventory is {} ({}); the limit is {limit}",
                bytes_text(size),
                mib(size)
            ),
            None => format!("the inventory is larger than the limit of {limit}"),
        },
    )
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
}

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
        bytes: usize,
    },
    Mapping {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Each key's first line, for the message about a second one.
        seen: HashMap<String, Mark>,
        mark: Mark,
        anchor: usize,
        bytes: usize,
    },
}

/// An anchored node and the scalar bytes it stands for.
struct Anchored {
    node: Node,
    bytes: usize,
}

/// Called with each `registries` entry (key, value) as it completes; returns what the tree
/// keeps in its place.
pub type RegistryHook<'h> = &'h mut dyn FnMut(&Node, Node) -> Node;

struct Builder<'s, 'h> {
    source: &'s str,
    hook: Option<RegistryHook<'h>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    /// Nodes so far, each counted once, alias expansions included.
    nodes: usize,
    /// Nodes added by alias expansions alone.
    expanded_nodes: usize,
    /// Scalar bytes so far, alias expansions included.
    bytes: usize,
    documents: usize,
    root: Option<Node>,
    problems: Findings,
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
        return Err(vec![too_large(Some(source.len() as u64))]);
    }
    let mut parser = Parser::new_from_str(source);
    let mut builder = Builder {
        source,
        hook,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        expanded_nodes: 0,
        bytes: 0,
        documents: 0,
        root: None,
        problems: Findings::default(),
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
                return Err(builder.problems.into_vec());
            }
        };
        let mark = Mark::of(marker);
        match builder.event(event, mark, marker.index()) {
            Ok(true) => break,
            Ok(false) => {}
            Err(problem) => {
                builder.problems.push(problem);
                return Err(builder.problems.into_vec());
            }
        }
    }
    match builder.root {
        Some(root) if !root.is_null() => Ok((root, builder.problems.into_vec())),
        _ => Err(vec![fatal(None, "the inventory is empty".into())]),
    }
}

fn fatal(location: Option<(usize, usize)>, message: String) -> Problem {
    problem(Code::Y001, location, message)
}

fn problem(code: Code, location: Option<(usize, usize)>, message: String) -> Problem {
    Problem::error(code, "", location, message)
}

impl Builder<'_, '_> {
    /// Returns `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event, mark: Mark, index: usize) -> Result<bool, Problem> {
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
                self.count(1, None)?;
                self.add_bytes(text.len(), None)?;
                let bytes = text.len();
                let node = Node {
                    value: Value::Scalar { text, style },
                    mark,
                    size: 1,
                };
                self.attach(node, anchor, bytes);
            }
            Event::Alias(id) => {
                let (size, bytes, anchor_mark) = match self.anchors.get(&id) {
                    Some(a) => (a.node.size, a.bytes, a.node.mark),
                    None => {
                        return Err(fatal(
                            mark.pair(),
                            "alias refers to an unknown anchor".into(),
                        ));
                    }
                };
                // Count before cloning, so an alias bomb stops before it allocates.
                let alias = AliasAt {
                    name: alias_name(self.source, index),
                    mark,
                    anchor: anchor_mark,
                };
                self.count(size, Some(&alias))?;
                self.add_bytes(bytes, Some(&alias))?;
                let node = self.anchors[&id].node.clone();
                self.attach(node, 0, bytes);
            }
            Event::SequenceStart(anchor, _tag) => {
                self.open()?;
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    mark,
                    anchor,
                    bytes: 0,
                });
            }
            Event::MappingStart(anchor, _tag) => {
                self.open()?;
                self.stack.push(Frame::Mapping {
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                    mark,
                    anchor,
                    bytes: 0,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, bytes) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        items,
                        mark,
                        anchor,
                        bytes,
                    }) => {
                        let size = 1 + items.iter().map(|n| n.size).sum::<usize>();
                        (
                            Node {
                                value: Value::Sequence(items),
                                mark,
                                size,
                            },
                            anchor,
                            bytes,
                        )
                    }
                    Some(Frame::Mapping {
                        entries,
                        mark,
                        anchor,
                        bytes,
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
                            bytes,
                        )
                    }
                    None => return Err(fatal(mark.pair(), "unbalanced YAML structure".into())),
                };
                self.attach(node, anchor, bytes);
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
        self.count(1, None)
    }

    fn count(&mut self, nodes: usize, alias: Option<&AliasAt>) -> Result<(), Problem> {
        self.nodes = self.nodes.saturating_add(nodes);
        if let Some(alias) = alias {
            self.expanded_nodes = self.expanded_nodes.saturating_add(nodes);
            if self.expanded_nodes > MAX_ALIAS_NODES {
                return Err(alias.refusal(format!(
                    "with it, the copies aliases make add up to more than {} nodes (mappings, lists and values), the limit",
                    thousands(MAX_ALIAS_NODES as u64)
                )));
            }
        }
        if self.nodes > MAX_NODES {
            return Err(fatal(
                None,
                format!(
                    "the inventory has more than {} nodes (mappings, lists and values); split it into smaller inventories",
                    thousands(MAX_NODES as u64)
                ),
            ));
        }
        Ok(())
    }

    fn add_bytes(&mut self, bytes: usize, alias: Option<&AliasAt>) -> Result<(), Problem> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > MAX_EXPANDED_BYTES {
            // Without an alias the text is in the file, which is already within its limit.
            if let Some(alias) = alias {
                return Err(alias.refusal(format!(
                    "it repeats {} of text, and with every copy aliases make the inventory's text would exceed {}, the limit",
                    bytes_text(bytes as u64),
                    bytes_text(MAX_EXPANDED_BYTES as u64)
                )));
            }
        }
        Ok(())
    }

    fn attach(&mut self, mut node: Node, anchor: usize, bytes: usize) {
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    bytes,
                },
            );
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
        // The values of top-level `x-` keys are never read: only their anchors are, and those
        // keep their own copy.
        if let [Frame::Mapping { key: Some(top), .. }] = self.stack.as_slice()
            && matches!(&top.value, Value::Scalar { text, .. } if text.starts_with("x-"))
        {
            node = Node {
                value: Value::Scalar {
                    text: String::new(),
                    style: Style::Plain,
                },
                mark: node.mark,
                size: 1,
            };
        }

        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence {
                items, bytes: b, ..
            }) => {
                *b = b.saturating_add(bytes);
                items.push(node);
            }
            Some(Frame::Mapping {
                entries,
                key,
                seen,
                bytes: b,
                ..
            }) => {
                *b = b.saturating_add(bytes);
                match key.take() {
                    Some(k) => entries.push((k, node)),
                    None => {
                        match &node.value {
                            Value::Scalar { text, .. } => {
                                if text == "<<" {
                                    self.problems.push(problem(
                                        Code::Y004,
                                        node.mark.pair(),
                                        "YAML merge keys (`<<`) are not supported: mirrorctl reads every mapping as written. An anchor (under a top-level `x-` key, for instance) can stand for a whole value, as in `mirrors: *corp-mirrors`, but cannot be merged into a mapping; write the fields out".into(),
                                    ));
                                } else if let Some(first) = seen.get(text.as_str()) {
                                    self.problems.push(problem(
                                        Code::Y002,
                                        node.mark.pair(),
                                        format!(
                                            "duplicate key `{}`: the first one, at {}:{}, is the one read",
                                            crate::error::clip_text(text),
                                            first.line,
                                            first.col
                                        ),
                                    ));
                                } else {
                                    seen.insert(text.clone(), node.mark);
                                }
                            }
                            _ => self.problems.push(fatal(
                                node.mark.pair(),
                                "a mapping key must be a plain string".into(),
                            )),
                        }
                        *key = Some(node);
                    }
                }
            }
        }
    }
}

/// Where an alias stands and where its anchor is, for the message that refuses it.
struct AliasAt {
    name: Option<String>,
    mark: Mark,
    anchor: Mark,
}

impl AliasAt {
    fn refusal(&self, why: String) -> Problem {
        let name = self.name.as_deref().map_or_else(String::new, |n| {
            format!(" `*{}`", crate::error::clip_text(n))
        });
        let anchor = self.name.as_deref().map_or_else(
            || "its anchor".to_string(),
            |n| format!("the anchor `&{}`", crate::error::clip_text(n)),
        );
        fatal(
            self.mark.pair(),
            format!(
                "the alias{name} on line {} is refused: it stands for {anchor} (line {}), and {why}",
                self.mark.line, self.anchor.line
            ),
        )
    }
}

/// The anchor name an alias at byte `index` of `source` spells (`*name`), when it is there.
fn alias_name(source: &str, index: usize) -> Option<String> {
    let rest = source.get(index..)?.strip_prefix('*')?;
    let end = rest
        .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}
