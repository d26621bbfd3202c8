//! A bridge between a document's chat and a Matrix room, in two modes:
//! - **application service** ([`appservice`]): each Atelier user appears
//!   in the room as a Matrix user of their own (a puppet named like them),
//!   and the homeserver pushes the room's events to the bridge. Needs the
//!   homeserver's administrator to load the bridge's registration file.
//! - **bot**: one Matrix account, invited to the room, relays the chat's
//!   messages as `Name: text` and reads the room with `/sync`. Needs only
//!   the account.
//!
//! Either way the room's messages come into the chat under their senders'
//! display names.
//!
//! The crate holds what the bridge does apart from the server it runs in:
//! the client-server API calls ([`client`]), the application service's
//! registration and puppets ([`appservice`]), the meaning of events in
//! both directions ([`event`]) and the record of what was relayed, kept in
//! the chat document ([`ledger`]). `atelier-server` runs one relay per linked
//! document (`matrix_bridge.rs`) and applies what the ledger writes as a
//! collaborator's update.
//!
//! ```
//! use atelier_matrix::ledger::{Ledger, Outgoing};
//! let doc = yrs::Doc::new();
//! let ledger = Ledger::new(&doc);
//! ledger.begin();
//! let id = ledger.chat().send("alice", 1.0, "Bonjour", None).unwrap();
//! assert!(matches!(&ledger.pending()[..], [Outgoing::Send { .. }]));
//! ledger.record_sent(&id, "$event");
//! assert!(ledger.pending().is_empty());
//! ```
//!
//! The client-server API is spoken over HTTP by hand rather than with
//! `matrix-sdk`: see [`client`] for why, and what encrypted rooms will need.
//! Unencrypted rooms only, for now: in an encrypted room the bot sees
//! `m.room.encrypted` events it cannot read, and relays nothing of them;
//! it sends nothing into it either ([`Error::Encrypted`] marks the chat's
//! messages failed), since clear text there would defeat the encryption.

pub mod appservice;
pub mod client;
pub mod event;
pub mod ledger;

use std::time::Duration;

/// Why a Matrix call or a bridge setting failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is wrong (homeserver URL, credentials).
    #[error("Matrix bridge setting: {0}")]
    Config(String),
    /// The homeserver could not be reached or failed (5xx): try again later.
    #[error("homeserver unreachable: {0}")]
    Unreachable(String),
    /// The homeserver asks to wait this long before the next call.
    #[error("rate limited by the homeserver for {0:?}")]
    RateLimited(Duration),
    /// The homeserver refused the call (4xx): trying again will not help.
    #[error("refused by the homeserver ({status} {errcode}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Matrix `errcode`, such as `M_FORBIDDEN`.
        errcode: String,
        /// Matrix `error` text.
        message: String,
    },
    /// The room is end-to-end encrypted: the bot would write in clear text
    /// into it, and cannot read what its members write.
    #[error(
        "the Matrix room is end-to-end encrypted; the bridge relays only unencrypted rooms for now"
    )]
    Encrypted,
    /// The homeserver answered something that is not the API's shape.
    #[error("unexpected answer from the homeserver: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether the homeserver no longer knows the bot's access token (it
    /// expired, or the device was logged out): log in again.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Refused { status: 401, .. })
    }

    /// Whether the same call may succeed later (the homeserver is down,
    /// slow or busy), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable(_) | Error::RateLimited(_) | Error::Protocol(_)
        )
    }
}
