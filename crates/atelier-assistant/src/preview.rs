//! The preview of a proposal: per affected block, its old and new text
//! with deleted and inserted spans, computed on a private copy of the
//! document so nothing of it reaches the shared one.
//!
//! The operations run, all or nothing, on a copy made from the document's
//! state ([`atelier_doc::Document::apply_ops_atomically`] on that copy:
//! the same checks Accept will pass). The blocks of the document before
//! and of the copy after are then aligned by id in reading order
//! ([`crate::diff::diff`] over the id sequences): a block in both whose
//! type, props or text differ is *changed* (its text compared word by
//! word), one only before is *deleted*, one only after is *added*. The
//! pane renders these; only the requesting user's page computes them.
//!
//! ```
//! use atelier_assistant::preview::{preview, Change};
//! use atelier_assistant::diff::Span;
//! use atelier_doc::{Document, Op, markdown};
//! let doc = Document::new();
//! markdown::import(&doc, "Hello world.\n").unwrap();
//! let id = doc.block_ids()[0].clone();
//! let ops = [Op::InsertText { block: id, offset: 5, text: ", dear".into(), marks: None }];
//! let blocks = preview(&doc, &ops).unwrap();
//! assert_eq!(blocks[0].change, Change::Changed);
//! assert!(blocks[0].spans.contains(&Span::Inserted(", dear".into())));
//! // The shared document is untouched.
//! assert_eq!(markdown::export(&doc.blocks()), "Hello world.\n");
//! ```

use crate::diff::{Edit, Span, diff, text_diff};
use crate::target::{Flat, flatten};
use atelier_doc::{BatchError, BlockId, Document, Op};

/// How a block is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Its type, props or text change.
    Changed,
    /// It is new.
    Added,
    /// It goes away.
    Deleted,
}

/// One affected block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPreview {
    /// The block's id in the shared document (`None` for a new block).
    pub id: Option<BlockId>,
    /// Its type after the change (before it, when deleted).
    pub kind: String,
    /// Its type before, when the change makes it another type.
    pub old_kind: Option<String>,
    /// How it is affected.
    pub change: Change,
    /// Its text, word by word: kept, deleted and inserted spans.
    pub spans: Vec<Span>,
}

impl BlockPreview {
    /// The block's text before the change.
    pub fn old_text(&self) -> String {
        self.spans
            .iter()
            .filter(|s| !matches!(s, Span::Inserted(_)))
            .map(Span::text)
            .collect()
    }

    /// Its text after the change.
    pub fn new_text(&self) -> String {
        self.spans
            .iter()
            .filter(|s| !matches!(s, Span::Deleted(_)))
            .map(Span::text)
            .collect()
    }
}

/// The blocks `ops` would change in `doc`, in reading order; `doc` is not
/// touched. Fails as Accept would: a refused batch names its operation.
pub fn preview(doc: &Document, ops: &[Op]) -> Result<Vec<BlockPreview>, BatchError> {
    let copy = Document::from_update_v1(&doc.encode_state_v1()).map_err(|e| BatchError {
        index: 0,
        op: ops.first().map_or("none", Op::name),
        message: format!("cannot copy the document: {e}"),
    })?;
    let before = flatten(&doc.blocks());
    copy.apply_ops_atomically(ops, "assistant-preview")?;
    let after = flatten(&copy.blocks());
    Ok(compare(&before, &after))
}

fn compare(before: &[Flat], after: &[Flat]) -> Vec<BlockPreview> {
    let old_ids: Vec<&BlockId> = before.iter().map(|f| &f.block.id).collect();
    let new_ids: Vec<&BlockId> = after.iter().map(|f| &f.block.id).collect();
    let mut out = Vec::new();
    for e in diff(&old_ids, &new_ids) {
        match e {
            Edit::Keep(i, j) => {
                let (a, b) = (&before[i].block, &after[j].block);
                if a.kind == b.kind && a.props == b.props && a.content == b.content {
                    continue;
                }
                out.push(BlockPreview {
                    id: Some(a.id.clone()),
                    kind: b.kind.clone(),
                    old_kind: (a.kind != b.kind).then(|| a.kind.clone()),
                    change: Change::Changed,
                    spans: text_diff(&a.plain_text(), &b.plain_text()),
                });
            }
            Edit::Delete(i) => {
                let a = &before[i].block;
                let text = a.plain_text();
                out.push(BlockPreview {
                    id: Some(a.id.clone()),
                    kind: a.kind.clone(),
                    old_kind: None,
                    change: Change::Deleted,
                    spans: if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![Span::Deleted(text)]
                    },
                });
            }
            Edit::Insert(j) => {
                let b = &after[j].block;
                let text = b.plain_text();
                out.push(BlockPreview {
                    id: None,
                    kind: b.kind.clone(),
                    old_kind: None,
                    change: Change::Added,
                    spans: if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![Span::Inserted(text)]
                    },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::{NewBlock, Placement, markdown};

    #[test]
    fn changed_added_and_deleted_blocks_in_reading_order() {
        let doc = Document::new();
        markdown::import(&doc, "One.\n\nTwo.\n\nThree.\n").expect("md");
        let ids = doc.block_ids();
        let before = doc.encode_state_v1();
        let ops = [
            Op::DeleteBlock {
                block: ids[1].clone(),
            },
            Op::InsertBlocks {
                at: Placement::After(ids[2].clone()),
                blocks: vec![NewBlock::text("heading", "Four")],
            },
            Op::SetContent {
                block: ids[0].clone(),
                content: vec![atelier_doc::InlineRun::plain("One!")],
            },
        ];
        let p = preview(&doc, &ops).expect("preview");
        assert_eq!(
            p.iter().map(|b| b.change).collect::<Vec<_>>(),
            vec![Change::Changed, Change::Deleted, Change::Added]
        );
        assert_eq!(p[0].old_text(), "One.");
        assert_eq!(p[0].new_text(), "One!");
        assert_eq!(p[1].old_text(), "Two.");
        assert_eq!(p[2].kind, "heading");
        assert_eq!(p[2].new_text(), "Four");
        // Byte for byte, the shared document did not change.
        assert_eq!(doc.encode_state_v1(), before);
    }

    #[test]
    fn a_type_change_alone_is_a_change_and_a_bad_batch_fails() {
        let doc = Document::new();
        markdown::import(&doc, "Title\n").expect("md");
        let id = doc.block_ids()[0].clone();
        let mut props = serde_json::Map::new();
        props.insert("level".into(), serde_json::json!(2));
        let p = preview(
            &doc,
            &[Op::UpdateBlock {
                block: id,
                kind: Some("heading".into()),
                props,
            }],
        )
        .expect("preview");
        assert_eq!(p[0].old_kind.as_deref(), Some("paragraph"));
        assert_eq!(p[0].spans, vec![Span::Same("Title".into())]);
        let err = preview(
            &doc,
            &[Op::DeleteBlock {
                block: "missing".into(),
            }],
        )
        .expect_err("unknown block");
        assert_eq!(err.op, "deleteBlock");
    }
}
