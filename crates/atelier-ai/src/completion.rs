//! One answer built from streamed pieces, whichever protocol carried them:
//! text, tool calls accumulated by index, and why the model stopped.
//!
//! Both stream decoders ([`crate::chat_stream`] and [`crate::vercel`])
//! feed a [`CompletionBuilder`]; what they report as they go is a list of
//! [`StreamUpdate`]s, which a pane renders while the answer streams.

use crate::error::{AiError, Result};
use crate::openai::{ChatCompletion, FunctionCall, ToolCall, Usage};
use serde::{Deserialize, Serialize};

/// Caps on one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionLimits {
    /// Most bytes of text.
    pub max_text_bytes: usize,
    /// Most tool calls.
    pub max_tool_calls: usize,
    /// Most bytes of one call's arguments.
    pub max_argument_bytes: usize,
}

impl Default for CompletionLimits {
    fn default() -> Self {
        CompletionLimits {
            max_text_bytes: 1 << 20,
            max_tool_calls: 32,
            max_argument_bytes: 512 << 10,
        }
    }
}

/// What a piece of a stream changed, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StreamUpdate {
    /// More text.
    Text {
        /// The new text.
        text: String,
    },
    /// A tool call began.
    ToolCallStarted {
        /// Its index among the answer's calls.
        index: usize,
        /// Its id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// More of a call's arguments (a JSON text fragment).
    ToolCallArguments {
        /// The call's index.
        index: usize,
        /// The fragment.
        fragment: String,
    },
    /// The model stopped.
    Finished {
        /// `stop`, `length`, `tool_calls`…
        reason: Option<String>,
    },
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Completion {
    /// Its text.
    pub text: String,
    /// Its tool calls, in index order.
    pub tool_calls: Vec<ToolCall>,
    /// Why the model stopped, if it said.
    pub finish_reason: Option<String>,
    /// Token counts, if the server sent them.
    pub usage: Option<Usage>,
}

impl Completion {
    /// The first choice of a whole (non-streamed) answer.
    pub fn from_chat_completion(c: &ChatCompletion) -> Result<Completion> {
        let Some(choice) = c.choices.first() else {
            return Err(AiError::Malformed("the answer has no choices".into()));
        };
        Ok(Completion {
            text: choice.message.text_content(),
            tool_calls: choice.message.tool_calls.clone().unwrap_or_default(),
            finish_reason: choice.finish_reason.clone(),
            usage: c.usage,
        })
    }
}

#[derive(Debug, Clone, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
    announced: bool,
}

/// Accumulates an answer from protocol-neutral pieces, within caps.
#[derive(Debug, Clone, Default)]
pub struct CompletionBuilder {
    limits: CompletionLimits,
    text: String,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
    finished: bool,
    usage: Option<Usage>,
}

impl CompletionBuilder {
    /// An empty answer with these caps.
    pub fn new(limits: CompletionLimits) -> Self {
        CompletionBuilder {
            limits,
            ..Default::default()
        }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a finish was seen.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Adds text.
    pub fn push_text(&mut self, text: &str, out: &mut Vec<StreamUpdate>) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if self.text.len() + text.len() > self.limits.max_text_bytes {
            return Err(AiError::TooLarge(format!(
                "more than {} bytes of text",
                self.limits.max_text_bytes
            )));
        }
        self.text.push_str(text);
        out.push(StreamUpdate::Text {
            text: text.to_owned(),
        });
        Ok(())
    }

    /// The number of tool calls so far.
    pub fn tool_call_count(&self) -> usize {
        self.calls.len()
    }

    /// The index of the call with this id, if any.
    pub fn index_of_id(&self, id: &str) -> Option<usize> {
        self.calls.iter().position(|c| c.id == id)
    }

    /// Adds a piece of tool call `index`: its id and name when first
    /// known, and a fragment of its arguments. Indices may arrive in any
    /// order; a gap is filled by calls that must show up later.
    pub fn push_tool_piece(
        &mut self,
        index: usize,
        id: Option<&str>,
        name: Option<&str>,
        arguments: Option<&str>,
        out: &mut Vec<StreamUpdate>,
    ) -> Result<()> {
        if index >= self.limits.max_tool_calls {
            return Err(AiError::TooLarge(format!(
                "more than {} tool calls",
                self.limits.max_tool_calls
            )));
        }
        if self.calls.len() <= index {
            self.calls.resize_with(index + 1, PartialCall::default);
        }
        let Some(call) = self.calls.get_mut(index) else {
            return Err(AiError::Malformed(format!("no tool call {index}")));
        };
        if let Some(id) = id.filter(|i| !i.is_empty())
            && call.id.is_empty()
        {
            call.id = id.to_owned();
        }
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            // Most servers send the name once; some repeat it whole in every
            // piece, a few send it in fragments: a repeat is not appended.
            if call.name.is_empty() {
                call.name = name.to_owned();
            } else if call.name != name {
                call.name.push_str(name);
            }
            if call.name.len() > 256 {
                return Err(AiError::TooLarge(
                    "a tool name longer than 256 bytes".into(),
                ));
            }
        }
        if !call.announced && !call.name.is_empty() {
            call.announced = true;
            if call.id.is_empty() {
                // Some servers (llama.cpp, older Ollama) send no id.
                call.id = format!("call_{index}");
            }
            out.push(StreamUpdate::ToolCallStarted {
                index,
                id: call.id.clone(),
                name: call.name.clone(),
            });
        }
        if let Some(fragment) = arguments.filter(|a| !a.is_empty()) {
            if call.arguments.len() + fragment.len() > self.limits.max_argument_bytes {
                return Err(AiError::TooLarge(format!(
                    "tool call arguments longer than {} bytes",
                    self.limits.max_argument_bytes
                )));
            }
            call.arguments.push_str(fragment);
            out.push(StreamUpdate::ToolCallArguments {
                index,
                fragment: fragment.to_owned(),
            });
        }
        Ok(())
    }

    /// Sets the whole arguments of tool call `index` when a protocol sends
    /// them complete (the Vercel streams' `tool-input-available`): kept
    /// as streamed when equal, replaced otherwise (the complete form is
    /// the server's own parse of the call).
    pub fn complete_tool_call(
        &mut self,
        index: usize,
        id: &str,
        name: &str,
        arguments: &str,
        out: &mut Vec<StreamUpdate>,
    ) -> Result<()> {
        self.push_tool_piece(index, Some(id), Some(name), None, out)?;
        if arguments.len() > self.limits.max_argument_bytes {
            return Err(AiError::TooLarge(format!(
                "tool call arguments longer than {} bytes",
                self.limits.max_argument_bytes
            )));
        }
        let Some(call) = self.calls.get_mut(index) else {
            return Err(AiError::Malformed(format!("no tool call {index}")));
        };
        if call.arguments.is_empty() {
            call.arguments = arguments.to_owned();
            out.push(StreamUpdate::ToolCallArguments {
                index,
                fragment: arguments.to_owned(),
            });
        } else if !same_json(&call.arguments, arguments) {
            call.arguments = arguments.to_owned();
        }
        Ok(())
    }

    /// Records why the model stopped (the first reason given wins).
    pub fn finish(&mut self, reason: Option<&str>, out: &mut Vec<StreamUpdate>) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.finish_reason = reason.map(str::to_owned);
        out.push(StreamUpdate::Finished {
            reason: self.finish_reason.clone(),
        });
    }

    /// Records token counts.
    pub fn set_usage(&mut self, usage: Usage) {
        self.usage = Some(usage);
    }

    /// The answer. Fails if a tool call never got a name (its pieces
    /// cannot be told apart from noise).
    pub fn build(self) -> Result<Completion> {
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for (i, c) in self.calls.into_iter().enumerate() {
            if c.name.is_empty() {
                return Err(AiError::Malformed(format!("tool call {i} has no name")));
            }
            tool_calls.push(ToolCall {
                id: c.id,
                kind: "function".into(),
                function: FunctionCall {
                    name: c.name,
                    arguments: c.arguments,
                },
            });
        }
        Ok(Completion {
            text: self.text,
            tool_calls,
            finish_reason: self.finish_reason,
            usage: self.usage,
        })
    }
}

/// Whether two JSON texts hold the same value (a streamed text and its
/// re-serialization differ in spacing and escapes).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_is_not_appended() {
        let mut b = CompletionBuilder::new(CompletionLimits::default());
        let mut out = Vec::new();
        b.push_tool_piece(0, Some("a"), Some("f"), Some("{\"x\""), &mut out)
            .expect("ok");
        b.push_tool_piece(0, None, Some("f"), Some(":1}"), &mut out)
            .expect("ok");
        let c = b.build().expect("named");
        assert_eq!(c.tool_calls[0].function.name, "f");
        assert_eq!(c.tool_calls[0].function.arguments, "{\"x\":1}");
        assert_eq!(
            out[0],
            StreamUpdate::ToolCallStarted {
                index: 0,
                id: "a".into(),
                name: "f".into()
            }
        );
    }

    #[test]
    fn caps_hold() {
        let limits = CompletionLimits {
            max_text_bytes: 4,
            max_tool_calls: 2,
            max_argument_bytes: 3,
        };
        let mut b = CompletionBuilder::new(limits);
        let mut out = Vec::new();
        assert!(b.push_text("abcde", &mut out).is_err());
        assert!(
            b.push_tool_piece(2, None, Some("f"), None, &mut out)
                .is_err()
        );
        assert!(
            b.push_tool_piece(0, None, Some("f"), Some("abcd"), &mut out)
                .is_err()
        );
        let mut nameless = CompletionBuilder::new(CompletionLimits::default());
        nameless
            .push_tool_piece(0, None, None, Some("{}"), &mut out)
            .expect("ok so far");
        assert!(nameless.build().is_err());
    }
}
