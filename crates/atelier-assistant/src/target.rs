//! What an action works on, and the edits a prose answer becomes there.
//!
//! The host tells the pane where the user's selection is ([`TextRange`],
//! block ids and UTF-16 offsets, as the editor and Yjs count). An action
//! on the selection sends its text ([`selected_text`]); the answer then
//! replaces it ([`replace_selection`]). An answer for the document or the
//! caret goes below the caret's block ([`insert_below`]) or, to continue
//! writing, at the caret itself ([`continue_at`]). Each builds one
//! [`EditGroup`]: the operations, and the blocks that must not have
//! changed when the user accepts (see [`crate::proposal`]).
//!
//! ```
//! use atelier_assistant::target::{TextPos, TextRange, replace_selection, selected_text};
//! use atelier_doc::{Document, markdown};
//! let doc = Document::new();
//! markdown::import(&doc, "The meeting is on Monday.\n").unwrap();
//! let id = doc.block_ids()[0].clone();
//! let sel = TextRange::new(TextPos::new(id.clone(), 18), TextPos::new(id, 24));
//! assert_eq!(selected_text(&doc, &sel).unwrap(), "Monday");
//! let group = replace_selection(&doc, &sel, "Tuesday").unwrap();
//! doc.apply_ops_atomically(&group.ops, "assistant").unwrap();
//! assert_eq!(markdown::export(&doc.blocks()), "The meeting is on Tuesday.\n");
//! ```

use crate::proposal::EditGroup;
use atelier_doc::schema::{block_type, has_inline_content};
use atelier_doc::{Block, BlockId, Document, InlineRun, Marks, NewBlock, Op, Placement};

/// A position: a block and a UTF-16 offset in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPos {
    /// The block.
    pub block: BlockId,
    /// UTF-16 units from its start.
    pub offset: u32,
}

impl TextPos {
    /// A position.
    pub fn new(block: impl Into<BlockId>, offset: u32) -> Self {
        TextPos {
            block: block.into(),
            offset,
        }
    }
}

/// The user's selection: where it started and where the caret is (either
/// order); collapsed, it is a caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRange {
    /// Where it started.
    pub anchor: TextPos,
    /// Where the caret is.
    pub head: TextPos,
}

impl TextRange {
    /// A selection from `anchor` to `head`.
    pub fn new(anchor: TextPos, head: TextPos) -> Self {
        TextRange { anchor, head }
    }

    /// A caret.
    pub fn caret(at: TextPos) -> Self {
        TextRange {
            anchor: at.clone(),
            head: at,
        }
    }

    /// Whether nothing is selected.
    pub fn is_collapsed(&self) -> bool {
        self.anchor == self.head
    }
}

/// Why a target cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// A block of the selection is not in the document (any more).
    #[error("block {0} is not in the document")]
    NoBlock(String),
    /// Nothing to work on.
    #[error("the selection is empty")]
    Empty,
}

/// A block in reading order, with its parent.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    pub(crate) block: Block,
    pub(crate) parent: Option<BlockId>,
}

/// Every block in reading order (children right after their parent),
/// without their children, with their parents.
pub(crate) fn flatten(blocks: &[Block]) -> Vec<Flat> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Block, Option<BlockId>)> =
        blocks.iter().rev().map(|b| (b, None)).collect();
    while let Some((b, parent)) = stack.pop() {
        stack.extend(b.children.iter().rev().map(|c| (c, Some(b.id.clone()))));
        out.push(Flat {
            block: Block {
                children: Vec::new(),
                ..b.clone()
            },
            parent,
        });
    }
    out
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// The runs of `runs` between UTF-16 offsets `from` and `to`.
fn slice_runs(runs: &[InlineRun], from: u32, to: u32) -> Vec<InlineRun> {
    let mut out = Vec::new();
    let mut at = 0u32;
    for r in runs {
        let len = utf16_len(&r.text);
        let (start, end) = (from.max(at), to.min(at + len));
        if start < end {
            let units: Vec<u16> = r.text.encode_utf16().collect();
            let piece =
                String::from_utf16_lossy(&units[(start - at) as usize..(end - at) as usize]);
            out.push(InlineRun::styled(piece, r.marks.clone()));
        }
        at += len;
    }
    out
}

/// The start and end of `range` in reading order, and the blocks from the
/// first to the last (inclusive), offsets clamped to the blocks' text.
pub(crate) fn span(
    flat: &[Flat],
    range: &TextRange,
) -> Result<(TextPos, TextPos, std::ops::RangeInclusive<usize>), TargetError> {
    let find = |p: &TextPos| {
        flat.iter()
            .position(|f| f.block.id == p.block)
            .ok_or_else(|| TargetError::NoBlock(p.block.to_string()))
    };
    let (a, h) = (find(&range.anchor)?, find(&range.head)?);
    let clamp = |p: &TextPos, i: usize| {
        TextPos::new(
            p.block.clone(),
            p.offset.min(utf16_len(&flat[i].block.plain_text())),
        )
    };
    let (a_pos, h_pos) = (clamp(&range.anchor, a), clamp(&range.head, h));
    if (a, a_pos.offset) <= (h, h_pos.offset) {
        Ok((a_pos, h_pos, a..=h))
    } else {
        Ok((h_pos, a_pos, h..=a))
    }
}

/// The text of the selection, blocks separated by a line break.
pub fn selected_text(doc: &Document, range: &TextRange) -> Result<String, TargetError> {
    let flat = flatten(&doc.blocks());
    let (start, end, blocks) = span(&flat, range)?;
    let (first, last) = (*blocks.start(), *blocks.end());
    let mut parts = Vec::new();
    for (i, f) in flat.iter().enumerate().take(last + 1).skip(first) {
        let len = utf16_len(&f.block.plain_text());
        let from = if i == first { start.offset } else { 0 };
        let to = if i == last { end.offset } else { len };
        let text: String = slice_runs(&f.block.content, from, to)
            .iter()
            .map(|r| r.text.as_str())
            .collect();
        parts.push(text);
    }
    Ok(parts.join("\n"))
}

/// The whole block the caret is in, as a selection (an action on the
/// selection with only a caret works on its block).
pub fn whole_block(doc: &Document, at: &BlockId) -> Result<TextRange, TargetError> {
    let len = doc
        .block_len(at)
        .map_err(|_| TargetError::NoBlock(at.to_string()))?;
    Ok(TextRange::new(
        TextPos::new(at.clone(), 0),
        TextPos::new(at.clone(), len),
    ))
}

/// Paragraphs of an answer: split at blank lines, each trimmed; single
/// line breaks inside a paragraph are kept (they become hard breaks).
pub fn paragraphs(answer: &str) -> Vec<String> {
    let normalized = answer.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The marks new text takes when it replaces the selection: those of the
/// selection's first character, without a link (a rewritten sentence is
/// not the link's text any more).
fn marks_at(runs: &[InlineRun], offset: u32) -> Marks {
    let mut at = 0;
    for r in runs {
        let len = utf16_len(&r.text);
        if offset < at + len {
            return Marks {
                link: None,
                ..r.marks.clone()
            };
        }
        at += len;
    }
    Marks::default()
}

/// The edits that replace the selection by `answer`: its first paragraph
/// takes the selected text's place in the first block; further paragraphs
/// become paragraphs after it. Blocks wholly inside the selection are
/// deleted, except blocks without text (an image, a table: never lost to
/// a rewrite) and blocks that hold the selection's last block; the last
/// block keeps what follows the selection.
pub fn replace_selection(
    doc: &Document,
    range: &TextRange,
    answer: &str,
) -> Result<EditGroup, TargetError> {
    let flat = flatten(&doc.blocks());
    let (start, end, blocks) = span(&flat, range)?;
    if start == end {
        return Err(TargetError::Empty);
    }
    let paras = paragraphs(answer);
    let (first, last) = (*blocks.start(), *blocks.end());
    let a = &flat[first].block;
    let a_len = utf16_len(&a.plain_text());
    let mut ops = Vec::new();
    let mut guarded = vec![a.id.clone()];
    let marks = marks_at(&a.content, start.offset);
    let cut_end = if first == last { end.offset } else { a_len };
    let whole_first = start.offset == 0 && cut_end == a_len;
    let mut rest = paras.iter().skip(1).cloned().collect::<Vec<_>>();
    if first == last && !whole_first && !rest.is_empty() {
        // Inside one block, a several-paragraph answer stays one paragraph.
        rest.clear();
    }
    let joined = if first == last && !whole_first {
        paras.join(" ")
    } else {
        paras.first().cloned().unwrap_or_default()
    };
    if cut_end > start.offset {
        ops.push(Op::DeleteText {
            block: a.id.clone(),
            offset: start.offset,
            len: cut_end - start.offset,
        });
    }
    if !joined.is_empty() {
        ops.push(Op::InsertText {
            block: a.id.clone(),
            offset: start.offset,
            text: joined,
            marks: Some(marks),
        });
    }
    if first != last {
        let z = &flat[last];
        // Ancestors of the last block stay (deleting one would delete it).
        let mut ancestors = Vec::new();
        let mut up = z.parent.clone();
        while let Some(p) = up {
            up = flat
                .iter()
                .find(|f| f.block.id == p)
                .and_then(|f| f.parent.clone());
            ancestors.push(p);
        }
        let mut deleted: Vec<&BlockId> = Vec::new();
        for f in &flat[first + 1..last] {
            let id = &f.block.id;
            guarded.push(id.clone());
            if f.parent.as_ref().is_some_and(|p| deleted.contains(&p)) {
                deleted.push(id);
                continue;
            }
            if !has_inline_content(&f.block.kind) {
                continue;
            }
            if ancestors.contains(id) {
                if !f.block.content.is_empty() {
                    ops.push(Op::SetContent {
                        block: id.clone(),
                        content: Vec::new(),
                    });
                }
            } else {
                ops.push(Op::DeleteBlock { block: id.clone() });
                deleted.push(id);
            }
        }
        guarded.push(z.block.id.clone());
        if end.offset > 0 {
            ops.push(Op::DeleteText {
                block: z.block.id.clone(),
                offset: 0,
                len: end.offset,
            });
        }
    }
    if !rest.is_empty() {
        ops.push(Op::InsertBlocks {
            at: Placement::After(a.id.clone()),
            blocks: rest
                .iter()
                .map(|p| NewBlock::text(block_type::PARAGRAPH, p))
                .collect(),
        });
    }
    Ok(EditGroup {
        guarded,
        required: Vec::new(),
        ops,
    })
}

/// Blocks for prose inserted as blocks: a paragraph each, and lines that
/// start with `- ` or `* ` as list items (check-list items when
/// `checklist`, for action items).
pub fn prose_blocks(answer: &str, checklist: bool) -> Vec<NewBlock> {
    let mut out = Vec::new();
    for para in paragraphs(answer) {
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let is_item = |l: &str| l.starts_with("- ") || l.starts_with("* ");
        if lines.iter().all(|l| is_item(l)) {
            let kind = if checklist {
                block_type::CHECK_LIST_ITEM
            } else {
                block_type::BULLET_LIST_ITEM
            };
            out.extend(lines.iter().map(|l| NewBlock::text(kind, l[2..].trim())));
        } else {
            out.push(NewBlock::text(block_type::PARAGRAPH, &para));
        }
    }
    out
}

/// The edit that inserts `answer` as blocks below block `after` (the
/// caret's, or the selection's last), or at the end of the document.
pub fn insert_below(
    after: Option<&BlockId>,
    answer: &str,
    checklist: bool,
) -> Result<EditGroup, TargetError> {
    let blocks = prose_blocks(answer, checklist);
    if blocks.is_empty() {
        return Err(TargetError::Empty);
    }
    let at = match after {
        Some(id) => Placement::After(id.clone()),
        None => Placement::End,
    };
    Ok(EditGroup {
        guarded: Vec::new(),
        required: after.cloned().into_iter().collect(),
        ops: vec![Op::InsertBlocks { at, blocks }],
    })
}

/// The edit that continues the text at the caret: the answer's first
/// paragraph at the caret (a space between words), the others as
/// paragraphs after its block. The caret's block must not have changed
/// (the offset would no longer be where the user was).
pub fn continue_at(
    doc: &Document,
    caret: &TextPos,
    answer: &str,
) -> Result<EditGroup, TargetError> {
    let text = doc
        .block_plain_text(&caret.block)
        .map_err(|_| TargetError::NoBlock(caret.block.to_string()))?;
    let paras = paragraphs(answer);
    let Some(first) = paras.first() else {
        return Err(TargetError::Empty);
    };
    let offset = caret.offset.min(utf16_len(&text));
    let before: Option<char> = {
        let units: Vec<u16> = text.encode_utf16().take(offset as usize).collect();
        String::from_utf16_lossy(&units).chars().last()
    };
    let glue = match before {
        Some(c) if !c.is_whitespace() => " ",
        _ => "",
    };
    let mut ops = vec![Op::InsertText {
        block: caret.block.clone(),
        offset,
        text: format!("{glue}{first}"),
        marks: None,
    }];
    if paras.len() > 1 {
        ops.push(Op::InsertBlocks {
            at: Placement::After(caret.block.clone()),
            blocks: paras[1..]
                .iter()
                .map(|p| NewBlock::text(block_type::PARAGRAPH, p))
                .collect(),
        });
    }
    Ok(EditGroup {
        guarded: vec![caret.block.clone()],
        required: Vec::new(),
        ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::markdown;

    fn doc(md: &str) -> (Document, Vec<BlockId>) {
        let d = Document::new();
        markdown::import(&d, md).expect("markdown");
        let ids = d.block_ids();
        (d, ids)
    }

    fn apply(d: &Document, g: &EditGroup) -> String {
        d.apply_ops_atomically(&g.ops, "assistant")
            .expect("applies");
        markdown::export(&d.blocks())
    }

    #[test]
    fn a_selection_inside_one_block_is_replaced_in_place() {
        let (d, ids) = doc("Hello **big** world.\n");
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 11),
            TextPos::new(ids[0].clone(), 6),
        );
        assert_eq!(selected_text(&d, &sel).expect("text"), "big w");
        let g = replace_selection(&d, &sel, "large\n\nsmall w").expect("edit");
        // Two paragraphs inside a block stay one; the marks are the first
        // selected character's.
        assert_eq!(apply(&d, &g), "Hello **large small w**orld.\n");
        assert_eq!(g.guarded, vec![ids[0].clone()]);
    }

    #[test]
    fn a_selection_across_blocks_keeps_the_last_blocks_tail_and_media() {
        let (d, ids) = doc("One two.\n\nThree.\n\n---\n\nFour five.\n");
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 4),
            TextPos::new(ids[3].clone(), 5),
        );
        assert_eq!(
            selected_text(&d, &sel).expect("text"),
            "two.\nThree.\n\nFour "
        );
        let g = replace_selection(&d, &sel, "2.\n\nAnd 3.").expect("edit");
        assert_eq!(apply(&d, &g), "One 2.\n\nAnd 3.\n\n---\n\nfive.\n");
        assert_eq!(g.guarded.len(), 4);
    }

    #[test]
    fn whole_blocks_take_several_paragraphs() {
        let (d, ids) = doc("First.\n\nSecond.\n");
        let sel = whole_block(&d, &ids[0]).expect("block");
        let g = replace_selection(&d, &sel, "Premier.\n\nEncore.").expect("edit");
        assert_eq!(apply(&d, &g), "Premier.\n\nEncore.\n\nSecond.\n");
    }

    #[test]
    fn nested_blocks_holding_the_end_are_kept() {
        let (d, ids) = doc("- a\n  - b\n    - c d\n");
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 0),
            TextPos::new(ids[2].clone(), 2),
        );
        let g = replace_selection(&d, &sel, "x").expect("edit");
        let md = apply(&d, &g);
        assert!(
            md.contains("x") && md.contains("d") && !md.contains("b"),
            "{md}"
        );
    }

    #[test]
    fn prose_becomes_blocks_lists_and_continuations() {
        let blocks = prose_blocks("Summary.\n\n- call Ann\n- send notes", true);
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[1].kind, "checkListItem");
        assert_eq!(blocks[2].content[0].text, "send notes");

        let (d, ids) = doc("Intro.\n\nEnd.\n");
        let g = insert_below(Some(&ids[0]), "Added.", false).expect("edit");
        assert_eq!(apply(&d, &g), "Intro.\n\nAdded.\n\nEnd.\n");

        let (d, ids) = doc("It was late\n");
        let g = continue_at(
            &d,
            &TextPos::new(ids[0].clone(), 11),
            "and dark.\n\nThen dawn.",
        )
        .expect("edit");
        assert_eq!(apply(&d, &g), "It was late and dark.\n\nThen dawn.\n");
        assert!(insert_below(None, "  \n\n ", false).is_err());
    }

    #[test]
    fn unknown_blocks_and_empty_selections_are_errors() {
        let (d, ids) = doc("Text.\n");
        let gone = TextRange::caret(TextPos::new("nope", 0));
        assert_eq!(
            selected_text(&d, &gone),
            Err(TargetError::NoBlock("nope".into()))
        );
        let caret = TextRange::caret(TextPos::new(ids[0].clone(), 2));
        assert_eq!(
            replace_selection(&d, &caret, "x").map(|_| ()),
            Err(TargetError::Empty)
        );
        // Offsets past the end are clamped to the text.
        let wide = TextRange::new(
            TextPos::new(ids[0].clone(), 0),
            TextPos::new(ids[0].clone(), 99),
        );
        assert_eq!(selected_text(&d, &wide).expect("text"), "Text.");
    }
}
