//! What a transaction changed in the block tree, by block: lets a view
//! re-render only the blocks a change touched instead of re-reading the
//! whole document.
//!
//! Derived from `yrs`' deep events on the fragment: an event on a block's
//! content node or text (or anything inside it) names that block; an event
//! on a `blockGroup`, the fragment or a `blockContainer` itself means blocks
//! were added, removed or moved. Blocks created in the transaction raise no
//! event of their own (as in Yjs); they show up as a structure change of
//! their group.
//!
//! One case no event can name: concurrent moves of one block leave two
//! copies under one id, and when a copy is later deleted, only its group's
//! structure change says so. A view keyed by id that shows one copy must
//! re-read such ids on the next structure change (the editor's surface
//! keeps the ids it met twice; `tests/convergence.rs` checks it).

use crate::block::BlockId;
use crate::document::{Document, container_id};
use crate::schema::{BLOCK_CONTAINER, BLOCK_GROUP};
use std::collections::HashSet;
use yrs::types::{Change, Event, Events};
use yrs::{DeepObservable, Out, ReadTxn, TransactionMut, Xml, XmlFragment, XmlOut};

/// The blocks one or more transactions changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockChanges {
    /// Blocks whose own look (type, props, text) may have changed.
    pub blocks: HashSet<BlockId>,
    /// Whether blocks were added, removed or moved: the tree must be re-read.
    pub structure: bool,
}

impl BlockChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && !self.structure
    }

    /// Adds another set of changes to this one.
    pub fn merge(&mut self, other: BlockChanges) {
        self.blocks.extend(other.blocks);
        self.structure |= other.structure;
    }

    /// What a set of deep events on the fragment changed.
    pub fn of_events(txn: &TransactionMut, events: &Events) -> Self {
        let mut out = BlockChanges::default();
        for event in events.iter() {
            out.note(txn, event.target());
            // Containers added here are new even when their id is known: a
            // move re-creates a block (same id, fresh container) and a peer's
            // concurrent edit may have reached only one of the two copies.
            if let Event::XmlFragment(e) = event {
                for change in e.delta(txn) {
                    if let Change::Added(added) = change {
                        for node in added {
                            out.note_added(txn, node);
                        }
                    }
                }
            }
        }
        out
    }

    /// Names every block in an added subtree (an explicit-stack walk: an
    /// added subtree may nest as deep as a peer made it).
    fn note_added<T: ReadTxn>(&mut self, txn: &T, node: &Out) {
        let Out::YXmlElement(e) = node else { return };
        let mut stack = vec![e.clone()];
        while let Some(e) = stack.pop() {
            let tag = e.tag().to_string();
            if tag == BLOCK_CONTAINER {
                if let Some(id) = container_id(txn, &e) {
                    self.blocks.insert(BlockId(id));
                }
            } else if tag != BLOCK_GROUP {
                continue;
            }
            stack.extend(e.children(txn).filter_map(|c| match c {
                XmlOut::Element(c) => Some(c),
                _ => None,
            }));
        }
    }

    fn note<T: ReadTxn>(&mut self, txn: &T, target: Out) {
        let mut cur = match target {
            Out::YXmlElement(e) => {
                let tag = e.tag().to_string();
                if tag == BLOCK_GROUP {
                    self.structure = true;
                    return;
                }
                if tag == BLOCK_CONTAINER {
                    // Its content node was replaced (type change) or its
                    // child group added or removed.
                    self.structure = true;
                }
                Some(XmlOut::Element(e))
            }
            Out::YXmlText(t) => Some(XmlOut::Text(t)),
            _ => None,
        };
        // Up to the nearest block container.
        while let Some(node) = cur {
            match node {
                XmlOut::Element(e) if e.tag().as_ref() == BLOCK_CONTAINER => {
                    match container_id(txn, &e) {
                        Some(id) => {
                            self.blocks.insert(BlockId(id));
                        }
                        None => self.structure = true,
                    }
                    return;
                }
                XmlOut::Element(e) => cur = e.parent(),
                XmlOut::Text(t) => cur = t.parent(),
                XmlOut::Fragment(f) => cur = f.parent(),
            }
        }
        // Not inside any block (the fragment itself, a stray node).
        self.structure = true;
    }
}

impl Document {
    /// Calls `f` after every transaction that changes the block tree, with
    /// what it changed. `key` names the subscription for
    /// [`Document::unobserve_blocks`]. `f` runs inside the transaction's
    /// commit: it must not open another transaction on this document.
    pub fn observe_blocks<F>(&self, key: &str, mut f: F)
    where
        F: FnMut(BlockChanges) + Send + Sync + 'static,
    {
        self.fragment()
            .observe_deep(key.to_owned(), move |txn, events| {
                f(BlockChanges::of_events(txn, events));
            });
    }

    /// Like [`Document::observe_blocks`], with the transaction's origin as
    /// bytes (`None` for a transaction without one, such as a remote update
    /// applied by [`Document::apply_update_v1`]): who made the change, e.g.
    /// an editor session, an agent (`agent:NAME`) or a sync session.
    pub fn observe_blocks_with_origin<F>(&self, key: &str, mut f: F)
    where
        F: FnMut(BlockChanges, Option<&[u8]>) + Send + Sync + 'static,
    {
        self.fragment()
            .observe_deep(key.to_owned(), move |txn, events| {
                f(
                    BlockChanges::of_events(txn, events),
                    txn.origin().map(AsRef::as_ref),
                );
            });
    }

    /// Ends a subscription made with [`Document::observe_blocks`] or
    /// [`Document::observe_blocks_with_origin`].
    pub fn unobserve_blocks(&self, key: &str) -> bool {
        self.fragment().unobserve_deep(key.to_owned())
    }
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
