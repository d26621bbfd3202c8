//! Shared by the Matrix bridge tests: the homeserver of
//! scripts/synapse.sh (found from the environment, or a private one the
//! test stops and restarts), Matrix users registered through Synapse's
//! shared-secret admin API and speaking the client-server API, the chat
//! document read and written through the Atelier server's HTTP API, and
//! waiting on either side with deadlines.
//!
//! Used with `#[path = "support/cluster.rs"] mod cluster;` declared first.

#![allow(dead_code, missing_docs)]

use crate::cluster::{self, Node};
use atelier_doc::chat::{Chat, ChatMessage, NewMessage};
use hmac::Mac;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

/// Longest wait for a relay to show on the other side.
pub const RELAY_DEADLINE: Duration = Duration::from_secs(60);

/// The homeserver's URL and registration secret, or `None` after printing
/// why the test does not run.
pub fn synapse_env(test: &str) -> Option<(String, String)> {
    let url = std::env::var("ATELIER_TEST_MATRIX_URL").unwrap_or_default();
    let secret = std::env::var("ATELIER_TEST_MATRIX_SECRET").unwrap_or_default();
    if url.is_empty() || secret.is_empty() {
        println!(
            "SKIPPED: {test} (needs a Synapse homeserver: eval \"$(bash scripts/synapse.sh start)\" sets ATELIER_TEST_MATRIX_URL and ATELIER_TEST_MATRIX_SECRET)"
        );
        return None;
    }
    Some((url.trim_end_matches('/').to_owned(), secret))
}

/// A Matrix user of the test, speaking the client-server API.
pub struct MatrixUser {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub user_id: String,
}

impl MatrixUser {
    /// Registers `name` through Synapse's shared-secret admin API.
    pub async fn register(base: &str, secret: &str, name: &str, password: &str) -> MatrixUser {
        let http = reqwest::Client::new();
        let url = format!("{base}/_synapse/admin/v1/register");
        let nonce: Value = http
            .get(&url)
            .send()
            .await
            .expect("nonce")
            .json()
            .await
            .expect("nonce json");
        let nonce = nonce["nonce"].as_str().expect("a nonce").to_owned();
        let mut mac =
            hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{nonce}\0{name}\0{password}\0notadmin").as_bytes());
        let mac: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let answer: Value = http
            .post(&url)
            .json(&json!({"nonce": nonce, "username": name, "password": password, "admin": false, "mac": mac}))
            .send()
            .await
            .expect("register")
            .json()
            .await
            .expect("register json");
        MatrixUser {
            http,
            base: base.to_owned(),
            token: answer["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("registered {name}: {answer}"))
                .to_owned(),
            user_id: answer["user_id"].as_str().expect("user id").to_owned(),
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/_matrix/client/v3/{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("homeserver answers");
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    /// Sends a message (optionally a reply); returns its event id.
    pub async fn say(&self, room: &str, body: &str, reply_to: Option<&str>) -> String {
        let mut content = json!({"msgtype": "m.text", "body": body});
        if let Some(parent) = reply_to {
            content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": parent}});
        }
        let txn = format!("t{}", now_ms());
        let answer = self
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{room}/send/m.room.message/{txn}"),
                Some(content),
            )
            .await;
        answer["event_id"].as_str().expect("event id").to_owned()
    }

    /// The room's message events, oldest first (the last 200).
    pub async fn messages(&self, room: &str) -> Vec<Value> {
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room}/messages?dir=b&limit=200"),
                None,
            )
            .await;
        let mut events: Vec<Value> = answer["chunk"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == "m.room.message")
            .collect();
        events.reverse();
        events
    }

    /// Long-polls `/sync` until an event of `room` satisfies `found`.
    pub async fn wait_for_event(
        &self,
        room: &str,
        what: &str,
        found: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + RELAY_DEADLINE;
        let mut since: Option<String> = None;
        loop {
            let mut path = "sync?timeout=5000".to_owned();
            if let Some(s) = &since {
                path.push_str(&format!("&since={s}"));
            }
            let answer = self.call(reqwest::Method::GET, &path, None).await;
            let events = answer["rooms"]["join"][room]["timeline"]["events"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(ev) = events.into_iter().find(|e| found(e)) {
                return ev;
            }
            since = answer["next_batch"].as_str().map(str::to_owned);
            assert!(
                Instant::now() < deadline,
                "timed out after {RELAY_DEADLINE:?} waiting in Matrix for {what}"
            );
        }
    }
}

pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The chat document's state from the server.
pub fn chat_state(node: &Node, doc: &str) -> Doc {
    let (status, _) = cluster::http(&node.addr, "GET", "/healthz", &[]).expect("server answers");
    assert_eq!(status, 200);
    let bytes = raw_get(&node.addr, &format!("/api/docs/{doc}:chat"));
    let d = Doc::new();
    d.transact_mut()
        .apply_update(Update::decode_v1(&bytes).expect("a v1 state"))
        .expect("applies");
    d
}

/// GET returning the raw body bytes (the binary state).
pub fn raw_get(addr: &str, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("answer");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "GET {path}: {:?}",
        String::from_utf8_lossy(&out[..split])
    );
    out[split + 4..].to_vec()
}

/// Changes the chat as an Atelier user through the HTTP update API.
pub fn change_chat<R>(node: &Node, doc: &str, f: impl FnOnce(&Chat) -> R) -> R {
    let d = chat_state(node, doc);
    let before = d.transact().state_vector();
    let result = f(&Chat::new(&d));
    let update = d.transact().encode_state_as_update_v1(&before);
    let (status, answer) = cluster::http(
        &node.addr,
        "POST",
        &format!("/api/docs/{doc}:chat/update"),
        &update,
    )
    .expect("server answers");
    assert_eq!(status, 204, "{answer}");
    result
}

/// Posts a chat message as an Atelier user.
pub fn post_chat(
    node: &Node,
    doc: &str,
    author: &str,
    name: &str,
    body: &str,
    reply_to: Option<&str>,
) -> String {
    change_chat(node, doc, |chat| {
        chat.post(&NewMessage {
            author_name: Some(name),
            reply_to,
            ..NewMessage::new(author, now_ms() as f64, body)
        })
        .expect("posted")
    })
}

/// Waits until the chat holds a message satisfying `found`.
pub async fn wait_for_chat(
    node: &Node,
    doc: &str,
    what: &str,
    found: impl Fn(&ChatMessage) -> bool,
) -> ChatMessage {
    let deadline = Instant::now() + RELAY_DEADLINE;
    loop {
        let d = chat_state(node, doc);
        if let Some(m) = Chat::new(&d).messages().into_iter().find(|m| found(m)) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {RELAY_DEADLINE:?} waiting in the chat for {what}; log:\n{}",
            node.tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A Synapse of the test's own (scripts/synapse.sh on another port and
/// directory), to stop and restart without disturbing the other tests.
pub struct PrivateSynapse {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The registration file it loads, if any.
    pub appservice: Option<String>,
}

impl PrivateSynapse {
    pub fn start() -> PrivateSynapse {
        PrivateSynapse::start_with(None)
    }

    /// A private Synapse loading the application service `registration`
    /// (scripts/synapse.sh's ATELIER_SYNAPSE_APPSERVICE), or none.
    pub fn start_with(registration: Option<&std::path::Path>) -> PrivateSynapse {
        let dir = tempfile::Builder::new()
            .prefix("atelier-synapse-")
            .tempdir()
            .expect("tmp dir");
        let s = PrivateSynapse {
            port: cluster::free_port(),
            dir,
            appservice: registration.map(|p| p.display().to_string()),
        };
        s.run("start");
        s
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn run(&self, action: &str) {
        let script =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/synapse.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(action)
            .env("ATELIER_SYNAPSE_PORT", self.port.to_string())
            .env("ATELIER_SYNAPSE_DIR", self.dir.path())
            .env(
                "ATELIER_SYNAPSE_APPSERVICE",
                self.appservice.as_deref().unwrap_or(""),
            )
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "scripts/synapse.sh {action} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateSynapse {
    fn drop(&mut self) {
        self.run("stop");
    }
}
