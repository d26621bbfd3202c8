//! Unmodified Yjs clients from npm — y-websocket's `WebsocketProvider` and
//! `@hocuspocus/provider` — edit one document through `atelier-server` and
//! converge; awareness reaches every side; tokens are enforced; a restarted
//! server still has everything.
//!
//! Runs against SQLite, or the database in `ATELIER_TEST_DB` (the CI script
//! also runs it against a real PostgreSQL server).

#[path = "support/server.rs"]
mod support;

use serde_json::json;
use support::{Peers, TestServer, temp_dir, test_db, token};

fn connect(p: &mut Peers, id: &str, kind: &str, url: &str, doc: &str, tok: &str) {
    p.call(json!({"cmd": "connect", "id": id, "kind": kind, "url": url, "doc": doc, "token": tok, "name": id}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ywebsocket_and_hocuspocus_clients_converge_with_awareness() {
    let test = "ywebsocket_and_hocuspocus_clients_converge_with_awareness";
    let Some(mut p) = Peers::start(test) else {
        return;
    };
    let dir = temp_dir("providers");
    let db = test_db(&dir);
    let doc = format!("interop-{}", std::process::id());
    let server = TestServer::start(&db, |_| {}).await;
    let tok = token("alice", &["*"], &["*"], false);
    let p_url = server.ws("/sync");
    let y_url = server.ws("/sync");
    let result = tokio::task::spawn_blocking(move || {
        connect(&mut p, "y", "ywebsocket", &y_url, &doc, &tok);
        connect(&mut p, "h", "hocuspocus", &p_url, &doc, &tok);
        p.call(json!({"cmd": "wait_synced", "id": "y", "timeout_ms": 10000}));
        p.call(json!({"cmd": "wait_synced", "id": "h", "timeout_ms": 10000}));
        p.call(json!({"cmd": "insert", "id": "y", "index": 0, "text": "Bonjour "}));
        p.call(json!({"cmd": "insert", "id": "h", "index": 0, "text": "😀"}));
        // Both orders are possible for concurrent inserts at 0; wait for
        // one side to have both, then require the other to match exactly.
        let mut text = String::new();
        for _ in 0..500 {
            let st = p.call(json!({"cmd": "state", "id": "y"}));
            text = st["text"].as_str().unwrap_or("").to_owned();
            if text.chars().count() == 9 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        p.call(json!({"cmd": "wait_text", "id": "h", "text": text, "timeout_ms": 10000}));
        p.call(
            json!({"cmd": "wait_awareness", "id": "y", "names": ["h", "y"], "timeout_ms": 10000}),
        );
        p.call(
            json!({"cmd": "wait_awareness", "id": "h", "names": ["h", "y"], "timeout_ms": 10000}),
        );
        p.call(json!({"cmd": "wait_unsynced_zero", "id": "h", "timeout_ms": 10000}));
        (p, text)
    })
    .await;
    let (mut p, text) = result.expect("peer thread");
    assert!(text.contains("Bonjour") && text.contains('😀'), "{text}");
    // Restart the server on the same database: a new client sees the text.
    server.stop().await;
    let server = TestServer::start(&db, |_| {}).await;
    let url = server.ws("/sync");
    let doc = format!("interop-{}", std::process::id());
    let tok = token("bob", &["*"], &[], false);
    let seen = tokio::task::spawn_blocking(move || {
        connect(&mut p, "late", "hocuspocus", &url, &doc, &tok);
        p.call(json!({"cmd": "wait_text", "id": "late", "text": text, "timeout_ms": 10000}))
    })
    .await
    .expect("peer thread");
    assert_eq!(seen["synced"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_enforced_for_both_framings() {
    let test = "tokens_are_enforced_for_both_framings";
    let Some(mut p) = Peers::start(test) else {
        return;
    };
    let dir = temp_dir("tokens");
    let db = test_db(&dir);
    let server = TestServer::start(&db, |_| {}).await;
    let url = server.ws("/sync");
    let doc = format!("secret-{}", std::process::id());
    let writer = token("w", &["*"], &["*"], false);
    let reader = token("r", &[doc.as_str()], &[], false);
    let expired = token("x", &["*"], &["*"], true);
    let other_doc = token("o", &["elsewhere"], &["elsewhere"], false);
    let metrics = server.state.metrics.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        connect(&mut p, "w", "hocuspocus", &url, &doc, &writer);
        p.call(json!({"cmd": "wait_synced", "id": "w", "timeout_ms": 10000}));
        p.call(json!({"cmd": "insert", "id": "w", "index": 0, "text": "kept"}));
        p.call(json!({"cmd": "wait_unsynced_zero", "id": "w", "timeout_ms": 10000}));
        for (id, tok) in [
            ("expired", expired.as_str()),
            ("other", other_doc.as_str()),
            ("garbage", "not-a-jwt"),
        ] {
            connect(&mut p, id, "hocuspocus", &url, &doc, tok);
            let st = p.call(json!({"cmd": "wait_denied", "id": id, "timeout_ms": 10000}));
            assert_eq!(st["text"], "", "{id} must not receive the document");
        }
        // A read-only client syncs but its edit is refused and never reaches others.
        connect(&mut p, "r", "hocuspocus", &url, &doc, &reader);
        p.call(json!({"cmd": "wait_text", "id": "r", "text": "kept", "timeout_ms": 10000}));
        p.call(json!({"cmd": "insert", "id": "r", "index": 0, "text": "HACK "}));
        // Wait (with a deadline) until the server has refused it.
        let refused = &metrics.updates_refused;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while refused.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the read-only update was never refused"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        connect(&mut p, "check", "ywebsocket", &url, &doc, &writer);
        p.call(json!({"cmd": "wait_synced", "id": "check", "timeout_ms": 10000}));
        p.call(json!({"cmd": "state", "id": "check"}))
    })
    .await
    .expect("peer thread");
    assert_eq!(outcome["text"], "kept");
    let state = server
        .state
        .rooms
        .load_doc(&format!("secret-{}", std::process::id()))
        .await
        .expect("load");
    let text = {
        use yrs::{GetString, Transact};
        let t = state.0.get_or_insert_text("text");
        t.get_string(&state.0.transact())
    };
    assert_eq!(
        text, "kept",
        "the store holds nothing from the read-only client"
    );
    server.stop().await;
}
