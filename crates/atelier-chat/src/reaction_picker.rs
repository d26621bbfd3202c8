//! The reaction picker: a few common emoji and those already used in the
//! chat, as a grid of toggle buttons. It opens with focus on its first
//! button; arrows move, Home/End jump, Enter or Space picks, Escape (or
//! leaving it) closes it and puts focus back on the message's button.

use crate::core::ChatCore;
use leptos::html;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};

/// Offered first, in this order, before the emoji already used.
pub const COMMON_EMOJI: &[&str] = &["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "✅", "🚀"];

/// Buttons per row of the grid (what Up and Down move by).
const COLUMNS: usize = 5;

/// How many emoji the picker offers at most.
const MAX_EMOJI: usize = 20;

/// The picker's emoji: the common ones, then the used ones not among them.
pub fn picker_emoji(used: &[String]) -> Vec<String> {
    let mut out: Vec<String> = COMMON_EMOJI.iter().map(|e| (*e).to_owned()).collect();
    for e in used {
        if out.len() >= MAX_EMOJI {
            break;
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// The button index a key moves to in a grid of `n` buttons, from `i`.
pub fn grid_move(key: &str, i: usize, n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let last = n - 1;
    Some(match key {
        "ArrowRight" => (i + 1).min(last),
        "ArrowLeft" => i.saturating_sub(1),
        "ArrowDown" => (i + COLUMNS).min(last),
        "ArrowUp" => i.saturating_sub(COLUMNS),
        "Home" => 0,
        "End" => last,
        _ => return None,
    })
}

type Core = StoredValue<Rc<ChatCore>, LocalStorage>;

/// The reaction picker of panel `core`, open while `ui.picker` names a
/// message.
#[component]
pub(crate) fn ReactionPicker(
    /// The panel.
    core: Core,
) -> impl IntoView {
    let Some((strings, ui)) = core.try_with_value(|c| (c.strings, c.ui)) else {
        return ().into_any();
    };
    let grid = NodeRef::<html::Div>::new();
    let buttons = move || -> Vec<HtmlElement> {
        grid.get_untracked()
            .and_then(|g| g.query_selector_all("button").ok())
            .map(|l| {
                (0..l.length())
                    .filter_map(|i| l.item(i))
                    .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Focus the first button once the picker is in the DOM.
    Effect::new(move |_| {
        if ui.picker.get().is_some() {
            request_animation_frame(move || {
                if let Some(b) = buttons().first() {
                    let _ = b.focus();
                }
            });
        }
    });
    let close = move || {
        let Some(id) = ui.picker.get_untracked() else {
            return;
        };
        ui.picker.set(None);
        core.with_value(|c| {
            let t = c.timeline.borrow();
            if let Some(b) = t
                .as_ref()
                .and_then(|t| t.row_element(&id))
                .and_then(|r| r.query_selector("[data-action=\"react\"]").ok().flatten())
            {
                crate::timeline::focus(&b);
            }
        });
    };
    let pick = move |emoji: String| {
        let Some(id) = ui.picker.get_untracked() else {
            return;
        };
        core.with_value(|c| {
            if let Err(e) = c.toggle_reaction(&id, &emoji) {
                ui.error.set(Some(c.describe(&e)));
            }
        });
        close();
    };
    let on_keydown = move |ev: KeyboardEvent| {
        let list = buttons();
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let i = list
            .iter()
            .position(|b| {
                active
                    .as_ref()
                    .is_some_and(|a| a == b.as_ref() as &web_sys::Element)
            })
            .unwrap_or(0);
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        } else if let Some(j) = grid_move(&ev.key(), i, list.len()) {
            ev.prevent_default();
            if let Some(b) = list.get(j) {
                let _ = b.focus();
            }
        }
    };
    let on_focusout = move |ev: web_sys::FocusEvent| {
        let inside = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .zip(grid.get_untracked())
            .is_some_and(|(n, g)| g.contains(Some(&n)));
        if !inside {
            ui.picker.set(None);
        }
    };

    view! {
        {move || ui.picker.get().map(|id| {
            let (emoji, mine) = core
                .try_with_value(|c| {
                    let log = c.log.borrow();
                    let mine: Vec<String> = log
                        .get(&id)
                        .map(|m| {
                            m.reactions
                                .iter()
                                .filter(|(_, u)| u.contains(&c.user.id))
                                .map(|(e, _)| e.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    (picker_emoji(&log.used_emoji()), mine)
                })
                .unwrap_or_default();
            view! {
                <div node_ref=grid class="atelier-chat-picker" role="dialog" aria-label=strings.picker
                    on:keydown=on_keydown on:focusout=on_focusout>
                    {emoji.into_iter().map(|e| {
                        let pressed = mine.contains(&e).to_string();
                        let label = e.clone();
                        view! {
                            <button type="button" class="atelier-chat-picker-emoji"
                                aria-pressed=pressed aria-label=label
                                on:click=move |_| pick(e.clone())>{e.clone()}</button>
                        }
                    }).collect_view()}
                </div>
            }
        })}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_emoji_follow_the_common_ones() {
        let used = vec!["🎉".to_owned(), "🦀".to_owned(), "🦀".to_owned()];
        let all = picker_emoji(&used);
        assert_eq!(&all[..COMMON_EMOJI.len()], COMMON_EMOJI);
        assert_eq!(all.len(), COMMON_EMOJI.len() + 1);
        assert_eq!(all.last().map(String::as_str), Some("🦀"));
        let many: Vec<String> = (0..50).map(|i| format!("e{i}")).collect();
        assert_eq!(picker_emoji(&many).len(), MAX_EMOJI);
    }

    #[test]
    fn arrows_move_in_the_grid() {
        assert_eq!(grid_move("ArrowRight", 0, 12), Some(1));
        assert_eq!(grid_move("ArrowRight", 11, 12), Some(11));
        assert_eq!(grid_move("ArrowDown", 8, 12), Some(11));
        assert_eq!(grid_move("ArrowUp", 3, 12), Some(0));
        assert_eq!(grid_move("End", 3, 12), Some(11));
        assert_eq!(grid_move("x", 3, 12), None);
        assert_eq!(grid_move("Home", 0, 0), None);
    }
}
