//! Documents nested far deeper than BlockNote writes (issue 20): every
//! reader stops at `MAX_READ_DEPTH` instead of recursing until the thread's
//! stack overflows, and no writer nests past `MAX_NESTING_DEPTH`.
//!
//! Each test runs on a thread with a 2 MiB stack, a tokio worker's: before
//! the bounds, a 20,000-level document aborted the process there.

use atelier_doc::depth::{MAX_BLOCK_LEVEL, MAX_NESTING_DEPTH, MAX_READ_DEPTH};
use atelier_doc::test_support::deep_nest_update;
use atelier_doc::{Block, Document, Error, NewBlock, Placement, html, markdown, plain};

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("the test thread finished")
}

/// Block levels of a block tree, by an explicit-stack walk.
fn levels(blocks: &[Block]) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Block, usize)> = blocks.iter().map(|b| (b, 1)).collect();
    while let Some((b, level)) = stack.pop() {
        deepest = deepest.max(level);
        stack.extend(b.children.iter().map(|c| (c, level + 1)));
    }
    deepest
}

#[test]
fn a_twenty_thousand_level_document_is_read_and_exported_in_part() {
    on_small_stack(|| {
        let doc = Document::from_update_v1(&deep_nest_update(7, 20_000)).expect("loads");
        assert!(doc.deepest_nesting() > 20_000, "{}", doc.deepest_nesting());
        let blocks = doc.blocks();
        // Containers sit at even depths 2, 4, …: the last one read is at
        // MAX_READ_DEPTH at most, and everything above it is there.
        assert_eq!(levels(&blocks), MAX_READ_DEPTH / 2);
        assert_eq!(blocks[0].plain_text(), "level 1");
        assert_eq!(doc.outline().len(), 1);
        assert_eq!(doc.block_ids().len(), MAX_READ_DEPTH / 2);
        let md = markdown::export(&blocks);
        assert!(md.starts_with("level 1\n"), "{}", &md[..40]);
        assert!(
            md.contains("level 255"),
            "the deepest block read is exported"
        );
        assert!(!md.contains("level 257"), "nothing past the read bound");
        assert!(html::export(&blocks).contains("level 1<"));
        assert!(plain::export(&blocks).contains("level 255"));
        let deep = doc.block(&"deep-255".into()).expect("a block at the bound");
        assert_eq!(deep.plain_text(), "level 255");
        assert!(matches!(
            doc.block(&"deep-301".into()),
            Err(Error::BlockNotFound(_))
        ));
    });
}

#[test]
fn a_twenty_thousand_level_document_can_be_deleted_and_its_top_moved() {
    on_small_stack(|| {
        let doc = Document::from_update_v1(&deep_nest_update(7, 20_000)).expect("loads");
        let top = doc.append_paragraph("after").expect("writes");
        // Moving the deep block would copy more than any reader follows:
        // refused whole rather than copied in part.
        assert_eq!(
            doc.move_block(&"deep-1".into(), &Placement::After(top.clone())),
            Err(Error::TooDeep {
                limit: MAX_READ_DEPTH
            })
        );
        assert_eq!(doc.blocks()[0].plain_text(), "level 1");
        // Deleting it deletes all 20,000 levels (yrs deletes iteratively).
        doc.delete_block(&"deep-1".into()).expect("deletes");
        let left: Vec<String> = doc.blocks().iter().map(Block::plain_text).collect();
        assert_eq!(left, ["after"]);
        assert!(doc.deepest_nesting() <= 4);
    });
}

#[test]
fn writes_never_nest_past_the_limit() {
    on_small_stack(|| {
        let doc = Document::new();
        doc.ensure_initialized();
        let mut parent = doc.append_paragraph("0").expect("writes");
        for level in 1..=MAX_BLOCK_LEVEL {
            let id = doc
                .insert_blocks(
                    &Placement::LastChildOf(parent.clone()),
                    &[NewBlock::paragraph(&level.to_string())],
                )
                .expect("within the limit")
                .remove(0);
            parent = id;
        }
        assert!(doc.deepest_nesting() <= MAX_NESTING_DEPTH);
        // A table fits down to MAX_BLOCK_LEVEL, not one level more; a
        // paragraph, whose text sits 3 types higher, two levels more.
        let refused = Err(Error::TooDeep {
            limit: MAX_NESTING_DEPTH,
        });
        let before = doc.encode_state_v1();
        assert_eq!(
            doc.insert_blocks(
                &Placement::LastChildOf(parent.clone()),
                &[NewBlock::text("table", "")]
            ),
            refused
        );
        assert!(doc.encode_state_v1() == before, "nothing written");
        for level in MAX_BLOCK_LEVEL + 1..=MAX_BLOCK_LEVEL + 2 {
            parent = doc
                .insert_blocks(
                    &Placement::LastChildOf(parent.clone()),
                    &[NewBlock::paragraph(&level.to_string())],
                )
                .expect("a paragraph fits")
                .remove(0);
        }
        let before = doc.encode_state_v1();
        assert_eq!(
            doc.insert_blocks(
                &Placement::LastChildOf(parent.clone()),
                &[NewBlock::paragraph("too deep")]
            ),
            refused
        );
        assert!(doc.encode_state_v1() == before, "nothing written");
        assert_eq!(doc.deepest_nesting(), MAX_NESTING_DEPTH);
        // A sibling at the deepest level is fine; indenting it is not.
        let sibling = doc
            .insert_blocks(
                &Placement::After(parent.clone()),
                &[NewBlock::paragraph("s")],
            )
            .expect("same level")
            .remove(0);
        assert_eq!(
            doc.indent_block(&sibling),
            Err(Error::TooDeep {
                limit: MAX_NESTING_DEPTH
            })
        );
        // Moving a two-level subtree to the deepest level is refused too.
        let top = doc.append_paragraph("top").expect("writes");
        doc.insert_blocks(
            &Placement::LastChildOf(top.clone()),
            &[NewBlock::paragraph("c")],
        )
        .expect("writes");
        assert_eq!(
            doc.move_block(&top, &Placement::After(parent.clone())),
            Err(Error::TooDeep {
                limit: MAX_NESTING_DEPTH
            })
        );
        assert!(doc.deepest_nesting() <= MAX_NESTING_DEPTH);
    });
}

#[test]
fn deep_markdown_and_html_pastes_are_flattened_at_the_deepest_level() {
    on_small_stack(|| {
        let quotes = format!("{} deep\n", ">".repeat(20_000));
        let blocks = markdown::parse(&quotes);
        let doc = Document::new();
        doc.insert_blocks(&Placement::End, &blocks).expect("fits");
        assert!(doc.deepest_nesting() <= MAX_NESTING_DEPTH);
        assert!(markdown::export(&doc.blocks()).contains("deep"));

        let mut list = String::new();
        for i in 0..300 {
            list.push_str(&format!("{}- item {i}\n", "  ".repeat(i)));
        }
        let doc = Document::new();
        doc.insert_blocks(&Placement::End, &markdown::parse(&list))
            .expect("fits");
        assert!(doc.deepest_nesting() <= MAX_NESTING_DEPTH);
        let text = plain::export(&doc.blocks());
        for i in [0, 59, 60, 299] {
            assert!(text.contains(&format!("item {i}\n")), "item {i} kept");
        }

        let html_paste = format!(
            "{}<li>deepest</li>{}",
            "<ul><li>x".repeat(20_000),
            "</li></ul>".repeat(20_000)
        );
        let doc = Document::new();
        doc.insert_blocks(&Placement::End, &html::sanitize_paste(&html_paste))
            .expect("fits");
        assert!(doc.deepest_nesting() <= MAX_NESTING_DEPTH);
        assert!(plain::export(&doc.blocks()).contains("deepest"));
    });
}
