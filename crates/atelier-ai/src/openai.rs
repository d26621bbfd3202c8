//! OpenAI-compatible chat-completions types: the request, the whole
//! answer, the streamed `chat.completion.chunk`, and the error body.
//!
//! Only the fields Atelier reads are typed; every other request field
//! (`top_p`, `stop`, `seed`, `stream_options`, a provider's own options)
//! is kept in `extra` and forwarded untouched, so the proxy never drops
//! what a client meant to send.
//!
//! ```
//! use atelier_ai::openai::ChatRequest;
//! let req: ChatRequest = serde_json::from_str(
//!     r#"{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":true,"top_p":0.5}"#,
//! ).unwrap();
//! assert!(req.is_stream());
//! assert_eq!(req.extra["top_p"], 0.5);
//! req.validate(&Default::default()).unwrap();
//! ```

use crate::error::{AiError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// Newer name of `system` in OpenAI's API.
    Developer,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Its author.
    pub role: Role,
    /// Its text (absent on an assistant message that only calls tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// A participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tools the assistant called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// On a `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A message of `role` with plain text.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: Some(MessageContent::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
        }
    }

    /// The message's text: the string, or its text parts joined.
    pub fn text_content(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(MessageContent::Text(t)) => t.clone(),
            Some(MessageContent::Parts(parts)) => parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join(""),
        }
    }
}

/// A message's content: a string or typed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Parts (`{"type":"text","text":…}`, images…).
    Parts(Vec<ContentPart>),
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPart {
    /// `text`, `image_url`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Any other field, kept as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDef,
}

/// A callable function: its name, what it does, its JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Ask the provider to hold the model to the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `"none"`, `"auto"` or `"required"`.
    Mode(String),
    /// `{"type":"function","function":{"name":…}}`: this one.
    Named {
        /// Always `function`.
        #[serde(rename = "type")]
        kind: String,
        /// The function.
        function: NamedFunction,
    },
}

/// The function a [`ToolChoice::Named`] names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedFunction {
    /// Its name.
    pub name: String,
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed by the `tool` message that answers it.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What was called, with which arguments.
    pub function: FunctionCall,
}

/// The function of a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// Its arguments as a JSON text (a string, as OpenAI sends it).
    pub arguments: String,
}

/// A chat-completions request (`POST /v1/chat/completions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model; the server may replace it with its configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Stream the answer as server-sent `chat.completion.chunk` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool it must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature (the embedded model is always greedy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Every other field, forwarded untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Caps on a request, checked before it goes anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Most messages.
    pub max_messages: usize,
    /// Most bytes of message text, all messages together.
    pub max_text_bytes: usize,
    /// Most tools.
    pub max_tools: usize,
    /// Largest `max_tokens` a request may ask for.
    pub max_tokens: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_messages: 200,
            max_text_bytes: 512 << 10,
            max_tools: 16,
            max_tokens: 8192,
        }
    }
}

impl ChatRequest {
    /// A request for these messages, everything else unset.
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        ChatRequest {
            model: None,
            messages,
            stream: None,
            tools: None,
            tool_choice: None,
            max_tokens: None,
            temperature: None,
            extra: Map::new(),
        }
    }

    /// Whether the answer is to be streamed.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Whether the model may call a tool (tools given, `tool_choice` not
    /// `none`).
    pub fn allows_tools(&self) -> bool {
        let offered = self.tools.as_ref().is_some_and(|t| !t.is_empty());
        offered && !matches!(&self.tool_choice, Some(ToolChoice::Mode(m)) if m == "none")
    }

    /// Checks the request's shape and caps; the message says what to fix.
    pub fn validate(&self, limits: &RequestLimits) -> Result<()> {
        let bad = |m: String| Err(AiError::InvalidRequest(m));
        if self.messages.is_empty() {
            return bad("`messages` is empty".into());
        }
        if self.messages.len() > limits.max_messages {
            return bad(format!(
                "{} messages; at most {} are accepted",
                self.messages.len(),
                limits.max_messages
            ));
        }
        let text: usize = self
            .messages
            .iter()
            .map(|m| {
                let calls: usize = m
                    .tool_calls
                    .iter()
                    .flatten()
                    .map(|c| c.function.arguments.len() + c.function.name.len())
                    .sum();
                m.text_content().len() + calls
            })
            .sum();
        if text > limits.max_text_bytes {
            return bad(format!(
                "the messages hold {text} bytes of text; at most {} are accepted",
                limits.max_text_bytes
            ));
        }
        if let Some(tools) = &self.tools {
            if tools.len() > limits.max_tools {
                return bad(format!(
                    "{} tools; at most {} are accepted",
                    tools.len(),
                    limits.max_tools
                ));
            }
            for t in tools {
                if t.kind != "function" {
                    return bad(format!("tool type \"{}\": only \"function\"", t.kind));
                }
                let name = &t.function.name;
                let ok = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !ok {
                    return bad(format!(
                        "tool name \"{name}\": 1–64 letters, digits, `_` or `-`"
                    ));
                }
            }
        }
        match &self.tool_choice {
            None => {}
            Some(ToolChoice::Mode(m)) if ["none", "auto", "required"].contains(&m.as_str()) => {}
            Some(ToolChoice::Mode(m)) => {
                return bad(format!(
                    "tool_choice \"{m}\": use \"none\", \"auto\", \"required\" or a named function"
                ));
            }
            Some(ToolChoice::Named { function, .. }) => {
                let offered = self
                    .tools
                    .iter()
                    .flatten()
                    .any(|t| t.function.name == function.name);
                if !offered {
                    return bad(format!(
                        "tool_choice names \"{}\", which is not among `tools`",
                        function.name
                    ));
                }
            }
        }
        if let Some(n) = self.max_tokens
            && (n == 0 || n > limits.max_tokens)
        {
            return bad(format!(
                "max_tokens {n}: between 1 and {}",
                limits.max_tokens
            ));
        }
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return bad(format!("temperature {t}: between 0 and 2"));
        }
        Ok(())
    }
}

/// Token counts of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Their sum.
    pub total_tokens: u32,
}

/// A whole answer (`"object": "chat.completion"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// Its id.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The answers (one unless `n` was asked).
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One answer of a [`ChatCompletion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its index.
    pub index: u32,
    /// The assistant's message.
    pub message: ChatMessage,
    /// `stop`, `length`, `tool_calls`, `content_filter`.
    pub finish_reason: Option<String>,
}

/// One streamed event (`"object": "chat.completion.chunk"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// The completion's id (the same in every chunk).
    pub id: String,
    /// `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model.
    pub model: String,
    /// Deltas (empty in a usage-only chunk).
    pub choices: Vec<ChunkChoice>,
    /// Token counts, in the last chunk when `stream_options.include_usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One choice's delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// The choice.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// What one chunk adds to the answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// `assistant`, in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// More text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Pieces of tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A piece of a tool call: the first piece of a call carries its `id` and
/// `function.name`, later ones fragments of `function.arguments`, a JSON
/// text cut anywhere. Pieces of one call share its `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call (absent with a few providers: then by `id`, or the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The call's id (first piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first piece).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// The function part of a [`ToolCallDelta`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// The name (first piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fragment of the arguments' JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// An error answer: `{"error": {"message", "type", "code"}}`, as OpenAI
/// and compatible servers send it (with a non-2xx status, or inside a
/// stream as one event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What went wrong, for a person.
    pub message: String,
    /// A category (`invalid_request_error`, `rate_limit_error`, …).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A machine-readable code, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
}

impl ErrorBody {
    /// An error body with this message, category and code.
    pub fn new(message: impl Into<String>, kind: &str, code: Option<&str>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                message: message.into(),
                kind: Some(kind.to_owned()),
                code: code.map(|c| Value::String(c.to_owned())),
            },
        }
    }

    /// The message of an error body, if `json` is one. Also reads the
    /// shapes some servers use instead: `{"error": "text"}` and
    /// `{"message": "text"}` (Ollama, llama.cpp).
    pub fn message_of(json: &str) -> Option<String> {
        let v: Value = serde_json::from_str(json).ok()?;
        match v.get("error") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| Some(crate::json_text(&Value::Object(o.clone())))),
            Some(_) => None,
            None => v
                .get("message")
                .filter(|_| v.get("choices").is_none())
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_request_fields_survive_a_round_trip() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "seed": 3
        });
        let req: ChatRequest = serde_json::from_value(body.clone()).expect("parses");
        assert_eq!(req.messages[1].text_content(), "ab");
        assert!(req.allows_tools());
        req.validate(&RequestLimits::default()).expect("valid");
        let back = serde_json::to_value(&req).expect("serializes");
        assert_eq!(back["stream_options"], body["stream_options"]);
        assert_eq!(back["seed"], 3);
        assert_eq!(back["tool_choice"], body["tool_choice"]);
    }

    #[test]
    fn invalid_requests_say_what_to_fix() {
        let msg = |j: Value| {
            let r: ChatRequest = serde_json::from_value(j).expect("parses");
            r.validate(&RequestLimits::default())
                .expect_err("invalid")
                .to_string()
        };
        assert!(msg(json!({"messages": []})).contains("empty"));
        assert!(
            msg(json!({"messages": [{"role":"user","content":"x"}], "tool_choice": "always"}))
                .contains("tool_choice")
        );
        assert!(
            msg(json!({"messages": [{"role":"user","content":"x"}],
                "tool_choice": {"type":"function","function":{"name":"g"}}}))
            .contains("not among")
        );
        assert!(
            msg(json!({"messages": [{"role":"user","content":"x"}], "max_tokens": 0}))
                .contains("max_tokens")
        );
        let big = "x".repeat(600 << 10);
        assert!(msg(json!({"messages": [{"role":"user","content": big}]})).contains("bytes"));
        // Roles outside the list are a parse error, not a panic.
        assert!(
            serde_json::from_value::<ChatRequest>(
                json!({"messages": [{"role":"robot","content":"x"}]})
            )
            .is_err()
        );
    }

    #[test]
    fn error_bodies_of_several_servers_are_read() {
        assert_eq!(
            ErrorBody::message_of(
                r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#
            ),
            Some("Incorrect API key".into())
        );
        assert_eq!(
            ErrorBody::message_of(r#"{"error":"model not found"}"#),
            Some("model not found".into())
        );
        assert_eq!(
            ErrorBody::message_of(r#"{"message":"busy"}"#),
            Some("busy".into())
        );
        assert_eq!(ErrorBody::message_of(r#"{"choices":[]}"#), None);
        assert_eq!(ErrorBody::message_of("not json"), None);
    }
}
