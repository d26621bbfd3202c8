//! Why a run failed, read from what the AI server answered: its HTTP
//! status, the `code` of its OpenAI error body (the table in
//! `atelier-server`'s `ai_proxy.rs`), `Retry-After`, an error event inside
//! the stream, or a stream the decoders refused. Each kind has a sentence
//! in [`crate::i18n::ErrorStrings`] that says what to do.

use crate::i18n::{Strings, fill};
use atelier_ai::AiError;
use serde_json::Value;

/// Whose rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    /// The user's own (`rate_limited_user`, Docs' per-user throttle).
    User,
    /// The document's (`rate_limited_document`).
    Document,
    /// The model server's (`upstream_rate_limited`).
    Model,
}

/// What went wrong, as the pane explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `upstream_timeout`: no answer (or no next part) in time.
    Timeout,
    /// `upstream_unauthorized`: the model server refused the key.
    KeyRefused,
    /// A rate limit; `retry_after` in seconds when the server said.
    RateLimited {
        /// Whose limit.
        scope: Option<LimitScope>,
        /// `Retry-After`, seconds.
        retry_after: Option<u64>,
    },
    /// `model_missing`.
    ModelMissing,
    /// `model_loading`.
    ModelLoading,
    /// `model_failed`.
    ModelFailed,
    /// `ai_off`.
    AiOff,
    /// `busy`: the embedded model's queue is full.
    Busy,
    /// The answer is not the protocol (`upstream_malformed`,
    /// `upstream_truncated`, or the pane's own decoder refused it).
    Malformed,
    /// `upstream_unreachable`, `upstream_disconnected`.
    Unreachable,
    /// The model server's own error (`upstream_error`,
    /// `generation_failed`, an error event).
    Upstream,
    /// The request never got an answer (fetch failed: offline, DNS, CORS).
    Network,
    /// 401 `unauthenticated`.
    Unauthenticated,
    /// 403 `forbidden`: no write grant.
    Forbidden,
    /// 413 `too_large`.
    TooLarge,
    /// 400: `invalid_request`, `missing_document`, Docs' "Invalid submitted payload".
    InvalidRequest,
    /// Any other status.
    Other,
}

/// A failed run: its kind, the server's status and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} ({status}): {message}")]
pub struct AssistantError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The server's `code`, when it gave one (`rate_limited_user`…).
    pub code: Option<String>,
    /// HTTP status (0 when the request got no answer, or the error came
    /// inside a stream that had started).
    pub status: u16,
    /// The server's message, or the decoder's.
    pub message: String,
}

impl AssistantError {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AssistantError {
            kind,
            code: None,
            status: 0,
            message: message.into(),
        }
    }

    /// The error an HTTP answer with this status, `Retry-After` and body
    /// (an OpenAI error body, Docs' `{"detail": …}`, or anything) stands for.
    pub fn from_response(status: u16, retry_after: Option<u64>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let json: Option<Value> = serde_json::from_str(&text).ok();
        let error = json.as_ref().and_then(|v| v.get("error"));
        let code = error
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let message = error
            .and_then(|e| e.get("message").or(Some(e)))
            .and_then(Value::as_str)
            .or_else(|| json.as_ref()?.get("detail")?.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(200).collect());
        let kind = match code.as_deref() {
            Some(code) => kind_of_code(code, retry_after)
                .unwrap_or_else(|| kind_of_status(status, retry_after)),
            None => kind_of_status(status, retry_after),
        };
        AssistantError {
            kind,
            code,
            status,
            message,
        }
    }

    /// The error a stream ended with: an error event the server sent (its
    /// `code` when the event had one), or what the decoder refused.
    pub fn from_stream(error: &AiError, event_code: Option<&str>) -> Self {
        let kind = match (error, event_code) {
            (_, Some(code)) => kind_of_code(code, None).unwrap_or(ErrorKind::Upstream),
            (AiError::Upstream(_), None) => ErrorKind::Upstream,
            _ => ErrorKind::Malformed,
        };
        let message = match error {
            AiError::Upstream(m) => m.clone(),
            other => other.to_string(),
        };
        AssistantError {
            kind,
            code: event_code.map(str::to_owned),
            status: 0,
            message,
        }
    }

    /// The sentence the pane shows.
    pub fn describe(&self, s: &Strings) -> String {
        let e = &s.errors;
        match &self.kind {
            ErrorKind::Timeout => e.timeout.into(),
            ErrorKind::KeyRefused => e.key_refused.into(),
            ErrorKind::RateLimited { scope, retry_after } => {
                let scope = match scope {
                    Some(LimitScope::User) => e.scope_user,
                    Some(LimitScope::Document) => e.scope_document,
                    Some(LimitScope::Model) => e.scope_model,
                    None => "",
                };
                let wait = match retry_after {
                    Some(secs) => fill(e.wait_secs, &[("secs", &secs.to_string())]),
                    None => e.wait_later.into(),
                };
                let text = fill(e.rate_limited, &[("scope", scope), ("wait", &wait)]);
                // No scope: "Too many requests . Try…" → "Too many requests. Try…".
                text.replace("  ", " ").replace(" .", ".")
            }
            ErrorKind::ModelMissing => e.model_missing.into(),
            ErrorKind::ModelLoading => e.model_loading.into(),
            ErrorKind::ModelFailed => e.model_failed.into(),
            ErrorKind::AiOff => e.ai_off.into(),
            ErrorKind::Busy => e.busy.into(),
            ErrorKind::Malformed => e.malformed.into(),
            ErrorKind::Unreachable => e.unreachable.into(),
            ErrorKind::Upstream => fill(e.upstream, &[("message", &self.message)]),
            ErrorKind::Network => e.network.into(),
            ErrorKind::Unauthenticated => e.unauthenticated.into(),
            ErrorKind::Forbidden => e.forbidden.into(),
            ErrorKind::TooLarge => e.too_large.into(),
            ErrorKind::InvalidRequest => fill(e.invalid_request, &[("message", &self.message)]),
            ErrorKind::Other if self.message.trim().is_empty() => {
                fill(e.other_status, &[("status", &self.status.to_string())])
            }
            ErrorKind::Other => fill(
                e.other,
                &[
                    ("status", &self.status.to_string()),
                    ("message", &self.message),
                ],
            ),
        }
    }

    /// A short stable name for events (`code` when the server gave one).
    pub fn code_name(&self) -> String {
        if let Some(code) = &self.code {
            return code.clone();
        }
        match self.kind {
            ErrorKind::Timeout => "timeout",
            ErrorKind::KeyRefused => "key_refused",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::ModelMissing => "model_missing",
            ErrorKind::ModelLoading => "model_loading",
            ErrorKind::ModelFailed => "model_failed",
            ErrorKind::AiOff => "ai_off",
            ErrorKind::Busy => "busy",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Upstream => "upstream_error",
            ErrorKind::Network => "network",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Other => "error",
        }
        .into()
    }
}

fn kind_of_code(code: &str, retry_after: Option<u64>) -> Option<ErrorKind> {
    let limited = |scope| ErrorKind::RateLimited {
        scope: Some(scope),
        retry_after,
    };
    Some(match code {
        "upstream_timeout" => ErrorKind::Timeout,
        "upstream_unauthorized" => ErrorKind::KeyRefused,
        "rate_limited_user" => limited(LimitScope::User),
        "rate_limited_document" => limited(LimitScope::Document),
        "upstream_rate_limited" => limited(LimitScope::Model),
        "model_missing" => ErrorKind::ModelMissing,
        "model_loading" => ErrorKind::ModelLoading,
        "model_failed" => ErrorKind::ModelFailed,
        "ai_off" => ErrorKind::AiOff,
        "busy" => ErrorKind::Busy,
        "upstream_malformed" | "upstream_truncated" => ErrorKind::Malformed,
        "upstream_unreachable" | "upstream_disconnected" => ErrorKind::Unreachable,
        "upstream_error" | "generation_failed" => ErrorKind::Upstream,
        "unauthenticated" => ErrorKind::Unauthenticated,
        "forbidden" => ErrorKind::Forbidden,
        "too_large" => ErrorKind::TooLarge,
        "invalid_request" | "missing_document" => ErrorKind::InvalidRequest,
        _ => return None,
    })
}

fn kind_of_status(status: u16, retry_after: Option<u64>) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::InvalidRequest,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::Forbidden,
        413 => ErrorKind::TooLarge,
        429 => ErrorKind::RateLimited {
            scope: None,
            retry_after,
        },
        502 => ErrorKind::Unreachable,
        503 => ErrorKind::Busy,
        504 => ErrorKind::Timeout,
        _ => ErrorKind::Other,
    }
}

/// Reads a `Retry-After` header: seconds (an HTTP date is not used by
/// either server; it reads as unknown).
pub fn parse_retry_after(value: Option<&str>) -> Option<u64> {
    value?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, FR};

    #[test]
    fn server_codes_become_kinds_with_their_sentences() {
        let body = br#"{"error":{"message":"3 requests per minute per user","type":"rate_limit_error","code":"rate_limited_user"}}"#;
        let e = AssistantError::from_response(429, Some(17), body);
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                scope: Some(LimitScope::User),
                retry_after: Some(17)
            }
        );
        assert_eq!(
            e.describe(&EN),
            "Too many requests from you. Try again in 17 s."
        );
        assert_eq!(
            e.describe(&FR),
            "Trop de demandes de votre part. Réessayez dans 17 s."
        );
        assert_eq!(e.code_name(), "rate_limited_user");

        let e = AssistantError::from_response(
            503,
            None,
            br#"{"error":{"message":"no model file","type":"service_unavailable","code":"model_missing"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::ModelMissing);
        let e = AssistantError::from_response(
            502,
            None,
            br#"{"error":{"message":"refused","type":"upstream_error","code":"upstream_unauthorized"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::KeyRefused);
        let e = AssistantError::from_response(504, None, b"gateway timeout");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.message, "gateway timeout");
    }

    #[test]
    fn docs_bodies_and_bare_statuses() {
        let e =
            AssistantError::from_response(400, None, br#"{"detail":"Invalid submitted payload"}"#);
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert_eq!(
            e.describe(&EN),
            "The server refused the request: Invalid submitted payload"
        );
        let e = AssistantError::from_response(429, None, b"");
        assert_eq!(e.describe(&EN), "Too many requests. Try again later.");
        let e = AssistantError::from_response(418, None, b"teapot");
        assert_eq!(e.describe(&EN), "The AI request failed (418): teapot");
        // No body (a static server's 405): no dangling colon.
        let e = AssistantError::from_response(405, None, b"");
        assert_eq!(e.describe(&EN), "The AI request failed (HTTP status 405).");
        assert_eq!(parse_retry_after(Some(" 30 ")), Some(30));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
    }

    #[test]
    fn stream_errors_keep_the_event_code() {
        let e = AssistantError::from_stream(
            &AiError::Upstream("no token for 60 s".into()),
            Some("upstream_timeout"),
        );
        assert_eq!(e.kind, ErrorKind::Timeout);
        let e = AssistantError::from_stream(&AiError::Truncated, None);
        assert_eq!(e.kind, ErrorKind::Malformed);
        let e = AssistantError::from_stream(&AiError::Upstream("overloaded".into()), None);
        assert_eq!(
            e.describe(&EN),
            "The model server reported an error: overloaded"
        );
    }
}
