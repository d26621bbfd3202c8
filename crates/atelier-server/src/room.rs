//! Rooms: one loaded document each, shared by its connections.
//!
//! A room holds the document's `yrs` state and awareness in memory while at
//! least one client is connected. Every accepted update is applied, appended
//! to the store, and only then broadcast and acknowledged (DESIGN.md §5).
//!
//! The room's lock is held to apply an update and queue it for the store
//! (so the store's order is the order the room applied them in), not while
//! it is stored: the next update is applied while this one commits, and the
//! store's group commit stores both in one transaction (issue 16). A task
//! per update waits for its commit, then for the update queued before it,
//! and then publishes it (fan-out to other nodes, broadcast, and the answer
//! to the caller): updates leave the room in the order they were applied,
//! each only once it is durable. What the room serves from memory (a
//! newcomer's diff, a full state) is sent only once every update it
//! contains is durable ([`Room::diff`]).

use crate::fanout::Fanout;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use atelier_sync::{AwarenessUpdate, Limits, check_update_v1_against};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::sync::{Mutex, broadcast, oneshot, watch};
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Messages a room's broadcast holds for its slowest connection. A
/// connection that falls further behind (beyond these and its own queue of
/// 256 in `ws.rs`) is closed and resyncs on reconnecting. tokio allocates
/// and fills every slot when the room loads, 64 bytes each: 1,024 slots
/// cost each loaded document 64 KiB (issue 16: 12 KiB per idle connection
/// over 1,000 documents); 256 keep a slow reader bounded at 512 messages.
const ROOM_BROADCAST_SLOTS: usize = 256;

// Applying what other server nodes stored (fan-out, `fanout.rs`).
mod remote;

/// Identifies one connection (or one document subscription of it).
pub type ConnId = u64;

/// The `from` of what another server node sent (no local connection has
/// id 0, so every local client receives it).
pub const REMOTE: ConnId = 0;

/// What a room sends to its connections.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A document update (v1) from connection `from`.
    Update {
        /// Originating connection (it does not get its own update back).
        from: ConnId,
        /// The update.
        update: Arc<[u8]>,
    },
    /// An awareness update from connection `from`.
    Awareness {
        /// Originating connection.
        from: ConnId,
        /// The update.
        update: Arc<AwarenessUpdate>,
    },
    /// The room was closed after a storage failure: its connections must
    /// close too, so their clients reconnect and resync from the store.
    Closed {
        /// Why, for the close frame.
        reason: String,
    },
}

/// Why a room refused an update.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// The update bytes do not decode.
    #[error("malformed update: {0}")]
    Malformed(String),
    /// The update breaks a limit of the protocol (for example it nests
    /// deeper than `max_nesting_depth` once applied to this document).
    #[error("update refused: {0}")]
    Refused(#[from] atelier_sync::SyncError),
    /// The document would grow past the configured limit.
    #[error("document too large: {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Size it would have.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The store failed; the room is closed and reloads from the store.
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

struct State {
    awareness: Awareness,
    /// Approximate encoded size: snapshot plus logged updates.
    size: usize,
    /// Updates logged since the last snapshot.
    log_len: usize,
    /// Awareness client ids each connection published, to remove on leave.
    clients_of: HashMap<ConnId, Vec<u64>>,
    /// When the last automatic version was saved (or the room loaded).
    last_version: Instant,
    /// Whether the document changed since that version.
    changed_since_version: bool,
    /// Every stored update with a seq up to this one is applied here
    /// (per-document seqs are dense: 1, 2, 3…).
    stored_seq: i64,
    /// Seqs applied above `stored_seq`: another node's update may arrive
    /// before an earlier one, or never (then the store fills the gap).
    seqs_ahead: BTreeSet<i64>,
    /// Awareness client ids of other nodes' clients, when last heard of
    /// (expired like y-protocols does if their node dies).
    remote_clients: HashMap<u64, Instant>,
    /// Local updates applied and queued for the store so far.
    submitted: u64,
    /// Fires once the last queued update is published (or given up): the
    /// next one waits for it, so updates are published in queue order.
    publish_tail: Option<oneshot::Receiver<()>>,
}

/// A client's update the room applied and queued for the store.
pub struct Accepted {
    /// `None` for a duplicate: nothing was queued.
    done: Option<oneshot::Receiver<Result<(), RoomError>>>,
}

impl Accepted {
    /// Waits until the update is durable and published (or refused by the
    /// store; the room is closed then).
    pub async fn durable(mut self) -> Result<(), RoomError> {
        self.settle().await
    }

    /// [`Accepted::durable`] without consuming it, for a `select!` loop:
    /// cancel-safe, and called at most once to completion.
    pub async fn settle(&mut self) -> Result<(), RoomError> {
        match &mut self.done {
            None => Ok(()),
            Some(rx) => rx.await.unwrap_or_else(|_| {
                Err(StoreError::Task("the update's publication ended".into()).into())
            }),
        }
    }
}

/// What the task that publishes one queued update needs.
struct Queued {
    from: ConnId,
    bytes: Arc<[u8]>,
    stored: crate::store::PendingAppend,
    /// Fires when the update queued before this one is published.
    previous: Option<oneshot::Receiver<()>>,
    /// Fired (dropped) once this one is.
    turn: oneshot::Sender<()>,
    index: u64,
    started: Instant,
    done: oneshot::Sender<Result<(), RoomError>>,
}

/// One loaded document.
pub struct Room {
    /// Document name.
    pub name: String,
    state: Mutex<State>,
    tx: broadcast::Sender<Outbound>,
    members: AtomicUsize,
    broken: std::sync::atomic::AtomicBool,
    /// Fan-out to other server nodes, if configured.
    fanout: Option<Arc<Fanout>>,
    /// How many of the local updates (in queue order) are published.
    published: watch::Sender<u64>,
}

impl Room {
    /// Subscribes to the room's broadcasts.
    pub fn subscribe(&self) -> broadcast::Receiver<Outbound> {
        self.tx.subscribe()
    }

    /// The document's state vector (for sync step 1).
    pub async fn state_vector(&self) -> StateVector {
        self.state
            .lock()
            .await
            .awareness
            .doc()
            .transact()
            .state_vector()
    }

    /// The diff a peer with state vector `sv` lacks (sync step 2). Taken
    /// from memory, which may hold updates still being stored: it returns
    /// once every update it contains is durable, or fails if the store
    /// refused one (the room is closed then).
    pub async fn diff(&self, sv: &StateVector) -> Result<Vec<u8>, RoomError> {
        let (diff, submitted) = {
            let st = self.state.lock().await;
            let diff = st.awareness.doc().transact().encode_state_as_update_v1(sv);
            (diff, st.submitted)
        };
        let mut published = self.published.subscribe();
        let settled = published
            .wait_for(|n| *n >= submitted || self.is_broken())
            .await
            .is_ok();
        if !settled || self.is_broken() {
            return Err(StoreError::Unavailable(
                "document closed after a storage failure; reconnect".into(),
            )
            .into());
        }
        Ok(diff)
    }

    /// The full state as a v1 update (durable, as [`Room::diff`]).
    pub async fn full_state(&self) -> Result<Vec<u8>, RoomError> {
        self.diff(&StateVector::default()).await
    }

    /// Waits until every local update queued so far is published.
    async fn settled(&self) {
        let submitted = self.state.lock().await.submitted;
        let mut published = self.published.subscribe();
        let _ = published
            .wait_for(|n| *n >= submitted || self.is_broken())
            .await;
    }

    /// The current awareness of every client (for a newcomer).
    pub async fn awareness_update(&self) -> Option<AwarenessUpdate> {
        let st = self.state.lock().await;
        let update = st.awareness.update().ok()?;
        if update.clients.is_empty() {
            return None;
        }
        AwarenessUpdate::decode(&update.encode_v1(), &Limits::default()).ok()
    }

    /// Whether an update adds nothing to the document (a read-only client's
    /// step 2 is acknowledged only then, as Hocuspocus does).
    pub async fn adds_nothing(&self, update: &[u8]) -> bool {
        let st = self.state.lock().await;
        let snapshot = st.awareness.doc().transact().snapshot();
        atelier_sync::update_adds_nothing(update, &snapshot).unwrap_or(false)
    }

    /// Applies, stores, then broadcasts a client's update. Returns once the
    /// update is durable; the caller may then acknowledge it.
    pub async fn apply_update(
        self: &Arc<Self>,
        rooms: &Arc<Rooms>,
        from: ConnId,
        bytes: &[u8],
    ) -> Result<(), RoomError> {
        self.submit_update(rooms, from, bytes)
            .await?
            .durable()
            .await
    }

    /// Checks and applies a client's update and queues it for the store;
    /// returns without waiting for it to be stored. A refusal comes back at
    /// once (nothing changed); [`Accepted::durable`] says when the update
    /// is stored and published, and only then may it be acknowledged.
    pub async fn submit_update(
        self: &Arc<Self>,
        rooms: &Arc<Rooms>,
        from: ConnId,
        bytes: &[u8],
    ) -> Result<Accepted, RoomError> {
        let mut st = self.state.lock().await;
        if self.is_broken() {
            // Closed after a storage failure: what memory holds may be ahead
            // of the store; the client must reconnect and resync.
            return Err(StoreError::Unavailable(
                "document closed after a storage failure; reconnect".into(),
            )
            .into());
        }
        // Checked against this document: an update may only deepen it up
        // to the limit, however many updates it takes (DESIGN.md §4: yrs
        // never sees bytes the check refused).
        check_update_v1_against(bytes, &rooms.limits, st.awareness.doc())?;
        let update = Update::decode_v1(bytes).map_err(|e| RoomError::Malformed(e.to_string()))?;
        let size = st.size + bytes.len();
        if size > rooms.max_document_bytes {
            return Err(RoomError::TooLarge {
                size,
                limit: rooms.max_document_bytes,
            });
        }
        // Deletions do not move the state vector: a delete-only update must
        // not be taken for a duplicate.
        let has_deletes = !update.delete_set().is_empty();
        let before = st.awareness.doc().transact().state_vector();
        st.awareness
            .doc()
            .transact_mut()
            .apply_update(update)
            .map_err(|e| RoomError::Malformed(e.to_string()))?;
        let after = st.awareness.doc().transact().state_vector();
        if before == after && !has_deletes {
            // Nothing new (a duplicate): nothing to store or broadcast.
            return Ok(Accepted { done: None });
        }
        let started = Instant::now();
        let stored = rooms.store.queue_append(&self.name, bytes);
        st.size = size;
        st.submitted += 1;
        let (turn, next) = oneshot::channel();
        let (done, answer) = oneshot::channel();
        let queued = Queued {
            from,
            bytes: Arc::from(bytes),
            stored,
            previous: st.publish_tail.replace(next),
            turn,
            index: st.submitted,
            started,
            done,
        };
        drop(st);
        // A task of its own: the caller may go away (its connection
        // closed), but the update must still be published, and the ones
        // queued after it wait for that.
        tokio::spawn(self.clone().publish(rooms.clone(), queued));
        Ok(Accepted { done: Some(answer) })
    }

    /// Waits for a queued update to be stored and for its predecessor to
    /// be published, then publishes it and answers its caller.
    async fn publish(self: Arc<Self>, rooms: Arc<Rooms>, q: Queued) {
        let stored = q.stored.durable().await;
        if let Some(previous) = q.previous {
            // An error only means that task ended: it is our turn either way.
            let _ = previous.await;
        }
        let result = match stored {
            Err(e) => {
                self.close_after_store_failure(&rooms, &e).await;
                Err(e.into())
            }
            Ok(_) if self.is_broken() => Err(StoreError::Unavailable(
                "document closed after a storage failure; reconnect".into(),
            )
            .into()),
            Ok(seq) => {
                self.publish_stored(&rooms, seq, q.from, q.bytes, q.started)
                    .await;
                Ok(())
            }
        };
        self.published.send_modify(|n| *n = (*n).max(q.index));
        drop(q.turn);
        let _ = q.done.send(result);
    }

    /// Memory is now ahead of the store: drop the room so the next client
    /// reloads what is durable, and close the others (they reconnect and
    /// resync). The caller tells its own client.
    async fn close_after_store_failure(&self, rooms: &Rooms, e: &StoreError) {
        if self.broken.swap(true, Ordering::SeqCst) {
            return;
        }
        rooms.evict(&self.name).await;
        tracing::error!(doc = %self.name, error = %e, "store append failed; room closed");
        let _ = self.tx.send(Outbound::Closed {
            reason: format!("storage failed: {e}"),
        });
        // Wakes whoever waits for a diff: it will not be served.
        self.published.send_modify(|_| {});
    }

    /// Publishes an update stored with `seq`: to other nodes, to this
    /// room's connections, and into the room's bookkeeping.
    async fn publish_stored(
        &self,
        rooms: &Rooms,
        seq: i64,
        from: ConnId,
        bytes: Arc<[u8]>,
        started: Instant,
    ) {
        let mut st = self.state.lock().await;
        // Stored, so other nodes may have it: publish (in seq order, since
        // this is the update's turn).
        st.note_stored(seq);
        if let Some(fanout) = &self.fanout {
            fanout.publish_update(&self.name, seq, &bytes);
        }
        Metrics::add(
            &rooms.metrics.store_append_us_sum,
            started.elapsed().as_micros() as u64,
        );
        Metrics::add(&rooms.metrics.store_appends, 1);
        Metrics::add(&rooms.metrics.updates, 1);
        st.log_len += 1;
        let compact = st.log_len >= rooms.compact_every;
        if compact {
            st.log_len = 0;
        }
        st.changed_since_version = true;
        let version_due = st.last_version.elapsed() >= rooms.version_interval;
        let version_state = if version_due {
            st.last_version = Instant::now();
            st.changed_since_version = false;
            Some(
                st.awareness
                    .doc()
                    .transact()
                    .encode_state_as_update_v1(&StateVector::default()),
            )
        } else {
            None
        };
        let _ = self.tx.send(Outbound::Update {
            from,
            update: bytes,
        });
        drop(st);
        if let Some(state) = version_state {
            rooms.save_auto_version(&self.name, state);
        }
        if compact {
            rooms.compact_in_background(&self.name);
        }
    }

    /// Applies a client's awareness update and forwards it to the others.
    pub async fn apply_awareness(
        &self,
        from: ConnId,
        update: AwarenessUpdate,
    ) -> Result<(), RoomError> {
        let ids: Vec<u64> = update.entries.iter().map(|e| e.client_id).collect();
        let mut st = self.state.lock().await;
        st.awareness
            .apply_update(update.to_yrs())
            .map_err(|e| RoomError::Malformed(e.to_string()))?;
        let known = st.clients_of.entry(from).or_default();
        for id in ids {
            if !known.contains(&id) {
                known.push(id);
            }
        }
        drop(st);
        if let Some(fanout) = &self.fanout {
            fanout.publish_awareness(&self.name, &update);
        }
        let _ = self.tx.send(Outbound::Awareness {
            from,
            update: Arc::new(update),
        });
        Ok(())
    }

    /// Forgets a connection's awareness states and tells the others.
    async fn forget(&self, conn: ConnId) {
        let mut st = self.state.lock().await;
        let Some(ids) = st.clients_of.remove(&conn) else {
            return;
        };
        let clients: Vec<yrs::block::ClientID> = ids
            .iter()
            .map(|id| yrs::block::ClientID::new(*id))
            .collect();
        for c in &clients {
            st.awareness.remove_state(*c);
        }
        let removal = st
            .awareness
            .update_with_clients(clients)
            .ok()
            .and_then(|u| AwarenessUpdate::decode(&u.encode_v1(), &Limits::default()).ok());
        drop(st);
        if let Some(update) = removal {
            if let Some(fanout) = &self.fanout {
                fanout.publish_awareness(&self.name, &update);
            }
            let _ = self.tx.send(Outbound::Awareness {
                from: conn,
                update: Arc::new(update),
            });
        }
    }

    /// The full state if it changed since the last automatic version.
    async fn unversioned_state(&self) -> Option<Vec<u8>> {
        let mut st = self.state.lock().await;
        if !st.changed_since_version {
            return None;
        }
        st.changed_since_version = false;
        Some(
            st.awareness
                .doc()
                .transact()
                .encode_state_as_update_v1(&StateVector::default()),
        )
    }

    /// Whether a store failure closed this room.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }
}

/// Every loaded room, and what rooms need from the server.
pub struct Rooms {
    map: Mutex<HashMap<String, Arc<Room>>>,
    /// The store.
    pub store: Store,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    limits: Limits,
    max_document_bytes: usize,
    compact_every: usize,
    version_interval: std::time::Duration,
    next_conn: AtomicU64,
    /// Fan-out to the other server nodes (`--redis`), attached once.
    fanout: OnceLock<Arc<Fanout>>,
    /// The presence of agents editing over HTTP, one per (document, agent).
    pub agents: crate::agents::AgentPresences,
}

impl Rooms {
    /// A registry over a store.
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        limits: Limits,
        max_document_bytes: usize,
        compact_every: usize,
        version_interval: std::time::Duration,
    ) -> Arc<Self> {
        Arc::new(Rooms {
            map: Mutex::new(HashMap::new()),
            store,
            metrics,
            limits,
            max_document_bytes,
            compact_every: compact_every.max(1),
            version_interval,
            next_conn: AtomicU64::new(1),
            fanout: OnceLock::new(),
            agents: crate::agents::AgentPresences::default(),
        })
    }

    /// Attaches the fan-out to other nodes (once, before serving).
    pub fn attach_fanout(&self, fanout: Arc<Fanout>) {
        let _ = self.fanout.set(fanout);
    }

    /// The fan-out to other nodes, if configured.
    pub fn fanout(&self) -> Option<&Arc<Fanout>> {
        self.fanout.get()
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Joins a room, loading the document from the store if needed.
    pub async fn join(&self, name: &str) -> Result<Arc<Room>, RoomError> {
        let mut map = self.map.lock().await;
        if let Some(room) = map.get(name) {
            room.members.fetch_add(1, Ordering::SeqCst);
            return Ok(room.clone());
        }
        let stored = self.store.load(name).await?;
        let (doc, size, log_len) = doc_from_stored(name, &stored)?;
        let stored_seq = stored
            .updates
            .last()
            .map_or(stored.snapshot_seq, |(seq, _)| *seq);
        let deepest = atelier_doc::Document::from_doc(doc.clone()).deepest_nesting();
        if deepest > self.limits.max_nesting_depth {
            // Stored before the limit existed (or under a higher one): it is
            // served as it is, and readers leave out what lies past their bound.
            tracing::warn!(
                doc = %name,
                deepest,
                max_nesting_depth = self.limits.max_nesting_depth,
                "stored document nests deeper than max_nesting_depth"
            );
        }
        let (tx, _) = broadcast::channel(ROOM_BROADCAST_SLOTS);
        let room = Arc::new(Room {
            name: name.to_owned(),
            state: Mutex::new(State {
                awareness: Awareness::new(doc),
                size,
                log_len,
                clients_of: HashMap::new(),
                last_version: Instant::now(),
                changed_since_version: false,
                stored_seq,
                seqs_ahead: BTreeSet::new(),
                remote_clients: HashMap::new(),
                submitted: 0,
                publish_tail: None,
            }),
            tx,
            members: AtomicUsize::new(1),
            broken: Default::default(),
            fanout: self.fanout().cloned(),
            published: watch::Sender::new(0),
        });
        map.insert(name.to_owned(), room.clone());
        // Subscribed (under the map lock, so subscriptions and
        // unsubscriptions of one name stay in order) only while loaded; the
        // fan-out catches up from the store once the subscription holds.
        if let Some(fanout) = self.fanout() {
            fanout.subscribe(name);
        }
        Metrics::add(&self.metrics.rooms, 1);
        tracing::info!(doc = %name, bytes = size, "document loaded");
        Ok(room)
    }

    /// Leaves a room; the last one out unloads it (after compacting its log).
    pub async fn leave(self: &Arc<Self>, room: &Arc<Room>, conn: ConnId) {
        room.forget(conn).await;
        // Its updates still being stored are published first: a room
        // loaded again from the store must find them there.
        room.settled().await;
        let mut map = self.map.lock().await;
        if room.members.fetch_sub(1, Ordering::SeqCst) == 1 {
            if map.get(&room.name).is_some_and(|r| Arc::ptr_eq(r, room)) {
                map.remove(&room.name);
                if let Some(fanout) = self.fanout() {
                    fanout.unsubscribe(&room.name);
                }
                Metrics::dec(&self.metrics.rooms);
                tracing::info!(doc = %room.name, "document unloaded");
            }
            drop(map);
            if !room.is_broken() {
                // The last one out closes the editing session: keep a version of it.
                if let Some(state) = room.unversioned_state().await {
                    self.save_auto_version(&room.name, state);
                }
                self.compact_in_background(&room.name);
            }
        }
    }

    async fn evict(&self, name: &str) {
        let mut map = self.map.lock().await;
        if map.remove(name).is_some() {
            if let Some(fanout) = self.fanout() {
                fanout.unsubscribe(name);
            }
            Metrics::dec(&self.metrics.rooms);
        }
    }

    /// Loads a document from the store.
    pub async fn load_doc(&self, name: &str) -> Result<(Doc, usize, usize), RoomError> {
        load_stored(&self.store, name).await
    }

    /// Folds a document's stored log into a snapshot.
    pub async fn compact(&self, name: &str) -> Result<(), RoomError> {
        compact_stored(&self.store, &self.metrics, name).await
    }

    /// Saves a periodic version (named `auto`) in the background.
    fn save_auto_version(&self, name: &str, state: Vec<u8>) {
        let (store, name) = (self.store.clone(), name.to_owned());
        tokio::spawn(async move {
            let now = crate::http::now_ms();
            match store.save_version(&name, "auto", now, &state).await {
                Ok(id) => tracing::debug!(doc = %name, id, "automatic version saved"),
                Err(e) => tracing::warn!(doc = %name, error = %e, "automatic version failed"),
            }
        });
    }

    fn compact_in_background(&self, name: &str) {
        let (store, metrics, name) = (self.store.clone(), self.metrics.clone(), name.to_owned());
        tokio::spawn(async move {
            if let Err(e) = compact_stored(&store, &metrics, &name).await {
                tracing::warn!(doc = %name, error = %e, "compaction failed; the log is kept");
            }
        });
    }

    /// A loaded room, without joining it.
    pub async fn get(&self, name: &str) -> Option<Arc<Room>> {
        self.map.lock().await.get(name).cloned()
    }

    /// Names of loaded documents.
    pub async fn loaded(&self) -> Vec<String> {
        self.map.lock().await.keys().cloned().collect()
    }

    /// Compacts every loaded document (graceful shutdown).
    pub async fn flush_all(&self) {
        for name in self.loaded().await {
            if let Err(e) = self.compact(&name).await {
                tracing::warn!(doc = %name, error = %e, "final compaction failed; the log is kept");
            }
        }
    }
}

/// Loads a document: snapshot plus logged updates, applied in order.
/// Returns the doc, its approximate encoded size and the log length.
pub async fn load_stored(store: &Store, name: &str) -> Result<(Doc, usize, usize), RoomError> {
    let stored = store.load(name).await?;
    doc_from_stored(name, &stored)
}

fn doc_from_stored(
    name: &str,
    stored: &crate::store::Stored,
) -> Result<(Doc, usize, usize), RoomError> {
    let doc = Doc::with_options(atelier_doc::doc_options());
    let mut size = 0;
    {
        let mut txn = doc.transact_mut();
        let all = stored
            .snapshot
            .iter()
            .chain(stored.updates.iter().map(|(_, u)| u));
        for bytes in all {
            size += bytes.len();
            let corrupt = |e: String| StoreError::Corrupt {
                doc: name.to_owned(),
                reason: e,
            };
            let update = Update::decode_v1(bytes).map_err(|e| corrupt(e.to_string()))?;
            txn.apply_update(update)
                .map_err(|e| corrupt(e.to_string()))?;
        }
    }
    Ok((doc, size, stored.updates.len()))
}

/// Folds the stored log of a document into a snapshot, computed from what is
/// in the store (not memory), so updates appended by other server processes
/// are never dropped.
///
/// Runs once per document cluster-wide: a node that finds another node (or
/// task) compacting the document skips it.
pub async fn compact_stored(store: &Store, metrics: &Metrics, name: &str) -> Result<(), RoomError> {
    if !store.try_lock_compaction(name).await? {
        Metrics::add(&metrics.compactions_skipped, 1);
        tracing::debug!(doc = %name, "compaction skipped: another node is compacting");
        return Ok(());
    }
    let result = compact_locked(store, metrics, name).await;
    store.unlock_compaction(name).await;
    result
}

async fn compact_locked(store: &Store, metrics: &Metrics, name: &str) -> Result<(), RoomError> {
    let stored = store.load(name).await?;
    let Some(last_seq) = stored.updates.last().map(|(s, _)| *s) else {
        return Ok(());
    };
    let (doc, _, _) = doc_from_stored(name, &stored)?;
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    store.compact(name, last_seq, &snapshot).await?;
    Metrics::add(&metrics.compactions, 1);
    tracing::debug!(doc = %name, seq = last_seq, bytes = snapshot.len(), "log compacted");
    Ok(())
}
