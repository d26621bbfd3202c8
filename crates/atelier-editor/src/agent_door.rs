//! The agents' door on a mounted editor: [`EditorCore::apply_agent_ops`]
//! and its neighbours, and who changed what ([`ChangeReport`]).
//!
//! This is the Rust API the element's JS API (`applyOperations`,
//! `setAgent`, WebMCP tools) and the assistant pane build on. An agent
//! ([`AgentInfo`]) edits with typed operations, all or nothing, as one
//! transaction with the origin `agent:NAME`; its edits undo apart from
//! the user's (the user's Ctrl+Z never takes them back, and
//! [`EditorCore::undo_agent`] takes back only the agent's). Its presence —
//! name, colour, caret — goes to the host through the
//! [`EditorCore::set_agent_listener`] callback, which a transport publishes
//! as an awareness entry of its own (`atelier_web::DocHandle::
//! set_agent_presence`), so every collaborator sees it; the editor itself
//! draws it like any remote caret once the transport lists it.
//!
//! ```no_run
//! # fn demo(core: &atelier_editor::EditorCore, block: atelier_doc::BlockId) {
//! use atelier_editor::AgentInfo;
//! let assistant = AgentInfo::new("assistant", Some("#7c3aed"));
//! let ops = [atelier_doc::Op::InsertText { block, offset: 0, text: "Résumé : ".into(), marks: None }];
//! match core.apply_agent_ops(&assistant, &ops) {
//!     Ok(outcomes) => { /* shown to everyone with the assistant's caret */ }
//!     Err(e) => eprintln!("operation {} ({}) refused: {}", e.index, e.op, e.message),
//! }
//! core.undo_agent(&assistant); // takes back that batch, never the user's typing
//! core.clear_agent(&assistant); // its caret and name leave every page
//! # }
//! ```

use crate::agents::{AgentDesk, AgentInfo, ChangeSource, source_of};
use crate::component::EditorCore;
use crate::session::Selection;
use atelier_doc::{BatchError, BlockChanges, Document, Op, OpOutcome};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What the host should publish of an agent (see
/// [`EditorCore::set_agent_listener`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentPresenceUpdate {
    /// The agent is shown to collaborators, with its caret if it has one.
    Present(Option<Selection>),
    /// The agent left: withdraw its presence.
    Gone,
}

/// Told about every change of an agent's presence.
pub type AgentListener = Rc<dyn Fn(&AgentInfo, &AgentPresenceUpdate)>;

/// What consecutive transactions of one author changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeReport {
    /// Who made them.
    pub source: ChangeSource,
    /// The blocks they changed, and whether the tree's structure changed.
    pub changes: BlockChanges,
}

/// Told, once per microtask, what the transactions since the last call
/// changed and who made them (in order; consecutive transactions of one
/// author merged).
pub type ChangeListener = Rc<dyn Fn(&[ChangeReport])>;

/// The transactions' changes and origins, recorded inside their commits
/// (so `Send + Sync`) while someone listens.
#[derive(Debug, Default)]
pub(crate) struct ChangeLog {
    on: AtomicBool,
    entries: Mutex<Vec<(Option<Vec<u8>>, BlockChanges)>>,
}

impl ChangeLog {
    /// Records a transaction's changes, if a listener wants them.
    pub(crate) fn record(&self, changes: &BlockChanges, origin: Option<&[u8]>) {
        if !self.on.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut e) = self.entries.lock() {
            e.push((origin.map(<[u8]>::to_vec), changes.clone()));
        }
    }

    fn take(&self) -> Vec<(Option<Vec<u8>>, BlockChanges)> {
        self.entries
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

/// What an [`EditorCore`] holds for its agents.
pub(crate) struct AgentDoor {
    desk: AgentDesk,
    /// Agents shown to collaborators now.
    shown: RefCell<Vec<AgentInfo>>,
    listener: RefCell<Option<AgentListener>>,
    changes: RefCell<Option<ChangeListener>>,
    log: Arc<ChangeLog>,
}

impl AgentDoor {
    pub(crate) fn new(doc: Rc<Document>, clock: fn() -> u64) -> Self {
        AgentDoor {
            desk: AgentDesk::new(doc, clock),
            shown: RefCell::new(Vec::new()),
            listener: RefCell::new(None),
            changes: RefCell::new(None),
            log: Arc::new(ChangeLog::default()),
        }
    }

    /// The log the document observer records into.
    pub(crate) fn change_log(&self) -> Arc<ChangeLog> {
        self.log.clone()
    }
}

fn read_only_error(ops: &[Op]) -> BatchError {
    BatchError {
        index: 0,
        op: ops.first().map_or("none", Op::name),
        message: "the editor is read-only".into(),
    }
}

impl EditorCore {
    /// Applies `ops` as `agent`: checked against BlockNote's schema and the
    /// batch limits, all or nothing, as one transaction (origin
    /// `agent:NAME`) and one undo step of the agent's own. The agent is
    /// shown to collaborators with its caret where the batch ended. A
    /// refused batch (or a read-only editor) changes nothing and names the
    /// failing operation.
    pub fn apply_agent_ops(
        &self,
        agent: &AgentInfo,
        ops: &[Op],
    ) -> Result<Vec<OpOutcome>, BatchError> {
        if self.readonly {
            return Err(read_only_error(ops));
        }
        let outcomes = self.agents.desk.apply(agent, ops)?;
        self.after_agent_change(agent);
        Ok(outcomes)
    }

    /// Applies a Yjs v1 `update` as `agent`, like [`Self::apply_agent_ops`]:
    /// for a batch another module checked and ran on a copy of this
    /// document (`atelier_doc::Document::try_ops` with this document's
    /// client id), so the editor's own wasm need not link the checks.
    /// `caret` is where the batch ended, if known.
    pub fn apply_agent_update(
        &self,
        agent: &AgentInfo,
        update: &[u8],
        caret: Option<Selection>,
    ) -> Result<(), String> {
        if self.readonly {
            return Err("the editor is read-only".into());
        }
        self.agents
            .desk
            .apply_update(agent, update, caret)
            .map_err(|e| e.to_string())?;
        self.after_agent_change(agent);
        Ok(())
    }

    /// Takes back `agent`'s last batch (never the user's changes nor
    /// another agent's); false if it has none or the editor is read-only.
    pub fn undo_agent(&self, agent: &AgentInfo) -> bool {
        let done = !self.readonly && self.agents.desk.undo(agent);
        if done {
            self.after_agent_change(agent);
        }
        done
    }

    /// Redoes `agent`'s last undone batch; false if there is none.
    pub fn redo_agent(&self, agent: &AgentInfo) -> bool {
        let done = !self.readonly && self.agents.desk.redo(agent);
        if done {
            self.after_agent_change(agent);
        }
        done
    }

    /// The agent of this editor called `name` (as [`AgentInfo::new`]
    /// normalizes it), with the colour it last gave; `None` if it never
    /// edited nor was shown here.
    pub fn agent_named(&self, name: &str) -> Option<AgentInfo> {
        let name = AgentInfo::new(name, None).name;
        self.agents
            .desk
            .agents()
            .into_iter()
            .find(|a| a.name == name)
    }

    /// Whether `agent` has a batch to undo.
    pub fn agent_can_undo(&self, agent: &AgentInfo) -> bool {
        self.agents.desk.can_undo(agent)
    }

    /// Shows `agent` to collaborators with its caret at `sel` (`None`: shown
    /// without a caret), e.g. while it reads or before it writes.
    pub fn set_agent_caret(&self, agent: &AgentInfo, sel: Option<&Selection>) {
        let sel = sel.and_then(|s| self.session.clamp(Some(s)));
        self.agents.desk.set_caret(agent, sel);
        self.show_agent(agent);
    }

    /// `agent`'s caret, if it has one.
    pub fn agent_caret(&self, agent: &AgentInfo) -> Option<Selection> {
        self.agents.desk.caret(agent)
    }

    /// Withdraws `agent`'s presence (its caret and name leave every page);
    /// its undo history stays, should it come back.
    pub fn clear_agent(&self, agent: &AgentInfo) {
        let was_shown = {
            let mut shown = self.agents.shown.borrow_mut();
            let before = shown.len();
            shown.retain(|a| a.name != agent.name);
            shown.len() != before
        };
        if was_shown {
            self.tell_agent(agent, &AgentPresenceUpdate::Gone);
        }
    }

    /// Sets (or with `None` removes) what publishes agents' presence.
    pub fn set_agent_listener(&self, listener: Option<AgentListener>) {
        *self.agents.listener.borrow_mut() = listener;
    }

    /// Sets (or with `None` removes) what hears which blocks changed and
    /// who changed them.
    pub fn set_change_listener(&self, listener: Option<ChangeListener>) {
        self.agents
            .log
            .on
            .store(listener.is_some(), Ordering::Relaxed);
        *self.agents.changes.borrow_mut() = listener;
    }

    /// After an agent's change: render now, and show the agent where its
    /// caret is.
    fn after_agent_change(&self, agent: &AgentInfo) {
        self.flush();
        self.show_agent(agent);
    }

    fn show_agent(&self, agent: &AgentInfo) {
        {
            let mut shown = self.agents.shown.borrow_mut();
            match shown.iter_mut().find(|a| a.name == agent.name) {
                Some(a) => a.clone_from(agent),
                None => shown.push(agent.clone()),
            }
        }
        let caret = self.agents.desk.caret(agent);
        self.tell_agent(agent, &AgentPresenceUpdate::Present(caret));
    }

    fn tell_agent(&self, agent: &AgentInfo, update: &AgentPresenceUpdate) {
        let listener = self.agents.listener.borrow().clone();
        if let Some(listener) = listener {
            listener(agent, update);
        }
    }

    /// Withdraws every agent shown (the editor goes).
    pub(crate) fn withdraw_agents(&self) {
        let shown = std::mem::take(&mut *self.agents.shown.borrow_mut());
        for agent in shown {
            self.tell_agent(&agent, &AgentPresenceUpdate::Gone);
        }
    }

    /// Tells the change listener what changed since the last call.
    pub(crate) fn report_changes(&self) {
        let entries = self.agents.log.take();
        let listener = self.agents.changes.borrow().clone();
        let Some(listener) = listener else { return };
        let mut reports: Vec<ChangeReport> = Vec::new();
        for (origin, changes) in entries {
            let source = source_of(origin.as_deref());
            match reports.last_mut() {
                Some(last) if last.source == source => last.changes.merge(changes),
                _ => reports.push(ChangeReport { source, changes }),
            }
        }
        if !reports.is_empty() {
            listener(&reports);
        }
    }
}
