//! [`IdbDriver`]: the IndexedDB database of a document family (the text and
//! its chat) and each document's log in it.
//!
//! Before a document joins its socket, its records are read and applied, so
//! a page reloaded offline shows (and edits) its last state; every later
//! update, local or remote, is appended, and each document's log is
//! compacted by its own [`Compactor`]. A record that fails the update
//! checks (`check_update_v1_against` the document as loaded so far, so a log
//! cannot nest past the limit record by record) is skipped and the log is
//! then never compacted, which would drop it. What the server was last
//! known to hold (`DocState::all_confirmed`) is kept beside the log and
//! read back with it, so a page reloaded offline still tells which local
//! changes the server lacks. If IndexedDB fails, the
//! document stays in memory, syncing carries on and
//! [`PersistenceStatus::Unavailable`] says so.

use crate::compaction::{CompactionPolicy, Compactor};
use crate::doc_state::DocState;
use crate::idb_store::IdbStore;
use crate::status::PersistenceStatus;
use crate::stored_records::apply_stored_records;
use crate::update_queue::Source;
use crate::{now_ms, warn};
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};

enum Db {
    Opening,
    Open(IdbStore),
    Failed(String),
}

/// One document's log, as this tab knows it.
struct Log {
    name: String,
    doc: Weak<DocState>,
    compactor: Compactor,
    /// False when a stored record could not be read: compacting would drop it.
    can_compact: bool,
    writes_in_flight: u32,
}

/// One IndexedDB database and the logs of the documents kept in it.
pub(crate) struct IdbDriver {
    db: RefCell<Db>,
    logs: RefCell<Vec<Log>>,
    policy: CompactionPolicy,
}

impl IdbDriver {
    /// Starts opening database `name` (family of `base`).
    pub(crate) fn open(name: &str, base: &str, policy: CompactionPolicy) -> Rc<Self> {
        let driver = Rc::new(IdbDriver {
            db: RefCell::new(Db::Opening),
            logs: RefCell::new(Vec::new()),
            policy,
        });
        let weak = Rc::downgrade(&driver);
        let (name, base) = (name.to_owned(), base.to_owned());
        wasm_bindgen_futures::spawn_local(async move {
            let opened = IdbStore::open(&name, &base).await;
            match weak.upgrade() {
                Some(driver) => driver.opened(opened),
                // Every document left while the database was opening.
                None => opened.iter().for_each(IdbStore::close),
            }
        });
        driver
    }

    fn opened(&self, opened: Result<IdbStore, String>) {
        *self.db.borrow_mut() = match opened {
            Ok(store) => Db::Open(store),
            Err(e) => Db::Failed(e),
        };
        let waiting: Vec<Rc<DocState>> = self
            .logs
            .borrow()
            .iter()
            .filter_map(|l| l.doc.upgrade())
            .collect();
        for doc in waiting {
            self.load(doc);
        }
    }

    /// Adds `doc`; its records are loaded once the database is open, and
    /// then it joins the network.
    pub(crate) fn add(&self, doc: &Rc<DocState>) {
        self.logs.borrow_mut().push(Log {
            name: doc.key.name.clone(),
            doc: Rc::downgrade(doc),
            compactor: Compactor::new(self.policy, 0, now_ms()),
            can_compact: true,
            writes_in_flight: 0,
        });
        if !matches!(*self.db.borrow(), Db::Opening) {
            self.load(doc.clone());
        }
    }

    fn load(&self, doc: Rc<DocState>) {
        let store = match &*self.db.borrow() {
            Db::Opening => return,
            Db::Open(store) => store.clone(),
            Db::Failed(e) => {
                let e = e.clone();
                self.loaded(&doc, Err(e));
                return;
            }
        };
        let weak = Rc::downgrade(&doc);
        wasm_bindgen_futures::spawn_local(async move {
            let records = store.load(&doc.key.name).await;
            let server_state = store.load_server_state(&doc.key.name).await;
            drop(doc);
            let Some(doc) = weak.upgrade() else {
                return;
            };
            if let Ok(Some(sv)) = server_state {
                doc.restore_server_state(sv);
            }
            if let Some(driver) = doc.store.clone() {
                driver.loaded(&doc, records);
            }
        });
    }

    /// Applies the stored records, then lets `doc` join the network
    /// (whatever IndexedDB answered).
    fn loaded(&self, doc: &Rc<DocState>, records: Result<Vec<Vec<u8>>, String>) {
        if doc.is_closed() {
            return;
        }
        match records {
            Ok(records) => {
                let skipped = doc.captures.applying(Source::Stored, || {
                    apply_stored_records(&doc.doc, &doc.limits, &records)
                });
                let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
                self.with_log(&doc.key.name, |log| {
                    log.compactor.reset(count, now_ms());
                    if skipped > 0 {
                        // Keep what cannot be read: never compact it away.
                        log.can_compact = false;
                    }
                });
                if skipped > 0 {
                    warn(&format!(
                        "{skipped} stored update(s) of {} could not be read; its log is not compacted",
                        doc.key.name
                    ));
                }
                doc.set_persistence(PersistenceStatus::Saved);
                doc.initialise_if_structured();
            }
            Err(e) => self.failed(doc, &e),
        }
        doc.start_network();
        crate::hub::drive();
    }

    fn with_log<R>(&self, name: &str, f: impl FnOnce(&mut Log) -> R) -> Option<R> {
        self.logs
            .borrow_mut()
            .iter_mut()
            .find(|l| l.name == name)
            .map(f)
    }

    fn store(&self) -> Option<IdbStore> {
        match &*self.db.borrow() {
            Db::Open(store) => Some(store.clone()),
            _ => None,
        }
    }

    /// `doc` carries on in memory only: the document is untouched.
    fn failed(&self, doc: &DocState, reason: &str) {
        warn(&format!(
            "IndexedDB unavailable, {} is kept in memory only: {reason}",
            doc.key.name
        ));
        doc.captures.to_store.turn_off();
        doc.set_persistence(PersistenceStatus::Unavailable);
    }

    /// Appends what `doc`'s observer captured, compacting when the policy
    /// says so.
    pub(crate) fn flush(&self, doc: &DocState) {
        if doc.loading.get() {
            return;
        }
        let batch = doc.captures.to_store.take();
        if batch.is_empty() {
            return;
        }
        let Some(store) = self.store() else {
            return;
        };
        let now = now_ms();
        match store.append(&doc.key.name, &batch) {
            Ok(done) => {
                self.track_write(doc, done);
                let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
                if self.with_log(&doc.key.name, |l| l.compactor.appended(count, now)) == Some(true)
                {
                    self.compact(doc, now);
                }
            }
            Err(e) => self.failed(doc, &e),
        }
    }

    /// Replaces `doc`'s log with its full state. Issued after every append
    /// made so far, so the state covers all of them.
    fn compact(&self, doc: &DocState, now: u64) {
        let allowed = self.with_log(&doc.key.name, |l| l.can_compact) == Some(true);
        if !allowed || doc.loading.get() || !doc.captures.to_store.is_on() {
            return;
        }
        let Some(store) = self.store() else {
            return;
        };
        // Anything captured but not yet appended is in the state too.
        doc.captures.to_store.take();
        match store.replace(&doc.key.name, &doc.doc.encode_state_v1()) {
            Ok(done) => {
                self.with_log(&doc.key.name, |l| l.compactor.compacted(now));
                self.track_write(doc, done);
            }
            Err(e) => self.failed(doc, &e),
        }
    }

    /// Remembers `state_vector` as what `doc`'s server holds.
    pub(crate) fn save_server_state(&self, doc: &DocState, state_vector: &[u8]) {
        let Some(store) = self.store() else {
            return;
        };
        match store.save_server_state(&doc.key.name, state_vector) {
            Ok(done) => wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = done.await {
                    warn(&format!("what the server holds was not stored: {e}"));
                }
            }),
            Err(e) => warn(&format!("what the server holds was not stored: {e}")),
        }
    }

    /// Compacts the logs that went quiet.
    pub(crate) fn tick(&self, now: u64) {
        let due: Vec<Rc<DocState>> = self
            .logs
            .borrow()
            .iter()
            .filter(|l| l.compactor.idle_due(now))
            .filter_map(|l| l.doc.upgrade())
            .collect();
        for doc in due {
            self.compact(&doc, now);
        }
    }

    fn track_write(
        &self,
        doc: &DocState,
        done: impl Future<Output = Result<(), String>> + 'static,
    ) {
        let weak = self.with_log(&doc.key.name, |l| {
            l.writes_in_flight += 1;
            l.doc.clone()
        });
        doc.set_persistence(PersistenceStatus::Saving);
        let name = doc.key.name.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = done.await;
            let Some(doc) = weak.and_then(|w| w.upgrade()) else {
                return;
            };
            let Some(driver) = doc.store.clone() else {
                return;
            };
            let left = driver.with_log(&name, |l| {
                l.writes_in_flight = l.writes_in_flight.saturating_sub(1);
                l.writes_in_flight
            });
            match result {
                Err(e) => driver.failed(&doc, &e),
                Ok(()) => {
                    if left == Some(0) && doc.persistence() == PersistenceStatus::Saving {
                        doc.set_persistence(PersistenceStatus::Saved);
                    }
                }
            }
            crate::hub::drive();
        });
    }

    /// Forgets `name`'s log; the database closes after the last one.
    pub(crate) fn leave(&self, name: &str) {
        self.logs.borrow_mut().retain(|l| l.name != name);
        if self.is_unused()
            && let Some(store) = self.store()
        {
            // Pending transactions still complete.
            store.close();
        }
    }

    /// Whether no document uses the database any more.
    pub(crate) fn is_unused(&self) -> bool {
        self.logs.borrow().is_empty()
    }
}
