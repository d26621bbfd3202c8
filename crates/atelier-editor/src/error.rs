//! The crate's error type.

/// Result alias for this crate.
pub type Result<T, E = EditorError> = std::result::Result<T, E>;

/// What can go wrong while editing.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditorError {
    /// The model refused an operation (bad offset, unknown block, …).
    #[error(transparent)]
    Doc(#[from] atelier_doc::Error),
    /// The user asked for something the editor does not allow (e.g. an unsafe link).
    #[error("refused: {0}")]
    Refused(String),
    /// The browser did not give what the editor needs (no window, no selection).
    #[error("browser: {0}")]
    Dom(String),
}
