//! The `matrix` map of a chat document `D:chat` (layer 1, no I/O): the
//! record the Matrix bridge keeps beside the `chat` array, reduced to what
//! both the bridge (`atelier-matrix`, native) and the chat panel
//! (`atelier-chat`, wasm) must agree on — the map's name and the key of a
//! message's refusal.
//!
//! It is a crate of its own because the chat model's crate (`atelier-doc`)
//! knows nothing of bridges, and `atelier-matrix` speaks HTTP and cannot
//! reach the browser; every other key of the map stays private to the
//! bridge (see `atelier_matrix::ledger`).
//!
//! ```
//! use atelier_relay_status::{failures, record_failure, refusal};
//! let doc = yrs::Doc::new();
//! record_failure(&doc, "m1", "refused by the homeserver (403 M_FORBIDDEN): not in the room");
//! assert!(refusal(&doc, "m1").is_some_and(|r| r.contains("M_FORBIDDEN")));
//! assert_eq!(failures(&doc).len(), 1);
//! assert_eq!(refusal(&doc, "m2"), None);
//! ```
//!
//! Features: none.

use std::collections::BTreeMap;
use yrs::{Any, Doc, Map, MapRef, Out, ReadTxn, Transact};

/// Name of the bridge's map in the chat document.
pub const LEDGER: &str = "matrix";

/// Prefix of the key of a message's refusal: `failed:<message id>` holds
/// why the bridged room refused the message, as text for people.
pub const FAILED_PREFIX: &str = "failed:";

/// The key of message `id`'s refusal.
pub fn failure_key(id: &str) -> String {
    format!("{FAILED_PREFIX}{id}")
}

/// The bridge's map of `doc`. Call it outside any transaction of `doc`
/// (it may create the root type).
pub fn ledger_map(doc: &Doc) -> MapRef {
    doc.get_or_insert_map(LEDGER)
}

/// Why the bridged room refused message `id`, read in `txn`.
pub fn refusal_in<T: ReadTxn>(map: &MapRef, txn: &T, id: &str) -> Option<String> {
    match map.get(txn, &failure_key(id)) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

/// Why the bridged room refused message `id` of `doc`, if it did.
pub fn refusal(doc: &Doc, id: &str) -> Option<String> {
    let map = ledger_map(doc);
    let txn = doc.transact();
    refusal_in(&map, &txn, id)
}

/// Every refusal in `map`, by message id, read in `txn`. A value that is
/// not text (written by something else than the bridge) is left out.
pub fn failures_in<T: ReadTxn>(map: &MapRef, txn: &T) -> BTreeMap<String, String> {
    map.iter(txn)
        .filter_map(|(key, value)| {
            let id = key.strip_prefix(FAILED_PREFIX)?;
            match value {
                Out::Any(Any::String(s)) => Some((id.to_owned(), s.to_string())),
                _ => None,
            }
        })
        .collect()
}

/// Every refusal in `doc`, by message id.
pub fn failures(doc: &Doc) -> BTreeMap<String, String> {
    let map = ledger_map(doc);
    let txn = doc.transact();
    failures_in(&map, &txn)
}

/// Records that the bridged room refused message `id`, and why, in one
/// transaction of `doc`.
pub fn record_failure(doc: &Doc, id: &str, reason: &str) {
    let map = ledger_map(doc);
    let mut txn = doc.transact_mut();
    map.insert(&mut txn, failure_key(id), reason.to_owned());
}

/// Takes back message `id`'s refusal in `txn` (it was relayed after all).
pub fn clear_failure_in(map: &MapRef, txn: &mut yrs::TransactionMut, id: &str) {
    map.remove(txn, &failure_key(id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_read_back_and_other_keys_are_ignored() {
        let doc = Doc::new();
        let map = ledger_map(&doc);
        {
            let mut txn = doc.transact_mut();
            map.insert(&mut txn, "event:m1", "$e");
            map.insert(&mut txn, "failed:m2", 3.0);
        }
        record_failure(&doc, "m1", "no");
        let all = failures(&doc);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all.get("m1").map(String::as_str), Some("no"));
        {
            let mut txn = doc.transact_mut();
            clear_failure_in(&map, &mut txn, "m1");
        }
        assert_eq!(refusal(&doc, "m1"), None);
    }
}
