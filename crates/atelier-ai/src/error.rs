//! The crate's one error type.

use std::fmt;

/// Why a stream, a request or a tool call was refused. Every decoder in
/// this crate returns one of these on malformed, truncated or oversized
/// input; none panics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AiError {
    /// A line of a stream grew past the cap before it ended.
    #[error("stream line longer than {limit} bytes")]
    LineTooLong {
        /// The cap, in bytes.
        limit: usize,
    },
    /// One server-sent event carried more data than the cap.
    #[error("stream event larger than {limit} bytes")]
    EventTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The stream is not UTF-8 text.
    #[error("stream is not UTF-8 text")]
    NotUtf8,
    /// The stream's framing or one of its JSON payloads is not what the
    /// protocol says.
    #[error("malformed stream: {0}")]
    Malformed(String),
    /// The model's server reported an error inside the stream.
    #[error("the model's server reported an error: {0}")]
    Upstream(String),
    /// The stream ended before its end marker (`[DONE]`, a finish part).
    #[error("the stream ended before it was complete")]
    Truncated,
    /// The answer grew past a cap (text, tool calls or their arguments).
    #[error("answer too large: {0}")]
    TooLarge(String),
    /// A chat-completions request that this server or the model cannot take.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A tool call whose arguments are not the tool's shape at all (not
    /// JSON, not an object, no `operations` array).
    #[error("invalid tool call: {0}")]
    InvalidToolCall(String),
    /// One document operation of a tool call was refused; the others are
    /// judged on their own.
    #[error("operation {index}: {problem}")]
    InvalidOperation {
        /// Its position in the tool call's `operations` array.
        index: usize,
        /// What is wrong with it.
        problem: OperationProblem,
    },
}

/// What is wrong with one document operation proposed by a model.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationProblem {
    /// Not a JSON object.
    NotAnObject,
    /// `type` is missing or not `update`, `add` or `delete`.
    UnknownType(String),
    /// A required field is missing.
    Missing(&'static str),
    /// A field has the wrong JSON type.
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A field this operation does not take (a misspelt one, usually).
    UnknownField(String),
    /// `position` is not `before` or `after`.
    BadPosition(String),
    /// The block id names no block of the document.
    UnknownBlock(String),
    /// Two operations of the same call target the same block.
    SameBlockTwice {
        /// The block.
        id: String,
        /// The earlier operation's index.
        first: usize,
    },
    /// A field is longer than its cap.
    TooLong {
        /// The field.
        field: &'static str,
        /// The cap, in bytes (or items for arrays).
        limit: usize,
    },
    /// The HTML holds no block once sanitized (no text, only markup).
    EmptyHtml,
    /// The block cannot be changed this way (a table, an image…).
    NotEditable {
        /// The block.
        id: String,
        /// Its type.
        kind: String,
    },
}

impl fmt::Display for OperationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationProblem::NotAnObject => f.write_str("not a JSON object"),
            OperationProblem::UnknownType(t) => write!(
                f,
                "unknown operation type \"{t}\": use \"update\", \"add\" or \"delete\""
            ),
            OperationProblem::Missing(field) => write!(f, "missing field \"{field}\""),
            OperationProblem::WrongType { field, expected } => {
                write!(f, "field \"{field}\" must be {expected}")
            }
            OperationProblem::UnknownField(field) => write!(f, "unknown field \"{field}\""),
            OperationProblem::BadPosition(p) => {
                write!(f, "position \"{p}\" is neither \"before\" nor \"after\"")
            }
            OperationProblem::UnknownBlock(id) => {
                write!(f, "no block \"{id}\" in the document")
            }
            OperationProblem::SameBlockTwice { id, first } => {
                write!(f, "block \"{id}\" is already changed by operation {first}")
            }
            OperationProblem::TooLong { field, limit } => {
                write!(f, "field \"{field}\" is longer than {limit}")
            }
            OperationProblem::EmptyHtml => f.write_str("the HTML holds no text once sanitized"),
            OperationProblem::NotEditable { id, kind } => {
                write!(f, "block \"{id}\" is a {kind}, which cannot be rewritten")
            }
        }
    }
}

/// Results of this crate.
pub type Result<T, E = AiError> = std::result::Result<T, E>;
