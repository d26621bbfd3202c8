//! Atelier's Yjs wire protocol, sans-I/O: bytes in, bytes and events out.
//!
//! Everything here speaks exactly what Yjs peers speak (DESIGN.md §4):
//! y-protocols sync (step 1, step 2, update), awareness and auth, lib0
//! encoding, v1 updates, in two framings:
//!
//! - **y-websocket** ([`YwsMessage`]): one document per socket;
//! - **Hocuspocus** ([`HocuspocusFrame`]): every message names its
//!   document, auth goes first, the server acknowledges updates
//!   (SyncStatus), plus Stateless, Close and Hocuspocus 4's Ping/Pong.
//!
//! Byte layouts were checked against the npm packages `y-protocols`,
//! `lib0`, `@hocuspocus/server`, `@hocuspocus/provider` and
//! `@hocuspocus/common` (3.4, and 4.x sources); `tests/wire_vectors.rs`
//! decodes and re-encodes vectors those packages produce.
//!
//! Every decoder is total: malformed, truncated or oversized input returns
//! [`SyncError`], never panics, and never allocates beyond [`Limits`].
//! Updates are checked structurally ([`check_update_v1`]) before `yrs`
//! decodes them.
//!
//! The session state machines take time as a `now_ms` argument and do no
//! I/O: [`ClientSession`] (one document; [`HocuspocusClient`] multiplexes
//! several on one socket) applies remote updates to the `yrs::Doc` it is
//! given and watches it for local ones; [`ServerSession`] (one connection)
//! turns frames into [`ServerEvent`]s and never touches a document.
//! [`DocHost`] is a minimal in-memory server behind server sessions.
//!
//! A client and a server session talking in memory until synced:
//!
//! ```
//! use atelier_sync::{
//!     Access, AuthDecision, ClientConfig, ClientEvent, ClientSession, DocHost, Limits,
//!     ServerSession,
//! };
//! use yrs::{Doc, GetString, Text, Transact};
//!
//! let doc = Doc::new();
//! let text = doc.get_or_insert_text("t");
//! text.insert(&mut doc.transact_mut(), 0, "written offline");
//!
//! let mut client = ClientSession::new(doc.clone(), ClientConfig::hocuspocus("notes", "secret"))?;
//! let mut server = ServerSession::hocuspocus(Limits::default());
//! let mut host = DocHost::new();
//! let mut authorize = |_doc: &str, token: &str| match token {
//!     "secret" => AuthDecision::Allow(Access::ReadWrite),
//!     _ => AuthDecision::Deny { reason: "permission-denied".into() },
//! };
//!
//! client.connected(0);
//! for _round in 0..4 {
//!     while let Some(frame) = client.poll_transmit() {
//!         server.receive(0, &frame, &mut authorize)?;
//!     }
//!     host.serve(0, &mut server)?;
//!     while let Some(frame) = server.poll_transmit() {
//!         client.receive(0, &frame)?;
//!     }
//! }
//!
//! let events: Vec<ClientEvent> = std::iter::from_fn(|| client.poll_event()).collect();
//! assert!(events.contains(&ClientEvent::Synced));
//! assert_eq!(client.unsynced_changes(), 0, "the server acknowledged the offline edit");
//! let stored = host.doc("notes").get_or_insert_text("t");
//! assert_eq!(stored.get_string(&host.doc("notes").transact()), "written offline");
//! # Ok::<(), atelier_sync::SyncError>(())
//! ```
//!
//! Features: `test-support` exports [`DocHost`], the in-memory server of
//! the tests and the example above (never shipped). The crate builds
//! natively and for `wasm32-unknown-unknown`.

pub mod auth;
pub mod awareness;
pub mod awareness_states;
pub mod backoff;
pub mod client_session;
#[cfg(feature = "test-support")]
pub mod doc_host;
pub mod doc_names;
pub mod error;
mod extra_awareness;
pub mod hocuspocus_client;
pub mod hocuspocus_frame;
pub mod limits;
pub mod message;
pub mod offline_queue;
pub mod server_session;
pub mod state_vector;
pub mod update_containment;
pub mod update_depth;
pub mod update_v1;
mod varint;
pub mod ywebsocket_frame;

pub use auth::{Access, AuthDecision, Authorizer, HocuspocusAuth, NoAuth, YwsAuth};
pub use awareness::{AwarenessEntry, AwarenessUpdate};
pub use awareness_states::{AwarenessApplied, AwarenessChange, AwarenessStates};
pub use backoff::{Backoff, Jitter, Reconnect};
pub use client_session::{ClientConfig, ClientEvent, ClientFraming, ClientSession, ClientStatus};
#[cfg(feature = "test-support")]
pub use doc_host::{DocHost, Fanout};
pub use doc_names::{base_document_name, chat_document_name, is_chat_document};
pub use error::{Result, SyncError};
pub use hocuspocus_client::HocuspocusClient;
pub use hocuspocus_frame::{HocuspocusFrame, HocuspocusMessage, peek_document, split_session};
pub use limits::Limits;
pub use message::SyncMessage;
pub use offline_queue::{Flush, OfflineQueue};
pub use server_session::{AckId, ServerEvent, ServerSession};
pub use state_vector::EncodedStateVector;
pub use update_containment::update_adds_nothing;
pub use update_depth::NestingBase;
pub use update_v1::{UpdateSummary, check_update_v1, check_update_v1_against};
pub use ywebsocket_frame::YwsMessage;
