//! Issue 14: the MCP server at `/mcp`, driven by the real client of the
//! official TypeScript SDK (`@modelcontextprotocol/sdk`, `peers/mcp-client.mjs`):
//! it lists the tools, reads a document with block ids, searches it,
//! applies operations and posts to its chat; a read-only token is refused
//! the write and nothing changes.

#[path = "support/server.rs"]
mod support;

use atelier_doc::{BlockId, Document, NewBlock, Placement};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use support::{TestServer, temp_dir, test_db, token, token_with, unique};

fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{}", server.addr, path)
}

/// Runs the SDK client with `calls`; `None` (after printing why) when Node
/// or the npm packages are missing.
fn mcp_client(test: &str, server: &TestServer, token: &str, calls: Value) -> Option<Value> {
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers");
    if !peers
        .join("node_modules/@modelcontextprotocol/sdk")
        .exists()
    {
        println!("SKIPPED: {test} (peers/node_modules missing: run `npm ci` in peers/)");
        return None;
    }
    let mut child = match Command::new("node")
        .arg("mcp-client.mjs")
        .arg(url(server, "/mcp"))
        .arg(token)
        .current_dir(&peers)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("SKIPPED: {test} (cannot run node: {e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(calls.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "mcp-client.mjs: bad output ({e}): {}; stderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(v.get("error").is_none(), "the MCP client failed: {v}");
    Some(v)
}

/// The JSON a tool returned in its text content.
fn payload(result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().unwrap_or("null");
    serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_reads_and_edits_a_live_document() {
    let dir = temp_dir("mcp");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let doc = unique(&dir, "plan");
    let writer = token("agent-user", &[&doc], &[&doc], false);
    let http = reqwest::Client::new();
    let model = Document::new();
    model
        .insert_blocks(
            &Placement::End,
            &[NewBlock {
                id: Some(BlockId::from("intro")),
                ..NewBlock::paragraph("Réunion du lundi")
            }],
        )
        .expect("blocks");
    let r = http
        .post(url(&server, &format!("/api/docs/{doc}/update")))
        .bearer_auth(&writer)
        .body(model.encode_state_v1())
        .send()
        .await
        .expect("seed");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // More stored documents than two pages of the listing's scan sort
    // before it, none of them readable with this token: the listing still
    // finds the one it may read.
    for i in 0..2_001 {
        server
            .state
            .rooms
            .store
            .append(&format!("a-{doc}-{i:04}"), &[0, 0])
            .await
            .expect("append");
    }

    let calls = json!([
        {"name": "list_documents", "arguments": {}},
        {"name": "read_document", "arguments": {"document": doc}},
        {"name": "search_document", "arguments": {"document": doc, "text": "LUNDI"}},
        {"name": "apply_operations", "arguments": {
            "document": doc,
            "agent": {"name": "Secrétaire", "color": "#2255aa"},
            "operations": [
                {"op": "insertBlocks", "at": {"at": "after", "block": "intro"},
                 "blocks": [{"type": "checkListItem", "content": [{"text": "Envoyer le compte rendu"}]}]}
            ]
        }},
        {"name": "post_chat_message", "arguments": {"document": doc, "text": "J'ai ajouté une tâche."}},
        {"name": "apply_operations", "arguments": {
            "document": doc,
            "operations": [{"op": "deleteBlock", "block": "ghost"}]
        }}
    ]);
    let Some(out) = mcp_client(
        "an_mcp_client_reads_and_edits_a_live_document",
        &server,
        &writer,
        calls,
    ) else {
        server.stop().await;
        return;
    };
    let names: Vec<&str> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "list_documents",
            "read_document",
            "search_document",
            "apply_operations",
            "post_chat_message"
        ]
    );
    assert_eq!(out["tools"][1]["annotations"]["readOnlyHint"], true);
    // The operations' schema is the one generated from atelier_doc::Op.
    let ops_schema = out["tools"][3]["inputSchema"].to_string();
    assert!(
        ops_schema.contains("insertText") && ops_schema.contains("$defs"),
        "{ops_schema}"
    );
    let results = out["results"].as_array().expect("results");
    assert_eq!(payload(&results[0])["documents"], json!([doc]));
    assert_eq!(payload(&results[0])["complete"], true);
    let md = payload(&results[1])["markdown"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(md.contains("Réunion du lundi <!-- id:intro -->"), "{md}");
    assert_eq!(payload(&results[2])["matches"][0]["block"], "intro");
    assert_eq!(payload(&results[2])["matches"][0]["offsets"], json!([11]));
    assert_ne!(results[3]["isError"], true, "{}", results[3]);
    assert_ne!(results[4]["isError"], true, "{}", results[4]);
    assert_eq!(results[5]["isError"], true);
    assert!(
        payload(&results[5])
            .as_str()
            .unwrap_or_default()
            .contains("nothing was applied"),
        "{}",
        results[5]
    );

    let md = http
        .get(url(&server, &format!("/api/docs/{doc}?format=markdown")))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("md")
        .text()
        .await
        .expect("body");
    assert_eq!(md, "Réunion du lundi\n\n- [ ] Envoyer le compte rendu\n");
    let chat = server
        .state
        .rooms
        .store
        .load(&format!("{doc}:chat"))
        .await
        .expect("chat stored");
    assert!(!chat.updates.is_empty() || chat.snapshot.is_some());

    // A reader reads but may not edit: the tool says so, nothing changes.
    let reader = token_with("reader", "read", "*");
    let out = mcp_client(
        "an_mcp_client_reads_and_edits_a_live_document (reader)",
        &server,
        &reader,
        json!([
            {"name": "read_document", "arguments": {"document": doc, "format": "blocks"}},
            {"name": "apply_operations", "arguments": {"document": doc,
                "operations": [{"op": "deleteBlock", "block": "intro"}]}}
        ]),
    )
    .expect("node was there a moment ago");
    let results = out["results"].as_array().expect("results");
    assert_eq!(payload(&results[0])["blocks"][0]["id"], "intro");
    assert_eq!(results[1]["isError"], true);
    assert!(
        payload(&results[1])
            .as_str()
            .unwrap_or_default()
            .contains("may not edit"),
        "{}",
        results[1]
    );
    let after = http
        .get(url(&server, &format!("/api/docs/{doc}?format=markdown")))
        .bearer_auth(&writer)
        .send()
        .await
        .expect("md")
        .text()
        .await
        .expect("body");
    assert_eq!(after, md);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_lists_documents_page_by_page() {
    let dir = temp_dir("list-pages");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let store = &server.state.rooms.store;
    let prefix = unique(&dir, "page");
    for i in 0..5 {
        store
            .append(&format!("{prefix}-{i}"), &[0, 0])
            .await
            .expect("append");
    }
    let first = store.list_documents(&prefix, 2).await.expect("page 1");
    assert_eq!(first, [format!("{prefix}-0"), format!("{prefix}-1")]);
    let next = store.list_documents(&first[1], 3).await.expect("page 2");
    assert_eq!(
        next,
        [
            format!("{prefix}-2"),
            format!("{prefix}-3"),
            format!("{prefix}-4")
        ]
    );
    server.stop().await;
}
