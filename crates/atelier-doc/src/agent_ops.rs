//! Operations from agents (an in-page script, the REST API, an MCP client,
//! the assistant): checked against BlockNote's schema and applied all or
//! nothing.
//!
//! A yrs transaction cannot be rolled back, so a batch is first applied to
//! a copy of the document: only when every operation succeeds there is it
//! applied for real (or, on a server, the copy's update is stored and
//! broadcast like any client's). A refused batch changes nothing and names
//! the operation that failed.
//!
//! BlockNote deletes, for everyone, element names and attributes its schema
//! does not know (DESIGN.md §3), so an agent may only create BlockNote's
//! default block types with props of the types BlockNote writes.

use crate::block::{BlockId, InlineRun, NewBlock};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::ops::{Op, OpOutcome};
use crate::schema::{self, block_type};
use serde::Serialize;
use serde_json::{Map, Value};
use yrs::{Any, Doc, Options, ReadTxn, Transact};

/// Most operations in one batch.
pub const MAX_BATCH_OPS: usize = 1_000;

/// Most text (inline content, in bytes) one batch may add.
pub const MAX_BATCH_TEXT_BYTES: usize = 1 << 20;

/// A refused batch: the first operation that failed, and why. Nothing of
/// the batch was applied.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("operation {index} ({op}) refused: {message}")]
#[serde(rename_all = "camelCase")]
pub struct BatchError {
    /// Position of the failing operation in the batch (0-based).
    pub index: usize,
    /// Its kind, as in its JSON (`insertText`, `deleteBlock`, …).
    pub op: &'static str,
    /// What is wrong, for a person or an LLM to act on.
    pub message: String,
}

impl BatchError {
    fn new(index: usize, op: &Op, error: Error) -> Self {
        BatchError {
            index,
            op: op.name(),
            message: error.to_string(),
        }
    }
}

impl Op {
    /// The operation's kind, as its JSON `op` field names it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::InsertText { .. } => "insertText",
            Op::DeleteText { .. } => "deleteText",
            Op::Format { .. } => "format",
            Op::SetContent { .. } => "setContent",
            Op::UpdateBlock { .. } => "updateBlock",
            Op::InsertBlocks { .. } => "insertBlocks",
            Op::DeleteBlock { .. } => "deleteBlock",
            Op::MoveBlock { .. } => "moveBlock",
            Op::SplitBlock { .. } => "splitBlock",
            Op::MergeWithPrevious { .. } => "mergeWithPrevious",
            Op::IndentBlock { .. } => "indentBlock",
            Op::OutdentBlock { .. } => "outdentBlock",
        }
    }

    /// The block the operation acts on or next to, if any (where an
    /// agent's cursor goes).
    pub fn target(&self) -> Option<&BlockId> {
        match self {
            Op::InsertText { block, .. }
            | Op::DeleteText { block, .. }
            | Op::Format { block, .. }
            | Op::SetContent { block, .. }
            | Op::UpdateBlock { block, .. }
            | Op::DeleteBlock { block }
            | Op::MoveBlock { block, .. }
            | Op::SplitBlock { block, .. }
            | Op::MergeWithPrevious { block }
            | Op::IndentBlock { block }
            | Op::OutdentBlock { block } => Some(block),
            Op::InsertBlocks { .. } => None,
        }
    }

    /// Text bytes the operation adds.
    fn text_bytes(&self) -> usize {
        fn runs(r: &[InlineRun]) -> usize {
            r.iter().map(|r| r.text.len()).sum()
        }
        fn blocks(b: &[NewBlock]) -> usize {
            // Explicit stack: a block tree from JSON may be deep.
            let mut total = 0;
            let mut stack: Vec<&NewBlock> = b.iter().collect();
            while let Some(b) = stack.pop() {
                total += runs(&b.content);
                total += b
                    .table
                    .iter()
                    .flatten()
                    .flatten()
                    .map(|c| runs(c))
                    .sum::<usize>();
                stack.extend(&b.children);
            }
            total
        }
        match self {
            Op::InsertText { text, .. } => text.len(),
            Op::SetContent { content, .. } => runs(content),
            Op::InsertBlocks { blocks: b, .. } => blocks(b),
            _ => 0,
        }
    }

    /// Checks what BlockNote's schema requires of the operation's values.
    /// Names are quoted with `\"{}\"`, not `{:?}`: Debug-formatting a string
    /// links core's Unicode tables into the editor's wasm (`cargo xtask
    /// dist` refuses them), which runs these checks for in-page agents.
    fn check_schema(&self) -> Result<()> {
        match self {
            Op::UpdateBlock { kind, props, .. } => {
                if let Some(kind) = kind
                    && !schema::is_editable(kind)
                {
                    return Err(Error::InvalidOperation(format!(
                        "\"{kind}\" is not a block type an operation can turn a block into; use one of {}",
                        EDITABLE_TYPES.join(", ")
                    )));
                }
                // The props are checked against the type the block will have;
                // without a type change, the block's own (checked on apply).
                if let Some(kind) = kind {
                    check_props(kind, props)?;
                }
                Ok(())
            }
            Op::InsertBlocks { blocks, .. } => {
                let mut stack: Vec<&NewBlock> = blocks.iter().collect();
                while let Some(b) = stack.pop() {
                    if !KNOWN_TYPES.contains(&b.kind.as_str()) {
                        return Err(Error::InvalidOperation(format!(
                            "\"{}\" is not a BlockNote block type; use one of {}",
                            b.kind,
                            KNOWN_TYPES.join(", ")
                        )));
                    }
                    check_props(&b.kind, &b.props)?;
                    check_links(&b.content)?;
                    for cell in b.table.iter().flatten().flatten() {
                        check_links(cell)?;
                    }
                    stack.extend(&b.children);
                }
                Ok(())
            }
            Op::SetContent { content, .. } => check_links(content),
            _ => Ok(()),
        }
    }
}

/// Refuses a run linking anywhere but `http`, `https`, `mailto` or a
/// relative address, as the `format` operation and paste do (found by the
/// `agent_ops` fuzz target: `setContent` stored a `javascript:` link).
fn check_links(runs: &[InlineRun]) -> Result<()> {
    runs.iter()
        .filter_map(|run| run.marks.link.as_deref())
        .try_for_each(crate::inline::check_link)
}

/// BlockNote's default block types an agent may create.
const KNOWN_TYPES: &[&str] = &[
    block_type::PARAGRAPH,
    block_type::HEADING,
    block_type::BULLET_LIST_ITEM,
    block_type::NUMBERED_LIST_ITEM,
    block_type::CHECK_LIST_ITEM,
    block_type::TOGGLE_LIST_ITEM,
    block_type::CODE_BLOCK,
    block_type::QUOTE,
    block_type::DIVIDER,
    block_type::TABLE,
    block_type::IMAGE,
    block_type::VIDEO,
    block_type::AUDIO,
    block_type::FILE,
];

/// Types a block can be turned into.
const EDITABLE_TYPES: &[&str] = &[
    block_type::PARAGRAPH,
    block_type::HEADING,
    block_type::BULLET_LIST_ITEM,
    block_type::NUMBERED_LIST_ITEM,
    block_type::CHECK_LIST_ITEM,
    block_type::TOGGLE_LIST_ITEM,
    block_type::CODE_BLOCK,
    block_type::QUOTE,
    block_type::DIVIDER,
];

/// `value` as JSON text, for a message. Not `{value}`: `Value`'s `Display`
/// links `io::Error`'s boxed string and with it core's Unicode tables into
/// the wasm modules that run these checks (`cargo xtask dist` refuses them).
fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Props must be ones BlockNote writes on `kind`, with its JSON types
/// (`level` a number from 1 to 6, `checked` a bool, colours strings …).
fn check_props(kind: &str, props: &Map<String, Value>) -> Result<()> {
    let defaults = schema::default_props(kind);
    for (name, value) in props {
        if name == schema::ID_ATTR {
            continue;
        }
        let Some((_, default)) = defaults.iter().find(|(d, _)| d == name) else {
            let known: Vec<&str> = defaults.iter().map(|(d, _)| *d).collect();
            return Err(Error::InvalidOperation(format!(
                "a {kind} block has no prop \"{name}\"; its props are {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let fits = match default {
            Any::Bool(_) => value.is_boolean(),
            Any::Number(_) => value.is_number(),
            Any::String(_) => value.is_string(),
            // Explicitly undefined by default (`start`, `previewWidth`): a number or null.
            _ => value.is_number() || value.is_null(),
        };
        if !fits {
            return Err(Error::InvalidOperation(format!(
                "prop \"{name}\" of a {kind} block must be a {}, not {}",
                match default {
                    Any::Bool(_) => "boolean",
                    Any::String(_) => "string",
                    _ => "number",
                },
                json_text(value)
            )));
        }
        if name == "level" && !value.as_f64().is_some_and(|l| (1.0..=6.0).contains(&l)) {
            return Err(Error::InvalidOperation(format!(
                "a heading level is 1 to 6, not {}",
                json_text(value)
            )));
        }
    }
    Ok(())
}

impl Document {
    /// Applies `ops` as one transaction tagged `origin`, all or nothing:
    /// they are checked against BlockNote's schema and the batch limits,
    /// tried on a copy, and applied here only if every one succeeded there.
    pub fn apply_ops_atomically(
        &self,
        ops: &[Op],
        origin: &str,
    ) -> std::result::Result<Vec<OpOutcome>, BatchError> {
        self.try_ops(ops, self.ydoc().client_id().get())?;
        // Same state, same operations: what succeeded on the copy succeeds here.
        self.apply_ops(ops, origin).map_err(|e| BatchError {
            index: 0,
            op: ops.first().map_or("none", Op::name),
            message: format!("the document changed while the batch was checked: {e}"),
        })
    }

    /// Applies `ops` to a copy of this document written by `client_id`,
    /// all or nothing, and returns the update they make (for a server to
    /// store and broadcast like any client's) with their outcomes.
    pub fn try_ops(
        &self,
        ops: &[Op],
        client_id: u64,
    ) -> std::result::Result<(Vec<u8>, Vec<OpOutcome>), BatchError> {
        check_batch(ops)?;
        let copy = Doc::with_options(Options {
            client_id: yrs::block::ClientID::new(client_id),
            ..crate::doc_options()
        });
        let copy = Document::from_doc(copy);
        let state = self.encode_state_v1();
        copy.apply_update_v1(&state).map_err(|e| BatchError {
            index: 0,
            op: ops.first().map_or("none", Op::name),
            message: format!("cannot copy the document: {e}"),
        })?;
        let before = copy.ydoc().transact().state_vector();
        let mut outcomes = Vec::with_capacity(ops.len());
        {
            let mut txn = copy.ydoc().transact_mut();
            for (index, op) in ops.iter().enumerate() {
                // Props without a type change are checked against the
                // block's type as it is at this point of the batch.
                if let Op::UpdateBlock {
                    block,
                    kind: None,
                    props,
                } = op
                {
                    copy.content_of(&txn, block)
                        .and_then(|content| check_props(content.tag().as_ref(), props))
                        .map_err(|e| BatchError::new(index, op, e))?;
                }
                outcomes.push(
                    copy.apply_op_in(&mut txn, op)
                        .map_err(|e| BatchError::new(index, op, e))?,
                );
            }
        }
        let update = copy.ydoc().transact().encode_state_as_update_v1(&before);
        Ok((update, outcomes))
    }
}

/// Where a batch leaves its author's caret in `doc` (after it was
/// applied): after the last text it wrote, at the end of the last block it
/// changed or created, at the start of a block it split off, where a merge
/// joined. Operations on blocks that no longer exist are skipped; `None`
/// when nothing is left to point at.
pub fn caret_after(doc: &Document, ops: &[Op], outcomes: &[OpOutcome]) -> Option<(BlockId, u32)> {
    let at = |block: &BlockId, offset: Option<u32>| {
        let len = doc.block_len(block).ok()?;
        Some((block.clone(), offset.map_or(len, |o| o.min(len))))
    };
    ops.iter()
        .zip(outcomes)
        .rev()
        .find_map(|(op, outcome)| match (op, outcome) {
            (
                Op::InsertText {
                    block,
                    offset,
                    text,
                    ..
                },
                _,
            ) => {
                let len = text.encode_utf16().count();
                at(
                    block,
                    Some(offset.saturating_add(u32::try_from(len).unwrap_or(u32::MAX))),
                )
            }
            (Op::DeleteText { block, offset, .. }, _) => at(block, Some(*offset)),
            (
                Op::Format {
                    block, offset, len, ..
                },
                _,
            ) => at(block, Some(offset.saturating_add(*len))),
            (Op::DeleteBlock { .. }, _) => None,
            (_, OpOutcome::Joined { block, offset }) => at(block, Some(*offset)),
            (Op::SplitBlock { .. }, OpOutcome::Created { ids }) => {
                ids.last().and_then(|id| at(id, Some(0)))
            }
            (_, OpOutcome::Created { ids }) => ids.last().and_then(|id| at(id, None)),
            (op, _) => op.target().and_then(|b| at(b, None)),
        })
}

/// Batch-wide limits and each operation's schema, before anything runs.
fn check_batch(ops: &[Op]) -> std::result::Result<(), BatchError> {
    let first = ops.first().map_or("none", Op::name);
    if ops.len() > MAX_BATCH_OPS {
        return Err(BatchError {
            index: MAX_BATCH_OPS,
            op: first,
            message: format!(
                "a batch holds at most {MAX_BATCH_OPS} operations, this one {}",
                ops.len()
            ),
        });
    }
    let mut text = 0;
    for (index, op) in ops.iter().enumerate() {
        op.check_schema()
            .map_err(|e| BatchError::new(index, op, e))?;
        text += op.text_bytes();
        if text > MAX_BATCH_TEXT_BYTES {
            return Err(BatchError::new(
                index,
                op,
                Error::InvalidOperation(format!(
                    "too large: a batch adds at most {MAX_BATCH_TEXT_BYTES} bytes of text"
                )),
            ));
        }
    }
    Ok(())
}

/// The JSON Schema of a batch of operations (an array of [`Op`]), as
/// agents and the element's `applyOperations` send it.
#[cfg(feature = "schema")]
pub fn operations_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Vec<Op>)).unwrap_or_default();
    if let Some(o) = schema.as_object_mut() {
        o.insert(
            "title".into(),
            "Atelier document operations (atelier_doc::Op)".into(),
        );
        o.insert(
            "description".into(),
            "A batch applied all or nothing. Offsets and lengths count UTF-16 code units of a block's text; blocks are named by id.".into(),
        );
    }
    schema
}

#[cfg(test)]
#[path = "agent_ops_tests.rs"]
mod tests;
