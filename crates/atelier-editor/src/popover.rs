//! Where a floating box of the editor (the slash menu, the link field)
//! opens: next to the caret or the selection, below it when it fits there
//! (scrolling the page a little when that makes it fit and keeps the
//! caret's line on screen), else above it, always inside the viewport, so
//! it covers neither the line being typed nor, when below, the text above.
//!
//! The box is absolutely positioned in `.atelier-surface-wrap`, so it
//! scrolls with the text it belongs to. The decision ([`choose`]) is pure;
//! [`spot`] and [`place`] read and write the DOM.

use web_sys::HtmlElement;

/// Space between the caret's line and the box, and kept free at the
/// viewport's edges, in CSS pixels.
const GAP: f64 = 4.0;
const MARGIN: f64 = 8.0;

/// What a box is placed against, read when it opens (before the box
/// itself changes the page's layout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spot {
    /// Top of the caret's line (or of the selection), viewport pixels.
    pub(crate) top: f64,
    /// Its bottom.
    pub(crate) bottom: f64,
    /// Its left edge.
    pub(crate) left: f64,
    /// Height of the viewport.
    pub(crate) viewport: f64,
    /// How far the page can still scroll down.
    pub(crate) room_below: f64,
}

/// Which side of the caret a box goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Side {
    /// Below the caret's line, after scrolling the page down by `scroll`.
    Below {
        /// Pixels to scroll the page by first.
        scroll: f64,
    },
    /// Above the caret's line.
    Above,
}

/// Where a box `height` pixels tall goes, and the height it must be cut
/// to (then it scrolls) when it fits on neither side.
pub(crate) fn choose(spot: &Spot, height: f64) -> (Side, Option<f64>) {
    let below = spot.viewport - spot.bottom - GAP - MARGIN;
    let above = spot.top - GAP - MARGIN;
    if height <= below {
        return (Side::Below { scroll: 0.0 }, None);
    }
    // Scrolling by the missing height keeps the caret's line on screen.
    let missing = height - below;
    if missing <= spot.room_below && missing <= spot.top - MARGIN {
        return (Side::Below { scroll: missing }, None);
    }
    if height <= above {
        return (Side::Above, None);
    }
    if below >= above {
        (Side::Below { scroll: 0.0 }, Some(below.max(0.0)))
    } else {
        (Side::Above, Some(above))
    }
}

/// Reads the box of the current selection (at a caret after text, its
/// line) and the viewport, now.
pub(crate) fn spot() -> Option<Spot> {
    let window = web_sys::window()?;
    let root = window.document()?.document_element()?;
    let range = window.get_selection().ok()??.get_range_at(0).ok()?;
    let r = range.get_bounding_client_rect();
    let viewport = f64::from(root.client_height());
    Some(Spot {
        top: r.top(),
        bottom: r.bottom(),
        left: r.left(),
        viewport,
        room_below: f64::from(root.scroll_height()) - viewport - window.scroll_y().unwrap_or(0.0),
    })
}

/// Puts `el` (absolutely positioned in its offset parent) next to `spot`.
pub(crate) fn place(el: &HtmlElement, spot: &Spot) {
    let Some(parent) = el.offset_parent() else {
        return;
    };
    let p = parent.get_bounding_client_rect();
    let (side, max) = choose(spot, f64::from(el.offset_height()));
    let style = el.style();
    let px = |v: f64| format!("{}px", v as i32);
    // Left-aligned with the caret, but inside the editor's width.
    let left = (spot.left - p.left())
        .min(p.width() - f64::from(el.offset_width()))
        .max(0.0);
    let _ = style.set_property("left", &px(left));
    match side {
        Side::Below { scroll } => {
            let _ = style.set_property("top", &px(spot.bottom - p.top() + GAP));
            if scroll > 0.0
                && let Some(w) = web_sys::window()
            {
                w.scroll_by_with_x_and_y(0.0, scroll);
            }
        }
        // Anchored by its bottom edge, so it stays against the caret's line
        // when its content (the filtered menu) shrinks.
        Side::Above => {
            let _ = style.set_property("top", "auto");
            let _ = style.set_property("bottom", &px(p.bottom() - spot.top + GAP));
        }
    }
    if let Some(max) = max {
        let _ = style.set_property("max-height", &px(max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(top: f64, room_below: f64) -> Spot {
        Spot {
            top,
            bottom: top + 20.0,
            left: 100.0,
            viewport: 800.0,
            room_below,
        }
    }

    #[test]
    fn below_when_it_fits() {
        assert_eq!(
            choose(&at(100.0, 0.0), 300.0),
            (Side::Below { scroll: 0.0 }, None)
        );
    }

    #[test]
    fn below_after_a_scroll_when_the_page_can_scroll_and_the_line_stays_visible() {
        // 800 - 620 - 4 - 8 = 168 px below: 132 missing.
        assert_eq!(
            choose(&at(600.0, 2000.0), 300.0),
            (Side::Below { scroll: 132.0 }, None)
        );
    }

    #[test]
    fn above_at_the_end_of_the_page() {
        assert_eq!(choose(&at(600.0, 0.0), 300.0), (Side::Above, None));
    }

    #[test]
    fn cut_to_the_larger_side_when_it_fits_nowhere() {
        let s = Spot {
            viewport: 300.0,
            ..at(100.0, 0.0)
        };
        assert_eq!(
            choose(&s, 500.0),
            (Side::Below { scroll: 0.0 }, Some(168.0))
        );
    }
}
