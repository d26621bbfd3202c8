//! The slash menu: `/` typed in an empty block lists the block types; what
//! is typed next filters them (`crate::block_choices`), arrows move, Enter
//! or Tab applies, Escape, a space right after `/` or a click elsewhere
//! close it. The surface keeps focus and names the active option with
//! `aria-activedescendant`; the menu opens next to the caret
//! (`crate::popover`).

use crate::block_choices::{self, CHOICES};
use crate::component::EditorHandle;
use crate::popover::{self, Spot};
use atelier_doc::BlockId;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The slash menu's state: which block it edits, what was typed after
/// `/`, the active item, and where it opened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlashState {
    /// The block holding the `/query` text.
    pub(crate) block: BlockId,
    /// What was typed after `/`.
    pub(crate) query: String,
    /// The active item, among those that match.
    pub(crate) active: usize,
    /// Where the caret was when it opened.
    pub(crate) spot: Option<Spot>,
}

/// The id of editor `key`'s menu box.
pub(crate) fn menu_id(key: u64) -> String {
    format!("atelier-slash-{key}")
}

/// The id of editor `key`'s `i`th option.
pub(crate) fn option_id(key: u64, i: usize) -> String {
    format!("atelier-slash-{key}-{i}")
}

/// The slash menu of an editor: the block types matching what was typed
/// after `/` as a listbox, or "no result".
///
/// One reactive closure rebuilds the whole menu when its state changes (a
/// few elements), then puts it back next to the caret and scrolls its
/// active option into view: smaller in the bundle than `<Show>` and
/// finer-grained effects, which cost kilobytes per use.
#[component]
pub(crate) fn SlashMenu(
    /// The editor the menu belongs to.
    editor: EditorHandle,
) -> impl IntoView {
    let EditorHandle {
        core,
        key,
        strings,
        slash,
        ..
    } = editor;
    move || {
        let st = slash.get()?;
        let items = block_choices::matching(strings, &st.query);
        let active = st.active;
        let node = NodeRef::<html::Div>::new();
        node.on_load(move |el| {
            if let Some(opened) = st.spot {
                // The caret's line now (the page may have scrolled, or the
                // text above it been laid out, since the `/` was typed),
                // and the left edge where the menu opened, so it does not
                // follow the caret as the query grows.
                let spot = popover::spot().map_or(opened, |now| popover::Spot {
                    left: opened.left,
                    ..now
                });
                popover::place(&el, &spot);
            }
            reveal(&el, active);
        });
        // Without options the list is no listbox (one with no option is not
        // valid ARIA); the status line says why.
        let empty = items.is_empty();
        Some(view! {
            <div class="atelier-slash-menu" id=menu_id(key) node_ref=node>
                <ul role=(!empty).then_some("listbox") aria-label=strings.slash_menu>
                    {items.into_iter().enumerate().map(|(i, c)| view! {
                        <li role="option" id=option_id(key, i)
                            aria-selected=if i == active { "true" } else { "false" }
                            class:atelier-slash-active=i == active
                            on:mousedown=move |ev: web_sys::MouseEvent| {
                                ev.prevent_default();
                                if let Some(core) = core.try_get_value() { core.choose_slash(i); }
                            }>{CHOICES.get(c).map(|c| (c.label)(strings))}</li>
                    }).collect_view()}
                </ul>
                <p class="atelier-slash-empty" role="status">{empty.then_some(strings.no_result)}</p>
            </div>
        })
    }
}

/// Scrolls `menu` so its `i`th option shows (the menu scrolls when the
/// viewport is too short for it).
fn reveal(menu: &web_sys::HtmlElement, i: usize) {
    let Some(option) = menu
        .query_selector_all("[role=option]")
        .ok()
        .and_then(|l| l.item(i as u32))
        .and_then(|o| o.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let (top, bottom) = (
        option.offset_top(),
        option.offset_top() + option.offset_height(),
    );
    if top < menu.scroll_top() {
        menu.set_scroll_top(top);
    } else if bottom > menu.scroll_top() + menu.client_height() {
        menu.set_scroll_top(bottom - menu.client_height());
    }
}
