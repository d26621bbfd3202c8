//! The document-operation tool a model edits a document through, the way
//! La Suite Docs' AI edits BlockNote: one tool, `applyDocumentOperations`,
//! whose argument is `{"operations": [...]}`, each operation one of
//!
//! ```json
//! {"type": "update", "id": "<block id>$", "block": "<p>one HTML element</p>"}
//! {"type": "add", "referenceId": "<block id>$", "position": "before" | "after",
//!  "blocks": ["<p>one HTML element</p>", "..."]}
//! {"type": "delete", "id": "<block id>$"}
//! ```
//!
//! Block ids are written with a trailing `$` (Docs' convention, so a model
//! copies them whole); ids without it are accepted too. The same schema is
//! offered two ways: [`openai_tool`] for Atelier's OpenAI-compatible
//! endpoint (`tools: [...]`), and [`docs_tool_definitions`] for Docs'
//! endpoint (`toolDefinitions: {...}`).
//!
//! A model's call is untrusted. [`review_tool_call`] checks every
//! argument (types, unknown fields, ids of blocks that exist, one change
//! per block, sizes) and judges each operation on its own: a refused
//! operation says why ([`AiError::InvalidOperation`]), the others stand.
//! HTML bodies enter the document only through
//! [`atelier_doc::html::sanitize_paste`], the paste sanitizer, so markup
//! never reaches the document as markup. [`interpret`] turns a whole
//! answer into a [`Proposal`]: edits, or the model's prose when it
//! answered in words (small models often do; a JSON call written as text
//! is recognised, see [`parse_tool_call_text`]).
//!
//! ```
//! use atelier_ai::doc_tool::{review_tool_call, BlockIndex, ToolLimits};
//! use atelier_doc::{Document, markdown};
//! let doc = Document::new();
//! markdown::import(&doc, "Hello\n").unwrap();
//! let id = doc.blocks()[0].id.clone();
//! let args = format!(r#"{{"operations":[{{"type":"update","id":"{id}$","block":"<p>Bonjour <b>à tous</b></p>"}}]}}"#);
//! let review = review_tool_call(&args, &BlockIndex::from_document(&doc), &ToolLimits::default()).unwrap();
//! assert!(review.refused.is_empty());
//! doc.apply_ops(&review.ops(), "assistant").unwrap();
//! assert_eq!(markdown::export(&doc.blocks()), "Bonjour **à tous**\n");
//! ```

use crate::completion::Completion;
use crate::error::{AiError, OperationProblem, Result};
use crate::openai::{FunctionDef, Tool};
use atelier_doc::schema::{has_inline_content, is_editable};
use atelier_doc::{Block, BlockId, Document, NewBlock, Op, Placement};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The tool's name, as Docs and BlockNote name it.
pub const TOOL_NAME: &str = "applyDocumentOperations";

/// What the tool does, for the model.
pub const TOOL_DESCRIPTION: &str = "Apply operations to the document. Each operation updates a block (replace it by one HTML element), adds blocks (HTML elements) before or after a block, or deletes a block. Use block ids exactly as given, with their trailing $.";

/// The JSON Schema of the tool's arguments.
pub fn operations_schema() -> Value {
    let id = |what: &str| json!({"type": "string", "description": what});
    json!({
        "type": "object",
        "properties": {
            "operations": {
                "type": "array",
                "description": "The changes, applied in order. Empty when nothing needs to change.",
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "description": "Replace a block by a new one.",
                            "properties": {
                                "type": {"type": "string", "enum": ["update"]},
                                "id": id("Id of the block to update, exactly as given (ends with $)."),
                                "block": {"type": "string", "description": "The new block: a single HTML element, such as <p>…</p>, <h2>…</h2> or <ul><li>…</li></ul>."}
                            },
                            "required": ["type", "id", "block"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "description": "Insert new blocks before or after a block.",
                            "properties": {
                                "type": {"type": "string", "enum": ["add"]},
                                "referenceId": id("Id of the block to insert next to, exactly as given (ends with $)."),
                                "position": {"type": "string", "enum": ["before", "after"]},
                                "blocks": {"type": "array", "items": {"type": "string", "description": "A single HTML element."}}
                            },
                            "required": ["type", "referenceId", "position", "blocks"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "description": "Delete a block.",
                            "properties": {
                                "type": {"type": "string", "enum": ["delete"]},
                                "id": id("Id of the block to delete, exactly as given (ends with $).")
                            },
                            "required": ["type", "id"],
                            "additionalProperties": false
                        }
                    ]
                }
            }
        },
        "required": ["operations"],
        "additionalProperties": false
    })
}

/// The tool in OpenAI's `tools` form, for Atelier's endpoint.
pub fn openai_tool() -> Tool {
    Tool {
        kind: "function".into(),
        function: FunctionDef {
            name: TOOL_NAME.into(),
            description: Some(TOOL_DESCRIPTION.into()),
            parameters: Some(operations_schema()),
            strict: None,
        },
    }
}

/// The tool in the `toolDefinitions` form Docs' endpoint reads:
/// `{"applyDocumentOperations": {"description", "inputSchema", "outputSchema"}}`.
pub fn docs_tool_definitions() -> Value {
    json!({
        TOOL_NAME: {
            "description": TOOL_DESCRIPTION,
            "inputSchema": operations_schema(),
            "outputSchema": {"type": "object"}
        }
    })
}

/// Caps on one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolLimits {
    /// Most operations in one call.
    pub max_operations: usize,
    /// Longest HTML body of one block, in bytes.
    pub max_html_bytes: usize,
    /// Most blocks one `add` inserts.
    pub max_blocks_per_add: usize,
    /// Longest block id, in bytes.
    pub max_id_bytes: usize,
}

impl Default for ToolLimits {
    fn default() -> Self {
        ToolLimits {
            max_operations: 64,
            max_html_bytes: 64 << 10,
            max_blocks_per_add: 64,
            max_id_bytes: 128,
        }
    }
}

/// Where `add` inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Before the reference block.
    Before,
    /// After it.
    After,
}

/// One checked operation, as the model wrote it (ids without `$`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum DocOperation {
    /// Replace a block.
    Update {
        /// The block.
        id: BlockId,
        /// Its new HTML.
        block: String,
    },
    /// Insert blocks next to a block.
    Add {
        /// The reference block.
        reference_id: BlockId,
        /// Before or after it.
        position: Position,
        /// The new blocks' HTML.
        blocks: Vec<String>,
    },
    /// Delete a block.
    Delete {
        /// The block.
        id: BlockId,
    },
}

/// The blocks of a document a tool call may name, with their types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockIndex {
    kinds: HashMap<String, String>,
}

impl BlockIndex {
    /// Every block of `doc`, nested ones included.
    pub fn from_document(doc: &Document) -> Self {
        Self::from_blocks(&doc.blocks())
    }

    /// Every block of this tree.
    pub fn from_blocks(blocks: &[Block]) -> Self {
        let mut index = BlockIndex::default();
        let mut stack: Vec<&Block> = blocks.iter().rev().collect();
        while let Some(b) = stack.pop() {
            index.insert(b.id.as_str(), &b.kind);
            stack.extend(b.children.iter().rev());
        }
        index
    }

    /// Adds a block.
    pub fn insert(&mut self, id: &str, kind: &str) {
        self.kinds.insert(id.to_owned(), kind.to_owned());
    }

    /// The type of block `id`, if the document has it.
    pub fn kind(&self, id: &str) -> Option<&str> {
        self.kinds.get(id).map(String::as_str)
    }

    /// How many blocks.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// An accepted operation and the document operations it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedOperation {
    /// Its position in the call's `operations`.
    pub index: usize,
    /// The operation.
    pub operation: DocOperation,
    /// What applying it does to the document, HTML already sanitized.
    pub ops: Vec<Op>,
}

/// A tool call, judged operation by operation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolCallReview {
    /// Operations that may be applied, in order.
    pub accepted: Vec<ReviewedOperation>,
    /// Operations refused, each an [`AiError::InvalidOperation`].
    pub refused: Vec<AiError>,
}

impl ToolCallReview {
    /// The document operations of every accepted operation, in order:
    /// apply them as one batch (`Document::apply_ops(&ops, "assistant")`).
    pub fn ops(&self) -> Vec<Op> {
        self.accepted.iter().flat_map(|r| r.ops.clone()).collect()
    }
}

fn problem(index: usize, problem: OperationProblem) -> AiError {
    AiError::InvalidOperation { index, problem }
}

/// Checks a call's arguments (its JSON text) against the document's
/// blocks and converts the valid operations.
///
/// Fails as a whole only when the arguments are not the tool's shape at
/// all: not JSON, not an object, no `operations` array, too many
/// operations, or fields beside `operations`.
pub fn review_tool_call(
    arguments: &str,
    blocks: &BlockIndex,
    limits: &ToolLimits,
) -> Result<ToolCallReview> {
    let v: Value = serde_json::from_str(arguments)
        .map_err(|e| AiError::InvalidToolCall(format!("the arguments are not JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(AiError::InvalidToolCall(
            "the arguments must be an object {\"operations\": [...]}".into(),
        ));
    };
    if let Some(other) = obj.keys().find(|k| *k != "operations") {
        return Err(AiError::InvalidToolCall(format!(
            "unknown field \"{other}\": the arguments hold only \"operations\""
        )));
    }
    let Some(Value::Array(items)) = obj.get("operations") else {
        return Err(AiError::InvalidToolCall(
            "\"operations\" must be an array".into(),
        ));
    };
    if items.len() > limits.max_operations {
        return Err(AiError::InvalidToolCall(format!(
            "{} operations; at most {} in one call",
            items.len(),
            limits.max_operations
        )));
    }
    let mut review = ToolCallReview::default();
    // Blocks already changed (updated or deleted) by an earlier operation.
    let mut touched: HashMap<String, (usize, bool)> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let checked = check_operation(item, blocks, limits).and_then(|op| {
            claim(&op, index, &mut touched)?;
            let ops = to_ops(&op, blocks)?;
            Ok(ReviewedOperation {
                index,
                operation: op,
                ops,
            })
        });
        match checked {
            Ok(r) => review.accepted.push(r),
            Err(p) => review.refused.push(problem(index, p)),
        }
    }
    Ok(review)
}

/// Records which block an operation changes; refuses a second change of
/// one block, and an insertion next to a block deleted before.
fn claim(
    op: &DocOperation,
    index: usize,
    touched: &mut HashMap<String, (usize, bool)>,
) -> Result<(), OperationProblem> {
    match op {
        DocOperation::Update { id, .. } | DocOperation::Delete { id } => {
            if let Some((first, _)) = touched.get(id.as_str()) {
                return Err(OperationProblem::SameBlockTwice {
                    id: id.to_string(),
                    first: *first,
                });
            }
            let deleted = matches!(op, DocOperation::Delete { .. });
            touched.insert(id.to_string(), (index, deleted));
        }
        DocOperation::Add { reference_id, .. } => {
            if let Some((first, true)) = touched.get(reference_id.as_str()) {
                return Err(OperationProblem::SameBlockTwice {
                    id: reference_id.to_string(),
                    first: *first,
                });
            }
        }
    }
    Ok(())
}

fn check_operation(
    item: &Value,
    blocks: &BlockIndex,
    limits: &ToolLimits,
) -> Result<DocOperation, OperationProblem> {
    let Value::Object(obj) = item else {
        return Err(OperationProblem::NotAnObject);
    };
    let kind = match obj.get("type") {
        None => return Err(OperationProblem::Missing("type")),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(OperationProblem::WrongType {
                field: "type",
                expected: "a string",
            });
        }
    };
    let allowed: &[&str] = match kind {
        "update" => &["type", "id", "block"],
        "add" => &["type", "referenceId", "position", "blocks"],
        "delete" => &["type", "id"],
        other => return Err(OperationProblem::UnknownType(truncated(other))),
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(OperationProblem::UnknownField(truncated(extra)));
    }
    Ok(match kind {
        "update" => DocOperation::Update {
            id: block_id(obj, "id", blocks, limits)?,
            block: html(obj.get("block"), "block", limits)?,
        },
        "add" => {
            let reference_id = block_id(obj, "referenceId", blocks, limits)?;
            let position = match obj.get("position") {
                None => return Err(OperationProblem::Missing("position")),
                Some(Value::String(p)) if p == "before" => Position::Before,
                Some(Value::String(p)) if p == "after" => Position::After,
                Some(Value::String(p)) => return Err(OperationProblem::BadPosition(truncated(p))),
                Some(_) => {
                    return Err(OperationProblem::WrongType {
                        field: "position",
                        expected: "\"before\" or \"after\"",
                    });
                }
            };
            let items = match obj.get("blocks") {
                None => return Err(OperationProblem::Missing("blocks")),
                Some(Value::Array(a)) => a,
                Some(_) => {
                    return Err(OperationProblem::WrongType {
                        field: "blocks",
                        expected: "an array of HTML strings",
                    });
                }
            };
            if items.len() > limits.max_blocks_per_add {
                return Err(OperationProblem::TooLong {
                    field: "blocks",
                    limit: limits.max_blocks_per_add,
                });
            }
            let blocks = items
                .iter()
                .map(|b| html(Some(b), "blocks", limits))
                .collect::<Result<Vec<_>, _>>()?;
            DocOperation::Add {
                reference_id,
                position,
                blocks,
            }
        }
        _ => DocOperation::Delete {
            id: block_id(obj, "id", blocks, limits)?,
        },
    })
}

fn truncated(s: &str) -> String {
    s.chars().take(64).collect()
}

fn block_id(
    obj: &Map<String, Value>,
    field: &'static str,
    blocks: &BlockIndex,
    limits: &ToolLimits,
) -> Result<BlockId, OperationProblem> {
    let raw = match obj.get(field) {
        None => return Err(OperationProblem::Missing(field)),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(OperationProblem::WrongType {
                field,
                expected: "a block id string",
            });
        }
    };
    if raw.len() > limits.max_id_bytes {
        return Err(OperationProblem::TooLong {
            field,
            limit: limits.max_id_bytes,
        });
    }
    let id = raw.trim().strip_suffix('$').unwrap_or(raw.trim());
    if blocks.kind(id).is_none() {
        return Err(OperationProblem::UnknownBlock(truncated(raw)));
    }
    Ok(BlockId::from(id))
}

fn html(
    value: Option<&Value>,
    field: &'static str,
    limits: &ToolLimits,
) -> Result<String, OperationProblem> {
    match value {
        None => Err(OperationProblem::Missing(field)),
        Some(Value::String(s)) if s.len() > limits.max_html_bytes => {
            Err(OperationProblem::TooLong {
                field,
                limit: limits.max_html_bytes,
            })
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(OperationProblem::WrongType {
            field,
            expected: "an HTML string",
        }),
    }
}

/// The document operations one checked operation becomes. HTML goes
/// through the paste sanitizer; an update keeps the block (its id, its
/// nested blocks) when both its old and new types are editable text, and
/// replaces it (new blocks after it, then it deleted) otherwise.
fn to_ops(op: &DocOperation, index: &BlockIndex) -> Result<Vec<Op>, OperationProblem> {
    Ok(match op {
        DocOperation::Delete { id } => vec![Op::DeleteBlock { block: id.clone() }],
        DocOperation::Add {
            reference_id,
            position,
            blocks,
        } => {
            let new: Vec<NewBlock> = blocks
                .iter()
                .flat_map(|h| atelier_doc::html::sanitize_paste(h))
                .collect();
            if new.is_empty() {
                return Err(OperationProblem::EmptyHtml);
            }
            let at = match position {
                Position::Before => Placement::Before(reference_id.clone()),
                Position::After => Placement::After(reference_id.clone()),
            };
            vec![Op::InsertBlocks { at, blocks: new }]
        }
        DocOperation::Update { id, block } => {
            let old_kind = index.kind(id.as_str()).unwrap_or_default();
            let mut new = atelier_doc::html::sanitize_paste(block);
            if new.is_empty() {
                // `<p></p>`: the block is emptied (Docs' prompt has a model
                // fill an empty document by updating its empty block, and
                // empty it the same way).
                if !has_inline_content(old_kind) {
                    return Err(OperationProblem::EmptyHtml);
                }
                return Ok(vec![Op::SetContent {
                    block: id.clone(),
                    content: Vec::new(),
                }]);
            }
            let first = new.remove(0);
            if !(is_editable(old_kind) && is_editable(&first.kind)) {
                new.insert(0, first);
                return Ok(vec![
                    Op::InsertBlocks {
                        at: Placement::After(id.clone()),
                        blocks: new,
                    },
                    Op::DeleteBlock { block: id.clone() },
                ]);
            }
            let mut ops = Vec::new();
            if first.kind != old_kind || !first.props.is_empty() {
                ops.push(Op::UpdateBlock {
                    block: id.clone(),
                    kind: (first.kind != old_kind).then(|| first.kind.clone()),
                    props: first.props.clone(),
                });
            }
            if has_inline_content(&first.kind) {
                ops.push(Op::SetContent {
                    block: id.clone(),
                    content: first.content,
                });
            }
            if !first.children.is_empty() {
                ops.push(Op::InsertBlocks {
                    at: Placement::FirstChildOf(id.clone()),
                    blocks: first.children,
                });
            }
            if !new.is_empty() {
                ops.push(Op::InsertBlocks {
                    at: Placement::After(id.clone()),
                    blocks: new,
                });
            }
            ops
        }
    })
}

/// What a model's answer proposes.
#[derive(Debug, Clone, PartialEq)]
pub enum Proposal {
    /// An answer in words, no edit: offer it as prose.
    Prose(String),
    /// Edits through the tool (and any words beside them).
    Edits {
        /// The judged operations.
        review: ToolCallReview,
        /// Text the model wrote beside the call.
        prose: String,
    },
    /// A tool call that is not the tool's shape; its words, if any, can
    /// still be offered.
    Refused {
        /// Why.
        error: AiError,
        /// Text the model wrote.
        prose: String,
    },
}

/// Reads a finished answer: a call of [`TOOL_NAME`] (a native tool call,
/// or one written as JSON text) becomes [`Proposal::Edits`]; calls of
/// other tools are ignored; otherwise the text is [`Proposal::Prose`].
pub fn interpret(answer: &Completion, blocks: &BlockIndex, limits: &ToolLimits) -> Proposal {
    let call = answer
        .tool_calls
        .iter()
        .find(|c| c.function.name == TOOL_NAME)
        .map(|c| (c.function.arguments.clone(), answer.text.clone()))
        .or_else(|| {
            parse_tool_call_text(&answer.text, &[TOOL_NAME]).map(|(_, args)| (args, String::new()))
        });
    match call {
        None => Proposal::Prose(answer.text.clone()),
        Some((args, prose)) => match review_tool_call(&args, blocks, limits) {
            Ok(review) => Proposal::Edits { review, prose },
            Err(error) => Proposal::Refused { error, prose },
        },
    }
}

/// Finds a tool call written as text, the way small models write one when
/// they have no native tool calls: a JSON object, possibly in a Markdown
/// code fence or between `<tool_call>` tags, that is either the tool's
/// arguments (`{"operations": [...]}`, taken as a call of the first of
/// `tools` named [`TOOL_NAME`]), or `{"name": TOOL, "arguments": {...}}`
/// (also `"parameters"`, and a one-element array of it) naming one of
/// `tools`. Returns the tool's name and its arguments as JSON text. Text
/// around the JSON is allowed only as a fence or tags: prose that merely
/// mentions JSON stays prose.
pub fn parse_tool_call_text(text: &str, tools: &[&str]) -> Option<(String, String)> {
    let mut body = text.trim();
    for (open, close) in [
        ("<tool_call>", "</tool_call>"),
        ("```json", "```"),
        ("```", "```"),
    ] {
        if let Some(inner) = body.strip_prefix(open) {
            body = inner.strip_suffix(close).unwrap_or(inner).trim();
            break;
        }
    }
    if !(body.starts_with('{') || body.starts_with('[')) {
        return None;
    }
    let value: Value = serde_json::from_str(body).ok()?;
    let value = match value {
        Value::Array(mut items) if items.len() == 1 => items.pop()?,
        v => v,
    };
    let obj = value.as_object()?;
    if obj.contains_key("operations") && obj.len() == 1 && tools.contains(&TOOL_NAME) {
        return Some((TOOL_NAME.to_owned(), crate::json_text(&value)));
    }
    let name = obj.get("name")?.as_str()?;
    if !tools.contains(&name) {
        return None;
    }
    let args = obj.get("arguments").or_else(|| obj.get("parameters"))?;
    let args = match args {
        // Some models write the arguments as a JSON string, as the API does.
        Value::String(s) => serde_json::from_str::<Value>(s).ok()?,
        v => v.clone(),
    };
    args.is_object()
        .then(|| (name.to_owned(), crate::json_text(&args)))
}

/// A block as a model sees it: its id with the trailing `$` and the block
/// alone as HTML (nested blocks are listed after it, each on its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelBlock {
    /// `<id>$`.
    pub id: String,
    /// The block as one HTML element.
    pub block: String,
}

/// Every block of `doc` in reading order, as a model is shown them (the
/// `blocks` of Docs' document state, and what Atelier's prompts list).
pub fn model_blocks(doc: &Document) -> Vec<ModelBlock> {
    let mut out = Vec::new();
    let blocks = doc.blocks();
    let mut stack: Vec<&Block> = blocks.iter().rev().collect();
    while let Some(b) = stack.pop() {
        let alone = Block {
            children: Vec::new(),
            ..b.clone()
        };
        out.push(ModelBlock {
            id: format!("{}$", b.id),
            block: atelier_doc::html::export(std::slice::from_ref(&alone)),
        });
        stack.extend(b.children.iter().rev());
    }
    out
}

#[cfg(test)]
#[path = "doc_tool_tests.rs"]
mod tests;
