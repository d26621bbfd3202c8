//! [`IdbStore`]: the update logs of a document family in IndexedDB.
//!
//! One database per server and *base* document ([`database_name`]): the
//! text `D` and its siblings (its chat `D:chat`) share it. It holds one
//! object store of records with auto-incremented keys, each
//! `{d: document name, u: Yjs v1 update}` (a change, or after compaction
//! the document's full state), and an index on `d`, so each document reads
//! and compacts only its own log. Beside the logs, one record per document
//! under the key `["server-state", name]` holds `{s: state vector}`, what
//! the server was last known to hold ([`IdbStore::save_server_state`]);
//! it has no `d`, so the index (and every log read, append and
//! compaction) never sees it, and no schema change was needed.
//!
//! Schema version 1 kept one database per document, its records bare
//! updates. Its database for `D` has the name version 2 uses for `D`'s
//! family, so opening it upgrades it in place: the index is created and
//! every bare record becomes `{d: D, u: record}`, in the upgrade's own
//! transaction (all or nothing). A connection still open elsewhere keeps
//! the upgrade waiting: one closing (its last transaction finishing) lets it
//! through in a moment, but a tab still running the version-1 code may hold
//! it for good, so the open gives up [`BLOCKED_GRACE_MS`] after the browser
//! says it is blocked, and the documents carry on in memory.
//!
//! Writes are issued synchronously (the transaction is created when the
//! method is called), so IndexedDB runs them in call order; the returned
//! future only reports completion. Every failure (no IndexedDB, private
//! mode, quota) comes back as a message; the caller then carries on
//! without persistence.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbCursorWithValue, IdbDatabase, IdbObjectStore, IdbObjectStoreParameters, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

type Callback = Closure<dyn FnMut(Event)>;

const STORE: &str = "updates";
/// The index of records by document name (schema version 2).
const BY_DOC: &str = "doc";
const VERSION: u32 = 2;
/// How long an open the browser reports blocked may still wait.
pub const BLOCKED_GRACE_MS: i32 = 2_000;

/// The IndexedDB database name of the document family of `base` on
/// `server`: the same name on two servers is two families. Version 1 gave
/// every document this name with its own name as `base`.
pub fn database_name(server: &str, base: &str) -> String {
    format!("atelier-web/v1 {} {server} {base}", server.len())
}

/// An open database of one document family.
#[derive(Debug, Clone)]
pub struct IdbStore {
    db: IdbDatabase,
}

/// A record of document `doc`.
fn record(doc: &str, update: &JsValue) -> JsValue {
    let r = Object::new();
    let _ = Reflect::set(&r, &"d".into(), &doc.into());
    let _ = Reflect::set(&r, &"u".into(), update);
    r.into()
}

/// The key of `doc`'s server-state record: an array, never among the
/// log's auto-incremented numbers.
fn server_state_key(doc: &str) -> JsValue {
    Array::of2(&"server-state".into(), &doc.into()).into()
}

/// The bytes of a stored update (a `Uint8Array` or an `ArrayBuffer`).
fn bytes_of(v: &JsValue) -> Option<Vec<u8>> {
    (v.is_instance_of::<Uint8Array>() || v.is_instance_of::<js_sys::ArrayBuffer>())
        .then(|| Uint8Array::new(v).to_vec())
}

/// A readable message for a failed IndexedDB call (a `DOMException` name
/// and message when there is one).
fn describe(e: &JsValue) -> String {
    if let Some(ex) = e.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", ex.name(), ex.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Resolves with the request's result once it succeeded.
async fn request_result(req: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    let done = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match done {
        Ok(_) => req.result().map_err(|e| describe(&e)),
        Err(_) => Err(req
            .error()
            .ok()
            .flatten()
            .map_or_else(|| "request failed".to_owned(), |e| describe(&e))),
    }
}

/// Resolves once the transaction committed.
fn committed(tx: IdbTransaction) -> impl Future<Output = Result<(), String>> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    async move {
        let done = JsFuture::from(promise).await;
        tx.set_oncomplete(None);
        tx.set_onerror(None);
        tx.set_onabort(None);
        match done {
            Ok(_) => Ok(()),
            Err(_) => Err(tx
                .error()
                .map_or_else(|| "transaction aborted".to_owned(), |e| describe(&e))),
        }
    }
}

/// Rewrites every bare record of `store` (schema version 1) as a record of
/// `base`, from a cursor in the upgrade transaction. Returns the cursor's
/// callback, which must live until the transaction ends.
fn migrate(store: &IdbObjectStore, base: String) -> Result<Callback, JsValue> {
    let req = store.open_cursor()?;
    let cursor_req = req.clone();
    let step: Callback = Closure::new(move |_: Event| {
        let Some(cursor) = cursor_req
            .result()
            .ok()
            .and_then(|c| c.dyn_into::<IdbCursorWithValue>().ok())
        else {
            // Null: every record was visited.
            return;
        };
        if let Ok(value) = cursor.value()
            && bytes_of(&value).is_some()
        {
            let _ = cursor.update(&record(&base, &Uint8Array::new(&value)));
        }
        let _ = cursor.continue_();
    });
    req.set_onsuccess(Some(step.as_ref().unchecked_ref()));
    Ok(step)
}

impl IdbStore {
    /// Opens (creating or upgrading if needed) the database `name` of the
    /// family of `base`; records of the version-1 schema become `base`'s.
    pub async fn open(name: &str, base: &str) -> Result<IdbStore, String> {
        let window = web_sys::window().ok_or("no window")?;
        let factory = window
            .indexed_db()
            .map_err(|e| describe(&e))?
            .ok_or("IndexedDB is not available")?;
        let req = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| describe(&e))?;
        let for_upgrade = req.clone();
        let base = base.to_owned();
        // The migration's cursor callback, alive until the open settles
        // (the upgrade transaction ends before it does).
        let migration: Rc<RefCell<Option<Callback>>> = Rc::default();
        let keep = migration.clone();
        let upgrade: Callback = Closure::new(move |_: Event| {
            let Some(tx) = for_upgrade.transaction() else {
                return;
            };
            let upgraded = (|| -> Result<(), JsValue> {
                let db: IdbDatabase = for_upgrade.result()?.dyn_into()?;
                let store = if db.object_store_names().contains(STORE) {
                    tx.object_store(STORE)?
                } else {
                    let params = IdbObjectStoreParameters::new();
                    params.set_auto_increment(true);
                    db.create_object_store_with_optional_parameters(STORE, &params)?
                };
                if !store.index_names().contains(BY_DOC) {
                    store.create_index_with_str(BY_DOC, "d")?;
                    *keep.borrow_mut() = Some(migrate(&store, base.clone())?);
                }
                Ok(())
            })();
            if upgraded.is_err() {
                // Aborting fails the open: no half-made schema is left.
                let _ = tx.abort();
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let promise = Promise::new(&mut |resolve, reject| {
            req.set_onsuccess(Some(&resolve));
            req.set_onerror(Some(&reject));
            let window = window.clone();
            let give_up = Closure::once_into_js(move || {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &reject,
                    BLOCKED_GRACE_MS,
                );
            });
            req.set_onblocked(Some(give_up.unchecked_ref()));
        });
        let opened = JsFuture::from(promise).await;
        req.set_onerror(None);
        req.set_onblocked(None);
        if opened.is_err() {
            req.set_onsuccess(None);
            if let Some(e) = req.error().ok().flatten() {
                req.set_onupgradeneeded(None);
                return Err(describe(&e));
            }
            // Blocked (a pending request has no error yet). Should the
            // other tab close later, the upgrade still runs (its callbacks
            // stay alive until then) and what it opens is closed.
            let late = req.clone();
            let finish = Closure::once_into_js(move || {
                drop((upgrade, migration));
                if let Ok(db) = late.result().map(JsCast::unchecked_into::<IdbDatabase>) {
                    db.close();
                }
            });
            req.set_onsuccess(Some(finish.unchecked_ref()));
            return Err(
                "another tab runs an older version of this page; reload it to keep documents offline"
                    .to_owned(),
            );
        }
        req.set_onupgradeneeded(None);
        drop((upgrade, migration));
        req.set_onsuccess(None);
        let db = req
            .result()
            .map_err(|e| describe(&e))?
            .dyn_into::<IdbDatabase>()
            .map_err(|_| "open returned no database".to_owned())?;
        // A newer page wants to upgrade the schema: let it (this tab's
        // documents then carry on in memory).
        let for_close = db.clone();
        let yield_to_newer = Closure::once_into_js(move || for_close.close());
        db.set_onversionchange(Some(yield_to_newer.unchecked_ref()));
        Ok(IdbStore { db })
    }

    fn transaction(&self, mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
        self.db
            .transaction_with_str_and_mode(STORE, mode)
            .map_err(|e| describe(&e))
    }

    /// Every record of `doc`, oldest first. Records that hold no byte
    /// array (written by something else) are skipped.
    pub async fn load(&self, doc: &str) -> Result<Vec<Vec<u8>>, String> {
        let tx = self.transaction(IdbTransactionMode::Readonly)?;
        let index = tx
            .object_store(STORE)
            .and_then(|s| s.index(BY_DOC))
            .map_err(|e| describe(&e))?;
        let req = index
            .get_all_with_key(&doc.into())
            .map_err(|e| describe(&e))?;
        let all = request_result(&req).await?;
        let all: Array = all.dyn_into().map_err(|_| "getAll returned no array")?;
        Ok(all
            .iter()
            .filter_map(|r| Reflect::get(&r, &"u".into()).ok())
            .filter_map(|u| bytes_of(&u))
            .collect())
    }

    /// Appends `updates` to `doc`'s log, in one transaction.
    pub fn append(
        &self,
        doc: &str,
        updates: &[Vec<u8>],
    ) -> Result<impl Future<Output = Result<(), String>> + use<>, String> {
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
        for u in updates {
            store
                .add(&record(doc, &Uint8Array::from(u.as_slice())))
                .map_err(|e| describe(&e))?;
        }
        Ok(committed(tx))
    }

    /// Replaces `doc`'s records with `state` (its full state), atomically;
    /// the other documents' records stay.
    pub fn replace(
        &self,
        doc: &str,
        state: &[u8],
    ) -> Result<impl Future<Output = Result<(), String>> + use<>, String> {
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
        let keys = store
            .index(BY_DOC)
            .and_then(|i| i.get_all_keys_with_key(&doc.into()))
            .map_err(|e| describe(&e))?;
        let (for_keys, doc, state) = (keys.clone(), doc.to_owned(), Uint8Array::from(state));
        // Runs in the transaction (a request callback keeps it active); a
        // failing request aborts it, which `committed` reports.
        let replace = Closure::once_into_js(move || {
            let old = for_keys
                .result()
                .ok()
                .and_then(|k| k.dyn_into::<Array>().ok());
            for key in old.iter().flat_map(Array::iter) {
                let _ = store.delete(&key);
            }
            let _ = store.add(&record(&doc, &state));
        });
        keys.set_onsuccess(Some(replace.unchecked_ref()));
        Ok(committed(tx))
    }

    /// What `doc`'s server was last known to hold (an encoded state
    /// vector), if this database remembers.
    pub async fn load_server_state(&self, doc: &str) -> Result<Option<Vec<u8>>, String> {
        let tx = self.transaction(IdbTransactionMode::Readonly)?;
        let req = tx
            .object_store(STORE)
            .and_then(|s| s.get(&server_state_key(doc)))
            .map_err(|e| describe(&e))?;
        let record = request_result(&req).await?;
        Ok(Reflect::get(&record, &"s".into())
            .ok()
            .and_then(|s| bytes_of(&s)))
    }

    /// Remembers what `doc`'s server holds (an encoded state vector),
    /// replacing what was remembered.
    pub fn save_server_state(
        &self,
        doc: &str,
        state_vector: &[u8],
    ) -> Result<impl Future<Output = Result<(), String>> + use<>, String> {
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let record = Object::new();
        let _ = Reflect::set(&record, &"s".into(), &Uint8Array::from(state_vector).into());
        tx.object_store(STORE)
            .and_then(|s| s.put_with_key(&record, &server_state_key(doc)))
            .map_err(|e| describe(&e))?;
        Ok(committed(tx))
    }

    /// Closes the database (pending transactions still complete).
    pub fn close(&self) {
        self.db.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_separate_servers_and_documents() {
        let a = database_name("ws://a/sync", "notes");
        assert_ne!(a, database_name("ws://b/sync", "notes"));
        assert_ne!(a, database_name("ws://a/sync", "notes2"));
        // The length prefix keeps a space in a name from making two pairs collide.
        assert_ne!(database_name("x y", "z"), database_name("x", "y z"));
    }
}
