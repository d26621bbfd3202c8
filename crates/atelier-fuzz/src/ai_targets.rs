//! Streams from a language model, which may be any server speaking (or
//! half-speaking) the OpenAI or Vercel AI formats.

use crate::frames;
use atelier_ai::chat_stream::ChatStreamDecoder;
use atelier_ai::vercel::DocsStreamDecoder;

/// The same bytes, cut into the input's chunks, through the OpenAI
/// chat-completions stream decoder and the Docs (Vercel AI) decoder.
pub fn ai_stream(data: &[u8]) {
    let chunks = frames(data);
    let mut openai = ChatStreamDecoder::default();
    let mut openai_ok = true;
    for chunk in &chunks {
        if openai.push(chunk).is_err() {
            openai_ok = false;
            break;
        }
    }
    if openai_ok {
        let _ = openai.finish();
    }
    let mut docs = DocsStreamDecoder::default();
    let mut docs_ok = true;
    for chunk in &chunks {
        if docs.push(chunk).is_err() {
            docs_ok = false;
            break;
        }
    }
    if docs_ok {
        let _ = docs.finish();
    }
}
