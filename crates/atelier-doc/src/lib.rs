//! Atelier's document model on [`yrs`].
//!
//! One collaborative document is one [`yrs::Doc`]. Its rich text lives in the
//! `Y.XmlFragment` named [`schema::FRAGMENT`] in exactly the block schema that
//! BlockNote writes, so BlockNote clients and Atelier widgets can edit the same
//! document at once. Chat messages, comments and awareness states sit beside it.
//!
//! This crate does no I/O and has no wasm-specific code: it is tested natively.

pub mod error;
pub mod trace;
pub mod unicode_offsets;

pub use error::{Error, Result};
