//! The page's registry of open documents and the drivers they share.
//!
//! Widgets call [`open`] and hold the [`DocHandle`] it returns. Documents
//! are keyed by (server, framing, name): every widget of the page that
//! opens the same key shares one [`Document`], one session and one
//! awareness state. Below them:
//!
//! - sockets by URL ([`crate::socket_driver`]): a Hocuspocus socket carries
//!   every document of its server address, each authenticated with its own
//!   token; y-websocket gets one socket per document (its protocol);
//! - one IndexedDB database ([`crate::idb_driver`]) and one tab channel
//!   ([`crate::tab_driver`]) per document family: a document `D` and its
//!   siblings, such as its chat `D:chat`
//!   ([`atelier_sync::chat_document_name`]);
//! - one local identity (user name, colour and id), published on every
//!   document the page has open.
//!
//! Handles are counted: when the last one of a networked document is
//! dropped, the document lingers [`LINGER_MS`] before it closes, so a
//! widget re-mounted by an attribute change keeps its socket. A local
//! document (no server) is initialised at once, has no other copy and so
//! stays for the page's lifetime.
//!
//! One page drive ([`drive`]) serves everything: after a paint
//! ([`crate::paint_schedule`]), on every socket or channel message, on
//! every timer tick and IndexedDB completion. It feeds the drivers, sends
//! what they have to send, and then tells subscribers what changed.

use crate::compaction::CompactionPolicy;
use crate::doc_handle::DocHandle;
use crate::doc_state::{DocKey, DocState};
use crate::endpoint::{Framing, socket_url};
use crate::error::{Result, WebError};
use crate::idb_driver::IdbDriver;
use crate::idb_store::database_name;
use crate::leases::{Leases, Ticket};
use crate::presence::{LocalPresence, color_for};
use crate::socket_driver::SocketDriver;
use crate::tab_driver::TabDriver;
use crate::{now_ms, random_u64};
use atelier_doc::Document;
use atelier_sync::{Backoff, ClientConfig, ClientSession, base_document_name, is_chat_document};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::Event;

/// How long a networked document stays open after its last handle is
/// dropped, in milliseconds.
pub const LINGER_MS: i32 = 3_000;
/// How often the sessions' and channels' timers run.
const TICK_MS: i32 = 1_000;

/// What [`open`] opens, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocOptions {
    /// Server address: `ws(s)://host/sync` (Hocuspocus) or the y-websocket
    /// base address the document name is appended to; empty for a local
    /// document, kept in this page only.
    pub server: String,
    /// Document (room) name.
    pub document: String,
    /// Bearer token ("" for anonymous access), sent for this document only.
    pub token: String,
    /// Wire framing.
    pub framing: Framing,
    /// The local user's display name, published in awareness on every
    /// document of the page (the first non-empty one given wins).
    pub user_name: String,
    /// The local user's caret colour (`#rrggbb`; the first one given wins);
    /// `None` picks one for the page.
    pub user_color: Option<String>,
    /// The local user's id, published as awareness `user.id` on every
    /// document of the page: what a chat writes as a message's author and
    /// matches `@mentions` against. The first one given replaces the
    /// page's random id (and is republished); `None` keeps it.
    pub user_id: Option<String>,
    /// Reconnection policy of a new socket (jitter comes from `Math.random`).
    pub backoff: Backoff,
    /// Keep the document in IndexedDB and load it from there before
    /// connecting.
    pub persist: bool,
    /// When the IndexedDB log is compacted.
    pub compaction: CompactionPolicy,
    /// Share updates and awareness with other tabs through a
    /// `BroadcastChannel`.
    pub cross_tab: bool,
    /// Create the structure BlockNote expects once the content is known
    /// (after the first sync, DESIGN.md §3). True for a text document,
    /// false for a chat (whose array needs none). The first opener's
    /// choice holds while the document is open.
    pub init_text: bool,
}

impl DocOptions {
    /// Hocuspocus, anonymous, default backoff, persisted, shared with tabs;
    /// initialised as text unless `document` names a chat.
    pub fn new(server: impl Into<String>, document: impl Into<String>) -> Self {
        Self::with(server.into(), document.into())
    }

    fn with(server: String, document: String) -> Self {
        DocOptions {
            server,
            init_text: !is_chat_document(&document),
            document,
            token: String::new(),
            framing: Framing::Hocuspocus,
            user_name: String::new(),
            user_color: None,
            user_id: None,
            backoff: Backoff::default(),
            persist: true,
            compaction: CompactionPolicy::default(),
            cross_tab: true,
        }
    }

    /// A document that lives in this page only (no server).
    pub fn local(document: impl Into<String>) -> Self {
        Self::with(String::new(), document.into())
    }
}

/// How much the hub holds, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HubStats {
    /// Open documents (lingering ones included).
    pub documents: usize,
    /// Sockets, open or waiting to reconnect.
    pub sockets: usize,
    /// IndexedDB databases.
    pub databases: usize,
    /// Cross-tab channels.
    pub channels: usize,
}

/// The page's local user, the same on every document.
struct Identity {
    name: String,
    color: Option<String>,
    id: String,
    /// Whether `id` was given by a widget (else it is random).
    id_given: bool,
    seed: u64,
}

impl Identity {
    fn color(&self) -> String {
        self.color
            .clone()
            .unwrap_or_else(|| color_for(self.seed).to_owned())
    }

    fn presence(&self) -> LocalPresence {
        LocalPresence::new(&self.name, &self.color(), Some(&self.id))
    }
}

type Listener = (&'static str, Closure<dyn FnMut(Event)>);

/// The tick timer and window listeners, while networked documents are open.
struct PageHooks {
    tick: Option<(i32, Closure<dyn FnMut()>)>,
    listeners: Vec<Listener>,
}

impl PageHooks {
    fn install() -> Option<Self> {
        let window = web_sys::window()?;
        let tick: Closure<dyn FnMut()> = Closure::new(tick);
        let tick = window
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                TICK_MS,
            )
            .ok()
            .map(|id| (id, tick));
        let mut listeners = Vec::new();
        for (name, online) in [("online", Some(true)), ("offline", Some(false))]
            .into_iter()
            // A drive waiting for the next frame runs at once when the page
            // is hidden or left (`visibilitychange`, fired at the document,
            // reaches the window).
            .chain([("pagehide", None), ("visibilitychange", None)])
        {
            let handler: Closure<dyn FnMut(Event)> = Closure::new(move |_: Event| match online {
                Some(online) => set_online(online),
                None => crate::paint_schedule::flush(),
            });
            if window
                .add_event_listener_with_callback(name, handler.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push((name, handler));
            }
        }
        Some(PageHooks { tick, listeners })
    }
}

impl Drop for PageHooks {
    fn drop(&mut self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some((id, _)) = &self.tick {
            window.clear_interval_with_handle(*id);
        }
        for (name, handler) in &self.listeners {
            let _ =
                window.remove_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
        }
    }
}

/// A small map: a page holds a handful of documents, and a vector costs
/// the bundle far less code than a hash map.
type Map<K, V> = Vec<(K, V)>;

fn find<'a, K: PartialEq, V>(map: &'a Map<K, V>, key: &K) -> Option<&'a V> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn values<K, V: Clone>(map: &Map<K, V>) -> Vec<V> {
    map.iter().map(|(_, v)| v.clone()).collect()
}

struct Hub {
    docs: Map<DocKey, Rc<DocState>>,
    leases: Leases<DocKey>,
    sockets: Map<String, Rc<SocketDriver>>,
    stores: Map<String, Rc<IdbDriver>>,
    tabs: Map<String, Rc<TabDriver>>,
    identity: Option<Identity>,
    next_id: u64,
    hooks: Option<PageHooks>,
}

impl Hub {
    const fn new() -> Self {
        Hub {
            docs: Vec::new(),
            leases: Leases::new(),
            sockets: Vec::new(),
            stores: Vec::new(),
            tabs: Vec::new(),
            identity: None,
            next_id: 0,
            hooks: None,
        }
    }
}

thread_local! {
    static HUB: RefCell<Hub> = const { RefCell::new(Hub::new()) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
}

/// Opens `options.document` (or joins it if the page has it open already)
/// and returns a handle on it.
///
/// A networked document is loaded from IndexedDB first, then joins its
/// socket and the other tabs; its BlockNote structure is created only after
/// the first sync (`Document::ensure_initialized`, which also merges root
/// groups two clients created at once), so an empty replica never races a
/// peer's initialisation. A local document is initialised at once.
///
/// The options of a document the page has open already are not read again:
/// its first opener's server, token and settings hold until it closes.
/// Fails on an empty name, an unusable server address, or outside a page.
pub fn open(options: DocOptions) -> Result<DocHandle> {
    if options.document.is_empty() {
        return Err(WebError::NoDocument);
    }
    let local = options.server.trim().is_empty();
    let url = if local {
        String::new()
    } else {
        web_sys::window().ok_or(WebError::NoWindow)?;
        socket_url(
            &options.server,
            &options.document,
            &options.token,
            options.framing,
        )?
    };
    let key = key_of(&options, local);
    adopt_identity(
        &options.user_name,
        options.user_color.as_deref(),
        options.user_id.as_deref(),
    );
    let existing = HUB.with(|h| {
        let mut h = h.borrow_mut();
        let state = find(&h.docs, &key).cloned();
        if state.is_some() {
            h.leases.acquire(&key);
        }
        state
    });
    if let Some(state) = existing {
        return Ok(DocHandle::new(state));
    }
    let doc = Rc::new(Document::new());
    if local {
        if options.init_text {
            doc.ensure_initialized();
        }
        let state = register(&key, |id, presence| {
            DocState::new(
                id,
                key.clone(),
                doc,
                options.init_text,
                presence,
                None,
                None,
                None,
            )
        });
        return Ok(DocHandle::new(state));
    }
    let config = match options.framing {
        Framing::Hocuspocus => {
            ClientConfig::hocuspocus(options.document.clone(), options.token.clone())
        }
        Framing::YWebsocket => ClientConfig::y_websocket(),
    };
    let session = ClientSession::new(doc.ydoc().clone(), config)?;
    let base = base_document_name(&options.document);
    let family = database_name(&options.server, base);
    let (socket, store, tabs) = HUB.with(|h| {
        let mut h = h.borrow_mut();
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        let socket = find(&h.sockets, &url).cloned().unwrap_or_else(|| {
            let hocuspocus = options.framing == Framing::Hocuspocus;
            let s = SocketDriver::new(url.clone(), hocuspocus, options.backoff, online);
            h.sockets.push((url, s.clone()));
            s
        });
        let store = options.persist.then(|| {
            find(&h.stores, &family).cloned().unwrap_or_else(|| {
                let s = IdbDriver::open(&family, base, options.compaction);
                h.stores.push((family.clone(), s.clone()));
                s
            })
        });
        let tabs = match find(&h.tabs, &family) {
            _ if !options.cross_tab => None,
            Some(tabs) => Some(tabs.clone()),
            None => TabDriver::open(&family).inspect(|t| {
                h.tabs.push((family.clone(), t.clone()));
            }),
        };
        if h.hooks.is_none() {
            h.hooks = PageHooks::install();
        }
        (socket, store, tabs)
    });
    let state = register(&key, |id, presence| {
        DocState::new(
            id,
            key.clone(),
            doc,
            options.init_text,
            presence,
            Some(socket.clone()),
            store.clone(),
            tabs,
        )
    });
    state.observe();
    socket.add(&state, session);
    state.publish_presence();
    match &store {
        Some(store) => store.add(&state),
        None => state.start_network(),
    }
    drive();
    Ok(DocHandle::new(state))
}

fn key_of(options: &DocOptions, local: bool) -> DocKey {
    DocKey {
        server: if local { "" } else { &options.server }.to_owned(),
        framing: if local {
            Framing::default()
        } else {
            options.framing
        },
        name: options.document.clone(),
    }
}

/// Registers a new document made by `make(id, presence)` with one lease.
fn register(key: &DocKey, make: impl FnOnce(u64, LocalPresence) -> Rc<DocState>) -> Rc<DocState> {
    HUB.with(|h| {
        let mut h = h.borrow_mut();
        h.next_id += 1;
        let presence = h
            .identity
            .as_ref()
            .map(Identity::presence)
            .unwrap_or_default();
        let state = make(h.next_id, presence);
        h.leases.acquire(key);
        h.docs.push((key.clone(), state.clone()));
        state
    })
}

/// Fills in the page's identity from what a widget gives (the first name,
/// colour and id given win) and republishes it where it changed.
fn adopt_identity(name: &str, color: Option<&str>, id: Option<&str>) {
    let changed = HUB.with(|h| {
        let mut h = h.borrow_mut();
        let me = h.identity.get_or_insert_with(|| {
            let seed = random_u64();
            Identity {
                name: String::new(),
                color: None,
                id: format!("{seed:x}"),
                id_given: false,
                seed,
            }
        });
        let mut changed = false;
        if !me.id_given
            && let Some(id) = id.filter(|id| !id.is_empty())
        {
            me.id = id.to_owned();
            me.id_given = true;
            changed = true;
        }
        if me.name.is_empty() && !name.is_empty() {
            me.name = name.to_owned();
            changed = true;
        }
        if me.color.is_none()
            && let Some(color) = color
        {
            me.color = Some(color.to_owned());
            changed = true;
        }
        let (name, color, id) = (me.name.clone(), me.color(), me.id.clone());
        let docs = values(&h.docs);
        changed.then_some((docs, name, color, id))
    });
    if let Some((docs, name, color, id)) = changed {
        for doc in docs {
            doc.set_user(&name, &color, &id);
        }
    }
}

/// One more handle on `key`.
pub(crate) fn retain(key: &DocKey) {
    HUB.with(|h| h.borrow_mut().leases.acquire(key));
}

/// One handle fewer on `key`: after the last, a networked document closes
/// [`LINGER_MS`] later unless a handle is taken again meanwhile.
pub(crate) fn release(key: &DocKey) {
    let Some(ticket) = HUB.with(|h| h.borrow_mut().leases.release(key)) else {
        return;
    };
    if key.server.is_empty() {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = key.clone();
    let later = Closure::once_into_js(move || expire(&key, ticket));
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), LINGER_MS);
}

fn expire(key: &DocKey, ticket: Ticket) {
    let closing = HUB.with(|h| {
        let mut h = h.borrow_mut();
        if !h.leases.expire(key, ticket) {
            return None;
        }
        let i = h.docs.iter().position(|(k, _)| k == key)?;
        Some(h.docs.swap_remove(i).1)
    });
    let Some(state) = closing else {
        return;
    };
    // Outside the registry: closing flushes and sends.
    state.close();
    let hooks = HUB.with(|h| {
        let mut h = h.borrow_mut();
        h.sockets.retain(|(_, s)| !s.is_unused());
        h.stores.retain(|(_, s)| !s.is_unused());
        h.tabs.retain(|(_, t)| !t.is_unused());
        if h.docs.iter().any(|(k, _)| !k.server.is_empty()) {
            None
        } else {
            h.hooks.take()
        }
    });
    drop(hooks);
}

/// What the hub holds now.
pub fn stats() -> HubStats {
    HUB.with(|h| {
        let h = h.borrow();
        HubStats {
            documents: h.docs.len(),
            sockets: h.sockets.len(),
            databases: h.stores.len(),
            channels: h.tabs.len(),
        }
    })
}

fn set_online(online: bool) {
    let sockets: Vec<Rc<SocketDriver>> = HUB.with(|h| values(&h.borrow().sockets));
    for socket in sockets {
        socket.set_online(online);
    }
    drive();
}

fn tick() {
    let now = now_ms();
    let (sockets, stores, tabs) = HUB.with(|h| {
        let h = h.borrow();
        (values(&h.sockets), values(&h.stores), values(&h.tabs))
    });
    for socket in &sockets {
        socket.tick(now);
    }
    for tabs in &tabs {
        tabs.tick(now);
    }
    for store in &stores {
        store.tick(now);
    }
    drive();
}

/// Drives the page: handles what the tabs and sockets received, sends what
/// the sessions, stores and channels have to send, then tells subscribers
/// what changed. A drive asked for while one runs (by a subscriber) runs
/// right after it.
pub(crate) fn drive() {
    if DRIVING.with(|d| d.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    // Bounded: a subscriber that always asks for more cannot hang the page.
    for _ in 0..8 {
        AGAIN.with(|a| a.set(false));
        let (tabs, sockets, docs) = HUB.with(|h| {
            let h = h.borrow();
            (values(&h.tabs), values(&h.sockets), values(&h.docs))
        });
        for tabs in &tabs {
            tabs.drive();
        }
        for socket in &sockets {
            socket.drive();
        }
        // What a received message changed is painted before it is stored
        // and posted to the tabs (crate::paint_schedule).
        let after_paint = crate::paint_schedule::pending();
        for doc in &docs {
            if !after_paint {
                if let Some(tabs) = &doc.tabs {
                    tabs.flush(doc);
                }
                if let Some(store) = &doc.store {
                    store.flush(doc);
                }
            }
            doc.refresh_status();
        }
        for doc in &docs {
            doc.notify();
        }
        if !AGAIN.with(Cell::get) {
            break;
        }
    }
    DRIVING.with(|d| d.set(false));
}
