//! [`IdbStore`]: one document's update log in IndexedDB.
//!
//! One database per (server, document) ([`database_name`]), holding one
//! object store of records with auto-incremented keys; each record is a
//! Yjs v1 update (a change, or after compaction the full state). Writes are
//! issued synchronously (the transaction is created when the method is
//! called), so IndexedDB runs them in call order; the returned future only
//! reports completion. Every failure (no IndexedDB, private mode, quota)
//! comes back as a message; the caller then carries on without persistence.

use js_sys::{Array, Promise, Uint8Array};
use std::future::Future;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransaction, IdbTransactionMode,
};

const STORE: &str = "updates";
const VERSION: u32 = 1;

/// The IndexedDB database name of `document` on `server`: the same name on
/// two servers is two documents.
pub fn database_name(server: &str, document: &str) -> String {
    format!("atelier-web/v1 {} {server} {document}", server.len())
}

/// An open database of one document.
#[derive(Debug, Clone)]
pub struct IdbStore {
    db: IdbDatabase,
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

impl IdbStore {
    /// Opens (creating if needed) the database `name`.
    pub async fn open(name: &str) -> Result<IdbStore, String> {
        let window = web_sys::window().ok_or("no window")?;
        let factory = window
            .indexed_db()
            .map_err(|e| describe(&e))?
            .ok_or("IndexedDB is not available")?;
        let req = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| describe(&e))?;
        let for_upgrade = req.clone();
        let upgrade: Closure<dyn FnMut(Event)> = Closure::new(move |_: Event| {
            let Ok(db) = for_upgrade.result() else {
                return;
            };
            let Ok(db) = db.dyn_into::<IdbDatabase>() else {
                return;
            };
            if !db.object_store_names().contains(STORE) {
                let params = IdbObjectStoreParameters::new();
                params.set_auto_increment(true);
                // A failure here aborts the upgrade, and so the open.
                let _ = db.create_object_store_with_optional_parameters(STORE, &params);
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = request_result(&req).await;
        req.set_onupgradeneeded(None);
        drop(upgrade);
        let db = opened?
            .dyn_into::<IdbDatabase>()
            .map_err(|_| "open returned no database".to_owned())?;
        Ok(IdbStore { db })
    }

    fn transaction(&self, mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
        self.db
            .transaction_with_str_and_mode(STORE, mode)
            .map_err(|e| describe(&e))
    }

    /// Every record, oldest first. Records that are not byte arrays (written
    /// by something else) are skipped.
    pub async fn load(&self) -> Result<Vec<Vec<u8>>, String> {
        let tx = self.transaction(IdbTransactionMode::Readonly)?;
        let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
        let req = store.get_all().map_err(|e| describe(&e))?;
        let all = request_result(&req).await?;
        let all: Array = all.dyn_into().map_err(|_| "getAll returned no array")?;
        Ok(all
            .iter()
            .filter_map(|v| {
                if v.is_instance_of::<Uint8Array>() || v.is_instance_of::<js_sys::ArrayBuffer>() {
                    Some(Uint8Array::new(&v).to_vec())
                } else {
                    None
                }
            })
            .collect())
    }

    /// Appends `updates`, in one transaction.
    pub fn append(
        &self,
        updates: &[Vec<u8>],
    ) -> Result<impl Future<Output = Result<(), String>> + use<>, String> {
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
        for u in updates {
            store
                .add(&Uint8Array::from(u.as_slice()))
                .map_err(|e| describe(&e))?;
        }
        Ok(committed(tx))
    }

    /// Replaces every record with `state` (the full document), atomically.
    pub fn replace_all(
        &self,
        state: &[u8],
    ) -> Result<impl Future<Output = Result<(), String>> + use<>, String> {
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
        store.clear().map_err(|e| describe(&e))?;
        store
            .add(&Uint8Array::from(state))
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
