//! The virtualized timeline: a scroll container holding a spacer, the rows
//! of the visible window, and a spacer. Only rows within the viewport (plus
//! [`OVERSCAN`] pixels) are in the DOM; every rendered row is measured and
//! its height cached by message id, so the spacers stand in for the rows
//! left out. Scrolling keeps the first visible row where it was when
//! heights above it change; a reader at the bottom stays at the bottom.
//!
//! Rows are built by [`build_row`] and kept while their [`RowModel`] is
//! unchanged, so a new message or a reaction rebuilds one row, not the
//! window; a row whose only change is the roving focus (`current`) is
//! patched in place. The keyboard focus survives a rebuild of its row.

use crate::i18n::Strings;
use crate::message_view::{ACTION, EMOJI, ROW_ID, RowModel, TARGET, build_row};
use crate::virtual_window::HeightCache;
use std::collections::HashMap;
use std::ops::Range;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, Node};

/// Pixels rendered above and below the viewport, so a fast scroll shows
/// rows, not blank space, before the next frame fills it.
pub const OVERSCAN: f64 = 600.0;

/// How close to the bottom (px) still counts as "at the bottom".
pub const BOTTOM_SLACK: f64 = 4.0;

struct Rendered {
    key: String,
    model: RowModel,
    el: Element,
}

/// Where the keyboard focus was inside a row, to put it back after the
/// row is rebuilt.
#[derive(Debug, Clone, PartialEq)]
enum FocusSpot {
    Message,
    Control {
        action: String,
        extra: Option<String>,
    },
    Other,
}

/// The timeline of one panel.
pub struct Timeline {
    doc: Document,
    scroller: HtmlElement,
    top: HtmlElement,
    list: HtmlElement,
    bottom: HtmlElement,
    heights: HeightCache,
    rendered: Vec<Rendered>,
    /// Keep the newest row in view: set at the bottom, cleared by
    /// scrolling up.
    pub stick: bool,
    width: i32,
    id_prefix: String,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline")
            .field("rows", &self.heights.len())
            .field("rendered", &self.rendered.len())
            .field("stick", &self.stick)
            .finish_non_exhaustive()
    }
}

fn div(doc: &Document, class: &str) -> HtmlElement {
    let e: HtmlElement = doc
        .create_element("div")
        .expect("div is a valid tag")
        .unchecked_into();
    e.set_class_name(class);
    e
}

fn set_height(e: &HtmlElement, px: f64) {
    // Whole pixels, formatted as an integer: float formatting is a few KB
    // of wasm the panel does not otherwise need.
    let px = px.max(0.0).round() as i64;
    let _ = e.style().set_property("height", &format!("{px}px"));
}

impl Timeline {
    /// Takes over `scroller` (the `role="log"` element) and puts the
    /// spacers and the row list in it; `id_prefix` starts the ids of the
    /// elements it creates (unique per panel).
    pub fn new(scroller: HtmlElement, id_prefix: &str) -> Self {
        let doc = scroller
            .owner_document()
            .or_else(|| web_sys::window().and_then(|w| w.document()))
            .expect("an element belongs to a document");
        let top = div(&doc, "atelier-chat-spacer");
        let list = div(&doc, "atelier-chat-rows");
        let bottom = div(&doc, "atelier-chat-spacer");
        for e in [&top, &list, &bottom] {
            let _ = scroller.append_child(e);
        }
        set_height(&top, 0.0);
        set_height(&bottom, 0.0);
        Timeline {
            doc,
            scroller,
            top,
            list,
            bottom,
            heights: HeightCache::new(),
            rendered: Vec::new(),
            stick: true,
            width: 0,
            id_prefix: id_prefix.to_owned(),
        }
    }

    /// The scroll container.
    pub fn scroller(&self) -> &HtmlElement {
        &self.scroller
    }

    /// Sets the rows (message ids, in order).
    pub fn set_rows(&mut self, keys: Vec<String>) {
        self.heights.set_rows(keys);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.heights.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.heights.is_empty()
    }

    /// The row index of message `key`.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.heights.index_of(key)
    }

    /// The message id of row `i`.
    pub fn key(&self, i: usize) -> Option<&str> {
        self.heights.key(i)
    }

    /// The rows in the DOM now.
    pub fn window(&self) -> Range<usize> {
        match (self.rendered.first(), self.rendered.last()) {
            (Some(a), Some(b)) => {
                let start = self.heights.index_of(&a.key).unwrap_or(0);
                let end = self.heights.index_of(&b.key).map_or(start, |e| e + 1);
                start..end
            }
            _ => 0..0,
        }
    }

    /// The rendered row element of message `key`.
    pub fn row_element(&self, key: &str) -> Option<&Element> {
        self.rendered.iter().find(|r| r.key == key).map(|r| &r.el)
    }

    /// Whether the view is scrolled to the bottom.
    pub fn at_bottom(&self) -> bool {
        let s = &self.scroller;
        f64::from(s.scroll_height() - s.scroll_top() - s.client_height()) <= BOTTOM_SLACK
    }

    /// Scrolls so that row `i` is fully in view (as far as it fits).
    pub fn reveal(&mut self, i: usize) {
        let top = self.heights.offset_of(i);
        let bottom = self.heights.offset_of(i + 1);
        let view_top = f64::from(self.scroller.scroll_top());
        let height = f64::from(self.scroller.client_height());
        if top < view_top {
            self.scroller.set_scroll_top(top.floor() as i32);
        } else if bottom > view_top + height {
            self.scroller
                .set_scroll_top((bottom - height).ceil() as i32);
        }
        self.stick = i + 1 == self.heights.len();
    }

    /// Re-renders the window: `model(i)` gives row `i`'s content.
    pub fn render(&mut self, model: &dyn Fn(usize) -> Option<RowModel>, s: &Strings) {
        let width = self.scroller.client_width();
        if width != self.width {
            // Wrapping changed: measured heights no longer hold.
            self.width = width;
            let keys: Vec<String> = (0..self.heights.len())
                .filter_map(|i| self.heights.key(i).map(str::to_owned))
                .collect();
            self.heights = HeightCache::new();
            self.heights.set_rows(keys);
        }
        let viewport = f64::from(self.scroller.client_height()).max(1.0);
        let anchor = if self.stick {
            None
        } else {
            let top = f64::from(self.scroller.scroll_top());
            let i = self.heights.index_at(top);
            let delta = self.heights.offset_of(i) - top;
            self.heights.key(i).map(|k| (k.to_owned(), delta))
        };
        let focus = self.focus_spot();
        for _ in 0..4 {
            let total = self.heights.total();
            let scroll_top = if self.stick {
                (total - viewport).max(0.0)
            } else {
                f64::from(self.scroller.scroll_top())
            };
            let window = self.heights.window(scroll_top, viewport, OVERSCAN);
            self.reconcile(window.clone(), model, s);
            let mut changed = false;
            for (k, r) in self.rendered.iter().enumerate() {
                let h = r.el.get_bounding_client_rect().height();
                changed |= self.heights.measure(window.start + k, h);
            }
            set_height(&self.top, self.heights.offset_of(window.start));
            let total = self.heights.total();
            set_height(&self.bottom, total - self.heights.offset_of(window.end));
            if self.stick {
                self.scroller.set_scroll_top(self.scroller.scroll_height());
            } else if let Some((key, delta)) = &anchor
                && let Some(i) = self.heights.index_of(key)
            {
                let want = self.heights.offset_of(i) - delta;
                if (want - f64::from(self.scroller.scroll_top())).abs() >= 1.0 {
                    self.scroller.set_scroll_top(want.round() as i32);
                }
            }
            if !changed {
                break;
            }
        }
        self.restore_focus(focus);
    }

    fn reconcile(
        &mut self,
        window: Range<usize>,
        model: &dyn Fn(usize) -> Option<RowModel>,
        s: &Strings,
    ) {
        let mut old: HashMap<String, Rendered> = self
            .rendered
            .drain(..)
            .map(|r| (r.key.clone(), r))
            .collect();
        let mut next = Vec::with_capacity(window.len());
        for i in window {
            let (Some(key), Some(m)) = (self.heights.key(i), model(i)) else {
                continue;
            };
            let row = match old.remove(key) {
                Some(r) if r.model == m => r,
                // Only the roving focus moved: patch the row in place. A
                // rebuilt row would take the focused control out of the
                // DOM between a mouse button's press (which focuses it and
                // makes its message current) and its release, so the click
                // would land on no control.
                Some(mut r) if same_but_current(&r.model, &m) => {
                    set_current(&r.el, m.current);
                    r.model = m;
                    r
                }
                stale => {
                    if let Some(r) = stale {
                        r.el.remove();
                    }
                    Rendered {
                        key: key.to_owned(),
                        el: build_row(&self.doc, &m, s, &self.id_prefix),
                        model: m,
                    }
                }
            };
            next.push(row);
        }
        for r in old.into_values() {
            r.el.remove();
        }
        let mut cursor = self.list.first_child();
        for r in &next {
            let node: &Node = r.el.as_ref();
            if cursor.as_ref() == Some(node) {
                cursor = node.next_sibling();
            } else {
                let _ = self.list.insert_before(node, cursor.as_ref());
            }
        }
        self.rendered = next;
    }

    fn focus_spot(&self) -> Option<(String, FocusSpot)> {
        let active = self.doc.active_element()?;
        let list: &Node = self.list.as_ref();
        if !list.contains(Some(active.as_ref())) {
            return None;
        }
        let row = active.closest(".atelier-chat-row").ok()??;
        let key = row.get_attribute(ROW_ID)?;
        let spot = if active.matches("article").unwrap_or(false) {
            FocusSpot::Message
        } else if let Some(action) = active.get_attribute(ACTION) {
            FocusSpot::Control {
                action,
                extra: active
                    .get_attribute(EMOJI)
                    .or_else(|| active.get_attribute(TARGET)),
            }
        } else {
            FocusSpot::Other
        };
        Some((key, spot))
    }

    fn restore_focus(&self, spot: Option<(String, FocusSpot)>) {
        let Some((key, spot)) = spot else { return };
        let still = self.doc.active_element().is_some_and(|a| {
            let n: &Node = a.as_ref();
            n.is_connected() && a.tag_name() != "BODY"
        });
        if still {
            return;
        }
        let Some(row) = self.row_element(&key) else {
            // The focused row left the window: keep focus in the log
            // rather than dropping it on the page.
            focus(self.scroller.as_ref());
            return;
        };
        let target = match &spot {
            FocusSpot::Control { action, extra } => row
                .query_selector_all(&format!("[{ACTION}=\"{action}\"]"))
                .ok()
                .and_then(|list| {
                    (0..list.length())
                        .filter_map(|i| list.item(i))
                        .filter_map(|n| n.dyn_into::<Element>().ok())
                        .find(|e| {
                            extra.is_none()
                                || e.get_attribute(EMOJI).as_ref() == extra.as_ref()
                                || e.get_attribute(TARGET).as_ref() == extra.as_ref()
                        })
                }),
            _ => None,
        };
        let target = target.or_else(|| row.query_selector("article").ok().flatten());
        if let Some(t) = target {
            focus(&t);
        }
    }

    /// Focuses the message of row `key`, if it is rendered.
    pub fn focus_message(&self, key: &str) -> bool {
        match self
            .row_element(key)
            .and_then(|r| r.query_selector("article").ok().flatten())
        {
            Some(a) => {
                focus(&a);
                true
            }
            None => false,
        }
    }
}

/// Whether `a` and `b` differ at most in [`RowModel::current`].
fn same_but_current(a: &RowModel, b: &RowModel) -> bool {
    a.current != b.current && {
        let mut a = a.clone();
        a.current = b.current;
        a == *b
    }
}

/// Makes the built row `row` the current one or not, as [`build_row`]
/// would have: its controls and links in the Tab order (`tabindex` 0) or
/// out of it (-1), and `data-current` on its message. The message itself
/// stays at -1 (the log's arrow keys reach it).
fn set_current(row: &Element, current: bool) {
    let tabindex = if current { "0" } else { "-1" };
    if let Ok(list) = row.query_selector_all("[tabindex]:not(article)") {
        for el in (0..list.length()).filter_map(|i| list.item(i)) {
            if let Some(el) = el.dyn_ref::<Element>() {
                let _ = el.set_attribute("tabindex", tabindex);
            }
        }
    }
    if let Ok(Some(article)) = row.query_selector("article") {
        let _ = if current {
            article.set_attribute("data-current", "true")
        } else {
            article.remove_attribute("data-current")
        };
    }
}

/// Focuses `e` without scrolling (the timeline scrolls itself).
pub(crate) fn focus(e: &Element) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let opts = web_sys::FocusOptions::new();
        opts.set_prevent_scroll(true);
        let _ = h.focus_with_options(&opts);
    }
}
