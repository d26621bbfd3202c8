//! The editor's toolbar: mark toggles (with `aria-pressed` from the
//! selection), the link button (which opens the link field), the block
//! type selector, undo and redo.

use crate::block_choices::{self, CHOICES};
use crate::component::EditorHandle;
use crate::session::{Intent, MarkKind};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// The toolbar of an editor that is not read-only.
#[component]
pub(crate) fn Toolbar(
    /// The editor the toolbar acts on.
    editor: EditorHandle,
) -> impl IntoView {
    let EditorHandle {
        core,
        strings,
        revision,
        sel_revision,
        ..
    } = editor;
    let get = move || core.try_get_value();
    let can_undo = Memo::new(move |_| {
        revision.get();
        get().is_some_and(|c| c.session.can_undo())
    });
    let can_redo = Memo::new(move |_| {
        revision.get();
        get().is_some_and(|c| c.session.can_redo())
    });
    // Setting the selection in the surface makes Chromium focus it: a
    // control activated from the keyboard gets focus back, so keyboard
    // users stay in the toolbar and hear its new state.
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
    let mark_button = move |mark: MarkKind,
                            label: &'static str,
                            class: &'static str,
                            icon: &'static str,
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
                on:click=move |_| run(Intent::ToggleMark(mark))><span class=icon aria-hidden="true"></span></button>
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
            .map(|b| block_choices::choice_value(&b))
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
    view! {
        <div class="atelier-toolbar" role="toolbar" aria-label=strings.toolbar>
            {mark_button(MarkKind::Bold, strings.bold, "atelier-tool-bold", "atelier-icon atelier-icon-bold",
                Some(("Control+B", "Ctrl+B")))}
            {mark_button(MarkKind::Italic, strings.italic, "atelier-tool-italic", "atelier-icon atelier-icon-italic",
                Some(("Control+I", "Ctrl+I")))}
            {mark_button(MarkKind::Underline, strings.underline, "atelier-tool-underline", "atelier-icon atelier-icon-underline",
                Some(("Control+U", "Ctrl+U")))}
            {mark_button(MarkKind::Strike, strings.strike, "atelier-tool-strike", "atelier-icon atelier-icon-strike", None)}
            {mark_button(MarkKind::Code, strings.code, "atelier-tool-code", "atelier-icon atelier-icon-code", None)}
            <button type="button" class="atelier-tool atelier-tool-link" aria-label=strings.link
                title=format!("{} (Ctrl+K)", strings.link) aria-keyshortcuts="Control+K"
                aria-haspopup="dialog"
                on:mousedown=keep_selection
                on:click=move |_| if let Some(c) = get() { c.open_link_field() }><span class="atelier-icon atelier-icon-link" aria-hidden="true"></span></button>
            <select class="atelier-block-type" aria-label=strings.block_type
                prop:value=move || current_kind.get().unwrap_or("paragraph") on:change=on_kind>
                {CHOICES.iter().map(|c| view! { <option value=c.value>{(c.label)(strings)}</option> }).collect_view()}
            </select>
            <button type="button" class="atelier-tool atelier-tool-undo" aria-label=strings.undo
                title=format!("{} (Ctrl+Z)", strings.undo) aria-keyshortcuts="Control+Z" aria-disabled=move || (!can_undo.get()).to_string()
                on:mousedown=keep_selection
                on:click=move |_| if can_undo.get_untracked() { run(Intent::Undo) }><span class="atelier-icon atelier-icon-undo" aria-hidden="true"></span></button>
            <button type="button" class="atelier-tool atelier-tool-redo" aria-label=strings.redo
                title=format!("{} (Ctrl+Y)", strings.redo) aria-keyshortcuts="Control+Y Control+Shift+Z" aria-disabled=move || (!can_redo.get()).to_string()
                on:mousedown=keep_selection
                on:click=move |_| if can_redo.get_untracked() { run(Intent::Redo) }><span class="atelier-icon atelier-icon-redo" aria-hidden="true"></span></button>
        </div>
    }
}
