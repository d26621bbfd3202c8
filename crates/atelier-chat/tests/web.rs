//! The chat panel in a real browser (headless Chromium via
//! wasm-bindgen-test): sending, replying, threads, reactions, editing and
//! deleting through keyboard events, mentions, two replicas converging,
//! history loaded before the first sync, and read-only mode. Every wait has
//! a deadline and says what it saw when it fails. The timeline itself
//! (virtualization, unread, days, hostile bodies) is in `web_timeline.rs`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

#[path = "support/chat_mount.rs"]
mod chat_mount;

use atelier_doc::Document;
use atelier_doc::chat::{Chat, NewMessage};
use chat_mount::*;

use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);
use atelier_chat::{ChatPeer, ChatUser};

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

/// A mouse press focuses the control under it, which makes its message the
/// current one; the release then clicks that control. The row used to be
/// rebuilt when it became current, so the pressed button left the DOM and
/// the first click on another message's action did nothing (found by
/// `e2e/chat-element.test.mjs`: the reaction picker never opened).
#[wasm_bindgen_test]
async fn a_first_click_on_another_messages_action_acts() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    for body in ["first", "second"] {
        chat.post(&NewMessage::new("bob", js_sys::Date::now(), body))
            .unwrap();
    }
    let m = mount(doc.clone(), Options::default()).await;
    let ids: Vec<String> = chat.messages().iter().map(|x| x.id.clone()).collect();
    wait_for(
        1000.0,
        "both rows",
        || {
            ids.iter()
                .all(|id| m.in_row(id, "[data-action=react]").is_some())
        },
        || m.summary(),
    )
    .await;
    for id in &ids {
        let react: HtmlElement = m
            .in_row(id, "[data-action=react]")
            .unwrap()
            .unchecked_into();
        assert_eq!(react.get_attribute("tabindex").as_deref(), Some("-1"));
        // What the mouse press does: focus, and the message becomes current.
        react.focus().unwrap();
        assert!(
            react.is_connected(),
            "the pressed button stays in the DOM: {}",
            m.summary()
        );
        assert_eq!(react.get_attribute("tabindex").as_deref(), Some("0"));
        let article = m.in_row(id, "article").unwrap();
        assert_eq!(
            article.get_attribute("data-current").as_deref(),
            Some("true")
        );
        // What the release does.
        react.click();
        wait_for(
            1000.0,
            "the reaction picker",
            || m.one(".atelier-chat-picker").is_some(),
            || m.summary(),
        )
        .await;
        key(&m.one(".atelier-chat-picker").unwrap(), "Escape", false);
        wait_for(
            1000.0,
            "the picker to close",
            || m.one(".atelier-chat-picker").is_none(),
            || m.summary(),
        )
        .await;
    }
    // The other message is no longer current: its controls left the Tab order.
    let first = m.in_row(&ids[0], "[data-action=react]").unwrap();
    assert_eq!(first.get_attribute("tabindex").as_deref(), Some("-1"));
    assert_eq!(
        m.in_row(&ids[0], "article")
            .unwrap()
            .get_attribute("data-current"),
        None
    );
}

/// A press right after scrolling up, before the scroll event (which comes
/// with the next frame), focuses a control of an older message: rendering
/// it as current used to scroll the log back to the bottom, the log still
/// being taken as stuck there, so the release landed on another element
/// and the click did nothing (found by `e2e/chat-proof.test.mjs`: the
/// reaction picker of the first message never opened).
#[wasm_bindgen_test]
async fn a_press_right_after_scrolling_up_keeps_the_log_still() {
    let doc = Rc::new(Document::new());
    let chat = Chat::new(doc.ydoc());
    // Enough to scroll, few enough that all stay rendered (overscan).
    for i in 0..8 {
        chat.post(&NewMessage::new(
            "bob",
            js_sys::Date::now(),
            &format!("message {i}"),
        ))
        .unwrap();
    }
    let m = mount(
        doc.clone(),
        Options {
            height: 240,
            ..Options::default()
        },
    )
    .await;
    let ids: Vec<String> = chat.messages().iter().map(|x| x.id.clone()).collect();
    let log = m.log();
    wait_for(
        1000.0,
        "the log at the bottom, with room to scroll",
        || {
            m.in_row(ids.last().unwrap(), "article").is_some()
                && log.scroll_top() > 0
                && log.scroll_height() - log.scroll_top() - log.client_height() <= 4
        },
        || m.summary(),
    )
    .await;
    // The user scrolls to the top; no scroll event has been dispatched yet.
    log.set_scroll_top(0);
    let react: HtmlElement = m
        .in_row(&ids[0], "[data-action=react]")
        .expect("the first message rendered at the top")
        .unchecked_into();
    react.focus().unwrap();
    assert_eq!(
        log.scroll_top(),
        0,
        "the press left the log where the user put it: {}",
        m.summary()
    );
    assert!(
        react.is_connected(),
        "the pressed button stays: {}",
        m.summary()
    );
    react.click();
    wait_for(
        1000.0,
        "the reaction picker",
        || m.one(".atelier-chat-picker").is_some(),
        || m.summary(),
    )
    .await;
    m.host.remove();
}
