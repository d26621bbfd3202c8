//! `--auth-url`: cookie-forwarding authorization as La Suite Docs'
//! y-provider does it. A small HTTP service in the test answers by the
//! session cookie it receives (`session=alice` may write, `session=bob` may
//! read, anyone else is refused), and atelier-server asks it for Hocuspocus
//! and y-websocket connections that come without a token, forwarding the
//! cookies of the WebSocket upgrade.

#[path = "support/server.rs"]
mod support;

use atelier_sync::{Access, ClientConfig, ClientEvent, ClientSession};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{TestServer, temp_dir, test_db, unique};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Text, Transact};

const WAIT: Duration = Duration::from_secs(15);

/// Calls the test service received: (cookie, authorization, document).
type Calls = Arc<Mutex<Vec<(String, String, String)>>>;

/// The session service on a free loopback port.
struct AuthService {
    base: String,
    calls: Calls,
    task: tokio::task::JoinHandle<()>,
}

impl AuthService {
    async fn start() -> AuthService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let calls: Calls = Arc::default();
        let app = axum::Router::new()
            .route("/api/v1.0/documents/collaboration-auth/", get(decide))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Json(json!({"access": "write"}))
                }),
            )
            .route(
                "/broken",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
            )
            .with_state(calls.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        AuthService { base, calls, task }
    }

    fn url(&self) -> String {
        format!("{}/api/v1.0/documents/collaboration-auth/", self.base)
    }

    fn calls_for(&self, cookie: &str, doc: &str) -> usize {
        self.calls
            .lock()
            .expect("calls")
            .iter()
            .filter(|(c, _, d)| c == cookie && d == doc)
            .count()
    }
}

impl Drop for AuthService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers by the `session` cookie, as a Django back end would by session.
async fn decide(
    State(calls): State<Calls>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let doc = q.get("document").cloned().unwrap_or_default();
    calls
        .lock()
        .expect("calls")
        .push((cookie.clone(), authorization, doc));
    let session = cookie
        .split(';')
        .filter_map(|kv| kv.trim().strip_prefix("session="))
        .next();
    match session {
        Some("alice") => {
            Json(json!({"access": "write", "user": "alice", "name": "Alice"})).into_response()
        }
        Some("bob") => Json(json!({"access": "read", "user": "bob"})).into_response(),
        Some("carol") => Json(json!({"access": "none", "user": "carol"})).into_response(),
        _ => (StatusCode::FORBIDDEN, "no session").into_response(),
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket with a `Cookie` header; `Err` holds a refused upgrade's status.
async fn open(url: &str, cookie: &str) -> Result<Ws, u16> {
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().expect("cookie header"));
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connect {url}: {e}"),
    }
}

/// A Yjs client session over a WebSocket opened with cookies.
struct Client {
    session: ClientSession,
    ws: Ws,
    started: Instant,
    events: Vec<ClientEvent>,
}

impl Client {
    async fn connect(url: &str, cookie: &str, config: ClientConfig) -> Client {
        let ws = open(url, cookie)
            .await
            .unwrap_or_else(|status| panic!("upgrade refused with {status}"));
        let mut session = ClientSession::new(Doc::new(), config).expect("client session");
        session.connected(0);
        Client {
            session,
            ws,
            started: Instant::now(),
            events: Vec::new(),
        }
    }

    fn text(&self) -> String {
        let doc = self.session.doc();
        let t = doc.get_or_insert_text("text");
        t.get_string(&doc.transact())
    }

    fn insert(&self, s: &str) {
        let doc = self.session.doc();
        let t = doc.get_or_insert_text("text");
        let mut txn = doc.transact_mut();
        let end = t.len(&txn);
        t.insert(&mut txn, end, s);
    }

    /// Exchanges frames until `done` holds; panics after [`WAIT`].
    async fn pump_until(&mut self, what: &str, mut done: impl FnMut(&mut Client) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Some(frame) = self.session.poll_transmit() {
                self.ws
                    .send(Message::Binary(frame.into()))
                    .await
                    .expect("send");
            }
            if done(self) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timeout waiting for {what}: {:?}",
                self.events
            );
            match tokio::time::timeout(left.min(Duration::from_millis(50)), self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    let now = self.started.elapsed().as_millis() as u64;
                    self.session.receive(now, &bytes).expect("valid frame");
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    panic!(
                        "closed while waiting for {what}: {frame:?}; {:?}",
                        self.events
                    )
                }
                Ok(Some(Ok(_))) | Err(_) => {}
                Ok(Some(Err(e))) => panic!("socket error while waiting for {what}: {e}"),
                Ok(None) => panic!("socket ended while waiting for {what}"),
            }
            self.session.tick(self.started.elapsed().as_millis() as u64);
            while let Some(e) = self.session.poll_event() {
                self.events.push(e);
            }
        }
    }

    fn denied(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::PermissionDenied { reason } => Some(reason.as_str()),
            _ => None,
        })
    }
}

/// The document's text as the server has it, read over REST with `cookie`.
async fn server_text(server: &TestServer, doc: &str, cookie: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!(
            "http://{}/api/docs/{}",
            server.addr,
            doc.replace('/', "%2F")
        ))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    if status != 200 {
        return (status, String::from_utf8_lossy(&bytes).into_owned());
    }
    let d = Doc::new();
    d.transact_mut()
        .apply_update(yrs::Update::decode_v1(&bytes).expect("update"))
        .expect("applies");
    let t = d.get_or_insert_text("text");
    let s = t.get_string(&d.transact());
    (status, s)
}

async fn start_server(dir: &std::path::Path, auth_url: String) -> TestServer {
    TestServer::start(&test_db(dir), move |cfg| {
        cfg.auth_url = Some(auth_url);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hocuspocus_sessions_are_authorized_by_their_cookies() {
    let service = AuthService::start().await;
    let dir = temp_dir("cookie-hocuspocus");
    let server = start_server(&dir, service.url()).await;
    let doc = unique(&dir, "team/plan");

    // Alice may write: her edit is acknowledged once stored.
    let mut alice = Client::connect(
        &server.ws("/collaboration/ws/"),
        "theme=dark; session=alice",
        ClientConfig::hocuspocus(doc.clone(), ""),
    )
    .await;
    alice
        .pump_until("alice synced", |c| c.events.contains(&ClientEvent::Synced))
        .await;
    assert!(alice.events.contains(&ClientEvent::Authenticated {
        access: Access::ReadWrite
    }));
    alice.insert("written by alice;");
    alice
        .pump_until("acknowledgement", |c| c.session.unsynced_changes() == 0)
        .await;
    assert_eq!(
        service.calls_for("theme=dark; session=alice", &doc),
        1,
        "the document name and the cookies reach the service"
    );

    // Bob may read: he syncs, but his edit is refused and never stored.
    let mut bob = Client::connect(
        &server.ws("/sync"),
        "session=bob",
        ClientConfig::hocuspocus(doc.clone(), ""),
    )
    .await;
    bob.pump_until("bob has alice's text", |c| c.text() == "written by alice;")
        .await;
    assert!(bob.events.contains(&ClientEvent::Authenticated {
        access: Access::ReadOnly
    }));
    bob.insert("bob was here;");
    bob.pump_until("refusal", |c| {
        c.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Rejected { .. }))
    })
    .await;
    alice.insert("still alice;");
    alice
        .pump_until("second acknowledgement", |c| {
            c.session.unsynced_changes() == 0
        })
        .await;
    // Bob's own edit stays in his replica only; alice's reaches it too.
    bob.pump_until("bob sees alice's second edit", |c| {
        c.text().contains("still alice;")
    })
    .await;
    assert_eq!(
        server_text(&server, &doc, "session=bob").await,
        (200, "written by alice;still alice;".to_owned())
    );

    // Carol's session has no access; a stranger's is refused by the service.
    for (cookie, reason) in [
        ("session=carol", "no access to document"),
        ("session=mallory", "no access to document"),
    ] {
        let mut c = Client::connect(
            &server.ws("/sync"),
            cookie,
            ClientConfig::hocuspocus(doc.clone(), ""),
        )
        .await;
        c.pump_until("refusal", |c| c.denied().is_some()).await;
        let denied = c.denied().unwrap_or_default();
        assert!(denied.contains(reason), "{cookie}: {denied}");
    }

    // A second connection of Alice within 30 s uses the cached answer.
    let mut again = Client::connect(
        &server.ws("/sync"),
        "theme=dark; session=alice",
        ClientConfig::hocuspocus(doc.clone(), ""),
    )
    .await;
    again
        .pump_until("synced from the cache", |c| {
            c.text().starts_with("written by alice;still alice;")
        })
        .await;
    assert_eq!(service.calls_for("theme=dark; session=alice", &doc), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn y_websocket_upgrades_are_authorized_by_their_cookies() {
    let service = AuthService::start().await;
    let dir = temp_dir("cookie-ywebsocket");
    let server = start_server(&dir, service.url()).await;
    let doc = unique(&dir, "notes");
    let url = server.ws(&format!("/sync/{doc}"));

    let mut alice = Client::connect(&url, "session=alice", ClientConfig::y_websocket()).await;
    alice
        .pump_until("alice synced", |c| c.events.contains(&ClientEvent::Synced))
        .await;
    alice.insert("alice;");
    alice.pump_until("sending", |_| true).await;

    let mut bob = Client::connect(&url, "session=bob", ClientConfig::y_websocket()).await;
    bob.pump_until("bob has alice's text", |c| c.text() == "alice;")
        .await;
    // Bob's edit reaches the server, which refuses it.
    bob.insert("bob;");
    bob.pump_until("sending", |_| true).await;
    alice.insert("alice again;");
    alice.pump_until("sending", |_| true).await;
    bob.pump_until("bob sees alice's second edit", |c| {
        c.text().contains("alice again;")
    })
    .await;
    assert_eq!(
        server_text(&server, &doc, "session=alice").await,
        (200, "alice;alice again;".to_owned())
    );

    assert_eq!(open(&url, "session=carol").await.err(), Some(403));
    assert_eq!(open(&url, "session=mallory").await.err(), Some(403));
    let (status, body) = server_text(&server, &doc, "session=mallory").await;
    assert_eq!(status, 403, "{body}");

    // A bearer token still works beside the cookies.
    let token = support::token("t", &["*"], &[], false);
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/docs/{doc}", server.addr))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_failing_service_denies_with_a_reason() {
    let service = AuthService::start().await;
    let dir = temp_dir("cookie-failing");
    let doc = unique(&dir, "doc");

    let server = start_server(&dir, format!("{}/broken", service.base)).await;
    let mut c = Client::connect(
        &server.ws("/sync"),
        "session=alice",
        ClientConfig::hocuspocus(doc.clone(), ""),
    )
    .await;
    c.pump_until("refusal", |c| c.denied().is_some()).await;
    let denied = c.denied().unwrap_or_default().to_owned();
    assert!(denied.contains("answered HTTP 500"), "{denied}");
    let (status, body) = server_text(&server, &doc, "session=alice").await;
    assert_eq!(status, 503, "{body}");
    server.stop().await;

    let server = start_server(&dir, format!("{}/slow", service.base)).await;
    let started = Instant::now();
    let mut c = Client::connect(
        &server.ws("/sync"),
        "session=alice",
        ClientConfig::hocuspocus(doc.clone(), ""),
    )
    .await;
    c.pump_until("refusal", |c| c.denied().is_some()).await;
    let denied = c.denied().unwrap_or_default().to_owned();
    assert!(denied.contains("no answer within 3 s"), "{denied}");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(
        open(&server.ws(&format!("/sync/{doc}")), "session=alice")
            .await
            .err(),
        Some(503)
    );
    server.stop().await;
}
