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
use crate::presence::{AgentPresence, FieldError, LocalPresence, Peer, SelectionRef, peers};
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
/// A subscriber to what the server holds (an encoded state vector).
pub(crate) type ServerStateFn = dyn Fn(&[u8]);

/// A subscriber, by what it listens to.
#[derive(Clone)]
pub(crate) enum Listener {
    Status(Rc<dyn Fn(ConnectionStatus)>),
    Persistence(Rc<dyn Fn(PersistenceStatus)>),
    Presence(Rc<PresenceFn>),
    ServerState(Rc<ServerStateFn>),
}

/// An agent's presence beside the page's own.
struct AgentSlot {
    key: String,
    client_id: u64,
    /// The awareness JSON published (`None`: withdrawn).
    json: Option<String>,
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
    /// What the server is known to hold: the document's state vector (v1)
    /// the last time every local change was confirmed.
    server_state: RefCell<Option<Vec<u8>>>,
    /// Subscribers were not told the latest `server_state` yet.
    server_state_dirty: Cell<bool>,
    presence: RefCell<LocalPresence>,
    /// The awareness JSON last published.
    pub(crate) published: RefCell<Option<String>>,
    /// Agents editing through the page, each published under a client id
    /// of its own (kept after withdrawal, so its clock keeps rising).
    agents: RefCell<Vec<AgentSlot>>,
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
            server_state: RefCell::new(None),
            server_state_dirty: Cell::new(false),
            presence: RefCell::new(presence),
            published: RefCell::new(None),
            agents: RefCell::new(Vec::new()),
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
        let server_state = self
            .server_state_dirty
            .replace(false)
            .then(|| self.server_state())
            .flatten();
        if told == now && !presence && server_state.is_none() {
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
                Listener::ServerState(f) => {
                    if let Some(sv) = &server_state {
                        f(sv);
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

    /// Other collaborators' awareness states as `(client id, JSON)`: the
    /// agents editing through this page, then through the server, then
    /// those of other tabs (a tab that is also connected appears once,
    /// with its server-side state).
    pub(crate) fn awareness_states(&self) -> Vec<(u64, String)> {
        let mut states = self.agent_states();
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
                    if !states[..from_server].iter().any(|(c, _)| *c == client)
                        && !self.agents.borrow().iter().any(|a| a.client_id == client)
                    {
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

    /// Publishes (`Some`) or withdraws (`None`) agent `key`'s presence
    /// under its own client id: to the server and the other tabs, and to
    /// this page's presence subscribers.
    pub(crate) fn set_agent(&self, key: &str, presence: Option<&AgentPresence>) {
        if self.closed.get() {
            return;
        }
        let own = self.doc.ydoc().client_id().get();
        let (client_id, json) = {
            let mut agents = self.agents.borrow_mut();
            let slot = match agents.iter().position(|a| a.key == key) {
                Some(i) => &mut agents[i],
                None if presence.is_none() => return,
                None => {
                    // Yjs client ids are 32-bit; any but the document's own.
                    let mut client_id = crate::random_u64() & 0xffff_ffff;
                    if client_id == own {
                        client_id ^= 1;
                    }
                    agents.push(AgentSlot {
                        key: key.to_owned(),
                        client_id,
                        json: None,
                    });
                    let last = agents.len() - 1;
                    &mut agents[last]
                }
            };
            let color = crate::presence::color_for(slot.client_id);
            let json = presence.map(|p| p.to_json(&self.doc, color));
            if slot.json == json {
                return;
            }
            slot.json.clone_from(&json);
            (slot.client_id, json)
        };
        if let Some(socket) = &self.socket {
            let set = socket.with_session(&self.key.name, |s| {
                s.set_extra_awareness(crate::now_ms(), client_id, json.as_deref())
            });
            if let Some(Err(e)) = set {
                warn(&format!("agent presence not published: {e}"));
            }
            socket.transmit();
        }
        if let Some(tabs) = &self.tabs {
            tabs.announce_as(self, client_id, json.as_deref().unwrap_or("null"));
        }
        self.presence_dirty.set(true);
        crate::paint_schedule::request_drive();
    }

    /// The live agents' awareness states, as `(client id, JSON)`.
    pub(crate) fn agent_states(&self) -> Vec<(u64, String)> {
        self.agents
            .borrow()
            .iter()
            .filter_map(|a| Some((a.client_id, a.json.clone()?)))
            .collect()
    }

    pub(crate) fn set_user(&self, name: &str, color: &str, id: &str) {
        self.presence.borrow_mut().set_user(name, color, Some(id));
        self.publish_presence();
    }

    /// What the server is known to hold (see [`crate::DocHandle::server_state`]).
    pub(crate) fn server_state(&self) -> Option<Vec<u8>> {
        self.server_state.borrow().clone()
    }

    /// The socket driver saw the server confirm every local change: it
    /// holds the document as it is now. Kept in IndexedDB beside the log.
    pub(crate) fn all_confirmed(&self) {
        let sv = self.doc.state_vector_v1();
        if self.server_state.borrow().as_deref() == Some(sv.as_slice()) {
            return;
        }
        if let Some(store) = &self.store {
            store.save_server_state(self, &sv);
        }
        *self.server_state.borrow_mut() = Some(sv);
        self.server_state_dirty.set(true);
    }

    /// What IndexedDB remembered the server holding, from an earlier page
    /// (ignored once this page knows better).
    pub(crate) fn restore_server_state(&self, sv: Vec<u8>) {
        // IndexedDB is outside input too: unreadable bytes count as unknown.
        if atelier_sync::EncodedStateVector::decode(&sv, &self.limits).is_err() {
            return;
        }
        if self.server_state.borrow().is_none() {
            *self.server_state.borrow_mut() = Some(sv);
            self.server_state_dirty.set(true);
        }
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
        if self.closed.get() {
            return;
        }
        // Agents leave with the page's own presence.
        let keys: Vec<String> = self.agents.borrow().iter().map(|a| a.key.clone()).collect();
        for key in keys {
            self.set_agent(&key, None);
        }
        self.closed.set(true);
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
