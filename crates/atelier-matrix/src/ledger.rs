//! What the bridge has relayed, kept in the chat document itself: a
//! `Y.Map` named `matrix` beside the `chat` array.
//!
//! Keeping it in the document makes it as durable as the messages (the
//! server stores an update before anyone sees it) and writes it in the same
//! transaction as the message it is about: a message imported from Matrix
//! and the record of its event id are stored together or not at all, so a
//! restart neither imports an event twice nor loses one. Widgets read the
//! `chat` array, and of this map only the refusals.
//!
//! Keys (one per fact, so concurrent writers of different facts never
//! overwrite each other):
//! - `from`: the chat array's length when the link began; older messages
//!   are not relayed.
//! - `since`: the `/sync` token up to which the room's events are applied.
//! - `event:<message id>`: the Matrix event a chat message is (relayed by
//!   the bot, or imported from the room).
//! - `message:<event id>`: the chat message of a Matrix event.
//! - `imported:<message id>`: the message came from Matrix; its edits and
//!   deletion come from there too and are never relayed back.
//! - `edited:<message id>`: the `editedTs` of the last edit relayed.
//! - `redacted:<message id>`: the deletion was relayed.
//! - `failed:<message id>`: why Matrix refused the message. The chat panel
//!   shows it on the message: the map's name and this key are shared with
//!   it through `atelier-relay-status`, the one part of the map widgets read.
//! - `reaction:<event id>`: `emoji U+001F user U+001F message id` of a
//!   reaction imported from Matrix, to take it back on redaction.
//! - `annotation:<message id> U+001F <emoji>`: the bot's reaction event
//!   standing for the Atelier users who reacted so; `unreacted:…` (same
//!   key) counts how often it was taken back.

use crate::event::Incoming;
use atelier_doc::chat::{Chat, ChatMessage, MAX_BODY_BYTES, NewMessage};
use yrs::{Any, Doc, Map, MapRef, Out, Transact};

/// Name of the ledger map in the chat document.
pub use atelier_relay_status::LEDGER;

/// Prefix of the author id of a message imported from Matrix
/// (`matrix:@alice:example.org`): the Matrix user ids never collide with
/// the Atelier ones.
pub const AUTHOR_PREFIX: &str = "matrix:";

/// Something to do in the Matrix room for the chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// Send a chat message, as a reply to `reply_to` (an event id) if any.
    Send {
        /// The message.
        message: ChatMessage,
        /// The event of the message it answers.
        reply_to: Option<String>,
    },
    /// Relay an edit of a message sent as `event`.
    Edit {
        /// The message as it is now.
        message: ChatMessage,
        /// Its event.
        event: String,
    },
    /// React to `event` with `key` for the Atelier users who reacted so
    /// (one annotation stands for all of them: the bot may make one per
    /// emoji).
    React {
        /// The message id.
        message: String,
        /// Its event.
        event: String,
        /// The emoji.
        key: String,
        /// How many times this annotation was taken back before (a new
        /// reaction after that needs a new transaction id).
        generation: u32,
    },
    /// Take back the bot's annotation `reaction` (no Atelier user reacts
    /// with `key` any more).
    Unreact {
        /// The message id.
        message: String,
        /// The emoji.
        key: String,
        /// The annotation's event.
        reaction: String,
        /// As for [`Outgoing::React`].
        generation: u32,
    },
    /// Redact the event of a deleted message.
    Redact {
        /// The message id.
        message: String,
        /// Its event.
        event: String,
    },
}

/// The ledger of one chat document.
pub struct Ledger {
    map: MapRef,
    chat: Chat,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

impl Ledger {
    /// The ledger (and chat) of a chat document.
    pub fn new(doc: &Doc) -> Ledger {
        Ledger {
            map: atelier_relay_status::ledger_map(doc),
            chat: Chat::new(doc),
        }
    }

    /// The chat beside the ledger.
    pub fn chat(&self) -> &Chat {
        &self.chat
    }

    fn get(&self, key: &str) -> Option<Out> {
        let txn = self.chat.doc().transact();
        self.map.get(&txn, key)
    }

    fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key) {
            Some(Out::Any(Any::String(s))) => Some(s.to_string()),
            _ => None,
        }
    }

    fn number(&self, key: &str) -> Option<f64> {
        match self.get(key) {
            Some(Out::Any(Any::Number(n))) => n.as_f64(),
            _ => None,
        }
    }

    fn set(&self, entries: &[(String, Any)]) {
        let mut txn = self.chat.doc().transact_mut();
        for (k, v) in entries {
            self.map.insert(&mut txn, k.as_str(), v.clone());
        }
    }

    /// Where relaying starts: the chat's length when the link began.
    pub fn start(&self) -> Option<u32> {
        self.number("from").map(|n| n as u32)
    }

    /// Begins the link now if it never began: the messages already in the
    /// chat stay out of the room. Returns whether it began now.
    pub fn begin(&self) -> bool {
        if self.start().is_some() {
            return false;
        }
        let n = self.chat.len() as f64;
        self.set(&[("from".into(), Any::from(n))]);
        true
    }

    /// Ends the link (it was taken back): where relaying starts and the
    /// `/sync` token are forgotten, so a later link begins afresh — the
    /// chat's messages of the meantime stay out of the room, and the
    /// room's out of the chat. What was relayed stays recorded.
    pub fn end(&self) {
        let mut txn = self.chat.doc().transact_mut();
        self.map.remove(&mut txn, "from");
        self.map.remove(&mut txn, "since");
    }

    /// The `/sync` token the room's events are applied up to.
    pub fn since(&self) -> Option<String> {
        self.get_str("since")
    }

    /// Records the `/sync` token the room's events are applied up to.
    pub fn set_since(&self, token: &str) {
        self.set(&[("since".into(), Any::from(token))]);
    }

    /// The event a chat message is in the room.
    pub fn event_of(&self, message: &str) -> Option<String> {
        self.get_str(&format!("event:{message}"))
    }

    /// The chat message of an event.
    pub fn message_of(&self, event: &str) -> Option<String> {
        self.get_str(&format!("message:{event}"))
    }

    /// Records that chat message `message` is event `event` in the room.
    pub fn record_sent(&self, message: &str, event: &str) {
        let mut txn = self.chat.doc().transact_mut();
        self.map
            .insert(&mut txn, format!("event:{message}"), event.to_owned());
        self.map
            .insert(&mut txn, format!("message:{event}"), message.to_owned());
        atelier_relay_status::clear_failure_in(&self.map, &mut txn, message);
    }

    /// Why the room refused a message, if it did.
    pub fn failure(&self, message: &str) -> Option<String> {
        let txn = self.chat.doc().transact();
        atelier_relay_status::refusal_in(&self.map, &txn, message)
    }

    /// Records that the room refused a message, and why; it is not sent
    /// again, and the chat panel shows it failed with this reason.
    pub fn record_failure(&self, message: &str, reason: &str) {
        atelier_relay_status::record_failure(self.chat.doc(), message, reason);
    }

    /// Records that an edit (of `editedTs` `ts`) was relayed.
    pub fn record_edit(&self, message: &str, ts: f64) {
        self.set(&[(format!("edited:{message}"), Any::from(ts))]);
    }

    /// Records that a deletion was relayed.
    pub fn record_redaction(&self, message: &str) {
        self.set(&[(format!("redacted:{message}"), Any::from(true))]);
    }

    fn is_imported(&self, message: &str) -> bool {
        self.get(&format!("imported:{message}")).is_some()
    }

    /// Records the bot's annotation of `message` with `key`.
    pub fn record_reaction(&self, message: &str, key: &str, event: &str) {
        self.set(&[(format!("annotation:{message}\u{1f}{key}"), Any::from(event))]);
    }

    /// Records that the bot's annotation of `message` with `key` was taken back.
    pub fn record_unreaction(&self, message: &str, key: &str, generation: u32) {
        let mut txn = self.chat.doc().transact_mut();
        self.map
            .remove(&mut txn, &format!("annotation:{message}\u{1f}{key}"));
        self.map.insert(
            &mut txn,
            format!("unreacted:{message}\u{1f}{key}"),
            Any::from(f64::from(generation + 1)),
        );
    }

    /// The bot's annotations, by message id, as (emoji, event).
    fn annotations(&self) -> std::collections::HashMap<String, Vec<(String, String)>> {
        let txn = self.chat.doc().transact();
        let mut out: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
        for (key, value) in self.map.iter(&txn) {
            if let (Some(rest), Out::Any(Any::String(event))) =
                (key.strip_prefix("annotation:"), value)
                && let Some((message, emoji)) = rest.split_once('\u{1f}')
            {
                out.entry(message.to_owned())
                    .or_default()
                    .push((emoji.to_owned(), event.to_string()));
            }
        }
        out
    }

    /// The reactions the room lacks, or has too many of, for one message
    /// that is `event` in the room.
    fn pending_reactions(
        &self,
        message: &ChatMessage,
        event: &str,
        annotations: &[(String, String)],
        out: &mut Vec<Outgoing>,
    ) {
        let generation = |key: &str| {
            self.number(&format!("unreacted:{}\u{1f}{key}", message.id))
                .map_or(0, |n| n as u32)
        };
        // Reactions imported from Matrix are already there.
        let from_atelier = |key: &str| {
            message
                .reactions
                .get(key)
                .is_some_and(|users| users.iter().any(|u| !u.starts_with(AUTHOR_PREFIX)))
        };
        for key in message.reactions.keys() {
            if from_atelier(key) && !annotations.iter().any(|(k, _)| k == key) {
                out.push(Outgoing::React {
                    message: message.id.clone(),
                    event: event.to_owned(),
                    key: key.clone(),
                    generation: generation(key),
                });
            }
        }
        for (key, reaction) in annotations {
            if !from_atelier(key) {
                out.push(Outgoing::Unreact {
                    message: message.id.clone(),
                    key: key.clone(),
                    reaction: reaction.clone(),
                    generation: generation(key),
                });
            }
        }
    }

    /// What the room lacks of the chat, in chat order: messages never
    /// sent (and never refused), then edits and deletions of messages sent.
    /// Messages from before the link, and those imported from Matrix, are
    /// left out.
    pub fn pending(&self) -> Vec<Outgoing> {
        let start = self.start().unwrap_or(u32::MAX) as usize;
        let annotations = self.annotations();
        let mut out = Vec::new();
        for message in self.chat.entries().into_iter().skip(start) {
            if message.id.is_empty() {
                continue;
            }
            if let Some(event) = self.event_of(&message.id)
                && !message.deleted
            {
                let mine = annotations.get(&message.id).map_or(&[][..], Vec::as_slice);
                self.pending_reactions(&message, &event, mine, &mut out);
            }
            if self.is_imported(&message.id) {
                continue;
            }
            match self.event_of(&message.id) {
                None => {
                    if !message.deleted && self.failure(&message.id).is_none() {
                        let reply_to = message.reply_to.as_deref().and_then(|p| self.event_of(p));
                        out.push(Outgoing::Send { message, reply_to });
                    }
                }
                Some(event) if message.deleted => {
                    if self.get(&format!("redacted:{}", message.id)).is_none() {
                        out.push(Outgoing::Redact {
                            message: message.id,
                            event,
                        });
                    }
                }
                Some(event) => {
                    let relayed = self.number(&format!("edited:{}", message.id));
                    if message.edited_ts.is_some() && message.edited_ts != relayed {
                        out.push(Outgoing::Edit { message, event });
                    }
                }
            }
        }
        out
    }

    /// Applies an event from the room to the chat, in one transaction with
    /// its record; an event already applied changes nothing. `name` is the
    /// sender's display name. Returns whether the chat changed; an event
    /// the chat cannot take (an edit of someone else's message, a reply to
    /// an unknown one) is skipped with its reason.
    pub fn apply(&self, incoming: &Incoming, name: &str) -> Result<bool, String> {
        let event_id = incoming.event_id();
        if self.message_of(event_id).is_some()
            || self.get(&format!("reaction:{event_id}")).is_some()
        {
            return Ok(false);
        }
        let author = format!("{AUTHOR_PREFIX}{}", incoming.sender());
        let err = |e: atelier_doc::Error| e.to_string();
        match incoming {
            Incoming::Message {
                ts, body, reply_to, ..
            } => {
                let body = cut_body(body);
                if body.trim().is_empty() {
                    return Err("an empty message".into());
                }
                // A reply to an event the chat does not have (older than
                // the link) becomes a plain message.
                let parent = reply_to
                    .as_deref()
                    .and_then(|e| self.message_of(e))
                    .filter(|p| self.chat.message(p).is_some_and(|m| !m.deleted));
                let id = self
                    .chat
                    .post(&NewMessage {
                        author_name: Some(name),
                        reply_to: parent.as_deref(),
                        ..NewMessage::new(&author, *ts, body)
                    })
                    .map_err(err)?;
                self.record_sent(&id, event_id);
                self.set(&[(format!("imported:{id}"), Any::from(true))]);
                Ok(true)
            }
            Incoming::Edit {
                ts, target, body, ..
            } => {
                let Some(message) = self.message_of(target) else {
                    return Err(format!("an edit of {target}, unknown to the chat"));
                };
                self.chat
                    .edit(&message, &author, *ts, cut_body(body))
                    .map_err(err)?;
                self.set(&[(format!("message:{event_id}"), Any::from(message))]);
                Ok(true)
            }
            Incoming::Reaction { target, key, .. } => {
                let Some(message) = self.message_of(target) else {
                    return Err(format!("a reaction to {target}, unknown to the chat"));
                };
                self.chat
                    .react_as(&message, &author, Some(name), key, true)
                    .map_err(err)?;
                let record = format!("{key}\u{1f}{author}\u{1f}{message}");
                self.set(&[(format!("reaction:{event_id}"), Any::from(record))]);
                Ok(true)
            }
            Incoming::Redaction { target, .. } => {
                if let Some(Out::Any(Any::String(record))) = self.get(&format!("reaction:{target}"))
                {
                    let mut parts = record.split('\u{1f}');
                    if let (Some(key), Some(user), Some(message)) =
                        (parts.next(), parts.next(), parts.next())
                    {
                        self.chat.react(message, user, key, false).map_err(err)?;
                    }
                    self.set(&[(format!("message:{event_id}"), Any::from(""))]);
                    return Ok(true);
                }
                let Some(message) = self.message_of(target) else {
                    return Err(format!("a redaction of {target}, unknown to the chat"));
                };
                if self.chat.message(&message).is_some_and(|m| m.deleted) {
                    return Ok(false);
                }
                // Only the author's own redaction deletes: a moderator's
                // would need the chat to let others delete.
                self.chat.delete(&message, &author).map_err(err)?;
                self.set(&[(format!("message:{event_id}"), Any::from(message))]);
                Ok(true)
            }
        }
    }
}

/// `body` cut to what a chat message holds, at a character boundary.
fn cut_body(body: &str) -> &str {
    if body.len() <= MAX_BODY_BYTES {
        return body;
    }
    let mut end = MAX_BODY_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event: &str, body: &str) -> Incoming {
        Incoming::Message {
            event_id: event.into(),
            sender: "@bob:hs".into(),
            ts: 1.0,
            body: body.into(),
            reply_to: None,
        }
    }

    #[test]
    fn messages_before_the_link_stay_out_of_the_room() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.chat().send("alice", 1.0, "old", None).expect("sent");
        assert!(ledger.begin());
        assert!(!ledger.begin());
        let id = ledger.chat().send("alice", 2.0, "new", None).expect("sent");
        let pending = ledger.pending();
        assert!(
            matches!(&pending[..], [Outgoing::Send { message, .. }] if message.id == id),
            "{pending:?}"
        );
        ledger.record_sent(&id, "$1");
        assert!(ledger.pending().is_empty());
    }

    #[test]
    fn an_event_is_imported_once_and_never_relayed_back() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.begin();
        assert_eq!(ledger.apply(&message("$1", "hi"), "Bob"), Ok(true));
        assert_eq!(ledger.apply(&message("$1", "hi"), "Bob"), Ok(false));
        let msgs = ledger.chat().messages();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].author, "matrix:@bob:hs");
        assert_eq!(msgs[0].author_name.as_deref(), Some("Bob"));
        assert!(ledger.pending().is_empty());
        let edit = Incoming::Edit {
            event_id: "$2".into(),
            sender: "@bob:hs".into(),
            ts: 2.0,
            target: "$1".into(),
            body: "hello".into(),
        };
        assert_eq!(ledger.apply(&edit, "Bob"), Ok(true));
        assert_eq!(ledger.chat().messages()[0].body, "hello");
        assert!(ledger.pending().is_empty(), "an imported edit stays in");
        let forged = Incoming::Edit {
            event_id: "$3".into(),
            sender: "@eve:hs".into(),
            ts: 3.0,
            target: "$1".into(),
            body: "pwned".into(),
        };
        assert!(ledger.apply(&forged, "Eve").is_err());
    }

    #[test]
    fn edits_and_deletions_of_relayed_messages_are_pending_once() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.begin();
        let id = ledger
            .chat()
            .send("alice", 1.0, "tpyo", None)
            .expect("sent");
        ledger.record_sent(&id, "$1");
        ledger
            .chat()
            .edit(&id, "alice", 2.0, "typo")
            .expect("edited");
        assert!(matches!(&ledger.pending()[..], [Outgoing::Edit { event, .. }] if event == "$1"));
        ledger.record_edit(&id, 2.0);
        assert!(ledger.pending().is_empty());
        ledger.chat().delete(&id, "alice").expect("deleted");
        assert!(matches!(&ledger.pending()[..], [Outgoing::Redact { event, .. }] if event == "$1"));
        ledger.record_redaction(&id);
        assert!(ledger.pending().is_empty());
    }

    #[test]
    fn atelier_reactions_make_one_annotation_per_emoji_and_take_it_back() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.begin();
        assert_eq!(ledger.apply(&message("$1", "hi"), "Bob"), Ok(true));
        let id = ledger.chat().messages()[0].id.clone();
        let from_matrix = Incoming::Reaction {
            event_id: "$r".into(),
            sender: "@bob:hs".into(),
            target: "$1".into(),
            key: "👍".into(),
        };
        assert_eq!(ledger.apply(&from_matrix, "Bob"), Ok(true));
        assert!(
            ledger.pending().is_empty(),
            "Matrix's own reaction stays there"
        );
        ledger
            .chat()
            .react(&id, "alice", "👍", true)
            .expect("reacted");
        ledger
            .chat()
            .react(&id, "carol", "👍", true)
            .expect("reacted");
        let pending = ledger.pending();
        assert!(
            matches!(&pending[..], [Outgoing::React { key, generation: 0, .. }] if key == "👍"),
            "{pending:?}"
        );
        ledger.record_reaction(&id, "👍", "$a");
        assert!(ledger.pending().is_empty());
        ledger
            .chat()
            .react(&id, "alice", "👍", false)
            .expect("unreacted");
        assert!(ledger.pending().is_empty(), "carol still reacts");
        ledger
            .chat()
            .react(&id, "carol", "👍", false)
            .expect("unreacted");
        assert!(
            matches!(&ledger.pending()[..], [Outgoing::Unreact { reaction, .. }] if reaction == "$a")
        );
        ledger.record_unreaction(&id, "👍", 0);
        assert!(ledger.pending().is_empty());
        ledger
            .chat()
            .react(&id, "alice", "👍", true)
            .expect("reacted");
        assert!(matches!(
            &ledger.pending()[..],
            [Outgoing::React { generation: 1, .. }]
        ));
    }

    #[test]
    fn an_ended_link_begins_afresh() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.begin();
        ledger.set_since("s1");
        let sent = ledger.chat().send("alice", 1.0, "a", None).expect("sent");
        ledger.record_sent(&sent, "$1");
        ledger.end();
        assert_eq!((ledger.start(), ledger.since()), (None, None));
        ledger
            .chat()
            .send("alice", 2.0, "meanwhile", None)
            .expect("sent");
        assert!(ledger.begin(), "a new link begins");
        assert!(ledger.pending().is_empty(), "{:?}", ledger.pending());
        assert_eq!(ledger.event_of(&sent).as_deref(), Some("$1"));
    }

    #[test]
    fn a_refused_message_is_not_sent_again() {
        let doc = Doc::new();
        let ledger = Ledger::new(&doc);
        ledger.begin();
        let id = ledger.chat().send("alice", 1.0, "x", None).expect("sent");
        ledger.record_failure(&id, "M_FORBIDDEN: not in the room");
        assert!(ledger.pending().is_empty());
        assert_eq!(
            ledger.failure(&id).as_deref(),
            Some("M_FORBIDDEN: not in the room")
        );
    }
}
