//! Streams from a language model, which may be any server speaking (or
//! half-speaking) the OpenAI or Vercel AI formats.

use crate::frames;
use atelier_ai::chat_stream::ChatStreamDecoder;
use atelier_ai::vercel::DocsStreamDecoder;

/// Feeds `chunks` to a decoder and finishes it, unless a chunk was refused
/// (a refused stream is not finished: the caller reports the error).
fn drive<D, U, E, C, F>(
    mut decoder: D,
    chunks: &[&[u8]],
    push: impl Fn(&mut D, &[u8]) -> Result<U, E>,
    finish: impl FnOnce(D) -> Result<C, F>,
) {
    if chunks.iter().all(|chunk| push(&mut decoder, chunk).is_ok()) {
        let _ = finish(decoder);
    }
}

/// The same bytes, cut into the input's chunks, through the OpenAI
/// chat-completions stream decoder and the Docs (Vercel AI) decoder.
pub fn ai_stream(data: &[u8]) {
    let chunks = frames(data);
    drive(
        ChatStreamDecoder::default(),
        &chunks,
        ChatStreamDecoder::push,
        ChatStreamDecoder::finish,
    );
    drive(
        DocsStreamDecoder::default(),
        &chunks,
        DocsStreamDecoder::push,
        DocsStreamDecoder::finish,
    );
}
