//! The AI endpoint on the embedded model (SmolLM2-135M-Instruct in this
//! process): with the model file (fetched by `scripts/fetch-model.sh`) a
//! real greedy generation streams in the OpenAI chunk format, twice the
//! same, and a client that stops stops the generation; without it the
//! server starts and says the model is missing. Tests that need the file
//! print `SKIPPED: <name> (reason)` when it is absent.

#![cfg(feature = "embedded-model")]

#[path = "support/server.rs"]
mod support;

use atelier_ai::chat_stream::ChatStreamDecoder;
use atelier_ai::prompts::{Action, Lang, action_request};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{TestServer, temp_dir, test_db, token};

/// The model file, or why these tests do not run: absent, or this is the
/// CI's second pass of the server suite against PostgreSQL
/// (`ATELIER_TEST_DB`), where the store they do not use is all that differs.
fn model_for(test: &str) -> Option<PathBuf> {
    if std::env::var("ATELIER_TEST_DB").is_ok_and(|v| !v.is_empty()) {
        println!(
            "SKIPPED: {test} (ATELIER_TEST_DB is set: it ran in the SQLite pass; it uses no store)"
        );
        return None;
    }
    let file = model_file();
    if !file.exists() {
        println!(
            "SKIPPED: {test} (no model file at {}; run scripts/fetch-model.sh)",
            file.display()
        );
        return None;
    }
    Some(file)
}

fn model_file() -> PathBuf {
    match std::env::var_os("ATELIER_MODEL_DIR") {
        Some(d) => PathBuf::from(d).join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    }
}

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{}", server.addr, path)
}

async fn embedded(dir: &std::path::Path, path: PathBuf) -> TestServer {
    TestServer::start(&test_db(dir), |c| {
        c.ai.model_path = Some(path);
        c.ai.rate_user = "none".parse().expect("spec");
        c.ai.rate_document = "none".parse().expect("spec");
    })
    .await
}

async fn wait_ready(server: &TestServer) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s: Value = reqwest::get(url(server, "/ai"))
            .await
            .expect("/ai")
            .json()
            .await
            .expect("json");
        if s["state"] != "loading" {
            return s;
        }
        assert!(Instant::now() < deadline, "the model still loads: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post(server: &TestServer, body: &Value) -> reqwest::Response {
    let tok = token("alice", &[], &["notes"], false);
    reqwest::Client::new()
        .post(url(server, "/ai/v1/chat/completions"))
        .bearer_auth(tok)
        .header("X-Atelier-Document", "notes")
        .json(body)
        .send()
        .await
        .expect("answer")
}

async fn metric(server: &TestServer, name: &str) -> String {
    let text = reqwest::get(url(server, "/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with(name))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn without_the_model_file_the_server_starts_and_says_so() {
    let dir = temp_dir("ai-missing");
    let missing = dir.join("no-model.gguf");
    let server = embedded(&dir, missing.clone()).await;
    let health = reqwest::get(url(&server, "/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let health = health.text().await.expect("text");
    assert!(
        health.contains("ai: embedded missing") && health.contains("scripts/fetch-model.sh"),
        "{health}"
    );
    let status = wait_ready(&server).await;
    assert_eq!(status["state"], "missing");
    let r = post(&server, &action_request(&Action::Rephrase, "x").pipe_json()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "model_missing");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&missing.display().to_string()),
        "{body}"
    );
    assert!(
        metric(&server, "atelier_ai_model_state")
            .await
            .contains("atelier_ai_model_state{mode=\"embedded\",state=\"missing\"} 1")
    );
    server.stop().await;
}

trait PipeJson {
    fn pipe_json(&self) -> Value;
}

impl PipeJson for atelier_ai::openai::ChatRequest {
    fn pipe_json(&self) -> Value {
        serde_json::to_value(self).expect("json")
    }
}

#[tokio::test]
async fn a_real_greedy_generation_streams_chunks_and_repeats_itself() {
    let Some(file) = model_for("a_real_greedy_generation_streams_chunks_and_repeats_itself") else {
        return;
    };
    let dir = temp_dir("ai-embedded");
    let server = embedded(&dir, file).await;
    let status = wait_ready(&server).await;
    assert_eq!(status["state"], "ready", "{status}");
    let mut req = action_request(
        &Action::Translate(Lang::En),
        "Bonjour, comment allez-vous ?",
    );
    req.max_tokens = Some(24);
    req.extra
        .insert("stream_options".into(), json!({"include_usage": true}));
    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = post(&server, &req.pipe_json()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let body = r.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&body).into_owned();
        // The shape: role first, content deltas, a finish, usage, [DONE].
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert!(events.len() >= 4, "{text}");
        assert!(events[0].contains("\"role\":\"assistant\""), "{text}");
        assert!(events.iter().all(|e| e.starts_with("data: ")), "{text}");
        assert_eq!(events.last(), Some(&"data: [DONE]"));
        assert!(text.contains("\"object\":\"chat.completion.chunk\""));
        assert!(text.contains("\"model\":\"SmolLM2-135M-Instruct\""));
        let mut d = ChatStreamDecoder::default();
        d.push(&body).expect("valid");
        let c = d.finish().expect("complete");
        assert!(!c.text.trim().is_empty(), "{c:?}");
        assert!(
            matches!(c.finish_reason.as_deref(), Some("stop" | "length")),
            "{c:?}"
        );
        let usage = c.usage.expect("usage asked for");
        assert!(
            usage.completion_tokens <= 24 && usage.prompt_tokens > 50,
            "{usage:?}"
        );
        answers.push(c.text);
    }
    println!("answer: {:?}", answers[0]);
    assert_eq!(answers[0], answers[1], "greedy decoding repeats itself");
    // A whole answer is the same text.
    req.stream = Some(false);
    let whole: Value = post(&server, &req.pipe_json())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(
        whole["choices"][0]["message"]["content"],
        answers[0].as_str()
    );
    let health = reqwest::get(url(&server, "/healthz"))
        .await
        .expect("h")
        .text()
        .await
        .expect("t");
    assert!(health.contains("ai: embedded ready"), "{health}");
    let m = metric(&server, "atelier_ai_").await;
    assert!(
        m.contains("atelier_ai_model_state{mode=\"embedded\",state=\"ready\"} 1"),
        "{m}"
    );
    assert!(m.contains("atelier_ai_first_token_seconds_count 3"), "{m}");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_stops_the_generation() {
    let Some(file) = model_for("a_client_that_stops_stops_the_generation") else {
        return;
    };
    let dir = temp_dir("ai-embedded-stop");
    let server = embedded(&dir, file).await;
    assert_eq!(wait_ready(&server).await["state"], "ready");
    let mut req = action_request(
        &Action::Continue,
        "Once upon a time, in a small village by the sea,",
    );
    req.max_tokens = Some(2000);
    let mut r = post(&server, &req.pipe_json()).await;
    // Read until some text arrived, then go away.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while !seen.contains("\"content\":\"") || seen.matches("data: ").count() < 3 {
        assert!(Instant::now() < deadline, "no text in time: {seen}");
        let chunk = tokio::time::timeout(Duration::from_secs(60), r.chunk())
            .await
            .expect("in time")
            .expect("readable")
            .expect("more");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(r);
    let stopped = Instant::now();
    loop {
        let m = metric(&server, "atelier_ai_").await;
        if m.contains("atelier_ai_active_generations 0")
            && m.contains("atelier_ai_client_disconnects_total 1")
        {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "the generation went on after the client left: {m}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tokens: u64 = metric(&server, "atelier_ai_generated_tokens_total")
        .await
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(tokens < 2000, "stopped well before max_tokens: {tokens}");
    server.stop().await;
}
