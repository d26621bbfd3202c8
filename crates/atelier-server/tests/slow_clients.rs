//! A client that stops reading (issue 18): its frames pile up in bounded
//! queues (the room's broadcast ring, the connection's channel, the socket
//! buffers) and, once a frame has waited `send_timeout_secs` for it, the
//! server drops the connection, so the slow client holds neither the
//! server's time nor more memory; the writer and everyone else carry on.

#[path = "support/server.rs"]
mod support;
#[path = "support/ws.rs"]
mod ws;

use atelier_sync::{SyncMessage, YwsMessage};
use futures_util::SinkExt;
use std::time::Duration;
use support::{TestServer, temp_dir, test_db, token, unique};
use tokio_tungstenite::tungstenite::Message;
use ws::{answers_y_websocket, connect};
use yrs::{Doc, Text, Transact};

/// A client that accepts messages of any size (the 24 MB document's sync).
async fn connect_unbounded(url: &str) -> ws::Ws {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .expect("connect")
        .0
}

/// `atelier_connections` from `/metrics`.
async fn open_connections(server: &TestServer) -> Option<u64> {
    let text = reqwest::get(format!("http://{}/metrics", server.addr))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_the_others_carry_on() {
    let dir = temp_dir("slow");
    let server = TestServer::start(&test_db(&dir), |c| {
        c.send_timeout_secs = 1;
        c.max_updates_per_second = 10_000;
    })
    .await;
    let doc = unique(&dir, "slow");
    let tok = token("w", &["*"], &["*"], false);
    let url = server.ws(&format!("/sync/{doc}?token={tok}"));

    // The slow reader connects and then never reads again.
    let slow = connect(&url).await;
    let mut writer = connect_unbounded(&url).await;
    assert!(answers_y_websocket(&mut writer).await, "the writer syncs");

    // 24 updates of 1 MB: far more than the socket buffers between the
    // server and a reader that does not read.
    let source = Doc::new();
    let text = source.get_or_insert_text("t");
    let chunk = "x".repeat(1 << 20);
    for _ in 0..24 {
        let update = {
            let mut txn = source.transact_mut();
            text.push(&mut txn, &chunk);
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
    }

    // The slow reader is dropped: two connections become one.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let n = open_connections(&server).await;
        seen.push(n);
        if n == Some(1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow reader was not dropped within 60 s; open connections seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The writer and a newcomer still work.
    assert!(
        answers_y_websocket(&mut writer).await,
        "the writer still answers"
    );
    let mut newcomer = connect_unbounded(&url).await;
    assert!(
        answers_y_websocket(&mut newcomer).await,
        "a newcomer syncs the 24 MB document"
    );
    drop(slow);
    server.stop().await;
}
