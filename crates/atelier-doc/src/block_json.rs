//! Reading [`NewBlock`]s from JSON by hand, over [`serde_json::Value`].
//!
//! The derived `Deserialize` reads the same form, but its generated code
//! (and the float formatting its error messages pull in) costs the editor's
//! wasm about 14 KB brotli; the browser receives blocks as JSON from the
//! lazily loaded Markdown module through [`new_blocks_from_json`]. The test
//! below keeps both readers equal.

use crate::block::{BlockId, InlineRun, Marks, NewBlock};
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// Reads a JSON array of blocks (the derived serde form of `Vec<NewBlock>`).
pub fn new_blocks_from_json(json: &str) -> Result<Vec<NewBlock>> {
    let v: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    list(&v, "blocks", block)
}

pub(crate) fn bad(what: &str) -> Error {
    Error::Malformed(format!("blocks JSON: {what}"))
}

pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(&format!("{what} is not an object")))
}

/// An array of `item`s; absent means empty (serde `default`).
pub(crate) fn list<T>(v: &Value, what: &str, item: fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    v.as_array()
        .ok_or_else(|| bad(&format!("{what} is not an array")))?
        .iter()
        .map(item)
        .collect()
}

fn field_list<T>(
    o: &Map<String, Value>,
    key: &str,
    item: fn(&Value) -> Result<T>,
) -> Result<Vec<T>> {
    o.get(key).map_or(Ok(Vec::new()), |v| list(v, key, item))
}

/// An optional string: absent or null is `None`.
pub(crate) fn opt_string(o: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(&format!("{key} is not a string"))),
    }
}

/// A boolean that defaults to false when absent.
fn flag(o: &Map<String, Value>, key: &str) -> Result<bool> {
    match o.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(&format!("{key} is not a boolean"))),
    }
}

pub(crate) fn block(v: &Value) -> Result<NewBlock> {
    let o = object(v, "a block")?;
    let kind = match o.get("type") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad("a block has no string type")),
    };
    let props = match o.get("props") {
        None => Map::new(),
        Some(p) => object(p, "props")?.clone(),
    };
    let table = match o.get("table") {
        None | Some(Value::Null) => None,
        Some(rows) => Some(list(rows, "table", |row| {
            list(row, "a table row", |cell| list(cell, "a table cell", run))
        })?),
    };
    Ok(NewBlock {
        id: opt_string(o, "id")?.map(BlockId),
        kind,
        props,
        content: field_list(o, "content", run)?,
        table,
        children: field_list(o, "children", block)?,
    })
}

pub(crate) fn run(v: &Value) -> Result<InlineRun> {
    let o = object(v, "a run")?;
    let text = match o.get("text") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad("a run has no string text")),
    };
    let marks = match o.get("marks") {
        None => Marks::default(),
        Some(m) => marks(m)?,
    };
    Ok(InlineRun { text, marks })
}

pub(crate) fn marks(v: &Value) -> Result<Marks> {
    let o = object(v, "marks")?;
    Ok(Marks {
        bold: flag(o, "bold")?,
        italic: flag(o, "italic")?,
        underline: flag(o, "underline")?,
        strike: flag(o, "strike")?,
        code: flag(o, "code")?,
        text_color: opt_string(o, "textColor")?,
        background_color: opt_string(o, "backgroundColor")?,
        link: opt_string(o, "link")?,
        other: match o.get("other") {
            None => Default::default(),
            Some(m) => object(m, "marks.other")?
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_reader_equals_the_derived_one() {
        let md = "# Titre\n\n- [x] fait\n  - sous **point** _i_ ~~s~~ `c` [l](https://e.eu)\n\n1. un\n2. deux\n\n> cité\n\n```rust\nfn main() {}\n```\n\n---\n\n| a | b |\n|---|---|\n| 1 | **2** |\n";
        let blocks = crate::markdown::parse(md);
        let mut json = serde_json::to_value(&blocks).expect("json");
        // Fields the Markdown import does not write, and ones it may.
        json[0]["id"] = "b1".into();
        json[0]["content"][0]["marks"] = serde_json::json!({
            "textColor": "red", "backgroundColor": null, "other": {"comment--x": {"a": 1}}, "unknown": 3
        });
        json[0]["extra"] = 1.into();
        let cases = [
            json.to_string(),
            "[]".to_owned(),
            r#"[{"type":"paragraph","id":null,"table":null}]"#.to_owned(),
            // Malformed: both refuse.
            r#"[{"type":3}]"#.to_owned(),
            r#"[{"props":{}}]"#.to_owned(),
            r#"[{"type":"p","props":null}]"#.to_owned(),
            r#"[{"type":"p","content":[{"text":1}]}]"#.to_owned(),
            r#"[{"type":"p","content":[{"text":"a","marks":null}]}]"#.to_owned(),
            r#"[{"type":"p","content":[{"text":"a","marks":{"bold":null}}]}]"#.to_owned(),
            r#"[{"type":"p","content":[{"text":"a","marks":{"link":2}}]}]"#.to_owned(),
            r#"[{"type":"p","children":{}}]"#.to_owned(),
            r#"[{"type":"p","table":[[["x"]]]}]"#.to_owned(),
            r#"{"type":"p"}"#.to_owned(),
            "not json".to_owned(),
        ];
        for c in &cases {
            let derived = serde_json::from_str::<Vec<NewBlock>>(c).ok();
            let hand = new_blocks_from_json(c).ok();
            assert_eq!(hand, derived, "{c}");
        }
        assert_eq!(
            new_blocks_from_json(&serde_json::to_string(&blocks).expect("json")).expect("reads"),
            blocks
        );
    }
}
