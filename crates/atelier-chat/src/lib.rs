//! Atelier's chat panel widget (layer 4): a Leptos component over the chat
//! model of [`atelier_doc::chat`], for the chat document `D:chat` beside a
//! document `D`.
//!
//! ## How it fits together
//! - The host (the `<atelier-chat>` element) owns the connection. It gives
//!   [`ChatPanel`] the chat [`atelier_doc::Document`], the local
//!   [`ChatUser`], and signals for the collaborators ([`ChatPeer`], with
//!   their typing flags), the connection, what the server acknowledged,
//!   and read-only access; it gets callbacks for typing, mentions, new
//!   messages and the unread count, and a [`ChatCore`] to call
//!   [`ChatCore::send`] and [`ChatCore::focus`].
//! - [`core`]: follows the chat through
//!   [`atelier_doc::chat::Chat::observe`] into a [`chat_log::ChatLog`]
//!   (entries, id → index, threads) and writes only through the model's
//!   operations; [`unread`] keeps the marker and count.
//! - [`timeline`]: the virtualized log. [`virtual_window`] (pure) turns
//!   measured and estimated row heights into the window of rows to render
//!   and the spacers around it; [`message_view`] builds a row from a
//!   [`message_view::RowModel`], the body read by
//!   [`atelier_doc::chat_format`] into blocks and runs rendered as
//!   elements and text nodes (never HTML). The log's keyboard and click
//!   handling is in `log_events.rs`.
//! - The composer (`composer.rs`, with [`mentions`] for @-completion) and
//!   the reaction picker ([`reaction_picker`]) are Leptos components;
//!   `relay_status.rs` follows the refusals the Matrix bridge records in
//!   the chat document (`atelier-relay-status`), shown on their messages;
//!   [`timestamps`] formats times and day separators with the browser's
//!   `Intl`; [`people`] checks colours and builds the presence and typing
//!   lines; [`i18n`] holds every label in fr, de, nl and en.
//!
//! Must not: open connections or timers other than its own typing timeout,
//! keep chat state anywhere but the model and its observed copy, or parse
//! message text as HTML (links pass
//! [`atelier_doc::chat_format::is_chat_link`] twice: when read and when
//! set).
//!
//! ```
//! // The pure parts run anywhere: which rows a 10,000-message chat renders.
//! use atelier_chat::virtual_window::HeightCache;
//! let mut heights = HeightCache::new();
//! heights.set_rows((0..10_000).map(|i| format!("m{i}")).collect());
//! let bottom = heights.total() - 600.0;
//! let window = heights.window(bottom, 600.0, 200.0);
//! assert!(window.len() < 20 && window.end == 10_000);
//! ```
//!
//! Features: none.

pub mod chat_log;
mod composer;
pub mod core;
pub mod error;
pub mod i18n;
mod log_events;
pub mod mentions;
pub mod message_view;
mod panel;
pub mod people;
pub mod reaction_picker;
mod relay_status;
pub mod timeline;
pub mod timestamps;
pub mod unread;
pub mod virtual_window;

pub use crate::core::{ChatCore, CountCallback, MessageCallback, TypingCallback};
pub use error::{ChatError, Result};
pub use i18n::Lang;
pub use panel::ChatPanel;
pub use people::{ChatPeer, ChatUser};
