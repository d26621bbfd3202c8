//! Copy and cut: the selected part of the document as clipboard data.
//! (Being written: see the helper's task.)

use crate::session::Selection;
use atelier_doc::Document;

/// What a copy puts on the clipboard.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClipboardPayload {
    /// `text/html`.
    pub html: String,
    /// `text/markdown` (also `text/plain`).
    pub markdown: String,
}

/// The selected part of `doc` as clipboard data.
pub fn serialize(_doc: &Document, _sel: &Selection) -> ClipboardPayload {
    ClipboardPayload::default()
}

/// Puts a payload on the clipboard of a copy/cut event.
pub fn write(data: &web_sys::DataTransfer, payload: &ClipboardPayload) -> Result<(), wasm_bindgen::JsValue> {
    data.set_data("text/html", &payload.html)?;
    data.set_data("text/plain", &payload.markdown)?;
    Ok(())
}
