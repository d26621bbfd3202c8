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
        use serde_json::{Map, Value};
        fn id(id: &yrs::ID) -> Value {
            let mut m = Map::new();
            m.insert("client".into(), Value::from(id.client.get()));
            m.insert("clock".into(), Value::from(id.clock));
            Value::Object(m)
        }
        let mut m = Map::new();
        match self.0.scope() {
            yrs::IndexScope::Relative(i) => m.insert("item".into(), id(i)),
            yrs::IndexScope::Nested(i) => m.insert("type".into(), id(i)),
            yrs::IndexScope::Root(name) => m.insert("tname".into(), Value::from(&**name)),
        };
        m.insert("assoc".into(), Value::from(self.0.assoc as i8));
        Value::Object(m)
    }

    /// Reads the JSON form.
    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        use serde_json::Value;
        let bad = || Error::Malformed("sticky position".to_owned());
        fn id(v: &Value) -> Option<yrs::ID> {
            let o = v.as_object()?;
            let client = o.get("client")?.as_u64()?;
            let clock = u32::try_from(o.get("clock")?.as_u64()?).ok()?;
            Some(yrs::ID::new(yrs::ClientID::new(client), clock))
        }
        let o = v.as_object().ok_or_else(bad)?;
        if o.keys()
            .any(|k| !matches!(k.as_str(), "item" | "type" | "tname" | "assoc"))
        {
            return Err(bad());
        }
        let scope = match (o.get("item"), o.get("tname"), o.get("type")) {
            (Some(i), _, _) if !i.is_null() => yrs::IndexScope::Relative(id(i).ok_or_else(bad)?),
            (_, Some(Value::String(n)), _) => yrs::IndexScope::Root(n.as_str().into()),
            (_, _, Some(t)) if !t.is_null() => yrs::IndexScope::Nested(id(t).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let assoc = match o.get("assoc").and_then(Value::as_i64) {
            None | Some(0) => Assoc::After,
            Some(-1) => Assoc::Before,
            Some(_) => return Err(bad()),
        };
        Ok(StickyPos(StickyIndex::new(scope, assoc)))
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

    /// The hand-written JSON (kept out of the wasm's serde code) is yrs'
    /// serde form (Yjs `relativePositionToJSON`), both ways.
    #[test]
    fn hand_written_json_matches_yrs_serde_form() {
        let a = Document::with_client_id(3);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("abc")])
            .expect("insert");
        let positions = [
            a.sticky_at(&ids[0], 1, Assoc::After).expect("sticky"),
            a.sticky_at(&ids[0], 3, Assoc::Before).expect("sticky"),
            a.sticky_at(&ids[0], 0, Assoc::After).expect("sticky"),
            StickyPos(StickyIndex::new(
                yrs::IndexScope::Root("document-store".into()),
                Assoc::Before,
            )),
            StickyPos(StickyIndex::new(
                yrs::IndexScope::Nested(yrs::ID::new(yrs::ClientID::new(9), 4)),
                Assoc::After,
            )),
        ];
        for p in positions {
            let serde_form = serde_json::to_value(&p.0).expect("serde");
            assert_eq!(p.to_json(), serde_form);
            let back = StickyPos::from_json(&serde_form).expect("reads");
            assert_eq!(back.0, p.0);
        }
        for bad in [
            serde_json::json!({"item": {"client": 1}}),
            serde_json::json!({"assoc": 0}),
            serde_json::json!({"tname": "x", "assoc": 3}),
            serde_json::json!({"tname": "x", "other": 1}),
            serde_json::json!("x"),
        ] {
            assert!(StickyPos::from_json(&bad).is_err(), "{bad}");
            assert!(
                serde_json::from_value::<StickyIndex>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

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
