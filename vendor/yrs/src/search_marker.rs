//! Patched (Atelier, PATCHES.md §10): a position index for text and XML text.
//!
//! Finding the item at a text index used to walk the item list from the
//! start of the text, so every keystroke in a long text cost a pass over
//! everything before it. A branch now remembers where its last index lookup
//! ended (a [SearchMarker]); the next lookup walks from there, forwards or
//! backwards, when that is closer than the start. Editing traces move a
//! cursor a few characters at a time, so a lookup costs the distance from
//! the previous edit, not the position.
//!
//! Correctness rests on one invariant, kept by invalidation rather than by
//! bookkeeping: a marker describes its item exactly, or there is no marker.
//! Every change to the branch's list clears it (integrating an item into the
//! list, deleting one, a collected type losing its children), except that
//! the text operations that looked the position up put back the marker they
//! found, which their own change cannot have moved (it lies at or after the
//! marker); and a squash that frees the marker's item moves the marker to
//! the item that absorbed it. Splitting an item keeps the left part's
//! pointer and everything before it, so it needs nothing.

use crate::block::ItemPtr;
use crate::types::Attrs;
use crate::OffsetKind;

/// An exact description of one item of a branch's list.
#[derive(Debug, Clone)]
pub(crate) struct SearchMarker {
    /// An item of the branch's list that is not deleted and not a format
    /// item (what `find_position` counts).
    pub item: ItemPtr,
    /// The text length, counted in `kind` units, of the visible items before
    /// `item`.
    pub index: u32,
    /// The same, in block units (`ItemPosition::index`).
    pub block_index: u32,
    /// The offset kind `index` is counted in.
    pub kind: OffsetKind,
    /// The formatting in effect at `item`: every visible format item before
    /// it, folded in order (`None` when that leaves no attribute).
    pub attrs: Option<Box<Attrs>>,
}

impl SearchMarker {
    /// `left` absorbed `right` (its right neighbour) in a squash, and
    /// `right` is about to be freed. `left.len` and `left`'s content already
    /// include `right`'s. A marker on `right` moves to `left`: both are
    /// visible strings of the same parent with nothing between them, so the
    /// formatting in effect is the same and the counts shrink by `left`'s old
    /// length.
    pub(crate) fn on_squash(marker: &mut Option<Box<SearchMarker>>, left: ItemPtr, right: ItemPtr) {
        let Some(m) = marker.as_deref_mut() else {
            return;
        };
        if m.item != right {
            return;
        }
        let left_len = left
            .content_len(m.kind)
            .checked_sub(right.content_len(m.kind));
        let left_block_len = left.len().checked_sub(right.len());
        match (left_len, left_block_len) {
            (Some(len), Some(block_len)) if !left.is_deleted() && m.index >= len => {
                m.item = left;
                m.index -= len;
                m.block_index = m.block_index.saturating_sub(block_len);
            }
            _ => *marker = None,
        }
    }
}

#[cfg(test)]
thread_local! {
    static DISABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test builds can turn markers off on the current thread, to build a reference document whose
/// every lookup walks from the start of the text, as upstream's did.
#[cfg(test)]
pub(crate) fn disabled() -> bool {
    DISABLED.with(|d| d.get())
}

#[cfg(test)]
mod test {
    use super::DISABLED;
    use crate::block::ItemContent;
    use crate::types::text::YChange;
    use crate::types::Attrs;
    use crate::undo::{Options as UndoOptions, UndoManager};
    use crate::updates::decoder::Decode;
    use crate::updates::encoder::Encode;
    use crate::{
        Any, Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Text, TextRef, Transact,
        Update,
    };
    use fastrand::Rng;
    use std::collections::HashMap;

    /// Runs `f` with search markers on or off on this thread.
    fn with_markers<T>(on: bool, f: impl FnOnce() -> T) -> T {
        DISABLED.with(|d| d.set(!on));
        let result = f();
        DISABLED.with(|d| d.set(false));
        result
    }

    fn doc(client: u64, kind: OffsetKind) -> (Doc, TextRef) {
        let doc = Doc::with_options(Options {
            client_id: crate::block::ClientID::new(client),
            offset_kind: kind,
            ..Options::default()
        });
        let text = doc.get_or_insert_text("text");
        (doc, text)
    }

    fn units(c: char, kind: OffsetKind) -> u32 {
        match kind {
            OffsetKind::Utf16 => c.len_utf16() as u32,
            OffsetKind::Bytes => c.len_utf8() as u32,
        }
    }

    /// The offset of the `chars`-th character of `s`, in `kind` units.
    fn offset(s: &str, chars: usize, kind: OffsetKind) -> u32 {
        s.chars().take(chars).map(|c| units(c, kind)).sum()
    }

    /// Attributes over `keys`: set, cleared or left out.
    fn random_attrs(rng: &mut Rng, keys: &[&str]) -> Attrs {
        let mut attrs = HashMap::new();
        for key in keys {
            match rng.u8(0..4) {
                0 => {
                    attrs.insert((*key).into(), Any::Bool(true));
                }
                1 => {
                    attrs.insert((*key).into(), Any::from(["red", "blue"][rng.usize(0..2)]));
                }
                2 => {
                    attrs.insert((*key).into(), Any::Null);
                }
                _ => {}
            }
        }
        attrs
    }

    fn random_string(rng: &mut Rng) -> String {
        const CHARS: [char; 7] = ['a', 'b', 'c', ' ', 'é', '😀', '\n'];
        let n = rng.usize(1..6);
        (0..n).map(|_| CHARS[rng.usize(0..CHARS.len())]).collect()
    }

    /// One local edit applied identically to the document under test (markers on) and to the
    /// reference (markers off); `model` follows the text.
    fn edit(
        rng: &mut Rng,
        kind: OffsetKind,
        keys: &[&str],
        docs: [(&Doc, &TextRef); 2],
        model: &mut String,
    ) {
        let chars = model.chars().count();
        let op = rng.u8(0..10);
        let apply = |f: &dyn Fn(&mut crate::TransactionMut, &TextRef)| {
            for (i, (doc, text)) in docs.iter().enumerate() {
                with_markers(i == 0, || {
                    let mut txn = doc.transact_mut();
                    f(&mut txn, text);
                })
            }
        };
        if op < 5 || chars == 0 {
            let at = rng.usize(0..=chars);
            let s = random_string(rng);
            let index = offset(model, at, kind);
            if rng.bool() {
                apply(&|txn, text| text.insert(txn, index, &s));
            } else {
                let attrs = random_attrs(rng, keys);
                apply(&|txn, text| text.insert_with_attributes(txn, index, &s, attrs.clone()));
            }
            let byte = model.char_indices().nth(at).map_or(model.len(), |(b, _)| b);
            model.insert_str(byte, &s);
        } else if op < 8 {
            let at = rng.usize(0..chars);
            let n = rng.usize(1..=(chars - at).min(8));
            let index = offset(model, at, kind);
            let len = offset(model, at + n, kind) - index;
            apply(&|txn, text| text.remove_range(txn, index, len));
            *model = model
                .chars()
                .enumerate()
                .filter(|(i, _)| *i < at || *i >= at + n)
                .map(|(_, c)| c)
                .collect();
        } else {
            let at = rng.usize(0..chars);
            let n = rng.usize(1..=(chars - at).min(8));
            let index = offset(model, at, kind);
            let len = offset(model, at + n, kind) - index;
            let attrs = random_attrs(rng, keys);
            apply(&|txn, text| text.format(txn, index, len, attrs.clone()));
        }
    }

    fn sync(from: &Doc, to: &[&Doc]) {
        let update = {
            let txn = from.transact();
            txn.encode_state_as_update_v1(&StateVector::default())
        };
        for (i, doc) in to.iter().enumerate() {
            with_markers(i == 0, || {
                let mut txn = doc.transact_mut();
                txn.apply_update(Update::decode_v1(&update).unwrap())
                    .unwrap();
            });
        }
    }

    /// The visible items in list order: each character, and each format item as `key=value`
    /// with every run of adjacent format items sorted.
    fn visible_items(text: &TextRef) -> Vec<String> {
        let mut items = Vec::new();
        let mut formats = Vec::new();
        let branch: &crate::branch::Branch = text.as_ref();
        let mut curr = branch.start;
        while let Some(item) = curr {
            if !item.is_deleted() {
                match &item.content {
                    ItemContent::Format(key, value) => formats.push(format!("{key}={value}")),
                    ItemContent::String(s) => {
                        formats.sort();
                        items.append(&mut formats);
                        items.extend(s.as_str().chars().map(String::from));
                    }
                    other => panic!("unexpected content {other:?}"),
                }
            }
            curr = item.right;
        }
        formats.sort();
        items.append(&mut formats);
        items
    }

    /// The formatted text as runs of equal attributes (`diff` may cut a run in two where a
    /// redundant format item lies).
    fn runs<T: ReadTxn>(text: &TextRef, txn: &T) -> Vec<(String, Option<Box<Attrs>>)> {
        let mut runs: Vec<(String, Option<Box<Attrs>>)> = Vec::new();
        for chunk in text.diff(txn, YChange::identity) {
            let s = chunk.insert.to_string(txn);
            match runs.last_mut() {
                Some((last, attrs)) if *attrs == chunk.attributes => last.push_str(&s),
                _ => runs.push((s, chunk.attributes)),
            }
        }
        runs
    }

    /// A fresh replica of `doc` (same client), loaded from its full state.
    fn copy(doc: &Doc, kind: OffsetKind) -> (Doc, TextRef) {
        let (copy, text) = self::doc(1, kind);
        sync(doc, &[&copy]);
        (copy, text)
    }

    /// `a` uses search markers; `r`, the reference, is the same client with every lookup walking
    /// from the start; `b` is a concurrent peer. Local edits go to `a` and `r` alike. A peer's
    /// edits and undo or redo go to `a`, and `r` starts again as a copy of `a`: upstream yrs
    /// restores deleted format items (undo) and writes negated attributes in the order of a
    /// `HashMap` with a random hasher, so two replicas without markers already differ from run to
    /// run there, and with several keys they may hold different redundant format items. Checked
    /// after every step: the text against a `String` model and against `r`, the formatted text
    /// (`diff`, as runs) against `r`; with one key also the visible items in list order and the encoded
    /// document, block for block. Test builds also check every marker that a lookup uses against
    /// a walk from the start (`check_marker` in `types/text.rs`).
    fn run(seed: u64, kind: OffsetKind, keys: &[&str]) {
        let one_key = keys.len() == 1;
        // A copy loaded in one non-local transaction has its redundant format items cleaned up
        // where `a` has not: items and encoded documents are compared until the first copy.
        let mut exact = one_key;
        let mut rng = Rng::with_seed(seed);
        let (a, ta) = doc(1, kind);
        let (mut r, mut tr) = doc(1, kind);
        let (b, tb) = doc(2, kind);
        let undo_options = || UndoOptions {
            capture_timeout_millis: 0,
            ..UndoOptions::default()
        };
        let mut undo: UndoManager<()> = UndoManager::with_options(undo_options());
        undo.expand_scope(&a, &ta);
        // keeps deleted content (for undo) exactly as `a`'s does, until `r` is first copied
        let mut undo_r: UndoManager<()> = UndoManager::with_options(undo_options());
        undo_r.expand_scope(&r, &tr);
        let mut model = String::new();
        for step in 0..60 {
            match rng.u8(0..20) {
                0 => {
                    // a concurrent peer edits, then both merge
                    let mut peer = tb.get_string(&b.transact());
                    let (pb, tpb) = doc(2, kind); // the peer's scratch reference
                    sync(&b, &[&pb]);
                    for _ in 0..rng.usize(1..4) {
                        edit(&mut rng, kind, keys, [(&b, &tb), (&pb, &tpb)], &mut peer);
                    }
                    sync(&b, &[&a]);
                    sync(&a, &[&b]);
                    (r, tr) = copy(&a, kind);
                    exact = false;
                    model = tr.get_string(&r.transact());
                }
                1 => {
                    undo.undo_blocking();
                    (r, tr) = copy(&a, kind);
                    exact = false;
                    model = tr.get_string(&r.transact());
                }
                2 => {
                    undo.redo_blocking();
                    (r, tr) = copy(&a, kind);
                    exact = false;
                    model = tr.get_string(&r.transact());
                }
                _ => {
                    // several edits in one transaction each (squashing happens on commit), or
                    // one edit per transaction
                    for _ in 0..rng.usize(1..4) {
                        edit(&mut rng, kind, keys, [(&a, &ta), (&r, &tr)], &mut model);
                    }
                }
            }
            let txn_a = a.transact();
            let txn_r = r.transact();
            assert_eq!(ta.get_string(&txn_a), model, "step {step}: text");
            assert_eq!(
                runs(&ta, &txn_a),
                runs(&tr, &txn_r),
                "step {step}: formatted text differs from the reference"
            );
            if exact {
                assert_eq!(
                    visible_items(&ta),
                    visible_items(&tr),
                    "step {step}: items differ from the reference"
                );
                assert_eq!(
                    txn_a.encode_state_as_update_v1(&StateVector::default()),
                    txn_r.encode_state_as_update_v1(&StateVector::default()),
                    "step {step}: document differs from the reference"
                );
            }
        }
    }

    /// Random inserts, deletions and formatting at random positions, with concurrent peers, undo
    /// and redo, in UTF-16 and byte offsets: the text with search markers equals a `String` model,
    /// and the whole document equals a reference replica whose lookups walk from the start.
    /// `YRS_SEARCH_MARKER_SEED=N` replays one seed.
    #[test]
    fn search_markers_match_a_walk_from_the_start() {
        let seeds: Vec<u64> = match std::env::var("YRS_SEARCH_MARKER_SEED") {
            Ok(seed) => vec![seed.parse().expect("YRS_SEARCH_MARKER_SEED is a number")],
            Err(_) => (1..=300).collect(),
        };
        for seed in seeds {
            for kind in [OffsetKind::Utf16, OffsetKind::Bytes] {
                for keys in [&["bold"][..], &["bold", "color"][..]] {
                    if std::panic::catch_unwind(|| run(seed, kind, keys)).is_err() {
                        panic!(
                            "{}",
                            format!(
                                "seed {seed} ({kind:?}, keys {keys:?}) failed; \
                                 replay with YRS_SEARCH_MARKER_SEED={seed}"
                            )
                        );
                    }
                }
            }
        }
    }
}
