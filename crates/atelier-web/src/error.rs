//! The crate's one error type.

/// Result alias for this crate.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

/// What can go wrong when opening a document or publishing presence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The `server` address cannot be used for a WebSocket.
    #[error("invalid server address \"{url}\": {reason}")]
    BadUrl {
        /// The address as given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The document is empty of a name.
    #[error("a document name is required to connect")]
    NoDocument,
    /// The sync session could not start (a transaction on the document was open).
    #[error("cannot start the sync session: {0}")]
    Sync(#[from] atelier_sync::SyncError),
    /// An awareness field that cannot be published.
    #[error("awareness field \"{field}\": {reason}")]
    AwarenessField {
        /// The field's name.
        field: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// No `window` (not running in a browser page).
    #[error("no browser window: atelier-web runs in a page")]
    NoWindow,
}
