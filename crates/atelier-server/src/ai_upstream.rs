//! Forwarding to an OpenAI-compatible model server (vLLM, Ollama,
//! llama.cpp, Albert, Mistral…): `POST {--ai-url}/chat/completions` with
//! the configured model and key, answered back to the browser.
//!
//! A streamed answer is relayed event by event: each event is checked
//! (`atelier_ai::chat_stream`: a `chat.completion.chunk`, an error, or
//! `[DONE]`, within caps) and passed on with its data untouched, so fields
//! Atelier does not read survive. The relay owns the model server's
//! response: when the browser goes away, axum drops the relay and the
//! connection to the model server closes with it.

use crate::ai_config::{AiConfig, ApiKey};
use crate::ai_proxy::{AiError, AiMetrics, AiService, stream_error, stream_response};
use atelier_ai::chat_stream::{ChatStreamDecoder, ChunkWriter, parse_chunk};
use atelier_ai::openai::{ChatCompletion, ChatRequest, ErrorBody};
use atelier_ai::sse::{SseLimits, SseParser, data_event};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;

/// Largest non-streamed answer read from a model server.
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// A model server.
pub struct Upstream {
    base: String,
    endpoint: reqwest::Url,
    client: reqwest::Client,
    model: Option<String>,
    key: Option<ApiKey>,
    timeout: Duration,
}

fn upstream_err(status: StatusCode, code: &'static str, message: impl Into<String>) -> AiError {
    AiError::new(status, "upstream_error", code, message)
}

impl Upstream {
    /// A client for the model server at `base` (`…/v1`).
    pub fn new(base: &str, cfg: &AiConfig) -> Result<Upstream, crate::error::StartError> {
        let endpoint = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| crate::error::setting(format!("--ai-url {base:?}: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Redirects could carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                crate::error::setting(format!("cannot build the model server client: {e}"))
            })?;
        Ok(Upstream {
            base: base.to_owned(),
            endpoint,
            client,
            model: cfg.model.clone(),
            key: cfg.key.clone(),
            timeout: cfg.timeout,
        })
    }

    /// The base URL, for status reports (no key in it).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn host(&self) -> String {
        self.endpoint
            .host_str()
            .map(|h| match self.endpoint.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
            .unwrap_or_default()
    }

    /// Sends `req` and answers the browser.
    pub async fn complete(
        &self,
        service: &Arc<AiService>,
        mut req: ChatRequest,
    ) -> Result<Response, AiError> {
        if let Some(m) = &self.model {
            req.model = Some(m.clone());
        }
        if req.model.is_none() {
            return Err(AiError::bad_request(
                "no model named: send `model`, or start the server with --ai-model",
            ));
        }
        let stream = req.is_stream();
        let mut call = self
            .client
            .post(self.endpoint.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::ACCEPT,
                if stream {
                    "text/event-stream"
                } else {
                    "application/json"
                },
            )
            .body(serde_json::to_vec(&req).map_err(|e| AiError::bad_request(e.to_string()))?);
        if let Some(key) = &self.key {
            call = call.bearer_auth(key.expose());
        }
        let failed = |e: AiError| {
            AiMetrics::add(&service.metrics.upstream_errors, 1);
            tracing::warn!(status = %e.status(), "AI model server error: {e:?}");
            e
        };
        let response = match tokio::time::timeout(self.timeout, call.send()).await {
            Err(_) => {
                return Err(failed(upstream_err(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    format!(
                        "the model server at {} did not answer within {} s",
                        self.host(),
                        self.timeout.as_secs()
                    ),
                )));
            }
            Ok(Err(e)) => {
                return Err(failed(upstream_err(
                    StatusCode::BAD_GATEWAY,
                    "upstream_unreachable",
                    format!(
                        "cannot reach the model server at {}: {}",
                        self.host(),
                        root_cause(&e)
                    ),
                )));
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        if !status.is_success() {
            let retry = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = read_capped(response, 64 << 10, self.timeout)
                .await
                .unwrap_or_default();
            let said = ErrorBody::message_of(&String::from_utf8_lossy(&body));
            return Err(failed(self.status_error(status, said, retry)));
        }
        let is_sse = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if stream && is_sse {
            let relay = Relay {
                response,
                sse: SseParser::new(SseLimits::default()),
                decoder: ChatStreamDecoder::default(),
                timeout: self.timeout,
                done: false,
                finished: false,
                service: service.clone(),
            };
            let body = futures_util::stream::unfold(relay, |mut relay| async move {
                relay
                    .next()
                    .await
                    .map(|bytes| (Ok::<_, std::io::Error>(bytes), relay))
            });
            return Ok(stream_response(Body::from_stream(body)));
        }
        // A whole answer: asked for, or sent by a server that ignores
        // `stream` (then turned into a stream here).
        let bytes = match read_capped(response, MAX_ANSWER_BYTES, self.timeout).await {
            Ok(b) => b,
            Err(e) => return Err(failed(e)),
        };
        let completion: ChatCompletion = serde_json::from_slice(&bytes).map_err(|e| {
            failed(upstream_err(
                StatusCode::BAD_GATEWAY,
                "upstream_malformed",
                format!("the model server's answer is not a chat.completion: {e}"),
            ))
        })?;
        if !stream {
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(r);
        }
        Ok(stream_response(Body::from(completion_as_stream(
            &completion,
        ))))
    }

    /// The error for a non-2xx answer of the model server. Its own words
    /// are passed on except for refused keys, whose messages may quote
    /// part of the key.
    fn status_error(
        &self,
        status: reqwest::StatusCode,
        said: Option<String>,
        retry: Option<u64>,
    ) -> AiError {
        let host = self.host();
        let code = status.as_u16();
        let said = said.map(|s| format!(": {}", s.chars().take(500).collect::<String>()));
        match code {
            401 | 403 => upstream_err(
                StatusCode::BAD_GATEWAY,
                "upstream_unauthorized",
                format!(
                    "the model server at {host} refused the server's API key (HTTP {code}); check --ai-key-file or ATELIER_AI_KEY"
                ),
            ),
            429 => upstream_err(
                StatusCode::TOO_MANY_REQUESTS,
                "upstream_rate_limited",
                format!(
                    "the model server at {host} is rate limiting requests (HTTP 429){}; retry in {} s",
                    said.unwrap_or_default(),
                    retry.unwrap_or(30)
                ),
            )
            .retry_after(retry.unwrap_or(30)),
            400 | 422 => AiError::bad_request(format!(
                "the model server refused the request (HTTP {code}){}",
                said.unwrap_or_default()
            )),
            404 => upstream_err(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!(
                    "the model server at {host} has no such endpoint or model (HTTP 404){}; check --ai-url (ending in /v1) and --ai-model",
                    said.unwrap_or_default()
                ),
            ),
            _ => upstream_err(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!(
                    "the model server at {host} failed (HTTP {code}){}",
                    said.unwrap_or_default()
                ),
            ),
        }
    }
}

/// The innermost cause of a client error (reqwest's own text says only
/// "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Reads a whole body, within a size cap and the timeout between parts.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    timeout: Duration,
) -> Result<Vec<u8>, AiError> {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(timeout, response.chunk()).await {
            Err(_) => {
                return Err(upstream_err(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    format!(
                        "the model server's answer stalled for {} s",
                        timeout.as_secs()
                    ),
                ));
            }
            Ok(Err(e)) => {
                return Err(upstream_err(
                    StatusCode::BAD_GATEWAY,
                    "upstream_disconnected",
                    format!(
                        "the connection to the model server broke: {}",
                        root_cause(&e)
                    ),
                ));
            }
            Ok(Ok(None)) => return Ok(out),
            Ok(Ok(Some(bytes))) => {
                if out.len() + bytes.len() > cap {
                    return Err(upstream_err(
                        StatusCode::BAD_GATEWAY,
                        "upstream_malformed",
                        format!("the model server's answer is over {cap} bytes"),
                    ));
                }
                out.extend_from_slice(&bytes);
            }
        }
    }
}

/// A whole answer as the stream of chunks it would have been.
fn completion_as_stream(c: &ChatCompletion) -> String {
    let w = ChunkWriter::new(&c.id, &c.model, c.created);
    let mut out = w.role();
    if let Some(choice) = c.choices.first() {
        let text = choice.message.text_content();
        if !text.is_empty() {
            out.push_str(&w.text(&text));
        }
        for (i, call) in choice.message.tool_calls.iter().flatten().enumerate() {
            out.push_str(&w.tool_call_start(i as u32, &call.id, &call.function.name));
            out.push_str(&w.tool_call_arguments(i as u32, &call.function.arguments));
        }
        out.push_str(&w.finish(choice.finish_reason.as_deref().unwrap_or("stop")));
    }
    out.push_str(&ChunkWriter::done());
    out
}

/// Relays a model server's stream to the browser, event by event.
struct Relay {
    response: reqwest::Response,
    sse: SseParser,
    decoder: ChatStreamDecoder,
    timeout: Duration,
    /// `[DONE]` was passed on.
    done: bool,
    /// Nothing more to send.
    finished: bool,
    service: Arc<AiService>,
}

impl Relay {
    fn fail(&mut self, message: &str, code: &str) -> Bytes {
        self.finished = true;
        AiMetrics::add(&self.service.metrics.upstream_errors, 1);
        tracing::warn!(code, "AI stream from the model server failed: {message}");
        Bytes::from(stream_error(message, code))
    }

    /// The next bytes for the browser, or `None` at the end.
    async fn next(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        loop {
            let chunk = tokio::time::timeout(self.timeout, self.response.chunk()).await;
            let bytes = match chunk {
                Err(_) => {
                    let secs = self.timeout.as_secs();
                    return Some(self.fail(
                        &format!("the model server sent nothing for {secs} s"),
                        "upstream_timeout",
                    ));
                }
                Ok(Err(e)) => {
                    let m = format!(
                        "the connection to the model server broke: {}",
                        root_cause(&e)
                    );
                    return Some(self.fail(&m, "upstream_disconnected"));
                }
                Ok(Ok(None)) => {
                    self.finished = true;
                    let last =
                        std::mem::replace(&mut self.sse, SseParser::new(SseLimits::default()))
                            .finish();
                    let mut out = String::new();
                    match last {
                        Ok(Some(ev)) => {
                            if let Err((m, code)) =
                                self.event(ev.event.as_deref(), &ev.data, &mut out)
                            {
                                return Some(self.fail(&m, code));
                            }
                        }
                        Ok(None) => {}
                        Err(e) => return Some(self.fail(&e.to_string(), "upstream_malformed")),
                    }
                    if self.done {
                        return (!out.is_empty()).then(|| Bytes::from(out));
                    }
                    let finished = std::mem::take(&mut self.decoder).finish().is_ok();
                    if finished {
                        // A finish reason without [DONE]: end it properly.
                        out.push_str(&ChunkWriter::done());
                        self.done = true;
                        return Some(Bytes::from(out));
                    }
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&self.fail(
                        "the model server's stream ended before it was complete",
                        "upstream_truncated",
                    ));
                    return Some(Bytes::from(bytes));
                }
                Ok(Ok(Some(b))) => b,
            };
            let events = match self.sse.push(&bytes) {
                Ok(e) => e,
                Err(e) => {
                    return Some(self.fail(
                        &format!("the model server's stream is malformed: {e}"),
                        "upstream_malformed",
                    ));
                }
            };
            let mut out = String::new();
            for ev in events {
                if let Err((m, code)) = self.event(ev.event.as_deref(), &ev.data, &mut out) {
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&self.fail(&m, code));
                    return Some(Bytes::from(bytes));
                }
                if self.done {
                    // Anything after [DONE] is not passed on.
                    self.finished = true;
                    break;
                }
            }
            if !out.is_empty() {
                return Some(Bytes::from(out));
            }
        }
    }

    /// Checks one event and appends what goes to the browser.
    fn event(
        &mut self,
        name: Option<&str>,
        data: &str,
        out: &mut String,
    ) -> Result<(), (String, &'static str)> {
        if self.done {
            return Ok(());
        }
        if name == Some("error") {
            let m = ErrorBody::message_of(data).unwrap_or_else(|| data.to_owned());
            return Err((format!("the model server reported: {m}"), "upstream_error"));
        }
        let trimmed = data.trim();
        if trimmed == "[DONE]" {
            self.done = true;
            out.push_str(&data_event("[DONE]"));
            return Ok(());
        }
        if trimmed.is_empty() {
            return Ok(());
        }
        match parse_chunk(trimmed) {
            Ok(chunk) => {
                if let Err(e) = self.decoder.push_chunk(&chunk) {
                    return Err((
                        format!("the model server's answer: {e}"),
                        "upstream_malformed",
                    ));
                }
                out.push_str(&data_event(trimmed));
                Ok(())
            }
            Err(atelier_ai::AiError::Upstream(m)) => {
                Err((format!("the model server reported: {m}"), "upstream_error"))
            }
            Err(e) => Err((
                format!("the model server's stream is malformed: {e}"),
                "upstream_malformed",
            )),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if !self.finished {
            // The browser went away: dropping `response` closes the
            // connection to the model server, which stops generating.
            AiMetrics::add(&self.service.metrics.client_disconnects, 1);
            tracing::info!("AI client went away; closing the model server's stream");
        }
    }
}
