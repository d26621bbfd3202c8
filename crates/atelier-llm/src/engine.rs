//! Loading the model and generating from it.

use crate::chat_template::Prompt;
use crate::error::{LlmError, Result};
use crate::gguf_tokenizer;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{D, Device, Tensor};
use candle_transformers::models::quantized_llama::{MAX_SEQ_LEN, ModelWeights};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use tokenizers::Tokenizer;

/// How many prompt prefixes keep their computed state (about 50 KB per
/// token each: a 300-token prefix holds 14 MB).
const PREFIX_CACHE_ENTRIES: usize = 16;

/// What was loaded, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// A short name (the file name without `.gguf`).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Time to load (read, re-quantize, build), milliseconds.
    pub load_ms: u64,
    /// How many weight tensors were re-quantized to Q8_0.
    pub requantized_tensors: usize,
    /// The context size, in tokens.
    pub context_tokens: usize,
}

/// How to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Go on past the model's stop token, up to `max_tokens` (benchmarks
    /// measure a fixed number of tokens this way).
    pub ignore_stop: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 512,
            ignore_stop: false,
        }
    }
}

impl GenerateOptions {
    /// Up to `max_tokens`, stopping where the model ends its answer.
    pub fn up_to(max_tokens: usize) -> Self {
        GenerateOptions {
            max_tokens,
            ignore_stop: false,
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its answer.
    Stop,
    /// `max_tokens` or the context size was reached.
    Length,
    /// The caller stopped it.
    Cancelled,
}

/// What one generation cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerationStats {
    /// Tokens of the prompt.
    pub prompt_tokens: usize,
    /// Of which read from the prefix cache.
    pub cached_prompt_tokens: usize,
    /// Tokens generated (the stop token not counted).
    pub completion_tokens: usize,
    /// From the call to the first generated token, milliseconds.
    pub first_token_ms: f64,
    /// From the first generated token to the last, milliseconds.
    pub decode_ms: f64,
    /// Why it stopped.
    pub finish: Finish,
}

impl GenerationStats {
    /// Generated tokens per second after the first one.
    pub fn tokens_per_second(&self) -> f64 {
        if self.completion_tokens < 2 || self.decode_ms <= 0.0 {
            return 0.0;
        }
        (self.completion_tokens - 1) as f64 / (self.decode_ms / 1000.0)
    }
}

/// The loaded model: weights without any cached state, the tokenizer, and
/// the model state after recently seen prompt prefixes (whole messages).
pub struct Engine {
    base: ModelWeights,
    tokenizer: Tokenizer,
    stop: Vec<u32>,
    device: Device,
    info: ModelInfo,
    /// Prompt-prefix tokens → model state after them, most recent last.
    prefixes: Mutex<Vec<(Vec<u32>, ModelWeights)>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("info", &self.info).finish()
    }
}

/// Tensor types whose matrix products candle runs without a vectorized
/// kernel on x86: re-quantized to Q8_0 at load (SmolLM2's Q4_1 goes from
/// ≈28 to ≈55 generated tokens/s on two cores).
fn slow_kernel(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

impl Engine {
    /// Loads a GGUF Llama-architecture model (SmolLM2-135M-Instruct),
    /// re-quantizing weights with slow CPU kernels to Q8_0.
    pub fn load(path: &Path) -> Result<Engine> {
        let started = Instant::now();
        let shown = path.display().to_string();
        let load_err = |reason: String| LlmError::Load {
            path: shown.clone(),
            reason,
        };
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LlmError::Missing(shown));
            }
            Err(e) => return Err(load_err(e.to_string())),
        };
        let device = Device::Cpu;
        let content =
            gguf_file::Content::read(&mut file).map_err(|e| load_err(format!("not GGUF: {e}")))?;
        let tokenizer = gguf_tokenizer::from_gguf(&content)?;
        let mut stop = Vec::new();
        if let Some(id) = content
            .metadata
            .get("tokenizer.ggml.eos_token_id")
            .and_then(|v| v.to_u32().ok())
        {
            stop.push(id);
        }
        for special in ["<|im_end|>", "<|endoftext|>"] {
            if let Some(id) = tokenizer.token_to_id(special)
                && !stop.contains(&id)
            {
                stop.push(id);
            }
        }
        if let Some(template) = content
            .metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            && !template.contains("<|im_start|>")
        {
            return Err(load_err(
                "its chat template is not ChatML; only ChatML models are supported".into(),
            ));
        }

        // Re-quantize in memory, then load from a GGUF image of the result.
        let mut names: Vec<&String> = content.tensor_infos.keys().collect();
        names.sort();
        let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
        let mut requantized = 0;
        for name in names {
            let q = content
                .tensor(&mut file, name, &device)
                .map_err(|e| load_err(format!("tensor {name}: {e}")))?;
            let divisible = q
                .shape()
                .dims()
                .last()
                .is_some_and(|d| d % GgmlDType::Q8_0.block_size() == 0);
            let q = if slow_kernel(q.dtype()) && divisible {
                requantized += 1;
                QTensor::quantize(&q.dequantize(&device)?, GgmlDType::Q8_0)?
            } else {
                q
            };
            tensors.push((name.clone(), q));
        }
        // The image is written with the default alignment (32).
        let metadata: Vec<(&str, &gguf_file::Value)> = content
            .metadata
            .iter()
            .filter(|(k, _)| k.as_str() != "general.alignment")
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let mut image = Cursor::new(Vec::new());
        gguf_file::write(&mut image, &metadata, &refs)?;
        drop(tensors);
        image.set_position(0);
        let content = gguf_file::Content::read(&mut image)?;
        let base = ModelWeights::from_gguf(content, &mut image, &device)
            .map_err(|e| load_err(e.to_string()))?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().trim_end_matches(".gguf").to_owned())
            .unwrap_or_else(|| "model".into());
        Ok(Engine {
            base,
            tokenizer,
            stop,
            device,
            info: ModelInfo {
                name,
                path: path.to_owned(),
                load_ms: started.elapsed().as_millis() as u64,
                requantized_tensors: requantized,
                context_tokens: MAX_SEQ_LEN,
            },
            prefixes: Mutex::new(Vec::new()),
        })
    }

    /// What was loaded.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The tokens of `text` (special tokens such as `<|im_start|>` kept
    /// whole).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| LlmError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The text of `tokens`.
    pub fn detokenize(&self, tokens: &[u32]) -> Result<String> {
        self.tokenizer
            .decode(tokens, false)
            .map_err(|e| LlmError::Tokenizer(e.to_string()))
    }

    /// Forgets the cached prompt prefixes.
    pub fn clear_prefix_cache(&self) {
        if let Ok(mut p) = self.prefixes.lock() {
            p.clear();
        }
    }

    /// The longest cached prefix of `segments` that ends at a segment
    /// boundary before the last segment: its state and its segment count.
    fn cached_state(&self, segments: &[Vec<u32>]) -> Option<(ModelWeights, usize)> {
        let mut cache = self.prefixes.lock().ok()?;
        for k in (1..segments.len()).rev() {
            let len: usize = segments[..k].iter().map(Vec::len).sum();
            let hit = cache
                .iter()
                .position(|(p, _)| p.len() == len && segments[..k].iter().flatten().eq(p.iter()));
            if let Some(at) = hit {
                // Most recently used last.
                let entry = cache.remove(at);
                let model = entry.1.clone();
                cache.push(entry);
                return Some((model, k));
            }
        }
        None
    }

    fn remember(&self, prefix: Vec<u32>, model: &ModelWeights) {
        if let Ok(mut cache) = self.prefixes.lock() {
            if cache.iter().any(|(p, _)| *p == prefix) {
                return;
            }
            if cache.len() >= PREFIX_CACHE_ENTRIES {
                cache.remove(0);
            }
            cache.push((prefix, model.clone()));
        }
    }

    /// Generates greedily (the most likely token each step, so the same
    /// prompt gives the same answer) after `prompt`, calling `on_text`
    /// with each new piece of text; `on_text` returning `false` stops
    /// generation at once. The longest run of leading segments seen
    /// recently (the system message; earlier turns of a conversation) is
    /// not read again: its state comes from the cache.
    pub fn generate(
        &self,
        prompt: &Prompt,
        options: &GenerateOptions,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        let started = Instant::now();
        let segments: Vec<Vec<u32>> = prompt
            .segments
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<_>>()?;
        let prompt_tokens: usize = segments.iter().map(Vec::len).sum();
        if prompt_tokens >= MAX_SEQ_LEN || segments.last().is_none_or(Vec::is_empty) {
            return Err(LlmError::PromptTooLong {
                tokens: prompt_tokens,
                limit: MAX_SEQ_LEN - 1,
            });
        }
        let max_tokens = options.max_tokens.min(MAX_SEQ_LEN - prompt_tokens);
        // Start from the longest cached prefix, then read the other
        // segments, keeping the state after each but the last.
        let (mut model, first_new) = self
            .cached_state(&segments)
            .unwrap_or_else(|| (self.base.clone(), 0));
        let cached_tokens: usize = segments[..first_new].iter().map(Vec::len).sum();
        let mut position = cached_tokens;
        let mut read = segments[..first_new].concat();
        let mut logits = None;
        for (i, seg) in segments.iter().enumerate().skip(first_new) {
            if seg.is_empty() {
                continue;
            }
            let input = Tensor::new(seg.as_slice(), &self.device)?.unsqueeze(0)?;
            logits = Some(model.forward(&input, position)?);
            position += seg.len();
            if i + 1 < segments.len() {
                read.extend_from_slice(seg);
                self.remember(read.clone(), &model);
            }
        }
        let Some(mut logits) = logits else {
            return Err(LlmError::Generate("nothing to read".into()));
        };
        let mut stats = GenerationStats {
            prompt_tokens,
            cached_prompt_tokens: cached_tokens,
            completion_tokens: 0,
            first_token_ms: 0.0,
            decode_ms: 0.0,
            finish: Finish::Length,
        };
        let mut text = TextStream::default();
        let mut first_at = None;
        while stats.completion_tokens < max_tokens {
            let next = logits.squeeze(0)?.argmax(D::Minus1)?.to_scalar::<u32>()?;
            let now = Instant::now();
            if first_at.is_none() {
                first_at = Some(now);
                stats.first_token_ms = (now - started).as_secs_f64() * 1000.0;
            }
            if self.stop.contains(&next) && !options.ignore_stop {
                stats.finish = Finish::Stop;
                break;
            }
            stats.completion_tokens += 1;
            if let Some(piece) = text.push(next, self)?
                && !on_text(&piece)
            {
                stats.finish = Finish::Cancelled;
                break;
            }
            if stats.completion_tokens >= max_tokens {
                break;
            }
            let input = Tensor::new(&[next], &self.device)?.unsqueeze(0)?;
            logits = model.forward(&input, position)?;
            position += 1;
        }
        if stats.finish != Finish::Cancelled
            && let Some(tail) = text.flush(self)?
        {
            on_text(&tail);
        }
        if let Some(first) = first_at {
            stats.decode_ms = first.elapsed().as_secs_f64() * 1000.0;
        }
        Ok(stats)
    }
}

/// Turns tokens into text as they come: a character split across tokens
/// (accents, emoji, CJK in byte-level BPE) is held until it is whole.
#[derive(Debug, Default)]
struct TextStream {
    pending: Vec<u32>,
}

impl TextStream {
    /// How many tokens a character can span before the bytes are given
    /// up on and passed as they decode.
    const MAX_PENDING: usize = 4;

    fn push(&mut self, token: u32, engine: &Engine) -> Result<Option<String>> {
        self.pending.push(token);
        let text = engine.detokenize(&self.pending)?;
        if text.ends_with('\u{FFFD}') && self.pending.len() < Self::MAX_PENDING {
            return Ok(None);
        }
        self.pending.clear();
        Ok((!text.is_empty()).then_some(text))
    }

    fn flush(&mut self, engine: &Engine) -> Result<Option<String>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let text = engine.detokenize(&std::mem::take(&mut self.pending))?;
        Ok((!text.is_empty()).then_some(text))
    }
}
