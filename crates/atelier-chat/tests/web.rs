//! The chat panel in a real browser (headless Chromium via
//! wasm-bindgen-test): virtualization of a 10,000-message chat, sending,
//! replying, reacting, editing and deleting through keyboard events,
//! mentions, pending and unread state, two replicas converging, and
//! hostile bodies rendered as text. Every wait has a deadline and says
//! what it saw when it fails.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use atelier_chat::{ChatCore, ChatPanel, ChatPeer, ChatUser, Lang};
use atelier_doc::Document;
use atelier_doc::chat::{Chat, ChatMessage, NewMessage};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};
use yrs::{ReadTxn, StateVector, Transact};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = concat!(
    include_str!("../../../styles/tokens.css"),
    include_str!("../../../styles/chat.css")
);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn install_css() {
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
async fn wait_for(ms: f64, what: &str, cond: impl Fn() -> bool, seen: impl Fn() -> String) {
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

fn me() -> ChatUser {
    ChatUser {
        id: "alice".into(),
        name: "Alice Martin".into(),
        color: "#1f6fb2".into(),
    }
}

struct Mounted {
    core: Rc<ChatCore>,
    host: HtmlElement,
    mentions: Rc<RefCell<Vec<String>>>,
    unread: Rc<RefCell<Vec<usize>>>,
    typing: Rc<RefCell<Vec<bool>>>,
}

struct Options {
    user: ChatUser,
    peers: RwSignal<Vec<ChatPeer>>,
    server_state: RwSignal<Option<StateVector>>,
    readonly: RwSignal<bool>,
    online: RwSignal<bool>,
    synced: RwSignal<bool>,
    height: u32,
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

async fn mount(doc: Rc<Document>, opts: Options) -> Mounted {
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
    fn all(&self, sel: &str) -> Vec<Element> {
        let list = self.host.query_selector_all(sel).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into())
            .collect()
    }

    fn one(&self, sel: &str) -> Option<Element> {
        self.host.query_selector(sel).unwrap()
    }

    fn messages(&self) -> Vec<Element> {
        self.all("article.atelier-chat-message")
    }

    fn texts(&self) -> Vec<String> {
        self.all(".atelier-chat-body")
            .iter()
            .map(|e| e.text_content().unwrap_or_default())
            .collect()
    }

    fn log(&self) -> HtmlElement {
        self.core.log_element().unwrap()
    }

    fn composer(&self) -> HtmlTextAreaElement {
        self.one("textarea").unwrap().unchecked_into()
    }

    /// Types `text` into the composer (value, caret at the end, `input`).
    fn type_text(&self, text: &str) {
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

    fn in_row(&self, id: &str, sel: &str) -> Option<Element> {
        self.one(&format!(".atelier-chat-row[data-id=\"{id}\"] {sel}"))
    }

    fn active(&self) -> Option<Element> {
        document().active_element()
    }

    fn summary(&self) -> String {
        format!(
            "{} message nodes, texts {:?}, active {:?}",
            self.messages().len(),
            self.texts(),
            self.active()
                .map(|a| a.outer_html().chars().take(160).collect::<String>())
        )
    }
}

fn key(target: &Element, key: &str, shift: bool) -> bool {
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
fn press_focused() {
    let a: HtmlElement = document().active_element().unwrap().unchecked_into();
    a.click();
}

fn sync(from: &Document, to: &Document) {
    let diff = from.diff_v1(&to.state_vector_v1()).unwrap();
    to.apply_update_v1(&diff).unwrap();
}

fn day_ms() -> f64 {
    86_400_000.0
}

#[wasm_bindgen_test]
async fn ten_thousand_messages_render_only_a_window() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    let now = js_sys::Date::now();
    let started = js_sys::Date::now();
    for i in 0..10_000u32 {
        let author = if i % 3 == 0 { "bob" } else { "carol" };
        let body = if i % 7 == 0 {
            format!("message {i}\n- with\n- a list and **bold**")
        } else {
            format!("message {i}")
        };
        let ts = now - f64::from(10_000 - i) * 60_000.0;
        chat.post(&NewMessage::new(author, ts, &body)).unwrap();
    }
    let built = js_sys::Date::now() - started;
    let t0 = js_sys::Date::now();
    let m = mount(doc.clone(), Options::default()).await;
    let open = js_sys::Date::now() - t0;
    let last = chat.messages().last().unwrap().id.clone();
    wait_for(
        3000.0,
        "the newest message at the bottom",
        || m.in_row(&last, "article").is_some(),
        || m.summary(),
    )
    .await;
    let rendered = m.messages().len();
    web_sys::console::log_1(
        &format!(
            "10,000 messages: built in {built} ms, opened in {open} ms, {rendered} message nodes"
        )
        .into(),
    );
    assert!(rendered < 100, "rendered {rendered} message nodes");
    assert!(rendered > 3, "{}", m.summary());
    let log = m.log();
    assert!(
        log.scroll_height() > 100_000,
        "the spacers stand for the rest"
    );
    assert!(
        (log.scroll_height() - log.scroll_top() - log.client_height()).abs() <= 4,
        "opens at the bottom"
    );
    assert_eq!(log.get_attribute("role").as_deref(), Some("log"));
    assert_eq!(log.get_attribute("aria-live").as_deref(), Some("polite"));
    // Scroll to the top: the first messages render, still a window.
    let first = chat.messages()[0].id.clone();
    for _ in 0..10 {
        log.set_scroll_top(0);
        log.dispatch_event(&web_sys::Event::new("scroll").unwrap())
            .unwrap();
        m.core.flush_now();
        if m.in_row(&first, "article").is_some() {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    wait_for(
        2000.0,
        "the first message after scrolling up",
        || m.in_row(&first, "article").is_some(),
        || m.summary(),
    )
    .await;
    assert!(m.messages().len() < 100, "{}", m.summary());
    // Scrolling: each step renders within a frame's budget (debug build:
    // printed, with a generous bound against regressions to quadratic work).
    let mut steps = Vec::new();
    let height = log.scroll_height();
    for k in 0..60 {
        log.set_scroll_top(height * k / 60);
        let t = js_sys::Date::now();
        log.dispatch_event(&web_sys::Event::new("scroll").unwrap())
            .unwrap();
        m.core.flush_now();
        steps.push(js_sys::Date::now() - t);
        assert!(m.messages().len() < 100, "{}", m.summary());
    }
    steps.sort_by(f64::total_cmp);
    web_sys::console::log_1(
        &format!(
            "scroll step render: p50 {} ms, max {} ms",
            steps[30], steps[59]
        )
        .into(),
    );
    assert!(steps[59] < 250.0, "{steps:?}");
    // Keyboard: End goes to the newest message, which is rendered and focused.
    log.focus().unwrap();
    key(&log, "End", false);
    wait_for(
        2000.0,
        "End to focus the newest message",
        || m.active().and_then(|a| a.get_attribute("data-id")) == Some(last.clone()),
        || m.summary(),
    )
    .await;
    assert!(m.messages().len() < 100);
    // A new message while at the bottom keeps the view at the bottom.
    let newest = chat
        .post(&NewMessage::new("bob", js_sys::Date::now(), "latest"))
        .unwrap();
    wait_for(
        2000.0,
        "the new message in view",
        || m.in_row(&newest, "article").is_some(),
        || m.summary(),
    )
    .await;
    assert!((log.scroll_height() - log.scroll_top() - log.client_height()).abs() <= 4);
    m.host.remove();
}

#[wasm_bindgen_test]
async fn send_reply_react_edit_delete_with_the_keyboard() {
    let doc = Rc::new(Document::new());
    let m = mount(doc.clone(), Options::default()).await;
    let chat = Chat::new(doc.ydoc());
    assert!(m.one(".atelier-chat-empty").is_some());
    // Send: Enter sends, Shift+Enter does not.
    m.type_text("Bonjour **à tous**");
    assert!(
        !key(&m.composer(), "Enter", true),
        "Shift+Enter is a new line"
    );
    assert_eq!(chat.messages().len(), 0);
    assert!(key(&m.composer(), "Enter", false));
    assert_eq!(chat.messages().len(), 1, "{}", m.summary());
    let first = chat.messages()[0].clone();
    assert_eq!(first.author, "alice");
    assert_eq!(first.author_name.as_deref(), Some("Alice Martin"));
    assert_eq!(m.composer().value(), "");
    wait_for(
        1000.0,
        "the message row",
        || m.in_row(&first.id, "strong").is_some(),
        || m.summary(),
    )
    .await;
    assert!(
        m.typing.borrow().ends_with(&[true, false]),
        "typing {:?}",
        m.typing.borrow()
    );

    // Reach the message from the log with the keyboard.
    let log = m.log();
    log.focus().unwrap();
    key(&log, "ArrowUp", false);
    wait_for(
        1000.0,
        "the message to take focus",
        || m.active().and_then(|a| a.get_attribute("data-id")) == Some(first.id.clone()),
        || m.summary(),
    )
    .await;
    // Its controls are now in the Tab order.
    let reply = m.in_row(&first.id, "[data-action=reply]").unwrap();
    assert_eq!(reply.get_attribute("tabindex").as_deref(), Some("0"));

    // Reply.
    reply.unchecked_ref::<HtmlElement>().focus().unwrap();
    press_focused();
    wait_for(
        1000.0,
        "the reply banner",
        || m.one(".atelier-chat-composer-banner").is_some(),
        || m.summary(),
    )
    .await;
    assert!(
        m.one(".atelier-chat-composer-banner")
            .unwrap()
            .text_content()
            .unwrap()
            .contains("Alice Martin")
    );
    // Escape cancels the reply.
    assert!(key(&m.composer(), "Escape", false));
    wait_for(
        1000.0,
        "the banner to go",
        || m.one(".atelier-chat-composer-banner").is_none(),
        || m.summary(),
    )
    .await;
    m.in_row(&first.id, "[data-action=reply]")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    m.type_text("Une réponse");
    key(&m.composer(), "Enter", false);
    let msgs = chat.messages();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].reply_to.as_deref(), Some(first.id.as_str()));
    let reply_id = msgs[1].id.clone();
    wait_for(
        1000.0,
        "the thread summary",
        || {
            m.in_row(&first.id, ".atelier-chat-thread-link")
                .is_some_and(|e| e.text_content().unwrap().contains("1 reply"))
        },
        || m.summary(),
    )
    .await;
    assert!(m.in_row(&reply_id, ".atelier-chat-parent").is_some());

    // The thread: "1 reply" opens it; what is sent there answers the root;
    // Escape (or "back") returns to every message.
    m.in_row(&first.id, ".atelier-chat-thread-link")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    wait_for(
        1000.0,
        "the thread view",
        || m.one(".atelier-chat-back").is_some(),
        || m.summary(),
    )
    .await;
    let outside = chat
        .post(&NewMessage::new(
            "bob",
            js_sys::Date::now(),
            "not in the thread",
        ))
        .unwrap();
    m.type_text("in the thread");
    key(&m.composer(), "Enter", false);
    let in_thread = chat.messages().last().unwrap().clone();
    assert_eq!(in_thread.reply_to.as_deref(), Some(first.id.as_str()));
    wait_for(
        1000.0,
        "the thread's three messages",
        || m.messages().len() == 3,
        || m.summary(),
    )
    .await;
    assert!(
        m.in_row(&outside, "article").is_none(),
        "the thread shows only its messages"
    );
    m.log().focus().unwrap();
    key(&m.log(), "Escape", false);
    wait_for(
        1000.0,
        "every message again",
        || m.one(".atelier-chat-back").is_none() && m.messages().len() == 4,
        || m.summary(),
    )
    .await;

    // React through the picker: open, arrow right, pick.
    let react = m.in_row(&first.id, "[data-action=react]").unwrap();
    react.unchecked_ref::<HtmlElement>().focus().unwrap();
    press_focused();
    wait_for(
        2000.0,
        "the picker to take focus",
        || {
            m.active()
                .is_some_and(|a| a.class_name().contains("atelier-chat-picker-emoji"))
        },
        || m.summary(),
    )
    .await;
    let picker = m.one(".atelier-chat-picker").unwrap();
    assert_eq!(picker.get_attribute("role").as_deref(), Some("dialog"));
    key(&m.active().unwrap(), "ArrowRight", false);
    assert_eq!(m.active().unwrap().text_content().as_deref(), Some("❤️"));
    press_focused();
    let reactions = chat.message(&first.id).unwrap().reactions;
    assert!(reactions["❤️"].contains("alice"), "{reactions:?}");
    wait_for(
        1000.0,
        "the reaction button",
        || {
            m.in_row(&first.id, ".atelier-chat-reaction[aria-pressed=true]")
                .is_some()
        },
        || m.summary(),
    )
    .await;
    wait_for(
        1000.0,
        "the picker to close",
        || m.one(".atelier-chat-picker").is_none(),
        || m.summary(),
    )
    .await;
    assert_eq!(
        m.active()
            .and_then(|a| a.get_attribute("data-action"))
            .as_deref(),
        Some("react"),
        "focus went back to the message's react button"
    );
    // Toggling the reaction button removes it.
    m.in_row(&first.id, ".atelier-chat-reaction")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    assert!(chat.message(&first.id).unwrap().reactions.is_empty());

    // Edit: the composer gets the body; Enter saves; "(edited)" shows.
    m.type_text("draft in progress");
    m.in_row(&first.id, "[data-action=edit]")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    assert_eq!(m.composer().value(), "Bonjour **à tous**");
    m.type_text("Bonjour à toutes et à tous");
    key(&m.composer(), "Enter", false);
    let edited = chat.message(&first.id).unwrap();
    assert_eq!(edited.body, "Bonjour à toutes et à tous");
    assert!(edited.edited_ts.is_some());
    assert_eq!(
        m.composer().value(),
        "draft in progress",
        "the draft came back"
    );
    wait_for(
        1000.0,
        "the edited mark",
        || m.in_row(&first.id, ".atelier-chat-edited").is_some(),
        || m.summary(),
    )
    .await;
    // Escape cancels an edit and restores the draft.
    m.in_row(&first.id, "[data-action=edit]")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    key(&m.composer(), "Escape", false);
    assert_eq!(m.composer().value(), "draft in progress");

    // Delete: asks first, focus on the confirmation; then a tombstone.
    let del = m.in_row(&reply_id, "[data-action=delete]").unwrap();
    del.unchecked_ref::<HtmlElement>().focus().unwrap();
    press_focused();
    wait_for(
        1000.0,
        "the confirmation to take focus",
        || {
            m.active()
                .and_then(|a| a.get_attribute("data-action"))
                .as_deref()
                == Some("confirm-delete")
        },
        || m.summary(),
    )
    .await;
    press_focused();
    assert!(chat.message(&reply_id).unwrap().deleted);
    wait_for(
        1000.0,
        "the tombstone",
        || {
            m.in_row(&reply_id, ".atelier-chat-tombstone")
                .is_some_and(|t| t.text_content().unwrap() == "Message deleted")
        },
        || m.summary(),
    )
    .await;
    assert!(m.in_row(&reply_id, "[data-action=edit]").is_none());
    // Someone else's message has no edit or delete.
    let theirs = chat
        .post(&NewMessage::new(
            "bob",
            js_sys::Date::now(),
            "mine, not yours",
        ))
        .unwrap();
    wait_for(
        1000.0,
        "bob's message",
        || m.in_row(&theirs, "article").is_some(),
        || m.summary(),
    )
    .await;
    assert!(m.in_row(&theirs, "[data-action=edit]").is_none());
    assert!(m.in_row(&theirs, "[data-action=delete]").is_none());
    assert!(m.in_row(&theirs, "[data-action=reply]").is_some());
    // Every control has a name.
    for b in m.all("button") {
        let name = b
            .get_attribute("aria-label")
            .or_else(|| b.text_content())
            .unwrap_or_default();
        assert!(!name.trim().is_empty(), "unnamed {}", b.outer_html());
    }
    m.host.remove();
}

#[wasm_bindgen_test]
async fn mentions_complete_and_notify_only_the_mentioned() {
    let doc = Rc::new(Document::new());
    let opts = Options::default();
    opts.peers.set(vec![
        ChatPeer {
            id: "bob".into(),
            name: "Bob Dupont".into(),
            color: "#a13d63".into(),
            typing: true,
        },
        ChatPeer {
            id: "bea".into(),
            name: "Béatrice".into(),
            color: "not a colour".into(),
            typing: false,
        },
    ]);
    let m = mount(doc.clone(), opts).await;
    let chat = Chat::new(doc.ydoc());
    wait_for(
        1000.0,
        "the typing line",
        || {
            m.one(".atelier-chat-typing")
                .and_then(|t| t.text_content())
                .as_deref()
                == Some("Bob Dupont is typing…")
        },
        || m.host.inner_html(),
    )
    .await;
    assert_eq!(m.all(".atelier-chat-presence li").len(), 2);
    // Completion: "@b" lists both, arrows move, Enter inserts the id.
    m.type_text("Salut @b");
    wait_for(
        1000.0,
        "the suggestions",
        || m.all("[role=option]").len() == 2,
        || m.host.inner_html(),
    )
    .await;
    key(&m.composer(), "ArrowDown", false);
    wait_for(
        1000.0,
        "the second option active",
        || {
            m.composer()
                .get_attribute("aria-activedescendant")
                .is_some_and(|a| a.ends_with("-1"))
        },
        || m.host.inner_html(),
    )
    .await;
    let chosen = m.all("[role=option]")[1].text_content().unwrap();
    assert!(key(&m.composer(), "Enter", false));
    let expected = if chosen.contains("@bob") {
        "Salut @bob "
    } else {
        "Salut @bea "
    };
    assert_eq!(m.composer().value(), expected);
    assert_eq!(chat.messages().len(), 0, "Enter chose, it did not send");
    // Escape closes the list without sending or clearing.
    m.type_text("@bo");
    wait_for(
        1000.0,
        "the suggestions",
        || !m.all("[role=option]").is_empty(),
        || m.host.inner_html(),
    )
    .await;
    key(&m.composer(), "Escape", false);
    wait_for(
        1000.0,
        "the list to close",
        || m.all("[role=option]").is_empty(),
        || m.host.inner_html(),
    )
    .await;
    assert_eq!(m.composer().value(), "@bo");
    // My own message mentioning me does not notify; Bob's does, once.
    m.type_text("note to self @alice");
    key(&m.composer(), "Enter", false);
    let other = Document::new();
    sync(&doc, &other);
    let bobs = Chat::new(other.ydoc())
        .post(&NewMessage::new(
            "bob",
            js_sys::Date::now(),
            "@alice regarde ça, et @bea aussi",
        ))
        .unwrap();
    Chat::new(other.ydoc())
        .post(&NewMessage::new(
            "bob",
            js_sys::Date::now(),
            "pour @bea seulement",
        ))
        .unwrap();
    sync(&other, &doc);
    wait_for(
        1000.0,
        "the mention event",
        || m.mentions.borrow().len() == 1,
        || format!("{:?}", m.mentions.borrow()),
    )
    .await;
    assert_eq!(m.mentions.borrow()[0], bobs);
    // Mentions show as names, mine highlighted.
    let mine = m
        .in_row(&bobs, ".atelier-chat-mention[data-me=true]")
        .unwrap();
    assert_eq!(mine.text_content().as_deref(), Some("@Alice Martin"));
    let theirs = m
        .in_row(&bobs, ".atelier-chat-mention[data-user=bea]")
        .unwrap();
    assert_eq!(theirs.text_content().as_deref(), Some("@Béatrice"));
    // An invalid peer colour never reaches a style attribute.
    assert!(!m.host.inner_html().contains("not a colour"));
    m.host.remove();
}

#[wasm_bindgen_test]
async fn two_panels_on_two_replicas_converge() {
    let d1 = Rc::new(Document::new());
    let d2 = Rc::new(Document::new());
    let m1 = mount(d1.clone(), Options::default()).await;
    let m2 = mount(
        d2.clone(),
        Options {
            user: ChatUser {
                id: "bob".into(),
                name: "Bob".into(),
                color: "#a13d63".into(),
            },
            ..Options::default()
        },
    )
    .await;
    m1.core.send("from alice 1", None).unwrap();
    m2.core.send("from bob 1", None).unwrap();
    let a2 = m1.core.send("from alice 2", None).unwrap();
    sync(&d1, &d2);
    sync(&d2, &d1);
    m2.core.send("from bob 2", Some(&a2)).unwrap();
    m1.core.toggle_reaction(&a2, "👍").unwrap();
    m2.core.toggle_reaction(&a2, "👍").unwrap();
    sync(&d1, &d2);
    sync(&d2, &d1);
    m1.core.edit(&a2, "from alice 2, edited").unwrap();
    sync(&d1, &d2);
    let same = || m1.texts() == m2.texts() && m1.texts().len() == 4;
    wait_for(
        2000.0,
        "both panels to show the same timeline",
        same,
        || format!("{:?} vs {:?}", m1.texts(), m2.texts()),
    )
    .await;
    let body = |m: &Mounted| {
        m.in_row(&a2, ".atelier-chat-body")
            .and_then(|b| b.text_content())
    };
    assert_eq!(body(&m1).as_deref(), Some("from alice 2, edited"));
    assert_eq!(body(&m2).as_deref(), Some("from alice 2, edited"));
    let count = |m: &Mounted| {
        m.in_row(&a2, ".atelier-chat-reaction-count")
            .and_then(|e| e.text_content())
    };
    wait_for(
        1000.0,
        "two reactions on both",
        || count(&m1).as_deref() == Some("2") && count(&m2).as_deref() == Some("2"),
        || format!("{:?} {:?}", count(&m1), count(&m2)),
    )
    .await;
    let ids = |m: &Mounted| -> Vec<String> {
        m.messages()
            .iter()
            .filter_map(|a| a.get_attribute("data-id"))
            .collect()
    };
    assert_eq!(ids(&m1), ids(&m2));
    // Bob's panel names Alice from the stored name, though she is not here.
    assert!(
        m2.all(".atelier-chat-author")
            .iter()
            .any(|a| a.text_content().unwrap() == "Alice Martin")
    );
    m1.host.remove();
    m2.host.remove();
}

#[wasm_bindgen_test]
async fn hostile_bodies_render_as_text() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    let hostile = [
        "<script>window.__pwned = 1</script>",
        "<img src=x onerror=\"window.__pwned = 1\">",
        "[click](javascript:window.__pwned=1) and [data](data:text/html,<script>alert(1)</script>)",
        "<style>body { display: none }</style><a href=\"javascript:alert(1)\">a</a>",
        "<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe> &lt;b&gt;",
        "**<b>bold</b>** `<i>code</i>` https://example.org/?q=<x>",
    ];
    let ids: Vec<String> = hostile
        .iter()
        .map(|b| chat.post(&NewMessage::new("mallory", 1.0, b)).unwrap())
        .collect();
    let m = mount(doc.clone(), Options::default()).await;
    wait_for(
        1000.0,
        "every hostile message",
        || m.messages().len() == hostile.len(),
        || m.summary(),
    )
    .await;
    for (id, body) in ids.iter().zip(hostile) {
        let b = m.in_row(id, ".atelier-chat-body").unwrap();
        for sel in [
            "script",
            "img",
            "style",
            "iframe",
            "b",
            "i",
            "a[href^=javascript]",
            "a[href^=data]",
        ] {
            assert!(
                b.query_selector(sel).unwrap().is_none(),
                "{sel} in {}",
                b.inner_html()
            );
        }
        let text = b.text_content().unwrap();
        for needle in [
            "<script>",
            "<img",
            "javascript:",
            "<style>",
            "<iframe",
            "<b>",
            "<i>",
        ] {
            if body.contains(needle) {
                assert!(text.contains(needle), "{needle:?} missing from {text:?}");
            }
        }
    }
    let link = m.in_row(&ids[5], "a").unwrap();
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("https://example.org/?q=")
    );
    assert_eq!(
        link.get_attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(link.get_attribute("target").as_deref(), Some("_blank"));
    assert!(m.in_row(&ids[5], "strong").is_some() && m.in_row(&ids[5], "code").is_some());
    let pwned = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__pwned".into()).unwrap();
    assert!(pwned.is_undefined());
    m.host.remove();
}

#[wasm_bindgen_test]
async fn pending_unread_days_and_the_limit() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    let now = js_sys::Date::now();
    // Twenty messages three days ago, five now: a separator names the
    // old day, and "Today" stands above the first of today's.
    for i in 0..25u32 {
        let ts = if i < 20 {
            now - 3.0 * day_ms() + f64::from(i) * 60_000.0
        } else {
            now - f64::from(25 - i) * 1000.0
        };
        chat.post(&NewMessage::new(
            "bob",
            ts,
            &format!("old {i}\nsecond line"),
        ))
        .unwrap();
    }
    let today_first = chat.messages()[20].id.clone();
    let opts = Options {
        height: 360,
        ..Options::default()
    };
    let server = opts.server_state;
    server.set(Some(doc.ydoc().transact().state_vector()));
    let m = mount(doc.clone(), opts).await;
    wait_for(
        1000.0,
        "the Today separator",
        || {
            m.in_row(&today_first, ".atelier-chat-day")
                .and_then(|d| d.text_content())
                .as_deref()
                == Some("Today")
        },
        || m.summary(),
    )
    .await;
    let time = m.one("time").unwrap();
    assert!(time.get_attribute("datetime").unwrap().ends_with('Z'));

    // Pending: my message is "not sent yet" until the server holds it.
    let mine = m.core.send("offline message", None).unwrap();
    wait_for(
        1000.0,
        "the pending mark",
        || m.in_row(&mine, "[data-pending=true]").is_some(),
        || m.summary(),
    )
    .await;
    server.set(Some(doc.ydoc().transact().state_vector()));
    wait_for(
        1000.0,
        "the pending mark to go",
        || m.in_row(&mine, "[data-pending=true]").is_none(),
        || m.summary(),
    )
    .await;
    assert_eq!(
        chat.messages()
            .iter()
            .filter(|x| x.body == "offline message")
            .count(),
        1
    );

    // Unread: scrolled up, two remote messages arrive.
    let log = m.log();
    log.set_scroll_top(0);
    log.dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    wait_for(
        1000.0,
        "the jump button",
        || m.one(".atelier-chat-jump").is_some(),
        || m.summary(),
    )
    .await;
    let other = Document::new();
    sync(&doc, &other);
    let c2 = Chat::new(other.ydoc());
    let n1 = c2
        .post(&NewMessage::new("bob", js_sys::Date::now(), "new one"))
        .unwrap();
    c2.post(&NewMessage::new("bob", js_sys::Date::now(), "new two"))
        .unwrap();
    sync(&other, &doc);
    wait_for(
        1000.0,
        "two unread",
        || m.core.unread_count() == 2,
        || format!("{:?}", m.unread.borrow()),
    )
    .await;
    assert_eq!(m.unread.borrow().last(), Some(&2));
    wait_for(
        1000.0,
        "the unread count on the jump button",
        || {
            m.one(".atelier-chat-unread-count")
                .and_then(|e| e.text_content())
                .as_deref()
                == Some("2 unread")
        },
        || m.summary(),
    )
    .await;
    m.one(".atelier-chat-jump")
        .unwrap()
        .unchecked_ref::<HtmlElement>()
        .click();
    wait_for(
        1000.0,
        "all read at the bottom",
        || m.core.unread_count() == 0,
        || format!("{:?}", m.unread.borrow()),
    )
    .await;
    assert_eq!(m.unread.borrow().last(), Some(&0));
    wait_for(
        1000.0,
        "the marker above the first new message",
        || m.in_row(&n1, ".atelier-chat-unread-line").is_some(),
        || m.summary(),
    )
    .await;

    // The limit: flagged where it was typed, nothing sent.
    let before = chat.messages().len();
    m.type_text(&"é".repeat(9_000));
    wait_for(
        1000.0,
        "the length error",
        || {
            m.one(".atelier-chat-error")
                .and_then(|e| e.text_content())
                .is_some_and(|t| t.contains("too long"))
        },
        || m.summary(),
    )
    .await;
    assert_eq!(
        m.composer().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    key(&m.composer(), "Enter", false);
    assert_eq!(chat.messages().len(), before);
    assert!(
        !m.composer().value().is_empty(),
        "the text stays to be shortened"
    );
    m.host.remove();
}

#[wasm_bindgen_test]
async fn history_before_the_first_sync_is_not_news() {
    let doc = Rc::new(Document::new());
    let opts = Options::default();
    let (synced, online) = (opts.synced, opts.online);
    synced.set(false);
    online.set(false);
    let m = mount(doc.clone(), opts).await;
    wait_for(
        1000.0,
        "the offline banner",
        || {
            m.one(".atelier-chat-banner")
                .and_then(|b| b.text_content())
                .is_some_and(|t| t.starts_with("Offline"))
        },
        || m.summary(),
    )
    .await;
    // The first sync brings old messages, one mentioning me: no event.
    let server = Document::new();
    let c = Chat::new(server.ydoc());
    c.post(&NewMessage::new("bob", 1.0, "old news for @alice"))
        .unwrap();
    sync(&server, &doc);
    wait_for(
        1000.0,
        "the old message",
        || m.messages().len() == 1,
        || m.summary(),
    )
    .await;
    synced.set(true);
    online.set(true);
    let fresh = c
        .post(&NewMessage::new("bob", js_sys::Date::now(), "@alice fresh"))
        .unwrap();
    sync(&server, &doc);
    wait_for(
        1000.0,
        "the fresh mention",
        || m.mentions.borrow().len() == 1,
        || format!("{:?}", m.mentions.borrow()),
    )
    .await;
    assert_eq!(m.mentions.borrow()[0], fresh);
    wait_for(
        1000.0,
        "the banner to go",
        || m.one(".atelier-chat-banner").is_none(),
        || m.summary(),
    )
    .await;
    m.host.remove();
}

#[wasm_bindgen_test]
async fn read_only_shows_no_composer_or_actions() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    let id = chat.post(&NewMessage::new("alice", 1.0, "mine")).unwrap();
    chat.react(&id, "bob", "👍", true).unwrap();
    let opts = Options::default();
    opts.readonly.set(true);
    let readonly = opts.readonly;
    let m = mount(doc.clone(), opts).await;
    wait_for(
        1000.0,
        "the message",
        || m.in_row(&id, "article").is_some(),
        || m.summary(),
    )
    .await;
    assert!(m.one("textarea").is_none());
    assert!(m.in_row(&id, "[data-action=edit]").is_none());
    assert_eq!(
        m.in_row(&id, ".atelier-chat-reaction")
            .unwrap()
            .get_attribute("aria-disabled")
            .as_deref(),
        Some("true")
    );
    assert!(m.core.send("no", None).is_err());
    readonly.set(false);
    wait_for(
        1000.0,
        "the composer",
        || m.one("textarea").is_some(),
        || m.summary(),
    )
    .await;
    wait_for(
        1000.0,
        "the actions",
        || m.in_row(&id, "[data-action=edit]").is_some(),
        || m.summary(),
    )
    .await;
    m.host.remove();
}
