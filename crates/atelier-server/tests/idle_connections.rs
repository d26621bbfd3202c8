//! 10,000 idle connections (issue 18): the real server binary holds
//! 10,000 y-websocket clients over 1,000 documents, each synced once and
//! then silent, and still serves: every one stays open, and an edit in a
//! document reaches each of that document's idle clients. The server's
//! memory per connection is printed, not asserted (it is a benchmark
//! figure: `cargo xtask bench server --only idle`).
//!
//! The test process needs a file descriptor per client: with a soft limit
//! under 10,500 it is skipped, by name, with the limit it saw.

#[path = "support/server.rs"]
mod support;
#[path = "support/ws.rs"]
mod ws;

use atelier_sync::{Limits, SyncMessage, YwsMessage};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use support::{spawn_binary, temp_dir};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use ws::{DEADLINE, Ws, answers_y_websocket, connect};
use yrs::{Doc, Text, Transact};

const TEST: &str = "ten_thousand_idle_connections_are_held_and_still_served";
const CONNECTIONS: usize = 10_000;
const DOCS: usize = 1_000;

/// This process's soft limit of open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A process's resident memory in KiB, from `/proc/PID/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `atelier_connections` from `/metrics`.
async fn open_connections(addr: &str) -> Option<u64> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("atelier_connections "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

/// Whether `ws` receives a document update within the deadline.
async fn receives_an_update(ws: &mut Ws) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match YwsMessage::decode(&b, &Limits::default()) {
                Ok(YwsMessage::Sync(SyncMessage::Update(_))) => return Ok(()),
                other => seen.push(format!("{:?}", other.map(|_| "not an update"))),
            },
            Ok(Some(Ok(_))) => {}
            other => return Err(format!("{other:?} after {seen:?}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_are_held_and_still_served() {
    match open_files_limit() {
        Some(n) if n >= CONNECTIONS as u64 + 500 => {}
        seen => {
            println!("SKIPPED: {TEST} (open files limit {seen:?}, needs {CONNECTIONS} + 500)");
            return;
        }
    }
    let dir = temp_dir("idle");
    let db = format!("sqlite://{}", dir.join("atelier.db").display());
    let cap = (CONNECTIONS + 100).to_string();
    let (mut server, addr) = spawn_binary(
        env!("CARGO_BIN_EXE_atelier"),
        &db,
        &[
            "--max-connections-per-ip",
            &cap,
            "--max-connections-per-user",
            &cap,
        ],
    );
    let rss_before = rss_kib(server.id());

    // Every client connects and syncs once, 100 at a time.
    let gate = Arc::new(Semaphore::new(100));
    let mut joins = tokio::task::JoinSet::new();
    for i in 0..CONNECTIONS {
        let (gate, url) = (gate.clone(), format!("ws://{addr}/sync/idle-{}", i % DOCS));
        joins.spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let mut ws = connect(&url).await;
            answers_y_websocket(&mut ws).await.then_some((i, ws))
        });
    }
    let mut clients: Vec<Option<Ws>> = (0..CONNECTIONS).map(|_| None).collect();
    let mut failed = 0;
    while let Some(joined) = joins.join_next().await {
        match joined.ok().flatten() {
            Some((i, ws)) => clients[i] = Some(ws),
            None => failed += 1,
        }
    }
    assert_eq!(failed, 0, "{failed} of {CONNECTIONS} clients did not sync");
    assert_eq!(
        open_connections(&addr).await,
        Some(CONNECTIONS as u64),
        "the server counts every client"
    );
    let rss_after = rss_kib(server.id());
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "server RSS {a} KiB → {b} KiB: {:.1} KiB per idle connection",
            b.saturating_sub(a) as f64 / CONNECTIONS as f64
        );
    }

    // An edit in document 0 reaches each of its idle clients.
    let mut writer = connect(&format!("ws://{addr}/sync/idle-0")).await;
    assert!(answers_y_websocket(&mut writer).await, "the writer syncs");
    let source = Doc::new();
    let text = source.get_or_insert_text("t");
    let update = {
        let mut txn = source.transact_mut();
        text.push(&mut txn, "still here");
        txn.encode_update_v1()
    };
    writer
        .send(Message::Binary(
            YwsMessage::Sync(SyncMessage::Update(update))
                .encode()
                .into(),
        ))
        .await
        .expect("the writer sends");
    for i in (0..CONNECTIONS).step_by(DOCS) {
        let ws = clients[i].as_mut().expect("client kept");
        if let Err(seen) = receives_an_update(ws).await {
            panic!("idle client {i} of document idle-0 got no update: {seen}");
        }
    }
    assert_eq!(
        open_connections(&addr).await,
        Some(CONNECTIONS as u64 + 1),
        "every idle client is still open"
    );
    drop(clients);
    let _ = server.kill();
    let _ = server.wait();
}
