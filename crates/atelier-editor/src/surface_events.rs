//! What each DOM event on the editing surface does: `beforeinput`
//! (typing, deleting, Enter, paste and drop, format and history commands)
//! becomes an [`Intent`] replayed on the model; keys drive the slash menu,
//! indentation, marks, undo and the link field (Ctrl/Cmd+K); composition
//! is left to the browser and committed once; copy and cut write the
//! clipboard (`crate::clipboard`). The listeners are attached by
//! [`EditorCore`]'s `attach`.

use crate::block_choices;
use crate::component::{EDITORS, EditorCore, MarkdownParser, caret_sticky};
use crate::dom_selection;
use crate::session::{Intent, MarkKind, Pos, Selection};
use crate::slash_menu::SlashState;
use crate::text_rules;
use atelier_doc::BlockId;
use atelier_doc::schema::block_type;
use leptos::prelude::*;
use std::rc::Weak;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

impl EditorCore {
    pub(crate) fn on_beforeinput(&self, ev: &web_sys::InputEvent) {
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

    pub(crate) fn on_keydown(&self, ev: &web_sys::KeyboardEvent) {
        if ev.is_composing() {
            return;
        }
        let key = ev.key();
        if matches!(key.as_str(), "Shift" | "Control" | "Alt" | "Meta") {
            return;
        }
        let tab_leaves = self.tab_leaves.replace(false);
        if let Some(st) = self.slash.get_untracked() {
            let n = block_choices::matching(self.strings, &st.query).len();
            let step = match key.as_str() {
                "ArrowDown" => 1,
                "ArrowUp" => n.saturating_sub(1),
                _ => 0,
            };
            let handled = match key.as_str() {
                "ArrowDown" | "ArrowUp" if n > 0 => {
                    let active = (st.active + step) % n;
                    self.slash.set(Some(SlashState { active, ..st }));
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
            (true, false, "k") => {
                ev.prevent_default();
                self.open_link_field();
                return;
            }
            (true, extend, k @ ("home" | "end")) => {
                ev.prevent_default();
                self.jump(k == "end", extend);
                return;
            }
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

    pub(crate) fn on_composition_start(&self) {
        *self.composing.borrow_mut() = self.current_selection();
    }

    pub(crate) fn on_composition_end(&self, ev: &web_sys::CompositionEvent) {
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

    pub(crate) fn on_selection_change(&self) {
        let Some(root) = self.root() else { return };
        if let Some(sel) = dom_selection::read_selection(&root) {
            // The caret left the end of the `/query` text: the menu closes.
            if let Some(st) = self.slash.get_untracked()
                && sel != Selection::caret(Pos::new(st.block, text_rules::utf16_len(&st.query) + 1))
            {
                self.slash.set(None);
            }
            self.remember(sel);
        }
    }

    /// Ctrl+Home and Ctrl+End (with Shift, extending the selection). The
    /// browser's own stop at the first chunk it skipped laying out
    /// (`content-visibility`), short of the document's start or end, so
    /// the editor moves the caret itself and scrolls it into view.
    fn jump(&self, to_end: bool, extend: bool) {
        let doc = self.session.doc();
        let ids = doc.block_ids();
        let is_text =
            |id: &&BlockId| crate::render::is_text_block(&doc.block_kind(id).unwrap_or_default());
        let target = if to_end {
            ids.iter().rev().find(is_text)
        } else {
            ids.iter().find(is_text)
        };
        let Some(id) = target else { return };
        let pos = Pos::new(
            id.clone(),
            if to_end {
                doc.block_len(id).unwrap_or(0)
            } else {
                0
            },
        );
        let sel = match self.current_selection() {
            Some(s) if extend => Selection::range(s.anchor, pos),
            _ => Selection::caret(pos),
        };
        self.place(&sel);
        let content = self
            .surface
            .borrow()
            .as_ref()
            .and_then(|s| s.content_of(id).cloned());
        if let Some(el) = content {
            el.scroll_into_view_with_bool(!to_end);
        }
    }

    /// A press anywhere but in the slash menu closes it.
    pub(crate) fn on_document_mousedown(&self, ev: &web_sys::MouseEvent) {
        if self.slash.with_untracked(Option::is_none) {
            return;
        }
        let in_menu = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest(".atelier-slash-menu").ok().flatten())
            .is_some();
        if !in_menu {
            self.slash.set(None);
        }
    }

    pub(crate) fn on_click(&self, ev: &web_sys::MouseEvent) {
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
    pub(crate) fn on_clipboard(&self, ev: &web_sys::ClipboardEvent, cut: bool) {
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
}
