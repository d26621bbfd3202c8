//! [`AssistantCore`]: what one mounted pane holds and does. A run goes
//! plan → request → streamed answer → outcome; the user then accepts
//! (applied through the [`Collaborator`], as the assistant), rejects (no
//! trace in the shared document) or, for prose, picks where it goes.
//!
//! The view reads [`Phase`] from a signal; the plan (with its
//! request-time copy of the document) and the answer being read stay here,
//! outside the reactive graph.

use crate::collaborator::Collaborator;
use crate::endpoint::{Endpoint, Exchange, build_request};
use crate::error::{AssistantError, ErrorKind};
use crate::i18n::{Lang, Strings, fill};
use crate::outcome::{Note, Outcome, ProseOffer, ProseUse, Review, outcome, use_prose};
use crate::plan::{Plan, PlanError, plan};
use crate::preview::BlockPreview;
use crate::response::ResponseReader;
use crate::transport::{Abort, Transport, TransportEvent};
use atelier_ai::StreamUpdate;
use atelier_ai::prompts::Action;
use atelier_doc::{BlockId, Document};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// How many exchanges the pane remembers for follow-up prompts.
const HISTORY_KEPT: usize = 8;

/// What the pane shows now.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Nothing running, nothing to decide.
    Idle,
    /// An answer is on its way.
    Streaming {
        /// What was asked (an action's label or the prompt).
        request: String,
        /// The text so far.
        text: String,
        /// Characters of tool-call arguments so far.
        tool_chars: usize,
        /// No byte of the answer yet.
        waiting: bool,
    },
    /// Edits to accept or reject.
    Review {
        /// What was asked.
        request: String,
        /// The affected blocks.
        blocks: Vec<BlockPreview>,
        /// Blocks someone changed since the request (they will be skipped).
        stale: Vec<BlockId>,
        /// What to say beside the edits.
        note: Option<String>,
        /// Words the model wrote beside its edits.
        prose: String,
    },
    /// Prose to insert (or use as a replacement of the selection).
    Prose {
        /// What was asked.
        request: String,
        /// The text.
        text: String,
        /// It may replace the selection.
        can_replace: bool,
        /// What to say beside it.
        note: Option<String>,
    },
    /// The end of a run: what happened.
    Notice {
        /// The sentences.
        lines: Vec<String>,
        /// The error's code, when the run failed (`rate_limited_user`…).
        error: Option<String>,
    },
}

/// What the pane tells its host (the element fires them as DOM events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneEvent {
    /// A proposal was applied: how many of its groups, how many dropped.
    Applied {
        /// Groups applied.
        kept: usize,
        /// Groups dropped because a human changed their blocks.
        dropped: usize,
    },
    /// A proposal was rejected.
    Rejected,
    /// A run failed, with the error's code and the sentence shown.
    Failed {
        /// `rate_limited_user`, `model_missing`, `network`…
        code: String,
        /// The sentence shown.
        message: String,
    },
    /// The assistant's last change was undone.
    Undone,
}

/// Hears the pane's events.
pub type EventCallback = Rc<dyn Fn(&PaneEvent)>;

/// A run on its way.
struct Running {
    id: u64,
    plan: Plan,
    request: String,
    reader: Option<ResponseReader>,
    abort: Option<Abort>,
    tool_chars: usize,
}

/// A finished answer waiting for the user.
struct Pending {
    plan: Plan,
    outcome: Outcome,
}

/// The signals the view reads.
#[derive(Clone, Copy)]
pub(crate) struct Signals {
    pub(crate) phase: RwSignal<Phase>,
    pub(crate) can_undo: RwSignal<bool>,
    pub(crate) stale_tick: RwSignal<u64>,
}

/// One mounted pane: its document, its doors and its run.
pub struct AssistantCore {
    doc: Rc<Document>,
    collaborator: Rc<dyn Collaborator>,
    transport: Rc<dyn Transport>,
    endpoint: RefCell<Endpoint>,
    lang: Lang,
    strings: &'static Strings,
    signals: Signals,
    readonly: Cell<bool>,
    running: RefCell<Option<Running>>,
    pending: RefCell<Option<Pending>>,
    history: RefCell<Vec<Exchange>>,
    next_id: Cell<u64>,
    on_event: RefCell<Option<EventCallback>>,
    me: RefCell<Weak<AssistantCore>>,
}

impl AssistantCore {
    /// A pane's core (the component makes it).
    pub(crate) fn new(
        doc: Rc<Document>,
        collaborator: Rc<dyn Collaborator>,
        transport: Rc<dyn Transport>,
        endpoint: Endpoint,
        lang: Lang,
        signals: Signals,
    ) -> Rc<Self> {
        let core = Rc::new(AssistantCore {
            doc,
            collaborator,
            transport,
            endpoint: RefCell::new(endpoint),
            lang,
            strings: lang.assistant(),
            signals,
            readonly: Cell::new(false),
            running: RefCell::new(None),
            pending: RefCell::new(None),
            history: RefCell::new(Vec::new()),
            next_id: Cell::new(1),
            on_event: RefCell::new(None),
            me: RefCell::new(Weak::new()),
        });
        *core.me.borrow_mut() = Rc::downgrade(&core);
        core
    }

    /// The pane's strings.
    pub fn strings(&self) -> &'static Strings {
        self.strings
    }

    /// What the pane shows now.
    pub fn phase(&self) -> Phase {
        self.signals
            .phase
            .try_get_untracked()
            .unwrap_or(Phase::Idle)
    }

    /// Whether an answer is on its way.
    pub fn is_running(&self) -> bool {
        self.running.borrow().is_some()
    }

    /// Replaces where requests go (the element's attributes changed).
    pub fn set_endpoint(&self, endpoint: Endpoint) {
        *self.endpoint.borrow_mut() = endpoint;
    }

    /// Read only: no run may start, nothing is applied.
    pub fn set_readonly(&self, readonly: bool) {
        self.readonly.set(readonly);
    }

    /// Sets (or with `None` removes) what hears the pane's events.
    pub fn set_event_listener(&self, listener: Option<EventCallback>) {
        *self.on_event.borrow_mut() = listener;
    }

    fn emit(&self, event: PaneEvent) {
        let listener = self.on_event.borrow().clone();
        if let Some(l) = listener {
            l(&event);
        }
    }

    fn set_phase(&self, phase: Phase) {
        self.signals.phase.try_set(phase);
    }

    fn notice(&self, lines: Vec<String>, error: Option<String>) {
        self.set_phase(Phase::Notice { lines, error });
    }

    fn refresh_undo(&self) {
        self.signals.can_undo.try_set(self.collaborator.can_undo());
    }

    /// Runs `action` on the user's selection (or caret, or the document).
    pub fn run(&self, action: Action) {
        if self.readonly.get() {
            self.notice(vec![self.strings.read_only.into()], None);
            return;
        }
        if self.is_running() {
            self.notice(vec![self.strings.busy_here.into()], None);
            return;
        }
        // A new run forgets the previous proposal, as Reject would.
        self.pending.borrow_mut().take();
        let request = match &action {
            Action::Prompt(p) => p.clone(),
            a => a.label(self.lang),
        };
        let selection = self.collaborator.selection();
        let mode = self.endpoint.borrow().mode;
        let plan = match plan(&self.doc, action, selection.clone(), mode) {
            Ok(p) => p,
            Err(e) => {
                let text = match e {
                    PlanError::NoSelection => self.strings.no_selection.to_owned(),
                    PlanError::EmptyDocument => self.strings.empty_document.to_owned(),
                    PlanError::Target(t) => {
                        fill(self.strings.apply_failed, &[("reason", &t.to_string())])
                    }
                };
                self.notice(vec![text], None);
                return;
            }
        };
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let http = {
            let endpoint = self.endpoint.borrow();
            let history = self.history.borrow();
            let conversation = format!("atelier-assistant-{}", self.doc.ydoc().client_id().get());
            let message = format!("{conversation}-{id}");
            build_request(&endpoint, &plan, &history, (&conversation, &message))
        };
        let reader = ResponseReader::new(mode);
        *self.running.borrow_mut() = Some(Running {
            id,
            plan,
            request: request.clone(),
            reader: Some(reader),
            abort: None,
            tool_chars: 0,
        });
        self.set_phase(Phase::Streaming {
            request,
            text: String::new(),
            tool_chars: 0,
            waiting: true,
        });
        // Collaborators see the assistant at work where the user pointed.
        self.collaborator.show(selection.map(|s| s.head));
        let me = self.me.borrow().clone();
        let abort = self.transport.send(
            http,
            Rc::new(move |event| {
                if let Some(core) = me.upgrade() {
                    core.on_transport(id, event);
                }
            }),
        );
        if let Some(r) = self.running.borrow_mut().as_mut().filter(|r| r.id == id) {
            r.abort = Some(abort);
        }
    }

    /// Runs the user's own request.
    pub fn ask(&self, prompt: &str) {
        let prompt = prompt.trim();
        if !prompt.is_empty() {
            self.run(Action::Prompt(prompt.to_owned()));
        }
    }

    /// Stops the answer being written: the request is aborted (the server
    /// then stops the model) and nothing of it is kept.
    pub fn stop(&self) {
        let Some(run) = self.running.borrow_mut().take() else {
            return;
        };
        if let Some(a) = run.abort {
            a.abort();
        }
        self.collaborator.leave();
        self.notice(vec![self.strings.stopped.into()], None);
    }

    fn on_transport(&self, id: u64, event: TransportEvent) {
        let mut guard = self.running.borrow_mut();
        let Some(run) = guard.as_mut().filter(|r| r.id == id) else {
            // A stopped or replaced run: its late events are dropped.
            return;
        };
        let Some(reader) = run.reader.as_mut() else {
            return;
        };
        match event {
            TransportEvent::Head {
                status,
                retry_after,
            } => reader.head(status, retry_after.as_deref()),
            TransportEvent::Body(bytes) => match reader.push(&bytes) {
                Ok(updates) => {
                    for u in &updates {
                        if let StreamUpdate::ToolCallArguments { fragment, .. } = u {
                            run.tool_chars += fragment.chars().count();
                        }
                    }
                    let phase = Phase::Streaming {
                        request: run.request.clone(),
                        text: reader.text().to_owned(),
                        tool_chars: run.tool_chars,
                        waiting: false,
                    };
                    drop(guard);
                    self.set_phase(phase);
                }
                Err(e) => {
                    let run = guard.take();
                    drop(guard);
                    if let Some(a) = run.and_then(|r| r.abort) {
                        a.abort();
                    }
                    self.fail(&e);
                }
            },
            TransportEvent::End => {
                let Some(run) = guard.take() else { return };
                drop(guard);
                self.finish(run);
            }
            TransportEvent::Failed(reason) => {
                guard.take();
                drop(guard);
                self.fail(&AssistantError::new(ErrorKind::Network, reason));
            }
        }
    }

    fn fail(&self, e: &AssistantError) {
        let message = e.describe(self.strings);
        let code = e.code_name();
        self.collaborator.leave();
        self.notice(vec![message.clone()], Some(code.clone()));
        self.emit(PaneEvent::Failed { code, message });
    }

    fn finish(&self, mut run: Running) {
        let Some(reader) = run.reader.take() else {
            return;
        };
        let answer = match reader.finish() {
            Ok(a) => a,
            Err(e) => return self.fail(&e),
        };
        {
            let mut history = self.history.borrow_mut();
            history.push(Exchange {
                request: run.request.clone(),
                answer: answer.text.clone(),
            });
            let extra = history.len().saturating_sub(HISTORY_KEPT);
            history.drain(..extra);
        }
        let result = outcome(&run.plan, &answer);
        self.show_outcome(run.plan, run.request, result);
    }

    fn note_text(&self, note: &Note) -> String {
        let s = self.strings;
        match note {
            Note::EmptyAnswer => s.empty_answer.into(),
            Note::NoChange => s.no_change.into(),
            Note::RefusedCall(reason) => fill(s.refused_call, &[("reason", reason)]),
            Note::RefusedOperations(reasons) => s
                .refused_operations
                .format_with(reasons.len(), &[("reasons", &reasons.join("; "))]),
            Note::PreviewFailed(reason) => fill(s.apply_failed, &[("reason", reason)]),
        }
    }

    fn show_outcome(&self, plan: Plan, request: String, result: Outcome) {
        let phase = match &result {
            Outcome::Edits(Review {
                proposal,
                preview,
                note,
                prose,
            }) => Phase::Review {
                request,
                blocks: preview.clone(),
                stale: proposal.stale_blocks(&self.doc),
                note: note.as_ref().map(|n| self.note_text(n)),
                prose: prose.clone(),
            },
            Outcome::Prose(ProseOffer {
                text,
                replace,
                note,
                ..
            }) => Phase::Prose {
                request,
                text: text.clone(),
                can_replace: replace.is_some(),
                note: note.as_ref().map(|n| self.note_text(n)),
            },
            Outcome::Nothing(note) => {
                self.collaborator.leave();
                self.notice(vec![self.note_text(note)], None);
                return;
            }
        };
        *self.pending.borrow_mut() = Some(Pending {
            plan,
            outcome: result,
        });
        self.set_phase(phase);
    }

    /// Marks again the previewed blocks someone changed since the request
    /// (the view calls it after every change of the document).
    pub fn recheck(&self) {
        let stale = match &*self.pending.borrow() {
            Some(Pending {
                outcome: Outcome::Edits(r),
                ..
            }) => r.proposal.stale_blocks(&self.doc),
            _ => return,
        };
        self.signals.phase.try_update(|p| {
            if let Phase::Review { stale: s, .. } = p
                && *s != stale
            {
                *s = stale;
            }
        });
    }

    /// Turns the prose on offer into edits to review: below the caret's
    /// block, or in place of the selection.
    pub fn use_prose(&self, how: ProseUse) {
        let Some(Pending { plan, outcome: o }) = self.pending.borrow_mut().take() else {
            return;
        };
        let Outcome::Prose(offer) = &o else {
            *self.pending.borrow_mut() = Some(Pending { plan, outcome: o });
            return;
        };
        let request = match self.signals.phase.try_get_untracked() {
            Some(Phase::Prose { request, .. }) => request,
            _ => String::new(),
        };
        let next = use_prose(&plan, offer, how);
        self.show_outcome(plan, request, next);
    }

    /// Applies the proposal under review, as the assistant: the parts
    /// whose blocks nobody changed since the request, in one transaction
    /// and one undo step of the assistant's; the pane says which parts it
    /// dropped.
    pub fn accept(&self) {
        if self.readonly.get() {
            self.notice(vec![self.strings.read_only.into()], None);
            return;
        }
        let Some(pending) = self.pending.borrow_mut().take() else {
            return;
        };
        let Outcome::Edits(review) = &pending.outcome else {
            *self.pending.borrow_mut() = Some(pending);
            return;
        };
        let checked = review.proposal.check(&self.doc);
        let s = self.strings;
        let mut lines: Vec<String> = checked
            .dropped
            .iter()
            .map(|d| fill(s.dropped, &[("text", &d.text)]))
            .collect();
        if checked.ops.is_empty() {
            lines.insert(0, s.nothing_applied.into());
            self.collaborator.leave();
        } else {
            match self.collaborator.apply(&checked.ops) {
                Ok(()) => {
                    lines.insert(0, s.applied.format(checked.kept));
                }
                Err(reason) => {
                    self.collaborator.leave();
                    lines = vec![fill(s.apply_failed, &[("reason", &reason)])];
                    self.notice(lines, None);
                    return;
                }
            }
        }
        self.refresh_undo();
        self.notice(lines, None);
        if !checked.ops.is_empty() {
            self.emit(PaneEvent::Applied {
                kept: checked.kept,
                dropped: checked.dropped.len(),
            });
        }
    }

    /// Drops the proposal: the shared document never saw it.
    pub fn reject(&self) {
        if self.pending.borrow_mut().take().is_some() {
            self.collaborator.leave();
            self.notice(vec![self.strings.rejected.into()], None);
            self.emit(PaneEvent::Rejected);
        }
    }

    /// Takes back the assistant's last applied change.
    pub fn undo(&self) {
        if self.collaborator.undo() {
            self.notice(vec![self.strings.undone.into()], None);
            self.emit(PaneEvent::Undone);
        }
        self.refresh_undo();
    }

    /// The pane goes: any request stops, the assistant leaves.
    pub(crate) fn unmount(&self) {
        if let Some(run) = self.running.borrow_mut().take()
            && let Some(a) = run.abort
        {
            a.abort();
        }
        self.pending.borrow_mut().take();
        self.collaborator.leave();
    }
}

#[cfg(test)]
#[path = "pane_core_tests.rs"]
mod tests;
