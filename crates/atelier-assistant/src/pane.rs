//! The [`AssistantPane`] component: the actions, the free prompt, the
//! answer as it streams, the preview with Accept and Reject, and Undo.

use crate::collaborator::Collaborator;
use crate::diff::Span;
use crate::endpoint::Endpoint;
use crate::i18n::{Lang, Strings};
use crate::outcome::ProseUse;
use crate::pane_core::{AssistantCore, Phase, Signals};
use crate::preview::{BlockPreview, Change};
use crate::transport::{FetchTransport, Transport};
use atelier_ai::prompts::{Action, Lang as To};
use atelier_doc::Document;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

thread_local! {
    static NEXT_PANE: Cell<u64> = const { Cell::new(1) };
}

/// The actions on the selection, with the names tests and styles use.
fn selection_actions() -> [(Action, &'static str); 5] {
    [
        (Action::Improve, "improve"),
        (Action::FixSpelling, "fix-spelling"),
        (Action::Simplify, "simplify"),
        (Action::Shorten, "shorten"),
        (Action::Rephrase, "rephrase"),
    ]
}

/// The actions on the document or at the caret.
fn document_actions() -> [(Action, &'static str); 3] {
    [
        (Action::Continue, "continue"),
        (Action::Summarize, "summarize"),
        (Action::ActionItems, "action-items"),
    ]
}

/// The assistant pane of one document.
///
/// It opens no connection to the document: the host syncs `doc` and gives
/// the pane a [`Collaborator`] (the editor's agents' door, or
/// [`crate::collaborator::DocCollaborator`]) through which it reads the
/// user's selection and applies accepted edits as the assistant. Its only
/// I/O is the AI request, through `transport` (the browser's `fetch` by
/// default).
///
/// ```no_run
/// use atelier_assistant::{AssistantPane, collaborator::DocCollaborator, endpoint::Endpoint};
/// use leptos::prelude::*;
/// use std::rc::Rc;
/// let doc = Rc::new(atelier_doc::Document::new());
/// let assistant = Rc::new(DocCollaborator::new(doc.clone(), None));
/// let endpoint = Endpoint {
///     url: "http://localhost:8080/ai/v1/chat/completions".into(),
///     document: "notes".into(),
///     ..Default::default()
/// };
/// leptos::mount::mount_to_body(move || {
///     view! { <AssistantPane doc=doc.clone() collaborator=assistant.clone() endpoint=endpoint.clone() /> }
/// });
/// ```
#[component]
pub fn AssistantPane(
    /// The document the assistant works on, synced by the host. The pane
    /// reads it (a request-time copy per run) and never writes to it but
    /// through `collaborator`.
    doc: Rc<Document>,
    /// Where the user's selection is read and how accepted edits are
    /// applied, as the assistant.
    collaborator: Rc<dyn Collaborator>,
    /// Where requests go: Atelier's `/ai/v1/chat/completions` (with the
    /// document's name and the user's token) or La Suite Docs' endpoint.
    endpoint: Endpoint,
    /// How requests are sent; the browser's `fetch` when absent (tests
    /// give a transport of their own).
    #[prop(optional)]
    transport: Option<Rc<dyn Transport>>,
    /// Interface language (`fr`, `de`, `nl`, `en`) of the labels; the
    /// model answers in the text's language.
    #[prop(optional)]
    lang: Lang,
    /// Read only: actions are off and nothing is applied (the user may
    /// not write the document).
    #[prop(into, optional)]
    readonly: Signal<bool>,
    /// Receives the pane's core once mounted: the host's handle to run
    /// actions, accept, reject and hear the pane's events.
    #[prop(optional)]
    on_ready: Option<Rc<dyn Fn(Rc<AssistantCore>)>>,
) -> impl IntoView {
    let strings = lang.assistant();
    let signals = Signals {
        phase: RwSignal::new(Phase::Idle),
        can_undo: RwSignal::new(false),
        stale_tick: RwSignal::new(0),
    };
    let transport = transport.unwrap_or_else(|| Rc::new(FetchTransport));
    let core = AssistantCore::new(
        doc.clone(),
        collaborator,
        transport,
        endpoint,
        lang,
        signals,
    );
    let key = NEXT_PANE.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    let observer = format!("atelier-assistant-{key}");
    // The preview marks blocks someone changes while it is shown. The
    // observer runs inside the transaction: it only bumps a counter, and
    // the effect below reads the document afterwards.
    let tick = signals.stale_tick;
    doc.observe_blocks(&observer, move |_| {
        tick.try_update(|t| *t += 1);
    });
    let stored = StoredValue::new_local(core.clone());
    Effect::new(move |_| {
        signals.stale_tick.track();
        stored.with_value(|c| c.recheck());
    });
    Effect::new(move |_| {
        let ro = readonly.get();
        stored.with_value(|c| c.set_readonly(ro));
    });
    let observed = StoredValue::new_local((doc.clone(), observer));
    on_cleanup(move || {
        if let Some((doc, key)) = observed.try_get_value() {
            doc.unobserve_blocks(&key);
        }
        if let Some(c) = stored.try_get_value() {
            c.unmount();
        }
    });
    if let Some(cb) = on_ready {
        cb(core);
    }

    let prompt = RwSignal::new(String::new());
    let translate_to = RwSignal::new("fr".to_owned());
    let other_lang = RwSignal::new(String::new());
    let running = Memo::new(move |_| matches!(signals.phase.get(), Phase::Streaming { .. }));
    let off = move || readonly.get() || running.get();
    let prompt_lang = lang;

    let action_button = move |action: Action, name: &'static str| {
        let label = action.label(prompt_lang);
        let act = action.clone();
        view! {
            <button type="button" class="atelier-assistant-action" data-action=name
                disabled=off on:click=move |_| stored.with_value(|c| c.run(act.clone()))>
                {label}
            </button>
        }
    };
    let translate = move |_| {
        let target = translate_to.get_untracked();
        let action = match To::parse_tag(&target) {
            Some(l) if target != "other" => Action::Translate(l),
            _ => {
                let name = other_lang.get_untracked();
                if name.trim().is_empty() {
                    return;
                }
                Action::TranslateTo(name.trim().to_owned())
            }
        };
        stored.with_value(|c| c.run(action));
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = prompt.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        stored.with_value(|c| c.ask(&text));
        prompt.set(String::new());
    };

    view! {
        <section class="atelier-assistant" lang=lang.tag() aria-label=strings.panel
            data-readonly=move || readonly.get().to_string()>
            <h2 class="atelier-assistant-title">{strings.panel}</h2>
            {move || readonly.get().then(|| view! {
                <p class="atelier-assistant-readonly">{strings.read_only}</p>
            })}
            <div class="atelier-assistant-actions" role="group" aria-label=strings.on_selection>
                <h3 class="atelier-assistant-heading">{strings.on_selection}</h3>
                {selection_actions().into_iter().map(|(a, n)| action_button(a, n)).collect_view()}
                <span class="atelier-assistant-translate">
                    <label>
                        <span class="atelier-assistant-label">{strings.translate_to}</span>
                        <select class="atelier-assistant-lang"
                            on:change=move |ev| translate_to.set(event_target_value(&ev))
                            prop:value=move || translate_to.get()>
                            {[To::Fr, To::De, To::Nl, To::En].into_iter().map(|l| {
                                let tag = match l { To::Fr => "fr", To::De => "de", To::Nl => "nl", To::En => "en" };
                                view! { <option value=tag>{Action::Translate(l).label(prompt_lang)}</option> }
                            }).collect_view()}
                            <option value="other">{strings.other_language}</option>
                        </select>
                    </label>
                    {move || (translate_to.get() == "other").then(|| view! {
                        <input type="text" class="atelier-assistant-other-lang"
                            aria-label=strings.language_name
                            prop:value=move || other_lang.get()
                            on:input=move |ev| other_lang.set(event_target_value(&ev)) />
                    })}
                    <button type="button" class="atelier-assistant-action" data-action="translate"
                        disabled=off on:click=translate>{strings.translate}</button>
                </span>
            </div>
            <div class="atelier-assistant-actions" role="group" aria-label=strings.on_document>
                <h3 class="atelier-assistant-heading">{strings.on_document}</h3>
                {document_actions().into_iter().map(|(a, n)| action_button(a, n)).collect_view()}
            </div>
            <form class="atelier-assistant-prompt" on:submit=send>
                <label class="atelier-assistant-label" for=format!("atelier-assistant-prompt-{key}")>
                    {strings.prompt}
                </label>
                <textarea id=format!("atelier-assistant-prompt-{key}") rows="2"
                    placeholder=strings.prompt_placeholder
                    prop:value=move || prompt.get()
                    on:input=move |ev| prompt.set(event_target_value(&ev))
                    disabled=off></textarea>
                <button type="submit" class="atelier-assistant-send" disabled=off>{strings.send}</button>
            </form>
            <div class="atelier-assistant-output" role="region" aria-live="polite"
                aria-label=strings.conversation>
                {move || phase_view(signals.phase.get(), strings, stored)}
            </div>
            {move || signals.can_undo.get().then(|| view! {
                <button type="button" class="atelier-assistant-undo" disabled=off
                    on:click=move |_| stored.with_value(|c| c.undo())>{strings.undo}</button>
            })}
        </section>
    }
}

fn phase_view(
    phase: Phase,
    strings: &'static Strings,
    core: StoredValue<Rc<AssistantCore>, LocalStorage>,
) -> AnyView {
    match phase {
        Phase::Idle => view! { <p class="atelier-assistant-empty">{strings.empty}</p> }.into_any(),
        Phase::Streaming {
            request,
            text,
            tool_chars,
            waiting,
        } => {
            let status = if waiting {
                strings.waiting.to_owned()
            } else if tool_chars > 0 {
                strings.preparing_edits.format(tool_chars)
            } else {
                strings.writing.to_owned()
            };
            view! {
                <div class="atelier-assistant-run" data-phase="streaming">
                    <p class="atelier-assistant-request">{request}</p>
                    <p class="atelier-assistant-status" role="status">{status}</p>
                    <p class="atelier-assistant-answer">{text}</p>
                    <button type="button" class="atelier-assistant-stop"
                        on:click=move |_| core.with_value(|c| c.stop())>{strings.stop}</button>
                </div>
            }
            .into_any()
        }
        Phase::Review {
            request,
            blocks,
            stale,
            note,
            prose,
        } => view! {
            <div class="atelier-assistant-run" data-phase="review">
                <p class="atelier-assistant-request">{request}</p>
                <h3 class="atelier-assistant-heading">{strings.preview}</h3>
                <p class="atelier-assistant-private">{strings.preview_private}</p>
                <ol class="atelier-assistant-preview">
                    {blocks.into_iter().map(|b| {
                        let is_stale = b.id.as_ref().is_some_and(|id| stale.contains(id));
                        block_view(b, is_stale, strings)
                    }).collect_view()}
                </ol>
                {note.map(|n| view! { <p class="atelier-assistant-note">{n}</p> })}
                {(!prose.trim().is_empty()).then(|| view! { <p class="atelier-assistant-answer">{prose}</p> })}
                <div class="atelier-assistant-decide">
                    <button type="button" class="atelier-assistant-accept"
                        on:click=move |_| core.with_value(|c| c.accept())>{strings.accept}</button>
                    <button type="button" class="atelier-assistant-reject"
                        on:click=move |_| core.with_value(|c| c.reject())>{strings.reject}</button>
                </div>
            </div>
        }
        .into_any(),
        Phase::Prose {
            request,
            text,
            can_replace,
            note,
        } => view! {
            <div class="atelier-assistant-run" data-phase="prose">
                <p class="atelier-assistant-request">{request}</p>
                <p class="atelier-assistant-answer">{text}</p>
                {note.map(|n| view! { <p class="atelier-assistant-note">{n}</p> })}
                <div class="atelier-assistant-decide">
                    <button type="button" class="atelier-assistant-insert"
                        on:click=move |_| core.with_value(|c| c.use_prose(ProseUse::InsertBelow))>
                        {strings.insert_below}
                    </button>
                    {can_replace.then(|| view! {
                        <button type="button" class="atelier-assistant-replace"
                            on:click=move |_| core.with_value(|c| c.use_prose(ProseUse::Replace))>
                            {strings.replace_selection}
                        </button>
                    })}
                    <button type="button" class="atelier-assistant-reject"
                        on:click=move |_| core.with_value(|c| c.reject())>{strings.reject}</button>
                </div>
            </div>
        }
        .into_any(),
        Phase::Notice { lines, error } => {
            let role = if error.is_some() { "alert" } else { "status" };
            view! {
                <div class="atelier-assistant-notice" role=role data-error=error.unwrap_or_default()>
                    {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
                </div>
            }
            .into_any()
        }
    }
}

fn block_view(b: BlockPreview, stale: bool, strings: &'static Strings) -> impl IntoView {
    let (change, label) = match b.change {
        Change::Changed => ("changed", strings.block_changed),
        Change::Added => ("added", strings.block_added),
        Change::Deleted => ("deleted", strings.block_deleted),
    };
    let spans = b
        .spans
        .into_iter()
        .map(|s| match s {
            Span::Same(t) => view! { <span>{t}</span> }.into_any(),
            Span::Deleted(t) => view! { <del aria-label=strings.deleted_text>{t}</del> }.into_any(),
            Span::Inserted(t) => {
                view! { <ins aria-label=strings.inserted_text>{t}</ins> }.into_any()
            }
        })
        .collect_view();
    view! {
        <li class="atelier-assistant-block" data-change=change data-kind=b.kind
            data-stale=stale.to_string()>
            <span class="atelier-assistant-change">{label}</span>
            <p class="atelier-assistant-text">{spans}</p>
            {stale.then(|| view! { <p class="atelier-assistant-stale">{strings.block_stale}</p> })}
        </li>
    }
}
