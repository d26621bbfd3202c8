//! Atelier's browser glue (layer 3, wasm only at run time): keeps the
//! page's [`atelier_doc::Document`]s in sync with a server, with IndexedDB
//! and with the other tabs, for every widget of the page at once.
//!
//! Start with [`hub`] and [`DocHandle`]: a widget opens a document through
//! [`hub::open`] and holds the handle; the editor, a chat and an assistant
//! on one page share one `Document` per document, one socket per server
//! (Hocuspocus carries several documents; y-websocket one per socket), one
//! IndexedDB database and one tab channel per document family (the text
//! `D` and its chat `D:chat`), and one local identity in awareness.
//! One driver per concern does the I/O, around the shared state of each
//! document (`doc_state`):
//!
//! - `socket_driver`: the WebSocket, reconnection with
//!   `atelier_sync::Backoff`, the browser's online/offline events, feeding
//!   an `atelier_sync::HocuspocusClient` or one y-websocket session;
//! - `idb_driver` (over [`idb_store`]): the stored log of each document,
//!   loaded *before* connecting, so a page reloaded offline shows and edits
//!   its last state, and compacted ([`compaction`]);
//! - `tab_driver` (messages in [`tab_message`]): updates and awareness
//!   shared with the other tabs, so they converge with the server down;
//! - [`paint_schedule`]: local changes go out after the browser painted
//!   them, at once when the page is hidden or left.
//!
//! A document is initialised for BlockNote only after its first sync or a
//! local load of an existing state (DESIGN.md §3). Anything read from
//! IndexedDB or another tab passes the same update checks as the network.
//! Status ([`ConnectionStatus`]: connecting, synced, offline, read-only,
//! denied, local), persistence ([`PersistenceStatus`]) and remote [`Peer`]s
//! are reported to subscribers; the local user and selection are
//! published as awareness (`{user: {name, color, id}, cursor: {anchor,
//! head}}`, what y-prosemirror and so BlockNote read), plus any field a
//! widget adds (a chat's `typing`).
//!
//! The pure parts ([`announce`], [`endpoint`], [`status`], [`presence`], [`compaction`],
//! [`leases`], [`update_queue`], [`tab_message`], [`paint_schedule`]'s
//! bookkeeping) are tested natively; the drivers need a browser (they
//! compile everywhere so the workspace checks them natively, but only run
//! in a page).
//!
//! ```no_run
//! use atelier_web::{DocOptions, hub};
//! let mut options = DocOptions::new("ws://127.0.0.1:8080/sync", "notes");
//! options.user_name = "Zoé".into();
//! let text = hub::open(options.clone())?;
//! let status = text.on_status(|s| web_sys::console::log_1(&s.as_str().into()));
//! // The chat rides on the same socket, database and tab channel.
//! options.document = atelier_web::chat_document_name("notes");
//! options.init_text = false;
//! let chat = hub::open(options)?;
//! chat.set_awareness_field("typing", Some(true.into()))?;
//! # drop((status, text, chat));
//! # Ok::<(), atelier_web::WebError>(())
//! ```
//!
//! Features: none.

pub mod announce;
pub mod compaction;
mod doc_handle;
mod doc_state;
pub mod endpoint;
pub mod error;
pub mod hub;
mod idb_driver;
pub mod idb_store;
pub mod leases;
pub mod paint_schedule;
pub mod presence;
mod socket_driver;
pub mod status;
pub mod stored_records;
mod tab_driver;
pub mod tab_message;
pub mod update_queue;

pub use atelier_sync::{base_document_name, chat_document_name};
pub use compaction::CompactionPolicy;
pub use doc_handle::{DocHandle, Subscription, WeakDocHandle};
pub use endpoint::{Framing, socket_url};
pub use error::{Result, WebError};
pub use hub::{DocOptions, HubStats};
pub use presence::{AgentPresence, LocalPresence, Peer, PeerCursor, PeerPos, SelectionRef};
pub use status::{ConnectionStatus, PersistenceStatus};

/// Milliseconds since the epoch (the browser's clock).
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A random number from `Math.random` (53 bits of precision).
pub(crate) fn random_u64() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}

pub(crate) fn warn(message: &str) {
    web_sys::console::warn_1(&format!("atelier-web: {message}").into());
}
