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
//! The browser's side is [`transport`] (`fetch`, streamed, abortable).
//!
//! Features: none.

pub mod diff;
pub mod endpoint;
pub mod error;
pub mod i18n;
pub mod outcome;
pub mod plan;
pub mod preview;
pub mod proposal;
pub mod response;
pub mod target;
pub mod transport;
