//! The composer: a textarea where Enter sends, Shift+Enter starts a new
//! line and Escape cancels a reply or an edit; `@` opens a list of people
//! to mention (arrows move, Enter or Tab inserts, Escape closes); a body
//! over the limit is flagged where it was typed, before sending.

use crate::core::ChatCore;
use crate::i18n::fill;
use crate::mentions::{
    Candidate, MentionQuery, byte_to_utf16, complete, mention_query, rank, utf16_to_byte,
};
use atelier_doc::chat::{MAX_BODY_BYTES, body_problem};
use leptos::html;
use leptos::prelude::*;
use std::rc::Rc;
use web_sys::KeyboardEvent;

/// The open list of mention suggestions.
#[derive(Debug, Clone, PartialEq)]
struct Suggestions {
    query: MentionQuery,
    items: Vec<Candidate>,
    active: usize,
}

/// What Enter in the composer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Submitted {
    /// A new message went out: the composer empties.
    Sent,
    /// An edit was saved: the composer got its draft back.
    Saved,
    /// Nothing was sent (the error is shown).
    Failed,
}

type Core = StoredValue<Rc<ChatCore>, LocalStorage>;

fn with_core<R>(core: Core, f: impl FnOnce(&Rc<ChatCore>) -> R) -> Option<R> {
    core.try_with_value(|c| f(c))
}

impl ChatCore {
    /// Everyone who can be mentioned: people here now, then everyone the
    /// chat names.
    fn mention_candidates(&self) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = self.inputs.peers.with_untracked(|peers| {
            peers
                .iter()
                .map(|p| Candidate {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    present: true,
                })
                .collect()
        });
        for (id, name) in self.people.borrow().iter() {
            let (id, name) = (id.clone(), name.clone());
            if !out.iter().any(|c| c.id == id) {
                let name = if name.is_empty() { id.clone() } else { name };
                out.push(Candidate {
                    id,
                    name,
                    present: false,
                });
            }
        }
        out
    }

    /// Sends (or saves an edit of) what the composer holds.
    fn submit(self: &Rc<Self>, text: &str) -> Submitted {
        let result = match self.ui.editing.get_untracked() {
            Some(id) => self.edit(&id, text).map(|_| id),
            None => {
                // In a thread, a message without another target answers
                // the thread's root, so it shows in the thread.
                let reply_to = self.ui.reply_to.get_untracked().or_else(|| {
                    match self.ui.view.get_untracked() {
                        crate::chat_log::View::Thread(root) => {
                            self.log.borrow().get(&root).filter(|m| !m.deleted)?;
                            Some(root)
                        }
                        crate::chat_log::View::All => None,
                    }
                });
                self.send(text, reply_to.as_deref())
            }
        };
        match result {
            Ok(id) => {
                let was_editing = self.ui.editing.get_untracked().is_some();
                self.ui.editing.set(None);
                self.ui.reply_to.set(None);
                self.ui.error.set(None);
                if was_editing {
                    let draft = std::mem::take(&mut *self.draft.borrow_mut());
                    if let Some(c) = self.composer.borrow().as_ref() {
                        c.set_value(&draft);
                    }
                    self.render();
                    self.focus_message(&id);
                    self.focus();
                    Submitted::Saved
                } else {
                    Submitted::Sent
                }
            }
            Err(e) => {
                let msg = self.describe(&e);
                self.ui.error.set((!msg.is_empty()).then_some(msg));
                Submitted::Failed
            }
        }
    }
}

/// The composer of panel `core`.
#[component]
pub(crate) fn Composer(
    /// The panel.
    core: Core,
) -> impl IntoView {
    let Some((strings, key, ui)) = with_core(core, |c| (c.strings, c.key, c.ui)) else {
        return ().into_any();
    };
    let area = NodeRef::<html::Textarea>::new();
    let suggestions = RwSignal::new(None::<Suggestions>);
    area.on_load(move |el| {
        with_core(core, |c| *c.composer.borrow_mut() = Some(el));
    });
    let list_id = format!("atelier-chat-mentions-{key}");
    let hint_id = format!("atelier-chat-hint-{key}");
    let error_id = format!("atelier-chat-error-{key}");
    let option_id = move |i: usize| format!("atelier-chat-mention-{key}-{i}");

    let refresh = move || {
        let Some(el) = area.get_untracked() else {
            return;
        };
        let text = el.value();
        let caret = el
            .selection_start()
            .ok()
            .flatten()
            .map_or(text.len(), |u| utf16_to_byte(&text, u));
        let found = mention_query(&text, caret).and_then(|q| {
            let items = with_core(core, |c| {
                rank(&c.mention_candidates(), &q.query, &c.user.id)
            })?;
            (!items.is_empty()).then_some(Suggestions {
                query: q,
                items,
                active: 0,
            })
        });
        let keep_active = |new: &Suggestions| {
            suggestions.with_untracked(|old| {
                old.as_ref()
                    .filter(|o| o.query.query == new.query.query)
                    .map_or(0, |o| o.active.min(new.items.len().saturating_sub(1)))
            })
        };
        suggestions.set(found.map(|mut s| {
            s.active = keep_active(&s);
            s
        }));
        // Flag a body over the limit as it is typed, not after Enter.
        let too_long = matches!(
            body_problem(&text),
            Some(atelier_doc::chat::BodyProblem::TooLong { .. })
        );
        if too_long {
            ui.error.set(Some(strings.too_long.format_with(
                text.len(),
                &[("max", &strings.too_long.lang.format_number(MAX_BODY_BYTES))],
            )));
        } else if ui.error.with_untracked(Option::is_some) {
            ui.error.set(None);
        }
        with_core(core, |c| c.typed(!text.trim().is_empty()));
    };

    let choose = move |i: usize| {
        let (Some(el), Some(s)) = (area.get_untracked(), suggestions.get_untracked()) else {
            return;
        };
        let Some(c) = s.items.get(i) else { return };
        let (text, caret) = complete(&el.value(), &s.query, &c.id);
        el.set_value(&text);
        let u = byte_to_utf16(&text, caret);
        let _ = el.set_selection_range(u, u);
        suggestions.set(None);
        let _ = el.focus();
    };

    let on_keydown = move |ev: KeyboardEvent| {
        let key = ev.key();
        if let Some(s) = suggestions.get_untracked() {
            let n = s.items.len();
            let handled = match key.as_str() {
                "ArrowDown" => {
                    suggestions.update(|o| {
                        if let Some(o) = o {
                            o.active = (o.active + 1) % n;
                        }
                    });
                    true
                }
                "ArrowUp" => {
                    suggestions.update(|o| {
                        if let Some(o) = o {
                            o.active = (o.active + n - 1) % n;
                        }
                    });
                    true
                }
                "Enter" | "Tab" if !ev.shift_key() => {
                    choose(s.active);
                    true
                }
                "Escape" => {
                    suggestions.set(None);
                    true
                }
                _ => false,
            };
            if handled {
                ev.prevent_default();
                ev.stop_propagation();
                return;
            }
        }
        match key.as_str() {
            "Enter" if !ev.shift_key() && !ev.is_composing() => {
                ev.prevent_default();
                let Some(el) = area.get_untracked() else {
                    return;
                };
                let text = el.value();
                let done = with_core(core, |c| c.submit(&text));
                if done == Some(Submitted::Sent) {
                    el.set_value("");
                }
                if done != Some(Submitted::Failed) {
                    suggestions.set(None);
                }
            }
            "Escape" => {
                let busy =
                    ui.editing.get_untracked().is_some() || ui.reply_to.get_untracked().is_some();
                if busy {
                    ev.prevent_default();
                    ui.reply_to.set(None);
                    with_core(core, |c| c.cancel_edit());
                    ui.error.set(None);
                }
            }
            _ => {}
        }
    };

    let banner = move || {
        let editing = ui.editing.get().is_some();
        let reply = ui.reply_to.get();
        if editing {
            Some(strings.editing.to_owned())
        } else {
            reply.map(|id| {
                let name = with_core(core, |c| {
                    let log = c.log.borrow();
                    let m = log.get(&id);
                    c.name_of(
                        m.map_or("", |m| m.author.as_str()),
                        m.and_then(|m| m.author_name.as_deref()),
                    )
                })
                .unwrap_or_default();
                fill(strings.replying_to, &[("name", &name)])
            })
        }
    };
    let cancel = move |_| {
        ui.reply_to.set(None);
        with_core(core, |c| {
            c.cancel_edit();
            c.focus();
        });
    };
    let send_click = move |_| {
        let Some(el) = area.get_untracked() else {
            return;
        };
        let text = el.value();
        if with_core(core, |c| c.submit(&text)) == Some(Submitted::Sent) {
            el.set_value("");
        }
        let _ = el.focus();
    };
    let list_id2 = list_id.clone();
    let error_id2 = error_id.clone();

    view! {
        <div class="atelier-chat-composer">
            {move || banner().map(|text| view! {
                <div class="atelier-chat-composer-banner">
                    <span>{text}</span>
                    <button type="button" class="atelier-chat-action-text" on:click=cancel>{strings.cancel}</button>
                </div>
            })}
            <div class="atelier-chat-composer-row">
                <textarea node_ref=area class="atelier-chat-input" rows="2"
                    aria-label=strings.composer
                    placeholder=strings.placeholder
                    aria-describedby=format!("{hint_id} {error_id}")
                    aria-invalid=move || ui.error.with(Option::is_some).to_string()
                    aria-controls=move || suggestions.with(|s| s.is_some().then(|| list_id2.clone()))
                    aria-activedescendant=move || suggestions.with(|s| s.as_ref().map(|s| option_id(s.active)))
                    on:input=move |_| refresh()
                    on:click=move |_| refresh()
                    on:keydown=on_keydown
                    on:blur=move |_| { with_core(core, |c| c.typed(false)); }
                ></textarea>
                <button type="button" class="atelier-chat-send" on:click=send_click>
                    {move || if ui.editing.get().is_some() { strings.save } else { strings.send }}
                </button>
            </div>
            <p id=error_id2 class="atelier-chat-error" role="alert">{move || ui.error.get()}</p>
            <p id=hint_id class="atelier-chat-visually-hidden">{strings.composer_hint}</p>
            {move || suggestions.get().map(|s| view! {
                <ul id=list_id.clone() class="atelier-chat-mentions" role="listbox" aria-label=strings.mentions>
                    {s.items.into_iter().enumerate().map(|(i, c)| {
                        let selected = i == s.active;
                        view! {
                            <li id=option_id(i) role="option" aria-selected=selected.to_string()
                                class="atelier-chat-mention-option"
                                on:mousedown=move |ev: web_sys::MouseEvent| { ev.prevent_default(); choose(i); }>
                                <span class="atelier-chat-mention-name">{c.name.clone()}</span>
                                " "
                                <span class="atelier-chat-mention-id">{format!("@{}", c.id)}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
    .into_any()
}
