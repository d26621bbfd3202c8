//! The editing surface's DOM, rendered from block snapshots and keyed by
//! block id: a block whose own look (type, props, text) did not change keeps
//! its elements, so a change re-renders only the blocks it touched and the
//! browser's caret and IME state elsewhere are left alone.
//!
//! Each block is `div.atelier-block[data-block-id]` holding an optional
//! prefix (a check-list checkbox), its content element (see
//! [`crate::render::block_content`]) and, when it has children, a
//! `div.atelier-children` with their blocks.
//!
//! Top-level blocks sit in `div.atelier-chunk`s of about
//! [`CHUNK_SPREAD`] blocks (see [`partition`]), each with
//! `content-visibility: auto`: the browser skips style, layout and paint of
//! the chunks off screen and, per frame, checks a few hundred chunks rather
//! than every block of a long document.

use crate::render::{self, BlockLook, RenderLabels, VNode};
use crate::text_rules;
use atelier_doc::{Block, BlockChanges, BlockId, OutlineNode};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node};

/// Class of the element that holds a block's children.
const CHILDREN_CLASS: &str = "atelier-children";
/// Class of the elements that group top-level blocks.
pub const CHUNK_CLASS: &str = "atelier-chunk";
/// A chunk starts at about one top-level block in this many...
const CHUNK_SPREAD: u32 = 32;
/// ...and, unless a numbered list runs on, holds at most this many.
const CHUNK_MAX: usize = 128;

/// Splits top-level blocks into chunks (ranges of `ids`). A block starts a
/// chunk when its id hashes to a multiple of [`CHUNK_SPREAD`] or the chunk
/// reached [`CHUNK_MAX`] blocks, but never inside a run of numbered items
/// (a chunk's containment would restart their counter). The split is a
/// function of the ids and their types alone, so an incremental render
/// equals a fresh one; a hashed boundary depends only on its own block, so
/// an edit moves few blocks between chunks (boundaries forced by
/// [`CHUNK_MAX`], in a rare stretch of 128 blocks with no hashed one, shift
/// up to the next hashed one).
pub fn partition(ids: &[BlockId], numbered: impl Fn(&BlockId) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..ids.len() {
        let in_run = numbered(&ids[i]) && numbered(&ids[i - 1]);
        let head = fnv1a(ids[i].as_str().as_bytes()).is_multiple_of(CHUNK_SPREAD);
        if !in_run && (head || i - start >= CHUNK_MAX) {
            out.push(start..i);
            start = i;
        }
    }
    if !ids.is_empty() {
        out.push(start..ids.len());
    }
    out
}

/// Whether a block is a numbered list item (its counter must not cross a
/// chunk boundary).
fn is_numbered(look: &BlockLook) -> bool {
    look.kind == atelier_doc::schema::block_type::NUMBERED_LIST_ITEM
}

/// 32-bit FNV-1a: a fixed, cheap hash (no random seed, so every replica and
/// every render splits a document the same way).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// One chunk of top-level blocks.
struct Chunk {
    el: Element,
    ids: Vec<BlockId>,
    /// The `contain-intrinsic-block-size` set on it.
    intrinsic: String,
}

impl Chunk {
    /// Sets `contain-intrinsic-block-size` (the height only: a width would
    /// widen the editor in a flex row) if it changed, through the CSSOM (not a
    /// `style` attribute: allowed under a CSP that forbids inline styles).
    fn set_intrinsic(&mut self, intrinsic: String) -> Result<(), JsValue> {
        if self.intrinsic != intrinsic
            && let Some(el) = self.el.dyn_ref::<web_sys::HtmlElement>()
        {
            el.style()
                .set_property("contain-intrinsic-block-size", &intrinsic)?;
            self.intrinsic = intrinsic;
        }
        Ok(())
    }
}

struct Rendered {
    wrapper: Element,
    content: Element,
    children: Option<Element>,
    /// The ids last laid out in `children`, in order.
    child_ids: Vec<BlockId>,
    look: BlockLook,
    /// Words in the block's own text.
    words: usize,
    /// Estimated lines of its own text ([`render::estimated_lines`]).
    lines: u32,
    /// The virtual tree `content` was built from (for in-place text patches).
    vcontent: VNode,
}

/// The keyed renderer of one editing surface.
pub struct Surface {
    root: Element,
    labels: RenderLabels,
    blocks: HashMap<BlockId, Rendered>,
    /// The ids last laid out at the top level, in order.
    root_ids: Vec<BlockId>,
    /// The chunks of `root_ids`, in order.
    chunks: Vec<Chunk>,
    /// The chunk of each top-level block (an index into `chunks`).
    chunk_of: HashMap<BlockId, usize>,
    /// Whether a block became or stopped being a numbered item, which may
    /// move a chunk boundary.
    rechunk: bool,
    /// Blocks to rebuild on the next render whatever changed.
    stale: HashSet<BlockId>,
    /// The stale blocks of the render in progress: rebuilt, never patched
    /// in place (the browser changed their DOM, e.g. an IME composition).
    forced: HashSet<BlockId>,
    /// Ids the last layout met more than once (concurrent moves): when a
    /// copy goes, no change names the block, and the copy shown may be the
    /// one that went, so the next layout re-reads them.
    duplicated: HashSet<BlockId>,
    /// Whether the next render checks every list's DOM order (after the
    /// browser may have moved or removed block elements itself).
    verify_order: bool,
    /// Words in all rendered blocks.
    words: usize,
    /// How many blocks the last render rebuilt (for tests and benchmarks).
    pub last_rebuilt: usize,
    /// How many blocks the last render patched in place (text only).
    pub last_patched: usize,
}

impl std::fmt::Debug for Surface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Surface")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

impl Surface {
    /// A renderer that owns the children of `root` (the contenteditable element).
    pub fn new(root: Element, labels: RenderLabels) -> Self {
        Surface {
            root,
            labels,
            blocks: HashMap::new(),
            root_ids: Vec::new(),
            chunks: Vec::new(),
            chunk_of: HashMap::new(),
            rechunk: false,
            stale: HashSet::new(),
            forced: HashSet::new(),
            duplicated: HashSet::new(),
            verify_order: true,
            words: 0,
            last_rebuilt: 0,
            last_patched: 0,
        }
    }

    /// The contenteditable element.
    pub fn root(&self) -> &Element {
        &self.root
    }

    /// The content element of a block, if rendered.
    pub fn content_of(&self, id: &BlockId) -> Option<&Element> {
        self.blocks.get(id).map(|r| &r.content)
    }

    /// Makes the next render rebuild a block and check the DOM order of
    /// every list (after the browser changed the DOM itself, e.g. during
    /// IME composition).
    pub fn invalidate(&mut self, id: &BlockId) {
        self.stale.insert(id.clone());
        self.verify_order = true;
    }

    /// Words in the document's text blocks.
    pub fn word_count(&self) -> usize {
        self.words
    }

    /// Whether the document is one empty paragraph (the placeholder shows).
    pub fn is_blank(&self) -> bool {
        match self.root_ids.as_slice() {
            [] => true,
            [only] => self.blocks.get(only).is_none_or(|r| {
                r.look.kind == atelier_doc::schema::block_type::PARAGRAPH
                    && r.look.content.is_empty()
            }),
            _ => false,
        }
    }

    /// Brings the DOM in line with the model after `changes`: only the
    /// blocks named there are re-read (and rebuilt if their look changed);
    /// the block tree is re-read only when blocks were added, removed or
    /// moved, and a list's DOM order is touched only when its ids changed.
    pub fn render(
        &mut self,
        doc: &atelier_doc::Document,
        changes: &BlockChanges,
    ) -> Result<(), JsValue> {
        let dom = self
            .root
            .owner_document()
            .ok_or_else(|| JsValue::from_str("surface is not in a document"))?;
        self.last_rebuilt = 0;
        self.last_patched = 0;
        let mut reread: HashSet<BlockId> = std::mem::take(&mut self.stale);
        self.forced = reread.clone();
        reread.extend(changes.blocks.iter().cloned());
        if changes.structure || self.verify_order || self.blocks.is_empty() {
            reread.extend(std::mem::take(&mut self.duplicated));
            let outline = doc.outline();
            let mut seen = HashSet::new();
            let root = self.root.clone();
            let verify = std::mem::take(&mut self.verify_order);
            let ids =
                self.layout_list(&dom, doc, &root, None, &outline, &reread, verify, &mut seen)?;
            self.root_ids = ids;
            let mut gone = 0;
            self.blocks.retain(|id, r| {
                let keep = seen.contains(id);
                if !keep {
                    gone += r.words;
                }
                keep
            });
            self.words -= gone;
        } else {
            for id in &reread {
                if self.blocks.contains_key(id) {
                    self.refresh(&dom, doc, id)?;
                }
            }
            if self.rechunk {
                let ids = self.root_ids.clone();
                self.layout_chunks(&dom, &ids, false)?;
            }
        }
        Ok(())
    }

    /// Re-reads one block and rebuilds it if its look changed. Returns
    /// whether the block exists.
    fn refresh(
        &mut self,
        dom: &Document,
        doc: &atelier_doc::Document,
        id: &BlockId,
    ) -> Result<bool, JsValue> {
        let Ok(b) = doc.block_shallow(id) else {
            return Ok(false);
        };
        let look = BlockLook::of(&b);
        if self
            .blocks
            .get(id)
            .is_some_and(|r| is_numbered(&r.look) != is_numbered(&look))
        {
            self.rechunk = true;
        }
        // A stale block (the browser changed its DOM) is rebuilt whatever
        // its look; a patch that cannot apply falls back to a rebuild.
        let forced = self.forced.contains(id);
        let changed = self.blocks.get(id).is_none_or(|r| r.look != look);
        if forced || (changed && !self.patch_text(&b, &look).unwrap_or(false)) {
            self.rebuild(dom, &b, look)?;
            self.last_rebuilt += 1;
        }
        Ok(true)
    }

    /// Lays out one list of blocks under `parent`; returns the ids placed.
    #[allow(clippy::too_many_arguments)]
    fn layout_list(
        &mut self,
        dom: &Document,
        doc: &atelier_doc::Document,
        parent: &Element,
        owner: Option<&BlockId>,
        nodes: &[OutlineNode],
        reread: &HashSet<BlockId>,
        verify: bool,
        seen: &mut HashSet<BlockId>,
    ) -> Result<Vec<BlockId>, JsValue> {
        let mut placed: Vec<BlockId> = Vec::with_capacity(nodes.len());
        for node in nodes {
            // A duplicated id (never written by BlockNote) renders once.
            if !seen.insert(node.id.clone()) {
                self.duplicated.insert(node.id.clone());
                continue;
            }
            let known = self.blocks.contains_key(&node.id);
            if (!known || reread.contains(&node.id)) && !self.refresh(dom, doc, &node.id)? {
                continue;
            }
            let Some(r) = self.blocks.get(&node.id) else {
                continue;
            };
            let wrapper = r.wrapper.clone();
            let children_el = r.children.clone();
            if node.children.is_empty() {
                if let Some(c) = children_el {
                    c.remove();
                    if let Some(r) = self.blocks.get_mut(&node.id) {
                        r.children = None;
                        r.child_ids.clear();
                    }
                }
            } else {
                let c = match children_el {
                    Some(c) => c,
                    None => {
                        let c = dom.create_element("div")?;
                        c.set_attribute("class", CHILDREN_CLASS)?;
                        c.set_attribute("role", "group")?;
                        wrapper.append_child(&c)?;
                        if let Some(r) = self.blocks.get_mut(&node.id) {
                            r.children = Some(c.clone());
                            r.child_ids.clear();
                        }
                        c
                    }
                };
                let ids = self.layout_list(
                    dom,
                    doc,
                    &c,
                    Some(&node.id),
                    &node.children,
                    reread,
                    verify,
                    seen,
                )?;
                if let Some(r) = self.blocks.get_mut(&node.id) {
                    r.child_ids = ids;
                }
            }
            placed.push(node.id.clone());
        }
        match owner {
            Some(id) => {
                let unchanged = self.blocks.get(id).is_some_and(|r| r.child_ids == placed);
                if verify || !unchanged {
                    self.order_dom(parent, &placed)?;
                }
            }
            None => {
                if verify || self.rechunk || self.root_ids != placed {
                    self.layout_chunks(dom, &placed, verify)?;
                }
            }
        }
        Ok(placed)
    }

    /// Groups the top-level blocks `ids` into chunks under the root
    /// ([`partition`]). A chunk keeps its element while it starts with the
    /// same block; only chunks whose blocks changed are re-ordered.
    fn layout_chunks(
        &mut self,
        dom: &Document,
        ids: &[BlockId],
        verify: bool,
    ) -> Result<(), JsValue> {
        self.rechunk = false;
        let ranges = partition(ids, |id| {
            self.blocks.get(id).is_some_and(|r| is_numbered(&r.look))
        });
        let mut old: HashMap<BlockId, Chunk> = std::mem::take(&mut self.chunks)
            .into_iter()
            .filter_map(|c| Some((c.ids.first()?.clone(), c)))
            .collect();
        let mut chunks = Vec::with_capacity(ranges.len());
        self.chunk_of.clear();
        for range in ranges {
            let group = &ids[range];
            let (el, same, intrinsic) = match old.remove(&group[0]) {
                Some(c) => {
                    let same = c.ids == group;
                    (c.el, same, c.intrinsic)
                }
                None => {
                    let el = dom.create_element("div")?;
                    el.set_attribute("class", CHUNK_CLASS)?;
                    (el, false, String::new())
                }
            };
            if verify || !same {
                self.order_dom(&el, group)?;
            }
            for id in group {
                self.chunk_of.insert(id.clone(), chunks.len());
            }
            let mut chunk = Chunk {
                el,
                ids: group.to_vec(),
                intrinsic,
            };
            chunk.set_intrinsic(self.chunk_intrinsic(group))?;
            chunks.push(chunk);
        }
        // Chunks that no longer start a group leave before the others are
        // placed, so those after them are not moved one by one.
        for c in old.values() {
            c.el.remove();
        }
        order_nodes(&self.root, chunks.iter().map(|c| c.el.as_ref()))?;
        self.chunks = chunks;
        Ok(())
    }

    /// A chunk's `contain-intrinsic-block-size`: the height the browser
    /// assumes before it lays the chunk out (then it remembers the real one),
    /// so the scrollbar of a long document is close to right before it is
    /// scrolled. It counts the estimated lines of the top-level blocks' own
    /// text; nested blocks are left out, so an edit deep in a list need not
    /// find its chunk.
    fn chunk_intrinsic(&self, ids: &[BlockId]) -> String {
        let lines: u32 = ids
            .iter()
            .filter_map(|id| self.blocks.get(id))
            .map(|r| r.lines)
            .sum();
        format!("auto calc({} * 1.6em)", lines.max(1))
    }

    /// Re-sizes the chunk of top-level block `id` after its text changed.
    fn resize_chunk_of(&mut self, id: &BlockId) -> Result<(), JsValue> {
        let Some(&k) = self.chunk_of.get(id) else {
            return Ok(());
        };
        let Some(ids) = self.chunks.get(k).map(|c| c.ids.as_slice()) else {
            return Ok(());
        };
        let intrinsic = self.chunk_intrinsic(ids);
        match self.chunks.get_mut(k) {
            Some(chunk) => chunk.set_intrinsic(intrinsic),
            None => Ok(()),
        }
    }

    /// Makes `parent`'s child nodes exactly the wrappers of `ids`, in order.
    /// Nodes that are not wrappers of `ids` (deleted blocks, blocks bound
    /// for another list, strays) leave first, so the blocks after them stay
    /// put instead of being moved in front of them one by one.
    fn order_dom(&self, parent: &Element, ids: &[BlockId]) -> Result<(), JsValue> {
        let wanted: HashSet<&str> = ids.iter().map(BlockId::as_str).collect();
        let kids = parent.child_nodes();
        let mut i = kids.length();
        while i > 0 {
            i -= 1;
            let Some(node) = kids.item(i) else { continue };
            let keep = node
                .dyn_ref::<Element>()
                .and_then(|e| e.get_attribute("data-block-id"))
                .is_some_and(|id| wanted.contains(id.as_str()));
            if !keep {
                parent.remove_child(&node)?;
            }
        }
        order_nodes(
            parent,
            ids.iter()
                .filter_map(|id| self.blocks.get(id))
                .map(|r| r.wrapper.as_ref()),
        )
    }

    /// When only text changed (same type, props, marks and node shape),
    /// edits the existing text nodes in place (`replaceData` on the changed
    /// span) instead of rebuilding the block: the browser keeps the block's
    /// layout objects and reshapes incrementally. Returns whether it did.
    fn patch_text(&mut self, b: &Block, look: &BlockLook) -> Result<bool, JsValue> {
        let Some(r) = self.blocks.get(&b.id) else {
            return Ok(false);
        };
        if r.look.kind != look.kind || r.look.props != look.props || r.look.table != look.table {
            return Ok(false);
        }
        let vnew = render::block_content(b, &self.labels);
        if !same_shape(&r.vcontent, &vnew) {
            return Ok(false);
        }
        // Every text node to change is checked against the text it was
        // built with before any is touched: all or nothing.
        let content: Node = r.content.clone().into();
        let mut edits = Vec::new();
        if !text_edits(&content, &r.vcontent, &vnew, &mut edits) {
            return Ok(false);
        }
        for (node, old, new) in edits {
            replace_changed_span(&node, old, new)?;
        }
        let words = text_rules::block_words(b);
        let lines = render::estimated_lines(b);
        let Some(r) = self.blocks.get_mut(&b.id) else {
            return Ok(false);
        };
        let resize = r.lines != lines;
        self.words = self.words - r.words + words;
        r.words = words;
        r.lines = lines;
        r.look = look.clone();
        r.vcontent = vnew;
        self.last_patched += 1;
        if resize {
            self.resize_chunk_of(&b.id)?;
        }
        Ok(true)
    }

    fn rebuild(&mut self, doc: &Document, b: &Block, look: BlockLook) -> Result<(), JsValue> {
        let words = text_rules::block_words(b);
        let vcontent = render::block_content(b, &self.labels);
        let content = build(doc, &vcontent)?;
        let content: Element = content.dyn_into()?;
        let prefix = match render::block_prefix(b, &self.labels) {
            Some(p) => Some(build(doc, &p)?),
            None => None,
        };
        let wrapper = match self.blocks.get(&b.id) {
            Some(r) => {
                let w = r.wrapper.clone();
                // Drop everything but the children container.
                let mut i = 0;
                while let Some(n) = w.child_nodes().item(i) {
                    if r.children.as_ref().map(|c| c.as_ref() as &Node) == Some(&n) {
                        i += 1;
                    } else {
                        w.remove_child(&n)?;
                    }
                }
                w
            }
            None => doc.create_element("div")?,
        };
        // Touch only the attributes that differ: a style change on a block
        // element (its type feeds list counters and sibling selectors) makes
        // the browser restyle and re-lay out the blocks after it.
        let attrs = render::wrapper_attrs(b);
        let names = wrapper.get_attribute_names();
        for name in names.iter() {
            if let Some(n) = name.as_string()
                && n != "style"
                && !attrs.iter().any(|(k, _)| *k == n)
            {
                wrapper.remove_attribute(&n)?;
            }
        }
        for (k, v) in attrs {
            if wrapper.get_attribute(k).as_deref() != Some(v.as_str()) {
                wrapper.set_attribute(k, &v)?;
            }
        }
        let lines = render::estimated_lines(b);
        let resize = self.blocks.get(&b.id).is_some_and(|r| r.lines != lines);
        let first = wrapper.first_child();
        if let Some(p) = &prefix {
            wrapper.insert_before(p, first.as_ref())?;
        }
        let first = wrapper.child_nodes().item(u32::from(prefix.is_some()));
        wrapper.insert_before(&content, first.as_ref())?;
        let (children, child_ids, old_words) = match self.blocks.get(&b.id) {
            Some(r) => (r.children.clone(), r.child_ids.clone(), r.words),
            None => (None, Vec::new(), 0),
        };
        self.words = self.words - old_words + words;
        self.blocks.insert(
            b.id.clone(),
            Rendered {
                wrapper,
                content,
                children,
                child_ids,
                look,
                words,
                lines,
                vcontent,
            },
        );
        if resize {
            self.resize_chunk_of(&b.id)?;
        }
        Ok(())
    }
}

/// Makes `parent`'s child nodes exactly `nodes`, in order, moving only the
/// ones out of place and removing the rest.
fn order_nodes<'a>(parent: &Element, nodes: impl Iterator<Item = &'a Node>) -> Result<(), JsValue> {
    let mut i = 0u32;
    for node in nodes {
        let current = parent.child_nodes().item(i);
        if current.as_ref() != Some(node) {
            parent.insert_before(node, current.as_ref())?;
        }
        i += 1;
    }
    while let Some(extra) = parent.child_nodes().item(i) {
        parent.remove_child(&extra)?;
    }
    Ok(())
}

/// Whether two virtual trees differ at most in the strings of text nodes.
fn same_shape(a: &VNode, b: &VNode) -> bool {
    match (a, b) {
        (VNode::Text(x), VNode::Text(y)) => !x.is_empty() && !y.is_empty(),
        (
            VNode::Element {
                tag: ta,
                attrs: aa,
                children: ca,
            },
            VNode::Element {
                tag: tb,
                attrs: ab,
                children: cb,
            },
        ) => {
            ta == tb
                && aa == ab
                && ca.len() == cb.len()
                && ca.iter().zip(cb).all(|(x, y)| same_shape(x, y))
        }
        _ => false,
    }
}

/// Collects, for two same-shaped trees, the text nodes under `node` (built
/// from `old`) whose text changed, with their old and new strings. Returns
/// false if the DOM no longer matches `old` (a node missing, not a text
/// node, or holding other text), so the caller rebuilds instead.
fn text_edits<'a>(
    node: &Node,
    old: &'a VNode,
    new: &'a VNode,
    out: &mut Vec<(web_sys::CharacterData, &'a str, &'a str)>,
) -> bool {
    match (old, new) {
        (VNode::Text(x), VNode::Text(y)) => {
            if x == y {
                return true;
            }
            match node.dyn_ref::<web_sys::Text>() {
                Some(t) if t.data() == *x => {
                    out.push((t.clone().into(), x.as_str(), y.as_str()));
                    true
                }
                _ => false,
            }
        }
        (VNode::Element { children: co, .. }, VNode::Element { children: cn, .. }) => {
            let kids = node.child_nodes();
            kids.length() as usize == co.len()
                && co.iter().zip(cn).enumerate().all(|(i, (o, n))| {
                    kids.item(i as u32)
                        .is_some_and(|child| text_edits(&child, o, n, out))
                })
        }
        _ => false,
    }
}

/// Replaces, in `text` (holding `old`), the span where `old` and `new`
/// differ: one `replaceData` between their common UTF-16 prefix and suffix,
/// never splitting a surrogate pair.
fn replace_changed_span(
    text: &web_sys::CharacterData,
    old: &str,
    new: &str,
) -> Result<(), JsValue> {
    let a: Vec<u16> = old.encode_utf16().collect();
    let b: Vec<u16> = new.encode_utf16().collect();
    let mut pre = a.iter().zip(&b).take_while(|(p, q)| p == q).count();
    if pre > 0 && (0xD800..0xDC00).contains(&a[pre - 1]) {
        pre -= 1;
    }
    let max_suf = a.len().min(b.len()) - pre;
    let mut suf = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suf)
        .take_while(|(p, q)| p == q)
        .count();
    if suf > 0 && (0xDC00..0xE000).contains(&a[a.len() - suf]) {
        suf -= 1;
    }
    let data = String::from_utf16_lossy(&b[pre..b.len() - suf]);
    text.replace_data(pre as u32, (a.len() - suf - pre) as u32, &data)
}

/// Creates DOM nodes for a virtual node (attributes and text only: nothing
/// is ever parsed as HTML).
pub fn build(doc: &Document, v: &VNode) -> Result<Node, JsValue> {
    match v {
        VNode::Text(t) => Ok(doc.create_text_node(t).into()),
        VNode::Element {
            tag,
            attrs,
            children,
        } => {
            let el = doc.create_element(tag)?;
            for (k, val) in attrs {
                el.set_attribute(k, val)?;
            }
            for c in children {
                el.append_child(&build(doc, c)?)?;
            }
            Ok(el.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize, tag: &str) -> Vec<BlockId> {
        (0..n)
            .map(|i| BlockId::from(format!("{tag}-{i}")))
            .collect()
    }

    #[test]
    fn chunks_cover_every_block_in_order_at_about_the_spread() {
        let ids = ids(10_000, "b");
        let parts = partition(&ids, |_| false);
        assert_eq!(parts.first().map(|r| r.start), Some(0));
        assert_eq!(parts.last().map(|r| r.end), Some(ids.len()));
        assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
        assert!(parts.iter().all(|r| !r.is_empty() && r.len() <= CHUNK_MAX));
        let mean = ids.len() / parts.len();
        assert!((16..=64).contains(&mean), "mean chunk {mean}");
        assert!(partition(&[], |_| false).is_empty());
    }

    #[test]
    fn a_numbered_run_is_never_split() {
        let ids = ids(2_000, "n");
        // Blocks 100..900 are one numbered list, longer than CHUNK_MAX.
        let numbered = |id: &BlockId| {
            let i: usize = id.as_str()[2..].parse().unwrap_or(0);
            (100..900).contains(&i)
        };
        let parts = partition(&ids, numbered);
        assert!(
            parts.iter().all(|r| r.start <= 100 || r.start >= 900),
            "{parts:?}"
        );
        assert!(
            parts.iter().any(|r| r.start >= 900),
            "chunks resume after the list"
        );
    }

    #[test]
    fn an_insertion_moves_few_blocks_between_chunks() {
        let mut ids = ids(3_000, "c");
        let before = partition(&ids, |_| false);
        ids.insert(1_500, BlockId::from("new"));
        let after = partition(&ids, |_| false);
        let heads = |ids: &[BlockId], p: &[Range<usize>]| -> HashSet<BlockId> {
            p.iter().map(|r| ids[r.start].clone()).collect()
        };
        let mut old_ids = ids.clone();
        old_ids.remove(1_500);
        let old = heads(&old_ids, &before);
        let new = heads(&ids, &after);
        assert!(
            old.symmetric_difference(&new).count() <= 2,
            "chunk heads changed far away"
        );
    }
}
