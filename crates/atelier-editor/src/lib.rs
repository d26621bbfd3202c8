//! Atelier's rich-text editor widget (layer 4): a Leptos component that
//! edits an [`atelier_doc::Document`] through its typed operations.
//!
//! ## How it fits together
//! - [`session`] (pure, tested natively): turns an [`Intent`] (typing,
//!   deleting, Enter, paste, formatting, Markdown shortcuts, indent, undo…)
//!   at a model [`Selection`] into one batch of [`atelier_doc::Op`]s with
//!   the session's own origin ([`LOCAL_ORIGIN`]`-N`), and owns the `yrs` undo
//!   manager that tracks only that origin (a peer's changes, and another
//!   editor's on the same page, are never undone).
//! - [`render`] (pure): a block snapshot → virtual nodes; [`surface`] turns
//!   them into DOM keyed by block id, rebuilding only blocks whose own look
//!   changed.
//! - [`selection_map`] (pure) and [`dom_selection`]: (block id, UTF-16
//!   offset, hard break = 1) ↔ DOM (node, offset).
//! - [`component`]: the [`Editor`] component and its core. `beforeinput` is
//!   cancelled and replayed on the model (`surface_events.rs`), then the
//!   surface re-renders and the caret is put back; IME composition is left
//!   to the browser and committed once on `compositionend`. Every
//!   transaction on the document, whoever made it (a transport, another
//!   widget), re-renders on the next microtask, and the caret is restored
//!   from `atelier_doc::sticky` positions. The toolbar (`toolbar.rs`), the
//!   slash menu (`slash_menu.rs`, filtering in `block_choices.rs`) and the
//!   link field (`link_field.rs`) are components of their own; the menu and
//!   the field open next to the caret (`popover.rs`).
//! - [`agents`] (pure, tested natively) and [`agent_door`]: agents (an
//!   in-page script, a browser automation, the assistant) edit with typed
//!   operations through [`EditorCore::apply_agent_ops`], all or nothing,
//!   as the origin `agent:NAME`, with an undo history of their own (the
//!   user's Ctrl+Z never takes an agent's batch back) and a named caret
//!   the host publishes to every peer; [`EditorCore::set_change_listener`]
//!   says which blocks changed and who changed them ([`ChangeSource`]).
//!
//! No document state lives in signals: the component keeps a revision
//! counter and derives everything (word count, placeholder, undo state) from
//! the model. The editing surface stays in the light DOM (see the browser
//! test `selection_behaviour_decides_light_dom` and `atelier-elements`).
//!
//! Must not: write to the document other than through `Op`s, keep a copy of
//! the document, or parse model text as HTML (nodes are built with
//! `createElement`/`createTextNode`; links pass `is_safe_href`).
//!
//! ```
//! use atelier_editor::{EditSession, Intent, Pos, Selection};
//! use std::rc::Rc;
//! let doc = Rc::new(atelier_doc::Document::new());
//! atelier_doc::markdown::import(&doc, "Bonjour\n").unwrap();
//! let session = EditSession::new(doc.clone(), || 0);
//! let id = doc.block_ids()[0].clone();
//! let caret = Selection::caret(Pos::new(id, 7));
//! session.apply(&Intent::InsertText(" à tous".into()), &caret).unwrap();
//! assert_eq!(atelier_doc::markdown::export(&doc.blocks()), "Bonjour à tous\n");
//! ```
//!
//! Features: none.

pub mod agent_door;
pub mod agents;
mod block_choices;
pub mod clipboard;
pub mod component;
pub mod dom_selection;
pub mod error;
pub mod i18n;
mod link_field;
mod popover;
pub mod remote_carets;
pub mod render;
pub mod selection_map;
pub mod session;
mod slash_menu;
pub mod surface;
mod surface_events;
pub mod text_rules;
mod toolbar;

pub use agent_door::{AgentListener, AgentPresenceUpdate, ChangeListener, ChangeReport};
pub use agents::{AgentDesk, AgentInfo, ChangeSource, TextMatch};
pub use component::{Editor, EditorCore, MarkdownParser, SelectionListener};
pub use error::{EditorError, Result};
pub use i18n::Lang;
pub use remote_carets::{CaretSource, RemoteCaret};
pub use session::{EditSession, Intent, LOCAL_ORIGIN, MarkKind, Pos, Selection};
