//! The inventory: strict loading (every problem at once, with field path and position) and
//! semantic validation against what containerd and the kubelet really accept.

mod decode;
pub mod model;
pub mod path;
mod validate;
pub mod yaml;

use std::io::Read;
use std::path::Path;

pub use model::*;
pub use validate::{CAPABILITIES, check_registry_name, check_url, provider_api_version};

use crate::error::Error;

/// Where the inventory is read from when neither `-i` nor `MIRRORCTL_INVENTORY` says.
pub const DEFAULT_PATH: &str = "/etc/mirrorctl/inventory.yaml";

/// Reads `source` (`-` for stdin) and loads it; see [`load_str`].
pub fn load(source: &str) -> Result<Inventory, Error> {
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin()
            .take(yaml::MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(Path::new(source)).and_then(|f| {
            f.take(yaml::MAX_INPUT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
    };
    let name = if source == "-" { "<stdin>" } else { source };
    read.map_err(|e| Error::io("read the inventory", name, e))?;
    load_bytes(name, &bytes)
}

/// Loads an inventory from bytes; `name` is used in messages.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<Inventory, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Inventory {
        file: name.to_string(),
        problems: vec![crate::error::Problem {
            path: String::new(),
            location: None,
            message: format!(
                "the inventory is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        }],
    })?;
    load_str(name, text)
}

/// Parses, decodes and validates an inventory, reporting every problem at once.
pub fn load_str(name: &str, text: &str) -> Result<Inventory, Error> {
    let fail = |problems| Error::Inventory {
        file: name.to_string(),
        problems,
    };
    let (root, mut problems) = yaml::parse(text).map_err(fail)?;
    let mut decoder = decode::Decoder::new();
    let inventory = decoder.inventory(&root);
    problems.append(&mut decoder.problems);
    let Some(inventory) = inventory else {
        return Err(fail(problems));
    };
    problems.extend(validate::validate(&inventory));
    if problems.is_empty() {
        Ok(inventory)
    } else {
        problems.sort_by_key(|p| p.location.unwrap_or((usize::MAX, 0)));
        Err(fail(problems))
    }
}
