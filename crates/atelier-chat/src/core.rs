//! [`ChatCore`]: what one mounted panel holds, shared by its event
//! handlers and the host. It follows the chat through the model's observer
//! (edits queued inside the transaction, applied on the next microtask),
//! keeps the unread state, builds each visible row's [`RowModel`], and
//! writes to the chat only through [`atelier_doc::chat::Chat`].

use crate::chat_log::{Applied, ChatLog, View};
use crate::error::{ChatError, Result};
use crate::i18n::{Strings, fill};
use crate::message_view::{ParentPreview, ReactionView, RowModel};
use crate::people::{ChatPeer, ChatUser, color_for};
use crate::relay_status::RelayStatus;
use crate::timeline::{Timeline, focus};
use crate::timestamps::{Clock, iso_utc};
use crate::unread::Unread;
use atelier_doc::Document;
use atelier_doc::chat::{
    BodyProblem, Chat, ChatEdit, ChatMessage, MAX_BODY_BYTES, NewMessage, body_problem,
    mention_spans,
};
use atelier_doc::chat_format::excerpt;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventTarget};
use yrs::StateVector;

thread_local! {
    static PANELS: RefCell<HashMap<u64, Weak<ChatCore>>> = RefCell::new(HashMap::new());
    static SCHEDULED: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
    static NEXT_KEY: Cell<u64> = const { Cell::new(1) };
}

pub(crate) fn next_key() -> u64 {
    NEXT_KEY.with(|k| {
        let v = k.get();
        k.set(v + 1);
        v
    })
}

/// Applies panel `key`'s queued edits on the next microtask: the model's
/// observer runs inside a transaction, where neither the document nor the
/// DOM may be touched.
fn schedule_flush(key: u64) {
    if !SCHEDULED.with(|s| s.borrow_mut().insert(key)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        SCHEDULED.with(|s| s.borrow_mut().remove(&key));
        if let Some(core) = PANELS.with(|p| p.borrow().get(&key).and_then(Weak::upgrade)) {
            core.flush();
        }
    });
}

/// Told whether the local user is typing (the host publishes it as the
/// awareness field `typing`).
pub type TypingCallback = Rc<dyn Fn(bool)>;
/// Told about one message.
pub type MessageCallback = Rc<dyn Fn(&ChatMessage)>;
/// Told a count.
pub type CountCallback = Rc<dyn Fn(usize)>;

/// The host's callbacks (see the props of [`crate::ChatPanel`]).
#[derive(Clone, Default)]
pub(crate) struct Callbacks {
    pub on_typing: Option<TypingCallback>,
    pub on_mention: Option<MessageCallback>,
    pub on_message: Option<MessageCallback>,
    pub on_unread: Option<CountCallback>,
}

/// What the host feeds the panel.
#[derive(Clone, Copy)]
pub(crate) struct Inputs {
    pub peers: Signal<Vec<ChatPeer>>,
    pub server_state: Signal<Option<StateVector>>,
    pub readonly: Signal<bool>,
    pub synced: Signal<bool>,
}

/// UI state that is not the chat's: which view, what the composer is
/// doing, what is open.
#[derive(Clone, Copy)]
pub(crate) struct Ui {
    pub view: RwSignal<View>,
    pub reply_to: RwSignal<Option<String>>,
    pub editing: RwSignal<Option<String>>,
    pub picker: RwSignal<Option<String>>,
    pub confirm_delete: RwSignal<Option<String>>,
    pub unread: RwSignal<usize>,
    pub at_bottom: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    /// Bumped after every applied change (the empty state, the picker's
    /// list of used emoji).
    pub revision: RwSignal<u64>,
}

type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

/// Edits of consecutive transactions, and whether they came before the
/// host's first sync: history being loaded (no events, nothing unread).
/// Decided when the transaction commits, not when the batch is applied:
/// the sync that loads the history also marks the chat synced before the
/// next microtask.
struct Batch {
    history: bool,
    edits: Vec<ChatEdit>,
}

/// One mounted chat panel.
pub struct ChatCore {
    pub(crate) key: u64,
    pub(crate) chat: Chat,
    pub(crate) user: ChatUser,
    pub(crate) strings: &'static Strings,
    pub(crate) clock: Clock,
    pub(crate) inputs: Inputs,
    pub(crate) ui: Ui,
    pub(crate) callbacks: Callbacks,
    pub(crate) log: RefCell<ChatLog>,
    /// Names stored in the chat (authors, reactors), for offline people.
    pub(crate) people: RefCell<BTreeMap<String, String>>,
    edits: Arc<Mutex<Vec<Batch>>>,
    pub(crate) timeline: RefCell<Option<Timeline>>,
    rows: RefCell<Vec<usize>>,
    unread: RefCell<Unread>,
    /// The message whose controls are in the Tab order.
    pub(crate) current: RefCell<Option<String>>,
    /// Messages sent from this panel: seeing one arrive scrolls to it.
    sent_here: RefCell<HashSet<String>>,
    pub(crate) composer: RefCell<Option<web_sys::HtmlTextAreaElement>>,
    /// The composer's text before an edit began, restored on cancel.
    pub(crate) draft: RefCell<String>,
    pub(crate) listeners: RefCell<Vec<Listener>>,
    typing: Cell<bool>,
    typing_until: Cell<f64>,
    typing_timer: Cell<bool>,
    render_queued: Cell<bool>,
    /// Messages a bridged room refused (the Matrix bridge's record).
    relay: RelayStatus,
    _doc: Rc<Document>,
}

impl std::fmt::Debug for ChatCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// How long after the last keystroke the user stops counting as typing.
const TYPING_IDLE_MS: f64 = 4_000.0;

impl ChatCore {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        key: u64,
        doc: Rc<Document>,
        user: ChatUser,
        strings: &'static Strings,
        clock: Clock,
        inputs: Inputs,
        ui: Ui,
        callbacks: Callbacks,
    ) -> Self {
        let chat = Chat::new(doc.ydoc());
        let relay = RelayStatus::new(doc.ydoc());
        let log = ChatLog::new(chat.entries());
        let people = log.known_people();
        ChatCore {
            key,
            chat,
            user,
            strings,
            clock,
            inputs,
            ui,
            callbacks,
            log: RefCell::new(log),
            people: RefCell::new(people),
            edits: Arc::new(Mutex::new(Vec::new())),
            timeline: RefCell::new(None),
            rows: RefCell::new(Vec::new()),
            unread: RefCell::new(Unread::new()),
            current: RefCell::new(None),
            sent_here: RefCell::new(HashSet::new()),
            composer: RefCell::new(None),
            draft: RefCell::new(String::new()),
            listeners: RefCell::new(Vec::new()),
            typing: Cell::new(false),
            typing_until: Cell::new(0.0),
            typing_timer: Cell::new(false),
            render_queued: Cell::new(false),
            relay,
            _doc: doc,
        }
    }

    fn observer_key(&self) -> String {
        format!("atelier-chat-{}", self.key)
    }

    /// Starts following the chat and registers the panel for flushes.
    pub(crate) fn start(self: &Rc<Self>) {
        PANELS.with(|p| p.borrow_mut().insert(self.key, Rc::downgrade(self)));
        let edits = self.edits.clone();
        let key = self.key;
        let synced = self.inputs.synced;
        self.chat.observe(&self.observer_key(), move |batch| {
            let history = !synced.get_untracked();
            if let Ok(mut q) = edits.lock() {
                match q.last_mut() {
                    Some(last) if last.history == history => last.edits.extend(batch),
                    _ => q.push(Batch {
                        history,
                        edits: batch,
                    }),
                }
            }
            schedule_flush(key);
        });
        self.relay
            .observe(&self.observer_key(), move || schedule_flush(key));
    }

    /// Stops following the chat and removes the listeners.
    pub(crate) fn stop(&self) {
        self.chat.unobserve(&self.observer_key());
        self.relay.unobserve(&self.observer_key());
        PANELS.with(|p| p.borrow_mut().remove(&self.key));
        for (target, name, closure) in self.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        }
        self.set_typing(false);
    }

    pub(crate) fn listen<E: JsCast + 'static>(
        self: &Rc<Self>,
        target: &EventTarget,
        name: &'static str,
        f: impl Fn(&Rc<ChatCore>, &E) + 'static,
    ) {
        let weak = Rc::downgrade(self);
        let closure = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            if let (Some(core), Some(e)) = (weak.upgrade(), ev.dyn_ref::<E>()) {
                f(&core, e);
            }
        });
        if target
            .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
            .is_ok()
        {
            self.listeners
                .borrow_mut()
                .push((target.clone(), name, closure));
        }
    }

    /// Whether the page is visible (a hidden tab reads nothing).
    fn page_visible(&self) -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }

    /// Applies the queued edits, tells the host what arrived, re-renders.
    pub(crate) fn flush(&self) {
        let batches = match self.edits.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => return,
        };
        if batches.is_empty() {
            // A refusal changes rows, not the log.
            if self.relay.refresh() {
                self.render();
            }
            return;
        }
        self.relay.refresh();
        let mut applied = Applied::default();
        for batch in batches {
            let mut log = self.log.borrow_mut();
            let one = if batch.history {
                log.apply_history(batch.edits)
            } else {
                log.apply(batch.edits)
            };
            applied.arrived.extend(one.arrived);
            applied.changed.extend(one.changed);
            applied.structure |= one.structure;
        }
        {
            let log = self.log.borrow();
            let mut people = self.people.borrow_mut();
            if applied.structure {
                *people = log.known_people();
            } else {
                for id in &applied.changed {
                    if let Some(m) = log.get(id) {
                        for (user, name) in &m.reactor_names {
                            people.insert(user.clone(), name.clone());
                        }
                    }
                }
            }
        }
        if applied.structure {
            self.rebuild_rows();
        }
        let at_bottom = self.timeline.borrow().as_ref().is_none_or(|t| t.stick);
        let visible = self.page_visible();
        let view = self.ui.view.get_untracked();
        let mut unread_changed = false;
        for m in &applied.arrived {
            let own = m.author == self.user.id;
            let in_view = match &view {
                View::All => true,
                View::Thread(root) => {
                    m.id == *root || self.log.borrow().thread_of(&m.id) == Some(root.as_str())
                }
            };
            unread_changed |=
                self.unread
                    .borrow_mut()
                    .arrived(&m.id, own, at_bottom && visible && in_view);
            if own
                && self.sent_here.borrow_mut().remove(&m.id)
                && let Some(t) = self.timeline.borrow_mut().as_mut()
            {
                t.stick = true;
            }
            if let Some(cb) = &self.callbacks.on_message {
                cb(m);
            }
            if !own
                && m.mentions_user(&self.user.id)
                && let Some(cb) = &self.callbacks.on_mention
            {
                cb(m);
            }
        }
        // A message being answered, edited or confirmed for deletion may
        // have been deleted by another device.
        let gone = |id: &Option<String>| {
            id.as_ref()
                .is_some_and(|id| self.log.borrow().get(id).is_none_or(|m| m.deleted))
        };
        if gone(&self.ui.reply_to.get_untracked()) {
            self.ui.reply_to.set(None);
        }
        if gone(&self.ui.editing.get_untracked()) {
            self.cancel_edit();
        }
        if gone(&self.ui.confirm_delete.get_untracked()) {
            self.ui.confirm_delete.set(None);
        }
        if unread_changed {
            self.publish_unread();
        }
        self.ui.revision.update(|r| *r += 1);
        self.render();
    }

    fn publish_unread(&self) {
        let n = self.unread.borrow().count();
        self.ui.unread.set(n);
        if let Some(cb) = &self.callbacks.on_unread {
            cb(n);
        }
    }

    /// The rows of the current view, after the log's structure changed or
    /// the view did.
    pub(crate) fn rebuild_rows(&self) {
        let view = self.ui.view.get_untracked();
        let log = self.log.borrow();
        let rows = log.rows(&view);
        let keys = rows.iter().map(|&i| log.entries()[i].id.clone()).collect();
        *self.rows.borrow_mut() = rows;
        if let Some(t) = self.timeline.borrow_mut().as_mut() {
            t.set_rows(keys);
        }
    }

    /// Re-renders the visible rows now.
    pub(crate) fn render(&self) {
        let mut timeline = self.timeline.borrow_mut();
        let Some(t) = timeline.as_mut() else { return };
        let model = |i: usize| self.row_model(i);
        t.render(&model, self.strings);
        let at_bottom = t.stick;
        drop(timeline);
        if self.ui.at_bottom.get_untracked() != at_bottom {
            self.ui.at_bottom.set(at_bottom);
        }
        if at_bottom && self.page_visible() && self.unread.borrow_mut().caught_up(false) {
            self.publish_unread();
        }
    }

    /// Re-renders on the next animation frame (scrolling), once per frame.
    pub(crate) fn render_soon(self: &Rc<Self>) {
        if self.render_queued.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        request_animation_frame(move || {
            if let Some(core) = weak.upgrade() {
                core.render_queued.set(false);
                core.render();
            }
        });
    }

    /// The name shown for user `id`: their live name, the name stored with
    /// `stored` (a message's `authorName`), a name stored elsewhere in the
    /// chat, else the id.
    pub(crate) fn name_of(&self, id: &str, stored: Option<&str>) -> String {
        if id == self.user.id && !self.user.name.trim().is_empty() {
            return self.user.name.clone();
        }
        let live = self.inputs.peers.with_untracked(|peers| {
            peers
                .iter()
                .find(|p| p.id == id && !p.name.trim().is_empty())
                .map(|p| p.name.clone())
        });
        live.or_else(|| stored.filter(|s| !s.trim().is_empty()).map(str::to_owned))
            .or_else(|| {
                self.people
                    .borrow()
                    .get(id)
                    .filter(|n| !n.trim().is_empty())
                    .cloned()
            })
            .unwrap_or_else(|| {
                if id.is_empty() {
                    self.strings.someone.to_owned()
                } else {
                    id.to_owned()
                }
            })
    }

    fn color_of(&self, id: &str) -> String {
        if id == self.user.id {
            return color_for(id, Some(&self.user.color));
        }
        let live = self
            .inputs
            .peers
            .with_untracked(|peers| peers.iter().find(|p| p.id == id).map(|p| p.color.clone()));
        color_for(id, live.as_deref())
    }

    /// What row `i` of the current view shows.
    fn row_model(&self, i: usize) -> Option<RowModel> {
        let rows = self.rows.borrow();
        let log = self.log.borrow();
        let m = log.entries().get(*rows.get(i)?)?;
        let prev = i
            .checked_sub(1)
            .and_then(|p| rows.get(p))
            .and_then(|&e| log.entries().get(e));
        let day = self.clock.day_of(m.ts);
        let day = (prev.map(|p| self.clock.day_of(p.ts)) != Some(day))
            .then(|| self.clock.day_separator(m.ts));
        let view = self.ui.view.get_untracked();
        let own = m.author == self.user.id;
        let pending = own
            && self
                .inputs
                .server_state
                .with_untracked(|sv| sv.as_ref().is_some_and(|sv| !m.is_held_by(sv)));
        let parent = m.reply_to.as_ref().map(|p| {
            let thread = log.thread_of(&m.id).unwrap_or(p).to_owned();
            match log.get(p) {
                Some(pm) => ParentPreview {
                    thread,
                    author: self.name_of(&pm.author, pm.author_name.as_deref()),
                    excerpt: excerpt(&pm.body, 80),
                    missing: false,
                },
                None => ParentPreview {
                    thread,
                    author: self.strings.someone.to_owned(),
                    excerpt: String::new(),
                    missing: true,
                },
            }
        });
        let reactions = m
            .reactions
            .iter()
            .filter(|(_, users)| !users.is_empty())
            .map(|(emoji, users)| ReactionView {
                emoji: emoji.clone(),
                count: users.len(),
                mine: users.contains(&self.user.id),
                names: users
                    .iter()
                    .map(|u| self.name_of(u, m.reactor_names.get(u).map(String::as_str)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        let mut mention_names: Vec<(String, String, bool)> = Vec::new();
        for (_, id) in mention_spans(&m.body) {
            if !mention_names.iter().any(|(i, _, _)| i == id) {
                mention_names.push((id.to_owned(), self.name_of(id, None), id == self.user.id));
            }
        }
        let can_write = !self.inputs.readonly.get_untracked();
        Some(RowModel {
            id: m.id.clone(),
            author: self.name_of(&m.author, m.author_name.as_deref()),
            color: self.color_of(&m.author),
            own,
            pending,
            deleted: m.deleted,
            refused: (!m.deleted).then(|| self.relay.refusal(&m.id)).flatten(),
            edited: m.edited_ts.is_some(),
            body: m.body.clone(),
            day,
            unread_marker: self.unread.borrow().marker() == Some(m.id.as_str()),
            time: self.clock.time(m.ts),
            time_full: self.clock.full(m.ts),
            iso: iso_utc(m.ts),
            parent: if matches!(view, View::Thread(_)) && m.reply_to.is_some() {
                None
            } else {
                parent
            },
            replies: if view == View::All {
                log.reply_count(&m.id)
            } else {
                0
            },
            reactions,
            mention_names,
            current: self.current.borrow().as_deref() == Some(m.id.as_str()),
            confirming_delete: self
                .ui
                .confirm_delete
                .with_untracked(|c| c.as_deref() == Some(&m.id)),
            editing: self
                .ui
                .editing
                .with_untracked(|e| e.as_deref() == Some(&m.id)),
            can_write,
        })
    }

    fn check_writable(&self, text: Option<&str>) -> Result<()> {
        if self.inputs.readonly.get_untracked() {
            return Err(ChatError::ReadOnly);
        }
        match text.and_then(body_problem) {
            None => Ok(()),
            Some(BodyProblem::Empty) => Err(ChatError::Empty),
            Some(BodyProblem::TooLong { bytes }) => Err(ChatError::TooLong {
                bytes,
                max: MAX_BODY_BYTES,
            }),
        }
    }

    /// The message a user sees for `e`, in the panel's language (empty
    /// for an empty message, which the composer simply ignores).
    pub fn describe(&self, e: &ChatError) -> String {
        match e {
            ChatError::Empty => String::new(),
            ChatError::TooLong { bytes, max } => {
                let s = &self.strings.too_long;
                s.format_with(*bytes, &[("max", &s.lang.format_number(*max))])
            }
            ChatError::ReadOnly => self.strings.read_only.to_owned(),
            ChatError::Doc(e) => fill(self.strings.failed, &[("reason", &e.to_string())]),
        }
    }

    /// Sends `text` as the local user, answering `reply_to` if given, and
    /// shows it at once. Returns the new message's id.
    pub fn send(&self, text: &str, reply_to: Option<&str>) -> Result<String> {
        self.check_writable(Some(text))?;
        let id = self.chat.post(&NewMessage {
            author: &self.user.id,
            author_name: Some(&self.user.name),
            ts: self.clock.now(),
            body: text,
            reply_to,
        })?;
        self.sent_here.borrow_mut().insert(id.clone());
        self.set_typing(false);
        self.flush();
        Ok(id)
    }

    /// Replaces the body of one of the local user's messages.
    pub fn edit(&self, id: &str, text: &str) -> Result<()> {
        self.check_writable(Some(text))?;
        self.chat.edit(id, &self.user.id, self.clock.now(), text)?;
        self.flush();
        Ok(())
    }

    /// Deletes one of the local user's messages (a tombstone stays).
    pub fn delete(&self, id: &str) -> Result<()> {
        self.check_writable(None)?;
        self.chat.delete(id, &self.user.id)?;
        self.flush();
        Ok(())
    }

    /// Adds the local user's `emoji` reaction to message `id`, or removes
    /// it if it is there.
    pub fn toggle_reaction(&self, id: &str, emoji: &str) -> Result<()> {
        self.check_writable(None)?;
        let on = !self.log.borrow().get(id).is_some_and(|m| {
            m.reactions
                .get(emoji)
                .is_some_and(|u| u.contains(&self.user.id))
        });
        self.chat
            .react_as(id, &self.user.id, Some(&self.user.name), emoji, on)?;
        self.flush();
        Ok(())
    }

    /// Moves keyboard focus to the composer (or to the timeline when the
    /// panel is read-only).
    pub fn focus(&self) {
        let composer = self.composer.borrow().clone();
        match composer {
            Some(c) if !self.inputs.readonly.get_untracked() => focus(c.as_ref()),
            _ => {
                if let Some(t) = self.timeline.borrow().as_ref() {
                    focus(t.scroller().as_ref());
                }
            }
        }
    }

    /// Scrolls to the newest message and counts everything as read.
    pub fn scroll_to_latest(&self) {
        if let Some(t) = self.timeline.borrow_mut().as_mut() {
            t.stick = true;
        }
        self.render();
    }

    /// Shows one thread (`Some(root id)`) or every message (`None`).
    pub fn open_thread(&self, root: Option<&str>) {
        self.ui.view.set(match root {
            Some(r) => View::Thread(r.to_owned()),
            None => View::All,
        });
        self.rebuild_rows();
        self.scroll_to_latest();
    }

    /// How many messages arrived unseen.
    pub fn unread_count(&self) -> usize {
        self.unread.borrow().count()
    }

    /// Applies pending changes and renders now (tests call this instead of
    /// waiting for the microtask and the animation frame).
    pub fn flush_now(&self) {
        self.flush();
        self.render();
    }

    /// The timeline element (`role="log"`), once mounted.
    pub fn log_element(&self) -> Option<web_sys::HtmlElement> {
        self.timeline
            .borrow()
            .as_ref()
            .map(|t| t.scroller().clone())
    }

    /// Tells the host whether the user is typing; a typing state ends by
    /// itself [`TYPING_IDLE_MS`] after the last keystroke.
    pub(crate) fn set_typing(&self, on: bool) {
        if on {
            self.typing_until.set(self.clock.now() + TYPING_IDLE_MS);
        }
        if self.typing.replace(on) != on
            && let Some(cb) = &self.callbacks.on_typing
        {
            cb(on);
        }
    }

    /// The composer's text changed.
    pub(crate) fn typed(self: &Rc<Self>, non_empty: bool) {
        self.set_typing(non_empty);
        if non_empty && !self.typing_timer.replace(true) {
            self.arm_typing_timer(TYPING_IDLE_MS);
        }
    }

    fn arm_typing_timer(self: &Rc<Self>, after_ms: f64) {
        let weak = Rc::downgrade(self);
        set_timeout(
            move || {
                let Some(core) = weak.upgrade() else { return };
                let left = core.typing_until.get() - core.clock.now();
                if core.typing.get() && left > 0.0 {
                    core.arm_typing_timer(left);
                } else {
                    core.typing_timer.set(false);
                    core.set_typing(false);
                }
            },
            std::time::Duration::from_millis(after_ms.max(50.0) as u64),
        );
    }

    /// Leaves edit mode, putting back what the composer held before.
    pub(crate) fn cancel_edit(&self) {
        if self.ui.editing.get_untracked().is_none() {
            return;
        }
        self.ui.editing.set(None);
        let draft = std::mem::take(&mut *self.draft.borrow_mut());
        if let Some(c) = self.composer.borrow().as_ref() {
            c.set_value(&draft);
        }
    }
}
