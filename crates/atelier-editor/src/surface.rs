//! The editing surface's DOM, rendered from block snapshots and keyed by
//! block id: a block whose own look (type, props, text) did not change keeps
//! its elements, so a change re-renders only the blocks it touched and the
//! browser's caret and IME state elsewhere are left alone.
//!
//! Each block is `div.atelier-block[data-block-id]` holding an optional
//! prefix (a check-list checkbox), its content element (see
//! [`crate::render::block_content`]) and, when it has children, a
//! `div.atelier-children` with their blocks.

use crate::render::{self, BlockLook, RenderLabels, VNode};
use atelier_doc::{Block, BlockId};
use std::collections::{HashMap, HashSet};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node};

/// Class of the element that holds a block's children.
const CHILDREN_CLASS: &str = "atelier-children";

struct Rendered {
    wrapper: Element,
    content: Element,
    children: Option<Element>,
    look: BlockLook,
}

/// The keyed renderer of one editing surface.
pub struct Surface {
    root: Element,
    labels: RenderLabels,
    blocks: HashMap<BlockId, Rendered>,
    /// How many blocks the last [`Surface::render`] rebuilt (for tests).
    pub last_rebuilt: usize,
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
            last_rebuilt: 0,
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

    /// Forgets a block's look so the next render rebuilds it (after the
    /// browser changed its DOM itself, e.g. during IME composition).
    pub fn invalidate(&mut self, id: &BlockId) {
        if let Some(r) = self.blocks.get_mut(id) {
            r.look.kind.clear();
        }
    }

    /// Brings the DOM in line with the blocks.
    pub fn render(&mut self, blocks: &[Block]) -> Result<(), JsValue> {
        let doc = self
            .root
            .owner_document()
            .ok_or_else(|| JsValue::from_str("surface is not in a document"))?;
        self.last_rebuilt = 0;
        let mut seen = HashSet::new();
        let root = self.root.clone();
        self.render_list(&doc, &root, blocks, &mut seen)?;
        self.blocks.retain(|id, _| seen.contains(id));
        Ok(())
    }

    fn render_list(
        &mut self,
        doc: &Document,
        parent: &Element,
        blocks: &[Block],
        seen: &mut HashSet<BlockId>,
    ) -> Result<(), JsValue> {
        let mut wrappers: Vec<Element> = Vec::with_capacity(blocks.len());
        for b in blocks {
            // A duplicated id (never written by BlockNote) renders once.
            if !seen.insert(b.id.clone()) {
                continue;
            }
            let look = BlockLook::of(b);
            let stale = self.blocks.get(&b.id).is_none_or(|r| r.look != look);
            if stale {
                self.rebuild(doc, b, look)?;
                self.last_rebuilt += 1;
            }
            let Some(r) = self.blocks.get(&b.id) else {
                continue;
            };
            let wrapper = r.wrapper.clone();
            let children_el = r.children.clone();
            // Children.
            if b.children.is_empty() {
                if let Some(c) = children_el {
                    c.remove();
                    if let Some(r) = self.blocks.get_mut(&b.id) {
                        r.children = None;
                    }
                }
            } else {
                let c = match children_el {
                    Some(c) => c,
                    None => {
                        let c = doc.create_element("div")?;
                        c.set_attribute("class", CHILDREN_CLASS)?;
                        c.set_attribute("role", "group")?;
                        wrapper.append_child(&c)?;
                        if let Some(r) = self.blocks.get_mut(&b.id) {
                            r.children = Some(c.clone());
                        }
                        c
                    }
                };
                self.render_list(doc, &c, &b.children, seen)?;
            }
            wrappers.push(wrapper);
        }
        // Order: make the parent's child nodes exactly `wrappers`.
        for (i, w) in wrappers.iter().enumerate() {
            let current = parent.child_nodes().item(i as u32);
            let w_node: &Node = w.as_ref();
            if current.as_ref() != Some(w_node) {
                parent.insert_before(w, current.as_ref())?;
            }
        }
        let keep = wrappers.len() as u32;
        while let Some(extra) = parent.child_nodes().item(keep) {
            parent.remove_child(&extra)?;
        }
        Ok(())
    }

    fn rebuild(&mut self, doc: &Document, b: &Block, look: BlockLook) -> Result<(), JsValue> {
        let content = build(doc, &render::block_content(b, &self.labels))?;
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
                let names = w.get_attribute_names();
                for name in names.iter() {
                    if let Some(n) = name.as_string() {
                        w.remove_attribute(&n)?;
                    }
                }
                w
            }
            None => doc.create_element("div")?,
        };
        for (k, v) in render::wrapper_attrs(b) {
            wrapper.set_attribute(k, &v)?;
        }
        let first = wrapper.first_child();
        if let Some(p) = &prefix {
            wrapper.insert_before(p, first.as_ref())?;
        }
        let first = wrapper.child_nodes().item(u32::from(prefix.is_some()));
        wrapper.insert_before(&content, first.as_ref())?;
        let children = self.blocks.get(&b.id).and_then(|r| r.children.clone());
        self.blocks.insert(
            b.id.clone(),
            Rendered {
                wrapper,
                content,
                children,
                look,
            },
        );
        Ok(())
    }
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
