//! The embedded SQLite store (WAL mode).
//!
//! In WAL mode with `synchronous=NORMAL`, a committed transaction survives a
//! crash of the process (`kill -9`); only an OS crash or power loss can lose
//! the last commits. `--sqlite-synchronous full` trades speed for that too.

use crate::store::{StoreError, Stored, VersionInfo};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A SQLite database shared by the server's tasks.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Documents being compacted by this process (one compaction at a time
    /// per document; SQLite serves one process, so this is the whole lock).
    compacting: Arc<Mutex<HashSet<String>>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS updates (
    doc TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (doc, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    doc TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_doc ON versions (doc, id);
";

impl SqliteStore {
    /// Opens (creating if needed) the database file and its directory.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(dir) = Path::new(&path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Task(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let conn = Connection::open(&path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            compacting: Default::default(),
        })
    }

    /// See [`crate::store::Store::try_lock_compaction`].
    pub fn try_lock_compaction(&self, doc: &str) -> bool {
        self.compacting
            .lock()
            .map(|mut set| set.insert(doc.to_owned()))
            .unwrap_or(false)
    }

    /// See [`crate::store::Store::unlock_compaction`].
    pub fn unlock_compaction(&self, doc: &str) {
        if let Ok(mut set) = self.compacting.lock() {
            set.remove(doc);
        }
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("sqlite connection poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// See [`crate::store::Store::append`].
    pub async fn append(&self, doc: &str, update: &[u8]) -> Result<i64, StoreError> {
        let (doc, update) = (doc.to_owned(), update.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            let next: i64 = tx.query_row(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM updates WHERE doc = ?1), 0),
                            COALESCE((SELECT seq FROM snapshots WHERE doc = ?1), 0)) + 1",
                params![doc],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO updates (doc, seq, data) VALUES (?1, ?2, ?3)",
                params![doc, next, update],
            )?;
            tx.commit()?;
            Ok(next)
        })
        .await
    }

    /// See [`crate::store::Store::load`].
    pub async fn load(&self, doc: &str) -> Result<Stored, StoreError> {
        let doc = doc.to_owned();
        self.with(move |c| {
            let snap: Option<(i64, Vec<u8>)> = c
                .query_row(
                    "SELECT seq, data FROM snapshots WHERE doc = ?1",
                    params![doc],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (snapshot_seq, snapshot) = match snap {
                Some((s, d)) => (s, Some(d)),
                None => (0, None),
            };
            let mut stmt = c.prepare(
                "SELECT seq, data FROM updates WHERE doc = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let updates = stmt
                .query_map(params![doc, snapshot_seq], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Stored {
                snapshot,
                snapshot_seq,
                updates,
            })
        })
        .await
    }

    /// See [`crate::store::Store::load_since`].
    pub async fn load_since(&self, doc: &str, after: i64) -> Result<Stored, StoreError> {
        let doc = doc.to_owned();
        self.with(move |c| {
            // One read transaction: a compaction between the two reads
            // could otherwise delete updates the snapshot read did not cover.
            let tx = c.transaction()?;
            let snap: Option<(i64, Vec<u8>)> = tx
                .query_row(
                    "SELECT seq, data FROM snapshots WHERE doc = ?1 AND seq > ?2",
                    params![doc, after],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (snapshot_seq, snapshot) = match snap {
                Some((s, d)) => (s, Some(d)),
                None => (after, None),
            };
            let updates = {
                let mut stmt = tx.prepare(
                    "SELECT seq, data FROM updates WHERE doc = ?1 AND seq > ?2 ORDER BY seq",
                )?;
                stmt.query_map(params![doc, snapshot_seq], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            tx.commit()?;
            Ok(Stored {
                snapshot,
                snapshot_seq,
                updates,
            })
        })
        .await
    }

    /// See [`crate::store::Store::compact`].
    pub async fn compact(&self, doc: &str, seq: i64, snapshot: &[u8]) -> Result<(), StoreError> {
        let (doc, snapshot) = (doc.to_owned(), snapshot.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO snapshots (doc, seq, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc) DO UPDATE SET seq = excluded.seq, data = excluded.data
                 WHERE excluded.seq > snapshots.seq",
                params![doc, seq, snapshot],
            )?;
            tx.execute(
                "DELETE FROM updates WHERE doc = ?1 AND seq <= ?2",
                params![doc, seq],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// See [`crate::store::Store::save_version`].
    pub async fn save_version(
        &self,
        doc: &str,
        name: &str,
        created_ms: i64,
        state: &[u8],
    ) -> Result<i64, StoreError> {
        let (doc, name, state) = (doc.to_owned(), name.to_owned(), state.to_vec());
        self.with(move |c| {
            c.execute(
                "INSERT INTO versions (doc, name, created_ms, data) VALUES (?1, ?2, ?3, ?4)",
                params![doc, name, created_ms, state],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// See [`crate::store::Store::list_versions`].
    pub async fn list_versions(&self, doc: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let doc = doc.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, name, created_ms, length(data) FROM versions WHERE doc = ?1 ORDER BY id DESC",
            )?;
            let rows = stmt
                .query_map(params![doc], |r| {
                    Ok(VersionInfo {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_ms: r.get(2)?,
                        size: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// See [`crate::store::Store::list_documents`].
    pub async fn list_documents(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = after.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT doc FROM (SELECT doc FROM snapshots UNION SELECT doc FROM updates) \
                 WHERE doc > ?1 ORDER BY doc LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after, limit], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// See [`crate::store::Store::version`].
    pub async fn version(&self, doc: &str, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let doc = doc.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT data FROM versions WHERE doc = ?1 AND id = ?2",
                params![doc, id],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }
}
