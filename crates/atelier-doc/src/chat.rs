//! The chat model: a `Y.Array` named `chat` of `Y.Map` messages (DESIGN.md §3).
//! Messages are appended, never reordered; deletion is a tombstone.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use yrs::types::ToJson;
use yrs::{
    Any, Array, ArrayRef, Doc, Map, MapPrelim, MapRef, Out, ReadTxn, Transact, TransactionMut,
};

/// Name of the chat array.
pub const CHAT: &str = "chat";

/// Largest message body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// One chat message as read from the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Unique id.
    pub id: String,
    /// Author's user id.
    pub author: String,
    /// Sent time, milliseconds since the Unix epoch.
    pub ts: f64,
    /// Text (empty once deleted).
    pub body: String,
    /// Id of the message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Emoji → users who reacted with it.
    #[serde(default)]
    pub reactions: BTreeMap<String, BTreeSet<String>>,
    /// Last edit time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<f64>,
    /// Tombstone flag.
    #[serde(default)]
    pub deleted: bool,
}

impl ChatMessage {
    /// User ids mentioned as `@id` in the body (letters, digits, `-`, `_`, `.`).
    pub fn mentions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, _) in self.body.match_indices('@') {
            let prev_ok = self.body[..i]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || c == '(');
            let name: String = self.body[i + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            let name = name.trim_end_matches('.').to_owned();
            if prev_ok && !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }
}

/// The chat of one document.
pub struct Chat {
    doc: Doc,
    array: ArrayRef,
}

impl Chat {
    /// The chat stored in `doc`.
    pub fn new(doc: &Doc) -> Self {
        Chat {
            doc: doc.clone(),
            array: doc.get_or_insert_array(CHAT),
        }
    }

    /// Sends a message; returns its id.
    pub fn send(
        &self,
        author: &str,
        ts: f64,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<String> {
        check_body(body)?;
        let mut txn = self.doc.transact_mut();
        if let Some(parent) = reply_to
            && self.find(&txn, parent).is_none()
        {
            return Err(Error::InvalidOperation(format!(
                "no message {parent} to reply to"
            )));
        }
        let client = self.doc.client_id().get();
        let clock = txn.state_vector().get(&self.doc.client_id());
        let id = format!("{client:x}-{clock:x}");
        let mut fields: Vec<(String, Any)> = vec![
            ("id".into(), Any::from(id.as_str())),
            ("author".into(), Any::from(author)),
            ("ts".into(), Any::from(ts)),
            ("body".into(), Any::from(body)),
        ];
        if let Some(r) = reply_to {
            fields.push(("replyTo".into(), Any::from(r)));
        }
        let n = self.array.len(&txn);
        let map = self.array.insert(&mut txn, n, MapPrelim::from_iter(fields));
        map.insert(&mut txn, "reactions", MapPrelim::default());
        Ok(id)
    }

    /// Edits the body of one's own message.
    pub fn edit(&self, id: &str, author: &str, ts: f64, body: &str) -> Result<()> {
        check_body(body)?;
        let mut txn = self.doc.transact_mut();
        let map = self.own_message(&txn, id, author)?;
        map.insert(&mut txn, "body", body);
        map.insert(&mut txn, "editedTs", ts);
        Ok(())
    }

    /// Deletes one's own message: the body is cleared and a tombstone kept.
    pub fn delete(&self, id: &str, author: &str) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let map = self.own_message(&txn, id, author)?;
        map.insert(&mut txn, "body", "");
        map.insert(&mut txn, "deleted", true);
        Ok(())
    }

    /// Adds (`on`) or removes a user's emoji reaction.
    pub fn react(&self, id: &str, user: &str, emoji: &str, on: bool) -> Result<()> {
        if emoji.is_empty() || emoji.len() > 32 {
            return Err(Error::InvalidOperation("a reaction is one emoji".into()));
        }
        let mut txn = self.doc.transact_mut();
        let map = self
            .find(&txn, id)
            .ok_or_else(|| Error::InvalidOperation(format!("no message {id}")))?;
        let reactions = match map.get(&txn, "reactions") {
            Some(Out::YMap(r)) => r,
            _ => map.insert(&mut txn, "reactions", MapPrelim::default()),
        };
        // Each (emoji, user) pair is its own key, so concurrent reactions
        // from different users never overwrite each other.
        let key = format!("{emoji}\u{1f}{user}");
        if on {
            reactions.insert(&mut txn, key, true);
        } else {
            reactions.remove(&mut txn, &key);
        }
        Ok(())
    }

    /// Every message in order.
    pub fn messages(&self) -> Vec<ChatMessage> {
        let txn = self.doc.transact();
        self.array
            .iter(&txn)
            .filter_map(|v| match v {
                Out::YMap(m) => read_message(&txn, &m),
                _ => None,
            })
            .collect()
    }

    fn find<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<MapRef> {
        self.array.iter(txn).find_map(|v| match v {
            Out::YMap(m) if matches!(m.get(txn, "id"), Some(Out::Any(Any::String(s))) if &*s == id) => {
                Some(m)
            }
            _ => None,
        })
    }

    fn own_message(&self, txn: &TransactionMut, id: &str, author: &str) -> Result<MapRef> {
        let map = self
            .find(txn, id)
            .ok_or_else(|| Error::InvalidOperation(format!("no message {id}")))?;
        match map.get(txn, "author") {
            Some(Out::Any(Any::String(a))) if &*a == author => Ok(map),
            _ => Err(Error::InvalidOperation(format!(
                "message {id} belongs to someone else"
            ))),
        }
    }
}

fn check_body(body: &str) -> Result<()> {
    if body.trim().is_empty() {
        return Err(Error::InvalidOperation("a message cannot be empty".into()));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::InvalidOperation(format!(
            "a message is limited to {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(())
}

fn read_message<T: ReadTxn>(txn: &T, m: &MapRef) -> Option<ChatMessage> {
    let s = |k: &str| match m.get(txn, k) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    };
    let n = |k: &str| match m.get(txn, k) {
        Some(Out::Any(a)) => crate::block::any_to_json(&a).and_then(|v| v.as_f64()),
        _ => None,
    };
    let mut reactions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(Out::YMap(r)) = m.get(txn, "reactions")
        && let Any::Map(entries) = r.to_json(txn)
    {
        for (key, v) in entries.iter() {
            if let (Some((emoji, user)), Any::Bool(true)) = (key.split_once('\u{1f}'), v) {
                reactions
                    .entry(emoji.to_owned())
                    .or_default()
                    .insert(user.to_owned());
            }
        }
    }
    Some(ChatMessage {
        id: s("id")?,
        author: s("author").unwrap_or_default(),
        ts: n("ts").unwrap_or(0.0),
        body: s("body").unwrap_or_default(),
        reply_to: s("replyTo"),
        reactions,
        edited_ts: n("editedTs"),
        deleted: matches!(m.get(txn, "deleted"), Some(Out::Any(Any::Bool(true)))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{StateVector, Update};

    fn sync(from: &Doc, to: &Doc) {
        let update = from
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let update = Update::decode_v1(&update).expect("valid update");
        to.transact_mut().apply_update(update).expect("apply");
    }

    #[test]
    fn send_reply_edit_delete_react() {
        let doc = Doc::with_client_id(3);
        let chat = Chat::new(&doc);
        let a = chat
            .send("alice", 1.0, "Bonjour @bob et @carol.", None)
            .expect("send");
        let b = chat.send("bob", 2.0, "Salut", Some(&a)).expect("reply");
        assert!(chat.send("bob", 2.0, "x", Some("missing")).is_err());
        assert!(chat.send("bob", 2.0, "   ", None).is_err());
        assert!(chat.edit(&a, "bob", 3.0, "hijack").is_err());
        chat.edit(&b, "bob", 3.0, "Salut !").expect("edit own");
        chat.react(&a, "bob", "👍", true).expect("react");
        chat.react(&a, "carol", "👍", true).expect("react");
        chat.react(&a, "carol", "👍", false).expect("unreact");
        chat.delete(&b, "bob").expect("delete own");
        let msgs = chat.messages();
        assert_eq!(
            msgs[0].mentions(),
            vec!["bob".to_string(), "carol".to_string()]
        );
        assert_eq!(msgs[0].reactions["👍"].len(), 1);
        assert_eq!(msgs[1].reply_to.as_deref(), Some(a.as_str()));
        assert!(msgs[1].deleted && msgs[1].body.is_empty());
        assert_eq!(msgs[1].edited_ts, Some(3.0));
    }

    #[test]
    fn concurrent_messages_and_reactions_merge() {
        let d1 = Doc::with_client_id(1);
        let d2 = Doc::with_client_id(2);
        let c1 = Chat::new(&d1);
        let c2 = Chat::new(&d2);
        let m = c1.send("alice", 1.0, "hi", None).expect("send");
        sync(&d1, &d2);
        c1.react(&m, "alice", "🎉", true).expect("react");
        c2.react(&m, "bob", "🎉", true).expect("react");
        c2.send("bob", 2.0, "yo", None).expect("send");
        sync(&d1, &d2);
        sync(&d2, &d1);
        assert_eq!(c1.messages(), c2.messages());
        assert_eq!(c1.messages()[0].reactions["🎉"].len(), 2);
        assert_eq!(c1.messages().len(), 2);
    }
}
