//! Inline content of one block: the children of its content node.
//!
//! BlockNote stores a block's text as a sequence of `Y.XmlText` nodes and
//! inline elements (a line break is a `hardBreak` element between two texts).
//! This module gives that sequence one offset space: each text counts its
//! UTF-16 units, each inline element counts one. Every function here works
//! inside a caller's transaction.

use crate::block::{InlineRun, Marks, any_to_json, json_to_any};
use crate::error::{Error, Result};
use crate::schema::{HARD_BREAK, mark};
use std::collections::HashMap;
use std::sync::Arc;
use yrs::types::Attrs;
use yrs::types::text::YChange;
use yrs::{
    Any, Out, ReadTxn, Text, TransactionMut, XmlElementPrelim, XmlElementRef, XmlFragment, XmlOut,
    XmlTextPrelim, XmlTextRef,
};

/// The character an unknown inline element reads as.
pub const OBJECT_REPLACEMENT: char = '\u{FFFC}';

/// One child of a content node, with its length in the block's offset space.
enum Segment {
    Text(XmlTextRef, u32),
    Element(XmlElementRef),
}

impl Segment {
    fn len(&self) -> u32 {
        match self {
            Segment::Text(_, len) => *len,
            Segment::Element(_) => 1,
        }
    }
}

fn segments<T: ReadTxn>(txn: &T, content: &XmlElementRef) -> Vec<Segment> {
    content
        .children(txn)
        .filter_map(|child| match child {
            XmlOut::Text(t) => {
                let len = t.len(txn);
                Some(Segment::Text(t, len))
            }
            XmlOut::Element(e) => Some(Segment::Element(e)),
            XmlOut::Fragment(_) => None,
        })
        .collect()
}

/// Length of a block's inline content in its offset space.
pub fn len<T: ReadTxn>(txn: &T, content: &XmlElementRef) -> u32 {
    segments(txn, content).iter().map(Segment::len).sum()
}

/// Reads a content node's inline content as runs of equal marks.
pub fn read_runs<T: ReadTxn>(txn: &T, content: &XmlElementRef) -> Vec<InlineRun> {
    let mut runs: Vec<InlineRun> = Vec::new();
    let mut push = |text: &str, marks: Marks| {
        if text.is_empty() {
            return;
        }
        match runs.last_mut() {
            Some(last) if last.marks == marks => last.text.push_str(text),
            _ => runs.push(InlineRun::styled(text, marks)),
        }
    };
    for seg in segments(txn, content) {
        match seg {
            Segment::Text(t, _) => {
                for d in t.diff(txn, YChange::identity) {
                    let marks = d
                        .attributes
                        .as_deref()
                        .map(attrs_to_marks)
                        .unwrap_or_default();
                    match d.insert {
                        Out::Any(Any::String(s)) => push(&s, marks),
                        _ => push(&OBJECT_REPLACEMENT.to_string(), marks),
                    }
                }
            }
            Segment::Element(e) => {
                if e.tag().as_ref() == HARD_BREAK {
                    push("\n", Marks::default());
                } else {
                    push(&OBJECT_REPLACEMENT.to_string(), Marks::default());
                }
            }
        }
    }
    runs
}

/// The plain text of a content node (hard breaks as `\n`).
pub fn plain_text<T: ReadTxn>(txn: &T, content: &XmlElementRef) -> String {
    let mut out = String::new();
    for seg in segments(txn, content) {
        match seg {
            // Not `get_string`: for an XmlText yrs renders formatting as XML
            // tags, which are not part of the text.
            Segment::Text(t, _) => {
                for d in t.diff(txn, YChange::identity) {
                    match d.insert {
                        Out::Any(Any::String(s)) => out.push_str(&s),
                        _ => out.push(OBJECT_REPLACEMENT),
                    }
                }
            }
            Segment::Element(e) if e.tag().as_ref() == HARD_BREAK => out.push('\n'),
            Segment::Element(_) => out.push(OBJECT_REPLACEMENT),
        }
    }
    out
}

/// Converts y-prosemirror mark attributes to [`Marks`].
pub fn attrs_to_marks(attrs: &Attrs) -> Marks {
    let mut m = Marks::default();
    for (key, value) in attrs {
        if matches!(value, Any::Null | Any::Undefined) {
            continue;
        }
        let inner = |field: &str| match value {
            Any::Map(map) => match map.get(field) {
                Some(Any::String(s)) => Some(s.to_string()),
                _ => None,
            },
            _ => None,
        };
        match key.as_ref() {
            mark::BOLD => m.bold = true,
            mark::ITALIC => m.italic = true,
            mark::UNDERLINE => m.underline = true,
            mark::STRIKE => m.strike = true,
            mark::CODE => m.code = true,
            mark::TEXT_COLOR => m.text_color = inner("stringValue"),
            mark::BACKGROUND_COLOR => m.background_color = inner("stringValue"),
            mark::LINK => m.link = inner("href"),
            other => {
                if let Some(v) = any_to_json(value) {
                    m.other.insert(other.to_owned(), v);
                }
            }
        }
    }
    m
}

fn empty_map() -> Any {
    Any::from(HashMap::<String, Any>::new())
}

fn field_map(field: &str, value: &str) -> Any {
    Any::from(HashMap::from([(field.to_owned(), Any::from(value))]))
}

/// Converts [`Marks`] to the attributes y-prosemirror writes.
pub fn marks_to_attrs(m: &Marks) -> Attrs {
    let mut a = Attrs::new();
    let flags = [
        (m.bold, mark::BOLD),
        (m.italic, mark::ITALIC),
        (m.underline, mark::UNDERLINE),
        (m.strike, mark::STRIKE),
        (m.code, mark::CODE),
    ];
    for (on, name) in flags {
        if on {
            a.insert(Arc::from(name), empty_map());
        }
    }
    if let Some(c) = &m.text_color {
        a.insert(Arc::from(mark::TEXT_COLOR), field_map("stringValue", c));
    }
    if let Some(c) = &m.background_color {
        a.insert(
            Arc::from(mark::BACKGROUND_COLOR),
            field_map("stringValue", c),
        );
    }
    // Never written unsafe, whatever path the runs came by (operations
    // refuse one with a reason first; see agent_ops.rs).
    if let Some(href) = m.link.as_ref().filter(|h| crate::sanitize::is_safe_href(h)) {
        a.insert(Arc::from(mark::LINK), field_map("href", href));
    }
    for (k, v) in &m.other {
        a.insert(Arc::from(k.as_str()), json_to_any(v));
    }
    a
}

/// One mark to set or clear over a range.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mark", content = "value", rename_all = "camelCase")]
pub enum Mark {
    /// Bold.
    Bold,
    /// Italic.
    Italic,
    /// Underline.
    Underline,
    /// Strike-through.
    Strike,
    /// Inline code.
    Code,
    /// Text colour name.
    TextColor(String),
    /// Background colour name.
    BackgroundColor(String),
    /// Link target (only `http`, `https` and `mailto` are accepted).
    Link(String),
}

impl Mark {
    /// The attribute name and value that set this mark.
    pub(crate) fn attr(&self) -> Result<(&'static str, Any)> {
        Ok(match self {
            Mark::Bold => (mark::BOLD, empty_map()),
            Mark::Italic => (mark::ITALIC, empty_map()),
            Mark::Underline => (mark::UNDERLINE, empty_map()),
            Mark::Strike => (mark::STRIKE, empty_map()),
            Mark::Code => (mark::CODE, empty_map()),
            Mark::TextColor(c) => (mark::TEXT_COLOR, field_map("stringValue", c)),
            Mark::BackgroundColor(c) => (mark::BACKGROUND_COLOR, field_map("stringValue", c)),
            Mark::Link(href) => {
                check_link(href)?;
                (mark::LINK, field_map("href", href))
            }
        })
    }
}

/// Refuses a link target other than `http`, `https`, `mailto` or relative.
pub(crate) fn check_link(href: &str) -> Result<()> {
    if crate::sanitize::is_safe_href(href) {
        Ok(())
    } else {
        Err(Error::InvalidOperation(format!(
            "link target \"{href}\" is not an http, https or mailto URL"
        )))
    }
}

/// Checks that `offset..offset+count` lies inside a block of length `len`.
fn check_range(offset: u32, count: u32, len: u32) -> Result<()> {
    match offset.checked_add(count) {
        Some(end) if end <= len => Ok(()),
        _ => Err(Error::OutOfRange {
            pos: offset.saturating_add(count),
            len,
        }),
    }
}

/// Inserts `text` at `offset`. With `marks: None` the text takes the marks of
/// what precedes it (as typing does); with `Some`, exactly those marks.
/// A `\n` becomes a `hardBreak` element unless `newlines_are_text` (code blocks).
pub fn insert(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    offset: u32,
    text: &str,
    marks: Option<&Marks>,
    newlines_are_text: bool,
) -> Result<()> {
    check_range(offset, 0, len(txn, content))?;
    if newlines_are_text || !text.contains('\n') {
        return insert_plain(txn, content, offset, text, marks);
    }
    let mut at = offset;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            insert_element(txn, content, at, HARD_BREAK)?;
            at += 1;
        }
        insert_plain(txn, content, at, line, marks)?;
        at += utf16_len(line);
    }
    Ok(())
}

/// Length of a string in UTF-16 units.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

fn insert_plain(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    offset: u32,
    text: &str,
    marks: Option<&Marks>,
) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let segs = segments(txn, content);
    // Prefer the text that ends at or contains the offset, so typing at the
    // end of a run continues it; then a text that starts right there.
    let mut start = 0u32;
    let mut target: Option<(XmlTextRef, u32)> = None;
    let mut child_index = segs.len() as u32;
    for (i, seg) in segs.iter().enumerate() {
        let end = start + seg.len();
        if let Segment::Text(t, _) = seg
            && offset >= start
            && offset <= end
        {
            target = Some((t.clone(), offset - start));
            break;
        }
        if offset <= start {
            child_index = i as u32;
            break;
        }
        start = end;
    }
    let (t, local) = match target {
        Some(found) => found,
        None => (content.insert(txn, child_index, XmlTextPrelim::new("")), 0),
    };
    match marks {
        None => t.insert(txn, local, text),
        Some(m) => t.insert_with_attributes(txn, local, text, marks_to_attrs(m)),
    }
    Ok(())
}

/// Inserts an empty inline element (e.g. `hardBreak`) at `offset`, splitting a
/// text node if the offset falls inside one.
pub fn insert_element(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    offset: u32,
    tag: &str,
) -> Result<()> {
    check_range(offset, 0, len(txn, content))?;
    let segs = segments(txn, content);
    let mut start = 0u32;
    let mut child_index = segs.len() as u32;
    for (i, seg) in segs.iter().enumerate() {
        let end = start + seg.len();
        if offset == start {
            child_index = i as u32;
            break;
        }
        if offset < end {
            // Strictly inside a text: split it.
            if let Segment::Text(t, _) = seg {
                let tail = copy_delta(txn, t, offset - start);
                t.remove_range(txn, offset - start, end - offset);
                content.insert(txn, i as u32 + 1, XmlElementPrelim::empty(tag));
                let new_text = content.insert(txn, i as u32 + 2, XmlTextPrelim::new(""));
                write_delta(txn, &new_text, 0, &tail);
                return Ok(());
            }
        }
        start = end;
    }
    content.insert(txn, child_index, XmlElementPrelim::empty(tag));
    Ok(())
}

/// Deletes `count` units starting at `offset`.
pub fn delete(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    offset: u32,
    count: u32,
) -> Result<()> {
    let segs = segments(txn, content);
    check_range(offset, count, segs.iter().map(Segment::len).sum())?;
    if count == 0 {
        return Ok(());
    }
    let end = offset + count;
    // Walk backwards so child indices stay valid while removing.
    let mut starts = Vec::with_capacity(segs.len());
    let mut s = 0;
    for seg in &segs {
        starts.push(s);
        s += seg.len();
    }
    for (i, seg) in segs.iter().enumerate().rev() {
        let seg_start = starts[i];
        let seg_end = seg_start + seg.len();
        let lo = offset.max(seg_start);
        let hi = end.min(seg_end);
        if lo >= hi {
            continue;
        }
        match seg {
            Segment::Text(t, _) => t.remove_range(txn, lo - seg_start, hi - lo),
            Segment::Element(_) => content.remove_range(txn, i as u32, 1),
        }
    }
    Ok(())
}

/// Sets (`on`) or clears a mark over `offset..offset+count`.
pub fn format(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    offset: u32,
    count: u32,
    mark: &Mark,
    on: bool,
) -> Result<()> {
    let segs = segments(txn, content);
    check_range(offset, count, segs.iter().map(Segment::len).sum())?;
    let (name, value) = mark.attr()?;
    let value = if on { value } else { Any::Null };
    let end = offset + count;
    let mut start = 0;
    for seg in &segs {
        let seg_end = start + seg.len();
        let lo = offset.max(start);
        let hi = end.min(seg_end);
        if let (Segment::Text(t, _), true) = (seg, lo < hi) {
            let attrs = Attrs::from([(Arc::from(name), value.clone())]);
            t.format(txn, lo - start, hi - lo, attrs);
        }
        start = seg_end;
    }
    Ok(())
}

/// A piece of formatted text copied out of a node, to be written elsewhere.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    text: String,
    attrs: Attrs,
}

/// Copies the delta of `t` from UTF-16 offset `from` to its end.
fn copy_delta<T: ReadTxn>(txn: &T, t: &XmlTextRef, from: u32) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut pos = 0u32;
    for d in t.diff(txn, YChange::identity) {
        let text = match d.insert {
            Out::Any(Any::String(s)) => s.to_string(),
            _ => OBJECT_REPLACEMENT.to_string(),
        };
        let n = utf16_len(&text);
        if pos + n > from {
            let skip = from.saturating_sub(pos);
            let text = slice_utf16(&text, skip);
            out.push(Chunk {
                text,
                attrs: d.attributes.map(|a| *a).unwrap_or_default(),
            });
        }
        pos += n;
    }
    out
}

/// The suffix of `s` after `skip` UTF-16 units.
fn slice_utf16(s: &str, skip: u32) -> String {
    let mut units = 0u32;
    for (i, c) in s.char_indices() {
        if units >= skip {
            return s[i..].to_owned();
        }
        units += c.len_utf16() as u32;
    }
    String::new()
}

/// Writes chunks into `t` at `offset` with exactly their attributes.
fn write_delta(txn: &mut TransactionMut, t: &XmlTextRef, offset: u32, chunks: &[Chunk]) {
    let mut at = offset;
    for c in chunks {
        t.insert_with_attributes(txn, at, &c.text, c.attrs.clone());
        at += utf16_len(&c.text);
    }
}

/// Copies the whole inline content of `content` from `from` to the end, as
/// chunks (inline elements become their own entries).
pub(crate) fn copy_tail<T: ReadTxn>(txn: &T, content: &XmlElementRef, from: u32) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut start = 0u32;
    for seg in segments(txn, content) {
        let end = start + seg.len();
        if end > from {
            match &seg {
                Segment::Text(t, _) => {
                    out.push(Piece::Text(copy_delta(txn, t, from.saturating_sub(start))));
                }
                Segment::Element(e) => out.push(Piece::Element(e.tag().to_string())),
            }
        }
        start = end;
    }
    out
}

/// A run of inline content: formatted text or an empty inline element.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(Vec<Chunk>),
    Element(String),
}

/// Appends pieces at the end of `content`.
pub(crate) fn append_pieces(txn: &mut TransactionMut, content: &XmlElementRef, pieces: &[Piece]) {
    for p in pieces {
        match p {
            Piece::Text(chunks) => {
                if chunks.iter().all(|c| c.text.is_empty()) {
                    continue;
                }
                // Continue the last text node if there is one, as ProseMirror
                // would merge adjacent text.
                let n = content.len(txn);
                let t = match content.get(txn, n.saturating_sub(1)) {
                    Some(XmlOut::Text(t)) if n > 0 => t,
                    _ => content.insert(txn, n, XmlTextPrelim::new("")),
                };
                let at = t.len(txn);
                write_delta(txn, &t, at, chunks);
            }
            Piece::Element(tag) => {
                let n = content.len(txn);
                content.insert(txn, n, XmlElementPrelim::empty(tag.as_str()));
            }
        }
    }
}

/// Writes runs (from the read model or an importer) at the end of `content`.
pub(crate) fn append_runs(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    runs: &[InlineRun],
    newlines_are_text: bool,
) -> Result<()> {
    for run in runs {
        let at = len(txn, content);
        insert(
            txn,
            content,
            at,
            &run.text,
            Some(&run.marks),
            newlines_are_text,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_slicing_respects_surrogates() {
        assert_eq!(slice_utf16("a😀b", 1), "😀b");
        assert_eq!(slice_utf16("a😀b", 3), "b");
        assert_eq!(slice_utf16("ab", 5), "");
    }

    #[test]
    fn marks_round_trip_through_attrs() {
        let m = Marks {
            bold: true,
            text_color: Some("red".into()),
            link: Some("https://example.org".into()),
            ..Default::default()
        };
        assert_eq!(attrs_to_marks(&marks_to_attrs(&m)), m);
    }

    #[test]
    fn plain_text_of_formatted_text_has_no_markup() {
        let d = crate::Document::with_client_id(1);
        let ids = d
            .insert_blocks(
                &crate::Placement::End,
                &[crate::NewBlock::paragraph("a😀b")],
            )
            .expect("insert");
        d.format_text(&ids[0], 1, 2, &Mark::TextColor("red".into()), true)
            .expect("format");
        assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("a😀b"));
    }

    #[test]
    fn range_checks_do_not_overflow() {
        assert!(check_range(u32::MAX, 2, 10).is_err());
        assert!(check_range(3, 2, 5).is_ok());
        assert!(check_range(4, 2, 5).is_err());
    }
}
