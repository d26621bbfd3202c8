//! The PostgreSQL store, for several server processes sharing documents.
//!
//! A commit returns after PostgreSQL has flushed its WAL (the server's
//! default `synchronous_commit = on`), so an acknowledged update survives a
//! crash of either process.
//!
//! One connection per process, reconnected on demand: when PostgreSQL
//! restarts, tokio-postgres' connection dies for good, so a call that finds
//! it closed (or fails below SQL) drops it and a later call connects again.
//! While the database stays unreachable, calls fail at once with
//! [`StoreError::Unavailable`] (one connection attempt per
//! [`RETRY_AFTER`]): writes are refused, never acknowledged, and resume
//! by themselves when the database is back.
//!
//! Appends go through a group commit on a connection of their own
//! ([`crate::store_queue`]): the updates that arrive while one transaction commits
//! are stored together by the next one, whatever their documents, and each
//! caller gets its answer only once that transaction is committed. "Stored
//! before acknowledged" holds as before, but PostgreSQL flushes its WAL once
//! per batch instead of once per update, and a batch costs one round trip
//! (its statements are prepared once per connection and pipelined). One
//! transaction per update used to cost eight round trips and a WAL flush
//! each, one after the other on the process's single connection: that was
//! the node's throughput limit and most of PostgreSQL's CPU.

use crate::store::{StoreError, Stored, VersionInfo};
use crate::store_queue::{AppendQueue, BatchWriter, PendingAppend};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls, Statement};

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one call may take before the connection is taken for dead
/// (a database behind a broken network answers nothing, not an error).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed attempt, calls fail at once for this long instead of each
/// waiting for a connection that is not coming.
pub const RETRY_AFTER: Duration = Duration::from_millis(500);
/// Advisory-lock class of the per-document compaction lock (the second key
/// is `hashtext(doc)`); distinct from the schema lock 7245001.
const COMPACTION_LOCK: i32 = 7245002;

/// Takes the per-document append locks of a batch (the lock `compact` takes
/// too), in ascending order so that two nodes committing batches that share
/// documents wait for each other instead of deadlocking.
const LOCK_BATCH: &str = "SELECT pg_advisory_xact_lock(h) FROM \
     (SELECT DISTINCT hashtext(d) AS h FROM unnest($1::text[]) AS d ORDER BY h) AS locks";

/// Stores a batch: each update gets its document's next seq, in batch order,
/// and the seqs come back in batch order. Runs after `LOCK_BATCH` in the same
/// transaction, so its snapshot sees every append committed before the locks.
const INSERT_BATCH: &str = "
WITH input AS (
    SELECT doc, data, ord FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(doc, data, ord)
), base AS (
    SELECT d.doc, GREATEST(
        COALESCE((SELECT MAX(seq) FROM atelier_updates u WHERE u.doc = d.doc), 0),
        COALESCE((SELECT seq FROM atelier_snapshots s WHERE s.doc = d.doc), 0)) AS top
    FROM (SELECT DISTINCT doc FROM input) AS d
), numbered AS (
    SELECT i.doc, i.data, i.ord,
           b.top + ROW_NUMBER() OVER (PARTITION BY i.doc ORDER BY i.ord) AS seq
    FROM input i JOIN base b ON b.doc = i.doc
), stored AS (
    INSERT INTO atelier_updates (doc, seq, data) SELECT doc, seq, data FROM numbered
)
SELECT seq FROM numbered ORDER BY ord";

/// A (re)connecting PostgreSQL client.
#[derive(Clone)]
pub struct PostgresStore {
    url: Arc<str>,
    conn: Arc<Mutex<Conn>>,
    /// Documents this process is compacting. PostgreSQL's session advisory
    /// locks are re-entrant within one session, and all of this process's
    /// calls share one session, so the advisory lock alone would not keep
    /// two of its own tasks apart.
    compacting: Arc<std::sync::Mutex<HashSet<String>>>,
    /// Appends waiting for the group commit.
    appends: AppendQueue,
}

#[derive(Default)]
struct Conn {
    client: Option<Client>,
    /// When the last connection attempt failed, and why.
    failed: Option<(Instant, String)>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS atelier_updates (
    doc TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (doc, seq)
);
CREATE TABLE IF NOT EXISTS atelier_snapshots (
    doc TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS atelier_versions (
    id BIGSERIAL PRIMARY KEY,
    doc TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS atelier_versions_doc ON atelier_versions (doc, id);
";

impl PostgresStore {
    /// Connects and creates the tables if needed. Fails if PostgreSQL is
    /// unreachable now: a node should not start on a database it cannot see.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = open(url).await?;
        // Several processes (or tests) may start at once: creating the same
        // tables concurrently fails in PostgreSQL, so take a lock first. Three
        // round trips, not one: a multi-statement query is one implicit
        // transaction, and unlocking inside it would let the next process in
        // before the tables are committed (seen in CI as a duplicate
        // `pg_type` key).
        client
            .batch_execute("SELECT pg_advisory_lock(7245001)")
            .await?;
        let created = client.batch_execute(SCHEMA).await;
        client
            .batch_execute("SELECT pg_advisory_unlock(7245001)")
            .await?;
        created?;
        let url: Arc<str> = Arc::from(url);
        let writer = Writer {
            url: url.clone(),
            session: Some(WriterSession::prepare(open(&url).await?).await?),
            failed: None,
        };
        let appends = AppendQueue::start(writer);
        Ok(PostgresStore {
            url,
            conn: Arc::new(Mutex::new(Conn {
                client: Some(client),
                failed: None,
            })),
            compacting: Default::default(),
            appends,
        })
    }

    /// The live connection, reconnecting if it died.
    async fn client(&self) -> Result<MutexGuard<'_, Conn>, StoreError> {
        let mut conn = self.conn.lock().await;
        if conn.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(conn);
        }
        conn.client = None;
        if let Some((at, why)) = &conn.failed
            && at.elapsed() < RETRY_AFTER
        {
            return Err(StoreError::Unavailable(format!(
                "postgres unreachable: {why}"
            )));
        }
        match open(&self.url).await {
            Ok(client) => {
                if conn.failed.take().is_some() {
                    tracing::info!("postgres reachable again; store reconnected");
                }
                conn.client = Some(client);
                Ok(conn)
            }
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(error = %why, "postgres unreachable");
                conn.failed = Some((Instant::now(), why.clone()));
                Err(StoreError::Unavailable(format!(
                    "postgres unreachable: {why}"
                )))
            }
        }
    }

    /// Runs one call on the connection with a deadline; a failure below SQL
    /// (connection closed, I/O, timeout) drops the connection so the next
    /// call reconnects. SQL errors keep it: the session is fine.
    async fn call<T>(
        &self,
        op: impl AsyncFnOnce(&mut Client) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut conn = self.client().await?;
        let Some(client) = conn.client.as_mut() else {
            return Err(StoreError::Unavailable("postgres connection lost".into()));
        };
        match tokio::time::timeout(CALL_TIMEOUT, op(client)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() {
                    conn.client = None;
                    conn.failed = Some((Instant::now(), e.to_string()));
                    return Err(StoreError::Unavailable(format!(
                        "postgres connection lost: {e}"
                    )));
                }
                Err(e.into())
            }
            Err(_) => {
                conn.client = None;
                let why = format!("no answer within {} s", CALL_TIMEOUT.as_secs());
                conn.failed = Some((Instant::now(), why.clone()));
                Err(StoreError::Unavailable(format!(
                    "postgres unreachable: {why}"
                )))
            }
        }
    }

    /// See [`crate::store::Store::ping`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call(async |c| c.batch_execute("SELECT 1").await).await
    }

    /// See [`crate::store::Store::try_lock_compaction`]: an advisory
    /// try-lock, so a node skips a compaction another node is doing.
    pub async fn try_lock_compaction(&self, doc: &str) -> Result<bool, StoreError> {
        let mine = self
            .compacting
            .lock()
            .map(|mut set| set.insert(doc.to_owned()))
            .unwrap_or(false);
        if !mine {
            return Ok(false);
        }
        let got = self
            .call(async |c| {
                let row = c
                    .query_one(
                        "SELECT pg_try_advisory_lock($1, hashtext($2))",
                        &[&COMPACTION_LOCK, &doc],
                    )
                    .await?;
                Ok(row.get::<_, bool>(0))
            })
            .await;
        if !matches!(got, Ok(true))
            && let Ok(mut set) = self.compacting.lock()
        {
            set.remove(doc);
        }
        got
    }

    /// See [`crate::store::Store::unlock_compaction`]. If the connection
    /// was replaced meanwhile, the old session's end already released it.
    pub async fn unlock_compaction(&self, doc: &str) {
        let released = self
            .call(async |c| {
                c.query_one(
                    "SELECT pg_advisory_unlock($1, hashtext($2))",
                    &[&COMPACTION_LOCK, &doc],
                )
                .await
                .map(|_| ())
            })
            .await;
        if let Err(e) = released {
            tracing::debug!(doc, error = %e, "compaction lock not released (its session ended)");
        }
        if let Ok(mut set) = self.compacting.lock() {
            set.remove(doc);
        }
    }

    /// See [`crate::store::Store::queue_append`]: queued for the group
    /// commit.
    pub fn queue_append(&self, doc: &str, update: &[u8]) -> PendingAppend {
        self.appends.push(doc, update)
    }

    /// See [`crate::store::Store::load`].
    pub async fn load(&self, doc: &str) -> Result<Stored, StoreError> {
        self.load_since(doc, 0).await
    }

    /// See [`crate::store::Store::load_since`]. One statement, so one
    /// snapshot of the tables: a compaction committing between two reads
    /// could otherwise delete updates the snapshot read did not cover.
    pub async fn load_since(&self, doc: &str, after: i64) -> Result<Stored, StoreError> {
        let rows = self
            .call(async |c| {
                c.query(
                    "SELECT 0 AS part, seq, data FROM atelier_snapshots WHERE doc = $1 AND seq > $2
                     UNION ALL
                     SELECT 1 AS part, seq, data FROM atelier_updates WHERE doc = $1 AND seq > $2
                     ORDER BY part, seq",
                    &[&doc, &after],
                )
                .await
            })
            .await?;
        let mut stored = Stored {
            snapshot: None,
            snapshot_seq: after,
            updates: Vec::new(),
        };
        for r in &rows {
            let (part, seq, data): (i32, i64, Vec<u8>) = (r.get(0), r.get(1), r.get(2));
            if part == 0 {
                stored.snapshot = Some(data);
                stored.snapshot_seq = seq;
            } else if seq > stored.snapshot_seq {
                stored.updates.push((seq, data));
            }
        }
        Ok(stored)
    }

    /// See [`crate::store::Store::compact`].
    pub async fn compact(&self, doc: &str, seq: i64, snapshot: &[u8]) -> Result<(), StoreError> {
        self.call(async |c| {
            let tx = c.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&doc])
                .await?;
            tx.execute(
                "INSERT INTO atelier_snapshots (doc, seq, data) VALUES ($1, $2, $3)
                 ON CONFLICT (doc) DO UPDATE SET seq = EXCLUDED.seq, data = EXCLUDED.data
                 WHERE EXCLUDED.seq > atelier_snapshots.seq",
                &[&doc, &seq, &snapshot],
            )
            .await?;
            tx.execute(
                "DELETE FROM atelier_updates WHERE doc = $1 AND seq <= $2",
                &[&doc, &seq],
            )
            .await?;
            tx.commit().await
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
        self.call(async |c| {
            let row = c
                .query_one(
                    "INSERT INTO atelier_versions (doc, name, created_ms, data) VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&doc, &name, &created_ms, &state],
                )
                .await?;
            Ok(row.get(0))
        })
        .await
    }

    /// See [`crate::store::Store::list_versions`].
    pub async fn list_versions(&self, doc: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let rows = self
            .call(async |c| {
                c.query(
                    "SELECT id, name, created_ms, length(data)::BIGINT FROM atelier_versions WHERE doc = $1 ORDER BY id DESC",
                    &[&doc],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| VersionInfo {
                id: r.get(0),
                name: r.get(1),
                created_ms: r.get(2),
                size: r.get(3),
            })
            .collect())
    }

    /// See [`crate::store::Store::list_documents`].
    pub async fn list_documents(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = after.to_owned();
        let rows = self
            .call(async |c| {
                c.query(
                    "SELECT doc FROM (SELECT doc FROM atelier_snapshots UNION \
                     SELECT doc FROM atelier_updates) d WHERE doc > $1 ORDER BY doc LIMIT $2",
                    &[&after, &limit],
                )
                .await
            })
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// See [`crate::store::Store::version`].
    pub async fn version(&self, doc: &str, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .call(async |c| {
                c.query_opt(
                    "SELECT data FROM atelier_versions WHERE doc = $1 AND id = $2",
                    &[&doc, &id],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}

/// The group commit's connection and its prepared statements.
struct WriterSession {
    client: Client,
    lock: Statement,
    insert: Statement,
}

impl WriterSession {
    async fn prepare(client: Client) -> Result<WriterSession, StoreError> {
        let lock = client.prepare(LOCK_BATCH).await?;
        let insert = client.prepare(INSERT_BATCH).await?;
        Ok(WriterSession {
            client,
            lock,
            insert,
        })
    }

    /// Stores a batch in one transaction; the seqs in batch order. The four
    /// statements are pipelined (sent before the first answer comes back): if
    /// one fails, the transaction is aborted and `COMMIT` rolls it back.
    async fn commit(
        &self,
        docs: &[&str],
        updates: &[&[u8]],
    ) -> Result<Vec<i64>, tokio_postgres::Error> {
        let c = &self.client;
        let (_, _, rows, _) = futures_util::future::try_join4(
            c.batch_execute("BEGIN"),
            c.execute(&self.lock, &[&docs]),
            c.query(&self.insert, &[&docs, &updates]),
            c.batch_execute("COMMIT"),
        )
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// The group commit's side of the store: its own connection, reconnected
/// like the other one (see the module's documentation).
struct Writer {
    url: Arc<str>,
    session: Option<WriterSession>,
    /// When the last connection attempt failed, and why.
    failed: Option<(Instant, String)>,
}

impl BatchWriter for Writer {
    /// Stores a batch; on any failure below SQL the connection is dropped
    /// and the next batch reconnects.
    async fn store(&mut self, docs: &[&str], updates: &[&[u8]]) -> Result<Vec<i64>, StoreError> {
        if self.session.as_ref().is_none_or(|s| s.client.is_closed()) {
            self.session = None;
            if let Some((at, why)) = &self.failed
                && at.elapsed() < RETRY_AFTER
            {
                return Err(StoreError::Unavailable(format!(
                    "postgres unreachable: {why}"
                )));
            }
            let opened = match open(&self.url).await {
                Ok(client) => WriterSession::prepare(client).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(session) => {
                    self.failed = None;
                    self.session = Some(session);
                }
                Err(e) => {
                    let why = e.to_string();
                    self.failed = Some((Instant::now(), why.clone()));
                    return Err(StoreError::Unavailable(format!(
                        "postgres unreachable: {why}"
                    )));
                }
            }
        }
        let Some(session) = &self.session else {
            return Err(StoreError::Unavailable("postgres connection lost".into()));
        };
        match tokio::time::timeout(CALL_TIMEOUT, session.commit(docs, updates)).await {
            Ok(Ok(seqs)) => Ok(seqs),
            Ok(Err(e)) if e.as_db_error().is_some() => Err(e.into()),
            Ok(Err(e)) => {
                self.session = None;
                self.failed = Some((Instant::now(), e.to_string()));
                Err(StoreError::Unavailable(format!(
                    "postgres connection lost: {e}"
                )))
            }
            Err(_) => {
                // Dropping the connection aborts the transaction in flight.
                self.session = None;
                let why = format!("no answer within {} s", CALL_TIMEOUT.as_secs());
                self.failed = Some((Instant::now(), why.clone()));
                Err(StoreError::Unavailable(format!(
                    "postgres unreachable: {why}"
                )))
            }
        }
    }
}

/// Opens one connection (with a deadline) and drives it in a task.
async fn open(url: &str) -> Result<Client, StoreError> {
    let connecting = tokio_postgres::connect(url, NoTls);
    let (client, connection) = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(StoreError::Unavailable(format!(
                "postgres unreachable: no connection within {} s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
    };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}
