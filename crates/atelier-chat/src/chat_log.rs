//! The panel's copy of the chat, kept up to date from the model's
//! [`ChatEdit`]s: entries in array order, an id → index lookup, each
//! reply's thread, and the rows a view shows. Pure, tested natively.
//!
//! This is a cache of the model, like the editor's rendered blocks: it is
//! only ever changed by applying what [`atelier_doc::chat::Chat::observe`]
//! reported, never by the widget's own actions.

use atelier_doc::chat::{ChatEdit, ChatMessage};
use std::collections::{BTreeMap, HashMap};

/// How many `replyTo` links are followed to find a thread's root; a longer
/// (or cyclic, from a hostile client) chain stops there.
const MAX_REPLY_HOPS: usize = 64;

/// Which messages the timeline shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum View {
    /// Every message, in order.
    #[default]
    All,
    /// One thread: its root and every reply under it.
    Thread(String),
}

/// What applying a batch of edits did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Messages that arrived (inserted), in order.
    pub arrived: Vec<ChatMessage>,
    /// Ids of messages that changed in place.
    pub changed: Vec<String>,
    /// Whether entries were inserted or removed (rows must be rebuilt).
    pub structure: bool,
}

/// The widget's copy of the chat.
#[derive(Debug, Clone, Default)]
pub struct ChatLog {
    entries: Vec<ChatMessage>,
    index: HashMap<String, usize>,
    /// Per entry: the id of the thread root it belongs to, for replies.
    thread: Vec<Option<String>>,
    reply_counts: HashMap<String, usize>,
}

impl ChatLog {
    /// A log of `entries` (from [`atelier_doc::chat::Chat::entries`]).
    pub fn new(entries: Vec<ChatMessage>) -> Self {
        let mut log = ChatLog {
            entries,
            ..Default::default()
        };
        log.reindex();
        log
    }

    /// Applies observed edits.
    pub fn apply(&mut self, edits: Vec<ChatEdit>) -> Applied {
        self.apply_edits(edits, true)
    }

    /// Applies observed edits that load history (before the first sync):
    /// as [`ChatLog::apply`], but nothing is reported as arrived, so a
    /// chat of 10,000 messages is not copied once more on open.
    pub fn apply_history(&mut self, edits: Vec<ChatEdit>) -> Applied {
        self.apply_edits(edits, false)
    }

    fn apply_edits(&mut self, edits: Vec<ChatEdit>, report_arrived: bool) -> Applied {
        let mut applied = Applied::default();
        let mut rethread = false;
        for edit in edits {
            match edit {
                ChatEdit::Insert { at, messages } => {
                    let at = at.min(self.entries.len());
                    if report_arrived {
                        applied
                            .arrived
                            .extend(messages.iter().filter(|m| !m.id.is_empty()).cloned());
                    }
                    self.entries.splice(at..at, messages);
                    applied.structure = true;
                }
                ChatEdit::Remove { at, len } => {
                    let end = at.saturating_add(len).min(self.entries.len());
                    self.entries.drain(at.min(end)..end);
                    applied.structure = true;
                }
                ChatEdit::Update { at, message } => {
                    if let Some(slot) = self.entries.get_mut(at) {
                        rethread |= slot.reply_to != message.reply_to || slot.id != message.id;
                        if !message.id.is_empty() {
                            applied.changed.push(message.id.clone());
                        }
                        *slot = message;
                    }
                }
            }
        }
        if applied.structure || rethread {
            self.reindex();
            applied.structure = true;
        }
        applied
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (i, m) in self.entries.iter().enumerate() {
            if !m.id.is_empty() {
                self.index.entry(m.id.clone()).or_insert(i);
            }
        }
        self.thread = (0..self.entries.len()).map(|i| self.root_of(i)).collect();
        self.reply_counts.clear();
        for root in self.thread.iter().flatten() {
            *self.reply_counts.entry(root.clone()).or_default() += 1;
        }
    }

    /// The root of entry `i`'s thread: the topmost ancestor reachable
    /// through `replyTo`, or the id a missing parent was given.
    fn root_of(&self, i: usize) -> Option<String> {
        let mut current = &self.entries[i];
        let mut root = current.reply_to.clone()?;
        for _ in 0..MAX_REPLY_HOPS {
            let Some(&p) = self.index.get(&root) else {
                break;
            };
            current = &self.entries[p];
            match &current.reply_to {
                Some(up) if *up != self.entries[i].id => root = up.clone(),
                _ => break,
            }
        }
        (root != self.entries[i].id).then_some(root)
    }

    /// Every entry, in array order (entries that are not messages have an
    /// empty id).
    pub fn entries(&self) -> &[ChatMessage] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of message `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Message `id`.
    pub fn get(&self, id: &str) -> Option<&ChatMessage> {
        self.index_of(id).and_then(|i| self.entries.get(i))
    }

    /// The root of the thread message `id` replies in (None for a message
    /// that answers nothing).
    pub fn thread_of(&self, id: &str) -> Option<&str> {
        self.index_of(id)
            .and_then(|i| self.thread.get(i))
            .and_then(|t| t.as_deref())
    }

    /// How many replies the thread rooted at `id` holds.
    pub fn reply_count(&self, id: &str) -> usize {
        self.reply_counts.get(id).copied().unwrap_or(0)
    }

    /// The entry indices a view shows, in order.
    pub fn rows(&self, view: &View) -> Vec<usize> {
        let shown = |i: usize| !self.entries[i].id.is_empty();
        match view {
            View::All => (0..self.entries.len()).filter(|&i| shown(i)).collect(),
            View::Thread(root) => (0..self.entries.len())
                .filter(|&i| {
                    shown(i)
                        && (self.entries[i].id == *root
                            || self.thread[i].as_deref() == Some(root.as_str()))
                })
                .collect(),
        }
    }

    /// Emoji already used in reactions, most used first.
    pub fn used_emoji(&self) -> Vec<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &self.entries {
            for (emoji, users) in &m.reactions {
                *counts.entry(emoji).or_default() += users.len();
            }
        }
        let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
        // Keys are unique, so an unstable sort is as deterministic.
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.into_iter().map(|(e, _)| e.to_owned()).collect()
    }

    /// Everyone who wrote or reacted, with the latest name they stored:
    /// people who can be mentioned and named while offline.
    pub fn known_people(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for m in &self.entries {
            for (user, name) in &m.reactor_names {
                out.insert(user.clone(), name.clone());
            }
            if !m.author.is_empty() {
                match &m.author_name {
                    Some(name) => {
                        out.insert(m.author.clone(), name.clone());
                    }
                    None => {
                        out.entry(m.author.clone()).or_insert_with(String::new);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::chat::{Chat, NewMessage};
    use std::sync::{Arc, Mutex};
    use yrs::Doc;

    fn msg(id: &str, reply_to: Option<&str>) -> ChatMessage {
        ChatMessage {
            id: id.into(),
            author: "a".into(),
            author_name: None,
            ts: 0.0,
            body: id.into(),
            reply_to: reply_to.map(Into::into),
            reactions: Default::default(),
            reactor_names: Default::default(),
            edited_ts: None,
            deleted: false,
            item: None,
        }
    }

    #[test]
    fn threads_follow_reply_chains() {
        let log = ChatLog::new(vec![
            msg("r", None),
            msg("a", Some("r")),
            msg("b", Some("a")),
            msg("x", None),
            msg("orphan", Some("gone")),
            msg("c1", Some("c2")),
            msg("c2", Some("c1")),
        ]);
        assert_eq!(log.thread_of("b"), Some("r"));
        assert_eq!(log.thread_of("a"), Some("r"));
        assert_eq!(log.thread_of("r"), None);
        assert_eq!(log.reply_count("r"), 2);
        assert_eq!(log.thread_of("orphan"), Some("gone"));
        // A cycle ends without looping; each names the other.
        assert!(log.thread_of("c1").is_some() && log.thread_of("c2").is_some());
        let rows = log.rows(&View::Thread("r".into()));
        assert_eq!(rows, vec![0, 1, 2]);
        assert_eq!(log.rows(&View::All).len(), 7);
    }

    #[test]
    fn edits_keep_the_copy_equal_to_the_model() {
        let doc = Doc::with_client_id(1);
        let chat = Chat::new(&doc);
        chat.send("a", 1.0, "first", None).expect("send");
        let log = Arc::new(Mutex::new(ChatLog::new(chat.entries())));
        let seen = Arc::new(Mutex::new(Vec::<Applied>::new()));
        let (l2, s2) = (log.clone(), seen.clone());
        chat.observe("log", move |edits| {
            let applied = l2.lock().expect("lock").apply(edits);
            s2.lock().expect("lock").push(applied);
        });
        let first = chat.messages()[0].id.clone();
        let reply = chat
            .post(&NewMessage {
                reply_to: Some(&first),
                ..NewMessage::new("b", 2.0, "re")
            })
            .expect("reply");
        chat.react(&first, "b", "👍", true).expect("react");
        chat.react(&reply, "a", "👍", true).expect("react");
        chat.react(&reply, "c", "🎉", true).expect("react");
        let log = log.lock().expect("lock");
        assert_eq!(log.entries(), chat.entries().as_slice());
        assert_eq!(log.reply_count(&first), 1);
        assert_eq!(log.used_emoji(), vec!["👍".to_string(), "🎉".to_string()]);
        let seen = seen.lock().expect("lock");
        assert_eq!(seen[0].arrived.len(), 1);
        assert!(seen[0].structure);
        assert_eq!(seen[1].changed, vec![first.clone()]);
        assert!(!seen[1].structure);
        let people = log.known_people();
        assert!(people.contains_key("a") && people.contains_key("b"));
    }

    #[test]
    fn history_is_applied_without_reporting_arrivals() {
        let mut log = ChatLog::default();
        let applied = log.apply_history(vec![ChatEdit::Insert {
            at: 0,
            messages: vec![msg("a", None), msg("b", Some("a"))],
        }]);
        assert!(applied.arrived.is_empty());
        assert!(applied.structure);
        assert_eq!(log.thread_of("b"), Some("a"));
        let live = log.apply(vec![ChatEdit::Insert {
            at: 2,
            messages: vec![msg("c", None)],
        }]);
        assert_eq!(live.arrived, vec![msg("c", None)]);
    }

    #[test]
    fn hostile_edits_do_not_panic() {
        let mut log = ChatLog::new(vec![msg("a", None)]);
        let applied = log.apply(vec![
            ChatEdit::Remove { at: 5, len: 9 },
            ChatEdit::Update {
                at: 9,
                message: msg("z", None),
            },
            ChatEdit::Insert {
                at: 99,
                messages: vec![msg("b", Some("a"))],
            },
        ]);
        assert_eq!(log.len(), 2);
        assert_eq!(log.thread_of("b"), Some("a"));
        assert_eq!(applied.arrived.len(), 1);
    }
}
