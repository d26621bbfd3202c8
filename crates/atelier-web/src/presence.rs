//! Presence: the local awareness state to publish and the remote peers to
//! show, in the y-prosemirror shape (`user: {name, color}`,
//! `cursor: {anchor, head}` as relative positions) that BlockNote reads.

use atelier_doc::awareness::AwarenessState;
use atelier_doc::{BlockId, Document, awareness::User};
use serde::Serialize;

/// Caret colours handed out by client id when the host gives none
/// (readable on light and dark backgrounds).
const PALETTE: &[&str] = &[
    "#30bced", "#6eeb83", "#ffbc42", "#ee6352", "#9ac2c9", "#8acb88", "#1be7ff", "#c57b57",
];

/// A colour for `client_id` from a fixed palette.
pub fn color_for(client_id: u64) -> &'static str {
    let i = usize::try_from(client_id % PALETTE.len() as u64).unwrap_or(0);
    PALETTE.get(i).copied().unwrap_or("#30bced")
}

/// A (block, UTF-16 offset) position in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerPos {
    /// The block id.
    pub block: String,
    /// UTF-16 offset in the block's text.
    pub offset: u32,
}

/// A remote selection resolved in the local document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerCursor {
    /// Where the selection started.
    pub anchor: PeerPos,
    /// Where the caret is.
    pub head: PeerPos,
}

/// One remote peer as widgets show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    /// The peer's awareness client id.
    pub client_id: u64,
    /// Display name ("" when the peer published none).
    pub name: String,
    /// CSS colour (from the palette when the peer published none).
    pub color: String,
    /// The peer's selection, when it has one that resolves here.
    pub cursor: Option<PeerCursor>,
}

/// Builds the peers from `(client id, awareness JSON)` pairs; states that do
/// not parse are skipped (a peer's bytes never fail the caller).
pub fn peers<'a>(states: impl IntoIterator<Item = (u64, &'a str)>, doc: &Document) -> Vec<Peer> {
    states
        .into_iter()
        .filter_map(|(client_id, json)| {
            let state = AwarenessState::from_json(json).ok()?;
            let cursor = state.resolve_selection(doc).map(|c| PeerCursor {
                anchor: PeerPos {
                    block: c.anchor.0.0,
                    offset: c.anchor.1,
                },
                head: PeerPos {
                    block: c.head.0.0,
                    offset: c.head.1,
                },
            });
            let (name, color) = match state.user {
                Some(User { name, color, .. }) if is_css_color(&color) => (name, color),
                Some(User { name, .. }) => (name, color_for(client_id).to_owned()),
                None => (String::new(), color_for(client_id).to_owned()),
            };
            Some(Peer {
                client_id,
                name,
                color,
                cursor,
            })
        })
        .collect()
}

/// Accepts only `#rgb`/`#rrggbb(aa)` colours, so a peer cannot inject CSS.
fn is_css_color(s: &str) -> bool {
    s.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A selection as (anchor, head), each a block and a UTF-16 offset.
pub type SelectionRef<'a> = ((&'a BlockId, u32), (&'a BlockId, u32));

/// An agent (an in-page script, an automation, the assistant) editing
/// through the page, as every collaborator sees it: published beside the
/// page's own state under a client id of its own
/// (`DocHandle::set_agent_presence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPresence {
    /// Name shown beside its caret.
    pub name: String,
    /// Caret colour (`#rgb`/`#rrggbb`; another is picked when invalid).
    pub color: String,
    /// Its selection as (anchor, head), each a block and a UTF-16 offset.
    pub cursor: Option<((BlockId, u32), (BlockId, u32))>,
}

impl AgentPresence {
    /// The awareness JSON to publish for it in `doc`: `user` (with the id
    /// `agent:NAME`, as the server's agents use) and the cursor, if it
    /// resolves in `doc`.
    pub fn to_json(&self, doc: &Document, fallback_color: &str) -> String {
        let color = if is_css_color(&self.color) {
            self.color.clone()
        } else {
            fallback_color.to_owned()
        };
        let mut state = AwarenessState {
            user: Some(User {
                name: self.name.clone(),
                color,
                id: Some(format!("agent:{}", self.name)),
            }),
            ..AwarenessState::default()
        };
        if let Some(((ab, ao), (hb, ho))) = &self.cursor
            && state.set_selection(doc, (ab, *ao), (hb, *ho)).is_err()
        {
            state.cursor = None;
        }
        state.to_json()
    }
}

/// The local user's awareness state, kept so a selection change only
/// re-encodes the cursor.
#[derive(Debug, Clone, Default)]
pub struct LocalPresence {
    state: AwarenessState,
}

/// Why an awareness field was not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// `user` and `cursor` are written by the page itself.
    Reserved,
    /// `typing` must be a boolean (peers refuse a state where it is not).
    NotABool,
}

impl LocalPresence {
    /// A state naming the local user; `id` is the page's identity, the
    /// same on every document it has open.
    pub fn new(name: &str, color: &str, id: Option<&str>) -> Self {
        let mut presence = LocalPresence::default();
        presence.set_user(name, color, id);
        presence
    }

    /// Replaces the user (name, colour, id).
    pub fn set_user(&mut self, name: &str, color: &str, id: Option<&str>) {
        self.state.user = Some(User {
            name: name.to_owned(),
            color: color.to_owned(),
            id: id.map(str::to_owned),
        });
    }

    /// Sets (or clears) the selection; positions that do not resolve in
    /// `doc` clear it.
    pub fn set_selection(&mut self, doc: &Document, sel: Option<SelectionRef<'_>>) {
        match sel {
            Some((anchor, head)) => {
                if self.state.set_selection(doc, anchor, head).is_err() {
                    self.state.cursor = None;
                }
            }
            None => self.state.cursor = None,
        }
    }

    /// Publishes (`Some`) or withdraws (`None`) a field beside `user` and
    /// `cursor`, such as the chat's `typing` indicator.
    pub fn set_field(
        &mut self,
        key: &str,
        value: Option<serde_json::Value>,
    ) -> Result<(), FieldError> {
        match (key, value) {
            ("user" | "cursor", _) => Err(FieldError::Reserved),
            ("typing", None) => {
                self.state.typing = false;
                Ok(())
            }
            ("typing", Some(serde_json::Value::Bool(b))) => {
                self.state.typing = b;
                Ok(())
            }
            ("typing", Some(_)) => Err(FieldError::NotABool),
            (key, Some(value)) => {
                self.state.other.insert(key.to_owned(), value);
                Ok(())
            }
            (key, None) => {
                self.state.other.remove(key);
                Ok(())
            }
        }
    }

    /// The JSON to publish.
    pub fn to_json(&self) -> String {
        self.state.to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::{NewBlock, Placement};

    #[test]
    fn local_state_resolves_as_a_peer_in_another_replica() {
        let a = Document::with_client_id(1);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("hello")])
            .expect("insert");
        let mut me = LocalPresence::new("Zoé", "#ee6352", Some("page-1"));
        me.set_selection(&a, Some(((&ids[0], 1), (&ids[0], 3))));
        let b = Document::with_client_id(2);
        b.apply_update_v1(&a.encode_state_v1()).expect("sync");
        let json = me.to_json();
        let seen = peers([(1, json.as_str()), (7, "{not json")], &b);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].name, "Zoé");
        assert_eq!(seen[0].color, "#ee6352");
        let cursor = seen[0].cursor.as_ref().expect("cursor");
        assert_eq!(cursor.anchor.offset, 1);
        assert_eq!(cursor.head.offset, 3);
        assert_eq!(cursor.head.block, ids[0].0);
    }

    #[test]
    fn an_agent_is_a_peer_with_its_own_name_and_caret() {
        let a = Document::with_client_id(1);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("hello")])
            .expect("insert");
        let agent = AgentPresence {
            name: "Résumeur".into(),
            color: "#0a7f5a".into(),
            cursor: Some(((ids[0].clone(), 5), (ids[0].clone(), 5))),
        };
        let json = agent.to_json(&a, "#30bced");
        let b = Document::with_client_id(2);
        b.apply_update_v1(&a.encode_state_v1()).expect("sync");
        let seen = peers([(99, json.as_str())], &b);
        assert_eq!(
            (seen[0].name.as_str(), seen[0].color.as_str()),
            ("Résumeur", "#0a7f5a")
        );
        let cursor = seen[0]
            .cursor
            .as_ref()
            .expect("caret at the end of the block");
        assert_eq!(
            (cursor.head.block.as_str(), cursor.head.offset),
            (ids[0].0.as_str(), 5)
        );
        let state = AwarenessState::from_json(&json).expect("json");
        assert_eq!(
            state.user.and_then(|u| u.id).as_deref(),
            Some("agent:Résumeur")
        );
        // A bad colour is replaced; a caret in an unknown block is left out.
        let lost = AgentPresence {
            name: "x".into(),
            color: "red".into(),
            cursor: Some((("nope".into(), 0), ("nope".into(), 0))),
        };
        let seen = peers([(98, lost.to_json(&a, "#30bced").as_str())], &b);
        assert_eq!(seen[0].color, "#30bced");
        assert!(seen[0].cursor.is_none());
    }

    #[test]
    fn foreign_colours_that_are_not_hex_are_replaced() {
        let doc = Document::new();
        let json = r#"{"user":{"name":"x","color":"red;background:url(x)"}}"#;
        let seen = peers([(3, json)], &doc);
        assert_eq!(seen[0].color, color_for(3));
        assert!(seen[0].cursor.is_none());
    }

    #[test]
    fn extra_fields_sit_beside_user_and_cursor_and_peers_read_them() {
        let mut me = LocalPresence::new("Zoé", "#ee6352", Some("p"));
        assert_eq!(
            me.set_field("user", Some(serde_json::json!("x"))),
            Err(FieldError::Reserved)
        );
        assert_eq!(me.set_field("cursor", None), Err(FieldError::Reserved));
        assert_eq!(
            me.set_field("typing", Some(serde_json::json!("yes"))),
            Err(FieldError::NotABool)
        );
        me.set_field("typing", Some(serde_json::json!(true)))
            .expect("typing");
        me.set_field("status", Some(serde_json::json!({"away": false})))
            .expect("status");
        let state = AwarenessState::from_json(&me.to_json()).expect("a peer reads it");
        assert!(state.typing);
        assert_eq!(
            state.other.get("status"),
            Some(&serde_json::json!({"away": false}))
        );
        let user = state.user.expect("user");
        assert_eq!((user.name.as_str(), user.id.as_deref()), ("Zoé", Some("p")));
        me.set_field("typing", None).expect("typing off");
        me.set_field("status", None).expect("status off");
        let state = AwarenessState::from_json(&me.to_json()).expect("a peer reads it");
        assert!(!state.typing);
        assert!(state.other.is_empty(), "{:?}", state.other);
    }
}
