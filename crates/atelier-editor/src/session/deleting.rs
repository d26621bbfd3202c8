//! Deleting: Backspace and Delete by character, word or line, a selected
//! range across blocks, and what happens at a block's edge (a list item,
//! heading or quote first becomes a paragraph, then blocks merge; a divider
//! is removed whole).

use super::{EditSession, Intent, Pos, Selection, Tree, ordered, update_op};
use crate::error::Result;
use crate::text_rules::{self, BlockKind};
use atelier_doc::schema::block_type;
use atelier_doc::{BlockId, Op, OpOutcome};

impl EditSession {
    /// Ops that delete a non-collapsed selection, and the caret after them.
    pub(super) fn delete_range_ops(&self, tree: &Tree, sel: &Selection) -> Result<(Vec<Op>, Pos)> {
        let (start, end) = ordered(tree, sel);
        if start.block == end.block {
            let len = end.offset.saturating_sub(start.offset);
            let ops = if len > 0 {
                vec![Op::DeleteText {
                    block: start.block.clone(),
                    offset: start.offset,
                    len,
                }]
            } else {
                Vec::new()
            };
            return Ok((ops, start));
        }
        let (Some(a), Some(b)) = (tree.index(&start.block), tree.index(&end.block)) else {
            return Ok((Vec::new(), start));
        };
        let mut ops = Vec::new();
        let start_len = self.doc.block_len(&start.block)?;
        if start.offset < start_len {
            ops.push(Op::DeleteText {
                block: start.block.clone(),
                offset: start.offset,
                len: start_len - start.offset,
            });
        }
        let mut deleted: Vec<BlockId> = Vec::new();
        for id in tree.order().iter().take(b).skip(a + 1) {
            if deleted.iter().any(|d| tree.is_ancestor(d, id)) {
                continue;
            }
            if tree.is_ancestor(id, &end.block) {
                // An ancestor of the end block: keep it (its children hold the
                // end), but clear its text.
                let len = self.doc.block_len(id).unwrap_or(0);
                if len > 0 {
                    ops.push(Op::DeleteText {
                        block: id.clone(),
                        offset: 0,
                        len,
                    });
                }
                continue;
            }
            ops.push(Op::DeleteBlock { block: id.clone() });
            deleted.push(id.clone());
        }
        if end.offset > 0 {
            ops.push(Op::DeleteText {
                block: end.block.clone(),
                offset: 0,
                len: end.offset.min(self.doc.block_len(&end.block)?),
            });
        }
        if crate::render::is_text_block(&tree.kind(&start.block))
            && crate::render::is_text_block(&tree.kind(&end.block))
        {
            ops.push(Op::MergeWithPrevious {
                block: end.block.clone(),
            });
        }
        Ok((ops, start))
    }

    pub(super) fn delete(
        &self,
        tree: &Tree,
        sel: &Selection,
        intent: &Intent,
    ) -> Result<Selection> {
        if !sel.is_collapsed() || *intent == Intent::DeleteSelection {
            let (ops, at) = self.delete_range_ops(tree, sel)?;
            self.apply_ops(&ops)?;
            return Ok(Selection::caret(at));
        }
        let at = &sel.focus;
        let id = &at.block;
        let kind = tree.kind(id).to_owned();
        if !crate::render::is_text_block(&kind) {
            return Ok(sel.clone());
        }
        let units = self.units(id)?;
        let len = units.len() as u32;
        let offset = at.offset.min(len);
        let backward = matches!(
            intent,
            Intent::DeleteBackward | Intent::DeleteWordBackward | Intent::DeleteLineBackward
        );
        if backward && offset > 0 {
            let from = match intent {
                Intent::DeleteWordBackward => text_rules::word_start_before(&units, offset),
                Intent::DeleteLineBackward => {
                    let s = text_rules::line_start_before(&units, offset);
                    if s == offset { offset - 1 } else { s }
                }
                _ => offset - text_rules::char_len_before(&units, offset).max(1),
            };
            self.apply_ops(&[Op::DeleteText {
                block: id.clone(),
                offset: from,
                len: offset - from,
            }])?;
            return Ok(Selection::caret(Pos::new(id.clone(), from)));
        }
        if !backward && offset < len {
            let to = match intent {
                Intent::DeleteWordForward => text_rules::word_end_after(&units, offset),
                _ => offset + text_rules::char_len_after(&units, offset).max(1),
            };
            self.apply_ops(&[Op::DeleteText {
                block: id.clone(),
                offset,
                len: to.min(len) - offset,
            }])?;
            return Ok(Selection::caret(Pos::new(id.clone(), offset)));
        }
        let i = tree.index(id).unwrap_or(0);
        if backward {
            // At the start of a block: a list item, heading or quote first
            // becomes a paragraph (as in BlockNote), then it merges.
            if kind != block_type::PARAGRAPH {
                self.apply_ops(&[update_op(id, &BlockKind::plain(block_type::PARAGRAPH))])?;
                return Ok(sel.clone());
            }
            let Some(prev) = i.checked_sub(1).and_then(|p| tree.order().get(p)) else {
                return Ok(sel.clone());
            };
            let prev_kind = tree.kind(prev);
            if prev_kind == block_type::DIVIDER {
                self.apply_ops(&[Op::DeleteBlock {
                    block: prev.clone(),
                }])?;
                return Ok(sel.clone());
            }
            if !crate::render::is_text_block(&prev_kind) {
                return Ok(sel.clone());
            }
            let out = self.apply_ops(&[Op::MergeWithPrevious { block: id.clone() }])?;
            if let Some(OpOutcome::Joined { block, offset }) = out.first() {
                return Ok(Selection::caret(Pos::new(block.clone(), *offset)));
            }
            Ok(sel.clone())
        } else {
            let Some(next) = tree.order().get(i + 1) else {
                return Ok(sel.clone());
            };
            let next_kind = tree.kind(next);
            if next_kind == block_type::DIVIDER {
                self.apply_ops(&[Op::DeleteBlock {
                    block: next.clone(),
                }])?;
            } else if crate::render::is_text_block(&next_kind) {
                self.apply_ops(&[Op::MergeWithPrevious {
                    block: next.clone(),
                }])?;
            }
            Ok(Selection::caret(Pos::new(id.clone(), offset)))
        }
    }
}
