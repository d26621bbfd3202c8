//! The PostgreSQL store's group commit: appends that arrive together are
//! stored by one transaction, yet every document keeps dense seqs in the
//! order its appends were made, across two server processes (two stores)
//! sharing the database, and each append returns only once it is stored.
//! Needs `ATELIER_TEST_DB=postgres://…` (the CI script starts a server);
//! skipped, by name, otherwise.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/fresh_postgres.rs"]
mod fresh_postgres;

use atelier_server::store_postgres::PostgresStore;
use std::collections::HashMap;

const TEST: &str = "concurrent_appends_of_two_nodes_keep_dense_seqs_in_append_order";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_of_two_nodes_keep_dense_seqs_in_append_order() {
    let Some(url) = fresh_postgres::test_url(TEST) else {
        return;
    };
    let admin = fresh_postgres::admin(&url).await;
    let name = format!("atelier_group_commit_{}", std::process::id());
    let fresh = fresh_postgres::fresh_database(&admin, &url, &name).await;
    let nodes = [
        PostgresStore::connect(&fresh).await.unwrap(),
        PostgresStore::connect(&fresh).await.unwrap(),
    ];
    // 40 writers (20 per node) over 8 documents, 25 appends each, queued
    // one after the other per writer without waiting (as a room does) and
    // all writers at once: the batches mix documents and both nodes append
    // to every document.
    let mut writers = Vec::new();
    for w in 0..40u32 {
        let store = nodes[(w % 2) as usize].clone();
        writers.push(tokio::spawn(async move {
            let doc = format!("doc-{}", w % 8);
            let mut queued = Vec::new();
            for k in 0..25u32 {
                let payload = format!("{w}:{k}").into_bytes();
                queued.push(store.queue_append(&doc, &payload));
                if k % 5 == 4 {
                    tokio::task::yield_now().await;
                }
            }
            let mut seqs = Vec::new();
            for pending in queued {
                seqs.push(pending.durable().await.unwrap());
            }
            (doc, w, seqs)
        }));
    }
    let mut by_doc: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for writer in writers {
        let (doc, w, seqs) = writer.await.unwrap();
        assert!(
            seqs.windows(2).all(|p| p[0] < p[1]),
            "writer {w}'s seqs go up: {seqs:?}"
        );
        for (k, seq) in seqs.into_iter().enumerate() {
            by_doc
                .entry(doc.clone())
                .or_default()
                .push((seq, format!("{w}:{k}")));
        }
    }
    for (doc, mut expected) in by_doc {
        expected.sort();
        let seqs: Vec<i64> = expected.iter().map(|(s, _)| *s).collect();
        let dense: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, dense, "{doc}: seqs are dense and unique");
        // What each append returned is what was stored under that seq.
        let stored = nodes[0].load(&doc).await.unwrap();
        let stored: Vec<(i64, String)> = stored
            .updates
            .into_iter()
            .map(|(seq, data)| (seq, String::from_utf8(data).unwrap()))
            .collect();
        assert_eq!(stored, expected, "{doc}: the stored log");
    }
    drop(nodes);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}
