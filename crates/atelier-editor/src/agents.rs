//! Agents editing through an editor: an in-page script, a browser
//! automation, a WebMCP client, the assistant pane.
//!
//! An agent is a collaborator of its own ([`AgentInfo`]: a name and a
//! colour). Its batches of [`Op`]s are applied all or nothing
//! ([`Document::apply_ops_atomically`]) as one transaction with the origin
//! `agent:NAME`, which no editor session's undo manager tracks: the user's
//! Ctrl+Z never undoes an agent's edit. Each agent has an undo manager of
//! its own tracking only its origin, one step per batch, so it can take
//! back its own last change ([`AgentDesk::undo`]). One limit, Yjs's own:
//! a user's undo step that created a block's text (typing into an empty
//! block) deletes that text node when undone, with whatever an agent wrote
//! into it since. Its caret (where its
//! last batch ended, or where it put it) is what the host publishes in
//! awareness, under a client id of its own.
//!
//! [`source_of`] tells who made a transaction from its origin: the local
//! user (an editor session or its undo manager), an agent by name (its
//! origin or its undo manager's), or a remote peer (anything else: a sync
//! session, another tab, a stored state).
//!
//! Nothing here touches the DOM: it is tested natively.

use crate::session::{Pos, Selection};
use atelier_doc::undo::{Origin, UndoManager};
use atelier_doc::{BatchError, BlockId, Document, Op, OpOutcome};
use std::cell::RefCell;
use std::rc::Rc;

/// The prefix of an agent's transaction origin (`agent:NAME`).
pub const AGENT_ORIGIN_PREFIX: &str = "agent:";

/// Longest agent name kept (as the server's agents).
const MAX_NAME_CHARS: usize = 64;

/// The colour of an agent that gave none or an invalid one.
pub const DEFAULT_AGENT_COLOR: &str = "#7c3aed";

/// Who an agent is, as collaborators see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentInfo {
    /// Name shown beside its caret (trimmed, at most 64 characters, never
    /// empty: `Agent` when none is given).
    pub name: String,
    /// Caret colour, `#rgb` or `#rrggbb`.
    pub color: String,
}

impl AgentInfo {
    /// An agent as shown: the name trimmed and shortened (`Agent` if
    /// empty), the colour kept only if it is a hex colour.
    pub fn new(name: &str, color: Option<&str>) -> Self {
        let name: String = name.trim().chars().take(MAX_NAME_CHARS).collect();
        let color = color.filter(|c| is_hex_color(c));
        AgentInfo {
            name: if name.is_empty() {
                "Agent".to_owned()
            } else {
                name
            },
            color: color.unwrap_or(DEFAULT_AGENT_COLOR).to_owned(),
        }
    }

    /// Its transaction origin, `agent:NAME`.
    pub fn origin(&self) -> String {
        format!("{AGENT_ORIGIN_PREFIX}{}", self.name)
    }
}

fn is_hex_color(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 6) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Who made a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSource {
    /// The local user, through an editor of this page (typing, commands,
    /// their undo).
    Local,
    /// An agent editing through this page, by name.
    Agent(String),
    /// Anyone else: a peer through the server, another tab, a stored state.
    Remote,
}

thread_local! {
    /// Undo managers' origins (their address) and whose changes they undo:
    /// a few per page (one per editor and per agent), so a list, which
    /// costs the wasm less than a map.
    static UNDO_ORIGINS: RefCell<Vec<(Vec<u8>, ChangeSource)>> = const { RefCell::new(Vec::new()) };
}

/// Records that transactions with `origin` (an undo manager's) are `source`'s.
pub(crate) fn register_undo_origin(origin: &Origin, source: ChangeSource) {
    unregister_undo_origin(origin);
    UNDO_ORIGINS.with(|o| o.borrow_mut().push((origin.as_ref().to_vec(), source)));
}

/// Forgets an undo manager's origin (it was dropped; its address may be reused).
pub(crate) fn unregister_undo_origin(origin: &Origin) {
    UNDO_ORIGINS.with(|o| {
        o.borrow_mut()
            .retain(|(known, _)| known.as_slice() != origin.as_ref())
    });
}

/// Who made a transaction with `origin` (its bytes; `None`: no origin).
pub fn source_of(origin: Option<&[u8]>) -> ChangeSource {
    let Some(origin) = origin else {
        return ChangeSource::Remote;
    };
    let known = UNDO_ORIGINS.with(|o| {
        o.borrow()
            .iter()
            .find(|(known, _)| known.as_slice() == origin)
            .map(|(_, source)| source.clone())
    });
    if let Some(source) = known {
        return source;
    }
    match std::str::from_utf8(origin) {
        Ok(s) if s.starts_with(crate::LOCAL_ORIGIN) => ChangeSource::Local,
        Ok(s) => match s.strip_prefix(AGENT_ORIGIN_PREFIX) {
            Some(name) => ChangeSource::Agent(name.to_owned()),
            // DESIGN.md §6: the assistant's own origin.
            None if s == "assistant" => ChangeSource::Agent(s.to_owned()),
            None => ChangeSource::Remote,
        },
        Err(_) => ChangeSource::Remote,
    }
}

/// One agent's undo history and caret.
struct Slot {
    info: AgentInfo,
    undo: UndoManager<()>,
    caret: Option<Selection>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        unregister_undo_origin(&self.undo.as_origin());
    }
}

/// The agents of one editor: their undo histories and carets, by name.
pub struct AgentDesk {
    doc: Rc<Document>,
    clock: fn() -> u64,
    slots: RefCell<Vec<Slot>>,
}

impl std::fmt::Debug for AgentDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentDesk")
            .field("agents", &self.slots.borrow().len())
            .finish_non_exhaustive()
    }
}

impl AgentDesk {
    /// The agents of an editor on `doc`; `clock` gives milliseconds (as for
    /// [`crate::EditSession::new`]).
    pub fn new(doc: Rc<Document>, clock: fn() -> u64) -> Self {
        AgentDesk {
            doc,
            clock,
            slots: RefCell::new(Vec::new()),
        }
    }

    /// Runs `f` on `agent`'s slot, created on first use (its colour updated).
    fn with_slot<R>(&self, agent: &AgentInfo, f: impl FnOnce(&mut Slot) -> R) -> R {
        let mut slots = self.slots.borrow_mut();
        let i = match slots.iter().position(|s| s.info.name == agent.name) {
            Some(i) => i,
            None => {
                // One batch is one step: nothing merges by time.
                let undo = self.doc.undo_manager(&agent.origin(), 0, self.clock);
                register_undo_origin(&undo.as_origin(), ChangeSource::Agent(agent.name.clone()));
                slots.push(Slot {
                    info: agent.clone(),
                    undo,
                    caret: None,
                });
                slots.len() - 1
            }
        };
        let slot = &mut slots[i];
        slot.info.color.clone_from(&agent.color);
        f(slot)
    }

    /// Applies `ops` as `agent`, all or nothing, as one undo step of its
    /// own; its caret moves to where the batch ended.
    pub fn apply(&self, agent: &AgentInfo, ops: &[Op]) -> Result<Vec<OpOutcome>, BatchError> {
        let origin = agent.origin();
        self.with_slot(agent, |slot| {
            let outcomes = self.doc.apply_ops_atomically(ops, &origin)?;
            slot.undo.reset();
            if let Some(caret) = caret_after(&self.doc, ops, &outcomes) {
                slot.caret = Some(caret);
            }
            Ok(outcomes)
        })
    }

    /// Applies a Yjs v1 `update` as `agent` (a batch another module
    /// checked and ran on a copy of this document, `Document::try_ops`),
    /// as one undo step of its own; `caret`, if given, is where it ended.
    pub fn apply_update(
        &self,
        agent: &AgentInfo,
        update: &[u8],
        caret: Option<Selection>,
    ) -> Result<(), atelier_doc::Error> {
        let origin = agent.origin();
        self.with_slot(agent, |slot| {
            self.doc.apply_update_v1_with_origin(update, &origin)?;
            slot.undo.reset();
            if caret.is_some() {
                slot.caret = caret;
            }
            Ok(())
        })
    }

    /// Takes back `agent`'s last change (never the user's nor another
    /// agent's); false if it has none.
    pub fn undo(&self, agent: &AgentInfo) -> bool {
        self.with_slot(agent, |slot| slot.undo.undo_blocking())
    }

    /// Redoes `agent`'s last undone change; false if it has none.
    pub fn redo(&self, agent: &AgentInfo) -> bool {
        self.with_slot(agent, |slot| slot.undo.redo_blocking())
    }

    /// Whether `agent` has a change to undo.
    pub fn can_undo(&self, agent: &AgentInfo) -> bool {
        self.with_slot(agent, |slot| slot.undo.can_undo())
    }

    /// `agent`'s caret, if it has one (clamped to the document as it is).
    pub fn caret(&self, agent: &AgentInfo) -> Option<Selection> {
        let caret = self.with_slot(agent, |slot| slot.caret.clone())?;
        let fix = |p: &Pos| {
            let len = self.doc.block_len(&p.block).ok()?;
            Some(Pos::new(p.block.clone(), p.offset.min(len)))
        };
        Some(Selection::range(fix(&caret.anchor)?, fix(&caret.focus)?))
    }

    /// Puts `agent`'s caret at `sel` (`None`: no caret).
    pub fn set_caret(&self, agent: &AgentInfo, sel: Option<Selection>) {
        self.with_slot(agent, |slot| slot.caret = sel);
    }

    /// The agents that edited or were shown through this editor.
    pub fn agents(&self) -> Vec<AgentInfo> {
        self.slots.borrow().iter().map(|s| s.info.clone()).collect()
    }
}

/// Where a batch leaves its author's caret, as a selection
/// ([`atelier_doc::agent_ops::caret_after`]).
pub fn caret_after(doc: &Document, ops: &[Op], outcomes: &[OpOutcome]) -> Option<Selection> {
    atelier_doc::agent_ops::caret_after(doc, ops, outcomes)
        .map(|(block, offset)| Selection::caret(Pos::new(block, offset)))
}

/// One place a text was found: a block and a UTF-16 range of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The block.
    pub block: BlockId,
    /// Where the match starts (UTF-16 units; a hard break counts one).
    pub offset: u32,
    /// Its length (UTF-16 units).
    pub len: u32,
}

/// Every occurrence of `needle` in `doc`'s blocks, in reading order, at
/// most `limit`; with `ignore_case`, characters compare by their first
/// lowercase form. Matches do not overlap and never span two blocks.
pub fn find_text(doc: &Document, needle: &str, ignore_case: bool, limit: usize) -> Vec<TextMatch> {
    let fold = |c: char| {
        if ignore_case {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    };
    let needle: Vec<char> = needle.chars().map(fold).collect();
    let mut out = Vec::new();
    if needle.is_empty() || limit == 0 {
        return out;
    }
    for id in doc.block_ids() {
        let Ok(text) = doc.block_plain_text(&id) else {
            continue;
        };
        // (char, its UTF-16 offset) pairs.
        let mut chars = Vec::with_capacity(text.len());
        let mut offset = 0u32;
        for c in text.chars() {
            chars.push((fold(c), offset));
            offset += c.len_utf16() as u32;
        }
        let mut i = 0;
        while i + needle.len() <= chars.len() {
            let hit = chars[i..i + needle.len()]
                .iter()
                .zip(&needle)
                .all(|((c, _), n)| c == n);
            if !hit {
                i += 1;
                continue;
            }
            let start = chars[i].1;
            let end = chars.get(i + needle.len()).map_or(offset, |(_, o)| *o);
            out.push(TextMatch {
                block: id.clone(),
                offset: start,
                len: end - start,
            });
            if out.len() >= limit {
                return out;
            }
            i += needle.len();
        }
    }
    out
}

#[cfg(test)]
#[path = "agents_tests.rs"]
mod tests;
