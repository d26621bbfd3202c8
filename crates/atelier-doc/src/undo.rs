//! Undo histories of one author's changes. Widgets reach yrs' undo manager,
//! transaction origins and sticky-position associativity through this
//! module, so the CRDT stays an implementation detail of the model.

use crate::document::Document;
use std::collections::HashSet;
use std::sync::Arc;

pub use yrs::Assoc;
pub use yrs::Origin;
pub use yrs::undo::UndoManager;

impl Document {
    /// An undo history of the changes this document's blocks receive in
    /// transactions whose origin is `origin` (and no others: remote edits
    /// and other authors' stay). Changes less than `capture_timeout_ms`
    /// apart form one step (0: each transaction is a step). `clock` gives
    /// milliseconds (yrs has no clock of its own on wasm).
    pub fn undo_manager(
        &self,
        origin: &str,
        capture_timeout_ms: u64,
        clock: fn() -> u64,
    ) -> UndoManager<()> {
        let options = yrs::undo::Options {
            capture_timeout_millis: capture_timeout_ms,
            tracked_origins: HashSet::from([Origin::from(origin)]),
            capture_transaction: None,
            timestamp: Arc::new(clock),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        };
        let mut undo = UndoManager::with_options(options);
        undo.expand_scope(self.ydoc(), self.fragment());
        undo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewBlock, Placement};
    use yrs::Transact;

    fn no_clock() -> u64 {
        0
    }

    #[test]
    fn an_undo_history_takes_only_its_own_origin() {
        let doc = Document::new();
        let ids = doc
            .insert_blocks(&Placement::End, &[NewBlock::paragraph("abc")])
            .expect("block");
        let mut mine = doc.undo_manager("me", 0, no_clock);
        {
            let mut txn = doc.ydoc().transact_mut_with("me");
            doc.insert_text_in(&mut txn, &ids[0], 3, "d", None)
                .expect("mine");
        }
        {
            let mut txn = doc.ydoc().transact_mut_with("someone else");
            doc.insert_text_in(&mut txn, &ids[0], 0, ">", None)
                .expect("theirs");
        }
        assert_eq!(doc.block_plain_text(&ids[0]).expect("text"), ">abcd");
        assert!(mine.undo_blocking());
        assert_eq!(doc.block_plain_text(&ids[0]).expect("text"), ">abc");
        assert!(
            !mine.undo_blocking(),
            "the other origin's change is not mine"
        );
    }
}
