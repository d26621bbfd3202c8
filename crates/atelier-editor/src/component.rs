//! The [`Editor`] component: Leptos renders the chrome (toolbar, slash menu,
//! word count); the editing surface's children belong to [`Surface`], which
//! re-renders them from the model after every transaction.
//!
//! Leptos' reconciler expects to own the DOM it renders, but the browser
//! mutates a `contenteditable` during IME composition; so the surface is a
//! single Leptos-rendered element whose content is keyed by block id and
//! driven by `beforeinput`.

use crate::dom_selection;
use crate::i18n::{Lang, Strings};
use crate::remote_carets::{self, CaretSource};
use crate::render::RenderLabels;
use crate::session::{EditSession, Intent, MarkKind, Pos, Selection};
use crate::surface::Surface;
use crate::text_rules::{self, BlockKind};
use atelier_doc::schema::block_type;
use atelier_doc::sticky::StickyPos;
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
use yrs::Assoc;

thread_local! {
    static EDITORS: RefCell<HashMap<u64, Weak<EditorCore>>> = RefCell::new(HashMap::new());
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
        }
    });
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The slash menu's state: which block it edits, what was typed after `/`.
#[derive(Debug, Clone, PartialEq)]
struct SlashState {
    block: BlockId,
    query: String,
    active: usize,
}

/// One entry of the block-type menus.
struct KindChoice {
    value: &'static str,
    label: fn(&Strings) -> &'static str,
    kind: fn() -> BlockKind,
}

const CHOICES: &[KindChoice] = &[
    KindChoice {
        value: "paragraph",
        label: |s| s.paragraph,
        kind: || BlockKind::plain(block_type::PARAGRAPH),
    },
    KindChoice {
        value: "heading1",
        label: |s| s.heading1,
        kind: || BlockKind::with(block_type::HEADING, "level", 1.into()),
    },
    KindChoice {
        value: "heading2",
        label: |s| s.heading2,
        kind: || BlockKind::with(block_type::HEADING, "level", 2.into()),
    },
    KindChoice {
        value: "heading3",
        label: |s| s.heading3,
        kind: || BlockKind::with(block_type::HEADING, "level", 3.into()),
    },
    KindChoice {
        value: "bulletListItem",
        label: |s| s.bullet_list,
        kind: || BlockKind::plain(block_type::BULLET_LIST_ITEM),
    },
    KindChoice {
        value: "numberedListItem",
        label: |s| s.numbered_list,
        kind: || BlockKind::plain(block_type::NUMBERED_LIST_ITEM),
    },
    KindChoice {
        value: "checkListItem",
        label: |s| s.check_list,
        kind: || BlockKind::with(block_type::CHECK_LIST_ITEM, "checked", false.into()),
    },
    KindChoice {
        value: "quote",
        label: |s| s.quote,
        kind: || BlockKind::plain(block_type::QUOTE),
    },
    KindChoice {
        value: "codeBlock",
        label: |s| s.code_block,
        kind: || BlockKind::plain(block_type::CODE_BLOCK),
    },
    KindChoice {
        value: "divider",
        label: |s| s.divider,
        kind: || BlockKind::plain(block_type::DIVIDER),
    },
];

/// Lower-cases a label or a query for matching ("Überschrift" matches "über").
/// In the browser this is the engine's own `toLowerCase`, which keeps Rust's
/// Unicode case tables (≈7 KB brotli) out of the bundle.
fn fold_case(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(s).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        s.to_lowercase()
    }
}

fn slash_matches(strings: &Strings, query: &str) -> Vec<&'static KindChoice> {
    let q = fold_case(query);
    CHOICES
        .iter()
        .filter(|c| {
            q.is_empty()
                || fold_case((c.label)(strings)).contains(&q)
                || c.value.to_ascii_lowercase().contains(&q)
        })
        .collect()
}

/// The value of the block-type `<select>` for a block.
fn choice_value(b: &atelier_doc::Block) -> &'static str {
    match b.kind.as_str() {
        block_type::HEADING => match crate::render::heading_level(b) {
            1 => "heading1",
            2 => "heading2",
            _ => "heading3",
        },
        k => CHOICES
            .iter()
            .find(|c| c.value == k)
            .map_or("paragraph", |c| c.value),
    }
}

type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

/// Everything one mounted editor holds; shared by its event listeners.
pub struct EditorCore {
    key: u64,
    session: EditSession,
    readonly: bool,
    strings: &'static Strings,
    surface: RefCell<Option<Surface>>,
    last_sel: RefCell<Option<Selection>>,
    sticky: RefCell<Option<(StickyPos, StickyPos)>>,
    composing: RefCell<Option<Selection>>,
    dirty: Arc<AtomicBool>,
    /// What transactions changed since the last render (filled by the
    /// document's block observer, inside each commit).
    pending: Arc<Mutex<BlockChanges>>,
    listeners: RefCell<Vec<Listener>>,
    revision: RwSignal<u64>,
    /// Bumped whenever the remembered selection changes (toolbar state).
    sel_revision: RwSignal<u64>,
    /// Set by Escape: the next Tab or Shift+Tab moves focus out of the
    /// surface instead of indenting (no keyboard trap, WCAG 2.1.2).
    tab_leaves: Cell<bool>,
    slash: RwSignal<Option<SlashState>>,
    selection_listener: RefCell<Option<SelectionListener>>,
    caret_source: RefCell<Option<CaretSource>>,
    markdown_parser: RefCell<Option<MarkdownParser>>,
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

    fn root(&self) -> Option<web_sys::Element> {
        self.surface.borrow().as_ref().map(|s| s.root().clone())
    }

    /// Re-renders the surface from the model.
    fn render(&self) {
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
    fn flush(&self) {
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

    fn has_focus(&self) -> bool {
        let Some(root) = self.root() else {
            return false;
        };
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .is_some_and(|a| root.contains(Some(&a)))
    }

    /// Puts the browser selection at `sel` and remembers it.
    fn place(&self, sel: &Selection) {
        if let Some(s) = self.surface.borrow().as_ref() {
            dom_selection::write_selection(s, sel);
        }
        self.remember(sel.clone());
    }

    fn remember(&self, sel: Selection) {
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
    fn current_selection(&self) -> Option<Selection> {
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
            Err(crate::error::EditorError::Refused(_)) => {
                if let Some(w) = web_sys::window() {
                    let _ = w.alert_with_message(self.strings.link_refused);
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
            let active = open_now
                .filter(|s| s.query == query)
                .map_or(0, |s| s.active);
            self.slash.set(Some(SlashState {
                block: sel.focus.block.clone(),
                query,
                active,
            }));
        } else if open_now.is_some() {
            self.slash.set(None);
        }
    }

    fn choose_slash(&self, index: usize) {
        let Some(st) = self.slash.get_untracked() else {
            return;
        };
        let matches = slash_matches(self.strings, &st.query);
        self.slash.set(None);
        if let Some(choice) = matches.get(index) {
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

    fn on_beforeinput(&self, ev: &web_sys::InputEvent) {
        if self.readonly {
            ev.prevent_default();
            return;
        }
        let t = ev.input_type();
        if ev.is_composing()
            || matches!(
                t.as_str(),
                "insertCompositionText" | "deleteCompositionText" | "insertFromComposition"
            )
        {
            // Let the browser compose; the text is committed on compositionend.
            return;
        }
        let Some(root) = self.root() else { return };
        // Mapped only by the input types that use it: plain typing does not
        // pay for it.
        let target = || {
            ev.get_target_ranges()
                .get(0)
                .dyn_into::<web_sys::StaticRange>()
                .ok()
                .and_then(|r| dom_selection::static_range_to_model(&root, &r))
        };
        let data_transfer_text = |kind: &str| {
            ev.data_transfer()
                .and_then(|d| d.get_data(kind).ok())
                .filter(|s| !s.is_empty())
        };
        let non_collapsed_target = || target().filter(|s| !s.is_collapsed());
        let (intent, sel) = match t.as_str() {
            "insertText" => (Intent::InsertText(ev.data().unwrap_or_default()), None),
            "insertReplacementText" => (
                Intent::InsertText(
                    ev.data()
                        .or_else(|| data_transfer_text("text/plain"))
                        .unwrap_or_default(),
                ),
                target(),
            ),
            "insertParagraph" => (Intent::SplitBlock, None),
            "insertLineBreak" => (Intent::LineBreak, None),
            "deleteContentBackward" => (Intent::DeleteBackward, None),
            "deleteContentForward" => (Intent::DeleteForward, None),
            "deleteWordBackward" => match non_collapsed_target() {
                Some(s) => (Intent::DeleteSelection, Some(s)),
                None => (Intent::DeleteWordBackward, None),
            },
            "deleteWordForward" => match non_collapsed_target() {
                Some(s) => (Intent::DeleteSelection, Some(s)),
                None => (Intent::DeleteWordForward, None),
            },
            "deleteSoftLineBackward" | "deleteHardLineBackward" => match non_collapsed_target() {
                Some(s) => (Intent::DeleteSelection, Some(s)),
                None => (Intent::DeleteLineBackward, None),
            },
            "deleteByCut" | "deleteByDrag" | "deleteContent" => (Intent::DeleteSelection, target()),
            "insertFromPaste" | "insertFromDrop" | "insertFromPasteAsQuotation" => {
                let html = data_transfer_text("text/html");
                let text = data_transfer_text("text/plain")
                    .or_else(|| ev.data())
                    .unwrap_or_default();
                let at = if t == "insertFromDrop" {
                    target()
                } else {
                    None
                };
                let parser = self.markdown_parser.borrow().clone();
                if let Some(parser) = parser
                    && crate::session::paste_wants_markdown(html.as_deref(), &text)
                    && let Some(sel) = at.clone().or_else(|| self.current_selection())
                    // A code block takes the text as it is: nothing to parse.
                    && self.session.doc().block_kind(&sel.focus.block).ok().as_deref()
                        != Some(block_type::CODE_BLOCK)
                {
                    ev.prevent_default();
                    self.paste_markdown(&parser, text, sel);
                    return;
                }
                (
                    Intent::Paste {
                        html,
                        text,
                        markdown: None,
                    },
                    at,
                )
            }
            "formatBold" => (Intent::ToggleMark(MarkKind::Bold), None),
            "formatItalic" => (Intent::ToggleMark(MarkKind::Italic), None),
            "formatUnderline" => (Intent::ToggleMark(MarkKind::Underline), None),
            "formatStrikeThrough" => (Intent::ToggleMark(MarkKind::Strike), None),
            "historyUndo" => (Intent::Undo, None),
            "historyRedo" => (Intent::Redo, None),
            _ => {
                // Anything else would make the DOM drift from the model.
                ev.prevent_default();
                return;
            }
        };
        ev.prevent_default();
        self.run(intent, sel);
    }

    /// Pastes Markdown-looking text at `at` once `parser` has read it (the
    /// Markdown module may still be loading): `at` is kept as sticky
    /// positions, so it follows edits made meanwhile. If the parser fails
    /// (the module cannot load, e.g. offline), the text goes in as plain
    /// paragraphs: nothing is lost. Focus is not taken back if the user
    /// moved elsewhere while waiting.
    fn paste_markdown(&self, parser: &MarkdownParser, text: String, at: Selection) {
        let doc = self.session.doc();
        let sticky = caret_sticky(doc, &at.anchor).zip(caret_sticky(doc, &at.focus));
        let key = self.key;
        let parsed = parser(text.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let markdown = match parsed.await {
                Ok(blocks) => Some(blocks),
                Err(e) => {
                    web_sys::console::warn_1(
                        &format!("atelier-editor: Markdown paste kept as plain text: {e}").into(),
                    );
                    None
                }
            };
            let Some(core) = EDITORS.with(|e| e.borrow().get(&key).and_then(Weak::upgrade)) else {
                return;
            };
            let sel = sticky.and_then(|(a, f)| {
                let doc = core.session.doc();
                Some(Selection::range(
                    Pos::from_pair(doc.resolve_sticky(&a)?),
                    Pos::from_pair(doc.resolve_sticky(&f)?),
                ))
            });
            let focused_elsewhere = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .filter(|_| !core.has_focus())
                .and_then(|a| a.dyn_into::<HtmlElement>().ok());
            core.run(
                Intent::Paste {
                    html: None,
                    text,
                    markdown,
                },
                sel,
            );
            if let Some(el) = focused_elsewhere {
                let _ = el.focus();
            }
        });
    }

    fn on_keydown(&self, ev: &web_sys::KeyboardEvent) {
        if ev.is_composing() {
            return;
        }
        let key = ev.key();
        if matches!(key.as_str(), "Shift" | "Control" | "Alt" | "Meta") {
            return;
        }
        let tab_leaves = self.tab_leaves.replace(false);
        if let Some(st) = self.slash.get_untracked() {
            let n = slash_matches(self.strings, &st.query).len();
            let handled = match key.as_str() {
                "ArrowDown" if n > 0 => {
                    self.slash.set(Some(SlashState {
                        active: (st.active + 1) % n,
                        ..st
                    }));
                    true
                }
                "ArrowUp" if n > 0 => {
                    self.slash.set(Some(SlashState {
                        active: (st.active + n - 1) % n,
                        ..st
                    }));
                    true
                }
                "Enter" | "Tab" if n > 0 => {
                    self.choose_slash(st.active);
                    true
                }
                "Escape" => {
                    self.slash.set(None);
                    true
                }
                _ => false,
            };
            if handled {
                ev.prevent_default();
                return;
            }
        }
        if self.readonly {
            return;
        }
        let cmd = ev.ctrl_key() || ev.meta_key();
        if key == "Escape" && !cmd {
            self.tab_leaves.set(true);
            return;
        }
        if key == "Tab" && tab_leaves {
            // Escape, then Tab: let the browser move focus.
            return;
        }
        let intent = match (cmd, ev.shift_key(), key.to_ascii_lowercase().as_str()) {
            (false, false, "tab") => Some(Intent::Indent),
            (false, true, "tab") => Some(Intent::Outdent),
            (true, _, "b") => Some(Intent::ToggleMark(MarkKind::Bold)),
            (true, _, "i") => Some(Intent::ToggleMark(MarkKind::Italic)),
            (true, _, "u") => Some(Intent::ToggleMark(MarkKind::Underline)),
            (true, false, "z") => Some(Intent::Undo),
            (true, true, "z") | (true, false, "y") => Some(Intent::Redo),
            (true, _, "enter") => self
                .current_selection()
                .map(|s| Intent::ToggleChecked(s.focus.block)),
            _ => None,
        };
        if let Some(intent) = intent {
            ev.prevent_default();
            self.run(intent, None);
        }
    }

    fn on_composition_start(&self) {
        *self.composing.borrow_mut() = self.current_selection();
    }

    fn on_composition_end(&self, ev: &web_sys::CompositionEvent) {
        let start = self.composing.borrow_mut().take();
        // The browser changed the DOM itself: rebuild the blocks the
        // composition touched (those of its selection at the start and of
        // the caret now) and re-check the order of every block element.
        let mut ids: Vec<BlockId> = Vec::new();
        if let Some(sel) = &start {
            if sel.anchor.block == sel.focus.block {
                ids.push(sel.anchor.block.clone());
            } else {
                let all = self.session.doc().block_ids();
                let a = all.iter().position(|b| b == &sel.anchor.block);
                let f = all.iter().position(|b| b == &sel.focus.block);
                if let (Some(a), Some(f)) = (a, f) {
                    ids.extend(all[a.min(f)..=a.max(f)].iter().cloned());
                }
            }
        }
        if let Some(now) = self.root().and_then(|r| dom_selection::read_selection(&r)) {
            ids.push(now.focus.block);
        }
        if let Some(s) = self.surface.borrow_mut().as_mut() {
            for id in &ids {
                s.invalidate(id);
            }
        }
        let data = ev.data().unwrap_or_default();
        if data.is_empty() || self.readonly {
            self.render();
            if let Some(sel) = self.session.clamp(start.as_ref()) {
                self.place(&sel);
            }
            return;
        }
        self.run(Intent::InsertText(data), start);
    }

    fn on_selection_change(&self) {
        let Some(root) = self.root() else { return };
        if let Some(sel) = dom_selection::read_selection(&root) {
            if let Some(st) = self.slash.get_untracked()
                && (st.block != sel.focus.block || !sel.is_collapsed())
            {
                self.slash.set(None);
            }
            self.remember(sel);
        }
    }

    fn on_click(&self, ev: &web_sys::MouseEvent) {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if !target.class_list().contains("atelier-check-input") {
            return;
        }
        if self.readonly {
            ev.prevent_default();
            return;
        }
        let block = target
            .closest("[data-block-id]")
            .ok()
            .flatten()
            .and_then(|w| w.get_attribute("data-block-id"));
        if let Some(id) = block {
            let sel = self.last_sel.borrow().clone();
            self.run(Intent::ToggleChecked(BlockId::from(id)), sel);
        }
    }

    /// Copy and cut: the selection goes to the clipboard as HTML, Markdown
    /// and plain text (see [`crate::clipboard`]); cut then deletes it as one
    /// undoable change. A collapsed selection leaves the browser's default.
    fn on_clipboard(&self, ev: &web_sys::ClipboardEvent, cut: bool) {
        let Some(sel) = self.current_selection() else {
            return;
        };
        if sel.is_collapsed() {
            return;
        }
        let Some(data) = ev.clipboard_data() else {
            return;
        };
        let payload = crate::clipboard::serialize(self.session.doc(), &sel);
        if crate::clipboard::write(&data, &payload).is_err() {
            return;
        }
        ev.prevent_default();
        if cut && !self.readonly {
            self.run(Intent::DeleteSelection, Some(sel));
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
        }
        EDITORS.with(|e| e.borrow_mut().insert(self.key, Rc::downgrade(self)));
        let dirty = self.dirty.clone();
        let pending = self.pending.clone();
        let key = self.key;
        self.session
            .doc()
            .observe_blocks(&self.observer_key(), move |changes| {
                if let Ok(mut p) = pending.lock() {
                    p.merge(changes);
                }
                dirty.store(true, Ordering::SeqCst);
                schedule_flush(key);
            });
    }

    fn detach(&self) {
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
fn caret_sticky(doc: &Document, pos: &Pos) -> Option<StickyPos> {
    doc.sticky_at(&pos.block, pos.offset, Assoc::After)
        .or_else(|_| doc.sticky_at(&pos.block, pos.offset, Assoc::Before))
        .ok()
}

impl Pos {
    fn from_pair((block, offset): (BlockId, u32)) -> Self {
        Pos { block, offset }
    }
}

/// The rich-text editor: a toolbar, a `contenteditable` surface rendered
/// from `doc`, a slash menu and a word count.
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
    let strings = lang.strings();
    let key = NEXT_KEY.with(|k| {
        let v = k.get();
        k.set(v + 1);
        v
    });
    let revision = RwSignal::new(0u64);
    let sel_revision = RwSignal::new(0u64);
    let slash = RwSignal::new(None::<SlashState>);
    let core = Rc::new(EditorCore {
        key,
        session: EditSession::new(doc, now_ms),
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
        selection_listener: RefCell::new(None),
        caret_source: RefCell::new(None),
        markdown_parser: RefCell::new(None),
    });
    let stored = StoredValue::new_local(core);
    let get = move || stored.try_get_value();
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
    let can_undo = Memo::new(move |_| {
        revision.get();
        get().is_some_and(|c| c.session.can_undo())
    });
    let can_redo = Memo::new(move |_| {
        revision.get();
        get().is_some_and(|c| c.session.can_redo())
    });
    // Toolbar actions. Setting the selection in the surface makes Chromium
    // focus it: a control activated from the keyboard gets focus back, so
    // keyboard users stay in the toolbar and hear its new state.
    let run = move |intent: Intent| {
        let Some(c) = get() else { return };
        let document = web_sys::window().and_then(|w| w.document());
        let before = document.as_ref().and_then(|d| d.active_element());
        c.run(intent, None);
        let control = before
            .filter(|a| a.closest(".atelier-toolbar").ok().flatten().is_some())
            .and_then(|a| a.dyn_into::<HtmlElement>().ok());
        if let (Some(control), Some(d)) = (control, document)
            && d.active_element().as_ref() != Some(control.as_ref())
        {
            let _ = control.focus();
        }
    };
    // The marks at the selection, for the toggle buttons' `aria-pressed`.
    let active_marks = Memo::new(move |_| {
        revision.get();
        sel_revision.get();
        get()
            .and_then(|c| {
                let sel = c.session.clamp(c.last_sel.borrow().as_ref())?;
                Some(c.session.active_marks(&sel))
            })
            .unwrap_or_default()
    });
    let keep_selection = |ev: web_sys::MouseEvent| ev.prevent_default();
    let hint_id = format!("atelier-hint-{key}");
    let menu_id = format!("atelier-slash-{key}");
    let option_id = move |i: usize| format!("atelier-slash-{key}-{i}");
    let active_descendant = move || slash.get().map(|s| option_id(s.active));
    let mark_button = move |mark: MarkKind,
                            label: &'static str,
                            class: &'static str,
                            glyph: &'static str,
                            shortcut: Option<(&'static str, &'static str)>| {
        let title = shortcut.map_or_else(
            || label.to_owned(),
            |(_, shown)| format!("{label} ({shown})"),
        );
        view! {
            <button type="button" class=format!("atelier-tool {class}") aria-label=label title=title
                aria-keyshortcuts=shortcut.map(|(aria, _)| aria)
                aria-pressed=move || if active_marks.with(|m| m.contains(&mark)) { "true" } else { "false" }
                on:mousedown=keep_selection
                on:click=move |_| run(Intent::ToggleMark(mark))>{glyph}</button>
        }
    };
    let link = move |_| {
        let Some(w) = web_sys::window() else { return };
        if let Ok(Some(href)) = w.prompt_with_message(strings.link_prompt) {
            let href = href.trim().to_owned();
            run(Intent::SetLink(if href.is_empty() {
                None
            } else {
                Some(href)
            }));
        }
    };
    let current_kind = Memo::new(move |_| {
        revision.get();
        sel_revision.get();
        let c = get()?;
        let sel = c.last_sel.borrow().clone()?;
        c.session
            .doc()
            .block_shallow(&sel.focus.block)
            .ok()
            .map(|b| choice_value(&b))
    });
    let on_kind = move |ev: web_sys::Event| {
        let Some(sel) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        else {
            return;
        };
        let value = sel.value();
        if let Some(choice) = CHOICES.iter().find(|c| c.value == value) {
            if choice.value == "divider" {
                run(Intent::InsertDivider);
            } else {
                run(Intent::SetBlockType((choice.kind)()));
            }
        }
    };
    let menu_id_attr = menu_id.clone();
    let slash_menu = move || {
        let st = slash.get()?;
        let items = slash_matches(strings, &st.query);
        Some(view! {
            <ul class="atelier-slash-menu" role="listbox" id=menu_id.clone() aria-label=strings.slash_menu>
                {items.into_iter().enumerate().map(|(i, c)| {
                    let selected = i == st.active;
                    view! {
                        <li role="option" id=option_id(i) aria-selected=if selected { "true" } else { "false" }
                            class:atelier-slash-active=selected
                            on:mousedown=move |ev: web_sys::MouseEvent| {
                                ev.prevent_default();
                                if let Some(core) = get() { core.choose_slash(i); }
                            }>{(c.label)(strings)}</li>
                    }
                }).collect_view()}
            </ul>
        })
    };

    view! {
        <div class="atelier-editor" lang=lang.tag() data-readonly=readonly.to_string()>
            <Show when=move || !readonly>
                <div class="atelier-toolbar" role="toolbar" aria-label=strings.toolbar>
                    {mark_button(MarkKind::Bold, strings.bold, "atelier-tool-bold", "B",
                        Some(("Control+B", "Ctrl+B")))}
                    {mark_button(MarkKind::Italic, strings.italic, "atelier-tool-italic", "I",
                        Some(("Control+I", "Ctrl+I")))}
                    {mark_button(MarkKind::Underline, strings.underline, "atelier-tool-underline", "U",
                        Some(("Control+U", "Ctrl+U")))}
                    {mark_button(MarkKind::Strike, strings.strike, "atelier-tool-strike", "S", None)}
                    {mark_button(MarkKind::Code, strings.code, "atelier-tool-code", "</>", None)}
                    <button type="button" class="atelier-tool atelier-tool-link" aria-label=strings.link
                        title=strings.link on:mousedown=keep_selection on:click=link>"🔗"</button>
                    <select class="atelier-block-type" aria-label=strings.block_type
                        prop:value=move || current_kind.get().unwrap_or("paragraph") on:change=on_kind>
                        {CHOICES.iter().map(|c| view! { <option value=c.value>{(c.label)(strings)}</option> }).collect_view()}
                    </select>
                    <button type="button" class="atelier-tool atelier-tool-undo" aria-label=strings.undo
                        title=format!("{} (Ctrl+Z)", strings.undo) aria-keyshortcuts="Control+Z" aria-disabled=move || (!can_undo.get()).to_string()
                        on:mousedown=keep_selection
                        on:click=move |_| if can_undo.get_untracked() { run(Intent::Undo) }>"↶"</button>
                    <button type="button" class="atelier-tool atelier-tool-redo" aria-label=strings.redo
                        title=format!("{} (Ctrl+Y)", strings.redo) aria-keyshortcuts="Control+Y Control+Shift+Z" aria-disabled=move || (!can_redo.get()).to_string()
                        on:mousedown=keep_selection
                        on:click=move |_| if can_redo.get_untracked() { run(Intent::Redo) }>"↷"</button>
                </div>
            </Show>
            <div class="atelier-surface-wrap">
                <div node_ref=surface_ref class="atelier-surface"
                    contenteditable=if readonly { "false" } else { "true" }
                    role="textbox" aria-multiline="true" aria-label=strings.editor
                    aria-readonly=readonly.to_string()
                    aria-describedby=(!readonly).then(|| hint_id.clone())
                    aria-controls=move || slash.get().map(|_| menu_id_attr.clone())
                    aria-activedescendant=active_descendant
                    data-placeholder=strings.placeholder
                    data-empty=move || is_empty.get().to_string()
                    spellcheck="true"></div>
                {slash_menu}
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
