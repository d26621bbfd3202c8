//! The editor in a real browser (headless Chromium via wasm-bindgen-test):
//! rendering, DOM ↔ model selection, editing through synthetic
//! `beforeinput`/composition/keyboard events, paste sanitizing, undo scope,
//! read-only mode, and the light-DOM choice.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use atelier_doc::{Document, Mark, markdown};
use atelier_editor::dom_selection::{dom_to_model, leaves_of, model_to_dom};
use atelier_editor::{Editor, EditorCore, Pos, Selection};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, InputEvent, InputEventInit};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn tick() {
    TimeoutFuture::new(0).await;
}

async fn mount_md(md: &str, readonly: bool) -> (Rc<Document>, Rc<EditorCore>, HtmlElement) {
    let doc = Rc::new(Document::new());
    if md.is_empty() {
        doc.ensure_initialized();
    } else {
        markdown::import(&doc, md).unwrap();
    }
    let (core, host) = mount_doc(doc.clone(), readonly).await;
    (doc, core, host)
}

async fn mount_doc(doc: Rc<Document>, readonly: bool) -> (Rc<EditorCore>, HtmlElement) {
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let slot: Rc<RefCell<Option<Rc<EditorCore>>>> = Rc::new(RefCell::new(None));
    let s2 = slot.clone();
    let d2 = doc.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let s3 = s2.clone();
        let ready: Rc<dyn Fn(Rc<EditorCore>)> = Rc::new(move |c| *s3.borrow_mut() = Some(c));
        view! { <Editor doc=d2.clone() readonly=readonly on_ready=ready /> }
    });
    std::mem::forget(handle);
    for _ in 0..50 {
        if slot.borrow().is_some() {
            break;
        }
        tick().await;
    }
    let core = slot.borrow().clone().expect("editor mounted");
    (core, host)
}

fn surface(core: &EditorCore) -> Element {
    core.surface_element().unwrap()
}

fn beforeinput(core: &EditorCore, kind: &str, data: Option<&str>) -> bool {
    let init = InputEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_input_type(kind);
    init.set_data(data);
    let ev = InputEvent::new_with_event_init_dict("beforeinput", &init).unwrap();
    surface(core).dispatch_event(&ev).unwrap();
    ev.default_prevented()
}

/// Dispatches the `beforeinput` a paste of `data` ({mime, text} pairs)
/// sends; returns whether the editor cancelled it.
fn paste(core: &EditorCore, data: &[(&str, &str)]) -> bool {
    let dt = web_sys::DataTransfer::new().unwrap();
    for (mime, text) in data {
        dt.set_data(mime, text).unwrap();
    }
    let init = InputEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_input_type("insertFromPaste");
    init.set_data_transfer(Some(&dt));
    let ev = InputEvent::new_with_event_init_dict("beforeinput", &init).unwrap();
    surface(core).dispatch_event(&ev).unwrap();
    ev.default_prevented()
}

/// The content element of the first block.
fn first_content(core: &EditorCore) -> Element {
    surface(core)
        .query_selector("[data-atelier-content]")
        .unwrap()
        .unwrap()
}

fn keydown(core: &EditorCore, key: &str, ctrl: bool, shift: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_ctrl_key(ctrl);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    surface(core).dispatch_event(&ev).unwrap();
}

fn caret(core: &EditorCore, block: usize, offset: u32) {
    let id = core.session().doc().block_ids()[block].clone();
    core.select(&Selection::caret(Pos::new(id, offset)));
}

fn md(doc: &Document) -> String {
    markdown::export(&doc.blocks())
}

fn html(core: &EditorCore) -> String {
    surface(core).inner_html()
}

#[wasm_bindgen_test]
async fn renders_every_block_type() {
    let src = "# H1\n\n## H2\n\n### H3\n\np **b** *i* ~~s~~ `c` [l](https://a.fr)\n\n- a\n  - nested\n\n1. one\n\n- [x] done\n\n> q\n\n```rust\ncode\n```\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
    let (doc, core, host) = mount_md(src, false).await;
    let p = doc.block_ids()[3].clone();
    doc.format_text(&p, 0, 1, &Mark::Underline, true).unwrap();
    doc.format_text(&p, 0, 1, &Mark::TextColor("red".into()), true)
        .unwrap();
    core.flush_now();
    let s = surface(&core);
    for sel in [
        "h1",
        "h2",
        "h3",
        "strong",
        "em",
        "s",
        "code",
        "u",
        ".atelier-tc-red[data-text-color=red]",
        "a[href='https://a.fr'][rel='noopener noreferrer']",
        "[data-type=bulletListItem] .atelier-children [data-type=bulletListItem]",
        "[data-type=numberedListItem]",
        "[data-type=checkListItem][data-checked=true] input[type=checkbox]",
        "blockquote",
        "pre[data-language=rust]",
        "hr[contenteditable=false]",
        "[data-type=table] .atelier-unsupported[contenteditable=false]",
    ] {
        assert!(
            s.query_selector(sel).unwrap().is_some(),
            "missing {sel} in {}",
            html(&core)
        );
    }
    let wrappers = s.query_selector_all(".atelier-block").unwrap();
    assert_eq!(wrappers.length() as usize, doc.block_ids().len());
    for i in 0..wrappers.length() {
        let w: Element = wrappers.item(i).unwrap().unchecked_into();
        assert!(
            w.get_attribute("data-block-id")
                .is_some_and(|v| !v.is_empty())
        );
    }
    // Accessible chrome.
    assert_eq!(s.get_attribute("role").as_deref(), Some("textbox"));
    assert!(
        host.query_selector("[role=toolbar][aria-label]")
            .unwrap()
            .is_some()
    );
    let buttons = host.query_selector_all("button").unwrap();
    for i in 0..buttons.length() {
        let b: Element = buttons.item(i).unwrap().unchecked_into();
        assert!(b.get_attribute("aria-label").is_some_and(|l| !l.is_empty()));
    }
    assert!(host.text_content().unwrap().contains("words"));
}

#[wasm_bindgen_test]
async fn selection_maps_emoji_and_hard_breaks() {
    let (doc, core, _) = mount_md("", false).await;
    let id = doc.block_ids()[0].clone();
    doc.insert_text(&id, 0, "a😀\nb").unwrap();
    core.flush_now();
    let s = surface(&core);
    let content = s.query_selector("[data-atelier-content]").unwrap().unwrap();
    assert_eq!(leaves_of(&content).len(), 3, "{}", html(&core));
    let session_surface = &core;
    for off in 0..=5u32 {
        let pos = Pos::new(id.clone(), off);
        core.select(&Selection::caret(pos.clone()));
        let got = session_surface.selection().unwrap();
        assert_eq!(got.focus, pos, "offset {off}");
    }
    // The text node after the break starts at offset 4.
    let b_text = content.last_child().unwrap();
    assert_eq!(dom_to_model(&s, &b_text, 0), Some(Pos::new(id.clone(), 4)));
    // A point between the content's children: before the <br> is offset 3.
    assert_eq!(
        dom_to_model(&s, content.as_ref(), 1),
        Some(Pos::new(id.clone(), 3))
    );
    let _ = model_to_dom;
}

#[wasm_bindgen_test]
async fn typing_deleting_splitting_merging() {
    let (doc, core, _) = mount_md("ab\n\nmiddle\n\nend\n", false).await;
    caret(&core, 0, 2);
    let text_node = first_content(&core).first_child().unwrap();
    assert!(beforeinput(&core, "insertText", Some("c")));
    assert_eq!(md(&doc), "abc\n\nmiddle\n\nend\n");
    assert_eq!(
        (core.last_rebuilt(), core.last_patched()),
        (0, 1),
        "only the edited block changes, its text patched in place"
    );
    assert_eq!(text_node.text_content().as_deref(), Some("abc"));
    assert!(text_node.is_connected(), "the text node was replaced");
    assert_eq!(core.selection().unwrap().focus.offset, 3);
    assert!(surface(&core).text_content().unwrap().starts_with("abc"));
    // A new mark changes the block's shape: it is rebuilt.
    let sel = Selection::range(
        core.selection().unwrap().focus,
        Pos::new(core.selection().unwrap().focus.block, 1),
    );
    core.select(&sel);
    core.run(
        atelier_editor::Intent::ToggleMark(atelier_editor::MarkKind::Bold),
        None,
    );
    assert_eq!(md(&doc), "a**bc**\n\nmiddle\n\nend\n");
    assert_eq!((core.last_rebuilt(), core.last_patched()), (1, 0));
    core.run(atelier_editor::Intent::Undo, None);
    assert_eq!(md(&doc), "abc\n\nmiddle\n\nend\n");
    caret(&core, 0, 1);
    beforeinput(&core, "insertParagraph", None);
    assert_eq!(md(&doc), "a\n\nbc\n\nmiddle\n\nend\n");
    beforeinput(&core, "deleteContentBackward", None);
    assert_eq!(md(&doc), "abc\n\nmiddle\n\nend\n");
    beforeinput(&core, "insertLineBreak", None);
    assert_eq!(doc.block_plain_text(&doc.block_ids()[0]).unwrap(), "a\nbc");
    assert!(
        surface(&core)
            .query_selector("br:not([data-atelier-filler])")
            .unwrap()
            .is_some()
    );
    caret(&core, 0, 4);
    beforeinput(&core, "deleteContentForward", None);
    assert_eq!(md(&doc), "a\\\nbcmiddle\n\nend\n");
    // A selection across blocks is deleted and the ends join.
    let ids = doc.block_ids();
    core.select(&Selection::range(
        Pos::new(ids[0].clone(), 1),
        Pos::new(ids[1].clone(), 1),
    ));
    beforeinput(&core, "deleteContentBackward", None);
    assert_eq!(md(&doc), "and\n");
    assert_eq!(
        surface(&core)
            .query_selector_all(".atelier-block")
            .unwrap()
            .length(),
        1
    );
}

#[wasm_bindgen_test]
async fn markdown_shortcuts_and_keyboard() {
    let (doc, core, _) = mount_md("", false).await;
    caret(&core, 0, 0);
    beforeinput(&core, "insertText", Some("#"));
    beforeinput(&core, "insertText", Some(" "));
    beforeinput(&core, "insertText", Some("T"));
    assert_eq!(md(&doc), "# T\n");
    assert!(surface(&core).query_selector("h1").unwrap().is_some());
    keydown(&core, "z", true, false);
    keydown(&core, "z", true, false);
    let (doc, core, _) = mount_md("- a\n- b\n", false).await;
    caret(&core, 1, 1);
    keydown(&core, "Tab", false, false);
    assert_eq!(md(&doc), "- a\n  - b\n");
    keydown(&core, "Tab", false, true);
    assert_eq!(md(&doc), "- a\n- b\n");
    let id = doc.block_ids()[0].clone();
    core.select(&Selection::range(Pos::new(id.clone(), 0), Pos::new(id, 1)));
    keydown(&core, "b", true, false);
    assert_eq!(md(&doc), "- **a**\n- b\n");
}

#[wasm_bindgen_test]
async fn slash_menu_is_keyboard_navigable() {
    let (doc, core, host) = mount_md("", false).await;
    caret(&core, 0, 0);
    beforeinput(&core, "insertText", Some("/"));
    tick().await;
    let menu = host
        .query_selector("[role=listbox]")
        .unwrap()
        .expect("menu opens");
    assert!(menu.query_selector_all("[role=option]").unwrap().length() >= 9);
    keydown(&core, "ArrowDown", false, false);
    tick().await;
    assert!(
        surface(&core)
            .get_attribute("aria-activedescendant")
            .unwrap()
            .ends_with("-1")
    );
    keydown(&core, "Enter", false, false);
    tick().await;
    assert_eq!(doc.blocks()[0].kind, "heading");
    assert_eq!(doc.blocks()[0].plain_text(), "");
    assert!(host.query_selector("[role=listbox]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn hostile_paste_inserts_no_active_content() {
    let (doc, core, _) = mount_md("x\n", false).await;
    caret(&core, 0, 1);
    assert!(paste(
        &core,
        &[
            (
                "text/html",
                r#"<p onclick="alert(1)">a<script>alert(2)</script><a href="javascript:alert(3)">b</a><img src=x onerror="alert(4)"><a href="https://ok.fr" onmouseover="x()">c</a></p>"#,
            ),
            ("text/plain", "abc"),
        ],
    ));
    let out = html(&core);
    for bad in [
        "script",
        "onclick",
        "onerror",
        "onmouseover",
        "javascript:",
        "<img",
    ] {
        assert!(!out.contains(bad), "{bad} in {out}");
    }
    assert!(out.contains("https://ok.fr"), "{out}");
    let json = serde_json::to_string(&doc.blocks()).unwrap();
    assert!(
        !json.contains("javascript") && !json.contains("alert"),
        "{json}"
    );
    // Markdown-looking plain text becomes structure, once the (here
    // in-process, asynchronous) Markdown parser has read it.
    core.set_markdown_parser(Some(Rc::new(|text: String| {
        Box::pin(async move {
            tick().await;
            Ok(markdown::parse(&text))
        })
    })));
    assert!(paste(&core, &[("text/plain", "## Sub\n\n- item\n")]));
    for _ in 0..100 {
        if md(&doc).contains("## Sub\n\n- item") {
            break;
        }
        tick().await;
    }
    assert!(md(&doc).contains("## Sub\n\n- item"), "{}", md(&doc));
    assert!(!html(&core).contains("## Sub"), "{}", html(&core));
}

#[wasm_bindgen_test]
async fn undo_reverts_local_changes_only_and_caret_survives_remote_edits() {
    let (doc, core, _) = mount_md("hello\n", false).await;
    surface(&core)
        .unchecked_ref::<HtmlElement>()
        .focus()
        .unwrap();
    caret(&core, 0, 5);
    beforeinput(&core, "insertText", Some("!"));
    // A peer inserts at the start.
    let peer = Document::from_update_v1(&doc.encode_state_v1()).unwrap();
    let id = doc.block_ids()[0].clone();
    peer.insert_text(&id, 0, "XY").unwrap();
    doc.apply_update_v1(&peer.encode_state_v1()).unwrap();
    tick().await;
    core.flush_now();
    assert_eq!(surface(&core).text_content().unwrap(), "XYhello!");
    assert_eq!(
        core.selection().unwrap().focus,
        Pos::new(id.clone(), 8),
        "caret follows its text"
    );
    let text = || doc.block_plain_text(&id).unwrap();
    beforeinput(&core, "historyUndo", None);
    assert_eq!(text(), "XYhello");
    beforeinput(&core, "historyUndo", None);
    assert_eq!(text(), "XYhello", "the peer's text is never undone");
    beforeinput(&core, "historyRedo", None);
    assert_eq!(text(), "XYhello!");
    assert_eq!(surface(&core).text_content().unwrap(), "XYhello!");
}

#[wasm_bindgen_test]
async fn composition_commits_once() {
    let (doc, core, _) = mount_md("ab\n", false).await;
    caret(&core, 0, 2);
    surface(&core)
        .dispatch_event(&web_sys::CompositionEvent::new("compositionstart").unwrap())
        .unwrap();
    // While composing the browser edits the DOM itself; beforeinput is not cancelled.
    assert!(!{
        let init = InputEventInit::new();
        init.set_cancelable(true);
        init.set_input_type("insertCompositionText");
        init.set_is_composing(true);
        init.set_data(Some("にほ"));
        let ev = InputEvent::new_with_event_init_dict("beforeinput", &init).unwrap();
        surface(&core).dispatch_event(&ev).unwrap();
        ev.default_prevented()
    });
    let text = first_content(&core);
    text.first_child().unwrap().set_text_content(Some("abにほ"));
    let init = web_sys::CompositionEventInit::new();
    init.set_data("日本");
    let end = web_sys::CompositionEvent::new_with_event_init_dict("compositionend", &init).unwrap();
    surface(&core).dispatch_event(&end).unwrap();
    assert_eq!(md(&doc), "ab日本\n");
    assert_eq!(surface(&core).text_content().unwrap(), "ab日本");
    assert_eq!(core.selection().unwrap().focus.offset, 4);
}

#[wasm_bindgen_test]
async fn readonly_mode_blocks_edits() {
    let (doc, core, host) = mount_md("fixed\n", true).await;
    assert_eq!(
        surface(&core).get_attribute("contenteditable").as_deref(),
        Some("false")
    );
    assert_eq!(
        surface(&core).get_attribute("aria-readonly").as_deref(),
        Some("true")
    );
    assert!(host.query_selector("[role=toolbar]").unwrap().is_none());
    caret(&core, 0, 1);
    assert!(beforeinput(&core, "insertText", Some("x")));
    assert_eq!(md(&doc), "fixed\n");
}

/// The light-DOM choice, checked in the browser: the editor maps the
/// selection through `window.getSelection()` (anchor/focus nodes, ranges,
/// `beforeinput` target ranges, document `selectionchange`). In the light
/// DOM that works the same in every engine; inside a shadow root only
/// Chromium exposes the inner nodes this way (Safari and Firefox retarget or
/// need `getComposedRanges`), so the surface stays in the light DOM. This
/// test pins what we rely on and records what Chromium does with shadow roots.
#[wasm_bindgen_test]
async fn selection_behaviour_decides_light_dom() {
    let host = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let root = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let editable = document().create_element("div").unwrap();
    editable.set_attribute("contenteditable", "true").unwrap();
    editable.set_text_content(Some("shadow"));
    root.append_child(&editable).unwrap();
    let shadow_text = editable.first_child().unwrap();
    let sel = web_sys::window().unwrap().get_selection().unwrap().unwrap();
    sel.set_base_and_extent(&shadow_text, 2, &shadow_text, 2)
        .unwrap();
    let shadow_exposed = sel.anchor_node().as_ref() == Some(&shadow_text);
    // A light-DOM `contains` check (how the editor tells its own selection
    // apart) cannot see into the shadow root.
    assert!(!document().body().unwrap().contains(Some(&shadow_text)));
    web_sys::console::log_1(
        &format!("Chromium exposes shadow-root selections via getSelection(): {shadow_exposed}")
            .into(),
    );

    let light = document().create_element("div").unwrap();
    light.set_attribute("contenteditable", "true").unwrap();
    light.set_text_content(Some("light"));
    document().body().unwrap().append_child(&light).unwrap();
    let light_text = light.first_child().unwrap();
    sel.set_base_and_extent(&light_text, 2, &light_text, 2)
        .unwrap();
    assert_eq!(sel.anchor_node().as_ref(), Some(&light_text));
    assert_eq!(sel.anchor_offset(), 2);
    assert!(document().body().unwrap().contains(Some(&light_text)));
}

/// The status line's text (word count) of the editor mounted in `host`.
fn status_text(host: &HtmlElement) -> String {
    host.query_selector(".atelier-status")
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

/// Checks that `core`'s incrementally updated surface equals a fresh
/// editor's on a copy of `doc`'s state (rendered from scratch); returns
/// the fresh editor's host, for further checks, to remove.
async fn assert_renders_like_fresh(doc: &Document, core: &EditorCore, what: &str) -> HtmlElement {
    core.flush_now();
    let copy = Rc::new(Document::from_update_v1(&doc.encode_state_v1()).unwrap());
    let (fresh, fresh_host) = mount_doc(copy, false).await;
    tick().await;
    assert_eq!(html(core), html(&fresh), "{what}");
    fresh_host
}

#[wasm_bindgen_test]
async fn incremental_render_matches_a_fresh_render_under_peer_edits() {
    use atelier_doc::{NewBlock, Op, Placement};
    let (doc, core, host) = mount_md(
        "# Title\n\none two\n\n- a\n  - b\n\nthree\n\n---\n\nfour five six\n",
        false,
    )
    .await;
    let peer = Document::from_update_v1(&doc.encode_state_v1()).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n.max(1) as u64) as usize
    };
    for step in 0..60 {
        let ids = peer.block_ids();
        let text_ids: Vec<_> = ids
            .iter()
            .filter(|id| peer.block_len(id).is_ok())
            .cloned()
            .collect();
        let id = text_ids[next(text_ids.len())].clone();
        let any = ids[next(ids.len())].clone();
        let len = peer.block_len(&id).unwrap();
        let op = match next(9) {
            0 | 1 => Op::InsertText {
                block: id,
                offset: next(len as usize + 1) as u32,
                text: " mot".into(),
                marks: None,
            },
            2 if len > 0 => Op::DeleteText {
                block: id,
                offset: 0,
                len: 1,
            },
            3 if len > 0 => Op::Format {
                block: id,
                offset: 0,
                len,
                mark: Mark::Bold,
                on: true,
            },
            4 => Op::SplitBlock {
                offset: next(len as usize + 1) as u32,
                block: id,
            },
            5 => Op::InsertBlocks {
                at: Placement::LastChildOf(any),
                blocks: vec![NewBlock::text("bulletListItem", "nested words")],
            },
            6 if ids.len() > 3 => Op::MoveBlock {
                block: id,
                to: Placement::Before(any),
            },
            7 if ids.len() > 3 => Op::DeleteBlock { block: any },
            _ => Op::UpdateBlock {
                block: id,
                kind: Some(["heading", "quote", "paragraph"][next(3)].into()),
                props: serde_json::Map::new(),
            },
        };
        let sv = doc.state_vector_v1();
        if peer.apply_ops(std::slice::from_ref(&op), "peer").is_err() {
            continue;
        }
        doc.apply_update_v1(&peer.diff_v1(&sv).unwrap()).unwrap();
        let fresh_host = assert_renders_like_fresh(
            &doc,
            &core,
            &format!(
                "step {step} ({op:?}): the incrementally rendered surface differs from a fresh render"
            ),
        )
        .await;
        assert_eq!(
            status_text(&host),
            status_text(&fresh_host),
            "step {step}: word count"
        );
        fresh_host.remove();
    }
}

/// The text of every top-level copy of block `id` (raw tree walk: the
/// model's lookups by id see one copy).
fn copies_of(doc: &Document, id: &str) -> Vec<(u32, String)> {
    use atelier_doc::schema::{BLOCK_GROUP, FRAGMENT, ID_ATTR};
    use yrs::{GetString, Transact, Xml, XmlFragment, XmlOut};
    let frag = doc.ydoc().get_or_insert_xml_fragment(FRAGMENT);
    let txn = doc.ydoc().transact();
    let Some(XmlOut::Element(group)) = frag.get(&txn, 0) else {
        return Vec::new();
    };
    assert_eq!(group.tag().as_ref(), BLOCK_GROUP);
    let mut out = Vec::new();
    for (i, c) in group.children(&txn).enumerate() {
        let XmlOut::Element(c) = c else { continue };
        if c.get_attribute(&txn, ID_ATTR)
            .map(|v| v.to_string(&txn))
            .as_deref()
            != Some(id)
        {
            continue;
        }
        let text = match c.get(&txn, 0) {
            Some(XmlOut::Element(content)) => match content.get(&txn, 0) {
                Some(XmlOut::Text(t)) => t.get_string(&txn),
                _ => String::new(),
            },
            _ => String::new(),
        };
        out.push((i as u32, text));
    }
    out
}

/// Two peers move the same block at once, so both keep a copy under one id;
/// when a peer deletes the copy this editor shows, no change names the
/// block, and the copy that stays must still replace it on screen.
#[wasm_bindgen_test]
async fn a_duplicated_block_shows_the_copy_that_stays() {
    use atelier_doc::{Op, Placement};
    use yrs::{Transact, XmlFragment, XmlOut};
    let (doc, core, _host) = mount_md("first\n\nsecond\n\nthird\n", false).await;
    let peer = Document::from_update_v1(&doc.encode_state_v1()).unwrap();
    let ids = doc.block_ids();
    let (a, c) = (ids[0].clone(), ids[2].clone());
    doc.apply_ops(
        &[Op::MoveBlock {
            block: a.clone(),
            to: Placement::End,
        }],
        "me",
    )
    .unwrap();
    peer.apply_ops(
        &[Op::MoveBlock {
            block: a.clone(),
            to: Placement::Before(c),
        }],
        "peer",
    )
    .unwrap();
    let to_peer = doc.diff_v1(&peer.state_vector_v1()).unwrap();
    let to_doc = peer.diff_v1(&doc.state_vector_v1()).unwrap();
    peer.apply_update_v1(&to_peer).unwrap();
    doc.apply_update_v1(&to_doc).unwrap();
    core.flush_now();
    // The copies get different texts.
    let sv = doc.state_vector_v1();
    peer.apply_ops(
        &[Op::InsertText {
            block: a.clone(),
            offset: 0,
            text: "changed ".into(),
            marks: None,
        }],
        "peer",
    )
    .unwrap();
    doc.apply_update_v1(&peer.diff_v1(&sv).unwrap()).unwrap();
    core.flush_now();
    let copies = copies_of(&peer, &a.0);
    assert_eq!(
        copies.len(),
        2,
        "two copies after concurrent moves: {copies:?}"
    );
    assert_ne!(copies[0].1, copies[1].1, "the copies differ: {copies:?}");
    let shown = surface(&core)
        .query_selector(&format!("[data-block-id=\"{}\"]", a.0))
        .unwrap()
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    let Some((index, _)) = copies.iter().find(|(_, t)| shown.contains(t.as_str())) else {
        panic!("the editor shows {shown:?}, none of the copies {copies:?}");
    };
    // The peer deletes the copy shown here.
    let sv = doc.state_vector_v1();
    {
        let frag = peer
            .ydoc()
            .get_or_insert_xml_fragment(atelier_doc::schema::FRAGMENT);
        let mut txn = peer.ydoc().transact_mut();
        let Some(XmlOut::Element(group)) = frag.get(&txn, 0) else {
            panic!("no block group");
        };
        group.remove_range(&mut txn, *index, 1);
    }
    doc.apply_update_v1(&peer.diff_v1(&sv).unwrap()).unwrap();
    assert_renders_like_fresh(
        &doc,
        &core,
        &format!("the surface still shows the deleted copy of {a:?} (copies were {copies:?})"),
    )
    .await
    .remove();
}

#[wasm_bindgen_test]
async fn two_editors_on_one_document_undo_only_their_own_changes() {
    use atelier_editor::Intent;
    let (doc, a, _) = mount_md("alpha\n\nbeta\n", false).await;
    let (b, _) = mount_doc(doc.clone(), false).await;
    let ids = doc.block_ids();
    a.run(
        Intent::InsertText("A".into()),
        Some(Selection::caret(Pos::new(ids[0].clone(), 5))),
    );
    b.run(
        Intent::InsertText("B".into()),
        Some(Selection::caret(Pos::new(ids[1].clone(), 4))),
    );
    assert_eq!(md(&doc), "alphaA\n\nbetaB\n");
    b.run(Intent::Undo, None);
    assert_eq!(
        md(&doc),
        "alphaA\n\nbeta\n",
        "editor B undid only its own typing"
    );
    a.flush_now();
    assert!(
        html(&a).contains("alphaA") && !html(&a).contains("betaB"),
        "{}",
        html(&a)
    );
    a.run(Intent::Undo, None);
    assert_eq!(md(&doc), "alpha\n\nbeta\n");
}

#[wasm_bindgen_test]
async fn a_block_whose_dom_drifted_is_rebuilt_not_patched() {
    let (doc, core, _) = mount_md("abc\n\nsecond\n", false).await;
    let content = first_content(&core);
    // Something outside the editor (a page translator) wraps the text.
    let text = content.first_child().unwrap();
    let font = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .create_element("font")
        .unwrap();
    content.replace_child(&font, &text).unwrap();
    font.append_child(&text).unwrap();
    let at = Selection::caret(Pos::new(doc.block_ids()[0].clone(), 3));
    core.run(atelier_editor::Intent::InsertText("d".into()), Some(at));
    assert_eq!(md(&doc), "abcd\n\nsecond\n");
    assert_eq!((core.last_rebuilt(), core.last_patched()), (1, 0));
    let content = first_content(&core);
    assert_eq!(content.inner_html(), "abcd");
    // Text changed behind the editor's back: also rebuilt, not patched.
    content
        .first_child()
        .unwrap()
        .set_text_content(Some("zzzz"));
    let at = Selection::caret(Pos::new(doc.block_ids()[0].clone(), 4));
    core.run(atelier_editor::Intent::InsertText("e".into()), Some(at));
    assert_eq!(md(&doc), "abcde\n\nsecond\n");
    assert_eq!((core.last_rebuilt(), core.last_patched()), (1, 0));
    let content = first_content(&core);
    assert_eq!(content.text_content().as_deref(), Some("abcde"));
}

#[wasm_bindgen_test]
async fn markdown_looking_text_pasted_into_a_code_block_stays_text() {
    let (doc, core, _) = mount_md("```\nx\n```\n", false).await;
    let calls = Rc::new(std::cell::Cell::new(0));
    let seen = calls.clone();
    core.set_markdown_parser(Some(Rc::new(move |text: String| {
        seen.set(seen.get() + 1);
        Box::pin(async move { Ok(markdown::parse(&text)) })
    })));
    caret(&core, 0, 1);
    assert!(paste(
        &core,
        &[("text/plain", "# not a heading\n- nor a list")]
    ));
    assert_eq!(calls.get(), 0, "the Markdown parser was asked");
    assert_eq!(
        doc.block_plain_text(&doc.block_ids()[0]).unwrap(),
        "x# not a heading\n- nor a list"
    );
}

/// The top-level block ids under the surface, chunk by chunk.
fn chunked_ids(core: &EditorCore) -> Vec<Vec<String>> {
    let s = surface(core);
    let chunks = s.children();
    (0..chunks.length())
        .map(|c| {
            let chunk = chunks.item(c).unwrap();
            assert!(
                chunk.class_list().contains("atelier-chunk"),
                "a top-level child of the surface is not a chunk: {}",
                chunk.outer_html()
            );
            let blocks = chunk.children();
            (0..blocks.length())
                .map(|b| {
                    blocks
                        .item(b)
                        .unwrap()
                        .get_attribute("data-block-id")
                        .unwrap()
                })
                .collect()
        })
        .collect()
}

#[wasm_bindgen_test]
async fn long_documents_render_in_chunks_and_numbered_lists_stay_whole() {
    let mut src = String::new();
    for i in 0..300 {
        src += &format!("para {i}\n\n");
    }
    for i in 0..80 {
        src += &format!("{}. item {i}\n", i + 1);
    }
    src += "\n";
    for i in 0..100 {
        src += &format!("tail {i}\n\n");
    }
    let (doc, core, _host) = mount_md(&src, false).await;
    let chunks = chunked_ids(&core);
    assert!(chunks.len() >= 5, "{} chunks for 480 blocks", chunks.len());
    assert!(chunks.iter().all(|c| !c.is_empty()), "an empty chunk");
    let ids: Vec<String> = doc
        .block_ids()
        .iter()
        .map(|i| i.as_str().to_owned())
        .collect();
    assert_eq!(
        chunks.concat(),
        ids,
        "chunks hold the blocks in document order"
    );
    // The 80 numbered items (blocks 300..380) share one chunk.
    let numbered: Vec<usize> = (300..380)
        .map(|i| chunks.iter().position(|c| c.contains(&ids[i])).unwrap())
        .collect();
    assert!(
        numbered.iter().all(|&c| c == numbered[0]),
        "a numbered list spans chunks {numbered:?}"
    );

    // A point between chunks, or between the blocks of a chunk, maps to the
    // edge of the block next to it.
    let s = surface(&core);
    let second = s.children().item(1).unwrap();
    let head = Pos::new(atelier_doc::BlockId::from(chunks[1][0].as_str()), 0);
    assert_eq!(dom_to_model(&s, &s, 1), Some(head.clone()));
    assert_eq!(dom_to_model(&s, &second, 0), Some(head));
    let last = chunks[0].last().unwrap();
    let last_len = doc
        .block_len(&atelier_doc::BlockId::from(last.as_str()))
        .unwrap();
    assert_eq!(
        dom_to_model(&s, &s.children().item(0).unwrap(), chunks[0].len() as u32),
        Some(Pos::new(
            atelier_doc::BlockId::from(last.as_str()),
            last_len
        ))
    );

    // Text the browser left directly in a chunk maps to the block after it.
    let stray = document().create_text_node("xyz");
    second
        .insert_before(&stray, second.child_nodes().item(1).as_ref())
        .unwrap();
    assert_eq!(
        dom_to_model(&s, &stray, 0),
        Some(Pos::new(
            atelier_doc::BlockId::from(chunks[1][1].as_str()),
            0
        ))
    );
    stray.remove();

    // Splitting blocks and turning a paragraph into a numbered item keep the
    // incremental DOM equal to a fresh render of the same document.
    for (block, offset) in [(150usize, 2u32), (10, 0), (299, 4)] {
        caret(&core, block, offset);
        assert!(beforeinput(&core, "insertParagraph", None));
    }
    caret(&core, 301, 0);
    for c in ["1", ".", " "] {
        beforeinput(&core, "insertText", Some(c));
    }
    tick().await;
    let copy = Rc::new(Document::from_update_v1(&doc.encode_state_v1()).unwrap());
    let (fresh, fresh_host) = mount_doc(copy, false).await;
    tick().await;
    assert_eq!(chunked_ids(&core), chunked_ids(&fresh));
    assert_eq!(
        html(&core),
        html(&fresh),
        "incremental and fresh renders differ"
    );
    fresh_host.remove();
}

/// Issue 20: a document nested 20,000 levels deep (stored before the limit
/// existed, or from a peer that ignores it) renders down to the depth
/// readers follow instead of overflowing the wasm stack (1 MiB), and the
/// editor keeps working.
#[wasm_bindgen_test]
async fn a_twenty_thousand_level_document_renders_in_part_and_stays_editable() {
    let update = atelier_doc::test_support::deep_nest_update(7, 20_000);
    let doc = Rc::new(Document::from_update_v1(&update).unwrap());
    let (core, host) = mount_doc(doc.clone(), false).await;
    tick().await;
    let text = surface(&core).text_content().unwrap_or_default();
    assert!(
        text.contains("level 1"),
        "the top renders: {}",
        &text[..text.len().min(80)]
    );
    assert!(
        text.contains("level 255"),
        "blocks down to the read bound render"
    );
    assert!(
        !text.contains("level 257"),
        "nothing past the read bound renders"
    );
    caret(&core, 0, 0);
    assert!(beforeinput(&core, "insertText", Some("»")));
    tick().await;
    assert_eq!(doc.blocks()[0].plain_text(), "»level 1");
    host.remove();
}
