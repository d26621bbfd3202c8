//! The embedded SQLite store (WAL mode).
//!
//! In WAL mode with `synchronous=NORMAL`, a committed transaction survives a
//! crash of the process (`kill -9`); only an OS crash or power loss can lose
//! the last commits.
//!
//! Checkpoints (copying the WAL into the database file, with an fsync of
//! each) run on a connection and thread of their own every
//! [`CHECKPOINT_EVERY`], as PASSIVE checkpoints, which never block a write.
//! Left to SQLite, every 1,000 pages the commit that crossed the mark ran
//! the checkpoint itself, and every append queued behind it waited: the
//! embedded store's delivery p99 was 560–910 ms from 4,800 updates/s over
//! 100 documents (`cargo xtask bench server --peers`), with p50 under 10 ms.
//!
//! Appends go through the group commit of [`crate::store_queue`]: what was
//! queued while one transaction committed is stored by the next one.

use crate::store::{StoreError, Stored, VersionInfo};
use crate::store_queue::{AppendQueue, BatchWriter, PendingAppend};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// How often the checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL pages after which a commit checkpoints by itself: only if the
/// checkpointer falls far behind (SQLite's default is 1,000).
const BACKSTOP_CHECKPOINT_PAGES: i64 = 50_000;

/// A SQLite database shared by the server's tasks.
#[derive(Clone)]
pub struct SqliteStore {
    /// The writing connection.
    conn: Arc<Mutex<Connection>>,
    /// The reading connection.
    reader: Arc<Mutex<Connection>>,
    /// Documents being compacted by this process (one compaction at a time
    /// per document; SQLite serves one process, so this is the whole lock).
    compacting: Arc<Mutex<HashSet<String>>>,
    /// Appends waiting for the group commit.
    appends: AppendQueue,
    /// The checkpointer's thread ends once every clone of the store is
    /// dropped (and this with them).
    _checkpointer: Arc<mpsc::Sender<()>>,
}

/// Starts the thread that checkpoints the database at `path` on its own
/// connection; it stops when the returned sender is dropped.
fn start_checkpointer(path: &str) -> Result<mpsc::Sender<()>, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                if let Err(e) = done {
                    tracing::warn!(error = %e, "sqlite checkpoint failed; retried later");
                }
            }
        })
        .map_err(|e| StoreError::Task(format!("cannot start the checkpointer: {e}")))?;
    Ok(stop)
}

/// The group commit's side: the same connection, one transaction a batch.
struct Writer {
    conn: Arc<Mutex<Connection>>,
}

impl BatchWriter for Writer {
    async fn store(&mut self, docs: &[&str], updates: &[&[u8]]) -> Result<Vec<i64>, StoreError> {
        let batch: Vec<(String, Vec<u8>)> = docs
            .iter()
            .zip(updates)
            .map(|(d, u)| ((*d).to_owned(), u.to_vec()))
            .collect();
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Task("sqlite connection poisoned".into()))?;
            append_batch(&mut guard, &batch)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Stores a batch in one transaction: each update gets its document's next
/// seq, in batch order.
fn append_batch(c: &mut Connection, batch: &[(String, Vec<u8>)]) -> Result<Vec<i64>, StoreError> {
    let tx = c.transaction()?;
    let mut seqs = Vec::with_capacity(batch.len());
    {
        let mut top = tx.prepare_cached(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM updates WHERE doc = ?1), 0),
                        COALESCE((SELECT seq FROM snapshots WHERE doc = ?1), 0))",
        )?;
        let mut insert =
            tx.prepare_cached("INSERT INTO updates (doc, seq, data) VALUES (?1, ?2, ?3)")?;
        let mut next: HashMap<&str, i64> = HashMap::new();
        for (doc, update) in batch {
            let seq = match next.get(doc.as_str()) {
                Some(seq) => seq + 1,
                None => top.query_row(params![doc], |r| r.get::<_, i64>(0))? + 1,
            };
            next.insert(doc, seq);
            insert.execute(params![doc, seq, update])?;
            seqs.push(seq);
        }
    }
    tx.commit()?;
    Ok(seqs)
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

/// Runs `f` on `conn` in a blocking task.
async fn on<T: Send + 'static>(
    conn: Arc<Mutex<Connection>>,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(move || {
        let mut guard = conn
            .lock()
            .map_err(|_| StoreError::Task("sqlite connection poisoned".into()))?;
        f(&mut guard)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its directory.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let opened = path.clone();
        let (conn, reader, checkpointer) = tokio::task::spawn_blocking(move || {
            let path = opened;
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
            conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)?;
            let reader = Connection::open(&path)?;
            reader.busy_timeout(Duration::from_secs(5))?;
            let checkpointer = start_checkpointer(&path)?;
            Ok::<_, StoreError>((conn, reader, checkpointer))
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        let conn = Arc::new(Mutex::new(conn));
        Ok(SqliteStore {
            appends: AppendQueue::start(Writer { conn: conn.clone() }),
            conn,
            reader: Arc::new(Mutex::new(reader)),
            compacting: Default::default(),
            _checkpointer: Arc::new(checkpointer),
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

    /// Runs `f` on the writing connection (the group commit's too).
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        on(self.conn.clone(), f).await
    }

    /// Runs `f` on the reading connection: in WAL mode a read never waits
    /// for a write, so loads and compactions' reads do not hold up the
    /// group commit.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        on(self.reader.clone(), f).await
    }

    /// See [`crate::store::Store::queue_append`].
    pub fn queue_append(&self, doc: &str, update: &[u8]) -> PendingAppend {
        self.appends.push(doc, update)
    }

    /// See [`crate::store::Store::load`]: [`SqliteStore::load_since`] from
    /// the start, one read transaction (loads read on their own connection,
    /// so only the transaction keeps a compaction committing between the
    /// snapshot's read and the updates' from hiding updates).
    pub async fn load(&self, doc: &str) -> Result<Stored, StoreError> {
        self.load_since(doc, 0).await
    }

    /// See [`crate::store::Store::load_since`].
    pub async fn load_since(&self, doc: &str, after: i64) -> Result<Stored, StoreError> {
        let doc = doc.to_owned();
        self.read(move |c| {
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
        self.read(move |c| {
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
        self.read(move |c| {
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
        self.read(move |c| {
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
