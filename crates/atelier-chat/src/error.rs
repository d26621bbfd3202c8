//! The crate's error type.

/// Result alias for this crate.
pub type Result<T, E = ChatError> = std::result::Result<T, E>;

/// Why the panel did not do what was asked.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChatError {
    /// The message is empty or only whitespace.
    #[error("a message cannot be empty")]
    Empty,
    /// The message is longer than [`atelier_doc::chat::MAX_BODY_BYTES`].
    #[error("a message is limited to {max} bytes; this one has {bytes}")]
    TooLong {
        /// The message's length in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The panel is read-only (the user may read the chat, not write it).
    #[error("this chat is read-only")]
    ReadOnly,
    /// The model refused (unknown or deleted message, someone else's message).
    #[error(transparent)]
    Doc(#[from] atelier_doc::Error),
}
