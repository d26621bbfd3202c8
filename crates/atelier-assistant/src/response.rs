//! Reads one answer as its bytes arrive: the status first, then either a
//! stream (decoded by [`atelier_ai::chat_stream`] or
//! [`atelier_ai::vercel`], which report text and tool-call pieces as they
//! come) or an error body, turned into an [`AssistantError`].
//!
//! ```
//! use atelier_assistant::plan::Mode;
//! use atelier_assistant::response::ResponseReader;
//! use atelier_ai::chat_stream::ChunkWriter;
//! let w = ChunkWriter::new("c", "m", 1);
//! let wire = [w.role(), w.text("Bon"), w.text("jour"), w.finish("stop"), ChunkWriter::done()].concat();
//! let mut r = ResponseReader::new(Mode::Atelier);
//! r.head(200, None);
//! for piece in wire.as_bytes().chunks(9) {
//!     r.push(piece).unwrap();
//! }
//! assert_eq!(r.text(), "Bonjour");
//! assert_eq!(r.finish().unwrap().text, "Bonjour");
//! ```

use crate::error::{AssistantError, ErrorKind, parse_retry_after};
use crate::plan::Mode;
use atelier_ai::chat_stream::ChatStreamDecoder;
use atelier_ai::vercel::DocsStreamDecoder;
use atelier_ai::{AiError, Completion, StreamUpdate};
use serde_json::Value;

/// Most bytes of an error body kept (enough for any error JSON).
const MAX_ERROR_BODY: usize = 64 << 10;
/// Bytes of stream kept to read an error event's `code`.
const TAIL: usize = 8 << 10;

#[derive(Debug)]
enum Decoder {
    OpenAi(ChatStreamDecoder),
    Docs(DocsStreamDecoder),
}

/// One response, read incrementally.
#[derive(Debug)]
pub struct ResponseReader {
    mode: Mode,
    status: u16,
    retry_after: Option<u64>,
    body: Vec<u8>,
    decoder: Option<Decoder>,
    tail: Vec<u8>,
    failed: Option<AssistantError>,
}

impl ResponseReader {
    /// A reader for an answer from a server in `mode`.
    pub fn new(mode: Mode) -> Self {
        ResponseReader {
            mode,
            status: 0,
            retry_after: None,
            body: Vec::new(),
            decoder: None,
            tail: Vec::new(),
            failed: None,
        }
    }

    /// The status line and the `Retry-After` header arrived.
    pub fn head(&mut self, status: u16, retry_after: Option<&str>) {
        self.status = status;
        self.retry_after = parse_retry_after(retry_after);
        if (200..300).contains(&status) {
            self.decoder = Some(match self.mode {
                Mode::Atelier => Decoder::OpenAi(ChatStreamDecoder::default()),
                Mode::Docs => Decoder::Docs(DocsStreamDecoder::default()),
            });
        }
    }

    /// The text streamed so far.
    pub fn text(&self) -> &str {
        match &self.decoder {
            Some(Decoder::OpenAi(d)) => d.text(),
            Some(Decoder::Docs(d)) => d.text(),
            None => "",
        }
    }

    /// More bytes: what they add to the answer. An error (a refused
    /// stream, an error event) ends the answer; later bytes are ignored.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamUpdate>, AssistantError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(decoder) = &mut self.decoder else {
            let room = MAX_ERROR_BODY.saturating_sub(self.body.len());
            self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
            return Ok(Vec::new());
        };
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        let result = match decoder {
            Decoder::OpenAi(d) => d.push(bytes),
            Decoder::Docs(d) => d.push(bytes),
        };
        result.map_err(|e| {
            let error = self.stream_error(&e);
            self.failed = Some(error.clone());
            error
        })
    }

    fn stream_error(&self, e: &AiError) -> AssistantError {
        let code = match e {
            AiError::Upstream(_) => error_event_code(&self.tail),
            _ => None,
        };
        AssistantError::from_stream(e, code.as_deref())
    }

    /// The response ended: the whole answer, or why there is none.
    pub fn finish(mut self) -> Result<Completion, AssistantError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.status == 0 {
            return Err(AssistantError::new(ErrorKind::Network, "no response"));
        }
        let result = match self.decoder.take() {
            None => {
                return Err(AssistantError::from_response(
                    self.status,
                    self.retry_after,
                    &self.body,
                ));
            }
            Some(Decoder::OpenAi(d)) => d.finish(),
            Some(Decoder::Docs(d)) => d.finish(),
        };
        result.map_err(|e| self.stream_error(&e))
    }
}

/// The `code` of the last error event in `tail` (`data: {"error": {…}}`).
fn error_event_code(tail: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(tail);
    text.lines().rev().find_map(|line| {
        let data = line.strip_prefix("data:")?.trim();
        let v: Value = serde_json::from_str(data).ok()?;
        Some(v.get("error")?.get("code")?.as_str()?.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LimitScope;
    use atelier_ai::chat_stream::ChunkWriter;
    use atelier_ai::vercel::UiStreamWriter;

    #[test]
    fn an_error_event_mid_stream_keeps_its_code_and_the_text_so_far() {
        let w = ChunkWriter::new("c", "m", 1);
        let wire = [
            w.role(),
            w.text("Partial"),
            "data: {\"error\":{\"message\":\"no token for 60 s\",\"type\":\"upstream_error\",\"code\":\"upstream_timeout\"}}\n\n".to_owned(),
        ]
        .concat();
        let mut r = ResponseReader::new(Mode::Atelier);
        r.head(200, None);
        let (a, b) = wire.as_bytes().split_at(wire.len() - 20);
        r.push(a).expect("first part");
        let e = r.push(b).expect_err("error event");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.code.as_deref(), Some("upstream_timeout"));
        assert_eq!(r.text(), "Partial");
        assert_eq!(r.finish().expect_err("failed").kind, ErrorKind::Timeout);
    }

    #[test]
    fn error_statuses_read_their_body() {
        let mut r = ResponseReader::new(Mode::Atelier);
        r.head(429, Some("12"));
        r.push(br#"{"error":{"message":"5 per minute","type":"rate_limit_error","#)
            .expect("body");
        r.push(br#""code":"rate_limited_document"}}"#)
            .expect("body");
        let e = r.finish().expect_err("429");
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                scope: Some(LimitScope::Document),
                retry_after: Some(12)
            }
        );
        assert_eq!(e.status, 429);
    }

    #[test]
    fn truncated_and_malformed_streams_and_no_response() {
        let w = ChunkWriter::new("c", "m", 1);
        let mut r = ResponseReader::new(Mode::Atelier);
        r.head(200, None);
        r.push([w.role(), w.text("half")].concat().as_bytes())
            .expect("ok so far");
        assert_eq!(r.finish().expect_err("cut").kind, ErrorKind::Malformed);
        let mut r = ResponseReader::new(Mode::Atelier);
        r.head(200, None);
        assert_eq!(
            r.push(b"<html>oops</html>\n\n")
                .map(|_| ())
                .err()
                .map(|e| e.kind),
            None
        );
        assert_eq!(r.finish().expect_err("not SSE").kind, ErrorKind::Malformed);
        assert_eq!(
            ResponseReader::new(Mode::Docs)
                .finish()
                .expect_err("none")
                .kind,
            ErrorKind::Network
        );
    }

    #[test]
    fn docs_streams_are_read_in_docs_mode() {
        let w = UiStreamWriter;
        let wire = [
            w.start(),
            w.text_delta("t", "Hallo"),
            w.finish(Some("stop")),
            w.done(),
        ]
        .concat();
        let mut r = ResponseReader::new(Mode::Docs);
        r.head(200, None);
        let updates = r.push(wire.as_bytes()).expect("stream");
        assert!(matches!(&updates[0], StreamUpdate::Text { text } if text == "Hallo"));
        assert_eq!(r.finish().expect("answer").text, "Hallo");
        let mut r = ResponseReader::new(Mode::Docs);
        r.head(403, None);
        r.push(br#"{"detail":"You do not have permission to perform this action."}"#)
            .expect("body");
        assert_eq!(r.finish().expect_err("403").kind, ErrorKind::Forbidden);
    }
}
