//! `<atelier-chat>`'s side: [`mount_chat`] and the [`ChatMount`] the
//! element (`js/chat-element.js`) drives.
//!
//! The element names a document `D`; its chat is the document `D:chat`
//! ([`atelier_web::chat_document_name`]), opened through the hub beside the
//! text, so an editor and a chat of one `D` on a page share one socket, one
//! IndexedDB database and one tab channel. The panel
//! ([`atelier_chat::ChatPanel`]) is fed from the hub's handle:
//! - `peers`: the chat document's awareness states (user id, name, colour
//!   and the `typing` field), refreshed on every presence change;
//! - `online`: the status is not `offline`;
//! - `readonly`: the `readonly` attribute, or the server granting read-only
//!   access or refusing the chat;
//! - `synced`: after the first sync (history loaded before it fires no
//!   message or mention event);
//! - `server_state`: what the server holds
//!   ([`atelier_web::DocHandle::server_state`]), so the local user's
//!   messages the server lacks show as not sent yet, also after a reload
//!   offline.
//!
//! The panel's `on_typing` is published as the awareness field `typing`.
//!
//! Events, on the element and once on `document` (see the crate docs):
//! `atelier-message` `{doc, message}` for each message that arrives after
//! the first sync (local or remote), `atelier-mention` `{doc, message}`
//! for each new message from someone else that mentions the local user
//! (`@id`: only on that user's pages), `atelier-unread` `{doc, count}`, and
//! `atelier-status`. `doc` is the chat document's name (`D:chat`) and
//! `message` is `{id, author, authorName, ts, body, replyTo}`.

use crate::{
    NetOptions, fire, fire_for_mount, fire_status, next_mount_key, open_doc, register_mount,
    set_field, status_detail, unregister_mount,
};
use atelier_chat::{ChatCore, ChatPanel, ChatPeer, ChatUser, Lang};
use atelier_doc::Document;
use atelier_doc::chat::ChatMessage;
use atelier_web::{ConnectionStatus, DocHandle, Subscription, WeakDocHandle};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;
use yrs::StateVector;
use yrs::updates::decoder::Decode;

/// What the element feeds the panel, as signals the hub's callbacks set.
#[derive(Clone)]
struct Feeds {
    peers: ArcRwSignal<Vec<ChatPeer>>,
    online: ArcRwSignal<bool>,
    readonly: ArcRwSignal<bool>,
    /// Whether the server refused the chat.
    denied: ArcRwSignal<bool>,
    synced: ArcRwSignal<bool>,
    server_state: ArcRwSignal<Option<StateVector>>,
}

/// Sets `signal` to `value` unless it holds it already (a set re-renders).
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: &ArcRwSignal<T>, value: T) {
    if signal.with_untracked(|v| *v != value) {
        signal.set(value);
    }
}

impl Feeds {
    /// The signals for a document in `status`; `readonly` is the attribute.
    fn new(status: ConnectionStatus, readonly: bool) -> Self {
        let feeds = Feeds {
            peers: ArcRwSignal::new(Vec::new()),
            online: ArcRwSignal::new(true),
            readonly: ArcRwSignal::new(readonly),
            denied: ArcRwSignal::new(false),
            synced: ArcRwSignal::new(false),
            server_state: ArcRwSignal::new(None),
        };
        feeds.status(status, readonly);
        feeds
    }

    /// Follows the connection: online, read-only, synced once.
    fn status(&self, status: ConnectionStatus, readonly: bool) {
        use ConnectionStatus::*;
        set_if_changed(&self.online, status != Offline);
        set_if_changed(
            &self.readonly,
            readonly || matches!(status, ReadOnly | Denied),
        );
        set_if_changed(&self.denied, status == Denied);
        if matches!(status, Synced | ReadOnly | Local) {
            set_if_changed(&self.synced, true);
        }
    }

    fn presence(&self, handle: &DocHandle) {
        set_if_changed(&self.peers, chat_peers(handle));
    }

    fn server_state(&self, encoded: Option<&[u8]>) {
        // Unreadable bytes (never written by this code) count as unknown:
        // nothing shows as pending rather than everything.
        let sv = encoded.and_then(|b| StateVector::decode_v1(b).ok());
        set_if_changed(&self.server_state, sv);
    }
}

/// The chat's collaborators from the document's awareness states (this
/// user's other tabs included: the panel leaves out its own id).
fn chat_peers(handle: &DocHandle) -> Vec<ChatPeer> {
    handle
        .awareness_states()
        .into_iter()
        .map(|(client, state)| {
            let (id, name, color) = match state.user {
                Some(u) => (u.id.unwrap_or_default(), u.name, u.color),
                None => (String::new(), String::new(), String::new()),
            };
            ChatPeer {
                // A client that published no id is still listed, under its
                // awareness client id.
                id: if id.is_empty() {
                    format!("client-{client}")
                } else {
                    id
                },
                name,
                color,
                typing: state.typing,
            }
        })
        .collect()
}

/// `message` as the events' detail: `{doc, message: {id, author,
/// authorName, ts, body, replyTo}}` (built field by field: no JSON or float
/// formatting code in the bundle).
fn message_detail(doc_name: &str, m: &ChatMessage) -> js_sys::Object {
    let opt = |v: Option<&String>| v.map_or(JsValue::NULL, |s| JsValue::from_str(s));
    let message = js_sys::Object::new();
    set_field(&message, "id", &m.id.as_str().into());
    set_field(&message, "author", &m.author.as_str().into());
    set_field(&message, "authorName", &opt(m.author_name.as_ref()));
    set_field(&message, "ts", &JsValue::from_f64(m.ts));
    set_field(&message, "body", &m.body.as_str().into());
    set_field(&message, "replyTo", &opt(m.reply_to.as_ref()));
    let detail = js_sys::Object::new();
    set_field(&detail, "doc", &doc_name.into());
    set_field(&detail, "message", &message);
    detail
}

/// Subscribes mount `key` to the chat document: status, persistence,
/// presence and server state feed the panel; status events go to the
/// element (and once to `document`).
fn subscribe(key: u64, handle: &DocHandle, feeds: &Feeds, readonly: bool) -> Vec<Subscription> {
    let weak = handle.downgrade();
    let (on_persistence, on_presence) = (weak.clone(), weak.clone());
    let (f1, f2, f3) = (feeds.clone(), feeds.clone(), feeds.clone());
    vec![
        handle.on_status(move |status| {
            f1.status(status, readonly);
            fire_status(key, &weak);
        }),
        handle.on_persistence(move |_| fire_status(key, &on_persistence)),
        handle.on_presence(move |_| {
            if let Some(h) = on_presence.upgrade() {
                f2.presence(&h);
            }
        }),
        handle.on_server_state(move |sv| f3.server_state(Some(sv))),
    ]
}

/// One mounted chat panel, driven by the `<atelier-chat>` element.
#[wasm_bindgen]
pub struct ChatMount {
    key: u64,
    chat_name: String,
    user_id: String,
    /// The hub's handle (`None` if the document could not be opened).
    handle: Option<DocHandle>,
    networked: bool,
    subscriptions: Vec<Subscription>,
    core: Rc<RefCell<Option<Rc<ChatCore>>>>,
    unmount: Option<Box<dyn std::any::Any>>,
}

/// Mounts a chat panel into `host` (light DOM) on the chat of document
/// `doc_name` (`doc_name:chat`). With a non-empty `server` it is synced
/// through the page's hub (`protocol`: `hocuspocus`, the default, or
/// `y-websocket`; `token` for this document), else it lives in the page.
/// `user_id` (letters, digits, `-`, `_`, `.`: what `@mentions` name) is
/// written as the author of the user's messages; `user_name` and
/// `user_color` are shown. `on_ready` is called once the panel can send.
#[wasm_bindgen(js_name = mountChat)]
#[allow(clippy::too_many_arguments)]
pub fn mount_chat(
    host: HtmlElement,
    doc_name: String,
    readonly: bool,
    lang: String,
    server: Option<String>,
    token: Option<String>,
    protocol: Option<String>,
    user_id: String,
    user_name: Option<String>,
    user_color: Option<String>,
    on_ready: Option<js_sys::Function>,
) -> ChatMount {
    let chat_name = atelier_web::chat_document_name(&doc_name);
    let user = ChatUser {
        id: user_id.clone(),
        name: user_name.clone().unwrap_or_else(|| user_id.clone()),
        color: user_color.clone().unwrap_or_default(),
    };
    let net = NetOptions::from_attributes(server, token, protocol, user_name, user_color).map(
        |mut net| {
            net.user_id = Some(user_id.clone());
            net
        },
    );
    let networked = net.is_some();
    let (handle, error) = match open_doc(&chat_name, net, false) {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let status = match (&handle, networked) {
        (Some(h), _) => h.status(),
        (None, true) => ConnectionStatus::Denied,
        (None, false) => ConnectionStatus::Local,
    };
    let feeds = Feeds::new(status, readonly);
    // Not shared and not synced when the hub could not open it: an empty
    // chat, read-only.
    let doc = handle
        .as_ref()
        .map_or_else(|| Rc::new(Document::new()), DocHandle::document);
    let key = next_mount_key();
    let weak: WeakDocHandle = handle
        .as_ref()
        .map(DocHandle::downgrade)
        .unwrap_or_default();
    let core: Rc<RefCell<Option<Rc<ChatCore>>>> = Rc::default();
    let ready_slot = core.clone();
    let ready: Rc<dyn Fn(Rc<ChatCore>)> = Rc::new(move |c: Rc<ChatCore>| {
        *ready_slot.borrow_mut() = Some(c);
        if let Some(f) = &on_ready {
            let _ = f.call0(&JsValue::NULL);
        }
    });
    let on_typing: Rc<dyn Fn(bool)> = Rc::new(move |typing| {
        if let Some(h) = weak.upgrade() {
            let _ = h.set_awareness_field("typing", typing.then_some(true.into()));
        }
    });
    let name = chat_name.clone();
    let on_message: Rc<dyn Fn(&ChatMessage)> =
        Rc::new(move |m| fire_for_mount(key, "atelier-message", &message_detail(&name, m)));
    let name = chat_name.clone();
    let on_mention: Rc<dyn Fn(&ChatMessage)> =
        Rc::new(move |m| fire_for_mount(key, "atelier-mention", &message_detail(&name, m)));
    let name = chat_name.clone();
    let on_unread: Rc<dyn Fn(usize)> = Rc::new(move |count| {
        let detail = js_sys::Object::new();
        set_field(&detail, "doc", &name.as_str().into());
        set_field(&detail, "count", &JsValue::from_f64(count as f64));
        fire_for_mount(key, "atelier-unread", &detail);
    });
    if let Some(h) = &handle {
        feeds.presence(h);
        feeds.server_state(h.server_state().as_deref());
    }
    let lang = Lang::from_tag(&lang);
    let f = feeds.clone();
    let view = leptos::mount::mount_to(host.clone(), move || {
        let server_state: Signal<Option<StateVector>> = f.server_state.clone().into();
        view! {
            <ChatPanel
                doc=doc.clone()
                user=user.clone()
                peers=Signal::from(f.peers.clone())
                online=Signal::from(f.online.clone())
                readonly=Signal::from(f.readonly.clone())
                denied=Signal::from(f.denied.clone())
                synced=Signal::from(f.synced.clone())
                server_state=server_state
                lang=lang
                on_typing=on_typing.clone()
                on_message=on_message.clone()
                on_mention=on_mention.clone()
                on_unread=on_unread.clone()
                on_ready=ready.clone()
            />
        }
    });
    register_mount(key, &host, handle.as_ref().map(DocHandle::id));
    let mut subscriptions = Vec::new();
    match (&handle, error) {
        (_, Some(error)) => {
            let detail = status_detail(&chat_name, "denied", "unavailable", Some(&error));
            fire(&host, "atelier-status", &detail, true);
        }
        (Some(h), None) if networked => {
            subscriptions = subscribe(key, h, &feeds, readonly);
            fire_status(key, &h.downgrade());
        }
        _ => {}
    }
    ChatMount {
        key,
        chat_name,
        user_id,
        handle,
        networked,
        subscriptions,
        core,
        unmount: Some(Box::new(view)),
    }
}

#[wasm_bindgen]
impl ChatMount {
    /// Sends `text` as the local user, answering message `reply_to` if
    /// given; returns the new message's id. Fails with a sentence a user
    /// can act on (empty, too long, read-only, unknown message to answer)
    /// in the panel's language.
    pub fn send(&self, text: String, reply_to: Option<String>) -> Result<String, JsError> {
        let core = self
            .core
            .borrow()
            .clone()
            .ok_or_else(|| JsError::new("atelier-chat is not mounted yet"))?;
        core.send(&text, reply_to.as_deref()).map_err(|e| {
            let shown = core.describe(&e);
            let shown = if shown.is_empty() {
                e.to_string()
            } else {
                shown
            };
            JsError::new(&shown)
        })
    }

    /// Moves keyboard focus to the composer (the timeline when read-only).
    pub fn focus(&self) {
        if let Some(core) = self.core.borrow().as_ref() {
            core.focus();
        }
    }

    /// Whether the panel is mounted and can send.
    #[wasm_bindgen(getter)]
    pub fn ready(&self) -> bool {
        self.core.borrow().is_some()
    }

    /// Messages that arrived unseen (the `atelier-unread` count).
    #[wasm_bindgen(getter, js_name = unreadCount)]
    pub fn unread_count(&self) -> f64 {
        self.core
            .borrow()
            .as_ref()
            .map_or(0.0, |c| c.unread_count() as f64)
    }

    /// The chat document's name (`doc:chat`).
    #[wasm_bindgen(getter, js_name = docName)]
    pub fn doc_name(&self) -> String {
        self.chat_name.clone()
    }

    /// The local user's id, the author of their messages.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// The connection status: `local` without a server, else `connecting`,
    /// `synced`, `offline`, `read-only` or `denied`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        match &self.handle {
            _ if !self.networked => "local",
            Some(h) => h.status().as_str(),
            None => "denied",
        }
        .to_owned()
    }

    /// The IndexedDB copy: `disabled` without a server, else `loading`,
    /// `saving`, `saved` or `unavailable` (kept in memory only).
    #[wasm_bindgen(getter)]
    pub fn persistence(&self) -> String {
        match &self.handle {
            _ if !self.networked => "disabled",
            Some(h) => h.persistence().as_str(),
            None => "unavailable",
        }
        .to_owned()
    }

    /// Local changes the server has not confirmed yet (0 without a server).
    #[wasm_bindgen(js_name = unsyncedChanges)]
    pub fn unsynced_changes(&self) -> f64 {
        self.handle
            .as_ref()
            .map_or(0.0, |h| h.unsynced_changes() as f64)
    }

    /// Removes the panel from its element and withdraws the typing flag.
    pub fn unmount(&mut self) {
        if let Some(h) = &self.handle {
            // Withdrawing a field cannot fail.
            let _ = h.set_awareness_field("typing", None);
        }
        unregister_mount(self.key);
        self.subscriptions.clear();
        self.core.borrow_mut().take();
        self.unmount.take();
        // The document lingers a moment for a re-mount, then closes.
        self.handle.take();
    }
}
