//! The agents' door on a mounted editor in a real browser (headless
//! Chromium via wasm-bindgen-test): an agent's batch renders at once, is
//! published as the agent's presence, is named in the change reports, and
//! undoes apart from the user's typing (issue 14).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use atelier_doc::{Document, Op, markdown};
use atelier_editor::{
    AgentInfo, AgentPresenceUpdate, ChangeReport, ChangeSource, Editor, EditorCore, Pos, Selection,
};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, InputEvent, InputEventInit};

wasm_bindgen_test_configure!(run_in_browser);

async fn tick() {
    TimeoutFuture::new(0).await;
}

async fn mount_md(md: &str) -> (Rc<Document>, Rc<EditorCore>) {
    let doc = Rc::new(Document::new());
    markdown::import(&doc, md).unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let slot: Rc<RefCell<Option<Rc<EditorCore>>>> = Rc::new(RefCell::new(None));
    let (s2, d2) = (slot.clone(), doc.clone());
    let handle = leptos::mount::mount_to(host, move || {
        let s3 = s2.clone();
        let ready: Rc<dyn Fn(Rc<EditorCore>)> = Rc::new(move |c| *s3.borrow_mut() = Some(c));
        view! { <Editor doc=d2.clone() readonly=false on_ready=ready /> }
    });
    std::mem::forget(handle);
    for _ in 0..50 {
        if slot.borrow().is_some() {
            break;
        }
        tick().await;
    }
    let core = slot.borrow().clone().expect("editor mounted");
    (doc, core)
}

fn surface(core: &EditorCore) -> Element {
    core.surface_element().unwrap()
}

fn beforeinput(core: &EditorCore, kind: &str, data: Option<&str>) {
    let init = InputEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_input_type(kind);
    init.set_data(data);
    let ev = InputEvent::new_with_event_init_dict("beforeinput", &init).unwrap();
    surface(core).dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
async fn an_agents_batch_renders_shows_its_caret_and_undoes_apart_from_the_users_typing() {
    let (doc, core) = mount_md("Bonjour\n").await;
    let id = doc.block_ids()[0].clone();
    let presence: Rc<RefCell<Vec<(String, AgentPresenceUpdate)>>> = Rc::default();
    let p2 = presence.clone();
    core.set_agent_listener(Some(Rc::new(
        move |agent: &AgentInfo, update: &AgentPresenceUpdate| {
            p2.borrow_mut().push((agent.name.clone(), update.clone()));
        },
    )));
    let reports: Rc<RefCell<Vec<ChangeReport>>> = Rc::default();
    let r2 = reports.clone();
    core.set_change_listener(Some(Rc::new(move |r: &[ChangeReport]| {
        r2.borrow_mut().extend_from_slice(r);
    })));

    // The user types at the end.
    surface(&core)
        .unchecked_ref::<HtmlElement>()
        .focus()
        .unwrap();
    core.select(&Selection::caret(Pos::new(id.clone(), 7)));
    beforeinput(&core, "insertText", Some("!"));
    tick().await;
    // The agent writes at the start: rendered at once, shown with its caret.
    let bot = AgentInfo::new("Résumeur", Some("#0a7f5a"));
    let ops = [Op::InsertText {
        block: id.clone(),
        offset: 0,
        text: "Note : ".into(),
        marks: None,
    }];
    core.apply_agent_ops(&bot, &ops).unwrap();
    assert_eq!(surface(&core).text_content().unwrap(), "Note : Bonjour!");
    let caret = Selection::caret(Pos::new(id.clone(), 7));
    assert_eq!(
        presence.borrow().last(),
        Some(&(
            "Résumeur".to_owned(),
            AgentPresenceUpdate::Present(Some(caret))
        ))
    );
    tick().await;
    let sources: Vec<ChangeSource> = reports.borrow().iter().map(|r| r.source.clone()).collect();
    assert_eq!(
        sources,
        [ChangeSource::Local, ChangeSource::Agent("Résumeur".into())],
        "{:?}",
        reports.borrow()
    );
    assert!(reports.borrow()[1].changes.blocks.contains(&id));

    // A refused batch changes nothing.
    let err = core
        .apply_agent_ops(
            &bot,
            &[Op::DeleteBlock {
                block: "nope".into(),
            }],
        )
        .unwrap_err();
    assert_eq!((err.index, err.op), (0, "deleteBlock"));
    assert_eq!(doc.block_plain_text(&id).unwrap(), "Note : Bonjour!");

    // The user's undo takes back the "!", never the agent's text.
    beforeinput(&core, "historyUndo", None);
    assert_eq!(doc.block_plain_text(&id).unwrap(), "Note : Bonjour");
    beforeinput(&core, "historyUndo", None);
    assert_eq!(doc.block_plain_text(&id).unwrap(), "Note : Bonjour");
    // The agent takes back its own.
    assert!(core.undo_agent(&bot));
    assert_eq!(surface(&core).text_content().unwrap(), "Bonjour");
    // It leaves: its presence is withdrawn.
    core.clear_agent(&bot);
    assert_eq!(
        presence.borrow().last(),
        Some(&("Résumeur".to_owned(), AgentPresenceUpdate::Gone))
    );
}
