use super::*;
use crate::{Mark, NewBlock, Op, Placement};
use serde_json::Map;
use std::sync::{Arc, Mutex};

fn watched(doc: &Document) -> Arc<Mutex<Vec<BlockChanges>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    doc.observe_blocks("test", move |c| sink.lock().expect("lock").push(c));
    seen
}

fn last(seen: &Arc<Mutex<Vec<BlockChanges>>>) -> BlockChanges {
    seen.lock().expect("lock").pop().expect("an event")
}

fn doc_with(texts: &[&str]) -> (Document, Vec<BlockId>) {
    let doc = Document::with_client_id(1);
    doc.ensure_initialized();
    let blocks: Vec<NewBlock> = texts.iter().map(|t| NewBlock::paragraph(t)).collect();
    let ids = doc.insert_blocks(&Placement::End, &blocks).expect("insert");
    (doc, ids)
}

#[test]
fn typing_names_only_its_block() {
    let (doc, ids) = doc_with(&["one", "two"]);
    let seen = watched(&doc);
    doc.insert_text(&ids[1], 3, "!").expect("insert");
    let c = last(&seen);
    assert!(!c.structure, "{c:?}");
    assert_eq!(c.blocks, HashSet::from([ids[1].clone()]));
    doc.format_text(&ids[0], 0, 2, &Mark::Bold, true)
        .expect("format");
    assert_eq!(last(&seen).blocks, HashSet::from([ids[0].clone()]));
}

#[test]
fn adding_moving_and_retyping_blocks_is_structural() {
    let (doc, ids) = doc_with(&["one", "two"]);
    let seen = watched(&doc);
    doc.insert_blocks(
        &Placement::After(ids[0].clone()),
        &[NewBlock::paragraph("x")],
    )
    .expect("insert");
    assert!(last(&seen).structure);
    doc.move_block(&ids[1], &Placement::Start).expect("move");
    assert!(last(&seen).structure);
    doc.apply_ops(
        &[Op::UpdateBlock {
            block: ids[0].clone(),
            kind: Some("heading".into()),
            props: Map::new(),
        }],
        "t",
    )
    .expect("retype");
    let c = last(&seen);
    assert!(c.structure && c.blocks.contains(&ids[0]), "{c:?}");
}

#[test]
fn a_nested_blocks_text_names_the_nested_block() {
    let (doc, ids) = doc_with(&["parent"]);
    let child = doc
        .insert_blocks(
            &Placement::LastChildOf(ids[0].clone()),
            &[NewBlock::paragraph("child")],
        )
        .expect("insert")
        .remove(0);
    let seen = watched(&doc);
    doc.delete_text(&child, 0, 1).expect("delete");
    let c = last(&seen);
    assert_eq!(c.blocks, HashSet::from([child]));
    assert!(!c.structure);
}

#[test]
fn a_peers_update_reports_the_same_changes() {
    let (a, ids) = doc_with(&["one", "two"]);
    let b = Document::from_update_v1(&a.encode_state_v1()).expect("load");
    let seen = watched(&b);
    let sv = b.state_vector_v1();
    a.insert_text(&ids[0], 0, "« ").expect("insert");
    b.apply_update_v1(&a.diff_v1(&sv).expect("diff"))
        .expect("apply");
    let c = last(&seen);
    assert_eq!(c.blocks, HashSet::from([ids[0].clone()]));
    assert!(!c.structure);
}

#[test]
fn unobserving_stops_the_reports() {
    let (doc, ids) = doc_with(&["one"]);
    let seen = watched(&doc);
    assert!(doc.unobserve_blocks("test"));
    doc.insert_text(&ids[0], 0, "x").expect("insert");
    assert!(seen.lock().expect("lock").is_empty());
}

#[test]
fn lookups_survive_moves_and_deletes() {
    // The id index must never hand back a deleted or moved container.
    let (doc, ids) = doc_with(&["a", "b", "c"]);
    assert_eq!(doc.block_plain_text(&ids[2]).expect("read"), "c");
    doc.move_block(&ids[2], &Placement::Start).expect("move");
    doc.insert_text(&ids[2], 1, "!").expect("insert after move");
    assert_eq!(doc.block_plain_text(&ids[2]).expect("read"), "c!");
    doc.delete_block(&ids[1]).expect("delete");
    assert!(doc.block_plain_text(&ids[1]).is_err());
    assert_eq!(
        doc.blocks()
            .iter()
            .map(|b| b.plain_text())
            .collect::<Vec<_>>(),
        vec!["c!", "", "a"],
        "the initial empty paragraph stays"
    );
}

#[test]
fn a_move_names_the_recreated_block() {
    // Found by the convergence test's incremental view: a move re-creates
    // the container under the same id, so a replica that lacked an edit the
    // mover had sees new content under a known id.
    let (a, ids) = doc_with(&["x", "y"]);
    let c = Document::from_update_v1(&a.encode_state_v1()).expect("load");
    a.insert_text(&ids[0], 1, "a").expect("insert");
    let before_move = a.state_vector_v1();
    a.move_block(&ids[0], &Placement::End).expect("move");
    let seen = watched(&c);
    // `c` gets the move only (the insert stays in flight): it still sees the
    // block's new content, and is told which block to re-read.
    let move_only = a.diff_v1(&before_move).expect("diff");
    c.apply_update_v1(&move_only).expect("apply");
    let changes = last(&seen);
    assert!(changes.structure);
    assert!(changes.blocks.contains(&ids[0]), "{changes:?}");
}

#[test]
fn changes_name_the_origin_of_their_transaction() {
    let (doc, ids) = doc_with(&["a"]);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    doc.observe_blocks_with_origin("origins", move |changes, origin| {
        let origin = origin.map(|o| String::from_utf8_lossy(o).into_owned());
        sink.lock().expect("lock").push((changes.blocks, origin));
    });
    let op = Op::InsertText {
        block: ids[0].clone(),
        offset: 1,
        text: "!".into(),
        marks: None,
    };
    doc.apply_ops(std::slice::from_ref(&op), "agent:Résumeur")
        .expect("apply");
    let other = Document::from_update_v1(&doc.encode_state_v1()).expect("load");
    other.insert_text(&ids[0], 0, "x").expect("insert");
    doc.apply_update_v1(&other.diff_v1(&doc.state_vector_v1()).expect("diff"))
        .expect("remote");
    assert!(doc.unobserve_blocks("origins"));
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].0.contains(&ids[0]));
    assert_eq!(seen[0].1.as_deref(), Some("agent:Résumeur"));
    assert_eq!(seen[1].1, None, "a remote update has no origin");
}
