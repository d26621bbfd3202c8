//! Issue 14: agents edit over REST with the editor's own operations, as a
//! named collaborator. `POST /api/docs/{doc}/ops` applies a batch all or
//! nothing through the same path as any client's update (stored before it
//! is acknowledged, broadcast); connected clients receive the change and
//! the agent's presence live; a real BlockNote client reads the result; a
//! bad batch changes nothing and names the failing operation.

#[path = "support/server.rs"]
mod support;

use atelier_doc::{BlockId, Document, NewBlock, Placement};
use atelier_sync::{Limits, SyncMessage, YwsMessage};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use support::{TestServer, temp_dir, test_db, token, unique};
use tokio_tungstenite::tungstenite::Message;

const DEADLINE: Duration = Duration::from_secs(20);

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{}", server.addr, path)
}

/// A document with two paragraphs of known ids, posted as an update.
async fn seed(http: &reqwest::Client, server: &TestServer, doc: &str, tok: &str) {
    let model = Document::new();
    let p = |id: &str, text: &str| NewBlock {
        id: Some(BlockId::from(id)),
        ..NewBlock::paragraph(text)
    };
    model
        .insert_blocks(
            &Placement::End,
            &[p("intro", "Bonjour"), p("body", "Le texte.")],
        )
        .expect("blocks");
    let r = http
        .post(url(server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(tok)
        .body(model.encode_state_v1())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn markdown(http: &reqwest::Client, server: &TestServer, doc: &str, tok: &str) -> String {
    http.get(url(server, &format!("/api/docs/{doc}?format=markdown")))
        .bearer_auth(tok)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_edits_over_rest_and_everyone_sees_it_live() {
    let dir = temp_dir("agents");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let tok = token("writer", &["*"], &["*"], false);
    let http = reqwest::Client::new();
    let doc = unique(&dir, "notes");
    seed(&http, &server, &doc, &tok).await;

    // A client watching the document over y-websocket.
    let (mut watcher, _) =
        tokio_tungstenite::connect_async(server.ws(&format!("/sync/{doc}?token={tok}")))
            .await
            .expect("connect");

    // Blocks with their ids, for the agent to name.
    let blocks: Value = http
        .get(url(&server, &format!("/api/docs/{doc}?format=blocks")))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("blocks")
        .json()
        .await
        .expect("json");
    assert_eq!(blocks[1]["id"], "body");
    let with_ids = http
        .get(url(
            &server,
            &format!("/api/docs/{doc}?format=markdown&ids=true"),
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("md")
        .text()
        .await
        .expect("body");
    assert!(with_ids.contains("Bonjour <!-- id:intro -->"), "{with_ids}");

    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/ops")))
        .bearer_auth(&tok)
        .json(&json!({
            "agent": {"name": "Résumeur", "color": "#0a7f5a"},
            "ops": [
                {"op": "insertText", "block": "intro", "offset": 7, "text": " à tous"},
                {"op": "updateBlock", "block": "intro", "type": "heading", "props": {"level": 2}},
                {"op": "insertBlocks", "at": {"at": "after", "block": "body"},
                 "blocks": [{"type": "bulletListItem", "content": [{"text": "un point"}]}]}
            ]
        }))
        .send()
        .await
        .expect("ops");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert_eq!(
        markdown(&http, &server, &doc, &tok).await,
        "## Bonjour à tous\n\nLe texte.\n\n- un point\n"
    );

    // The watcher received the change and the agent's named presence.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let (mut saw_update, mut saw_agent) = (false, false);
    let mut seen = Vec::new();
    while !(saw_update && saw_agent) {
        match tokio::time::timeout_at(deadline, watcher.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match YwsMessage::decode(&b, &Limits::default()) {
                Ok(YwsMessage::Sync(SyncMessage::Update(u))) => {
                    saw_update |= !u.is_empty();
                    seen.push("update".to_owned());
                }
                Ok(YwsMessage::Awareness(a)) => {
                    for e in &a.entries {
                        saw_agent |= e.state.contains("Résumeur") && e.state.contains("cursor");
                        seen.push(e.state.clone());
                    }
                }
                other => seen.push(format!("{other:?}")),
            },
            Ok(Some(Ok(_))) => {}
            other => panic!(
                "watcher: update {saw_update}, agent {saw_agent}, then {other:?}; seen {seen:?}"
            ),
        }
    }

    // A second batch of the same agent moves its one caret: the watcher
    // sees it under the awareness client of the first, a clock later.
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/ops")))
        .bearer_auth(&tok)
        .json(&json!({
            "agent": {"name": "Résumeur", "color": "#0a7f5a"},
            "ops": [{"op": "insertText", "block": "body", "offset": 0, "text": "Lu : "}]
        }))
        .send()
        .await
        .expect("second batch");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let mut agent_clients = std::collections::BTreeMap::new();
    while agent_clients.values().all(|&clock| clock < 2) {
        match tokio::time::timeout_at(deadline, watcher.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                if let Ok(YwsMessage::Awareness(a)) = YwsMessage::decode(&b, &Limits::default()) {
                    for e in a.entries.iter().filter(|e| e.state.contains("Résumeur")) {
                        let clock = agent_clients.entry(e.client_id).or_insert(0);
                        *clock = e.clock.max(*clock);
                    }
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("watcher: agent presences {agent_clients:?}, then {other:?}"),
        }
    }
    assert_eq!(
        agent_clients.len(),
        1,
        "one agent, one presence across its batches: {agent_clients:?}"
    );

    // A real BlockNote client reads the result.
    let state = http
        .get(url(&server, &format!("/api/docs/{doc}")))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("state")
        .bytes()
        .await
        .expect("body");
    if let Some(read) = support::blocknote_inspect("an_agent_edits_over_rest", &state) {
        let blocks = read["blocks"].as_array().expect("blocks");
        assert_eq!(blocks[0]["type"], "heading");
        assert_eq!(blocks[0]["content"][0]["text"], "Bonjour à tous");
        assert_eq!(blocks[2]["type"], "bulletListItem");
        assert_eq!(blocks[2]["content"][0]["text"], "un point");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batches_change_nothing_and_readers_cannot_write() {
    let dir = temp_dir("agents-bad");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let tok = token("writer", &["*"], &["*"], false);
    let http = reqwest::Client::new();
    let doc = unique(&dir, "notes");
    seed(&http, &server, &doc, &tok).await;
    let before = markdown(&http, &server, &doc, &tok).await;

    let post = |tok: String, body: Value| {
        http.post(url(&server, &format!("/api/docs/{doc}/ops")))
            .bearer_auth(tok)
            .json(&body)
            .send()
    };
    let cases = [
        (
            json!([{"op": "deleteBlock", "block": "ghost"}]),
            0,
            "deleteBlock",
        ),
        (
            json!([
                {"op": "insertText", "block": "intro", "offset": 0, "text": "ok "},
                {"op": "insertText", "block": "body", "offset": 999, "text": "x"}
            ]),
            1,
            "insertText",
        ),
        (
            json!([{"op": "insertBlocks", "at": {"at": "end"}, "blocks": [{"type": "script"}]}]),
            0,
            "insertBlocks",
        ),
    ];
    for (ops, index, op) in cases {
        let r = post(tok.clone(), json!({"ops": ops})).await.expect("post");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: Value = r.json().await.expect("json");
        assert_eq!(
            (err["index"].as_u64(), err["op"].as_str()),
            (Some(index), Some(op)),
            "{err}"
        );
    }
    // Malformed JSON is refused by the body reader.
    let r = post(tok.clone(), json!({"ops": [{"op": "explode"}]}))
        .await
        .expect("post");
    assert!(r.status().is_client_error());
    // A reader and a commenter may not apply operations.
    for (who, grant) in [("reader", "read"), ("commenter", "chat")] {
        let t = support::token_with(who, grant, "*");
        let r = post(t, json!({"ops": [{"op": "deleteBlock", "block": "body"}]}))
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(markdown(&http, &server, &doc, &tok).await, before);
    server.stop().await;
}
