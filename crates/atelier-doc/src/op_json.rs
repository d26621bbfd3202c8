//! Reading a batch of [`Op`]s from JSON by hand, over [`serde_json::Value`],
//! naming the operation that cannot be read.
//!
//! The derived `Deserialize` reads the same form, but its generated code
//! (and the Debug formatting of strings its error messages pull in) would
//! weigh on the editor's wasm, where in-page agents send their batches
//! (`<atelier-editor>`'s `applyOperations`); the block and run readers are
//! [`crate::block_json`]'s. The test below keeps both readers equal.

use crate::agent_ops::BatchError;
use crate::block::{BlockId, NewBlock};
use crate::block_json::{block, list, marks, object, run};
use crate::document::Placement;
use crate::error::{Error, Result};
use crate::inline::Mark;
use crate::ops::Op;
use serde_json::{Map, Value};

/// The operations' kinds, as their JSON `op` field names them.
const KINDS: &[&str] = &[
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
];

/// Reads a JSON array of operations (the derived serde form of
/// `Vec<Op>`); an unreadable one is refused by its position and kind, as
/// [`Document::apply_ops_atomically`](crate::Document::apply_ops_atomically)
/// refuses an invalid one.
pub fn ops_from_json(json: &str) -> std::result::Result<Vec<Op>, BatchError> {
    let refused =
        |index: usize, op: &'static str, message: String| BatchError { index, op, message };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| refused(0, "none", format!("the batch is not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(refused(0, "none", "the batch is not a JSON array".into()));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            op_from_value(item).map_err(|e| {
                let kind = item.get("op").and_then(Value::as_str);
                let kind = KINDS
                    .iter()
                    .find(|k| Some(**k) == kind)
                    .map_or("unknown", |k| k);
                refused(index, kind, e.to_string())
            })
        })
        .collect()
}

fn bad(what: &str) -> Error {
    Error::InvalidOperation(format!("unreadable operation: {what}"))
}

/// Reads one operation.
pub fn op_from_value(v: &Value) -> Result<Op> {
    let o = object(v, "an operation")?;
    let kind = match o.get("op") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(bad("no string \"op\" field")),
    };
    let block = || -> Result<BlockId> { string(o, "block").map(BlockId) };
    Ok(match kind {
        "insertText" => Op::InsertText {
            block: block()?,
            offset: number(o, "offset")?,
            text: string(o, "text")?,
            marks: match o.get("marks") {
                None | Some(Value::Null) => None,
                Some(m) => Some(marks(m)?),
            },
        },
        "deleteText" => Op::DeleteText {
            block: block()?,
            offset: number(o, "offset")?,
            len: number(o, "len")?,
        },
        "format" => Op::Format {
            block: block()?,
            offset: number(o, "offset")?,
            len: number(o, "len")?,
            mark: mark(o)?,
            on: match o.get("on") {
                Some(Value::Bool(b)) => *b,
                _ => return Err(bad("\"on\" must be a boolean")),
            },
        },
        "setContent" => Op::SetContent {
            block: block()?,
            content: list(required(o, "content")?, "content", run)?,
        },
        "updateBlock" => Op::UpdateBlock {
            block: block()?,
            kind: match o.get("type") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad("\"type\" must be a string")),
            },
            props: match o.get("props") {
                None => Map::new(),
                Some(p) => object(p, "props")?.clone(),
            },
        },
        "insertBlocks" => Op::InsertBlocks {
            at: placement(required(o, "at")?)?,
            blocks: list::<NewBlock>(required(o, "blocks")?, "blocks", block_of)?,
        },
        "deleteBlock" => Op::DeleteBlock { block: block()? },
        "moveBlock" => Op::MoveBlock {
            block: block()?,
            to: placement(required(o, "to")?)?,
        },
        "splitBlock" => Op::SplitBlock {
            block: block()?,
            offset: number(o, "offset")?,
        },
        "mergeWithPrevious" => Op::MergeWithPrevious { block: block()? },
        "indentBlock" => Op::IndentBlock { block: block()? },
        "outdentBlock" => Op::OutdentBlock { block: block()? },
        other => {
            return Err(bad(&format!(
                "unknown op \"{other}\"; use one of {}",
                KINDS.join(", ")
            )));
        }
    })
}

fn block_of(v: &Value) -> Result<NewBlock> {
    block(v)
}

fn required<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a Value> {
    o.get(key)
        .ok_or_else(|| bad(&format!("missing field \"{key}\"")))
}

fn string(o: &Map<String, Value>, key: &str) -> Result<String> {
    match required(o, key)? {
        Value::String(s) => Ok(s.clone()),
        _ => Err(bad(&format!("\"{key}\" must be a string"))),
    }
}

/// A UTF-16 offset or length: a whole number from 0 to 2^32 - 1.
fn number(o: &Map<String, Value>, key: &str) -> Result<u32> {
    required(o, key)?
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            bad(&format!(
                "\"{key}\" must be a whole number from 0 to 4294967295"
            ))
        })
}

/// A [`Placement`]: `{"at": "start" | "end"}` or `{"at": "before" |
/// "after" | "firstChildOf" | "lastChildOf", "block": ID}`.
fn placement(v: &Value) -> Result<Placement> {
    let o = object(v, "a placement")?;
    let at = match o.get("at") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(bad("a placement has no string \"at\"")),
    };
    let block = || string(o, "block").map(BlockId);
    Ok(match at {
        "start" => Placement::Start,
        "end" => Placement::End,
        "before" => Placement::Before(block()?),
        "after" => Placement::After(block()?),
        "firstChildOf" => Placement::FirstChildOf(block()?),
        "lastChildOf" => Placement::LastChildOf(block()?),
        other => {
            return Err(bad(&format!(
                "unknown placement \"{other}\"; use start, end, before, after, firstChildOf or lastChildOf"
            )));
        }
    })
}

/// A [`Mark`] of a `format` operation: `mark`, and `value` for the marks
/// that carry one.
fn mark(o: &Map<String, Value>) -> Result<Mark> {
    let name = string(o, "mark")?;
    let value = || string(o, "value");
    Ok(match name.as_str() {
        "bold" => Mark::Bold,
        "italic" => Mark::Italic,
        "underline" => Mark::Underline,
        "strike" => Mark::Strike,
        "code" => Mark::Code,
        "textColor" => Mark::TextColor(value()?),
        "backgroundColor" => Mark::BackgroundColor(value()?),
        "link" => Mark::Link(value()?),
        other => {
            return Err(bad(&format!(
                "unknown mark \"{other}\"; use bold, italic, underline, strike, code, textColor, backgroundColor or link"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_reader_equals_the_derived_one() {
        let ops = [
            r#"{"op":"insertText","block":"a","offset":3,"text":"hé"}"#,
            r#"{"op":"insertText","block":"a","offset":0,"text":"x","marks":{"bold":true,"link":"https://e.eu"}}"#,
            r#"{"op":"insertText","block":"a","offset":0,"text":"x","marks":null}"#,
            r#"{"op":"deleteText","block":"a","offset":1,"len":2,"extra":true}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"bold","on":true}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"link","value":"https://e.eu","on":false}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"textColor","value":"red","on":true}"#,
            r#"{"op":"setContent","block":"a","content":[{"text":"t","marks":{"italic":true}}]}"#,
            r#"{"op":"updateBlock","block":"a","type":"heading","props":{"level":2}}"#,
            r#"{"op":"updateBlock","block":"a"}"#,
            r#"{"op":"updateBlock","block":"a","type":null}"#,
            r#"{"op":"insertBlocks","at":{"at":"after","block":"a"},"blocks":[{"type":"paragraph","content":[{"text":"p"}],"children":[{"type":"quote"}]}]}"#,
            r#"{"op":"insertBlocks","at":{"at":"start"},"blocks":[]}"#,
            r#"{"op":"insertBlocks","at":{"at":"end"},"blocks":[{"type":"table","table":[[[{"text":"c"}]]]}]}"#,
            r#"{"op":"deleteBlock","block":"a"}"#,
            r#"{"op":"moveBlock","block":"a","to":{"at":"lastChildOf","block":"b"}}"#,
            r#"{"op":"moveBlock","block":"a","to":{"at":"firstChildOf","block":"b"}}"#,
            r#"{"op":"moveBlock","block":"a","to":{"at":"before","block":"b"}}"#,
            r#"{"op":"splitBlock","block":"a","offset":4294967295}"#,
            r#"{"op":"mergeWithPrevious","block":"a"}"#,
            r#"{"op":"indentBlock","block":"a"}"#,
            r#"{"op":"outdentBlock","block":"a"}"#,
            // Malformed: both refuse.
            r#"{"op":"insertText","block":"a","offset":-1,"text":"x"}"#,
            r#"{"op":"insertText","block":"a","offset":1.5,"text":"x"}"#,
            r#"{"op":"insertText","block":"a","offset":4294967296,"text":"x"}"#,
            r#"{"op":"insertText","block":"a","offset":"1","text":"x"}"#,
            r#"{"op":"insertText","block":"a","offset":1}"#,
            r#"{"op":"insertText","block":3,"offset":1,"text":"x"}"#,
            r#"{"op":"insertText","block":"a","offset":1,"text":"x","marks":{"bold":1}}"#,
            r#"{"op":"deleteText","block":"a","offset":1}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"bold"}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"link","on":true}"#,
            r#"{"op":"format","block":"a","offset":0,"len":2,"mark":"blink","on":true}"#,
            r#"{"op":"setContent","block":"a"}"#,
            r#"{"op":"setContent","block":"a","content":[{"text":1}]}"#,
            r#"{"op":"updateBlock","block":"a","type":3}"#,
            r#"{"op":"updateBlock","block":"a","props":null}"#,
            r#"{"op":"insertBlocks","at":{"at":"after"},"blocks":[]}"#,
            r#"{"op":"insertBlocks","at":{"at":"nowhere","block":"a"},"blocks":[]}"#,
            r#"{"op":"insertBlocks","at":"end","blocks":[]}"#,
            r#"{"op":"insertBlocks","at":{"at":"end"}}"#,
            r#"{"op":"insertBlocks","at":{"at":"end"},"blocks":[{"props":{}}]}"#,
            r#"{"op":"moveBlock","block":"a"}"#,
            r#"{"op":"explode","block":"a"}"#,
            r#"{"block":"a"}"#,
            r#""insertText""#,
        ];
        for op in ops {
            let derived = serde_json::from_str::<Op>(op).ok();
            let value: Value = serde_json::from_str(op).expect("test JSON");
            let hand = op_from_value(&value).ok();
            assert_eq!(hand, derived, "{op}");
        }
        let batch = format!("[{}]", ops[..22].join(","));
        assert_eq!(
            ops_from_json(&batch).expect("reads"),
            serde_json::from_str::<Vec<Op>>(&batch).expect("derived reads")
        );
    }

    #[test]
    fn an_unreadable_operation_is_named_by_its_position_and_kind() {
        let err =
            ops_from_json(r#"[{"op":"deleteBlock","block":"a"},{"op":"insertText","block":"a"}]"#)
                .expect_err("no offset");
        assert_eq!((err.index, err.op), (1, "insertText"));
        assert!(err.message.contains("\"offset\""), "{}", err.message);
        let err = ops_from_json(r#"[{"op":"explode"}]"#).expect_err("unknown op");
        assert_eq!((err.index, err.op), (0, "unknown"));
        assert!(
            err.message.contains("deleteBlock"),
            "lists the kinds: {}",
            err.message
        );
        let err = ops_from_json(r#"{"op":"deleteBlock"}"#).expect_err("not an array");
        assert_eq!((err.index, err.op), (0, "none"));
        assert!(ops_from_json("[").is_err());
        assert_eq!(ops_from_json("[]").expect("empty batch"), []);
    }
}
