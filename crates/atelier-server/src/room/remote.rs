//! What a room does with what other server nodes stored: apply it to the
//! in-memory document and broadcast it to local clients, never store it
//! again (the node that accepted it did). Also the catch-up from the store
//! that closes the races of pub/sub (a message published before this node
//! subscribed, or lost while Redis was away), and the awareness of other
//! nodes' clients. The fan-out itself is `crate::fanout`.

use super::{Outbound, REMOTE, Room, RoomError, Rooms, State};
use crate::store::StoreError;
use atelier_sync::{AwarenessUpdate, Limits, check_update_v1_against};
use std::sync::Arc;
use std::time::{Duration, Instant};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact, Update};

/// What applying another node's update found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteApplied {
    /// The update was new here (applied and broadcast to local clients).
    pub applied: bool,
    /// Some earlier seq is still missing: unless it arrives soon, the
    /// caller catches up from the store.
    pub gap: bool,
}

impl State {
    /// Records that the stored update `seq` is applied here.
    pub(super) fn note_stored(&mut self, seq: i64) {
        if seq <= self.stored_seq {
            return;
        }
        self.seqs_ahead.insert(seq);
        while self.seqs_ahead.first() == Some(&(self.stored_seq + 1)) {
            self.seqs_ahead.pop_first();
            self.stored_seq += 1;
        }
    }

    fn has_seq(&self, seq: i64) -> bool {
        seq <= self.stored_seq || self.seqs_ahead.contains(&seq)
    }
}

impl Room {
    /// Applies an update another node stored with `seq` and broadcasts it
    /// to this node's clients. Checked like a client's update (the bytes
    /// came over the network), but never refused for size: it is stored.
    pub async fn apply_remote_update(
        &self,
        rooms: &Rooms,
        seq: i64,
        bytes: &[u8],
    ) -> Result<RemoteApplied, RoomError> {
        let mut st = self.state.lock().await;
        if self.is_broken() || st.has_seq(seq) {
            return Ok(RemoteApplied {
                applied: false,
                gap: !st.seqs_ahead.is_empty(),
            });
        }
        check_update_v1_against(bytes, &rooms.limits, st.awareness.doc())?;
        let update = Update::decode_v1(bytes).map_err(|e| RoomError::Malformed(e.to_string()))?;
        st.awareness
            .doc()
            .transact_mut()
            .apply_update(update)
            .map_err(|e| RoomError::Malformed(e.to_string()))?;
        st.size += bytes.len();
        st.changed_since_version = true;
        st.note_stored(seq);
        let gap = !st.seqs_ahead.is_empty();
        drop(st);
        let _ = self.tx.send(Outbound::Update {
            from: REMOTE,
            update: Arc::from(bytes),
        });
        Ok(RemoteApplied { applied: true, gap })
    }

    /// The highest seq up to which every stored update is applied here.
    pub async fn stored_seq(&self) -> i64 {
        self.state.lock().await.stored_seq
    }

    /// Applies what the store holds beyond what this room has applied, and
    /// sends local clients what they lack (one diff). Returns how many
    /// stored records (snapshot or updates) were new here.
    pub async fn catch_up(&self, rooms: &Rooms) -> Result<usize, RoomError> {
        let after = self.state.lock().await.stored_seq;
        let stored = rooms.store.load_since(&self.name, after).await?;
        let mut guard = self.state.lock().await;
        if self.is_broken() {
            return Ok(0);
        }
        let st = &mut *guard;
        let before = st.awareness.doc().transact().state_vector();
        let mut has_deletes = false;
        let mut applied = 0;
        let mut top = stored.snapshot_seq;
        {
            let doc = st.awareness.doc();
            let mut txn = doc.transact_mut();
            let snapshot = stored.snapshot.iter().map(|s| (stored.snapshot_seq, s));
            let updates = stored.updates.iter().map(|(seq, u)| (*seq, u));
            for (seq, bytes) in snapshot.chain(updates) {
                top = top.max(seq);
                if st.stored_seq >= seq || st.seqs_ahead.contains(&seq) {
                    continue;
                }
                let corrupt = |reason: String| StoreError::Corrupt {
                    doc: self.name.clone(),
                    reason,
                };
                let update = Update::decode_v1(bytes).map_err(|e| corrupt(e.to_string()))?;
                has_deletes |= !update.delete_set().is_empty();
                txn.apply_update(update)
                    .map_err(|e| corrupt(e.to_string()))?;
                st.size += bytes.len();
                applied += 1;
            }
        }
        // Everything stored up to `top` is now applied.
        if top > st.stored_seq {
            st.stored_seq = top;
            st.seqs_ahead.retain(|s| *s > top);
            st.note_stored(top);
        }
        let after_sv = st.awareness.doc().transact().state_vector();
        let diff = (before != after_sv || has_deletes).then(|| {
            st.awareness
                .doc()
                .transact()
                .encode_state_as_update_v1(&before)
        });
        if diff.is_some() {
            st.changed_since_version = true;
        }
        drop(guard);
        if let Some(diff) = diff {
            let _ = self.tx.send(Outbound::Update {
                from: REMOTE,
                update: Arc::from(diff),
            });
        }
        Ok(applied)
    }

    /// Applies an awareness change of another node's client and forwards it
    /// to this node's clients.
    pub async fn apply_remote_awareness(&self, update: AwarenessUpdate) -> Result<(), RoomError> {
        let mut st = self.state.lock().await;
        st.awareness
            .apply_update(update.to_yrs())
            .map_err(|e| RoomError::Malformed(e.to_string()))?;
        let now = Instant::now();
        for e in &update.entries {
            if e.state == "null" {
                st.remote_clients.remove(&e.client_id);
            } else {
                st.remote_clients.insert(e.client_id, now);
            }
        }
        drop(st);
        let _ = self.tx.send(Outbound::Awareness {
            from: REMOTE,
            update: Arc::new(update),
        });
        Ok(())
    }

    /// Removes other nodes' clients not heard of for `timeout` (their node
    /// died without saying they left; live clients renew their state every
    /// 15 s, as y-protocols does) and tells local clients.
    pub async fn expire_remote_awareness(&self, timeout: Duration) {
        let mut st = self.state.lock().await;
        let stale: Vec<u64> = st
            .remote_clients
            .iter()
            .filter(|(_, seen)| seen.elapsed() >= timeout)
            .map(|(id, _)| *id)
            .collect();
        if stale.is_empty() {
            return;
        }
        let clients: Vec<yrs::block::ClientID> = stale
            .iter()
            .map(|id| yrs::block::ClientID::new(*id))
            .collect();
        for (id, c) in stale.iter().zip(&clients) {
            st.remote_clients.remove(id);
            st.awareness.remove_state(*c);
        }
        let removal = st
            .awareness
            .update_with_clients(clients)
            .ok()
            .and_then(|u| AwarenessUpdate::decode(&u.encode_v1(), &Limits::default()).ok());
        drop(st);
        if let Some(update) = removal {
            let _ = self.tx.send(Outbound::Awareness {
                from: REMOTE,
                update: Arc::new(update),
            });
        }
    }

    /// The awareness states of this node's own clients, re-announced to the
    /// other nodes after a fan-out outage (what they missed meanwhile).
    pub async fn local_awareness(&self) -> Option<AwarenessUpdate> {
        let st = self.state.lock().await;
        let clients: Vec<yrs::block::ClientID> = st
            .clients_of
            .values()
            .flatten()
            .map(|id| yrs::block::ClientID::new(*id))
            .collect();
        if clients.is_empty() {
            return None;
        }
        let update = st.awareness.update_with_clients(clients).ok()?;
        AwarenessUpdate::decode(&update.encode_v1(), &Limits::default()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::store::Store;

    async fn rooms() -> (tempfile::TempDir, Arc<Rooms>) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.db");
        let store = Store::open(&path.display().to_string())
            .await
            .expect("store");
        let rooms = Rooms::new(
            store,
            Arc::new(Metrics::default()),
            Limits::default(),
            1 << 20,
            500,
            Duration::from_secs(600),
        );
        (dir, rooms)
    }

    fn text_update(client: u64, text: &str) -> Vec<u8> {
        let doc = yrs::Doc::with_client_id(client);
        let t = doc.get_or_insert_text("text");
        yrs::Text::insert(&t, &mut doc.transact_mut(), 0, text);
        doc.transact()
            .encode_state_as_update_v1(&yrs::StateVector::default())
    }

    #[tokio::test]
    async fn seqs_out_of_order_close_the_gap_and_duplicates_are_skipped() {
        let (_dir, rooms) = rooms().await;
        let room = rooms.join("d").await.expect("join");
        let mut rx = room.subscribe();
        let third = room
            .apply_remote_update(&rooms, 3, &text_update(7, "c"))
            .await
            .expect("apply");
        assert_eq!(
            third,
            RemoteApplied {
                applied: true,
                gap: true
            }
        );
        room.apply_remote_update(&rooms, 1, &text_update(8, "a"))
            .await
            .expect("apply");
        let second = room
            .apply_remote_update(&rooms, 2, &text_update(9, "b"))
            .await
            .expect("apply");
        assert_eq!(
            second,
            RemoteApplied {
                applied: true,
                gap: false
            }
        );
        assert_eq!(room.stored_seq().await, 3);
        let again = room
            .apply_remote_update(&rooms, 2, &text_update(9, "b"))
            .await
            .expect("apply");
        assert!(!again.applied);
        for _ in 0..3 {
            let out = rx.try_recv().expect("broadcast");
            assert!(
                matches!(out, Outbound::Update { from: REMOTE, .. }),
                "{out:?}"
            );
        }
        assert!(rx.try_recv().is_err(), "a duplicate is not broadcast");
    }

    #[tokio::test]
    async fn catch_up_applies_what_another_node_stored_and_sends_the_diff() {
        let (_dir, rooms) = rooms().await;
        let room = rooms.join("d").await.expect("join");
        let mut rx = room.subscribe();
        // Another process appends to the same store (as a second node would).
        rooms
            .store
            .append("d", &text_update(5, "hello"))
            .await
            .expect("append");
        assert_eq!(room.catch_up(&rooms).await.expect("catch up"), 1);
        assert_eq!(room.stored_seq().await, 1);
        let Ok(Outbound::Update { update, .. }) = rx.try_recv() else {
            panic!("no diff broadcast");
        };
        let doc = yrs::Doc::new();
        doc.transact_mut()
            .apply_update(Update::decode_v1(&update).expect("decode"))
            .expect("apply");
        let text = doc.get_or_insert_text("text");
        assert_eq!(yrs::GetString::get_string(&text, &doc.transact()), "hello");
        assert_eq!(room.catch_up(&rooms).await.expect("catch up"), 0);
        assert!(rx.try_recv().is_err(), "nothing new, nothing sent");
    }
}
