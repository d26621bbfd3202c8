//! What typed text does: the Markdown shortcuts as input rules (a block
//! prefix and a space, `` ``` ``, an inline mark's closing delimiter),
//! each an undo step of its own that Backspace right after undoes; the
//! marks new text gets (none of a mark an inline shortcut just closed, no
//! link past a link's end); and links set on the selection.

use super::{EditSession, Pos, Selection, Tree, update_op};
use crate::error::{EditorError, Result};
use crate::text_rules::{self, BlockKind};
use atelier_doc::schema::block_type;
use atelier_doc::{InlineRun, Mark, Marks, Op};

/// What Backspace right after a Markdown shortcut types back.
#[derive(Debug, Clone)]
pub(super) struct RuleUndo {
    /// Where the character that completed the shortcut was typed.
    typed_at: Pos,
    /// That character.
    typed: String,
}

impl EditSession {
    /// Types `text` at the selection: a Markdown shortcut when `text`
    /// completes one (a block prefix and a space, `` ``` ``, an inline
    /// mark's closing delimiter), else the text itself, with the marks of
    /// the text before it, except: right after an inline shortcut, without
    /// the mark it set (`stored`, as ProseMirror's stored marks); at the end
    /// of a link, without the link (links are not extended by typing, as in
    /// BlockNote).
    pub(super) fn insert_text(
        &self,
        tree: &Tree,
        sel: &Selection,
        text: &str,
        stored: Option<&(Pos, Marks)>,
    ) -> Result<Selection> {
        let (mut ops, at) = self.delete_range_ops(tree, sel)?;
        let kind = tree.kind(&at.block);
        if !crate::render::is_text_block(&kind) {
            return Ok(sel.clone());
        }
        let runs = tree.block(&at.block).map(|b| b.content).unwrap_or_default();
        let full: String = runs.iter().map(|r| r.text.as_str()).collect();
        // The text before the caret once the deletion is done.
        let prefix = text_rules::prefix_utf16(&full, at.offset);
        // What Backspace right after a shortcut gives back.
        let undo = || {
            sel.is_collapsed().then(|| RuleUndo {
                typed_at: at.clone(),
                typed: text.to_owned(),
            })
        };
        if kind == block_type::PARAGRAPH && !prefix.contains('\n') {
            let shortcut = match text {
                " " => text_rules::block_shortcut(&prefix),
                "`" if text_rules::is_code_fence(&prefix) => {
                    Some(BlockKind::plain(block_type::CODE_BLOCK))
                }
                _ => None,
            };
            if let Some(k) = shortcut {
                ops.push(Op::DeleteText {
                    block: at.block.clone(),
                    offset: 0,
                    len: at.offset,
                });
                ops.push(update_op(&at.block, &k));
                let caret = Pos::new(at.block.clone(), 0);
                self.apply_rule(&ops, undo(), &caret)?;
                return Ok(Selection::caret(caret));
            }
        }
        let mut chars = text.chars();
        if let (Some(typed), None) = (chars.next(), chars.next())
            && kind != block_type::CODE_BLOCK
            && let Some(sc) = text_rules::inline_shortcut(&prefix, typed)
            && !touches_code(&runs, sc.open, at.offset)
        {
            // The closing delimiter's characters typed before this one,
            // the opening delimiter, then the mark.
            let closing = sc.delim - 1;
            if closing > 0 {
                ops.push(Op::DeleteText {
                    block: at.block.clone(),
                    offset: at.offset - closing,
                    len: closing,
                });
            }
            ops.push(Op::DeleteText {
                block: at.block.clone(),
                offset: sc.open,
                len: sc.delim,
            });
            ops.push(Op::Format {
                block: at.block.clone(),
                offset: sc.open,
                len: sc.inner,
                mark: sc.mark.clone(),
                on: true,
            });
            let caret = Pos::new(at.block.clone(), sc.open + sc.inner);
            // Text typed next has the marks of the text before it, less this one.
            let mut next = marks_at(&runs, at.offset - closing).unwrap_or_default();
            clear_mark(&mut next, &sc.mark);
            self.apply_rule(&ops, undo(), &caret)?;
            *self.stored_marks.borrow_mut() = Some((caret.clone(), next));
            return Ok(Selection::caret(caret));
        }
        let marks = match stored {
            Some((p, m)) if *p == at && ops.is_empty() => Some(m.clone()),
            _ => marks_at(&runs, at.offset)
                .filter(|before| {
                    before.link.is_some()
                        && marks_at(&runs, at.offset + 1).map(|after| after.link)
                            != Some(before.link.clone())
                })
                .map(|mut before| {
                    before.link = None;
                    before
                }),
        };
        ops.push(Op::InsertText {
            block: at.block.clone(),
            offset: at.offset,
            text: text.to_owned(),
            marks,
        });
        self.apply_ops(&ops)?;
        Ok(Selection::caret(Pos::new(
            at.block,
            at.offset + text_rules::utf16_len(text),
        )))
    }

    /// Applies a Markdown shortcut's operations as an undo step of their
    /// own, and remembers (`undo`) what Backspace right after it gives back.
    fn apply_rule(&self, ops: &[Op], undo: Option<RuleUndo>, caret: &Pos) -> Result<()> {
        self.stop_capturing();
        self.apply_ops(ops)?;
        self.stop_capturing();
        *self.last_rule.borrow_mut() = undo.map(|u| (caret.clone(), u));
        Ok(())
    }

    /// Backspace right after a Markdown shortcut: undoes it and types back
    /// the character that triggered it (ProseMirror's `undoInputRule`), so
    /// `# ` then Backspace leaves the paragraph `# `.
    pub(super) fn undo_rule(&self, rule: &RuleUndo) -> Result<Option<Selection>> {
        if !self.undo.borrow_mut().undo_blocking() {
            return Ok(None);
        }
        self.stop_capturing();
        let at = &rule.typed_at;
        self.apply_ops(&[Op::InsertText {
            block: at.block.clone(),
            offset: at.offset,
            text: rule.typed.clone(),
            marks: None,
        }])?;
        Ok(Some(Selection::caret(Pos::new(
            at.block.clone(),
            at.offset + text_rules::utf16_len(&rule.typed),
        ))))
    }

    /// Links the selection to `href` (`None`: removes links from it).
    pub(super) fn set_link(
        &self,
        tree: &Tree,
        sel: &Selection,
        href: Option<&str>,
    ) -> Result<Selection> {
        let ranges = self.ranges(tree, sel);
        match href {
            Some(h) if !atelier_doc::sanitize::is_safe_href(h) => {
                return Err(EditorError::Refused(format!("unsafe link target \"{h}\"")));
            }
            Some(h) => self.format(&ranges, &Mark::Link(h.to_owned()), true),
            None => self.format(&ranges, &Mark::Link(String::new()), false),
        }?;
        Ok(sel.clone())
    }
}

/// The marks of the character before UTF-16 offset `offset` in `runs`
/// (`None` at the start).
pub(super) fn marks_at(runs: &[InlineRun], offset: u32) -> Option<Marks> {
    let mut end = 0u32;
    runs.iter()
        .find(|r| {
            end += text_rules::utf16_len(&r.text);
            end >= offset
        })
        .filter(|_| offset > 0)
        .map(|r| r.marks.clone())
}

/// Whether a character in `from..to` of the runs is inline code.
fn touches_code(runs: &[InlineRun], from: u32, to: u32) -> bool {
    let mut start = 0u32;
    runs.iter().any(|r| {
        let end = start + text_rules::utf16_len(&r.text);
        let hit = end > from && start < to && r.marks.code;
        start = end;
        hit
    })
}

/// Clears one (boolean) mark in `m`.
fn clear_mark(m: &mut Marks, mark: &Mark) {
    match mark {
        Mark::Bold => m.bold = false,
        Mark::Italic => m.italic = false,
        Mark::Strike => m.strike = false,
        Mark::Code => m.code = false,
        _ => {}
    }
}
