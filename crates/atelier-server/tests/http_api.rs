//! The REST API, operations endpoints and limits of `atelier-server`:
//! document state as binary and Markdown, versions (save, list, preview,
//! restore as a new update), health and metrics, token checks, and
//! oversized or malformed WebSocket messages closing only their connection
//! with the document unchanged, and a message just under the limit going
//! through both ways.

#[path = "support/server.rs"]
mod support;

use atelier_doc::{Document, NewBlock, Placement};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use std::time::Duration;
use support::{TestServer, temp_dir, test_db, token, unique};
use tokio_tungstenite::tungstenite::Message;

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{}", server.addr, path)
}

async fn markdown(http: &reqwest::Client, server: &TestServer, doc: &str, tok: &str) -> String {
    let r = http
        .get(url(server, &format!("/api/docs/{doc}?format=markdown")))
        .bearer_auth(tok)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_and_versions_over_rest() {
    let dir = temp_dir("rest");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let http = reqwest::Client::new();
    let doc = unique(&dir, "rest");
    let writer = token("w", &["*"], &["*"], false);
    let reader = token("r", &["*"], &[], false);

    // Write a document with the model and send it as an update.
    let model = Document::new();
    model
        .insert_blocks(
            &Placement::End,
            &[
                NewBlock::text("heading", "Compte rendu").with_prop("level", 1),
                NewBlock::paragraph("Première version."),
            ],
        )
        .expect("blocks");
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&writer)
        .body(model.encode_state_v1())
        .send()
        .await
        .expect("post update");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        markdown(&http, &server, &doc, &reader).await,
        "# Compte rendu\n\nPremière version.\n"
    );
    // Binary state loads into an equal document.
    let bin = http
        .get(url(&server, &format!("/api/docs/{doc}")))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        Document::from_update_v1(&bin).expect("loads").blocks(),
        model.blocks()
    );

    // Save a version, change the document, preview and restore.
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/versions")))
        .bearer_auth(&writer)
        .json(&serde_json::json!({"name": "avant relecture"}))
        .send()
        .await
        .expect("save version");
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let before = model.state_vector_v1();
    let first = model.block_ids()[1].clone();
    model.insert_text(&first, 0, "Relu : ").expect("edit");
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&writer)
        .body(model.diff_v1(&before).expect("diff"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        markdown(&http, &server, &doc, &reader)
            .await
            .contains("Relu : Première")
    );
    let list: serde_json::Value = http
        .get(url(&server, &format!("/api/docs/{doc}/versions")))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .any(|v| v["name"] == "avant relecture" && v["id"] == id),
        "{list}"
    );
    let preview = http
        .get(url(
            &server,
            &format!("/api/docs/{doc}/versions/{id}?format=markdown"),
        ))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("preview")
        .text()
        .await
        .expect("text");
    assert_eq!(preview, "# Compte rendu\n\nPremière version.\n");
    // A reader may not restore; a writer may.
    let r = http
        .post(url(
            &server,
            &format!("/api/docs/{doc}/versions/{id}/restore"),
        ))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("restore");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .post(url(
            &server,
            &format!("/api/docs/{doc}/versions/{id}/restore"),
        ))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("restore");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        markdown(&http, &server, &doc, &reader).await,
        "# Compte rendu\n\nPremière version.\n"
    );

    // Tokens: none, wrong document, expired; a reader cannot write.
    let get = |tok: Option<String>| {
        let mut req = http.get(url(&server, &format!("/api/docs/{doc}")));
        if let Some(t) = tok {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(
        get(None).await.expect("req").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(Some(token("o", &["other"], &[], false)))
            .await
            .expect("req")
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(Some(token("e", &["*"], &["*"], true)))
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&reader)
        .body(model.encode_state_v1())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&writer)
        .body(vec![0xff, 0x00, 0x13])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Operations endpoints.
    let health = http
        .get(url(&server, "/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = http
        .get(url(&server, "/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("# TYPE atelier_updates_total counter"),
        "{metrics}"
    );
    let updates: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("atelier_updates_total "))
        .and_then(|v| v.parse().ok())
        .expect("updates counter");
    assert!(updates >= 3, "{metrics}");
    assert!(metrics.contains("atelier_auth_failures_total"));
    server.stop().await;
}

/// Reads frames until the server closes; returns the close code.
async fn close_code(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return Some(frame.code.into()),
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("the server did not close the connection within 10 s"),
        }
    }
}

/// Connects, retrying while the server still counts connections that have
/// just closed against the per-address limit (with a deadline).
async fn connect_when_a_slot_frees(
    url: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => return ws,
            // Poll again shortly: the condition is a task ending.
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no connection slot freed within 10 s: {e}"),
        }
    }
}

/// A y-websocket update frame within 64 bytes of `max_message_bytes` is
/// read whole (the socket's read buffer is 4 KiB and grows to the frame,
/// issue 16), stored, and sent whole to another client of the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_just_under_max_message_bytes_goes_through() {
    let dir = temp_dir("near-limit");
    let limit = 1 << 20;
    let server = TestServer::start(&test_db(&dir), |c| c.max_message_bytes = limit).await;
    let doc = unique(&dir, "near-limit");
    let tok = token("w", &["*"], &["*"], false);
    let ws_url = server.ws(&format!("/sync/{doc}?token={tok}"));
    let (mut writer, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    let (mut reader, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    // One paragraph whose update fills the frame up to the limit: a
    // first encoding tells the overhead, the second fits it.
    let frame_of = |chars: usize| {
        let model = Document::new();
        model
            .insert_blocks(&Placement::End, &[NewBlock::paragraph(&"x".repeat(chars))])
            .expect("blocks");
        let update = model.encode_state_v1();
        let mut frame = vec![0u8, 2];
        let mut len = update.len();
        while len >= 0x80 {
            frame.push((len as u8) | 0x80);
            len >>= 7;
        }
        frame.push(len as u8);
        frame.extend_from_slice(&update);
        frame
    };
    let overhead = frame_of(limit / 2).len() - limit / 2;
    let frame = frame_of(limit - overhead - 32);
    assert!(
        frame.len() <= limit && frame.len() + 64 > limit,
        "the test frame is {} bytes against a limit of {limit}",
        frame.len()
    );
    writer
        .send(Message::Binary(frame.clone().into()))
        .await
        .expect("send");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, reader.next())
            .await
            .expect("the other client got no update within 20 s")
            .expect("the server closed the other client")
            .expect("the other client's socket failed");
        if let Message::Binary(got) = msg
            && got.get(..2) == Some(&[0, 2][..])
        {
            assert!(
                got.len() + 64 > limit,
                "the update forwarded is {} bytes, the one sent {}",
                got.len(),
                frame.len()
            );
            break;
        }
    }
    let http = reqwest::Client::new();
    assert_eq!(
        markdown(&http, &server, &doc, &tok).await.trim_end().len(),
        limit - overhead - 32,
        "the stored paragraph is not the one sent"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_close_only_their_connection() {
    let dir = temp_dir("limits");
    let server = TestServer::start(&test_db(&dir), |c| {
        c.max_message_bytes = 64 * 1024;
        c.max_connections_per_ip = 3;
    })
    .await;
    let doc = unique(&dir, "limits");
    let tok = token("w", &["*"], &["*"], false);
    let http = reqwest::Client::new();
    let model = Document::new();
    model
        .insert_blocks(&Placement::End, &[NewBlock::paragraph("intact")])
        .expect("blocks");
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&tok)
        .body(model.encode_state_v1())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let ws_url = server.ws(&format!("/sync/{doc}?token={tok}"));
    let (mut bystander, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    // Oversized: 128 KiB against a 64 KiB limit.
    let (mut big, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    let mut frame = vec![0u8, 2];
    frame.extend(std::iter::repeat_n(1u8, 128 * 1024));
    let _ = big.send(Message::Binary(frame.into())).await;
    let code = close_code(&mut big).await;
    assert!(
        matches!(code, Some(1009) | None),
        "oversized message closed with {code:?}"
    );
    // Malformed: a sync update whose payload is garbage.
    let (mut bad, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    bad.send(Message::Binary(
        vec![0u8, 2, 5, 0xff, 0xff, 0xff, 0xff, 0x0f].into(),
    ))
    .await
    .expect("send");
    assert_eq!(close_code(&mut bad).await, Some(1008));
    // The third simultaneous connection from this address is refused
    // (bystander + two closed ones are gone, so open two more first).
    // The closed connections' slots are freed when their tasks end, a
    // moment after the close frame: retry until then.
    let _a = connect_when_a_slot_frees(&ws_url).await;
    let _b = connect_when_a_slot_frees(&ws_url).await;
    let over = tokio_tungstenite::connect_async(&ws_url).await;
    assert!(
        over.is_err(),
        "a 4th connection over a limit of 3 must be refused"
    );
    // The bystander still works and the document is unchanged.
    bystander
        .send(Message::Binary(vec![3u8].into()))
        .await
        .expect("query awareness still accepted");
    assert_eq!(
        markdown(&http, &server, &doc, &tok).await,
        "intact\n",
        "bad messages changed the document"
    );
    server.stop().await;
}
