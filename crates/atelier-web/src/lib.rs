//! Atelier's browser glue (layer 3, wasm only at run time): a WebSocket
//! transport that keeps an [`atelier_doc::Document`] in sync with a server
//! through `atelier_sync::ClientSession`.
//!
//! - [`Connection`] opens the socket (Hocuspocus framing by default,
//!   y-websocket selectable with [`Framing`]), feeds frames and time to the
//!   session, flushes what it sends, reconnects with
//!   `atelier_sync::Backoff` and follows the browser's online/offline
//!   events. It reports a [`ConnectionStatus`] (connecting, synced,
//!   offline, read-only, denied) and remote [`Peer`]s through callbacks, and
//!   publishes the local user and selection as awareness
//!   (`{user: {name, color}, cursor: {anchor, head}}`, what y-prosemirror
//!   and so BlockNote read).
//! - The document is initialised for BlockNote only after the first sync
//!   or a local load of an existing state (DESIGN.md §3).
//! - [`endpoint`], [`status`] and [`presence`] are pure and tested natively;
//!   [`connection`] needs a browser (it compiles everywhere so the
//!   workspace checks it natively, but only runs in a page).
//!
//! ```no_run
//! use atelier_web::{ConnectOptions, Connection};
//! use std::rc::Rc;
//! let doc = Rc::new(atelier_doc::Document::new());
//! let mut options = ConnectOptions::new("ws://127.0.0.1:8080/sync", "notes");
//! options.user_name = "Zoé".into();
//! let conn = Connection::open(doc, options)?;
//! conn.on_status(|s| web_sys::console::log_1(&s.as_str().into()));
//! # Ok::<(), atelier_web::WebError>(())
//! ```
//!
//! - Persistence: the document's updates are kept in IndexedDB
//!   ([`idb_store`], one database per server and document) and loaded
//!   *before* connecting, so a page reloaded offline shows and edits its
//!   last state; the log is compacted to one full state ([`compaction`]).
//!   A stored document that holds blocks counts as initialised. When
//!   IndexedDB fails the document stays in memory and
//!   [`PersistenceStatus::Unavailable`] says so.
//! - Tabs of one browser share updates and awareness through a
//!   `BroadcastChannel` ([`tab_message`]: a join exchanges state vectors
//!   and diffs), so they converge with the server down.
//!
//! Features: none.

pub mod compaction;
pub mod connection;
pub mod endpoint;
pub mod error;
pub mod idb_store;
pub mod presence;
pub mod status;
pub mod tab_message;

pub use compaction::CompactionPolicy;
pub use connection::{ConnectOptions, Connection};
pub use endpoint::{Framing, socket_url};
pub use error::{Result, WebError};
pub use presence::{LocalPresence, Peer, PeerCursor, PeerPos, SelectionRef};
pub use status::{ConnectionStatus, PersistenceStatus};
