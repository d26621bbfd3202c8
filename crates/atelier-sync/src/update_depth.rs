//! How deep an update nests shared types, measured before `yrs` sees it.
//!
//! Readers of a document tree (exports, rendering, deep copies) recurse once
//! per level, and so did `yrs` when it deleted a type: one update nesting
//! elements 20,000 deep overflowed a server thread's stack and aborted the
//! process. [`crate::check_update_v1`] therefore refuses an update whose new
//! types would sit deeper than [`crate::Limits::max_nesting_depth`].
//!
//! The depth of a new type is not written in the update. Yjs gives an item
//! either its parent (a root type's name, or the id of the type item it
//! sits in) or only its neighbours (`origin`, `rightOrigin`), whose parent
//! it shares. So the depth of each new type is found by following those
//! references through the update itself and, where they leave it, through
//! the document the update is for ([`NestingBase`]). Every walk here is
//! iterative and memoised: linear in the number of structs, with no
//! recursion.

use crate::error::{Result, SyncError};
use std::collections::HashMap;

/// An item id in an update: client and clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ItemId {
    pub client: u64,
    pub clock: u32,
}

/// Where an item says it sits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParentRef {
    /// Directly in a root type.
    Root,
    /// In the type created by the item with this id.
    Type(ItemId),
    /// Beside these neighbours, in whatever type holds them (left first).
    Neighbours {
        left: Option<ItemId>,
        right: Option<ItemId>,
    },
}

/// One struct of an update, as far as nesting goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StructRef {
    pub client: u64,
    pub clock: u32,
    pub len: u32,
    /// An item (not a GC or skip range).
    pub is_item: bool,
    /// An item whose content is a shared type.
    pub is_type: bool,
    pub parent: ParentRef,
}

/// The document an update is for: how deeply its existing items are nested.
pub trait NestingBase {
    /// How many shared types enclose the integrated item holding
    /// `(client, clock)` (0 directly in a root type), counting at most to
    /// `cap`; `None` when the document has no such item.
    fn enclosing_types(&self, client: u64, clock: u32, cap: u32) -> Option<u32>;
}

/// No document: references leaving the update count as a root.
pub(crate) struct NoBase;

impl NestingBase for NoBase {
    fn enclosing_types(&self, _: u64, _: u32, _: u32) -> Option<u32> {
        None
    }
}

/// A `yrs` document, read through one of its transactions.
pub struct TxnBase<'a, T>(pub &'a T);

impl<T: yrs::ReadTxn> NestingBase for TxnBase<'_, T> {
    fn enclosing_types(&self, client: u64, clock: u32, cap: u32) -> Option<u32> {
        let id = yrs::ID::new(yrs::block::ClientID::new(client), clock);
        yrs::branch::BranchID::nesting_depth(self.0, &id, cap)
    }
}

const UNSET: u32 = u32::MAX;
const BUSY: u32 = u32::MAX - 1;

/// What one struct's enclosing depth depends on.
enum Step {
    Known(u32),
    /// The depth of struct `index`, plus `add`.
    Via {
        index: usize,
        add: u32,
    },
}

/// Returns the deepest nesting of a new type in `structs` (1 for a type
/// directly in a root), or an error once it passes `limit`.
pub(crate) fn check_nesting(
    structs: &[StructRef],
    base: &dyn NestingBase,
    limit: usize,
) -> Result<u32> {
    // Depths stay below the two sentinels.
    let cap = u32::try_from(limit).unwrap_or(u32::MAX).min(u32::MAX - 4) + 1;
    // Structs of one client are contiguous and ascending in a v1 update.
    let mut by_client: HashMap<u64, (usize, usize)> = HashMap::new();
    for (i, s) in structs.iter().enumerate() {
        by_client
            .entry(s.client)
            .and_modify(|range| range.1 = i + 1)
            .or_insert((i, i + 1));
    }
    let find = |id: ItemId| -> Option<usize> {
        let &(start, end) = by_client.get(&id.client)?;
        let slice = &structs[start..end];
        let after = slice.partition_point(|s| s.clock <= id.clock);
        let candidate = after.checked_sub(1)?;
        let s = &slice[candidate];
        (u64::from(id.clock) < u64::from(s.clock) + u64::from(s.len)).then_some(start + candidate)
    };
    // How many types enclose a neighbour: through the update when it is
    // there (a GC range holds no parent: `None`), else through the document.
    let neighbour = |id: ItemId| -> Option<Step> {
        match find(id) {
            Some(index) if structs[index].is_item => Some(Step::Via { index, add: 0 }),
            Some(_) => None,
            None => base
                .enclosing_types(id.client, id.clock, cap)
                .map(Step::Known),
        }
    };
    let step = |i: usize| -> Step {
        match structs[i].parent {
            ParentRef::Root => Step::Known(0),
            ParentRef::Type(id) => match find(id) {
                Some(index) if structs[index].is_type => Step::Via { index, add: 1 },
                // Not a type: yrs cannot integrate the item there.
                Some(_) => Step::Known(0),
                None => Step::Known(
                    base.enclosing_types(id.client, id.clock, cap)
                        .map_or(0, |d| d.saturating_add(1)),
                ),
            },
            ParentRef::Neighbours { left, right } => left
                .and_then(neighbour)
                .or_else(|| right.and_then(neighbour))
                // Unknown neighbours: yrs keeps the item pending.
                .unwrap_or(Step::Known(0)),
        }
    };

    // Enclosing depth of each struct, resolved from an explicit stack.
    let mut depth = vec![UNSET; structs.len()];
    let mut deepest = 0u32;
    for (start, s) in structs.iter().enumerate() {
        if !s.is_type {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            if depth[i] != UNSET && depth[i] != BUSY {
                stack.pop();
                continue;
            }
            match step(i) {
                Step::Known(d) => {
                    depth[i] = d.min(cap);
                    stack.pop();
                }
                Step::Via { index, add } => match depth[index] {
                    UNSET => {
                        depth[i] = BUSY;
                        stack.push(index);
                    }
                    // A cycle of references: yrs can never integrate it.
                    BUSY => {
                        depth[i] = 0;
                        stack.pop();
                    }
                    d => {
                        depth[i] = d.saturating_add(add).min(cap);
                        stack.pop();
                    }
                },
            }
        }
        let nested = depth[start].saturating_add(1);
        if nested as usize > limit {
            return Err(SyncError::TooDeep {
                limit: limit as u64,
            });
        }
        deepest = deepest.max(nested);
    }
    Ok(deepest)
}
