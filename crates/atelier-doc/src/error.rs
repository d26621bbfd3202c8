//! The crate's error type.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when reading or changing a document.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// A block id was not found in the document.
    #[error("no block with id \"{0}\" in the document")]
    BlockNotFound(String),
    /// A position lies outside the text or list it indexes.
    #[error("position {pos} is out of range (length {len})")]
    OutOfRange {
        /// The position that was asked for.
        pos: u32,
        /// The length of the indexed sequence.
        len: u32,
    },
    /// An operation does not fit the document's shape.
    #[error("invalid operation: {0}")]
    InvalidOperation(String),
    /// The operation would nest blocks deeper than Atelier writes, or reads
    /// a part of a document nested deeper than any reader follows.
    #[error("too deeply nested: past {limit} levels of nested elements")]
    TooDeep {
        /// The depth limit in shared types ([`crate::depth::MAX_NESTING_DEPTH`]
        /// for writes, [`crate::depth::MAX_READ_DEPTH`] for reads).
        limit: usize,
    },
    /// Input (an update, JSON, a trace) could not be decoded.
    #[error("malformed input: {0}")]
    Malformed(String),
}
