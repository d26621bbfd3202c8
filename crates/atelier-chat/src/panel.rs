//! The [`ChatPanel`] component: presence and typing from the host, the
//! virtualized log, "jump to latest", the reaction picker and the composer.

use crate::chat_log::View;
use crate::composer::Composer;
use crate::core::{
    Callbacks, ChatCore, CountCallback, Inputs, MessageCallback, TypingCallback, Ui, next_key,
};
use crate::i18n::Lang;
use crate::people::{ChatPeer, ChatUser, color_for, present, typing_summary};
use crate::reaction_picker::ReactionPicker;
use crate::timestamps::Clock;
use atelier_doc::Document;
use leptos::html;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yrs::StateVector;

/// The chat panel of one document's chat.
///
/// It renders from the chat stored in `doc` (a `Y.Array` named `chat`,
/// see [`atelier_doc::chat`]) and re-renders after every transaction on
/// it, whoever makes it: this panel, a transport applying a peer's update,
/// another panel on the same document. It opens no connection: the host
/// syncs `doc` (the document `D:chat` beside the text `D`) and feeds the
/// panel presence, connection and acknowledgement state.
///
/// ```no_run
/// use atelier_chat::{ChatPanel, ChatUser};
/// use leptos::prelude::*;
/// use std::rc::Rc;
/// let doc = Rc::new(atelier_doc::Document::new());
/// let me = ChatUser { id: "u1".into(), name: "Alice".into(), color: "#1f6fb2".into() };
/// leptos::mount::mount_to_body(move || view! { <ChatPanel doc=doc.clone() user=me.clone() /> });
/// ```
#[component]
pub fn ChatPanel(
    /// The chat document (`D:chat`), synced by the host. The panel reads
    /// it, observes it, and writes to it only through
    /// [`atelier_doc::chat::Chat`] (one transaction per message, edit,
    /// deletion or reaction).
    doc: Rc<Document>,
    /// The local user: `id` is written as each message's `author` and
    /// matched against `@id` mentions; `name` is stored as `authorName`.
    user: ChatUser,
    /// The collaborators on the document now (from awareness), the local
    /// user's other tabs included or not: they are listed under "here
    /// now" (one entry per id, without the local user), their `typing`
    /// flags make the typing line, their names and colours win over the
    /// names stored in the chat, and they come first in @mention
    /// completion.
    #[prop(into, optional)]
    peers: Signal<Vec<ChatPeer>>,
    /// Whether the host's connection is up. While `false` a banner says
    /// that messages will be sent on reconnection; sending still works
    /// (the message goes into `doc`, which the host syncs later).
    #[prop(into, default = Signal::stored(true))]
    online: Signal<bool>,
    /// What the server is known to hold of `doc`: its state vector as of
    /// the latest acknowledgement (for example the local state vector
    /// whenever the host's session has no unconfirmed change). A message of
    /// the local user whose CRDT item it does not contain shows "not sent
    /// yet". `None` (the default: no server, or a transport without
    /// acknowledgements) shows nothing as pending.
    #[prop(into, optional)]
    server_state: Signal<Option<StateVector>>,
    /// Read only: no composer, no actions (reactions stay readable). Change
    /// it when the server's answer says the user may not write the chat.
    #[prop(into, optional)]
    readonly: Signal<bool>,
    /// The server refused the chat: like read only, but saying so.
    #[prop(into, optional)]
    denied: Signal<bool>,
    /// Whether the host's first sync of `doc` is done. Messages that
    /// arrive before it are history being loaded: they fire no
    /// `on_message` or `on_mention` and count as read. Default `true` (a
    /// document that is complete when mounted).
    #[prop(into, default = Signal::stored(true))]
    synced: Signal<bool>,
    /// Interface language (`fr`, `de`, `nl`, `en`); times and dates follow
    /// it, refined by the browser's region (`fr-BE`).
    #[prop(optional)]
    lang: Lang,
    /// Called with `true` when the local user starts typing a message and
    /// `false` when they send, empty the composer, leave it, or pause for
    /// four seconds; the host publishes it as the awareness field `typing`.
    #[prop(optional)]
    on_typing: Option<TypingCallback>,
    /// Called once for each new message from someone else that mentions
    /// the local user (`@id`); messages already there when the panel opens
    /// and edits do not count. The element turns it into `atelier-mention`.
    #[prop(optional)]
    on_mention: Option<MessageCallback>,
    /// Called once for each message that arrives after the panel opened
    /// (and after `synced`), local or remote (`atelier-message`).
    #[prop(optional)]
    on_message: Option<MessageCallback>,
    /// Called with the number of messages that arrived while the reader was
    /// scrolled up or the page hidden, each time it changes (`0` once they
    /// reach the bottom with the page visible) (`atelier-unread`).
    #[prop(optional)]
    on_unread: Option<CountCallback>,
    /// Receives the panel's core once mounted: the host's handle for
    /// [`ChatCore::send`], [`ChatCore::focus`] and the rest of its API.
    #[prop(optional)]
    on_ready: Option<Rc<dyn Fn(Rc<ChatCore>)>>,
) -> impl IntoView {
    let strings = lang.chat();
    let key = next_key();
    let ui = Ui {
        view: RwSignal::new(View::All),
        reply_to: RwSignal::new(None),
        editing: RwSignal::new(None),
        picker: RwSignal::new(None),
        confirm_delete: RwSignal::new(None),
        unread: RwSignal::new(0),
        at_bottom: RwSignal::new(true),
        error: RwSignal::new(None),
        revision: RwSignal::new(0),
    };
    let inputs = Inputs {
        peers,
        server_state,
        readonly,
        synced,
    };
    let local_id = user.id.clone();
    let core = Rc::new(ChatCore::new(
        key,
        doc,
        user,
        strings,
        Clock::new(lang),
        inputs,
        ui,
        Callbacks {
            on_typing,
            on_mention,
            on_message,
            on_unread,
        },
    ));
    // Follow the chat from the moment its entries were read, not from
    // when the log element mounts: an update applied in between would
    // otherwise never reach the panel's copy.
    core.start();
    let stored = StoredValue::new_local(core);
    let log_ref = NodeRef::<html::Div>::new();
    let on_ready = StoredValue::new_local(on_ready);
    log_ref.on_load(move |el| {
        if let Some(core) = stored.try_get_value() {
            core.attach(el.unchecked_into());
            if let Some(cb) = on_ready.try_get_value().flatten() {
                cb(core);
            }
        }
    });
    on_cleanup(move || {
        if let Some(core) = stored.try_get_value() {
            core.stop();
        }
    });
    // Rows show names, colours, pending marks and controls from these
    // inputs: re-render the window when one changes.
    Effect::new(move |_| {
        peers.track();
        server_state.track();
        readonly.track();
        ui.editing.track();
        ui.confirm_delete.track();
        if let Some(core) = stored.try_get_value() {
            core.render();
        }
    });

    let local = StoredValue::new(local_id);
    let here = Memo::new(move |_| local.with_value(|me| present(&peers.get(), me)));
    let typing =
        Memo::new(move |_| local.with_value(|me| typing_summary(&peers.get(), me, strings)));
    let is_empty = Memo::new(move |_| {
        ui.revision.track();
        ui.view.track();
        stored
            .try_with_value(|c| c.log.borrow().rows(&ui.view.get_untracked()).is_empty())
            .unwrap_or(true)
    });
    let in_thread = move || matches!(ui.view.get(), View::Thread(_));
    let back = move |_| {
        stored.with_value(|c| {
            c.open_thread(None);
            c.focus();
        });
    };
    let jump = move |_| {
        stored.with_value(|c| {
            c.scroll_to_latest();
            let last = c.timeline.borrow().as_ref().map_or(0, |t| t.len());
            if last > 0 {
                c.focus_row(last - 1);
            }
        });
    };

    view! {
        <section class="atelier-chat" lang=lang.tag() aria-label=strings.panel
            data-readonly=move || readonly.get().to_string()>
            <header class="atelier-chat-header">
                {move || in_thread().then(|| view! {
                    <button type="button" class="atelier-chat-back" on:click=back>
                        <span class="atelier-icon atelier-icon-back" aria-hidden="true"></span>{strings.back}
                    </button>
                    <h2 class="atelier-chat-title">{strings.thread}</h2>
                })}
                <ul class="atelier-chat-presence" aria-label=strings.here>
                    {move || here.get().into_iter().map(|p| {
                        let color = color_for(&p.id, Some(&p.color));
                        let name = if p.name.trim().is_empty() { p.id.clone() } else { p.name.clone() };
                        view! {
                            <li class="atelier-chat-person" data-typing=p.typing.to_string()>
                                <span class="atelier-chat-dot" aria-hidden="true" style:background-color=color></span>
                                {name}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </header>
            {move || (!online.get()).then(|| view! {
                <p class="atelier-chat-banner" role="status">{strings.offline}</p>
            })}
            <div class="atelier-chat-body-wrap">
                <div node_ref=log_ref class="atelier-chat-log" role="log" aria-live="polite"
                    aria-relevant="additions" aria-label=strings.log tabindex="0"></div>
                {move || is_empty.get().then(|| view! {
                    <p class="atelier-chat-empty">{strings.empty}</p>
                })}
                {move || (!ui.at_bottom.get()).then(|| {
                    let n = ui.unread.get();
                    view! {
                        <button type="button" class="atelier-chat-jump" on:click=jump>
                            {strings.jump_latest}
                            {(n > 0).then(|| view! {
                                <span class="atelier-chat-unread-count">
                                    {strings.unread_count.format(n)}
                                </span>
                            })}
                        </button>
                    }
                })}
                <ReactionPicker core=stored />
            </div>
            <p class="atelier-chat-typing">{move || typing.get()}</p>
            {move || if readonly.get() || denied.get() {
                let why = if denied.get() { strings.denied } else { strings.read_only };
                view! { <p class="atelier-chat-readonly">{why}</p> }.into_any()
            } else {
                view! { <Composer core=stored /> }.into_any()
            }}
        </section>
    }
}
