//! Why a reader could not import its source at all: not readable, or not the named format.

/// The source as a whole cannot be imported (exit status 1); everything less is an
/// [`ImportWarning`](super::ImportWarning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub(crate) struct ImportError {
    /// The source as the user named it.
    pub(crate) source_name: String,
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

impl ImportError {
    pub(crate) fn new(source_name: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        ImportError {
            source_name: source_name.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// Largest source file a reader accepts; a node's config is kilobytes.
pub(crate) const MAX_BYTES: usize = 4 << 20;

/// The source as text: at most [`MAX_BYTES`], UTF-8.
pub(crate) fn source_text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::new(
            name,
            None,
            format!(
                "the file is {} bytes; the limit is {MAX_BYTES}",
                bytes.len()
            ),
        ));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| ImportError::new(name, None, format!("not UTF-8 text: {e}")))
}
