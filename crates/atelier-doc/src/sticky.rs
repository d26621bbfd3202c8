//! Sticky (relative) positions in block text: they follow the text they
//! point at through concurrent edits. Cursors in awareness and comment
//! anchors use them; their JSON form is the one Yjs' `relativePositionToJSON`
//! writes, which y-prosemirror reads.

use crate::block::BlockId;
use crate::document::{Document, container_id, content_node};
use crate::error::{Error, Result};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Assoc, IndexedSequence, StickyIndex, Text, Transact, Xml, XmlFragment, XmlOut};

/// A position that sticks to the text around it.
#[derive(Debug, Clone, PartialEq)]
pub struct StickyPos(pub StickyIndex);

impl StickyPos {
    /// Binary form (Yjs `encodeRelativePosition`).
    pub fn encode(&self) -> Vec<u8> {
        self.0.encode_v1()
    }

    /// Reads the binary form; malformed bytes are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        StickyIndex::decode_v1(bytes)
            .map(StickyPos)
            .map_err(|e| Error::Malformed(format!("sticky position: {e}")))
    }

    /// JSON form (Yjs `relativePositionToJSON`), as in awareness cursors.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// Reads the JSON form.
    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        serde_json::from_value(v.clone())
            .map(StickyPos)
            .map_err(|e| Error::Malformed(format!("sticky position: {e}")))
    }
}

impl Document {
    /// A sticky position at a UTF-16 offset of a block's text. `Assoc::After`
    /// sticks to the character after the offset (a caret before typed text
    /// stays before it), `Assoc::Before` to the one before.
    pub fn sticky_at(&self, id: &BlockId, offset: u32, assoc: Assoc) -> Result<StickyPos> {
        let txn = self.ydoc().transact();
        let loc = self.locate(&txn, id)?;
        let content = content_node(&txn, &loc.container)
            .ok_or_else(|| Error::InvalidOperation(format!("block {id} has no content node")))?;
        let mut start = 0u32;
        let mut last_text = None;
        for child in content.children(&txn) {
            if let XmlOut::Text(t) = child {
                let len = t.len(&txn);
                if offset <= start + len {
                    // At the very end with `After`, yrs has no character to
                    // stick to: like Yjs, stick to the end of the text itself.
                    let index = t
                        .sticky_index(&txn, offset - start, assoc)
                        .unwrap_or_else(|| StickyIndex::from_type(&txn, &t, Assoc::After));
                    return Ok(StickyPos(index));
                }
                start += len;
                last_text = Some(t);
            } else {
                start += 1;
            }
        }
        if offset > start {
            return Err(Error::OutOfRange {
                pos: offset,
                len: start,
            });
        }
        match last_text {
            // The offset follows an inline element at the end: stick to the end.
            Some(t) => {
                let len = t.len(&txn);
                t.sticky_index(&txn, len, Assoc::Before)
                    .map(StickyPos)
                    .ok_or(Error::OutOfRange { pos: offset, len })
            }
            // An empty block: stick to the content node itself.
            None => content
                .sticky_index(&txn, 0, Assoc::Before)
                .map(StickyPos)
                .ok_or(Error::OutOfRange {
                    pos: offset,
                    len: 0,
                }),
        }
    }

    /// Where a sticky position is now: its block and UTF-16 offset, or `None`
    /// if the text it pointed into was deleted with its block.
    pub fn resolve_sticky(&self, pos: &StickyPos) -> Option<(BlockId, u32)> {
        let txn = self.ydoc().transact();
        let offset = pos.0.get_offset(&txn)?;
        let node = XmlOut::try_from(offset.branch).ok()?;
        let (content, local_of) = match &node {
            XmlOut::Text(t) => match t.parent()? {
                XmlOut::Element(e) => (e, Some(t.clone())),
                _ => return None,
            },
            XmlOut::Element(e) => (e.clone(), None),
            XmlOut::Fragment(_) => return None,
        };
        let XmlOut::Element(container) = content.parent()? else {
            return None;
        };
        // The content node must still be the block's live content node.
        if content_node(&txn, &container).as_ref() != Some(&content) {
            return None;
        }
        let id = container_id(&txn, &container)?;
        let Some(text_ptr) = local_of else {
            return Some((BlockId(id), 0));
        };
        let mut start = 0u32;
        for child in content.children(&txn) {
            match child {
                XmlOut::Text(t) if t == text_ptr => {
                    return Some((BlockId(id), start + offset.index));
                }
                XmlOut::Text(t) => start += t.len(&txn),
                _ => start += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewBlock, Placement};

    #[test]
    fn positions_follow_concurrent_edits() {
        let a = Document::with_client_id(1);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("hello world")])
            .expect("insert");
        let pos = a.sticky_at(&ids[0], 6, Assoc::After).expect("sticky");
        let b = Document::from_update_v1(&a.encode_state_v1()).expect("load");
        b.insert_text(&ids[0], 0, "¡😀 ").expect("remote insert");
        a.apply_update_v1(&b.encode_state_v1()).expect("sync");
        assert_eq!(a.resolve_sticky(&pos), Some((ids[0].clone(), 10)));
        let again = StickyPos::decode(&pos.encode()).expect("decode");
        assert_eq!(b.resolve_sticky(&again), Some((ids[0].clone(), 10)));
        let via_json = StickyPos::from_json(&pos.to_json()).expect("json");
        assert_eq!(b.resolve_sticky(&via_json), Some((ids[0].clone(), 10)));
    }

    #[test]
    fn a_caret_at_the_end_follows_appended_text() {
        let a = Document::with_client_id(3);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("ab")])
            .expect("insert");
        let pos = a.sticky_at(&ids[0], 2, Assoc::After).expect("end position");
        a.insert_text(&ids[0], 2, "cd").expect("append");
        assert_eq!(a.resolve_sticky(&pos), Some((ids[0].clone(), 4)));
    }

    #[test]
    fn json_form_matches_yjs() {
        let a = Document::with_client_id(9);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("ab")])
            .expect("insert");
        let pos = a.sticky_at(&ids[0], 1, Assoc::After).expect("sticky");
        let json = pos.to_json();
        assert_eq!(json["item"]["client"], 9);
        assert_eq!(json["assoc"], 0);
    }

    #[test]
    fn empty_blocks_and_bad_input() {
        let a = Document::with_client_id(2);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("")])
            .expect("insert");
        let pos = a.sticky_at(&ids[0], 0, Assoc::After).expect("sticky");
        assert_eq!(a.resolve_sticky(&pos), Some((ids[0].clone(), 0)));
        assert!(a.sticky_at(&ids[0], 1, Assoc::After).is_err());
        assert!(StickyPos::decode(&[0xff]).is_err());
        a.delete_block(&ids[0]).expect("delete");
        assert_eq!(a.resolve_sticky(&pos), None);
    }
}
