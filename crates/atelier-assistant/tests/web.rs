//! The assistant pane in a real browser (headless Chromium via
//! wasm-bindgen-test), beside an editor of the same document: an action on
//! the editor's selection streams (a scripted transport speaking the
//! OpenAI stream format, released piece by piece), previews, and Accept
//! applies it through the editor's agents' door as the named assistant,
//! whose undo takes it back while the user's Ctrl+Z does not; Reject
//! leaves the document byte-identical; a human typing in the block during
//! the generation keeps every character; the endpoint's error codes show
//! as sentences. Every wait has a deadline and says what it saw.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use atelier_assistant::collaborator::{Collaborator, DocCollaborator};
use atelier_assistant::endpoint::Endpoint;
use atelier_assistant::scripted::{ScriptedTransport, openai_error, openai_stream};
use atelier_assistant::target::{TextPos, TextRange};
use atelier_assistant::{AssistantCore, AssistantPane, EditorCollaborator, Lang};
use atelier_doc::{Document, markdown};
use atelier_editor::{AgentInfo, AgentPresenceUpdate, Editor, EditorCore, Intent, Pos, Selection};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = concat!(
    include_str!("../../../styles/tokens.css"),
    include_str!("../../../styles/editor.css"),
    include_str!("../../../styles/assistant.css")
);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn install_css() {
    if document()
        .get_element_by_id("atelier-assistant-test-css")
        .is_none()
    {
        let style = document().create_element("style").unwrap();
        style.set_id("atelier-assistant-test-css");
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

fn host() -> HtmlElement {
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    host
}

async fn mount_editor(doc: Rc<Document>) -> Rc<EditorCore> {
    let host = host();
    let slot: Rc<RefCell<Option<Rc<EditorCore>>>> = Rc::default();
    let s2 = slot.clone();
    let handle = leptos::mount::mount_to(host, move || {
        let s3 = s2.clone();
        let ready: Rc<dyn Fn(Rc<EditorCore>)> = Rc::new(move |c| *s3.borrow_mut() = Some(c));
        view! { <Editor doc=doc.clone() on_ready=ready /> }
    });
    std::mem::forget(handle);
    wait_for(
        5000.0,
        "the editor to mount",
        || slot.borrow().is_some(),
        String::new,
    )
    .await;
    slot.take().unwrap()
}

struct Pane {
    host: HtmlElement,
    core: Rc<AssistantCore>,
}

impl Pane {
    fn one(&self, sel: &str) -> Option<Element> {
        self.host.query_selector(sel).unwrap()
    }

    fn click(&self, sel: &str) {
        self.one(sel)
            .unwrap_or_else(|| panic!("no {sel} in {}", self.host.inner_html()))
            .unchecked_into::<HtmlElement>()
            .click();
    }

    fn text(&self, sel: &str) -> String {
        self.one(sel)
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    /// The texts of every match, joined by `|`.
    fn texts(&self, sel: &str) -> String {
        let list = self.host.query_selector_all(sel).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i).and_then(|n| n.text_content()))
            .collect::<Vec<_>>()
            .join("|")
    }

    fn html(&self) -> String {
        self.host.inner_html()
    }
}

async fn mount_pane(
    doc: Rc<Document>,
    collaborator: Rc<dyn Collaborator>,
    net: Rc<ScriptedTransport>,
) -> Pane {
    install_css();
    let host = host();
    let slot: Rc<RefCell<Option<Rc<AssistantCore>>>> = Rc::default();
    let s2 = slot.clone();
    let endpoint = Endpoint {
        url: "http://atelier.test/ai/v1/chat/completions".into(),
        document: "notes".into(),
        ..Default::default()
    };
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let s3 = s2.clone();
        let ready: Rc<dyn Fn(Rc<AssistantCore>)> = Rc::new(move |c| *s3.borrow_mut() = Some(c));
        let transport: Rc<dyn atelier_assistant::transport::Transport> = net.clone();
        view! {
            <AssistantPane doc=doc.clone() collaborator=collaborator.clone()
                endpoint=endpoint.clone() transport=transport lang=Lang::En on_ready=ready />
        }
    });
    std::mem::forget(handle);
    wait_for(
        5000.0,
        "the pane to mount",
        || slot.borrow().is_some(),
        || host.inner_html(),
    )
    .await;
    let core = slot.borrow().clone().unwrap();
    Pane { host, core }
}

fn md(doc: &Document) -> String {
    markdown::export(&doc.blocks())
}

fn select(core: &EditorCore, block: &str, from: u32, to: u32) {
    core.select(&Selection {
        anchor: Pos::new(block, from),
        focus: Pos::new(block, to),
    });
}

#[wasm_bindgen_test]
async fn a_rephrase_streams_previews_and_is_applied_through_the_editors_agent_door() {
    let doc = Rc::new(Document::new());
    markdown::import(&doc, "The meeting is on Monday.\n\nOther block.\n").unwrap();
    let ids = doc.block_ids();
    let editor = mount_editor(doc.clone()).await;
    let presence: Rc<RefCell<Vec<(String, bool)>>> = Rc::default();
    let log = presence.clone();
    editor.set_agent_listener(Some(Rc::new(
        move |agent: &AgentInfo, update: &AgentPresenceUpdate| {
            let shown = !matches!(update, AgentPresenceUpdate::Gone);
            log.borrow_mut().push((agent.name.clone(), shown));
        },
    )));
    let net = ScriptedTransport::new();
    let pane = mount_pane(
        doc.clone(),
        Rc::new(EditorCollaborator::new(editor.clone())),
        net.clone(),
    )
    .await;
    select(&editor, ids[0].as_str(), 0, 25);
    net.push_script(openai_stream(&["The meeting ", "moves to ", "Tuesday."], 9));
    pane.click("[data-action=rephrase]");
    wait_for(
        1000.0,
        "the waiting status",
        || pane.text(".atelier-assistant-status") == "Waiting for the model…",
        || pane.html(),
    )
    .await;
    assert!(net.requests()[0].body.contains("The meeting is on Monday."));
    // The assistant shows on the document while it works.
    assert_eq!(
        presence.borrow().last(),
        Some(&("Assistant".to_owned(), true))
    );
    // The first pieces stream into the pane, before the answer is whole.
    while pane.text(".atelier-assistant-answer").is_empty() && net.remaining() > 2 {
        net.deliver(1);
        TimeoutFuture::new(0).await;
    }
    wait_for(
        1000.0,
        "streamed words",
        || {
            pane.text(".atelier-assistant-answer")
                .starts_with("The meeting")
        },
        || pane.html(),
    )
    .await;
    assert!(net.remaining() > 0, "the answer is still streaming");
    net.deliver_all();
    wait_for(
        1000.0,
        "the preview",
        || pane.one(".atelier-assistant-preview ins").is_some(),
        || pane.html(),
    )
    .await;
    assert_eq!(
        pane.texts(".atelier-assistant-preview del"),
        "is on Monday",
        "{}",
        pane.html()
    );
    assert_eq!(
        pane.texts(".atelier-assistant-preview ins"),
        "moves to Tuesday",
        "{}",
        pane.html()
    );
    // Only the preview knows: the document is unchanged until Accept.
    assert_eq!(md(&doc), "The meeting is on Monday.\n\nOther block.\n");

    pane.click(".atelier-assistant-accept");
    wait_for(
        1000.0,
        "the change in the document",
        || md(&doc) == "The meeting moves to Tuesday.\n\nOther block.\n",
        || md(&doc),
    )
    .await;
    wait_for(
        1000.0,
        "the change in the editor",
        || {
            editor
                .surface_element()
                .and_then(|s| s.text_content())
                .unwrap_or_default()
                .contains("moves to Tuesday")
        },
        || pane.html(),
    )
    .await;
    wait_for(
        1000.0,
        "the notice",
        || {
            pane.text(".atelier-assistant-notice")
                .starts_with("Applied (1 block).")
        },
        || pane.html(),
    )
    .await;
    let agent = editor
        .agent_named("Assistant")
        .expect("the assistant edited through the editor");
    assert!(
        editor.agent_caret(&agent).is_some(),
        "the assistant's caret is where it wrote"
    );
    assert!(editor.agent_can_undo(&agent));

    // The user's own undo does not take the assistant's change back.
    editor.run(Intent::Undo, None);
    assert_eq!(md(&doc), "The meeting moves to Tuesday.\n\nOther block.\n");
    // The assistant's does.
    wait_for(
        1000.0,
        "the undo button",
        || pane.one(".atelier-assistant-undo").is_some(),
        || pane.html(),
    )
    .await;
    pane.click(".atelier-assistant-undo");
    wait_for(
        1000.0,
        "the undo",
        || md(&doc) == "The meeting is on Monday.\n\nOther block.\n",
        || md(&doc),
    )
    .await;
}

#[wasm_bindgen_test]
async fn reject_leaves_no_trace_and_typing_during_the_generation_is_kept() {
    let doc = Rc::new(Document::new());
    markdown::import(&doc, "First block.\n\nSecond block.\n").unwrap();
    let ids = doc.block_ids();
    let editor = mount_editor(doc.clone()).await;
    let net = ScriptedTransport::new();
    let pane = mount_pane(
        doc.clone(),
        Rc::new(EditorCollaborator::new(editor.clone())),
        net.clone(),
    )
    .await;

    // Reject: byte-identical.
    let before = doc.encode_state_v1();
    select(&editor, ids[1].as_str(), 0, 13);
    net.push_script(openai_stream(&["Zweiter Block."], 6));
    pane.click("[data-action=translate]");
    net.deliver_all();
    wait_for(
        1000.0,
        "the preview",
        || pane.one(".atelier-assistant-reject").is_some(),
        || pane.html(),
    )
    .await;
    pane.click(".atelier-assistant-reject");
    wait_for(
        1000.0,
        "the rejection",
        || {
            pane.text(".atelier-assistant-notice")
                .starts_with("Rejected")
        },
        || pane.html(),
    )
    .await;
    assert_eq!(doc.encode_state_v1(), before);

    // A human types into both blocks while the model writes about the
    // first: their characters stay, the stale part is dropped and named.
    select(&editor, ids[0].as_str(), 0, 12);
    net.push_script(openai_stream(&["Premier bloc."], 5));
    pane.click("[data-action=rephrase]");
    net.deliver(3);
    editor.run(
        Intent::InsertText("Typed ".into()),
        Some(Selection::caret(Pos::new(ids[0].as_str(), 0))),
    );
    editor.run(
        Intent::InsertText(" too".into()),
        Some(Selection::caret(Pos::new(ids[1].as_str(), 13))),
    );
    net.deliver_all();
    wait_for(
        1000.0,
        "the stale mark",
        || {
            pane.one(".atelier-assistant-block[data-stale=true]")
                .is_some()
        },
        || pane.html(),
    )
    .await;
    pane.click(".atelier-assistant-accept");
    wait_for(
        1000.0,
        "the notice",
        || {
            pane.text(".atelier-assistant-notice")
                .contains("Nothing was applied.")
        },
        || pane.html(),
    )
    .await;
    assert!(
        pane.text(".atelier-assistant-notice")
            .contains("“First block.” was changed"),
        "{}",
        pane.html()
    );
    assert_eq!(md(&doc), "Typed First block.\n\nSecond block. too\n");
}

#[wasm_bindgen_test]
async fn the_endpoints_errors_and_stop_are_shown() {
    let doc = Rc::new(Document::new());
    markdown::import(&doc, "Some text to shorten.\n").unwrap();
    let ids = doc.block_ids();
    let assistant = Rc::new(DocCollaborator::new(doc.clone(), None));
    let id = ids[0].clone();
    assistant.set_selection_source(Some(Rc::new(move || {
        Some(TextRange::new(
            TextPos::new(id.clone(), 0),
            TextPos::new(id.clone(), 21),
        ))
    })));
    let net = ScriptedTransport::new();
    let pane = mount_pane(doc.clone(), assistant, net.clone()).await;
    let cases = [
        (
            openai_error(429, "rate_limited_user", "slow down", Some(30)),
            "rate_limited_user",
            "Too many requests from you. Try again in 30 s.",
        ),
        (
            openai_error(429, "rate_limited_document", "slow down", None),
            "rate_limited_document",
            "Too many requests on this document. Try again later.",
        ),
        (
            openai_error(503, "model_missing", "missing", None),
            "model_missing",
            "No AI model is installed on this server",
        ),
        (
            openai_error(502, "upstream_unreachable", "refused", None),
            "upstream_unreachable",
            "The model server cannot be reached.",
        ),
    ];
    for (script, code, sentence) in cases {
        net.push_script(script);
        pane.click("[data-action=shorten]");
        net.deliver_all();
        wait_for(
            1000.0,
            code,
            || {
                pane.one("[role=alert]")
                    .and_then(|e| e.get_attribute("data-error"))
                    .as_deref()
                    == Some(code)
            },
            || pane.html(),
        )
        .await;
        assert!(
            pane.text("[role=alert]").starts_with(sentence),
            "{code}: {}",
            pane.html()
        );
    }
    // Stop aborts the request; the actions come back.
    net.push_script(openai_stream(&["Short", "er text."], 4));
    pane.click("[data-action=shorten]");
    net.deliver(3);
    wait_for(
        1000.0,
        "the stop button",
        || pane.one(".atelier-assistant-stop").is_some(),
        || pane.html(),
    )
    .await;
    assert!(
        pane.one("[data-action=shorten]")
            .unwrap()
            .has_attribute("disabled")
    );
    pane.click(".atelier-assistant-stop");
    wait_for(
        1000.0,
        "stopped",
        || pane.text(".atelier-assistant-notice") == "Stopped.",
        || pane.html(),
    )
    .await;
    assert_eq!(net.aborts(), 1);
    assert!(
        !pane
            .one("[data-action=shorten]")
            .unwrap()
            .has_attribute("disabled")
    );
    assert!(!pane.core.is_running());
    assert_eq!(md(&doc), "Some text to shorten.\n");
}
