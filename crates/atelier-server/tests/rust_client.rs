//! Atelier's Rust client (`atelier_sync::ClientSession` over a WebSocket):
//! - with npm's y-websocket and Hocuspocus providers on `atelier-server`;
//! - against a real `@hocuspocus/server` 3.4 (what La Suite Docs runs),
//!   beside a Hocuspocus provider.
//!
//! Every side edits; all converge to the same text; awareness crosses.

#[path = "support/rust_client.rs"]
mod rust_client;
#[path = "support/server.rs"]
mod support;

use atelier_sync::{ClientConfig, ClientEvent};
use rust_client::RustClient;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Peers, TestServer, temp_dir, test_db, token};
use yrs::{Doc, GetString, Text, Transact};

const WAIT: Duration = Duration::from_secs(15);

fn text_of(doc: &Doc) -> String {
    let t = doc.get_or_insert_text("text");
    t.get_string(&doc.transact())
}

fn insert(doc: &Doc, at_end: bool, s: &str) {
    let t = doc.get_or_insert_text("text");
    let mut txn = doc.transact_mut();
    let at = if at_end { t.len(&txn) } else { 0 };
    t.insert(&mut txn, at, s);
}

/// Runs the Node peer commands on a blocking thread (they block on stdin/stdout).
async fn with_peers<T: Send + 'static>(
    p: Peers,
    f: impl FnOnce(&mut Peers) -> T + Send + 'static,
) -> (Peers, T) {
    tokio::task::spawn_blocking(move || {
        let mut p = p;
        let out = f(&mut p);
        (p, out)
    })
    .await
    .expect("peer thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_npm_clients_converge_on_atelier_server() {
    let test = "rust_and_npm_clients_converge_on_atelier_server";
    let Some(p) = Peers::start(test) else {
        return;
    };
    let dir = temp_dir("rust-client");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let doc_name = format!(
        "mixed-{}",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    );
    let tok = token("rust", &["*"], &["*"], false);

    let doc = Doc::new();
    let mut rust = RustClient::connect(
        &server.ws("/sync"),
        doc.clone(),
        ClientConfig::hocuspocus(doc_name.clone(), tok.clone()),
    )
    .await;
    rust.set_awareness(r##"{"user":{"name":"rust","color":"#ff0000"}}"##);
    rust.pump_until("hocuspocus sync", WAIT, |c| {
        c.events.contains(&ClientEvent::Synced)
    })
    .await;
    insert(&doc, true, "rust;");
    rust.pump_until("acknowledgement of the first edit", WAIT, |c| {
        c.session.unsynced_changes() == 0
    })
    .await;

    let (url, name, t) = (server.ws("/sync"), doc_name.clone(), tok.clone());
    let (p, ()) = with_peers(p, move |p| {
        for (id, kind) in [("y", "ywebsocket"), ("h", "hocuspocus")] {
            p.call(json!({"cmd": "connect", "id": id, "kind": kind, "url": url, "doc": name, "token": t, "name": id}));
            p.call(json!({"cmd": "wait_synced", "id": id, "timeout_ms": 15000}));
            p.call(json!({"cmd": "wait_text", "id": id, "text": "rust;", "timeout_ms": 15000}));
        }
        p.call(json!({"cmd": "insert", "id": "y", "index": 5, "text": "y;"}));
        p.call(json!({"cmd": "wait_text", "id": "h", "text": "rust;y;", "timeout_ms": 15000}));
        p.call(json!({"cmd": "insert", "id": "h", "index": 7, "text": "h;"}));
        p.call(json!({"cmd": "wait_text", "id": "y", "text": "rust;y;h;", "timeout_ms": 15000}));
    })
    .await;
    rust.pump_until("npm edits", WAIT, |c| {
        text_of(c.session.doc()) == "rust;y;h;"
    })
    .await;
    rust.pump_until("awareness of both npm peers", WAIT, |c| {
        c.remote_names() == vec!["h".to_string(), "y".to_string()]
    })
    .await;
    insert(&doc, true, "done");
    rust.pump_until("acknowledgement", WAIT, |c| {
        c.session.unsynced_changes() == 0
    })
    .await;
    let (_p, seen) = with_peers(p, |p| {
        p.call(json!({"cmd": "wait_text", "id": "y", "text": "rust;y;h;done", "timeout_ms": 15000}));
        p.call(json!({"cmd": "wait_text", "id": "h", "text": "rust;y;h;done", "timeout_ms": 15000}));
        p.call(json!({"cmd": "wait_awareness", "id": "h", "names": ["h", "rust", "y"], "timeout_ms": 15000}))
    })
    .await;
    assert_eq!(seen["text"], "rust;y;h;done");
    server.stop().await;
}

/// Starts `peers/hocuspocus-server.mjs`; returns the child and its port.
fn start_hocuspocus() -> Option<(std::process::Child, u16)> {
    let peers = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers");
    if !peers.join("node_modules/@hocuspocus/server").exists() {
        println!(
            "SKIPPED: rust_client_syncs_with_a_real_hocuspocus_server (peers/node_modules missing)"
        );
        return None;
    }
    let mut child = Command::new("node")
        .arg("hocuspocus-server.mjs")
        .current_dir(&peers)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).ok()?;
    let v: serde_json::Value = serde_json::from_str(&line).ok()?;
    Some((child, v["port"].as_u64()? as u16))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_syncs_with_a_real_hocuspocus_server() {
    let test = "rust_client_syncs_with_a_real_hocuspocus_server";
    let Some(p) = Peers::start(test) else {
        return;
    };
    let Some((mut hp, port)) = start_hocuspocus() else {
        return;
    };
    let url = format!("ws://127.0.0.1:{port}");
    // A wrong token is refused by Hocuspocus itself.
    let mut denied =
        RustClient::connect(&url, Doc::new(), ClientConfig::hocuspocus("notes", "wrong")).await;
    denied
        .pump_until("permission denied", WAIT, |c| {
            c.events
                .iter()
                .any(|e| matches!(e, ClientEvent::PermissionDenied { .. }))
        })
        .await;

    let doc = Doc::new();
    let mut rust = RustClient::connect(
        &url,
        doc.clone(),
        ClientConfig::hocuspocus("notes", "secret"),
    )
    .await;
    rust.set_awareness(r##"{"user":{"name":"rust","color":"#00ff00"}}"##);
    rust.pump_until("sync with hocuspocus", WAIT, |c| {
        c.events.contains(&ClientEvent::Synced)
    })
    .await;
    insert(&doc, true, "from rust; ");
    rust.pump_until("hocuspocus acknowledgement", WAIT, |c| {
        c.session.unsynced_changes() == 0
    })
    .await;
    let url2 = url.clone();
    let (_p, seen) = with_peers(p, move |p| {
        p.call(json!({"cmd": "connect", "id": "h", "kind": "hocuspocus", "url": url2, "doc": "notes", "token": "secret", "name": "provider"}));
        p.call(json!({"cmd": "wait_text", "id": "h", "text": "from rust; ", "timeout_ms": 15000}));
        p.call(json!({"cmd": "insert", "id": "h", "index": 11, "text": "from provider"}));
        p.call(json!({"cmd": "wait_awareness", "id": "h", "names": ["provider", "rust"], "timeout_ms": 15000}))
    })
    .await;
    assert_eq!(seen["awareness"], json!(["provider", "rust"]));
    rust.pump_until("the provider's edit", WAIT, |c| {
        text_of(c.session.doc()) == "from rust; from provider"
    })
    .await;
    rust.pump_until("the provider's awareness", WAIT, |c| {
        c.remote_names() == vec!["provider".to_string()]
    })
    .await;
    let _ = hp.kill();
    let _ = hp.wait();
}
