//! The PostgreSQL store, for several server processes sharing documents.
//!
//! A commit returns after PostgreSQL has flushed its WAL (the server's
//! default `synchronous_commit = on`), so an acknowledged update survives a
//! crash of either process.

use crate::store::{StoreError, Stored, VersionInfo};
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

/// A connection to PostgreSQL.
#[derive(Clone)]
pub struct PostgresStore {
    client: Arc<Mutex<Client>>,
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
    /// Connects and creates the tables if needed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::error!(error = %e, "postgres connection closed");
            }
        });
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
        Ok(PostgresStore {
            client: Arc::new(Mutex::new(client)),
        })
    }

    /// See [`crate::store::Store::append`].
    pub async fn append(&self, doc: &str, update: &[u8]) -> Result<i64, StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        // Serialise appends to one document across server processes.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&doc])
            .await?;
        let row = tx
            .query_one(
                "SELECT GREATEST(
                    COALESCE((SELECT MAX(seq) FROM atelier_updates WHERE doc = $1), 0),
                    COALESCE((SELECT seq FROM atelier_snapshots WHERE doc = $1), 0)) + 1",
                &[&doc],
            )
            .await?;
        let next: i64 = row.get(0);
        tx.execute(
            "INSERT INTO atelier_updates (doc, seq, data) VALUES ($1, $2, $3)",
            &[&doc, &next, &update],
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// See [`crate::store::Store::load`].
    pub async fn load(&self, doc: &str) -> Result<Stored, StoreError> {
        let c = self.client.lock().await;
        let snap = c
            .query_opt(
                "SELECT seq, data FROM atelier_snapshots WHERE doc = $1",
                &[&doc],
            )
            .await?;
        let (snapshot_seq, snapshot) = match snap {
            Some(r) => (r.get::<_, i64>(0), Some(r.get::<_, Vec<u8>>(1))),
            None => (0, None),
        };
        let rows = c
            .query(
                "SELECT seq, data FROM atelier_updates WHERE doc = $1 AND seq > $2 ORDER BY seq",
                &[&doc, &snapshot_seq],
            )
            .await?;
        Ok(Stored {
            snapshot,
            snapshot_seq,
            updates: rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        })
    }

    /// See [`crate::store::Store::compact`].
    pub async fn compact(&self, doc: &str, seq: i64, snapshot: &[u8]) -> Result<(), StoreError> {
        let mut c = self.client.lock().await;
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
        tx.commit().await?;
        Ok(())
    }

    /// See [`crate::store::Store::save_version`].
    pub async fn save_version(
        &self,
        doc: &str,
        name: &str,
        created_ms: i64,
        state: &[u8],
    ) -> Result<i64, StoreError> {
        let c = self.client.lock().await;
        let row = c
            .query_one(
                "INSERT INTO atelier_versions (doc, name, created_ms, data) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&doc, &name, &created_ms, &state],
            )
            .await?;
        Ok(row.get(0))
    }

    /// See [`crate::store::Store::list_versions`].
    pub async fn list_versions(&self, doc: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT id, name, created_ms, length(data)::BIGINT FROM atelier_versions WHERE doc = $1 ORDER BY id DESC",
                &[&doc],
            )
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
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT doc FROM (SELECT doc FROM atelier_snapshots UNION \
                 SELECT doc FROM atelier_updates) d WHERE doc > $1 ORDER BY doc LIMIT $2",
                &[&after, &limit],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// See [`crate::store::Store::version`].
    pub async fn version(&self, doc: &str, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let c = self.client.lock().await;
        let row = c
            .query_opt(
                "SELECT data FROM atelier_versions WHERE doc = $1 AND id = $2",
                &[&doc, &id],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
