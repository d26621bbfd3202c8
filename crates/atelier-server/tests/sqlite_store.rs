//! The embedded SQLite store reads on a connection of its own: a load must
//! still see one consistent state while compactions commit beside it (a
//! load that read the old snapshot, then the log after a compaction had
//! folded part of it into a new one, lost those updates; seen in CI as a
//! document one update short).

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/server.rs"]
mod support;

use atelier_server::store_sqlite::SqliteStore;
use support::temp_dir;

/// The updates a load returns, in order, with the snapshot's seq covering
/// those before (each payload is its own seq, so the seqs say it all).
fn covered(stored: &atelier_server::store::Stored) -> Vec<i64> {
    let mut seqs: Vec<i64> = (1..=stored.snapshot_seq).collect();
    seqs.extend(stored.updates.iter().map(|(seq, _)| *seq));
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_see_every_update_while_compactions_commit() {
    let dir = temp_dir("sqlite-load");
    let path = dir.join("atelier.db");
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    let mut top = 0;
    for _ in 0..20 {
        top = store.queue_append("d", b"u").durable().await.unwrap();
    }
    // Appends and compactions, one after the other, as fast as they go; a
    // large snapshot widens the gap between a load's two reads (copying
    // it out), where a compaction must not land.
    let snapshot = vec![7u8; 4 << 20];
    let writer = store.clone();
    let churn = tokio::spawn(async move {
        let mut top = top;
        for _ in 0..300 {
            for _ in 0..3 {
                top = writer.queue_append("d", b"u").durable().await.unwrap();
            }
            writer.compact("d", top, &snapshot).await.unwrap();
        }
    });
    // Meanwhile every load covers 1..=n with no gap.
    let mut loads = 0;
    while !churn.is_finished() {
        let stored = store.load("d").await.unwrap();
        let seqs = covered(&stored);
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(
            seqs,
            expected,
            "load {loads} skipped updates: snapshot at {}, then {:?}",
            stored.snapshot_seq,
            stored.updates.iter().map(|(s, _)| *s).collect::<Vec<_>>()
        );
        loads += 1;
    }
    churn.await.unwrap();
    println!("{loads} loads, each consistent");
    assert!(loads > 0, "no load ran beside the compactions");
}
