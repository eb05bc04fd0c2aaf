//! A mirror's `ca`: a CA file path, `{pem: "…"}` content, or a list mixing both.

use super::Decoder;
use super::fields::CA_PEM;
use crate::inventory::model::{Ca, Spanned};
use crate::inventory::path::{index, key};
use crate::inventory::yaml::{Node, Value};

impl Decoder {
    pub(super) fn ca(&mut self, node: &Node, path: &str) -> Vec<Ca> {
        match &node.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.ca_one(item, &index(path, i)))
                .collect(),
            _ => self.ca_one(node, path).into_iter().collect(),
        }
    }

    fn ca_one(&mut self, node: &Node, path: &str) -> Option<Ca> {
        match &node.value {
            Value::Mapping(_) => {
                let map = self.object(node, path, &CA_PEM)?;
                let pem = self
                    .required(&map, path, node.mark, "pem")
                    .and_then(|n| self.string(n, &key(path, "pem")))?;
                // Written as a file: a last line without its newline is still a line.
                let mut value = pem.value;
                if !value.ends_with('\n') {
                    value.push('\n');
                }
                Some(Ca::Pem(Spanned {
                    value,
                    mark: pem.mark,
                }))
            }
            Value::Scalar { .. } => self.string(node, path).map(Ca::File),
            Value::Sequence(_) => {
                self.wrong_type(path, node, "a CA file path or a {pem: \"…\"} mapping");
                None
            }
        }
    }
}
