//! [`SocketDriver`]: one browser WebSocket and the sync sessions it carries.
//!
//! The protocol lives in `atelier_sync`; this file only does the I/O
//! around it. A Hocuspocus socket carries every document of its server
//! address: an `atelier_sync::HocuspocusClient` routes frames to each
//! document's `ClientSession` by name, and each session sends its own Auth
//! with its own token. A y-websocket socket carries one document (the name
//! is in the URL: that is the protocol), with its one session.
//!
//! The driver opens the socket once a document is ready (its IndexedDB copy
//! loaded), feeds every binary frame to the sessions, sends what they
//! yield, reconnects with `Backoff` and follows the browser's
//! `online`/`offline` events (no socket is attempted while the browser says
//! it is offline; edits made meanwhile wait in each session's offline
//! queue). A document the server refuses is parked: its session leaves the
//! wire and is never retried on this page (the status says `denied`), while
//! the other documents of the socket carry on. A session reporting
//! silence while its socket still delivers frames for other documents asks
//! for a fresh sync; only a silent socket is reconnected.

use crate::doc_state::DocState;
use crate::status::ConnectionStatus;
use crate::{now_ms, random_u64, warn};
use atelier_sync::{
    Access, Backoff, ClientEvent, ClientSession, ClientStatus, HocuspocusClient, HocuspocusMessage,
    Limits, Reconnect, SyncError,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, Event, MessageEvent, WebSocket};

/// A session reports silence after this long without a frame (its
/// `ClientConfig::stale_after_ms`, y-websocket's 30 s).
const STALE_MS: u64 = 30_000;

type Handler = Closure<dyn FnMut(Event)>;
type Timer = (i32, Closure<dyn FnMut()>);

/// The sessions on the wire: several on a Hocuspocus socket, one on a
/// y-websocket socket.
enum Wire {
    Hocuspocus(HocuspocusClient),
    Single(Option<(String, Box<ClientSession>)>),
}

impl Wire {
    fn attach(&mut self, now: u64, open: bool, name: &str, mut session: ClientSession) {
        match self {
            Wire::Hocuspocus(client) => {
                if let Err(e) = client.attach(now, session) {
                    warn(&format!("{name} cannot share the socket: {e}"));
                }
            }
            Wire::Single(slot) => {
                if open {
                    session.connected(now);
                }
                *slot = Some((name.to_owned(), Box::new(session)));
            }
        }
    }

    fn detach(&mut self, name: &str) -> Option<ClientSession> {
        match self {
            Wire::Hocuspocus(client) => client.detach(name),
            Wire::Single(slot) => match slot.take() {
                Some((n, s)) if n == name => Some(*s),
                other => {
                    *slot = other;
                    None
                }
            },
        }
    }

    fn session_mut(&mut self, name: &str) -> Option<&mut ClientSession> {
        match self {
            Wire::Hocuspocus(client) => client.session_mut(name),
            Wire::Single(slot) => slot
                .as_mut()
                .filter(|(n, _)| n == name)
                .map(|(_, s)| &mut **s),
        }
    }

    fn connected(&mut self, now: u64) {
        match self {
            Wire::Hocuspocus(client) => client.connected(now),
            Wire::Single(slot) => slot.iter_mut().for_each(|(_, s)| s.connected(now)),
        }
    }

    fn disconnected(&mut self, now: u64) {
        match self {
            Wire::Hocuspocus(client) => client.disconnected(now),
            Wire::Single(slot) => slot.iter_mut().for_each(|(_, s)| s.disconnected(now)),
        }
    }

    fn receive(&mut self, now: u64, frame: &[u8]) -> Result<(), SyncError> {
        match self {
            Wire::Hocuspocus(client) => client.receive(now, frame),
            Wire::Single(Some((_, s))) => s.receive(now, frame),
            Wire::Single(None) => Ok(()),
        }
    }

    fn tick(&mut self, now: u64) {
        match self {
            Wire::Hocuspocus(client) => client.tick(now),
            Wire::Single(slot) => slot.iter_mut().for_each(|(_, s)| s.tick(now)),
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        match self {
            Wire::Hocuspocus(client) => client.poll_transmit(),
            Wire::Single(slot) => slot.as_mut().and_then(|(_, s)| s.poll_transmit()),
        }
    }

    fn poll_event(&mut self) -> Option<(String, ClientEvent)> {
        match self {
            Wire::Hocuspocus(client) => client.poll_event(),
            Wire::Single(slot) => slot
                .as_mut()
                .and_then(|(n, s)| s.poll_event().map(|e| (n.clone(), e))),
        }
    }
}

struct Socket {
    ws: WebSocket,
    _handlers: [Handler; 3],
}

impl Socket {
    /// Detaches the handlers and closes the socket if it is still open.
    fn shut(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if matches!(
            self.ws.ready_state(),
            WebSocket::CONNECTING | WebSocket::OPEN
        ) {
            let _ = self.ws.close();
        }
    }
}

/// One WebSocket, its reconnection, and the documents it carries.
pub(crate) struct SocketDriver {
    url: String,
    wire: RefCell<Wire>,
    /// Sessions not on the wire: still loading from IndexedDB, or refused.
    idle: RefCell<BTreeMap<String, ClientSession>>,
    members: RefCell<Vec<(String, Weak<DocState>)>>,
    socket: RefCell<Option<Socket>>,
    socket_gen: Cell<u64>,
    socket_open: Cell<bool>,
    reconnect: RefCell<Reconnect>,
    retry: RefCell<Option<Timer>>,
    online: Cell<bool>,
    closed: Cell<bool>,
    incoming: RefCell<VecDeque<Vec<u8>>>,
    last_frame_ms: Cell<u64>,
}

impl SocketDriver {
    /// A driver for `url`, with no document yet; `hocuspocus` picks the
    /// framing (several documents, or one).
    pub(crate) fn new(url: String, hocuspocus: bool, backoff: Backoff, online: bool) -> Rc<Self> {
        let wire = if hocuspocus {
            Wire::Hocuspocus(HocuspocusClient::new(Limits::default()))
        } else {
            Wire::Single(None)
        };
        Rc::new(SocketDriver {
            url,
            wire: RefCell::new(wire),
            idle: RefCell::new(BTreeMap::new()),
            members: RefCell::new(Vec::new()),
            socket: RefCell::new(None),
            socket_gen: Cell::new(0),
            socket_open: Cell::new(false),
            reconnect: RefCell::new(Reconnect::new(backoff)),
            retry: RefCell::new(None),
            online: Cell::new(online),
            closed: Cell::new(false),
            incoming: RefCell::new(VecDeque::new()),
            last_frame_ms: Cell::new(0),
        })
    }

    /// Adds `doc` with its session, kept off the wire until [`Self::activate`].
    pub(crate) fn add(&self, doc: &Rc<DocState>, session: ClientSession) {
        let name = doc.key.name.clone();
        self.members
            .borrow_mut()
            .push((name.clone(), Rc::downgrade(doc)));
        self.idle.borrow_mut().insert(name, session);
    }

    /// Puts `name`'s session on the wire (its handshake starts at once if
    /// the socket is open) and opens the socket if needed.
    pub(crate) fn activate(self: &Rc<Self>, name: &str) {
        let Some(session) = self.idle.borrow_mut().remove(name) else {
            return;
        };
        self.wire
            .borrow_mut()
            .attach(now_ms(), self.socket_open.get(), name, session);
        self.connect();
    }

    /// Removes `name`: withdraws its presence, tells a Hocuspocus server
    /// it closed the document, and closes the socket after the last one.
    pub(crate) fn detach(&self, name: &str) {
        self.members.borrow_mut().retain(|(n, _)| n != name);
        let on_wire = self.wire.borrow_mut().detach(name);
        let was_on_wire = on_wire.is_some();
        let session = on_wire.or_else(|| self.idle.borrow_mut().remove(name));
        if let Some(mut session) = session {
            // Tell peers we left (y-protocols: a null state).
            let _ = session.set_local_awareness(now_ms(), None);
            let hocuspocus = matches!(*self.wire.borrow(), Wire::Hocuspocus(_));
            let mut frames: Vec<Vec<u8>> = std::iter::from_fn(|| session.poll_transmit()).collect();
            if hocuspocus && was_on_wire {
                frames.push(HocuspocusMessage::Close { reason: None }.encode_for(name));
            }
            self.send_all(frames);
        }
        if self.members.borrow().is_empty() {
            self.closed.set(true);
            self.cancel_retry();
            self.drop_socket();
        }
    }

    /// Whether no document uses this socket any more.
    pub(crate) fn is_unused(&self) -> bool {
        self.members.borrow().is_empty()
    }

    /// Runs `f` on `name`'s session, on the wire or not.
    pub(crate) fn with_session<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut ClientSession) -> R,
    ) -> Option<R> {
        let (mut f, mut out) = (Some(f), None);
        self.session_do(name, &mut |s| out = f.take().map(|f| f(s)));
        out
    }

    /// [`Self::with_session`]'s body, compiled once for every caller.
    fn session_do(&self, name: &str, f: &mut dyn FnMut(&mut ClientSession)) {
        let mut wire = self.wire.borrow_mut();
        if let Some(s) = wire.session_mut(name) {
            return f(s);
        }
        drop(wire);
        if let Some(s) = self.idle.borrow_mut().get_mut(name) {
            f(s);
        }
    }

    /// The status of `name` as users see it.
    pub(crate) fn status_of(&self, name: &str) -> ConnectionStatus {
        let (status, access) = self
            .with_session(name, |s| (s.status(), s.access()))
            .unwrap_or((ClientStatus::Disconnected, None));
        ConnectionStatus::derive(
            self.online.get(),
            self.socket.borrow().is_some(),
            status,
            access,
        )
    }

    /// The browser went online or offline.
    pub(crate) fn set_online(self: &Rc<Self>, online: bool) {
        self.online.set(online);
        self.cancel_retry();
        if online {
            self.reconnect.borrow_mut().reset();
            self.connect();
        } else {
            // Browsers may keep a dead socket open for minutes: drop it now
            // so edits go to the offline queues and the status says so.
            self.drop_socket();
        }
    }

    /// The sessions' timers.
    pub(crate) fn tick(&self, now: u64) {
        self.wire.borrow_mut().tick(now);
    }

    /// Documents on the wire (loaded and not refused).
    fn attached(&self) -> usize {
        self.members.borrow().len() - self.idle.borrow().len()
    }

    fn connect(self: &Rc<Self>) {
        if self.closed.get()
            || !self.online.get()
            || self.socket.borrow().is_some()
            || self.attached() == 0
        {
            return;
        }
        let ws = match WebSocket::new(&self.url) {
            Ok(ws) => ws,
            Err(e) => {
                warn(&format!("cannot open {}: {e:?}", self.url));
                self.schedule_retry();
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let generation = self.socket_gen.get() + 1;
        self.socket_gen.set(generation);
        let handler = |f: fn(&Rc<SocketDriver>, Event)| -> Handler {
            let weak = Rc::downgrade(self);
            Closure::new(move |ev: Event| {
                if let Some(driver) = weak.upgrade()
                    && driver.socket_gen.get() == generation
                {
                    f(&driver, ev);
                    crate::hub::drive();
                }
            })
        };
        let on_open = handler(|d, _| {
            d.socket_open.set(true);
            d.last_frame_ms.set(now_ms());
            d.wire.borrow_mut().connected(now_ms());
        });
        let on_message = handler(|d, ev| {
            let Ok(ev) = ev.dyn_into::<MessageEvent>() else {
                return;
            };
            // Text frames are not part of either protocol.
            if let Ok(buffer) = ev.data().dyn_into::<js_sys::ArrayBuffer>() {
                d.last_frame_ms.set(now_ms());
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                d.incoming.borrow_mut().push_back(bytes);
            }
        });
        let on_close = handler(|d, _| {
            d.drop_socket();
            d.schedule_retry();
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // An error is always followed by `close`, which does the work.
        *self.socket.borrow_mut() = Some(Socket {
            ws,
            _handlers: [on_open, on_message, on_close],
        });
    }

    /// Forgets the socket (closing it if needed) and tells the sessions.
    fn drop_socket(&self) {
        let socket = self.socket.borrow_mut().take();
        self.socket_gen.set(self.socket_gen.get() + 1);
        if let Some(socket) = socket {
            socket.shut();
        }
        if self.socket_open.replace(false) {
            self.wire.borrow_mut().disconnected(now_ms());
        }
        self.incoming.borrow_mut().clear();
    }

    fn cancel_retry(&self) {
        if let Some((id, _)) = self.retry.borrow_mut().take()
            && let Some(w) = web_sys::window()
        {
            w.clear_timeout_with_handle(id);
        }
    }

    fn schedule_retry(self: &Rc<Self>) {
        if self.closed.get()
            || !self.online.get()
            || self.retry.borrow().is_some()
            || self.attached() == 0
        {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let delay = self.reconnect.borrow_mut().next_delay_ms(random_u64());
        let weak = Rc::downgrade(self);
        let cb: Closure<dyn FnMut()> = Closure::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.retry.borrow_mut().take();
                driver.connect();
                crate::hub::drive();
            }
        });
        if let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            i32::try_from(delay).unwrap_or(i32::MAX),
        ) {
            *self.retry.borrow_mut() = Some((id, cb));
        }
    }

    fn member(&self, name: &str) -> Option<Rc<DocState>> {
        self.members
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, w)| w.upgrade())
    }

    /// Feeds queued frames, reacts to the sessions' events and sends what
    /// they have to send. Document callbacks (initialisation, observers)
    /// run with nothing of this driver borrowed.
    pub(crate) fn drive(self: &Rc<Self>) {
        let mut broken = false;
        loop {
            let Some(frame) = self.incoming.borrow_mut().pop_front() else {
                break;
            };
            let received = self.wire.borrow_mut().receive(now_ms(), &frame);
            match received {
                Ok(()) => {}
                Err(SyncError::DocumentBusy) => {
                    // A transaction is open somewhere up the stack: try the
                    // same frame again from the next drive.
                    self.incoming.borrow_mut().push_front(frame);
                    break;
                }
                Err(e) => {
                    warn(&format!("closing the connection: {e}"));
                    broken = true;
                    break;
                }
            }
        }
        let events: Vec<(String, ClientEvent)> = {
            let mut wire = self.wire.borrow_mut();
            std::iter::from_fn(|| wire.poll_event()).collect()
        };
        // Only Hocuspocus acknowledges updates: with y-websocket, "sent"
        // would pass for "held by the server".
        let acknowledged = matches!(*self.wire.borrow(), Wire::Hocuspocus(_));
        let mut confirmed: Vec<Rc<DocState>> = Vec::new();
        for (name, event) in events {
            let doc = self.member(&name);
            match event {
                ClientEvent::Synced => {
                    self.reconnect.borrow_mut().reset();
                    let read_only =
                        self.with_session(&name, |s| s.access()) == Some(Some(Access::ReadOnly));
                    if let Some(doc) = doc {
                        doc.synced(read_only);
                        confirmed.push(doc);
                    }
                }
                ClientEvent::Confirmed { .. } => confirmed.extend(doc),
                ClientEvent::Awareness(_) => {
                    if let Some(doc) = doc {
                        doc.presence_dirty.set(true);
                    }
                }
                ClientEvent::PermissionDenied { reason } => {
                    warn(&format!("the server refused {name}: {reason}"));
                    self.park(&name);
                }
                ClientEvent::Rejected { up_to } => {
                    warn(&format!(
                        "the server refused local changes to {name} up to #{up_to}"
                    ));
                }
                ClientEvent::Stale
                    if now_ms().saturating_sub(self.last_frame_ms.get()) < STALE_MS =>
                {
                    // The socket is alive (other documents hear from it):
                    // only this document is quiet; ask it for a fresh sync.
                    self.with_session(&name, ClientSession::resync);
                }
                ClientEvent::Closed { .. } | ClientEvent::Stale => broken = true,
                _ => {}
            }
        }
        if acknowledged {
            for doc in confirmed {
                // Once nothing local is waiting, the server holds it all.
                if self.with_session(&doc.key.name, ClientSession::unsynced_changes) == Some(0) {
                    doc.all_confirmed();
                }
            }
        }
        if broken {
            self.drop_socket();
            self.schedule_retry();
        }
        self.transmit();
    }

    /// Takes a refused document off the wire for good; the socket closes
    /// when no other document is left on it.
    fn park(&self, name: &str) {
        let session = self.wire.borrow_mut().detach(name);
        if let Some(session) = session {
            self.idle.borrow_mut().insert(name.to_owned(), session);
        }
        if self.attached() == 0 {
            self.cancel_retry();
            self.drop_socket();
        }
    }

    /// Sends everything the sessions have to send.
    pub(crate) fn transmit(&self) {
        loop {
            // Drained even without a socket: the sessions move captured
            // local edits to their offline queues.
            let Some(frame) = self.wire.borrow_mut().poll_transmit() else {
                break;
            };
            if !self.send(&frame) {
                // The socket is closing; its close event reconnects and the
                // next sync resends whatever the server lacks.
                break;
            }
        }
    }

    fn send_all(&self, frames: Vec<Vec<u8>>) {
        for frame in frames {
            if !self.send(&frame) {
                break;
            }
        }
    }

    /// Sends one frame if the socket is open; false if it could not go.
    fn send(&self, frame: &[u8]) -> bool {
        let socket = self.socket.borrow();
        match socket.as_ref().filter(|_| self.socket_open.get()) {
            Some(s) => s.ws.send_with_u8_array(frame).is_ok(),
            None => true,
        }
    }
}
