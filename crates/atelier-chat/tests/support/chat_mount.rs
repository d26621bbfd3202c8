//! Shared by the browser tests: mounting a panel on a local document with
//! the host's inputs as signals, polling with deadlines, and keyboard
//! events. Included with `#[path]` by each test file.
#![allow(dead_code)]

use atelier_chat::{ChatCore, ChatPanel, ChatPeer, ChatUser, Lang};
use atelier_doc::Document;
use atelier_doc::chat::ChatMessage;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};
use yrs::StateVector;

const CSS: &str = concat!(
    include_str!("../../../../styles/tokens.css"),
    include_str!("../../../../styles/chat.css")
);

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

pub fn install_css() {
    if document()
        .get_element_by_id("atelier-chat-test-css")
        .is_none()
    {
        let style = document().create_element("style").unwrap();
        style.set_id("atelier-chat-test-css");
        style.set_text_content(Some(CSS));
        document().head().unwrap().append_child(&style).unwrap();
    }
}

/// Waits until `cond` holds, polling every few milliseconds; fails after
/// `ms` with `what` and what `seen` reports.
pub async fn wait_for(ms: f64, what: &str, cond: impl Fn() -> bool, seen: impl Fn() -> String) {
    let start = js_sys::Date::now();
    while !cond() {
        if js_sys::Date::now() - start > ms {
            panic!(
                "timed out after {ms} ms waiting for {what}; saw: {}",
                seen()
            );
        }
        TimeoutFuture::new(5).await;
    }
}

pub fn me() -> ChatUser {
    ChatUser {
        id: "alice".into(),
        name: "Alice Martin".into(),
        color: "#1f6fb2".into(),
    }
}

pub struct Mounted {
    pub core: Rc<ChatCore>,
    pub host: HtmlElement,
    pub mentions: Rc<RefCell<Vec<String>>>,
    pub unread: Rc<RefCell<Vec<usize>>>,
    pub typing: Rc<RefCell<Vec<bool>>>,
}

pub struct Options {
    pub user: ChatUser,
    pub peers: RwSignal<Vec<ChatPeer>>,
    pub server_state: RwSignal<Option<StateVector>>,
    pub readonly: RwSignal<bool>,
    pub online: RwSignal<bool>,
    pub synced: RwSignal<bool>,
    pub height: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            user: me(),
            peers: RwSignal::new(Vec::new()),
            server_state: RwSignal::new(None),
            readonly: RwSignal::new(false),
            online: RwSignal::new(true),
            synced: RwSignal::new(true),
            height: 480,
        }
    }
}

pub async fn mount(doc: Rc<Document>, opts: Options) -> Mounted {
    install_css();
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    host.set_attribute("style", &format!("height:{}px;width:420px", opts.height))
        .unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let slot: Rc<RefCell<Option<Rc<ChatCore>>>> = Rc::new(RefCell::new(None));
    let mentions = Rc::new(RefCell::new(Vec::new()));
    let unread = Rc::new(RefCell::new(Vec::new()));
    let typing = Rc::new(RefCell::new(Vec::new()));
    let (s2, m2, u2, t2) = (
        slot.clone(),
        mentions.clone(),
        unread.clone(),
        typing.clone(),
    );
    let Options {
        user,
        peers,
        server_state,
        readonly,
        online,
        synced,
        ..
    } = opts;
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let s3 = s2.clone();
        let ready: Rc<dyn Fn(Rc<ChatCore>)> = Rc::new(move |c| *s3.borrow_mut() = Some(c));
        let m3 = m2.clone();
        let on_mention: Rc<dyn Fn(&ChatMessage)> =
            Rc::new(move |m| m3.borrow_mut().push(m.id.clone()));
        let u3 = u2.clone();
        let on_unread: Rc<dyn Fn(usize)> = Rc::new(move |n| u3.borrow_mut().push(n));
        let t3 = t2.clone();
        let on_typing: Rc<dyn Fn(bool)> = Rc::new(move |b| t3.borrow_mut().push(b));
        view! {
            <ChatPanel doc=doc.clone() user=user.clone() peers=peers server_state=server_state
                readonly=readonly online=online synced=synced lang=Lang::En
                on_ready=ready on_mention=on_mention
                on_unread=on_unread on_typing=on_typing />
        }
    });
    std::mem::forget(handle);
    wait_for(
        5000.0,
        "the panel to mount",
        || slot.borrow().is_some(),
        || host.inner_html(),
    )
    .await;
    let core = slot.borrow().clone().unwrap();
    Mounted {
        core,
        host,
        mentions,
        unread,
        typing,
    }
}

impl Mounted {
    pub fn all(&self, sel: &str) -> Vec<Element> {
        let list = self.host.query_selector_all(sel).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into())
            .collect()
    }

    pub fn one(&self, sel: &str) -> Option<Element> {
        self.host.query_selector(sel).unwrap()
    }

    pub fn messages(&self) -> Vec<Element> {
        self.all("article.atelier-chat-message")
    }

    pub fn texts(&self) -> Vec<String> {
        self.all(".atelier-chat-body")
            .iter()
            .map(|e| e.text_content().unwrap_or_default())
            .collect()
    }

    pub fn log(&self) -> HtmlElement {
        self.core.log_element().unwrap()
    }

    pub fn composer(&self) -> HtmlTextAreaElement {
        self.one("textarea").unwrap().unchecked_into()
    }

    /// Types `text` into the composer (value, caret at the end, `input`).
    pub fn type_text(&self, text: &str) {
        let c = self.composer();
        c.focus().unwrap();
        c.set_value(text);
        let end = text.encode_utf16().count() as u32;
        c.set_selection_range(end, end).unwrap();
        let init = web_sys::InputEventInit::new();
        init.set_bubbles(true);
        let ev = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
        c.dispatch_event(&ev).unwrap();
    }

    pub fn in_row(&self, id: &str, sel: &str) -> Option<Element> {
        self.one(&format!(".atelier-chat-row[data-id=\"{id}\"] {sel}"))
    }

    pub fn active(&self) -> Option<Element> {
        document().active_element()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} message nodes, texts {:?}, active {:?}",
            self.messages().len(),
            self.texts(),
            self.active()
                .map(|a| a.outer_html().chars().take(160).collect::<String>())
        )
    }
}

pub fn key(target: &Element, key: &str, shift: bool) -> bool {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&ev).unwrap();
    ev.default_prevented()
}

/// Activates the focused button as Enter or Space would.
pub fn press_focused() {
    let a: HtmlElement = document().active_element().unwrap().unchecked_into();
    a.click();
}

pub fn sync(from: &Document, to: &Document) {
    let diff = from.diff_v1(&to.state_vector_v1()).unwrap();
    to.apply_update_v1(&diff).unwrap();
}

pub fn day_ms() -> f64 {
    86_400_000.0
}
