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
#[path = "support/matrix.rs"]
mod matrix;

use atelier_doc::chat::Chat;
use atelier_matrix::event::MESSAGE_ID_KEY;
use atelier_matrix::ledger::Ledger;
use cluster::Node;
use matrix::{
    MatrixUser, PrivateSynapse, RELAY_DEADLINE, change_chat, chat_state, now_ms, post_chat,
    synapse_env, wait_for_chat,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The bot's password in every test.
const BOT_PASSWORD: &str = "bot-password-1";

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
    // The chat panel reads the refusal through atelier-relay-status, and
    // shows it on the message.
    assert_eq!(
        atelier_relay_status::failures(&chat_state(&node, doc)).get(&refused),
        Some(&reason)
    );
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
