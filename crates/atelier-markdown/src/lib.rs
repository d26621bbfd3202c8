//! The Markdown import of Atelier's custom elements, built as its own wasm
//! module (layer 5, beside `atelier-elements`).
//!
//! Reading Markdown needs pulldown-cmark, its HTML entity table and Unicode
//! case folding: about 50 KB brotli that typing never uses. So the editor
//! bundle leaves them out, and `atelier-elements.js` loads this module the
//! first time Markdown is pasted or set, then passes the blocks to the
//! editor as JSON ([`atelier_doc::NewBlock`]s, the same form agents send).
//!
//! In-page agents' reading and checking lives here too, for the same
//! reason ([`agent_batch`]): the document as blocks or Markdown with ids,
//! and a batch of operations checked and run on a copy, whose update the
//! editor then applies as the agent.

pub mod agent_batch;

use wasm_bindgen::prelude::*;

/// Parses Markdown into BlockNote blocks, as a JSON array of
/// [`atelier_doc::NewBlock`].
#[wasm_bindgen]
pub fn parse(markdown: &str) -> Result<String, JsError> {
    blocks_json(markdown).map_err(|e| JsError::new(&e.to_string()))
}

/// The JSON [`parse`] returns (callable outside wasm, for tests).
pub fn blocks_json(markdown: &str) -> serde_json::Result<String> {
    serde_json::to_string(&atelier_doc::markdown::parse(markdown))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the editor reads back (with its hand reader, as in the
    /// browser) is exactly what the Markdown import produced.
    #[test]
    fn blocks_survive_the_json_between_the_two_modules() {
        let md = "# Titre\n\n- [x] fait\n  - sous **point**\n\n```rust\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | [l](https://e.eu) |\n";
        let direct = atelier_doc::markdown::parse(md);
        let json = blocks_json(md).expect("serializes");
        let back = atelier_doc::block_json::new_blocks_from_json(&json).expect("reads back");
        assert_eq!(back, direct);
        assert!(!direct.is_empty());
    }
}
