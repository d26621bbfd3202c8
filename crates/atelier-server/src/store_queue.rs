//! The group commit both stores share: appends are queued in call order,
//! and one task stores everything that arrived while the previous batch
//! was committing in one transaction, whatever the documents.
//!
//! Queuing is synchronous ([`AppendQueue::push`]), so a caller that queues
//! under a lock (a room applying its updates) fixes the store's order of its
//! updates without waiting for them to be durable: the room can apply the
//! next update while this one commits (issue 16: one round trip to the
//! database per update and per document was the server's throughput limit).
//! Each caller still learns its seq only once its transaction is committed,
//! and nothing is acknowledged before that.

use crate::store::StoreError;
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

/// Most updates stored by one transaction.
pub const MAX_BATCH: usize = 512;

/// One update waiting for the group commit, and where its seq goes.
struct Append {
    doc: String,
    update: Vec<u8>,
    done: oneshot::Sender<Result<i64, StoreError>>,
}

/// Stores one batch in one transaction: every update or none.
pub trait BatchWriter: Send + 'static {
    /// Stores `updates[i]` in `docs[i]`, each with its document's next seq in
    /// batch order; returns the seqs in batch order.
    fn store(
        &mut self,
        docs: &[&str],
        updates: &[&[u8]],
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
}

/// The sending side of a group commit.
#[derive(Clone)]
pub struct AppendQueue {
    tx: mpsc::UnboundedSender<Append>,
}

/// An update queued for the store: [`PendingAppend::durable`] resolves to
/// its seq once the transaction holding it is committed.
pub struct PendingAppend {
    rx: Option<oneshot::Receiver<Result<i64, StoreError>>>,
}

impl PendingAppend {
    /// Waits until the update is stored (its seq) or refused.
    pub async fn durable(self) -> Result<i64, StoreError> {
        let ended = || StoreError::Task("the group commit task ended".into());
        match self.rx {
            Some(rx) => rx.await.map_err(|_| ended())?,
            None => Err(ended()),
        }
    }
}

impl AppendQueue {
    /// Starts the task that commits what is queued with `writer`.
    pub fn start(writer: impl BatchWriter) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(writer, rx));
        AppendQueue { tx }
    }

    /// Queues an update now (the store keeps the order of the calls).
    pub fn push(&self, doc: &str, update: &[u8]) -> PendingAppend {
        let (done, rx) = oneshot::channel();
        let queued = self.tx.send(Append {
            doc: doc.to_owned(),
            update: update.to_vec(),
            done,
        });
        PendingAppend {
            rx: queued.is_ok().then_some(rx),
        }
    }
}

/// Stores queued appends: everything that arrived while the previous batch
/// was committing goes into the next transaction (up to [`MAX_BATCH`]), and
/// each caller is answered once its batch is committed, or with the error
/// that refused the whole batch (nothing of it is stored then).
async fn group_commit(mut writer: impl BatchWriter, mut queue: mpsc::UnboundedReceiver<Append>) {
    let mut batch: Vec<Append> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let docs: Vec<&str> = batch.iter().map(|a| a.doc.as_str()).collect();
        let updates: Vec<&[u8]> = batch.iter().map(|a| a.update.as_slice()).collect();
        let result = writer.store(&docs, &updates).await;
        drop((docs, updates));
        match result {
            Ok(seqs) if seqs.len() == batch.len() => {
                for (append, seq) in batch.drain(..).zip(seqs) {
                    let _ = append.done.send(Ok(seq));
                }
            }
            Ok(seqs) => {
                let e = StoreError::Task(format!(
                    "a batch of {} updates got {} seqs",
                    batch.len(),
                    seqs.len()
                ));
                refuse(&mut batch, e);
            }
            Err(e) => refuse(&mut batch, e),
        }
    }
}

/// Answers every append of a failed batch with the error.
fn refuse(batch: &mut Vec<Append>, e: StoreError) {
    if batch.len() > 1 {
        tracing::warn!(updates = batch.len(), error = %e, "group commit failed");
    }
    let unavailable = matches!(e, StoreError::Unavailable(_));
    let why = e.to_string();
    let mut first = Some(e);
    for append in batch.drain(..) {
        let e = match first.take() {
            Some(e) => e,
            None if unavailable => StoreError::Unavailable(why.clone()),
            None => StoreError::Task(format!("batch not stored: {why}")),
        };
        let _ = append.done.send(Err(e));
    }
}
