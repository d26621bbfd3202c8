//! Durable storage of documents: an append-only log of Yjs updates per
//! document, compacted into snapshots, plus named versions.
//!
//! The contract every backend keeps: [`Store::append`] returns only once the
//! update is durable (survives `kill -9` of the server), and the server
//! acknowledges or fans out an update only after that.

use crate::store_postgres::PostgresStore;
pub use crate::store_queue::PendingAppend;
use crate::store_sqlite::SqliteStore;
use serde::Serialize;

/// Errors from a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite backend failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL backend failed.
    #[error("postgres: {}", pg_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// A blocking task was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
    /// The database cannot be reached (down, restarting, or not answering
    /// in time); the store reconnects by itself on a later call.
    #[error("{0}")]
    Unavailable(String),
    /// Stored bytes could not be decoded.
    #[error("corrupt stored data for {doc}: {reason}")]
    Corrupt {
        /// Document name.
        doc: String,
        /// What was wrong.
        reason: String,
    },
}

/// The server's own message for a database error ("db error" alone says nothing).
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// What is stored for one document.
#[derive(Debug, Default, Clone)]
pub struct Stored {
    /// The latest snapshot (a full-state v1 update), if any.
    pub snapshot: Option<Vec<u8>>,
    /// Sequence number the snapshot covers (updates with a higher seq follow).
    pub snapshot_seq: i64,
    /// Updates logged after the snapshot, in order, with their seq.
    pub updates: Vec<(i64, Vec<u8>)>,
}

/// A named or periodic version of a document.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Version id.
    pub id: i64,
    /// Name given by a user, or `auto` for periodic ones.
    pub name: String,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// Size of the stored state in bytes.
    pub size: i64,
}

/// A storage backend.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite (the default).
    Sqlite(SqliteStore),
    /// PostgreSQL, for several server processes.
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the store a `--db` URL names: `sqlite://PATH` (or a plain path)
    /// or `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PostgresStore::connect(url).await?))
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Ok(Store::Sqlite(SqliteStore::open(path).await?))
        }
    }

    /// Appends an update durably; returns its sequence number.
    pub async fn append(&self, doc: &str, update: &[u8]) -> Result<i64, StoreError> {
        self.queue_append(doc, update).durable().await
    }

    /// Queues an update for appending and returns at once: the store keeps
    /// the order of these calls, and [`PendingAppend::durable`] gives the
    /// seq once the update is durable (a group commit stores what was
    /// queued meanwhile in one transaction).
    pub fn queue_append(&self, doc: &str, update: &[u8]) -> PendingAppend {
        match self {
            Store::Sqlite(s) => s.queue_append(doc, update),
            Store::Postgres(s) => s.queue_append(doc, update),
        }
    }

    /// Loads the snapshot and the updates after it.
    pub async fn load(&self, doc: &str) -> Result<Stored, StoreError> {
        match self {
            Store::Sqlite(s) => s.load(doc).await,
            Store::Postgres(s) => s.load(doc).await,
        }
    }

    /// What was stored after `seq`: the updates with a higher seq, or, when
    /// a compaction folded some of them into a snapshot, that snapshot and
    /// the updates after it. One consistent read (a concurrent compaction
    /// cannot make it miss updates). Nodes catch up with it after a
    /// subscription or a fan-out outage (`fanout.rs`).
    pub async fn load_since(&self, doc: &str, seq: i64) -> Result<Stored, StoreError> {
        match self {
            Store::Sqlite(s) => s.load_since(doc, seq).await,
            Store::Postgres(s) => s.load_since(doc, seq).await,
        }
    }

    /// Takes the cluster-wide right to compact `doc`: `false` when another
    /// task or server process is compacting it now (it is then skipped, not
    /// waited for). Release with [`Store::unlock_compaction`].
    pub async fn try_lock_compaction(&self, doc: &str) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => Ok(s.try_lock_compaction(doc)),
            Store::Postgres(s) => s.try_lock_compaction(doc).await,
        }
    }

    /// Releases what [`Store::try_lock_compaction`] took.
    pub async fn unlock_compaction(&self, doc: &str) {
        match self {
            Store::Sqlite(s) => s.unlock_compaction(doc),
            Store::Postgres(s) => s.unlock_compaction(doc).await,
        }
    }

    /// Checks that the store answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.list_versions("__healthz__").await.map(|_| ()),
            Store::Postgres(s) => s.ping().await,
        }
    }

    /// Replaces the log up to `seq` by a snapshot of the state at `seq`.
    pub async fn compact(&self, doc: &str, seq: i64, snapshot: &[u8]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.compact(doc, seq, snapshot).await,
            Store::Postgres(s) => s.compact(doc, seq, snapshot).await,
        }
    }

    /// Saves a version of a document's full state.
    pub async fn save_version(
        &self,
        doc: &str,
        name: &str,
        created_ms: i64,
        state: &[u8],
    ) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.save_version(doc, name, created_ms, state).await,
            Store::Postgres(s) => s.save_version(doc, name, created_ms, state).await,
        }
    }

    /// Lists a document's versions, newest first.
    pub async fn list_versions(&self, doc: &str) -> Result<Vec<VersionInfo>, StoreError> {
        match self {
            Store::Sqlite(s) => s.list_versions(doc).await,
            Store::Postgres(s) => s.list_versions(doc).await,
        }
    }

    /// The stored state of one version.
    pub async fn version(&self, doc: &str, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Sqlite(s) => s.version(doc, id).await,
            Store::Postgres(s) => s.version(doc, id).await,
        }
    }

    /// Names of the stored documents (with a snapshot or logged updates)
    /// that sort after `after` (`""` for the first page), in name order, at
    /// most `limit`: a page of a listing the caller continues from the last
    /// name it got.
    pub async fn list_documents(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Sqlite(s) => s.list_documents(after, limit).await,
            Store::Postgres(s) => s.list_documents(after, limit).await,
        }
    }

    /// Short name of the backend, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}
