//! The assistant as an agent of an editor on the page (feature `editor`):
//! the user's selection is the editor's, and accepted edits go through
//! the editor's agents' door ([`EditorCore::apply_agent_ops`]) as
//! `agent:Assistant`, with the editor's undo history for that agent and
//! its caret published by the editor's host.

use crate::collaborator::{ASSISTANT_COLOR, ASSISTANT_NAME, Collaborator};
use crate::target::{TextPos, TextRange};
use atelier_doc::Op;
use atelier_editor::{AgentInfo, EditorCore, Pos, Selection};
use std::rc::Rc;

/// The assistant editing through an editor.
pub struct EditorCollaborator {
    core: Rc<EditorCore>,
    agent: AgentInfo,
}

impl EditorCollaborator {
    /// The assistant as an agent of the editor `core`.
    pub fn new(core: Rc<EditorCore>) -> Self {
        EditorCollaborator {
            core,
            agent: AgentInfo::new(ASSISTANT_NAME, Some(ASSISTANT_COLOR)),
        }
    }
}

fn pos(p: &Pos) -> TextPos {
    TextPos::new(p.block.clone(), p.offset)
}

impl Collaborator for EditorCollaborator {
    fn selection(&self) -> Option<TextRange> {
        self.core
            .selection()
            .map(|s| TextRange::new(pos(&s.anchor), pos(&s.focus)))
    }

    fn apply(&self, ops: &[Op]) -> Result<(), String> {
        self.core
            .apply_agent_ops(&self.agent, ops)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn undo(&self) -> bool {
        self.core.undo_agent(&self.agent)
    }

    fn can_undo(&self) -> bool {
        self.core.agent_can_undo(&self.agent)
    }

    fn show(&self, at: Option<TextPos>) {
        let sel = at.map(|p| Selection::caret(Pos::new(p.block, p.offset)));
        self.core.set_agent_caret(&self.agent, sel.as_ref());
    }

    fn leave(&self) {
        self.core.clear_agent(&self.agent);
    }
}
