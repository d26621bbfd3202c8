//! The HTTP request of a run, for either server.
//!
//! **Atelier** (`mode="atelier"`): `POST {ai-url}` (by default the sync
//! server's origin + `/ai/v1/chat/completions`, see [`atelier_ai_url`]),
//! body an OpenAI chat-completions request with `stream: true`, headers
//! `X-Atelier-Document: NAME` and `Authorization: Bearer TOKEN` (the
//! contract and error table are in `atelier-server`'s `ai_proxy.rs`). The
//! answer is a `chat.completion.chunk` event stream
//! ([`atelier_ai::chat_stream`]).
//!
//! **La Suite Docs** (`mode="docs"`): `POST {docs-url}/api/v1.0/documents/{id}/ai-proxy/`
//! ([`atelier_ai::docs_api::ai_proxy_path`]) with the browser's Docs
//! session cookie (`credentials: include`) and Django's CSRF token as
//! `X-CSRFToken`, body the AI SDK `submit-message` shape
//! ([`atelier_ai::docs_api`]: the document's blocks as HTML with `$`-suffixed
//! ids in `metadata.documentState`, the `applyDocumentOperations` tool in
//! `toolDefinitions`). The answer is Docs' Vercel AI stream, either the
//! UI message stream (`data: {"type":"text-delta",…}` events, Docs since
//! 2026) or the older data stream (`0:"text"` lines), both read by
//! [`atelier_ai::vercel::DocsStreamDecoder`], whose documentation gives
//! the exact format.

use crate::plan::{Mode, Plan, Shape};
use crate::target::{flatten, span};
use atelier_ai::docs_api::{DocumentState, UiMessage, UiPart, ai_proxy_path, docs_request};
use atelier_ai::openai::{ChatMessage, Role};
use atelier_ai::prompts::{Action, action_request, edit_request};

/// Where and how the pane asks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    /// Which server speaks at `url`.
    pub mode: Mode,
    /// The full URL requests are posted to.
    pub url: String,
    /// The bearer token (Atelier mode).
    pub token: Option<String>,
    /// The document's name on the Atelier server (`X-Atelier-Document`).
    pub document: String,
    /// Docs' CSRF token (`X-CSRFToken`), read from its `csrftoken` cookie.
    pub csrf_token: Option<String>,
    /// The model to ask for (the server may replace it).
    pub model: Option<String>,
    /// Most tokens an answer may have.
    pub max_tokens: Option<u32>,
}

/// A request ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Where.
    pub url: String,
    /// Headers (`Content-Type` included).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: String,
    /// Send the page's cookies (Docs' session) even cross-origin.
    pub include_credentials: bool,
}

/// A question and its answer earlier in the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// What the user asked (a prompt, or an action's label).
    pub request: String,
    /// What the model answered (its text).
    pub answer: String,
}

/// How many earlier exchanges a free prompt carries (a follow-up such as
/// "shorter" needs the last answer; more costs tokens a small model lacks).
pub const HISTORY_SENT: usize = 3;

/// The Atelier AI endpoint beside a sync server: `ws://host/sync` →
/// `http://host/ai/v1/chat/completions` (`wss` → `https`; an `http(s)`
/// address is taken as the server's origin too). `None` for an address
/// that is neither.
pub fn atelier_ai_url(server: &str) -> Option<String> {
    let s = server.trim();
    let (scheme, rest) = s.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "http",
        "wss" | "https" => "https",
        _ => return None,
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}/ai/v1/chat/completions"))
}

/// Docs' AI endpoint for document `id` on the Docs server at `base` (its
/// origin, e.g. `https://docs.example.org`; empty: the page's own).
pub fn docs_ai_url(base: &str, id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{}{}",
        base.trim().trim_end_matches('/'),
        ai_proxy_path(&id)
    )
}

/// The prompt a fixed action sends to Docs, whose model sees the blocks
/// (the selected ones first), not a text after the instruction.
fn docs_prompt(action: &Action, has_selection: bool) -> String {
    match action {
        Action::Prompt(p) => p.clone(),
        a => {
            let target = if has_selection {
                "the selected blocks"
            } else {
                "the document"
            };
            a.instruction()
                .replace("the following text", target)
                .replace("Change nothing else.", "Change nothing else in them.")
        }
    }
}

/// The text of the user's turn in a tool request.
fn tool_request_text(plan: &Plan) -> String {
    let ask = match &plan.action {
        Action::Prompt(p) => p.clone(),
        a => a.instruction(),
    };
    if plan.input.is_empty() {
        ask
    } else {
        format!("{ask}\n\nSelected text:\n{}", plan.input)
    }
}

/// The HTTP request for `plan` at `endpoint`, after `history` (oldest
/// first; only free prompts and Docs requests carry it). `ids` are the
/// conversation's and the message's ids (Docs requests).
pub fn build_request(
    endpoint: &Endpoint,
    plan: &Plan,
    history: &[Exchange],
    ids: (&str, &str),
) -> HttpRequest {
    let recent = &history[history.len().saturating_sub(HISTORY_SENT)..];
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let body = match endpoint.mode {
        Mode::Atelier => {
            let mut req = match &plan.shape {
                Shape::Tool { .. } => {
                    let mut req = edit_request(&tool_request_text(plan), &plan.blocks);
                    let past = recent.iter().flat_map(|e| {
                        [
                            ChatMessage::text(Role::User, e.request.clone()),
                            ChatMessage::text(Role::Assistant, e.answer.clone()),
                        ]
                    });
                    req.messages.splice(1..1, past);
                    req
                }
                _ => action_request(&plan.action, &plan.input),
            };
            req.max_tokens = endpoint.max_tokens;
            req.model = endpoint.model.clone();
            headers.push(("X-Atelier-Document".into(), endpoint.document.clone()));
            if let Some(token) = endpoint.token.as_ref().filter(|t| !t.is_empty()) {
                headers.push(("Authorization".into(), format!("Bearer {token}")));
            }
            serde_json::to_string(&req).unwrap_or_default()
        }
        Mode::Docs => {
            let selection = match &plan.shape {
                Shape::Tool { selection, .. } => selection.clone(),
                Shape::ReplaceSelection(r) => Some(r.clone()),
                _ => None,
            };
            let selected_blocks = selection.as_ref().and_then(|r| {
                let flat = flatten(&plan.at_request.blocks());
                let (_, _, range) = span(&flat, r).ok()?;
                let ids: Vec<String> = flat[range]
                    .iter()
                    .map(|f| format!("{}$", f.block.id))
                    .collect();
                Some(
                    plan.blocks
                        .iter()
                        .filter(|b| ids.contains(&b.id))
                        .cloned()
                        .collect(),
                )
            });
            let state = DocumentState {
                selection: selected_blocks.is_some(),
                is_empty_document: plan
                    .at_request
                    .blocks()
                    .iter()
                    .all(|b| b.plain_text().trim().is_empty() && b.children.is_empty()),
                selected_blocks,
                blocks: plan.blocks.clone(),
            };
            let prompt = docs_prompt(&plan.action, selection.is_some());
            let mut req = docs_request(ids.0, ids.1, &prompt, &state);
            let past = recent.iter().enumerate().flat_map(|(i, e)| {
                [("user", &e.request), ("assistant", &e.answer)].map(|(role, text)| UiMessage {
                    id: format!("{}-{i}-{role}", ids.0),
                    role: role.into(),
                    parts: vec![UiPart {
                        kind: "text".into(),
                        text: text.clone(),
                    }],
                    metadata: None,
                })
            });
            req.messages.splice(0..0, past);
            if let Some(csrf) = endpoint.csrf_token.as_ref().filter(|t| !t.is_empty()) {
                headers.push(("X-CSRFToken".into(), csrf.clone()));
            }
            serde_json::to_string(&req).unwrap_or_default()
        }
    };
    HttpRequest {
        url: endpoint.url.clone(),
        headers,
        body,
        include_credentials: endpoint.mode == Mode::Docs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;
    use crate::target::{TextPos, TextRange};
    use atelier_ai::prompts::SYSTEM_PROMPT;
    use atelier_doc::{Document, markdown};
    use serde_json::Value;

    #[test]
    fn urls_from_the_sync_server_and_docs() {
        assert_eq!(
            atelier_ai_url("ws://127.0.0.1:8080/sync").as_deref(),
            Some("http://127.0.0.1:8080/ai/v1/chat/completions")
        );
        assert_eq!(
            atelier_ai_url("wss://docs.example.org/collaboration/ws/?room=x").as_deref(),
            Some("https://docs.example.org/ai/v1/chat/completions")
        );
        assert_eq!(atelier_ai_url("ftp://x"), None);
        assert_eq!(atelier_ai_url("ws://"), None);
        assert_eq!(
            docs_ai_url("https://docs.example.org/", "3f0c-AB/../x"),
            "https://docs.example.org/api/v1.0/documents/3f0c-ABx/ai-proxy/"
        );
        assert_eq!(docs_ai_url("", "d1"), "/api/v1.0/documents/d1/ai-proxy/");
    }

    fn setup() -> (Document, Vec<atelier_doc::BlockId>) {
        let d = Document::new();
        markdown::import(&d, "Bonjour à tous.\n\nSecond.\n").expect("md");
        let ids = d.block_ids();
        (d, ids)
    }

    #[test]
    fn atelier_actions_send_the_cached_prompt_and_the_text_alone() {
        let (d, ids) = setup();
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 0),
            TextPos::new(ids[0].clone(), 7),
        );
        let p = plan(&d, Action::Rephrase, Some(sel), Mode::Atelier).expect("plan");
        let endpoint = Endpoint {
            url: "http://h/ai/v1/chat/completions".into(),
            token: Some("t0k".into()),
            document: "notes".into(),
            max_tokens: Some(48),
            ..Default::default()
        };
        let history = [Exchange {
            request: "x".into(),
            answer: "y".into(),
        }];
        let r = build_request(&endpoint, &p, &history, ("c", "m"));
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert!(
            v["messages"][0]["content"]
                .as_str()
                .expect("system")
                .starts_with(SYSTEM_PROMPT)
        );
        assert_eq!(v["messages"][1]["content"], "Bonjour");
        assert_eq!(
            v["messages"].as_array().map(Vec::len),
            Some(2),
            "no history in actions"
        );
        assert_eq!(v["stream"], true);
        assert_eq!(v["max_tokens"], 48);
        assert!(v.get("tools").is_none());
        assert!(
            r.headers
                .contains(&("X-Atelier-Document".into(), "notes".into()))
        );
        assert!(
            r.headers
                .contains(&("Authorization".into(), "Bearer t0k".into()))
        );
        assert!(!r.include_credentials);

        // A free prompt offers the tool and carries the recent history.
        let p = plan(&d, Action::Prompt("Shorter".into()), None, Mode::Atelier).expect("plan");
        let r = build_request(&endpoint, &p, &history, ("c", "m"));
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(v["tools"][0]["function"]["name"], "applyDocumentOperations");
        assert_eq!(v["messages"][1]["content"], "x");
        assert_eq!(v["messages"][2]["content"], "y");
        assert!(
            v["messages"][3]["content"]
                .as_str()
                .expect("user")
                .contains(&format!("{}$", ids[0]))
        );
    }

    #[test]
    fn docs_requests_have_the_submit_message_shape_and_csrf() {
        let (d, ids) = setup();
        let sel = TextRange::caret(TextPos::new(ids[1].clone(), 2));
        let p = plan(
            &d,
            Action::Translate(atelier_ai::prompts::Lang::De),
            Some(sel),
            Mode::Docs,
        )
        .expect("plan");
        let endpoint = Endpoint {
            mode: Mode::Docs,
            url: docs_ai_url("", "doc-1"),
            csrf_token: Some("csrf".into()),
            ..Default::default()
        };
        let r = build_request(&endpoint, &p, &[], ("chat-1", "msg-1"));
        assert!(r.include_credentials);
        assert!(r.headers.contains(&("X-CSRFToken".into(), "csrf".into())));
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(v["trigger"], "submit-message");
        assert_eq!(
            v["messages"][0]["parts"][0]["text"],
            "Translate the selected blocks into German."
        );
        let state = &v["messages"][0]["metadata"]["documentState"];
        assert_eq!(state["selection"], true);
        assert_eq!(state["selectedBlocks"][0]["id"], format!("{}$", ids[1]));
        assert_eq!(state["blocks"].as_array().map(Vec::len), Some(2));
        assert!(v["toolDefinitions"]["applyDocumentOperations"].is_object());
    }
}
