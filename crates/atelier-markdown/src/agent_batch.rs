//! What in-page agents need that typing never does: the document read with
//! its block ids, and a batch of operations checked and run on a copy.
//!
//! `<atelier-editor>`'s `applyOperations` passes the editor's document
//! state and the batch here; [`try_operations`] reads the batch
//! (`atelier_doc::op_json`), checks it against BlockNote's schema and runs
//! it all or nothing on a copy written by the editor's own client id
//! (`Document::try_ops`), and returns the update it makes, which the
//! editor applies as the agent (`EditorCore::apply_agent_update`). The
//! checks, the operations' JSON reader and the block serializer so stay
//! out of the editor's first download, like the Markdown parser.

use atelier_doc::{BatchError, Document};
use serde_json::json;
use wasm_bindgen::prelude::*;

/// A batch checked and run on a copy of the document.
#[wasm_bindgen(getter_with_clone)]
pub struct CheckedBatch {
    /// The Yjs v1 update the batch makes (empty when refused).
    pub update: Vec<u8>,
    /// JSON: `{"outcomes": [...], "caret": {"block", "offset"} | null}`,
    /// or `{"error": {"index", "op", "message"}}` naming the first refused
    /// operation.
    pub result: String,
}

/// Checks `ops_json` (a JSON array of `atelier_doc::Op`) against the
/// document whose full state is `state` and runs it on a copy written by
/// `client_id` (the editor document's own).
#[wasm_bindgen(js_name = tryOperations)]
pub fn try_operations(state: &[u8], ops_json: &str, client_id: f64) -> CheckedBatch {
    let (update, result) = match checked(state, ops_json, client_id as u64) {
        Ok(done) => done,
        Err(e) => (Vec::new(), json!({ "error": e })),
    };
    // Not `Value::to_string`: its `Display` links core's Unicode tables.
    let result = serde_json::to_string(&result).unwrap_or_default();
    CheckedBatch { update, result }
}

/// [`try_operations`] outside wasm: the update and the result's JSON.
pub fn checked(
    state: &[u8],
    ops_json: &str,
    client_id: u64,
) -> Result<(Vec<u8>, serde_json::Value), BatchError> {
    let ops = atelier_doc::op_json::ops_from_json(ops_json)?;
    let refused = |message: String| BatchError {
        index: 0,
        op: ops.first().map_or("none", atelier_doc::Op::name),
        message,
    };
    let doc = Document::from_update_v1(state)
        .map_err(|e| refused(format!("cannot read the document: {e}")))?;
    let (update, outcomes) = doc.try_ops(&ops, client_id)?;
    // Where the agent's caret goes, read on the document as the batch leaves it.
    doc.apply_update_v1(&update)
        .map_err(|e| refused(format!("cannot apply the batch's update: {e}")))?;
    let caret = atelier_doc::agent_ops::caret_after(&doc, &ops, &outcomes)
        .map(|(block, offset)| json!({ "block": block, "offset": offset }));
    Ok((update, json!({ "outcomes": outcomes, "caret": caret })))
}

/// The document whose full state is `state` with its block ids: `blocks`
/// (a JSON array of blocks) or `markdown` (Markdown with each block's id
/// in an HTML comment an agent can quote back).
#[wasm_bindgen(js_name = documentAs)]
pub fn document_as(state: &[u8], format: &str) -> Result<String, JsError> {
    export(state, format).map_err(|e| JsError::new(&e))
}

/// [`document_as`] outside wasm.
pub fn export(state: &[u8], format: &str) -> Result<String, String> {
    let doc = Document::from_update_v1(state).map_err(|e| e.to_string())?;
    match format {
        "blocks" => serde_json::to_string(&doc.blocks()).map_err(|e| e.to_string()),
        "markdown" => Ok(atelier_doc::markdown::export_with_ids(&doc.blocks())),
        other => Err(format!(
            "unknown format \"{other}\": use \"blocks\" or \"markdown\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_with(md: &str) -> (Document, Vec<u8>) {
        let doc = Document::with_client_id(41);
        atelier_doc::markdown::import(&doc, md).expect("imports");
        let state = doc.encode_state_v1();
        (doc, state)
    }

    #[test]
    fn a_batch_run_here_applies_in_the_editor_as_written() {
        let (doc, state) = doc_with("Bonjour\n");
        let id = doc.block_ids()[0].clone();
        let ops = format!(
            r#"[{{"op":"insertText","block":"{id}","offset":7,"text":" à tous"}},
               {{"op":"insertBlocks","at":{{"at":"after","block":"{id}"}},"blocks":[{{"type":"heading","props":{{"level":2}},"content":[{{"text":"Suite"}}]}}]}}]"#
        );
        let (update, result) = checked(&state, &ops, 41).expect("accepted");
        assert_eq!(result["outcomes"][1]["kind"], "created", "{result}");
        let created = result["outcomes"][1]["ids"][0].as_str().expect("an id");
        assert_eq!(result["caret"], json!({"block": created, "offset": 5}));
        doc.apply_update_v1(&update).expect("applies");
        assert_eq!(
            atelier_doc::markdown::export(&doc.blocks()),
            "Bonjour à tous\n\n## Suite\n"
        );
        // Written by the editor's own client id, as its own typing is.
        let copy = Document::from_update_v1(&doc.encode_state_v1()).expect("copy");
        assert_eq!(copy.blocks(), doc.blocks());
    }

    #[test]
    fn a_refused_batch_names_its_operation_and_makes_no_update() {
        let (doc, state) = doc_with("un\n");
        let id = doc.block_ids()[0].clone();
        let ops = format!(
            r#"[{{"op":"insertText","block":"{id}","offset":2,"text":"!"}},{{"op":"deleteBlock","block":"nope"}}]"#
        );
        let err = checked(&state, &ops, 41).expect_err("unknown block");
        assert_eq!((err.index, err.op), (1, "deleteBlock"));
        let batch = try_operations(&state, &ops, 41.0);
        assert!(batch.update.is_empty());
        let result: serde_json::Value = serde_json::from_str(&batch.result).expect("json");
        assert_eq!(result["error"]["index"], 1, "{result}");
        assert_eq!(result["error"]["op"], "deleteBlock");
        let err = checked(&state, r#"[{"op":"insertText"}]"#, 41).expect_err("unreadable");
        assert_eq!((err.index, err.op), (0, "insertText"));
        assert!(checked(b"\xff", "[]", 41).is_err(), "an unreadable state");
    }

    #[test]
    fn the_document_reads_with_its_ids() {
        let (doc, state) = doc_with("# Titre\n\ntexte\n");
        let ids = doc.block_ids();
        let blocks: serde_json::Value =
            serde_json::from_str(&export(&state, "blocks").expect("blocks")).expect("json");
        assert_eq!(blocks[0]["id"], ids[0].as_str());
        assert_eq!(blocks[1]["content"][0]["text"], "texte");
        let md = export(&state, "markdown").expect("markdown");
        assert_eq!(
            md,
            format!(
                "# Titre <!-- id:{} -->\n\ntexte <!-- id:{} -->\n",
                ids[0], ids[1]
            )
        );
        assert!(export(&state, "html").is_err());
    }
}
