use super::*;
use crate::Marks;
use serde_json::json;
use yrs::GetString;

fn doc_with(blocks: &[NewBlock]) -> (Document, Vec<BlockId>) {
    let d = Document::with_client_id(7);
    let ids = d
        .insert_blocks(&Placement::End, blocks)
        .expect("insert blocks");
    (d, ids)
}

fn xml(d: &Document) -> String {
    let txn = d.ydoc().transact();
    d.fragment().get_string(&txn)
}

#[test]
fn initialising_writes_one_group_with_an_empty_paragraph() {
    let d = Document::new();
    assert!(d.ensure_initialized());
    assert!(!d.ensure_initialized());
    let blocks = d.blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].kind, "paragraph");
    assert_eq!(blocks[0].prop_str("textAlignment"), Some("left"));
    assert!(blocks[0].content.is_empty());
}

#[test]
fn concurrent_initialisation_merges_the_stray_root_group() {
    let a = Document::with_client_id(1);
    let b = Document::with_client_id(2);
    a.ensure_initialized();
    b.ensure_initialized();
    let ida = a.block_ids()[0].clone();
    let idb = b.block_ids()[0].clone();
    a.insert_text(&ida, 0, "from a").expect("insert");
    b.insert_text(&idb, 0, "from b").expect("insert");
    a.apply_update_v1(&b.encode_state_v1()).expect("apply");
    b.apply_update_v1(&a.encode_state_v1()).expect("apply");
    // Both roots are visible before the merge ...
    assert_eq!(a.blocks().len(), 2);
    assert!(a.ensure_initialized());
    b.apply_update_v1(&a.encode_state_v1()).expect("apply");
    let txn = a.ydoc().transact();
    assert_eq!(root_groups(&txn, a.fragment()).len(), 1);
    drop(txn);
    let texts: Vec<String> = b.blocks().iter().map(Block::plain_text).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts.contains(&"from a".to_string()) && texts.contains(&"from b".to_string()));
    assert_eq!(a.blocks(), b.blocks());
}

#[test]
fn text_offsets_count_utf16_units() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("a😀é中")]);
    assert_eq!(d.block_len(&ids[0]), Ok(5));
    d.insert_text(&ids[0], 3, "|").expect("after the emoji");
    assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("a😀|é中"));
    d.delete_text(&ids[0], 1, 2).expect("delete the emoji");
    assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("a|é中"));
}

#[test]
fn out_of_range_edits_are_errors_not_panics() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("abc")]);
    assert!(matches!(
        d.insert_text(&ids[0], 4, "x"),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        d.delete_text(&ids[0], 2, 2),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        d.format_text(&ids[0], u32::MAX, 2, &Mark::Bold, true),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        d.insert_text(&BlockId::from("nope"), 0, "x"),
        Err(Error::BlockNotFound(_))
    ));
    assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("abc"));
}

#[test]
fn formatting_writes_blocknote_marks() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("hello world")]);
    d.format_text(&ids[0], 0, 5, &Mark::Bold, true)
        .expect("bold");
    d.format_text(&ids[0], 6, 5, &Mark::Link("https://a.fr".into()), true)
        .expect("link");
    d.format_text(&ids[0], 6, 5, &Mark::TextColor("red".into()), true)
        .expect("color");
    let b = d.block(&ids[0]).expect("block");
    assert_eq!(b.content.len(), 3);
    assert!(b.content[0].marks.bold);
    assert_eq!(b.content[2].marks.link.as_deref(), Some("https://a.fr"));
    assert_eq!(b.content[2].marks.text_color.as_deref(), Some("red"));
    assert!(
        d.format_text(
            &ids[0],
            0,
            1,
            &Mark::Link("javascript:alert(1)".into()),
            true
        )
        .is_err()
    );
    d.format_text(&ids[0], 0, 5, &Mark::Bold, false)
        .expect("unbold");
    assert!(!d.block(&ids[0]).expect("block").content[0].marks.bold);
}

#[test]
fn typing_continues_marks_but_explicit_marks_are_exact() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("ab")]);
    d.format_text(&ids[0], 0, 2, &Mark::Italic, true)
        .expect("italic");
    d.insert_text(&ids[0], 2, "c").expect("type");
    d.insert_formatted(&ids[0], 3, "d", &Marks::default())
        .expect("plain");
    let b = d.block(&ids[0]).expect("block");
    assert_eq!(b.content[0].text, "abc");
    assert!(b.content[0].marks.italic);
    assert_eq!(b.content[1].text, "d");
    assert!(b.content[1].marks.is_empty());
}

#[test]
fn line_breaks_become_hard_break_elements_except_in_code() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("ab"), NewBlock::text("codeBlock", "")]);
    d.insert_text(&ids[0], 1, "\n").expect("break");
    assert!(xml(&d).contains("<hardBreak></hardBreak>"), "{}", xml(&d));
    assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("a\nb"));
    d.insert_text(&ids[1], 0, "x\ny").expect("code");
    assert_eq!(d.block_plain_text(&ids[1]).as_deref(), Ok("x\ny"));
    d.delete_text(&ids[0], 1, 1).expect("delete the break");
    assert_eq!(d.block_plain_text(&ids[0]).as_deref(), Ok("ab"));
}

#[test]
fn split_and_merge_keep_formatting() {
    let (d, ids) = doc_with(&[NewBlock::text("heading", "Title here").with_prop("level", 2)]);
    d.format_text(&ids[0], 6, 4, &Mark::Bold, true)
        .expect("bold");
    let new_id = d.split_block(&ids[0], 5).expect("split");
    let blocks = d.blocks();
    assert_eq!(blocks[0].plain_text(), "Title");
    assert_eq!(blocks[0].prop_f64("level"), Some(2.0));
    assert_eq!(blocks[1].id, new_id);
    assert_eq!(blocks[1].kind, "paragraph");
    assert_eq!(blocks[1].plain_text(), " here");
    assert!(blocks[1].content[1].marks.bold);
    let joined = d.merge_with_previous(&new_id).expect("merge");
    assert_eq!(joined, Some((ids[0].clone(), 5)));
    let blocks = d.blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].plain_text(), "Title here");
    assert!(blocks[0].content.last().is_some_and(|r| r.marks.bold));
}

#[test]
fn changing_type_keeps_text_and_writes_new_defaults() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("item")]);
    d.format_text(&ids[0], 0, 2, &Mark::Code, true)
        .expect("code");
    d.update_block(&ids[0], Some("checkListItem"), &Map::new())
        .expect("to checklist");
    let b = d.block(&ids[0]).expect("block");
    assert_eq!(b.kind, "checkListItem");
    assert_eq!(b.prop_bool("checked"), Some(false));
    assert_eq!(b.plain_text(), "item");
    assert!(b.content[0].marks.code);
    let mut props = Map::new();
    props.insert("checked".into(), json!(true));
    d.update_block(&ids[0], None, &props).expect("check");
    assert_eq!(
        d.block(&ids[0]).expect("block").prop_bool("checked"),
        Some(true)
    );
    d.update_block(&ids[0], Some("numberedListItem"), &Map::new())
        .expect("to numbered");
    // BlockNote writes `start` as an explicit undefined.
    let txn = d.ydoc().transact();
    let loc = d.locate(&txn, &ids[0]).expect("locate");
    let content = content_node(&txn, &loc.container).expect("content");
    assert_eq!(
        content.get_attribute(&txn, "start"),
        Some(Out::Any(Any::Undefined))
    );
}

#[test]
fn tables_and_unknown_blocks_survive_moves_untouched() {
    let table = NewBlock {
        kind: "table".into(),
        table: Some(vec![vec![
            vec![InlineRun::plain("a")],
            vec![InlineRun::plain("b")],
        ]]),
        ..Default::default()
    };
    let alert = NewBlock::text("alert", "").with_prop("variant", "warning");
    let (d, ids) = doc_with(&[NewBlock::paragraph("p"), table, alert]);
    let before_table = d.block(&ids[1]).expect("table");
    let before_alert = d.block(&ids[2]).expect("alert");
    d.move_block(&ids[1], &Placement::Start)
        .expect("move table");
    d.move_block(&ids[2], &Placement::LastChildOf(ids[0].clone()))
        .expect("nest alert");
    assert_eq!(d.block(&ids[1]).expect("table"), before_table);
    assert_eq!(d.block(&ids[2]).expect("alert"), before_alert);
    assert_eq!(d.blocks()[0].id, ids[1]);
    assert_eq!(d.blocks()[1].children[0].id, ids[2]);
    assert!(d.insert_text(&ids[1], 0, "x").is_err());
    assert!(
        d.update_block(&ids[1], Some("paragraph"), &Map::new())
            .is_err()
    );
}

#[test]
fn moving_a_block_into_itself_is_refused() {
    let parent = NewBlock::paragraph("p").with_children(vec![NewBlock::paragraph("c")]);
    let (d, ids) = doc_with(&[parent]);
    let child = d.blocks()[0].children[0].id.clone();
    assert!(d.move_block(&ids[0], &Placement::After(child)).is_err());
    assert!(
        d.move_block(&ids[0], &Placement::FirstChildOf(ids[0].clone()))
            .is_err()
    );
}

#[test]
fn indent_and_outdent_nest_list_items() {
    let items: Vec<NewBlock> = ["a", "b", "c"]
        .iter()
        .map(|t| NewBlock::text("bulletListItem", t))
        .collect();
    let (d, ids) = doc_with(&items);
    assert_eq!(d.indent_block(&ids[0]), Ok(false));
    assert_eq!(d.indent_block(&ids[1]), Ok(true));
    assert_eq!(d.indent_block(&ids[2]), Ok(true));
    let blocks = d.blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].children.len(), 2);
    assert_eq!(d.outdent_block(&ids[1]), Ok(true));
    let blocks = d.blocks();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1].id, ids[1]);
    assert_eq!(blocks[1].children[0].id, ids[2]);
    // No empty nested group is left behind under the first item.
    assert!(
        !xml(&d).contains("<blockGroup></blockGroup>"),
        "{}",
        xml(&d)
    );
}

#[test]
fn generated_ids_are_unique_and_uuid_shaped() {
    let d = Document::with_client_id(42);
    let blocks: Vec<NewBlock> = (0..50)
        .map(|i| NewBlock::paragraph(&i.to_string()))
        .collect();
    let mut ids = d.insert_blocks(&Placement::End, &blocks).expect("insert");
    ids.extend(d.insert_blocks(&Placement::End, &blocks).expect("insert"));
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 100);
    assert!(
        ids.iter()
            .all(|id| id.as_str().len() == 36 && id.as_str().as_bytes()[14] == b'4')
    );
}

#[test]
fn malformed_updates_change_nothing() {
    let (d, _) = doc_with(&[NewBlock::paragraph("keep")]);
    let before = d.encode_state_v1();
    assert!(d.apply_update_v1(&[0xff, 0xff, 0xff, 0x01]).is_err());
    assert!(d.apply_update_v1(&[]).is_err() || d.encode_state_v1() == before);
    assert_eq!(d.encode_state_v1(), before);
}

#[test]
fn restoring_a_version_is_a_new_update() {
    let (d, ids) = doc_with(&[NewBlock::paragraph("version one")]);
    let v1 = d.encode_state_v1();
    d.insert_text(&ids[0], 0, "changed ").expect("edit");
    d.insert_blocks(&Placement::End, &[NewBlock::paragraph("more")])
        .expect("insert");
    let other = Document::from_update_v1(&d.encode_state_v1()).expect("replica");
    let update = restore_update(&d.encode_state_v1(), &v1).expect("restore");
    d.apply_update_v1(&update).expect("apply");
    other.apply_update_v1(&update).expect("apply on a replica");
    let texts: Vec<String> = d.blocks().iter().map(Block::plain_text).collect();
    assert_eq!(texts, vec!["version one".to_string()]);
    assert_eq!(d.blocks(), other.blocks());
    assert_eq!(d.blocks()[0].id, ids[0]);
}
