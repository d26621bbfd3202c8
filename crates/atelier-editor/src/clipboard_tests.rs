use super::*;
use crate::session::{EditSession, Intent};
use atelier_doc::{BlockId, Marks, NewBlock, Placement, html, markdown};
use std::rc::Rc;

fn doc_md(md: &str) -> (Rc<Document>, Vec<BlockId>) {
    let doc = Rc::new(Document::with_client_id(11));
    markdown::import(&doc, md).expect("markdown loads");
    let ids = doc.block_ids();
    (doc, ids)
}

fn doc_blocks(blocks: &[NewBlock]) -> (Rc<Document>, Vec<BlockId>) {
    let doc = Rc::new(Document::with_client_id(12));
    doc.insert_blocks(&Placement::End, blocks)
        .expect("blocks insert");
    let ids = doc.block_ids();
    (doc, ids)
}

fn range(a: &BlockId, ao: u32, f: &BlockId, fo: u32) -> Selection {
    Selection::range(Pos::new(a.clone(), ao), Pos::new(f.clone(), fo))
}

fn para(runs: Vec<InlineRun>) -> NewBlock {
    NewBlock {
        content: runs,
        ..NewBlock::paragraph("")
    }
}

fn marks(f: impl FnOnce(&mut Marks)) -> Marks {
    let mut m = Marks::default();
    f(&mut m);
    m
}

/// (kind, heading level, runs) of blocks, flattened depth-first: what a
/// paste must give back.
fn shape_of_new(blocks: &[NewBlock]) -> Vec<(String, Option<u64>, Vec<InlineRun>)> {
    let mut out = Vec::new();
    for b in blocks {
        let level = b.props.get("level").and_then(|v| v.as_u64());
        out.push((b.kind.clone(), level, b.content.clone()));
        out.extend(shape_of_new(&b.children));
    }
    out
}

#[test]
fn single_block_partial_selection_is_an_inline_fragment() {
    let (doc, ids) = doc_md("# Un **gras** mot\n");
    // "Un gras mot": select "as mo" (offsets 5..10).
    let p = serialize(&doc, &range(&ids[0], 5, &ids[0], 10));
    // No block wrapper: a word copied from a heading pastes as text.
    assert_eq!(p.html, "<strong>as</strong> mo");
    assert_eq!(p.text, "**as** mo");
    let back = html::sanitize_paste(&p.html);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].kind, "paragraph");
    assert_eq!(
        back[0].content,
        vec![
            InlineRun::styled("as", Marks::bold()),
            InlineRun::plain(" mo")
        ]
    );
}

#[test]
fn backward_selection_gives_the_same_payload() {
    let (doc, ids) = doc_md("alpha **beta**\n\ngamma _delta_\n");
    let forward = serialize(&doc, &range(&ids[0], 2, &ids[1], 8));
    let backward = serialize(&doc, &range(&ids[1], 8, &ids[0], 2));
    assert_eq!(forward, backward);
    assert_eq!(forward.text, "pha **beta**\n\ngamma _de_\n");
    let inside_forward = serialize(&doc, &range(&ids[0], 1, &ids[0], 8));
    let inside_backward = serialize(&doc, &range(&ids[0], 8, &ids[0], 1));
    assert_eq!(inside_forward, inside_backward);
    assert_eq!(inside_forward.text, "lpha **be**");
}

#[test]
fn multi_block_selection_slices_the_first_and_last_blocks() {
    let (doc, ids) = doc_md("# Titre principal\n\nUn paragraphe\n\n- un\n- deux\n\nfin\n");
    let p = serialize(&doc, &range(&ids[0], 6, &ids[3], 2));
    assert_eq!(p.text, "# principal\n\nUn paragraphe\n\n- un\n- de\n");
    assert_eq!(
        p.html,
        "<h1>principal</h1><p>Un paragraphe</p><ul><li>un</li><li>de</li></ul>"
    );
}

#[test]
fn marks_survive_the_cut_point() {
    let link = marks(|m| m.link = Some("https://lasuite.numerique.gouv.fr".into()));
    let bold_italic = marks(|m| {
        m.bold = true;
        m.italic = true;
    });
    let (doc, ids) = doc_blocks(&[
        para(vec![
            InlineRun::plain("aa "),
            InlineRun::styled("bbbb", bold_italic.clone()),
        ]),
        para(vec![
            InlineRun::styled("lien", link.clone()),
            InlineRun::plain(" fin"),
        ]),
    ]);
    // Both ends fall inside a marked run.
    let p = serialize(&doc, &range(&ids[0], 4, &ids[1], 2));
    let back = html::sanitize_paste(&p.html);
    assert_eq!(
        shape_of_new(&back),
        vec![
            (
                "paragraph".into(),
                None,
                vec![InlineRun::styled("bbb", bold_italic)]
            ),
            (
                "paragraph".into(),
                None,
                vec![InlineRun::styled("li", link)]
            ),
        ],
        "{}",
        p.html
    );
    assert_eq!(
        p.text,
        "**_bbb_**\n\n[li](https://lasuite.numerique.gouv.fr)\n"
    );
}

#[test]
fn emoji_at_the_boundaries_stay_whole() {
    let (doc, ids) = doc_md("a😀b\n\n😀c😀\n");
    // Exactly around the emoji (UTF-16 offsets 1..3).
    assert_eq!(serialize(&doc, &range(&ids[0], 1, &ids[0], 3)).text, "😀");
    // An end inside the surrogate pair keeps the whole character.
    assert_eq!(serialize(&doc, &range(&ids[0], 2, &ids[0], 4)).text, "😀b");
    assert_eq!(serialize(&doc, &range(&ids[0], 0, &ids[0], 2)).text, "a😀");
    // Across blocks: from before the first emoji to after the second's
    // first unit.
    let p = serialize(&doc, &range(&ids[0], 1, &ids[1], 4));
    assert_eq!(p.text, "😀b\n\n😀c😀\n");
    let p = serialize(&doc, &range(&ids[0], 3, &ids[1], 2));
    assert_eq!(p.text, "b\n\n😀\n");
    assert_eq!(p.html, "<p>b</p><p>😀</p>");
}

#[test]
fn hard_breaks_are_kept_and_count_one() {
    let (doc, ids) = doc_blocks(&[
        para(vec![
            InlineRun::plain("one\n"),
            InlineRun::styled("two", Marks::bold()),
        ]),
        para(vec![InlineRun::plain("x\ny")]),
    ]);
    // "one\ntwo": offsets 2..5 are "e", the break and "t".
    let p = serialize(&doc, &range(&ids[0], 2, &ids[0], 5));
    assert_eq!(p.html, "e<br><strong>t</strong>");
    assert_eq!(p.text, "e\\\n**t**");
    let back = html::sanitize_paste(&p.html);
    assert_eq!(
        back[0].content,
        vec![
            InlineRun::plain("e\n"),
            InlineRun::styled("t", Marks::bold())
        ]
    );
    // Across blocks, ending just after the second block's break.
    let p = serialize(&doc, &range(&ids[0], 4, &ids[1], 2));
    assert_eq!(p.html, "<p><strong>two</strong></p><p>x<br></p>");
}

#[test]
fn html_round_trips_through_sanitize_paste() {
    let styled = |text: &str, f: fn(&mut Marks)| InlineRun::styled(text, marks(f));
    let blocks = vec![
        NewBlock::text("heading", "Titre").with_prop("level", 2),
        para(vec![
            InlineRun::plain("Du "),
            styled("gras", |m| m.bold = true),
            InlineRun::plain(", de l’"),
            styled("italique", |m| m.italic = true),
            InlineRun::plain(", "),
            styled("souligné", |m| m.underline = true),
            InlineRun::plain(", "),
            styled("barré", |m| m.strike = true),
            InlineRun::plain(", du "),
            styled("code <b>", |m| m.code = true),
            InlineRun::plain(" et un "),
            styled("lien", |m| {
                m.link = Some("https://example.org/?a=1&b=2".into())
            }),
            InlineRun::plain("\nligne 2 & <fin>"),
        ]),
        NewBlock::text("bulletListItem", "puce 1"),
        NewBlock {
            kind: "bulletListItem".into(),
            content: vec![styled("puce 2", |m| m.bold = true)],
            ..Default::default()
        },
        NewBlock::text("numberedListItem", "un"),
        NewBlock::text("numberedListItem", "deux"),
        NewBlock::text("quote", "citation"),
        NewBlock::text("codeBlock", "fn main() {\n    x < y && z\n}").with_prop("language", "rust"),
        NewBlock::text("heading", "Fin").with_prop("level", 3),
    ];
    let (doc, ids) = doc_blocks(&blocks);
    let last = ids.last().expect("blocks");
    let p = serialize(&doc, &range(&ids[0], 0, last, 3));
    let back = html::sanitize_paste(&p.html);
    let mut want = shape_of_new(&blocks);
    // A code block's text has no marks; the paste reader gives it plainly.
    for w in &mut want {
        if w.0 == "codeBlock" {
            w.2 = vec![InlineRun::plain(
                w.2.iter().map(|r| r.text.as_str()).collect::<String>(),
            )];
        }
    }
    assert_eq!(shape_of_new(&back), want, "html: {}", p.html);
    // The Markdown reads back to the same structure too (minus underline,
    // which Markdown cannot say).
    let from_md = markdown::parse(&p.text);
    let kinds: Vec<String> = shape_of_new(&from_md).into_iter().map(|s| s.0).collect();
    let want_kinds: Vec<String> = want.iter().map(|s| s.0.clone()).collect();
    assert_eq!(kinds, want_kinds, "markdown: {}", p.text);
}

#[test]
fn nested_blocks_keep_their_structure() {
    let md = "- parent\n  - enfant un\n  - enfant deux\n- suite\n";
    let (doc, ids) = doc_md(md);
    // ids: parent, enfant un, enfant deux, suite.
    assert_eq!(ids.len(), 4);
    let whole = serialize(&doc, &range(&ids[0], 0, &ids[3], 5));
    assert_eq!(whole.text, md);
    assert_eq!(
        whole.html,
        "<ul><li>parent<ul><li>enfant un</li><li>enfant deux</li></ul></li><li>suite</li></ul>"
    );
    // Starting inside a child: the unselected parent gives way to its
    // selected children.
    let p = serialize(&doc, &range(&ids[1], 7, &ids[3], 2));
    assert_eq!(p.text, "- un\n- enfant deux\n- su\n");
    // Ending inside the first child: the parent keeps it, not its sibling.
    let p = serialize(&doc, &range(&ids[0], 3, &ids[1], 6));
    assert_eq!(p.text, "- ent\n  - enfant\n");
}

#[test]
fn non_text_blocks_in_range_are_copied_whole() {
    let md = "avant\n\n---\n\n| a | b |\n| --- | --- |\n| 1 | **2** |\n\naprès\n";
    let (doc, ids) = doc_md(md);
    let last = ids.last().expect("blocks");
    let p = serialize(&doc, &range(&ids[0], 2, last, 4));
    assert_eq!(
        p.text,
        "ant\n\n---\n\n| a | b |\n| --- | --- |\n| 1 | **2** |\n\naprè\n"
    );
    assert!(p.html.contains("<hr>"), "{}", p.html);
    assert!(
        p.html
            .contains("<table><tr><td>a</td><td>b</td></tr><tr><td>1</td><td><strong>2</strong></td></tr></table>"),
        "{}",
        p.html
    );
}

#[test]
fn inside_one_code_block_plain_text_is_the_raw_code() {
    let (doc, ids) = doc_md("```rust\nlet x = *y < 2;\n```\n");
    let p = serialize(&doc, &range(&ids[0], 4, &ids[0], 15));
    // Not Markdown-escaped: what a terminal or an IDE wants.
    assert_eq!(p.text, "x = *y < 2;");
    assert_eq!(p.html, "x = *y &lt; 2;");
}

#[test]
fn empty_or_stale_selections_give_an_empty_payload() {
    let (doc, ids) = doc_md("un\n\ndeux\n");
    let caret = Selection::caret(Pos::new(ids[0].clone(), 1));
    assert!(serialize(&doc, &caret).is_empty());
    let stale = range(&BlockId::from("gone"), 0, &ids[1], 2);
    assert!(serialize(&doc, &stale).is_empty());
    // From the end of one block to the start of the next: only the block
    // boundary, no text.
    assert!(serialize(&doc, &range(&ids[0], 2, &ids[1], 0)).is_empty());
    // Offsets past the end (a selection read before a peer's deletion) are
    // clamped, never a panic.
    assert_eq!(serialize(&doc, &range(&ids[0], 1, &ids[0], 99)).text, "n");
}

#[test]
fn a_boundary_block_with_nothing_selected_is_left_out() {
    let (doc, ids) = doc_md("# un\n\ndeux\n\ntrois\n");
    // From the end of the heading: the heading is not copied as an empty
    // heading.
    let p = serialize(&doc, &range(&ids[0], 2, &ids[2], 3));
    assert_eq!(p.html, "<p>deux</p><p>tro</p>");
    // Up to the very start of the last block.
    let p = serialize(&doc, &range(&ids[0], 0, &ids[2], 0));
    assert_eq!(p.html, "<h1>un</h1><p>deux</p>");
}

#[test]
fn cut_then_paste_of_the_html_restores_the_document() {
    let md = "# Titre\n\nUn **gras** et _italique_\n\n- un\n- deux\n";
    let doc = Rc::new(Document::with_client_id(13));
    doc.ensure_initialized();
    let session = EditSession::new(doc.clone(), || 0);
    session
        .replace_with_blocks(markdown::parse(md))
        .expect("markdown loads");
    let ids = doc.block_ids();
    assert_eq!(markdown::export(&doc.blocks()), md);
    // From inside the paragraph to the end of the last list item.
    let sel = range(&ids[1], 3, &ids[3], 4);
    let p = serialize(&doc, &sel);
    assert_eq!(p.text, "**gras** et _italique_\n\n- un\n- deux\n");
    let caret = session
        .apply(&Intent::DeleteSelection, &sel)
        .expect("cut")
        .expect("caret");
    assert_eq!(markdown::export(&doc.blocks()), "# Titre\n\nUn \n");
    session
        .apply(
            &Intent::Paste {
                html: Some(p.html.clone()),
                text: p.text.clone(),
                markdown: None,
            },
            &caret,
        )
        .expect("paste");
    assert_eq!(markdown::export(&doc.blocks()), md);
}
