//! Typed access to a YAML source's tree for the YAML readers (Kubespray, Talos): each value
//! with its line, each wrong type an [`ImportError`] naming the field.

use crate::inventory::yaml::{Node, Value};

use super::error::ImportError;

/// Parses one YAML document; `first_line` is added to every line (a document cut from a
/// stream of several). A syntax error or a limit is an error.
pub(super) fn parse(
    name: &str,
    text: &str,
    first_line: usize,
) -> Result<(Node, Vec<(usize, String)>), ImportError> {
    match crate::inventory::yaml::parse(text) {
        Ok((node, problems)) => Ok((
            node,
            problems
                .into_iter()
                .map(|p| (p.location.map_or(0, |l| l.0) + first_line, p.message))
                .collect(),
        )),
        Err(problems) => {
            let first = problems.into_iter().next();
            Err(ImportError::new(
                name,
                first
                    .as_ref()
                    .and_then(|p| p.location)
                    .map(|l| l.0 + first_line),
                first.map_or_else(|| "not YAML".to_owned(), |p| source_message(&p.message)),
            ))
        }
    }
}

/// A node of the source, the field path that reached it and the line offset of its document.
pub(super) struct Field<'a> {
    pub(super) node: &'a Node,
    pub(super) path: String,
    pub(super) offset: usize,
    pub(super) source: &'a str,
}

impl<'a> Field<'a> {
    /// A node below this one; `step` is appended to the path (`.key`, `[0]`).
    pub(super) fn child(&self, node: &'a Node, step: &str) -> Field<'a> {
        // The root has no path: its `machine` is `machine`, not `.machine`.
        let step = match self.path.is_empty() {
            true => step.strip_prefix('.').unwrap_or(step),
            false => step,
        };
        Field {
            node,
            path: format!("{}{step}", self.path),
            offset: self.offset,
            source: self.source,
        }
    }

    /// The value under `key` in a mapping, if there is one.
    pub(super) fn get(&self, key: &str) -> Result<Option<Field<'a>>, ImportError> {
        Ok(self
            .entries()?
            .iter()
            .find(|(k, _)| key_text(k) == Some(key))
            .map(|(_, v)| self.child(v, &format!(".{key}"))))
    }

    pub(super) fn line(&self) -> usize {
        self.node.mark.line as usize + self.offset
    }

    fn wrong(&self, expected: &str) -> ImportError {
        ImportError::new(
            self.source,
            Some(self.line()),
            format!("{} is {}, not {expected}", self.path, self.node.kind()),
        )
    }

    /// The entries of a mapping (`None` for null).
    pub(super) fn entries(&self) -> Result<&'a [(Node, Node)], ImportError> {
        match &self.node.value {
            Value::Mapping(entries) => Ok(entries),
            _ if self.node.is_null() => Ok(&[]),
            _ => Err(self.wrong("a mapping")),
        }
    }

    pub(super) fn items(&self) -> Result<&'a [Node], ImportError> {
        match &self.node.value {
            Value::Sequence(items) => Ok(items),
            _ if self.node.is_null() => Ok(&[]),
            _ => Err(self.wrong("a list")),
        }
    }

    /// A scalar's text; numbers and booleans too, as a template would print them.
    pub(super) fn text(&self) -> Result<&'a str, ImportError> {
        match &self.node.value {
            Value::Scalar { text, .. } => Ok(text),
            _ => Err(self.wrong("a string")),
        }
    }

    /// A boolean, in YAML 1.1's spellings as Ansible and Go's yaml.v3 accept them, or a string
    /// of them.
    pub(super) fn boolean(&self) -> Result<bool, ImportError> {
        match &self.node.value {
            Value::Scalar { text, .. } => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Ok(true),
                "false" | "no" | "off" => Ok(false),
                _ => Err(self.wrong("a boolean")),
            },
            _ => Err(self.wrong("a boolean")),
        }
    }
}

/// A mapping key's text (keys that are not scalars have none).
/// The YAML reader is the inventory's: its messages say "the inventory" where an import's
/// source is another program's file.
pub(super) fn source_message(message: &str) -> String {
    message.replacen("the inventory ", "the file ", 1)
}

pub(super) fn key_text(key: &Node) -> Option<&str> {
    match &key.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}
