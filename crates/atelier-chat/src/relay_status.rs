//! [`RelayStatus`]: the refusals the Matrix bridge recorded for the chat's
//! messages (the `failed:<id>` keys of the chat document's `matrix` map,
//! named by `atelier-relay-status`), followed like the chat itself: the
//! map's observer only raises a flag inside the transaction, and the panel
//! reads the refusals again on its next flush.

use atelier_relay_status::{FAILED_PREFIX, failures_in, ledger_map};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use yrs::{Doc, MapRef, Observable, Transact};

/// The refusals of one chat document, as the panel last read them.
pub(crate) struct RelayStatus {
    doc: Doc,
    map: MapRef,
    changed: Arc<AtomicBool>,
    failures: RefCell<BTreeMap<String, String>>,
}

impl RelayStatus {
    /// Reads the refusals of `doc` (outside any of its transactions).
    pub(crate) fn new(doc: &Doc) -> Self {
        let map = ledger_map(doc);
        let failures = failures_in(&map, &doc.transact());
        RelayStatus {
            doc: doc.clone(),
            map,
            changed: Arc::new(AtomicBool::new(false)),
            failures: RefCell::new(failures),
        }
    }

    /// Calls `changed` (inside the transaction) whenever a refusal is
    /// written or taken back; other keys of the map are the bridge's own.
    pub(crate) fn observe(&self, key: &str, changed: impl Fn() + Send + Sync + 'static) {
        let flag = self.changed.clone();
        self.map.observe(key.to_owned(), move |txn, event| {
            if event.keys(txn).keys().any(|k| k.starts_with(FAILED_PREFIX)) {
                flag.store(true, Ordering::Relaxed);
                changed();
            }
        });
    }

    /// Stops following the map.
    pub(crate) fn unobserve(&self, key: &str) {
        self.map.unobserve(key.to_owned());
    }

    /// Reads the refusals again if they changed; returns whether they did.
    pub(crate) fn refresh(&self) -> bool {
        if !self.changed.swap(false, Ordering::Relaxed) {
            return false;
        }
        let now = failures_in(&self.map, &self.doc.transact());
        let mut failures = self.failures.borrow_mut();
        if *failures == now {
            return false;
        }
        *failures = now;
        true
    }

    /// Why the bridged room refused message `id`, if it did.
    pub(crate) fn refusal(&self, id: &str) -> Option<String> {
        self.failures.borrow().get(id).cloned()
    }
}
