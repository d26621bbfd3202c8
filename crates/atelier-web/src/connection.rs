//! [`Connection`]: one document kept in sync over a browser WebSocket.
//!
//! The protocol lives in `atelier_sync::ClientSession`; this file only does
//! the I/O around it: it opens the socket, feeds every binary frame to the
//! session, sends what `poll_transmit` yields (after every transaction on
//! the document, every frame and every timer tick), calls `tick` on an
//! interval, reconnects with [`Backoff`] and follows the browser's
//! `online`/`offline` events (no socket is attempted while the browser says
//! it is offline; edits made meanwhile wait in the session's offline queue).
//!
//! Callbacks run from browser tasks and microtasks, never from inside a
//! `yrs` transaction or while the session is borrowed, so they may read or
//! edit the document.

use crate::endpoint::{Framing, socket_url};
use crate::error::{Result, WebError};
use crate::presence::{LocalPresence, Peer, SelectionRef, color_for, peers};
use crate::status::ConnectionStatus;
use atelier_doc::Document;
use atelier_sync::{
    Access, Backoff, ClientConfig, ClientEvent, ClientSession, ClientStatus, Reconnect, SyncError,
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, Event, MessageEvent, WebSocket};

thread_local! {
    /// Live connections by key, for `yrs` observers (which must be `Send`
    /// and so cannot hold an `Rc`).
    static LIVE: RefCell<HashMap<u64, Weak<Inner>>> = RefCell::new(HashMap::new());
    static NEXT_KEY: Cell<u64> = const { Cell::new(1) };
}

/// Settings of [`Connection::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Server address: `ws(s)://host/sync` (Hocuspocus) or the y-websocket
    /// base address the document name is appended to.
    pub server: String,
    /// Document (room) name.
    pub document: String,
    /// Bearer token ("" for anonymous access).
    pub token: String,
    /// Wire framing.
    pub framing: Framing,
    /// The local user's display name, published in awareness.
    pub user_name: String,
    /// The local user's caret colour (`#rrggbb`); `None` picks one from the
    /// client id.
    pub user_color: Option<String>,
    /// Reconnection policy (jitter comes from `Math.random`).
    pub backoff: Backoff,
    /// How often the session's timers run, in milliseconds.
    pub tick_ms: u32,
}

impl ConnectOptions {
    /// Hocuspocus, anonymous, default backoff, a one-second tick.
    pub fn new(server: impl Into<String>, document: impl Into<String>) -> Self {
        ConnectOptions {
            server: server.into(),
            document: document.into(),
            token: String::new(),
            framing: Framing::Hocuspocus,
            user_name: String::new(),
            user_color: None,
            backoff: Backoff::default(),
            tick_ms: 1_000,
        }
    }
}

type StatusCallback = Rc<dyn Fn(ConnectionStatus)>;
type PresenceCallback = Rc<dyn Fn(&[Peer])>;
type Handler = Closure<dyn FnMut(Event)>;

struct Socket {
    ws: WebSocket,
    _handlers: Vec<Handler>,
}

impl Socket {
    /// Detaches the handlers and closes the socket if it is still open.
    fn shut(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        if matches!(
            self.ws.ready_state(),
            WebSocket::CONNECTING | WebSocket::OPEN
        ) {
            let _ = self.ws.close();
        }
    }
}

struct Inner {
    key: u64,
    doc: Rc<Document>,
    url: String,
    tick_ms: u32,
    session: RefCell<ClientSession>,
    socket: RefCell<Option<Socket>>,
    socket_gen: Cell<u64>,
    socket_open: Cell<bool>,
    reconnect: RefCell<Reconnect>,
    retry_timer: Cell<Option<i32>>,
    retry_cb: RefCell<Option<Closure<dyn FnMut()>>>,
    tick_timer: Cell<Option<i32>>,
    tick_cb: RefCell<Option<Closure<dyn FnMut()>>>,
    window_listeners: RefCell<Vec<(&'static str, Handler)>>,
    online: Cell<bool>,
    closed: Cell<bool>,
    status: Cell<ConnectionStatus>,
    status_cbs: RefCell<Vec<StatusCallback>>,
    presence_cbs: RefCell<Vec<PresenceCallback>>,
    presence: RefCell<LocalPresence>,
    published: RefCell<Option<String>>,
    incoming: RefCell<VecDeque<Vec<u8>>>,
    drive_scheduled: Arc<AtomicBool>,
}

/// One document kept in sync with a server over a WebSocket.
///
/// Dropping it (or [`Connection::close`]) withdraws the local presence,
/// closes the socket and stops every timer and listener.
pub struct Connection {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.inner.url)
            .field("status", &self.inner.status.get())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

fn random_u64() -> u64 {
    // Math.random has 53 bits of precision.
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}

fn warn(message: &str) {
    web_sys::console::warn_1(&format!("atelier-web: {message}").into());
}

impl Connection {
    /// Starts keeping `doc` in sync with `options.server`.
    ///
    /// The document structure BlockNote expects is created only after the
    /// first sync (`Document::ensure_initialized`, which also merges root
    /// groups two clients created at once), so an empty local replica never
    /// races a peer's initialisation.
    pub fn open(doc: Rc<Document>, options: ConnectOptions) -> Result<Connection> {
        if options.document.is_empty() {
            return Err(WebError::NoDocument);
        }
        let url = socket_url(
            &options.server,
            &options.document,
            &options.token,
            options.framing,
        )?;
        let window = web_sys::window().ok_or(WebError::NoWindow)?;
        let config = match options.framing {
            Framing::Hocuspocus => {
                ClientConfig::hocuspocus(options.document.clone(), options.token.clone())
            }
            Framing::YWebsocket => ClientConfig::y_websocket(),
        };
        let session = ClientSession::new(doc.ydoc().clone(), config)?;
        let client_id = doc.ydoc().client_id().get();
        let color = options
            .user_color
            .clone()
            .unwrap_or_else(|| color_for(client_id).to_owned());
        let key = NEXT_KEY.with(|k| {
            let v = k.get();
            k.set(v + 1);
            v
        });
        let inner = Rc::new(Inner {
            key,
            doc,
            url,
            tick_ms: options.tick_ms.max(50),
            session: RefCell::new(session),
            socket: RefCell::new(None),
            socket_gen: Cell::new(0),
            socket_open: Cell::new(false),
            reconnect: RefCell::new(Reconnect::new(options.backoff)),
            retry_timer: Cell::new(None),
            retry_cb: RefCell::new(None),
            tick_timer: Cell::new(None),
            tick_cb: RefCell::new(None),
            window_listeners: RefCell::new(Vec::new()),
            online: Cell::new(window.navigator().on_line()),
            closed: Cell::new(false),
            status: Cell::new(ConnectionStatus::Connecting),
            status_cbs: RefCell::new(Vec::new()),
            presence_cbs: RefCell::new(Vec::new()),
            presence: RefCell::new(LocalPresence::new(&options.user_name, &color)),
            published: RefCell::new(None),
            incoming: RefCell::new(VecDeque::new()),
            drive_scheduled: Arc::new(AtomicBool::new(false)),
        });
        LIVE.with(|l| l.borrow_mut().insert(key, Rc::downgrade(&inner)));
        inner.observe_doc();
        inner.listen_network(&window);
        inner.start_ticking(&window);
        inner.publish_presence();
        inner.connect();
        inner.update_status();
        Ok(Connection { inner })
    }

    /// The current status.
    pub fn status(&self) -> ConnectionStatus {
        self.inner.status.get()
    }

    /// Calls `f` now with the current status and after every change.
    pub fn on_status(&self, f: impl Fn(ConnectionStatus) + 'static) {
        let f: StatusCallback = Rc::new(f);
        f(self.inner.status.get());
        self.inner.status_cbs.borrow_mut().push(f);
    }

    /// Calls `f` with the remote peers whenever their awareness changes.
    pub fn on_presence(&self, f: impl Fn(&[Peer]) + 'static) {
        self.inner.presence_cbs.borrow_mut().push(Rc::new(f));
    }

    /// The remote peers now, with their selections resolved in the document.
    pub fn peers(&self) -> Vec<Peer> {
        self.inner.peers()
    }

    /// Publishes the local selection (`None`: no caret in the document).
    /// Unchanged states are not sent again.
    pub fn set_selection(&self, selection: Option<SelectionRef<'_>>) {
        self.inner
            .presence
            .borrow_mut()
            .set_selection(&self.inner.doc, selection);
        self.inner.publish_presence();
    }

    /// Local transactions the server has not confirmed yet.
    pub fn unsynced_changes(&self) -> u64 {
        self.inner.session.borrow_mut().unsynced_changes()
    }

    /// Stops syncing: withdraws the presence, closes the socket, stops timers.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl Inner {
    fn observer_key(&self) -> String {
        format!("atelier-web-{}", self.key)
    }

    /// Every transaction on the document (a local edit, or a remote update
    /// the session applied) schedules one `drive` on the next microtask,
    /// which sends what the session captured.
    fn observe_doc(&self) {
        let key = self.key;
        let scheduled = self.drive_scheduled.clone();
        let observed = self
            .doc
            .ydoc()
            .observe_update_v1(self.observer_key(), move |_, _| {
                if !scheduled.swap(true, Ordering::SeqCst) {
                    wasm_bindgen_futures::spawn_local(async move {
                        let inner = LIVE.with(|l| l.borrow().get(&key).and_then(Weak::upgrade));
                        if let Some(inner) = inner {
                            inner.drive_scheduled.store(false, Ordering::SeqCst);
                            inner.drive();
                        }
                    });
                }
            });
        if observed.is_err() {
            warn("could not observe the document; local edits go out on the next tick");
        }
    }

    fn listen_network(self: &Rc<Self>, window: &web_sys::Window) {
        for (name, online) in [("online", true), ("offline", false)] {
            let weak = Rc::downgrade(self);
            let handler: Handler = Closure::new(move |_: Event| {
                if let Some(inner) = weak.upgrade() {
                    inner.set_online(online);
                }
            });
            if window
                .add_event_listener_with_callback(name, handler.as_ref().unchecked_ref())
                .is_ok()
            {
                self.window_listeners.borrow_mut().push((name, handler));
            }
        }
    }

    fn start_ticking(self: &Rc<Self>, window: &web_sys::Window) {
        let weak = Rc::downgrade(self);
        let cb: Closure<dyn FnMut()> = Closure::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.session.borrow_mut().tick(now_ms());
                inner.drive();
            }
        });
        let id = window.set_interval_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            i32::try_from(self.tick_ms).unwrap_or(1_000),
        );
        self.tick_timer.set(id.ok());
        *self.tick_cb.borrow_mut() = Some(cb);
    }

    fn set_online(self: &Rc<Self>, online: bool) {
        self.online.set(online);
        self.cancel_retry();
        if online {
            self.reconnect.borrow_mut().reset();
            self.connect();
        } else {
            // Browsers may keep a dead socket open for minutes: drop it now
            // so edits go to the offline queue and the status says so.
            self.drop_socket();
        }
        self.drive();
    }

    fn connect(self: &Rc<Self>) {
        if self.closed.get()
            || !self.online.get()
            || self.socket.borrow().is_some()
            || self.session.borrow().status() == ClientStatus::Denied
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
        let handler = |f: fn(&Rc<Inner>, Event)| -> Handler {
            let weak = Rc::downgrade(self);
            Closure::new(move |ev: Event| {
                if let Some(inner) = weak.upgrade()
                    && inner.socket_gen.get() == generation
                {
                    f(&inner, ev);
                }
            })
        };
        let on_open = handler(|inner, _| inner.on_open());
        let on_message = handler(|inner, ev| {
            if let Ok(ev) = ev.dyn_into::<MessageEvent>() {
                inner.on_message(&ev);
            }
        });
        let on_close = handler(|inner, _| inner.on_close());
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // An error is always followed by `close`, which does the work.
        *self.socket.borrow_mut() = Some(Socket {
            ws,
            _handlers: vec![on_open, on_message, on_close],
        });
    }

    fn on_open(self: &Rc<Self>) {
        self.socket_open.set(true);
        self.session.borrow_mut().connected(now_ms());
        self.drive();
    }

    fn on_message(self: &Rc<Self>, ev: &MessageEvent) {
        let Ok(buffer) = ev.data().dyn_into::<js_sys::ArrayBuffer>() else {
            // Text frames are not part of either protocol.
            return;
        };
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        self.incoming.borrow_mut().push_back(bytes);
        self.drive();
    }

    fn on_close(self: &Rc<Self>) {
        self.drop_socket();
        self.schedule_retry();
        self.drive();
    }

    /// Forgets the socket (closing it if needed) and tells the session.
    fn drop_socket(&self) {
        let socket = self.socket.borrow_mut().take();
        self.socket_gen.set(self.socket_gen.get() + 1);
        if let Some(socket) = socket {
            socket.shut();
        }
        if self.socket_open.replace(false) {
            self.session.borrow_mut().disconnected(now_ms());
        }
        self.incoming.borrow_mut().clear();
    }

    fn cancel_retry(&self) {
        if let Some(id) = self.retry_timer.take()
            && let Some(w) = web_sys::window()
        {
            w.clear_timeout_with_handle(id);
        }
        self.retry_cb.borrow_mut().take();
    }

    fn schedule_retry(self: &Rc<Self>) {
        if self.closed.get() || !self.online.get() || self.retry_timer.get().is_some() {
            return;
        }
        if self.session.borrow().status() == ClientStatus::Denied {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let delay = self.reconnect.borrow_mut().next_delay_ms(random_u64());
        let weak = Rc::downgrade(self);
        let cb: Closure<dyn FnMut()> = Closure::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.retry_timer.set(None);
                inner.connect();
                inner.drive();
            }
        });
        let id = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            i32::try_from(delay).unwrap_or(i32::MAX),
        );
        self.retry_timer.set(id.ok());
        *self.retry_cb.borrow_mut() = Some(cb);
    }

    /// Feeds queued frames, reacts to the session's events, sends what it
    /// has to send and reports status and presence changes.
    fn drive(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        let mut broken = false;
        loop {
            let Some(frame) = self.incoming.borrow_mut().pop_front() else {
                break;
            };
            let received = self.session.borrow_mut().receive(now_ms(), &frame);
            match received {
                Ok(()) => {}
                Err(SyncError::DocumentBusy) => {
                    // A transaction is open somewhere up the stack: try the
                    // same frame again from the next tick.
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
        let events: Vec<ClientEvent> = {
            let mut s = self.session.borrow_mut();
            std::iter::from_fn(|| s.poll_event()).collect()
        };
        let mut presence_changed = false;
        for event in events {
            match event {
                ClientEvent::Synced => {
                    self.reconnect.borrow_mut().reset();
                    let read_only = self.session.borrow().access() == Some(Access::ReadOnly);
                    if !read_only {
                        // DESIGN.md §3: initialise only after the first sync.
                        self.doc.ensure_initialized();
                    }
                    // Cursor positions may only resolve now.
                    presence_changed = true;
                }
                ClientEvent::Awareness(_) => presence_changed = true,
                ClientEvent::PermissionDenied { reason } => {
                    warn(&format!("the server refused the document: {reason}"));
                    self.drop_socket();
                }
                ClientEvent::Rejected { up_to } => {
                    warn(&format!("the server refused local changes up to #{up_to}"));
                }
                ClientEvent::Closed { .. } | ClientEvent::Stale => broken = true,
                _ => {}
            }
        }
        if broken {
            self.drop_socket();
            self.schedule_retry();
        }
        self.transmit();
        self.update_status();
        if presence_changed {
            self.emit_presence();
        }
    }

    fn transmit(&self) {
        let socket = self.socket.borrow();
        let ws = socket
            .as_ref()
            .filter(|_| self.socket_open.get())
            .map(|s| &s.ws);
        loop {
            // Drained even without a socket: the session moves captured
            // local edits to its offline queue.
            let Some(frame) = self.session.borrow_mut().poll_transmit() else {
                break;
            };
            if let Some(ws) = ws
                && ws.send_with_u8_array(&frame).is_err()
            {
                // The socket is closing; its close event reconnects and the
                // next sync resends whatever the server lacks.
                break;
            }
        }
    }

    fn update_status(&self) {
        let (status, access) = {
            let s = self.session.borrow();
            (s.status(), s.access())
        };
        let next = ConnectionStatus::derive(
            self.online.get(),
            self.socket.borrow().is_some(),
            status,
            access,
        );
        if self.status.replace(next) != next {
            let cbs: Vec<StatusCallback> = self.status_cbs.borrow().clone();
            for cb in cbs {
                cb(next);
            }
        }
    }

    fn peers(&self) -> Vec<Peer> {
        let session = self.session.borrow();
        peers(
            session
                .remote_awareness()
                .iter()
                .map(|(client, _, json)| (client, json)),
            &self.doc,
        )
    }

    fn emit_presence(&self) {
        let cbs: Vec<PresenceCallback> = self.presence_cbs.borrow().clone();
        if cbs.is_empty() {
            return;
        }
        let peers = self.peers();
        for cb in cbs {
            cb(&peers);
        }
    }

    fn publish_presence(self: &Rc<Self>) {
        let json = self.presence.borrow().to_json();
        if self.published.borrow().as_deref() == Some(json.as_str()) {
            return;
        }
        let set = self
            .session
            .borrow_mut()
            .set_local_awareness(now_ms(), Some(&json));
        match set {
            Ok(()) => {
                *self.published.borrow_mut() = Some(json);
                self.transmit();
            }
            Err(e) => warn(&format!("presence not published: {e}")),
        }
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        // Tell peers we left (y-protocols: a null state), then hang up.
        if self
            .session
            .borrow_mut()
            .set_local_awareness(now_ms(), None)
            .is_ok()
        {
            self.transmit();
        }
        self.cancel_retry();
        self.drop_socket();
        if let Some(w) = web_sys::window() {
            if let Some(id) = self.tick_timer.take() {
                w.clear_interval_with_handle(id);
            }
            for (name, handler) in self.window_listeners.borrow_mut().drain(..) {
                let _ =
                    w.remove_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
            }
        }
        self.tick_cb.borrow_mut().take();
        let _ = self.doc.ydoc().unobserve_update_v1(self.observer_key());
        LIVE.with(|l| l.borrow_mut().remove(&self.key));
        self.status_cbs.borrow_mut().clear();
        self.presence_cbs.borrow_mut().clear();
    }
}
