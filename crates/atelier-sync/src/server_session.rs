//! The server side of one connection, sans-I/O.
//!
//! The session never touches a document. It decodes frames, keeps the
//! protocol state (which documents are authenticated, with what access,
//! which updates wait for acknowledgement) and turns frames into
//! [`ServerEvent`]s; the server answers through the `send_*` methods and
//! drains [`ServerSession::poll_transmit`].
//!
//! Durability (DESIGN.md §5): an update from a client arrives as
//! [`ServerEvent::ApplyUpdate`] with an [`AckId`]. The server appends it to
//! its store, applies it, fans it out, and only then calls
//! [`ServerSession::ack_persisted`]; the Hocuspocus acknowledgement
//! (SyncStatus 1) is sent at that moment, never before. Acknowledgements go
//! out in the order the client sent its updates, whatever order the server
//! confirms them in, because providers match them by counting.
//!
//! Hocuspocus auth comes first: until a document's Auth message has been
//! decided by the [`Authorizer`], every other message for it is held
//! (within [`Limits::max_held_messages`] and [`Limits::max_held_bytes`]) and
//! replayed once the document opens, as `@hocuspocus/server` does.

use std::collections::{BTreeMap, VecDeque};

use yrs::ReadTxn;

use crate::auth::{Access, AuthDecision, Authorizer, HocuspocusAuth};
use crate::awareness::AwarenessUpdate;
use crate::error::{Result, SyncError};
use crate::hocuspocus_frame::{HocuspocusFrame, HocuspocusMessage};
use crate::limits::Limits;
use crate::message::SyncMessage;
use crate::state_vector::EncodedStateVector;
use crate::ywebsocket_frame::YwsMessage;

/// Identifies an update waiting for [`ServerSession::ack_persisted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AckId(u64);

impl AckId {
    /// The raw number, unique within the session.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What the server must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// The document is open on this connection: join its room and send the
    /// current awareness states. With y-websocket, also send sync step 1
    /// ([`ServerSession::send_sync_step1`]), as y-websocket servers do on
    /// connection; Hocuspocus clients send theirs.
    Opened {
        /// The document address.
        document: String,
        /// What the client may do.
        access: Access,
    },
    /// The Authorizer refused the document; PermissionDenied was sent.
    Denied {
        /// The document address.
        document: String,
        /// The reason sent.
        reason: String,
    },
    /// The client sent a new token for an open document (Hocuspocus
    /// `onTokenSync`).
    TokenRefreshed {
        /// The document address.
        document: String,
        /// The new token.
        token: String,
    },
    /// The client's sync step 1. Answer with
    /// [`ServerSession::answer_sync_step1`] (or by hand: the document's
    /// state vector with [`ServerSession::send_sync_step1`] when
    /// `reply_step1`, so that the client sends what the server lacks, then
    /// the diff against `state_vector` with [`ServerSession::send_sync_step2`]).
    SyncStep1 {
        /// The document address.
        document: String,
        /// The client's state vector.
        state_vector: EncodedStateVector,
        /// Whether the client expects the server's step 1 back.
        reply_step1: bool,
    },
    /// A read-write client's update (or step 2): persist it, apply it, fan
    /// it out, then call [`ServerSession::ack_persisted`] with `ack`
    /// (`false` if it could not be stored).
    ApplyUpdate {
        /// The document address.
        document: String,
        /// A structurally checked v1 update.
        update: Vec<u8>,
        /// To acknowledge once durable.
        ack: AckId,
    },
    /// A read-only client's sync step 2. Apply nothing; call
    /// [`ServerSession::ack_persisted`] with whether it adds nothing to the
    /// document ([`crate::update_adds_nothing`]), as Hocuspocus does, so the
    /// client's pending-changes counter settles.
    CheckReadOnlyUpdate {
        /// The document address.
        document: String,
        /// A structurally checked v1 update.
        update: Vec<u8>,
        /// To answer.
        ack: AckId,
    },
    /// A read-only client's update was refused (SyncStatus 0 sent in
    /// Hocuspocus); nothing to do but perhaps log it.
    UpdateRefused {
        /// The document address.
        document: String,
    },
    /// An awareness update to apply to the room's awareness and fan out.
    Awareness {
        /// The document address.
        document: String,
        /// The decoded, JSON-checked update.
        update: AwarenessUpdate,
    },
    /// The client asks for all awareness states: answer with
    /// [`ServerSession::send_awareness`].
    QueryAwareness {
        /// The document address.
        document: String,
    },
    /// A Hocuspocus stateless message.
    Stateless {
        /// The document address.
        document: String,
        /// The payload.
        payload: String,
    },
    /// The client closed the document (Hocuspocus Close); leave its room.
    Closed {
        /// The document address.
        document: String,
        /// The reason, if the client gave one.
        reason: Option<String>,
    },
}

#[derive(Debug)]
enum DocAuth {
    Waiting,
    Deciding,
    Open(Access),
}

#[derive(Debug)]
struct PendingAck {
    id: u64,
    outcome: Option<bool>,
}

#[derive(Debug)]
struct DocState {
    auth: DocAuth,
    held: VecDeque<(HocuspocusMessage, usize)>,
    acks: VecDeque<PendingAck>,
    provider_version: Option<String>,
}

impl DocState {
    fn new(auth: DocAuth) -> Self {
        DocState {
            auth,
            held: VecDeque::new(),
            acks: VecDeque::new(),
            provider_version: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Framing {
    YWebsocket { document: String },
    Hocuspocus,
}

/// The server side of one connection, in either framing.
#[derive(Debug)]
pub struct ServerSession {
    framing: Framing,
    limits: Limits,
    docs: BTreeMap<String, DocState>,
    held_messages: usize,
    held_bytes: usize,
    next_ack: u64,
    ack_docs: BTreeMap<u64, String>,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<ServerEvent>,
    last_received_ms: u64,
}

impl ServerSession {
    /// A y-websocket connection for `document`, already authorized (at the
    /// HTTP upgrade) with `access`. Starts with an [`ServerEvent::Opened`].
    pub fn y_websocket(document: impl Into<String>, access: Access, limits: Limits) -> Self {
        let document = document.into();
        let mut session = Self::with_framing(
            Framing::YWebsocket {
                document: document.clone(),
            },
            limits,
        );
        session
            .docs
            .insert(document.clone(), DocState::new(DocAuth::Open(access)));
        session
            .events
            .push_back(ServerEvent::Opened { document, access });
        session
    }

    /// A Hocuspocus connection: documents open one by one through Auth.
    pub fn hocuspocus(limits: Limits) -> Self {
        Self::with_framing(Framing::Hocuspocus, limits)
    }

    fn with_framing(framing: Framing, limits: Limits) -> Self {
        ServerSession {
            framing,
            limits,
            docs: BTreeMap::new(),
            held_messages: 0,
            held_bytes: 0,
            next_ack: 1,
            ack_docs: BTreeMap::new(),
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            last_received_ms: 0,
        }
    }

    /// True for the Hocuspocus framing, false for y-websocket.
    pub fn is_hocuspocus(&self) -> bool {
        self.framing == Framing::Hocuspocus
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The access of an open document, `None` if it is not open.
    pub fn access(&self, document: &str) -> Option<Access> {
        match self.docs.get(document)?.auth {
            DocAuth::Open(access) => Some(access),
            _ => None,
        }
    }

    /// Open documents and their access.
    pub fn open_documents(&self) -> impl Iterator<Item = (&str, Access)> {
        self.docs.iter().filter_map(|(name, d)| match d.auth {
            DocAuth::Open(access) => Some((name.as_str(), access)),
            _ => None,
        })
    }

    /// The provider version a Hocuspocus 4 client sent with its token.
    pub fn provider_version(&self, document: &str) -> Option<&str> {
        self.docs.get(document)?.provider_version.as_deref()
    }

    /// Updates waiting for [`ServerSession::ack_persisted`].
    pub fn pending_acks(&self) -> usize {
        self.ack_docs.len()
    }

    /// When the last frame arrived (for idle timeouts).
    pub fn last_received_ms(&self) -> u64 {
        self.last_received_ms
    }

    /// Handles one frame from the client.
    ///
    /// An `Err` means the frame was malformed, oversized, over a cap, or a
    /// protocol violation: close the connection. Nothing from that frame
    /// reached an event.
    pub fn receive(
        &mut self,
        now_ms: u64,
        frame: &[u8],
        authorizer: &mut dyn Authorizer,
    ) -> Result<()> {
        self.last_received_ms = now_ms;
        match &self.framing {
            Framing::YWebsocket { document } => {
                let document = document.clone();
                let message = YwsMessage::decode(frame, &self.limits)?;
                let Some(access) = self.access(&document) else {
                    return Err(SyncError::Unexpected(
                        "a message after the document was closed",
                    ));
                };
                match message {
                    YwsMessage::Sync(sync) => self.on_sync(document, access, sync, false),
                    YwsMessage::Awareness(update) => {
                        self.events
                            .push_back(ServerEvent::Awareness { document, update });
                        Ok(())
                    }
                    YwsMessage::QueryAwareness => {
                        self.events
                            .push_back(ServerEvent::QueryAwareness { document });
                        Ok(())
                    }
                    YwsMessage::Auth(_) => Err(SyncError::Unexpected(
                        "an auth message from a y-websocket client",
                    )),
                }
            }
            Framing::Hocuspocus => match HocuspocusFrame::decode(frame, &self.limits)? {
                HocuspocusFrame::Ping => {
                    self.outgoing.push_back(HocuspocusFrame::Pong.encode());
                    Ok(())
                }
                HocuspocusFrame::Pong => Ok(()),
                HocuspocusFrame::Message { document, message } => {
                    self.on_hocuspocus(document, message, frame.len(), authorizer)
                }
            },
        }
    }

    fn on_hocuspocus(
        &mut self,
        document: String,
        message: HocuspocusMessage,
        size: usize,
        authorizer: &mut dyn Authorizer,
    ) -> Result<()> {
        let state = self.docs.get(&document).map(|d| &d.auth);
        match (state, message) {
            (Some(DocAuth::Open(access)), message) => {
                let access = *access;
                self.on_open_message(document, access, message)
            }
            (
                None | Some(DocAuth::Waiting),
                HocuspocusMessage::Auth(HocuspocusAuth::Token {
                    token,
                    provider_version,
                }),
            ) => {
                self.ensure_doc(&document)?;
                if let Some(d) = self.docs.get_mut(&document) {
                    d.provider_version = provider_version;
                }
                let decision = authorizer.authorize(&document, &token);
                self.decide(document, decision)
            }
            (_, HocuspocusMessage::Close { .. }) => {
                // The client gave up on a document that never opened.
                self.remove_doc(&document);
                Ok(())
            }
            (_, message) => {
                self.ensure_doc(&document)?;
                let messages = self.held_messages + 1;
                if messages > self.limits.max_held_messages {
                    return Err(SyncError::TooMany {
                        what: "messages held before authentication",
                        count: messages as u64,
                        limit: self.limits.max_held_messages as u64,
                    });
                }
                let bytes = self.held_bytes + size;
                if bytes > self.limits.max_held_bytes {
                    return Err(SyncError::TooLarge {
                        what: "messages held before authentication",
                        size: bytes as u64,
                        limit: self.limits.max_held_bytes as u64,
                    });
                }
                self.held_messages = messages;
                self.held_bytes = bytes;
                if let Some(d) = self.docs.get_mut(&document) {
                    d.held.push_back((message, size));
                }
                Ok(())
            }
        }
    }

    fn ensure_doc(&mut self, document: &str) -> Result<()> {
        if self.docs.contains_key(document) {
            return Ok(());
        }
        let pending = self
            .docs
            .values()
            .filter(|d| !matches!(d.auth, DocAuth::Open(_)))
            .count();
        if pending >= self.limits.max_pending_documents {
            return Err(SyncError::TooMany {
                what: "documents waiting for authentication",
                count: pending as u64 + 1,
                limit: self.limits.max_pending_documents as u64,
            });
        }
        if self.docs.len() >= self.limits.max_documents_per_connection {
            return Err(SyncError::TooMany {
                what: "documents on one connection",
                count: self.docs.len() as u64 + 1,
                limit: self.limits.max_documents_per_connection as u64,
            });
        }
        self.docs
            .insert(document.to_owned(), DocState::new(DocAuth::Waiting));
        Ok(())
    }

    /// Decides a document whose Authorizer answered [`AuthDecision::Defer`].
    pub fn resolve_auth(&mut self, document: &str, decision: AuthDecision) -> Result<()> {
        match self.docs.get(document).map(|d| &d.auth) {
            Some(DocAuth::Deciding) => self.decide(document.to_owned(), decision),
            _ => Err(SyncError::UnknownDocument(document.to_owned())),
        }
    }

    fn decide(&mut self, document: String, decision: AuthDecision) -> Result<()> {
        match decision {
            AuthDecision::Allow(access) => {
                let held = match self.docs.get_mut(&document) {
                    Some(d) => {
                        d.auth = DocAuth::Open(access);
                        std::mem::take(&mut d.held)
                    }
                    None => return Err(SyncError::UnknownDocument(document)),
                };
                self.release_held(&held);
                self.outgoing.push_back(
                    HocuspocusMessage::Auth(HocuspocusAuth::Authenticated { access })
                        .encode_for(&document),
                );
                self.events.push_back(ServerEvent::Opened {
                    document: document.clone(),
                    access,
                });
                for (message, _) in held {
                    self.on_open_message(document.clone(), access, message)?;
                }
                Ok(())
            }
            AuthDecision::Deny { reason } => {
                self.remove_doc(&document);
                self.outgoing.push_back(
                    HocuspocusMessage::Auth(HocuspocusAuth::PermissionDenied {
                        reason: reason.clone(),
                    })
                    .encode_for(&document),
                );
                self.events
                    .push_back(ServerEvent::Denied { document, reason });
                Ok(())
            }
            AuthDecision::Defer => {
                if let Some(d) = self.docs.get_mut(&document) {
                    d.auth = DocAuth::Deciding;
                }
                Ok(())
            }
        }
    }

    fn release_held(&mut self, held: &VecDeque<(HocuspocusMessage, usize)>) {
        self.held_messages -= held.len().min(self.held_messages);
        let bytes: usize = held.iter().map(|(_, size)| size).sum();
        self.held_bytes -= bytes.min(self.held_bytes);
    }

    fn remove_doc(&mut self, document: &str) {
        if let Some(d) = self.docs.remove(document) {
            self.release_held(&d.held);
        }
    }

    fn on_open_message(
        &mut self,
        document: String,
        access: Access,
        message: HocuspocusMessage,
    ) -> Result<()> {
        match message {
            HocuspocusMessage::Sync(sync) => self.on_sync(document, access, sync, true),
            HocuspocusMessage::SyncReply(sync) => self.on_sync(document, access, sync, false),
            HocuspocusMessage::Awareness(update) => {
                self.events
                    .push_back(ServerEvent::Awareness { document, update });
                Ok(())
            }
            HocuspocusMessage::QueryAwareness => {
                self.events
                    .push_back(ServerEvent::QueryAwareness { document });
                Ok(())
            }
            HocuspocusMessage::Auth(HocuspocusAuth::Token { token, .. }) => {
                self.events
                    .push_back(ServerEvent::TokenRefreshed { document, token });
                Ok(())
            }
            HocuspocusMessage::Auth(_) => {
                Err(SyncError::Unexpected("a server auth message from a client"))
            }
            HocuspocusMessage::Stateless(payload) => {
                self.events
                    .push_back(ServerEvent::Stateless { document, payload });
                Ok(())
            }
            HocuspocusMessage::BroadcastStateless(_) => Err(SyncError::Unexpected(
                "BroadcastStateless from a client (server-internal in Hocuspocus)",
            )),
            HocuspocusMessage::Close { reason } => {
                self.remove_doc(&document);
                self.events
                    .push_back(ServerEvent::Closed { document, reason });
                Ok(())
            }
            HocuspocusMessage::SyncStatus { .. } => {
                Err(SyncError::Unexpected("a SyncStatus from a client"))
            }
        }
    }

    fn on_sync(
        &mut self,
        document: String,
        access: Access,
        sync: SyncMessage,
        reply_step1: bool,
    ) -> Result<()> {
        let hocuspocus = self.framing == Framing::Hocuspocus;
        match (sync, access) {
            (SyncMessage::Step1(state_vector), _) => {
                self.events.push_back(ServerEvent::SyncStep1 {
                    document,
                    state_vector,
                    reply_step1,
                });
            }
            (SyncMessage::Step2(update) | SyncMessage::Update(update), Access::ReadWrite) => {
                let ack = self.new_ack(&document, None)?;
                self.events.push_back(ServerEvent::ApplyUpdate {
                    document,
                    update,
                    ack,
                });
            }
            (SyncMessage::Step2(update), Access::ReadOnly) if hocuspocus => {
                let ack = self.new_ack(&document, None)?;
                self.events.push_back(ServerEvent::CheckReadOnlyUpdate {
                    document,
                    update,
                    ack,
                });
            }
            (SyncMessage::Step2(_) | SyncMessage::Update(_), Access::ReadOnly) => {
                if hocuspocus {
                    // Refused at once, but sent in order after earlier answers.
                    self.new_ack(&document, Some(false))?;
                    self.release_acks(&document);
                }
                self.events
                    .push_back(ServerEvent::UpdateRefused { document });
            }
        }
        Ok(())
    }

    fn new_ack(&mut self, document: &str, outcome: Option<bool>) -> Result<AckId> {
        // Refused updates queue behind unanswered ones without an AckId, so
        // count the queues too.
        let queued: usize = self.docs.values().map(|d| d.acks.len()).sum();
        let count = queued.max(self.ack_docs.len()) + 1;
        if count > self.limits.max_pending_acks {
            return Err(SyncError::TooMany {
                what: "updates waiting for acknowledgement",
                count: count as u64,
                limit: self.limits.max_pending_acks as u64,
            });
        }
        let id = self.next_ack;
        self.next_ack += 1;
        if let Some(d) = self.docs.get_mut(document) {
            d.acks.push_back(PendingAck { id, outcome });
        }
        if outcome.is_none() {
            self.ack_docs.insert(id, document.to_owned());
        }
        Ok(AckId(id))
    }

    /// Reports the fate of an [`ServerEvent::ApplyUpdate`] (`applied`: stored
    /// durably and applied) or a [`ServerEvent::CheckReadOnlyUpdate`]
    /// (`applied`: it added nothing). Sends the Hocuspocus SyncStatus once
    /// every earlier update of the document has been answered.
    ///
    /// Acknowledging an update of a document closed meanwhile is `Ok` and
    /// sends nothing.
    pub fn ack_persisted(&mut self, ack: AckId, applied: bool) -> Result<()> {
        let document = self
            .ack_docs
            .remove(&ack.0)
            .ok_or(SyncError::UnknownAck(ack.0))?;
        if let Some(d) = self.docs.get_mut(&document) {
            if let Some(pending) = d.acks.iter_mut().find(|p| p.id == ack.0) {
                pending.outcome = Some(applied);
            }
            self.release_acks(&document);
        }
        Ok(())
    }

    fn release_acks(&mut self, document: &str) {
        let hocuspocus = self.framing == Framing::Hocuspocus;
        let Some(d) = self.docs.get_mut(document) else {
            return;
        };
        while let Some(applied) = d.acks.front().and_then(|p| p.outcome) {
            d.acks.pop_front();
            if hocuspocus {
                self.outgoing
                    .push_back(HocuspocusMessage::SyncStatus { applied }.encode_for(document));
            }
        }
    }

    fn open_check(&self, document: &str) -> Result<()> {
        match self.docs.get(document).map(|d| &d.auth) {
            Some(DocAuth::Open(_)) => Ok(()),
            _ => Err(SyncError::UnknownDocument(document.to_owned())),
        }
    }

    fn push(&mut self, document: &str, message: HocuspocusMessage) -> Result<()> {
        self.open_check(document)?;
        let frame = match (&self.framing, message) {
            (Framing::Hocuspocus, message) => message.encode_for(document),
            (Framing::YWebsocket { .. }, HocuspocusMessage::Sync(sync)) => {
                YwsMessage::Sync(sync).encode()
            }
            (Framing::YWebsocket { .. }, HocuspocusMessage::Awareness(update)) => {
                YwsMessage::Awareness(update).encode()
            }
            // Stateless and Close have no y-websocket form.
            (Framing::YWebsocket { .. }, _) => return Ok(()),
        };
        self.outgoing.push_back(frame);
        Ok(())
    }

    /// Answers a [`ServerEvent::SyncStep1`] from a transaction on the
    /// document: the server's step 1 (when `reply_step1`) then step 2, the
    /// diff against the client's state vector. That is Hocuspocus's order.
    pub fn answer_sync_step1<T: ReadTxn>(
        &mut self,
        document: &str,
        txn: &T,
        state_vector: &EncodedStateVector,
        reply_step1: bool,
    ) -> Result<()> {
        self.open_check(document)?;
        if reply_step1 {
            let own = EncodedStateVector::from_state_vector(&txn.state_vector());
            self.send_sync_step1(document, &own)?;
        }
        let diff = txn.encode_diff_v1(&state_vector.to_state_vector());
        self.send_sync_step2(document, &diff)
    }

    /// Sends the server's sync step 1 (its state vector).
    pub fn send_sync_step1(
        &mut self,
        document: &str,
        state_vector: &EncodedStateVector,
    ) -> Result<()> {
        self.push(
            document,
            HocuspocusMessage::Sync(SyncMessage::Step1(state_vector.clone())),
        )
    }

    /// Sends sync step 2: the diff answering the client's step 1.
    pub fn send_sync_step2(&mut self, document: &str, update: &[u8]) -> Result<()> {
        self.push(
            document,
            HocuspocusMessage::Sync(SyncMessage::Step2(update.to_vec())),
        )
    }

    /// Sends an update (another client's, fanned out).
    pub fn send_update(&mut self, document: &str, update: &[u8]) -> Result<()> {
        self.push(
            document,
            HocuspocusMessage::Sync(SyncMessage::Update(update.to_vec())),
        )
    }

    /// Sends awareness states.
    pub fn send_awareness(&mut self, document: &str, update: &AwarenessUpdate) -> Result<()> {
        self.push(document, HocuspocusMessage::Awareness(update.clone()))
    }

    /// Sends a Hocuspocus stateless message (nothing in y-websocket).
    pub fn send_stateless(&mut self, document: &str, payload: &str) -> Result<()> {
        self.push(document, HocuspocusMessage::Stateless(payload.to_owned()))
    }

    /// Closes a document on this connection: Hocuspocus sends Close with
    /// the reason; with y-websocket the caller closes the socket.
    pub fn close_document(&mut self, document: &str, reason: &str) -> Result<()> {
        self.push(
            document,
            HocuspocusMessage::Close {
                reason: Some(reason.to_owned()),
            },
        )?;
        self.remove_doc(document);
        Ok(())
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::NoAuth;

    fn allow(_: &str, token: &str) -> AuthDecision {
        match token {
            "rw" => AuthDecision::Allow(Access::ReadWrite),
            "ro" => AuthDecision::Allow(Access::ReadOnly),
            "later" => AuthDecision::Defer,
            _ => AuthDecision::Deny {
                reason: "permission-denied".into(),
            },
        }
    }

    fn frame(document: &str, message: HocuspocusMessage) -> Vec<u8> {
        message.encode_for(document)
    }

    fn token(t: &str) -> HocuspocusMessage {
        HocuspocusMessage::Auth(HocuspocusAuth::Token {
            token: t.into(),
            provider_version: None,
        })
    }

    fn events(s: &mut ServerSession) -> Vec<ServerEvent> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    fn sent(s: &mut ServerSession) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| s.poll_transmit()).collect()
    }

    #[test]
    fn holds_messages_until_authenticated() {
        let mut s = ServerSession::hocuspocus(Limits::default());
        let update = HocuspocusMessage::Sync(SyncMessage::Update(vec![0, 0]));
        s.receive(0, &frame("d", update), &mut allow).expect("held");
        assert!(events(&mut s).is_empty());
        s.receive(0, &frame("d", token("rw")), &mut allow)
            .expect("auth");
        let ev = events(&mut s);
        assert!(matches!(
            &ev[0],
            ServerEvent::Opened {
                access: Access::ReadWrite,
                ..
            }
        ));
        let ServerEvent::ApplyUpdate { ack, .. } = &ev[1] else {
            panic!("expected the held update, got {ev:?}")
        };
        assert_eq!(
            sent(&mut s),
            vec![frame(
                "d",
                HocuspocusMessage::Auth(HocuspocusAuth::Authenticated {
                    access: Access::ReadWrite
                })
            )]
        );
        s.ack_persisted(*ack, true).expect("known ack");
        assert_eq!(
            sent(&mut s),
            vec![frame("d", HocuspocusMessage::SyncStatus { applied: true })]
        );
        assert!(matches!(
            s.ack_persisted(*ack, true),
            Err(SyncError::UnknownAck(_))
        ));
    }

    #[test]
    fn acks_leave_in_order() {
        let mut s = ServerSession::hocuspocus(Limits::default());
        s.receive(0, &frame("d", token("rw")), &mut allow)
            .expect("auth");
        let up = || {
            frame(
                "d",
                HocuspocusMessage::Sync(SyncMessage::Update(vec![0, 0])),
            )
        };
        s.receive(0, &up(), &mut allow).expect("update 1");
        s.receive(0, &up(), &mut allow).expect("update 2");
        let acks: Vec<AckId> = events(&mut s)
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::ApplyUpdate { ack, .. } => Some(ack),
                _ => None,
            })
            .collect();
        sent(&mut s);
        s.ack_persisted(acks[1], false).expect("second");
        assert!(sent(&mut s).is_empty(), "must wait for the first");
        s.ack_persisted(acks[0], true).expect("first");
        assert_eq!(
            sent(&mut s),
            vec![
                frame("d", HocuspocusMessage::SyncStatus { applied: true }),
                frame("d", HocuspocusMessage::SyncStatus { applied: false }),
            ]
        );
    }

    #[test]
    fn denies_defers_and_caps() {
        let mut s = ServerSession::hocuspocus(Limits {
            max_pending_documents: 2,
            ..Limits::default()
        });
        s.receive(0, &frame("a", token("bad")), &mut allow)
            .expect("denied");
        assert!(matches!(events(&mut s)[0], ServerEvent::Denied { .. }));
        assert_eq!(s.access("a"), None);
        s.receive(0, &frame("b", token("later")), &mut allow)
            .expect("deferred");
        s.receive(
            0,
            &frame("c", HocuspocusMessage::QueryAwareness),
            &mut allow,
        )
        .expect("held");
        assert!(
            s.receive(
                0,
                &frame("e", HocuspocusMessage::QueryAwareness),
                &mut allow
            )
            .is_err()
        );
        s.resolve_auth("b", AuthDecision::Allow(Access::ReadOnly))
            .expect("resolved");
        assert_eq!(s.access("b"), Some(Access::ReadOnly));
    }

    #[test]
    fn read_only_updates_are_refused_without_events_to_apply() {
        let mut s = ServerSession::hocuspocus(Limits::default());
        s.receive(0, &frame("d", token("ro")), &mut allow)
            .expect("auth");
        sent(&mut s);
        let up = frame(
            "d",
            HocuspocusMessage::Sync(SyncMessage::Update(vec![0, 0])),
        );
        s.receive(0, &up, &mut allow).expect("refused");
        let ev = events(&mut s);
        assert!(
            ev.iter()
                .all(|e| !matches!(e, ServerEvent::ApplyUpdate { .. }))
        );
        assert!(
            ev.iter()
                .any(|e| matches!(e, ServerEvent::UpdateRefused { .. }))
        );
        assert_eq!(
            sent(&mut s),
            vec![frame("d", HocuspocusMessage::SyncStatus { applied: false })]
        );
    }

    #[test]
    fn y_websocket_session_opens_at_once() {
        let mut s = ServerSession::y_websocket("room", Access::ReadWrite, Limits::default());
        assert!(matches!(events(&mut s)[0], ServerEvent::Opened { .. }));
        let up = YwsMessage::Sync(SyncMessage::Update(vec![0, 0])).encode();
        s.receive(0, &up, &mut NoAuth).expect("update");
        assert!(matches!(events(&mut s)[0], ServerEvent::ApplyUpdate { .. }));
        assert!(
            s.receive(
                0,
                &YwsMessage::Auth(crate::YwsAuth::Granted).encode(),
                &mut NoAuth
            )
            .is_err()
        );
    }
}
