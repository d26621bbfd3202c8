//! The OpenAI streaming format, both ways: server-sent events whose data
//! is one `chat.completion.chunk` JSON object each, ending with the event
//! `data: [DONE]`.
//!
//! ```text
//! data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
//!
//! data: {"id":"c1",…,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"applyDocumentOperations","arguments":""}}]},"finish_reason":null}]}
//!
//! data: {"id":"c1",…,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"operations\":"}}]},"finish_reason":null}]}
//!
//! data: {"id":"c1",…,"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
//!
//! data: [DONE]
//!
//! ```
//!
//! A tool call arrives in pieces that share its `index`: the first names
//! it (`id`, `function.name`), the others carry fragments of
//! `function.arguments`, a JSON text cut anywhere (inside a string, an
//! escape, a multi-byte character's JSON escape). [`ChatStreamDecoder`]
//! accumulates them with a [`CompletionBuilder`]. An error inside the
//! stream (`data: {"error": {...}}`, or an event named `error`) ends it
//! with [`AiError::Upstream`]. Only choice 0 is read.
//!
//! ```
//! use atelier_ai::chat_stream::{ChatStreamDecoder, ChunkWriter};
//! let w = ChunkWriter::new("c1", "m", 1);
//! let wire = [w.role(), w.text("Bonjour"), w.finish("stop"), ChunkWriter::done()].concat();
//! let mut d = ChatStreamDecoder::default();
//! d.push(wire.as_bytes()).unwrap();
//! let answer = d.finish().unwrap();
//! assert_eq!(answer.text, "Bonjour");
//! assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
//! ```

use crate::completion::{Completion, CompletionBuilder, CompletionLimits, StreamUpdate};
use crate::error::{AiError, Result};
use crate::openai::{
    ChatCompletionChunk, ChunkChoice, Delta, ErrorBody, FunctionCallDelta, Role, ToolCallDelta,
    Usage,
};
use crate::sse::{SseLimits, SseParser, data_event};
use serde_json::{Map, Value};

/// Decodes an OpenAI chat-completions stream into updates and an answer.
#[derive(Debug, Clone)]
pub struct ChatStreamDecoder {
    sse: SseParser,
    builder: CompletionBuilder,
    done: bool,
    id: Option<String>,
    model: Option<String>,
}

impl Default for ChatStreamDecoder {
    fn default() -> Self {
        ChatStreamDecoder::new(SseLimits::default(), CompletionLimits::default())
    }
}

impl ChatStreamDecoder {
    /// A decoder with these caps.
    pub fn new(sse: SseLimits, limits: CompletionLimits) -> Self {
        ChatStreamDecoder {
            sse: SseParser::new(sse),
            builder: CompletionBuilder::new(limits),
            done: false,
            id: None,
            model: None,
        }
    }

    /// Whether `[DONE]` was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The completion id the server gave, once seen.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The model the server named, once seen.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The text so far (what a pane shows after an error).
    pub fn text(&self) -> &str {
        self.builder.text()
    }

    /// Feeds bytes as they arrive; returns what they changed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<StreamUpdate>> {
        let mut out = Vec::new();
        for event in self.sse.push(bytes)? {
            self.event(event.event.as_deref(), &event.data, &mut out)?;
        }
        Ok(out)
    }

    /// Feeds one whole chunk that is already decoded (the proxy reads the
    /// chunks it forwards this way).
    pub fn push_chunk(&mut self, chunk: &ChatCompletionChunk) -> Result<Vec<StreamUpdate>> {
        let mut out = Vec::new();
        self.chunk(chunk, &mut out)?;
        Ok(out)
    }

    fn event(&mut self, name: Option<&str>, data: &str, out: &mut Vec<StreamUpdate>) -> Result<()> {
        if self.done {
            // Anything after [DONE] is no part of the answer.
            return Ok(());
        }
        if name == Some("error") {
            return Err(AiError::Upstream(
                ErrorBody::message_of(data).unwrap_or_else(|| data.to_owned()),
            ));
        }
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunk = parse_chunk(data)?;
        self.chunk(&chunk, out)
    }

    fn chunk(&mut self, chunk: &ChatCompletionChunk, out: &mut Vec<StreamUpdate>) -> Result<()> {
        if self.id.is_none() {
            self.id = Some(chunk.id.clone());
            self.model = Some(chunk.model.clone());
        }
        if let Some(usage) = chunk.usage {
            self.builder.set_usage(usage);
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            if let Some(text) = &choice.delta.content {
                self.builder.push_text(text, out)?;
            }
            for piece in choice.delta.tool_calls.iter().flatten() {
                let index = match piece.index {
                    Some(i) => i as usize,
                    // Without an index: the call with this id, a new call
                    // for a new id, else the last call.
                    None => match piece.id.as_deref() {
                        Some(id) => self
                            .builder
                            .index_of_id(id)
                            .unwrap_or(self.builder.tool_call_count()),
                        None => self.builder.tool_call_count().saturating_sub(1),
                    },
                };
                let f = piece.function.as_ref();
                self.builder.push_tool_piece(
                    index,
                    piece.id.as_deref(),
                    f.and_then(|f| f.name.as_deref()),
                    f.and_then(|f| f.arguments.as_deref()),
                    out,
                )?;
            }
            if let Some(reason) = &choice.finish_reason {
                self.builder.finish(Some(reason), out);
            }
        }
        Ok(())
    }

    /// Ends the stream: the answer, or [`AiError::Truncated`] when neither
    /// `[DONE]` nor a finish reason arrived.
    pub fn finish(mut self) -> Result<Completion> {
        let mut out = Vec::new();
        let sse = std::mem::replace(&mut self.sse, SseParser::new(SseLimits::default()));
        if let Some(event) = sse.finish()? {
            self.event(event.event.as_deref(), &event.data, &mut out)?;
        }
        if !self.done && !self.builder.is_finished() {
            return Err(AiError::Truncated);
        }
        self.builder.build()
    }
}

/// Parses one chunk's JSON, telling an in-stream error from a bad chunk.
///
/// The chunk is read from a [`Value`] field by field rather than by the
/// derived deserializer: serde's type-mismatch errors Debug-format the
/// offending string, which links core's Unicode tables into every browser
/// bundle that decodes a stream. It accepts what the derived
/// deserializer accepts (unknown fields ignored, `null` for an absent
/// optional field).
pub fn parse_chunk(data: &str) -> Result<ChatCompletionChunk> {
    let chunk = serde_json::from_str::<Value>(data)
        .map_err(|e| e.to_string())
        .and_then(|v| chunk_of(&v));
    match chunk {
        Ok(c) => Ok(c),
        Err(e) => match ErrorBody::message_of(data) {
            Some(message) => Err(AiError::Upstream(message)),
            None => Err(AiError::Malformed(format!(
                "not a chat.completion.chunk: {e}"
            ))),
        },
    }
}

type Field<T> = std::result::Result<T, String>;

fn object<'a>(v: &'a Value, what: &str) -> Field<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

/// A field that may be absent or `null`.
fn optional<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).filter(|v| !v.is_null())
}

fn string(o: &Map<String, Value>, name: &str) -> Field<String> {
    opt_string(o, name)?.ok_or_else(|| format!("missing field `{name}`"))
}

fn opt_string(o: &Map<String, Value>, name: &str) -> Field<Option<String>> {
    optional(o, name)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`{name}` is not a string"))
        })
        .transpose()
}

fn opt_u32(o: &Map<String, Value>, name: &str) -> Field<Option<u32>> {
    optional(o, name)
        .map(|v| {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("`{name}` is not a u32"))
        })
        .transpose()
}

fn u32_field(o: &Map<String, Value>, name: &str) -> Field<u32> {
    opt_u32(o, name)?.ok_or_else(|| format!("missing field `{name}`"))
}

fn chunk_of(v: &Value) -> Field<ChatCompletionChunk> {
    let o = object(v, "the chunk")?;
    let created = optional(o, "created")
        .ok_or("missing field `created`")?
        .as_u64()
        .ok_or("`created` is not a u64")?;
    let choices = match optional(o, "choices") {
        Some(Value::Array(items)) => items.iter().map(choice_of).collect::<Field<Vec<_>>>()?,
        Some(_) => return Err("`choices` is not an array".into()),
        None => return Err("missing field `choices`".into()),
    };
    let usage = optional(o, "usage")
        .map(|u| {
            let u = object(u, "`usage`")?;
            Ok::<_, String>(Usage {
                prompt_tokens: u32_field(u, "prompt_tokens")?,
                completion_tokens: u32_field(u, "completion_tokens")?,
                total_tokens: u32_field(u, "total_tokens")?,
            })
        })
        .transpose()?;
    Ok(ChatCompletionChunk {
        id: string(o, "id")?,
        object: string(o, "object")?,
        created,
        model: string(o, "model")?,
        choices,
        usage,
    })
}

fn choice_of(v: &Value) -> Field<ChunkChoice> {
    let o = object(v, "a choice")?;
    let d = object(
        optional(o, "delta").ok_or("missing field `delta`")?,
        "`delta`",
    )?;
    let role = opt_string(d, "role")?
        .map(|r| match r.as_str() {
            "system" => Ok(Role::System),
            "developer" => Ok(Role::Developer),
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "tool" => Ok(Role::Tool),
            _ => Err("unknown `role`".to_owned()),
        })
        .transpose()?;
    let tool_calls = match optional(d, "tool_calls") {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(tool_call_delta_of)
                .collect::<Field<Vec<_>>>()?,
        ),
        Some(_) => return Err("`tool_calls` is not an array".into()),
        None => None,
    };
    Ok(ChunkChoice {
        index: u32_field(o, "index")?,
        delta: Delta {
            role,
            content: opt_string(d, "content")?,
            tool_calls,
        },
        finish_reason: opt_string(o, "finish_reason")?,
    })
}

fn tool_call_delta_of(v: &Value) -> Field<ToolCallDelta> {
    let o = object(v, "a tool call")?;
    let function = optional(o, "function")
        .map(|f| {
            let f = object(f, "`function`")?;
            Ok::<_, String>(FunctionCallDelta {
                name: opt_string(f, "name")?,
                arguments: opt_string(f, "arguments")?,
            })
        })
        .transpose()?;
    Ok(ToolCallDelta {
        index: opt_u32(o, "index")?,
        id: opt_string(o, "id")?,
        kind: opt_string(o, "type")?,
        function,
    })
}

/// Writes the chunks of one streamed answer, each as a complete SSE event
/// (`data: {json}\n\n`), compact JSON, `finish_reason` always present
/// (`null` until the last chunk), as OpenAI writes them.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    id: String,
    model: String,
    created: u64,
}

impl ChunkWriter {
    /// A writer for completion `id` by `model`, created at Unix second
    /// `created`.
    pub fn new(id: &str, model: &str, created: u64) -> Self {
        ChunkWriter {
            id: id.to_owned(),
            model: model.to_owned(),
            created,
        }
    }

    /// The chunk with this delta and finish reason.
    pub fn chunk(&self, delta: Delta, finish_reason: Option<&str>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish_reason.map(str::to_owned),
            }],
            usage: None,
        }
    }

    /// One chunk as an SSE event.
    pub fn event(chunk: &ChatCompletionChunk) -> String {
        // Serializing these plain structs cannot fail; an empty object
        // would still be valid JSON for the reader.
        let json = serde_json::to_string(chunk).unwrap_or_else(|_| "{}".into());
        data_event(&json)
    }

    /// The first chunk: the role, empty content.
    pub fn role(&self) -> String {
        Self::event(&self.chunk(
            Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                tool_calls: None,
            },
            None,
        ))
    }

    /// More text.
    pub fn text(&self, text: &str) -> String {
        Self::event(&self.chunk(
            Delta {
                content: Some(text.to_owned()),
                ..Default::default()
            },
            None,
        ))
    }

    /// The first piece of tool call `index`: its id and name, no arguments.
    pub fn tool_call_start(&self, index: u32, id: &str, name: &str) -> String {
        Self::event(&self.chunk(
            Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: Some(index),
                    id: Some(id.to_owned()),
                    kind: Some("function".into()),
                    function: Some(FunctionCallDelta {
                        name: Some(name.to_owned()),
                        arguments: Some(String::new()),
                    }),
                }]),
                ..Default::default()
            },
            None,
        ))
    }

    /// A fragment of tool call `index`'s arguments.
    pub fn tool_call_arguments(&self, index: u32, fragment: &str) -> String {
        Self::event(&self.chunk(
            Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: Some(index),
                    id: None,
                    kind: None,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(fragment.to_owned()),
                    }),
                }]),
                ..Default::default()
            },
            None,
        ))
    }

    /// The last chunk: an empty delta and why the model stopped.
    pub fn finish(&self, reason: &str) -> String {
        Self::event(&self.chunk(Delta::default(), Some(reason)))
    }

    /// A usage-only chunk (no choices), as sent with
    /// `stream_options.include_usage`.
    pub fn usage(&self, usage: Usage) -> String {
        let mut chunk = self.chunk(Delta::default(), None);
        chunk.choices.clear();
        chunk.usage = Some(usage);
        Self::event(&chunk)
    }

    /// An error inside the stream, as OpenAI sends it.
    pub fn error(message: &str, kind: &str) -> String {
        let body = ErrorBody::new(message, kind, None);
        data_event(&serde_json::to_string(&body).unwrap_or_else(|_| "{}".into()))
    }

    /// The end marker.
    pub fn done() -> String {
        data_event("[DONE]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hand-written reader accepts and refuses what the derived
    /// deserializer does, and reads the same chunk.
    #[test]
    fn chunks_read_as_the_derived_deserializer_reads_them() {
        let w = ChunkWriter::new("c1", "m", 7);
        let mut cases: Vec<String> = [
            w.role(),
            w.text("Bon\"jour"),
            w.tool_call_start(0, "call_0", "applyDocumentOperations"),
            w.tool_call_arguments(0, "{\"op"),
            w.finish("stop"),
        ]
        .iter()
        .map(|e| e.trim_start_matches("data: ").trim_end().to_owned())
        .collect();
        cases.extend(
            [
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"extra":true}"#,
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[{"index":0,"delta":{"role":null,"content":null,"tool_calls":null},"finish_reason":null}],"usage":null}"#,
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"x"}}]}}]}"#,
                r#"{"object":"o","created":1,"model":"m","choices":[]}"#,
                r#"{"id":"c","object":"o","created":-1,"model":"m","choices":[]}"#,
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[{"index":0}]}"#,
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"robot"}}]}"#,
                r#"{"id":"c","object":"o","created":1,"model":"m","choices":[{"index":5000000000,"delta":{}}]}"#,
                r#"{"id":3,"object":"o","created":1,"model":"m","choices":[]}"#,
                r#"[1,2]"#,
                r#"{"id":"c""#,
            ]
            .map(str::to_owned),
        );
        for case in &cases {
            let derived = serde_json::from_str::<ChatCompletionChunk>(case).ok();
            let read = parse_chunk(case).ok();
            assert_eq!(read, derived, "{case}");
        }
    }

    /// A stream as vLLM and OpenAI send it, byte for byte: text, then a
    /// tool call whose arguments are cut inside a string, an escape and a
    /// multi-byte character, then a second call, usage and `[DONE]`.
    const WIRE: &str = concat!(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Voilà \"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"applyDocumentOperations\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"operations\\\":[{\\\"type\\\":\\\"upd\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ate\\\",\\\"id\\\":\\\"b1$\\\",\\\"block\\\":\\\"<p>caf\\\\u00\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"e9 é</p>\\\"}]}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"other\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}\n\n",
        "data: [DONE]\n\n",
    );

    fn decode(parts: &[&[u8]]) -> Result<(Vec<StreamUpdate>, Completion)> {
        let mut d = ChatStreamDecoder::default();
        let mut updates = Vec::new();
        for p in parts {
            updates.extend(d.push(p)?);
        }
        Ok((updates, d.finish()?))
    }

    #[test]
    fn tool_call_pieces_accumulate_by_index() {
        let (updates, c) = decode(&[WIRE.as_bytes()]).expect("valid");
        assert_eq!(c.text, "Voilà ");
        assert_eq!(c.tool_calls.len(), 2);
        assert_eq!(c.tool_calls[0].id, "call_a");
        assert_eq!(c.tool_calls[0].function.name, "applyDocumentOperations");
        let args: serde_json::Value =
            serde_json::from_str(&c.tool_calls[0].function.arguments).expect("JSON once whole");
        assert_eq!(args["operations"][0]["block"], "<p>café é</p>");
        assert_eq!(c.tool_calls[1].function.arguments, "{}");
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(c.usage.map(|u| u.total_tokens), Some(21));
        assert!(matches!(updates[0], StreamUpdate::Text { .. }));
        assert!(matches!(
            updates[1],
            StreamUpdate::ToolCallStarted { index: 0, .. }
        ));
    }

    #[test]
    fn the_writer_emits_what_the_decoder_reads() {
        let w = ChunkWriter::new("chatcmpl-1", "m", 1700000000);
        let wire = [
            w.role(),
            w.text("Voilà "),
            w.tool_call_start(0, "call_a", "applyDocumentOperations"),
            w.tool_call_arguments(0, "{\"operations\":[]}"),
            w.finish("tool_calls"),
            w.usage(Usage {
                prompt_tokens: 1,
                completion_tokens: 2,
                total_tokens: 3,
            }),
            ChunkWriter::done(),
        ]
        .concat();
        // Byte-exact with what OpenAI sends for the same pieces.
        assert!(wire.starts_with(&WIRE[..WIRE.find("\n\n").expect("event") + 2]));
        let (_, c) = decode(&[wire.as_bytes()]).expect("valid");
        assert_eq!(c.text, "Voilà ");
        assert_eq!(c.tool_calls[0].function.arguments, "{\"operations\":[]}");
    }

    #[test]
    fn an_error_mid_stream_is_reported_with_its_message() {
        let w = ChunkWriter::new("c", "m", 1);
        let wire = [
            w.role(),
            w.text("Par"),
            ChunkWriter::error("The server had an error", "server_error"),
        ]
        .concat();
        let mut d = ChatStreamDecoder::default();
        let err = d.push(wire.as_bytes()).expect_err("error event");
        assert_eq!(err, AiError::Upstream("The server had an error".into()));
        assert_eq!(d.text(), "Par");
        let named = "event: error\ndata: {\"error\":\"overloaded\"}\n\n";
        assert_eq!(
            decode(&[named.as_bytes()]).map(|_| ()),
            Err(AiError::Upstream("overloaded".into()))
        );
    }

    #[test]
    fn malformed_and_truncated_streams_are_errors() {
        assert!(matches!(
            decode(&[b"data: {\"id\":3}\n\n"]),
            Err(AiError::Malformed(_))
        ));
        assert!(matches!(
            decode(&[b"data: not json\n\n"]),
            Err(AiError::Malformed(_))
        ));
        let w = ChunkWriter::new("c", "m", 1);
        let cut = [w.role(), w.text("half")].concat();
        assert_eq!(
            decode(&[cut.as_bytes()]).map(|_| ()),
            Err(AiError::Truncated)
        );
        // A finish reason without [DONE] is a complete answer (some
        // servers close right after it).
        let no_done = [w.role(), w.text("x"), w.finish("stop")].concat();
        assert_eq!(decode(&[no_done.as_bytes()]).expect("complete").1.text, "x");
        // Pieces of a call that never gets a name.
        let nameless = w.tool_call_arguments(0, "{}") + &ChunkWriter::done();
        assert!(matches!(
            decode(&[nameless.as_bytes()]),
            Err(AiError::Malformed(_))
        ));
    }

    #[test]
    fn pieces_without_an_index_follow_their_id() {
        let wire = concat!(
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"x\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]},\"finish_reason\":null}]}\n\n",
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"y\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
        );
        let (_, c) = decode(&[wire.as_bytes()]).expect("valid");
        assert_eq!(c.tool_calls.len(), 2);
        assert_eq!(c.tool_calls[0].function.arguments, "{\"a\":1}");
        assert_eq!(c.tool_calls[1].function.name, "g");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any split of a valid stream into reads gives the same updates
        /// (joined) and the same answer.
        #[test]
        fn any_split_decodes_the_same(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16)) {
            let bytes = WIRE.as_bytes();
            let (whole_updates, whole) = decode(&[bytes]).expect("valid");
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut parts: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for p in points {
                parts.push(&bytes[at..p]);
                at = p;
            }
            parts.push(&bytes[at..]);
            let (updates, split) = decode(&parts).expect("valid when split");
            prop_assert_eq!(whole, split);
            prop_assert_eq!(whole_updates, updates);
        }

        /// Any bytes, cut anywhere, give an answer or an error; never a panic.
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut d = ChatStreamDecoder::default();
            if d.push(&bytes).is_ok() {
                let _ = d.finish();
            }
        }

        /// Mutated valid streams never panic either.
        #[test]
        fn mutated_streams_never_panic(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = WIRE.as_bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let mut d = ChatStreamDecoder::default();
            if d.push(&bytes).is_ok() {
                let _ = d.finish();
            }
        }
    }
}
