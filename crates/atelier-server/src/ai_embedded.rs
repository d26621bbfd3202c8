//! The embedded model as the AI endpoint's backend (feature
//! `embedded-model`, on by default): SmolLM2-135M-Instruct run in this
//! process by `atelier-llm`, answering in the same chunk format as a
//! model server.
//!
//! The model loads in the background when the server starts
//! (`loading` → `ready`, or `missing` when the file is absent, `failed`
//! when it cannot be read); `/healthz`, `GET /ai` and `/metrics` show the
//! state. One generation runs at a time (the CPU has two cores); up to
//! [`MAX_WAITING`] requests wait their turn, more are refused with
//! `busy`. Each generation runs on a blocking thread and sends its text
//! over a channel; when the browser goes away the channel closes and the
//! generation stops at its next token.
//!
//! Tools: when a request offers tools (and `tool_choice` is not `none`),
//! they are described in the system message; an answer that starts like
//! a JSON call is held to its end and sent as a tool call only if it
//! parses as a call of an offered tool (for `applyDocumentOperations`,
//! with an `operations` array); otherwise it is sent as text
//! (`atelier_ai::tool_text`).

use crate::ai_proxy::{
    AiError, AiMetrics, AiService, AiStatus, completion_id, stream_error, stream_response,
    unix_seconds,
};
use atelier_ai::chat_stream::ChunkWriter;
use atelier_ai::doc_tool::TOOL_NAME;
use atelier_ai::openai::{
    ChatCompletion, ChatMessage, ChatRequest, Choice, FunctionCall, Role, ToolCall, Usage,
};
use atelier_ai::tool_text::{Sniffed, ToolTextSniffer};
use atelier_llm::{Engine, Finish, GenerateOptions, GenerationStats, chat_template};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use tokio::sync::{Semaphore, mpsc};

/// Requests that may wait for the model while it answers another.
pub const MAX_WAITING: usize = 4;

/// Tokens generated when a request does not say (`max_tokens`).
pub const DEFAULT_MAX_TOKENS: usize = 512;

/// The name the embedded model answers as.
pub const MODEL_NAME: &str = "SmolLM2-135M-Instruct";

/// Where the model is.
enum ModelState {
    Loading,
    Ready(Arc<Engine>),
    Missing,
    Failed(String),
}

/// The embedded backend.
pub struct Embedded {
    path: PathBuf,
    state: Arc<RwLock<ModelState>>,
    turn: Arc<Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Embedded {
    /// Starts loading the model at `path` in the background.
    pub fn start(path: PathBuf) -> Embedded {
        let state = Arc::new(RwLock::new(if path.exists() {
            ModelState::Loading
        } else {
            tracing::warn!(
                path = %path.display(),
                "embedded AI model missing: run scripts/fetch-model.sh or pass --ai-model-path; the AI endpoint answers 503 until then"
            );
            ModelState::Missing
        }));
        if path.exists() {
            let target = state.clone();
            let file = path.clone();
            // Blocking work: reading and re-quantizing 100 MB.
            std::thread::Builder::new()
                .name("atelier-ai-load".into())
                .spawn(move || {
                    let loaded = Engine::load(&file);
                    let next = match loaded {
                        Ok(engine) => {
                            let info = engine.info();
                            tracing::info!(
                                model = %info.name,
                                load_ms = info.load_ms,
                                requantized = info.requantized_tensors,
                                "embedded AI model ready"
                            );
                            ModelState::Ready(Arc::new(engine))
                        }
                        Err(atelier_llm::LlmError::Missing(_)) => ModelState::Missing,
                        Err(e) => {
                            tracing::error!(error = %e, "embedded AI model failed to load");
                            ModelState::Failed(e.to_string())
                        }
                    };
                    if let Ok(mut s) = target.write() {
                        *s = next;
                    }
                })
                .ok();
        }
        Embedded {
            path,
            state,
            turn: Arc::new(Semaphore::new(1)),
            waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        }
    }

    /// The state, for `GET /ai` and `/healthz`.
    pub fn status(&self) -> AiStatus {
        let shown = self.path.display();
        let (state, detail) = match self.state.read().as_deref() {
            Ok(ModelState::Loading) => ("loading", format!("loading {shown}")),
            Ok(ModelState::Ready(e)) => (
                "ready",
                format!("{} loaded in {} ms, CPU, greedy", shown, e.info().load_ms),
            ),
            Ok(ModelState::Missing) => (
                "missing",
                format!(
                    "model file {shown} is missing: run scripts/fetch-model.sh or pass --ai-model-path"
                ),
            ),
            Ok(ModelState::Failed(e)) => ("failed", e.clone()),
            Err(_) => ("failed", "internal error".into()),
        };
        AiStatus {
            mode: "embedded",
            state,
            model: Some(MODEL_NAME.into()),
            detail,
        }
    }

    /// The engine, or why there is none.
    pub fn ready(&self) -> Result<Arc<Engine>, AiError> {
        match self.state.read().as_deref() {
            Ok(ModelState::Ready(e)) => Ok(e.clone()),
            Ok(ModelState::Loading) => Err(AiError::unavailable(
                "model_loading",
                "the embedded model is still loading; retry in a few seconds",
            )
            .retry_after(2)),
            Ok(ModelState::Missing) => Err(AiError::unavailable(
                "model_missing",
                format!(
                    "the embedded model file {} is missing: run scripts/fetch-model.sh or start the server with --ai-url",
                    self.path.display()
                ),
            )),
            Ok(ModelState::Failed(e)) => Err(AiError::unavailable(
                "model_failed",
                format!("the embedded model failed to load: {e}"),
            )),
            Err(_) => Err(AiError::unavailable("model_failed", "internal error")),
        }
    }

    /// Answers `req`.
    pub async fn complete(
        &self,
        service: &Arc<AiService>,
        req: ChatRequest,
    ) -> Result<Response, AiError> {
        let engine = self.ready()?;
        // Wait for the model's turn, unless too many already wait.
        let permit = match self.turn.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(AiError::unavailable(
                        "busy",
                        format!(
                            "the embedded model is busy with other requests ({MAX_WAITING} waiting); retry shortly"
                        ),
                    )
                    .retry_after(5));
                }
                let p = self.turn.clone().acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                p.map_err(|_| AiError::unavailable("model_failed", "the model is shutting down"))?
            }
        };
        let tools: Vec<String> = if req.allows_tools() {
            req.tools
                .iter()
                .flatten()
                .map(|t| t.function.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        let prompt = chat_template::render(
            &req.messages,
            req.allows_tools().then_some(req.tools.as_deref()).flatten(),
        );
        let options = GenerateOptions::up_to(
            req.max_tokens
                .map(|n| n as usize)
                .unwrap_or(DEFAULT_MAX_TOKENS),
        );
        let include_usage = req
            .extra
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let (tx, rx) = mpsc::channel::<Generated>(64);
        let metrics_service = service.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = permit;
            let m = &metrics_service.metrics;
            AiMetrics::add(&m.active_generations, 1);
            let result = engine.generate(&prompt, &options, |piece| {
                tx.blocking_send(Generated::Text(piece.to_owned())).is_ok()
            });
            let _ = m
                .active_generations
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                    Some(v.saturating_sub(1))
                });
            match &result {
                Ok(stats) => {
                    AiMetrics::add(&m.generated_tokens, stats.completion_tokens as u64);
                    AiMetrics::add(&m.generations, 1);
                    AiMetrics::add(
                        &m.first_token_us_sum,
                        (stats.first_token_ms * 1000.0) as u64,
                    );
                    if stats.finish == Finish::Cancelled {
                        AiMetrics::add(&m.client_disconnects, 1);
                        tracing::info!(
                            tokens = stats.completion_tokens,
                            "AI client went away; embedded generation stopped"
                        );
                    } else {
                        tracing::info!(
                            prompt_tokens = stats.prompt_tokens,
                            cached = stats.cached_prompt_tokens,
                            tokens = stats.completion_tokens,
                            first_token_ms = stats.first_token_ms as u64,
                            tokens_per_s = stats.tokens_per_second() as u64,
                            "embedded generation done"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "embedded generation failed"),
            }
            let _ = tx.blocking_send(Generated::End(result.map_err(|e| e.to_string())));
        });
        let writer = ChunkWriter::new(&completion_id(), MODEL_NAME, unix_seconds());
        let answer = Answer {
            rx,
            writer,
            sniffer: (!tools.is_empty()).then(|| ToolTextSniffer::new(256 << 10)),
            tools,
            started: false,
            finished: false,
            include_usage,
        };
        if req.is_stream() {
            let body = futures_util::stream::unfold(answer, |mut a| async move {
                a.next_event()
                    .await
                    .map(|s| (Ok::<_, std::io::Error>(Bytes::from(s)), a))
            });
            Ok(stream_response(Body::from_stream(body)))
        } else {
            answer.whole().await
        }
    }
}

/// What the generating thread sends.
enum Generated {
    Text(String),
    End(Result<GenerationStats, String>),
}

/// One answer being sent.
struct Answer {
    rx: mpsc::Receiver<Generated>,
    writer: ChunkWriter,
    sniffer: Option<ToolTextSniffer>,
    tools: Vec<String>,
    started: bool,
    finished: bool,
    include_usage: bool,
}

/// A tool call found in the text, checked against its tool's shape.
fn checked_call(sniffer: ToolTextSniffer, tools: &[String]) -> Sniffed {
    let names: Vec<&str> = tools.iter().map(String::as_str).collect();
    match sniffer.finish(&names) {
        Sniffed::ToolCall { name, arguments } => {
            let ok = name != TOOL_NAME
                || serde_json::from_str::<serde_json::Value>(&arguments)
                    .ok()
                    .is_some_and(|v| v.get("operations").is_some_and(|o| o.is_array()));
            if ok {
                Sniffed::ToolCall { name, arguments }
            } else {
                Sniffed::Text(arguments)
            }
        }
        text => text,
    }
}

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop | Finish::Cancelled => "stop",
        Finish::Length => "length",
    }
}

impl Answer {
    /// The next SSE bytes, or `None` at the end.
    async fn next_event(&mut self) -> Option<String> {
        if self.finished {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some(self.writer.role());
        }
        loop {
            match self.rx.recv().await {
                Some(Generated::Text(piece)) => {
                    let pass = match &mut self.sniffer {
                        Some(s) => s.push(&piece),
                        None => Some(piece),
                    };
                    if let Some(text) = pass {
                        return Some(self.writer.text(&text));
                    }
                }
                Some(Generated::End(Ok(stats))) => {
                    self.finished = true;
                    let mut out = String::new();
                    let mut reason = finish_reason(stats.finish);
                    match self.sniffer.take().map(|s| checked_call(s, &self.tools)) {
                        Some(Sniffed::ToolCall { name, arguments }) => {
                            let id = format!(
                                "call_{}",
                                completion_id().rsplit('-').next().unwrap_or("0")
                            );
                            out.push_str(&self.writer.tool_call_start(0, &id, &name));
                            // Arguments in pieces, as model servers send them.
                            for piece in split_at_chars(&arguments, 48) {
                                out.push_str(&self.writer.tool_call_arguments(0, piece));
                            }
                            reason = "tool_calls";
                        }
                        Some(Sniffed::Text(rest)) if !rest.is_empty() => {
                            out.push_str(&self.writer.text(&rest));
                        }
                        _ => {}
                    }
                    out.push_str(&self.writer.finish(reason));
                    if self.include_usage {
                        out.push_str(&self.writer.usage(usage(&stats)));
                    }
                    out.push_str(&ChunkWriter::done());
                    return Some(out);
                }
                Some(Generated::End(Err(e))) => {
                    self.finished = true;
                    return Some(stream_error(
                        &format!("the embedded model failed: {e}"),
                        "generation_failed",
                    ));
                }
                None => {
                    self.finished = true;
                    return Some(stream_error(
                        "the embedded model stopped unexpectedly",
                        "generation_failed",
                    ));
                }
            }
        }
    }

    /// The whole answer as one `chat.completion`.
    async fn whole(mut self) -> Result<Response, AiError> {
        let mut text = String::new();
        let stats = loop {
            match self.rx.recv().await {
                Some(Generated::Text(t)) => text.push_str(&t),
                Some(Generated::End(Ok(stats))) => break stats,
                Some(Generated::End(Err(e))) => {
                    return Err(AiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "generation_failed",
                        format!("the embedded model failed: {e}"),
                    ));
                }
                None => {
                    return Err(AiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "generation_failed",
                        "the embedded model stopped unexpectedly",
                    ));
                }
            }
        };
        let mut reason = finish_reason(stats.finish).to_owned();
        let mut message = ChatMessage::text(Role::Assistant, text.clone());
        if let Some(mut s) = self.sniffer.take() {
            s.push(&text);
            if let Sniffed::ToolCall { name, arguments } = checked_call(s, &self.tools) {
                message.content = None;
                message.tool_calls = Some(vec![ToolCall {
                    id: "call_0".into(),
                    kind: "function".into(),
                    function: FunctionCall { name, arguments },
                }]);
                reason = "tool_calls".into();
            }
        }
        let c = self.writer.chunk(Default::default(), None);
        let completion = ChatCompletion {
            id: c.id,
            object: "chat.completion".into(),
            created: c.created,
            model: c.model,
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason: Some(reason),
            }],
            usage: Some(usage(&stats)),
        };
        Ok(Json(completion).into_response())
    }
}

fn usage(stats: &GenerationStats) -> Usage {
    Usage {
        prompt_tokens: stats.prompt_tokens as u32,
        completion_tokens: stats.completion_tokens as u32,
        total_tokens: (stats.prompt_tokens + stats.completion_tokens) as u32,
    }
}

/// `s` cut into pieces of about `n` bytes, at character boundaries.
fn split_at_chars(s: &str, n: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < s.len() {
        let mut end = (start + n).min(s.len());
        while !s.is_char_boundary(end) {
            end += 1;
        }
        out.push(&s[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_back_and_keep_characters_whole() {
        let s = "{\"block\":\"<p>été 😀</p>\"}";
        for n in 1..8 {
            let parts = split_at_chars(s, n);
            assert_eq!(parts.concat(), s);
        }
    }
}
