//! The timeline's event handlers, delegated on the `role="log"` element:
//! scrolling (window, unread, "jump to latest"), the message actions
//! (buttons carry `data-action`; rows carry the message id), and keyboard
//! navigation between messages (arrows, Home, End) with a roving set of
//! controls: only the focused message's buttons and links are in the Tab
//! order, so Tab leaves a 10,000-message log in one step.

use crate::chat_log::View;
use crate::core::ChatCore;
use crate::message_view::{ACTION, EMOJI, ROW_ID, TARGET};
use crate::timeline::{Timeline, focus};
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventTarget, HtmlElement, KeyboardEvent, MouseEvent};

impl ChatCore {
    /// Takes over the log element: builds the timeline and listens.
    pub(crate) fn attach(self: &Rc<Self>, scroller: HtmlElement) {
        *self.timeline.borrow_mut() = Some(Timeline::new(
            scroller.clone(),
            &format!("atelier-chat-{}", self.key),
        ));
        self.rebuild_rows();
        self.render();
        let target: &EventTarget = scroller.as_ref();
        self.listen::<Event>(target, "scroll", |c, _| c.on_scroll());
        self.listen::<MouseEvent>(target, "click", |c, e| c.on_click(e));
        self.listen::<KeyboardEvent>(target, "keydown", |c, e| c.on_log_keydown(e));
        self.listen::<Event>(target, "focusin", |c, e| c.on_focusin(e));
        if let Some(w) = web_sys::window() {
            let wt: &EventTarget = w.as_ref();
            self.listen::<Event>(wt, "resize", |c, _| c.render_soon());
            if let Some(d) = w.document() {
                let dt: &EventTarget = d.as_ref();
                self.listen::<Event>(dt, "visibilitychange", |c, _| c.render_soon());
            }
        }
    }

    fn on_scroll(self: &Rc<Self>) {
        if self.follow_scroll() {
            self.render_soon();
        }
    }

    /// Takes the log's scroll position as the user left it: whether it
    /// stays at the bottom as messages come. False if there is no log yet.
    fn follow_scroll(&self) -> bool {
        let at_bottom = {
            let mut t = self.timeline.borrow_mut();
            let Some(t) = t.as_mut() else { return false };
            t.stick = t.at_bottom();
            t.stick
        };
        if self.ui.at_bottom.get_untracked() != at_bottom {
            self.ui.at_bottom.set(at_bottom);
        }
        true
    }

    fn row_of(target: &Element) -> Option<String> {
        target
            .closest(".atelier-chat-row")
            .ok()
            .flatten()
            .and_then(|r| r.get_attribute(ROW_ID))
    }

    fn on_click(self: &Rc<Self>, ev: &MouseEvent) {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let Some(button) = target.closest(&format!("[{ACTION}]")).ok().flatten() else {
            return;
        };
        let (Some(action), Some(id)) = (button.get_attribute(ACTION), Self::row_of(&button)) else {
            return;
        };
        ev.prevent_default();
        self.act(&action, &id, &button);
    }

    /// Runs a message action (`data-action` of a button in row `id`).
    pub(crate) fn act(self: &Rc<Self>, action: &str, id: &str, button: &Element) {
        *self.current.borrow_mut() = Some(id.to_owned());
        let result = match action {
            "react" => {
                self.ui.picker.set(Some(id.to_owned()));
                Ok(())
            }
            "toggle-reaction" => match button.get_attribute(EMOJI) {
                Some(emoji) => self.toggle_reaction(id, &emoji),
                None => Ok(()),
            },
            "reply" => {
                self.ui.confirm_delete.set(None);
                self.cancel_edit();
                self.ui.reply_to.set(Some(id.to_owned()));
                self.focus();
                Ok(())
            }
            "edit" => {
                self.start_edit(id);
                Ok(())
            }
            "delete" => {
                self.ui.confirm_delete.set(Some(id.to_owned()));
                self.render();
                self.focus_control(id, "confirm-delete");
                Ok(())
            }
            "confirm-delete" => {
                self.ui.confirm_delete.set(None);
                let r = self.delete(id);
                self.focus_message(id);
                r
            }
            "cancel-delete" => {
                self.ui.confirm_delete.set(None);
                self.render();
                self.focus_control(id, "delete");
                Ok(())
            }
            "open-thread" => {
                let root = button
                    .get_attribute(TARGET)
                    .unwrap_or_else(|| id.to_owned());
                self.open_thread(Some(&root));
                self.focus_message(&root);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.ui.error.set(Some(self.describe(&e)));
        }
        self.render();
    }

    /// Puts one of the local user's messages in the composer for editing.
    pub(crate) fn start_edit(&self, id: &str) {
        let Some(body) = self
            .log
            .borrow()
            .get(id)
            .filter(|m| m.author == self.user.id && !m.deleted)
            .map(|m| m.body.clone())
        else {
            return;
        };
        self.ui.confirm_delete.set(None);
        self.ui.reply_to.set(None);
        if let Some(c) = self.composer.borrow().as_ref() {
            if self.ui.editing.get_untracked().is_none() {
                *self.draft.borrow_mut() = c.value();
            }
            c.set_value(&body);
        }
        self.ui.editing.set(Some(id.to_owned()));
        self.render();
        self.focus();
    }

    fn focus_control(&self, id: &str, action: &str) {
        let t = self.timeline.borrow();
        if let Some(b) = t.as_ref().and_then(|t| t.row_element(id)).and_then(|r| {
            r.query_selector(&format!("[{ACTION}=\"{action}\"]"))
                .ok()
                .flatten()
        }) {
            focus(&b);
        }
    }

    /// Scrolls message `id` into view and focuses it.
    pub(crate) fn focus_message(&self, id: &str) {
        let index = self.timeline.borrow().as_ref().and_then(|t| t.index_of(id));
        if let Some(i) = index {
            self.focus_row(i);
        }
    }

    /// Scrolls row `i` into view and focuses its message; its controls
    /// join the Tab order.
    pub(crate) fn focus_row(&self, i: usize) {
        let key = {
            let mut t = self.timeline.borrow_mut();
            let Some(t) = t.as_mut() else { return };
            let Some(key) = t.key(i).map(str::to_owned) else {
                return;
            };
            t.reveal(i);
            key
        };
        *self.current.borrow_mut() = Some(key.clone());
        self.render();
        if let Some(t) = self.timeline.borrow().as_ref() {
            t.focus_message(&key);
        }
    }

    fn on_focusin(self: &Rc<Self>, ev: &Event) {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if let Some(id) = Self::row_of(&target)
            && self.current.borrow().as_deref() != Some(id.as_str())
        {
            // The scroll event comes with the next frame: a mouse press
            // right after scrolling up arrives first. Rendering with the
            // log still taken as stuck to the bottom would scroll it back
            // down under the pointer, and the release would click
            // whatever is there now instead of the pressed control.
            self.follow_scroll();
            *self.current.borrow_mut() = Some(id);
            self.render();
        }
    }

    fn on_log_keydown(self: &Rc<Self>, ev: &KeyboardEvent) {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
            return;
        }
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let (len, here) = {
            let t = self.timeline.borrow();
            let Some(t) = t.as_ref() else { return };
            let here = Self::row_of(&target).and_then(|id| t.index_of(&id));
            let current = self
                .current
                .borrow()
                .as_deref()
                .and_then(|id| t.index_of(id));
            (t.len(), here.or(current))
        };
        if len == 0 {
            return;
        }
        let on_message = target.matches("article").unwrap_or(false);
        let in_row = Self::row_of(&target).is_some();
        let last = len - 1;
        let to = match ev.key().as_str() {
            "ArrowDown" => Some(match (in_row, here) {
                (true, Some(i)) => (i + 1).min(last),
                (_, Some(i)) => i,
                _ => last,
            }),
            "ArrowUp" => Some(match (in_row, here) {
                (true, Some(i)) => i.saturating_sub(1),
                (_, Some(i)) => i,
                _ => last,
            }),
            "Home" if on_message || !in_row => Some(0),
            "End" if on_message || !in_row => Some(last),
            "Enter" if !in_row => Some(here.unwrap_or(last)),
            "Escape" if in_row && !on_message => {
                if let Some(id) = Self::row_of(&target) {
                    if self.ui.confirm_delete.get_untracked().is_some() {
                        self.ui.confirm_delete.set(None);
                    }
                    self.focus_message(&id);
                }
                ev.prevent_default();
                None
            }
            "Escape" if matches!(self.ui.view.get_untracked(), View::Thread(_)) => {
                self.open_thread(None);
                ev.prevent_default();
                None
            }
            _ => None,
        };
        if let Some(i) = to {
            ev.prevent_default();
            self.focus_row(i);
        }
    }
}
