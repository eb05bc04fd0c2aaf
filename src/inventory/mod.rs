//! The inventory: strict loading (every problem at once, with field path and position) and
//! semantic validation against what containerd and the kubelet really accept.

mod decode;
pub mod model;
mod node_path;
pub mod path;
pub mod schema;
mod validate;
pub mod yaml;

use crate::code::Code;
use std::io::Read;
use std::path::Path;

pub use model::*;
pub use node_path::NodePath;
pub use validate::{check_registry_name, check_url, provider_api_version, provider_mismatches};

use crate::error::{Error, Problem};

/// Where the inventory is read from when neither `-i` nor `MIRRORCTL_INVENTORY` says.
pub const DEFAULT_PATH: &str = "/etc/mirrorctl/inventory.yaml";

/// Reads `source` (`-` for stdin) and loads it; see [`load_str`].
pub fn load(source: &str) -> Result<Inventory, Error> {
    let (name, bytes) = read_source(source)?;
    load_bytes(&name, &bytes)
}

/// The bytes of `source` (`-` for stdin) and the name to use for it in messages.
pub fn read_source(source: &str) -> Result<(String, Vec<u8>), Error> {
    let name = if source == "-" { "<stdin>" } else { source };
    let limit = yaml::MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(Path::new(source)).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Error::io("read the inventory", name, e))?;
    if bytes.len() as u64 >= limit {
        // Read only up to the limit; a file's length says how large it really is.
        let size = (source != "-")
            .then(|| std::fs::metadata(source).ok().map(|m| m.len()))
            .flatten();
        return Err(Error::Inventory {
            file: name.to_string(),
            problems: vec![yaml::too_large(size)],
        });
    }
    Ok((name.to_string(), bytes))
}

/// Loads an inventory from bytes; `name` is used in messages.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<Inventory, Error> {
    match analyze_bytes(bytes) {
        (Some(inventory), problems) if problems.is_empty() => Ok(inventory),
        (_, problems) => Err(Error::Inventory {
            file: name.to_string(),
            problems,
        }),
    }
}

/// Parses, decodes and validates an inventory, reporting every problem at once.
pub fn load_str(name: &str, text: &str) -> Result<Inventory, Error> {
    load_bytes(name, text.as_bytes())
}

/// [`analyze`] of bytes that must be UTF-8.
pub fn analyze_bytes(bytes: &[u8]) -> (Option<Inventory>, Vec<Problem>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => analyze(text),
        Err(e) => (
            None,
            vec![Problem::error(
                Code::Y001,
                "",
                None,
                format!(
                    "the inventory is not valid UTF-8 (at byte {})",
                    e.valid_up_to()
                ),
            )],
        ),
    }
}

/// Every problem in `text`, sorted by position, and the inventory as far as it could be
/// decoded (present even when it has problems, so that lint can look further).
pub fn analyze(text: &str) -> (Option<Inventory>, Vec<Problem>) {
    // yaml-rust2 reads a NUL as the end of the stream: a file whose tail a crash zeroed would
    // load as a shorter inventory, and apply would prune what it lost.
    if let Some(offset) = text.find('\0') {
        let line = text[..offset].matches('\n').count() + 1;
        return (
            None,
            vec![Problem::error(
                Code::Y001,
                "",
                (
                    line,
                    offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1,
                ),
                format!(
                    "the inventory contains a NUL byte (at byte {offset}); is the file truncated or corrupt?"
                ),
            )],
        );
    }
    let mut decoder = decode::Decoder::new();
    let mut stream = |key: &yaml::Node, value: yaml::Node| {
        if let yaml::Value::Scalar { text, .. } = &key.value {
            decoder.stream_registry(text, key.mark, &value);
        }
        yaml::Node {
            value: yaml::Value::Scalar {
                text: String::new(),
                style: yaml::Style::Plain,
            },
            mark: value.mark,
            size: 1,
        }
    };
    let (root, mut problems) = match yaml::parse_with(text, Some(&mut stream)) {
        Ok(parsed) => parsed,
        Err(problems) => return (None, problems),
    };
    let inventory = decoder.inventory(&root);
    problems.extend(std::mem::take(&mut decoder.problems).into_vec());
    if let Some(inventory) = &inventory {
        problems.extend(validate::validate(inventory));
    }
    let problems = crate::error::cap_sorted(problems, |p| p.location.unwrap_or((usize::MAX, 0)));
    (inventory, problems)
}
