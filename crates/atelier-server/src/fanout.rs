//! Fan-out between server nodes (`--redis`): what one node accepts reaches
//! the clients of the same document on every other node.
//!
//! - One Redis channel per document (`atelier:doc:{name}`), subscribed only
//!   while this node has the document open ([`crate::room::Rooms`] calls
//!   [`Fanout::subscribe`] when it loads a document and
//!   [`Fanout::unsubscribe`] when it unloads it). A node does work only for
//!   the documents its clients have open — unlike Hocuspocus' Redis
//!   extension, where every node processes every message.
//! - "Stored before acknowledged" holds: the accepting node stores an
//!   update, then publishes it with its store seq; receiving nodes apply it
//!   to their in-memory room and broadcast it to their clients, never store
//!   it again ([`crate::room::Room::apply_remote_update`]).
//! - Pub/sub loses what is published while a node is not subscribed, so
//!   the store closes every race: once a subscription is confirmed, the
//!   node catches up from the store (updates stored between the room's
//!   load and the subscription); per-document seqs are dense, so a missing
//!   seq that does not arrive within [`GAP_GRACE`] is read from the store;
//!   when Redis comes back after an outage, every open document is resynced
//!   from the store, this node's clients' awareness is announced again, and
//!   the documents whose publish failed get a [`Kind::Hint`] so the other
//!   nodes catch up too.
//! - Awareness is not stored: a node that subscribes (or resubscribes)
//!   sends a [`Kind::Query`], and the nodes with that document open answer
//!   with their own clients' states.
//! - Every message carries the sending node's id (a node ignores its own)
//!   and the time it was published (the lag metric; clocks of different
//!   machines must be synchronised for it to mean anything).
//!
//! Messages of one document are handled in order by a task of their own,
//! so a document waiting on the store never delays the others.

use crate::fanout_redis::{LinkEvent, RedisLink};
use crate::metrics::Metrics;
use crate::room::Rooms;
use atelier_sync::{AwarenessUpdate, Limits};
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a missing seq may take to arrive before the store is asked.
pub const GAP_GRACE: Duration = Duration::from_millis(300);
/// Other nodes' clients not heard of for this long are removed (y-protocols'
/// own timeout; live clients renew every 15 s).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);
/// A document's task ends after this long without messages.
const WORKER_IDLE: Duration = Duration::from_secs(30);
/// Message format version (first byte).
const VERSION: u8 = 1;
/// Fixed header: version, kind, node id, sent time, seq.
const HEADER: usize = 1 + 1 + 8 + 8 + 8;

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A stored update (Yjs v1); `seq` is its store seq.
    Update = 1,
    /// An awareness update (y-protocols encoding); `seq` is 0.
    Awareness = 2,
    /// "Updates up to `seq` are stored; catch up from the store": sent for
    /// documents whose publish failed while Redis was away. No payload.
    Hint = 3,
    /// "Who is here?": a node that just subscribed asks the others for
    /// their clients' awareness (published before it listened). No payload.
    Query = 4,
}

/// One message on a document's channel. Wire format, little-endian:
/// `[version=1][kind][node u64][sent_us u64][seq i64][payload…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the payload is.
    pub kind: Kind,
    /// The sending node.
    pub node: u64,
    /// When it was published, µs since the Unix epoch.
    pub sent_us: u64,
    /// Store seq (see [`Kind`]).
    pub seq: i64,
    /// The update or awareness bytes.
    pub payload: Vec<u8>,
}

impl Envelope {
    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.payload.len());
        out.push(VERSION);
        out.push(self.kind as u8);
        out.extend_from_slice(&self.node.to_le_bytes());
        out.extend_from_slice(&self.sent_us.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Decodes a message, or says why it is not one.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
        let header = bytes
            .get(..HEADER)
            .ok_or_else(|| format!("{} bytes, shorter than the header", bytes.len()))?;
        let (head, rest) = header.split_at(2);
        if head[0] != VERSION {
            return Err(format!("unknown version {}", head[0]));
        }
        let kind = match head[1] {
            1 => Kind::Update,
            2 => Kind::Awareness,
            3 => Kind::Hint,
            4 => Kind::Query,
            k => return Err(format!("unknown kind {k}")),
        };
        let word = |i: usize| -> [u8; 8] {
            let mut w = [0u8; 8];
            w.copy_from_slice(&rest[i * 8..i * 8 + 8]);
            w
        };
        Ok(Envelope {
            kind,
            node: u64::from_le_bytes(word(0)),
            sent_us: u64::from_le_bytes(word(1)),
            seq: i64::from_le_bytes(word(2)),
            payload: bytes.get(HEADER..).unwrap_or_default().to_vec(),
        })
    }
}

/// Microseconds since the Unix epoch.
fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Upper bounds (seconds) of the lag histogram's buckets.
const LAG_BUCKETS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Cross-node counters, rendered at `/metrics`.
#[derive(Default)]
pub struct FanoutMetrics {
    /// Messages published (all kinds).
    pub published: AtomicU64,
    /// Messages whose publish failed (Redis down).
    pub publish_failures: AtomicU64,
    /// Messages received from other nodes, by kind (update, awareness,
    /// hint, query).
    pub received: [AtomicU64; 4],
    /// Own messages received back and ignored.
    pub own_ignored: AtomicU64,
    /// Received messages that did not decode or apply.
    pub rejected: AtomicU64,
    /// Received updates already applied here (duplicates).
    pub duplicates: AtomicU64,
    /// Channels subscribed now.
    pub subscriptions: AtomicU64,
    /// Catch-ups from the store (after a subscription, a gap, a hint or an outage).
    pub catch_ups: AtomicU64,
    /// Stored records applied by catch-ups (what pub/sub missed).
    pub caught_up: AtomicU64,
    /// Resyncs of every open document after Redis came back.
    pub resyncs: AtomicU64,
    /// Lost Redis connections.
    pub reconnects: AtomicU64,
    /// 1 while connected to Redis.
    pub redis_up: AtomicU64,
    /// Lag histogram (publish → receive): counts per bucket, then +Inf.
    lag_buckets: [AtomicU64; LAG_BUCKETS.len() + 1],
    lag_us_sum: AtomicU64,
    lag_count: AtomicU64,
}

impl FanoutMetrics {
    fn observe_lag(&self, us: u64) {
        let secs = us as f64 / 1e6;
        let i = LAG_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LAG_BUCKETS.len());
        if let Some(b) = self.lag_buckets.get(i) {
            Metrics::add(b, 1);
        }
        Metrics::add(&self.lag_us_sum, us);
        Metrics::add(&self.lag_count, 1);
    }

    /// Renders the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "atelier_fanout_published_total",
            "counter",
            "Messages published to other nodes.",
            g(&self.published),
        );
        metric(
            "atelier_fanout_publish_failures_total",
            "counter",
            "Messages that could not be published (Redis down).",
            g(&self.publish_failures),
        );
        metric(
            "atelier_fanout_own_ignored_total",
            "counter",
            "This node's own messages received back and ignored.",
            g(&self.own_ignored),
        );
        metric(
            "atelier_fanout_rejected_total",
            "counter",
            "Received messages that did not decode or apply.",
            g(&self.rejected),
        );
        metric(
            "atelier_fanout_duplicates_total",
            "counter",
            "Received updates this node had already applied.",
            g(&self.duplicates),
        );
        metric(
            "atelier_fanout_subscriptions",
            "gauge",
            "Document channels subscribed (documents open on this node).",
            g(&self.subscriptions),
        );
        metric(
            "atelier_fanout_catch_ups_total",
            "counter",
            "Catch-ups from the store (subscription, gap, hint, outage).",
            g(&self.catch_ups),
        );
        metric(
            "atelier_fanout_caught_up_total",
            "counter",
            "Stored records applied by catch-ups (what pub/sub missed).",
            g(&self.caught_up),
        );
        metric(
            "atelier_fanout_resyncs_total",
            "counter",
            "Resyncs of every open document after a Redis (re)connection.",
            g(&self.resyncs),
        );
        metric(
            "atelier_fanout_reconnects_total",
            "counter",
            "Redis connections lost.",
            g(&self.reconnects),
        );
        metric(
            "atelier_fanout_redis_up",
            "gauge",
            "1 while this node is connected to Redis.",
            g(&self.redis_up),
        );
        let _ = writeln!(
            out,
            "# HELP atelier_fanout_received_total Messages received from other nodes."
        );
        let _ = writeln!(out, "# TYPE atelier_fanout_received_total counter");
        for (kind, c) in ["update", "awareness", "hint", "query"]
            .iter()
            .zip(&self.received)
        {
            let _ = writeln!(
                out,
                "atelier_fanout_received_total{{kind=\"{kind}\"}} {}",
                g(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP atelier_fanout_lag_seconds Time from publish on one node to receipt on another."
        );
        let _ = writeln!(out, "# TYPE atelier_fanout_lag_seconds histogram");
        let mut cumulative = 0;
        for (bound, c) in LAG_BUCKETS.iter().zip(&self.lag_buckets) {
            cumulative += g(c);
            let _ = writeln!(
                out,
                "atelier_fanout_lag_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        if let Some(inf) = self.lag_buckets.last() {
            cumulative += g(inf);
        }
        let _ = writeln!(
            out,
            "atelier_fanout_lag_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "atelier_fanout_lag_seconds_sum {}",
            g(&self.lag_us_sum) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "atelier_fanout_lag_seconds_count {}",
            g(&self.lag_count)
        );
        out
    }
}

/// What a document's task is asked to do.
enum Work {
    Message(Envelope),
    CatchUp,
}

/// This node's side of the fan-out.
pub struct Fanout {
    /// This node's id (random per process).
    node: u64,
    link: RedisLink,
    rooms: Weak<Rooms>,
    /// Counters for `/metrics`.
    pub metrics: Arc<FanoutMetrics>,
    /// One task per document with messages in flight.
    workers: Mutex<HashMap<String, mpsc::UnboundedSender<Work>>>,
}

impl Fanout {
    /// Starts the fan-out over Redis at `url` for these rooms and attaches
    /// it to them. Fails only on an invalid URL: Redis being down is a
    /// health state, retried in the background.
    pub fn start(url: &str, rooms: &Arc<Rooms>) -> Result<Arc<Fanout>, redis::RedisError> {
        let metrics = Arc::new(FanoutMetrics::default());
        let (link, events) = RedisLink::start(url, metrics.clone())?;
        let node = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            ^ now_us().rotate_left(17)
            ^ u64::from(std::process::id());
        let fanout = Arc::new(Fanout {
            node,
            link,
            rooms: Arc::downgrade(rooms),
            metrics,
            workers: Mutex::new(HashMap::new()),
        });
        rooms.attach_fanout(fanout.clone());
        tokio::spawn(dispatch(Arc::downgrade(&fanout), events));
        tokio::spawn(expire_awareness(Arc::downgrade(&fanout)));
        tracing::info!(node = format!("{node:016x}"), "fan-out over redis enabled");
        Ok(fanout)
    }

    /// This node's id.
    pub fn node_id(&self) -> u64 {
        self.node
    }

    /// `Ok` while Redis is connected, else why not (for `/healthz`).
    pub fn health(&self) -> Result<(), String> {
        self.link.health()
    }

    /// Subscribes to a document's channel (the document was loaded).
    pub fn subscribe(&self, doc: &str) {
        self.link.subscribe(doc);
    }

    /// Unsubscribes from a document's channel (the document was unloaded).
    pub fn unsubscribe(&self, doc: &str) {
        self.link.unsubscribe(doc);
    }

    fn publish(&self, doc: &str, kind: Kind, seq: i64, payload: Vec<u8>) {
        let envelope = Envelope {
            kind,
            node: self.node,
            sent_us: now_us(),
            seq,
            payload,
        };
        self.link.publish(doc, envelope.encode());
    }

    /// Publishes an update this node stored with `seq`.
    pub fn publish_update(&self, doc: &str, seq: i64, update: &[u8]) {
        self.publish(doc, Kind::Update, seq, update.to_vec());
    }

    /// Publishes an awareness change of this node's clients.
    pub fn publish_awareness(&self, doc: &str, update: &AwarenessUpdate) {
        self.publish(doc, Kind::Awareness, 0, update.encode());
    }

    /// Hands work to the document's task, starting one if needed.
    fn route(self: &Arc<Self>, doc: &str, work: Work) {
        let Ok(mut workers) = self.workers.lock() else {
            return;
        };
        let work = match workers.get(doc) {
            Some(tx) => match tx.send(work) {
                Ok(()) => return,
                // The task ended (idle): start another.
                Err(mpsc::error::SendError(work)) => work,
            },
            None => work,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(work);
        workers.insert(doc.to_owned(), tx);
        tokio::spawn(document_worker(self.clone(), doc.to_owned(), rx));
    }

    /// After a (re)connection: catch every open document up from the
    /// store, announce this node's clients again, and tell the other nodes
    /// to catch up the documents whose publish failed.
    async fn resync(self: &Arc<Self>, docs: Vec<String>) {
        let Some(rooms) = self.rooms.upgrade() else {
            return;
        };
        Metrics::add(&self.metrics.resyncs, 1);
        for doc in &docs {
            self.route(doc, Work::CatchUp);
            self.publish(doc, Kind::Query, 0, Vec::new());
        }
        for doc in self.link.take_unpublished() {
            let seq = match rooms.get(&doc).await {
                Some(room) => room.stored_seq().await,
                None => i64::MAX,
            };
            self.publish(&doc, Kind::Hint, seq, Vec::new());
        }
        for doc in docs {
            if let Some(room) = rooms.get(&doc).await
                && let Some(aw) = room.local_awareness().await
            {
                self.publish_awareness(&doc, &aw);
            }
        }
    }
}

/// Turns the link's events into work for the documents.
async fn dispatch(fanout: Weak<Fanout>, mut events: mpsc::UnboundedReceiver<LinkEvent>) {
    while let Some(event) = events.recv().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        match event {
            LinkEvent::Message { doc, payload } => {
                let envelope = match Envelope::decode(&payload) {
                    Ok(e) => e,
                    Err(why) => {
                        Metrics::add(&fanout.metrics.rejected, 1);
                        tracing::warn!(doc = %doc, error = %why, "fan-out message ignored");
                        continue;
                    }
                };
                if envelope.node == fanout.node {
                    Metrics::add(&fanout.metrics.own_ignored, 1);
                    continue;
                }
                if let Some(c) = fanout.metrics.received.get(envelope.kind as usize - 1) {
                    Metrics::add(c, 1);
                }
                fanout
                    .metrics
                    .observe_lag(now_us().saturating_sub(envelope.sent_us));
                fanout.route(&doc, Work::Message(envelope));
            }
            LinkEvent::Subscribed(docs) => {
                for doc in docs {
                    fanout.route(&doc, Work::CatchUp);
                    // Carets published before this node listened.
                    fanout.publish(&doc, Kind::Query, 0, Vec::new());
                }
            }
            LinkEvent::Up(docs) => fanout.resync(docs).await,
            LinkEvent::Down(_) => {}
        }
    }
}

/// Applies one document's messages in order; catches up from the store
/// when asked, when a seq stays missing past [`GAP_GRACE`], or (retrying)
/// when a catch-up failed.
async fn document_worker(fanout: Arc<Fanout>, doc: String, mut rx: mpsc::UnboundedReceiver<Work>) {
    let mut catch_up_at: Option<Instant> = None;
    loop {
        let wait = match catch_up_at {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => WORKER_IDLE,
        };
        let work = match tokio::time::timeout(wait, rx.recv()).await {
            Ok(Some(work)) => Some(work),
            Ok(None) => return,
            Err(_) if catch_up_at.is_some() => None,
            Err(_) => {
                // Idle: end (forgetting this task's entry), unless work
                // raced in before the close (then finish it first).
                rx.close();
                if let Ok(mut workers) = fanout.workers.lock()
                    && workers.get(&doc).is_some_and(|tx| tx.is_closed())
                {
                    workers.remove(&doc);
                }
                if rx.is_empty() {
                    return;
                }
                continue;
            }
        };
        let Some(rooms) = fanout.rooms.upgrade() else {
            return;
        };
        let Some(room) = rooms.get(&doc).await else {
            // Not open here (unloaded meanwhile): nothing to apply it to.
            catch_up_at = None;
            continue;
        };
        match work {
            Some(Work::Message(m)) => match m.kind {
                Kind::Update => match room.apply_remote_update(&rooms, m.seq, &m.payload).await {
                    Ok(applied) => {
                        if !applied.applied {
                            Metrics::add(&fanout.metrics.duplicates, 1);
                        }
                        catch_up_at = match (applied.gap, catch_up_at) {
                            (false, _) => None,
                            (true, Some(at)) => Some(at),
                            (true, None) => Some(Instant::now() + GAP_GRACE),
                        };
                    }
                    Err(e) => {
                        Metrics::add(&fanout.metrics.rejected, 1);
                        tracing::warn!(doc = %doc, seq = m.seq, error = %e, "update from another node not applied; catching up from the store");
                        catch_up_at = Some(Instant::now());
                    }
                },
                Kind::Awareness => {
                    let applied = AwarenessUpdate::decode(&m.payload, &Limits::default())
                        .map_err(|e| e.to_string());
                    let applied = match applied {
                        Ok(update) => room
                            .apply_remote_awareness(update)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = applied {
                        Metrics::add(&fanout.metrics.rejected, 1);
                        tracing::warn!(doc = %doc, error = %e, "awareness from another node ignored");
                    }
                }
                Kind::Hint => {
                    if room.stored_seq().await < m.seq {
                        catch_up_at = Some(Instant::now());
                    }
                }
                Kind::Query => {
                    if let Some(aw) = room.local_awareness().await {
                        fanout.publish_awareness(&doc, &aw);
                    }
                }
            },
            Some(Work::CatchUp) | None => {
                Metrics::add(&fanout.metrics.catch_ups, 1);
                match room.catch_up(&rooms).await {
                    Ok(n) => {
                        Metrics::add(&fanout.metrics.caught_up, n as u64);
                        if n > 0 {
                            tracing::debug!(doc = %doc, records = n, "caught up from the store");
                        }
                        catch_up_at = None;
                    }
                    Err(e) => {
                        tracing::warn!(doc = %doc, error = %e, "catch-up from the store failed; retrying");
                        catch_up_at = Some(Instant::now() + Duration::from_secs(1));
                    }
                }
            }
        }
    }
}

/// Removes other nodes' clients that stopped renewing their awareness.
async fn expire_awareness(fanout: Weak<Fanout>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let Some(rooms) = fanout.upgrade().and_then(|f| f.rooms.upgrade()) else {
            return;
        };
        for doc in rooms.loaded().await {
            if let Some(room) = rooms.get(&doc).await {
                room.expire_remote_awareness(AWARENESS_TIMEOUT).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_bad_bytes_are_errors() {
        let e = Envelope {
            kind: Kind::Update,
            node: 0xdead_beef_0102_0304,
            sent_us: 1_700_000_000_000_000,
            seq: 42,
            payload: vec![1, 2, 3],
        };
        let bytes = e.encode();
        assert_eq!(Envelope::decode(&bytes), Ok(e.clone()));
        let hint = Envelope {
            kind: Kind::Hint,
            payload: Vec::new(),
            ..e
        };
        assert_eq!(Envelope::decode(&hint.encode()), Ok(hint));
        for cut in 0..HEADER {
            assert!(Envelope::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut other = bytes.clone();
        other[0] = 9;
        assert!(Envelope::decode(&other).is_err());
        let mut other = bytes;
        other[1] = 0;
        assert!(Envelope::decode(&other).is_err());
    }

    #[test]
    fn lag_histogram_is_cumulative() {
        let m = FanoutMetrics::default();
        m.observe_lag(500);
        m.observe_lag(3_000);
        m.observe_lag(5_000_000);
        let text = m.render();
        assert!(
            text.contains("atelier_fanout_lag_seconds_bucket{le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("atelier_fanout_lag_seconds_bucket{le=\"0.005\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("atelier_fanout_lag_seconds_bucket{le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("atelier_fanout_lag_seconds_bucket{le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("atelier_fanout_lag_seconds_count 3\n"),
            "{text}"
        );
    }
}
