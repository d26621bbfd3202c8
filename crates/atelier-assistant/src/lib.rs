//! Atelier's AI assistant pane.
//!
//! The pure core (no I/O, testable natively):
//!
//! - [`plan`]: what one run asks and how its answer will be used.
//! - [`target`]: the selection or caret an action works on, and the edits
//!   a prose answer becomes there.
//! - [`endpoint`]: the HTTP request of a run (Atelier's
//!   `/ai/v1/chat/completions` or La Suite Docs' `ai-proxy`).
//! - [`response`]: an answer read as its bytes arrive.
//! - [`error`]: why a run failed, from the server's status and error codes.
//! - [`outcome`], [`proposal`], [`preview`], [`diff`]: what an answer
//!   becomes, checked against the document at *Accept*, previewed word by
//!   word.
//! - [`i18n`]: the pane's strings.
//!
//! The pane itself: [`AssistantPane`] (a Leptos component, `pane.rs`)
//! over [`AssistantCore`] (`pane_core.rs`: one run, its outcome, Accept,
//! Reject, Undo). It reaches the document through a
//! [`collaborator::Collaborator`]: the editor's agents' door
//! (`EditorCollaborator`, feature `editor`) or
//! [`collaborator::DocCollaborator`] (the document's own operations with
//! origin `agent:Assistant`, an undo history of its own, the caret handed
//! to the host). Its only I/O is [`transport`] (`fetch`, streamed,
//! abortable).
//!
//! Must not: open document connections, write to the document other than
//! through the collaborator and only on *Accept*, or let a model's text
//! reach the document other than through [`atelier_ai::doc_tool`]'s review
//! and the paste sanitizer (tool calls) or as plain text (prose).
//!
//! Features: `editor` adds `EditorCollaborator` (depends on
//! `atelier-editor`); `test-support` adds [`scripted`], a transport that
//! answers with scripted OpenAI streams and error bodies, for tests.

pub mod collaborator;
pub mod diff;
#[cfg(feature = "editor")]
pub mod editor_door;
pub mod endpoint;
pub mod error;
pub mod i18n;
pub mod outcome;
mod pane;
pub mod pane_core;
pub mod plan;
pub mod preview;
pub mod proposal;
pub mod response;
#[cfg(feature = "test-support")]
pub mod scripted;
pub mod target;
pub mod transport;

#[cfg(feature = "editor")]
pub use editor_door::EditorCollaborator;
pub use i18n::Lang;
pub use pane::AssistantPane;
pub use pane_core::{AssistantCore, EventCallback, PaneEvent, Phase};
