//! The pane's runs without a browser: a scripted transport speaking the
//! OpenAI stream and error formats, the document edited through
//! [`DocCollaborator`].

use super::*;
use crate::collaborator::DocCollaborator;
use crate::scripted::{
    ScriptedTransport, openai_error, openai_stream, openai_stream_failing, openai_tool_stream,
};
use crate::target::{TextPos, TextRange};
use atelier_doc::{Op, markdown};

struct Setup {
    doc: Rc<Document>,
    ids: Vec<BlockId>,
    core: Rc<AssistantCore>,
    net: Rc<ScriptedTransport>,
    assistant: Rc<DocCollaborator>,
    events: Rc<RefCell<Vec<PaneEvent>>>,
}

fn setup(md: &str, selection: Option<(usize, u32, u32)>) -> Setup {
    let doc = Rc::new(Document::new());
    markdown::import(&doc, md).expect("markdown");
    let ids = doc.block_ids();
    let assistant = Rc::new(DocCollaborator::new(doc.clone(), None));
    let sel = selection.map(|(b, from, to)| {
        TextRange::new(
            TextPos::new(ids[b].clone(), from),
            TextPos::new(ids[b].clone(), to),
        )
    });
    assistant.set_selection_source(Some(Rc::new(move || sel.clone())));
    let net = ScriptedTransport::new();
    let signals = Signals {
        phase: RwSignal::new(Phase::Idle),
        can_undo: RwSignal::new(false),
        stale_tick: RwSignal::new(0),
    };
    let endpoint = Endpoint {
        url: "http://atelier.test/ai/v1/chat/completions".into(),
        document: "notes".into(),
        token: Some("tok".into()),
        ..Default::default()
    };
    let core = AssistantCore::new(
        doc.clone(),
        assistant.clone(),
        net.clone(),
        endpoint,
        Lang::En,
        signals,
    );
    let events: Rc<RefCell<Vec<PaneEvent>>> = Rc::default();
    let log = events.clone();
    core.set_event_listener(Some(Rc::new(move |e| log.borrow_mut().push(e.clone()))));
    Setup {
        doc,
        ids,
        core,
        net,
        assistant,
        events,
    }
}

fn md(doc: &Document) -> String {
    markdown::export(&doc.blocks())
}

#[test]
fn a_rephrase_streams_previews_applies_as_the_assistant_and_undoes() {
    let s = setup("The meeting is on Monday.\n\nOther.\n", Some((0, 0, 25)));
    s.net
        .push_script(openai_stream(&["The meeting ", "moves to ", "Tuesday."], 7));
    s.core.run(Action::Rephrase);
    let req = &s.net.requests()[0];
    assert_eq!(req.url, "http://atelier.test/ai/v1/chat/completions");
    assert!(
        req.headers
            .contains(&("X-Atelier-Document".into(), "notes".into()))
    );
    assert!(
        req.headers
            .contains(&("Authorization".into(), "Bearer tok".into()))
    );
    assert!(
        req.body.contains("The meeting is on Monday."),
        "{}",
        req.body
    );
    assert!(matches!(
        s.core.phase(),
        Phase::Streaming { waiting: true, .. }
    ));
    // Part of the answer: the text so far shows.
    s.net.deliver(4);
    let Phase::Streaming { text, waiting, .. } = s.core.phase() else {
        panic!("streaming expected, got {:?}", s.core.phase());
    };
    assert!(!waiting);
    assert!("The meeting moves to Tuesday.".starts_with(&text), "{text}");
    s.net.deliver_all();
    let Phase::Review { blocks, stale, .. } = s.core.phase() else {
        panic!("review expected, got {:?}", s.core.phase());
    };
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].new_text(), "The meeting moves to Tuesday.");
    assert!(stale.is_empty());
    // Nothing reached the document before Accept.
    assert_eq!(md(&s.doc), "The meeting is on Monday.\n\nOther.\n");
    s.core.accept();
    assert_eq!(md(&s.doc), "The meeting moves to Tuesday.\n\nOther.\n");
    assert_eq!(
        s.events.borrow().last(),
        Some(&PaneEvent::Applied {
            kept: 1,
            dropped: 0
        })
    );
    assert!(s.assistant.can_undo());
    s.core.undo();
    assert_eq!(md(&s.doc), "The meeting is on Monday.\n\nOther.\n");
    assert_eq!(s.events.borrow().last(), Some(&PaneEvent::Undone));
}

#[test]
fn reject_leaves_the_document_byte_identical() {
    let s = setup("Hello world.\n", Some((0, 0, 5)));
    let before = s.doc.encode_state_v1();
    s.net.push_script(openai_stream(&["Bonjour"], 5));
    s.core.run(Action::Translate(atelier_ai::prompts::Lang::Fr));
    s.net.deliver_all();
    assert!(matches!(s.core.phase(), Phase::Review { .. }));
    s.core.reject();
    assert_eq!(s.doc.encode_state_v1(), before);
    assert_eq!(s.events.borrow().last(), Some(&PaneEvent::Rejected));
}

#[test]
fn a_block_a_human_changed_during_the_generation_is_not_overwritten() {
    let s = setup("First block.\n\nSecond block.\n", Some((0, 0, 12)));
    s.net.push_script(openai_stream(&["Premier bloc."], 9));
    s.core.run(Action::Rephrase);
    s.net.deliver(2);
    // A human types into the selected block while the model writes.
    s.doc
        .apply_ops(
            &[Op::InsertText {
                block: s.ids[0].clone(),
                offset: 0,
                text: "Typed ".into(),
                marks: None,
            }],
            "atelier-editor-1",
        )
        .expect("typing");
    s.net.deliver_all();
    s.core.recheck();
    let Phase::Review { stale, .. } = s.core.phase() else {
        panic!("review expected, got {:?}", s.core.phase());
    };
    assert_eq!(stale, vec![s.ids[0].clone()]);
    s.core.accept();
    // Every typed character is kept; the pane says what it dropped.
    assert_eq!(md(&s.doc), "Typed First block.\n\nSecond block.\n");
    let Phase::Notice { lines, .. } = s.core.phase() else {
        panic!("notice expected");
    };
    assert_eq!(lines[0], "Nothing was applied.");
    assert!(lines[1].contains("First block."), "{lines:?}");
}

#[test]
fn the_endpoints_error_codes_become_sentences_and_events() {
    let cases = [
        (
            openai_error(429, "rate_limited_user", "slow down", Some(42)),
            "rate_limited_user",
            "Too many requests from you. Try again in 42 s.",
        ),
        (
            openai_error(503, "model_missing", "no model", None),
            "model_missing",
            "No AI model is installed",
        ),
        (
            openai_error(502, "upstream_unreachable", "connection refused", None),
            "upstream_unreachable",
            "The model server cannot be reached.",
        ),
        (
            openai_stream_failing(&["Half an "], "generation_failed", "the model stopped"),
            "generation_failed",
            "The model server reported an error: the model stopped",
        ),
    ];
    for (script, code, sentence) in cases {
        let s = setup("Some text.\n", Some((0, 0, 10)));
        s.net.push_script(script);
        s.core.run(Action::Shorten);
        s.net.deliver_all();
        let Phase::Notice { lines, error } = s.core.phase() else {
            panic!("notice expected for {code}, got {:?}", s.core.phase());
        };
        assert_eq!(error.as_deref(), Some(code));
        assert!(lines[0].starts_with(sentence), "{code}: {lines:?}");
        assert!(
            matches!(s.events.borrow().last(), Some(PaneEvent::Failed { code: c, .. }) if c == code)
        );
        assert_eq!(md(&s.doc), "Some text.\n");
    }
}

#[test]
fn stop_aborts_the_request_and_keeps_nothing() {
    let s = setup("Some text.\n", Some((0, 0, 10)));
    s.net.push_script(openai_stream(&["Short", "er."], 4));
    s.core.run(Action::Shorten);
    s.net.deliver(3);
    s.core.stop();
    assert_eq!(s.net.aborts(), 1);
    assert_eq!(
        s.net.deliver_all(),
        0,
        "nothing is delivered after an abort"
    );
    assert!(matches!(s.core.phase(), Phase::Notice { ref lines, .. } if lines[0] == "Stopped."));
    assert!(!s.core.is_running());
}

#[test]
fn a_tool_call_becomes_a_reviewed_edit_and_a_malformed_one_never_does() {
    let s = setup("Alpha.\n\nBeta.\n", None);
    let args = format!(
        r#"{{"operations":[{{"type":"update","id":"{}$","block":"<p>Beta <b>bold</b>.</p>"}}]}}"#,
        s.ids[1]
    );
    s.net.push_script(openai_tool_stream(&args, 11));
    s.core.ask("Make beta bold");
    s.net.deliver(5);
    s.net.deliver_all();
    let Phase::Review { blocks, .. } = s.core.phase() else {
        panic!("review expected, got {:?}", s.core.phase());
    };
    assert_eq!(blocks[0].new_text(), "Beta bold.");
    s.core.accept();
    assert_eq!(md(&s.doc), "Alpha.\n\nBeta **bold**.\n");

    s.net.push_script(openai_tool_stream(
        r#"{"operations":[{"type":"explode"}]}"#,
        7,
    ));
    s.core.ask("Break it");
    s.net.deliver_all();
    assert!(
        matches!(s.core.phase(), Phase::Notice { .. } | Phase::Prose { .. }),
        "{:?}",
        s.core.phase()
    );
    assert_eq!(md(&s.doc), "Alpha.\n\nBeta **bold**.\n");
}

#[test]
fn prose_for_the_document_is_inserted_below_on_request() {
    let s = setup("We must call Anna.\n", None);
    s.net.push_script(openai_stream(&["- Call Anna"], 6));
    s.core.run(Action::ActionItems);
    s.net.deliver_all();
    assert!(
        matches!(s.core.phase(), Phase::Prose { .. }),
        "{:?}",
        s.core.phase()
    );
    s.core.use_prose(ProseUse::InsertBelow);
    assert!(
        matches!(s.core.phase(), Phase::Review { .. }),
        "{:?}",
        s.core.phase()
    );
    s.core.accept();
    assert_eq!(md(&s.doc), "We must call Anna.\n\n- [ ] Call Anna\n");
}

#[test]
fn a_selection_action_without_a_selection_says_so() {
    let s = setup("Text.\n", None);
    s.core.run(Action::Rephrase);
    assert!(s.net.requests().is_empty());
    assert!(
        matches!(s.core.phase(), Phase::Notice { ref lines, .. } if lines[0] == "Select some text in the editor first."),
        "{:?}",
        s.core.phase()
    );
}
