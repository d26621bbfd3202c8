//! Why the server could not start or stopped serving: the library's error
//! type, which the binary prints (`anyhow` stays in `main.rs`).

use crate::store::StoreError;
use std::net::SocketAddr;

/// An error starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A flag, a configuration file or a file it names is invalid or
    /// unreadable; the message names it.
    #[error("{0}")]
    Setting(String),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// Authentication could not be set up (keys, OIDC discovery).
    #[error("cannot set up authentication: {0}")]
    Auth(String),
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A [`StartError::Setting`] with a message.
pub(crate) fn setting(message: impl Into<String>) -> StartError {
    StartError::Setting(message.into())
}
