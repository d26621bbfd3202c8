//! What a connection tells its widgets: one status, derived from the
//! browser's network state, the socket and the sync session.

use atelier_sync::{Access, ClientStatus};

/// Where a document's connection stands, as shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Opening the socket or waiting for the first sync of this connection.
    Connecting,
    /// Synced with read-write access: local edits go out at once.
    Synced,
    /// No connection (the browser is offline, or the server unreachable and
    /// a retry is scheduled). Local edits are kept and sent on reconnection.
    Offline,
    /// Synced, but the server accepts no edits from this user.
    ReadOnly,
    /// The server refused the document; no retry until the page reconnects.
    Denied,
    /// A document with no server: it lives in this page only.
    Local,
}

impl ConnectionStatus {
    /// The name used in events and the JS API: `connecting`, `synced`,
    /// `offline`, `read-only`, `denied`, `local`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Synced => "synced",
            ConnectionStatus::Offline => "offline",
            ConnectionStatus::ReadOnly => "read-only",
            ConnectionStatus::Denied => "denied",
            ConnectionStatus::Local => "local",
        }
    }

    /// Derives the status. `online` is the browser's `navigator.onLine`,
    /// `socket_live` whether a socket is opening or open (as opposed to
    /// waiting for a retry).
    pub fn derive(
        online: bool,
        socket_live: bool,
        session: ClientStatus,
        access: Option<Access>,
    ) -> Self {
        match session {
            ClientStatus::Denied => ConnectionStatus::Denied,
            _ if !online || !socket_live => ConnectionStatus::Offline,
            ClientStatus::Synced if access == Some(Access::ReadOnly) => ConnectionStatus::ReadOnly,
            ClientStatus::Synced => ConnectionStatus::Synced,
            ClientStatus::Syncing | ClientStatus::Disconnected => ConnectionStatus::Connecting,
        }
    }
}

/// Where the document's copy in IndexedDB stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistenceStatus {
    /// Persistence was not asked for (or the document is local).
    Disabled,
    /// Reading the stored state (the connection waits for it).
    Loading,
    /// Writing updates.
    Saving,
    /// Every update seen so far is stored.
    Saved,
    /// IndexedDB is missing or failed (quota, private mode): the document
    /// lives in memory only, and syncing carries on.
    Unavailable,
}

impl PersistenceStatus {
    /// The name used in events and the JS API: `disabled`, `loading`,
    /// `saving`, `saved`, `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            PersistenceStatus::Disabled => "disabled",
            PersistenceStatus::Loading => "loading",
            PersistenceStatus::Saving => "saving",
            PersistenceStatus::Saved => "saved",
            PersistenceStatus::Unavailable => "unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_wins_over_a_socket_the_browser_has_not_closed_yet() {
        let s = ConnectionStatus::derive(false, true, ClientStatus::Synced, None);
        assert_eq!(s, ConnectionStatus::Offline);
    }

    #[test]
    fn read_only_and_denied() {
        let ro = ConnectionStatus::derive(true, true, ClientStatus::Synced, Some(Access::ReadOnly));
        assert_eq!(ro.as_str(), "read-only");
        let rw =
            ConnectionStatus::derive(true, true, ClientStatus::Synced, Some(Access::ReadWrite));
        assert_eq!(rw, ConnectionStatus::Synced);
        let denied = ConnectionStatus::derive(true, false, ClientStatus::Denied, None);
        assert_eq!(denied, ConnectionStatus::Denied);
        let opening = ConnectionStatus::derive(true, true, ClientStatus::Disconnected, None);
        assert_eq!(opening, ConnectionStatus::Connecting);
    }
}
