//! The Matrix bridge against a real Synapse (scripts/synapse.sh): a
//! document's chat linked to a room, the server binary relaying as a bot.
//! Messages go both ways, replies keep their parent, and a restart of the
//! Atelier server (with a Matrix message sent while it was down) neither
//! drops nor duplicates anything: each message is counted once on each side.
//!
//! Also: a homeserver that is down while Atelier users chat (and the
//! Atelier server restarted meanwhile) gets every message once when it
//! returns; edits, reactions, deletions and refusals cross both ways; a
//! long absence is filled from the room's history; a revoked token means a
//! new login, a resent transaction no second event; and nothing goes in
//! clear text into an encrypted room.
//!
//! Needs `eval "$(bash scripts/synapse.sh start)"` (ATELIER_TEST_MATRIX_URL
//! and ATELIER_TEST_MATRIX_SECRET); without them each test prints SKIPPED.
//! The outage test starts a homeserver of its own with the same script.

#[path = "support/cluster.rs"]
mod cluster;

use atelier_doc::chat::{Chat, ChatMessage, NewMessage};
use atelier_matrix::event::MESSAGE_ID_KEY;
use atelier_matrix::ledger::Ledger;
use cluster::Node;
use hmac::Mac;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

/// The bot's password in every test.
const BOT_PASSWORD: &str = "bot-password-1";

/// Longest wait for a relay to show on the other side.
const RELAY_DEADLINE: Duration = Duration::from_secs(60);

/// The homeserver's URL and registration secret, or `None` after printing
/// why the test does not run.
fn synapse_env(test: &str) -> Option<(String, String)> {
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
struct MatrixUser {
    http: reqwest::Client,
    base: String,
    token: String,
    user_id: String,
}

impl MatrixUser {
    /// Registers `name` through Synapse's shared-secret admin API.
    async fn register(base: &str, secret: &str, name: &str, password: &str) -> MatrixUser {
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

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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
    async fn say(&self, room: &str, body: &str, reply_to: Option<&str>) -> String {
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
    async fn messages(&self, room: &str) -> Vec<Value> {
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
    async fn wait_for_event(
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

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The chat document's state from the server.
fn chat_state(node: &Node, doc: &str) -> Doc {
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
fn raw_get(addr: &str, path: &str) -> Vec<u8> {
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
fn change_chat<R>(node: &Node, doc: &str, f: impl FnOnce(&Chat) -> R) -> R {
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
fn post_chat(
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
async fn wait_for_chat(
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

/// How the bot proves who it is to the server under test.
#[derive(Clone, Copy)]
enum BotLogin {
    /// `--matrix-user` and `--matrix-password-file`.
    Password,
    /// `--matrix-access-token-file` with the token of its registration.
    AccessToken,
}

fn start_node(db: &str, base: &str, credentials: &[String], link: &str) -> Node {
    let mut args = vec!["--matrix-homeserver", base, "--matrix-link", link];
    args.extend(credentials.iter().map(String::as_str));
    Node::start(db, None, &args)
}

/// A Synapse room with Alice (display name "Alice de Matrix") in it, and an
/// `atelier serve` bridging the chat of `doc` to it as the bot, once the
/// bridge has made its first sync.
struct Linked {
    bot: MatrixUser,
    alice: MatrixUser,
    room: String,
    /// Starts the server again on the same store.
    start: Box<dyn Fn() -> Node>,
    node: Node,
    doc: &'static str,
    _dir: tempfile::TempDir,
}

impl Linked {
    async fn start(base: &str, secret: &str) -> Linked {
        Linked::start_as(base, secret, BotLogin::Password).await
    }

    async fn start_as(base: &str, secret: &str, login: BotLogin) -> Linked {
        Linked::start_with(base, secret, login, json!({})).await
    }

    /// As [`Linked::start`], creating the room with `room` added to the
    /// `createRoom` body.
    async fn start_with(base: &str, secret: &str, login: BotLogin, room: Value) -> Linked {
        // Unique across runs (Synapse keeps its users) and across the
        // tests of one run.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stamp = format!("{}x{n}", now_ms());
        let bot_name = format!("atelierbot{stamp}");
        let bot = MatrixUser::register(base, secret, &bot_name, BOT_PASSWORD).await;
        let alice = MatrixUser::register(base, secret, &format!("alice{stamp}"), "alice-pw").await;
        alice
            .call(
                reqwest::Method::PUT,
                &format!("profile/{}/displayname", alice.user_id),
                Some(json!({"displayname": "Alice de Matrix"})),
            )
            .await;
        let mut create = json!({"preset": "private_chat", "name": "Atelier bridge test", "invite": [bot.user_id]});
        if let (Some(create), Some(extra)) = (create.as_object_mut(), room.as_object()) {
            create.extend(extra.clone());
        }
        let room = alice
            .call(reqwest::Method::POST, "createRoom", Some(create))
            .await["room_id"]
            .as_str()
            .expect("room id")
            .to_owned();
        let dir = tempfile::Builder::new()
            .prefix("atelier-test-matrix-")
            .tempdir()
            .expect("tmp dir");
        let secret_file = dir.path().join("bot-secret");
        let credentials = match login {
            BotLogin::Password => {
                std::fs::write(&secret_file, BOT_PASSWORD).expect("write");
                vec![
                    "--matrix-user".to_owned(),
                    bot_name.clone(),
                    "--matrix-password-file".to_owned(),
                    secret_file.display().to_string(),
                ]
            }
            BotLogin::AccessToken => {
                std::fs::write(&secret_file, &bot.token).expect("write");
                vec![
                    "--matrix-access-token-file".to_owned(),
                    secret_file.display().to_string(),
                ]
            }
        };
        let db = format!("sqlite://{}", dir.path().join("atelier.db").display());
        let doc = "notes";
        let link = format!("{doc}={room}");
        let base = base.to_owned();
        let start: Box<dyn Fn() -> Node> =
            Box::new(move || start_node(&db, &base, &credentials, &link));
        let node = start();
        // The link is up once the bridge stored its first sync token: from
        // then on every room event reaches the chat.
        let deadline = Instant::now() + RELAY_DEADLINE;
        while Ledger::new(&chat_state(&node, doc)).since().is_none() {
            assert!(
                Instant::now() < deadline,
                "the bridge never synced; log:\n{}",
                node.tail(30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Linked {
            bot,
            alice,
            room,
            start,
            node,
            doc,
            _dir: dir,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_matrix_room_exchange_each_message_once_across_a_restart() {
    let Some((base, secret)) =
        synapse_env("chat_and_matrix_room_exchange_each_message_once_across_a_restart")
    else {
        return;
    };
    let Linked {
        bot,
        alice,
        room,
        start,
        mut node,
        doc,
        _dir,
    } = Linked::start(&base, &secret).await;

    // Atelier → Matrix, sent by the bot under the author's name.
    let first = post_chat(&node, doc, "u-ana", "Ana", "Bonjour depuis Atelier", None);
    let relayed = alice
        .wait_for_event(&room, "the chat message", |e| {
            e["content"][MESSAGE_ID_KEY] == first.as_str()
        })
        .await;
    assert_eq!(relayed["sender"], bot.user_id.as_str());
    assert_eq!(relayed["content"]["body"], "Ana: Bonjour depuis Atelier");
    let relayed_id = relayed["event_id"].as_str().expect("event id").to_owned();

    // Matrix → Atelier, as a reply to the relayed message, under the
    // sender's display name.
    alice
        .say(&room, "Salut depuis Matrix", Some(&relayed_id))
        .await;
    let answer = wait_for_chat(&node, doc, "the Matrix reply", |m| {
        m.body == "Salut depuis Matrix"
    })
    .await;
    assert_eq!(answer.author, format!("matrix:{}", alice.user_id));
    assert_eq!(answer.author_name.as_deref(), Some("Alice de Matrix"));
    assert_eq!(answer.reply_to.as_deref(), Some(first.as_str()));

    // The Atelier server goes down; Matrix talks meanwhile; it comes back.
    node.kill9();
    alice.say(&room, "Pendant la panne", None).await;
    let node = start();
    wait_for_chat(&node, doc, "the message sent while Atelier was down", |m| {
        m.body == "Pendant la panne"
    })
    .await;
    let second = post_chat(&node, doc, "u-ana", "Ana", "De retour", Some(&answer.id));
    let back = alice
        .wait_for_event(&room, "the message after the restart", |e| {
            e["content"][MESSAGE_ID_KEY] == second.as_str()
        })
        .await;
    assert_eq!(
        back["content"]["m.relates_to"]["m.in_reply_to"]["event_id"],
        answer_event(&node, doc, &answer.id).as_str(),
        "the reply names the Matrix message it answers"
    );

    // Each message exactly once on each side.
    let chat = Chat::new(&chat_state(&node, doc)).messages();
    let bodies: Vec<&str> = chat.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "Bonjour depuis Atelier",
            "Salut depuis Matrix",
            "Pendant la panne",
            "De retour"
        ],
        "the chat holds each message once, in order"
    );
    let in_room: Vec<String> = alice
        .messages(&room)
        .await
        .iter()
        .map(|e| e["content"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        in_room,
        [
            "Ana: Bonjour depuis Atelier",
            "Salut depuis Matrix",
            "Pendant la panne",
            "Ana: De retour"
        ],
        "the room holds each message once, in order"
    );
}

/// The Matrix event the bridge recorded for chat message `id`.
fn answer_event(node: &Node, doc: &str, id: &str) -> String {
    Ledger::new(&chat_state(node, doc))
        .event_of(id)
        .expect("the imported message's event is recorded")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reactions_deletions_and_refusals_cross_the_bridge() {
    let Some((base, secret)) =
        synapse_env("edits_reactions_deletions_and_refusals_cross_the_bridge")
    else {
        return;
    };
    let Linked {
        bot,
        alice,
        room,
        node,
        doc,
        ..
    } = Linked::start_as(&base, &secret, BotLogin::AccessToken).await;
    let from_bot = |e: &Value| e["sender"] == bot.user_id.as_str();

    // An Atelier message, edited, reacted to, then deleted: each shows in
    // the room as an edit, an annotation and a redaction of its event.
    let ana = post_chat(&node, doc, "u-ana", "Ana", "Premier jet", None);
    let event = alice
        .wait_for_event(&room, "the chat message", |e| {
            e["content"][MESSAGE_ID_KEY] == ana.as_str()
        })
        .await["event_id"]
        .as_str()
        .expect("event id")
        .to_owned();
    change_chat(&node, doc, |chat| {
        chat.edit(&ana, "u-ana", now_ms() as f64, "Version finale")
            .expect("edited")
    });
    let edit = alice
        .wait_for_event(&room, "the edit", |e| {
            from_bot(e) && e["content"]["m.relates_to"]["rel_type"] == "m.replace"
        })
        .await;
    assert_eq!(edit["content"]["m.relates_to"]["event_id"], event.as_str());
    assert_eq!(
        edit["content"]["m.new_content"]["body"],
        "Ana: Version finale"
    );
    change_chat(&node, doc, |chat| {
        chat.react_as(&ana, "u-ben", Some("Ben"), "👍", true)
            .expect("reacted")
    });
    let reaction = alice
        .wait_for_event(&room, "the reaction", |e| {
            from_bot(e) && e["type"] == "m.reaction"
        })
        .await;
    assert_eq!(
        reaction["content"]["m.relates_to"]["event_id"],
        event.as_str()
    );
    assert_eq!(reaction["content"]["m.relates_to"]["key"], "👍");

    // A Matrix message, edited, reacted to and redacted in Matrix: the
    // chat follows each step.
    let hers = alice.say(&room, "à corigé", None).await;
    wait_for_chat(&node, doc, "the Matrix message", |m| m.body == "à corigé").await;
    alice
        .call(
            reqwest::Method::PUT,
            &format!("rooms/{room}/send/m.room.message/edit{}", now_ms()),
            Some(json!({
                "msgtype": "m.text", "body": "* à corriger",
                "m.new_content": {"msgtype": "m.text", "body": "à corriger"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": hers},
            })),
        )
        .await;
    wait_for_chat(&node, doc, "the Matrix edit", |m| {
        m.body == "à corriger" && m.edited_ts.is_some()
    })
    .await;
    let party = alice
        .call(
            reqwest::Method::PUT,
            &format!("rooms/{room}/send/m.reaction/r{}", now_ms()),
            Some(json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": event, "key": "🎉"}})),
        )
        .await["event_id"]
        .as_str()
        .expect("event id")
        .to_owned();
    let matrix_author = format!("matrix:{}", alice.user_id);
    wait_for_chat(&node, doc, "the Matrix reaction", |m| {
        m.id == ana
            && m.reactions
                .get("🎉")
                .is_some_and(|users| users.contains(&matrix_author))
    })
    .await;
    for redacted in [&hers, &party] {
        alice
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{room}/redact/{redacted}/x{}", now_ms()),
                Some(json!({})),
            )
            .await;
    }
    wait_for_chat(&node, doc, "the Matrix deletion and unreaction", |m| {
        m.id == ana && !m.reactions.contains_key("🎉")
    })
    .await;
    let gone = Chat::new(&chat_state(&node, doc))
        .messages()
        .into_iter()
        .find(|m| m.author == matrix_author)
        .expect("the Matrix message stays as a tombstone");
    let deadline = Instant::now() + RELAY_DEADLINE;
    let mut gone = gone;
    while !gone.deleted {
        assert!(
            Instant::now() < deadline,
            "the Matrix redaction never deleted {gone:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        gone = Chat::new(&chat_state(&node, doc))
            .message(&gone.id)
            .expect("still there");
    }

    // Ana deletes hers: the room's event is redacted.
    change_chat(&node, doc, |chat| {
        chat.delete(&ana, "u-ana").expect("deleted")
    });
    alice
        .wait_for_event(&room, "the redaction", |e| {
            from_bot(e)
                && e["type"] == "m.room.redaction"
                && (e["redacts"] == event.as_str() || e["content"]["redacts"] == event.as_str())
        })
        .await;

    // The room now refuses the bot's messages: the chat message is marked
    // failed with Matrix's reason, and not retried.
    let mut levels = alice
        .call(
            reqwest::Method::GET,
            &format!("rooms/{room}/state/m.room.power_levels/"),
            None,
        )
        .await;
    levels["events_default"] = json!(50);
    alice
        .call(
            reqwest::Method::PUT,
            &format!("rooms/{room}/state/m.room.power_levels/"),
            Some(levels),
        )
        .await;
    let refused = post_chat(&node, doc, "u-ana", "Ana", "Refusé", None);
    let deadline = Instant::now() + RELAY_DEADLINE;
    let reason = loop {
        if let Some(reason) = Ledger::new(&chat_state(&node, doc)).failure(&refused) {
            break reason;
        }
        assert!(
            Instant::now() < deadline,
            "the refusal was never recorded; log:\n{}",
            node.tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(reason.contains("M_FORBIDDEN"), "{reason}");
    let relayed_by_bot = alice
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == bot.user_id.as_str())
        .filter(|e| e["content"]["m.relates_to"].is_null())
        .count();
    assert_eq!(
        relayed_by_bot, 1,
        "one message relayed (then redacted), the refused one not"
    );
}

/// A Synapse of the test's own (scripts/synapse.sh on another port and
/// directory), to stop and restart without disturbing the other tests.
struct PrivateSynapse {
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateSynapse {
    fn start() -> PrivateSynapse {
        let dir = tempfile::Builder::new()
            .prefix("atelier-synapse-")
            .tempdir()
            .expect("tmp dir");
        let s = PrivateSynapse {
            port: cluster::free_port(),
            dir,
        };
        s.run("start");
        s
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn run(&self, action: &str) {
        let script =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/synapse.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(action)
            .env("ATELIER_SYNAPSE_PORT", self.port.to_string())
            .env("ATELIER_SYNAPSE_DIR", self.dir.path())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_while_the_homeserver_is_down_arrive_once_when_it_returns() {
    let Some((_, secret)) =
        synapse_env("messages_written_while_the_homeserver_is_down_arrive_once_when_it_returns")
    else {
        return;
    };
    let synapse = PrivateSynapse::start();
    let Linked {
        alice,
        room,
        start,
        mut node,
        doc,
        _dir,
        ..
    } = Linked::start(&synapse.url(), &secret).await;
    let first = post_chat(&node, doc, "u-ana", "Ana", "Avant la panne", None);
    alice
        .wait_for_event(&room, "the first message", |e| {
            e["content"][MESSAGE_ID_KEY] == first.as_str()
        })
        .await;

    // The homeserver goes down; Ana writes on; the Atelier server is even
    // killed and restarted meanwhile (the chat document is the queue).
    synapse.run("stop");
    let during = post_chat(&node, doc, "u-ana", "Ana", "Pendant la panne 1", None);
    node.kill9();
    let node = start();
    // A reply to a message not relayed yet: it must answer its event.
    let last = post_chat(
        &node,
        doc,
        "u-ana",
        "Ana",
        "Pendant la panne 2",
        Some(&during),
    );
    synapse.run("start");
    let reply = alice
        .wait_for_event(&room, "the last message written during the outage", |e| {
            e["content"][MESSAGE_ID_KEY] == last.as_str()
        })
        .await;
    let parent = Ledger::new(&chat_state(&node, doc))
        .event_of(&during)
        .expect("relayed");
    assert_eq!(
        reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"],
        parent.as_str(),
        "the reply written during the outage answers its parent's event"
    );
    alice.say(&room, "Re-bonjour", None).await;
    wait_for_chat(&node, doc, "a Matrix message after the outage", |m| {
        m.body == "Re-bonjour"
    })
    .await;

    let in_room: Vec<String> = alice
        .messages(&room)
        .await
        .iter()
        .map(|e| e["content"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        in_room,
        [
            "Ana: Avant la panne",
            "Ana: Pendant la panne 1",
            "Ana: Pendant la panne 2",
            "Re-bonjour"
        ],
        "the room holds each message once, in order"
    );
    let bodies: Vec<String> = Chat::new(&chat_state(&node, doc))
        .messages()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        bodies,
        [
            "Avant la panne",
            "Pendant la panne 1",
            "Pendant la panne 2",
            "Re-bonjour"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_absence_is_filled_from_the_room_history() {
    let Some((base, secret)) = synapse_env("a_long_absence_is_filled_from_the_room_history") else {
        return;
    };
    let Linked {
        alice,
        room,
        start,
        mut node,
        doc,
        _dir,
        ..
    } = Linked::start(&base, &secret).await;
    // More than one sync returns (its timeline holds 100 events) while the
    // Atelier server is down.
    node.kill9();
    let sent: Vec<String> = (0..130).map(|i| format!("message {i}")).collect();
    for body in &sent {
        alice.say(&room, body, None).await;
    }
    let node = start();
    wait_for_chat(&node, doc, "the last message of the absence", |m| {
        m.body == "message 129"
    })
    .await;
    let bodies: Vec<String> = Chat::new(&chat_state(&node, doc))
        .messages()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, sent, "every message once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_logs_in_again_when_the_homeserver_forgets_its_token() {
    let Some((base, secret)) =
        synapse_env("the_bot_logs_in_again_when_the_homeserver_forgets_its_token")
    else {
        return;
    };
    let Linked {
        bot,
        alice,
        room,
        node,
        doc,
        ..
    } = Linked::start(&base, &secret).await;
    // Every access token of the bot, the bridge's included, stops working.
    bot.call(reqwest::Method::POST, "logout/all", Some(json!({})))
        .await;
    let after = post_chat(&node, doc, "u-ana", "Ana", "Après la déconnexion", None);
    alice
        .wait_for_event(&room, "a message sent after the logout", |e| {
            e["content"][MESSAGE_ID_KEY] == after.as_str()
        })
        .await;
    assert_eq!(
        Ledger::new(&chat_state(&node, doc)).failure(&after),
        None,
        "a lost token is no refusal of the message"
    );
    alice.say(&room, "Toujours là ?", None).await;
    wait_for_chat(&node, doc, "a Matrix message after the logout", |m| {
        m.body == "Toujours là ?"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_sent_again_after_a_crash_makes_no_second_event() {
    let Some((base, secret)) =
        synapse_env("a_relay_sent_again_after_a_crash_makes_no_second_event")
    else {
        return;
    };
    let Linked {
        bot,
        alice,
        room,
        node,
        doc,
        ..
    } = Linked::start(&base, &secret).await;
    let id = post_chat(&node, doc, "u-ana", "Ana", "Une seule fois", None);
    let event = alice
        .wait_for_event(&room, "the relay", |e| {
            e["content"][MESSAGE_ID_KEY] == id.as_str()
        })
        .await["event_id"]
        .as_str()
        .expect("event id")
        .to_owned();
    // What a bridge restarted after sending, but before recording the
    // event, does: log in again (same device) and send the same
    // transaction. The homeserver answers with the event it made.
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/_matrix/client/v3/login"))
        .json(&json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": bot.user_id},
            "password": BOT_PASSWORD,
            "device_id": atelier_matrix::client::DEVICE_ID,
        }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let again = MatrixUser {
        http,
        base: base.clone(),
        token: login["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("logged in: {login}"))
            .to_owned(),
        user_id: bot.user_id.clone(),
    };
    let message = Chat::new(&chat_state(&node, doc))
        .message(&id)
        .expect("the message");
    let resent = again
        .call(
            reqwest::Method::PUT,
            &format!(
                "rooms/{room}/send/m.room.message/{}",
                atelier_matrix::event::txn_id("message", &id)
            ),
            Some(atelier_matrix::event::message_content(&message, None)),
        )
        .await;
    assert_eq!(
        resent["event_id"],
        event.as_str(),
        "the same event, not a second one"
    );
    let copies = alice
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["content"][MESSAGE_ID_KEY] == id.as_str())
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_goes_in_clear_text_into_an_encrypted_room() {
    let Some((base, secret)) = synapse_env("nothing_goes_in_clear_text_into_an_encrypted_room")
    else {
        return;
    };
    let encrypted = json!({"initial_state": [{
        "type": "m.room.encryption", "state_key": "",
        "content": {"algorithm": "m.megolm.v1.aes-sha2"},
    }]});
    let Linked {
        bot,
        alice,
        room,
        node,
        doc,
        ..
    } = Linked::start_with(&base, &secret, BotLogin::Password, encrypted).await;
    let id = post_chat(&node, doc, "u-ana", "Ana", "Secret", None);
    let deadline = Instant::now() + RELAY_DEADLINE;
    let reason = loop {
        if let Some(reason) = Ledger::new(&chat_state(&node, doc)).failure(&id) {
            break reason;
        }
        assert!(
            Instant::now() < deadline,
            "the message was never marked failed; log:\n{}",
            node.tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(reason.contains("encrypted"), "{reason}");
    let from_bot = alice
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == bot.user_id.as_str())
        .count();
    assert_eq!(from_bot, 0, "the bot wrote nothing into the encrypted room");
}
