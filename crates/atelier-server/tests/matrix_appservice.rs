//! The Matrix bridge in application service mode against a real Synapse:
//! a homeserver of the test's own (scripts/synapse.sh with
//! ATELIER_SYNAPSE_APPSERVICE) loads a registration whose `url` is the
//! Atelier server's address, and the server binary reads the same file.
//! An Atelier user's message appears in the room once, sent by their own
//! puppet under their display name; a Matrix user's message reaches the
//! chat once through the homeserver's push; a push replayed (same or new
//! transaction id) imports nothing twice; a push with another `hs_token`
//! is refused with 403 `M_FORBIDDEN`; a message sent while the Atelier
//! server is down arrives once after its restart; mentions cross both
//! ways (an Atelier `@id` as the puppet in `m.mentions`, a pill of a
//! puppet as the chat's `@id`).
//!
//! Needs `eval "$(bash scripts/synapse.sh start)"` (for the virtualenv and
//! ATELIER_TEST_MATRIX_SECRET); without it the test prints SKIPPED.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/matrix.rs"]
mod matrix;

use atelier_doc::chat::Chat;
use atelier_matrix::event::MESSAGE_ID_KEY;
use matrix::{
    MatrixUser, PrivateSynapse, RELAY_DEADLINE, chat_state, now_ms, post_chat, synapse_env,
    wait_for_chat,
};
use serde_json::{Value, json};
use std::time::Instant;

/// The registration both Synapse and the Atelier server read.
fn registration(atelier_port: u16, hs_token: &str) -> String {
    format!(
        r#"# The Atelier bridge (test)
id: atelier-test
url: "http://127.0.0.1:{atelier_port}"
as_token: "as-token-{stamp}"
hs_token: "{hs_token}"
sender_localpart: atelierbridge
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@atelier_.*:localhost"
  aliases: []
  rooms: []
"#,
        stamp = now_ms()
    )
}

/// A push as the homeserver makes it, to the Atelier server.
async fn push(addr: &str, txn: &str, token: &str, events: &[Value]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .put(format!("http://{addr}/_matrix/app/v1/transactions/{txn}"))
        .bearer_auth(token)
        .json(&json!({"events": events}))
        .send()
        .await
        .expect("the Atelier server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_atelier_user_speaks_as_a_puppet_and_pushes_import_once() {
    let Some((_, secret)) =
        synapse_env("each_atelier_user_speaks_as_a_puppet_and_pushes_import_once")
    else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("atelier-test-appservice-")
        .tempdir()
        .expect("tmp dir");
    // The Atelier server's port is in the registration the homeserver
    // loads at start: chosen first.
    let port = cluster::free_port();
    let hs_token = format!("hs-token-{}", now_ms());
    let reg_path = dir.path().join("registration.yaml");
    std::fs::write(&reg_path, registration(port, &hs_token)).expect("write");
    let synapse = PrivateSynapse::start_with(Some(&reg_path));
    let base = synapse.url();

    let alice = MatrixUser::register(&base, &secret, "alice", "alice-pw").await;
    alice
        .call(
            reqwest::Method::PUT,
            &format!("profile/{}/displayname", alice.user_id),
            Some(json!({"displayname": "Alice de Matrix"})),
        )
        .await;
    let bot = "@atelierbridge:localhost";
    let room = alice
        .call(
            reqwest::Method::POST,
            "createRoom",
            Some(json!({"preset": "private_chat", "invite": [bot]})),
        )
        .await["room_id"]
        .as_str()
        .expect("room id")
        .to_owned();

    let db = format!("sqlite://{}", dir.path().join("atelier.db").display());
    let doc = "notes";
    let link = format!("{doc}={room}");
    let reg_arg = reg_path.display().to_string();
    let start = || {
        cluster::Node::start_on(
            &format!("127.0.0.1:{port}"),
            &db,
            None,
            &[
                "--matrix-homeserver",
                &base,
                "--matrix-appservice-registration",
                &reg_arg,
                "--matrix-link",
                &link,
            ],
        )
    };
    let mut node = start();

    // The bridge bot joins the room.
    let deadline = Instant::now() + RELAY_DEADLINE;
    loop {
        let members = alice
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room}/joined_members"),
                None,
            )
            .await;
        if members["joined"].get(bot).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bridge bot never joined; log:\n{}",
            node.tail(30)
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Atelier → Matrix: sent by Ana's puppet, under her name, once.
    let puppet = "@atelier_u-ana:localhost";
    let first = post_chat(&node, doc, "u-ana", "Ana", "Bonjour en personne", None);
    let relayed = alice
        .wait_for_event(&room, "the puppet's message", |e| {
            e["content"][MESSAGE_ID_KEY] == first.as_str()
        })
        .await;
    assert_eq!(relayed["sender"], puppet);
    assert_eq!(relayed["content"]["body"], "Bonjour en personne");
    let member = alice
        .call(
            reqwest::Method::GET,
            &format!("rooms/{room}/state/m.room.member/{puppet}"),
            None,
        )
        .await;
    assert_eq!(member["displayname"], "Ana");

    // Matrix → Atelier, through the homeserver's push.
    let said = alice.say(&room, "Salut Ana", None).await;
    let answer = wait_for_chat(&node, doc, "the pushed Matrix message", |m| {
        m.body == "Salut Ana"
    })
    .await;
    assert_eq!(answer.author, format!("matrix:{}", alice.user_id));
    assert_eq!(answer.author_name.as_deref(), Some("Alice de Matrix"));

    // The same event pushed again, under a new transaction id and then
    // under the same one twice: nothing is imported twice.
    let event = alice
        .call(
            reqwest::Method::GET,
            &format!("rooms/{room}/event/{said}"),
            None,
        )
        .await;
    let mut event = event;
    event["room_id"] = json!(room);
    for txn in ["replay-1", "replay-1", "replay-2"] {
        let (status, body) = push(&node.addr, txn, &hs_token, &[event.clone()]).await;
        assert_eq!(status, 200, "{txn}: {body}");
    }
    // A push with another token is refused, and imports nothing.
    let mut forged = event.clone();
    forged["event_id"] = json!("$forged");
    let (status, body) = push(&node.addr, "forged-1", "not-the-hs-token", &[forged]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errcode"], "M_FORBIDDEN");

    // The Atelier server goes down while Alice speaks: the homeserver
    // keeps the push and delivers it once the server is back (its ping
    // at start hurries the retry).
    node.kill9();
    alice.say(&room, "Pendant la panne", None).await;
    let node = start();
    wait_for_chat(&node, doc, "the message pushed after the restart", |m| {
        m.body == "Pendant la panne"
    })
    .await;

    // Alice mentions Ana's puppet (a pill, as Element makes one): the chat
    // holds Ana's mention.
    alice
        .call(
            reqwest::Method::PUT,
            &format!("rooms/{room}/send/m.room.message/m{}", now_ms()),
            Some(json!({
                "msgtype": "m.text", "body": "Ana: tu vois ?",
                "format": "org.matrix.custom.html",
                "formatted_body": format!("<a href=\"https://matrix.to/#/{puppet}\">Ana</a>: tu vois ?"),
                "m.mentions": {"user_ids": [puppet]},
            })),
        )
        .await;
    let mention = wait_for_chat(&node, doc, "the Matrix mention", |m| {
        m.body.ends_with("tu vois ?")
    })
    .await;
    assert_eq!(mention.body, "@u-ana: tu vois ?");
    assert!(mention.mentions_user("u-ana"));

    // Ana again, after the replays and the restart: the room and the chat
    // each hold every message once.
    let second = post_chat(
        &node,
        doc,
        "u-ana",
        "Ana",
        "Encore moi, @u-ben",
        Some(&answer.id),
    );
    let back = alice
        .wait_for_event(&room, "the second puppet message", |e| {
            e["content"][MESSAGE_ID_KEY] == second.as_str()
        })
        .await;
    assert_eq!(back["sender"], puppet);
    assert_eq!(
        back["content"]["m.mentions"]["user_ids"],
        json!(["@atelier_u-ben:localhost"]),
        "an Atelier mention names the puppet in m.mentions"
    );
    assert_eq!(
        back["content"]["m.relates_to"]["m.in_reply_to"]["event_id"],
        said.as_str()
    );
    let bodies: Vec<String> = Chat::new(&chat_state(&node, doc))
        .messages()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        bodies,
        [
            "Bonjour en personne",
            "Salut Ana",
            "Pendant la panne",
            "@u-ana: tu vois ?",
            "Encore moi, @u-ben"
        ],
        "the chat holds each message once"
    );
    let in_room: Vec<(String, String)> = alice
        .messages(&room)
        .await
        .iter()
        .map(|e| {
            (
                e["sender"].as_str().unwrap_or("").to_owned(),
                e["content"]["body"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        in_room,
        [
            (puppet.to_owned(), "Bonjour en personne".to_owned()),
            (alice.user_id.clone(), "Salut Ana".to_owned()),
            (alice.user_id.clone(), "Pendant la panne".to_owned()),
            (alice.user_id.clone(), "Ana: tu vois ?".to_owned()),
            (puppet.to_owned(), "Encore moi, @u-ben".to_owned()),
        ],
        "the room holds each message once, from its author"
    );
    drop(node);
    drop(synapse);
}
