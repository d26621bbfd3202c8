//! Atelier's AI protocol layer, sans-I/O: what the server's proxy and the
//! assistant pane share.
//!
//! - [`openai`]: OpenAI-compatible chat-completions types (messages,
//!   tools, `tool_choice`, `stream`), request checks, error bodies.
//! - [`sse`]: server-sent events, parsed incrementally and written.
//! - [`chat_stream`]: the `chat.completion.chunk` stream, both ways, tool
//!   calls accumulated from pieces split across chunks, `[DONE]`.
//! - [`vercel`]: La Suite Docs' AI stream (Vercel AI SDK UI message stream
//!   and data stream v1), both ways; the exact formats are in its docs.
//! - [`docs_api`]: the request Docs' `ai-proxy` endpoint takes.
//! - [`completion`]: one answer built from either stream.
//! - [`doc_tool`]: the `applyDocumentOperations` tool, its strict review
//!   and its conversion to [`atelier_doc::Op`]s through the paste sanitizer.
//! - [`tool_text`]: a tool call written as text (small models), told
//!   from prose while the answer streams.
//! - [`prompts`]: the assistant's actions and the shared system prompt
//!   whose cached prefix keeps the embedded model's first token fast.
//!
//! No I/O, no clock, no async: bytes in, updates out. It builds for
//! `wasm32-unknown-unknown`, so the browser pane reuses it. Every decoder
//! is total: malformed, truncated or oversized input returns an
//! [`AiError`], never a panic.
//!
//! ```
//! use atelier_ai::chat_stream::ChatStreamDecoder;
//! use atelier_ai::doc_tool::{interpret, BlockIndex, Proposal, ToolLimits};
//! let wire = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
//! let mut stream = ChatStreamDecoder::default();
//! for piece in wire.as_bytes().chunks(7) {
//!     stream.push(piece).unwrap();
//! }
//! let answer = stream.finish().unwrap();
//! let doc = atelier_doc::Document::new();
//! let proposal = interpret(&answer, &BlockIndex::from_document(&doc), &ToolLimits::default());
//! assert_eq!(proposal, Proposal::Prose("Bonjour".into()));
//! ```
//!
//! Features: none.

pub mod chat_stream;
pub mod completion;
pub mod doc_tool;
pub mod docs_api;
pub mod error;
pub mod openai;
pub mod prompts;
pub mod sse;
pub mod tool_text;
pub mod vercel;

pub use completion::{Completion, StreamUpdate};
pub use error::{AiError, OperationProblem, Result};

/// `value` as compact JSON text. Not `Value::to_string`: its `Display`
/// goes through an `io::Write` adapter whose error, a boxed `String`,
/// carries a `Debug` that links core's Unicode tables into browser
/// bundles (dist refuses them).
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
