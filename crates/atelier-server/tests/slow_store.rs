//! A slow store (issues 16 and 18): PostgreSQL made to take 2 s over
//! every insert into the update log (a trigger that sleeps). The server
//! must still publish nothing before it is stored, must store a writer's
//! burst in a few transactions rather than one round trip per update (the
//! room and the connection go on while a batch commits), and a slow
//! document must not hold up another one.
//!
//! Needs `ATELIER_TEST_DB=postgres://…` (the CI script starts a server);
//! skipped, by name, otherwise.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/fresh_postgres.rs"]
mod fresh_postgres;
#[path = "support/server.rs"]
mod support;
#[path = "support/ws.rs"]
mod ws;

use atelier_sync::{Limits, SyncMessage, YwsMessage};
use futures_util::{SinkExt, StreamExt};
use support::{TestServer, token};
use tokio_tungstenite::tungstenite::Message;
use ws::{DEADLINE, Ws, answers_y_websocket, connect};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Text, Transact, Update};

const TEST: &str = "a_slow_store_batches_a_burst_and_publishes_nothing_before_it_is_stored";

/// Updates the writer sends in one burst.
const BURST: usize = 30;

/// Rows stored for `doc`, and in how many transactions.
async fn stored(db: &tokio_postgres::Client, doc: &str) -> (i64, i64) {
    let row = db
        .query_one(
            "SELECT count(*), count(DISTINCT xmin::text) FROM atelier_updates WHERE doc = $1",
            &[&doc],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The next document update `ws` receives (skipping other messages).
async fn next_update(ws: &mut Ws, seen: &mut Vec<String>) -> Vec<u8> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match YwsMessage::decode(&b, &Limits::default()) {
                Ok(YwsMessage::Sync(SyncMessage::Update(u))) => return u,
                other => seen.push(format!("{:?}", other.map(|_| "not an update"))),
            },
            Ok(Some(Ok(_))) => {}
            other => panic!("no update within {DEADLINE:?}: {other:?}; seen before: {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_batches_a_burst_and_publishes_nothing_before_it_is_stored() {
    let Some(url) = fresh_postgres::test_url(TEST) else {
        return;
    };
    let admin = fresh_postgres::admin(&url).await;
    let name = format!("atelier_slow_store_{}", std::process::id());
    let fresh = fresh_postgres::fresh_database(&admin, &url, &name).await;
    let server = TestServer::start(&fresh, |c| c.max_updates_per_second = 10_000).await;
    // The server made the tables; now every insert statement takes 2 s.
    let db = fresh_postgres::admin(&fresh).await;
    db.batch_execute(
        "CREATE FUNCTION atelier_test_slow() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$;
         CREATE TRIGGER atelier_test_slow AFTER INSERT ON atelier_updates
             FOR EACH STATEMENT EXECUTE FUNCTION atelier_test_slow();",
    )
    .await
    .unwrap();

    let tok = token("w", &["*"], &["*"], false);
    let url = server.ws(&format!("/sync/slow?token={tok}"));
    let mut writer = connect(&url).await;
    let mut reader = connect(&url).await;
    assert!(answers_y_websocket(&mut writer).await, "the writer syncs");
    assert!(answers_y_websocket(&mut reader).await, "the reader syncs");

    // The burst: one update per character, sent without waiting.
    let source = Doc::new();
    let text = source.get_or_insert_text("t");
    for i in 0..BURST {
        let update = {
            let mut txn = source.transact_mut();
            text.push(&mut txn, &char::from(b'a' + (i % 26) as u8).to_string());
            txn.encode_update_v1()
        };
        let frame = YwsMessage::Sync(SyncMessage::Update(update)).encode();
        writer.send(Message::Binary(frame.into())).await.unwrap();
    }

    // Another document is not held up by this one's commits: a newcomer
    // syncs it while the burst is still being stored.
    let other = server.ws(&format!("/sync/elsewhere?token={tok}"));
    let mut newcomer = connect(&other).await;
    assert!(
        answers_y_websocket(&mut newcomer).await,
        "a client of another document syncs"
    );
    let (rows, _) = stored(&db, "slow").await;
    assert!(
        rows < BURST as i64,
        "the other document synced only after the whole burst was stored ({rows} rows)"
    );

    // Every update reaches the reader only once it is stored.
    let replica = Doc::new();
    let mut seen = Vec::new();
    let mut received = 0;
    while replica
        .get_or_insert_text("t")
        .get_string(&replica.transact())
        .len()
        < BURST
    {
        let update = next_update(&mut reader, &mut seen).await;
        received += 1;
        let (rows, _) = stored(&db, "slow").await;
        assert!(
            rows >= received,
            "update {received} was published with only {rows} stored"
        );
        replica
            .transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
    }
    assert_eq!(
        replica
            .get_or_insert_text("t")
            .get_string(&replica.transact()),
        text.get_string(&source.transact()),
        "the reader has the writer's text"
    );

    // Stored by a few transactions, not one per update.
    let (rows, transactions) = stored(&db, "slow").await;
    assert_eq!(rows, BURST as i64, "every update is stored once");
    assert!(
        transactions <= 4,
        "{BURST} updates sent at once took {transactions} transactions"
    );
    println!("{BURST} updates stored by {transactions} transactions");
    server.stop().await;
}
