//! The Matrix bridge's application service endpoint: the homeserver pushes
//! the linked rooms' events to `PUT /_matrix/app/v1/transactions/{txnId}`
//! (instead of the bot's `/sync` of bot mode), and checks the service is up
//! with `POST /_matrix/app/v1/ping`.
//!
//! Served by the Atelier server itself, on its own address: the
//! registration's `url` is this server's base URL. Each push must carry the
//! registration's `hs_token` (`Authorization: Bearer`, or `?access_token=`
//! from older homeservers); another token is refused with 403 `M_FORBIDDEN`.
//! A push is answered once every event of a linked room is stored in its
//! chat (with its record in the ledger), so an error or a crash before that
//! makes the homeserver push it again; the ledger drops events it applied
//! before, and a transaction id seen before is answered at once.

use atelier_matrix::appservice::{Registration, SeenTransactions};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// One room's share of a push, and where to say it is stored.
pub struct Push {
    /// The room's events, in the push's order.
    pub events: Vec<Value>,
    /// `true` once the chat holds them.
    pub done: oneshot::Sender<bool>,
}

/// The pushes a relay takes, from the endpoint.
pub type Pushed = Arc<tokio::sync::Mutex<mpsc::Receiver<Push>>>;

/// The application service side of the bridge, shared by the endpoint and
/// the relays.
pub struct Appservice {
    /// The registration the homeserver loaded.
    pub registration: Registration,
    /// How many links the relays serve: until all are in their rooms, a
    /// push is refused (the homeserver keeps it and tries again) rather
    /// than lose a linked room's events. Changes as links are made and
    /// taken back by API.
    links: AtomicUsize,
    relays: Mutex<HashMap<String, mpsc::Sender<Push>>>,
    seen: tokio::sync::Mutex<SeenTransactions>,
    /// Puppets made ready in a room, with the display name they were given.
    pub puppets: Mutex<HashMap<(String, String), String>>,
}

impl std::fmt::Debug for Appservice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appservice")
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

impl Appservice {
    /// The service for `links` linked rooms.
    pub fn new(registration: Registration, links: usize) -> Appservice {
        Appservice {
            registration,
            links: AtomicUsize::new(links),
            relays: Mutex::default(),
            seen: tokio::sync::Mutex::default(),
            puppets: Mutex::default(),
        }
    }

    /// A relay in room `room_id` takes that room's pushed events from now
    /// on (replacing an earlier relay of the room).
    pub fn attach(&self, room_id: &str) -> Pushed {
        let (tx, rx) = mpsc::channel(16);
        lock(&self.relays).insert(room_id.to_owned(), tx);
        Arc::new(tokio::sync::Mutex::new(rx))
    }

    /// Room `room_id`'s relay stopped (its link was taken back): its
    /// pushed events are ignored from now on.
    pub fn detach(&self, room_id: &str) {
        lock(&self.relays).remove(room_id);
    }

    /// How many links the relays serve now.
    pub fn set_links(&self, links: usize) {
        self.links.store(links, Ordering::SeqCst);
    }

    /// The endpoint's routes, to nest under `/_matrix/app`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/transactions/{txn}", put(transaction))
            .route("/v1/ping", post(ping))
            .with_state(self)
    }

    /// The refusal of a push without the homeserver's token, if it is one.
    fn refusal(&self, headers: &HeaderMap, query: &HashMap<String, String>) -> Option<Response> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or(query.get("access_token").map(String::as_str));
        match token {
            None => Some(matrix_error(
                StatusCode::UNAUTHORIZED,
                "M_UNAUTHORIZED",
                "no homeserver token",
            )),
            Some(t) if self.registration.accepts_hs_token(t) => None,
            Some(_) => Some(matrix_error(
                StatusCode::FORBIDDEN,
                "M_FORBIDDEN",
                "not the homeserver token of this application service",
            )),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn matrix_error(status: StatusCode, errcode: &str, error: &str) -> Response {
    (
        status,
        axum::Json(json!({"errcode": errcode, "error": error})),
    )
        .into_response()
}

async fn ping(
    State(service): State<Arc<Appservice>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match service.refusal(&headers, &query) {
        None => axum::Json(json!({})).into_response(),
        Some(refusal) => refusal,
    }
}

async fn transaction(
    State(service): State<Arc<Appservice>>,
    Path(txn): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = service.refusal(&headers, &query) {
        return refusal;
    }
    // One push at a time: a retried transaction waits for the first try.
    let mut seen = service.seen.lock().await;
    if seen.contains(&txn) {
        return axum::Json(json!({})).into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return matrix_error(
            StatusCode::BAD_REQUEST,
            "M_NOT_JSON",
            "the body is not JSON",
        );
    };
    let mut by_room: Vec<(String, Vec<Value>)> = Vec::new();
    for ev in body["events"].as_array().into_iter().flatten() {
        let Some(room) = ev["room_id"].as_str() else {
            continue;
        };
        match by_room.iter_mut().find(|(r, _)| r == room) {
            Some((_, events)) => events.push(ev.clone()),
            None => by_room.push((room.to_owned(), vec![ev.clone()])),
        }
    }
    let (relays, ready) = {
        let relays = lock(&service.relays);
        (
            relays.clone(),
            relays.len() >= service.links.load(Ordering::SeqCst),
        )
    };
    let mut waits = Vec::new();
    for (room, events) in by_room {
        let Some(relay) = relays.get(&room) else {
            if ready {
                // A room no link names (the bridge bot was invited
                // elsewhere): nothing to do.
                continue;
            }
            return matrix_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "M_UNKNOWN",
                "the bridge is still joining its rooms",
            );
        };
        let (done, stored) = oneshot::channel();
        if relay.send(Push { events, done }).await.is_err() {
            return matrix_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "M_UNKNOWN",
                "relay restarting",
            );
        }
        waits.push(stored);
    }
    for stored in waits {
        if !matches!(stored.await, Ok(true)) {
            return matrix_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "M_UNKNOWN",
                "the chat could not store the events; push them again",
            );
        }
    }
    seen.insert(&txn);
    axum::Json(json!({})).into_response()
}
