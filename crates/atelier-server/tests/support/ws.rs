//! WebSocket helpers shared by the server's integration tests: connect,
//! wait for the server's close, and check a y-websocket connection still
//! answers, each with a deadline and what was seen when it fails.

#![allow(dead_code, missing_docs)]

use atelier_sync::{Limits, SyncMessage, YwsMessage};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use yrs::StateVector;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const DEADLINE: Duration = Duration::from_secs(20);

pub async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connect")
        .0
}

/// Reads frames until the server closes; returns the close code and reason.
pub async fn closed(ws: &mut Ws) -> (Option<u16>, String) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen = 0;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (Some(frame.code.into()), frame.reason.to_string());
            }
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => {
                return (None, String::new());
            }
            Ok(Some(Ok(_))) => seen += 1,
            Err(_) => panic!("the server did not close within {DEADLINE:?} ({seen} frames seen)"),
        }
    }
}

/// A y-websocket connection is alive: it answers a sync step 1 with a step 2.
pub async fn answers_y_websocket(ws: &mut Ws) -> bool {
    answers_y_websocket_within(ws, &Limits::default()).await
}

/// [`answers_y_websocket`], decoding the answer with `limits`.
pub async fn answers_y_websocket_within(ws: &mut Ws, limits: &Limits) -> bool {
    let step1 = YwsMessage::Sync(SyncMessage::Step1(
        atelier_sync::EncodedStateVector::from_state_vector(&StateVector::default()),
    ));
    if ws
        .send(Message::Binary(step1.encode().into()))
        .await
        .is_err()
    {
        return false;
    }
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match YwsMessage::decode(&b, limits) {
                Ok(YwsMessage::Sync(SyncMessage::Step2(_))) => return true,
                other => seen.push(format!("{} bytes: {:?}", b.len(), other.map(|_| ()))),
            },
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Text(_)))) => {}
            other => {
                eprintln!("a connection stopped answering: {other:?}; frames seen: {seen:?}");
                return false;
            }
        }
    }
}
