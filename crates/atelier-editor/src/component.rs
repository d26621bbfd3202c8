//! The [`Editor`] component and [`EditorCore`], what one mounted editor
//! holds. Leptos renders the chrome — the [`Toolbar`], the [`SlashMenu`],
//! the [`LinkField`] and the word count, each a component of its own file
//! that reaches the core through an [`EditorHandle`]; the editing surface's
//! children belong to [`Surface`], which re-renders them from the model
//! after every transaction. What each DOM event on the surface does is in
//! `surface_events.rs`.
//!
//! Leptos' reconciler expects to own the DOM it renders, but the browser
//! mutates a `contenteditable` during IME composition; so the surface is a
//! single Leptos-rendered element whose content is keyed by block id and
//! driven by `beforeinput`.

use crate::agent_door::AgentDoor;
use crate::block_choices;
use crate::dom_selection;
use crate::i18n::{Lang, Strings};
use crate::link_field::{LinkField, LinkState};
use crate::popover;
use crate::remote_carets::{self, CaretSource};
use crate::render::RenderLabels;
use crate::session::{EditSession, Intent, Pos, Selection};
use crate::slash_menu::{self, SlashMenu, SlashState};
use crate::surface::Surface;
use crate::text_rules;
use crate::toolbar::Toolbar;
use atelier_doc::sticky::StickyPos;
use atelier_doc::undo::Assoc;
use atelier_doc::{BlockChanges, BlockId, Document, NewBlock};
use leptos::html;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventTarget, HtmlElement};

thread_local! {
    pub(crate) static EDITORS: RefCell<HashMap<u64, Weak<EditorCore>>> = RefCell::new(HashMap::new());
    static SCHEDULED: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
    static NEXT_KEY: Cell<u64> = const { Cell::new(1) };
}

/// Re-renders editor `key` on the next microtask (called from `yrs`
/// observers, which must not touch the document or the DOM themselves).
fn schedule_flush(key: u64) {
    let fresh = SCHEDULED.with(|s| s.borrow_mut().insert(key));
    if !fresh {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        SCHEDULED.with(|s| s.borrow_mut().remove(&key));
        let core = EDITORS.with(|e| e.borrow().get(&key).and_then(Weak::upgrade));
        if let Some(core) = core {
            core.flush();
            core.report_changes();
        }
    });
}

pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

/// Everything one mounted editor holds; shared by its event listeners and
/// its chrome's components.
pub struct EditorCore {
    pub(crate) key: u64,
    pub(crate) session: EditSession,
    pub(crate) readonly: bool,
    pub(crate) strings: &'static Strings,
    pub(crate) surface: RefCell<Option<Surface>>,
    pub(crate) last_sel: RefCell<Option<Selection>>,
    sticky: RefCell<Option<(StickyPos, StickyPos)>>,
    pub(crate) composing: RefCell<Option<Selection>>,
    dirty: Arc<AtomicBool>,
    /// What transactions changed since the last render (filled by the
    /// document's block observer, inside each commit).
    pending: Arc<Mutex<BlockChanges>>,
    listeners: RefCell<Vec<Listener>>,
    /// Bumped by every render (word count, undo state).
    pub(crate) revision: RwSignal<u64>,
    /// Bumped whenever the remembered selection changes (toolbar state).
    pub(crate) sel_revision: RwSignal<u64>,
    /// Set by Escape: the next Tab or Shift+Tab moves focus out of the
    /// surface instead of indenting (no keyboard trap, WCAG 2.1.2).
    pub(crate) tab_leaves: Cell<bool>,
    /// The slash menu, while open.
    pub(crate) slash: RwSignal<Option<SlashState>>,
    /// The link field, while open.
    pub(crate) link: RwSignal<Option<LinkState>>,
    selection_listener: RefCell<Option<SelectionListener>>,
    caret_source: RefCell<Option<CaretSource>>,
    pub(crate) markdown_parser: RefCell<Option<MarkdownParser>>,
    /// Agents editing through this editor (`agent_door.rs`).
    pub(crate) agents: AgentDoor,
}

/// What the chrome's components (toolbar, slash menu, link field) get of
/// their editor: the core, and the signals and strings they render from
/// (all `Copy`, so a component's closures can hold them).
#[derive(Clone, Copy)]
pub(crate) struct EditorHandle {
    /// The core, while the editor is mounted.
    pub(crate) core: StoredValue<Rc<EditorCore>, LocalStorage>,
    /// The editor's number on the page (element ids).
    pub(crate) key: u64,
    /// The interface strings.
    pub(crate) strings: &'static Strings,
    /// See [`EditorCore::revision`].
    pub(crate) revision: RwSignal<u64>,
    /// See [`EditorCore::sel_revision`].
    pub(crate) sel_revision: RwSignal<u64>,
    /// See [`EditorCore::slash`].
    pub(crate) slash: RwSignal<Option<SlashState>>,
    /// See [`EditorCore::link`].
    pub(crate) link: RwSignal<Option<LinkState>>,
}

/// Called with every selection the editor sees or sets (a transport
/// publishes it as awareness).
pub type SelectionListener = Rc<dyn Fn(&Selection)>;

/// Reads a Markdown text into blocks, possibly asynchronously (in the
/// browser the parser is a second wasm module loaded on first use); the
/// error says why it could not.
pub type MarkdownParser =
    Rc<dyn Fn(String) -> Pin<Box<dyn Future<Output = std::result::Result<Vec<NewBlock>, String>>>>>;

impl std::fmt::Debug for EditorCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditorCore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl EditorCore {
    fn observer_key(&self) -> String {
        format!("atelier-editor-render-{}", self.key)
    }

    pub(crate) fn root(&self) -> Option<web_sys::Element> {
        self.surface.borrow().as_ref().map(|s| s.root().clone())
    }

    /// Re-renders the surface from the model.
    pub(crate) fn render(&self) {
        self.dirty.store(false, Ordering::SeqCst);
        let changes = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => BlockChanges {
                structure: true,
                ..BlockChanges::default()
            },
        };
        if let Some(s) = self.surface.borrow_mut().as_mut()
            && let Err(e) = s.render(self.session.doc(), &changes)
        {
            web_sys::console::warn_2(&"atelier-editor: render failed".into(), &e);
        }
        self.revision.update(|r| *r += 1);
        self.draw_carets();
    }

    /// Redraws the remote carets from the caret source, if any.
    fn draw_carets(&self) {
        let source = self.caret_source.borrow().clone();
        let Some(source) = source else { return };
        let carets = source();
        if let Some(s) = self.surface.borrow().as_ref() {
            remote_carets::draw(s, &carets);
        }
    }

    /// After a transaction this editor did not render itself (a peer's
    /// update, another widget on the same document): re-render and put the
    /// caret back where its sticky position now is.
    pub(crate) fn flush(&self) {
        if !self.dirty.load(Ordering::SeqCst) {
            return;
        }
        let restore = self.sticky.borrow().as_ref().and_then(|(a, f)| {
            let doc = self.session.doc();
            Some(Selection::range(
                Pos::from_pair(doc.resolve_sticky(a)?),
                Pos::from_pair(doc.resolve_sticky(f)?),
            ))
        });
        let had_focus = self.has_focus();
        self.render();
        let sel = self
            .session
            .clamp(restore.as_ref().or(self.last_sel.borrow().as_ref()));
        if had_focus && let Some(sel) = sel {
            self.place(&sel);
        }
    }

    pub(crate) fn has_focus(&self) -> bool {
        let Some(root) = self.root() else {
            return false;
        };
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .is_some_and(|a| root.contains(Some(&a)))
    }

    /// Puts the browser selection at `sel` and remembers it.
    pub(crate) fn place(&self, sel: &Selection) {
        if let Some(s) = self.surface.borrow().as_ref() {
            dom_selection::write_selection(s, sel);
        }
        self.remember(sel.clone());
    }

    pub(crate) fn remember(&self, sel: Selection) {
        let doc = self.session.doc();
        let sticky = caret_sticky(doc, &sel.anchor).zip(caret_sticky(doc, &sel.focus));
        *self.sticky.borrow_mut() = sticky;
        let listener = self.selection_listener.borrow().clone();
        if let Some(listener) = listener {
            listener(&sel);
        }
        let changed = self.last_sel.borrow().as_ref() != Some(&sel);
        *self.last_sel.borrow_mut() = Some(sel);
        if changed {
            self.sel_revision.update(|r| *r += 1);
        }
    }

    /// The selection to act on: the browser's, else the last one seen.
    pub(crate) fn current_selection(&self) -> Option<Selection> {
        let from_dom = self.root().and_then(|r| dom_selection::read_selection(&r));
        from_dom
            .or_else(|| self.last_sel.borrow().clone())
            .and_then(|s| self.session.clamp(Some(&s)))
            .or_else(|| self.session.clamp(None))
    }

    /// Applies an intent, re-renders and restores the selection.
    pub fn run(&self, intent: Intent, sel: Option<Selection>) {
        if self.readonly {
            return;
        }
        let Some(sel) = sel.or_else(|| self.current_selection()) else {
            return;
        };
        match self.session.apply(&intent, &sel) {
            Ok(next) => {
                self.render();
                let next = self.session.clamp(next.as_ref().or(Some(&sel)));
                if let Some(next) = next {
                    self.place(&next);
                    self.update_slash(&intent, &next);
                }
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("atelier-editor: {e}").into());
                self.render();
            }
        }
    }

    fn update_slash(&self, intent: &Intent, sel: &Selection) {
        let text = self
            .session
            .doc()
            .block_plain_text(&sel.focus.block)
            .unwrap_or_default();
        let open_now = self.slash.get_untracked();
        let same_block = open_now
            .as_ref()
            .is_some_and(|s| s.block == sel.focus.block);
        let just_typed = matches!(intent, Intent::InsertText(t) if t == "/") && text == "/";
        let keep = text.starts_with('/')
            && !text.contains(char::is_whitespace)
            && sel.is_collapsed()
            && sel.focus.offset == text_rules::utf16_len(&text)
            && (same_block || just_typed);
        if keep {
            let query = text.get(1..).unwrap_or("").to_owned();
            // Where it opens is read once, next to the `/` just typed.
            let (active, spot) = match open_now {
                Some(s) => (if s.query == query { s.active } else { 0 }, s.spot),
                None => (0, popover::spot()),
            };
            self.slash.set(Some(SlashState {
                block: sel.focus.block.clone(),
                query,
                active,
                spot,
            }));
        } else if open_now.is_some() {
            self.slash.set(None);
        }
    }

    /// Applies the slash menu's `index`th item (of those that match).
    pub(crate) fn choose_slash(&self, index: usize) {
        let Some(st) = self.slash.get_untracked() else {
            return;
        };
        let matches = block_choices::matching(self.strings, &st.query);
        self.slash.set(None);
        if let Some(choice) = matches
            .get(index)
            .and_then(|&i| block_choices::CHOICES.get(i))
        {
            let remove = text_rules::utf16_len(&st.query) + 1;
            let sel = Selection::caret(Pos::new(st.block.clone(), remove));
            self.run(
                Intent::SlashCommand {
                    kind: (choice.kind)(),
                    remove,
                },
                Some(sel),
            );
        }
    }

    /// Opens the link field on the current selection (Ctrl/Cmd+K, the
    /// toolbar's link button); with nothing selected there is nothing to
    /// link, and it does not open.
    pub(crate) fn open_link_field(&self) {
        let Some(sel) = self.current_selection().filter(|s| !s.is_collapsed()) else {
            return;
        };
        if self.readonly {
            return;
        }
        // Where the field opens is read from the browser's selection.
        self.place(&sel);
        self.slash.set(None);
        self.link.set(Some(LinkState {
            sel,
            spot: popover::spot(),
            refused: false,
        }));
    }

    /// The link field's Enter: links its selection to `value` (an empty
    /// value removes the link), or says why it cannot and stays open.
    pub(crate) fn submit_link(&self, value: &str) {
        let href = match text_rules::url_target(value) {
            Some(h) => Some(h.to_owned()),
            None if value.trim().is_empty() => None,
            None => {
                self.link.update(|l| {
                    if let Some(l) = l {
                        l.refused = true;
                    }
                });
                return;
            }
        };
        self.close_link_field(Some(Intent::SetLink(href)));
    }

    /// Closes the link field and gives focus back to the surface, with the
    /// selection the field was opened on, after applying `intent` there.
    pub(crate) fn close_link_field(&self, intent: Option<Intent>) {
        let Some(st) = self.link.get_untracked() else {
            return;
        };
        self.link.set(None);
        if let Some(root) = self.root().and_then(|r| r.dyn_into::<HtmlElement>().ok()) {
            let _ = root.focus();
        }
        match intent {
            Some(intent) => self.run(intent, Some(st.sel)),
            None => {
                if let Some(sel) = self.session.clamp(Some(&st.sel)) {
                    self.place(&sel);
                }
            }
        }
    }

    fn listen<E: JsCast + 'static>(
        self: &Rc<Self>,
        target: &EventTarget,
        name: &'static str,
        f: fn(&EditorCore, &E),
    ) {
        let weak = Rc::downgrade(self);
        let closure = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            if let (Some(core), Ok(ev)) = (weak.upgrade(), ev.dyn_into::<E>()) {
                f(&core, &ev);
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

    fn attach(self: &Rc<Self>, root: HtmlElement) {
        let labels = RenderLabels {
            checkbox: self.strings.done,
            unsupported: self.strings.unsupported,
        };
        *self.surface.borrow_mut() = Some(Surface::new(root.clone().into(), labels));
        self.render();
        let target: &EventTarget = root.as_ref();
        self.listen::<web_sys::InputEvent>(target, "beforeinput", |c, e| c.on_beforeinput(e));
        self.listen::<web_sys::KeyboardEvent>(target, "keydown", |c, e| c.on_keydown(e));
        self.listen::<Event>(target, "compositionstart", |c, _| c.on_composition_start());
        self.listen::<web_sys::CompositionEvent>(target, "compositionend", |c, e| {
            c.on_composition_end(e)
        });
        self.listen::<web_sys::MouseEvent>(target, "click", |c, e| c.on_click(e));
        self.listen::<web_sys::ClipboardEvent>(target, "copy", |c, e| c.on_clipboard(e, false));
        self.listen::<web_sys::ClipboardEvent>(target, "cut", |c, e| c.on_clipboard(e, true));
        self.listen::<Event>(target, "focus", |c, _| c.tab_leaves.set(false));
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            let doc_target: &EventTarget = doc.as_ref();
            self.listen::<Event>(doc_target, "selectionchange", |c, _| {
                c.on_selection_change()
            });
            self.listen::<web_sys::MouseEvent>(doc_target, "mousedown", |c, e| {
                c.on_document_mousedown(e)
            });
        }
        EDITORS.with(|e| e.borrow_mut().insert(self.key, Rc::downgrade(self)));
        let dirty = self.dirty.clone();
        let pending = self.pending.clone();
        let log = self.agents.change_log();
        let key = self.key;
        self.session.doc().observe_blocks_with_origin(
            &self.observer_key(),
            move |changes, origin| {
                log.record(&changes, origin);
                if let Ok(mut p) = pending.lock() {
                    p.merge(changes);
                }
                dirty.store(true, Ordering::SeqCst);
                schedule_flush(key);
            },
        );
    }

    fn detach(&self) {
        self.withdraw_agents();
        for (target, name, closure) in self.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        }
        self.session.doc().unobserve_blocks(&self.observer_key());
        EDITORS.with(|e| e.borrow_mut().remove(&self.key));
    }
}

/// A sticky position for a caret: it follows the character after it, or at
/// the end of a block the one before it (`Document::sticky_at` refuses
/// `Assoc::After` at the very end of a text).
pub(crate) fn caret_sticky(doc: &Document, pos: &Pos) -> Option<StickyPos> {
    doc.sticky_at(&pos.block, pos.offset, Assoc::After)
        .or_else(|_| doc.sticky_at(&pos.block, pos.offset, Assoc::Before))
        .ok()
}

impl Pos {
    pub(crate) fn from_pair((block, offset): (BlockId, u32)) -> Self {
        Pos { block, offset }
    }
}

/// The rich-text editor: a toolbar, a `contenteditable` surface rendered
/// from `doc`, a slash menu, a link field and a word count.
///
/// ```no_run
/// use atelier_editor::Editor;
/// use leptos::prelude::*;
/// use std::rc::Rc;
/// let doc = Rc::new(atelier_doc::Document::new());
/// doc.ensure_initialized();
/// leptos::mount::mount_to_body(move || view! { <Editor doc=doc.clone() /> });
/// ```
#[component]
pub fn Editor(
    /// The document to edit; the editor re-renders on every transaction on it,
    /// whoever makes it (this editor, a transport, another widget).
    doc: Rc<Document>,
    /// No editing: the surface is not editable and the toolbar is hidden.
    #[prop(optional)]
    readonly: bool,
    /// Interface language (`fr`, `de`, `nl`, `en`).
    #[prop(optional)]
    lang: Lang,
    /// Receives the editor's core once mounted (tests, the custom element).
    #[prop(optional)]
    on_ready: Option<Rc<dyn Fn(Rc<EditorCore>)>>,
) -> impl IntoView {
    let strings = lang.editor();
    let key = NEXT_KEY.with(|k| {
        let v = k.get();
        k.set(v + 1);
        v
    });
    let revision = RwSignal::new(0u64);
    let sel_revision = RwSignal::new(0u64);
    let slash = RwSignal::new(None::<SlashState>);
    let link = RwSignal::new(None::<LinkState>);
    let core = Rc::new(EditorCore {
        key,
        session: EditSession::new(doc.clone(), now_ms),
        readonly,
        strings,
        surface: RefCell::new(None),
        last_sel: RefCell::new(None),
        sticky: RefCell::new(None),
        composing: RefCell::new(None),
        dirty: Arc::new(AtomicBool::new(false)),
        pending: Arc::new(Mutex::new(BlockChanges::default())),
        listeners: RefCell::new(Vec::new()),
        revision,
        sel_revision,
        tab_leaves: Cell::new(false),
        slash,
        link,
        selection_listener: RefCell::new(None),
        caret_source: RefCell::new(None),
        markdown_parser: RefCell::new(None),
        agents: AgentDoor::new(doc.clone(), now_ms),
    });
    let stored = StoredValue::new_local(core);
    let get = move || stored.try_get_value();
    let handle = EditorHandle {
        core: stored,
        key,
        strings,
        revision,
        sel_revision,
        slash,
        link,
    };
    let surface_ref = NodeRef::<html::Div>::new();
    let on_ready = StoredValue::new_local(on_ready);
    surface_ref.on_load(move |el| {
        if let Some(core) = get() {
            core.attach(el.unchecked_into());
            if let Some(cb) = on_ready.try_get_value().flatten() {
                cb(core);
            }
        }
    });
    on_cleanup(move || {
        if let Some(core) = stored.try_get_value() {
            core.detach();
        }
    });

    // Memos: recomputed on every render, but the DOM they drive is touched
    // only when their value changes (not on every keystroke).
    let word_count = Memo::new(move |_| {
        revision.get();
        get().map_or(0, |c| {
            c.surface.borrow().as_ref().map_or(0, |s| s.word_count())
        })
    });
    let is_empty = Memo::new(move |_| {
        revision.get();
        get().is_some_and(|c| c.surface.borrow().as_ref().is_some_and(|s| s.is_blank()))
    });
    let hint_id = format!("atelier-hint-{key}");
    // The surface keeps focus while the slash menu is open and points at
    // its active option, if any.
    let active_descendant = move || {
        slash.with(|s| {
            let s = s.as_ref()?;
            (!block_choices::matching(strings, &s.query).is_empty())
                .then(|| slash_menu::option_id(key, s.active))
        })
    };

    view! {
        <div class="atelier-editor" lang=lang.tag() data-readonly=readonly.to_string()>
            {(!readonly).then(|| view! { <Toolbar editor=handle /> })}
            <div class="atelier-surface-wrap">
                <div node_ref=surface_ref class="atelier-surface"
                    contenteditable=if readonly { "false" } else { "true" }
                    role="textbox" aria-multiline="true" aria-label=strings.editor
                    aria-readonly=readonly.to_string()
                    aria-describedby=(!readonly).then(|| hint_id.clone())
                    aria-controls=move || slash.with(|s| s.is_some().then(|| slash_menu::menu_id(key)))
                    aria-activedescendant=active_descendant
                    data-placeholder=strings.placeholder
                    data-empty=move || is_empty.get().to_string()
                    spellcheck="true"></div>
                <SlashMenu editor=handle />
                <LinkField editor=handle />
                {(!readonly).then(|| view! {
                    <p id=hint_id.clone() class="atelier-visually-hidden">{strings.keyboard_hint}</p>
                })}
            </div>
            <div class="atelier-status">
                {move || strings.word_count(word_count.get())}
                {readonly.then(|| view! { <span class="atelier-readonly-badge">{strings.read_only}</span> })}
            </div>
        </div>
    }
}

impl EditorCore {
    /// The session (document, undo) behind this editor.
    pub fn session(&self) -> &EditSession {
        &self.session
    }

    /// The editing surface element, once mounted.
    pub fn surface_element(&self) -> Option<web_sys::Element> {
        self.root()
    }

    /// How many blocks the last render rebuilt.
    pub fn last_rebuilt(&self) -> usize {
        self.surface.borrow().as_ref().map_or(0, |s| s.last_rebuilt)
    }

    /// How many blocks the last render patched in place (only their text
    /// changed).
    pub fn last_patched(&self) -> usize {
        self.surface.borrow().as_ref().map_or(0, |s| s.last_patched)
    }

    /// The selection in model terms, as last seen or set.
    pub fn selection(&self) -> Option<Selection> {
        self.current_selection()
    }

    /// Re-renders now if a transaction is pending (tests call this instead of
    /// waiting for the microtask).
    pub fn flush_now(&self) {
        self.flush();
    }

    /// Places the caret (or a range) in model terms.
    pub fn select(&self, sel: &Selection) {
        self.place(sel);
    }

    /// Sets (or with `None` removes) the function told about every
    /// selection change, local or after a re-render.
    pub fn set_selection_listener(&self, listener: Option<SelectionListener>) {
        *self.selection_listener.borrow_mut() = listener;
    }

    /// Sets (or with `None` removes) what reads pasted Markdown; without
    /// one, Markdown-looking text is pasted as plain paragraphs.
    pub fn set_markdown_parser(&self, parser: Option<MarkdownParser>) {
        *self.markdown_parser.borrow_mut() = parser;
    }

    /// Sets (or removes) where remote carets come from, and draws them.
    pub fn set_caret_source(&self, source: Option<CaretSource>) {
        *self.caret_source.borrow_mut() = source;
        self.refresh_carets();
    }

    /// Redraws the remote carets (a transport calls this when presence
    /// changes; renders redraw them anyway).
    pub fn refresh_carets(&self) {
        if self.caret_source.borrow().is_none() {
            if let Some(s) = self.surface.borrow().as_ref() {
                remote_carets::draw(s, &[]);
            }
            return;
        }
        self.draw_carets();
    }
}
