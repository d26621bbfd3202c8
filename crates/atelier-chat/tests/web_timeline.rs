//! The chat timeline in a real browser: a 10,000-message chat renders a
//! window of rows and scrolls within a frame's budget; day separators,
//! pending marks, the unread marker and count, the length limit; hostile
//! bodies rendered as text; a message the Matrix bridge recorded as refused
//! marked failed, with the reason as its description. Every wait has a deadline and says what it saw.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

#[path = "support/chat_mount.rs"]
mod chat_mount;

use atelier_doc::Document;
use atelier_doc::chat::{Chat, NewMessage};
use chat_mount::*;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);
use yrs::{ReadTxn, Transact};

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
async fn a_message_refused_by_matrix_shows_failed_with_the_reason() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    let now = js_sys::Date::now();
    let kept = chat.post(&NewMessage::new("bob", now, "relayed")).unwrap();
    let refused = chat.post(&NewMessage::new("bob", now, "refused")).unwrap();
    let m = mount(doc.clone(), Options::default()).await;
    wait_for(
        3000.0,
        "both messages",
        || m.in_row(&refused, "article").is_some(),
        || m.summary(),
    )
    .await;
    // Written as the bridge writes it, after the panel opened.
    let reason = "refused by the homeserver (403 M_FORBIDDEN): not in the room";
    atelier_relay_status::record_failure(doc.ydoc(), &refused, reason);
    let marked = || {
        m.in_row(&refused, "article")
            .and_then(|a| a.get_attribute("data-refused"))
            .as_deref()
            == Some("true")
    };
    wait_for(3000.0, "the refusal shown", marked, || m.summary()).await;
    let article = m.in_row(&refused, "article").unwrap();
    let mark = article.query_selector(".atelier-chat-refused").unwrap();
    let mark_text = mark.and_then(|e| e.text_content()).unwrap_or_default();
    assert!(
        mark_text.ends_with("Not delivered to Matrix"),
        "{mark_text}"
    );
    let described = article.get_attribute("aria-describedby").unwrap();
    let reason_el = chat_mount::document()
        .get_element_by_id(&described)
        .unwrap();
    assert_eq!(
        reason_el.text_content().unwrap_or_default(),
        format!("The Matrix room refused this message: {reason}")
    );
    let other = m.in_row(&kept, "article").unwrap();
    assert_eq!(other.get_attribute("data-refused"), None);
    assert!(
        other
            .query_selector(".atelier-chat-refusal")
            .unwrap()
            .is_none()
    );
    // Taken back (relayed after all): the mark goes.
    {
        let map = atelier_relay_status::ledger_map(doc.ydoc());
        let mut txn = doc.ydoc().transact_mut();
        atelier_relay_status::clear_failure_in(&map, &mut txn, &refused);
    }
    wait_for(
        3000.0,
        "the refusal taken back",
        || !marked(),
        || m.summary(),
    )
    .await;
}
