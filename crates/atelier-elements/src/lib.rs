//! The wasm side of Atelier's custom elements (layer 5).
//!
//! wasm-bindgen cannot subclass `HTMLElement`, so small hand-written, typed
//! JS modules (`js/`, bundled by `cargo xtask dist`) define the element
//! classes and delegate to this crate: `js/editor-element.js` defines
//! `<atelier-editor>` over `mountEditor` (`src/editor_element.rs`) and
//! `js/chat-element.js` `<atelier-chat>` over `mountChat`
//! (`src/chat_element.rs`), `js/assistant-element.js`
//! `<atelier-assistant>` over `mountAssistant`
//! (`src/assistant_element.rs`); `js/shared.js` loads the wasm once per page,
//! and a bundle's entry module (`js/atelier-elements.js`,
//! `js/atelier-suite.js`) says where its wasm is and defines its elements.
//! One file per element on each side; this file holds what every element
//! shares: the page's registry of mounted elements, how a document is
//! opened, and how events are fired.
//!
//! ## Two bundles, one page runtime each
//! Cargo features choose the elements built in, and `cargo xtask dist`
//! builds the crate twice: `www/pkg/atelier-elements.js` (feature
//! `editor`: a page with only the editor downloads no chat code) and
//! `www/pkg/atelier-suite.js` (`editor` + `chat` + `assistant`). A page loads one of
//! them; inside it every element opens its document through
//! [`atelier_web::hub`], so elements with the same `doc` share one
//! [`atelier_doc::Document`] and one connection.
//!
//! ## Light DOM, not shadow DOM
//! Elements render into their light DOM. The editor maps the selection
//! through `window.getSelection()`, `beforeinput` target ranges and the
//! document's `selectionchange`; in a shadow root only Chromium exposes
//! the inner nodes that way (Safari and Firefox retarget them or need
//! `getComposedRanges`). `atelier-editor`'s browser test
//! `selection_behaviour_decides_light_dom` pins what the editor relies on.
//! Styles are scoped by class names (`.atelier-*`) and design tokens.
//!
//! ## Documents and connections
//! Elements with the same `doc` (and the same `server` and `protocol`)
//! share one document on the page, and every document of one Hocuspocus
//! server shares one socket, so a chat or an assistant beside the editor
//! adds no connection (the first element's `token` and settings of a
//! document hold while it is open; the first user name and colour given
//! are the page's, on every document, and the first user id given — a
//! chat's — replaces the page's random one). A networked document is initialised
//! for BlockNote only after its first sync; a local one at once. A
//! document outlives its last element by a short grace period, so a
//! re-mount (an attribute change) does not reconnect. Each element
//! subscribes on its own and drops its subscriptions when it unmounts.
//!
//! A networked document is also kept in IndexedDB (one database per server
//! and document family: `doc` and its chat `doc:chat`) and loaded from
//! there before connecting, so a page reloaded offline shows and edits its
//! last state; tabs of one browser share updates and presence through a
//! `BroadcastChannel` (see `atelier_web`).
//!
//! ## Events
//! Every element fires its events on itself (not bubbling) and, if it is
//! the first mounted element of its document, once on `document` (La
//! Suite's convention), so `document` hears each change once. Every
//! element fires `atelier-status` `{doc, status, persistence}` with status
//! `connecting`, `synced`, `offline`, `read-only` or `denied` (plus `error`
//! when the connection could not even start) and persistence `loading`,
//! `saving`, `saved` or `unavailable` (the IndexedDB copy). The editor's,
//! the chat's and the assistant's own events are listed in their files.
//!
//! Features: `panic-hook` (default) installs `console_error_panic_hook`;
//! `editor` (default) builds `<atelier-editor>`'s side; `chat` (default)
//! builds `<atelier-chat>`'s side; `assistant` (default) builds
//! `<atelier-assistant>`'s side (with `editor`, it edits through the
//! editor of its document on the page). `dist` builds the shipped bundles
//! with `editor` alone and with `editor` + `chat` + `assistant`.

// Built with no element (`--no-default-features`), the shared helpers
// have no caller; that build only checks the crate compiles.
#![cfg_attr(
    not(any(feature = "editor", feature = "chat", feature = "assistant")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "assistant")]
mod assistant_element;
#[cfg(feature = "chat")]
mod chat_element;
#[cfg(feature = "editor")]
mod editor_element;

#[cfg(feature = "assistant")]
pub use assistant_element::{AssistantMount, mount_assistant};
#[cfg(feature = "chat")]
pub use chat_element::{ChatMount, mount_chat};
#[cfg(feature = "editor")]
pub use editor_element::{EditorMount, mount_editor};

use atelier_web::{DocHandle, DocOptions, Framing, WeakDocHandle};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

thread_local! {
    /// Mounted elements by mount key: the host and the hub's id of its
    /// document (`None`: it could not be opened).
    static MOUNTS: RefCell<HashMap<u64, (HtmlElement, Option<u64>)>> = RefCell::new(HashMap::new());
    static NEXT_MOUNT: Cell<u64> = const { Cell::new(1) };
}

/// A fresh mount key, unique on the page across element kinds.
pub(crate) fn next_mount_key() -> u64 {
    NEXT_MOUNT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    })
}

/// Records mount `key`: its element and its document's hub id.
pub(crate) fn register_mount(key: u64, host: &HtmlElement, doc_id: Option<u64>) {
    MOUNTS.with(|m| m.borrow_mut().insert(key, (host.clone(), doc_id)));
}

/// Forgets mount `key` (its element no longer hears its document).
pub(crate) fn unregister_mount(key: u64) {
    MOUNTS.with(|m| m.borrow_mut().remove(&key));
}

/// The element of mount `key`, while it is mounted.
// The editor's and the assistant's sides ask (a chat-only build is
// checked, not shipped).
#[cfg_attr(not(any(feature = "editor", feature = "assistant")), allow(dead_code))]
pub(crate) fn mount_host(key: u64) -> Option<HtmlElement> {
    MOUNTS.with(|m| m.borrow().get(&key).map(|(h, _)| h.clone()))
}

/// The mounts of the document the hub knows as `doc_id`, oldest first.
#[cfg_attr(not(all(feature = "editor", feature = "assistant")), allow(dead_code))]
pub(crate) fn mounts_of_doc(doc_id: u64) -> Vec<u64> {
    MOUNTS.with(|m| {
        let mut keys: Vec<u64> = m
            .borrow()
            .iter()
            .filter(|(_, (_, d))| *d == Some(doc_id))
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        keys
    })
}

/// Connection settings an element passes to [`open_doc`].
pub(crate) struct NetOptions {
    pub(crate) server: String,
    pub(crate) token: String,
    pub(crate) framing: Framing,
    pub(crate) user_name: String,
    pub(crate) user_color: Option<String>,
    /// The local user's id, if the element knows one (the chat does).
    /// Only the chat's build has it: the editor bundle stays without the
    /// hub's code that reads it.
    #[cfg(feature = "chat")]
    pub(crate) user_id: Option<String>,
}

impl NetOptions {
    /// The settings from an element's attributes; `None` without a server
    /// (a local document).
    pub(crate) fn from_attributes(
        server: Option<String>,
        token: Option<String>,
        protocol: Option<String>,
        user_name: Option<String>,
        user_color: Option<String>,
    ) -> Option<Self> {
        server
            .filter(|s| !s.trim().is_empty())
            .map(|server| NetOptions {
                server,
                token: token.unwrap_or_default(),
                framing: Framing::from_attribute(protocol.as_deref()),
                user_name: user_name.unwrap_or_default(),
                user_color: user_color.filter(|c| !c.is_empty()),
                #[cfg(feature = "chat")]
                user_id: None,
            })
    }
}

/// Opens `doc_name` through the hub (networked with `net`, else local);
/// `init_text` creates BlockNote's structure once the content is known.
pub(crate) fn open_doc(
    doc_name: &str,
    net: Option<NetOptions>,
    init_text: bool,
) -> atelier_web::Result<DocHandle> {
    let mut options = match net {
        None => DocOptions::local(doc_name),
        Some(net) => {
            let mut o = DocOptions::new(net.server, doc_name);
            o.token = net.token;
            o.framing = net.framing;
            o.user_name = net.user_name;
            o.user_color = net.user_color;
            #[cfg(feature = "chat")]
            {
                o.user_id = net.user_id;
            }
            o
        }
    };
    options.init_text = init_text;
    atelier_web::hub::open(options)
}

/// Fires `name` on mount `key`'s element and, if it is the first mounted
/// element of its document, once on `document` (La Suite's convention):
/// every element subscribes on its own, and `document` hears each change
/// once.
pub(crate) fn fire_for_mount(key: u64, name: &str, detail: &js_sys::Object) {
    let target = MOUNTS.with(|m| {
        let m = m.borrow();
        let (host, doc) = m.get(&key)?;
        let first = doc.is_some() && !m.iter().any(|(k, (_, d))| d == doc && *k < key);
        Some((host.clone(), first))
    });
    if let Some((host, first)) = target {
        fire(&host, name, detail, first);
    }
}

/// Fires `atelier-status` for mount `key` with the document's status and
/// persistence now.
pub(crate) fn fire_status(key: u64, weak: &WeakDocHandle) {
    if let Some(h) = weak.upgrade() {
        let detail = status_detail(
            h.name(),
            h.status().as_str(),
            h.persistence().as_str(),
            None,
        );
        fire_for_mount(key, "atelier-status", &detail);
    }
}

/// Sets `detail[key] = value`.
pub(crate) fn set_field(detail: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(detail, &key.into(), value);
}

/// The detail of `atelier-status`.
pub(crate) fn status_detail(
    doc_name: &str,
    status: &str,
    persistence: &str,
    error: Option<&str>,
) -> js_sys::Object {
    let detail = js_sys::Object::new();
    set_field(&detail, "doc", &doc_name.into());
    set_field(&detail, "status", &status.into());
    set_field(&detail, "persistence", &persistence.into());
    if let Some(error) = error {
        set_field(&detail, "error", &error.into());
    }
    detail
}

/// Fires `name` on `host` (not bubbling), and on `document` too if asked.
pub(crate) fn fire(host: &HtmlElement, name: &str, detail: &js_sys::Object, on_document: bool) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&ev);
    }
    if on_document {
        fire_document(name, detail);
    }
}

fn fire_document(name: &str, detail: &js_sys::Object) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let (Some(document), Ok(ev)) = (
        web_sys::window().and_then(|w| w.document()),
        web_sys::CustomEvent::new_with_event_init_dict(name, &init),
    ) {
        let _ = document.dispatch_event(&ev);
    }
}

/// A thrown JS value as text (an `Error`'s message, else its string form).
#[cfg_attr(not(feature = "editor"), allow(dead_code))]
pub(crate) fn js_message(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// Installs the panic hook (once) so panics show in the console.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "panic-hook")]
    console_error_panic_hook::set_once();
}
