//! The Redis side of the fan-out: one pub/sub connection that subscribes to
//! a channel per open document, one multiplexed connection that publishes,
//! and a supervisor that reconnects both when Redis restarts or a
//! connection drops, resubscribes every open document and reports it, so
//! `crate::fanout` resyncs those documents from the store.
//!
//! The rest of the server never waits for Redis: subscribe, unsubscribe and
//! publish are queued (unbounded channels, in order) and the tasks here do
//! the I/O. While Redis is down, publishes are dropped and the documents
//! they were for are remembered, so the other nodes can be told to catch
//! up from the store once Redis is back.

use crate::fanout::FanoutMetrics;
use crate::metrics::Metrics;
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// Prefix of a document's channel: `atelier:doc:{name}`.
pub const CHANNEL_PREFIX: &str = "atelier:doc:";
/// How long one connection attempt or command may take.
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the pub/sub connection is pinged: a half-open connection
/// (Redis gone without a FIN) is noticed within this plus `IO_TIMEOUT`.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Reconnection backoff bounds.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Most messages sent in one pipeline.
const PUBLISH_BATCH: usize = 512;

/// A document's channel name.
pub fn channel(doc: &str) -> String {
    format!("{CHANNEL_PREFIX}{doc}")
}

/// What the link reports to the fan-out.
#[derive(Debug)]
pub enum LinkEvent {
    /// A message on a document's channel.
    Message {
        /// Document name.
        doc: String,
        /// The raw message (`crate::fanout::Envelope`).
        payload: Vec<u8>,
    },
    /// These documents' subscriptions are now in place (Redis confirmed):
    /// anything stored before is to be caught up from the store.
    Subscribed(Vec<String>),
    /// Connected (again) with every open document resubscribed: what was
    /// published meanwhile is lost, so resync them all from the store.
    Up(Vec<String>),
    /// The connection is lost; reconnecting.
    Down(String),
}

enum Command {
    Subscribe(String),
    Unsubscribe(String),
}

/// Shared view of the link's health.
struct Health {
    up: AtomicBool,
    last_error: Mutex<String>,
}

/// Handle to the Redis tasks.
pub struct RedisLink {
    commands: mpsc::UnboundedSender<Command>,
    publish: mpsc::UnboundedSender<(String, Vec<u8>)>,
    health: Arc<Health>,
    /// Documents whose publish failed since Redis was last up.
    unpublished: Arc<Mutex<HashSet<String>>>,
}

impl RedisLink {
    /// Checks the URL and starts the tasks; connecting happens in the
    /// background (a node starts, and serves its own clients, while Redis is
    /// down; `/healthz` says so). Events arrive on the returned receiver.
    pub fn start(
        url: &str,
        metrics: Arc<FanoutMetrics>,
    ) -> Result<(RedisLink, mpsc::UnboundedReceiver<LinkEvent>), redis::RedisError> {
        let client = redis::Client::open(url)?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (publish, publish_rx) = mpsc::unbounded_channel();
        let (events, event_rx) = mpsc::unbounded_channel();
        let health = Arc::new(Health {
            up: AtomicBool::new(false),
            last_error: Mutex::new("not connected yet".into()),
        });
        let unpublished: Arc<Mutex<HashSet<String>>> = Default::default();
        let (conn_tx, conn_rx) = watch::channel(None);
        let broken = Arc::new(Notify::new());
        tokio::spawn(supervise(
            client,
            command_rx,
            events,
            health.clone(),
            conn_tx,
            broken.clone(),
            metrics.clone(),
        ));
        tokio::spawn(publisher(
            publish_rx,
            conn_rx,
            broken,
            unpublished.clone(),
            metrics,
        ));
        Ok((
            RedisLink {
                commands,
                publish,
                health,
                unpublished,
            },
            event_rx,
        ))
    }

    /// Subscribes to a document's channel (queued).
    pub fn subscribe(&self, doc: &str) {
        let _ = self.commands.send(Command::Subscribe(doc.to_owned()));
    }

    /// Unsubscribes from a document's channel (queued).
    pub fn unsubscribe(&self, doc: &str) {
        let _ = self.commands.send(Command::Unsubscribe(doc.to_owned()));
    }

    /// Publishes on a document's channel (queued, in call order).
    pub fn publish(&self, doc: &str, payload: Vec<u8>) {
        let _ = self.publish.send((doc.to_owned(), payload));
    }

    /// `Ok` while connected, else the last error.
    pub fn health(&self) -> Result<(), String> {
        if self.health.up.load(Ordering::Relaxed) {
            return Ok(());
        }
        Err(self
            .health
            .last_error
            .lock()
            .map(|e| e.clone())
            .unwrap_or_else(|_| "unknown".into()))
    }

    /// Takes the documents whose publish failed since the last call.
    pub fn take_unpublished(&self) -> Vec<String> {
        self.unpublished
            .lock()
            .map(|mut set| set.drain().collect())
            .unwrap_or_default()
    }
}

/// Connects both connections, or says why not.
async fn connect(
    client: &redis::Client,
) -> Result<(PubSubSink, PubSubStream, MultiplexedConnection), String> {
    let pubsub = tokio::time::timeout(IO_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| "no connection within 3 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let publisher = tokio::time::timeout(IO_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .map_err(|_| "no connection within 3 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let (sink, stream) = pubsub.split();
    Ok((sink, stream, publisher))
}

/// Sends SUBSCRIBE for many channels in chunks, within the I/O deadline.
async fn subscribe_all(sink: &mut PubSubSink, docs: &[String]) -> Result<(), String> {
    for chunk in docs.chunks(256) {
        let channels: Vec<String> = chunk.iter().map(|d| channel(d)).collect();
        tokio::time::timeout(IO_TIMEOUT, sink.subscribe(channels))
            .await
            .map_err(|_| "SUBSCRIBE timed out".to_owned())?
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Owns the connections: connects, resubscribes, forwards messages, and
/// starts over when anything fails.
async fn supervise(
    client: redis::Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<LinkEvent>,
    health: Arc<Health>,
    conn_tx: watch::Sender<Option<MultiplexedConnection>>,
    broken: Arc<Notify>,
    metrics: Arc<FanoutMetrics>,
) {
    // The documents this node has open, hence wants subscribed.
    let mut wanted: HashSet<String> = HashSet::new();
    let mut backoff = BACKOFF_MIN;
    let mut was_up = false;
    let set_down = |why: String, was_up: &mut bool| {
        health.up.store(false, Ordering::Relaxed);
        if let Ok(mut e) = health.last_error.lock() {
            e.clone_from(&why);
        }
        if *was_up {
            tracing::warn!(error = %why, "redis connection lost; reconnecting");
            let _ = events.send(LinkEvent::Down(why));
        }
        *was_up = false;
    };
    loop {
        // Commands that came while disconnected only change what is wanted.
        while let Ok(cmd) = commands.try_recv() {
            apply(&mut wanted, cmd);
        }
        let (mut sink, mut stream, publisher) = match connect(&client).await {
            Ok(c) => c,
            Err(why) => {
                set_down(format!("redis unreachable: {why}"), &mut was_up);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let docs: Vec<String> = wanted.iter().cloned().collect();
        if let Err(why) = subscribe_all(&mut sink, &docs).await {
            set_down(format!("redis: {why}"), &mut was_up);
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = BACKOFF_MIN;
        let _ = conn_tx.send(Some(publisher));
        health.up.store(true, Ordering::Relaxed);
        metrics.redis_up.store(1, Ordering::Relaxed);
        metrics
            .subscriptions
            .store(wanted.len() as u64, Ordering::Relaxed);
        was_up = true;
        tracing::info!(
            documents = docs.len(),
            "redis connected; channels subscribed"
        );
        let _ = events.send(LinkEvent::Up(docs));
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let why = loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break "pub/sub connection closed".to_owned() };
                    let Some(doc) = msg.get_channel_name().strip_prefix(CHANNEL_PREFIX) else {
                        continue;
                    };
                    let _ = events.send(LinkEvent::Message {
                        doc: doc.to_owned(),
                        payload: msg.get_payload_bytes().to_vec(),
                    });
                }
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { return };
                    // Take every queued command: one SUBSCRIBE for many
                    // documents, and only each document's last word.
                    let mut last: HashMap<String, bool> = HashMap::new();
                    let mut batch = vec![cmd];
                    while let Ok(more) = commands.try_recv() {
                        batch.push(more);
                    }
                    for cmd in batch {
                        match &cmd {
                            Command::Subscribe(d) => last.insert(d.clone(), true),
                            Command::Unsubscribe(d) => last.insert(d.clone(), false),
                        };
                        apply(&mut wanted, cmd);
                    }
                    metrics.subscriptions.store(wanted.len() as u64, Ordering::Relaxed);
                    let (subs, unsubs): (Vec<_>, Vec<_>) = last.into_iter().partition(|(_, s)| *s);
                    let subs: Vec<String> = subs.into_iter().map(|(d, _)| d).collect();
                    let unsubs: Vec<String> = unsubs.into_iter().map(|(d, _)| channel(&d)).collect();
                    if let Err(why) = subscribe_all(&mut sink, &subs).await {
                        break why;
                    }
                    if !subs.is_empty() {
                        let _ = events.send(LinkEvent::Subscribed(subs));
                    }
                    if !unsubs.is_empty() {
                        match tokio::time::timeout(IO_TIMEOUT, sink.unsubscribe(unsubs)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => break e.to_string(),
                            Err(_) => break "UNSUBSCRIBE timed out".to_owned(),
                        }
                    }
                }
                _ = ping.tick() => {
                    // Any answer will do: in subscribed mode (RESP2) PONG
                    // comes as an array, not the plain string of a normal
                    // connection.
                    match tokio::time::timeout(IO_TIMEOUT, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => break e.to_string(),
                        Err(_) => break "PING timed out".to_owned(),
                    }
                }
                _ = broken.notified() => break "publish connection failed".to_owned(),
            }
        };
        let _ = conn_tx.send(None);
        metrics.redis_up.store(0, Ordering::Relaxed);
        Metrics::add(&metrics.reconnects, 1);
        set_down(format!("redis: {why}"), &mut was_up);
    }
}

fn apply(wanted: &mut HashSet<String>, cmd: Command) {
    match cmd {
        Command::Subscribe(d) => {
            wanted.insert(d);
        }
        Command::Unsubscribe(d) => {
            wanted.remove(&d);
        }
    }
}

/// Publishes queued messages in order, many per pipeline.
async fn publisher(
    mut queue: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    conn: watch::Receiver<Option<MultiplexedConnection>>,
    broken: Arc<Notify>,
    unpublished: Arc<Mutex<HashSet<String>>>,
    metrics: Arc<FanoutMetrics>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while queue.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let current = conn.borrow().clone();
        let sent = match current {
            Some(mut c) => {
                let mut pipe = redis::pipe();
                for (doc, payload) in &batch {
                    pipe.publish(channel(doc), payload.as_slice()).ignore();
                }
                match tokio::time::timeout(IO_TIMEOUT, pipe.query_async::<()>(&mut c)).await {
                    Ok(Ok(())) => true,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "redis publish failed");
                        broken.notify_one();
                        false
                    }
                    Err(_) => {
                        tracing::warn!("redis publish timed out");
                        broken.notify_one();
                        false
                    }
                }
            }
            None => false,
        };
        if sent {
            Metrics::add(&metrics.published, batch.len() as u64);
        } else {
            Metrics::add(&metrics.publish_failures, batch.len() as u64);
            if let Ok(mut set) = unpublished.lock() {
                set.extend(batch.iter().map(|(doc, _)| doc.clone()));
            }
        }
        batch.clear();
    }
}
