//! Plain-text import and export.

use crate::block::{Block, NewBlock};
use crate::document::{Document, Placement};
use crate::error::Result;

/// The document's text: one line per block, children after their parent,
/// table cells separated by tabs.
pub fn export(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        b.walk(&mut |b, _| {
            if let Some(rows) = &b.table {
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| c.iter().map(|r| r.text.as_str()).collect())
                        .collect();
                    out.push_str(&cells.join("\t"));
                    out.push('\n');
                }
            } else {
                out.push_str(&b.plain_text());
                out.push('\n');
            }
        });
    }
    out
}

/// Appends one paragraph per line of `text` at the end of the document.
pub fn import(doc: &Document, text: &str) -> Result<()> {
    let blocks: Vec<NewBlock> = text.lines().map(NewBlock::paragraph).collect();
    if blocks.is_empty() {
        return Ok(());
    }
    doc.insert_blocks(&Placement::End, &blocks).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let d = Document::with_client_id(5);
        import(&d, "un\ndeux 😀\n\ntrois").expect("import");
        assert_eq!(export(&d.blocks()), "un\ndeux 😀\n\ntrois\n");
    }
}
