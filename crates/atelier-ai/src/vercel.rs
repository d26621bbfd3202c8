//! La Suite Docs' AI stream: the Vercel AI SDK stream formats, both ways.
//!
//! Docs answers `POST /api/v1.0/documents/{id}/ai-proxy/` with HTTP 200,
//! `Content-Type: text/event-stream`, `x-vercel-ai-data-stream: v1` and
//! `X-Accel-Buffering: no` (its `viewsets.py`). What the body holds
//! depends on the Docs release, so [`DocsStreamDecoder`] reads both
//! framings and tells them apart by the first line:
//!
//! ## UI message stream (AI SDK 5–7): Docs since February 2026
//!
//! Docs builds the body with pydantic-ai's `VercelAIAdapter`
//! (`AI_VERCEL_SDK_VERSION`, 6 by default): server-sent events, each
//! `data: <compact JSON object>\n\n` with a `type`, camelCase fields, no
//! `null` fields, ending with `data: [DONE]\n\n`. A tool-call answer reads:
//!
//! ```text
//! data: {"type":"start"}
//! data: {"type":"start-step"}
//! data: {"type":"tool-input-start","toolCallId":"call_1","toolName":"applyDocumentOperations"}
//! data: {"type":"tool-input-delta","toolCallId":"call_1","inputTextDelta":"{\"operations\":["}
//! data: {"type":"tool-input-delta","toolCallId":"call_1","inputTextDelta":"…]}"}
//! data: {"type":"tool-input-available","toolCallId":"call_1","toolName":"applyDocumentOperations","input":{"operations":[…]}}
//! data: {"type":"finish-step"}
//! data: {"type":"finish","finishReason":"tool-calls"}
//! data: [DONE]
//! ```
//!
//! (each event followed by a blank line). Text comes as
//! `{"type":"text-start","id":ID}`, `{"type":"text-delta","delta":TEXT,"id":ID}`…,
//! `{"type":"text-end","id":ID}`; an error as `{"type":"error","errorText":TEXT}`;
//! a cancelled run as `{"type":"abort","reason":TEXT}` instead of `finish`.
//! Read and acted on: `text-delta`, `tool-input-start`, `tool-input-delta`,
//! `tool-input-available` (its `input` is the server's parse of the call
//! and wins over the deltas), `tool-input-error` (an error), `error`,
//! `abort`, `finish` (`finishReason` optional) and `[DONE]`. Skipped:
//! `start`, `start-step`, `finish-step`, `text-start`, `text-end`,
//! `reasoning-*`, `tool-output-*`, `tool-approval-request`, `source-*`,
//! `file`, `message-metadata`, `data-*` and types added later.
//!
//! ## Data stream protocol v1 (AI SDK 3.4–4.x): earlier Docs releases
//!
//! One part per line, `CODE:JSON\n`: `0:"text"`; `9:{"toolCallId","toolName","args"}`
//! (a whole call); `b:{"toolCallId","toolName"}` (a streamed call
//! starts); `c:{"toolCallId","argsTextDelta"}` (a fragment of its
//! arguments' JSON text); `3:"message"` (an error); `d:{"finishReason",
//! "usage":{"promptTokens","completionTokens"}}` (the end; no `[DONE]`);
//! skipped: `2` data, `8` annotations, `a` tool result, `e` finish step,
//! `f` start step, `g`…`k` reasoning, sources, files. Another code is an
//! error, as in the SDK's own parser.
//!
//! Either way, a stream that ends before its end (`[DONE]` or `finish`,
//! `d:`) is [`AiError::Truncated`], and every line and event is capped.
//! The request Docs takes is in [`crate::docs_api`].
//!
//! ```
//! use atelier_ai::vercel::{DocsStreamDecoder, UiStreamWriter};
//! let w = UiStreamWriter;
//! let wire = [w.start(), w.text_delta("t1", "Bonjour"), w.finish(Some("stop")), w.done()].concat();
//! let mut d = DocsStreamDecoder::default();
//! d.push(wire.as_bytes()).unwrap();
//! assert_eq!(d.finish().unwrap().text, "Bonjour");
//! ```

use crate::completion::{Completion, CompletionBuilder, CompletionLimits, StreamUpdate};
use crate::error::{AiError, Result};
use crate::sse::{SseLimits, SseParser, data_event};
use serde::Serialize;
use serde_json::Value;

/// The response header Docs sets on its AI stream.
pub const DOCS_STREAM_HEADER: (&str, &str) = ("x-vercel-ai-data-stream", "v1");

/// Which framing a Docs stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocsStreamFormat {
    /// Server-sent JSON events (AI SDK 5 and later).
    UiMessageStream,
    /// `CODE:JSON` lines (AI SDK 4).
    DataStreamV1,
}

/// Decodes a Docs AI stream, in either framing.
#[derive(Debug, Clone)]
pub struct DocsStreamDecoder {
    sse_limits: SseLimits,
    /// Bytes held until the first line tells the framing.
    head: Vec<u8>,
    framing: Option<Framing>,
    builder: CompletionBuilder,
    /// Tool call ids in order of appearance (their index).
    done: bool,
}

#[derive(Debug, Clone)]
enum Framing {
    Ui(SseParser),
    V1(LineSplitter),
}

impl Default for DocsStreamDecoder {
    fn default() -> Self {
        DocsStreamDecoder::new(SseLimits::default(), CompletionLimits::default())
    }
}

impl DocsStreamDecoder {
    /// A decoder with these caps (the line cap holds for both framings).
    pub fn new(sse: SseLimits, limits: CompletionLimits) -> Self {
        DocsStreamDecoder {
            sse_limits: sse,
            head: Vec::new(),
            framing: None,
            builder: CompletionBuilder::new(limits),
            done: false,
        }
    }

    /// The framing, once the first line told it.
    pub fn format(&self) -> Option<DocsStreamFormat> {
        match self.framing {
            Some(Framing::Ui(_)) => Some(DocsStreamFormat::UiMessageStream),
            Some(Framing::V1(_)) => Some(DocsStreamFormat::DataStreamV1),
            None => None,
        }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        self.builder.text()
    }

    /// Feeds bytes as they arrive; returns what they changed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamUpdate>> {
        let mut out = Vec::new();
        if self.framing.is_none() {
            self.head.extend_from_slice(bytes);
            let Some(format) = detect(&self.head, self.sse_limits.max_line_bytes)? else {
                return Ok(out);
            };
            self.framing = Some(match format {
                DocsStreamFormat::UiMessageStream => Framing::Ui(SseParser::new(self.sse_limits)),
                DocsStreamFormat::DataStreamV1 => {
                    Framing::V1(LineSplitter::new(self.sse_limits.max_line_bytes))
                }
            });
            let head = std::mem::take(&mut self.head);
            let head = match format {
                // The SSE parser skips a byte-order mark itself.
                DocsStreamFormat::DataStreamV1 => {
                    head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head).to_vec()
                }
                DocsStreamFormat::UiMessageStream => head,
            };
            self.feed(&head, &mut out)?;
            return Ok(out);
        }
        self.feed(bytes, &mut out)?;
        Ok(out)
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Vec<StreamUpdate>) -> Result<()> {
        match &mut self.framing {
            Some(Framing::Ui(p)) => {
                for ev in p.push(bytes)? {
                    self.ui_event(&ev.data, out)?;
                }
            }
            Some(Framing::V1(lines)) => {
                for line in lines.push(bytes)? {
                    self.v1_line(&line, out)?;
                }
            }
            None => {}
        }
        Ok(())
    }

    fn ui_event(&mut self, data: &str, out: &mut Vec<StreamUpdate>) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            AiError::Malformed(format!("a UI message stream event is not JSON: {e}"))
        })?;
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return Err(AiError::Malformed(
                "a UI message stream event has no \"type\"".into(),
            ));
        };
        let field = |name: &'static str| -> Result<&str> {
            v.get(name).and_then(Value::as_str).ok_or_else(|| {
                AiError::Malformed(format!("a \"{kind}\" event needs a string \"{name}\""))
            })
        };
        match kind {
            "text-delta" => self.builder.push_text(field("delta")?, out)?,
            "tool-input-start" => {
                let index = self.index_for(field("toolCallId")?);
                self.builder.push_tool_piece(
                    index,
                    Some(field("toolCallId")?),
                    Some(field("toolName")?),
                    None,
                    out,
                )?;
            }
            "tool-input-delta" => {
                let id = field("toolCallId")?;
                let Some(index) = self.builder.index_of_id(id) else {
                    return Err(AiError::Malformed(format!(
                        "input for tool call \"{id}\" before its tool-input-start"
                    )));
                };
                self.builder.push_tool_piece(
                    index,
                    None,
                    None,
                    Some(field("inputTextDelta")?),
                    out,
                )?;
            }
            "tool-input-available" => {
                let id = field("toolCallId")?;
                let index = self.index_for(id);
                let input = v.get("input").ok_or_else(|| {
                    AiError::Malformed("a tool-input-available event has no \"input\"".into())
                })?;
                self.builder.complete_tool_call(
                    index,
                    id,
                    field("toolName")?,
                    &crate::json_text(input),
                    out,
                )?;
            }
            "tool-input-error" => {
                return Err(AiError::Upstream(format!(
                    "the model's call of {} was refused: {}",
                    field("toolName").unwrap_or("a tool"),
                    field("errorText").unwrap_or("no reason given")
                )));
            }
            "error" => return Err(AiError::Upstream(field("errorText")?.to_owned())),
            "abort" => {
                return Err(AiError::Upstream(format!(
                    "the run was aborted: {}",
                    v.get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                )));
            }
            "finish" => {
                let reason = v.get("finishReason").and_then(Value::as_str);
                self.builder.finish(reason, out);
            }
            // Framing, reasoning, results, sources, metadata, custom data
            // and types added after this was written carry nothing the
            // answer is made of.
            _ => {}
        }
        Ok(())
    }

    fn v1_line(&mut self, line: &str, out: &mut Vec<StreamUpdate>) -> Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        let Some((code, json)) = line.split_once(':') else {
            return Err(AiError::Malformed(format!(
                "a data stream line has no `CODE:` prefix: \"{}\"",
                truncate(line)
            )));
        };
        let known = matches!(
            code,
            "0" | "2"
                | "3"
                | "8"
                | "9"
                | "a"
                | "b"
                | "c"
                | "d"
                | "e"
                | "f"
                | "g"
                | "h"
                | "i"
                | "j"
                | "k"
        );
        if !known {
            return Err(AiError::Malformed(format!(
                "unknown data stream part code \"{}\"",
                truncate(code)
            )));
        }
        let v: Value = serde_json::from_str(json)
            .map_err(|e| AiError::Malformed(format!("data stream part {code}: {e}")))?;
        let str_field = |name: &'static str| -> Result<&str> {
            v.get(name).and_then(Value::as_str).ok_or_else(|| {
                AiError::Malformed(format!("data stream part {code} needs a string \"{name}\""))
            })
        };
        match code {
            "0" => {
                let text = v.as_str().ok_or_else(|| {
                    AiError::Malformed("a text part (0:) must hold a string".into())
                })?;
                self.builder.push_text(text, out)?;
            }
            "3" => {
                let message = v.as_str().unwrap_or("no message");
                return Err(AiError::Upstream(message.to_owned()));
            }
            "9" => {
                let id = str_field("toolCallId")?;
                let args = v.get("args").filter(|a| a.is_object()).ok_or_else(|| {
                    AiError::Malformed("a tool call part (9:) needs an object \"args\"".into())
                })?;
                let index = self.index_for(id);
                self.builder.complete_tool_call(
                    index,
                    id,
                    str_field("toolName")?,
                    &crate::json_text(args),
                    out,
                )?;
            }
            "b" => {
                let id = str_field("toolCallId")?;
                let index = self.index_for(id);
                self.builder.push_tool_piece(
                    index,
                    Some(id),
                    Some(str_field("toolName")?),
                    None,
                    out,
                )?;
            }
            "c" => {
                let id = str_field("toolCallId")?;
                let Some(index) = self.builder.index_of_id(id) else {
                    return Err(AiError::Malformed(format!(
                        "arguments for tool call \"{id}\" before its start part (b:)"
                    )));
                };
                self.builder.push_tool_piece(
                    index,
                    None,
                    None,
                    Some(str_field("argsTextDelta")?),
                    out,
                )?;
            }
            "d" => {
                let reason = str_field("finishReason")?;
                self.builder.finish(Some(reason), out);
                self.done = true;
            }
            _ => {}
        }
        Ok(())
    }

    /// The index of the call with this id, or the next free one.
    fn index_for(&self, id: &str) -> usize {
        self.builder
            .index_of_id(id)
            .unwrap_or(self.builder.tool_call_count())
    }

    /// Ends the stream: the answer, or [`AiError::Truncated`] if the
    /// stream stopped before its end.
    pub fn finish(mut self) -> Result<Completion> {
        let mut out = Vec::new();
        if self.framing.is_none() && !self.head.is_empty() {
            // A stream shorter than one line: decide on what there is.
            let format = detect(&self.head, usize::MAX)?.unwrap_or(DocsStreamFormat::DataStreamV1);
            self.framing = Some(match format {
                DocsStreamFormat::UiMessageStream => Framing::Ui(SseParser::new(self.sse_limits)),
                DocsStreamFormat::DataStreamV1 => {
                    Framing::V1(LineSplitter::new(self.sse_limits.max_line_bytes))
                }
            });
            let head = std::mem::take(&mut self.head);
            self.feed(&head, &mut out)?;
        }
        match self.framing.take() {
            Some(Framing::Ui(p)) => {
                if let Some(ev) = p.finish()? {
                    self.ui_event(&ev.data, &mut out)?;
                }
            }
            Some(Framing::V1(lines)) => {
                if let Some(line) = lines.finish()? {
                    self.v1_line(&line, &mut out)?;
                }
            }
            None => {}
        }
        if !self.done && !self.builder.is_finished() {
            return Err(AiError::Truncated);
        }
        self.builder.build()
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Tells the framing from the stream's start, once a whole first line (or
/// enough of it) is there.
fn detect(head: &[u8], max_line: usize) -> Result<Option<DocsStreamFormat>> {
    // Skip a byte-order mark and blank lines before the first content.
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body
        .iter()
        .position(|b| *b != b'\n' && *b != b'\r')
        .unwrap_or(body.len());
    let first = &body[start..];
    if first.len() < 2 {
        if head.len() > max_line {
            return Err(AiError::LineTooLong { limit: max_line });
        }
        return Ok(None);
    }
    // `d:` (a v1 finish part) and `data:` share their first byte: a v1
    // part is one code character then the colon.
    let v1_code = matches!(first[0], b'0'..=b'9' | b'a'..=b'k');
    if v1_code && first[1] == b':' {
        return Ok(Some(DocsStreamFormat::DataStreamV1));
    }
    const SSE_STARTS: [&[u8]; 5] = [b":", b"data:", b"event:", b"id:", b"retry:"];
    if SSE_STARTS.iter().any(|s| first.starts_with(s)) {
        return Ok(Some(DocsStreamFormat::UiMessageStream));
    }
    // Wait for enough bytes to tell `data:` from noise.
    let line_end = first.iter().position(|b| *b == b'\n' || *b == b'\r');
    if line_end.is_none() && first.len() < 6 && SSE_STARTS.iter().any(|s| s.starts_with(first)) {
        return Ok(None);
    }
    Err(AiError::Malformed(
        "neither a UI message stream (`data: {...}`) nor a data stream (`0:\"...\"`)".into(),
    ))
}

/// Splits bytes into `\n`-ended UTF-8 lines (a `\r` before `\n` is
/// dropped), capped.
#[derive(Debug, Clone)]
struct LineSplitter {
    max: usize,
    line: Vec<u8>,
}

impl LineSplitter {
    fn new(max: usize) -> Self {
        LineSplitter {
            max,
            line: Vec::new(),
        }
    }

    fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            self.extend(&bytes[..end])?;
            bytes = &bytes[end + 1..];
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            out.push(String::from_utf8(line).map_err(|_| AiError::NotUtf8)?);
        }
        self.extend(bytes)?;
        Ok(out)
    }

    fn extend(&mut self, part: &[u8]) -> Result<()> {
        if self.line.len() + part.len() > self.max {
            return Err(AiError::LineTooLong { limit: self.max });
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn finish(self) -> Result<Option<String>> {
        if self.line.is_empty() {
            return Ok(None);
        }
        String::from_utf8(self.line)
            .map(Some)
            .map_err(|_| AiError::NotUtf8)
    }
}

/// Writes the UI message stream (AI SDK 5–7) the way pydantic-ai's
/// `VercelAIAdapter` does for Docs: `data: {json}\n\n`, camelCase fields
/// in its order, no `null`s. For test servers and Docs-compatible
/// endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct UiStreamWriter;

#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
enum UiChunk<'a> {
    Start {
        #[serde(skip_serializing_if = "Option::is_none")]
        message_id: Option<&'a str>,
    },
    StartStep,
    FinishStep,
    TextStart {
        id: &'a str,
    },
    TextDelta {
        delta: &'a str,
        id: &'a str,
    },
    TextEnd {
        id: &'a str,
    },
    ToolInputStart {
        tool_call_id: &'a str,
        tool_name: &'a str,
    },
    ToolInputDelta {
        tool_call_id: &'a str,
        input_text_delta: &'a str,
    },
    Error {
        error_text: &'a str,
    },
    Finish {
        #[serde(skip_serializing_if = "Option::is_none")]
        finish_reason: Option<&'a str>,
    },
}

fn ui(chunk: &UiChunk<'_>) -> String {
    data_event(&serde_json::to_string(chunk).unwrap_or_else(|_| "{}".into()))
}

impl UiStreamWriter {
    /// `{"type":"start"}`.
    pub fn start(&self) -> String {
        ui(&UiChunk::Start { message_id: None })
    }
    /// `{"type":"start-step"}`.
    pub fn start_step(&self) -> String {
        ui(&UiChunk::StartStep)
    }
    /// `{"type":"finish-step"}`.
    pub fn finish_step(&self) -> String {
        ui(&UiChunk::FinishStep)
    }
    /// `{"type":"text-start","id":…}`.
    pub fn text_start(&self, id: &str) -> String {
        ui(&UiChunk::TextStart { id })
    }
    /// `{"type":"text-delta","delta":…,"id":…}`.
    pub fn text_delta(&self, id: &str, delta: &str) -> String {
        ui(&UiChunk::TextDelta { delta, id })
    }
    /// `{"type":"text-end","id":…}`.
    pub fn text_end(&self, id: &str) -> String {
        ui(&UiChunk::TextEnd { id })
    }
    /// `{"type":"tool-input-start","toolCallId":…,"toolName":…}`.
    pub fn tool_input_start(&self, call_id: &str, name: &str) -> String {
        ui(&UiChunk::ToolInputStart {
            tool_call_id: call_id,
            tool_name: name,
        })
    }
    /// `{"type":"tool-input-delta","toolCallId":…,"inputTextDelta":…}`.
    pub fn tool_input_delta(&self, call_id: &str, delta: &str) -> String {
        ui(&UiChunk::ToolInputDelta {
            tool_call_id: call_id,
            input_text_delta: delta,
        })
    }
    /// `{"type":"tool-input-available","toolCallId":…,"toolName":…,"input":…}`,
    /// `input_json` written as given (key order kept), or `null` when it
    /// is not JSON.
    pub fn tool_input_available(&self, call_id: &str, name: &str, input_json: &str) -> String {
        let input = if serde_json::from_str::<Value>(input_json).is_ok() {
            input_json
        } else {
            "null"
        };
        let head = serde_json::to_string(&UiChunk::ToolInputStart {
            tool_call_id: call_id,
            tool_name: name,
        })
        .unwrap_or_else(|_| "{}".into());
        // The same fields as a tool-input-start, renamed, plus the input.
        let body = head.strip_suffix('}').unwrap_or(&head).replacen(
            "tool-input-start",
            "tool-input-available",
            1,
        );
        data_event(&format!("{body},\"input\":{input}}}"))
    }
    /// `{"type":"error","errorText":…}`.
    pub fn error(&self, text: &str) -> String {
        ui(&UiChunk::Error { error_text: text })
    }
    /// `{"type":"finish"}`, with `finishReason` when given.
    pub fn finish(&self, reason: Option<&str>) -> String {
        ui(&UiChunk::Finish {
            finish_reason: reason,
        })
    }
    /// `[DONE]`.
    pub fn done(&self) -> String {
        data_event("[DONE]")
    }
}

/// Writes data stream v1 parts (AI SDK 4): `CODE:JSON\n`, fields in the
/// SDK's order.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataStreamV1Writer;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1ToolStart<'a> {
    tool_call_id: &'a str,
    tool_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1ToolDelta<'a> {
    tool_call_id: &'a str,
    args_text_delta: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct V1Finish<'a> {
    finish_reason: &'a str,
    usage: V1Usage,
}

impl DataStreamV1Writer {
    fn part(code: char, value: &impl Serialize) -> String {
        let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        format!("{code}:{json}\n")
    }
    /// `0:"text"`.
    pub fn text(&self, text: &str) -> String {
        Self::part('0', &text)
    }
    /// `b:{"toolCallId","toolName"}`.
    pub fn tool_call_start(&self, call_id: &str, name: &str) -> String {
        Self::part(
            'b',
            &V1ToolStart {
                tool_call_id: call_id,
                tool_name: name,
            },
        )
    }
    /// `c:{"toolCallId","argsTextDelta"}`.
    pub fn tool_call_delta(&self, call_id: &str, delta: &str) -> String {
        Self::part(
            'c',
            &V1ToolDelta {
                tool_call_id: call_id,
                args_text_delta: delta,
            },
        )
    }
    /// `9:{"toolCallId","toolName","args"}`, `args_json` written as given
    /// (`{}` when it is not a JSON object).
    pub fn tool_call(&self, call_id: &str, name: &str, args_json: &str) -> String {
        let args = match serde_json::from_str::<Value>(args_json) {
            Ok(Value::Object(_)) => args_json,
            _ => "{}",
        };
        let head = Self::part(
            '9',
            &V1ToolStart {
                tool_call_id: call_id,
                tool_name: name,
            },
        );
        let head = head
            .trim_end()
            .strip_suffix('}')
            .unwrap_or(head.trim_end())
            .to_owned();
        format!("{head},\"args\":{args}}}\n")
    }
    /// `3:"message"`.
    pub fn error(&self, message: &str) -> String {
        Self::part('3', &message)
    }
    /// `d:{"finishReason","usage":{"promptTokens","completionTokens"}}`.
    pub fn finish(&self, reason: &str, prompt_tokens: u32, completion_tokens: u32) -> String {
        Self::part(
            'd',
            &V1Finish {
                finish_reason: reason,
                usage: V1Usage {
                    prompt_tokens,
                    completion_tokens,
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What Docs (pydantic-ai's VercelAIAdapter, SDK version 6) sends for
    /// a tool call, byte for byte, with the arguments cut mid-string.
    const UI_WIRE: &str = concat!(
        "data: {\"type\":\"start\"}\n\n",
        "data: {\"type\":\"start-step\"}\n\n",
        "data: {\"type\":\"text-start\",\"id\":\"t1\"}\n\n",
        "data: {\"type\":\"text-delta\",\"delta\":\"Je modifie \",\"id\":\"t1\"}\n\n",
        "data: {\"type\":\"text-delta\",\"delta\":\"le bloc.\",\"id\":\"t1\"}\n\n",
        "data: {\"type\":\"text-end\",\"id\":\"t1\"}\n\n",
        "data: {\"type\":\"tool-input-start\",\"toolCallId\":\"call_1\",\"toolName\":\"applyDocumentOperations\"}\n\n",
        "data: {\"type\":\"tool-input-delta\",\"toolCallId\":\"call_1\",\"inputTextDelta\":\"{\\\"operations\\\": [{\\\"type\\\": \\\"upd\"}\n\n",
        "data: {\"type\":\"tool-input-delta\",\"toolCallId\":\"call_1\",\"inputTextDelta\":\"ate\\\", \\\"id\\\": \\\"b1$\\\", \\\"block\\\": \\\"<p>Été</p>\\\"}]}\"}\n\n",
        "data: {\"type\":\"tool-input-available\",\"toolCallId\":\"call_1\",\"toolName\":\"applyDocumentOperations\",\"input\":{\"operations\":[{\"type\":\"update\",\"id\":\"b1$\",\"block\":\"<p>Été</p>\"}]}}\n\n",
        "data: {\"type\":\"finish-step\"}\n\n",
        "data: {\"type\":\"finish\",\"finishReason\":\"tool-calls\"}\n\n",
        "data: [DONE]\n\n",
    );

    /// The same answer in the AI SDK 4 data stream.
    const V1_WIRE: &str = concat!(
        "f:{\"messageId\":\"msg-1\"}\n",
        "0:\"Je modifie \"\n",
        "0:\"le bloc.\"\n",
        "b:{\"toolCallId\":\"call_1\",\"toolName\":\"applyDocumentOperations\"}\n",
        "c:{\"toolCallId\":\"call_1\",\"argsTextDelta\":\"{\\\"operations\\\": [{\\\"type\\\": \\\"upd\"}\n",
        "c:{\"toolCallId\":\"call_1\",\"argsTextDelta\":\"ate\\\", \\\"id\\\": \\\"b1$\\\", \\\"block\\\": \\\"<p>Été</p>\\\"}]}\"}\n",
        "9:{\"toolCallId\":\"call_1\",\"toolName\":\"applyDocumentOperations\",\"args\":{\"operations\":[{\"type\":\"update\",\"id\":\"b1$\",\"block\":\"<p>Été</p>\"}]}}\n",
        "e:{\"finishReason\":\"tool-calls\",\"usage\":{\"promptTokens\":10,\"completionTokens\":20},\"isContinued\":false}\n",
        "d:{\"finishReason\":\"tool-calls\",\"usage\":{\"promptTokens\":10,\"completionTokens\":20}}\n",
    );

    fn decode(
        parts: &[&[u8]],
    ) -> Result<(Vec<StreamUpdate>, Completion, Option<DocsStreamFormat>)> {
        let mut d = DocsStreamDecoder::default();
        let mut updates = Vec::new();
        for p in parts {
            updates.extend(d.push(p)?);
        }
        let format = d.format();
        Ok((updates, d.finish()?, format))
    }

    fn check(c: &Completion) {
        assert_eq!(c.text, "Je modifie le bloc.");
        assert_eq!(c.tool_calls.len(), 1);
        assert_eq!(c.tool_calls[0].id, "call_1");
        assert_eq!(c.tool_calls[0].function.name, "applyDocumentOperations");
        let args: Value = serde_json::from_str(&c.tool_calls[0].function.arguments).expect("JSON");
        assert_eq!(args["operations"][0]["block"], "<p>Été</p>");
        assert_eq!(c.finish_reason.as_deref(), Some("tool-calls"));
    }

    #[test]
    fn both_framings_give_the_same_answer() {
        let (ui_updates, ui, f) = decode(&[UI_WIRE.as_bytes()]).expect("valid");
        assert_eq!(f, Some(DocsStreamFormat::UiMessageStream));
        check(&ui);
        let (v1_updates, v1, f) = decode(&[V1_WIRE.as_bytes()]).expect("valid");
        assert_eq!(f, Some(DocsStreamFormat::DataStreamV1));
        check(&v1);
        assert_eq!(ui_updates, v1_updates);
    }

    #[test]
    fn the_writers_emit_what_the_decoder_reads() {
        let w = UiStreamWriter;
        let input = r#"{"operations":[{"type":"update","id":"b1$","block":"<p>Été</p>"}]}"#;
        let wire = [
            w.start(),
            w.start_step(),
            w.text_start("t1"),
            w.text_delta("t1", "Je modifie "),
            w.text_delta("t1", "le bloc."),
            w.text_end("t1"),
            w.tool_input_start("call_1", "applyDocumentOperations"),
            w.tool_input_delta("call_1", "{\"operations\": [{\"type\": \"upd"),
            w.tool_input_delta(
                "call_1",
                "ate\", \"id\": \"b1$\", \"block\": \"<p>Été</p>\"}]}",
            ),
            w.tool_input_available("call_1", "applyDocumentOperations", input),
            w.finish_step(),
            w.finish(Some("tool-calls")),
            w.done(),
        ]
        .concat();
        assert_eq!(wire, UI_WIRE, "byte-exact with pydantic-ai's encoding");
        let v = DataStreamV1Writer;
        let v1 = [
            v.text("Je modifie "),
            v.text("le bloc."),
            v.tool_call_start("call_1", "applyDocumentOperations"),
            v.tool_call_delta("call_1", "{\"operations\": []}"),
            v.finish("tool-calls", 1, 2),
        ]
        .concat();
        assert!(v1.ends_with("d:{\"finishReason\":\"tool-calls\",\"usage\":{\"promptTokens\":1,\"completionTokens\":2}}\n"));
        assert_eq!(
            v.tool_call("c", "f", "{\"b\":1,\"a\":2}"),
            "9:{\"toolCallId\":\"c\",\"toolName\":\"f\",\"args\":{\"b\":1,\"a\":2}}\n"
        );
        let (_, c, _) = decode(&[v1.as_bytes()]).expect("valid");
        assert_eq!(c.tool_calls[0].function.arguments, "{\"operations\": []}");
    }

    #[test]
    fn errors_aborts_and_truncation_are_reported() {
        let w = UiStreamWriter;
        let wire = [
            w.start(),
            w.text_delta("t", "x"),
            w.error("Rate limit exceeded"),
        ]
        .concat();
        assert_eq!(
            decode(&[wire.as_bytes()]).map(|_| ()),
            Err(AiError::Upstream("Rate limit exceeded".into()))
        );
        let aborted = w.start() + "data: {\"type\":\"abort\",\"reason\":\"cancelled\"}\n\n";
        assert!(matches!(
            decode(&[aborted.as_bytes()]),
            Err(AiError::Upstream(m)) if m.contains("cancelled")
        ));
        let v1_error = "0:\"a\"\n3:\"An error occurred.\"\n";
        assert_eq!(
            decode(&[v1_error.as_bytes()]).map(|_| ()),
            Err(AiError::Upstream("An error occurred.".into()))
        );
        let cut = [w.start(), w.text_delta("t", "x")].concat();
        assert_eq!(
            decode(&[cut.as_bytes()]).map(|_| ()),
            Err(AiError::Truncated)
        );
        assert_eq!(decode(&[b"0:\"a\"\n"]).map(|_| ()), Err(AiError::Truncated));
        assert_eq!(decode(&[b""]).map(|_| ()), Err(AiError::Truncated));
    }

    #[test]
    fn malformed_parts_are_errors() {
        for bad in [
            "z:\"x\"\nd:{\"finishReason\":\"stop\"}\n",
            "0:notjson\n",
            "0:{\"a\":1}\n",
            "c:{\"toolCallId\":\"nope\",\"argsTextDelta\":\"{\"}\n",
            "9:{\"toolCallId\":\"x\",\"toolName\":\"f\",\"args\":\"string\"}\n",
            "data: {\"no\":\"type\"}\n\n",
            "data: {\"type\":\"text-delta\"}\n\n",
            "data: {\"type\":\"tool-input-delta\",\"toolCallId\":\"x\",\"inputTextDelta\":\"{\"}\n\n",
            "data: not json\n\n",
        ] {
            assert!(
                matches!(decode(&[bad.as_bytes()]), Err(AiError::Malformed(_))),
                "{bad:?} → {:?}",
                decode(&[bad.as_bytes()]).map(|r| r.1)
            );
        }
    }

    #[test]
    fn unknown_ui_event_types_are_skipped() {
        let w = UiStreamWriter;
        let wire = [
            w.start(),
            "data: {\"type\":\"data-progress\",\"data\":{\"pct\":5}}\n\n".into(),
            "data: {\"type\":\"reasoning-delta\",\"id\":\"r\",\"delta\":\"hmm\"}\n\n".into(),
            "data: {\"type\":\"some-future-part\"}\n\n".into(),
            w.text_delta("t", "ok"),
            w.finish(None),
            w.done(),
        ]
        .concat();
        let (_, c, _) = decode(&[wire.as_bytes()]).expect("valid");
        assert_eq!(c.text, "ok");
        assert_eq!(c.finish_reason, None);
    }

    fn splits<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut parts = Vec::new();
        let mut at = 0;
        for p in points {
            parts.push(&bytes[at..p]);
            at = p;
        }
        parts.push(&bytes[at..]);
        parts
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any split of either framing decodes the same as the whole.
        #[test]
        fn any_split_decodes_the_same(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16)) {
            for wire in [UI_WIRE, V1_WIRE] {
                let whole = decode(&[wire.as_bytes()]).expect("valid");
                let split = decode(&splits(wire.as_bytes(), &cuts)).expect("valid when split");
                prop_assert_eq!(&whole.0, &split.0);
                prop_assert_eq!(&whole.1, &split.1);
                prop_assert_eq!(whole.2, split.2);
            }
        }

        /// Arbitrary and mutated input never panics.
        #[test]
        fn arbitrary_input_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let _ = decode(&[&bytes]);
            for wire in [UI_WIRE, V1_WIRE] {
                let mut m = wire.as_bytes().to_vec();
                let i = at.index(m.len());
                m[i] = byte;
                let _ = decode(&[&m]);
            }
        }
    }
}
