//! [`EditSession`]: what a user's editing intents do to the model.
//!
//! The session turns an [`Intent`] at a model [`Selection`] into one batch
//! of [`atelier_doc::Op`]s (one `yrs` transaction with the session's own
//! origin, [`LOCAL_ORIGIN`]`-N`) and says where the caret goes. It owns the
//! [`atelier_doc::undo::UndoManager`] (yrs'), which tracks only that origin, so changes
//! from peers (applied without it) are never undone. Nothing here touches
//! the DOM: it is tested natively.

use crate::error::Result;
use crate::text_rules::{self, BlockKind};
use atelier_doc::schema::block_type;
use atelier_doc::undo::UndoManager;
use atelier_doc::{
    Block, BlockId, Document, InlineRun, Mark, Marks, NewBlock, Op, OpOutcome, OutlineNode,
    Placement,
};
use serde_json::{Map, Value};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// The prefix of every editor session's transaction origin (each session
/// appends its own number, so two editors on one page undo only their own
/// changes).
pub const LOCAL_ORIGIN: &str = "atelier-editor";

mod deleting;
mod paste;
mod typing;

pub use paste::paste_wants_markdown;
use typing::RuleUndo;

static NEXT_SESSION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A caret position: a block and a UTF-16 offset in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    /// The block.
    pub block: BlockId,
    /// UTF-16 offset in the block's text (a hard break counts one).
    pub offset: u32,
}

impl Pos {
    /// A position.
    pub fn new(block: impl Into<BlockId>, offset: u32) -> Self {
        Pos {
            block: block.into(),
            offset,
        }
    }
}

/// A selection in model terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Where it started.
    pub anchor: Pos,
    /// Where the caret is.
    pub focus: Pos,
}

impl Selection {
    /// A collapsed selection (a caret).
    pub fn caret(pos: Pos) -> Self {
        Selection {
            anchor: pos.clone(),
            focus: pos,
        }
    }

    /// A selection between two positions.
    pub fn range(anchor: Pos, focus: Pos) -> Self {
        Selection { anchor, focus }
    }

    /// Whether anchor and focus coincide.
    pub fn is_collapsed(&self) -> bool {
        self.anchor == self.focus
    }
}

/// An inline mark the toolbar toggles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// Bold.
    Bold,
    /// Italic.
    Italic,
    /// Underline.
    Underline,
    /// Strike-through.
    Strike,
    /// Inline code.
    Code,
}

impl MarkKind {
    /// Every mark kind, in toolbar order.
    pub const ALL: [MarkKind; 5] = [
        MarkKind::Bold,
        MarkKind::Italic,
        MarkKind::Underline,
        MarkKind::Strike,
        MarkKind::Code,
    ];

    fn mark(self) -> Mark {
        match self {
            MarkKind::Bold => Mark::Bold,
            MarkKind::Italic => Mark::Italic,
            MarkKind::Underline => Mark::Underline,
            MarkKind::Strike => Mark::Strike,
            MarkKind::Code => Mark::Code,
        }
    }

    fn is_set(self, m: &atelier_doc::Marks) -> bool {
        match self {
            MarkKind::Bold => m.bold,
            MarkKind::Italic => m.italic,
            MarkKind::Underline => m.underline,
            MarkKind::Strike => m.strike,
            MarkKind::Code => m.code,
        }
    }
}

/// What the user asked for, independent of how (key, toolbar, `beforeinput`).
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Type or replace the selection with text (also a committed composition).
    InsertText(String),
    /// Backspace.
    DeleteBackward,
    /// Delete.
    DeleteForward,
    /// Ctrl+Backspace.
    DeleteWordBackward,
    /// Ctrl+Delete.
    DeleteWordForward,
    /// Cmd+Backspace.
    DeleteLineBackward,
    /// Delete the selected range (cut, drag-out, a browser target range).
    DeleteSelection,
    /// Enter: split the block.
    SplitBlock,
    /// Shift+Enter: a hard break.
    LineBreak,
    /// Paste or drop: HTML (sanitized), else the blocks parsed from the
    /// plain text as Markdown (when [`paste_wants_markdown`] said so and the
    /// caller parsed it), else plain paragraphs.
    Paste {
        /// `text/html` data, if any.
        html: Option<String>,
        /// `text/plain` data.
        text: String,
        /// `text` parsed as Markdown, if it was.
        markdown: Option<Vec<NewBlock>>,
    },
    /// Toggle a mark over the selection.
    ToggleMark(MarkKind),
    /// Set (`Some`) or remove (`None`) a link over the selection.
    SetLink(Option<String>),
    /// Change the type of the selected blocks.
    SetBlockType(BlockKind),
    /// Slash menu choice: delete the `/query` text at the block start, then change type.
    SlashCommand {
        /// The chosen type.
        kind: BlockKind,
        /// UTF-16 length of the `/query` text to remove from the block start.
        remove: u32,
    },
    /// Insert a divider after the caret's block.
    InsertDivider,
    /// Toggle a check-list item.
    ToggleChecked(BlockId),
    /// Tab: nest the block under its previous sibling.
    Indent,
    /// Shift+Tab: lift the block out of its parent.
    Outdent,
    /// Undo the last local change.
    Undo,
    /// Redo.
    Redo,
}

/// One editor's session on a shared document.
pub struct EditSession {
    doc: Rc<Document>,
    undo: RefCell<UndoManager<()>>,
    /// This session's transaction origin (`atelier-editor-N`).
    origin: String,
    /// The marks of text typed next at a position: after an inline
    /// shortcut, those before it less the mark it set (ProseMirror's stored
    /// marks). Kept until the next intent.
    stored_marks: RefCell<Option<(Pos, Marks)>>,
    /// The Markdown shortcut the last intent applied (the caret it left),
    /// which Backspace right after undoes. Kept until the next intent.
    last_rule: RefCell<Option<(Pos, RuleUndo)>>,
}

impl Drop for EditSession {
    fn drop(&mut self) {
        crate::agents::unregister_undo_origin(&self.undo.borrow().as_origin());
    }
}

impl std::fmt::Debug for EditSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditSession").finish_non_exhaustive()
    }
}

/// The block tree as one intent sees it, read lazily: a block's type,
/// parent and content come from the document's indexed lookups; the layout
/// (reading order, siblings) is read once, and only by intents that span,
/// merge or move blocks. Typing in a block never reads the whole document.
struct Tree<'a> {
    doc: &'a Document,
    layout: OnceCell<Layout>,
}

/// Reading order, parents and siblings of every block.
#[derive(Default)]
struct Layout {
    order: Vec<BlockId>,
    position: HashMap<BlockId, usize>,
    parent: HashMap<BlockId, Option<BlockId>>,
    siblings: HashMap<Option<BlockId>, Vec<BlockId>>,
}

impl<'a> Tree<'a> {
    fn new(doc: &'a Document) -> Self {
        Tree {
            doc,
            layout: OnceCell::new(),
        }
    }

    fn layout(&self) -> &Layout {
        self.layout.get_or_init(|| {
            fn go(l: &mut Layout, nodes: &[OutlineNode], parent: Option<BlockId>) {
                for n in nodes {
                    // A duplicated id (never written by BlockNote): the first wins.
                    if l.position.contains_key(&n.id) {
                        continue;
                    }
                    l.position.insert(n.id.clone(), l.order.len());
                    l.order.push(n.id.clone());
                    l.parent.insert(n.id.clone(), parent.clone());
                    l.siblings
                        .entry(parent.clone())
                        .or_default()
                        .push(n.id.clone());
                    go(l, &n.children, Some(n.id.clone()));
                }
            }
            let mut l = Layout::default();
            go(&mut l, &self.doc.outline(), None);
            l
        })
    }

    fn order(&self) -> &[BlockId] {
        &self.layout().order
    }

    fn index(&self, id: &BlockId) -> Option<usize> {
        self.layout().position.get(id).copied()
    }

    fn parent(&self, id: &BlockId) -> Option<BlockId> {
        match self.layout.get() {
            Some(l) => l.parent.get(id).cloned().flatten(),
            None => self.doc.parent_of(id).ok().flatten(),
        }
    }

    fn siblings(&self, parent: &Option<BlockId>) -> Vec<BlockId> {
        self.layout()
            .siblings
            .get(parent)
            .cloned()
            .unwrap_or_default()
    }

    /// A block's type; empty for an unknown block.
    fn kind(&self, id: &BlockId) -> String {
        self.doc.block_kind(id).unwrap_or_default()
    }

    /// A block's own content (not its children).
    fn block(&self, id: &BlockId) -> Option<Block> {
        self.doc.block_shallow(id).ok()
    }

    fn is_ancestor(&self, maybe: &BlockId, of: &BlockId) -> bool {
        let l = self.layout();
        let mut cur = l.parent.get(of).cloned().flatten();
        while let Some(p) = cur {
            if &p == maybe {
                return true;
            }
            cur = l.parent.get(&p).cloned().flatten();
        }
        false
    }
}

impl EditSession {
    /// A session on `doc`. `clock` gives milliseconds (consecutive changes
    /// within 500 ms form one undo step); pass `js_sys::Date::now` in a
    /// browser, as `yrs` has no clock of its own on wasm.
    pub fn new(doc: Rc<Document>, clock: fn() -> u64) -> Self {
        let n = NEXT_SESSION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let origin = format!("{LOCAL_ORIGIN}-{n}");
        let undo = doc.undo_manager(&origin, 500, clock);
        crate::agents::register_undo_origin(&undo.as_origin(), crate::agents::ChangeSource::Local);
        EditSession {
            doc,
            undo: RefCell::new(undo),
            origin,
            stored_marks: RefCell::new(None),
            last_rule: RefCell::new(None),
        }
    }

    /// The transaction origin of this session's changes.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The document.
    pub fn doc(&self) -> &Rc<Document> {
        &self.doc
    }

    /// Whether there is a local change to undo.
    pub fn can_undo(&self) -> bool {
        self.undo.borrow().can_undo()
    }

    /// Whether there is an undone change to redo.
    pub fn can_redo(&self) -> bool {
        self.undo.borrow().can_redo()
    }

    /// Ends the current undo step: the next change starts a new one.
    pub fn stop_capturing(&self) {
        self.undo.borrow_mut().reset();
    }

    /// Applies operations as one local transaction.
    pub fn apply_ops(&self, ops: &[Op]) -> Result<Vec<OpOutcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.doc.apply_ops(ops, &self.origin)?)
    }

    /// Replaces the whole document with `blocks` (e.g. parsed from Markdown),
    /// as one undoable local change.
    pub fn replace_with_blocks(&self, blocks: Vec<NewBlock>) -> Result<()> {
        self.apply_ops(&replace_blocks_ops(&self.doc, blocks))?;
        Ok(())
    }

    /// Applies an intent at a selection; returns where the selection goes
    /// (`None`: leave it to the caller, e.g. after undo).
    ///
    /// Typing and deleting merge into one undo step while they come in quick
    /// succession; a command (format, link, block type, paste, cut, indent, …) is
    /// always an undo step of its own, however fast it follows.
    pub fn apply(&self, intent: &Intent, sel: &Selection) -> Result<Option<Selection>> {
        // Both last only until the next intent.
        let rule = self.last_rule.take();
        let stored = self.stored_marks.take();
        if let Some((caret, rule)) = rule
            && matches!(intent, Intent::DeleteBackward)
            && sel == &Selection::caret(caret)
            && let Some(next) = self.undo_rule(&rule)?
        {
            return Ok(Some(next));
        }
        let own_step = matches!(
            intent,
            Intent::Paste { .. }
                | Intent::DeleteSelection
                | Intent::ToggleMark(_)
                | Intent::SetLink(_)
                | Intent::SetBlockType(_)
                | Intent::SlashCommand { .. }
                | Intent::InsertDivider
                | Intent::ToggleChecked(_)
                | Intent::Indent
                | Intent::Outdent
        );
        if own_step {
            self.stop_capturing();
        }
        let next = self.apply_intent(intent, sel, stored.as_ref());
        if own_step {
            self.stop_capturing();
        }
        next
    }

    fn apply_intent(
        &self,
        intent: &Intent,
        sel: &Selection,
        stored: Option<&(Pos, Marks)>,
    ) -> Result<Option<Selection>> {
        let tree = Tree::new(&self.doc);
        match intent {
            Intent::InsertText(text) => self.insert_text(&tree, sel, text, stored).map(Some),
            Intent::DeleteBackward
            | Intent::DeleteForward
            | Intent::DeleteWordBackward
            | Intent::DeleteWordForward
            | Intent::DeleteLineBackward
            | Intent::DeleteSelection => self.delete(&tree, sel, intent).map(Some),
            Intent::SplitBlock => self.split(&tree, sel).map(Some),
            Intent::LineBreak => self.insert_text(&tree, sel, "\n", None).map(Some),
            Intent::Paste {
                html,
                text,
                markdown,
            } => self
                .paste(&tree, sel, html.as_deref(), text, markdown.as_deref())
                .map(Some),
            Intent::ToggleMark(kind) => {
                let ranges = self.ranges(&tree, sel);
                let on = !ranges.iter().all(|(id, from, to)| {
                    tree.block(id)
                        .is_some_and(|b| runs_have(&b.content, *from, *to, *kind))
                });
                self.format(&ranges, &kind.mark(), on)?;
                Ok(Some(sel.clone()))
            }
            Intent::SetLink(href) => self.set_link(&tree, sel, href.as_deref()).map(Some),
            Intent::SetBlockType(kind) => {
                let (start, end) = ordered(&tree, sel);
                let (Some(a), Some(b)) = (tree.index(&start.block), tree.index(&end.block)) else {
                    return Ok(Some(sel.clone()));
                };
                let ops: Vec<Op> = tree.order()[a..=b]
                    .iter()
                    .filter(|id| text_rules_editable(&tree.kind(id)))
                    .map(|id| update_op(id, kind))
                    .collect();
                self.apply_ops(&ops)?;
                Ok(Some(sel.clone()))
            }
            Intent::SlashCommand { kind, remove } => {
                let id = &sel.focus.block;
                let len = self.doc.block_len(id)?;
                let remove = (*remove).min(len);
                let mut ops = Vec::new();
                if remove > 0 {
                    ops.push(Op::DeleteText {
                        block: id.clone(),
                        offset: 0,
                        len: remove,
                    });
                }
                if kind.kind == block_type::DIVIDER {
                    ops.push(divider_after(id));
                } else {
                    ops.push(update_op(id, kind));
                }
                self.apply_ops(&ops)?;
                Ok(Some(Selection::caret(Pos::new(id.clone(), 0))))
            }
            Intent::InsertDivider => {
                self.apply_ops(&[divider_after(&sel.focus.block)])?;
                Ok(Some(sel.clone()))
            }
            Intent::ToggleChecked(id) => {
                let now = tree.block(id).as_ref().is_some_and(crate::render::checked);
                let mut props = Map::new();
                props.insert("checked".into(), Value::Bool(!now));
                self.apply_ops(&[Op::UpdateBlock {
                    block: id.clone(),
                    kind: None,
                    props,
                }])?;
                Ok(Some(sel.clone()))
            }
            Intent::Indent => {
                let id = &sel.focus.block;
                let parent = tree.parent(id);
                let sibs = tree.siblings(&parent);
                let i = sibs.iter().position(|s| s == id).unwrap_or(0);
                if i > 0
                    && let Some(prev) = sibs.get(i - 1)
                {
                    self.apply_ops(&[Op::MoveBlock {
                        block: id.clone(),
                        to: Placement::LastChildOf(prev.clone()),
                    }])?;
                }
                Ok(Some(sel.clone()))
            }
            Intent::Outdent => {
                let id = &sel.focus.block;
                let Some(parent) = tree.parent(id) else {
                    return Ok(Some(sel.clone()));
                };
                // As `Document::outdent_block` does, but with our origin so it
                // is undoable: following siblings become the block's children.
                let sibs = tree.siblings(&Some(parent.clone()));
                let i = sibs.iter().position(|s| s == id).unwrap_or(0);
                let mut ops = vec![Op::MoveBlock {
                    block: id.clone(),
                    to: Placement::After(parent),
                }];
                for f in sibs.iter().skip(i + 1) {
                    ops.push(Op::MoveBlock {
                        block: f.clone(),
                        to: Placement::LastChildOf(id.clone()),
                    });
                }
                self.apply_ops(&ops)?;
                Ok(Some(sel.clone()))
            }
            Intent::Undo => {
                self.undo.borrow_mut().undo_blocking();
                Ok(None)
            }
            Intent::Redo => {
                self.undo.borrow_mut().redo_blocking();
                Ok(None)
            }
        }
    }

    /// The marks set at a selection, as the toolbar shows them (`aria-pressed`):
    /// over a range, the marks every selected character has; at a caret, the
    /// marks of the character before it (none at a block start).
    pub fn active_marks(&self, sel: &Selection) -> Vec<MarkKind> {
        let tree = Tree::new(&self.doc);
        let ranges = if sel.is_collapsed() {
            let at = &sel.focus;
            if at.offset == 0 {
                return Vec::new();
            }
            vec![(at.block.clone(), at.offset - 1, at.offset)]
        } else {
            self.ranges(&tree, sel)
        };
        if ranges.is_empty() {
            return Vec::new();
        }
        let blocks: Vec<(Option<Block>, u32, u32)> = ranges
            .iter()
            .map(|(id, from, to)| (tree.block(id), *from, *to))
            .collect();
        MarkKind::ALL
            .into_iter()
            .filter(|kind| {
                blocks.iter().all(|(b, from, to)| {
                    b.as_ref()
                        .is_some_and(|b| runs_have(&b.content, *from, *to, *kind))
                })
            })
            .collect()
    }

    /// A selection moved into the document as it is now: blocks that no
    /// longer exist fall back to the first text block, offsets are clamped.
    pub fn clamp(&self, sel: Option<&Selection>) -> Option<Selection> {
        let fix = |p: &Pos| -> Option<Pos> {
            match self.doc.block_len(&p.block) {
                Ok(len) => Some(Pos::new(p.block.clone(), p.offset.min(len))),
                Err(_) => self.first_text_block().map(|b| Pos::new(b, 0)),
            }
        };
        match sel {
            Some(s) => Some(Selection::range(fix(&s.anchor)?, fix(&s.focus)?)),
            None => self
                .first_text_block()
                .map(|b| Selection::caret(Pos::new(b, 0))),
        }
    }

    fn first_text_block(&self) -> Option<BlockId> {
        let tree = Tree::new(&self.doc);
        tree.order()
            .iter()
            .find(|id| crate::render::is_text_block(&tree.kind(id)))
            .cloned()
    }

    fn units(&self, id: &BlockId) -> Result<Vec<u16>> {
        Ok(self.doc.block_plain_text(id)?.encode_utf16().collect())
    }

    /// Text ranges (block, from, to) covered by a selection, in reading order.
    fn ranges(&self, tree: &Tree, sel: &Selection) -> Vec<(BlockId, u32, u32)> {
        let (start, end) = ordered(tree, sel);
        if start.block == end.block {
            // Within one block: no need for the document's layout.
            let len = self.doc.block_len(&start.block).unwrap_or(0);
            let (from, to) = (start.offset.min(len), end.offset.min(len));
            if to > from && crate::render::is_text_block(&tree.kind(&start.block)) {
                return vec![(start.block, from, to)];
            }
            return Vec::new();
        }
        let (Some(a), Some(b)) = (tree.index(&start.block), tree.index(&end.block)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, id) in tree.order().iter().enumerate().take(b + 1).skip(a) {
            if !crate::render::is_text_block(&tree.kind(id)) {
                continue;
            }
            let len = self.doc.block_len(id).unwrap_or(0);
            let from = if i == a { start.offset.min(len) } else { 0 };
            let to = if i == b { end.offset.min(len) } else { len };
            if to > from {
                out.push((id.clone(), from, to));
            }
        }
        out
    }

    fn format(&self, ranges: &[(BlockId, u32, u32)], mark: &Mark, on: bool) -> Result<()> {
        let ops: Vec<Op> = ranges
            .iter()
            .map(|(id, from, to)| Op::Format {
                block: id.clone(),
                offset: *from,
                len: to - from,
                mark: mark.clone(),
                on,
            })
            .collect();
        self.apply_ops(&ops)?;
        Ok(())
    }

    fn split(&self, tree: &Tree, sel: &Selection) -> Result<Selection> {
        let (mut ops, at) = self.delete_range_ops(tree, sel)?;
        let kind = tree.kind(&at.block).to_owned();
        if !crate::render::is_text_block(&kind) {
            return Ok(sel.clone());
        }
        if kind == block_type::CODE_BLOCK {
            ops.push(Op::InsertText {
                block: at.block.clone(),
                offset: at.offset,
                text: "\n".into(),
                marks: None,
            });
            self.apply_ops(&ops)?;
            return Ok(Selection::caret(Pos::new(at.block, at.offset + 1)));
        }
        let is_list = matches!(
            kind.as_str(),
            block_type::BULLET_LIST_ITEM
                | block_type::NUMBERED_LIST_ITEM
                | block_type::CHECK_LIST_ITEM
        );
        let empty_after = ops.is_empty() && self.doc.block_len(&at.block)? == 0;
        if is_list && empty_after {
            // Enter in an empty list item leaves the list.
            let nested = tree.parent(&at.block).is_some();
            let intent = if nested {
                Intent::Outdent
            } else {
                Intent::SetBlockType(BlockKind::plain(block_type::PARAGRAPH))
            };
            return Ok(self
                .apply(&intent, &Selection::caret(at.clone()))?
                .unwrap_or_else(|| Selection::caret(at)));
        }
        ops.push(Op::SplitBlock {
            block: at.block.clone(),
            offset: at.offset,
        });
        let out = self.apply_ops(&ops)?;
        match out.last() {
            Some(OpOutcome::Created { ids }) if !ids.is_empty() => {
                Ok(Selection::caret(Pos::new(ids[0].clone(), 0)))
            }
            _ => Ok(Selection::caret(at)),
        }
    }
}

/// The operations that replace a whole document with `blocks`.
pub fn replace_blocks_ops(doc: &Document, mut blocks: Vec<NewBlock>) -> Vec<Op> {
    if blocks.is_empty() {
        blocks.push(NewBlock::paragraph(""));
    }
    let mut ops: Vec<Op> = doc
        .blocks()
        .iter()
        .map(|b| Op::DeleteBlock {
            block: b.id.clone(),
        })
        .collect();
    ops.push(Op::InsertBlocks {
        at: Placement::End,
        blocks,
    });
    ops
}

fn text_rules_editable(kind: &str) -> bool {
    crate::render::is_text_block(kind)
}

fn update_op(id: &BlockId, k: &BlockKind) -> Op {
    Op::UpdateBlock {
        block: id.clone(),
        kind: Some(k.kind.to_owned()),
        props: k.props.clone(),
    }
}

fn divider_after(id: &BlockId) -> Op {
    Op::InsertBlocks {
        at: Placement::After(id.clone()),
        blocks: vec![NewBlock::text(block_type::DIVIDER, "")],
    }
}

/// Anchor and focus in reading order.
fn ordered(tree: &Tree, sel: &Selection) -> (Pos, Pos) {
    let anchor_first = if sel.anchor.block == sel.focus.block {
        sel.anchor.offset <= sel.focus.offset
    } else {
        match (tree.index(&sel.anchor.block), tree.index(&sel.focus.block)) {
            (Some(a), Some(f)) => a < f,
            _ => sel.anchor.offset <= sel.focus.offset,
        }
    };
    if anchor_first {
        (sel.anchor.clone(), sel.focus.clone())
    } else {
        (sel.focus.clone(), sel.anchor.clone())
    }
}

/// Whether every character in `from..to` of the runs carries the mark.
fn runs_have(runs: &[InlineRun], from: u32, to: u32, kind: MarkKind) -> bool {
    let mut start = 0u32;
    for r in runs {
        let end = start + text_rules::utf16_len(&r.text);
        if end > from && start < to && !r.text.chars().all(|c| c == '\n') && !kind.is_set(&r.marks)
        {
            return false;
        }
        start = end;
    }
    true
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
