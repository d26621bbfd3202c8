//! A proposal the user reviews: groups of operations, each with the
//! blocks it must find unchanged, checked against the document when the
//! user accepts.
//!
//! A block a human changed since the request is never overwritten. At
//! request time the pane takes a [`Snapshot`] of the document's blocks;
//! at *Accept*, [`EditProposal::check`] drops every group one of whose
//! guarded blocks differs from the snapshot (text, marks, type, props) or
//! is gone, and names the block by its first words, as it was. A group
//! that only inserts next to a block needs that block to exist, not to be
//! unchanged: inserting overwrites nothing. What remains is applied as one
//! batch, all or nothing.
//!
//! ```
//! use atelier_assistant::proposal::{EditProposal, Snapshot};
//! use atelier_assistant::target::{TextPos, TextRange, replace_selection};
//! use atelier_doc::{Document, markdown};
//! let doc = Document::new();
//! markdown::import(&doc, "Old words.\n\nOther block.\n").unwrap();
//! let ids = doc.block_ids();
//! let snapshot = Snapshot::of_document(&doc);
//! let sel = TextRange::new(TextPos::new(ids[0].clone(), 0), TextPos::new(ids[0].clone(), 3));
//! let proposal = EditProposal::new(vec![replace_selection(&doc, &sel, "New").unwrap()], snapshot);
//! // Someone types into the block before the user accepts: nothing is applied.
//! doc.insert_text(&ids[0], 0, "¡").unwrap();
//! let checked = proposal.check(&doc);
//! assert!(checked.ops.is_empty());
//! assert_eq!(checked.dropped[0].text, "Old words.");
//! ```

use crate::target::flatten;
use atelier_ai::doc_tool::{DocOperation, ToolCallReview};
use atelier_doc::{Block, BlockId, Document, Op};
use std::collections::HashMap;

/// Operations that stand or fall together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EditGroup {
    /// Blocks that must be as they were at the request.
    pub guarded: Vec<BlockId>,
    /// Blocks that must still exist (insertion references).
    pub required: Vec<BlockId>,
    /// The operations.
    pub ops: Vec<Op>,
}

/// What a block looked like at the request (its own content only).
#[derive(Debug, Clone, PartialEq)]
struct BlockState {
    kind: String,
    props: serde_json::Map<String, serde_json::Value>,
    content: Vec<atelier_doc::InlineRun>,
    table: Option<Vec<Vec<Vec<atelier_doc::InlineRun>>>>,
}

impl BlockState {
    fn of(b: &Block) -> Self {
        BlockState {
            kind: b.kind.clone(),
            props: b.props.clone(),
            content: b.content.clone(),
            table: b.table.clone(),
        }
    }
}

/// The document's blocks at request time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    blocks: HashMap<BlockId, BlockState>,
}

impl Snapshot {
    /// Every block of `doc` now.
    pub fn of_document(doc: &Document) -> Self {
        Snapshot {
            blocks: flatten(&doc.blocks())
                .into_iter()
                .map(|f| (f.block.id.clone(), BlockState::of(&f.block)))
                .collect(),
        }
    }

    /// The first words of a block as it was, for the pane to name it.
    pub fn excerpt(&self, id: &BlockId) -> String {
        let text: String = self
            .blocks
            .get(id)
            .map(|s| s.content.iter().map(|r| r.text.as_str()).collect())
            .unwrap_or_default();
        excerpt(&text)
    }

    fn unchanged(&self, now: &HashMap<BlockId, BlockState>, id: &BlockId) -> bool {
        matches!((self.blocks.get(id), now.get(id)), (Some(a), Some(b)) if a == b)
    }
}

/// At most 40 characters of `text` on one line, with an ellipsis when cut.
pub fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = line.chars().take(40).collect();
    if line.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A group dropped at Accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The block that changed or went away.
    pub block: BlockId,
    /// Its first words at request time.
    pub text: String,
}

/// What [`EditProposal::check`] keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    /// The operations of the groups that still hold, in order.
    pub ops: Vec<Op>,
    /// One entry per dropped group (its first changed block).
    pub dropped: Vec<Dropped>,
    /// How many groups hold.
    pub kept: usize,
}

/// Edits waiting for the user's decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EditProposal {
    /// The groups, in order.
    pub groups: Vec<EditGroup>,
    /// The document at request time.
    pub snapshot: Snapshot,
}

impl EditProposal {
    /// A proposal of these groups over a request-time snapshot.
    pub fn new(groups: Vec<EditGroup>, snapshot: Snapshot) -> Self {
        EditProposal { groups, snapshot }
    }

    /// The groups of a reviewed tool call: one per accepted operation; an
    /// update or a delete guards its block, an insertion requires its
    /// reference block.
    pub fn from_review(review: &ToolCallReview, snapshot: Snapshot) -> Self {
        let groups = review
            .accepted
            .iter()
            .map(|r| match &r.operation {
                DocOperation::Update { id, .. } | DocOperation::Delete { id } => EditGroup {
                    guarded: vec![id.clone()],
                    required: Vec::new(),
                    ops: r.ops.clone(),
                },
                DocOperation::Add { reference_id, .. } => EditGroup {
                    guarded: Vec::new(),
                    required: vec![reference_id.clone()],
                    ops: r.ops.clone(),
                },
            })
            .collect();
        EditProposal { groups, snapshot }
    }

    /// Every operation, as previewed.
    pub fn ops(&self) -> Vec<Op> {
        self.groups.iter().flat_map(|g| g.ops.clone()).collect()
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.ops.is_empty())
    }

    fn current(doc: &Document) -> HashMap<BlockId, BlockState> {
        flatten(&doc.blocks())
            .into_iter()
            .map(|f| (f.block.id.clone(), BlockState::of(&f.block)))
            .collect()
    }

    /// The first block of a group that no longer holds, if any.
    fn broken(&self, now: &HashMap<BlockId, BlockState>, g: &EditGroup) -> Option<BlockId> {
        g.guarded
            .iter()
            .find(|id| !self.snapshot.unchanged(now, id))
            .or_else(|| g.required.iter().find(|id| !now.contains_key(*id)))
            .cloned()
    }

    /// Guarded blocks changed since the request (the preview marks them).
    pub fn stale_blocks(&self, doc: &Document) -> Vec<BlockId> {
        let now = Self::current(doc);
        let mut out: Vec<BlockId> = Vec::new();
        for g in &self.groups {
            for id in g.guarded.iter().chain(&g.required) {
                let holds = if g.guarded.contains(id) {
                    self.snapshot.unchanged(&now, id)
                } else {
                    now.contains_key(id)
                };
                if !holds && !out.contains(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }

    /// What may be applied now: the groups whose blocks still hold.
    pub fn check(&self, doc: &Document) -> Checked {
        let now = Self::current(doc);
        let mut out = Checked::default();
        for g in &self.groups {
            match self.broken(&now, g) {
                None => {
                    out.ops.extend(g.ops.iter().cloned());
                    out.kept += 1;
                }
                Some(block) => out.dropped.push(Dropped {
                    text: self.snapshot.excerpt(&block),
                    block,
                }),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_ai::doc_tool::{BlockIndex, ToolLimits, review_tool_call};
    use atelier_doc::markdown;

    #[test]
    fn tool_operations_are_dropped_one_by_one() {
        let doc = Document::new();
        markdown::import(&doc, "Alpha block.\n\nBeta block.\n\nGamma.\n").expect("md");
        let ids = doc.block_ids();
        let args = format!(
            r#"{{"operations":[
              {{"type":"update","id":"{a}$","block":"<p>Alpha, rewritten.</p>"}},
              {{"type":"update","id":"{b}$","block":"<p>Beta, rewritten.</p>"}},
              {{"type":"add","referenceId":"{c}$","position":"after","blocks":["<p>Delta.</p>"]}},
              {{"type":"delete","id":"nope$"}}]}}"#,
            a = ids[0],
            b = ids[1],
            c = ids[2]
        );
        let review = review_tool_call(
            &args,
            &BlockIndex::from_document(&doc),
            &ToolLimits::default(),
        )
        .expect("shape");
        assert_eq!(review.refused.len(), 1);
        let p = EditProposal::from_review(&review, Snapshot::of_document(&doc));
        assert_eq!(p.groups.len(), 3);
        // A human edits Beta and Gamma meanwhile.
        doc.insert_text(&ids[1], 0, "Edited: ").expect("typing");
        doc.insert_text(&ids[2], 0, "Edited: ").expect("typing");
        assert_eq!(p.stale_blocks(&doc), vec![ids[1].clone()]);
        let checked = p.check(&doc);
        assert_eq!(checked.kept, 2);
        assert_eq!(
            checked.dropped,
            vec![Dropped {
                block: ids[1].clone(),
                text: "Beta block.".into()
            }]
        );
        doc.apply_ops_atomically(&checked.ops, "assistant")
            .expect("applies");
        assert_eq!(
            markdown::export(&doc.blocks()),
            "Alpha, rewritten.\n\nEdited: Beta block.\n\nEdited: Gamma.\n\nDelta.\n"
        );
    }

    #[test]
    fn a_deleted_reference_drops_its_insertion() {
        let doc = Document::new();
        markdown::import(&doc, "One.\n\nTwo.\n").expect("md");
        let ids = doc.block_ids();
        let group = crate::target::insert_below(Some(&ids[0]), "New.", false).expect("group");
        let p = EditProposal::new(vec![group], Snapshot::of_document(&doc));
        doc.delete_block(&ids[0]).expect("delete");
        let checked = p.check(&doc);
        assert!(checked.ops.is_empty());
        assert_eq!(checked.dropped[0].text, "One.");
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("a\n b"), "a b");
        let long = "word ".repeat(20);
        let e = excerpt(&long);
        assert!(e.ends_with('…') && e.chars().count() == 41);
    }
}
