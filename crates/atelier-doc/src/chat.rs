//! The chat model: a `Y.Array` named `chat` of `Y.Map` messages (DESIGN.md §3).
//! Messages are appended, never reordered; deletion is a tombstone.
//!
//! A message map holds `id`, `author`, `ts`, `body`, optional `replyTo`,
//! `reactions`, `editedTs`, `deleted` (the contract), and the optional
//! `authorName`: the author's display name when they sent it, so a name
//! shows for someone who is no longer online. `reactions` is a `Y.Map`
//! whose keys are `emoji U+001F user`; a value of `true` or of a string
//! (the reactor's display name) means "reacted". One key per (emoji, user)
//! pair keeps concurrent reactions of different users from overwriting each
//! other, and a user toggling twice on two devices converges (last writer
//! wins on one key).
//!
//! Widgets keep a copy of the messages and follow changes through
//! [`Chat::observe`], which reports each transaction as [`ChatEdit`]s (the
//! array's inserts and removals, then the messages that changed), so a
//! timeline of 10,000 messages re-reads only what a transaction touched.
//!
//! ```
//! use atelier_doc::chat::{Chat, NewMessage};
//! let doc = yrs::Doc::new();
//! let chat = Chat::new(&doc);
//! let id = chat
//!     .post(&NewMessage { author_name: Some("Alice"), ..NewMessage::new("alice", 1.0, "Bonjour @bob") })
//!     .unwrap();
//! chat.react(&id, "bob", "👍", true).unwrap();
//! let msgs = chat.messages();
//! assert_eq!(msgs[0].mentions(), vec!["bob".to_string()]);
//! assert_eq!(msgs[0].author_name.as_deref(), Some("Alice"));
//! ```

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use yrs::any::Number;
use yrs::types::{Change, Event, Events, PathSegment};
use yrs::{
    Any, Array, ArrayRef, DeepObservable, Doc, ID, Map, MapPrelim, MapRef, Out, ReadTxn,
    StateVector, Transact, TransactionMut,
};

/// Name of the chat array.
pub const CHAT: &str = "chat";

/// Largest message body accepted, in bytes (UTF-8).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Longest display name stored with a message or a reaction, in bytes;
/// longer names are cut at a character boundary.
pub const MAX_NAME_BYTES: usize = 128;

/// Longest reaction accepted, in bytes (an emoji with modifiers and joiners).
pub const MAX_EMOJI_BYTES: usize = 32;

/// Why a body cannot be sent, for a message shown where the user typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProblem {
    /// Nothing but whitespace.
    Empty,
    /// Longer than [`MAX_BODY_BYTES`].
    TooLong {
        /// The body's length in bytes.
        bytes: usize,
    },
}

/// What is wrong with `body` as a message, if anything.
pub fn body_problem(body: &str) -> Option<BodyProblem> {
    if body.len() > MAX_BODY_BYTES {
        Some(BodyProblem::TooLong { bytes: body.len() })
    } else if body.trim().is_empty() {
        Some(BodyProblem::Empty)
    } else {
        None
    }
}

/// One chat message as read from the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Unique id.
    pub id: String,
    /// Author's user id.
    pub author: String,
    /// Author's display name when they sent the message (`authorName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
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
    /// User id → display name, for reactors who stored one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactor_names: BTreeMap<String, String>,
    /// Last edit time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<f64>,
    /// Tombstone flag.
    #[serde(default)]
    pub deleted: bool,
    /// The CRDT item of the message's map (client, clock): what tells
    /// whether a replica, e.g. the server, holds the message yet.
    #[serde(skip)]
    pub item: Option<ID>,
}

impl ChatMessage {
    /// User ids mentioned as `@id` in the body (see [`mentions_in`]).
    pub fn mentions(&self) -> Vec<String> {
        mentions_in(&self.body)
    }

    /// Whether the body mentions `user`.
    pub fn mentions_user(&self, user: &str) -> bool {
        !self.deleted && mention_spans(&self.body).any(|(_, id)| id == user)
    }

    /// Whether a replica whose state vector is `sv` holds this message.
    /// A message read without its item (never the case for messages read
    /// from a document) counts as held.
    pub fn is_held_by(&self, sv: &StateVector) -> bool {
        self.item.is_none_or(|id| sv.get(&id.client) > id.clock)
    }

    /// The name to show for the author when no live name is known: the
    /// stored display name, else the user id.
    pub fn fallback_author_name(&self) -> &str {
        self.author_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.author)
    }
}

/// Whether `c` may appear in a mentioned user id.
pub fn is_mention_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Whether `id` can be mentioned as `@id` and read back whole: not empty,
/// only [`is_mention_char`]s, and not ending with `.` (a sentence's full
/// stop after a mention is not part of the id).
pub fn is_mentionable(id: &str) -> bool {
    !id.is_empty() && id.chars().all(is_mention_char) && !id.ends_with('.')
}

/// Every `@id` in `text` as (byte range of `@id`, id). An `@` counts at the
/// start or after whitespace or `(`, so `a@b.fr` is no mention; a trailing
/// `.` is left out of the id.
pub fn mention_spans(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    text.match_indices('@').filter_map(move |(i, _)| {
        let prev_ok = text
            .get(..i)?
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '(');
        let rest = text.get(i + 1..)?;
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_mention_char(c))
            .map_or(rest.len(), |(j, _)| j);
        let id = rest.get(..len)?.trim_end_matches('.');
        (prev_ok && !id.is_empty()).then(|| (i..i + 1 + id.len(), id))
    })
}

/// The distinct user ids mentioned in `text`, in order of appearance.
pub fn mentions_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, id) in mention_spans(text) {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    out
}

/// A message to send (see [`Chat::post`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewMessage<'a> {
    /// Author's user id.
    pub author: &'a str,
    /// Author's display name, stored as `authorName`.
    pub author_name: Option<&'a str>,
    /// Sent time, milliseconds since the Unix epoch.
    pub ts: f64,
    /// The text.
    pub body: &'a str,
    /// The message this one answers.
    pub reply_to: Option<&'a str>,
}

impl<'a> NewMessage<'a> {
    /// A message with no display name and no parent.
    pub fn new(author: &'a str, ts: f64, body: &'a str) -> Self {
        NewMessage {
            author,
            author_name: None,
            ts,
            body,
            reply_to: None,
        }
    }
}

/// One change to the message list, as [`Chat::observe`] reports it. Applied
/// in order to the list as it was before the transaction, the edits give
/// the list after it.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEdit {
    /// Messages inserted at `at` (an append, or a concurrent append merged
    /// before the last ones).
    Insert {
        /// Index of the first inserted message.
        at: usize,
        /// The messages.
        messages: Vec<ChatMessage>,
    },
    /// Entries removed at `at`. Atelier never removes messages (it keeps
    /// tombstones) but another client may.
    Remove {
        /// Index of the first removed entry.
        at: usize,
        /// How many.
        len: usize,
    },
    /// The message at `at` changed (edit, deletion, reaction).
    Update {
        /// Its index after the transaction.
        at: usize,
        /// The message as it is now.
        message: ChatMessage,
    },
}

/// The chat of one document.
pub struct Chat {
    doc: Doc,
    array: ArrayRef,
    /// Message id → index, as last seen. Checked on every use (a concurrent
    /// insert shifts indices) and rebuilt by one scan on a miss.
    index: RefCell<HashMap<String, u32>>,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat").finish_non_exhaustive()
    }
}

impl Chat {
    /// The chat stored in `doc`.
    pub fn new(doc: &Doc) -> Self {
        Chat {
            doc: doc.clone(),
            array: doc.get_or_insert_array(CHAT),
            index: RefCell::new(HashMap::new()),
        }
    }

    /// The document the chat lives in.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Sends a message; returns its id.
    pub fn send(
        &self,
        author: &str,
        ts: f64,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<String> {
        self.post(&NewMessage {
            reply_to,
            ..NewMessage::new(author, ts, body)
        })
    }

    /// Sends a message in one transaction; returns its id, derived from
    /// (client id, clock) so it is unique without a random source.
    pub fn post(&self, msg: &NewMessage<'_>) -> Result<String> {
        check_body(msg.body)?;
        let mut txn = self.doc.transact_mut();
        if let Some(parent) = msg.reply_to {
            match self.find(&txn, parent) {
                None => {
                    return Err(Error::InvalidOperation(format!(
                        "no message {parent} to reply to"
                    )));
                }
                Some((_, m)) if is_deleted(&txn, &m) => {
                    return Err(Error::InvalidOperation(format!(
                        "message {parent} was deleted"
                    )));
                }
                Some(_) => {}
            }
        }
        let client = self.doc.client_id().get();
        let clock = txn.state_vector().get(&self.doc.client_id());
        let id = format!("{client:x}-{clock:x}");
        let mut fields: Vec<(String, Any)> = vec![
            ("id".into(), Any::from(id.as_str())),
            ("author".into(), Any::from(msg.author)),
            ("ts".into(), Any::from(msg.ts)),
            ("body".into(), Any::from(msg.body)),
        ];
        if let Some(name) = msg.author_name.map(cut_name).filter(|n| !n.is_empty()) {
            fields.push(("authorName".into(), Any::from(name)));
        }
        if let Some(r) = msg.reply_to {
            fields.push(("replyTo".into(), Any::from(r)));
        }
        let n = self.array.len(&txn);
        let map = self.array.insert(&mut txn, n, MapPrelim::from_iter(fields));
        map.insert(&mut txn, "reactions", MapPrelim::default());
        self.index.borrow_mut().insert(id.clone(), n);
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
        self.react_as(id, user, None, emoji, on)
    }

    /// Like [`Chat::react`], storing the reactor's display name so "who
    /// reacted" can name them when they are offline.
    pub fn react_as(
        &self,
        id: &str,
        user: &str,
        user_name: Option<&str>,
        emoji: &str,
        on: bool,
    ) -> Result<()> {
        if emoji.trim().is_empty() || emoji.len() > MAX_EMOJI_BYTES || emoji.contains('\u{1f}') {
            return Err(Error::InvalidOperation("a reaction is one emoji".into()));
        }
        let mut txn = self.doc.transact_mut();
        let (_, map) = self
            .find(&txn, id)
            .ok_or_else(|| Error::InvalidOperation(format!("no message {id}")))?;
        if on && is_deleted(&txn, &map) {
            return Err(Error::InvalidOperation(format!("message {id} was deleted")));
        }
        let reactions = match map.get(&txn, "reactions") {
            Some(Out::YMap(r)) => r,
            _ => map.insert(&mut txn, "reactions", MapPrelim::default()),
        };
        let key = format!("{emoji}\u{1f}{user}");
        if on {
            match user_name.map(cut_name).filter(|n| !n.is_empty()) {
                Some(name) => reactions.insert(&mut txn, key, name),
                None => reactions.insert(&mut txn, key, true),
            };
        } else {
            reactions.remove(&mut txn, &key);
        }
        Ok(())
    }

    /// Every message in order.
    pub fn messages(&self) -> Vec<ChatMessage> {
        let txn = self.doc.transact();
        let mut index = HashMap::new();
        let out: Vec<ChatMessage> = self
            .array
            .iter(&txn)
            .filter_map(|v| match v {
                Out::YMap(m) => read_message(&txn, &m),
                _ => None,
            })
            .collect();
        // Indices count every entry of the array, messages or not: rebuild
        // the index only when every entry was a message.
        if out.len() == self.array.len(&txn) as usize {
            for (i, m) in out.iter().enumerate() {
                index.entry(m.id.clone()).or_insert(i as u32);
            }
            *self.index.borrow_mut() = index;
        }
        out
    }

    /// One message by id.
    pub fn message(&self, id: &str) -> Option<ChatMessage> {
        let txn = self.doc.transact();
        let (_, m) = self.find(&txn, id)?;
        read_message(&txn, &m)
    }

    /// Number of entries in the chat array.
    pub fn len(&self) -> usize {
        self.array.len(&self.doc.transact()) as usize
    }

    /// Whether the chat has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` after every transaction that changed the chat, with the
    /// edits that turn the list before it into the list after it. `f` runs
    /// inside the transaction's commit: it must not open a transaction on
    /// the document. Entries that are not maps read as tombstones with an
    /// empty id, so indices always match the array.
    pub fn observe<F>(&self, key: &str, mut f: F)
    where
        F: FnMut(Vec<ChatEdit>) + Send + Sync + 'static,
    {
        let array = self.array.clone();
        self.array.observe_deep(key.to_owned(), move |txn, events| {
            let edits = edits_of(txn, &array, events);
            if !edits.is_empty() {
                f(edits);
            }
        });
    }

    /// Ends a subscription made with [`Chat::observe`].
    pub fn unobserve(&self, key: &str) -> bool {
        self.array.unobserve_deep(key.to_owned())
    }

    /// Every entry as the observer reports them (a non-message entry as an
    /// empty tombstone), so a widget's copy has the array's indices.
    pub fn entries(&self) -> Vec<ChatMessage> {
        let txn = self.doc.transact();
        self.array.iter(&txn).map(|v| entry(&txn, v)).collect()
    }

    fn find<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<(u32, MapRef)> {
        let hint = self.index.borrow().get(id).copied();
        if let Some(i) = hint
            && let Some(Out::YMap(m)) = self.array.get(txn, i)
            && message_id(txn, &m).as_deref() == Some(id)
        {
            return Some((i, m));
        }
        let mut index = HashMap::new();
        let mut found = None;
        for (i, v) in self.array.iter(txn).enumerate() {
            if let Out::YMap(m) = v
                && let Some(mid) = message_id(txn, &m)
            {
                let i = i as u32;
                if found.is_none() && mid == id {
                    found = Some((i, m));
                }
                index.entry(mid).or_insert(i);
            }
        }
        *self.index.borrow_mut() = index;
        found
    }

    fn own_message(&self, txn: &TransactionMut, id: &str, author: &str) -> Result<MapRef> {
        let (_, map) = self
            .find(txn, id)
            .ok_or_else(|| Error::InvalidOperation(format!("no message {id}")))?;
        match map.get(txn, "author") {
            Some(Out::Any(Any::String(a))) if &*a == author => {}
            _ => {
                return Err(Error::InvalidOperation(format!(
                    "message {id} belongs to someone else"
                )));
            }
        }
        if is_deleted(txn, &map) {
            return Err(Error::InvalidOperation(format!("message {id} was deleted")));
        }
        Ok(map)
    }
}

/// Cuts a display name to [`MAX_NAME_BYTES`] at a character boundary.
fn cut_name(name: &str) -> &str {
    let name = name.trim();
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

fn check_body(body: &str) -> Result<()> {
    match body_problem(body) {
        None => Ok(()),
        Some(BodyProblem::Empty) => {
            Err(Error::InvalidOperation("a message cannot be empty".into()))
        }
        Some(BodyProblem::TooLong { .. }) => Err(Error::InvalidOperation(format!(
            "a message is limited to {MAX_BODY_BYTES} bytes"
        ))),
    }
}

fn message_id<T: ReadTxn>(txn: &T, m: &MapRef) -> Option<String> {
    match m.get(txn, "id") {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

fn is_deleted<T: ReadTxn>(txn: &T, m: &MapRef) -> bool {
    matches!(m.get(txn, "deleted"), Some(Out::Any(Any::Bool(true))))
}

/// An array entry as a message; an entry another client wrote that is not
/// a message map reads as an empty tombstone, so indices stay aligned.
fn entry<T: ReadTxn>(txn: &T, v: Out) -> ChatMessage {
    let read = match &v {
        Out::YMap(m) => read_message(txn, m),
        _ => None,
    };
    read.unwrap_or_else(|| ChatMessage {
        id: String::new(),
        author: String::new(),
        author_name: None,
        ts: 0.0,
        body: String::new(),
        reply_to: None,
        reactions: BTreeMap::new(),
        reactor_names: BTreeMap::new(),
        edited_ts: None,
        deleted: true,
        item: None,
    })
}

fn read_message<T: ReadTxn>(txn: &T, m: &MapRef) -> Option<ChatMessage> {
    let s = |k: &str| match m.get(txn, k) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    };
    // Numbers read straight from the value: going through JSON would pull
    // serde_json's value type into the chat for two fields.
    let n = |k: &str| match m.get(txn, k) {
        Some(Out::Any(Any::Number(Number::Float(f)))) => Some(f),
        Some(Out::Any(Any::Number(Number::Int(i)))) => Some(i as f64),
        _ => None,
    };
    let deleted = is_deleted(txn, m);
    let mut reactions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut reactor_names = BTreeMap::new();
    // The entries are read one by one rather than through `to_json`,
    // which would drag yrs' XML stringification (and float formatting)
    // into every widget that reads the chat.
    if !deleted && let Some(Out::YMap(r)) = m.get(txn, "reactions") {
        for (key, v) in r.iter(txn) {
            let Some((emoji, user)) = key.split_once('\u{1f}') else {
                continue;
            };
            match v {
                Out::Any(Any::Bool(true)) => {}
                Out::Any(Any::String(name)) if !name.trim().is_empty() => {
                    reactor_names.insert(user.to_owned(), cut_name(&name).to_owned());
                }
                _ => continue,
            }
            reactions
                .entry(emoji.to_owned())
                .or_default()
                .insert(user.to_owned());
        }
    }
    let item = match m.as_ref().id() {
        yrs::branch::BranchID::Nested(id) => Some(id),
        yrs::branch::BranchID::Root(_) => None,
    };
    Some(ChatMessage {
        id: s("id")?,
        author: s("author").unwrap_or_default(),
        author_name: s("authorName")
            .map(|n| cut_name(&n).to_owned())
            .filter(|n| !n.is_empty()),
        ts: n("ts").filter(|t| t.is_finite()).unwrap_or(0.0),
        // A concurrent edit may win over a deletion's cleared body: a
        // tombstone never shows text.
        body: if deleted {
            String::new()
        } else {
            s("body").unwrap_or_default()
        },
        reply_to: s("replyTo"),
        reactions,
        reactor_names,
        edited_ts: n("editedTs").filter(|t| t.is_finite()),
        deleted,
        item,
    })
}

/// The edits one transaction made: the chat array's own delta first (in
/// pre-transaction positions, applied in order), then every message whose
/// map (or a map inside it) changed, at its post-transaction index.
fn edits_of(txn: &TransactionMut, array: &ArrayRef, events: &Events) -> Vec<ChatEdit> {
    let mut edits = Vec::new();
    let mut inserted: Vec<std::ops::Range<usize>> = Vec::new();
    let mut touched = BTreeSet::new();
    for event in events.iter() {
        let path = event.path();
        match (event, path.front()) {
            (Event::Array(e), None) => {
                let mut at = 0usize;
                for change in e.delta(txn) {
                    match change {
                        Change::Retain(n) => at += *n as usize,
                        Change::Removed(n) => edits.push(ChatEdit::Remove {
                            at,
                            len: *n as usize,
                        }),
                        Change::Added(values) => {
                            let messages: Vec<ChatMessage> =
                                values.iter().map(|v| entry(txn, v.clone())).collect();
                            let len = messages.len();
                            inserted.push(at..at + len);
                            edits.push(ChatEdit::Insert { at, messages });
                            at += len;
                        }
                    }
                }
            }
            (_, Some(PathSegment::Index(i))) => {
                touched.insert(*i as usize);
            }
            // A map event on the array itself cannot happen; nothing else
            // is under the chat array.
            _ => {}
        }
    }
    for i in touched {
        if inserted.iter().any(|r| r.contains(&i)) {
            continue;
        }
        if let Some(v) = array.get(txn, i as u32) {
            edits.push(ChatEdit::Update {
                at: i,
                message: entry(txn, v),
            });
        }
    }
    edits
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
