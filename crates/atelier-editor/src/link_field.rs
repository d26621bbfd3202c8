//! The link field: Ctrl/Cmd+K (or the toolbar's link button) opens a small
//! labelled address field next to the selected text, focused. Enter links
//! the selection to an `http`, `https` or `mailto` URL (an empty field
//! removes the link); anything else is refused with a message the field
//! announces, and it stays open. Escape, or focus leaving it,
//! closes it; Escape gives focus back to the text with its selection.

use crate::component::EditorHandle;
use crate::popover::{self, Spot};
use crate::session::Selection;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The link field's state while it is open.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinkState {
    /// The selection it links.
    pub(crate) sel: Selection,
    /// Where the selection was when it opened.
    pub(crate) spot: Option<Spot>,
    /// Whether the last address given was refused.
    pub(crate) refused: bool,
}

/// The link field of an editor, while open (plain reactive closures, not
/// `<Show>`, for the bundle's size).
#[component]
pub(crate) fn LinkField(
    /// The editor whose selection the field links.
    editor: EditorHandle,
) -> impl IntoView {
    let EditorHandle {
        core,
        key,
        strings,
        link,
        ..
    } = editor;
    let open = Memo::new(move |_| link.with(Option::is_some));
    let refused = move || link.with(|l| l.as_ref().is_some_and(|l| l.refused));
    let input_id = format!("atelier-link-{key}");
    let hint_id = format!("atelier-link-hint-{key}");
    let error_id = format!("atelier-link-error-{key}");
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let Some(c) = core.try_get_value() else {
            return;
        };
        match ev.key().as_str() {
            "Enter" => {
                ev.prevent_default();
                let value = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default();
                c.submit_link(&value);
            }
            "Escape" => {
                ev.prevent_default();
                c.close_link_field(None);
            }
            _ => {}
        }
    };
    // Focus leaving the field (Tab, a click elsewhere) closes it.
    let on_focusout = move |ev: web_sys::FocusEvent| {
        let field = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let to = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        if !field.is_some_and(|f| f.contains(to.as_ref())) {
            link.set(None);
        }
    };
    move || {
        open.get().then(|| {
            let field = NodeRef::<html::Div>::new();
            field.on_load(move |el| {
                if let Some(spot) = link.with_untracked(|l| l.as_ref().and_then(|l| l.spot)) {
                    popover::place(&el, &spot);
                }
                if let Some(input) = el
                    .query_selector("input")
                    .ok()
                    .flatten()
                    .and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = input.focus();
                }
            });
            view! {
                <div class="atelier-link-field" role="dialog" aria-label=strings.link
                    node_ref=field on:focusout=on_focusout>
                    <label for=input_id.clone()>{strings.link_prompt}</label>
                    <input id=input_id.clone() type="url" placeholder="https://"
                        aria-describedby=format!("{hint_id} {error_id}")
                        aria-invalid=move || if refused() { "true" } else { "false" }
                        on:input=move |_| if refused() {
                            link.update(|l| if let Some(l) = l { l.refused = false });
                        }
                        on:keydown=on_key />
                    <p id=hint_id.clone() class="atelier-link-hint">{strings.link_hint}</p>
                    <p id=error_id.clone() class="atelier-link-error" role="alert">
                        {move || refused().then_some(strings.link_refused)}
                    </p>
                </div>
            }
        })
    }
}
