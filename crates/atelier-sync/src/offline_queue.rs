//! Local updates waiting for a synced connection.

/// Entries are merged into one update once there are this many.
const MERGE_AT: usize = 16;

/// What to send when a client flushes its offline queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flush {
    /// Nothing is waiting.
    Nothing,
    /// Send this update; it holds every local update up to sequence number `up_to`.
    Update {
        /// The merged v1 update.
        update: Vec<u8>,
        /// The last local sequence number it contains.
        up_to: u64,
    },
    /// The queue outgrew its cap and dropped its contents: send the whole
    /// document state instead (the document still holds every edit).
    WholeState {
        /// The last local sequence number dropped.
        up_to: u64,
    },
}

/// Local updates made while disconnected or before the first sync.
///
/// Updates are numbered by the caller (a local sequence number) and merged
/// with `yrs::merge_updates_v1` every few pushes, so memory stays near the
/// size of the edits rather than of their history. Past
/// `max_bytes`, the queue stops keeping bytes and asks for the whole document
/// state on the next flush: the document itself is the durable copy, the
/// queue is only an optimization over it.
#[derive(Debug, Clone)]
pub struct OfflineQueue {
    /// (last sequence number contained, v1 update), oldest first.
    entries: Vec<(u64, Vec<u8>)>,
    bytes: usize,
    max_bytes: usize,
    overflowed_up_to: Option<u64>,
}

impl OfflineQueue {
    /// An empty queue holding at most `max_bytes` of updates.
    pub fn new(max_bytes: usize) -> Self {
        OfflineQueue {
            entries: Vec::new(),
            bytes: 0,
            max_bytes,
            overflowed_up_to: None,
        }
    }

    /// Adds the local update numbered `seq` (numbers increase).
    pub fn push(&mut self, seq: u64, update: Vec<u8>) {
        if let Some(up_to) = &mut self.overflowed_up_to {
            *up_to = (*up_to).max(seq);
            return;
        }
        self.bytes += update.len();
        self.entries.push((seq, update));
        if self.entries.len() >= MERGE_AT || self.bytes > self.max_bytes {
            self.merge();
        }
        if self.bytes > self.max_bytes {
            self.overflow();
        }
    }

    fn merge(&mut self) {
        if self.entries.len() < 2 {
            return;
        }
        let up_to = self.entries.iter().map(|(s, _)| *s).max().unwrap_or(0);
        match yrs::merge_updates_v1(self.entries.iter().map(|(_, u)| u.as_slice())) {
            Ok(merged) => {
                self.bytes = merged.len();
                self.entries = vec![(up_to, merged)];
            }
            // Local updates always merge; if yrs ever refuses, fall back to
            // the whole state rather than lose anything.
            Err(_) => self.overflow(),
        }
    }

    fn overflow(&mut self) {
        let up_to = self.entries.iter().map(|(s, _)| *s).max().unwrap_or(0);
        self.entries = Vec::new();
        self.bytes = 0;
        self.overflowed_up_to = Some(self.overflowed_up_to.unwrap_or(0).max(up_to));
    }

    /// Gives up the bytes held and asks for the whole document state on
    /// the next flush, covering local updates up to `up_to` (used when
    /// updates in flight were lost with a connection).
    pub fn require_whole_state(&mut self, up_to: u64) {
        let held = self.entries.iter().map(|(s, _)| *s).max().unwrap_or(0);
        self.entries.clear();
        self.bytes = 0;
        let previous = self.overflowed_up_to.unwrap_or(0);
        self.overflowed_up_to = Some(previous.max(held).max(up_to));
    }

    /// Drops entries wholly contained in updates numbered up to `seq`
    /// (because something already sent covers them).
    pub fn discard_up_to(&mut self, seq: u64) {
        self.entries.retain(|(last, _)| *last > seq);
        self.bytes = self.entries.iter().map(|(_, u)| u.len()).sum();
        if self.overflowed_up_to.is_some_and(|up_to| up_to <= seq) {
            self.overflowed_up_to = None;
        }
    }

    /// Empties the queue into one thing to send.
    pub fn take(&mut self) -> Flush {
        if let Some(up_to) = self.overflowed_up_to.take() {
            self.entries.clear();
            self.bytes = 0;
            return Flush::WholeState { up_to };
        }
        self.merge();
        if let Some(up_to) = self.overflowed_up_to.take() {
            return Flush::WholeState { up_to };
        }
        match self.entries.pop() {
            Some((up_to, update)) => {
                self.bytes = 0;
                Flush::Update { update, up_to }
            }
            None => Flush::Nothing,
        }
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.overflowed_up_to.is_none()
    }

    /// Bytes of updates held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when the queue gave up keeping bytes and will ask for the whole state.
    pub fn overflowed(&self) -> bool {
        self.overflowed_up_to.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, Text, Transact, Update};

    fn edits(n: usize) -> (Doc, Vec<Vec<u8>>) {
        let doc = Doc::with_client_id(3);
        let text = doc.get_or_insert_text("t");
        let mut updates = Vec::new();
        for i in 0..n {
            let mut txn = doc.transact_mut();
            text.push(&mut txn, &format!("{}", i % 10));
            updates.push(txn.encode_update_v1());
        }
        (doc, updates)
    }

    #[test]
    fn merges_and_flushes_everything() {
        let (doc, updates) = edits(40);
        let mut q = OfflineQueue::new(1 << 20);
        for (i, u) in updates.into_iter().enumerate() {
            q.push(i as u64 + 1, u);
        }
        let Flush::Update { update, up_to } = q.take() else {
            panic!("expected an update")
        };
        assert_eq!(up_to, 40);
        assert!(q.is_empty());
        let replica = Doc::new();
        replica
            .transact_mut()
            .apply_update(Update::decode_v1(&update).expect("decodes"))
            .expect("applies");
        let text = replica.get_or_insert_text("t");
        let original = doc.get_or_insert_text("t");
        assert_eq!(
            text.get_string(&replica.transact()),
            original.get_string(&doc.transact())
        );
    }

    #[test]
    fn overflow_falls_back_to_whole_state() {
        let (_, updates) = edits(5);
        let mut q = OfflineQueue::new(8);
        for (i, u) in updates.into_iter().enumerate() {
            q.push(i as u64 + 1, u);
        }
        assert!(q.overflowed());
        assert_eq!(q.take(), Flush::WholeState { up_to: 5 });
        assert_eq!(q.take(), Flush::Nothing);
    }

    #[test]
    fn discards_what_was_covered() {
        let (_, updates) = edits(3);
        let mut q = OfflineQueue::new(1 << 20);
        for (i, u) in updates.into_iter().enumerate() {
            q.push(i as u64 + 1, u);
        }
        q.discard_up_to(2);
        let Flush::Update { up_to, .. } = q.take() else {
            panic!("expected an update")
        };
        assert_eq!(up_to, 3);
        q.push(4, vec![0, 0]);
        q.discard_up_to(4);
        assert!(q.is_empty());
    }
}
