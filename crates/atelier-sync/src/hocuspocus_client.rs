//! Several Hocuspocus client sessions sharing one socket.

use std::collections::{BTreeMap, VecDeque};

use crate::client_session::{ClientEvent, ClientSession};
use crate::error::{Result, SyncError};
use crate::hocuspocus_frame::{HocuspocusFrame, peek_document};
use crate::limits::Limits;

/// Routes one Hocuspocus socket to the [`ClientSession`] of each document,
/// like `HocuspocusProviderWebsocket` does for providers, and answers the
/// connection-level Ping of Hocuspocus 4.
#[derive(Debug)]
pub struct HocuspocusClient {
    limits: Limits,
    sessions: BTreeMap<String, ClientSession>,
    outgoing: VecDeque<Vec<u8>>,
    connected_at: Option<u64>,
}

impl HocuspocusClient {
    /// No documents yet.
    pub fn new(limits: Limits) -> Self {
        HocuspocusClient {
            limits,
            sessions: BTreeMap::new(),
            outgoing: VecDeque::new(),
            connected_at: None,
        }
    }

    /// Adds a session speaking the Hocuspocus framing. If the socket is
    /// open, its handshake starts at once.
    pub fn attach(&mut self, now_ms: u64, mut session: ClientSession) -> Result<()> {
        let name = session
            .document_name()
            .ok_or(SyncError::Unexpected(
                "a y-websocket session on a Hocuspocus socket",
            ))?
            .to_owned();
        if self.connected_at.is_some() {
            session.connected(now_ms);
        }
        self.sessions.insert(name, session);
        Ok(())
    }

    /// Removes a document's session (send its Close first if the server
    /// should know).
    pub fn detach(&mut self, document: &str) -> Option<ClientSession> {
        self.sessions.remove(document)
    }

    /// The session of `document`.
    pub fn session(&self, document: &str) -> Option<&ClientSession> {
        self.sessions.get(document)
    }

    /// The session of `document`, mutably.
    pub fn session_mut(&mut self, document: &str) -> Option<&mut ClientSession> {
        self.sessions.get_mut(document)
    }

    /// The socket opened: every session starts its handshake.
    pub fn connected(&mut self, now_ms: u64) {
        self.connected_at = Some(now_ms);
        for session in self.sessions.values_mut() {
            session.connected(now_ms);
        }
    }

    /// The socket closed.
    pub fn disconnected(&mut self, now_ms: u64) {
        self.connected_at = None;
        self.outgoing.clear();
        for session in self.sessions.values_mut() {
            session.disconnected(now_ms);
        }
    }

    /// Handles one frame: answers Ping, routes the rest by document name
    /// (frames for unknown documents are ignored, as providers do).
    pub fn receive(&mut self, now_ms: u64, frame: &[u8]) -> Result<()> {
        match peek_document(frame, &self.limits)? {
            None => {
                if HocuspocusFrame::decode(frame, &self.limits)? == HocuspocusFrame::Ping {
                    self.outgoing.push_back(HocuspocusFrame::Pong.encode());
                }
                Ok(())
            }
            Some(document) => match self.sessions.get_mut(document) {
                Some(session) => session.receive(now_ms, frame),
                None => Ok(()),
            },
        }
    }

    /// Runs every session's timers.
    pub fn tick(&mut self, now_ms: u64) {
        for session in self.sessions.values_mut() {
            session.tick(now_ms);
        }
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(frame) = self.outgoing.pop_front() {
            return Some(frame);
        }
        self.sessions.values_mut().find_map(|s| s.poll_transmit())
    }

    /// The next event of any session, with its document name.
    pub fn poll_event(&mut self) -> Option<(String, ClientEvent)> {
        self.sessions
            .iter_mut()
            .find_map(|(name, s)| s.poll_event().map(|e| (name.clone(), e)))
    }
}
