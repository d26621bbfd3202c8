//! The request La Suite Docs' AI endpoint takes, so the assistant pane
//! can work inside a Docs deployment with no Atelier server for AI.
//!
//! `POST /api/v1.0/documents/{id}/ai-proxy/` ([`ai_proxy_path`]), with the
//! browser's Docs session cookie and its CSRF token (`X-CSRFToken`), body
//! JSON in the Vercel AI SDK's `submit-message` shape (pydantic-ai's
//! `SubmitMessage`, extra fields allowed):
//!
//! ```json
//! {"trigger": "submit-message", "id": "<chat id>",
//!  "messages": [{"id": "<message id>", "role": "user",
//!                "parts": [{"type": "text", "text": "<request>"}],
//!                "metadata": {"documentState": {
//!                    "selection": false,
//!                    "blocks": [{"id": "<block id>$", "block": "<p>…</p>"}],
//!                    "isEmptyDocument": false}}}],
//!  "toolDefinitions": {"applyDocumentOperations": {"description": "…",
//!      "inputSchema": {…}, "outputSchema": {"type": "object"}}}}
//! ```
//!
//! Docs prepends the document state to the conversation as context (the
//! selected blocks first when `selection` is true), adds its own system
//! prompt when `applyDocumentOperations` is among the tools, forces that
//! tool on the first step, and answers the stream described in
//! [`crate::vercel`]. Errors: 400 `{"detail": "Invalid submitted payload"}`
//! for a body it cannot read, 403 without editor access, 429 with
//! `Retry-After` when throttled (5/min, 100/h, 500/day per document; 3/min,
//! 50/h, 200/day per user, by default).

use crate::doc_tool::{ModelBlock, docs_tool_definitions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The path of a document's AI endpoint on a Docs server.
pub fn ai_proxy_path(document_id: &str) -> String {
    format!("/api/v1.0/documents/{document_id}/ai-proxy/")
}

/// The body of a Docs AI request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocsRequest {
    /// Always `submit-message`.
    pub trigger: String,
    /// The conversation's id.
    pub id: String,
    /// The conversation, last message last.
    pub messages: Vec<UiMessage>,
    /// The tools the model may call (`applyDocumentOperations`).
    #[serde(rename = "toolDefinitions")]
    pub tool_definitions: Value,
}

/// One message of a Docs conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiMessage {
    /// Its id.
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// Its parts (`{"type":"text","text":…}`).
    pub parts: Vec<UiPart>,
    /// `{"documentState": …}` on the user's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// A text part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiPart {
    /// `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: String,
}

/// What the model is shown of the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentState {
    /// Whether the user selected blocks.
    pub selection: bool,
    /// The selected blocks, when there is a selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_blocks: Option<Vec<ModelBlock>>,
    /// Every block.
    pub blocks: Vec<ModelBlock>,
    /// Whether the document is empty.
    pub is_empty_document: bool,
}

/// A one-message request: `prompt` about a document in `state`, with the
/// document-operation tool offered.
pub fn docs_request(
    chat_id: &str,
    message_id: &str,
    prompt: &str,
    state: &DocumentState,
) -> DocsRequest {
    DocsRequest {
        trigger: "submit-message".into(),
        id: chat_id.into(),
        messages: vec![UiMessage {
            id: message_id.into(),
            role: "user".into(),
            parts: vec![UiPart {
                kind: "text".into(),
                text: prompt.into(),
            }],
            metadata: Some(serde_json::json!({ "documentState": state })),
        }],
        tool_definitions: docs_tool_definitions(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_has_the_submit_message_shape() {
        let state = DocumentState {
            selection: false,
            selected_blocks: None,
            blocks: vec![ModelBlock {
                id: "b1$".into(),
                block: "<p>Hi</p>".into(),
            }],
            is_empty_document: false,
        };
        let req = docs_request("chat-1", "msg-1", "Corrige", &state);
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(v["trigger"], "submit-message");
        assert_eq!(v["messages"][0]["parts"][0]["text"], "Corrige");
        let ds = &v["messages"][0]["metadata"]["documentState"];
        assert_eq!(ds["blocks"][0]["id"], "b1$");
        assert_eq!(ds["isEmptyDocument"], false);
        assert!(ds.get("selectedBlocks").is_none());
        assert!(v["toolDefinitions"]["applyDocumentOperations"]["inputSchema"].is_object());
        assert_eq!(ai_proxy_path("42"), "/api/v1.0/documents/42/ai-proxy/");
    }
}
