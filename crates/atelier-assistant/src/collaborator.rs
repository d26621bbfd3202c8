//! How the pane reaches the document it edits: where the user's
//! selection is, and how an accepted proposal is applied *as the
//! assistant*, a collaborator of its own with a name, a caret every peer
//! sees, and an undo history apart from the user's.
//!
//! Two doors, one trait ([`Collaborator`]):
//!
//! - through an editor on the page, the editor's agents' door
//!   (`EditorCollaborator`, feature `editor`): the editor applies the
//!   batch as `agent:Assistant`, renders at once and publishes the caret;
//! - with no editor, [`DocCollaborator`] applies the batch to the
//!   [`Document`] itself with the same origin, keeps its own undo history
//!   ([`Document::undo_manager`]) and hands the caret to the host, which
//!   publishes it (`atelier_web::DocHandle::set_agent_presence`).
//!
//! ```
//! use atelier_assistant::collaborator::{Collaborator, DocCollaborator};
//! use atelier_doc::{Document, Op, markdown};
//! use std::rc::Rc;
//! let doc = Rc::new(Document::new());
//! markdown::import(&doc, "Hello.\n").unwrap();
//! let id = doc.block_ids()[0].clone();
//! let assistant = DocCollaborator::new(doc.clone(), None);
//! let op = Op::InsertText { block: id, offset: 5, text: " world".into(), marks: None };
//! assistant.apply(&[op]).unwrap();
//! assert_eq!(markdown::export(&doc.blocks()), "Hello world.\n");
//! assert!(assistant.undo());
//! assert_eq!(markdown::export(&doc.blocks()), "Hello.\n");
//! ```

use crate::target::{TextPos, TextRange};
use atelier_doc::agent_ops::caret_after;
use atelier_doc::undo::UndoManager;
use atelier_doc::{Document, Op};
use std::cell::RefCell;
use std::rc::Rc;

/// The assistant's name as collaborators see it (beside its caret).
pub const ASSISTANT_NAME: &str = "Assistant";

/// The transaction origin of the assistant's changes, as the editor's
/// agents' door writes it (`agent:NAME`), so every widget tells them from
/// the user's.
pub const ASSISTANT_ORIGIN: &str = "agent:Assistant";

/// The assistant's caret colour.
pub const ASSISTANT_COLOR: &str = "#7c3aed";

/// What the pane needs of the document's host.
pub trait Collaborator {
    /// The user's selection (or caret) now, in the document's blocks and
    /// UTF-16 offsets; `None` when the user has none.
    fn selection(&self) -> Option<TextRange>;
    /// Applies `ops` as the assistant, all or nothing, as one undo step of
    /// its own; the error says why nothing was applied.
    fn apply(&self, ops: &[Op]) -> Result<(), String>;
    /// Takes back the assistant's last change (never the user's); false
    /// when it has none.
    fn undo(&self) -> bool;
    /// Whether the assistant has a change to take back.
    fn can_undo(&self) -> bool;
    /// Shows the assistant to collaborators, with its caret at `at` (while
    /// it works on the selection).
    fn show(&self, at: Option<TextPos>);
    /// Withdraws the assistant's presence (its undo history stays).
    fn leave(&self);
}

/// Publishes the assistant's presence: `Some(caret)` shows it (with a
/// caret when the inner option is `Some`), `None` withdraws it.
pub type PresenceSink = Rc<dyn Fn(Option<Option<TextPos>>)>;

/// Reads the user's selection now.
pub type SelectionSource = Rc<dyn Fn() -> Option<TextRange>>;

fn now_ms() -> u64 {
    0
}

/// The assistant editing a [`Document`] directly (no editor on the page):
/// origin [`ASSISTANT_ORIGIN`], an undo history of its own, its caret
/// given to a [`PresenceSink`].
pub struct DocCollaborator {
    doc: Rc<Document>,
    undo: RefCell<UndoManager<()>>,
    presence: Option<PresenceSink>,
    selection: RefCell<Option<SelectionSource>>,
}

impl DocCollaborator {
    /// The assistant on `doc`; `presence` publishes its caret.
    pub fn new(doc: Rc<Document>, presence: Option<PresenceSink>) -> Self {
        // Each accepted proposal is one step: no capture window.
        let undo = doc.undo_manager(ASSISTANT_ORIGIN, 0, now_ms);
        DocCollaborator {
            doc,
            undo: RefCell::new(undo),
            presence,
            selection: RefCell::new(None),
        }
    }

    /// Sets where the user's selection is read from.
    pub fn set_selection_source(&self, source: Option<SelectionSource>) {
        *self.selection.borrow_mut() = source;
    }
}

impl Collaborator for DocCollaborator {
    fn selection(&self) -> Option<TextRange> {
        let source = self.selection.borrow().clone();
        source.and_then(|s| s())
    }

    fn apply(&self, ops: &[Op]) -> Result<(), String> {
        let outcomes = self
            .doc
            .apply_ops_atomically(ops, ASSISTANT_ORIGIN)
            .map_err(|e| e.to_string())?;
        let caret = caret_after(&self.doc, ops, &outcomes)
            .map(|(block, offset)| TextPos::new(block, offset));
        self.show(caret);
        Ok(())
    }

    fn undo(&self) -> bool {
        self.undo.borrow_mut().undo_blocking()
    }

    fn can_undo(&self) -> bool {
        self.undo.borrow().can_undo()
    }

    fn show(&self, at: Option<TextPos>) {
        if let Some(p) = &self.presence {
            p(Some(at));
        }
    }

    fn leave(&self) {
        if let Some(p) = &self.presence {
            p(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::markdown;

    #[test]
    fn the_assistant_undoes_only_its_own_change_and_shows_its_caret() {
        let doc = Rc::new(Document::new());
        markdown::import(&doc, "One.\n\nTwo.\n").expect("md");
        let ids = doc.block_ids();
        let seen: Rc<RefCell<Vec<Option<Option<TextPos>>>>> = Rc::default();
        let log = seen.clone();
        let a = DocCollaborator::new(
            doc.clone(),
            Some(Rc::new(move |p| log.borrow_mut().push(p))),
        );
        assert!(!a.can_undo());
        a.apply(&[Op::InsertText {
            block: ids[0].clone(),
            offset: 3,
            text: "!".into(),
            marks: None,
        }])
        .expect("applies");
        assert_eq!(
            seen.borrow().last(),
            Some(&Some(Some(TextPos::new(ids[0].clone(), 4))))
        );
        // The user types elsewhere; the assistant's undo keeps it.
        doc.apply_ops(
            &[Op::InsertText {
                block: ids[1].clone(),
                offset: 0,
                text: "So ".into(),
                marks: None,
            }],
            "atelier-editor-1",
        )
        .expect("user");
        assert!(a.can_undo());
        assert!(a.undo());
        assert_eq!(markdown::export(&doc.blocks()), "One.\n\nSo Two.\n");
        assert!(!a.undo());
        a.leave();
        assert_eq!(seen.borrow().last(), Some(&None));
    }

    #[test]
    fn a_refused_batch_changes_nothing_and_says_why() {
        let doc = Rc::new(Document::new());
        markdown::import(&doc, "One.\n").expect("md");
        let before = markdown::export(&doc.blocks());
        let a = DocCollaborator::new(doc.clone(), None);
        let err = a
            .apply(&[Op::InsertText {
                block: "missing".into(),
                offset: 0,
                text: "x".into(),
                marks: None,
            }])
            .expect_err("refused");
        assert!(err.contains("missing"), "{err}");
        assert_eq!(markdown::export(&doc.blocks()), before);
        assert!(!a.can_undo());
    }
}
