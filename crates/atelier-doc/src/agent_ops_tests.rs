use super::*;
use crate::block::Marks;
use crate::document::Placement;
use serde_json::json;

fn doc_with(texts: &[(&str, &str)]) -> Document {
    let doc = Document::new();
    let blocks: Vec<NewBlock> = texts
        .iter()
        .map(|(id, text)| NewBlock {
            id: Some(BlockId::from(*id)),
            ..NewBlock::paragraph(text)
        })
        .collect();
    doc.insert_blocks(&Placement::End, &blocks)
        .expect("inserts");
    doc
}

fn ops(v: serde_json::Value) -> Vec<Op> {
    serde_json::from_value(v).expect("valid ops")
}

#[test]
fn a_batch_with_one_bad_operation_changes_nothing_and_names_it() {
    let doc = doc_with(&[("a", "Bonjour"), ("b", "monde")]);
    let before = doc.encode_state_v1();
    let batch = ops(json!([
        {"op": "insertText", "block": "a", "offset": 7, "text": " à tous"},
        {"op": "deleteText", "block": "b", "offset": 3, "len": 40},
    ]));
    let err = doc
        .apply_ops_atomically(&batch, "agent")
        .expect_err("out of range");
    assert_eq!((err.index, err.op), (1, "deleteText"));
    assert!(err.message.contains("out of range"), "{err}");
    assert!(doc.encode_state_v1() == before, "nothing applied");
    // Each kind of mistake is named.
    let cases = [
        (json!([{"op": "deleteBlock", "block": "nope"}]), "no block"),
        (
            json!([{"op": "insertBlocks", "at": {"at": "end"}, "blocks": [{"type": "alert"}]}]),
            "not a BlockNote block type",
        ),
        (
            json!([{"op": "updateBlock", "block": "a", "type": "table"}]),
            "not a block type an operation can turn",
        ),
        (
            json!([{"op": "updateBlock", "block": "a", "type": "heading", "props": {"level": "1"}}]),
            "must be a number",
        ),
        (
            json!([{"op": "updateBlock", "block": "a", "props": {"onclick": "x"}}]),
            "has no prop \"onclick\"",
        ),
        (
            json!([{"op": "updateBlock", "block": "a", "type": "heading", "props": {"level": 9}}]),
            "1 to 6",
        ),
    ];
    for (batch, expected) in cases {
        let err = doc
            .apply_ops_atomically(&ops(batch.clone()), "agent")
            .expect_err("refused");
        assert!(err.message.contains(expected), "{batch}: {err}");
        assert!(
            doc.encode_state_v1() == before,
            "{batch} changed the document"
        );
    }
}

#[test]
fn an_oversized_batch_is_refused_before_it_runs() {
    let doc = doc_with(&[("a", "x")]);
    let big = "é".repeat(MAX_BATCH_TEXT_BYTES / 2 + 1);
    let err = doc
        .apply_ops_atomically(
            &[Op::InsertText {
                block: "a".into(),
                offset: 0,
                text: big,
                marks: None,
            }],
            "agent",
        )
        .expect_err("too large");
    assert!(err.message.contains("too large"), "{err}");
    let many = vec![Op::DeleteBlock { block: "a".into() }; MAX_BATCH_OPS + 1];
    assert!(doc.apply_ops_atomically(&many, "agent").is_err());
}

#[test]
fn a_good_batch_applies_as_one_transaction() {
    let doc = doc_with(&[("a", "Bonjour"), ("b", "monde")]);
    let batch = ops(json!([
        {"op": "insertText", "block": "a", "offset": 7, "text": " à tous"},
        {"op": "format", "block": "a", "offset": 0, "len": 7, "mark": "bold", "on": true},
        {"op": "updateBlock", "block": "b", "type": "heading", "props": {"level": 2}},
        {"op": "insertBlocks", "at": {"at": "after", "block": "b"},
         "blocks": [{"type": "checkListItem", "props": {"checked": true}, "content": [{"text": "fait"}]}]},
    ]));
    let outcomes = doc.apply_ops_atomically(&batch, "agent").expect("applies");
    assert!(matches!(outcomes[3], OpOutcome::Created { ref ids } if ids.len() == 1));
    let blocks = doc.blocks();
    assert_eq!(blocks[0].plain_text(), "Bonjour à tous");
    assert_eq!(blocks[0].content[0].marks, Marks::bold());
    assert_eq!(blocks[1].kind, "heading");
    assert_eq!(blocks[2].prop_bool("checked"), Some(true));
}

#[test]
fn try_ops_returns_the_update_a_server_stores() {
    let doc = doc_with(&[("a", "un")]);
    let (update, _) = doc
        .try_ops(
            &ops(json!([{"op": "insertText", "block": "a", "offset": 2, "text": " deux"}])),
            424_242,
        )
        .expect("applies to the copy");
    // The original is untouched until the update is applied to it.
    assert_eq!(doc.blocks()[0].plain_text(), "un");
    doc.apply_update_v1(&update).expect("applies");
    assert_eq!(doc.blocks()[0].plain_text(), "un deux");
}

#[cfg(feature = "schema")]
#[test]
fn the_published_schema_names_every_operation() {
    let schema = operations_schema().to_string();
    for op in [
        "insertText",
        "deleteText",
        "format",
        "setContent",
        "updateBlock",
        "insertBlocks",
        "deleteBlock",
        "moveBlock",
        "splitBlock",
        "mergeWithPrevious",
        "indentBlock",
        "outdentBlock",
    ] {
        assert!(
            schema.contains(&format!("\"{op}\"")),
            "{op} missing from {schema}"
        );
    }
    for field in [
        "\"offset\"",
        "\"blocks\"",
        "\"lastChildOf\"",
        "\"mark\"",
        "\"children\"",
    ] {
        assert!(schema.contains(field), "{field} missing");
    }
}

#[test]
fn a_javascript_link_in_set_content_or_inserted_blocks_is_refused() {
    // Found by the `agent_ops` fuzz target: `setContent` stored it.
    let doc = doc_with(&[("a", "Bonjour")]);
    let before = doc.encode_state_v1();
    for batch in [
        json!([{"op": "setContent", "block": "a",
            "content": [{"text": "x", "marks": {"link": "javascript:alert(1)"}}]}]),
        json!([{"op": "insertBlocks", "at": {"at": "end"}, "blocks": [{"type": "paragraph",
            "content": [{"text": "x", "marks": {"link": " JaVaScRiPt:alert(1)"}}]}]}]),
    ] {
        let err = doc
            .apply_ops_atomically(&ops(batch), "agent")
            .expect_err("an unsafe link is refused");
        assert!(err.message.contains("not an http"), "{}", err.message);
    }
    assert_eq!(doc.encode_state_v1(), before, "nothing was applied");
}
