use super::*;
use crate::error::EditorError;
use atelier_doc::markdown;

fn clock() -> u64 {
    0
}

fn session(md: &str) -> (EditSession, Vec<BlockId>) {
    let doc = Rc::new(Document::with_client_id(7));
    doc.ensure_initialized();
    let s = EditSession::new(doc.clone(), clock);
    s.replace_with_blocks(markdown::parse(md))
        .expect("markdown loads");
    s.undo.borrow_mut().clear_all();
    let ids = doc.block_ids();
    (s, ids)
}

/// A paste as the component builds it: Markdown-looking text without HTML
/// comes parsed.
fn paste(html: Option<&str>, text: &str) -> Intent {
    Intent::Paste {
        html: html.map(str::to_owned),
        text: text.to_owned(),
        markdown: paste_wants_markdown(html, text).then(|| markdown::parse(text)),
    }
}

fn md(s: &EditSession) -> String {
    markdown::export(&s.doc().blocks())
}

fn at(id: &BlockId, o: u32) -> Selection {
    Selection::caret(Pos::new(id.clone(), o))
}

#[test]
fn typing_and_deleting_emoji() {
    let (s, ids) = session("ab\n");
    let sel = s
        .apply(&Intent::InsertText("😀".into()), &at(&ids[0], 1))
        .expect("type");
    assert_eq!(sel, Some(at(&ids[0], 3)));
    assert_eq!(md(&s), "a😀b\n");
    let sel = s
        .apply(&Intent::DeleteBackward, &at(&ids[0], 3))
        .expect("bksp");
    assert_eq!(sel, Some(at(&ids[0], 1)));
    assert_eq!(md(&s), "ab\n");
    s.apply(&Intent::DeleteForward, &at(&ids[0], 0))
        .expect("del");
    assert_eq!(md(&s), "b\n");
}

#[test]
fn split_and_merge_blocks() {
    let (s, ids) = session("hello\n");
    let sel = s
        .apply(&Intent::SplitBlock, &at(&ids[0], 2))
        .expect("split")
        .expect("caret");
    assert_eq!(md(&s), "he\n\nllo\n");
    assert_eq!(sel.focus.offset, 0);
    let sel = s
        .apply(&Intent::DeleteBackward, &sel)
        .expect("merge")
        .expect("caret");
    assert_eq!(md(&s), "hello\n");
    assert_eq!(sel, at(&ids[0], 2));
    let sel = s
        .apply(&Intent::LineBreak, &sel)
        .expect("br")
        .expect("caret");
    assert_eq!(sel.focus.offset, 3);
    assert_eq!(s.doc().block_plain_text(&ids[0]).expect("text"), "he\nllo");
}

#[test]
fn deleting_across_blocks_joins_the_ends() {
    let (s, ids) = session("one\n\ntwo\n\nthree\n");
    let sel = Selection::range(Pos::new(ids[2].clone(), 2), Pos::new(ids[0].clone(), 1));
    let after = s
        .apply(&Intent::InsertText("X".into()), &sel)
        .expect("replace");
    assert_eq!(md(&s), "oXree\n");
    assert_eq!(after, Some(at(&ids[0], 2)));
}

#[test]
fn markdown_shortcuts_convert_blocks() {
    let (s, ids) = session("x\n");
    s.apply(&Intent::DeleteBackward, &at(&ids[0], 1))
        .expect("clear");
    for (typed, want) in [
        ("##", "## t\n"),
        ("-", "- t\n"),
        ("1.", "1. t\n"),
        ("[]", "- [ ] t\n"),
        (">", "> t\n"),
    ] {
        s.apply(
            &Intent::SetBlockType(BlockKind::plain("paragraph")),
            &at(&ids[0], 0),
        )
        .expect("reset");
        let len = s.doc().block_len(&ids[0]).expect("len");
        s.apply(
            &Intent::DeleteSelection,
            &Selection::range(Pos::new(ids[0].clone(), 0), Pos::new(ids[0].clone(), len)),
        )
        .expect("empty");
        let mut sel = at(&ids[0], 0);
        for c in typed.chars() {
            sel = s
                .apply(&Intent::InsertText(c.to_string()), &sel)
                .expect("type")
                .expect("caret");
        }
        let sel = s
            .apply(&Intent::InsertText(" ".into()), &sel)
            .expect("space")
            .expect("caret");
        assert_eq!(sel, at(&ids[0], 0), "{typed}");
        s.apply(&Intent::InsertText("t".into()), &sel).expect("t");
        assert_eq!(md(&s), want, "{typed}");
    }
}

#[test]
fn code_fence_and_inline_bold_shortcuts() {
    let (s, ids) = session("a\n");
    let mut sel = at(&ids[0], 1);
    for c in " **b*".chars() {
        sel = s
            .apply(&Intent::InsertText(c.to_string()), &sel)
            .expect("t")
            .expect("c");
    }
    let sel = s
        .apply(&Intent::InsertText("*".into()), &sel)
        .expect("t")
        .expect("c");
    assert_eq!(md(&s), "a **b**\n");
    assert_eq!(sel, at(&ids[0], 3));
    assert!(
        s.doc().blocks()[0]
            .content
            .iter()
            .any(|r| r.marks.bold && r.text == "b")
    );
    let (s, ids) = session("x\n");
    s.apply(&Intent::DeleteBackward, &at(&ids[0], 1))
        .expect("clear");
    let mut sel = at(&ids[0], 0);
    for c in "```".chars() {
        sel = s
            .apply(&Intent::InsertText(c.to_string()), &sel)
            .expect("t")
            .expect("c");
    }
    assert_eq!(s.doc().blocks()[0].kind, "codeBlock");
}

#[test]
fn toggling_marks_and_safe_links() {
    let (s, ids) = session("hello\n");
    let sel = Selection::range(Pos::new(ids[0].clone(), 0), Pos::new(ids[0].clone(), 5));
    s.apply(&Intent::ToggleMark(MarkKind::Bold), &sel)
        .expect("bold");
    assert_eq!(md(&s), "**hello**\n");
    s.apply(&Intent::ToggleMark(MarkKind::Bold), &sel)
        .expect("unbold");
    assert_eq!(md(&s), "hello\n");
    assert!(matches!(
        s.apply(&Intent::SetLink(Some("javascript:alert(1)".into())), &sel),
        Err(EditorError::Refused(_))
    ));
    s.apply(&Intent::SetLink(Some("https://a.fr".into())), &sel)
        .expect("link");
    assert_eq!(md(&s), "[hello](https://a.fr)\n");
}

#[test]
fn hostile_paste_keeps_no_markup() {
    let (s, ids) = session("x\n");
    let html = r#"<p onclick="evil()">a<script>alert(1)</script><a href="javascript:alert(2)">b</a><img src=x onerror=alert(3)></p><h2>T</h2>"#;
    s.apply(&paste(Some(html), ""), &at(&ids[0], 1))
        .expect("paste");
    let out = md(&s);
    assert!(
        !out.contains("script") && !out.contains("javascript") && !out.contains("alert"),
        "{out}"
    );
    assert!(out.contains("## T"), "{out}");
    let json = serde_json::to_string(&s.doc().blocks()).expect("json");
    assert!(
        !json.contains("javascript") && !json.contains("onclick"),
        "{json}"
    );
}

#[test]
fn markdown_and_plain_paste() {
    let (s, ids) = session("x\n");
    s.apply(&paste(None, "# T\n\n- a\n- b\n"), &at(&ids[0], 1))
        .expect("paste");
    assert_eq!(md(&s), "x\n\n# T\n\n- a\n- b\n");
    let (s, ids) = session("ab\n");
    let sel = s.apply(&paste(None, "zz"), &at(&ids[0], 1)).expect("paste");
    assert_eq!(md(&s), "azzb\n");
    assert_eq!(sel, Some(at(&ids[0], 3)));
}

#[test]
fn markdown_text_beside_html_without_blocks_is_read_as_markdown() {
    assert!(paste_wants_markdown(None, "# T\n\n- a\n"));
    assert!(paste_wants_markdown(
        Some("<meta charset=utf-8><img src=x>"),
        "# T\n"
    ));
    assert!(!paste_wants_markdown(Some("<p>T</p>"), "# T\n"));
    assert!(!paste_wants_markdown(None, "just words"));
    let (s, ids) = session("x\n");
    s.apply(&paste(Some("<img src=x>"), "## T\n"), &at(&ids[0], 1))
        .expect("paste");
    assert_eq!(md(&s), "x\n\n## T\n");
}

#[test]
fn blocks_pasted_at_the_end_of_a_block_leave_no_empty_block() {
    let (s, ids) = session("- a\n- b\n");
    let sel = s
        .apply(&paste(None, "> q\n\n## h\n"), &at(&ids[0], 1))
        .expect("paste")
        .expect("caret");
    assert_eq!(md(&s), "- a\n\n> q\n\n## h\n\n- b\n");
    let h = s.doc().block_ids()[2].clone();
    assert_eq!(sel, at(&h, 1), "caret at the end of the last pasted block");
    // Over a selection that reaches the end of its block: no empty block
    // either.
    let (s, ids) = session("ab\n\nz\n");
    s.apply(
        &paste(None, "> q\n\n## h\n"),
        &Selection::range(Pos::new(ids[0].clone(), 1), Pos::new(ids[0].clone(), 2)),
    )
    .expect("paste");
    assert_eq!(md(&s), "a\n\n> q\n\n## h\n\nz\n");
    let (s, ids) = session("ab\n\ncd\n\nz\n");
    s.apply(
        &paste(None, "> q\n"),
        &Selection::range(Pos::new(ids[1].clone(), 2), Pos::new(ids[0].clone(), 1)),
    )
    .expect("paste");
    assert_eq!(md(&s), "a\n\n> q\n\nz\n");
    // In the middle of a block, the block is split around the pasted ones.
    let (s, ids) = session("ab\n");
    s.apply(&paste(None, "> q\n"), &at(&ids[0], 1))
        .expect("paste");
    assert_eq!(md(&s), "a\n\n> q\n\nb\n");
}

#[test]
fn undo_reverts_local_changes_only() {
    let (s, ids) = session("ab\n");
    s.apply(&Intent::InsertText("L".into()), &at(&ids[0], 2))
        .expect("local");
    // A peer's change arrives (no origin).
    let peer = Document::from_update_v1(&s.doc().encode_state_v1()).expect("peer");
    peer.insert_text(&ids[0], 0, "R").expect("remote");
    s.doc()
        .apply_update_v1(&peer.encode_state_v1())
        .expect("sync");
    assert_eq!(md(&s), "RabL\n");
    assert!(s.can_undo());
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s), "Rab\n");
    s.apply(&Intent::Redo, &at(&ids[0], 0)).expect("redo");
    assert_eq!(md(&s), "RabL\n");
}

#[test]
fn indent_outdent_and_list_exit() {
    let (s, ids) = session("- a\n- b\n- c\n");
    s.apply(&Intent::Indent, &at(&ids[1], 0)).expect("indent");
    assert_eq!(md(&s), "- a\n  - b\n- c\n");
    s.apply(&Intent::Outdent, &at(&ids[1], 0)).expect("outdent");
    assert_eq!(md(&s), "- a\n- b\n- c\n");
    let sel = s
        .apply(&Intent::SplitBlock, &at(&ids[2], 1))
        .expect("split")
        .expect("c");
    s.apply(&Intent::SplitBlock, &sel).expect("exit list");
    assert_eq!(
        s.doc().blocks().last().map(|b| b.kind.clone()),
        Some("paragraph".into())
    );
}

#[test]
fn backspace_at_start_of_list_item_makes_a_paragraph_then_merges() {
    let (s, ids) = session("a\n\n- b\n");
    s.apply(&Intent::DeleteBackward, &at(&ids[1], 0))
        .expect("unlist");
    assert_eq!(md(&s), "a\n\nb\n");
    let sel = s
        .apply(&Intent::DeleteBackward, &at(&ids[1], 0))
        .expect("merge");
    assert_eq!(md(&s), "ab\n");
    assert_eq!(sel, Some(at(&ids[0], 1)));
}

#[test]
fn unknown_blocks_survive_edits_around_them() {
    let (s, ids) = session("a\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nb\n");
    assert_eq!(s.doc().blocks()[1].kind, "table");
    s.apply(&Intent::DeleteBackward, &at(&ids[2], 0))
        .expect("bksp after table");
    s.apply(&Intent::DeleteForward, &at(&ids[0], 1))
        .expect("del before table");
    assert_eq!(s.doc().blocks()[1].kind, "table");
    assert_eq!(crate::text_rules::word_count(&s.doc().blocks()), 2);
}

#[test]
fn word_and_line_deletion_and_check_toggle() {
    let (s, ids) = session("- [ ] one two\n");
    s.apply(&Intent::DeleteWordBackward, &at(&ids[0], 7))
        .expect("word");
    assert_eq!(md(&s), "- [ ] one \n");
    s.apply(&Intent::ToggleChecked(ids[0].clone()), &at(&ids[0], 0))
        .expect("check");
    assert!(md(&s).starts_with("- [x]"));
    s.apply(&Intent::DeleteLineBackward, &at(&ids[0], 4))
        .expect("line");
    assert_eq!(s.doc().block_plain_text(&ids[0]).expect("t"), "");
}

#[test]
fn slash_command_replaces_the_query() {
    let (s, ids) = session("/he\n");
    s.apply(
        &Intent::SlashCommand {
            kind: BlockKind::with("heading", "level", 2.into()),
            remove: 3,
        },
        &at(&ids[0], 3),
    )
    .expect("slash");
    let b = &s.doc().blocks()[0];
    assert_eq!((b.kind.as_str(), b.plain_text().as_str()), ("heading", ""));
}

#[test]
fn sticky_caret_at_block_end_follows_remote_inserts() {
    let (s, ids) = session("hello\n");
    s.apply(&Intent::InsertText("!".into()), &at(&ids[0], 5))
        .expect("type");
    // At the very end of a text, `Assoc::After` sticks to the text's end
    // (atelier-doc, as Yjs); `Assoc::Before` to the last character.
    let after = s
        .doc()
        .sticky_at(&ids[0], 6, atelier_doc::undo::Assoc::After)
        .expect("sticky after");
    let before = s
        .doc()
        .sticky_at(&ids[0], 6, atelier_doc::undo::Assoc::Before)
        .expect("sticky before");
    let peer = Document::from_update_v1(&s.doc().encode_state_v1()).expect("peer");
    peer.insert_text(&ids[0], 0, "XY").expect("remote");
    s.doc()
        .apply_update_v1(&peer.encode_state_v1())
        .expect("sync");
    assert_eq!(s.doc().resolve_sticky(&after), Some((ids[0].clone(), 8)));
    assert_eq!(s.doc().resolve_sticky(&before), Some((ids[0].clone(), 8)));
}

#[test]
fn active_marks_follow_the_selection() {
    let (s, ids) = session("a **bc** *d*\n");
    let range =
        |from, to| Selection::range(Pos::new(ids[0].clone(), from), Pos::new(ids[0].clone(), to));
    assert_eq!(s.active_marks(&range(2, 4)), vec![MarkKind::Bold]);
    assert_eq!(s.active_marks(&range(4, 2)), vec![MarkKind::Bold]);
    assert_eq!(s.active_marks(&range(1, 4)), vec![]);
    // A caret: the character before it.
    assert_eq!(s.active_marks(&at(&ids[0], 3)), vec![MarkKind::Bold]);
    assert_eq!(s.active_marks(&at(&ids[0], 6)), vec![MarkKind::Italic]);
    assert_eq!(s.active_marks(&at(&ids[0], 0)), vec![]);
}

#[test]
fn commands_are_undo_steps_of_their_own() {
    // A clock a millisecond further at every call: typing merges into one step.
    fn ticking() -> u64 {
        static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_000);
        NOW.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
    let doc = Rc::new(Document::with_client_id(7));
    doc.ensure_initialized();
    let s = EditSession::new(doc.clone(), ticking);
    let ids = doc.block_ids();
    for (i, c) in "Hello".chars().enumerate() {
        s.apply(&Intent::InsertText(c.to_string()), &at(&ids[0], i as u32))
            .expect("type");
    }
    let word = Selection::range(Pos::new(ids[0].clone(), 0), Pos::new(ids[0].clone(), 5));
    s.apply(&Intent::ToggleMark(MarkKind::Bold), &word)
        .expect("bold");
    s.apply(&Intent::ToggleMark(MarkKind::Italic), &word)
        .expect("italic");
    s.apply(&Intent::InsertText(" you".into()), &at(&ids[0], 5))
        .expect("type");
    assert_eq!(md(&s), "**_Hello you_**\n");
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s), "**_Hello_**\n");
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s), "**Hello**\n");
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s), "Hello\n");
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s).trim(), "", "the typing was one step");
}

#[test]
fn a_cut_right_after_typing_is_its_own_undo_step() {
    let (s, ids) = session("\n");
    s.apply(&Intent::InsertText("Bonjour".into()), &at(&ids[0], 0))
        .expect("type");
    let word = Selection::range(Pos::new(ids[0].clone(), 3), Pos::new(ids[0].clone(), 7));
    s.apply(&Intent::DeleteSelection, &word).expect("cut");
    assert_eq!(md(&s), "Bon\n");
    s.apply(&Intent::Undo, &at(&ids[0], 0)).expect("undo");
    assert_eq!(md(&s), "Bonjour\n", "undo brings back the cut text only");
}

/// Types `text` one character at a time from `sel`, as a keyboard does;
/// returns the caret.
fn type_keys(s: &EditSession, mut sel: Selection, text: &str) -> Selection {
    for c in text.chars() {
        sel = s
            .apply(&Intent::InsertText(c.to_string()), &sel)
            .expect("type")
            .expect("caret");
    }
    sel
}

/// The first block's runs as (text, bold, italic, strike, code, link).
fn runs(s: &EditSession) -> Vec<(String, bool, bool, bool, bool, Option<String>)> {
    s.doc().blocks()[0]
        .content
        .iter()
        .map(|r| {
            let m = &r.marks;
            (
                r.text.clone(),
                m.bold,
                m.italic,
                m.strike,
                m.code,
                m.link.clone(),
            )
        })
        .collect()
}

#[test]
fn text_typed_after_an_inline_shortcut_is_plain() {
    for (typed, mark, want_md) in [
        ("**gras** puis normal", "bold", "**gras** puis normal\n"),
        ("__gras__ puis normal", "bold", "**gras** puis normal\n"),
        ("*penché* puis normal", "italic", "_penché_ puis normal\n"),
        ("_penché_ puis normal", "italic", "_penché_ puis normal\n"),
        ("~~barré~~ puis normal", "strike", "~~barré~~ puis normal\n"),
        ("`x = 1` puis normal", "code", "`x = 1` puis normal\n"),
    ] {
        let (s, ids) = session("\n");
        type_keys(&s, at(&ids[0], 0), typed);
        assert_eq!(md(&s), want_md, "{typed}");
        let r = runs(&s);
        assert_eq!(r.len(), 2, "{typed}: {r:?}");
        let (inner, b, i, st, c, _) = &r[0];
        let on = [("bold", *b), ("italic", *i), ("strike", *st), ("code", *c)];
        assert!(on.iter().all(|(n, v)| *v == (*n == mark)), "{typed}: {r:?}");
        assert!(!inner.is_empty());
        assert_eq!(
            r[1],
            (" puis normal".into(), false, false, false, false, None),
            "{typed}"
        );
    }
}

#[test]
fn inline_marks_stay_literal_inside_words_and_inside_code() {
    let (s, ids) = session("\n");
    type_keys(&s, at(&ids[0], 0), "snake_case_name 2*3*4");
    assert_eq!(
        s.doc().block_plain_text(&ids[0]).expect("text"),
        "snake_case_name 2*3*4"
    );
    assert!(runs(&s).iter().all(|r| !r.1 && !r.2), "{:?}", runs(&s));
    // Typing the closing star inside inline code: no italic.
    let (s, ids) = session("`*b` x\n");
    type_keys(&s, at(&ids[0], 2), "*");
    assert_eq!(md(&s), "`*b*` x\n");
    // In a code block nothing is a shortcut.
    let (s, ids) = session("```\nx\n```\n");
    type_keys(&s, at(&ids[0], 1), " **y**");
    assert_eq!(s.doc().block_plain_text(&ids[0]).expect("text"), "x **y**");
}

#[test]
fn backspace_right_after_a_block_shortcut_gives_the_characters_back() {
    for typed in ["# ", "## ", "- ", "1. ", "[] ", "> ", "```"] {
        let (s, ids) = session("\n");
        let caret = type_keys(&s, at(&ids[0], 0), typed);
        assert_ne!(s.doc().blocks()[0].kind, "paragraph", "{typed}");
        assert_eq!(caret, at(&ids[0], 0));
        let back = s
            .apply(&Intent::DeleteBackward, &caret)
            .expect("bksp")
            .expect("caret");
        let b = &s.doc().blocks()[0];
        assert_eq!(
            (b.kind.as_str(), b.plain_text().as_str()),
            ("paragraph", typed)
        );
        assert_eq!(back, at(&ids[0], typed.len() as u32), "{typed}");
        // Undo then goes back to what was typed before the shortcut.
        s.apply(&Intent::Undo, &back).expect("undo");
        assert_ne!(s.doc().blocks()[0].plain_text(), typed, "{typed}");
    }
    // Not right after: Backspace at the start of the heading makes it a
    // paragraph, as before.
    let (s, ids) = session("\n");
    let caret = type_keys(&s, at(&ids[0], 0), "# T");
    let caret = s
        .apply(&Intent::DeleteBackward, &caret)
        .expect("b")
        .expect("c");
    s.apply(&Intent::DeleteBackward, &caret).expect("bksp");
    let b = &s.doc().blocks()[0];
    assert_eq!(
        (b.kind.as_str(), b.plain_text().as_str()),
        ("paragraph", "")
    );
}

#[test]
fn backspace_right_after_an_inline_shortcut_gives_the_delimiters_back() {
    let (s, ids) = session("\n");
    let caret = type_keys(&s, at(&ids[0], 0), "a **b**");
    assert_eq!(md(&s), "a **b**\n");
    let back = s
        .apply(&Intent::DeleteBackward, &caret)
        .expect("b")
        .expect("c");
    assert_eq!(s.doc().block_plain_text(&ids[0]).expect("text"), "a **b**");
    assert!(runs(&s).iter().all(|r| !r.1), "{:?}", runs(&s));
    assert_eq!(back, at(&ids[0], 7));
}

#[test]
fn links_end_where_they_end_and_come_from_pasted_urls() {
    let (s, ids) = session("Voir le site\n");
    let word = Selection::range(Pos::new(ids[0].clone(), 8), Pos::new(ids[0].clone(), 12));
    s.apply(&paste(None, "https://example.org/a"), &word)
        .expect("paste");
    assert_eq!(md(&s), "Voir le [site](https://example.org/a)\n");
    type_keys(&s, at(&ids[0], 12), " ici");
    assert_eq!(md(&s), "Voir le [site](https://example.org/a) ici\n");
    // Inside the link, typing extends it.
    type_keys(&s, at(&ids[0], 10), "x");
    assert_eq!(md(&s), "Voir le [sixte](https://example.org/a) ici\n");
    // A pasted text that is not one URL is pasted as text.
    let word = Selection::range(Pos::new(ids[0].clone(), 0), Pos::new(ids[0].clone(), 4));
    s.apply(&paste(None, "Lire https://x.org"), &word)
        .expect("paste");
    assert_eq!(
        md(&s),
        "Lire https://x.org le [sixte](https://example.org/a) ici\n"
    );
}
