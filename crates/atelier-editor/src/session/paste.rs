//! Paste and drop: sanitized HTML, else Markdown blocks, else plain
//! paragraphs, joined to the caret's block as BlockNote does; a URL pasted
//! over selected text links it.

use super::{EditSession, Pos, Selection, Tree, ordered};
use crate::error::Result;
use crate::text_rules;
use atelier_doc::schema::block_type;
use atelier_doc::{Block, BlockId, NewBlock, Op, OpOutcome, Placement};

impl EditSession {
    pub(super) fn paste(
        &self,
        tree: &Tree,
        sel: &Selection,
        html: Option<&str>,
        text: &str,
        markdown: Option<&[NewBlock]>,
    ) -> Result<Selection> {
        // A URL pasted over selected text links it (outside code blocks).
        if !sel.is_collapsed()
            && let Some(url) = text_rules::url_target(text)
            && tree.kind(&sel.focus.block) != block_type::CODE_BLOCK
        {
            return self.set_link(tree, sel, Some(url));
        }
        let (mut ops, at) = self.delete_range_ops(tree, sel)?;
        let kind = tree.kind(&at.block).to_owned();
        if !crate::render::is_text_block(&kind) {
            return Ok(sel.clone());
        }
        if kind == block_type::CODE_BLOCK {
            let t = if text.is_empty() {
                html.map(|h| {
                    atelier_doc::plain::export(&to_blocks(&atelier_doc::html::sanitize_paste(h)))
                })
                .unwrap_or_default()
            } else {
                text.replace("\r\n", "\n")
            };
            ops.push(Op::InsertText {
                block: at.block.clone(),
                offset: at.offset,
                text: t.clone(),
                marks: None,
            });
            self.apply_ops(&ops)?;
            return Ok(Selection::caret(Pos::new(
                at.block,
                at.offset + text_rules::utf16_len(&t),
            )));
        }
        let mut blocks = match html.filter(|h| !h.trim().is_empty()) {
            Some(h) => atelier_doc::html::sanitize_paste(h),
            None => Vec::new(),
        };
        if blocks.is_empty() {
            blocks = match markdown {
                Some(parsed) => parsed.to_vec(),
                None => text
                    .replace("\r\n", "\n")
                    .split("\n\n")
                    .filter(|p| !p.is_empty())
                    .map(NewBlock::paragraph)
                    .collect(),
            };
        }
        // Never write a node outside BlockNote's schema, nor a forced id.
        blocks.retain(|b| atelier_doc::schema::is_editable(&b.kind) || b.kind == block_type::TABLE);
        for b in &mut blocks {
            strip_ids(b);
        }
        let mut rest = blocks.into_iter();
        let Some(first) = rest.next() else {
            return Ok(sel.clone());
        };
        let rest: Vec<NewBlock> = rest.collect();
        let mut caret = at.offset;
        let mut tail_blocks = rest;
        let current_len = self.doc.block_len(&at.block)?;
        let current_empty = ops.is_empty() && current_len == 0;
        // The text after the caret once the selection is deleted is what
        // followed the selection's end in its block.
        let (_, end) = ordered(tree, sel);
        let nothing_after = end.offset == self.doc.block_len(&end.block)?;
        // The first pasted block joins the caret's block when it is a plain
        // paragraph, or takes over an empty paragraph; otherwise it follows.
        let inline_first = crate::render::is_text_block(&first.kind)
            && first.children.is_empty()
            && (first.kind == block_type::PARAGRAPH || current_empty);
        if inline_first {
            if current_empty && kind == block_type::PARAGRAPH && first.kind != kind {
                ops.push(Op::UpdateBlock {
                    block: at.block.clone(),
                    kind: Some(first.kind.clone()),
                    props: first.props.clone(),
                });
            }
            for run in &first.content {
                ops.push(Op::InsertText {
                    block: at.block.clone(),
                    offset: caret,
                    text: run.text.clone(),
                    marks: Some(run.marks.clone()),
                });
                caret += text_rules::utf16_len(&run.text);
            }
        } else {
            tail_blocks.insert(0, first);
        }
        if tail_blocks.is_empty() {
            self.apply_ops(&ops)?;
            return Ok(Selection::caret(Pos::new(at.block, caret)));
        }
        if nothing_after {
            // At the end of the block: no split (it would leave an empty
            // block behind); the caret goes to the end of the last block.
            let last_is_text = tail_blocks
                .last()
                .is_some_and(|b| crate::render::is_text_block(&b.kind));
            ops.push(Op::InsertBlocks {
                at: Placement::After(at.block.clone()),
                blocks: tail_blocks,
            });
            let out = self.apply_ops(&ops)?;
            if let Some(OpOutcome::Created { ids }) = out.last()
                && let Some(last) = ids.last()
                && last_is_text
            {
                let len = self.doc.block_len(last)?;
                return Ok(Selection::caret(Pos::new(last.clone(), len)));
            }
            return Ok(Selection::caret(Pos::new(at.block, caret)));
        }
        ops.push(Op::SplitBlock {
            block: at.block.clone(),
            offset: caret,
        });
        let split_index = ops.len() - 1;
        ops.push(Op::InsertBlocks {
            at: Placement::After(at.block.clone()),
            blocks: tail_blocks,
        });
        let out = self.apply_ops(&ops)?;
        match out.get(split_index) {
            Some(OpOutcome::Created { ids }) if !ids.is_empty() => {
                Ok(Selection::caret(Pos::new(ids[0].clone(), 0)))
            }
            _ => Ok(Selection::caret(Pos::new(at.block, caret))),
        }
    }
}

/// Whether a paste of `html` and `text` takes its blocks from `text` read
/// as Markdown: the text looks like Markdown and the HTML, if any, gives
/// no block (e.g. only an image or `<meta>`). The caller parses it (in the
/// browser, with the lazily loaded Markdown module) and passes the blocks
/// in [`Intent::Paste`].
pub fn paste_wants_markdown(html: Option<&str>, text: &str) -> bool {
    text_rules::looks_like_markdown(text)
        && html
            .is_none_or(|h| h.trim().is_empty() || atelier_doc::html::sanitize_paste(h).is_empty())
}

fn strip_ids(b: &mut NewBlock) {
    b.id = None;
    for c in &mut b.children {
        strip_ids(c);
    }
}

fn to_blocks(new: &[NewBlock]) -> Vec<Block> {
    new.iter()
        .map(|n| Block {
            id: BlockId::from(""),
            kind: n.kind.clone(),
            props: n.props.clone(),
            content: n.content.clone(),
            table: n.table.clone(),
            children: to_blocks(&n.children),
        })
        .collect()
}
