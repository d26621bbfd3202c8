//! The wasm side of Atelier's custom elements (layer 5).
//!
//! wasm-bindgen cannot subclass `HTMLElement`, so a small hand-written,
//! typed JS module (`js/atelier-elements.js`, copied to `www/pkg/` by
//! `cargo xtask dist`) defines `class AtelierEditor extends HTMLElement` and
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
//! ## Documents and connections
//! Elements with the same `doc` attribute share one [`atelier_doc::Document`]
//! on the page and, when `server` is set, one [`atelier_web::Connection`]
//! (the first element's `server`, `token`, `protocol` and user win). A
//! networked document is initialised for BlockNote only after its first
//! sync; a local one at once. The connection outlives its last element by
//! a short grace period, so a re-mount (an attribute change) does not
//! reconnect.
//!
//! Events, on every element of the document (not bubbling) and once on
//! `document` (La Suite's convention): `atelier-change` `{doc, element}`,
//! `atelier-status` `{doc, status, persistence}` with status `connecting`,
//! `synced`, `offline`, `read-only` or `denied` (plus `error` when the
//! connection could not even start) and persistence `loading`, `saving`,
//! `saved` or `unavailable` (the IndexedDB copy, see below), and `atelier-presence` `{doc, peers}` with peers
//! `[{clientId, name, color, cursor: {anchor, head} | null}]`, positions as
//! `{block, offset}`.
//!
//! A networked document is also kept in IndexedDB (per server and `doc`)
//! and loaded from there before connecting, so a page reloaded offline
//! shows and edits its last state; tabs of one browser share updates and
//! presence through a `BroadcastChannel` (see `atelier_web`).
//!
//! Features: `panic-hook` (default) installs `console_error_panic_hook`.

use atelier_doc::Document;
use atelier_editor::{Editor, EditorCore, Lang, MarkdownParser, Pos, RemoteCaret, Selection};
use atelier_web::{ConnectOptions, Connection, Framing, Peer};
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
    static LINKS: RefCell<HashMap<String, Link>> = RefCell::new(HashMap::new());
    /// Mounted editors by mount key, to redraw remote carets.
    static CORES: RefCell<HashMap<u64, (String, std::rc::Weak<EditorCore>)>> = RefCell::new(HashMap::new());
    static NEXT_MOUNT: Cell<u64> = const { Cell::new(1) };
}

/// How long a connection stays open after its last element went away.
const LINGER_MS: i32 = 3_000;

/// One document's connection, shared by its elements.
struct Link {
    conn: Connection,
    users: usize,
}

/// The shared document named `name` on this page (created on first use).
/// A local document is initialised at once; a networked one only after its
/// first sync (DESIGN.md §3), by the connection.
fn shared_doc(name: &str, networked: bool) -> Rc<Document> {
    DOCS.with(|d| {
        d.borrow_mut()
            .entry(name.to_owned())
            .or_insert_with(|| {
                let doc = Rc::new(Document::new());
                if !networked {
                    doc.ensure_initialized();
                }
                doc
            })
            .clone()
    })
}

/// Connection settings an element passes to [`mount_editor`].
struct NetOptions {
    server: String,
    token: String,
    framing: Framing,
    user_name: String,
    user_color: Option<String>,
}

/// Joins (or opens) the connection of `doc_name`; reports failures as an
/// `atelier-status` event.
fn join_link(doc: &Rc<Document>, doc_name: &str, net: NetOptions, host: &HtmlElement) {
    let joined = LINKS.with(|l| {
        l.borrow_mut().get_mut(doc_name).map(|link| {
            link.users += 1;
            (link.conn.status(), link.conn.persistence())
        })
    });
    if let Some((status, persistence)) = joined {
        fire(
            host,
            "atelier-status",
            &status_detail(doc_name, status.as_str(), persistence.as_str(), None),
            false,
        );
        return;
    }
    let mut options = ConnectOptions::new(net.server, doc_name);
    options.token = net.token;
    options.framing = net.framing;
    options.user_name = net.user_name;
    options.user_color = net.user_color;
    let conn = match Connection::open(doc.clone(), options) {
        Ok(conn) => conn,
        Err(e) => {
            let detail = status_detail(doc_name, "denied", "unavailable", Some(&e.to_string()));
            fire(host, "atelier-status", &detail, true);
            return;
        }
    };
    // Both callbacks fire the same event, with the other half read from
    // the link (absent while the connection is being registered).
    let name = doc_name.to_owned();
    conn.on_status(move |status| {
        let persistence = LINKS.with(|l| {
            l.borrow()
                .get(&name)
                .map_or("loading", |link| link.conn.persistence().as_str())
        });
        fire_all(
            &name,
            "atelier-status",
            &status_detail(&name, status.as_str(), persistence, None),
        );
    });
    let name = doc_name.to_owned();
    conn.on_persistence(move |persistence| {
        let Some(status) = LINKS.with(|l| l.borrow().get(&name).map(|link| link.conn.status()))
        else {
            return;
        };
        fire_all(
            &name,
            "atelier-status",
            &status_detail(&name, status.as_str(), persistence.as_str(), None),
        );
    });
    let name = doc_name.to_owned();
    conn.on_presence(move |peers| {
        refresh_carets(&name);
        fire_all(&name, "atelier-presence", &presence_detail(&name, peers));
    });
    LINKS.with(|l| {
        l.borrow_mut()
            .insert(doc_name.to_owned(), Link { conn, users: 1 })
    });
}

/// Leaves the connection of `doc_name`; the last element closes it after
/// [`LINGER_MS`] unless another element joined meanwhile.
fn leave_link(doc_name: &str) {
    let unused = LINKS.with(|l| {
        l.borrow_mut().get_mut(doc_name).is_some_and(|link| {
            link.users = link.users.saturating_sub(1);
            link.users == 0
        })
    });
    if !unused {
        return;
    }
    let name = doc_name.to_owned();
    let close = Closure::once_into_js(move || {
        let link = LINKS.with(|l| {
            let mut l = l.borrow_mut();
            if l.get(&name).is_some_and(|link| link.users == 0) {
                l.remove(&name)
            } else {
                None
            }
        });
        // Dropped outside the borrow: closing may fire no events, but keep
        // the registry free while it runs.
        drop(link);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            close.unchecked_ref(),
            LINGER_MS,
        );
    }
}

/// Publishes `sel` as this page's cursor on `doc_name`'s connection.
fn publish_selection(doc_name: &str, sel: &Selection) {
    LINKS.with(|l| {
        if let Some(link) = l.borrow().get(doc_name) {
            link.conn.set_selection(Some((
                (&sel.anchor.block, sel.anchor.offset),
                (&sel.focus.block, sel.focus.offset),
            )));
        }
    });
}

/// The remote carets of `doc_name`, resolved in the document now.
fn remote_carets(doc_name: &str) -> Vec<RemoteCaret> {
    let peers = LINKS.with(|l| {
        l.borrow()
            .get(doc_name)
            .map(|link| link.conn.peers())
            .unwrap_or_default()
    });
    peers
        .into_iter()
        .filter_map(|p| {
            let c = p.cursor?;
            Some(RemoteCaret {
                name: p.name,
                color: p.color,
                anchor: Pos::new(c.anchor.block, c.anchor.offset),
                head: Pos::new(c.head.block, c.head.offset),
            })
        })
        .collect()
}

/// Redraws the remote carets of every editor showing `doc_name`.
fn refresh_carets(doc_name: &str) {
    let cores: Vec<Rc<EditorCore>> = CORES.with(|c| {
        c.borrow()
            .values()
            .filter(|(d, _)| d == doc_name)
            .filter_map(|(_, w)| w.upgrade())
            .collect()
    });
    for core in cores {
        core.refresh_carets();
    }
}

fn status_detail(
    doc_name: &str,
    status: &str,
    persistence: &str,
    error: Option<&str>,
) -> js_sys::Object {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"doc".into(), &doc_name.into());
    let _ = js_sys::Reflect::set(&detail, &"status".into(), &status.into());
    let _ = js_sys::Reflect::set(&detail, &"persistence".into(), &persistence.into());
    if let Some(error) = error {
        let _ = js_sys::Reflect::set(&detail, &"error".into(), &error.into());
    }
    detail
}

fn presence_detail(doc_name: &str, peers: &[Peer]) -> js_sys::Object {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"doc".into(), &doc_name.into());
    let peers = serde_json::to_string(peers)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or_else(|| js_sys::Array::new().into());
    let _ = js_sys::Reflect::set(&detail, &"peers".into(), &peers);
    detail
}

/// Fires `name` on every element showing `doc_name`, then once on `document`.
fn fire_all(doc_name: &str, name: &str, detail: &js_sys::Object) {
    let hosts: Vec<HtmlElement> = MOUNTS.with(|m| {
        m.borrow()
            .values()
            .filter(|(_, d)| d == doc_name)
            .map(|(h, _)| h.clone())
            .collect()
    });
    for host in &hosts {
        fire(host, name, detail, false);
    }
    fire_document(name, detail);
}

/// Fires `name` on `host` (not bubbling), and on `document` too if asked.
fn fire(host: &HtmlElement, name: &str, detail: &js_sys::Object, on_document: bool) {
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
    networked: bool,
    markdown: Option<MarkdownParser>,
    unmount: Option<Box<dyn std::any::Any>>,
}

/// Mounts an editor into `host` (light DOM) on the shared document
/// `doc_name`. With a non-empty `server`, the document is kept in sync with
/// it (`protocol`: `hocuspocus`, the default, or `y-websocket`), and the
/// local user (`user_name`, `user_color`) and caret are published.
/// `parse_markdown` (`(md) => Promise<string>`, the blocks as JSON) reads
/// pasted and set Markdown; the JS module passes one backed by the lazily
/// loaded Markdown module (`atelier-markdown`).
#[wasm_bindgen(js_name = mountEditor)]
#[allow(clippy::too_many_arguments)]
pub fn mount_editor(
    host: HtmlElement,
    doc_name: String,
    readonly: bool,
    lang: String,
    server: Option<String>,
    token: Option<String>,
    protocol: Option<String>,
    user_name: Option<String>,
    user_color: Option<String>,
    parse_markdown: Option<js_sys::Function>,
) -> EditorMount {
    let markdown = parse_markdown.map(markdown_parser);
    let core_markdown = markdown.clone();
    let server = server.filter(|s| !s.trim().is_empty());
    let networked = server.is_some();
    let doc = shared_doc(&doc_name, networked);
    let lang = Lang::from_tag(&lang);
    let d = doc.clone();
    let selection_doc = doc_name.clone();
    let key = NEXT_MOUNT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    // Without a connection `publish_selection` finds no link and does nothing.
    let on_ready: Rc<dyn Fn(Rc<EditorCore>)> = Rc::new(move |core: Rc<EditorCore>| {
        let name = selection_doc.clone();
        CORES.with(|c| {
            c.borrow_mut()
                .insert(key, (name.clone(), Rc::downgrade(&core)))
        });
        let caret_doc = name.clone();
        core.set_markdown_parser(core_markdown.clone());
        core.set_selection_listener(Some(Rc::new(move |sel: &Selection| {
            publish_selection(&name, sel);
        })));
        if networked {
            core.set_caret_source(Some(Rc::new(move || remote_carets(&caret_doc))));
        }
    });
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <Editor doc=d.clone() readonly=readonly lang=lang on_ready=on_ready.clone() /> }
    });
    MOUNTS.with(|m| m.borrow_mut().insert(key, (host.clone(), doc_name.clone())));
    if let Some(server) = server {
        let net = NetOptions {
            server,
            token: token.unwrap_or_default(),
            framing: Framing::from_attribute(protocol.as_deref()),
            user_name: user_name.unwrap_or_default(),
            user_color: user_color.filter(|c| !c.is_empty()),
        };
        join_link(&doc, &doc_name, net, &host);
    }
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
        networked,
        markdown,
        unmount: Some(Box::new(handle)),
    }
}

/// Wraps the JS Markdown function (`(md) => Promise<string>`, a JSON array
/// of blocks) as the editor's parser; a rejection or unreadable JSON
/// becomes the error message.
fn markdown_parser(f: js_sys::Function) -> MarkdownParser {
    Rc::new(move |text: String| {
        let called = f.call1(&JsValue::NULL, &JsValue::from_str(&text));
        Box::pin(async move {
            let promise: js_sys::Promise = called
                .map_err(|e| js_message(&e))?
                .dyn_into()
                .map_err(|_| "the Markdown parser did not return a promise".to_owned())?;
            let json = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|e| js_message(&e))?
                .as_string()
                .ok_or_else(|| "the Markdown parser did not return a string".to_owned())?;
            atelier_doc::block_json::new_blocks_from_json(&json)
                .map_err(|e| format!("the Markdown parser returned unreadable blocks: {e}"))
        })
    })
}

/// A thrown JS value as text (an `Error`'s message, else its string form).
fn js_message(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

fn fire_change(host: &HtmlElement, doc_name: &str) {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"doc".into(), &doc_name.into());
    let _ = js_sys::Reflect::set(&detail, &"element".into(), host);
    // On the element (not bubbling) and, as La Suite widgets do, on `document`.
    fire(host, "atelier-change", &detail, true);
}

#[wasm_bindgen]
impl EditorMount {
    /// The document as Markdown.
    #[wasm_bindgen(js_name = getMarkdown)]
    pub fn get_markdown(&self) -> String {
        atelier_doc::markdown::export(&self.doc.blocks())
    }

    /// Replaces the document with Markdown (one undoable change); rejects
    /// with the reason if the Markdown module cannot read it.
    #[wasm_bindgen(js_name = setMarkdown)]
    pub fn set_markdown(&self, markdown: String) -> js_sys::Promise {
        let parser = self.markdown.clone();
        let doc = self.doc.clone();
        let key = self.key;
        wasm_bindgen_futures::future_to_promise(async move {
            let parser = parser
                .ok_or_else(|| JsError::new("no Markdown parser was given to mountEditor"))?;
            let blocks = parser(markdown)
                .await
                .map_err(|e| JsError::new(&format!("setMarkdown: {e}")))?;
            // Through this element's editor, so its undo can take it back.
            let core = CORES.with(|c| c.borrow().get(&key).and_then(|(_, w)| w.upgrade()));
            let done = match core {
                Some(core) => core.session().replace_with_blocks(blocks),
                None => doc
                    .apply_ops(
                        &atelier_editor::session::replace_blocks_ops(&doc, blocks),
                        atelier_editor::LOCAL_ORIGIN,
                    )
                    .map(|_| ())
                    .map_err(Into::into),
            };
            done.map_err(|e| JsError::new(&e.to_string()))?;
            Ok(JsValue::UNDEFINED)
        })
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
        let was_mounted = MOUNTS.with(|m| m.borrow_mut().remove(&self.key)).is_some();
        CORES.with(|c| c.borrow_mut().remove(&self.key));
        self.unmount.take();
        if was_mounted && self.networked {
            leave_link(&self.doc_name);
        }
    }

    /// The connection status: `local` without a server, else `connecting`,
    /// `synced`, `offline`, `read-only` or `denied`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        if !self.networked {
            return "local".to_owned();
        }
        LINKS.with(|l| {
            l.borrow()
                .get(&self.doc_name)
                .map_or("offline", |link| link.conn.status().as_str())
                .to_owned()
        })
    }

    /// The IndexedDB copy: `disabled` without a server, else `loading`,
    /// `saving`, `saved` or `unavailable` (kept in memory only).
    #[wasm_bindgen(getter)]
    pub fn persistence(&self) -> String {
        if !self.networked {
            return "disabled".to_owned();
        }
        LINKS.with(|l| {
            l.borrow()
                .get(&self.doc_name)
                .map_or("unavailable", |link| link.conn.persistence().as_str())
                .to_owned()
        })
    }

    /// The remote peers (`[{clientId, name, color, cursor}]`), as in
    /// `atelier-presence` events.
    #[wasm_bindgen(getter)]
    pub fn peers(&self) -> JsValue {
        let peers = LINKS.with(|l| {
            l.borrow()
                .get(&self.doc_name)
                .map(|link| link.conn.peers())
                .unwrap_or_default()
        });
        serde_json::to_string(&peers)
            .ok()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .unwrap_or_else(|| js_sys::Array::new().into())
    }

    /// Local changes the server has not confirmed yet (0 without a server).
    #[wasm_bindgen(js_name = unsyncedChanges)]
    pub fn unsynced_changes(&self) -> f64 {
        LINKS.with(|l| {
            l.borrow()
                .get(&self.doc_name)
                .map_or(0.0, |link| link.conn.unsynced_changes() as f64)
        })
    }
}
