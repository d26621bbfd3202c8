//! Copy and cut: the selected part of the document as clipboard data.
//!
//! [`serialize`] cuts the selection out of a snapshot of the block tree
//! (pure, tested natively); [`write`] puts it on the event's
//! `DataTransfer`. The MIME types are the ones BlockNote 0.55 writes for
//! other applications (`@blocknote/core`,
//! `src/api/clipboard/toClipboard/copyExtension.ts`, `copyToClipboard`):
//! - `text/html`: its "external HTML" — for a selection inside one block
//!   only the inline content, otherwise the blocks; here
//!   [`atelier_doc::html::inline_html`] and [`atelier_doc::html::export`],
//!   which every paste reader (ours is `atelier_doc::html::sanitize_paste`)
//!   understands;
//! - `text/plain`: Markdown, except that a selection inside one code block
//!   gives its raw text.
//!
//! Two of BlockNote's choices are deliberately not copied. Its own
//! `blocknote/html` is ProseMirror's internal serialization, which BlockNote
//! parses with its internal rules; imitating it would couple us to its DOM.
//! And `text/markdown` is never written by BlockNote, but its paste handler
//! (`fromClipboard/pasteExtension.ts`, order in `acceptedMIMETypes.ts`)
//! prefers it to `text/html`, so writing it would make BlockNote drop the
//! underline and colours that only the HTML carries. With `text/html` +
//! `text/plain`, pasting our data into BlockNote goes down the same path as
//! pasting BlockNote's data into another application.

use crate::session::{Pos, Selection};
use atelier_doc::schema::{block_type, has_inline_content};
use atelier_doc::{Block, Document, InlineRun};

/// What a copy or cut puts on the clipboard (BlockNote's MIME types).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClipboardPayload {
    /// `text/html`: escaped HTML of the selected blocks, or of the selected
    /// inline content when the selection lies inside one block.
    pub html: String,
    /// `text/plain`: the same slice as Markdown, or the raw text when the
    /// selection lies inside one code block.
    pub text: String,
}

impl ClipboardPayload {
    /// Whether there is nothing to put on the clipboard.
    pub fn is_empty(&self) -> bool {
        self.html.is_empty() && self.text.is_empty()
    }
}

/// The selected part of `doc` as clipboard data. A selection whose blocks
/// are gone (a stale selection after a peer's change) gives an empty
/// payload.
pub fn serialize(doc: &Document, sel: &Selection) -> ClipboardPayload {
    let blocks = doc.blocks();
    // Reading order is taken from the same snapshot (depth-first, the order
    // of `Document::block_ids`), so indices and blocks always agree.
    let mut order = Vec::new();
    for b in &blocks {
        b.walk(&mut |b, _| order.push(b));
    }
    let index = |p: &Pos| order.iter().position(|b| b.id == p.block);
    let (Some(a), Some(f)) = (index(&sel.anchor), index(&sel.focus)) else {
        return ClipboardPayload::default();
    };
    let anchor_first = a < f || (a == f && sel.anchor.offset <= sel.focus.offset);
    let (start, end) = if anchor_first {
        ((a, sel.anchor.offset), (f, sel.focus.offset))
    } else {
        ((f, sel.focus.offset), (a, sel.anchor.offset))
    };
    if start.0 == end.0
        && let Some(block) = order.get(start.0).filter(|b| has_inline_content(&b.kind))
    {
        return inline_payload(block, start.1, end.1);
    }
    let cut = Cut { start, end };
    let mut next = 0;
    let mut slice = Vec::new();
    cut.keep(&blocks, &mut next, &mut slice);
    if slice.is_empty() {
        return ClipboardPayload::default();
    }
    ClipboardPayload {
        html: atelier_doc::html::export(&slice),
        text: atelier_doc::markdown::export(&slice),
    }
}

/// A selection inside one text block: its inline content only, so pasting
/// a word copied from a heading does not make a heading.
fn inline_payload(block: &Block, from: u32, to: u32) -> ClipboardPayload {
    let runs = slice_runs(&block.content, from, to);
    if runs.is_empty() {
        return ClipboardPayload::default();
    }
    let text = if block.kind == block_type::CODE_BLOCK {
        runs.iter().map(|r| r.text.as_str()).collect()
    } else {
        // A paragraph's Markdown escapes line-start syntax and writes hard
        // breaks as `\` + newline; a fragment has no final newline.
        let para = Block {
            id: block.id.clone(),
            kind: block_type::PARAGRAPH.to_owned(),
            props: Default::default(),
            content: runs.clone(),
            table: None,
            children: Vec::new(),
        };
        let md = atelier_doc::markdown::export(std::slice::from_ref(&para));
        md.strip_suffix('\n').unwrap_or(&md).to_owned()
    };
    ClipboardPayload {
        html: atelier_doc::html::inline_html(&runs),
        text,
    }
}

/// The selected range as (reading-order index, UTF-16 offset) of its two
/// ends, start first.
struct Cut {
    start: (usize, u32),
    end: (usize, u32),
}

impl Cut {
    /// Appends to `out` the part of `blocks` inside the cut; `next` counts
    /// blocks in reading order. A block outside the cut whose descendants
    /// are inside (an ancestor of the first block) gives way to them, one
    /// level up, so they keep their own nesting.
    fn keep(&self, blocks: &[Block], next: &mut usize, out: &mut Vec<Block>) {
        for b in blocks {
            let i = *next;
            *next += 1;
            let mut children = Vec::new();
            self.keep(&b.children, next, &mut children);
            if i < self.start.0 || i > self.end.0 {
                out.extend(children);
                continue;
            }
            let mut content = b.content.clone();
            if has_inline_content(&b.kind) {
                let from = if i == self.start.0 { self.start.1 } else { 0 };
                let to = if i == self.end.0 {
                    self.end.1
                } else {
                    u32::MAX
                };
                content = slice_runs(&b.content, from, to);
                // A boundary block with nothing selected in it (the
                // selection starts at its end or stops at its start) is not
                // part of what the user sees selected.
                if content.is_empty() && (i == self.start.0 || i == self.end.0) {
                    out.extend(children);
                    continue;
                }
            }
            out.push(Block {
                id: b.id.clone(),
                kind: b.kind.clone(),
                props: b.props.clone(),
                content,
                table: b.table.clone(),
                children,
            });
        }
    }
}

/// The part of `runs` between two UTF-16 offsets, marks kept. A character
/// the range only partly covers (an offset inside a surrogate pair) is
/// kept whole, so the slice is always valid text.
fn slice_runs(runs: &[InlineRun], from: u32, to: u32) -> Vec<InlineRun> {
    let mut out: Vec<InlineRun> = Vec::new();
    let mut pos = 0u32;
    for run in runs {
        let mut text = String::new();
        for c in run.text.chars() {
            let next = pos + c.len_utf16() as u32;
            if pos < to && next > from {
                text.push(c);
            }
            pos = next;
        }
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.marks == run.marks => last.text.push_str(&text),
            _ => out.push(InlineRun::styled(text, run.marks.clone())),
        }
        if pos >= to {
            break;
        }
    }
    out
}

/// Puts a payload on the `DataTransfer` of a copy or cut event, replacing
/// whatever was there (as BlockNote does). An empty payload is refused
/// with `Err` before `data` is touched, so the caller leaves the event to
/// the browser rather than emptying the clipboard.
pub fn write(
    data: &web_sys::DataTransfer,
    payload: &ClipboardPayload,
) -> Result<(), wasm_bindgen::JsValue> {
    if payload.is_empty() {
        return Err(wasm_bindgen::JsValue::from_str("nothing selected to copy"));
    }
    data.clear_data()?;
    data.set_data("text/html", &payload.html)?;
    data.set_data("text/plain", &payload.text)?;
    Ok(())
}

#[cfg(test)]
#[path = "clipboard_tests.rs"]
mod tests;
