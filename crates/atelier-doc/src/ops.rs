//! Typed operations: what widgets, the assistant and external agents send to
//! change a document. A batch of operations is applied as one transaction.

use crate::block::{BlockId, InlineRun, Marks, NewBlock};
use crate::document::{Document, Placement};
use crate::error::Result;
use crate::inline::Mark;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use yrs::Transact;

/// One change to a document. Offsets count UTF-16 units of the block's text.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Op {
    /// Insert text (with the marks before it unless `marks` is given).
    InsertText {
        /// Target block.
        block: BlockId,
        /// UTF-16 offset.
        offset: u32,
        /// Text to insert.
        text: String,
        /// Exact marks for the new text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marks: Option<Marks>,
    },
    /// Delete a range of text.
    DeleteText {
        /// Target block.
        block: BlockId,
        /// UTF-16 offset.
        offset: u32,
        /// Number of UTF-16 units.
        len: u32,
    },
    /// Set or clear a mark over a range.
    Format {
        /// Target block.
        block: BlockId,
        /// UTF-16 offset.
        offset: u32,
        /// Number of UTF-16 units.
        len: u32,
        /// The mark.
        #[serde(flatten)]
        mark: Mark,
        /// Set (true) or clear (false).
        on: bool,
    },
    /// Replace a block's whole text (La Suite's "update block" with content).
    SetContent {
        /// Target block.
        block: BlockId,
        /// New inline content.
        content: Vec<InlineRun>,
    },
    /// Change a block's type and/or props.
    UpdateBlock {
        /// Target block.
        block: BlockId,
        /// New type, if changing.
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        /// Props to set.
        #[serde(default)]
        props: Map<String, Value>,
    },
    /// Insert new blocks.
    InsertBlocks {
        /// Where.
        at: Placement,
        /// What.
        blocks: Vec<NewBlock>,
    },
    /// Delete a block and its children.
    DeleteBlock {
        /// Target block.
        block: BlockId,
    },
    /// Move a block and its children.
    MoveBlock {
        /// Target block.
        block: BlockId,
        /// Destination.
        to: Placement,
    },
    /// Split a block at an offset (Enter).
    SplitBlock {
        /// Target block.
        block: BlockId,
        /// UTF-16 offset.
        offset: u32,
    },
    /// Merge a block into the previous one (Backspace at its start).
    MergeWithPrevious {
        /// Target block.
        block: BlockId,
    },
    /// Nest a block under its previous sibling (Tab); no-op at the first sibling.
    IndentBlock {
        /// Target block.
        block: BlockId,
    },
    /// Lift a nested block after its parent (Shift+Tab); no-op at top level.
    OutdentBlock {
        /// Target block.
        block: BlockId,
    },
}

/// What applying one [`Op`] produced.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum OpOutcome {
    /// Nothing to report.
    Done,
    /// Blocks were created, with these ids.
    Created {
        /// New ids in order.
        ids: Vec<BlockId>,
    },
    /// Text was joined into `block` at `offset`.
    Joined {
        /// The receiving block.
        block: BlockId,
        /// Where the joined text starts.
        offset: u32,
    },
}

impl Document {
    /// Applies operations as one transaction tagged with `origin` (e.g.
    /// `"assistant"`, so undo managers and renderers can tell who did it).
    /// If one operation fails, the error names it; operations before it in
    /// the batch have been applied within the same transaction.
    pub fn apply_ops(&self, ops: &[Op], origin: &str) -> Result<Vec<OpOutcome>> {
        let mut txn = self.ydoc().transact_mut_with(origin);
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(self.apply_op_in(&mut txn, op)?);
        }
        Ok(out)
    }

    pub(crate) fn apply_op_in(&self, txn: &mut yrs::TransactionMut, op: &Op) -> Result<OpOutcome> {
        Ok(match op {
            Op::InsertText {
                block,
                offset,
                text,
                marks,
            } => {
                self.insert_text_in(txn, block, *offset, text, marks.as_ref())?;
                OpOutcome::Done
            }
            Op::DeleteText { block, offset, len } => {
                self.delete_text_in(txn, block, *offset, *len)?;
                OpOutcome::Done
            }
            Op::Format {
                block,
                offset,
                len,
                mark,
                on,
            } => {
                self.format_text_in(txn, block, *offset, *len, mark, *on)?;
                OpOutcome::Done
            }
            Op::SetContent { block, content } => {
                self.set_block_content_in(txn, block, content)?;
                OpOutcome::Done
            }
            Op::UpdateBlock { block, kind, props } => {
                self.update_block_in(txn, block, kind.as_deref(), props)?;
                OpOutcome::Done
            }
            Op::InsertBlocks { at, blocks } => OpOutcome::Created {
                ids: self.insert_blocks_in(txn, at, blocks)?,
            },
            Op::DeleteBlock { block } => {
                self.delete_block_in(txn, block)?;
                OpOutcome::Done
            }
            Op::MoveBlock { block, to } => {
                self.move_block_in(txn, block, to)?;
                OpOutcome::Done
            }
            Op::SplitBlock { block, offset } => OpOutcome::Created {
                ids: vec![self.split_block_in(txn, block, *offset)?],
            },
            Op::MergeWithPrevious { block } => match self.merge_with_previous_in(txn, block)? {
                Some((block, offset)) => OpOutcome::Joined { block, offset },
                None => OpOutcome::Done,
            },
            Op::IndentBlock { block } => {
                self.indent_block_in(txn, block)?;
                OpOutcome::Done
            }
            Op::OutdentBlock { block } => {
                self.outdent_block_in(txn, block)?;
                OpOutcome::Done
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_have_a_stable_json_form() {
        let op: Op = serde_json::from_str(
            r#"{"op":"format","block":"b1","offset":0,"len":3,"mark":"link","value":"https://a.fr","on":true}"#,
        )
        .expect("valid op json");
        assert_eq!(
            op,
            Op::Format {
                block: "b1".into(),
                offset: 0,
                len: 3,
                mark: Mark::Link("https://a.fr".into()),
                on: true
            }
        );
        let json =
            serde_json::to_value(&Op::DeleteBlock { block: "x".into() }).expect("serializes");
        assert_eq!(json, serde_json::json!({"op": "deleteBlock", "block": "x"}));
    }
}
