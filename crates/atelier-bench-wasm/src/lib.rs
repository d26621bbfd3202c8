//! The editing-trace replay of [`atelier_doc::trace`] exported to JavaScript
//! with wasm-bindgen, so `cargo xtask bench crdt` can time the model as wasm
//! under Node (`bench/drivers/crdt-wasm.mjs`) beside native code and Yjs.
//!
//! Parsing, replaying, encoding and loading are separate calls so the
//! script times only what it means to time. The module counts its heap
//! with [`CountingAlloc`] so memory is reported as for the native replay. No panic hook is installed:
//! the bench builds with `panic = "abort"` and every entry point returns
//! errors as exceptions instead.
//!
//! ```
//! use atelier_bench_wasm::TraceHandle;
//! let trace = TraceHandle::parse(
//!     r#"{"endContent":"hi","txns":[{"patches":[[0,0,"hi"]]}]}"#,
//! ).unwrap();
//! let done = trace.replay().unwrap();
//! assert!(done.ok());
//! assert!(atelier_bench_wasm::load_state(&done.encode_state()).is_ok());
//! ```

pub mod counting_alloc;

use atelier_doc::Document;
use atelier_doc::trace::{
    Replay, ReplayOptions, Trace, paste, repeated_document, replay,
    replay_sequential_one_transaction,
};
use wasm_bindgen::prelude::*;

pub use counting_alloc::CountingAlloc;

// Only the wasm module counts its heap by default; native binaries opt in.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// A parsed trace, kept on the wasm side between replays.
#[wasm_bindgen]
pub struct TraceHandle {
    trace: Trace,
}

#[wasm_bindgen]
impl TraceHandle {
    /// Parses a trace of either format from its JSON text.
    pub fn parse(json: &str) -> Result<TraceHandle, JsError> {
        let trace = Trace::from_json(json).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(TraceHandle { trace })
    }

    /// `"sequential"` or `"concurrent"`.
    pub fn kind(&self) -> String {
        self.trace.kind().to_string()
    }

    /// Number of patches in the trace.
    pub fn patches(&self) -> u32 {
        u32::try_from(self.trace.patch_count()).unwrap_or(u32::MAX)
    }

    /// Replays the whole trace through the document model.
    pub fn replay(&self) -> Result<ReplayResult, JsError> {
        let done = replay(&self.trace, &ReplayOptions::default())
            .map_err(|e| JsError::new(&e.to_string()))?;
        let mismatch = done
            .mismatch(self.trace.end_content())
            .map(|m| m.to_string());
        Ok(ReplayResult { done, mismatch })
    }
}

#[wasm_bindgen]
impl TraceHandle {
    /// Replays a sequential trace with every patch in one transaction.
    #[wasm_bindgen(js_name = replayOneTransaction)]
    pub fn replay_one_transaction(&self) -> Result<ReplayResult, JsError> {
        let Trace::Sequential(t) = &self.trace else {
            return Err(JsError::new(
                "only a sequential trace replays in one transaction",
            ));
        };
        let done = replay_sequential_one_transaction(t, &ReplayOptions::default())
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(self.result(done))
    }

    /// Pastes the trace's final text as one insertion into an empty block.
    pub fn paste(&self) -> Result<ReplayResult, JsError> {
        let done = paste(self.trace.end_content(), &ReplayOptions::default())
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(self.result(done))
    }

    /// The full state (v1 update) of a document holding the final text
    /// `times` times, written as `times` insertions.
    #[wasm_bindgen(js_name = repeatedState)]
    pub fn repeated_state(&self, times: u32) -> Result<Vec<u8>, JsError> {
        let (doc, _) =
            repeated_document(self.trace.end_content(), times, &ReplayOptions::default())
                .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(doc.encode_state_v1())
    }

    /// Whether `update` loads as one block holding the final text `times` times.
    #[wasm_bindgen(js_name = checkRepeated)]
    pub fn check_repeated(&self, update: &[u8], times: u32) -> bool {
        let Ok(doc) = Document::from_update_v1(update) else {
            return false;
        };
        let blocks = doc.blocks();
        let end = self.trace.end_content();
        let text = match blocks.as_slice() {
            [only] => only.plain_text(),
            _ => return false,
        };
        text.len() == end.len() * times as usize && text.starts_with(end)
    }
}

impl TraceHandle {
    fn result(&self, done: Replay) -> ReplayResult {
        let mismatch = done
            .mismatch(self.trace.end_content())
            .map(|m| m.to_string());
        ReplayResult { done, mismatch }
    }
}

/// The final document of a replay and how it compares with `endContent`.
#[wasm_bindgen]
pub struct ReplayResult {
    done: Replay,
    mismatch: Option<String>,
}

#[wasm_bindgen]
impl ReplayResult {
    /// Whether the final text equals the trace's `endContent`.
    pub fn ok(&self) -> bool {
        self.mismatch.is_none()
    }

    /// Where the final text first differs from `endContent`, if it does.
    pub fn mismatch(&self) -> Option<String> {
        self.mismatch.clone()
    }

    /// Length of the final text in Unicode scalars.
    #[wasm_bindgen(js_name = finalLen)]
    pub fn final_len(&self) -> u32 {
        self.done.stats.final_scalar_len
    }

    /// The final document's full state as a Yjs v1 update.
    #[wasm_bindgen(js_name = encodeState)]
    pub fn encode_state(&self) -> Vec<u8> {
        self.done.document.encode_state_v1()
    }
}

/// Decodes a full state (v1 update) into a fresh document, then drops it.
#[wasm_bindgen(js_name = loadState)]
pub fn load_state(update: &[u8]) -> Result<(), JsError> {
    Document::from_update_v1(update)
        .map(drop)
        .map_err(|e| JsError::new(&e.to_string()))
}

/// Heap bytes currently allocated (counted only where [`CountingAlloc`] is
/// the global allocator, as in the wasm module).
#[wasm_bindgen(js_name = heapLiveBytes)]
pub fn heap_live_bytes() -> f64 {
    counting_alloc::live_bytes() as f64
}

/// Most heap bytes allocated at once since [`reset_heap_peak`].
#[wasm_bindgen(js_name = heapPeakBytes)]
pub fn heap_peak_bytes() -> f64 {
    counting_alloc::peak_bytes() as f64
}

/// Starts a new peak-heap measurement.
#[wasm_bindgen(js_name = resetHeapPeak)]
pub fn reset_heap_peak() {
    counting_alloc::reset_peak();
}

/// Size of the wasm linear memory in bytes (0 when not compiled to wasm).
#[wasm_bindgen(js_name = memoryBytes)]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        // Pages of 64 KiB; memory 0 is the module's only memory.
        (core::arch::wasm32::memory_size(0) as f64) * 65536.0
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// Runs the structural check every update from a socket goes through
/// (`atelier_sync::update_v1::check_update_v1`, default limits) on `update`.
#[wasm_bindgen(js_name = chatCheck)]
pub fn chat_check(update: &[u8]) -> Result<(), JsError> {
    atelier_sync::update_v1::check_update_v1(update, &atelier_sync::Limits::default())
        .map(drop)
        .map_err(|e| JsError::new(&e.to_string()))
}

/// Applies a chat's state (v1 update) to a fresh document, with the chat
/// panel's observer reading every inserted message when `observe` is set;
/// returns how many messages the observer read (`bench chat`'s floor).
#[wasm_bindgen(js_name = chatLoad)]
pub fn chat_load(update: &[u8], observe: bool) -> Result<u32, JsError> {
    use atelier_doc::chat::{Chat, ChatEdit};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use yrs::updates::decoder::Decode;
    use yrs::{Transact, Update};
    let doc = yrs::Doc::new();
    let chat = Chat::new(&doc);
    let read = Arc::new(AtomicU32::new(0));
    if observe {
        let read = read.clone();
        chat.observe("floor", move |edits| {
            for edit in edits {
                if let ChatEdit::Insert { messages, .. } = edit {
                    read.fetch_add(messages.len() as u32, Ordering::Relaxed);
                }
            }
        });
    }
    let update = Update::decode_v1(update).map_err(|e| JsError::new(&e.to_string()))?;
    doc.transact_mut()
        .apply_update(update)
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(read.load(Ordering::Relaxed))
}
