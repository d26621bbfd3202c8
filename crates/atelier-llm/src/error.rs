//! The crate's one error type.

/// Why the model could not be loaded or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No model file at the path.
    #[error("model file {0} not found: run scripts/fetch-model.sh or pass --ai-model-path")]
    Missing(String),
    /// The file is not a GGUF model this crate can run.
    #[error("cannot load the model {path}: {reason}")]
    Load {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The tokenizer in the file's metadata is unusable.
    #[error("the model's tokenizer: {0}")]
    Tokenizer(String),
    /// The prompt does not fit the model's context.
    #[error("the prompt has {tokens} tokens; the model reads at most {limit}")]
    PromptTooLong {
        /// Tokens of the prompt.
        tokens: usize,
        /// The context size.
        limit: usize,
    },
    /// The computation failed.
    #[error("generation failed: {0}")]
    Generate(String),
}

impl From<candle_core::Error> for LlmError {
    fn from(e: candle_core::Error) -> Self {
        LlmError::Generate(e.to_string())
    }
}

/// Results of this crate.
pub type Result<T, E = LlmError> = std::result::Result<T, E>;
