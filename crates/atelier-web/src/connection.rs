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
//!
//! Persistence ([`IdbStore`]): before the first socket is opened, the
//! document's records in IndexedDB are applied, so a page reloaded offline
//! shows (and edits) its last state; every later update, local or remote,
//! is appended, and the log is compacted by a [`Compactor`]. If IndexedDB
//! fails, the document stays in memory, syncing carries on and
//! [`PersistenceStatus::Unavailable`] says so.
//!
//! Tabs ([`TabMessage`] on a `BroadcastChannel` named after the server and
//! document): updates and awareness go to the other tabs of this origin and
//! theirs are applied, so tabs converge with the server down. A document
//! that already holds blocks (stored, or from another tab) counts as
//! initialised (DESIGN.md §3): only stray root groups are merged.

use crate::compaction::{CompactionPolicy, Compactor};
use crate::endpoint::{Framing, socket_url};
use crate::error::{Result, WebError};
use crate::idb_store::{IdbStore, database_name};
use crate::presence::{LocalPresence, Peer, SelectionRef, color_for, peers};
use crate::status::{ConnectionStatus, PersistenceStatus};
use crate::tab_message::TabMessage;
use atelier_doc::Document;
use atelier_sync::{
    Access, AwarenessEntry, AwarenessStates, AwarenessUpdate, Backoff, ClientConfig, ClientEvent,
    ClientSession, ClientStatus, Limits, Reconnect, SyncError, check_update_v1_against,
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, BroadcastChannel, Event, MessageEvent, WebSocket};

/// y-protocols drops an awareness state not renewed within 30 s.
const AWARENESS_TIMEOUT_MS: u64 = 30_000;
/// How often this tab renews its awareness on the cross-tab channel.
const AWARENESS_RENEW_MS: u64 = 15_000;

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
    /// Keep the document in IndexedDB and load it from there before
    /// connecting.
    pub persist: bool,
    /// When the IndexedDB log is compacted.
    pub compaction: CompactionPolicy,
    /// Share updates and awareness with other tabs through a
    /// `BroadcastChannel`.
    pub cross_tab: bool,
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
            persist: true,
            compaction: CompactionPolicy::default(),
            cross_tab: true,
        }
    }
}

type StatusCallback = Rc<dyn Fn(ConnectionStatus)>;
type PresenceCallback = Rc<dyn Fn(&[Peer])>;
type PersistenceCallback = Rc<dyn Fn(PersistenceStatus)>;
type Captured = Arc<Mutex<Vec<Vec<u8>>>>;

fn take_captured(c: &Captured) -> Vec<Vec<u8>> {
    std::mem::take(&mut *c.lock().unwrap_or_else(|p| p.into_inner()))
}

/// The cross-tab channel and its message handler.
struct TabChannel {
    channel: BroadcastChannel,
    _handler: Handler,
}
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
    /// Bumped by each after-paint schedule: an older schedule's callbacks
    /// (its fallback timer) do nothing.
    drive_generation: Cell<u64>,
    limits: Limits,
    /// Waiting for IndexedDB: no socket and no tab channel yet.
    loading: Cell<bool>,
    store_name: String,
    store: RefCell<Option<IdbStore>>,
    persistence: Cell<PersistenceStatus>,
    persistence_cbs: RefCell<Vec<PersistenceCallback>>,
    compactor: RefCell<Compactor>,
    /// False when a stored record could not be read: compacting would drop it.
    can_compact: Cell<bool>,
    writes_in_flight: Cell<u32>,
    /// Updates to append to IndexedDB (filled by the document observer).
    to_store: Captured,
    persist_on: Arc<AtomicBool>,
    /// Updates to broadcast to other tabs.
    to_tabs: Captured,
    tabs_on: Arc<AtomicBool>,
    /// Set while stored records are applied (they are not stored again nor
    /// broadcast) and while another tab's update is applied (not echoed).
    applying_stored: Arc<AtomicBool>,
    applying_tab: Arc<AtomicBool>,
    channel_name: String,
    channel: RefCell<Option<TabChannel>>,
    incoming_tabs: RefCell<VecDeque<Vec<u8>>>,
    tab_awareness: RefCell<AwarenessStates>,
    tab_clock: Cell<u64>,
    tab_announced_ms: Cell<u64>,
}

/// Runs connection `key`'s `drive` once the browser has painted the change
/// that scheduled it (after the next animation frame), so a keystroke's
/// text reaches the screen before its WebSocket frame, IndexedDB record and
/// tab broadcast are written (measured: ~1 ms of a ~3 ms keystroke at
/// 100 k characters). Keystrokes within one frame share one drive. A hidden
/// page paints no frames: there it runs on the next microtask, and a
/// fallback timer covers a page hidden before its frame came.
fn schedule_drive_after_paint(key: u64) {
    let live = move || LIVE.with(|l| l.borrow().get(&key).and_then(Weak::upgrade));
    let generation = live().map_or(0, |inner| {
        let g = inner.drive_generation.get().wrapping_add(1);
        inner.drive_generation.set(g);
        g
    });
    let run = move || {
        if let Some(inner) = live()
            && inner.drive_generation.get() == generation
            && inner.drive_scheduled.swap(false, Ordering::SeqCst)
        {
            inner.drive();
        }
    };
    let window = web_sys::window();
    let visible = window
        .as_ref()
        .and_then(|w| w.document())
        .is_some_and(|d| !d.hidden());
    let Some(window) = window.filter(|_| visible) else {
        wasm_bindgen_futures::spawn_local(async move { run() });
        return;
    };
    let after_frame = {
        let window = window.clone();
        Closure::once_into_js(move || {
            // In the frame's callbacks; a task queued here runs after paint.
            let later = Closure::once_into_js(run);
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 0);
        })
    };
    let fallback = Closure::once_into_js(run);
    if window
        .request_animation_frame(after_frame.unchecked_ref())
        .is_err()
    {
        wasm_bindgen_futures::spawn_local(async move { run() });
        return;
    }
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
        fallback.unchecked_ref(),
        AFTER_PAINT_FALLBACK_MS,
    );
}

/// How long a scheduled drive waits at most for its animation frame.
const AFTER_PAINT_FALLBACK_MS: i32 = 100;

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
        let mut limits = Limits::default();
        // A stored or tab-sent full state may be as large as a document.
        limits.max_update_bytes = limits.max_update_bytes.max(limits.max_document_bytes);
        let store_name = database_name(&options.server, &options.document);
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
            drive_generation: Cell::new(0),
            tab_awareness: RefCell::new(AwarenessStates::new(limits.max_awareness_clients)),
            limits,
            loading: Cell::new(options.persist),
            channel_name: store_name.clone(),
            store_name,
            store: RefCell::new(None),
            persistence: Cell::new(if options.persist {
                PersistenceStatus::Loading
            } else {
                PersistenceStatus::Disabled
            }),
            persistence_cbs: RefCell::new(Vec::new()),
            compactor: RefCell::new(Compactor::new(options.compaction, 0, now_ms())),
            can_compact: Cell::new(true),
            writes_in_flight: Cell::new(0),
            to_store: Arc::new(Mutex::new(Vec::new())),
            persist_on: Arc::new(AtomicBool::new(options.persist)),
            to_tabs: Arc::new(Mutex::new(Vec::new())),
            tabs_on: Arc::new(AtomicBool::new(options.cross_tab)),
            applying_stored: Arc::new(AtomicBool::new(false)),
            applying_tab: Arc::new(AtomicBool::new(false)),
            channel: RefCell::new(None),
            incoming_tabs: RefCell::new(VecDeque::new()),
            tab_clock: Cell::new(0),
            tab_announced_ms: Cell::new(0),
        });
        LIVE.with(|l| l.borrow_mut().insert(key, Rc::downgrade(&inner)));
        inner.observe_doc();
        inner.listen_network(&window);
        inner.start_ticking(&window);
        inner.publish_presence();
        if options.persist {
            inner.load_then_connect();
        } else {
            inner.start_network();
        }
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

    /// Where the IndexedDB copy stands.
    pub fn persistence(&self) -> PersistenceStatus {
        self.inner.persistence.get()
    }

    /// Calls `f` now with the persistence status and after every change.
    pub fn on_persistence(&self, f: impl Fn(PersistenceStatus) + 'static) {
        let f: PersistenceCallback = Rc::new(f);
        f(self.inner.persistence.get());
        self.inner.persistence_cbs.borrow_mut().push(f);
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
    /// the session applied) schedules one `drive`, which sends what the
    /// session captured (see [`schedule_drive_after_paint`]).
    fn observe_doc(&self) {
        let key = self.key;
        let scheduled = self.drive_scheduled.clone();
        let (to_store, persist_on, applying_stored) = (
            self.to_store.clone(),
            self.persist_on.clone(),
            self.applying_stored.clone(),
        );
        let (to_tabs, tabs_on, applying_tab) = (
            self.to_tabs.clone(),
            self.tabs_on.clone(),
            self.applying_tab.clone(),
        );
        let observed = self
            .doc
            .ydoc()
            .observe_update_v1(self.observer_key(), move |_, event| {
                let stored = applying_stored.load(Ordering::SeqCst);
                if persist_on.load(Ordering::SeqCst) && !stored {
                    let mut q = to_store.lock().unwrap_or_else(|p| p.into_inner());
                    q.push(event.update.clone());
                }
                if tabs_on.load(Ordering::SeqCst) && !stored && !applying_tab.load(Ordering::SeqCst)
                {
                    let mut q = to_tabs.lock().unwrap_or_else(|p| p.into_inner());
                    q.push(event.update.clone());
                }
                if !scheduled.swap(true, Ordering::SeqCst) {
                    schedule_drive_after_paint(key);
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
        // A drive waiting for the next frame (see `schedule_drive_after_paint`)
        // runs at once when the page is hidden or left: the last keystroke's
        // record and frame are written before the page can go away.
        // (`visibilitychange` fired at the document reaches the window.)
        for name in ["pagehide", "visibilitychange"] {
            let weak = Rc::downgrade(self);
            let handler: Handler = Closure::new(move |_: Event| {
                if let Some(inner) = weak.upgrade()
                    && inner.drive_scheduled.swap(false, Ordering::SeqCst)
                {
                    inner.drive();
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
                let now = now_ms();
                inner.session.borrow_mut().tick(now);
                inner.tick_tabs(now);
                if inner.compactor.borrow().idle_due(now) {
                    inner.compact(now);
                }
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
            || self.loading.get()
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
        let mut presence_changed = false;
        loop {
            let Some(bytes) = self.incoming_tabs.borrow_mut().pop_front() else {
                break;
            };
            presence_changed |= self.on_tab_message(&bytes);
        }
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
        self.flush_tabs();
        self.flush_store();
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
        let next = if self.loading.get() {
            ConnectionStatus::Connecting
        } else {
            ConnectionStatus::derive(
                self.online.get(),
                self.socket.borrow().is_some(),
                status,
                access,
            )
        };
        if self.status.replace(next) != next {
            let cbs: Vec<StatusCallback> = self.status_cbs.borrow().clone();
            for cb in cbs {
                cb(next);
            }
        }
    }

    /// Peers known through the server and through other tabs (a tab that
    /// is also connected appears once, with its server-side state).
    fn peers(&self) -> Vec<Peer> {
        let session = self.session.borrow();
        let tabs = self.tab_awareness.borrow();
        let server = session.remote_awareness();
        let from_tabs = tabs
            .iter()
            .filter(|(client, _, _)| server.get(*client).is_none());
        peers(
            server
                .iter()
                .chain(from_tabs)
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
                self.announce_to_tabs(&json);
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
        // Whatever the observer captured last is still stored and shared.
        self.flush_tabs();
        self.flush_store();
        self.announce_to_tabs("null");
        if let Some(ch) = self.channel.borrow_mut().take() {
            ch.channel.set_onmessage(None);
            ch.channel.close();
        }
        self.persistence_cbs.borrow_mut().clear();
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

/// Persistence and the cross-tab channel.
impl Inner {
    /// Reads the stored state, applies it, then opens the tab channel and
    /// the socket (whatever IndexedDB answers).
    fn load_then_connect(self: &Rc<Self>) {
        let key = self.key;
        let name = self.store_name.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let loaded = async {
                let store = IdbStore::open(&name).await?;
                let records = store.load().await?;
                Ok::<_, String>((store, records))
            }
            .await;
            if let Some(inner) = LIVE.with(|l| l.borrow().get(&key).and_then(Weak::upgrade)) {
                inner.finish_load(loaded);
            }
        });
    }

    fn finish_load(self: &Rc<Self>, loaded: std::result::Result<(IdbStore, Vec<Vec<u8>>), String>) {
        self.loading.set(false);
        match loaded {
            Ok((store, records)) => {
                self.applying_stored.store(true, Ordering::SeqCst);
                let mut skipped = 0;
                for record in &records {
                    // Checked against the document as loaded so far: a
                    // log cannot nest past max_nesting_depth record by record.
                    let ok = check_update_v1_against(record, &self.limits, self.doc.ydoc()).is_ok()
                        && self.doc.apply_update_v1(record).is_ok();
                    if !ok {
                        skipped += 1;
                    }
                }
                self.applying_stored.store(false, Ordering::SeqCst);
                if skipped > 0 {
                    // Keep what cannot be read: never compact it away.
                    warn(&format!(
                        "{skipped} stored update(s) could not be read; the log is not compacted"
                    ));
                    self.can_compact.set(false);
                }
                let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
                self.compactor.borrow_mut().reset(count, now_ms());
                *self.store.borrow_mut() = Some(store);
                self.set_persistence(PersistenceStatus::Saved);
                self.initialise_if_structured();
            }
            Err(e) => self.persistence_failed(&e),
        }
        self.start_network();
        self.drive();
    }

    /// Opens the tab channel and the socket.
    fn start_network(self: &Rc<Self>) {
        self.open_channel();
        self.connect();
    }

    /// DESIGN.md §3: a document that already holds blocks (stored, or sent
    /// by another tab) counts as initialised; only stray root groups, from
    /// replicas that initialised concurrently, are merged.
    fn initialise_if_structured(&self) {
        if !self.doc.block_ids().is_empty() {
            self.doc.ensure_initialized();
        }
    }

    fn set_persistence(&self, next: PersistenceStatus) {
        if self.persistence.replace(next) != next {
            let cbs: Vec<PersistenceCallback> = self.persistence_cbs.borrow().clone();
            for cb in cbs {
                cb(next);
            }
        }
    }

    /// Carries on in memory only: the document is untouched.
    fn persistence_failed(&self, reason: &str) {
        warn(&format!(
            "IndexedDB unavailable, the document is kept in memory only: {reason}"
        ));
        self.persist_on.store(false, Ordering::SeqCst);
        take_captured(&self.to_store);
        if let Some(store) = self.store.borrow_mut().take() {
            store.close();
        }
        self.set_persistence(PersistenceStatus::Unavailable);
    }

    /// Appends what the observer captured, compacting when the policy says so.
    fn flush_store(&self) {
        if self.loading.get() {
            return;
        }
        let batch = take_captured(&self.to_store);
        if batch.is_empty() {
            return;
        }
        let Some(store) = self.store.borrow().clone() else {
            return;
        };
        let now = now_ms();
        match store.append(&batch) {
            Ok(done) => {
                self.track_write(done);
                let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
                if self.compactor.borrow_mut().appended(count, now) {
                    self.compact(now);
                }
            }
            Err(e) => self.persistence_failed(&e),
        }
    }

    /// Replaces the log with the full state. Issued after every append made
    /// so far, so the state covers all of them.
    fn compact(&self, now: u64) {
        if !self.can_compact.get() || self.loading.get() {
            return;
        }
        let Some(store) = self.store.borrow().clone() else {
            return;
        };
        // Anything captured but not yet appended is in the state too.
        take_captured(&self.to_store);
        let state = self.doc.encode_state_v1();
        match store.replace_all(&state) {
            Ok(done) => {
                self.compactor.borrow_mut().compacted(now);
                self.track_write(done);
            }
            Err(e) => self.persistence_failed(&e),
        }
    }

    fn track_write(&self, done: impl Future<Output = std::result::Result<(), String>> + 'static) {
        self.writes_in_flight.set(self.writes_in_flight.get() + 1);
        self.set_persistence(PersistenceStatus::Saving);
        let key = self.key;
        wasm_bindgen_futures::spawn_local(async move {
            let result = done.await;
            let Some(inner) = LIVE.with(|l| l.borrow().get(&key).and_then(Weak::upgrade)) else {
                return;
            };
            inner
                .writes_in_flight
                .set(inner.writes_in_flight.get().saturating_sub(1));
            match result {
                Err(e) => inner.persistence_failed(&e),
                Ok(()) => {
                    if inner.writes_in_flight.get() == 0
                        && inner.persistence.get() == PersistenceStatus::Saving
                    {
                        inner.set_persistence(PersistenceStatus::Saved);
                    }
                }
            }
        });
    }

    fn open_channel(self: &Rc<Self>) {
        if !self.tabs_on.load(Ordering::SeqCst) || self.channel.borrow().is_some() {
            return;
        }
        let channel = match BroadcastChannel::new(&self.channel_name) {
            Ok(c) => c,
            Err(e) => {
                warn(&format!("no cross-tab channel: {e:?}"));
                self.tabs_on.store(false, Ordering::SeqCst);
                take_captured(&self.to_tabs);
                return;
            }
        };
        let weak = Rc::downgrade(self);
        let handler: Handler = Closure::new(move |ev: Event| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let Ok(ev) = ev.dyn_into::<MessageEvent>() else {
                return;
            };
            let data = ev.data();
            if data.is_instance_of::<js_sys::Uint8Array>() {
                let bytes = js_sys::Uint8Array::new(&data).to_vec();
                inner.incoming_tabs.borrow_mut().push_back(bytes);
                inner.drive();
            }
        });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        *self.channel.borrow_mut() = Some(TabChannel {
            channel,
            _handler: handler,
        });
        // What the loaded state already holds needs no broadcast: the hello
        // exchange carries it to tabs that lack it.
        take_captured(&self.to_tabs);
        self.post_tab(&TabMessage::Hello(self.doc.state_vector_v1()));
        if let Some(json) = self.published.borrow().clone() {
            self.announce_to_tabs(&json);
        }
    }

    fn post_tab(&self, message: &TabMessage) {
        if let Some(ch) = self.channel.borrow().as_ref() {
            let bytes = js_sys::Uint8Array::from(message.encode().as_slice());
            if let Err(e) = ch.channel.post_message(&bytes) {
                warn(&format!("cross-tab message not sent: {e:?}"));
            }
        }
    }

    /// Broadcasts the updates the observer captured.
    fn flush_tabs(&self) {
        let batch = take_captured(&self.to_tabs);
        if self.channel.borrow().is_none() {
            return;
        }
        for update in batch {
            self.post_tab(&TabMessage::Update(update));
        }
    }

    /// Sends this tab's awareness state (`"null"`: it left) to other tabs.
    fn announce_to_tabs(&self, json: &str) {
        if self.channel.borrow().is_none() {
            return;
        }
        let clock = self.tab_clock.get() + 1;
        self.tab_clock.set(clock);
        self.tab_announced_ms.set(now_ms());
        let update = AwarenessUpdate {
            entries: vec![AwarenessEntry {
                client_id: self.doc.ydoc().client_id().get(),
                clock,
                state: json.to_owned(),
            }],
        };
        self.post_tab(&TabMessage::Awareness(update.encode()));
    }

    /// Renews this tab's awareness and drops tabs that went silent.
    fn tick_tabs(&self, now: u64) {
        if now.saturating_sub(self.tab_announced_ms.get()) >= AWARENESS_RENEW_MS
            && let Some(json) = self.published.borrow().clone()
        {
            self.announce_to_tabs(&json);
        }
        let gone = self
            .tab_awareness
            .borrow_mut()
            .expire(now, AWARENESS_TIMEOUT_MS);
        if !gone.is_empty() {
            self.emit_presence();
        }
    }

    /// Handles one message from another tab; returns whether presence changed.
    fn on_tab_message(&self, bytes: &[u8]) -> bool {
        let message = match TabMessage::decode(bytes, self.limits.max_message_bytes) {
            Ok(m) => m,
            Err(e) => {
                warn(&e.to_string());
                return false;
            }
        };
        match message {
            TabMessage::Hello(sv) => {
                self.answer_step1(&sv);
                self.post_tab(&TabMessage::Step1(self.doc.state_vector_v1()));
                if let Some(json) = self.published.borrow().clone() {
                    self.announce_to_tabs(&json);
                }
                false
            }
            TabMessage::Step1(sv) => {
                self.answer_step1(&sv);
                false
            }
            TabMessage::Update(update) => {
                if let Err(e) = check_update_v1_against(&update, &self.limits, self.doc.ydoc()) {
                    warn(&format!("ignoring another tab's update: {e}"));
                    return false;
                }
                self.applying_tab.store(true, Ordering::SeqCst);
                let applied = self.doc.apply_update_v1(&update);
                self.applying_tab.store(false, Ordering::SeqCst);
                if let Err(e) = applied {
                    warn(&format!("ignoring another tab's update: {e}"));
                    return false;
                }
                self.initialise_if_structured();
                // Cursors may resolve only now.
                true
            }
            TabMessage::Awareness(bytes) => {
                let update = match AwarenessUpdate::decode(&bytes, &self.limits) {
                    Ok(u) => u,
                    Err(e) => {
                        warn(&format!("ignoring another tab's awareness: {e}"));
                        return false;
                    }
                };
                let own = self.doc.ydoc().client_id().get();
                let applied = self
                    .tab_awareness
                    .borrow_mut()
                    .apply(&update, now_ms(), Some(own));
                !applied.change.is_empty()
            }
        }
    }

    /// Sends another tab what it lacks according to its state vector.
    fn answer_step1(&self, sv: &[u8]) {
        match self.doc.diff_v1(sv) {
            // `[0, 0]`: no structs and an empty delete set.
            Ok(diff) if diff.len() > 2 => self.post_tab(&TabMessage::Update(diff)),
            Ok(_) => {}
            Err(e) => warn(&format!("ignoring another tab's state vector: {e}")),
        }
    }
}
