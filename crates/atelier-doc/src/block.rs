//! The read model: a snapshot of the block tree as plain Rust values.
//!
//! Widgets render from these snapshots and agents receive them as JSON; the
//! CRDT stays the single source of truth and is changed only through
//! [`crate::Op`]s.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use yrs::Any;
use yrs::any::Number;

/// The id of a block (BlockNote's `blockContainer` `id` attribute).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockId(pub String);

impl BlockId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for BlockId {
    fn from(s: &str) -> Self {
        BlockId(s.to_owned())
    }
}

impl From<String> for BlockId {
    fn from(s: String) -> Self {
        BlockId(s)
    }
}

/// Inline styles of a run of text (BlockNote "styles", y-prosemirror marks).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Marks {
    /// Bold.
    #[serde(skip_serializing_if = "is_false")]
    pub bold: bool,
    /// Italic.
    #[serde(skip_serializing_if = "is_false")]
    pub italic: bool,
    /// Underline.
    #[serde(skip_serializing_if = "is_false")]
    pub underline: bool,
    /// Strike-through.
    #[serde(skip_serializing_if = "is_false")]
    pub strike: bool,
    /// Inline code.
    #[serde(skip_serializing_if = "is_false")]
    pub code: bool,
    /// Text colour name (BlockNote colour names such as `red`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// Background colour name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Link target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Marks this model does not know (e.g. `comment--ab12`), by their full
    /// attribute name, kept so they survive edits.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Marks {
    /// No marks at all.
    pub fn is_empty(&self) -> bool {
        *self == Marks::default()
    }

    /// Bold marks only (a convenience for tests and importers).
    pub fn bold() -> Self {
        Marks {
            bold: true,
            ..Default::default()
        }
    }
}

/// A maximal run of text sharing the same marks.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineRun {
    /// The text. A line break inside a block (BlockNote's `hardBreak`) is
    /// `"\n"`; an inline element this model does not know is U+FFFC.
    pub text: String,
    /// The run's styles.
    #[serde(default, skip_serializing_if = "Marks::is_empty")]
    pub marks: Marks,
}

impl InlineRun {
    /// A run without marks.
    pub fn plain(text: impl Into<String>) -> Self {
        InlineRun {
            text: text.into(),
            marks: Marks::default(),
        }
    }

    /// A run with the given marks.
    pub fn styled(text: impl Into<String>, marks: Marks) -> Self {
        InlineRun {
            text: text.into(),
            marks,
        }
    }
}

/// One block of the document, with its nested children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The block's id.
    pub id: BlockId,
    /// The block type (`paragraph`, `heading`, … or an unknown type name).
    #[serde(rename = "type")]
    pub kind: String,
    /// The content node's attributes as JSON values (explicit `undefined`
    /// attributes are left out).
    #[serde(default)]
    pub props: Map<String, Value>,
    /// Inline content; empty for blocks without text (dividers, media, tables).
    #[serde(default)]
    pub content: Vec<InlineRun>,
    /// For tables: rows of cells of inline runs (read-only view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<Vec<Vec<InlineRun>>>>,
    /// Nested blocks.
    #[serde(default)]
    pub children: Vec<Block>,
}

impl Block {
    /// The block's text without marks.
    pub fn plain_text(&self) -> String {
        self.content.iter().map(|r| r.text.as_str()).collect()
    }

    /// A prop as a string, if it is one.
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(Value::as_str)
    }

    /// A prop as a number, if it is one.
    pub fn prop_f64(&self, name: &str) -> Option<f64> {
        self.props.get(name).and_then(Value::as_f64)
    }

    /// A prop as a bool, if it is one.
    pub fn prop_bool(&self, name: &str) -> Option<bool> {
        self.props.get(name).and_then(Value::as_bool)
    }

    /// Visits this block and its descendants depth-first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Block, usize)) {
        fn go<'a>(b: &'a Block, depth: usize, f: &mut impl FnMut(&'a Block, usize)) {
            f(b, depth);
            for c in &b.children {
                go(c, depth + 1, f);
            }
        }
        go(self, 0, f)
    }
}

/// A block to create: like [`Block`] without an id (one is generated unless given).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewBlock {
    /// Optional id to use; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<BlockId>,
    /// Block type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Props to set on top of BlockNote's defaults for this type.
    #[serde(default)]
    pub props: Map<String, Value>,
    /// Inline content.
    #[serde(default)]
    pub content: Vec<InlineRun>,
    /// Table rows (only for `table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<Vec<Vec<InlineRun>>>>,
    /// Nested blocks.
    #[serde(default)]
    pub children: Vec<NewBlock>,
}

impl NewBlock {
    /// A block of `kind` with plain text.
    pub fn text(kind: &str, text: &str) -> Self {
        NewBlock {
            kind: kind.to_owned(),
            content: if text.is_empty() {
                Vec::new()
            } else {
                vec![InlineRun::plain(text)]
            },
            ..Default::default()
        }
    }

    /// A paragraph with plain text.
    pub fn paragraph(text: &str) -> Self {
        Self::text(crate::schema::block_type::PARAGRAPH, text)
    }

    /// Sets a prop and returns the block (builder style).
    pub fn with_prop(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.props.insert(name.to_owned(), value.into());
        self
    }

    /// Adds children and returns the block (builder style).
    pub fn with_children(mut self, children: Vec<NewBlock>) -> Self {
        self.children = children;
        self
    }
}

impl From<&Block> for NewBlock {
    fn from(b: &Block) -> Self {
        NewBlock {
            id: Some(b.id.clone()),
            kind: b.kind.clone(),
            props: b.props.clone(),
            content: b.content.clone(),
            table: b.table.clone(),
            children: b.children.iter().map(NewBlock::from).collect(),
        }
    }
}

/// Converts a yrs value to JSON; `None` for `undefined`.
pub(crate) fn any_to_json(any: &Any) -> Option<Value> {
    Some(match any {
        Any::Undefined => return None,
        Any::Null => Value::Null,
        Any::Bool(b) => Value::Bool(*b),
        Any::Number(Number::Int(n)) => Value::from(*n),
        Any::Number(Number::Float(n)) => number_to_json(*n),
        Any::String(s) => Value::String(s.to_string()),
        Any::Buffer(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Any::Array(a) => Value::Array(a.iter().filter_map(any_to_json).collect()),
        Any::Map(m) => Value::Object(
            m.iter()
                .filter_map(|(k, v)| any_to_json(v).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

fn number_to_json(n: f64) -> Value {
    // Keep integers as integers so `level: 2` reads back as `2`, not `2.0`.
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// Converts JSON to a yrs value with the JSON types BlockNote uses (numbers
/// are always `f64`, as in JavaScript).
pub(crate) fn json_to_any(v: &Value) -> Any {
    match v {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => Any::Number(match n.as_i64() {
            Some(i) => Number::try_i64(i as f64),
            None => Number::try_i64(n.as_f64().unwrap_or(0.0)),
        }),
        Value::String(s) => Any::from(s.as_str()),
        Value::Array(a) => Any::from(a.iter().map(json_to_any).collect::<Vec<_>>()),
        Value::Object(o) => Any::from(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_any(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_stay_integral_in_json() {
        assert_eq!(
            any_to_json(&Any::Number(Number::Float(2.0))),
            Some(Value::from(2))
        );
        assert_eq!(
            any_to_json(&Any::Number(Number::Int(2))),
            Some(Value::from(2))
        );
        assert_eq!(
            any_to_json(&Any::Number(Number::Float(1.5))),
            Some(Value::from(1.5))
        );
        assert_eq!(any_to_json(&Any::Undefined), None);
    }

    #[test]
    fn json_numbers_become_js_numbers() {
        assert_eq!(json_to_any(&Value::from(3)), Any::Number(Number::Int(3)));
    }

    #[test]
    fn marks_serialize_compactly() {
        let m = Marks::bold();
        assert_eq!(
            serde_json::to_string(&m).ok(),
            Some("{\"bold\":true}".into())
        );
    }
}
