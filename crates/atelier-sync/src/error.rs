//! The crate's one error type.

/// Result alias for this crate.
pub type Result<T, E = SyncError> = std::result::Result<T, E>;

/// Everything that can go wrong while decoding a peer's bytes or driving a
/// session.
///
/// Decoding errors mean the peer sent something malformed or oversized: the
/// connection that carried it should be closed (DESIGN.md §4). Nothing has
/// been applied to any document when a decoder returns one of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The input ended before a field was complete.
    #[error("truncated message: {what} needs {needed} more bytes but only {remaining} are left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A lib0 variable-length integer is overlong, non-canonical or out of range.
    #[error("malformed variable-length integer in {what}")]
    BadVarInt {
        /// The field being read.
        what: &'static str,
    },
    /// A string field is not valid UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        what: &'static str,
    },
    /// A message carries bytes after its last field.
    #[error("{count} unexpected bytes after the end of {what}")]
    TrailingBytes {
        /// The message that should have ended.
        what: &'static str,
        /// How many bytes follow it.
        count: usize,
    },
    /// A tag (message type, sub-type, content reference) has no meaning here.
    #[error("unknown {what} {tag}")]
    UnknownType {
        /// Which kind of tag.
        what: &'static str,
        /// The value that was read.
        tag: u64,
    },
    /// A field or message is larger than the configured [`crate::Limits`].
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes (as declared by the peer, or measured).
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A count (entries, documents, queued messages) exceeds the configured [`crate::Limits`].
    #[error("too many {what}: {count}, the limit is {limit}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The count reached or declared.
        count: u64,
        /// The configured limit.
        limit: u64,
    },
    /// An update would nest shared types deeper than [`crate::Limits::max_nesting_depth`].
    #[error("update nests shared types deeper than max_nesting_depth = {limit}")]
    TooDeep {
        /// The configured limit.
        limit: u64,
    },
    /// A field decoded but its value breaks the format's rules.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// The field or structure.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A well-formed message that this side must never receive (for example a
    /// server-only message sent by a client).
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    /// The `yrs` document could not be locked because the caller holds a
    /// transaction on it. Drop the transaction and retry.
    #[error("the document is locked by another transaction; drop it and retry")]
    DocumentBusy,
    /// `yrs` refused a structurally valid update.
    #[error("the update could not be applied: {0}")]
    Apply(String),
    /// [`crate::ServerSession::ack_persisted`] was given an id it never issued
    /// or already resolved.
    #[error("unknown or already resolved acknowledgement id {0}")]
    UnknownAck(u64),
    /// An operation names a document this session does not hold.
    #[error("no document \"{0}\" on this session")]
    UnknownDocument(String),
}

impl SyncError {
    /// Builds a [`SyncError::Malformed`].
    pub(crate) fn malformed(what: &'static str, detail: impl Into<String>) -> Self {
        SyncError::Malformed {
            what,
            detail: detail.into(),
        }
    }

    /// True for errors caused by the peer's bytes (the connection should be
    /// closed), false for errors of the local caller.
    pub fn is_peer_error(&self) -> bool {
        !matches!(
            self,
            SyncError::DocumentBusy | SyncError::UnknownAck(_) | SyncError::UnknownDocument(_)
        )
    }
}
