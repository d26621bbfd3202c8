//! Comment threads anchored to text with sticky positions, so an anchor
//! follows its text through concurrent edits. Threads live in the `Y.Map`
//! named `comments`: thread id → `{id, block, start, end, resolved,
//! messages: Y.Array<{id, author, ts, body}>}` with `start`/`end` as encoded
//! relative positions. (BlockNote keeps its own thread store; Atelier never
//! writes a comment mark into `document-store`, see DESIGN.md §3.)

use crate::block::BlockId;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::sticky::StickyPos;
use yrs::{Any, Array, ArrayPrelim, Assoc, Map, MapPrelim, MapRef, Out, ReadTxn, Transact};

/// Name of the threads map.
pub const COMMENTS: &str = "comments";

/// One comment of a thread.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comment {
    /// Author's user id.
    pub author: String,
    /// Time, ms since the Unix epoch.
    pub ts: f64,
    /// Text.
    pub body: String,
}

/// A thread as read now, with its anchor resolved against current text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Thread {
    /// Thread id.
    pub id: String,
    /// Current block and UTF-16 range of the anchor, if its text still exists.
    pub range: Option<(BlockId, u32, u32)>,
    /// Whether it was resolved.
    pub resolved: bool,
    /// Comments in order.
    pub comments: Vec<Comment>,
}

impl Document {
    fn comments_map(&self) -> yrs::MapRef {
        self.ydoc().get_or_insert_map(COMMENTS)
    }

    /// Opens a thread on `block[start..end]` with a first comment; returns its id.
    pub fn add_thread(
        &self,
        block: &BlockId,
        start: u32,
        end: u32,
        author: &str,
        ts: f64,
        body: &str,
    ) -> Result<String> {
        if end < start || body.trim().is_empty() {
            return Err(Error::InvalidOperation(
                "a comment needs a range and a text".into(),
            ));
        }
        // The start sticks to the text after it and the end to the text
        // before it, so typing at the edges does not grow the range.
        let s = self.sticky_at(block, start, Assoc::After)?;
        let e = self.sticky_at(block, end, Assoc::Before)?;
        let map = self.comments_map();
        let mut txn = self.ydoc().transact_mut();
        let id = format!(
            "t{:x}-{:x}",
            self.ydoc().client_id().get(),
            txn.state_vector().get(&self.ydoc().client_id())
        );
        let thread = map.insert(
            &mut txn,
            id.as_str(),
            MapPrelim::from_iter([
                ("id".to_owned(), Any::from(id.as_str())),
                ("start".to_owned(), Any::from(s.encode())),
                ("end".to_owned(), Any::from(e.encode())),
                ("resolved".to_owned(), Any::Bool(false)),
            ]),
        );
        let messages = thread.insert(&mut txn, "messages", ArrayPrelim::default());
        messages.push_back(&mut txn, comment_prelim(author, ts, body));
        Ok(id)
    }

    /// Adds a reply to a thread.
    pub fn reply_thread(&self, thread: &str, author: &str, ts: f64, body: &str) -> Result<()> {
        if body.trim().is_empty() {
            return Err(Error::InvalidOperation("a comment cannot be empty".into()));
        }
        let map = self.comments_map();
        let mut txn = self.ydoc().transact_mut();
        let t = thread_ref(&txn, &map, thread)?;
        match t.get(&txn, "messages") {
            Some(Out::YArray(a)) => {
                a.push_back(&mut txn, comment_prelim(author, ts, body));
                Ok(())
            }
            _ => Err(Error::Malformed(format!("thread {thread} has no messages"))),
        }
    }

    /// Marks a thread resolved (or reopens it).
    pub fn resolve_thread(&self, thread: &str, resolved: bool) -> Result<()> {
        let map = self.comments_map();
        let mut txn = self.ydoc().transact_mut();
        let t = thread_ref(&txn, &map, thread)?;
        t.insert(&mut txn, "resolved", resolved);
        Ok(())
    }

    /// Every thread, with anchors resolved now.
    pub fn threads(&self) -> Vec<Thread> {
        let map = self.comments_map();
        let raw: Vec<RawThread> = {
            let txn = self.ydoc().transact();
            map.iter(&txn)
                .filter_map(|(id, v)| match v {
                    Out::YMap(t) => Some((id.to_owned(), t)),
                    _ => None,
                })
                .map(|(id, t)| {
                    let buf = |k: &str| match t.get(&txn, k) {
                        Some(Out::Any(Any::Buffer(b))) => Some(b.to_vec()),
                        _ => None,
                    };
                    let comments = match t.get(&txn, "messages") {
                        Some(Out::YArray(a)) => a
                            .iter(&txn)
                            .filter_map(|m| match m {
                                Out::Any(Any::Map(m)) => Some(Comment {
                                    author: any_str(m.get("author")),
                                    ts: match m.get("ts") {
                                        Some(Any::Number(n)) => n.as_f64().unwrap_or(0.0),
                                        _ => 0.0,
                                    },
                                    body: any_str(m.get("body")),
                                }),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let resolved =
                        matches!(t.get(&txn, "resolved"), Some(Out::Any(Any::Bool(true))));
                    (id, buf("start"), buf("end"), resolved, comments)
                })
                .collect()
        };
        let mut out: Vec<Thread> = raw
            .into_iter()
            .map(|(id, s, e, resolved, comments)| {
                let range = (|| {
                    let (sb, so) = self.resolve_sticky(&StickyPos::decode(&s?).ok()?)?;
                    let (eb, eo) = self.resolve_sticky(&StickyPos::decode(&e?).ok()?)?;
                    (sb == eb).then_some((sb, so, eo.max(so)))
                })();
                Thread {
                    id,
                    range,
                    resolved,
                    comments,
                }
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

/// A thread as stored: id, encoded anchors, resolved flag, comments.
type RawThread = (String, Option<Vec<u8>>, Option<Vec<u8>>, bool, Vec<Comment>);

fn any_str(a: Option<&Any>) -> String {
    match a {
        Some(Any::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

fn comment_prelim(author: &str, ts: f64, body: &str) -> Any {
    Any::from(std::collections::HashMap::from([
        ("author".to_owned(), Any::from(author)),
        ("ts".to_owned(), Any::from(ts)),
        ("body".to_owned(), Any::from(body)),
    ]))
}

fn thread_ref<T: ReadTxn>(txn: &T, map: &MapRef, id: &str) -> Result<MapRef> {
    match map.get(txn, id) {
        Some(Out::YMap(t)) => Ok(t),
        _ => Err(Error::InvalidOperation(format!("no comment thread {id}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewBlock, Placement};

    #[test]
    fn anchors_follow_concurrent_edits() {
        let a = Document::with_client_id(1);
        let ids = a
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("le chat dort")])
            .expect("insert");
        let t = a
            .add_thread(&ids[0], 3, 7, "alice", 1.0, "quel chat ?")
            .expect("thread");
        let b = Document::from_update_v1(&a.encode_state_v1()).expect("load");
        b.insert_text(&ids[0], 0, "Ce matin, ")
            .expect("remote edit");
        b.reply_thread(&t, "bob", 2.0, "le mien").expect("reply");
        a.apply_update_v1(&b.encode_state_v1()).expect("sync");
        let threads = a.threads();
        assert_eq!(threads.len(), 1);
        assert_eq!(threads[0].range, Some((ids[0].clone(), 13, 17)));
        assert_eq!(threads[0].comments.len(), 2);
        a.resolve_thread(&t, true).expect("resolve");
        assert!(a.threads()[0].resolved);
        assert!(a.reply_thread("nope", "x", 0.0, "y").is_err());
    }
}
