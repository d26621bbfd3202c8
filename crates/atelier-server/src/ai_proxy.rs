//! `POST /ai/v1/chat/completions`: the assistant's OpenAI-compatible
//! endpoint, authorised like the documents, rate limited, answered by a
//! configured model server ([`crate::ai_upstream`]) or by the embedded
//! model (`crate::ai_embedded`).
//!
//! # Contract
//!
//! Request: an OpenAI chat-completions body (`messages`, `stream`,
//! `tools`, `tool_choice`, `max_tokens`…; other fields are forwarded to a
//! model server as they are), at most 1 MiB, with
//!
//! - `X-Atelier-Document: NAME`: the document the request is about. The
//!   caller needs a *write* grant on it (the same JWT, cookie-forwarding
//!   or anonymous rules as the sync endpoint; a *read* or *chat* grant is
//!   refused), since the answer proposes edits to it. A header, not a body
//!   field, so the body stays what any OpenAI client sends.
//! - the caller's credentials: `Authorization: Bearer TOKEN` or the
//!   cookies `--auth-url` checks.
//!
//! Answer: `stream: true` gives `200 text/event-stream` with
//! `chat.completion.chunk` events and `data: [DONE]` (see
//! `atelier_ai::chat_stream`); otherwise `200 application/json`, a
//! `chat.completion`. An error found before the answer starts is an HTTP
//! status with an OpenAI error body,
//! `{"error": {"message", "type", "code"}}`:
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `missing_document`, `invalid_request` | no or a bad `X-Atelier-Document`; a body that is not a valid request |
//! | 401 / 403 | `unauthenticated` / `forbidden` | no valid credentials / no write grant on the document |
//! | 413 | `too_large` | a body over 1 MiB |
//! | 429 | `rate_limited_user`, `rate_limited_document` | a limit of [`crate::ai_limits`] (`Retry-After` set) |
//! | 429 | `upstream_rate_limited` | the model server said 429 (its `Retry-After` passed on) |
//! | 502 | `upstream_unauthorized` | the model server refused the configured key (401/403) |
//! | 502 | `upstream_unreachable`, `upstream_error`, `upstream_malformed` | no connection; its 5xx or 404; an answer that is not the protocol |
//! | 504 | `upstream_timeout` | no answer within `--ai-timeout-secs` |
//! | 503 | `model_missing`, `model_loading`, `model_failed`, `ai_off`, `busy` | the embedded model is absent, loading, broken, off, or has a queue full |
//!
//! An error after a streamed answer started is one last event,
//! `data: {"error": {"message", "type": "upstream_error", "code"}}`, and
//! the stream ends without `[DONE]` (codes `upstream_timeout`: the model
//! server sent nothing for `--ai-timeout-secs`; `upstream_disconnected`;
//! `upstream_malformed`; `upstream_truncated`; `upstream_error`: its own
//! error event, message passed on; `generation_failed`).
//!
//! A client that closes its connection stops the work: the model
//! server's response is dropped (its connection closes) or the embedded
//! generation stops at its next token.

use crate::ai_config::AiConfig;
use crate::ai_limits::{AiLimits, LimitedBy};
use crate::auth::{Credentials, Grant};
use crate::state::AppState;
use atelier_ai::openai::{ChatRequest, ErrorBody, RequestLimits};
use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The header naming the document a request is about.
pub const DOCUMENT_HEADER: &str = "x-atelier-document";

/// Largest request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// An error answer: status, OpenAI error body, maybe `Retry-After`.
#[derive(Debug)]
pub struct AiError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl AiError {
    /// An error with this status, OpenAI `type`, `code` and message.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        AiError {
            status,
            kind,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same, with a `Retry-After` of `secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// A `400 invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        AiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
            message,
        )
    }

    /// A `503` of the embedded model or the AI setup.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        AiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            code,
            message,
        )
    }
}

impl IntoResponse for AiError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.message, self.kind, Some(self.code));
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Counters of the AI endpoint, rendered at `/metrics`.
#[derive(Debug, Default)]
pub struct AiMetrics {
    /// Requests admitted (past auth and limits).
    pub requests: AtomicU64,
    /// Requests refused by a rate limit.
    pub rate_limited: AtomicU64,
    /// Requests that failed at the model server (any upstream error).
    pub upstream_errors: AtomicU64,
    /// Answers whose client went away before the end.
    pub client_disconnects: AtomicU64,
    /// Tokens the embedded model generated.
    pub generated_tokens: AtomicU64,
    /// Sum of the embedded model's times to first token, microseconds.
    pub first_token_us_sum: AtomicU64,
    /// Number of embedded generations timed.
    pub generations: AtomicU64,
    /// Embedded generations running now.
    pub active_generations: AtomicU64,
}

impl AiMetrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Where answers come from.
pub enum Backend {
    /// A model server.
    Upstream(crate::ai_upstream::Upstream),
    /// The embedded model.
    #[cfg(feature = "embedded-model")]
    Embedded(crate::ai_embedded::Embedded),
    /// Nothing: the reason, for `/healthz` and errors.
    Off(String),
}

/// The AI endpoint's shared state.
pub struct AiService {
    /// Options.
    pub cfg: AiConfig,
    /// Rate limits.
    pub limits: AiLimits,
    /// Counters.
    pub metrics: AiMetrics,
    /// The backend.
    pub backend: Backend,
}

/// What `GET /ai` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AiStatus {
    /// `upstream`, `embedded` or `off`.
    pub mode: &'static str,
    /// `ready`, `loading`, `missing`, `failed` or `off`.
    pub state: &'static str,
    /// The model that answers, if known.
    pub model: Option<String>,
    /// What to know or do about it.
    pub detail: String,
}

impl AiService {
    /// Sets the service up from its options; the embedded model starts
    /// loading in the background (requests meanwhile get `model_loading`).
    pub fn start(cfg: AiConfig) -> Result<Arc<AiService>, crate::error::StartError> {
        let backend = if let Some(url) = &cfg.url {
            Backend::Upstream(crate::ai_upstream::Upstream::new(url, &cfg)?)
        } else {
            match &cfg.model_path {
                None => Backend::Off(
                    "the AI endpoint is off: no --ai-url, and the embedded model is off (--ai-model-path none)"
                        .into(),
                ),
                #[cfg(feature = "embedded-model")]
                Some(path) => Backend::Embedded(crate::ai_embedded::Embedded::start(path.clone())),
                #[cfg(not(feature = "embedded-model"))]
                Some(_) => Backend::Off(
                    "this build has no embedded model (feature embedded-model); pass --ai-url".into(),
                ),
            }
        };
        Ok(Arc::new(AiService {
            limits: AiLimits::new(cfg.rate_user.clone(), cfg.rate_document.clone()),
            cfg,
            metrics: AiMetrics::default(),
            backend,
        }))
    }

    /// The endpoint's state.
    pub fn status(&self) -> AiStatus {
        match &self.backend {
            Backend::Upstream(u) => AiStatus {
                mode: "upstream",
                state: "ready",
                model: self.cfg.model.clone(),
                detail: format!("forwarding to {}", u.base_url()),
            },
            #[cfg(feature = "embedded-model")]
            Backend::Embedded(e) => e.status(),
            Backend::Off(reason) => AiStatus {
                mode: "off",
                state: "off",
                model: None,
                detail: reason.clone(),
            },
        }
    }

    /// One line for `/healthz`.
    pub fn health_line(&self) -> String {
        let s = self.status();
        match s.model {
            Some(m) => format!("ai: {} {} ({m}): {}\n", s.mode, s.state, s.detail),
            None => format!("ai: {} {}: {}\n", s.mode, s.state, s.detail),
        }
    }

    /// The AI metrics in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let m = &self.metrics;
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "atelier_ai_requests_total",
            "counter",
            "AI requests admitted.",
            g(&m.requests),
        );
        metric(
            "atelier_ai_rate_limited_total",
            "counter",
            "AI requests refused by a rate limit.",
            g(&m.rate_limited),
        );
        metric(
            "atelier_ai_upstream_errors_total",
            "counter",
            "AI requests that failed at the model server.",
            g(&m.upstream_errors),
        );
        metric(
            "atelier_ai_client_disconnects_total",
            "counter",
            "AI answers stopped because the client went away.",
            g(&m.client_disconnects),
        );
        metric(
            "atelier_ai_generated_tokens_total",
            "counter",
            "Tokens generated by the embedded model.",
            g(&m.generated_tokens),
        );
        metric(
            "atelier_ai_active_generations",
            "gauge",
            "Embedded-model generations running.",
            g(&m.active_generations),
        );
        let _ = writeln!(
            out,
            "# HELP atelier_ai_first_token_seconds Embedded model: time to first token."
        );
        let _ = writeln!(out, "# TYPE atelier_ai_first_token_seconds summary");
        let _ = writeln!(
            out,
            "atelier_ai_first_token_seconds_sum {}",
            g(&m.first_token_us_sum) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "atelier_ai_first_token_seconds_count {}",
            g(&m.generations)
        );
        let status = self.status();
        let _ = writeln!(
            out,
            "# HELP atelier_ai_model_state The AI backend's state (1 for the current one)."
        );
        let _ = writeln!(out, "# TYPE atelier_ai_model_state gauge");
        for state in ["off", "loading", "ready", "missing", "failed"] {
            let _ = writeln!(
                out,
                "atelier_ai_model_state{{mode=\"{}\",state=\"{state}\"}} {}",
                status.mode,
                u8::from(status.state == state)
            );
        }
        out
    }
}

/// `GET /ai`: the endpoint's state as JSON.
pub async fn status(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    Json(st.ai.status())
}

/// `GET /ai/v1/models`: the model that answers, in OpenAI's list form.
pub async fn models(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    let s = st.ai.status();
    let data: Vec<serde_json::Value> = s
        .model
        .into_iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "owned_by": "atelier"}))
        .collect();
    Json(serde_json::json!({"object": "list", "data": data}))
}

/// Who a request counts against: the user, or for anonymous access the
/// client's address (everyone on loopback is "anonymous").
fn limit_key(user: &str, addr: Option<SocketAddr>) -> String {
    match (user, addr) {
        ("anonymous", Some(a)) => format!("anonymous@{}", a.ip()),
        _ => user.to_owned(),
    }
}

/// `POST /ai/v1/chat/completions`.
pub async fn chat_completions(State(st): State<Arc<AppState>>, request: Request) -> Response {
    match handle(st, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(st: Arc<AppState>, request: Request) -> Result<Response, AiError> {
    let (parts, body) = request.into_parts();
    let headers: &HeaderMap = &parts.headers;
    let addr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let doc = headers
        .get(DOCUMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if doc.is_empty() {
        return Err(AiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "missing_document",
            "name the document the request is about in the X-Atelier-Document header",
        ));
    }
    if !crate::http::valid_doc_name(&doc) {
        return Err(AiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "missing_document",
            "invalid document name in X-Atelier-Document",
        ));
    }
    let creds = Credentials::from_headers(headers);
    let principal = match st.auth.authorize_request(&creds, &doc).await {
        Ok((p, _)) => p,
        Err(crate::auth::AuthError::Forbidden(d)) => {
            return Err(AiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "forbidden",
                format!("the assistant needs write access to document {d:?}"),
            ));
        }
        Err(crate::auth::AuthError::Unavailable(m)) => {
            return Err(AiError::unavailable(
                "auth_unavailable",
                format!("authentication service unavailable: {m}"),
            ));
        }
        Err(e) => {
            return Err(AiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "unauthenticated",
                e.to_string(),
            ));
        }
    };
    if principal.grant(&doc) != Some(Grant::Write) {
        return Err(AiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "forbidden",
            format!(
                "the assistant needs write access to document {doc:?}; this session may only read or comment"
            ),
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            AiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "too_large",
                format!("the request body is over {MAX_BODY_BYTES} bytes"),
            )
        })?;
    let req: ChatRequest = serde_json::from_slice(&bytes)
        .map_err(|e| AiError::bad_request(format!("not a chat-completions request: {e}")))?;
    req.validate(&RequestLimits::default())
        .map_err(|e| AiError::bad_request(e.to_string()))?;
    // The backend's own refusals (model missing, off) come before the
    // limits, so a broken setup does not eat anyone's quota.
    st.ai.ready()?;
    let key = limit_key(&principal.user, addr);
    let document = atelier_sync::base_document_name(&doc).to_owned();
    if let Err(refusal) = st.ai.limits.admit(&key, &document, Instant::now()) {
        AiMetrics::add(&st.ai.metrics.rate_limited, 1);
        let code = match refusal.by {
            LimitedBy::User => "rate_limited_user",
            LimitedBy::Document => "rate_limited_document",
        };
        return Err(AiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            code,
            refusal.to_string(),
        )
        .retry_after(refusal.retry_after_secs()));
    }
    AiMetrics::add(&st.ai.metrics.requests, 1);
    tracing::info!(
        user = %principal.user,
        doc = %doc,
        stream = req.is_stream(),
        tools = req.allows_tools(),
        "AI request"
    );
    match &st.ai.backend {
        Backend::Upstream(u) => u.complete(&st.ai, req).await,
        #[cfg(feature = "embedded-model")]
        Backend::Embedded(e) => e.complete(&st.ai, req).await,
        Backend::Off(reason) => Err(AiError::unavailable("ai_off", reason.clone())),
    }
}

impl AiService {
    /// Refuses at once when the backend cannot answer.
    fn ready(&self) -> Result<(), AiError> {
        match &self.backend {
            Backend::Upstream(_) => Ok(()),
            #[cfg(feature = "embedded-model")]
            Backend::Embedded(e) => e.ready().map(|_| ()),
            Backend::Off(reason) => Err(AiError::unavailable("ai_off", reason.clone())),
        }
    }
}

/// The headers of a streamed answer.
pub fn stream_response(body: Body) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise hold the events back.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// A completion id.
pub fn completion_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "chatcmpl-atelier-{:x}-{}",
        crate::http::now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Unix seconds.
pub fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One error event inside a stream.
pub fn stream_error(message: &str, code: &str) -> String {
    let mut body = ErrorBody::new(message, "upstream_error", Some(code));
    body.error.code = Some(serde_json::Value::String(code.to_owned()));
    atelier_ai::sse::data_event(&serde_json::to_string(&body).unwrap_or_else(|_| "{}".into()))
}
