//! Linking a document's chat to a Matrix room by API
//! (`PUT`/`GET`/`DELETE /api/docs/{doc}/matrix-link`, `matrix_links.rs`).
//!
//! - Who may: write access to the document links and unlinks (a token
//!   without it gets 403, none or a bad one 401), any access reads; the
//!   configuration's links cannot be changed by API (409); the link is
//!   kept across a restart. Runs without a homeserver (the bridge keeps
//!   trying to log in to a closed port meanwhile).
//! - Against a real Synapse (scripts/synapse.sh): a chat linked by API
//!   relays both ways at once, still does after the server is killed and
//!   started again, and stops relaying both ways when unlinked (also after
//!   another restart).
//!
//! The Synapse test needs `eval "$(bash scripts/synapse.sh start)"`
//! (ATELIER_TEST_MATRIX_URL and ATELIER_TEST_MATRIX_SECRET); without them it
//! prints SKIPPED.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/matrix.rs"]
mod matrix;
#[path = "support/server.rs"]
mod server;

use atelier_matrix::client::Credentials;
use atelier_matrix::event::MESSAGE_ID_KEY;
use atelier_matrix::ledger::Ledger;
use atelier_server::matrix_config::{MatrixConfig, MatrixLink};
use cluster::Node;
use matrix::{MatrixUser, RELAY_DEADLINE, chat_state, now_ms, post_chat, synapse_env};
use serde_json::{Value, json};
use server::{TestServer, token, token_with};
use std::time::{Duration, Instant};

/// A bridge whose homeserver is a closed port, one configured link
/// (`fixed`), and its API links kept in `file`.
fn unreachable_bridge(file: &std::path::Path) -> MatrixConfig {
    MatrixConfig {
        homeserver: "http://127.0.0.1:9".into(),
        credentials: Credentials::AccessToken("unused".into()),
        appservice: None,
        links: vec![MatrixLink {
            doc: "fixed".into(),
            room: "!fixed".into(),
        }],
        links_file: Some(file.to_path_buf()),
    }
}

/// `method` on `/api/docs/{doc}/matrix-link` with `token` (if any) and a
/// JSON `body` (if any): (status, JSON answer or Null).
async fn call(
    addr: std::net::SocketAddr,
    method: reqwest::Method,
    doc: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(
        method.clone(),
        format!("http://{addr}/api/docs/{doc}/matrix-link"),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("server answers");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    println!(
        "{method} {doc} token={} -> {status} {text}",
        token.is_some()
    );
    (status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_by_api_needs_write_access_and_survives_a_restart() {
    let dir = server::temp_dir("matrix-links-auth");
    let db = server::test_db(&dir);
    let file = dir.join("links.json");
    let cfg = unreachable_bridge(&file);
    let room = json!({"room": "!abc:example.org"});
    let writer = token("u-writer", &[], &["notes"], false);
    let reader = token("u-reader", &["notes"], &[], false);
    let chatter = token_with("u-chatter", "chat", "notes");
    let other = token("u-other", &[], &["other"], false);
    use reqwest::Method as M;

    let srv = TestServer::start(&db, |c| c.matrix = Some(cfg.clone())).await;
    let a = srv.addr;
    assert_eq!(
        call(a, M::PUT, "notes", None, Some(room.clone())).await.0,
        401
    );
    assert_eq!(
        call(a, M::PUT, "notes", Some("not-a-jwt"), Some(room.clone()))
            .await
            .0,
        401
    );
    for t in [&reader, &chatter, &other] {
        assert_eq!(
            call(a, M::PUT, "notes", Some(t), Some(room.clone()))
                .await
                .0,
            403
        );
    }
    assert_eq!(
        call(a, M::GET, "notes", Some(&writer), None).await.0,
        404,
        "no link yet"
    );
    let (status, made) = call(a, M::PUT, "notes", Some(&writer), Some(room.clone())).await;
    assert_eq!(status, 201);
    assert_eq!(
        made,
        json!({"doc": "notes", "room": "!abc:example.org", "source": "api"})
    );
    assert_eq!(
        call(a, M::PUT, "notes", Some(&writer), Some(room.clone()))
            .await
            .0,
        200,
        "the same link again changes nothing"
    );
    let (status, read) = call(a, M::GET, "notes", Some(&reader), None).await;
    assert_eq!(
        (status, read["room"].as_str()),
        (200, Some("!abc:example.org"))
    );
    for bad in [
        json!({"room": "abc"}),
        json!({"room": "#noserver"}),
        json!({}),
    ] {
        assert_eq!(
            call(a, M::PUT, "notes", Some(&writer), Some(bad)).await.0,
            400
        );
    }
    let all = token("u-admin", &[], &["*"], false);
    assert_eq!(
        call(a, M::PUT, "notes:chat", Some(&all), Some(room.clone()))
            .await
            .0,
        400,
        "the document is named, not its chat"
    );
    // The configuration's link wins.
    let (status, fixed) = call(a, M::GET, "fixed", Some(&all), None).await;
    assert_eq!((status, fixed["source"].as_str()), (200, Some("config")));
    assert_eq!(
        call(a, M::PUT, "fixed", Some(&all), Some(room.clone()))
            .await
            .0,
        409
    );
    assert_eq!(call(a, M::DELETE, "fixed", Some(&all), None).await.0, 409);
    let kept = std::fs::read_to_string(&file).expect("the links file");
    assert!(
        kept.contains("notes") && kept.contains("!abc:example.org") && !kept.contains("fixed"),
        "{kept}"
    );
    srv.stop().await;

    // Kept across a restart.
    let srv = TestServer::start(&db, |c| c.matrix = Some(cfg.clone())).await;
    let a = srv.addr;
    let (status, read) = call(a, M::GET, "notes", Some(&writer), None).await;
    assert_eq!((status, read["source"].as_str()), (200, Some("api")));
    assert_eq!(read["room"], "!abc:example.org");
    assert_eq!(call(a, M::DELETE, "notes", None, None).await.0, 401);
    assert_eq!(
        call(a, M::DELETE, "notes", Some(&reader), None).await.0,
        403
    );
    assert_eq!(
        call(a, M::DELETE, "notes", Some(&writer), None).await.0,
        204
    );
    assert_eq!(call(a, M::GET, "notes", Some(&writer), None).await.0, 404);
    assert_eq!(
        call(a, M::DELETE, "notes", Some(&writer), None).await.0,
        404
    );
    srv.stop().await;
    let srv = TestServer::start(&db, |c| c.matrix = Some(cfg.clone())).await;
    assert_eq!(
        call(srv.addr, M::GET, "notes", Some(&writer), None).await.0,
        404,
        "the unlink is kept too"
    );
    srv.stop().await;

    // A server with no Matrix settings says so.
    let srv = TestServer::start(&db, |_| {}).await;
    let (status, answer) = call(srv.addr, M::PUT, "notes", Some(&writer), Some(room)).await;
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("--matrix-homeserver")),
        "{answer}"
    );
    srv.stop().await;
}

/// `method` on the link of `doc` on an anonymous node (write access for all).
fn node_call(node: &Node, method: &str, doc: &str, body: &[u8]) -> (u16, String) {
    let answer = cluster::http(
        &node.addr,
        method,
        &format!("/api/docs/{doc}/matrix-link"),
        body,
    )
    .expect("server answers");
    println!("{method} {doc} -> {answer:?}");
    answer
}

/// Waits until the bridge of `doc` made its first sync (from then on every
/// room event reaches the chat).
async fn wait_linked(node: &Node, doc: &str) {
    let deadline = Instant::now() + RELAY_DEADLINE;
    while Ledger::new(&chat_state(node, doc)).since().is_none() {
        assert!(
            Instant::now() < deadline,
            "the bridge never synced; log:\n{}",
            node.tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one message each way and waits until each arrived.
async fn exchange(node: &Node, doc: &str, alice: &MatrixUser, room: &str, tag: &str) {
    let id = post_chat(node, doc, "u-ana", "Ana", &format!("Atelier {tag}"), None);
    let relayed = alice
        .wait_for_event(room, &format!("the chat message {tag}"), |e| {
            e["content"][MESSAGE_ID_KEY] == id.as_str()
        })
        .await;
    assert_eq!(relayed["content"]["body"], format!("Ana: Atelier {tag}"));
    let body = format!("Matrix {tag}");
    alice.say(room, &body, None).await;
    matrix::wait_for_chat(node, doc, &body, |m| m.body == body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_linked_by_api_relays_until_unlinked_across_restarts() {
    let Some((base, secret)) =
        synapse_env("a_chat_linked_by_api_relays_until_unlinked_across_restarts")
    else {
        return;
    };
    let stamp = now_ms();
    let bot_name = format!("linkbot{stamp}");
    let bot = MatrixUser::register(&base, &secret, &bot_name, "bot-pw-1").await;
    let alice = MatrixUser::register(&base, &secret, &format!("alicel{stamp}"), "alice-pw").await;
    let room = alice
        .call(
            reqwest::Method::POST,
            "createRoom",
            Some(json!({"preset": "private_chat", "invite": [bot.user_id]})),
        )
        .await["room_id"]
        .as_str()
        .expect("room id")
        .to_owned();
    let dir = tempfile::Builder::new()
        .prefix("atelier-test-matrix-links-")
        .tempdir()
        .expect("tmp dir");
    let pw = dir.path().join("bot-pw");
    std::fs::write(&pw, "bot-pw-1").expect("write");
    let db = format!("sqlite://{}", dir.path().join("atelier.db").display());
    let pw = pw.display().to_string();
    // No --matrix-link: every link comes from the API.
    let args = [
        "--matrix-homeserver",
        base.as_str(),
        "--matrix-user",
        bot_name.as_str(),
        "--matrix-password-file",
        pw.as_str(),
    ];
    let doc = "notes";
    let mut node = Node::start(&db, None, &args);
    assert_eq!(node_call(&node, "GET", doc, b"").0, 404);
    let body = json!({ "room": room }).to_string();
    assert_eq!(node_call(&node, "PUT", doc, body.as_bytes()).0, 201);
    wait_linked(&node, doc).await;
    exchange(&node, doc, &alice, &room, "1").await;
    assert!(
        dir.path().join("matrix-links.json").exists(),
        "the link is kept beside the store"
    );

    // Killed and started again: the link is still there and relays.
    node.kill9();
    let mut node = Node::start(&db, None, &args);
    let (status, answer) = node_call(&node, "GET", doc, b"");
    assert_eq!(status, 200, "{answer}");
    exchange(&node, doc, &alice, &room, "2").await;

    // Unlinked: nothing crosses any more, either way.
    assert_eq!(node_call(&node, "DELETE", doc, b"").0, 204);
    let ledger = Ledger::new(&chat_state(&node, doc));
    assert_eq!(
        (ledger.start(), ledger.since()),
        (None, None),
        "the link's end is recorded"
    );
    let quiet = post_chat(&node, doc, "u-ana", "Ana", "Après le lien", None);
    alice.say(&room, "Après le lien, côté Matrix", None).await;
    // Long enough for a relay still running to have relayed both (each
    // linked exchange above took well under this).
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_nothing_crossed(&node, doc, &alice, &bot, &room, &quiet).await;

    // Nor after a restart: the unlink is kept.
    node.kill9();
    let node = Node::start(&db, None, &args);
    assert_eq!(node_call(&node, "GET", doc, b"").0, 404);
    let quiet = post_chat(&node, doc, "u-ana", "Ana", "Après le redémarrage", None);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_nothing_crossed(&node, doc, &alice, &bot, &room, &quiet).await;
}

/// Only the two linked exchanges crossed: the bot relayed "Atelier 1" and
/// "Atelier 2" alone, the chat holds `quiet` and no Matrix message after
/// "Matrix 2".
async fn assert_nothing_crossed(
    node: &Node,
    doc: &str,
    alice: &MatrixUser,
    bot: &MatrixUser,
    room: &str,
    quiet: &str,
) {
    let from_bot: Vec<String> = alice
        .messages(room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == bot.user_id.as_str())
        .filter_map(|e| e["content"]["body"].as_str().map(str::to_owned))
        .collect();
    println!("the bot sent: {from_bot:?}");
    assert_eq!(from_bot, ["Ana: Atelier 1", "Ana: Atelier 2"]);
    let chat = atelier_doc::chat::Chat::new(&chat_state(node, doc)).messages();
    let bodies: Vec<&str> = chat.iter().map(|m| m.body.as_str()).collect();
    println!("the chat holds: {bodies:?}");
    assert!(chat.iter().any(|m| m.id == quiet), "{bodies:?}");
    assert!(
        !bodies.contains(&"Après le lien, côté Matrix"),
        "{bodies:?}"
    );
}
