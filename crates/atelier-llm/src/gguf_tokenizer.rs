//! The tokenizer stored in a GGUF file's metadata, rebuilt with
//! `tokenizers`: byte-level BPE from `tokenizer.ggml.tokens` and
//! `tokenizer.ggml.merges`, digits split one by one (SmolLM2's
//! pre-tokenizer), control and user-defined tokens (`token_type` 3 and 4)
//! registered as special so `<|im_start|>` stays one token.

use crate::error::{LlmError, Result};
use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

fn strings<'a>(content: &'a Content, key: &str) -> Result<Vec<&'a str>> {
    let values = content
        .metadata
        .get(key)
        .ok_or_else(|| LlmError::Tokenizer(format!("no {key} in the file")))?
        .to_vec()
        .map_err(|e| LlmError::Tokenizer(format!("{key}: {e}")))?;
    values
        .iter()
        .map(|v| {
            v.to_string()
                .map(String::as_str)
                .map_err(|e| LlmError::Tokenizer(format!("{key}: {e}")))
        })
        .collect()
}

/// The tokenizer of a GGUF file whose `tokenizer.ggml.model` is `gpt2`
/// (byte-level BPE, as SmolLM2's).
pub fn from_gguf(content: &Content) -> Result<Tokenizer> {
    let model = content
        .metadata
        .get("tokenizer.ggml.model")
        .and_then(|v| v.to_string().ok())
        .map(String::as_str);
    if model != Some("gpt2") {
        return Err(LlmError::Tokenizer(format!(
            "tokenizer model {model:?}; only byte-level BPE (gpt2) is supported"
        )));
    }
    let tokens = strings(content, "tokenizer.ggml.tokens")?;
    let merges = strings(content, "tokenizer.ggml.merges")?;
    let types: Vec<i64> = match content.metadata.get("tokenizer.ggml.token_type") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.to_i32().map(i64::from).unwrap_or(1))
            .collect(),
        _ => Vec::new(),
    };
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| ((*t).to_owned(), i as u32))
        .collect();
    let merges: Vec<(String, String)> = merges
        .iter()
        .filter_map(|m| m.split_once(' '))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| LlmError::Tokenizer(e.to_string()))?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
        Digits::new(true).into(),
        ByteLevel::new(false, true, true).into(),
    ])));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    let special: Vec<AddedToken> = tokens
        .iter()
        .zip(types.iter())
        .filter(|(_, t)| **t == 3 || **t == 4)
        .map(|(tok, _)| AddedToken::from((*tok).to_owned(), true))
        .collect();
    tokenizer
        .add_special_tokens(special)
        .map_err(|e| LlmError::Tokenizer(e.to_string()))?;
    Ok(tokenizer)
}
