//! Other users' carets and selections, drawn over the surface.
//!
//! A transport hands the editor a [`CaretSource`]; the editor asks it for
//! the carets (already resolved to model positions) after every render and
//! whenever the transport calls `EditorCore::refresh_carets`, and draws them
//! into one overlay beside the surface (`.atelier-carets`, `aria-hidden`,
//! no pointer events), positioned from DOM ranges. The overlay is never
//! inside the `contenteditable`, so it cannot disturb editing or the
//! selection mapping.

use crate::dom_selection::model_to_dom;
use crate::session::Pos;
use crate::surface::Surface;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Document, DomRect, Element, HtmlElement, Range};

/// One remote user's caret (and selection when `anchor != head`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCaret {
    /// Name shown above the caret.
    pub name: String,
    /// Colour (`#rgb`/`#rrggbb`/`#rrggbbaa`; anything else is not drawn).
    pub color: String,
    /// Where their selection started.
    pub anchor: Pos,
    /// Where their caret is.
    pub head: Pos,
}

/// Gives the current remote carets (called on every render).
pub type CaretSource = Rc<dyn Fn() -> Vec<RemoteCaret>>;

fn is_hex_color(s: &str) -> bool {
    s.strip_prefix('#').is_some_and(|h| {
        matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// Redraws the overlay of `surface` with `carets`.
pub(crate) fn draw(surface: &Surface, carets: &[RemoteCaret]) {
    let root = surface.root();
    let (Some(wrap), Some(doc)) = (root.parent_element(), root.owner_document()) else {
        return;
    };
    let overlay = match wrap.query_selector(":scope > .atelier-carets") {
        Ok(Some(el)) => el,
        _ => {
            if carets.is_empty() {
                return;
            }
            let Ok(el) = doc.create_element("div") else {
                return;
            };
            el.set_class_name("atelier-carets");
            let _ = el.set_attribute("aria-hidden", "true");
            set_style(
                &el,
                "position:absolute;inset:0;pointer-events:none;overflow:visible",
            );
            if wrap.append_child(&el).is_err() {
                return;
            }
            el
        }
    };
    overlay.set_text_content(None);
    let base = wrap.get_bounding_client_rect();
    for caret in carets.iter().filter(|c| is_hex_color(&c.color)) {
        draw_one(&doc, surface, &overlay, &base, caret);
    }
}

fn point(doc: &Document, surface: &Surface, pos: &Pos) -> Option<Range> {
    let (node, offset) = model_to_dom(surface, pos)?;
    let range = doc.create_range().ok()?;
    range.set_start(&node, offset).ok()?;
    range.collapse_with_to_start(true);
    Some(range)
}

fn draw_one(doc: &Document, surface: &Surface, overlay: &Element, base: &DomRect, c: &RemoteCaret) {
    let Some(head) = point(doc, surface, &c.head) else {
        return;
    };
    // A collapsed range in an empty block has no box: use its element's.
    let mut rect = head.get_bounding_client_rect();
    if rect.height() <= 0.0
        && let Ok(container) = head.start_container()
    {
        let el = container
            .dyn_ref::<Element>()
            .cloned()
            .or_else(|| container.parent_element());
        if let Some(el) = el {
            rect = el.get_bounding_client_rect();
        }
    }
    if c.anchor != c.head
        && let (Some(a), Ok(range)) = (point(doc, surface, &c.anchor), doc.create_range())
        && let (Ok(an), Ok(ao), Ok(hn), Ok(ho)) = (
            a.start_container(),
            a.start_offset(),
            head.start_container(),
            head.start_offset(),
        )
    {
        // Ranges must run forwards: try anchor→head, else head→anchor.
        let forward = range.set_start(&an, ao).is_ok() && range.set_end(&hn, ho).is_ok();
        if !forward || range.collapsed() {
            let _ = range.set_start(&hn, ho);
            let _ = range.set_end(&an, ao);
        }
        if let Some(rects) = range.get_client_rects() {
            for i in 0..rects.length() {
                if let Some(r) = rects.get(i) {
                    let style = format!(
                        "position:absolute;left:{}px;top:{}px;width:{}px;height:{}px;background:{};opacity:0.25",
                        num(r.left() - base.left()),
                        num(r.top() - base.top()),
                        num(r.width()),
                        num(r.height()),
                        c.color
                    );
                    append(doc, overlay, "atelier-remote-selection", &style, None);
                }
            }
        }
    }
    let style = format!(
        "position:absolute;left:{}px;top:{}px;height:{}px;border-left:2px solid {};margin-left:-1px",
        num(rect.left() - base.left()),
        num(rect.top() - base.top()),
        num(rect.height().max(12.0)),
        c.color
    );
    if let Some(caret) = append(doc, overlay, "atelier-remote-caret", &style, None) {
        let label = format!(
            "position:absolute;bottom:100%;left:-2px;background:{};color:#fff;font-size:0.7em;\
             line-height:1.2;padding:0 0.25em;border-radius:2px;white-space:nowrap",
            c.color
        );
        append(
            doc,
            &caret,
            "atelier-remote-caret-label",
            &label,
            Some(&c.name),
        );
    }
}

/// Sets `el`'s inline style through the CSSOM, which a Content Security
/// Policy without `'unsafe-inline'` allows (a `style` attribute it blocks).
fn set_style(el: &Element, css: &str) {
    if let Some(h) = el.dyn_ref::<HtmlElement>() {
        h.style().set_css_text(css);
    }
}

fn append(
    doc: &Document,
    parent: &Element,
    class: &str,
    style: &str,
    text: Option<&str>,
) -> Option<Element> {
    let el = doc.create_element("div").ok()?;
    el.set_class_name(class);
    set_style(&el, style);
    if let Some(text) = text {
        el.set_text_content(Some(text));
        if let Some(h) = el.dyn_ref::<HtmlElement>() {
            h.set_title(text);
        }
    }
    parent.append_child(&el).ok()?;
    Some(el)
}

/// A CSS length number, formatted by JavaScript's `Number#toString` (keeps
/// Rust's float formatting, `core::fmt::float`, out of the wasm).
fn num(v: f64) -> String {
    js_sys::Number::from(v)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}
