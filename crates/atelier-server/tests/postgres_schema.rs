//! Several server processes starting at once on a fresh PostgreSQL database
//! all get their tables (CI once saw a duplicate `pg_type` key when the
//! schema lock was released inside the creating transaction). Needs
//! `ATELIER_TEST_DB=postgres://…` (the CI script starts a server); skipped,
//! by name, otherwise.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/fresh_postgres.rs"]
mod fresh_postgres;

use atelier_server::store_postgres::PostgresStore;

#[tokio::test]
async fn concurrent_first_starts_on_a_fresh_database_all_succeed() {
    let Some(url) =
        fresh_postgres::test_url("concurrent_first_starts_on_a_fresh_database_all_succeed")
    else {
        return;
    };
    let admin = fresh_postgres::admin(&url).await;
    for round in 0..5 {
        let name = format!("atelier_schema_race_{}_{round}", std::process::id());
        let fresh = fresh_postgres::fresh_database(&admin, &url, &name).await;
        let starts = (0..6).map(|_| PostgresStore::connect(&fresh));
        let results = futures_util::future::join_all(starts).await;
        let failures: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
            .collect();
        assert!(failures.is_empty(), "round {round}: {failures:?}");
        drop(results);
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}
