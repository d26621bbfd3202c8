//! The wasm side of Atelier's custom elements (layer 5).
//!
//! wasm-bindgen cannot subclass `HTMLElement`, so a small hand-written,
//! typed JS module (`js/atelier-elements.js`, copied to `www/pkg/` by
//! `scripts/dist.sh`) defines `class AtelierEditor extends HTMLElement` and
//! delegates to [`mount_editor`] and the [`EditorMount`] it returns.
//!
//! ## Light DOM, not shadow DOM
//! The editing surface is rendered into the element's light DOM. The editor
//! maps the selection through `window.getSelection()`, `beforeinput` target
//! ranges and the document's `selectionchange`; in a shadow root only
//! Chromium exposes the inner nodes that way (Safari and Firefox retarget
//! them or need `getComposedRanges`). `atelier-editor`'s browser test
//! `selection_behaviour_decides_light_dom` pins what the editor relies on.
//! Styles are scoped by class names (`.atelier-*`) and design tokens.
//!
//! ## Documents
//! Elements with the same `doc` attribute share one [`atelier_doc::Document`]
//! on the page. Nothing is networked yet: `server` and `token` are stored
//! by the JS element for the later `atelier-web` transport and not used.
//!
//! Features: `panic-hook` (default) installs `console_error_panic_hook`.

use atelier_doc::Document;
use atelier_editor::{Editor, Lang};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

thread_local! {
    static DOCS: RefCell<HashMap<String, Rc<Document>>> = RefCell::new(HashMap::new());
    static MOUNTS: RefCell<HashMap<u64, (HtmlElement, String)>> = RefCell::new(HashMap::new());
    static NEXT_MOUNT: Cell<u64> = const { Cell::new(1) };
}

/// The shared document named `name` on this page (created on first use).
fn shared_doc(name: &str) -> Rc<Document> {
    DOCS.with(|d| {
        d.borrow_mut()
            .entry(name.to_owned())
            .or_insert_with(|| {
                let doc = Rc::new(Document::new());
                // Local only for now: with a transport this waits for the first sync.
                doc.ensure_initialized();
                doc
            })
            .clone()
    })
}

/// Installs the panic hook (once) so panics show in the console.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "panic-hook")]
    console_error_panic_hook::set_once();
}

/// One mounted editor, driven by the `<atelier-editor>` element.
#[wasm_bindgen]
pub struct EditorMount {
    doc: Rc<Document>,
    doc_name: String,
    host: HtmlElement,
    observer_key: String,
    key: u64,
    unmount: Option<Box<dyn std::any::Any>>,
}

/// Mounts an editor into `host` (light DOM) on the shared document `doc_name`.
#[wasm_bindgen(js_name = mountEditor)]
pub fn mount_editor(
    host: HtmlElement,
    doc_name: String,
    readonly: bool,
    lang: String,
) -> EditorMount {
    let doc = shared_doc(&doc_name);
    let lang = Lang::from_tag(&lang);
    let d = doc.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <Editor doc=d.clone() readonly=readonly lang=lang /> }
    });
    let key = NEXT_MOUNT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    MOUNTS.with(|m| m.borrow_mut().insert(key, (host.clone(), doc_name.clone())));
    let observer_key = format!("atelier-elements-change-{key}");
    // yrs observers must be Send + Sync and must not touch the document:
    // they only flag the change; a microtask fires the events.
    let pending = Arc::new(AtomicBool::new(false));
    let _ = doc
        .ydoc()
        .observe_update_v1(observer_key.clone(), move |_, _| {
            if !pending.swap(true, Ordering::SeqCst) {
                let pending = pending.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    pending.store(false, Ordering::SeqCst);
                    let target = MOUNTS.with(|m| m.borrow().get(&key).cloned());
                    if let Some((host, name)) = target {
                        fire_change(&host, &name);
                    }
                });
            }
        });
    EditorMount {
        doc,
        doc_name,
        host,
        observer_key,
        key,
        unmount: Some(Box::new(handle)),
    }
}

fn fire_change(host: &HtmlElement, doc_name: &str) {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"doc".into(), &doc_name.into());
    let _ = js_sys::Reflect::set(&detail, &"element".into(), host);
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&detail);
    // On the element (not bubbling) and, as La Suite widgets do, on `document`.
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict("atelier-change", &init) {
        let _ = host.dispatch_event(&ev);
    }
    init.set_bubbles(false);
    if let (Some(document), Ok(ev)) = (
        web_sys::window().and_then(|w| w.document()),
        web_sys::CustomEvent::new_with_event_init_dict("atelier-change", &init),
    ) {
        let _ = document.dispatch_event(&ev);
    }
}

#[wasm_bindgen]
impl EditorMount {
    /// The document as Markdown.
    #[wasm_bindgen(js_name = getMarkdown)]
    pub fn get_markdown(&self) -> String {
        atelier_doc::markdown::export(&self.doc.blocks())
    }

    /// Replaces the document with Markdown (one undoable change).
    #[wasm_bindgen(js_name = setMarkdown)]
    pub fn set_markdown(&self, markdown: &str) -> Result<(), JsError> {
        let ops = atelier_editor::session::replace_markdown_ops(&self.doc, markdown);
        self.doc
            .apply_ops(&ops, atelier_editor::LOCAL_ORIGIN)
            .map(|_| ())
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The document as sanitized HTML.
    #[wasm_bindgen(js_name = getHTML)]
    pub fn get_html(&self) -> String {
        atelier_doc::html::export(&self.doc.blocks())
    }

    /// The name of the shared document.
    #[wasm_bindgen(getter, js_name = docName)]
    pub fn doc_name(&self) -> String {
        self.doc_name.clone()
    }

    /// Moves the keyboard focus into the editing surface.
    pub fn focus(&self) {
        if let Ok(Some(el)) = self.host.query_selector(".atelier-surface")
            && let Ok(el) = el.dyn_into::<HtmlElement>()
        {
            let _ = el.focus();
        }
    }

    /// Removes the editor from its element.
    pub fn unmount(&mut self) {
        let _ = self
            .doc
            .ydoc()
            .unobserve_update_v1(self.observer_key.clone());
        MOUNTS.with(|m| m.borrow_mut().remove(&self.key));
        self.unmount.take();
    }
}
