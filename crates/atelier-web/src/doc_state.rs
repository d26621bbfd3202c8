//! [`DocState`]: what the drivers share about one open document.
//!
//! The [`crate::hub`] creates one per document; widgets hold it through
//! [`crate::DocHandle`]s; the socket, IndexedDB and tab drivers each keep a
//! weak reference and update its status. Subscribers are told about
//! changes by [`DocState::notify`], which the page drive calls once the
//! drivers are done: callbacks never run inside a `yrs` transaction or
//! while a driver is borrowed, so they may read or edit the document and
//! open or drop handles.

use crate::endpoint::Framing;
use crate::idb_driver::IdbDriver;
use crate::presence::{FieldError, LocalPresence, Peer, SelectionRef, peers};
use crate::socket_driver::SocketDriver;
use crate::status::{ConnectionStatus, PersistenceStatus};
use crate::tab_driver::TabDriver;
use crate::update_queue::Captures;
use crate::warn;
use atelier_doc::Document;
use atelier_sync::Limits;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// What names a document on the page: the same name on two servers (or in
/// two framings) is two documents. A local document has no server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocKey {
    pub(crate) server: String,
    pub(crate) framing: Framing,
    pub(crate) name: String,
}

/// A presence subscriber.
pub(crate) type PresenceFn = dyn Fn(&[Peer]);

/// A subscriber, by what it listens to.
#[derive(Clone)]
pub(crate) enum Listener {
    Status(Rc<dyn Fn(ConnectionStatus)>),
    Persistence(Rc<dyn Fn(PersistenceStatus)>),
    Presence(Rc<PresenceFn>),
}

/// One open document and the state its drivers share.
pub(crate) struct DocState {
    /// Unique on the page, for widgets that group by document.
    pub(crate) id: u64,
    pub(crate) key: DocKey,
    pub(crate) doc: Rc<Document>,
    /// Create BlockNote's structure once the content is known (DESIGN.md §3).
    pub(crate) init_text: bool,
    /// Caps for updates read from IndexedDB and other tabs.
    pub(crate) limits: Limits,
    pub(crate) captures: Arc<Captures>,
    pub(crate) socket: Option<Rc<SocketDriver>>,
    pub(crate) store: Option<Rc<IdbDriver>>,
    pub(crate) tabs: Option<Rc<TabDriver>>,
    /// Waiting for IndexedDB: not on the socket nor the tab channel yet.
    pub(crate) loading: Cell<bool>,
    closed: Cell<bool>,
    status: Cell<ConnectionStatus>,
    persistence: Cell<PersistenceStatus>,
    /// What subscribers were last told.
    told: Cell<(ConnectionStatus, PersistenceStatus)>,
    pub(crate) presence_dirty: Cell<bool>,
    presence: RefCell<LocalPresence>,
    /// The awareness JSON last published.
    pub(crate) published: RefCell<Option<String>>,
    subs: RefCell<Vec<(u64, Listener)>>,
    next_sub: Cell<u64>,
}

impl DocState {
    /// A document not yet connected to anything; the hub attaches it to
    /// its drivers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u64,
        key: DocKey,
        doc: Rc<Document>,
        init_text: bool,
        presence: LocalPresence,
        socket: Option<Rc<SocketDriver>>,
        store: Option<Rc<IdbDriver>>,
        tabs: Option<Rc<TabDriver>>,
    ) -> Rc<Self> {
        let mut limits = Limits::default();
        // A stored or tab-sent full state may be as large as a document.
        limits.max_update_bytes = limits.max_update_bytes.max(limits.max_document_bytes);
        let status = if socket.is_some() {
            ConnectionStatus::Connecting
        } else {
            ConnectionStatus::Local
        };
        let persistence = if store.is_some() {
            PersistenceStatus::Loading
        } else {
            PersistenceStatus::Disabled
        };
        Rc::new(DocState {
            id,
            key,
            doc,
            init_text,
            limits,
            captures: Arc::new(Captures::new(store.is_some(), tabs.is_some())),
            loading: Cell::new(store.is_some()),
            socket,
            store,
            tabs,
            closed: Cell::new(false),
            status: Cell::new(status),
            persistence: Cell::new(persistence),
            told: Cell::new((status, persistence)),
            presence_dirty: Cell::new(false),
            presence: RefCell::new(presence),
            published: RefCell::new(None),
            subs: RefCell::new(Vec::new()),
            next_sub: Cell::new(0),
        })
    }

    fn observer_key(&self) -> String {
        format!("atelier-web-{}", self.id)
    }

    /// Every transaction on the document (a local edit, or a remote update
    /// a session applied) is captured for IndexedDB and the tabs and asks
    /// for a page drive after the next paint.
    pub(crate) fn observe(&self) {
        let captures = self.captures.clone();
        let observed = self
            .doc
            .ydoc()
            .observe_update_v1(self.observer_key(), move |_, event| {
                captures.capture(&event.update);
                crate::paint_schedule::request_drive();
            });
        if observed.is_err() {
            warn("could not observe the document; local edits go out on the next tick");
        }
    }

    /// The first sync of a connection came: DESIGN.md §3, initialise only
    /// now (not on a read-only document).
    pub(crate) fn synced(&self, read_only: bool) {
        if !read_only && self.init_text {
            self.doc.ensure_initialized();
        }
        // Cursor positions may only resolve now.
        self.presence_dirty.set(true);
    }

    /// DESIGN.md §3: a document that already holds blocks (stored, or sent
    /// by another tab) counts as initialised; only stray root groups, from
    /// replicas that initialised concurrently, are merged.
    pub(crate) fn initialise_if_structured(&self) {
        if self.init_text && !self.doc.block_ids().is_empty() {
            self.doc.ensure_initialized();
        }
    }

    /// The stored state is in (or IndexedDB failed): join the socket and
    /// the other tabs.
    pub(crate) fn start_network(self: &Rc<Self>) {
        self.loading.set(false);
        if let Some(socket) = &self.socket {
            socket.activate(&self.key.name);
        }
        if let Some(tabs) = &self.tabs {
            tabs.join(self);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub(crate) fn status(&self) -> ConnectionStatus {
        self.status.get()
    }

    pub(crate) fn persistence(&self) -> PersistenceStatus {
        self.persistence.get()
    }

    /// Subscribers hear of it at the next [`DocState::notify`].
    pub(crate) fn set_persistence(&self, next: PersistenceStatus) {
        self.persistence.set(next);
    }

    /// Derives the status from the socket and the session.
    pub(crate) fn refresh_status(&self) {
        let next = match &self.socket {
            None => ConnectionStatus::Local,
            Some(_) if self.loading.get() => ConnectionStatus::Connecting,
            Some(socket) => socket.status_of(&self.key.name),
        };
        self.status.set(next);
    }

    /// Tells subscribers what changed since they were last told.
    pub(crate) fn notify(&self) {
        if self.closed.get() {
            return;
        }
        let now = (self.status.get(), self.persistence.get());
        let (status, persistence) = now;
        let told = self.told.replace(now);
        let presence = self.presence_dirty.replace(false);
        if told == now && !presence {
            return;
        }
        let listeners: Vec<Listener> = self.subs.borrow().iter().map(|(_, l)| l.clone()).collect();
        let peers = (presence && listeners.iter().any(|l| matches!(l, Listener::Presence(_))))
            .then(|| self.peers());
        for listener in listeners {
            match listener {
                Listener::Status(f) if told.0 != status => f(status),
                Listener::Persistence(f) if told.1 != persistence => f(persistence),
                Listener::Presence(f) => {
                    if let Some(peers) = &peers {
                        f(peers);
                    }
                }
                _ => {}
            }
        }
    }

    /// Registers a listener; returns its id for [`DocState::unsubscribe`].
    pub(crate) fn subscribe(&self, listener: Listener) -> u64 {
        let id = self.next_sub.get() + 1;
        self.next_sub.set(id);
        self.subs.borrow_mut().push((id, listener));
        id
    }

    pub(crate) fn unsubscribe(&self, id: u64) {
        self.subs.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Remote awareness states as `(client id, JSON)`: through the server,
    /// then those of other tabs (a tab that is also connected appears once,
    /// with its server-side state).
    pub(crate) fn awareness_states(&self) -> Vec<(u64, String)> {
        let mut states: Vec<(u64, String)> = Vec::new();
        if let Some(socket) = &self.socket {
            socket.with_session(&self.key.name, |s| {
                let remote = s.remote_awareness();
                states.extend(remote.iter().map(|(c, _, json)| (c, json.to_owned())));
            });
        }
        if let Some(tabs) = &self.tabs {
            let from_server = states.len();
            tabs.with_awareness(&self.key.name, |aw| {
                for (client, _, json) in aw.iter() {
                    if !states[..from_server].iter().any(|(c, _)| *c == client) {
                        states.push((client, json.to_owned()));
                    }
                }
            });
        }
        states
    }

    /// The remote peers now, with their selections resolved in the document.
    pub(crate) fn peers(&self) -> Vec<Peer> {
        let states = self.awareness_states();
        peers(states.iter().map(|(c, j)| (*c, j.as_str())), &self.doc)
    }

    /// Publishes the local awareness state if it changed: to the server
    /// (sent at once) and to the other tabs.
    pub(crate) fn publish_presence(&self) {
        if self.closed.get() {
            return;
        }
        let json = self.presence.borrow().to_json();
        if self.published.borrow().as_deref() == Some(json.as_str()) {
            return;
        }
        if let Some(socket) = &self.socket {
            let set = socket.with_session(&self.key.name, |s| {
                s.set_local_awareness(crate::now_ms(), Some(&json))
            });
            if let Some(Err(e)) = set {
                warn(&format!("presence not published: {e}"));
                return;
            }
        }
        if let Some(tabs) = &self.tabs {
            tabs.announce(self, &json);
        }
        *self.published.borrow_mut() = Some(json);
        if let Some(socket) = &self.socket {
            socket.transmit();
        }
    }

    pub(crate) fn set_selection(&self, selection: Option<SelectionRef<'_>>) {
        self.presence
            .borrow_mut()
            .set_selection(&self.doc, selection);
        self.publish_presence();
    }

    pub(crate) fn set_field(
        &self,
        key: &str,
        value: Option<serde_json::Value>,
    ) -> Result<(), FieldError> {
        self.presence.borrow_mut().set_field(key, value)?;
        self.publish_presence();
        Ok(())
    }

    pub(crate) fn set_user(&self, name: &str, color: &str, id: &str) {
        self.presence.borrow_mut().set_user(name, color, Some(id));
        self.publish_presence();
    }

    pub(crate) fn unsynced_changes(&self) -> u64 {
        self.socket
            .as_ref()
            .and_then(|s| s.with_session(&self.key.name, |s| s.unsynced_changes()))
            .unwrap_or(0)
    }

    /// Stops syncing: what was captured last is stored and shared, the
    /// presence withdrawn everywhere, the session dropped.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        if let Some(tabs) = &self.tabs {
            tabs.flush(self);
            tabs.leave(self);
        }
        if let Some(store) = &self.store {
            store.flush(self);
            store.leave(&self.key.name);
        }
        if let Some(socket) = &self.socket {
            socket.detach(&self.key.name);
        }
        let _ = self.doc.ydoc().unobserve_update_v1(self.observer_key());
        self.subs.borrow_mut().clear();
    }
}
