//! `<atelier-assistant>`'s side: [`mount_assistant`] and the
//! [`AssistantMount`] the element (`js/assistant-element.js`) drives.
//!
//! The element names a document `doc` (and `server`, `token`, `protocol`,
//! as the editor does) and opens it through the page's hub, so beside an
//! `<atelier-editor>` of the same document it shares its `Document` and
//! its socket. The pane ([`atelier_assistant::AssistantPane`]) asks the
//! AI endpoint beside the sync server (`ws://host/sync` →
//! `http://host/ai/v1/chat/completions`, or the `ai-url` attribute) with
//! the document's name (`X-Atelier-Document`) and the token; with
//! `mode="docs"` it asks La Suite Docs' own endpoint instead (`ai-url` is
//! then the Docs origin, `doc` the Docs document id).
//!
//! The assistant edits as a collaborator of its own. When an editor of the
//! same document is mounted on the page (feature `editor`), the user's
//! selection is that editor's, and accepted edits go through its agents'
//! door: origin `agent:Assistant`, an undo history of the assistant's, its
//! caret published by the editor's host. Without one, the pane applies
//! the operations to the document itself with the same origin and an
//! undo history of its own, publishes its caret through
//! [`atelier_web::DocHandle::set_agent_presence`], and offers only the
//! actions that need no selection.
//!
//! Events, on the element and on `document`: `atelier-assistant`
//! `{doc, type, …}` (on `document` too when an editor of the document
//! mounted first: each event happens in one pane only) with `type` `applied` (`kept`,
//! `dropped`: the proposal's parts applied and dropped because someone
//! changed their blocks), `rejected`, `undone` or `failed` (`code`: the
//! endpoint's error code such as `rate_limited_user`, `model_missing`,
//! `upstream_unreachable`, or `network`; `message`: the sentence shown),
//! and `atelier-status`.

use crate::{
    NetOptions, fire, fire_status, mount_host, next_mount_key, open_doc, register_mount, set_field,
    status_detail, unregister_mount,
};
use atelier_ai::prompts::{Action, Lang as To};
use atelier_assistant::collaborator::{
    ASSISTANT_COLOR, ASSISTANT_NAME, Collaborator, DocCollaborator, PresenceSink,
};
use atelier_assistant::endpoint::{Endpoint, atelier_ai_url, docs_ai_url};
use atelier_assistant::plan::Mode;
use atelier_assistant::target::{TextPos, TextRange};
use atelier_assistant::{AssistantCore, AssistantPane, Lang, PaneEvent, Phase};
use atelier_doc::{Document, Op};
use atelier_web::{AgentPresence, ConnectionStatus, DocHandle, Subscription, WeakDocHandle};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

/// The assistant through the editor of its document on this page, if one
/// is mounted now, else through the document itself. Looked up at each
/// call: the editor may mount after the pane, or go.
struct PageCollaborator {
    doc_id: Option<u64>,
    direct: DocCollaborator,
}

impl PageCollaborator {
    #[cfg(feature = "editor")]
    fn editor(&self) -> Option<atelier_assistant::EditorCollaborator> {
        let core = crate::editor_element::editor_core_of_doc(self.doc_id?)?;
        Some(atelier_assistant::EditorCollaborator::new(core))
    }

    #[cfg(not(feature = "editor"))]
    fn editor(&self) -> Option<DocCollaborator> {
        let _ = self.doc_id;
        None
    }
}

impl Collaborator for PageCollaborator {
    fn selection(&self) -> Option<TextRange> {
        self.editor().and_then(|e| e.selection())
    }

    fn apply(&self, ops: &[Op]) -> Result<(), String> {
        match self.editor() {
            Some(e) => e.apply(ops),
            None => self.direct.apply(ops),
        }
    }

    fn undo(&self) -> bool {
        match self.editor() {
            Some(e) => e.undo(),
            None => self.direct.undo(),
        }
    }

    fn can_undo(&self) -> bool {
        match self.editor() {
            Some(e) => e.can_undo(),
            None => self.direct.can_undo(),
        }
    }

    fn show(&self, at: Option<TextPos>) {
        match self.editor() {
            Some(e) => e.show(at),
            None => self.direct.show(at),
        }
    }

    fn leave(&self) {
        if let Some(e) = self.editor() {
            e.leave();
        }
        self.direct.leave();
    }
}

/// Publishes the assistant's presence (no editor on the page) in the
/// document's awareness, under a client id of its own.
fn presence_sink(weak: WeakDocHandle, slot: String) -> PresenceSink {
    Rc::new(move |shown: Option<Option<TextPos>>| {
        let Some(h) = weak.upgrade() else { return };
        match shown {
            Some(caret) => {
                let presence = AgentPresence {
                    name: ASSISTANT_NAME.to_owned(),
                    color: ASSISTANT_COLOR.to_owned(),
                    cursor: caret.map(|p| ((p.block.clone(), p.offset), (p.block, p.offset))),
                };
                h.set_agent_presence(&slot, Some(&presence));
            }
            None => h.set_agent_presence(&slot, None),
        }
    })
}

/// The action a name stands for (`translate` takes a language tag, `fr`,
/// or a language's name; `prompt` the request).
fn action_of(name: &str, arg: Option<String>) -> Result<Action, String> {
    let arg = arg.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    Ok(match name {
        "improve" => Action::Improve,
        "fix-spelling" => Action::FixSpelling,
        "simplify" => Action::Simplify,
        "shorten" => Action::Shorten,
        "rephrase" => Action::Rephrase,
        "continue" => Action::Continue,
        "summarize" => Action::Summarize,
        "action-items" => Action::ActionItems,
        "translate" => {
            let to = arg.ok_or("translate needs a language (fr, de, nl, en or a name)")?;
            match To::parse_tag(&to) {
                Some(l) if to.len() <= 5 => Action::Translate(l),
                _ => Action::TranslateTo(to),
            }
        }
        "prompt" => Action::Prompt(arg.ok_or("prompt needs the request's text")?),
        other => {
            return Err(format!(
                "unknown action \"{other}\": improve, fix-spelling, simplify, shorten, rephrase, translate, continue, summarize, action-items or prompt"
            ));
        }
    })
}

/// The events' detail for a pane event.
fn event_detail(doc_name: &str, e: &PaneEvent) -> js_sys::Object {
    let detail = js_sys::Object::new();
    set_field(&detail, "doc", &doc_name.into());
    let kind = match e {
        PaneEvent::Applied { kept, dropped } => {
            set_field(&detail, "kept", &JsValue::from_f64(*kept as f64));
            set_field(&detail, "dropped", &JsValue::from_f64(*dropped as f64));
            "applied"
        }
        PaneEvent::Rejected => "rejected",
        PaneEvent::Undone => "undone",
        PaneEvent::Failed { code, message } => {
            set_field(&detail, "code", &code.as_str().into());
            set_field(&detail, "message", &message.as_str().into());
            "failed"
        }
    };
    set_field(&detail, "type", &kind.into());
    detail
}

/// One mounted assistant pane, driven by the `<atelier-assistant>` element.
#[wasm_bindgen]
pub struct AssistantMount {
    key: u64,
    doc_name: String,
    handle: Option<DocHandle>,
    networked: bool,
    subscriptions: Vec<Subscription>,
    core: Rc<RefCell<Option<Rc<AssistantCore>>>>,
    unmount: Option<Box<dyn std::any::Any>>,
}

/// Mounts an assistant pane into `host` (light DOM) on document
/// `doc_name`, opened through the page's hub as the editor opens it
/// (`server`, `token`, `protocol`, `user_name`, `user_color`). `mode` is
/// `atelier` (default) or `docs`; `ai_url` replaces the AI endpoint's
/// address (in `docs` mode: the Docs origin); `model` names the model to
/// ask for; `csrf_token` is Docs' CSRF token (`docs` mode).
#[wasm_bindgen(js_name = mountAssistant)]
#[allow(clippy::too_many_arguments)]
pub fn mount_assistant(
    host: HtmlElement,
    doc_name: String,
    readonly: bool,
    lang: String,
    server: Option<String>,
    token: Option<String>,
    protocol: Option<String>,
    user_name: Option<String>,
    user_color: Option<String>,
    mode: Option<String>,
    ai_url: Option<String>,
    model: Option<String>,
    csrf_token: Option<String>,
) -> AssistantMount {
    let bearer = token.clone();
    let sync_server = server.clone();
    let net = NetOptions::from_attributes(server, token, protocol, user_name, user_color);
    let networked = net.is_some();
    let (handle, error) = match open_doc(&doc_name, net, true) {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let doc = handle.as_ref().map_or_else(
        || {
            let doc = Rc::new(Document::new());
            if !networked {
                doc.ensure_initialized();
            }
            doc
        },
        DocHandle::document,
    );
    let mode = Mode::from_attribute(mode.as_deref());
    let ai_url = ai_url.filter(|u| !u.trim().is_empty());
    let url = match mode {
        Mode::Atelier => ai_url
            .or_else(|| sync_server.as_deref().and_then(atelier_ai_url))
            .unwrap_or_else(|| "/ai/v1/chat/completions".to_owned()),
        Mode::Docs => docs_ai_url(ai_url.as_deref().unwrap_or(""), &doc_name),
    };
    let endpoint = Endpoint {
        mode,
        url,
        token: bearer,
        document: doc_name.clone(),
        csrf_token: csrf_token.filter(|t| !t.is_empty()),
        model: model.filter(|m| !m.is_empty()),
        max_tokens: None,
    };
    let key = next_mount_key();
    let weak: WeakDocHandle = handle
        .as_ref()
        .map(DocHandle::downgrade)
        .unwrap_or_default();
    let direct = DocCollaborator::new(
        doc.clone(),
        Some(presence_sink(weak, format!("assistant-{key}"))),
    );
    let collaborator: Rc<dyn Collaborator> = Rc::new(PageCollaborator {
        doc_id: handle.as_ref().map(DocHandle::id),
        direct,
    });
    let core: Rc<RefCell<Option<Rc<AssistantCore>>>> = Rc::default();
    let slot = core.clone();
    let name = doc_name.clone();
    let ready: Rc<dyn Fn(Rc<AssistantCore>)> = Rc::new(move |c: Rc<AssistantCore>| {
        let name = name.clone();
        c.set_event_listener(Some(Rc::new(move |e: &PaneEvent| {
            // Each of these happens in one pane only: `document` hears it
            // even when an editor of the document mounted first.
            if let Some(host) = mount_host(key) {
                fire(&host, "atelier-assistant", &event_detail(&name, e), true);
            }
        })));
        *slot.borrow_mut() = Some(c);
    });
    let readonly_signal = ArcRwSignal::new(
        readonly
            || matches!(
                handle.as_ref().map(DocHandle::status),
                Some(ConnectionStatus::ReadOnly | ConnectionStatus::Denied)
            ),
    );
    let ro = readonly_signal.clone();
    let lang = Lang::from_tag(&lang);
    let view = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <AssistantPane doc=doc.clone() collaborator=collaborator.clone()
                endpoint=endpoint.clone() lang=lang readonly=Signal::from(ro.clone())
                on_ready=ready.clone() />
        }
    });
    register_mount(key, &host, handle.as_ref().map(DocHandle::id));
    let mut subscriptions = Vec::new();
    match (&handle, error) {
        (_, Some(error)) => {
            let detail = status_detail(&doc_name, "denied", "unavailable", Some(&error));
            fire(&host, "atelier-status", &detail, true);
        }
        (Some(h), None) if networked => {
            let weak = h.downgrade();
            let on_persistence = weak.clone();
            subscriptions.push(h.on_status(move |status| {
                let ro = readonly
                    || matches!(
                        status,
                        ConnectionStatus::ReadOnly | ConnectionStatus::Denied
                    );
                if readonly_signal.get_untracked() != ro {
                    readonly_signal.set(ro);
                }
                fire_status(key, &weak);
            }));
            subscriptions.push(h.on_persistence(move |_| fire_status(key, &on_persistence)));
            fire_status(key, &h.downgrade());
        }
        _ => {}
    }
    AssistantMount {
        key,
        doc_name,
        handle,
        networked,
        subscriptions,
        core,
        unmount: Some(Box::new(view)),
    }
}

#[wasm_bindgen]
impl AssistantMount {
    fn core(&self) -> Result<Rc<AssistantCore>, JsError> {
        self.core
            .borrow()
            .clone()
            .ok_or_else(|| JsError::new("atelier-assistant is not mounted yet"))
    }

    /// Runs the action `name` (`improve`, `fix-spelling`, `simplify`,
    /// `shorten`, `rephrase`, `translate` with `arg` a language, `continue`,
    /// `summarize`, `action-items`, `prompt` with `arg` the request) on the
    /// user's selection, as the pane's buttons do.
    pub fn run(&self, name: &str, arg: Option<String>) -> Result<(), JsError> {
        let action = action_of(name, arg).map_err(|e| JsError::new(&e))?;
        self.core()?.run(action);
        Ok(())
    }

    /// Applies the proposal under review (as the pane's Accept).
    pub fn accept(&self) -> Result<(), JsError> {
        self.core()?.accept();
        Ok(())
    }

    /// Drops the proposal under review.
    pub fn reject(&self) -> Result<(), JsError> {
        self.core()?.reject();
        Ok(())
    }

    /// Stops the answer being written.
    pub fn stop(&self) -> Result<(), JsError> {
        self.core()?.stop();
        Ok(())
    }

    /// Takes back the assistant's last applied change.
    pub fn undo(&self) -> Result<(), JsError> {
        self.core()?.undo();
        Ok(())
    }

    /// What the pane shows: `idle`, `streaming`, `review`, `prose` or
    /// `notice` (`""` before it is mounted).
    #[wasm_bindgen(getter)]
    pub fn phase(&self) -> String {
        let Some(core) = self.core.borrow().clone() else {
            return String::new();
        };
        match core.phase() {
            Phase::Idle => "idle",
            Phase::Streaming { .. } => "streaming",
            Phase::Review { .. } => "review",
            Phase::Prose { .. } => "prose",
            Phase::Notice { .. } => "notice",
        }
        .to_owned()
    }

    /// Whether the pane is mounted.
    #[wasm_bindgen(getter)]
    pub fn ready(&self) -> bool {
        self.core.borrow().is_some()
    }

    /// The document's name.
    #[wasm_bindgen(getter, js_name = docName)]
    pub fn doc_name(&self) -> String {
        self.doc_name.clone()
    }

    /// The connection status: `local` without a server, else `connecting`,
    /// `synced`, `offline`, `read-only` or `denied`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        match &self.handle {
            _ if !self.networked => "local",
            Some(h) => h.status().as_str(),
            None => "denied",
        }
        .to_owned()
    }

    /// Removes the pane: a request on its way stops, the assistant leaves.
    pub fn unmount(&mut self) {
        unregister_mount(self.key);
        self.subscriptions.clear();
        self.core.borrow_mut().take();
        self.unmount.take();
        self.handle.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_as_the_pane_names_them() {
        assert_eq!(action_of("rephrase", None), Ok(Action::Rephrase));
        assert_eq!(
            action_of("translate", Some("de".into())),
            Ok(Action::Translate(To::De))
        );
        assert_eq!(
            action_of("translate", Some("Breton".into())),
            Ok(Action::TranslateTo("Breton".into()))
        );
        assert!(action_of("translate", None).is_err());
        assert!(action_of("explode", None).is_err());
    }
}
