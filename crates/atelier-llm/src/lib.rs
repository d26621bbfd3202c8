//! Atelier's embedded assistant model: SmolLM2-135M-Instruct (Apache-2.0)
//! as a GGUF file, run on the CPU with candle, so `atelier serve` answers
//! AI requests with no model server configured.
//!
//! - [`Engine::load`] reads the GGUF file, rebuilds its tokenizer from the
//!   file's metadata ([`gguf_tokenizer`]), and re-quantizes the Q4_1
//!   weights to Q8_0, whose matrix kernel candle vectorizes (twice the
//!   speed on two cores, ≈1 s more at load).
//! - [`chat_template::render`] writes a conversation as ChatML, one segment
//!   per message: [`Engine::generate`] keeps the model state after the
//!   leading segments of recent prompts (16 of them) and starts from the
//!   longest one a request repeats, so an action, whose system message is
//!   the same every time, reads only the user's text, and a conversation
//!   only its new turn.
//! - Decoding is greedy: the same prompt gives the same answer.
//!
//! Native only (candle's CPU kernels, no wasm). Tool calls are not this
//! crate's business: the server reads the text for one
//! (`atelier_ai::tool_text`).
//!
//! ```no_run
//! use atelier_ai::openai::{ChatMessage, Role};
//! use atelier_llm::{Engine, GenerateOptions, chat_template};
//! let engine = Engine::load("data/models/SmolLM2-135M-Instruct.Q4_1.gguf".as_ref()).unwrap();
//! let prompt = chat_template::render(&[ChatMessage::text(Role::User, "Say hi.")], None);
//! let mut answer = String::new();
//! engine
//!     .generate(&prompt, &GenerateOptions::up_to(20), |piece| {
//!         answer.push_str(piece);
//!         true
//!     })
//!     .unwrap();
//! ```
//!
//! Features: none.

pub mod chat_template;
pub mod engine;
pub mod error;
pub mod gguf_tokenizer;

pub use engine::{Engine, Finish, GenerateOptions, GenerationStats, ModelInfo};
pub use error::{LlmError, Result};

/// The model file's name as `scripts/fetch-model.sh` writes it.
pub const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Where the model file is looked for when no path is configured:
/// `$ATELIER_MODEL_DIR/`, else `data/models/` under the working directory.
pub fn default_model_path() -> std::path::PathBuf {
    let dir = std::env::var_os("ATELIER_MODEL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("data/models"));
    dir.join(MODEL_FILE)
}
