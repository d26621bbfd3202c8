//! The awareness state Atelier publishes and reads (y-protocols awareness),
//! with the fields y-prosemirror uses so cursors show in both directions:
//! `user: {name, color}` and `cursor: {anchor, head}` as relative-position
//! JSON.

use crate::block::BlockId;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::sticky::StickyPos;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use yrs::Assoc;

/// Who a peer is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Display name.
    pub name: String,
    /// CSS colour of their caret and selection.
    pub color: String,
    /// Stable user id, when known (not read by BlockNote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A selection as two relative positions (JSON form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Where the selection started.
    pub anchor: Value,
    /// Where the caret is.
    pub head: Value,
}

/// One peer's awareness state. Unknown fields of other clients are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AwarenessState {
    /// The peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Their selection, if they have one in the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Whether they are typing in the chat composer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub typing: bool,
    /// Other fields, as other clients wrote them.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// A resolved remote selection: block and UTF-16 offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCursor {
    /// Block and offset of the anchor.
    pub anchor: (BlockId, u32),
    /// Block and offset of the head (caret).
    pub head: (BlockId, u32),
}

impl AwarenessState {
    /// Parses the JSON a peer published; malformed JSON is an error.
    pub fn from_json(json: &str) -> Result<Self> {
        let bad = |what: &str| Error::Malformed(format!("awareness state: {what}"));
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::Malformed(format!("awareness state: {e}")))?;
        let Value::Object(mut other) = v else {
            return Err(bad("not an object"));
        };
        let text = |o: &serde_json::Map<String, Value>, k: &str| -> Result<String> {
            match o.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(bad(k)),
            }
        };
        let user = match other.remove("user") {
            None | Some(Value::Null) => None,
            Some(Value::Object(u)) => Some(User {
                name: text(&u, "name")?,
                color: text(&u, "color")?,
                id: match u.get("id") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(_) => return Err(bad("user.id")),
                },
            }),
            Some(_) => return Err(bad("user")),
        };
        let cursor = match other.remove("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::Object(mut c)) => Some(Cursor {
                anchor: c.remove("anchor").ok_or_else(|| bad("cursor.anchor"))?,
                head: c.remove("head").ok_or_else(|| bad("cursor.head"))?,
            }),
            Some(_) => return Err(bad("cursor")),
        };
        let typing = match other.remove("typing") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(bad("typing")),
        };
        Ok(AwarenessState {
            user,
            cursor,
            typing,
            other,
        })
    }

    /// The JSON to publish.
    pub fn to_json(&self) -> String {
        let mut m = self.other.clone();
        if let Some(u) = &self.user {
            let mut o = serde_json::Map::new();
            o.insert("name".into(), Value::from(u.name.as_str()));
            o.insert("color".into(), Value::from(u.color.as_str()));
            if let Some(id) = &u.id {
                o.insert("id".into(), Value::from(id.as_str()));
            }
            m.insert("user".into(), Value::Object(o));
        }
        if let Some(c) = &self.cursor {
            let mut o = serde_json::Map::new();
            o.insert("anchor".into(), c.anchor.clone());
            o.insert("head".into(), c.head.clone());
            m.insert("cursor".into(), Value::Object(o));
        }
        if self.typing {
            m.insert("typing".into(), Value::Bool(true));
        }
        serde_json::to_string(&Value::Object(m)).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Sets the cursor from block offsets in `doc`.
    pub fn set_selection(
        &mut self,
        doc: &Document,
        anchor: (&BlockId, u32),
        head: (&BlockId, u32),
    ) -> Result<()> {
        let a = doc.sticky_at(anchor.0, anchor.1, Assoc::After)?;
        let h = doc.sticky_at(head.0, head.1, Assoc::After)?;
        self.cursor = Some(Cursor {
            anchor: a.to_json(),
            head: h.to_json(),
        });
        Ok(())
    }

    /// Where this peer's selection is now in `doc`, if it can be resolved.
    pub fn resolve_selection(&self, doc: &Document) -> Option<ResolvedCursor> {
        let c = self.cursor.as_ref()?;
        let anchor = doc.resolve_sticky(&StickyPos::from_json(&c.anchor).ok()?)?;
        let head = doc.resolve_sticky(&StickyPos::from_json(&c.head).ok()?)?;
        Some(ResolvedCursor { anchor, head })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewBlock, Placement};

    /// The hand-written JSON (kept out of the wasm's serde code) reads and
    /// writes exactly what the derived serde form does.
    #[test]
    fn hand_written_json_matches_the_derived_form() {
        let cases = [
            r##"{"user":{"name":"Zoé","color":"#30bced"},"foo":{"bar":1}}"##,
            r##"{"user":{"name":"A","color":"red","id":"u1","extra":2},"cursor":{"anchor":{"item":{"client":1,"clock":2},"assoc":0},"head":null},"typing":true}"##,
            r#"{"user":null,"cursor":null}"#,
            r#"{}"#,
            r#"{"typing":false,"n":1.5}"#,
            // Malformed: both refuse.
            r#"{"user":{"name":"A"}}"#,
            r#"{"user":"A"}"#,
            r#"{"cursor":{"anchor":1}}"#,
            r#"{"typing":null}"#,
            r#"{"typing":"yes"}"#,
            r#"[1,2]"#,
            r#"nope"#,
        ];
        for json in cases {
            let derived = serde_json::from_str::<AwarenessState>(json).ok();
            let hand = AwarenessState::from_json(json).ok();
            assert_eq!(hand, derived, "{json}");
            if let Some(state) = hand {
                let want = serde_json::to_value(&state).expect("derived json");
                let got: Value = serde_json::from_str(&state.to_json()).expect("hand json");
                assert_eq!(got, want, "{json}");
            }
        }
    }

    #[test]
    fn cursor_survives_remote_edits_and_keeps_foreign_fields() {
        let doc = Document::with_client_id(4);
        let ids = doc
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("abcdef")])
            .expect("insert");
        let json = r##"{"user":{"name":"Zoé","color":"#30bced"},"foo":{"bar":1}}"##;
        let mut st = AwarenessState::from_json(json).expect("parse");
        st.set_selection(&doc, (&ids[0], 1), (&ids[0], 4))
            .expect("select");
        let published = AwarenessState::from_json(&st.to_json()).expect("reparse");
        assert_eq!(published.other["foo"]["bar"], 1);
        doc.insert_text(&ids[0], 0, "XY").expect("edit");
        let r = published.resolve_selection(&doc).expect("resolves");
        assert_eq!(r.anchor, (ids[0].clone(), 3));
        assert_eq!(r.head, (ids[0].clone(), 6));
        assert!(AwarenessState::from_json("{").is_err());
    }
}
