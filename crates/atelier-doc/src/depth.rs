//! How deeply a document nests, and the bounds every reader and writer of
//! this crate keeps.
//!
//! Depth counts shared types from the root fragment down: BlockNote's root
//! `blockGroup` is at 1, a top-level `blockContainer` at 2, its paragraph at
//! 3 and the paragraph's text at 4; each level of nested blocks adds 2 (a
//! `blockGroup` and a `blockContainer`), a table adds 3 more below its
//! block (row, cell, cell paragraph) before the text.
//!
//! Two numbers, for two jobs:
//! - [`MAX_NESTING_DEPTH`] is what Atelier writes and what servers accept by
//!   default (`atelier_sync::Limits::max_nesting_depth`): room for 60 levels
//!   of nested blocks. An operation that would nest deeper is refused with
//!   [`Error::TooDeep`](crate::Error::TooDeep); a paste or a Markdown import
//!   nesting deeper is flattened at the deepest level, so nothing is lost.
//! - [`MAX_READ_DEPTH`] is where every reader stops (block reads, outline,
//!   exports, deep copies, change tracking): a document stored before the
//!   limit existed, or received from a peer that ignores it, is read with
//!   the too-deep part left out ([`Document::deepest_nesting`] tells), never
//!   by recursing until the thread's stack overflows.

use crate::block::NewBlock;
use crate::document::Document;
use crate::schema::block_type;
use yrs::{ReadTxn, Transact, Xml, XmlFragment, XmlOut};

/// Deepest nesting of shared types Atelier writes, and servers accept by default.
pub const MAX_NESTING_DEPTH: usize = 128;

/// Deepest nesting any reader of this crate follows; deeper nodes are left out.
pub const MAX_READ_DEPTH: usize = 256;

/// Deepest block level (0 = top level) whose block, even a table, stays
/// within [`MAX_NESTING_DEPTH`]: its text sits at `7 + 2 * level`.
pub const MAX_BLOCK_LEVEL: usize = (MAX_NESTING_DEPTH - 7) / 2;

/// Shared types a block adds below its group, deepest path: the container,
/// then the content and its text (5 for a table: table, row, cell, cell
/// paragraph, text), or a nested group and its blocks.
pub(crate) fn new_block_height(block: &NewBlock) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(block, 1usize)];
    while let Some((b, container)) = stack.pop() {
        let content = if b.kind == block_type::TABLE { 5 } else { 2 };
        deepest = deepest.max(container + content);
        stack.extend(b.children.iter().map(|c| (c, container + 2)));
    }
    deepest
}

/// The nesting depth of an element: 1 for a root `blockGroup`.
pub(crate) fn depth_of(node: &yrs::XmlElementRef) -> usize {
    let mut depth = 1;
    let mut cur = node.parent();
    while let Some(XmlOut::Element(e)) = cur {
        depth += 1;
        cur = e.parent();
    }
    depth
}

/// Height of an XML subtree in shared types (1 for a leaf node), by an
/// explicit-stack walk.
pub(crate) fn subtree_height<T: ReadTxn>(txn: &T, node: &XmlOut) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(node.clone(), 1usize)];
    while let Some((n, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if let XmlOut::Element(e) = n {
            stack.extend(e.children(txn).map(|c| (c, depth + 1)));
        }
    }
    deepest
}

impl Document {
    /// The deepest nesting of shared types in the rich text (see the
    /// [module docs](self)); above [`MAX_READ_DEPTH`], reads of this
    /// document leave the deeper part out. One walk of the whole tree.
    pub fn deepest_nesting(&self) -> usize {
        let txn = self.ydoc().transact();
        let mut deepest = 0;
        let mut stack: Vec<(XmlOut, usize)> =
            self.fragment().children(&txn).map(|c| (c, 1)).collect();
        while let Some((node, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            if let XmlOut::Element(e) = node {
                stack.extend(e.children(&txn).map(|c| (c, depth + 1)));
            }
        }
        deepest
    }
}
