//! La Suite Docs' AI stream read over HTTP as the assistant pane reads it:
//! a test server answers `POST /api/v1.0/documents/{id}/ai-proxy/` the
//! way Docs does (its headers; the Vercel AI SDK UI message stream that
//! Docs' pydantic-ai adapter writes, and the older data stream v1), in
//! small TCP writes; `atelier_ai::vercel::DocsStreamDecoder` reads it and
//! the tool call becomes reviewed document operations.

#[path = "support/fake_model_server.rs"]
mod fake;

use atelier_ai::doc_tool::{BlockIndex, Proposal, ToolLimits, interpret, model_blocks};
use atelier_ai::docs_api::{DocumentState, ai_proxy_path, docs_request};
use atelier_ai::vercel::{DataStreamV1Writer, DocsStreamDecoder, DocsStreamFormat, UiStreamWriter};
use atelier_doc::{Document, markdown};
use fake::{Event, FakeModelServer, Step};
use std::time::Duration;

fn docs_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-vercel-ai-data-stream: v1\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n".to_vec()
}

fn pieces(bytes: &[u8], n: usize) -> Vec<Step> {
    bytes
        .chunks(n)
        .flat_map(|c| {
            [
                Step::Write(c.to_vec()),
                Step::Sleep(Duration::from_millis(1)),
            ]
        })
        .collect()
}

async fn read_through(
    wire: String,
    doc: &Document,
) -> (
    Option<DocsStreamFormat>,
    atelier_ai::Completion,
    serde_json::Value,
) {
    let mut script = vec![Step::Write(docs_head())];
    script.extend(pieces(wire.as_bytes(), 5));
    let mut server = FakeModelServer::start(script).await;
    let state = DocumentState {
        selection: false,
        selected_blocks: None,
        blocks: model_blocks(doc),
        is_empty_document: false,
    };
    let body = docs_request("chat-1", "msg-1", "Corrige les fautes.", &state);
    let mut r = reqwest::Client::new()
        .post(format!("http://{}{}", server.addr, ai_proxy_path("4d1c")))
        .header("X-CSRFToken", "t")
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        r.headers()
            .get("x-vercel-ai-data-stream")
            .and_then(|v| v.to_str().ok()),
        Some("v1")
    );
    let mut d = DocsStreamDecoder::default();
    while let Some(chunk) = r.chunk().await.expect("readable") {
        d.push(&chunk).expect("a valid stream");
    }
    let format = d.format();
    let Event::Request(seen) = server
        .next_event("the request", Duration::from_secs(5))
        .await
    else {
        panic!("expected the request");
    };
    (format, d.finish().expect("complete"), seen.json())
}

fn fixture() -> (Document, String) {
    let doc = Document::new();
    markdown::import(&doc, "# Note\n\nIl fait beau aujourdhui.\n").expect("imports");
    let id = doc.blocks()[1].id.to_string();
    (doc, id)
}

#[tokio::test]
async fn the_ui_message_stream_of_docs_becomes_reviewed_operations() {
    let (doc, id) = fixture();
    let w = UiStreamWriter;
    let input = format!(
        "{{\"operations\":[{{\"type\":\"update\",\"id\":\"{id}$\",\"block\":\"<p>Il fait beau aujourd'hui.</p>\"}}]}}"
    );
    let wire = [
        w.start(),
        w.start_step(),
        w.tool_input_start("call_1", "applyDocumentOperations"),
        w.tool_input_delta("call_1", &input[..30]),
        w.tool_input_delta("call_1", &input[30..]),
        w.tool_input_available("call_1", "applyDocumentOperations", &input),
        w.finish_step(),
        w.finish(Some("tool-calls")),
        w.done(),
    ]
    .concat();
    let (format, answer, sent) = read_through(wire, &doc).await;
    assert_eq!(format, Some(DocsStreamFormat::UiMessageStream));
    // The request has Docs' shape.
    assert_eq!(sent["trigger"], "submit-message");
    assert_eq!(
        sent["messages"][0]["metadata"]["documentState"]["blocks"][1]["id"],
        format!("{id}$")
    );
    assert!(sent["toolDefinitions"]["applyDocumentOperations"]["inputSchema"].is_object());
    let Proposal::Edits { review, .. } = interpret(
        &answer,
        &BlockIndex::from_document(&doc),
        &ToolLimits::default(),
    ) else {
        panic!("edits expected: {answer:?}");
    };
    assert!(review.refused.is_empty(), "{:?}", review.refused);
    doc.apply_ops(&review.ops(), "assistant").expect("applies");
    assert_eq!(
        markdown::export(&doc.blocks()),
        "# Note\n\nIl fait beau aujourd'hui.\n"
    );
}

#[tokio::test]
async fn the_older_data_stream_reads_the_same() {
    let (doc, id) = fixture();
    let v = DataStreamV1Writer;
    let args = format!("{{\"operations\":[{{\"type\":\"delete\",\"id\":\"{id}$\"}}]}}");
    let wire = [
        v.text("Je supprime la phrase."),
        v.tool_call_start("call_1", "applyDocumentOperations"),
        v.tool_call_delta("call_1", &args),
        v.finish("tool-calls", 12, 30),
    ]
    .concat();
    let (format, answer, _) = read_through(wire, &doc).await;
    assert_eq!(format, Some(DocsStreamFormat::DataStreamV1));
    let Proposal::Edits { review, prose } = interpret(
        &answer,
        &BlockIndex::from_document(&doc),
        &ToolLimits::default(),
    ) else {
        panic!("edits expected: {answer:?}");
    };
    assert_eq!(prose, "Je supprime la phrase.");
    doc.apply_ops(&review.ops(), "assistant").expect("applies");
    assert_eq!(markdown::export(&doc.blocks()), "# Note\n");
}
