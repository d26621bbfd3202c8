//! WebSocket endpoints: one task per connection drives an
//! [`atelier_sync::ServerSession`] (which owns the protocol) against the
//! rooms (which own the documents).
//!
//! - `/sync/{doc}`: y-websocket; the token comes as `?token=` or an
//!   `Authorization: Bearer` header and is checked before the upgrade
//!   (or, without a token, the upgrade's cookies go to `--auth-url`).
//! - `/sync` and `/collaboration/ws/`: Hocuspocus; each document on the
//!   socket is authorised by its own Auth message, whose token is checked
//!   (or, without one, the upgrade's cookies go to `--auth-url`). Decisions
//!   that need a network call are made by a task while the session holds
//!   the document's messages ([`AuthDecision::Defer`]).

use crate::auth::{Access, AuthError, Credentials, Principal};
use crate::http::valid_doc_name;
use crate::metrics::Metrics;
use crate::room::{Accepted, ConnId, Outbound, Room, RoomError};
use crate::state::{AppState, ConnSlot};
use atelier_sync::{AckId, AuthDecision, EncodedStateVector, Limits, ServerEvent, ServerSession};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// Query parameters accepted on the WebSocket URLs.
#[derive(Debug, Default, Deserialize)]
pub struct WsQuery {
    /// Bearer token (y-websocket `params: {token}`).
    #[serde(default)]
    token: Option<String>,
}

/// WebSocket close code for policy violations (auth, limits).
const CLOSE_POLICY: u16 = 1008;
/// WebSocket close code for a message too big.
const CLOSE_TOO_BIG: u16 = 1009;
/// WebSocket close code for a server error.
const CLOSE_ERROR: u16 = 1011;

/// Each socket's read buffer. tungstenite's default (128 KiB) is zeroed
/// on the first read and kept for the connection's life, so it was most
/// of an idle connection's memory (issue 16: 143 KiB of RSS each, now
/// measured by `cargo xtask bench server --only idle`). A larger message
/// still arrives whole: the buffer grows to the frame's length (at most
/// `max_message_bytes`) while it is read, in reads of this size.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Updates of one connection applied and being stored at once: the next
/// message is read while they commit (the store's group commit takes them
/// together). At this many, the connection reads nothing more until the
/// oldest is stored, which keeps a fast writer's memory bounded.
const MAX_IN_FLIGHT: usize = 64;

/// The upgrade with this server's WebSocket settings.
fn configured(ws: WebSocketUpgrade, st: &AppState) -> WebSocketUpgrade {
    ws.max_message_size(st.cfg.max_message_bytes)
        .read_buffer_size(READ_BUFFER_BYTES)
}

fn limits(st: &AppState) -> Limits {
    st.cfg.limits()
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    (status, reason.into()).into_response()
}

/// `GET /sync/{doc}`: a y-websocket connection to one document.
pub async fn ywebsocket(
    ws: WebSocketUpgrade,
    Path(doc): Path<String>,
    Query(q): Query<WsQuery>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    State(st): State<Arc<AppState>>,
) -> Response {
    if !valid_doc_name(&doc) {
        return refuse(StatusCode::BAD_REQUEST, "invalid document name");
    }
    let creds = Credentials::from_headers(&headers).with_token(q.token.as_deref());
    let (principal, access) = match st.auth.authorize_request(&creds, &doc).await {
        Ok(ok) => ok,
        Err(e) => {
            Metrics::add(&st.metrics.auth_failures, 1);
            tracing::info!(doc = %doc, %peer, reason = %e, "y-websocket connection refused");
            let status = match e {
                AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
                AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            return refuse(status, e.to_string());
        }
    };
    let mut slot = match st.take_ip_slot(peer.ip()) {
        Ok(s) => s,
        Err(reason) => return refuse(StatusCode::TOO_MANY_REQUESTS, reason),
    };
    if let Err(reason) = slot.claim_user(&principal.user) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, reason);
    }
    let session = ServerSession::y_websocket(doc, access, limits(&st));
    configured(ws, &st)
        .on_upgrade(move |socket| Connection::run(st, socket, session, slot, peer, creds))
}

/// `GET /sync` and `/collaboration/ws/`: a Hocuspocus connection.
pub async fn hocuspocus(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    State(st): State<Arc<AppState>>,
) -> Response {
    let slot = match st.take_ip_slot(peer.ip()) {
        Ok(s) => s,
        Err(reason) => return refuse(StatusCode::TOO_MANY_REQUESTS, reason),
    };
    let session = ServerSession::hocuspocus(limits(&st));
    // Kept for the documents' Auth messages: cookie forwarding needs them.
    let creds = Credentials::from_headers(&headers);
    configured(ws, &st)
        .on_upgrade(move |socket| Connection::run(st, socket, session, slot, peer, creds))
}

/// Waits for the oldest update in flight to be stored (cancel-safe: it
/// stays queued until its answer is taken).
async fn next_stored(in_flight: &mut VecDeque<InFlight>) -> (String, AckId, Result<(), RoomError>) {
    let result = match in_flight.front_mut() {
        Some(oldest) => oldest.accepted.settle().await,
        None => std::future::pending().await,
    };
    match in_flight.pop_front() {
        Some(done) => (done.document, done.ack, result),
        None => std::future::pending().await,
    }
}

/// The close a read error deserves when the peer may still read it: a
/// message over the limit (tungstenite stops reading it at the limit and
/// says "Message too long") gets 1009 with the limit; other errors (a
/// reset, a broken frame) end the connection without a close frame.
fn read_error_close(error: &str, max_message_bytes: usize) -> Option<Close> {
    error.contains("Message too long").then(|| Close {
        code: CLOSE_TOO_BIG,
        reason: format!("message over the limit of {max_message_bytes} bytes"),
    })
}

/// Why a connection ends.
struct Close {
    code: u16,
    reason: String,
}

impl Close {
    fn policy(reason: impl Into<String>) -> Self {
        Close {
            code: CLOSE_POLICY,
            reason: reason.into(),
        }
    }
}

/// A room this connection has joined.
struct Joined {
    room: Arc<Room>,
    forwarder: tokio::task::JoinHandle<()>,
}

/// What a room forwards to this connection.
enum Forwarded {
    Out(String, Outbound),
    /// The connection fell too far behind a room's broadcasts.
    Lagged(String),
    /// The room closed after a storage failure (the reason).
    RoomClosed(String),
    /// A deferred authorization of a Hocuspocus document was decided.
    /// Boxed: the connection's channel allocates its slots in blocks of
    /// the largest variant, and this rare one would triple them.
    Auth(String, Box<Result<(Principal, Access), AuthError>>),
}

struct Connection {
    st: Arc<AppState>,
    id: ConnId,
    session: ServerSession,
    slot: ConnSlot,
    joined: HashMap<String, Joined>,
    forward_tx: mpsc::Sender<Forwarded>,
    /// Update rate limiting: a token bucket refilled every second.
    bucket: f64,
    bucket_at: Instant,
    started: Instant,
    peer: SocketAddr,
    /// The upgrade request's credentials.
    creds: Credentials,
    /// Updates applied and queued for the store, oldest first, each
    /// acknowledged once durable.
    in_flight: VecDeque<InFlight>,
}

/// An update of this connection being stored.
struct InFlight {
    document: String,
    ack: AckId,
    accepted: Accepted,
}

impl Connection {
    async fn run(
        st: Arc<AppState>,
        mut socket: WebSocket,
        session: ServerSession,
        slot: ConnSlot,
        peer: SocketAddr,
        creds: Credentials,
    ) {
        Metrics::add(&st.metrics.connections, 1);
        let (forward_tx, mut forward_rx) = mpsc::channel(256);
        let mut conn = Connection {
            id: st.rooms.next_conn_id(),
            bucket: f64::from(st.cfg.max_updates_per_second),
            st,
            session,
            slot,
            joined: HashMap::new(),
            forward_tx,
            bucket_at: Instant::now(),
            started: Instant::now(),
            peer,
            creds,
            in_flight: VecDeque::new(),
        };
        let mut ping = tokio::time::interval(Duration::from_secs(30));
        ping.tick().await;
        // A connection that never authenticates a document is closed.
        let auth_timeout = conn.st.cfg.auth_timeout_secs;
        let auth_deadline = tokio::time::Instant::now() + Duration::from_secs(auth_timeout);
        let mut authenticated = false;
        // y-websocket sessions open their document at once. Here and
        // below, the handling of a message is a boxed future: this task
        // lives as long as the connection, and its state machine would
        // otherwise reserve room for the largest of them (a store append,
        // a room load) while the connection sits idle.
        let mut outcome = Box::pin(conn.drain_events()).await;
        if outcome.is_ok() {
            outcome = conn.flush(&mut socket).await;
        }
        while outcome.is_ok() {
            authenticated = authenticated || conn.session.open_documents().next().is_some();
            tokio::select! {
                _ = tokio::time::sleep_until(auth_deadline), if !authenticated => {
                    outcome = Err(Close::policy(format!(
                        "no document authenticated within {auth_timeout} s"
                    )));
                }
                stored = next_stored(&mut conn.in_flight), if !conn.in_flight.is_empty() => {
                    outcome = conn.on_stored(stored);
                }
                msg = socket.recv(), if conn.in_flight.len() < MAX_IN_FLIGHT => {
                    outcome = match msg {
                        Some(Ok(Message::Binary(bytes))) => Box::pin(conn.on_frame(&bytes)).await,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Ok(Message::Text(_))) => Err(Close::policy("text frames are not part of the Yjs protocol")),
                        Some(Ok(_)) => Ok(()),
                        Some(Err(e)) => {
                            tracing::debug!(conn = conn.id, error = %e, "socket error");
                            match read_error_close(&e.to_string(), conn.st.cfg.max_message_bytes) {
                                Some(close) => Err(close),
                                None => break,
                            }
                        }
                    };
                }
                fwd = forward_rx.recv() => {
                    outcome = match fwd {
                        Some(Forwarded::Out(doc, out)) => conn.on_forward(&doc, out),
                        Some(Forwarded::Lagged(doc)) => Err(Close::policy(format!(
                            "connection too slow for document {doc}; reconnect to resync"
                        ))),
                        Some(Forwarded::RoomClosed(reason)) => Err(Close { code: CLOSE_ERROR, reason }),
                        Some(Forwarded::Auth(doc, result)) => Box::pin(conn.on_auth(&doc, *result)).await,
                        None => Ok(()),
                    };
                }
                _ = ping.tick() => {
                    outcome = socket
                        .send(Message::Ping(Vec::new().into()))
                        .await
                        .map_err(|_| Close::policy("ping failed"));
                }
            }
            if outcome.is_ok() {
                outcome = conn.flush(&mut socket).await;
            }
        }
        if let Err(close) = outcome {
            if close.code != CLOSE_POLICY || !close.reason.is_empty() {
                tracing::info!(conn = conn.id, peer = %conn.peer, reason = %close.reason, "closing connection");
            }
            Metrics::add(&conn.st.metrics.protocol_errors, 1);
            let _ = conn.flush(&mut socket).await;
            // Bounded: a peer that reads nothing must not keep the task.
            let _ = tokio::time::timeout(
                Duration::from_secs(conn.st.cfg.send_timeout_secs),
                socket.send(Message::Close(Some(CloseFrame {
                    code: close.code,
                    reason: close.reason.chars().take(120).collect::<String>().into(),
                }))),
            )
            .await;
        }
        Box::pin(conn.leave_all()).await;
        Metrics::dec(&conn.st.metrics.connections);
        tracing::debug!(
            conn = conn.id,
            secs = conn.started.elapsed().as_secs(),
            "connection ended"
        );
        drop(conn.slot);
    }

    async fn on_frame(&mut self, frame: &[u8]) -> Result<(), Close> {
        Metrics::add(&self.st.metrics.bytes_in, frame.len() as u64);
        let now = self.started.elapsed().as_millis() as u64;
        let st = self.st.clone();
        let mut claimed: Option<String> = None;
        let mut deferred: Vec<(String, Credentials)> = Vec::new();
        let upgrade_creds = &self.creds;
        let mut authorize = |doc: &str, token: &str| -> AuthDecision {
            if !valid_doc_name(doc) {
                return AuthDecision::Deny {
                    reason: "invalid document name".into(),
                };
            }
            // Hocuspocus providers send a placeholder when they have no token.
            let token = Some(token).filter(|t| !t.is_empty() && *t != "anonymous");
            let creds = upgrade_creds.with_token(token);
            match st.auth.decide_now(&creds, doc) {
                Some(Ok((principal, access))) => {
                    claimed = Some(principal.user);
                    AuthDecision::Allow(access)
                }
                Some(Err(e)) => {
                    Metrics::add(&st.metrics.auth_failures, 1);
                    tracing::info!(doc = %doc, reason = %e, "hocuspocus document refused");
                    AuthDecision::Deny {
                        reason: e.to_string(),
                    }
                }
                None => {
                    deferred.push((doc.to_owned(), creds));
                    AuthDecision::Defer
                }
            }
        };
        let received = self.session.receive(now, frame, &mut authorize);
        if let Some(user) = claimed {
            self.slot.claim_user(&user).map_err(Close::policy)?;
        }
        for (doc, creds) in deferred {
            let (st, tx) = (self.st.clone(), self.forward_tx.clone());
            tokio::spawn(async move {
                let result = st.auth.authorize_request(&creds, &doc).await;
                let _ = tx.send(Forwarded::Auth(doc, Box::new(result))).await;
            });
        }
        if let Err(e) = received {
            let code = match e {
                atelier_sync::SyncError::TooLarge { .. } => CLOSE_TOO_BIG,
                _ => CLOSE_POLICY,
            };
            return Err(Close {
                code,
                reason: e.to_string(),
            });
        }
        self.drain_events().await
    }

    /// Applies a deferred authorization decision.
    async fn on_auth(
        &mut self,
        doc: &str,
        result: Result<(Principal, Access), AuthError>,
    ) -> Result<(), Close> {
        let decision = match result {
            Ok((principal, access)) => {
                self.slot
                    .claim_user(&principal.user)
                    .map_err(Close::policy)?;
                AuthDecision::Allow(access)
            }
            Err(e) => {
                Metrics::add(&self.st.metrics.auth_failures, 1);
                tracing::info!(conn = self.id, doc = %doc, reason = %e, "hocuspocus document refused");
                AuthDecision::Deny {
                    reason: e.to_string(),
                }
            }
        };
        // The client may have closed the document meanwhile: nothing to do.
        if self.session.resolve_auth(doc, decision).is_ok() {
            self.drain_events().await?;
        }
        Ok(())
    }

    async fn drain_events(&mut self) -> Result<(), Close> {
        while let Some(event) = self.session.poll_event() {
            self.on_event(event).await?;
        }
        Ok(())
    }

    fn room(&self, doc: &str) -> Result<Arc<Room>, Close> {
        self.joined
            .get(doc)
            .map(|j| j.room.clone())
            .ok_or_else(|| Close::policy(format!("document {doc} is not open")))
    }

    fn sync_err(e: atelier_sync::SyncError) -> Close {
        Close {
            code: CLOSE_ERROR,
            reason: e.to_string(),
        }
    }

    async fn on_event(&mut self, event: ServerEvent) -> Result<(), Close> {
        match event {
            ServerEvent::Opened { document, access } => {
                self.join(&document).await?;
                let room = self.room(&document)?;
                if !self.session.is_hocuspocus() {
                    let sv = EncodedStateVector::from_state_vector(&room.state_vector().await);
                    self.session
                        .send_sync_step1(&document, &sv)
                        .map_err(Self::sync_err)?;
                }
                if let Some(aw) = room.awareness_update().await {
                    self.session
                        .send_awareness(&document, &aw)
                        .map_err(Self::sync_err)?;
                }
                tracing::debug!(conn = self.id, doc = %document, access = access.scope(), "document opened");
            }
            ServerEvent::Denied { .. } | ServerEvent::TokenRefreshed { .. } => {}
            ServerEvent::SyncStep1 {
                document,
                state_vector,
                reply_step1,
            } => {
                let room = self.room(&document)?;
                let diff = room
                    .diff(&state_vector.to_state_vector())
                    .await
                    .map_err(|e| Close {
                        code: CLOSE_ERROR,
                        reason: e.to_string(),
                    })?;
                self.session
                    .send_sync_step2(&document, &diff)
                    .map_err(Self::sync_err)?;
                if reply_step1 {
                    let sv = EncodedStateVector::from_state_vector(&room.state_vector().await);
                    self.session
                        .send_sync_step1(&document, &sv)
                        .map_err(Self::sync_err)?;
                }
            }
            ServerEvent::ApplyUpdate {
                document,
                update,
                ack,
            } => {
                self.rate_limit()?;
                let room = self.room(&document)?;
                match room.submit_update(&self.st.rooms, self.id, &update).await {
                    Ok(accepted) => self.in_flight.push_back(InFlight {
                        document,
                        ack,
                        accepted,
                    }),
                    Err(e) => self.on_stored((document, ack, Err(e)))?,
                }
            }
            ServerEvent::CheckReadOnlyUpdate {
                document,
                update,
                ack,
            } => {
                let room = self.room(&document)?;
                let nothing_new = room.adds_nothing(&update).await;
                if !nothing_new {
                    Metrics::add(&self.st.metrics.updates_refused, 1);
                }
                self.session
                    .ack_persisted(ack, nothing_new)
                    .map_err(Self::sync_err)?;
            }
            ServerEvent::UpdateRefused { document } => {
                Metrics::add(&self.st.metrics.updates_refused, 1);
                tracing::info!(conn = self.id, doc = %document, "update from a read-only session refused");
            }
            ServerEvent::Awareness { document, update } => {
                let room = self.room(&document)?;
                room.apply_awareness(self.id, update)
                    .await
                    .map_err(|e| Close::policy(e.to_string()))?;
            }
            ServerEvent::QueryAwareness { document } => {
                let room = self.room(&document)?;
                if let Some(aw) = room.awareness_update().await {
                    self.session
                        .send_awareness(&document, &aw)
                        .map_err(Self::sync_err)?;
                }
            }
            ServerEvent::Stateless { document, payload } => {
                tracing::debug!(conn = self.id, doc = %document, bytes = payload.len(), "stateless message ignored");
            }
            ServerEvent::Closed { document, .. } => self.leave(&document).await,
        }
        Ok(())
    }

    /// Acknowledges an update once the store answered; a refused one
    /// closes the connection (the client resyncs on reconnecting).
    fn on_stored(
        &mut self,
        (document, ack, result): (String, AckId, Result<(), RoomError>),
    ) -> Result<(), Close> {
        self.session
            .ack_persisted(ack, result.is_ok())
            .map_err(Self::sync_err)?;
        let Err(e) = result else {
            return Ok(());
        };
        Metrics::add(&self.st.metrics.updates_refused, 1);
        tracing::warn!(conn = self.id, doc = %document, error = %e, "update refused");
        let code = match e {
            RoomError::TooLarge { .. } => CLOSE_TOO_BIG,
            RoomError::Malformed(_) | RoomError::Refused(_) => CLOSE_POLICY,
            RoomError::Store(_) => CLOSE_ERROR,
        };
        Err(Close {
            code,
            reason: e.to_string(),
        })
    }

    fn rate_limit(&mut self) -> Result<(), Close> {
        let rate = f64::from(self.st.cfg.max_updates_per_second.max(1));
        let now = Instant::now();
        let refill = now.duration_since(self.bucket_at).as_secs_f64() * rate;
        self.bucket = (self.bucket + refill).min(rate);
        self.bucket_at = now;
        if self.bucket < 1.0 {
            return Err(Close::policy(format!(
                "too many updates (limit {} per second)",
                self.st.cfg.max_updates_per_second
            )));
        }
        self.bucket -= 1.0;
        Ok(())
    }

    async fn join(&mut self, doc: &str) -> Result<(), Close> {
        if self.joined.contains_key(doc) {
            return Ok(());
        }
        let room = self.st.rooms.join(doc).await.map_err(|e| Close {
            code: CLOSE_ERROR,
            reason: e.to_string(),
        })?;
        let mut rx = room.subscribe();
        let tx = self.forward_tx.clone();
        let (me, name) = (self.id, doc.to_owned());
        let forwarder = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(Outbound::Closed { reason }) => {
                        let _ = tx.send(Forwarded::RoomClosed(reason)).await;
                        return;
                    }
                    Ok(out) => {
                        let from = match &out {
                            Outbound::Update { from, .. } | Outbound::Awareness { from, .. } => {
                                *from
                            }
                            Outbound::Closed { .. } => continue,
                        };
                        if from != me && tx.send(Forwarded::Out(name.clone(), out)).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(Forwarded::Lagged(name.clone())).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        self.joined
            .insert(doc.to_owned(), Joined { room, forwarder });
        Ok(())
    }

    async fn leave(&mut self, doc: &str) {
        if let Some(j) = self.joined.remove(doc) {
            j.forwarder.abort();
            self.st.rooms.leave(&j.room, self.id).await;
        }
    }

    async fn leave_all(&mut self) {
        let docs: Vec<String> = self.joined.keys().cloned().collect();
        for d in docs {
            self.leave(&d).await;
        }
    }

    fn on_forward(&mut self, doc: &str, out: Outbound) -> Result<(), Close> {
        if !self.joined.contains_key(doc) {
            return Ok(());
        }
        match out {
            Outbound::Update { update, .. } => self.session.send_update(doc, &update),
            Outbound::Awareness { update, .. } => self.session.send_awareness(doc, &update),
            Outbound::Closed { .. } => Ok(()),
        }
        .map_err(Self::sync_err)
    }

    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), Close> {
        let timeout = Duration::from_secs(self.st.cfg.send_timeout_secs);
        while let Some(frame) = self.session.poll_transmit() {
            Metrics::add(&self.st.metrics.bytes_out, frame.len() as u64);
            match tokio::time::timeout(timeout, socket.send(Message::Binary(frame.into()))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(Close::policy("")),
                Err(_) => {
                    return Err(Close::policy(format!(
                        "the peer read nothing for {} s",
                        timeout.as_secs()
                    )));
                }
            }
        }
        Ok(())
    }
}
