use super::*;

fn round(md: &str) -> String {
    let doc = Document::with_client_id(3);
    import(&doc, md).expect("import");
    export(&doc.blocks())
}

#[test]
fn blocks_map_to_blocknote_types() {
    let blocks = parse(
        "# T\n\npara **b** _i_ ~~s~~ `c` [l](https://x.fr)\n\n- a\n  - nested\n1. one\n2. two\n\n- [x] done\n- [ ] todo\n\n> quote\n\n```rust\nfn a() {}\n```\n\n---\n",
    );
    let kinds: Vec<&str> = blocks.iter().map(|b| b.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "heading",
            "paragraph",
            "bulletListItem",
            "numberedListItem",
            "numberedListItem",
            "checkListItem",
            "checkListItem",
            "quote",
            "codeBlock",
            "divider"
        ]
    );
    assert_eq!(blocks[2].children[0].kind, "bulletListItem");
    assert_eq!(blocks[5].props.get("checked"), Some(&true.into()));
    assert_eq!(blocks[6].props.get("checked"), Some(&false.into()));
    assert_eq!(blocks[8].props.get("language"), Some(&"rust".into()));
    let p = &blocks[1].content;
    assert!(p.iter().any(|r| r.text == "b" && r.marks.bold));
    assert!(p.iter().any(|r| r.text == "i" && r.marks.italic));
    assert!(p.iter().any(|r| r.text == "s" && r.marks.strike));
    assert!(p.iter().any(|r| r.text == "c" && r.marks.code));
    assert!(
        p.iter()
            .any(|r| r.text == "l" && r.marks.link.as_deref() == Some("https://x.fr"))
    );
}

#[test]
fn unsafe_links_and_raw_html_become_plain_text() {
    let blocks = parse(
        "[x](javascript:alert(1)) <script>alert(1)</script>\n\n<div onclick=\"x\">hi</div>\n",
    );
    for b in &blocks {
        for r in &b.content {
            assert!(r.marks.link.is_none(), "{r:?}");
        }
    }
    let text: String = blocks
        .iter()
        .map(|b| {
            b.content
                .iter()
                .map(|r| r.text.as_str())
                .collect::<String>()
        })
        .collect();
    assert!(
        text.contains("<script>"),
        "html kept as visible text: {text}"
    );
    let md = round("[x](javascript:alert(1)) <script>alert(1)</script>\n");
    assert!(!md.contains("](javascript"), "{md}");
    assert!(md.contains("\\<script\\>"), "{md}");
}

#[test]
fn export_is_stable_on_reimport() {
    let samples = [
        "# Titre\n\nUn paragraphe avec **gras**, _italique_ et `code`.\n",
        "- un\n- deux\n  - deux.un\n  - deux.deux\n- trois\n",
        "1. a\n2. b\n3. c\n",
        "- [x] fait\n- [ ] à faire\n  - [ ] sous-tâche\n",
        "> citation\n",
        "```js\nconst a = `x`;\n```\n",
        "| a | b |\n| --- | --- |\n| c | d |\n",
        "Line one\\\nline two\n",
        "**bold _both_** plain ~~gone~~\n",
        "Emoji 😀, accents é è, 中文, and 1. not a list\n",
        "---\n\ntext after rule\n",
        "Escapes: \\* \\_ \\[x\\] \\<b\\> # 5. \\| \\~\n",
        "\\# not a heading\n\n5\\. not a list\n",
    ];
    for s in samples {
        let once = round(s);
        let twice = round(&once);
        assert_eq!(once, twice, "not stable for {s:?}");
        assert_eq!(once, s, "export differs from a canonical input");
    }
}

#[test]
fn numbered_lists_keep_their_start() {
    let md = round("3. c\n4. d\n");
    assert_eq!(md, "3. c\n4. d\n");
}

#[test]
fn marks_close_around_spaces() {
    let runs = vec![
        InlineRun::styled("bold ", Marks::bold()),
        InlineRun::plain("plain"),
    ];
    assert_eq!(inline_markdown(&runs), "**bold** plain");
}

/// Real Markdown documents (the READMEs of the npm packages the Node peers
/// install): export after one import must be a fixed point.
#[test]
fn round_trip_is_stable_on_real_documents() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers/node_modules");
    let names = [
        "yjs/README.md",
        "y-protocols/README.md",
        "lib0/README.md",
        "ws/README.md",
        "y-prosemirror/README.md",
        "@hocuspocus/server/README.md",
        "react/README.md",
    ];
    let mut checked = 0;
    for name in names {
        let path = root.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!(
                "SKIPPED: markdown round trip of {name} (not found at {})",
                path.display()
            );
            continue;
        };
        let once = round(&text);
        let twice = round(&once);
        if once != twice {
            let line = once
                .lines()
                .zip(twice.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{name}: export not stable at line {line}:\n  once:  {:?}\n  twice: {:?}",
                once.lines().nth(line),
                twice.lines().nth(line)
            );
        }
        checked += 1;
    }
    println!("markdown round trip stable on {checked} real documents");
}

#[test]
fn export_with_ids_names_every_block_where_an_llm_can_quote_it() {
    use crate::block::{BlockId, NewBlock};
    use crate::document::{Document, Placement};
    let doc = Document::new();
    let with_id = |id: &str, b: NewBlock| NewBlock {
        id: Some(BlockId::from(id)),
        ..b
    };
    doc.insert_blocks(
        &Placement::End,
        &[
            with_id(
                "h",
                NewBlock::text("heading", "Titre").with_prop("level", 2),
            ),
            with_id(
                "l",
                NewBlock::text("bulletListItem", "un").with_children(vec![with_id(
                    "l2",
                    NewBlock::text("bulletListItem", "deux"),
                )]),
            ),
            with_id("e", NewBlock::paragraph("")),
            with_id(
                "c",
                NewBlock::text("codeBlock", "x = 1").with_prop("language", "python"),
            ),
            with_id(
                "i",
                NewBlock::text("image", "").with_prop("url", "https://example.org/i.png"),
            ),
            with_id("q", NewBlock::text("quote", "cité")),
        ],
    )
    .expect("inserts");
    let md = export_with_ids(&doc.blocks());
    assert_eq!(
        md,
        "## Titre <!-- id:h -->\n\
         \n\
         - un <!-- id:l -->\n  - deux <!-- id:l2 -->\n\
         \n\
         <!-- id:e -->\n\
         \n\
         <!-- id:c -->\n```python\nx = 1\n```\n\
         \n\
         <!-- id:i -->\n![](https://example.org/i.png)\n\
         \n\
         > cité <!-- id:q -->\n"
    );
    // Without ids, the same document reads as plain Markdown.
    assert!(!export(&doc.blocks()).contains("<!--"));
}
