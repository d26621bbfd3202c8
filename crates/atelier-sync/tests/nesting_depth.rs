//! Property test of the nesting-depth check: writers nest XML elements at
//! random places, several elements per update (some inside elements made in
//! the same update, some beside existing ones), and a server replica checks
//! each update against its document before applying it. The check must
//! refuse exactly the updates after which the document would nest deeper
//! than the limit, measured by walking the document.
//!
//! proptest prints the failing plan and keeps it in
//! `tests/nesting_depth.proptest-regressions`, which replays it first on
//! every later run; `PROPTEST_CASES=10000` runs longer.

use atelier_sync::{Limits, SyncError, check_update_v1, check_update_v1_against};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use yrs::types::xml::XmlFragment;
use yrs::updates::decoder::Decode;
use yrs::{
    Doc, ReadTxn, StateVector, Transact, Update, XmlElementPrelim, XmlElementRef, XmlOut,
    XmlTextPrelim,
};

const LIMIT: usize = 6;

/// Every element of the document with its depth (1 directly in the root),
/// by an explicit-stack walk.
fn elements<T: ReadTxn>(txn: &T, root: &yrs::XmlFragmentRef) -> Vec<(XmlElementRef, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<(XmlOut, usize)> = root.children(txn).map(|c| (c, 1)).collect();
    while let Some((node, depth)) = stack.pop() {
        if let XmlOut::Element(e) = node {
            stack.extend(e.children(txn).map(|c| (c, depth + 1)));
            out.push((e, depth));
        }
    }
    out
}

/// The deepest type in the document (a text counts like an element).
fn max_depth(doc: &Doc) -> usize {
    let root = doc.get_or_insert_xml_fragment("document-store");
    let txn = doc.transact();
    let mut deepest = 0;
    let mut stack: Vec<(XmlOut, usize)> = root.children(&txn).map(|c| (c, 1)).collect();
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if let XmlOut::Element(e) = node {
            stack.extend(e.children(&txn).map(|c| (c, depth + 1)));
        }
    }
    deepest
}

fn load(doc: &Doc, update: &[u8]) {
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).expect("decodes"))
        .expect("applies");
}

/// One edit: which writer, where (picked among the elements modulo their
/// count, or the root), at which index, how many levels, and whether the
/// innermost new node is a text.
type Edit = (usize, usize, u8, u8, bool);

fn arb_plan() -> impl Strategy<Value = Vec<Vec<Edit>>> {
    prop::collection::vec(
        prop::collection::vec(
            (
                0usize..3,
                any::<usize>(),
                any::<u8>(),
                1u8..4,
                any::<bool>(),
            ),
            1..4,
        ),
        1..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn refuses_exactly_the_updates_that_nest_too_deep(plan in arb_plan()) {
        let limits = Limits { max_nesting_depth: LIMIT, ..Limits::default() };
        let server = Doc::with_client_id(1);
        let mut writers: Vec<Doc> = (0..3).map(|i| Doc::with_client_id(10 + i)).collect();
        let mut next_client = 100;
        for (round, edits) in plan.iter().enumerate() {
            let writer_index = edits[0].0;
            let writer = &writers[writer_index];
            let before = writer.transact().state_vector();
            {
                let root = writer.get_or_insert_xml_fragment("document-store");
                let mut txn = writer.transact_mut();
                for &(_, at, index, levels, text) in edits {
                    let found = elements(&txn, &root);
                    let mut parent = if found.is_empty() || at % (found.len() + 1) == found.len() {
                        let len = root.len(&txn);
                        root.insert(&mut txn, u32::from(index) % (len + 1), XmlElementPrelim::empty("blockGroup"))
                    } else {
                        let (e, _) = &found[at % found.len()];
                        let len = e.len(&txn);
                        e.insert(&mut txn, u32::from(index) % (len + 1), XmlElementPrelim::empty("blockContainer"))
                    };
                    for level in 1..levels {
                        if text && level + 1 == levels {
                            parent.insert(&mut txn, 0, XmlTextPrelim::new("x"));
                        } else {
                            parent = parent.insert(&mut txn, 0, XmlElementPrelim::empty("blockGroup"));
                        }
                    }
                }
            }
            let update = writer.transact().encode_state_as_update_v1(&before);

            // What the document would be: the server's state plus the update.
            let trial = Doc::with_client_id(2);
            load(&trial, &server.transact().encode_state_as_update_v1(&StateVector::default()));
            load(&trial, &update);
            let would_be = max_depth(&trial);

            let checked = check_update_v1_against(&update, &limits, &server);
            match &checked {
                Ok(_) => prop_assert!(would_be <= LIMIT,
                    "round {round}: accepted, but the document would nest {would_be} deep"),
                Err(SyncError::TooDeep { limit }) => {
                    prop_assert_eq!(*limit, LIMIT as u64);
                    prop_assert!(would_be > LIMIT,
                        "round {round}: refused, but the document would nest only {would_be} deep");
                }
                Err(e) => prop_assert!(false, "round {round}: unexpected error {e}"),
            }
            // Without the document the check sees only the update's own
            // nesting: it never refuses more than the full check does.
            if checked.is_ok() {
                prop_assert!(check_update_v1(&update, &limits).is_ok());
            }

            if checked.is_ok() {
                load(&server, &update);
            } else {
                // A refused writer reloads what the server holds, as a
                // client whose connection the server closed does.
                let fresh = Doc::with_client_id(next_client);
                next_client += 1;
                load(&fresh, &server.transact().encode_state_as_update_v1(&StateVector::default()));
                writers[writer_index] = fresh;
            }
            prop_assert!(max_depth(&server) <= LIMIT);
            // The other writers catch up with the server.
            for w in writers.iter() {
                let sv = w.transact().state_vector();
                let diff = server.transact().encode_state_as_update_v1(&sv);
                load(w, &diff);
            }
        }
    }
}
