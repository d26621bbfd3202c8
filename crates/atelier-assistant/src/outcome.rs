//! What a finished answer becomes in the pane: edits to review (with
//! their preview), prose the user may insert, or a note saying why there
//! is nothing to use. Everything here works on the plan's request-time
//! copy of the document; nothing touches the shared one.

use crate::plan::{Plan, Shape};
use crate::preview::{BlockPreview, preview};
use crate::proposal::{EditGroup, EditProposal};
use crate::target::{TargetError, TextRange, continue_at, insert_below, replace_selection};
use atelier_ai::Completion;
use atelier_ai::doc_tool::{Proposal, ToolLimits, interpret};
use atelier_doc::BlockId;

/// Why an answer gave nothing to apply, or what to say beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The model answered nothing.
    EmptyAnswer,
    /// The answer changes nothing.
    NoChange,
    /// The tool call is not the tool's shape (the reason).
    RefusedCall(String),
    /// Operations the review refused (their reasons).
    RefusedOperations(Vec<String>),
    /// The edit cannot be applied even to the request-time document.
    PreviewFailed(String),
}

/// Edits waiting for Accept or Reject.
#[derive(Debug, Clone)]
pub struct Review {
    /// The edits and the request-time snapshot.
    pub proposal: EditProposal,
    /// What they change, block by block.
    pub preview: Vec<BlockPreview>,
    /// What to say beside them (refused operations).
    pub note: Option<Note>,
    /// Words the model wrote beside a tool call.
    pub prose: String,
}

/// Prose and what the user may do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProseOffer {
    /// The text.
    pub text: String,
    /// The selection it may replace.
    pub replace: Option<TextRange>,
    /// The block it may go below (`None`: the end of the document).
    pub after: Option<BlockId>,
    /// Its list lines become check-list items.
    pub checklist: bool,
    /// What to say beside it.
    pub note: Option<Note>,
}

/// What an answer becomes.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Edits to review.
    Edits(Review),
    /// Prose to read, insert or use as a replacement.
    Prose(ProseOffer),
    /// Nothing to use.
    Nothing(Note),
}

/// What the user chose to do with prose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProseUse {
    /// Replace the selection.
    Replace,
    /// Insert below.
    InsertBelow,
}

/// The edits of `groups`, previewed on the request-time copy.
pub fn review(plan: &Plan, groups: Vec<EditGroup>, note: Option<Note>, prose: String) -> Outcome {
    let proposal = EditProposal::new(groups, plan.snapshot.clone());
    reviewed(plan, proposal, note, prose)
}

fn reviewed(plan: &Plan, proposal: EditProposal, note: Option<Note>, prose: String) -> Outcome {
    if proposal.is_empty() {
        return Outcome::Nothing(note.unwrap_or(Note::NoChange));
    }
    match preview(&plan.at_request, &proposal.ops()) {
        Ok(blocks) if blocks.is_empty() => Outcome::Nothing(note.unwrap_or(Note::NoChange)),
        Ok(blocks) => Outcome::Edits(Review {
            proposal,
            preview: blocks,
            note,
            prose,
        }),
        Err(e) => Outcome::Nothing(Note::PreviewFailed(e.to_string())),
    }
}

fn target_failed(e: TargetError) -> Outcome {
    match e {
        TargetError::Empty => Outcome::Nothing(Note::EmptyAnswer),
        other => Outcome::Nothing(Note::PreviewFailed(other.to_string())),
    }
}

/// Reads a finished answer for `plan`.
pub fn outcome(plan: &Plan, answer: &Completion) -> Outcome {
    let text = answer.text.trim();
    match &plan.shape {
        Shape::ReplaceSelection(range) => {
            if text.is_empty() {
                return Outcome::Nothing(Note::EmptyAnswer);
            }
            match replace_selection(&plan.at_request, range, text) {
                Ok(g) => review(plan, vec![g], None, String::new()),
                Err(e) => target_failed(e),
            }
        }
        Shape::ContinueAt(caret) => match continue_at(&plan.at_request, caret, text) {
            Ok(g) => review(plan, vec![g], None, String::new()),
            Err(e) => target_failed(e),
        },
        Shape::InsertBelow { after, checklist } => {
            if text.is_empty() {
                return Outcome::Nothing(Note::EmptyAnswer);
            }
            Outcome::Prose(ProseOffer {
                text: text.to_owned(),
                replace: None,
                after: after.clone(),
                checklist: *checklist,
                note: None,
            })
        }
        Shape::Tool {
            selection,
            after,
            prose_replaces,
        } => {
            let offer = |text: &str, note: Option<Note>| {
                if text.trim().is_empty() {
                    return Outcome::Nothing(note.unwrap_or(Note::EmptyAnswer));
                }
                if *prose_replaces && let Some(range) = selection {
                    return match replace_selection(&plan.at_request, range, text.trim()) {
                        Ok(g) => review(plan, vec![g], note, String::new()),
                        Err(e) => target_failed(e),
                    };
                }
                Outcome::Prose(ProseOffer {
                    text: text.trim().to_owned(),
                    replace: selection.clone(),
                    after: after.clone(),
                    checklist: false,
                    note,
                })
            };
            match interpret(answer, &plan.index, &ToolLimits::default()) {
                Proposal::Prose(p) => offer(&p, None),
                Proposal::Refused { error, prose } => {
                    offer(&prose, Some(Note::RefusedCall(error.to_string())))
                }
                Proposal::Edits { review: r, prose } => {
                    let note = (!r.refused.is_empty()).then(|| {
                        Note::RefusedOperations(r.refused.iter().map(ToString::to_string).collect())
                    });
                    if r.accepted.is_empty() {
                        return offer(&prose, note);
                    }
                    let proposal = EditProposal::from_review(&r, plan.snapshot.clone());
                    reviewed(plan, proposal, note, prose)
                }
            }
        }
    }
}

/// What prose becomes when the user picks `how`.
pub fn use_prose(plan: &Plan, offer: &ProseOffer, how: ProseUse) -> Outcome {
    let group = match (how, &offer.replace) {
        (ProseUse::Replace, Some(range)) => replace_selection(&plan.at_request, range, &offer.text),
        _ => insert_below(offer.after.as_ref(), &offer.text, offer.checklist),
    };
    match group {
        Ok(g) => review(plan, vec![g], None, String::new()),
        Err(e) => target_failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Mode, plan};
    use crate::preview::Change;
    use crate::target::{TextPos, TextRange};
    use atelier_ai::openai::{FunctionCall, ToolCall};
    use atelier_ai::prompts::Action;
    use atelier_doc::{Document, markdown};

    fn answer(text: &str) -> Completion {
        Completion {
            text: text.into(),
            finish_reason: Some("stop".into()),
            ..Default::default()
        }
    }

    fn setup() -> (Document, Vec<BlockId>) {
        let d = Document::new();
        markdown::import(&d, "The meeting is on Monday.\n\nOther.\n").expect("md");
        let ids = d.block_ids();
        (d, ids)
    }

    #[test]
    fn a_rephrase_previews_the_replacement_of_the_selection() {
        let (d, ids) = setup();
        let sel = TextRange::new(
            TextPos::new(ids[0].clone(), 0),
            TextPos::new(ids[0].clone(), 25),
        );
        let p = plan(&d, Action::Rephrase, Some(sel), Mode::Atelier).expect("plan");
        let Outcome::Edits(r) = outcome(&p, &answer("  The meeting moves to Tuesday.\n")) else {
            panic!("edits expected");
        };
        assert_eq!(r.preview.len(), 1);
        assert_eq!(r.preview[0].change, Change::Changed);
        assert_eq!(r.preview[0].new_text(), "The meeting moves to Tuesday.");
        assert!(matches!(
            outcome(&p, &answer(" ")),
            Outcome::Nothing(Note::EmptyAnswer)
        ));
        // The same text again changes nothing.
        assert!(matches!(
            outcome(&p, &answer("The meeting is on Monday.")),
            Outcome::Nothing(Note::NoChange)
        ));
    }

    #[test]
    fn a_tool_call_becomes_edits_and_prose_an_offer() {
        let (d, ids) = setup();
        let p = plan(&d, Action::Prompt("Fix".into()), None, Mode::Atelier).expect("plan");
        let mut a = answer("");
        a.tool_calls = vec![ToolCall {
            id: "c".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "applyDocumentOperations".into(),
                arguments: format!(
                    r#"{{"operations":[{{"type":"update","id":"{}$","block":"<p>Other!</p>"}},{{"type":"delete","id":"x$"}}]}}"#,
                    ids[1]
                ),
            },
        }];
        let Outcome::Edits(r) = outcome(&p, &a) else {
            panic!("edits expected");
        };
        assert_eq!(r.preview[0].new_text(), "Other!");
        assert!(matches!(&r.note, Some(Note::RefusedOperations(v)) if v.len() == 1));

        let Outcome::Prose(offer) = outcome(&p, &answer("Here is an idea.")) else {
            panic!("prose expected");
        };
        assert_eq!(offer.after, None);
        let Outcome::Edits(r) = use_prose(&p, &offer, ProseUse::InsertBelow) else {
            panic!("insert expected");
        };
        assert_eq!(r.preview[0].change, Change::Added);

        // A malformed call never becomes an edit.
        let mut bad = answer("");
        bad.tool_calls = vec![ToolCall {
            id: "c".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "applyDocumentOperations".into(),
                arguments: "{\"operations\": 3}".into(),
            },
        }];
        assert!(matches!(
            outcome(&p, &bad),
            Outcome::Nothing(Note::RefusedCall(_))
        ));
    }

    #[test]
    fn docs_selection_actions_replace_the_selection_with_prose() {
        let (d, ids) = setup();
        let caret = TextRange::caret(TextPos::new(ids[1].clone(), 0));
        let p = plan(
            &d,
            Action::Translate(atelier_ai::prompts::Lang::Fr),
            Some(caret),
            Mode::Docs,
        )
        .expect("plan");
        let Outcome::Edits(r) = outcome(&p, &answer("Autre.")) else {
            panic!("edits expected");
        };
        assert_eq!(r.preview[0].old_text(), "Other.");
        assert_eq!(r.preview[0].new_text(), "Autre.");
    }
}
