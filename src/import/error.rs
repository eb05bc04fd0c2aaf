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
