//! The smallest correct server behind [`ServerSession`]s: documents in
//! memory, an in-memory update log as the store.
//!
//! It shows how a real server answers each [`ServerEvent`] (store, then
//! apply, then fan out, then acknowledge) and serves tests, the crate's
//! example and single-process embedding. `atelier-server` does the same with
//! its rooms and its SQLite/PostgreSQL store.

use std::collections::BTreeMap;

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

use crate::awareness::AwarenessUpdate;
use crate::awareness_states::AwarenessStates;
use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::server_session::{ServerEvent, ServerSession};
use crate::state_vector::EncodedStateVector;
use crate::update_containment::update_adds_nothing;

/// What one connection's events require the other connections to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fanout {
    /// An update applied to `document`.
    Update {
        /// The document address.
        document: String,
        /// The v1 update.
        update: Vec<u8>,
    },
    /// An awareness update for `document`.
    Awareness {
        /// The document address.
        document: String,
        /// The update as received.
        update: AwarenessUpdate,
    },
}

#[derive(Debug)]
struct HostDoc {
    doc: Doc,
    awareness: AwarenessStates,
    log: Vec<Vec<u8>>,
}

/// Documents in memory, answering [`ServerSession`] events.
#[derive(Debug, Default)]
pub struct DocHost {
    docs: BTreeMap<String, HostDoc>,
}

impl DocHost {
    /// No documents yet.
    pub fn new() -> Self {
        DocHost::default()
    }

    fn entry(&mut self, name: &str) -> &mut HostDoc {
        self.docs.entry(name.to_owned()).or_insert_with(|| HostDoc {
            doc: Doc::new(),
            awareness: AwarenessStates::new(Limits::default().max_awareness_clients),
            log: Vec::new(),
        })
    }

    /// The document `name` (created empty if new).
    pub fn doc(&mut self, name: &str) -> &Doc {
        &self.entry(name).doc
    }

    /// The updates stored for `name`, in the order they were acknowledged.
    pub fn stored(&self, name: &str) -> &[Vec<u8>] {
        self.docs.get(name).map_or(&[], |d| d.log.as_slice())
    }

    /// What a crash and restart leaves: every document rebuilt from its
    /// stored log (what was acknowledged), awareness forgotten. Sessions
    /// of the old process are gone; clients reconnect with new ones.
    pub fn restart(&mut self) -> Result<()> {
        for host in self.docs.values_mut() {
            let doc = Doc::new();
            for update in &host.log {
                apply(&doc, update)?;
            }
            host.doc = doc;
            host.awareness = AwarenessStates::new(Limits::default().max_awareness_clients);
        }
        Ok(())
    }

    /// Answers every event `session` has queued, and returns what the other
    /// connections must receive ([`DocHost::deliver`]).
    pub fn serve(&mut self, now_ms: u64, session: &mut ServerSession) -> Result<Vec<Fanout>> {
        let mut fanout = Vec::new();
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::Opened { document, .. } => {
                    let hocuspocus = session.is_hocuspocus();
                    let host = self.entry(&document);
                    if !hocuspocus {
                        // y-websocket servers open with their step 1.
                        let sv = read(&host.doc)?.state_vector();
                        session.send_sync_step1(&document, &EncodedStateVector::from(&sv))?;
                    }
                    if !host.awareness.is_empty() {
                        let states = host.awareness.to_update();
                        session.send_awareness(&document, &states)?;
                    }
                }
                ServerEvent::SyncStep1 {
                    document,
                    state_vector,
                    reply_step1,
                } => {
                    let host = self.entry(&document);
                    let txn = read(&host.doc)?;
                    session.answer_sync_step1(&document, &txn, &state_vector, reply_step1)?;
                }
                ServerEvent::ApplyUpdate {
                    document,
                    update,
                    ack,
                } => {
                    let host = self.entry(&document);
                    // Store first: what is acknowledged must survive a crash.
                    host.log.push(update.clone());
                    let applied = apply(&host.doc, &update);
                    session.ack_persisted(ack, applied.is_ok())?;
                    applied?;
                    fanout.push(Fanout::Update { document, update });
                }
                ServerEvent::CheckReadOnlyUpdate {
                    document,
                    update,
                    ack,
                } => {
                    let host = self.entry(&document);
                    let snapshot = read(&host.doc)?.snapshot();
                    let adds_nothing = update_adds_nothing(&update, &snapshot)?;
                    session.ack_persisted(ack, adds_nothing)?;
                }
                ServerEvent::Awareness { document, update } => {
                    let host = self.entry(&document);
                    host.awareness.apply(&update, now_ms, None);
                    fanout.push(Fanout::Awareness { document, update });
                }
                ServerEvent::QueryAwareness { document } => {
                    let states = self.entry(&document).awareness.to_update();
                    session.send_awareness(&document, &states)?;
                }
                ServerEvent::Denied { .. }
                | ServerEvent::TokenRefreshed { .. }
                | ServerEvent::UpdateRefused { .. }
                | ServerEvent::Stateless { .. }
                | ServerEvent::Closed { .. } => {}
            }
        }
        Ok(fanout)
    }

    /// Sends `fanout` to `session` for every document it has open.
    pub fn deliver(session: &mut ServerSession, fanout: &[Fanout]) -> Result<()> {
        for item in fanout {
            match item {
                Fanout::Update { document, update } if session.access(document).is_some() => {
                    session.send_update(document, update)?;
                }
                Fanout::Awareness { document, update } if session.access(document).is_some() => {
                    session.send_awareness(document, update)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn read(doc: &Doc) -> Result<yrs::Transaction<'_>> {
    doc.try_transact().map_err(|_| SyncError::DocumentBusy)
}

fn apply(doc: &Doc, update: &[u8]) -> Result<()> {
    let update = Update::decode_v1(update).map_err(|e| SyncError::Apply(e.to_string()))?;
    doc.try_transact_mut()
        .map_err(|_| SyncError::DocumentBusy)?
        .apply_update(update)
        .map_err(|e| SyncError::Apply(e.to_string()))
}
