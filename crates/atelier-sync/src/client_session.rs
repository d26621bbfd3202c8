//! The client side of one document, sans-I/O.
//!
//! The session is given the `yrs::Doc` it keeps in sync and **applies remote
//! updates to it itself**, in transactions whose origin is
//! [`ClientSession::origin`]. It watches the document for local updates
//! (every transaction with another origin) through an update observer, so
//! the caller only edits the document and then drains
//! [`ClientSession::poll_transmit`]. Time is always passed in (`now_ms`,
//! any monotonic millisecond clock); the session never reads a clock.
//!
//! Lifecycle, per connection:
//! 1. [`ClientSession::connected`]: queues auth (Hocuspocus), sync step 1
//!    with the current state vector, and the local awareness state.
//! 2. [`ClientSession::receive`] for every frame. A server step 1 is
//!    answered with the diff against the server's state vector (this carries
//!    every local edit the server lacks, offline ones included); the first
//!    step 2 marks the session synced and flushes the offline queue.
//! 3. [`ClientSession::disconnected`]: local edits go to the offline queue
//!    until the next sync.
//!
//! Acknowledgements: every local transaction gets a sequence number
//! ([`ClientSession::local_seq`]). With the Hocuspocus framing the server
//! answers each update and each step 2 with a SyncStatus, in order; the
//! session matches them and reports [`ClientEvent::Confirmed`] or
//! [`ClientEvent::Rejected`] with the highest sequence number concerned.
//! y-websocket has no acknowledgements: there an update counts as confirmed
//! once sent on a synced connection.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use yrs::updates::decoder::Decode;
use yrs::{Doc, Origin, ReadTxn, StateVector, Transact, Update};

use crate::auth::{Access, HocuspocusAuth, YwsAuth};
use crate::awareness::{AwarenessEntry, AwarenessUpdate, check_json};
use crate::awareness_states::{AwarenessChange, AwarenessStates};
use crate::error::{Result, SyncError};
use crate::extra_awareness::ExtraAwareness;
use crate::hocuspocus_frame::{HocuspocusFrame, HocuspocusMessage};
use crate::limits::Limits;
use crate::message::SyncMessage;
use crate::offline_queue::{Flush, OfflineQueue};
use crate::state_vector::EncodedStateVector;
use crate::ywebsocket_frame::YwsMessage;

/// Which framing a client session speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFraming {
    /// y-websocket: one document per socket; the document is named in the URL.
    YWebsocket,
    /// Hocuspocus: every message names the document; auth goes first.
    Hocuspocus {
        /// The document name (the address every frame carries).
        document: String,
        /// The token sent in the Auth message.
        token: String,
        /// Sent after the token, as Hocuspocus 4 providers do (`None` keeps
        /// the Hocuspocus 3 layout, which 4.x servers also accept).
        provider_version: Option<String>,
    },
}

/// Settings of a [`ClientSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The framing.
    pub framing: ClientFraming,
    /// Decoding caps.
    pub limits: Limits,
    /// Re-announce the local awareness state this often (y-protocols: 15 s).
    pub awareness_renew_ms: u64,
    /// Drop remote awareness states not renewed for this long (y-protocols: 30 s).
    pub awareness_timeout_ms: u64,
    /// Report [`ClientEvent::Stale`] after this long without any frame
    /// (y-websocket reconnects after 30 s).
    pub stale_after_ms: u64,
}

impl ClientConfig {
    /// A y-websocket client with default limits and timers.
    pub fn y_websocket() -> Self {
        Self::with_framing(ClientFraming::YWebsocket)
    }

    /// A Hocuspocus client for `document`, authenticating with `token`.
    pub fn hocuspocus(document: impl Into<String>, token: impl Into<String>) -> Self {
        Self::with_framing(ClientFraming::Hocuspocus {
            document: document.into(),
            token: token.into(),
            provider_version: None,
        })
    }

    fn with_framing(framing: ClientFraming) -> Self {
        ClientConfig {
            framing,
            limits: Limits::default(),
            awareness_renew_ms: 15_000,
            awareness_timeout_ms: 30_000,
            stale_after_ms: 30_000,
        }
    }
}

/// Where a client session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStatus {
    /// No connection.
    Disconnected,
    /// Connected; waiting for the server's sync step 2.
    Syncing,
    /// Connected and synced: local edits go out at once.
    Synced,
    /// The server refused the document (until the next [`ClientSession::connected`]).
    Denied,
}

/// Something the caller may want to react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server opened the document (Hocuspocus), with this access.
    Authenticated {
        /// Read-only or read-write.
        access: Access,
    },
    /// The server refused the document.
    PermissionDenied {
        /// The server's reason.
        reason: String,
    },
    /// The first sync step 2 of this connection was applied.
    Synced,
    /// A remote update was applied to the document.
    RemoteUpdate,
    /// The server confirmed every local update up to this sequence number.
    Confirmed {
        /// Highest confirmed local sequence number.
        up_to: u64,
    },
    /// The server refused an update holding local updates up to this
    /// sequence number (for example on a read-only document).
    Rejected {
        /// Highest local sequence number in the refused update.
        up_to: u64,
    },
    /// Remote awareness states changed.
    Awareness(AwarenessChange),
    /// A Hocuspocus stateless message.
    Stateless {
        /// The payload.
        payload: String,
    },
    /// The server closed the document (Hocuspocus Close); connect again to resume.
    Closed {
        /// The server's reason.
        reason: Option<String>,
    },
    /// Nothing arrived for [`ClientConfig::stale_after_ms`]: reconnect.
    Stale,
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

type Captured = Arc<Mutex<Vec<Vec<u8>>>>;

/// The client side of one document.
#[derive(Debug)]
pub struct ClientSession {
    doc: Doc,
    origin: Origin,
    config: ClientConfig,
    captured: Captured,
    status: ClientStatus,
    access: Option<Access>,
    local_seq: u64,
    confirmed_seq: u64,
    sent_seq: u64,
    pending_acks: VecDeque<u64>,
    offline: OfflineQueue,
    local_awareness: Option<String>,
    /// States published under other client ids (agents editing through the page).
    extra: ExtraAwareness,
    local_clock: u64,
    local_announced_ms: u64,
    remote: AwarenessStates,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<ClientEvent>,
    last_received_ms: u64,
    stale_reported: bool,
    resync_pending: bool,
}

impl ClientSession {
    /// Starts a disconnected session for `doc`.
    ///
    /// Fails with [`SyncError::DocumentBusy`] if a transaction on `doc` is
    /// open (the update observer cannot be registered then).
    pub fn new(doc: Doc, config: ClientConfig) -> Result<Self> {
        let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        let origin = Origin::from(format!("atelier-sync/{id}"));
        let captured: Captured = Arc::new(Mutex::new(Vec::new()));
        let weak: Weak<Mutex<Vec<Vec<u8>>>> = Arc::downgrade(&captured);
        let own = origin.clone();
        doc.observe_update_v1(origin.clone(), move |txn, event| {
            if txn.origin() == Some(&own) {
                return;
            }
            // A dropped session leaves no growing buffer behind, even if
            // unobserving failed because a transaction was open.
            if let Some(buf) = weak.upgrade() {
                let mut buf = buf.lock().unwrap_or_else(|p| p.into_inner());
                buf.push(event.update.clone());
            }
        })
        .map_err(|_| SyncError::DocumentBusy)?;
        let offline = OfflineQueue::new(config.limits.max_offline_bytes);
        let remote = AwarenessStates::new(config.limits.max_awareness_clients);
        Ok(ClientSession {
            doc,
            origin,
            config,
            captured,
            status: ClientStatus::Disconnected,
            access: None,
            local_seq: 0,
            confirmed_seq: 0,
            sent_seq: 0,
            pending_acks: VecDeque::new(),
            offline,
            local_awareness: None,
            extra: ExtraAwareness::default(),
            local_clock: 0,
            local_announced_ms: 0,
            remote,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            last_received_ms: 0,
            stale_reported: false,
            resync_pending: false,
        })
    }

    /// The document kept in sync.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The transaction origin of remote updates applied by this session.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The Hocuspocus document name, if this session speaks Hocuspocus.
    pub fn document_name(&self) -> Option<&str> {
        match &self.config.framing {
            ClientFraming::Hocuspocus { document, .. } => Some(document),
            ClientFraming::YWebsocket => None,
        }
    }

    /// Where the session stands.
    pub fn status(&self) -> ClientStatus {
        self.status
    }

    /// True while a connection is open and the document not refused.
    pub fn is_connected(&self) -> bool {
        matches!(self.status, ClientStatus::Syncing | ClientStatus::Synced)
    }

    /// The access the server granted (Hocuspocus), once known.
    pub fn access(&self) -> Option<Access> {
        self.access
    }

    /// The sequence number of the latest local update seen.
    pub fn local_seq(&self) -> u64 {
        self.local_seq
    }

    /// The highest local sequence number the server confirmed.
    pub fn confirmed_seq(&self) -> u64 {
        self.confirmed_seq
    }

    /// Local updates not yet confirmed (Hocuspocus providers call this
    /// `unsyncedChanges`, counted in messages; here in local transactions).
    pub fn unsynced_changes(&mut self) -> u64 {
        self.pump();
        self.local_seq - self.confirmed_seq
    }

    /// Bytes waiting in the offline queue.
    pub fn offline_bytes(&self) -> usize {
        self.offline.bytes()
    }

    /// Remote awareness states.
    pub fn remote_awareness(&self) -> &AwarenessStates {
        &self.remote
    }

    /// The transport opened: queue the handshake.
    pub fn connected(&mut self, now_ms: u64) {
        self.pump();
        self.status = ClientStatus::Syncing;
        self.access = None;
        self.pending_acks.clear();
        self.last_received_ms = now_ms;
        self.stale_reported = false;
        self.resync_pending = false;
        if let ClientFraming::Hocuspocus { .. } = self.config.framing {
            self.send_token();
        }
        self.send_step1();
        if self.local_awareness.is_some() {
            self.send_local_awareness(now_ms);
        }
        self.send_extra_awareness(now_ms);
    }

    /// The transport closed. Unacknowledged updates will be sent again by
    /// the next sync; remote awareness states are dropped.
    pub fn disconnected(&mut self, _now_ms: u64) {
        self.pump();
        if self.status != ClientStatus::Denied {
            self.status = ClientStatus::Disconnected;
        }
        self.go_offline();
    }

    fn go_offline(&mut self) {
        self.pending_acks.clear();
        self.outgoing.clear();
        if self.confirmed_seq < self.sent_seq {
            // Updates in flight left the queue when they were sent. The next
            // exchange of state vectors sends again whatever the server
            // lacks; should the server never send its step 1, the whole
            // state goes instead.
            self.offline.require_whole_state(self.sent_seq);
        }
        let removed = self.remote.clear();
        if !removed.is_empty() {
            self.events
                .push_back(ClientEvent::Awareness(AwarenessChange {
                    removed,
                    ..AwarenessChange::default()
                }));
        }
    }

    /// Handles one frame from the server.
    ///
    /// An `Err` means the frame was malformed or oversized (close the
    /// connection), or [`SyncError::DocumentBusy`]: a transaction on the
    /// document was open; nothing was applied, call again with the same frame.
    pub fn receive(&mut self, now_ms: u64, frame: &[u8]) -> Result<()> {
        self.pump();
        let message = match &self.config.framing {
            ClientFraming::YWebsocket => match YwsMessage::decode(frame, &self.config.limits)? {
                YwsMessage::Sync(sync) => Incoming::Sync(sync),
                YwsMessage::Awareness(update) => Incoming::Awareness(update),
                YwsMessage::QueryAwareness => Incoming::QueryAwareness,
                YwsMessage::Auth(YwsAuth::PermissionDenied { reason }) => Incoming::Denied(reason),
                YwsMessage::Auth(YwsAuth::Granted) => Incoming::Authenticated(Access::ReadWrite),
            },
            ClientFraming::Hocuspocus { document: name, .. } => {
                match HocuspocusFrame::decode(frame, &self.config.limits)? {
                    HocuspocusFrame::Ping => Incoming::Ping,
                    HocuspocusFrame::Pong => Incoming::Ignore,
                    HocuspocusFrame::Message { document, .. } if document != *name => {
                        // Another document on a shared socket: not ours.
                        Incoming::Ignore
                    }
                    HocuspocusFrame::Message { message, .. } => Incoming::from_hocuspocus(message)?,
                }
            }
        };
        self.last_received_ms = now_ms;
        self.stale_reported = false;
        self.handle(now_ms, message)
    }

    fn handle(&mut self, now_ms: u64, message: Incoming) -> Result<()> {
        match message {
            Incoming::Ignore => {}
            Incoming::Ping => self.outgoing.push_back(HocuspocusFrame::Pong.encode()),
            Incoming::Sync(SyncMessage::Step1(sv)) => self.answer_step1(&sv),
            Incoming::Sync(SyncMessage::Step2(update)) => {
                self.apply(&update)?;
                self.events.push_back(ClientEvent::RemoteUpdate);
                self.resync_pending = false;
                if self.status == ClientStatus::Syncing {
                    self.status = ClientStatus::Synced;
                    self.events.push_back(ClientEvent::Synced);
                    self.flush_offline();
                }
            }
            Incoming::Sync(SyncMessage::Update(update)) => {
                let missing = self.apply(&update)?;
                self.events.push_back(ClientEvent::RemoteUpdate);
                if missing && !self.resync_pending && self.is_connected() {
                    // An update arrived before one it depends on (a message
                    // was lost): ask the server for everything we lack.
                    self.resync_pending = true;
                    self.send_step1();
                }
            }
            Incoming::Awareness(mut update) => {
                if self.extra.owns_any(&update) {
                    self.reclaim_extra(&mut update);
                }
                let local = self.doc.client_id().get();
                let applied = self.remote.apply(&update, now_ms, Some(local));
                if let Some(seen) = applied.local_clock_seen
                    && seen >= self.local_clock
                    && self.local_awareness.is_some()
                {
                    // Someone announced (or removed) our state with a newer
                    // clock: outbid it, as y-protocols does.
                    self.local_clock = seen;
                    self.send_local_awareness(now_ms);
                }
                if !applied.change.is_empty() {
                    self.events
                        .push_back(ClientEvent::Awareness(applied.change));
                }
            }
            Incoming::QueryAwareness => {
                let mut update = self.remote.to_update();
                if let Some(state) = &self.local_awareness {
                    update.entries.insert(0, self.local_entry(state.clone()));
                }
                update.entries.extend(self.extra.live());
                self.push_awareness(update);
            }
            Incoming::TokenRequest => self.send_token(),
            Incoming::Denied(reason) => {
                self.status = ClientStatus::Denied;
                self.events
                    .push_back(ClientEvent::PermissionDenied { reason });
            }
            Incoming::Authenticated(access) => {
                self.access = Some(access);
                self.events.push_back(ClientEvent::Authenticated { access });
            }
            Incoming::Stateless(payload) => {
                self.events.push_back(ClientEvent::Stateless { payload })
            }
            Incoming::Closed(reason) => {
                self.status = ClientStatus::Disconnected;
                self.go_offline();
                self.events.push_back(ClientEvent::Closed { reason });
            }
            Incoming::SyncStatus(applied) => {
                if let Some(up_to) = self.pending_acks.pop_front() {
                    if applied {
                        if up_to > self.confirmed_seq {
                            self.confirmed_seq = up_to;
                        }
                        self.events.push_back(ClientEvent::Confirmed {
                            up_to: self.confirmed_seq,
                        });
                    } else {
                        self.events.push_back(ClientEvent::Rejected { up_to });
                    }
                }
            }
        }
        Ok(())
    }

    /// Sets (or with `None` removes) the local awareness state, as JSON, and
    /// announces it when connected.
    pub fn set_local_awareness(&mut self, now_ms: u64, state: Option<&str>) -> Result<()> {
        if let Some(json) = state {
            let limit = self.config.limits.max_awareness_state_bytes;
            if json.len() > limit {
                return Err(SyncError::TooLarge {
                    what: "awareness state",
                    size: json.len() as u64,
                    limit: limit as u64,
                });
            }
            check_json(json, "awareness state")?;
        }
        self.local_awareness = state.filter(|s| *s != "null").map(str::to_owned);
        if self.status != ClientStatus::Disconnected {
            self.send_local_awareness(now_ms);
        } else {
            self.local_clock += 1;
        }
        Ok(())
    }

    /// Sets (or with `None` withdraws) a state published under `client_id`,
    /// another collaborator than this replica: an agent editing through
    /// the page, whose name and caret every peer should see as its own.
    /// It is announced when connected, renewed like the local state and
    /// included in answers to awareness queries; peers' copies of it are
    /// never taken for remote states. The document's own client id is refused.
    pub fn set_extra_awareness(
        &mut self,
        now_ms: u64,
        client_id: u64,
        state: Option<&str>,
    ) -> Result<()> {
        if client_id == self.doc.client_id().get() {
            return Err(SyncError::malformed(
                "extra awareness state",
                "it needs a client id other than the document's",
            ));
        }
        let state = state.filter(|s| *s != "null");
        if let Some(json) = state {
            let limit = self.config.limits.max_awareness_state_bytes;
            if json.len() > limit {
                return Err(SyncError::TooLarge {
                    what: "awareness state",
                    size: json.len() as u64,
                    limit: limit as u64,
                });
            }
            check_json(json, "awareness state")?;
        }
        let entry = self.extra.set(client_id, state.map(str::to_owned));
        if let Some(entry) = entry
            && self.status != ClientStatus::Disconnected
        {
            self.push_awareness(AwarenessUpdate {
                entries: vec![entry],
            });
            self.extra.announced_ms = now_ms;
        }
        Ok(())
    }

    /// Asks the server again for everything this replica lacks (a fresh step 1).
    pub fn resync(&mut self) {
        if self.is_connected() {
            self.send_step1();
        }
    }

    /// Sends a Hocuspocus stateless message.
    pub fn send_stateless(&mut self, payload: &str) {
        if let ClientFraming::Hocuspocus { document, .. } = &self.config.framing {
            let frame = HocuspocusMessage::Stateless(payload.to_owned()).encode_for(document);
            self.outgoing.push_back(frame);
        }
    }

    /// Timers: re-announces the local awareness state, expires remote ones,
    /// reports a stale connection.
    pub fn tick(&mut self, now_ms: u64) {
        self.pump();
        if self.status == ClientStatus::Disconnected {
            return;
        }
        if self.local_awareness.is_some()
            && now_ms.saturating_sub(self.local_announced_ms) >= self.config.awareness_renew_ms
        {
            self.send_local_awareness(now_ms);
        }
        if now_ms.saturating_sub(self.extra.announced_ms) >= self.config.awareness_renew_ms {
            self.send_extra_awareness(now_ms);
        }
        let removed = self.remote.expire(now_ms, self.config.awareness_timeout_ms);
        if !removed.is_empty() {
            self.events
                .push_back(ClientEvent::Awareness(AwarenessChange {
                    removed,
                    ..AwarenessChange::default()
                }));
        }
        if !self.stale_reported
            && now_ms.saturating_sub(self.last_received_ms) >= self.config.stale_after_ms
        {
            self.stale_reported = true;
            self.events.push_back(ClientEvent::Stale);
        }
    }

    /// The next frame to send, if any. Picks up local edits first.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.pump();
        self.outgoing.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Takes the local updates the observer captured: sends them when
    /// synced, queues them otherwise.
    fn pump(&mut self) {
        let captured = {
            let mut buf = self.captured.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *buf)
        };
        for update in captured {
            self.local_seq += 1;
            if self.status == ClientStatus::Synced {
                let seq = self.local_seq;
                self.send_sync(SyncMessage::Update(update));
                self.expect_ack(seq);
            } else {
                self.offline.push(self.local_seq, update);
            }
        }
    }

    fn expect_ack(&mut self, up_to: u64) {
        self.sent_seq = self.sent_seq.max(up_to);
        match self.config.framing {
            ClientFraming::Hocuspocus { .. } => self.pending_acks.push_back(up_to),
            // No acknowledgements exist in y-websocket: sent counts as confirmed.
            ClientFraming::YWebsocket => self.confirmed_seq = self.confirmed_seq.max(up_to),
        }
    }

    fn flush_offline(&mut self) {
        match self.offline.take() {
            Flush::Nothing => {}
            Flush::Update { update, up_to } => {
                self.send_sync(SyncMessage::Update(update));
                self.expect_ack(up_to);
            }
            Flush::WholeState { up_to } => {
                let update = match self.doc.try_transact() {
                    Ok(txn) => txn.encode_state_as_update_v1(&StateVector::default()),
                    Err(_) => {
                        // Cannot read now; keep the obligation for the next sync.
                        self.offline.require_whole_state(up_to);
                        return;
                    }
                };
                self.send_sync(SyncMessage::Update(update));
                self.expect_ack(up_to);
            }
        }
    }

    fn answer_step1(&mut self, sv: &EncodedStateVector) {
        let diff = match self.doc.try_transact() {
            Ok(txn) => txn.encode_diff_v1(&sv.to_state_vector()),
            // The caller holds a write transaction; the server asks again on
            // the next connection, and local edits stay queued meanwhile.
            Err(_) => return,
        };
        self.send_sync(SyncMessage::Step2(diff));
        // The diff holds every local update so far: nothing queued needs to go.
        let covered = self.local_seq;
        self.offline.discard_up_to(covered);
        self.expect_ack(covered);
    }

    fn apply(&mut self, update: &[u8]) -> Result<bool> {
        let doc = &self.doc;
        let origin = self.origin.clone();
        // Structurally checked bytes reach here; yrs may still panic on
        // semantically absurd input, and a panic must not take the
        // application down with it when unwinding is available.
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<bool> {
            let update = Update::decode_v1(update).map_err(|e| SyncError::Apply(e.to_string()))?;
            let mut txn = doc
                .try_transact_mut_with(origin)
                .map_err(|_| SyncError::DocumentBusy)?;
            txn.apply_update(update)
                .map_err(|e| SyncError::Apply(e.to_string()))?;
            Ok(txn.has_missing_updates())
        }));
        outcome.unwrap_or_else(|_| Err(SyncError::Apply("yrs panicked while applying".into())))
    }

    fn send_token(&mut self) {
        if let ClientFraming::Hocuspocus {
            document,
            token,
            provider_version,
        } = &self.config.framing
        {
            let frame = HocuspocusMessage::Auth(HocuspocusAuth::Token {
                token: token.clone(),
                provider_version: provider_version.clone(),
            })
            .encode_for(document);
            self.outgoing.push_back(frame);
        }
    }

    fn send_step1(&mut self) {
        let sv = match self.doc.try_transact() {
            Ok(txn) => txn.state_vector(),
            Err(_) => return,
        };
        self.send_sync(SyncMessage::Step1(EncodedStateVector::from_state_vector(
            &sv,
        )));
    }

    fn send_sync(&mut self, sync: SyncMessage) {
        let frame = match &self.config.framing {
            ClientFraming::YWebsocket => YwsMessage::Sync(sync).encode(),
            ClientFraming::Hocuspocus { document, .. } => {
                HocuspocusMessage::Sync(sync).encode_for(document)
            }
        };
        self.outgoing.push_back(frame);
    }

    fn local_entry(&self, state: String) -> AwarenessEntry {
        AwarenessEntry {
            client_id: self.doc.client_id().get(),
            clock: self.local_clock,
            state,
        }
    }

    fn send_local_awareness(&mut self, now_ms: u64) {
        self.local_clock += 1;
        self.local_announced_ms = now_ms;
        let state = self
            .local_awareness
            .clone()
            .unwrap_or_else(|| "null".to_owned());
        let update = AwarenessUpdate {
            entries: vec![self.local_entry(state)],
        };
        self.push_awareness(update);
    }

    /// Announces every live extra state with a fresh clock.
    fn send_extra_awareness(&mut self, now_ms: u64) {
        if !self.extra.any_live() {
            return;
        }
        self.extra.announced_ms = now_ms;
        let entries = self.extra.renew();
        self.push_awareness(AwarenessUpdate { entries });
    }

    /// Takes our extra states out of a peer's update (they are not remote
    /// peers), outbidding any that claims a newer clock.
    fn reclaim_extra(&mut self, update: &mut AwarenessUpdate) {
        let mut outbid = Vec::new();
        let extra = &mut self.extra;
        update.entries.retain(|e| {
            if !extra.owns(e.client_id) {
                return true;
            }
            outbid.extend(extra.outbid(e.client_id, e.clock));
            false
        });
        if !outbid.is_empty() {
            self.push_awareness(AwarenessUpdate { entries: outbid });
        }
    }

    fn push_awareness(&mut self, update: AwarenessUpdate) {
        let frame = match &self.config.framing {
            ClientFraming::YWebsocket => YwsMessage::Awareness(update).encode(),
            ClientFraming::Hocuspocus { document, .. } => {
                HocuspocusMessage::Awareness(update).encode_for(document)
            }
        };
        self.outgoing.push_back(frame);
    }
}

impl Drop for ClientSession {
    fn drop(&mut self) {
        // Fails only while a transaction is open; the observer then holds a
        // dead weak reference and does nothing.
        let _ = self.doc.unobserve_update_v1(self.origin.clone());
    }
}

/// A decoded frame, framing-independent.
enum Incoming {
    Ignore,
    Ping,
    Sync(SyncMessage),
    Awareness(AwarenessUpdate),
    QueryAwareness,
    TokenRequest,
    Denied(String),
    Authenticated(Access),
    Stateless(String),
    Closed(Option<String>),
    SyncStatus(bool),
}

impl Incoming {
    fn from_hocuspocus(message: HocuspocusMessage) -> Result<Self> {
        Ok(match message {
            HocuspocusMessage::Sync(sync) | HocuspocusMessage::SyncReply(sync) => {
                Incoming::Sync(sync)
            }
            HocuspocusMessage::Awareness(update) => Incoming::Awareness(update),
            HocuspocusMessage::QueryAwareness => Incoming::QueryAwareness,
            HocuspocusMessage::Auth(HocuspocusAuth::TokenRequest) => Incoming::TokenRequest,
            HocuspocusMessage::Auth(HocuspocusAuth::PermissionDenied { reason }) => {
                Incoming::Denied(reason)
            }
            HocuspocusMessage::Auth(HocuspocusAuth::Authenticated { access }) => {
                Incoming::Authenticated(access)
            }
            HocuspocusMessage::Auth(HocuspocusAuth::Token { .. }) => {
                return Err(SyncError::Unexpected("a token sent by the server"));
            }
            HocuspocusMessage::Stateless(payload)
            | HocuspocusMessage::BroadcastStateless(payload) => Incoming::Stateless(payload),
            HocuspocusMessage::Close { reason } => Incoming::Closed(reason),
            HocuspocusMessage::SyncStatus { applied } => Incoming::SyncStatus(applied),
        })
    }
}
