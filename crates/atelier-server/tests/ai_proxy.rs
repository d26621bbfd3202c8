//! `POST /ai/v1/chat/completions` forwarding to a model server: against a
//! scripted OpenAI-compatible server that writes exact SSE bytes (tool-call
//! deltas split across chunks and TCP writes, an error mid-stream, a slow
//! stream, 401 and 429, a client that stops), the endpoint's auth, limits
//! and errors, and a real endpoint when `ATELIER_AI_TEST_URL` names one.

#[path = "support/fake_model_server.rs"]
mod fake;
#[path = "support/server.rs"]
mod support;

use atelier_ai::chat_stream::{ChatStreamDecoder, ChunkWriter};
use atelier_ai::{AiError, Completion};
use fake::{Event, FakeModelServer, Step, json_answer, sse_head};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{TestServer, temp_dir, test_db, token, token_with};

const KEY: &str = "sk-test-0123456789abcdef";

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{}", server.addr, path)
}

/// A stream as OpenAI and vLLM write it: role, text, a tool call whose
/// arguments are cut inside a string and an escape, finish, `[DONE]`.
fn tool_call_stream() -> String {
    let w = ChunkWriter::new("chatcmpl-up", "upstream-model", 1_700_000_000);
    [
        w.role(),
        w.text("Je corrige."),
        w.tool_call_start(0, "call_1", "applyDocumentOperations"),
        w.tool_call_arguments(0, "{\"operations\":[{\"type\":\"upd"),
        w.tool_call_arguments(0, "ate\",\"id\":\"b1$\",\"block\":\"<p>caf\\u00"),
        w.tool_call_arguments(0, "e9</p>\"}]}"),
        w.finish("tool_calls"),
        ChunkWriter::done(),
    ]
    .concat()
}

/// The bytes cut into TCP writes of `n` bytes, so events and their JSON
/// arrive split anywhere.
fn in_pieces(bytes: &[u8], n: usize) -> Vec<Step> {
    bytes
        .chunks(n)
        .flat_map(|c| {
            [
                Step::Write(c.to_vec()),
                Step::Sleep(Duration::from_millis(2)),
            ]
        })
        .collect()
}

async fn proxy(
    fake: &FakeModelServer,
    dir: &std::path::Path,
    tweak: impl FnOnce(&mut atelier_server::config::Config),
) -> TestServer {
    let base = fake.base_url();
    TestServer::start(&test_db(dir), |c| {
        c.ai.url = Some(base);
        c.ai.model = Some("configured-model".into());
        c.ai.key = Some(atelier_server::ai_config::ApiKey::new(KEY));
        c.ai.timeout = Duration::from_secs(5);
        tweak(c);
    })
    .await
}

fn request(stream: bool) -> Value {
    json!({
        "model": "whatever-the-browser-says",
        "stream": stream,
        "messages": [{"role": "user", "content": "Corrige le bloc."}],
        "tools": [atelier_ai::doc_tool::openai_tool()],
    })
}

async fn post(server: &TestServer, doc: &str, tok: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url(server, "/ai/v1/chat/completions"))
        .bearer_auth(tok)
        .header("X-Atelier-Document", doc)
        .json(body)
        .send()
        .await
        .expect("the proxy answers")
}

fn decode(body: &[u8]) -> Result<Completion, AiError> {
    let mut d = ChatStreamDecoder::default();
    d.push(body)?;
    d.finish()
}

async fn error_of(r: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = r.json().await.expect("an error body");
    (status, retry, body)
}

#[tokio::test]
async fn tool_call_deltas_split_across_chunks_pass_byte_for_byte() {
    let dir = temp_dir("ai-split");
    let wire = tool_call_stream();
    let mut script = vec![Step::Write(sse_head())];
    script.extend(in_pieces(wire.as_bytes(), 7));
    let mut fake = FakeModelServer::start(script).await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let tok = token("alice", &[], &["notes"], false);
    let r = post(&server, "notes", &tok, &request(true)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let body = r.bytes().await.expect("body");
    assert_eq!(
        String::from_utf8_lossy(&body),
        wire,
        "the events reach the browser exactly as the model server wrote them"
    );
    let c = decode(&body).expect("a complete answer");
    assert_eq!(c.tool_calls.len(), 1);
    let args: Value = serde_json::from_str(&c.tool_calls[0].function.arguments).expect("JSON");
    assert_eq!(args["operations"][0]["block"], "<p>café</p>");
    // What the model server received: the configured model and key.
    let Event::Request(seen) = fake.next_event("the request", Duration::from_secs(5)).await else {
        panic!("expected the request first");
    };
    assert_eq!(
        seen.head.lines().next(),
        Some("POST /v1/chat/completions HTTP/1.1")
    );
    assert_eq!(seen.header("authorization"), Some(format!("Bearer {KEY}")));
    let sent = seen.json();
    assert_eq!(sent["model"], "configured-model");
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["tools"][0]["function"]["name"],
        "applyDocumentOperations"
    );
    assert!(!String::from_utf8_lossy(&body).contains(KEY));
    server.stop().await;
}

#[tokio::test]
async fn an_error_mid_stream_reaches_the_client_as_the_last_event() {
    let dir = temp_dir("ai-mid-error");
    let w = ChunkWriter::new("c", "m", 1);
    let wire = [
        w.role(),
        w.text("Je commen"),
        "data: {\"error\":{\"message\":\"The engine is overloaded\",\"type\":\"server_error\"}}\n\n".into(),
    ]
    .concat();
    let fake = FakeModelServer::start(vec![
        Step::Write(sse_head()),
        Step::Write(wire.into_bytes()),
    ])
    .await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let tok = token("alice", &[], &["notes"], false);
    let r = post(&server, "notes", &tok, &request(true)).await;
    assert_eq!(r.status(), StatusCode::OK, "the stream had started");
    let body = r.bytes().await.expect("body");
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("[DONE]"), "{text}");
    let mut d = ChatStreamDecoder::default();
    let err = d.push(&body).expect_err("an error event");
    assert_eq!(
        err,
        AiError::Upstream("the model server reported: The engine is overloaded".into())
    );
    assert_eq!(d.text(), "Je commen", "the text before the error is kept");
    assert!(text.contains("\"code\":\"upstream_error\""), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn a_slow_model_server_times_out_before_and_during_the_stream() {
    let dir = temp_dir("ai-slow");
    // Headers that never come.
    let fake = FakeModelServer::start(vec![Step::Sleep(Duration::from_secs(10))]).await;
    let server = proxy(&fake, &dir, |c| c.ai.timeout = Duration::from_secs(1)).await;
    let tok = token("alice", &[], &["notes"], false);
    let started = Instant::now();
    let (status, _, body) = error_of(post(&server, "notes", &tok, &request(true)).await).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["error"]["code"], "upstream_timeout");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("within 1 s"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;

    // A stream that stalls after its first event.
    let w = ChunkWriter::new("c", "m", 1);
    let fake = FakeModelServer::start(vec![
        Step::Write(sse_head()),
        Step::Write(w.role().into_bytes()),
        Step::Sleep(Duration::from_secs(10)),
    ])
    .await;
    let server = proxy(&fake, &dir, |c| c.ai.timeout = Duration::from_secs(1)).await;
    let started = Instant::now();
    let r = post(&server, "notes", &tok, &request(true)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await.expect("body");
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with(&w.role()), "{text}");
    assert!(text.contains("\"code\":\"upstream_timeout\""), "{text}");
    assert!(text.contains("sent nothing for 1 s"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_refused_key_and_an_upstream_rate_limit_say_what_happened() {
    let dir = temp_dir("ai-401-429");
    let tok = token("alice", &[], &["notes"], false);
    let fake = FakeModelServer::start(vec![Step::Write(json_answer(
        "401 Unauthorized",
        &[],
        "{\"error\":{\"message\":\"Incorrect API key provided: sk-test-****cdef\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}",
    ))])
    .await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let (status, _, body) = error_of(post(&server, "notes", &tok, &request(true)).await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "upstream_unauthorized");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("refused the server's API key (HTTP 401)"),
        "{message}"
    );
    assert!(
        !body.to_string().contains("sk-"),
        "no part of a key reaches the browser: {body}"
    );
    server.stop().await;

    let fake = FakeModelServer::start(vec![Step::Write(json_answer(
        "429 Too Many Requests",
        &[("Retry-After", "7")],
        "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\"}}",
    ))])
    .await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let (status, retry, body) = error_of(post(&server, "notes", &tok, &request(false)).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry.as_deref(), Some("7"));
    assert_eq!(body["error"]["code"], "upstream_rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Rate limit reached for requests"),
        "{body}"
    );
    let metrics = reqwest::get(url(&server, "/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("atelier_ai_upstream_errors_total 1\n"),
        "{metrics}"
    );
    server.stop().await;

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let server = TestServer::start(&test_db(&dir), |c| {
        c.ai.url = Some(format!("http://{gone}/v1"));
        c.ai.model = Some("m".into());
    })
    .await;
    let (status, _, body) = error_of(post(&server, "notes", &tok, &request(false)).await).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "upstream_unreachable");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_closes_the_model_servers_connection() {
    let dir = temp_dir("ai-stop");
    let w = ChunkWriter::new("c", "m", 1);
    let fake_script = vec![
        Step::Write(sse_head()),
        Step::Write([w.role(), w.text("Un")].concat().into_bytes()),
        // Still generating: wait for the proxy to hang up.
        Step::AwaitClose(Duration::from_secs(10)),
    ];
    let mut fake = FakeModelServer::start(fake_script).await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let tok = token("alice", &[], &["notes"], false);
    let mut r = post(&server, "notes", &tok, &request(true)).await;
    let first = tokio::time::timeout(Duration::from_secs(5), r.chunk())
        .await
        .expect("the first event in time")
        .expect("readable")
        .expect("some bytes");
    assert!(
        String::from_utf8_lossy(&first).contains("assistant"),
        "{first:?}"
    );
    let stopped = Instant::now();
    drop(r);
    let Event::Request(_) = fake.next_event("the request", Duration::from_secs(5)).await else {
        panic!("expected the request first");
    };
    match fake
        .next_event("the proxy closing", Duration::from_secs(15))
        .await
    {
        Event::Closed(_) => {}
        other => panic!("the model server's connection stayed open: {other:?}"),
    }
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "closed only after {:?}",
        stopped.elapsed()
    );
    // The disconnect is counted.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = reqwest::get(url(&server, "/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if m.contains("atelier_ai_client_disconnects_total 1\n") {
            break;
        }
        assert!(Instant::now() < deadline, "no disconnect counted: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_and_truncated_streams_end_with_a_clear_error() {
    let dir = temp_dir("ai-malformed");
    let tok = token("alice", &[], &["notes"], false);
    let w = ChunkWriter::new("c", "m", 1);
    for (wire, code) in [
        (
            format!("{}data: {{not json}}\n\n", w.role()),
            "upstream_malformed",
        ),
        ([w.role(), w.text("half")].concat(), "upstream_truncated"),
        (
            format!("{}data: {}\n\n", w.role(), "x".repeat(2 << 20)),
            "upstream_malformed",
        ),
    ] {
        let fake = FakeModelServer::start(vec![
            Step::Write(sse_head()),
            Step::Write(wire.into_bytes()),
        ])
        .await;
        let server = proxy(&fake, &dir, |_| {}).await;
        let r = post(&server, "notes", &tok, &request(true)).await;
        let body = r.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains(&format!("\"code\":\"{code}\"")),
            "{code}: {}",
            &text[..text.len().min(400)]
        );
        assert!(decode(&body).is_err());
        server.stop().await;
    }
    // A finish without [DONE] is completed with one.
    let fake = FakeModelServer::start(vec![
        Step::Write(sse_head()),
        Step::Write(
            [w.role(), w.text("ok"), w.finish("stop")]
                .concat()
                .into_bytes(),
        ),
    ])
    .await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let body = post(&server, "notes", &tok, &request(true))
        .await
        .bytes()
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&body).ends_with("data: [DONE]\n\n"));
    assert_eq!(decode(&body).expect("complete").text, "ok");
    server.stop().await;
}

#[tokio::test]
async fn whole_answers_pass_through_and_are_checked() {
    let dir = temp_dir("ai-whole");
    let tok = token("alice", &[], &["notes"], false);
    let answer = json!({
        "id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Bonjour"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        "system_fingerprint": "fp_1"
    })
    .to_string();
    let fake = FakeModelServer::start(vec![Step::Write(json_answer("200 OK", &[], &answer))]).await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let r = post(&server, "notes", &tok, &request(false)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["choices"][0]["message"]["content"], "Bonjour");
    assert_eq!(
        body["system_fingerprint"], "fp_1",
        "fields Atelier does not read survive"
    );
    // A whole answer to a streamed request (a server ignoring `stream`)
    // becomes a stream.
    let body = post(&server, "notes", &tok, &request(true))
        .await
        .bytes()
        .await
        .expect("body");
    assert_eq!(decode(&body).expect("complete").text, "Bonjour");
    server.stop().await;
    // Not a completion.
    let fake = FakeModelServer::start(vec![Step::Write(json_answer(
        "200 OK",
        &[],
        "{\"hello\":1}",
    ))])
    .await;
    let server = proxy(&fake, &dir, |_| {}).await;
    let (status, _, body) = error_of(post(&server, "notes", &tok, &request(false)).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("upstream_malformed"))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_document_header_a_write_grant_and_the_limits_are_required() {
    let dir = temp_dir("ai-auth");
    let answer = json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]
    })
    .to_string();
    let mut fake =
        FakeModelServer::start(vec![Step::Write(json_answer("200 OK", &[], &answer))]).await;
    let server = proxy(&fake, &dir, |c| {
        c.ai.rate_user = "2/min".parse().expect("spec");
        c.ai.rate_document = "3/min".parse().expect("spec");
    })
    .await;
    let http = reqwest::Client::new();
    let writer = token("alice", &[], &["team/*"], false);
    // No document named.
    let r = http
        .post(url(&server, "/ai/v1/chat/completions"))
        .bearer_auth(&writer)
        .json(&request(false))
        .send()
        .await
        .expect("answer");
    let (status, _, body) = error_of(r).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("missing_document"))
    );
    // No credentials.
    let r = http
        .post(url(&server, "/ai/v1/chat/completions"))
        .header("X-Atelier-Document", "team/plan")
        .json(&request(false))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Read and chat grants are not enough.
    for grant in ["read", "chat"] {
        let t = token_with("carol", grant, "team/*");
        let (status, _, body) =
            error_of(post(&server, "team/plan", &t, &request(false)).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{grant}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("write access"),
            "{body}"
        );
    }
    // Not a request.
    let (status, _, body) =
        error_of(post(&server, "team/plan", &writer, &json!({"messages": []})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Two per minute for alice.
    for _ in 0..2 {
        let r = post(&server, "team/plan", &writer, &request(false)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (status, retry, body) =
        error_of(post(&server, "team/plan", &writer, &request(false)).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited_user");
    let secs: u64 = retry
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&secs), "{secs}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("AI rate limit reached for you: 2 requests per minute; retry in"),
        "{body}"
    );
    // Bob fills the document's third slot, then the document is full.
    let bob = token("bob", &[], &["team/*"], false);
    assert_eq!(
        post(&server, "team/plan", &bob, &request(false))
            .await
            .status(),
        StatusCode::OK
    );
    let (status, _, body) = error_of(post(&server, "team/plan", &bob, &request(false)).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited_document");
    // Only admitted requests reached the model server.
    let mut seen = 0;
    while let Ok(Some(e)) =
        tokio::time::timeout(Duration::from_millis(200), fake.events.recv()).await
    {
        if matches!(e, Event::Request(_)) {
            seen += 1;
        }
    }
    assert_eq!(seen, 3);
    let status: Value = reqwest::get(url(&server, "/ai"))
        .await
        .expect("ai")
        .json()
        .await
        .expect("json");
    assert_eq!(status["mode"], "upstream");
    let health = reqwest::get(url(&server, "/healthz"))
        .await
        .expect("h")
        .text()
        .await
        .expect("t");
    assert!(health.starts_with("ok\nai: upstream ready"), "{health}");
    assert!(!health.contains(KEY));
    server.stop().await;
}

/// A real OpenAI-compatible endpoint (vLLM, Ollama, Albert, Mistral…) when
/// `ATELIER_AI_TEST_URL` names its base URL (`…/v1`), with
/// `ATELIER_AI_TEST_MODEL` and, if it needs one, `ATELIER_AI_TEST_KEY`.
#[tokio::test]
async fn a_real_endpoint_streams_through_the_proxy() {
    let test = "a_real_endpoint_streams_through_the_proxy";
    let Ok(base) = std::env::var("ATELIER_AI_TEST_URL") else {
        println!(
            "SKIPPED: {test} (set ATELIER_AI_TEST_URL, ATELIER_AI_TEST_MODEL and maybe ATELIER_AI_TEST_KEY to run it)"
        );
        return;
    };
    let dir = temp_dir("ai-real");
    let server = TestServer::start(&test_db(&dir), |c| {
        c.ai.url = Some(base.trim_end_matches('/').to_owned());
        c.ai.model = std::env::var("ATELIER_AI_TEST_MODEL").ok();
        c.ai.key = std::env::var("ATELIER_AI_TEST_KEY")
            .ok()
            .map(atelier_server::ai_config::ApiKey::new);
        c.ai.timeout = Duration::from_secs(60);
    })
    .await;
    let tok = token("alice", &[], &["notes"], false);
    let body = json!({
        "stream": true,
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "Say hello in French, in one word."}],
    });
    let r = post(&server, "notes", &tok, &body).await;
    let status = r.status();
    let bytes = r.bytes().await.expect("body");
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let c = decode(&bytes).expect("a complete stream");
    assert!(!c.text.trim().is_empty(), "{c:?}");
    println!("real endpoint answered {:?}", c.text);
    server.stop().await;
}
