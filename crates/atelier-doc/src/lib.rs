//! Atelier's document model on [`yrs`].
//!
//! One collaborative document is one [`yrs::Doc`]. Its rich text lives in the
//! `Y.XmlFragment` named [`schema::FRAGMENT`] in exactly the block schema that
//! BlockNote writes, so BlockNote clients and Atelier widgets can edit the same
//! document at once. Chat messages, comments and awareness states sit beside it.
//!
//! This crate does no I/O and has no wasm-specific code: it is tested natively.
//!
//! ```
//! use atelier_doc::{Document, markdown};
//! let doc = Document::new();
//! markdown::import(&doc, "# Titre\n\n- [x] fait\n- [ ] à faire\n").unwrap();
//! assert_eq!(doc.blocks()[0].kind, "heading");
//! assert_eq!(markdown::export(&doc.blocks()), "# Titre\n\n- [x] fait\n- [ ] à faire\n");
//! ```
//!
//! Features: `test-support` exports helpers for other crates' tests.

pub mod agent_ops;
pub mod awareness;
pub mod block;
pub mod block_json;
pub mod changes;
pub mod chat;
pub mod chat_format;
pub mod comments;
pub mod depth;
pub mod document;
pub mod error;
pub mod html;
pub mod inline;
pub mod markdown;
pub mod markdown_export;
pub mod op_json;
pub mod ops;
pub mod plain;
pub mod sanitize;
pub mod schema;
pub mod sticky;
#[cfg(feature = "test-support")]
pub mod test_support;
#[cfg(feature = "test-support")]
pub mod trace;
pub mod undo;
pub mod unicode_offsets;
pub mod xml_copy;

pub use agent_ops::BatchError;
pub use block::{Block, BlockId, InlineRun, Marks, NewBlock};
pub use changes::BlockChanges;
pub use document::{Document, OutlineNode, Placement, doc_options};
pub use error::{Error, Result};
pub use inline::Mark;
pub use ops::{Op, OpOutcome};
