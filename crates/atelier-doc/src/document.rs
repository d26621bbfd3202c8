//! [`Document`]: one collaborative document and the typed operations on it.

use crate::block::{Block, BlockId, InlineRun, NewBlock, any_to_json, json_to_any};
use crate::depth::{self, MAX_NESTING_DEPTH, MAX_READ_DEPTH};
use crate::error::{Error, Result};
use crate::inline::{self, Mark};
use crate::schema::{self, BLOCK_CONTAINER, BLOCK_GROUP, ID_ATTR, block_type, table};
use crate::xml_copy::{self, XmlSnapshot};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, Hook, OffsetKind, Options, Out, ReadTxn, SharedRef, StateVector, Transact,
    TransactionMut, Update, Xml, XmlElementPrelim, XmlElementRef, XmlFragment, XmlFragmentRef,
    XmlOut,
};

/// Where to put blocks relative to an existing one.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "at", content = "block", rename_all = "camelCase")]
pub enum Placement {
    /// At the very start of the document.
    Start,
    /// At the very end of the document.
    End,
    /// Right before this block, as its sibling.
    Before(BlockId),
    /// Right after this block, as its sibling.
    After(BlockId),
    /// As the first child of this block.
    FirstChildOf(BlockId),
    /// As the last child of this block.
    LastChildOf(BlockId),
}

/// One node of [`Document::outline`]: a block id and its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineNode {
    /// The block.
    pub id: BlockId,
    /// Its nested blocks.
    pub children: Vec<OutlineNode>,
}

/// Where a block sits: its container and the group holding it.
#[derive(Clone)]
pub(crate) struct Located {
    pub container: XmlElementRef,
    pub group: XmlElementRef,
}

impl Located {
    /// The container's index among the group's children (a walk of the
    /// siblings: only mutations need it, so it is not computed up front).
    pub fn index<T: ReadTxn>(&self, txn: &T) -> u32 {
        let target: &yrs::branch::Branch = self.container.as_ref();
        self.group
            .children(txn)
            .position(|c| match c {
                XmlOut::Element(e) => std::ptr::eq(e.as_ref() as &yrs::branch::Branch, target),
                _ => false,
            })
            .map_or(0, |i| i as u32)
    }
}

/// One collaborative document: a [`yrs::Doc`] holding BlockNote's block tree
/// in the fragment [`schema::FRAGMENT`].
///
/// ```
/// use atelier_doc::{Document, NewBlock, Placement};
/// let doc = Document::new();
/// doc.ensure_initialized();
/// let ids = doc.insert_blocks(&Placement::End, &[NewBlock::paragraph("Bonjour")]).unwrap();
/// doc.insert_text(&ids[0], 7, " à tous").unwrap();
/// assert_eq!(doc.block_plain_text(&ids[0]).unwrap(), "Bonjour à tous");
/// ```
pub struct Document {
    doc: Doc,
    fragment: XmlFragmentRef,
    id_counter: Cell<u64>,
    /// Block id → its container, as a logical reference that resolves only
    /// while the container is alive; rebuilt by one tree walk on a miss.
    index: RefCell<HashMap<String, Hook<XmlElementRef>>>,
}

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("client_id", &self.doc.client_id())
            .finish_non_exhaustive()
    }
}

/// The options every Atelier `Doc` uses: offsets in UTF-16 units, like Yjs.
pub fn doc_options() -> Options {
    Options {
        offset_kind: OffsetKind::Utf16,
        ..Default::default()
    }
}

impl Document {
    /// A new empty document with a random client id.
    pub fn new() -> Self {
        Self::from_doc(Doc::with_options(doc_options()))
    }

    /// A new empty document with a fixed client id (tests, replays).
    pub fn with_client_id(client_id: u64) -> Self {
        Self::from_doc(Doc::with_options(Options {
            client_id: yrs::block::ClientID::new(client_id),
            ..doc_options()
        }))
    }

    /// Wraps an existing doc. It should count offsets in UTF-16 (see [`doc_options`]).
    pub fn from_doc(doc: Doc) -> Self {
        let fragment = doc.get_or_insert_xml_fragment(schema::FRAGMENT);
        Document {
            doc,
            fragment,
            id_counter: Cell::new(0),
            index: RefCell::new(HashMap::new()),
        }
    }

    /// A document loaded from a Yjs v1 update (e.g. a stored full state).
    pub fn from_update_v1(bytes: &[u8]) -> Result<Self> {
        let d = Self::new();
        d.apply_update_v1(bytes)?;
        Ok(d)
    }

    /// Applies a Yjs v1 update from a peer; malformed bytes change nothing.
    pub fn apply_update_v1(&self, bytes: &[u8]) -> Result<()> {
        let update = Update::decode_v1(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        let mut txn = self.doc.transact_mut();
        txn.apply_update(update)
            .map_err(|e| Error::Malformed(e.to_string()))
    }

    /// Applies a Yjs v1 update in a transaction whose origin is `origin`
    /// (so an undo history of that origin takes it as one step);
    /// malformed bytes change nothing.
    pub fn apply_update_v1_with_origin(&self, bytes: &[u8], origin: &str) -> Result<()> {
        let update = Update::decode_v1(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        let mut txn = self.doc.transact_mut_with(origin);
        txn.apply_update(update)
            .map_err(|e| Error::Malformed(e.to_string()))
    }

    /// The full state as a Yjs v1 update.
    pub fn encode_state_v1(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The encoded state vector (what a peer sends in sync step 1).
    pub fn state_vector_v1(&self) -> Vec<u8> {
        use yrs::updates::encoder::Encode;
        self.doc.transact().state_vector().encode_v1()
    }

    /// What a peer with the encoded state vector `sv` lacks, as a v1 update.
    pub fn diff_v1(&self, sv: &[u8]) -> Result<Vec<u8>> {
        let sv = StateVector::decode_v1(sv).map_err(|e| Error::Malformed(e.to_string()))?;
        Ok(self.doc.transact().encode_state_as_update_v1(&sv))
    }

    /// The underlying yrs document.
    pub fn ydoc(&self) -> &Doc {
        &self.doc
    }

    /// The rich-text fragment.
    pub fn fragment(&self) -> &XmlFragmentRef {
        &self.fragment
    }

    // ----- reading -------------------------------------------------------

    /// Every block of the document, in order, as a snapshot. Blocks of every
    /// root group are read (a stray group from a concurrent initialisation
    /// is not hidden).
    pub fn blocks(&self) -> Vec<Block> {
        let txn = self.doc.transact();
        let mut out = Vec::new();
        for group in root_groups(&txn, &self.fragment) {
            read_group(&txn, &group, 1, &mut out);
        }
        out
    }

    /// One block (with its children) by id.
    pub fn block(&self, id: &BlockId) -> Result<Block> {
        let txn = self.doc.transact();
        let loc = self.locate(&txn, id)?;
        let depth = depth::depth_of(&loc.container);
        read_container(&txn, &loc.container, depth)
            .ok_or_else(|| Error::BlockNotFound(id.to_string()))
    }

    /// One block by id without its children (what rendering one block needs).
    pub fn block_shallow(&self, id: &BlockId) -> Result<Block> {
        let txn = self.doc.transact();
        let loc = self.locate(&txn, id)?;
        read_container_shallow(&txn, &loc.container)
            .ok_or_else(|| Error::BlockNotFound(id.to_string()))
    }

    /// A block's type (the tag of its content node).
    pub fn block_kind(&self, id: &BlockId) -> Result<String> {
        let txn = self.doc.transact();
        Ok(self.content_of(&txn, id)?.tag().to_string())
    }

    /// The block a block is nested in (`None` at the top level).
    pub fn parent_of(&self, id: &BlockId) -> Result<Option<BlockId>> {
        let txn = self.doc.transact();
        let loc = self.locate(&txn, id)?;
        Ok(match loc.group.parent() {
            Some(XmlOut::Element(c)) if c.tag().as_ref() == BLOCK_CONTAINER => {
                container_id(&txn, &c).map(BlockId)
            }
            _ => None,
        })
    }

    /// The block tree as ids only, in reading order: what laying out the
    /// blocks needs, without reading any text.
    pub fn outline(&self) -> Vec<OutlineNode> {
        fn go<T: ReadTxn>(
            txn: &T,
            group: &XmlElementRef,
            depth: usize,
            out: &mut Vec<OutlineNode>,
        ) {
            for c in group.children(txn) {
                if let XmlOut::Element(container) = c
                    && container.tag().as_ref() == BLOCK_CONTAINER
                {
                    let mut node = OutlineNode {
                        id: BlockId(container_id(txn, &container).unwrap_or_default()),
                        children: Vec::new(),
                    };
                    if let Some(g) = nested_group(txn, &container, depth + 1) {
                        go(txn, &g, depth + 2, &mut node.children);
                    }
                    out.push(node);
                }
            }
        }
        let txn = self.doc.transact();
        let mut out = Vec::new();
        for group in root_groups(&txn, &self.fragment) {
            go(&txn, &group, 1, &mut out);
        }
        out
    }

    /// A block's text (hard breaks as `\n`).
    pub fn block_plain_text(&self, id: &BlockId) -> Result<String> {
        let txn = self.doc.transact();
        let content = self.content_of(&txn, id)?;
        Ok(inline::plain_text(&txn, &content))
    }

    /// A block's text length in UTF-16 units (inline elements count one).
    pub fn block_len(&self, id: &BlockId) -> Result<u32> {
        let txn = self.doc.transact();
        let content = self.content_of(&txn, id)?;
        Ok(inline::len(&txn, &content))
    }

    /// Ids of all blocks in document order (depth-first).
    pub fn block_ids(&self) -> Vec<BlockId> {
        // Walks the tree directly: no need to snapshot every block's text.
        self.reading_order(&self.doc.transact())
    }

    /// Finds a block's container: through the index when its entry is still
    /// alive and still carries the id, else by one walk that re-indexes every
    /// block (the first block in reading order wins a duplicated id).
    pub(crate) fn locate<T: ReadTxn>(&self, txn: &T, id: &BlockId) -> Result<Located> {
        if let Some(found) = self.locate_indexed(txn, id) {
            return Ok(found);
        }
        self.reindex(txn);
        self.locate_indexed(txn, id)
            .ok_or_else(|| Error::BlockNotFound(id.to_string()))
    }

    fn locate_indexed<T: ReadTxn>(&self, txn: &T, id: &BlockId) -> Option<Located> {
        let container = self.index.borrow().get(id.as_str())?.get(txn)?;
        if container.tag().as_ref() != BLOCK_CONTAINER
            || container_id(txn, &container).as_deref() != Some(id.as_str())
        {
            return None;
        }
        match container.parent()? {
            XmlOut::Element(group) if group.tag().as_ref() == BLOCK_GROUP => {
                Some(Located { container, group })
            }
            _ => None,
        }
    }

    fn reindex<T: ReadTxn>(&self, txn: &T) {
        fn go<T: ReadTxn>(
            txn: &T,
            group: &XmlElementRef,
            depth: usize,
            index: &mut HashMap<String, Hook<XmlElementRef>>,
        ) {
            for c in group.children(txn) {
                if let XmlOut::Element(container) = c
                    && container.tag().as_ref() == BLOCK_CONTAINER
                {
                    if let Some(id) = container_id(txn, &container) {
                        index.entry(id).or_insert_with(|| container.hook());
                    }
                    if let Some(g) = nested_group(txn, &container, depth + 1) {
                        go(txn, &g, depth + 2, index);
                    }
                }
            }
        }
        let mut index = HashMap::new();
        for group in root_groups(txn, &self.fragment) {
            go(txn, &group, 1, &mut index);
        }
        *self.index.borrow_mut() = index;
    }

    pub(crate) fn content_of<T: ReadTxn>(&self, txn: &T, id: &BlockId) -> Result<XmlElementRef> {
        let loc = self.locate(txn, id)?;
        content_node(txn, &loc.container)
            .ok_or_else(|| Error::InvalidOperation(format!("block {id} has no content node")))
    }

    fn text_content_of<T: ReadTxn>(&self, txn: &T, id: &BlockId) -> Result<(XmlElementRef, bool)> {
        let content = self.content_of(txn, id)?;
        let tag = content.tag().to_string();
        if !schema::has_inline_content(&tag) {
            return Err(Error::InvalidOperation(format!(
                "block {id} is a {tag} and has no editable text"
            )));
        }
        Ok((content, tag == block_type::CODE_BLOCK))
    }

    // ----- initialisation --------------------------------------------------

    /// Makes the document well-formed for BlockNote: one root `blockGroup`
    /// holding at least one block. Call it only after the first sync with the
    /// server, so two clients do not each create a root. Stray root groups
    /// (from a concurrent initialisation) are merged into the first one.
    /// Returns whether anything was written.
    pub fn ensure_initialized(&self) -> bool {
        let mut txn = self.doc.transact_mut();
        let groups = root_groups(&txn, &self.fragment);
        match groups.as_slice() {
            [] => {
                let g = self
                    .fragment
                    .push_back(&mut txn, XmlElementPrelim::empty(BLOCK_GROUP));
                self.write_block(&mut txn, &g, 0, &NewBlock::paragraph(""))
                    .is_ok()
            }
            [only] => {
                if only.len(&txn) == 0 {
                    self.write_block(&mut txn, only, 0, &NewBlock::paragraph(""))
                        .is_ok()
                } else {
                    false
                }
            }
            [first, strays @ ..] => {
                for stray in strays {
                    let mut snaps: Vec<XmlSnapshot> = Vec::new();
                    for c in stray.children(&txn) {
                        match xml_copy::snapshot(&txn, &c) {
                            Ok(s) => snaps.extend(s),
                            // Too deep to copy whole: leave the strays as
                            // they are rather than lose part of them.
                            Err(_) => return false,
                        }
                    }
                    for s in &snaps {
                        let n = first.len(&txn);
                        xml_copy::write(&mut txn, first, n, s);
                    }
                }
                // Remove the strays from the end so indices stay valid.
                let indices: Vec<u32> = self
                    .fragment
                    .children(&txn)
                    .enumerate()
                    .filter(
                        |(_, c)| matches!(c, XmlOut::Element(e) if e.tag().as_ref() == BLOCK_GROUP),
                    )
                    .map(|(i, _)| i as u32)
                    .skip(1)
                    .collect();
                for i in indices.into_iter().rev() {
                    self.fragment.remove_range(&mut txn, i, 1);
                }
                true
            }
        }
    }

    // ----- text operations -------------------------------------------------

    /// Inserts text at a UTF-16 offset of a block; it takes the marks of the
    /// text before it, as typing does. Offsets everywhere in this API count
    /// UTF-16 units and must fall on code point boundaries (never inside a
    /// surrogate pair); `unicode_offsets` converts from Unicode scalars.
    pub fn insert_text(&self, id: &BlockId, offset: u32, text: &str) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.insert_text_in(&mut txn, id, offset, text, None)
    }

    /// Inserts text with exactly the given marks.
    pub fn insert_formatted(
        &self,
        id: &BlockId,
        offset: u32,
        text: &str,
        marks: &crate::Marks,
    ) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.insert_text_in(&mut txn, id, offset, text, Some(marks))
    }

    pub(crate) fn insert_text_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        offset: u32,
        text: &str,
        marks: Option<&crate::Marks>,
    ) -> Result<()> {
        let (content, code) = self.text_content_of(txn, id)?;
        inline::insert(txn, &content, offset, text, marks, code)
    }

    /// Deletes `len` UTF-16 units of a block's text at `offset`.
    pub fn delete_text(&self, id: &BlockId, offset: u32, len: u32) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.delete_text_in(&mut txn, id, offset, len)
    }

    pub(crate) fn delete_text_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        offset: u32,
        len: u32,
    ) -> Result<()> {
        let (content, _) = self.text_content_of(txn, id)?;
        inline::delete(txn, &content, offset, len)
    }

    /// Sets or clears a mark over a range of a block's text.
    pub fn format_text(
        &self,
        id: &BlockId,
        offset: u32,
        len: u32,
        mark: &Mark,
        on: bool,
    ) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.format_text_in(&mut txn, id, offset, len, mark, on)
    }

    pub(crate) fn format_text_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        offset: u32,
        len: u32,
        mark: &Mark,
        on: bool,
    ) -> Result<()> {
        let (content, _) = self.text_content_of(txn, id)?;
        inline::format(txn, &content, offset, len, mark, on)
    }

    /// Replaces a block's whole text with runs (one transaction).
    pub fn set_block_content(&self, id: &BlockId, runs: &[InlineRun]) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.set_block_content_in(&mut txn, id, runs)
    }

    pub(crate) fn set_block_content_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        runs: &[InlineRun],
    ) -> Result<()> {
        let (content, code) = self.text_content_of(txn, id)?;
        let n = content.len(txn);
        if n > 0 {
            content.remove_range(txn, 0, n);
        }
        inline::append_runs(txn, &content, runs, code)
    }

    // ----- block operations ------------------------------------------------

    /// Convenience: appends a paragraph with plain text at the end of the
    /// document (initialising it if needed) and returns its id.
    pub fn append_paragraph(&self, text: &str) -> Result<BlockId> {
        let mut txn = self.doc.transact_mut();
        let group = self.root_group_mut(&mut txn);
        let n = group.len(&txn);
        self.write_block(&mut txn, &group, n, &NewBlock::paragraph(text))
    }

    /// Inserts blocks at a placement; returns their ids in order.
    pub fn insert_blocks(&self, at: &Placement, blocks: &[NewBlock]) -> Result<Vec<BlockId>> {
        let mut txn = self.doc.transact_mut();
        self.insert_blocks_in(&mut txn, at, blocks)
    }

    pub(crate) fn insert_blocks_in(
        &self,
        txn: &mut TransactionMut,
        at: &Placement,
        blocks: &[NewBlock],
    ) -> Result<Vec<BlockId>> {
        let depth = self.placement_depth(txn, at)?;
        if blocks
            .iter()
            .any(|b| depth + depth::new_block_height(b) > MAX_NESTING_DEPTH)
        {
            return Err(Error::TooDeep {
                limit: MAX_NESTING_DEPTH,
            });
        }
        let (group, mut index) = self.resolve_placement(txn, at)?;
        let mut ids = Vec::with_capacity(blocks.len());
        for b in blocks {
            ids.push(self.write_block(txn, &group, index, b)?);
            index += 1;
        }
        Ok(ids)
    }

    /// Deletes a block and its children.
    pub fn delete_block(&self, id: &BlockId) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.delete_block_in(&mut txn, id)
    }

    pub(crate) fn delete_block_in(&self, txn: &mut TransactionMut, id: &BlockId) -> Result<()> {
        let loc = self.locate(txn, id)?;
        loc.group.remove_range(txn, loc.index(txn), 1);
        self.drop_empty_group(txn, &loc.group);
        Ok(())
    }

    /// Moves a block (with its children) to a new place. Unknown attributes
    /// and nested content move with it untouched.
    pub fn move_block(&self, id: &BlockId, to: &Placement) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.move_block_in(&mut txn, id, to)
    }

    pub(crate) fn move_block_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        to: &Placement,
    ) -> Result<()> {
        let loc = self.locate(txn, id)?;
        if let Some(target) = placement_block(to)
            && (target == id || self.is_descendant(txn, &loc.container, target))
        {
            return Err(Error::InvalidOperation(format!(
                "cannot move block {id} next to or into itself"
            )));
        }
        let node = XmlOut::Element(loc.container.clone());
        let snap = xml_copy::snapshot(txn, &node)?
            .ok_or_else(|| Error::InvalidOperation(format!("block {id} cannot be copied")))?;
        // Never deeper than Atelier writes, unless the block was already
        // (a document from before the limit may be tidied up, not deepened).
        let height = depth::subtree_height(txn, &node);
        let old_depth = depth::depth_of(&loc.group) + height;
        let new_depth = self.placement_depth(txn, to)? + height;
        if new_depth > MAX_NESTING_DEPTH && new_depth > old_depth {
            return Err(Error::TooDeep {
                limit: MAX_NESTING_DEPTH,
            });
        }
        loc.group.remove_range(txn, loc.index(txn), 1);
        let old_group = loc.group.clone();
        let (group, index) = self.resolve_placement(txn, to)?;
        xml_copy::write(txn, &group, index, &snap);
        self.drop_empty_group(txn, &old_group);
        Ok(())
    }

    /// Changes a block's type and/or props. A type change recreates the
    /// content node (as y-prosemirror does), keeping the text and the colours
    /// and alignment the new type supports.
    pub fn update_block(
        &self,
        id: &BlockId,
        kind: Option<&str>,
        props: &Map<String, Value>,
    ) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.update_block_in(&mut txn, id, kind, props)
    }

    pub(crate) fn update_block_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        kind: Option<&str>,
        props: &Map<String, Value>,
    ) -> Result<()> {
        let loc = self.locate(txn, id)?;
        let mut content = content_node(txn, &loc.container)
            .ok_or_else(|| Error::InvalidOperation(format!("block {id} has no content node")))?;
        let old_kind = content.tag().to_string();
        if let Some(new_kind) = kind.filter(|k| *k != old_kind) {
            if !schema::is_editable(&old_kind) || !schema::is_editable(new_kind) {
                return Err(Error::InvalidOperation(format!(
                    "cannot turn a {old_kind} block into a {new_kind}"
                )));
            }
            let pieces = if schema::has_inline_content(new_kind) {
                inline::copy_tail(txn, &content, 0)
            } else {
                Vec::new()
            };
            let old_attrs: Vec<(String, Any)> = content
                .attributes(txn)
                .filter_map(|(k, v)| match v {
                    Out::Any(a) => Some((k.to_string(), a)),
                    _ => None,
                })
                .collect();
            let new_content = loc
                .container
                .insert(txn, 0, XmlElementPrelim::empty(new_kind));
            for (k, v) in schema::default_props(new_kind) {
                let carried = old_attrs
                    .iter()
                    .find(|(ok, _)| ok == k && is_style_prop(k))
                    .map(|(_, ov)| ov.clone());
                new_content.insert_attribute(txn, k, carried.unwrap_or(v));
            }
            inline::append_pieces(txn, &new_content, &pieces);
            // The old content node is now at index 1.
            loc.container.remove_range(txn, 1, 1);
            content = new_content;
        }
        for (k, v) in props {
            if k == ID_ATTR {
                continue;
            }
            content.insert_attribute(txn, k.as_str(), json_to_any(v));
        }
        Ok(())
    }

    /// Splits a block at a UTF-16 offset (Enter). The text after the offset
    /// moves to a new block of the same type (a heading continues as a
    /// paragraph, a checked item as an unchecked one); when the block has
    /// children the new block becomes its first child. Returns the new id.
    pub fn split_block(&self, id: &BlockId, offset: u32) -> Result<BlockId> {
        let mut txn = self.doc.transact_mut();
        self.split_block_in(&mut txn, id, offset)
    }

    pub(crate) fn split_block_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
        offset: u32,
    ) -> Result<BlockId> {
        let (content, _) = self.text_content_of(txn, id)?;
        let len = inline::len(txn, &content);
        if offset > len {
            return Err(Error::OutOfRange { pos: offset, len });
        }
        let kind = content.tag().to_string();
        let new_kind = match kind.as_str() {
            block_type::HEADING => block_type::PARAGRAPH,
            other => other,
        }
        .to_owned();
        let mut props = Map::new();
        if new_kind == kind {
            for (k, v) in content.attributes(txn) {
                if let Out::Any(a) = v
                    && let Some(j) = any_to_json(&a)
                {
                    props.insert(k.to_string(), j);
                }
            }
            if kind == block_type::CHECK_LIST_ITEM {
                props.insert("checked".into(), Value::Bool(false));
            }
        }
        let tail = inline::copy_tail(txn, &content, offset);
        inline::delete(txn, &content, offset, len - offset)?;
        let new_block = NewBlock {
            kind: new_kind,
            props,
            ..Default::default()
        };
        let loc = self.locate(txn, id)?;
        let new_id = match child_group(txn, &loc.container) {
            Some(g) if g.len(txn) > 0 => self.write_block(txn, &g, 0, &new_block)?,
            _ => self.write_block(txn, &loc.group, loc.index(txn) + 1, &new_block)?,
        };
        let new_content = self.content_of(txn, &new_id)?;
        inline::append_pieces(txn, &new_content, &tail);
        Ok(new_id)
    }

    /// Merges a block into the block before it in reading order (Backspace
    /// at its start): its text is appended there and its children follow.
    /// Returns the block that received the text and the offset where the
    /// joined text starts, or `None` when there is no previous text block.
    pub fn merge_with_previous(&self, id: &BlockId) -> Result<Option<(BlockId, u32)>> {
        let mut txn = self.doc.transact_mut();
        self.merge_with_previous_in(&mut txn, id)
    }

    pub(crate) fn merge_with_previous_in(
        &self,
        txn: &mut TransactionMut,
        id: &BlockId,
    ) -> Result<Option<(BlockId, u32)>> {
        let order = self.reading_order(txn);
        let pos = order
            .iter()
            .position(|b| b == id)
            .ok_or_else(|| Error::BlockNotFound(id.to_string()))?;
        let Some(prev) = pos.checked_sub(1).map(|p| order[p].clone()) else {
            return Ok(None);
        };
        let (prev_content, _) = match self.text_content_of(txn, &prev) {
            Ok(c) => c,
            Err(_) => return Ok(None),
        };
        let (content, _) = self.text_content_of(txn, id)?;
        let join_at = inline::len(txn, &prev_content);
        let pieces = inline::copy_tail(txn, &content, 0);
        inline::append_pieces(txn, &prev_content, &pieces);
        // Children of the merged block move up to follow it where it was.
        let loc = self.locate(txn, id)?;
        let mut children: Vec<XmlSnapshot> = Vec::new();
        if let Some(g) = child_group(txn, &loc.container) {
            for c in g.children(txn) {
                children.extend(xml_copy::snapshot(txn, &c)?);
            }
        }
        loc.group.remove_range(txn, loc.index(txn), 1);
        for (i, s) in children.iter().enumerate() {
            xml_copy::write(txn, &loc.group, loc.index(txn) + i as u32, s);
        }
        self.drop_empty_group(txn, &loc.group);
        Ok(Some((prev, join_at)))
    }

    /// Nests a block under its previous sibling (Tab). Returns false when
    /// there is no previous sibling.
    pub fn indent_block(&self, id: &BlockId) -> Result<bool> {
        let mut txn = self.doc.transact_mut();
        self.indent_block_in(&mut txn, id)
    }

    pub(crate) fn indent_block_in(&self, txn: &mut TransactionMut, id: &BlockId) -> Result<bool> {
        let loc = self.locate(txn, id)?;
        if loc.index(txn) == 0 {
            return Ok(false);
        }
        let Some(XmlOut::Element(prev)) = loc.group.get(txn, loc.index(txn) - 1) else {
            return Ok(false);
        };
        let Some(prev_id) = container_id(txn, &prev) else {
            return Ok(false);
        };
        self.move_block_in(txn, id, &Placement::LastChildOf(BlockId(prev_id)))?;
        Ok(true)
    }

    /// Lifts a nested block out to follow its parent (Shift+Tab); its
    /// following siblings become its children. Returns false at top level.
    pub fn outdent_block(&self, id: &BlockId) -> Result<bool> {
        let mut txn = self.doc.transact_mut();
        self.outdent_block_in(&mut txn, id)
    }

    pub(crate) fn outdent_block_in(&self, txn: &mut TransactionMut, id: &BlockId) -> Result<bool> {
        let loc = self.locate(txn, id)?;
        let Some(XmlOut::Element(parent)) = loc.group.parent() else {
            return Ok(false);
        };
        if parent.tag().as_ref() != BLOCK_CONTAINER {
            return Ok(false);
        }
        let Some(parent_id) = container_id(txn, &parent) else {
            return Ok(false);
        };
        let followers: Vec<BlockId> = loc
            .group
            .children(txn)
            .skip(loc.index(txn) as usize + 1)
            .filter_map(|c| match c {
                XmlOut::Element(e) => container_id(txn, &e).map(BlockId),
                _ => None,
            })
            .collect();
        self.move_block_in(txn, id, &Placement::After(BlockId(parent_id)))?;
        for f in &followers {
            self.move_block_in(txn, f, &Placement::LastChildOf(id.clone()))?;
        }
        Ok(true)
    }

    // ----- internals ---------------------------------------------------------

    fn reading_order<T: ReadTxn>(&self, txn: &T) -> Vec<BlockId> {
        let mut out = Vec::new();
        fn go<T: ReadTxn>(txn: &T, group: &XmlElementRef, depth: usize, out: &mut Vec<BlockId>) {
            for c in group.children(txn) {
                if let XmlOut::Element(container) = c {
                    if let Some(id) = container_id(txn, &container) {
                        out.push(BlockId(id));
                    }
                    if let Some(g) = nested_group(txn, &container, depth + 1) {
                        go(txn, &g, depth + 2, out);
                    }
                }
            }
        }
        for g in root_groups(txn, &self.fragment) {
            go(txn, &g, 1, &mut out);
        }
        out
    }

    fn is_descendant<T: ReadTxn>(&self, txn: &T, container: &XmlElementRef, id: &BlockId) -> bool {
        let Ok(found) = self.locate(txn, id) else {
            return false;
        };
        let target: &yrs::branch::Branch = container.as_ref();
        let mut cur = found.container.parent();
        while let Some(XmlOut::Element(e)) = cur {
            if std::ptr::eq(e.as_ref() as &yrs::branch::Branch, target) {
                return true;
            }
            cur = e.parent();
        }
        false
    }

    fn root_group_mut(&self, txn: &mut TransactionMut) -> XmlElementRef {
        match root_groups(txn, &self.fragment).into_iter().next() {
            Some(g) => g,
            None => {
                let n = self.fragment.len(txn);
                self.fragment
                    .insert(txn, n, XmlElementPrelim::empty(BLOCK_GROUP))
            }
        }
    }

    /// The nesting depth of the group a placement puts blocks in, without
    /// creating it (1 for the root group).
    fn placement_depth<T: ReadTxn>(&self, txn: &T, at: &Placement) -> Result<usize> {
        Ok(match at {
            Placement::Start | Placement::End => 1,
            Placement::Before(id) | Placement::After(id) => {
                depth::depth_of(&self.locate(txn, id)?.group)
            }
            Placement::FirstChildOf(id) | Placement::LastChildOf(id) => {
                depth::depth_of(&self.locate(txn, id)?.container) + 1
            }
        })
    }

    fn resolve_placement(
        &self,
        txn: &mut TransactionMut,
        at: &Placement,
    ) -> Result<(XmlElementRef, u32)> {
        Ok(match at {
            Placement::Start => (self.root_group_mut(txn), 0),
            Placement::End => {
                let g = self.root_group_mut(txn);
                let n = g.len(txn);
                (g, n)
            }
            Placement::Before(id) => {
                let loc = self.locate(txn, id)?;
                (loc.group.clone(), loc.index(txn))
            }
            Placement::After(id) => {
                let loc = self.locate(txn, id)?;
                (loc.group.clone(), loc.index(txn) + 1)
            }
            Placement::FirstChildOf(id) | Placement::LastChildOf(id) => {
                let loc = self.locate(txn, id)?;
                let g = match child_group(txn, &loc.container) {
                    Some(g) => g,
                    None => {
                        let n = loc.container.len(txn);
                        loc.container
                            .insert(txn, n, XmlElementPrelim::empty(BLOCK_GROUP))
                    }
                };
                let index = if matches!(at, Placement::FirstChildOf(_)) {
                    0
                } else {
                    g.len(txn)
                };
                (g, index)
            }
        })
    }

    /// A nested `blockGroup` left empty is removed, as BlockNote never
    /// writes one; the root group is kept.
    fn drop_empty_group(&self, txn: &mut TransactionMut, group: &XmlElementRef) {
        if group.len(txn) > 0 {
            return;
        }
        if let Some(XmlOut::Element(container)) = group.parent()
            && container.tag().as_ref() == BLOCK_CONTAINER
        {
            let idx = container
                .children(txn)
                .position(|c| matches!(&c, XmlOut::Element(e) if e == group));
            if let Some(i) = idx {
                container.remove_range(txn, i as u32, 1);
            }
        }
    }

    fn next_block_id(&self, txn: &TransactionMut) -> BlockId {
        let client = self.doc.client_id();
        let clock = txn.state_vector().get(&client);
        let client = client.get();
        let n = self.id_counter.get();
        self.id_counter.set(n + 1);
        BlockId(format_uuid(client, (u64::from(clock) << 20) ^ n))
    }

    /// Writes a new block into `group` at `index`, as BlockNote would.
    pub(crate) fn write_block(
        &self,
        txn: &mut TransactionMut,
        group: &XmlElementRef,
        index: u32,
        b: &NewBlock,
    ) -> Result<BlockId> {
        if index > group.len(txn) {
            return Err(Error::OutOfRange {
                pos: index,
                len: group.len(txn),
            });
        }
        if b.kind.is_empty() || b.kind == BLOCK_GROUP || b.kind == BLOCK_CONTAINER {
            return Err(Error::InvalidOperation(format!(
                "\"{}\" is not a block type",
                b.kind
            )));
        }
        let id = match &b.id {
            Some(id) => id.clone(),
            None => self.next_block_id(txn),
        };
        let container = group.insert(txn, index, XmlElementPrelim::empty(BLOCK_CONTAINER));
        container.insert_attribute(txn, ID_ATTR, Any::from(id.as_str()));
        let content = container.insert(txn, 0, XmlElementPrelim::empty(b.kind.as_str()));
        for (k, v) in schema::default_props(&b.kind) {
            let value = b.props.get(k).map_or(v, json_to_any);
            content.insert_attribute(txn, k, value);
        }
        for (k, v) in &b.props {
            if schema::default_props(&b.kind).iter().all(|(d, _)| d != k) {
                content.insert_attribute(txn, k.as_str(), json_to_any(v));
            }
        }
        if schema::has_inline_content(&b.kind) {
            inline::append_runs(txn, &content, &b.content, b.kind == block_type::CODE_BLOCK)?;
        }
        if b.kind == block_type::TABLE
            && let Some(rows) = &b.table
        {
            write_table(txn, &content, rows)?;
        }
        if !b.children.is_empty() {
            let g = container.insert(txn, 1, XmlElementPrelim::empty(BLOCK_GROUP));
            for (i, child) in b.children.iter().enumerate() {
                self.write_block(txn, &g, i as u32, child)?;
            }
        }
        Ok(id)
    }
}

/// The update that makes the rich text of `current` (a full state) equal to
/// that of `version` (another full state), written on top of `current`: a
/// restore is a new change that every replica merges, never a rewrite.
pub fn restore_update(current: &[u8], version: &[u8]) -> Result<Vec<u8>> {
    let now = Document::from_update_v1(current)?;
    let old = Document::from_update_v1(version)?;
    let nodes: Vec<XmlSnapshot> = {
        let txn = old.doc.transact();
        let mut nodes = Vec::new();
        for c in old.fragment.children(&txn) {
            nodes.extend(xml_copy::snapshot(&txn, &c)?);
        }
        nodes
    };
    let before = now.doc.transact().state_vector();
    {
        let mut txn = now.doc.transact_mut_with("restore");
        let n = now.fragment.len(&txn);
        if n > 0 {
            now.fragment.remove_range(&mut txn, 0, n);
        }
        for (i, node) in nodes.iter().enumerate() {
            xml_copy::write(&mut txn, &now.fragment, i as u32, node);
        }
    }
    Ok(now.doc.transact().encode_state_as_update_v1(&before))
}

fn placement_block(p: &Placement) -> Option<&BlockId> {
    match p {
        Placement::Start | Placement::End => None,
        Placement::Before(id)
        | Placement::After(id)
        | Placement::FirstChildOf(id)
        | Placement::LastChildOf(id) => Some(id),
    }
}

fn is_style_prop(k: &str) -> bool {
    matches!(k, "backgroundColor" | "textColor" | "textAlignment")
}

fn write_table(
    txn: &mut TransactionMut,
    content: &XmlElementRef,
    rows: &[Vec<Vec<InlineRun>>],
) -> Result<()> {
    for (r, row) in rows.iter().enumerate() {
        let row_el = content.insert(txn, r as u32, XmlElementPrelim::empty(table::ROW));
        for (c, cell) in row.iter().enumerate() {
            let cell_el = row_el.insert(txn, c as u32, XmlElementPrelim::empty(table::CELL));
            for (k, v) in schema::default_table_cell_props() {
                cell_el.insert_attribute(txn, k, v);
            }
            let para = cell_el.insert(txn, 0, XmlElementPrelim::empty(table::PARAGRAPH));
            inline::append_runs(txn, &para, cell, false)?;
        }
    }
    Ok(())
}

/// A UUID-shaped id that is unique because (client, clock) is unique in Yjs.
fn format_uuid(client: u64, counter: u64) -> String {
    let a = splitmix(client ^ 0x9E37_79B9_7F4A_7C15);
    let b = splitmix(counter.wrapping_add(a));
    let hi = a ^ b.rotate_left(17);
    let lo = splitmix(b ^ client);
    // Version 4 / RFC 4122 variant bits, so it looks like what BlockNote makes.
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn root_groups<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<XmlElementRef> {
    fragment
        .children(txn)
        .filter_map(|c| match c {
            XmlOut::Element(e) if e.tag().as_ref() == BLOCK_GROUP => Some(e),
            _ => None,
        })
        .collect()
}

pub(crate) fn container_id<T: ReadTxn>(txn: &T, container: &XmlElementRef) -> Option<String> {
    match container.get_attribute(txn, ID_ATTR) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        Some(Out::Any(Any::Number(yrs::any::Number::Int(n)))) => Some(n.to_string()),
        Some(Out::Any(Any::Number(yrs::any::Number::Float(f))))
            if f.fract() == 0.0 && f.abs() < 9.0e15 =>
        {
            Some((f as i64).to_string())
        }
        Some(Out::Any(_)) => None,
        _ => None,
    }
}

/// The content node of a container: its first child that is not a group.
pub(crate) fn content_node<T: ReadTxn>(
    txn: &T,
    container: &XmlElementRef,
) -> Option<XmlElementRef> {
    container.children(txn).find_map(|c| match c {
        XmlOut::Element(e) if e.tag().as_ref() != BLOCK_GROUP => Some(e),
        _ => None,
    })
}

/// The nested group of a container, if any.
pub(crate) fn child_group<T: ReadTxn>(txn: &T, container: &XmlElementRef) -> Option<XmlElementRef> {
    container.children(txn).find_map(|c| match c {
        XmlOut::Element(e) if e.tag().as_ref() == BLOCK_GROUP => Some(e),
        _ => None,
    })
}

/// The nested group of a container at `depth`, unless it lies past
/// [`MAX_READ_DEPTH`]: readers recurse once per level and stop there
/// (`crate::depth`).
fn nested_group<T: ReadTxn>(
    txn: &T,
    container: &XmlElementRef,
    depth: usize,
) -> Option<XmlElementRef> {
    if depth + 1 > MAX_READ_DEPTH {
        return None;
    }
    child_group(txn, container)
}

/// Reads the blocks of a group at nesting `depth` (1 for a root group).
fn read_group<T: ReadTxn>(txn: &T, group: &XmlElementRef, depth: usize, out: &mut Vec<Block>) {
    for c in group.children(txn) {
        if let XmlOut::Element(container) = c
            && let Some(b) = read_container(txn, &container, depth + 1)
        {
            out.push(b);
        }
    }
}

fn read_container<T: ReadTxn>(txn: &T, container: &XmlElementRef, depth: usize) -> Option<Block> {
    let mut block = read_container_shallow(txn, container)?;
    if let Some(g) = nested_group(txn, container, depth) {
        read_group(txn, &g, depth + 1, &mut block.children);
    }
    Some(block)
}

fn read_container_shallow<T: ReadTxn>(txn: &T, container: &XmlElementRef) -> Option<Block> {
    if container.tag().as_ref() != BLOCK_CONTAINER {
        return None;
    }
    let id = container_id(txn, container).unwrap_or_default();
    let content = content_node(txn, container);
    let mut props = Map::new();
    let mut runs = Vec::new();
    let mut table_rows = None;
    let kind = match &content {
        Some(c) => {
            for (k, v) in c.attributes(txn) {
                if let Out::Any(a) = v
                    && let Some(j) = any_to_json(&a)
                {
                    props.insert(k.to_string(), j);
                }
            }
            let tag = c.tag().to_string();
            if schema::has_inline_content(&tag) {
                runs = inline::read_runs(txn, c);
            } else if tag == block_type::TABLE {
                table_rows = Some(read_table(txn, c));
            }
            tag
        }
        None => String::new(),
    };
    Some(Block {
        id: BlockId(id),
        kind,
        props,
        content: runs,
        table: table_rows,
        children: Vec::new(),
    })
}

fn read_table<T: ReadTxn>(txn: &T, table_el: &XmlElementRef) -> Vec<Vec<Vec<InlineRun>>> {
    let elements = |e: &XmlElementRef| -> Vec<XmlElementRef> {
        e.children(txn)
            .filter_map(|c| match c {
                XmlOut::Element(e) => Some(e),
                _ => None,
            })
            .collect()
    };
    elements(table_el)
        .iter()
        .map(|row| {
            elements(row)
                .iter()
                .map(|cell| {
                    elements(cell)
                        .iter()
                        .flat_map(|p| inline::read_runs(txn, p))
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
