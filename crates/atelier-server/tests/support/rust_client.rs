//! A Rust Yjs client for tests: `atelier_sync::ClientSession` over a real
//! WebSocket (tokio-tungstenite).

use atelier_sync::{ClientConfig, ClientEvent, ClientSession};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use yrs::Doc;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connected client.
pub struct RustClient {
    pub session: ClientSession,
    ws: Ws,
    started: Instant,
    pub events: Vec<ClientEvent>,
}

impl RustClient {
    /// Connects `doc` to `url` with the given framing.
    pub async fn connect(url: &str, doc: Doc, config: ClientConfig) -> RustClient {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        let mut session = ClientSession::new(doc, config).expect("client session");
        session.connected(0);
        RustClient {
            session,
            ws,
            started: Instant::now(),
            events: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn flush(&mut self) {
        while let Some(frame) = self.session.poll_transmit() {
            self.ws
                .send(Message::Binary(frame.into()))
                .await
                .expect("send frame");
        }
    }

    /// Exchanges frames until `done` holds, or panics after `timeout` with
    /// what was seen.
    pub async fn pump_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&mut RustClient) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            self.flush().await;
            if done(self) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timeout waiting for {what}; status {:?}, events {:?}",
                    self.session.status(),
                    self.events
                );
            }
            match tokio::time::timeout(left.min(Duration::from_millis(50)), self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    let now = self.now();
                    self.session
                        .receive(now, &bytes)
                        .expect("valid frame from server");
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    panic!(
                        "server closed while waiting for {what}: {frame:?}; events {:?}",
                        self.events
                    )
                }
                Ok(Some(Ok(_))) | Err(_) => {}
                Ok(Some(Err(e))) => panic!("socket error while waiting for {what}: {e}"),
                Ok(None) => panic!("socket ended while waiting for {what}"),
            }
            let now = self.now();
            self.session.tick(now);
            while let Some(e) = self.session.poll_event() {
                self.events.push(e);
            }
        }
    }

    /// Publishes an awareness state (JSON).
    pub fn set_awareness(&mut self, json: &str) {
        let now = self.now();
        self.session
            .set_local_awareness(now, Some(json))
            .expect("awareness");
    }

    /// Names (`user.name`) in the remote awareness states.
    pub fn remote_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .session
            .remote_awareness()
            .iter()
            .filter_map(|(_, _, state)| {
                serde_json::from_str::<serde_json::Value>(state)
                    .ok()
                    .and_then(|v| v["user"]["name"].as_str().map(str::to_owned))
            })
            .collect();
        names.sort();
        names
    }
}
