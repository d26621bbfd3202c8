//! Offsets inside one block, between the model and the rendered DOM.
//!
//! The model addresses a caret as (block id, UTF-16 offset in the block's
//! text, a hard break counting one). The DOM addresses it as (node, offset).
//! Between the two sits a flat list of [`Leaf`]s: the text nodes and `<br>`s
//! of a block's content element in document order. This module maps between
//! model offsets and leaf points without touching the DOM, so it is tested
//! natively; `dom_selection` only collects the leaves and their nodes.

/// One leaf of a block's rendered inline content, in document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// A text node with its length in UTF-16 units (what `Text.length` counts).
    Text(u32),
    /// A `<br>` standing for a hard break: one unit in the model.
    Break,
    /// A filler `<br>` that only keeps an empty (last) line visible: zero units.
    Filler,
}

impl Leaf {
    /// The leaf's length in model units.
    pub fn model_len(self) -> u32 {
        match self {
            Leaf::Text(n) => n,
            Leaf::Break => 1,
            Leaf::Filler => 0,
        }
    }
}

/// A point among leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafPoint {
    /// Inside text leaf `leaf`, at UTF-16 offset `offset` of that text node.
    InText {
        /// Index of the text leaf.
        leaf: usize,
        /// Offset inside it.
        offset: u32,
    },
    /// Right before leaf `0` (or at the very end when it equals the leaf count).
    Before(usize),
}

/// The model offset of a leaf point; offsets past a text's end are clamped.
pub fn to_model(leaves: &[Leaf], point: LeafPoint) -> u32 {
    let before = |n: usize| -> u32 { leaves.iter().take(n).map(|l| l.model_len()).sum() };
    match point {
        LeafPoint::InText { leaf, offset } => {
            let own = leaves.get(leaf).map_or(0, |l| l.model_len());
            before(leaf) + offset.min(own)
        }
        LeafPoint::Before(n) => before(n),
    }
}

/// The leaf point for a model offset. At a boundary between two texts the
/// caret goes to the end of the first (so typing continues its marks); after
/// a hard break it goes to the start of the next line; offsets past the end
/// are clamped to the end.
pub fn to_leaf(leaves: &[Leaf], offset: u32) -> LeafPoint {
    let mut start = 0u32;
    for (i, leaf) in leaves.iter().enumerate() {
        match *leaf {
            Leaf::Text(len) => {
                if offset <= start + len {
                    return LeafPoint::InText {
                        leaf: i,
                        offset: offset - start,
                    };
                }
                start += len;
            }
            Leaf::Break | Leaf::Filler => {
                if offset == start {
                    return LeafPoint::Before(i);
                }
                start += leaf.model_len();
            }
        }
    }
    LeafPoint::Before(leaves.len())
}

/// Total model length of a block's leaves.
pub fn model_len(leaves: &[Leaf]) -> u32 {
    leaves.iter().map(|l| l.model_len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_offsets_round_trip_with_emoji_units() {
        // "a😀" is 3 UTF-16 units, then a hard break, then "b".
        let leaves = [Leaf::Text(3), Leaf::Break, Leaf::Text(1)];
        assert_eq!(model_len(&leaves), 5);
        for off in 0..=5 {
            assert_eq!(
                to_model(&leaves, to_leaf(&leaves, off)),
                off,
                "offset {off}"
            );
        }
        assert_eq!(
            to_leaf(&leaves, 3),
            LeafPoint::InText { leaf: 0, offset: 3 }
        );
        assert_eq!(
            to_leaf(&leaves, 4),
            LeafPoint::InText { leaf: 2, offset: 0 }
        );
    }

    #[test]
    fn boundary_between_texts_prefers_the_first() {
        let leaves = [Leaf::Text(2), Leaf::Text(2)];
        assert_eq!(
            to_leaf(&leaves, 2),
            LeafPoint::InText { leaf: 0, offset: 2 }
        );
        assert_eq!(
            to_model(&leaves, LeafPoint::InText { leaf: 1, offset: 0 }),
            2
        );
    }

    #[test]
    fn trailing_break_and_filler() {
        // "ab⏎" renders as text, <br>, filler <br>.
        let leaves = [Leaf::Text(2), Leaf::Break, Leaf::Filler];
        assert_eq!(to_leaf(&leaves, 3), LeafPoint::Before(2));
        assert_eq!(to_model(&leaves, LeafPoint::Before(3)), 3);
        assert_eq!(to_leaf(&leaves, 99), LeafPoint::Before(3));
    }

    #[test]
    fn empty_block_has_only_a_filler() {
        let leaves = [Leaf::Filler];
        assert_eq!(to_leaf(&leaves, 0), LeafPoint::Before(0));
        assert_eq!(to_model(&leaves, LeafPoint::Before(1)), 0);
        assert_eq!(to_leaf(&[], 0), LeafPoint::Before(0));
    }

    #[test]
    fn consecutive_breaks() {
        let leaves = [Leaf::Break, Leaf::Break, Leaf::Filler];
        assert_eq!(to_leaf(&leaves, 0), LeafPoint::Before(0));
        assert_eq!(to_leaf(&leaves, 1), LeafPoint::Before(1));
        assert_eq!(to_leaf(&leaves, 2), LeafPoint::Before(2));
        assert_eq!(to_model(&leaves, LeafPoint::Before(2)), 2);
    }
}
