//! An MCP server (Model Context Protocol, streamable HTTP at `/mcp`, with
//! the official Rust SDK `rmcp`), so that any MCP client (an LLM desktop
//! app, an agent framework) reads and edits live documents that people
//! watch change.
//!
//! Tools, each authorised with the request's bearer token exactly like the
//! REST API (the `Authorization` header of the MCP request):
//!
//! | tool | needs | does |
//! |---|---|---|
//! | `list_documents` | read | the stored documents the token may read |
//! | `read_document` | read | Markdown with block ids (or blocks as JSON) |
//! | `search_document` | read | blocks whose text contains a string |
//! | `apply_operations` | write | a batch of `atelier_doc::Op`s, all or nothing, as a named agent |
//! | `post_chat_message` | chat | a message in the document's chat (`D:chat`) |
//!
//! Errors a caller can act on (no access, an unknown block, a refused
//! operation) come back as tool results with `isError: true` and a message;
//! protocol errors only for unknown tools or malformed calls.

use crate::agents::{Agent, OpsError, apply_as_agent};
use crate::auth::{Credentials, Grant, Principal};
use crate::http::now_ms;
use crate::state::AppState;
use atelier_doc::Op;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::sync::Arc;

/// Most documents `list_documents` returns.
const LIST_LIMIT: usize = 500;
/// Stored names `list_documents` reads per page of its scan.
const LIST_PAGE: usize = 1_000;
/// Most stored names one `list_documents` call looks at.
const LIST_SCAN_LIMIT: usize = 100_000;
/// Most blocks `search_document` returns.
const SEARCH_LIMIT: usize = 50;

/// The `/mcp` service for the router.
pub fn service(state: Arc<AppState>) -> StreamableHttpService<McpServer, LocalSessionManager> {
    // Host validation (rmcp's DNS-rebinding guard) is left to the
    // deployment's reverse proxy: the server answers on whatever name it is
    // published under, and every tool checks the bearer token anyway.
    let config = StreamableHttpServerConfig::default().disable_allowed_hosts();
    StreamableHttpService::new(
        move || {
            Ok(McpServer {
                state: state.clone(),
            })
        },
        LocalSessionManager::default().into(),
        config,
    )
}

/// One MCP session's handler.
#[derive(Clone)]
pub struct McpServer {
    state: Arc<AppState>,
}

/// A failed tool call, shown to the caller (`isError: true`).
struct ToolError(String);

impl<E: std::fmt::Display> From<E> for ToolError {
    fn from(e: E) -> Self {
        ToolError(e.to_string())
    }
}

type ToolResult = Result<Value, ToolError>;

fn schema(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

fn document_param() -> Value {
    json!({"type": "string", "description": "The document's name (as in the editor's `doc` attribute)."})
}

/// The tools, with their JSON Schemas.
fn tools() -> Vec<Tool> {
    let read_only = ToolAnnotations::new().read_only(true);
    vec![
        Tool::new(
            "list_documents",
            "List the stored documents this token may read, in name order (at most 500; \
             `complete` is false when more may exist).",
            schema(json!({"type": "object", "properties": {}})),
        )
        .annotate(read_only.clone()),
        Tool::new(
            "read_document",
            "Read a document. `markdown` (default) gives Markdown with each block's id in an \
             HTML comment `<!-- id:ID -->` to quote in operations; `blocks` gives the block tree \
             as JSON (id, type, props, content runs, children).",
            schema(json!({
                "type": "object",
                "properties": {
                    "document": document_param(),
                    "format": {"type": "string", "enum": ["markdown", "blocks"]}
                },
                "required": ["document"]
            })),
        )
        .annotate(read_only.clone()),
        Tool::new(
            "search_document",
            "Find the blocks of a document whose text contains `text` (case-insensitive): their \
             ids, the UTF-16 offset of each match and the block's text.",
            schema(json!({
                "type": "object",
                "properties": {
                    "document": document_param(),
                    "text": {"type": "string", "minLength": 1}
                },
                "required": ["document", "text"]
            })),
        )
        .annotate(read_only),
        Tool::new(
            "apply_operations",
            "Apply operations to a document as one change, all or nothing, as a named agent \
             whose caret and name show to everyone editing it. Offsets count UTF-16 units. \
             Operations: insertText {block, offset, text}, deleteText {block, offset, len}, \
             format {block, offset, len, mark: bold|italic|underline|strike|code|link, value?, on}, \
             setContent {block, content: [{text, bold?, italic?, …}]}, updateBlock {block, type?, \
             props?}, insertBlocks {at: {at: start|end|before|after|firstChildOf|lastChildOf, \
             block?}, blocks: [{type, props?, content?, children?}]}, deleteBlock {block}, \
             moveBlock {block, to}, splitBlock {block, offset}, mergeWithPrevious {block}, \
             indentBlock {block}, outdentBlock {block}. Block types: BlockNote's (paragraph, \
             heading, bulletListItem, numberedListItem, checkListItem, toggleListItem, codeBlock, \
             quote, divider, table, image, video, audio, file).",
            schema(apply_operations_schema()),
        )
        .annotate(ToolAnnotations::new().destructive(true)),
        Tool::new(
            "post_chat_message",
            "Post a message in the document's chat, as the token's user.",
            schema(json!({
                "type": "object",
                "properties": {
                    "document": document_param(),
                    "text": {"type": "string", "minLength": 1},
                    "replyTo": {"type": "string", "description": "Id of the message this answers."}
                },
                "required": ["document", "text"]
            })),
        ),
    ]
}

/// `apply_operations`' input: the operations' schema (generated from
/// `atelier_doc::Op`) with its definitions lifted to the root, where their
/// `$ref`s point.
fn apply_operations_schema() -> Value {
    let mut ops = atelier_doc::agent_ops::operations_schema();
    let defs = ops
        .as_object_mut()
        .and_then(|o| o.remove("$defs"))
        .unwrap_or_else(|| json!({}));
    json!({
        "type": "object",
        "properties": {
            "document": document_param(),
            "agent": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
                }
            },
            "operations": {"type": "array", "items": ops.get("items").cloned().unwrap_or(json!({}))}
        },
        "required": ["document", "operations"],
        "$defs": defs
    })
}

impl McpServer {
    /// The caller's bearer credentials, from the HTTP request of this call.
    fn credentials(ctx: &RequestContext<RoleServer>) -> Credentials {
        ctx.extensions
            .get::<axum::http::request::Parts>()
            .map(|parts| Credentials::from_headers(&parts.headers))
            .unwrap_or_default()
    }

    async fn principal_for(
        &self,
        creds: &Credentials,
        doc: &str,
        need: Grant,
    ) -> Result<Principal, ToolError> {
        if !crate::http::valid_doc_name(doc) || atelier_sync::is_chat_document(doc) {
            return Err(ToolError(format!("{doc:?} is not a document name")));
        }
        let (principal, _) = self.state.auth.authorize_request(creds, doc).await?;
        match principal.grant(doc) {
            Some(g) if g >= need => Ok(principal),
            _ => Err(ToolError(format!(
                "this token may not {} document {doc:?}",
                match need {
                    Grant::Read => "read",
                    Grant::Chat => "chat in",
                    Grant::Write => "edit",
                }
            ))),
        }
    }

    async fn call(&self, name: &str, args: &JsonObject, creds: &Credentials) -> ToolResult {
        let text = |key: &str| -> Result<String, ToolError> {
            args.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ToolError(format!("argument {key:?} (a string) is missing")))
        };
        match name {
            "list_documents" => {
                let principal = self.state.auth.authenticate(creds.bearer())?;
                // Pages through the store in name order, keeping what the
                // token may read, so a user whose documents sort late on a
                // busy server still finds them; the scan is bounded.
                let store = &self.state.rooms.store;
                let (mut docs, mut after, mut scanned) = (Vec::new(), String::new(), 0);
                let complete = loop {
                    let page = store.list_documents(&after, LIST_PAGE).await?;
                    scanned += page.len();
                    let last_page = page.len() < LIST_PAGE;
                    after = page.last().cloned().unwrap_or_default();
                    docs.extend(page.into_iter().filter(|d| {
                        !atelier_sync::is_chat_document(d) && principal.grant(d).is_some()
                    }));
                    if docs.len() > LIST_LIMIT || scanned >= LIST_SCAN_LIMIT {
                        break false;
                    }
                    if last_page {
                        break true;
                    }
                };
                docs.truncate(LIST_LIMIT);
                Ok(json!({ "documents": docs, "complete": complete }))
            }
            "read_document" => {
                let doc = text("document")?;
                self.principal_for(creds, &doc, Grant::Read).await?;
                let state = self.current_state(&doc).await?;
                let d = atelier_doc::Document::from_update_v1(&state)?;
                let blocks = d.blocks();
                Ok(match args.get("format").and_then(Value::as_str) {
                    Some("blocks") => json!({ "document": doc, "blocks": blocks }),
                    None | Some("markdown") => json!({
                        "document": doc,
                        "markdown": atelier_doc::markdown::export_with_ids(&blocks),
                    }),
                    Some(other) => {
                        return Err(ToolError(format!(
                            "unknown format {other:?}: use markdown or blocks"
                        )));
                    }
                })
            }
            "search_document" => {
                let doc = text("document")?;
                let needle = text("text")?;
                if needle.is_empty() {
                    return Err(ToolError("the text to find is empty".into()));
                }
                self.principal_for(creds, &doc, Grant::Read).await?;
                let state = self.current_state(&doc).await?;
                let d = atelier_doc::Document::from_update_v1(&state)?;
                Ok(json!({ "document": doc, "matches": search(&d, &needle) }))
            }
            "apply_operations" => {
                let doc = text("document")?;
                self.principal_for(creds, &doc, Grant::Write).await?;
                let ops: Vec<Op> =
                    serde_json::from_value(args.get("operations").cloned().unwrap_or(Value::Null))
                        .map_err(|e| ToolError(format!("operations: {e}")))?;
                let agent: Agent = args
                    .get("agent")
                    .cloned()
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(|e| ToolError(format!("agent: {e}")))?
                    .unwrap_or_default();
                match apply_as_agent(&self.state.rooms, &doc, &agent, &ops).await {
                    Ok(outcomes) => Ok(json!({ "document": doc, "outcomes": outcomes })),
                    Err(OpsError::Refused(e)) => Err(ToolError(format!(
                        "{e}; nothing was applied (fix operation {} and send the batch again)",
                        e.index
                    ))),
                    Err(OpsError::Api(e)) => Err(ToolError(format!("{e:?}"))),
                }
            }
            "post_chat_message" => {
                let doc = text("document")?;
                let body = text("text")?;
                let principal = self.principal_for(creds, &doc, Grant::Chat).await?;
                let reply_to = args.get("replyTo").and_then(Value::as_str);
                let id = self.post_chat(&doc, &principal, &body, reply_to).await?;
                Ok(json!({ "document": doc, "message": id }))
            }
            other => Err(ToolError(format!("no tool {other:?}"))),
        }
    }

    async fn current_state(&self, doc: &str) -> Result<Vec<u8>, ToolError> {
        if let Some(room) = self.state.rooms.get(doc).await {
            return Ok(room.full_state().await?);
        }
        let (d, _, _) = crate::room::load_stored(&self.state.rooms.store, doc).await?;
        Ok(yrs::ReadTxn::encode_state_as_update_v1(
            &yrs::Transact::transact(&d),
            &yrs::StateVector::default(),
        ))
    }

    /// Posts through the chat document's room, like a client's update.
    async fn post_chat(
        &self,
        doc: &str,
        who: &Principal,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<String, ToolError> {
        let chat_doc = atelier_sync::chat_document_name(doc);
        let rooms = &self.state.rooms;
        let room = rooms.join(&chat_doc).await?;
        let conn = rooms.next_conn_id();
        let result = async {
            let state = room.full_state().await?;
            let (id, update) = chat_update(&state, who, body, reply_to)?;
            room.apply_update(rooms, conn, &update).await?;
            Ok::<_, ToolError>(id)
        }
        .await;
        rooms.leave(&room, conn).await;
        result
    }
}

/// A chat message appended to a copy of `state`: its id and the update.
fn chat_update(
    state: &[u8],
    who: &Principal,
    body: &str,
    reply_to: Option<&str>,
) -> Result<(String, Vec<u8>), ToolError> {
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, Transact};
    let doc = yrs::Doc::with_options(atelier_doc::doc_options());
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(state)?)?;
    let before = doc.transact().state_vector();
    let chat = atelier_doc::chat::Chat::new(&doc);
    let id = chat.post(&atelier_doc::chat::NewMessage {
        author_name: who.name.as_deref(),
        reply_to,
        ..atelier_doc::chat::NewMessage::new(&who.user, now_ms() as f64, body)
    })?;
    let update = doc.transact().encode_state_as_update_v1(&before);
    Ok((id, update))
}

/// Blocks whose text contains `needle`, case-insensitively: id, the
/// UTF-16 offsets of each match, and the text.
fn search(doc: &atelier_doc::Document, needle: &str) -> Vec<Value> {
    let needle = needle.to_lowercase();
    let mut out = Vec::new();
    let mut stack: Vec<atelier_doc::Block> = doc.blocks().into_iter().rev().collect();
    while let Some(b) = stack.pop() {
        let text = b.plain_text();
        let lower = text.to_lowercase();
        // Offsets in UTF-16 units of the original text (lowercasing may
        // change byte lengths, so offsets are found on char boundaries).
        let offsets: Vec<u32> = if lower.len() == text.len() {
            lower
                .match_indices(&needle)
                .map(|(i, _)| text[..i].encode_utf16().count() as u32)
                .collect()
        } else {
            Vec::new()
        };
        if !offsets.is_empty() || (lower.len() != text.len() && lower.contains(&needle)) {
            out.push(json!({"block": b.id, "offsets": offsets, "text": text}));
            if out.len() >= SEARCH_LIMIT {
                break;
            }
        }
        stack.extend(b.children.into_iter().rev());
    }
    out
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> InitializeResult {
        let mut info = InitializeResult::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("atelier", env!("CARGO_PKG_VERSION"));
        info.with_instructions(
            "Atelier documents: read them with block ids, search them, apply the editor's \
                 own operations as a named agent (all or nothing; people see your caret), and \
                 post to a document's chat. Offsets count UTF-16 units.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !tools().iter().any(|t| t.name == request.name) {
            return Err(ErrorData::invalid_params(
                format!("no tool {:?}", request.name),
                None,
            ));
        }
        let creds = Self::credentials(&context);
        let args = request.arguments.unwrap_or_default();
        let result = match self.call(&request.name, &args, &creds).await {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            Err(ToolError(message)) => CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        Ok(result.into())
    }
}
