//! [`DocHandle`]: what a widget holds on an open document.
//!
//! Several widgets (an editor, a chat, an assistant) hold handles on the
//! same document and come and go independently: each handle counts as one
//! user for the [`crate::hub`], and each subscription returns a
//! [`Subscription`] guard that unsubscribes when dropped. Callbacks run
//! from the page drive, never inside a `yrs` transaction, so they may read
//! or edit the document.

use crate::doc_state::{DocState, Listener};
use crate::error::{Result, WebError};
use crate::presence::{AgentPresence, FieldError, Peer, SelectionRef};
use crate::status::{ConnectionStatus, PersistenceStatus};
use atelier_doc::Document;
use atelier_doc::awareness::AwarenessState;
use std::rc::{Rc, Weak};

/// A counted handle on a document the hub has open. Clone it for another
/// user; the document closes (after lingering) when the last one is dropped.
pub struct DocHandle {
    state: Rc<DocState>,
}

impl DocHandle {
    pub(crate) fn new(state: Rc<DocState>) -> Self {
        DocHandle { state }
    }

    /// The document, shared by every handle on it.
    pub fn document(&self) -> Rc<Document> {
        self.state.doc.clone()
    }

    /// The document's name.
    pub fn name(&self) -> &str {
        &self.state.key.name
    }

    /// The server address it syncs with (`None`: a local document).
    pub fn server(&self) -> Option<&str> {
        Some(self.state.key.server.as_str()).filter(|s| !s.is_empty())
    }

    /// An id unique among the documents this page opened: handles on the
    /// same document have the same id.
    pub fn id(&self) -> u64 {
        self.state.id
    }

    /// The connection status (`Local` for a local document).
    pub fn status(&self) -> ConnectionStatus {
        self.state.status()
    }

    /// Where the IndexedDB copy stands (`Disabled` for a local document).
    pub fn persistence(&self) -> PersistenceStatus {
        self.state.persistence()
    }

    /// The remote peers now, with their selections resolved in the document.
    pub fn peers(&self) -> Vec<Peer> {
        self.state.peers()
    }

    /// The remote peers' whole awareness states (with fields beyond `user`
    /// and `cursor`, such as a chat's `typing`), by awareness client id;
    /// states that do not parse are left out.
    pub fn awareness_states(&self) -> Vec<(u64, AwarenessState)> {
        self.state
            .awareness_states()
            .into_iter()
            .filter_map(|(client, json)| Some((client, AwarenessState::from_json(&json).ok()?)))
            .collect()
    }

    /// Calls `f` after every status change, until the guard is dropped.
    pub fn on_status(&self, f: impl Fn(ConnectionStatus) + 'static) -> Subscription {
        self.subscription(Listener::Status(Rc::new(f)))
    }

    /// Calls `f` after every persistence change, until the guard is dropped.
    pub fn on_persistence(&self, f: impl Fn(PersistenceStatus) + 'static) -> Subscription {
        self.subscription(Listener::Persistence(Rc::new(f)))
    }

    /// Calls `f` with the remote peers whenever their awareness changes (or
    /// their cursors may resolve differently), until the guard is dropped.
    pub fn on_presence(&self, f: impl Fn(&[Peer]) + 'static) -> Subscription {
        self.subscription(Listener::Presence(Rc::new(f)))
    }

    /// What the server is known to hold of the document: its state vector
    /// (v1 encoding) as of the last moment the server had confirmed every
    /// local change (Hocuspocus SyncStatus), kept in IndexedDB beside the
    /// log so a page reloaded offline still knows it. A chat shows its
    /// user's messages outside it as not sent yet. `None` until known, and
    /// always for a local or y-websocket document (y-websocket has no
    /// acknowledgements).
    pub fn server_state(&self) -> Option<Vec<u8>> {
        self.state.server_state()
    }

    /// Calls `f` with [`DocHandle::server_state`] each time it changes,
    /// until the guard is dropped.
    pub fn on_server_state(&self, f: impl Fn(&[u8]) + 'static) -> Subscription {
        self.subscription(Listener::ServerState(Rc::new(f)))
    }

    fn subscription(&self, listener: Listener) -> Subscription {
        Subscription {
            state: Rc::downgrade(&self.state),
            id: self.state.subscribe(listener),
        }
    }

    /// Publishes the local selection (`None`: no caret in the document).
    /// Unchanged states are not sent again.
    pub fn set_selection(&self, selection: Option<SelectionRef<'_>>) {
        self.state.set_selection(selection);
    }

    /// Publishes (`Some`) or withdraws (`None`) an awareness field beside
    /// `user` and `cursor`, such as `typing` (a boolean) for a chat.
    /// `user` and `cursor` are refused: the page writes them.
    pub fn set_awareness_field(&self, key: &str, value: Option<serde_json::Value>) -> Result<()> {
        self.state
            .set_field(key, value)
            .map_err(|e| WebError::AwarenessField {
                field: key.to_owned(),
                reason: match e {
                    FieldError::Reserved => "written by the page itself",
                    FieldError::NotABool => "must be a boolean",
                },
            })
    }

    /// Publishes (`Some`) or withdraws (`None`) the presence of agent `key`
    /// (an in-page script, the assistant) editing through this page: a
    /// collaborator of its own beside the page's user, under a client id
    /// of its own, so every peer shows its name and caret. It is relayed
    /// like the page's own state (server, other tabs), listed among this
    /// page's [`DocHandle::peers`], and withdrawn when the document closes.
    pub fn set_agent_presence(&self, key: &str, presence: Option<&AgentPresence>) {
        self.state.set_agent(key, presence);
    }

    /// Local transactions the server has not confirmed yet (0 for a local
    /// document).
    pub fn unsynced_changes(&self) -> u64 {
        self.state.unsynced_changes()
    }

    /// A handle that does not keep the document open.
    pub fn downgrade(&self) -> WeakDocHandle {
        WeakDocHandle {
            state: Rc::downgrade(&self.state),
        }
    }
}

impl Clone for DocHandle {
    fn clone(&self) -> Self {
        crate::hub::retain(&self.state.key);
        DocHandle {
            state: self.state.clone(),
        }
    }
}

impl Drop for DocHandle {
    fn drop(&mut self) {
        crate::hub::release(&self.state.key);
    }
}

impl std::fmt::Debug for DocHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocHandle")
            .field("name", &self.state.key.name)
            .field("server", &self.state.key.server)
            .field("status", &self.state.status())
            .finish_non_exhaustive()
    }
}

/// A handle that does not count as a user (for callbacks stored inside a
/// widget, which must not keep its document open).
#[derive(Clone, Default)]
pub struct WeakDocHandle {
    state: Weak<DocState>,
}

impl WeakDocHandle {
    /// A counted handle, while the document is open (lingering included).
    pub fn upgrade(&self) -> Option<DocHandle> {
        let state = self.state.upgrade().filter(|s| !s.is_closed())?;
        crate::hub::retain(&state.key);
        Some(DocHandle::new(state))
    }
}

impl std::fmt::Debug for WeakDocHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakDocHandle").finish_non_exhaustive()
    }
}

/// A subscription: dropping it unsubscribes.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    state: Weak<DocState>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade() {
            state.unsubscribe(self.id);
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
