//! What one run asks and how its answer will be used, decided before the
//! request leaves: the action's target (the selection, the caret, the
//! document), the text sent, and the shape of the edit an answer becomes.
//!
//! Two ways of editing, one per kind of action:
//!
//! - **The answer is the new text** (Atelier mode, actions whose target
//!   is fixed: the selection actions, continue, summarize, action items).
//!   The request is [`atelier_ai::prompts::action_request`] (the shared
//!   system prompt the embedded model keeps computed, then the text alone);
//!   the pane builds the edit itself ([`crate::target`]).
//! - **The model edits through the tool** (a free prompt in Atelier
//!   mode, everything in Docs mode): the blocks are listed with their ids,
//!   `applyDocumentOperations` is offered, and the answer goes through
//!   [`atelier_ai::doc_tool::interpret`]; an answer in prose is offered as
//!   prose (or, for a selection action, replaces the selection).
//!
//! Either way the edit is previewed and applied only on *Accept*, against
//! a copy of the document taken at request time ([`Plan::at_request`]),
//! so the preview shows what the model was asked about, and a block
//! someone changed meanwhile is dropped (see [`crate::proposal`]).

use crate::proposal::Snapshot;
use crate::target::{TargetError, TextPos, TextRange, flatten, selected_text, whole_block};
use atelier_ai::doc_tool::{BlockIndex, ModelBlock, model_blocks};
use atelier_ai::prompts::Action;
use atelier_doc::{BlockId, Document};

/// Where the pane sends its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Atelier's OpenAI-compatible endpoint (`POST /ai/v1/chat/completions`).
    #[default]
    Atelier,
    /// La Suite Docs' own endpoint (`POST /api/v1.0/documents/{id}/ai-proxy/`).
    Docs,
}

impl Mode {
    /// Reads the `mode` attribute (`docs`; anything else is Atelier).
    pub fn from_attribute(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("docs") => Mode::Docs,
            _ => Mode::Atelier,
        }
    }
}

/// How the answer becomes an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// The answer's text replaces the selection.
    ReplaceSelection(TextRange),
    /// The answer's text continues the text at the caret.
    ContinueAt(TextPos),
    /// The answer is shown; the user may insert it below this block (the
    /// end of the document when `None`), as a check list for action items.
    InsertBelow {
        /// The block it goes below.
        after: Option<BlockId>,
        /// List lines become check-list items.
        checklist: bool,
    },
    /// The model may call the document tool; prose is offered to insert
    /// below `after` or, with a selection, to replace it; a selection
    /// action's prose replaces the selection at once.
    Tool {
        /// The user's selection, if not collapsed.
        selection: Option<TextRange>,
        /// Where prose is inserted.
        after: Option<BlockId>,
        /// Prose replaces the selection without asking (selection actions).
        prose_replaces: bool,
    },
}

/// Why an action cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A selection action with neither a selection nor a caret.
    #[error("nothing is selected")]
    NoSelection,
    /// A document action on an empty document.
    #[error("the document is empty")]
    EmptyDocument,
    /// The selection names a block the document does not have.
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Most characters of document text sent with an action (the embedded
/// model reads 4,096 tokens at most; a summary of a long document reads
/// its start, a continuation what precedes the caret).
pub const MAX_INPUT_CHARS: usize = 12_000;

/// One run, decided.
#[derive(Debug)]
pub struct Plan {
    /// The action.
    pub action: Action,
    /// The text the action works on (the selection, the document…).
    pub input: String,
    /// How the answer becomes an edit.
    pub shape: Shape,
    /// The document as it was when the request left.
    pub at_request: Document,
    /// Its blocks, to tell at Accept which ones changed since.
    pub snapshot: Snapshot,
    /// Its blocks' ids and types, for the tool's review.
    pub index: BlockIndex,
    /// Its blocks as the model is shown them (tool requests only).
    pub blocks: Vec<ModelBlock>,
}

fn is_selection_action(a: &Action) -> bool {
    matches!(
        a,
        Action::Improve
            | Action::FixSpelling
            | Action::Simplify
            | Action::Shorten
            | Action::Rephrase
            | Action::Translate(_)
            | Action::TranslateTo(_)
    )
}

fn head_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn tail_chars(s: &str, n: usize) -> String {
    let count = s.chars().count();
    s.chars().skip(count.saturating_sub(n)).collect()
}

/// Decides a run of `action` in `doc` with the user's `selection` (or
/// caret), for `mode`.
pub fn plan(
    doc: &Document,
    action: Action,
    selection: Option<TextRange>,
    mode: Mode,
) -> Result<Plan, PlanError> {
    // One copy of the document as the request sees it: the preview and
    // every offset below refer to it, whatever happens meanwhile.
    let at_request =
        Document::from_update_v1(&doc.encode_state_v1()).map_err(|_| PlanError::EmptyDocument)?;
    let flat = flatten(&at_request.blocks());
    let doc_text: String = flat
        .iter()
        .map(|f| f.block.plain_text())
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let selection = match selection {
        // A selection in blocks that went away is no selection.
        Some(s) if flat.iter().any(|f| f.block.id == s.head.block) => Some(s),
        _ => None,
    };
    let caret_block = selection.as_ref().map(|s| s.head.block.clone());
    let non_empty = selection.clone().filter(|s| !s.is_collapsed());
    let (input, shape) = if is_selection_action(&action) {
        let range = match (&non_empty, &selection) {
            (Some(r), _) => r.clone(),
            (None, Some(caret)) => whole_block(&at_request, &caret.head.block)?,
            (None, None) => return Err(PlanError::NoSelection),
        };
        let text = selected_text(&at_request, &range)?;
        if text.trim().is_empty() {
            return Err(PlanError::NoSelection);
        }
        let shape = match mode {
            Mode::Atelier => Shape::ReplaceSelection(range),
            Mode::Docs => Shape::Tool {
                after: Some(range.head.block.clone()),
                selection: Some(range),
                prose_replaces: true,
            },
        };
        (text, shape)
    } else {
        match (&action, mode) {
            (Action::Continue, Mode::Atelier) => {
                let caret = match &selection {
                    Some(s) => s.head.clone(),
                    None => {
                        let last = flat.last().ok_or(PlanError::EmptyDocument)?;
                        let len = last.block.plain_text().encode_utf16().count() as u32;
                        TextPos::new(last.block.id.clone(), len)
                    }
                };
                let before = text_before(&flat, &caret);
                if before.trim().is_empty() {
                    return Err(PlanError::EmptyDocument);
                }
                (
                    tail_chars(&before, MAX_INPUT_CHARS),
                    Shape::ContinueAt(caret),
                )
            }
            (Action::Summarize | Action::ActionItems, Mode::Atelier) => {
                let text = match &non_empty {
                    Some(r) => selected_text(&at_request, r)?,
                    None => doc_text.clone(),
                };
                if text.trim().is_empty() {
                    return Err(PlanError::EmptyDocument);
                }
                let after = non_empty
                    .as_ref()
                    .map(|r| later_of(&flat, r))
                    .or(caret_block.clone());
                (
                    head_chars(&text, MAX_INPUT_CHARS),
                    Shape::InsertBelow {
                        after,
                        checklist: action == Action::ActionItems,
                    },
                )
            }
            _ => {
                let selected = match &non_empty {
                    Some(r) => selected_text(&at_request, r)?,
                    None => String::new(),
                };
                let after = non_empty
                    .as_ref()
                    .map(|r| later_of(&flat, r))
                    .or(caret_block.clone());
                (
                    selected,
                    Shape::Tool {
                        selection: non_empty.clone(),
                        after,
                        prose_replaces: false,
                    },
                )
            }
        }
    };
    let blocks = if matches!(shape, Shape::Tool { .. }) {
        model_blocks(&at_request)
    } else {
        Vec::new()
    };
    Ok(Plan {
        snapshot: Snapshot::of_document(&at_request),
        index: BlockIndex::from_document(&at_request),
        action,
        input,
        shape,
        at_request,
        blocks,
    })
}

/// The block of the range that comes last in reading order.
fn later_of(flat: &[crate::target::Flat], r: &TextRange) -> BlockId {
    let pos = |id: &BlockId| flat.iter().position(|f| &f.block.id == id);
    if pos(&r.anchor.block) > pos(&r.head.block) {
        r.anchor.block.clone()
    } else {
        r.head.block.clone()
    }
}

/// The document's text up to the caret.
fn text_before(flat: &[crate::target::Flat], caret: &TextPos) -> String {
    let mut parts = Vec::new();
    for f in flat {
        let text = f.block.plain_text();
        if f.block.id == caret.block {
            let units: Vec<u16> = text.encode_utf16().take(caret.offset as usize).collect();
            parts.push(String::from_utf16_lossy(&units));
            break;
        }
        if !text.trim().is_empty() {
            parts.push(text);
        }
    }
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::markdown;

    fn doc() -> (Document, Vec<BlockId>) {
        let d = Document::new();
        markdown::import(&d, "First block here.\n\nSecond one.\n").expect("md");
        let ids = d.block_ids();
        (d, ids)
    }

    #[test]
    fn selection_actions_send_the_selection_or_the_carets_block() {
        let (d, ids) = doc();
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 6),
            TextPos::new(ids[0].clone(), 11),
        );
        let p = plan(&d, Action::Rephrase, Some(sel.clone()), Mode::Atelier).expect("plan");
        assert_eq!(p.input, "block");
        assert_eq!(p.shape, Shape::ReplaceSelection(sel));
        let caret = TextRange::caret(TextPos::new(ids[1].clone(), 3));
        let p = plan(&d, Action::Shorten, Some(caret), Mode::Atelier).expect("plan");
        assert_eq!(p.input, "Second one.");
        assert_eq!(
            plan(&d, Action::Rephrase, None, Mode::Atelier).err(),
            Some(PlanError::NoSelection)
        );
        // In Docs mode the same action goes through the tool.
        let p = plan(
            &d,
            Action::Rephrase,
            Some(TextRange::caret(TextPos::new(ids[0].clone(), 0))),
            Mode::Docs,
        )
        .expect("plan");
        assert!(matches!(
            p.shape,
            Shape::Tool {
                prose_replaces: true,
                ..
            }
        ));
        assert_eq!(p.blocks.len(), 2);
        assert!(p.blocks[0].id.ends_with('$'));
    }

    #[test]
    fn document_actions_read_the_document_or_what_precedes_the_caret() {
        let (d, ids) = doc();
        let p = plan(&d, Action::Summarize, None, Mode::Atelier).expect("plan");
        assert_eq!(p.input, "First block here.\n\nSecond one.");
        assert_eq!(
            p.shape,
            Shape::InsertBelow {
                after: None,
                checklist: false
            }
        );
        let caret = TextRange::caret(TextPos::new(ids[1].clone(), 6));
        let p = plan(&d, Action::Continue, Some(caret), Mode::Atelier).expect("plan");
        assert_eq!(p.input, "First block here.\n\nSecond");
        assert_eq!(p.shape, Shape::ContinueAt(TextPos::new(ids[1].clone(), 6)));
        let p = plan(
            &d,
            Action::ActionItems,
            Some(TextRange::caret(TextPos::new(ids[0].clone(), 0))),
            Mode::Atelier,
        )
        .expect("plan");
        assert_eq!(
            p.shape,
            Shape::InsertBelow {
                after: Some(ids[0].clone()),
                checklist: true
            }
        );
        let p = plan(
            &d,
            Action::Prompt("Add a title".into()),
            None,
            Mode::Atelier,
        )
        .expect("plan");
        assert!(matches!(
            p.shape,
            Shape::Tool {
                selection: None,
                after: None,
                prose_replaces: false
            }
        ));
        let empty = Document::new();
        assert_eq!(
            plan(&empty, Action::Summarize, None, Mode::Atelier).err(),
            Some(PlanError::EmptyDocument)
        );
    }

    #[test]
    fn the_request_time_copy_does_not_follow_later_edits() {
        let (d, ids) = doc();
        let p = plan(&d, Action::Summarize, None, Mode::Atelier).expect("plan");
        d.insert_text(&ids[0], 0, "Later: ").expect("typing");
        assert_eq!(
            p.at_request.block_plain_text(&ids[0]).expect("block"),
            "First block here."
        );
        assert_eq!(Mode::from_attribute(Some("Docs")), Mode::Docs);
        assert_eq!(Mode::from_attribute(None), Mode::Atelier);
    }
}
