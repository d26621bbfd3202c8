//! The browser selection in model terms, and back.
//!
//! The pure mapping lives in [`crate::selection_map`]; this module collects
//! a block's leaves (text nodes and `<br>`s of its content element) and
//! finds which block a DOM point is in.

use crate::render::{CONTENT_ATTR, FILLER_ATTR};
use crate::selection_map::{self, Leaf, LeafPoint};
use crate::session::{Pos, Selection};
use crate::surface::{CHUNK_CLASS, Surface};
use atelier_doc::BlockId;
use wasm_bindgen::JsCast;
use web_sys::{Element, Node};

/// The leaves of a content element, in document order, with their nodes.
pub fn leaves_of(content: &Element) -> Vec<(Node, Leaf)> {
    fn go(node: &Node, out: &mut Vec<(Node, Leaf)>) {
        let kids = node.child_nodes();
        for i in 0..kids.length() {
            let Some(child) = kids.item(i) else { continue };
            match child.node_type() {
                Node::TEXT_NODE => {
                    let len = child
                        .dyn_ref::<web_sys::CharacterData>()
                        .map_or(0, |t| t.length());
                    out.push((child, Leaf::Text(len)));
                }
                Node::ELEMENT_NODE => {
                    if let Some(el) = child.dyn_ref::<Element>() {
                        if el.tag_name().eq_ignore_ascii_case("br") {
                            let leaf = if el.has_attribute(FILLER_ATTR) {
                                Leaf::Filler
                            } else {
                                Leaf::Break
                            };
                            out.push((child, leaf));
                        } else {
                            go(&child, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    go(content, &mut out);
    out
}

fn block_id_of(wrapper: &Element) -> Option<BlockId> {
    wrapper.get_attribute("data-block-id").map(BlockId::from)
}

fn content_of_wrapper(wrapper: &Element) -> Option<Element> {
    let kids = wrapper.child_nodes();
    (0..kids.length())
        .filter_map(|i| kids.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .find(|e| e.has_attribute(CONTENT_ATTR))
}

/// Whether DOM point (node, offset) lies after the node `leaf` starts, i.e.
/// the leaf is entirely or partly before the point.
fn leaf_before_point(leaf: &Node, node: &Node, offset: u32) -> bool {
    let Some(doc) = leaf.owner_document() else {
        return false;
    };
    let Ok(range) = doc.create_range() else {
        return false;
    };
    if range.set_start(node, offset).is_err() {
        return false;
    }
    range.collapse_with_to_start(true);
    matches!(range.compare_point(leaf, 0), Ok(-1))
}

/// The model position of a DOM point inside the surface `root`.
pub fn dom_to_model(root: &Element, node: &Node, offset: u32) -> Option<Pos> {
    let root_node: &Node = root.as_ref();
    if !root.contains(Some(node)) {
        return None;
    }
    // Walk up to the content element, a block wrapper or the root.
    let mut cur = Some(node.clone());
    let mut prev: Option<Node> = None;
    while let Some(n) = cur {
        let chunk = n
            .dyn_ref::<Element>()
            .is_some_and(|e| e.class_list().contains(CHUNK_CLASS));
        if &n == root_node || chunk {
            // Between blocks (or chunks of blocks) at the top level: before
            // child `offset`, or after the last child. Reached from below (a
            // node the browser left outside any block), at that node.
            let kids = n.child_nodes();
            let (start, at_end) = match prev {
                Some(p) => (Some(p), false),
                None if offset < kids.length() => (kids.item(offset), false),
                None => (n.last_child(), true),
            };
            let (wrapper, at_end) = nearest_block(start?, at_end)?;
            return block_edge(&wrapper, at_end);
        }
        if let Some(el) = n.dyn_ref::<Element>() {
            if el.has_attribute(CONTENT_ATTR) {
                let wrapper = el.parent_element()?;
                let id = block_id_of(&wrapper)?;
                let leaves = leaves_of(el);
                let kinds: Vec<Leaf> = leaves.iter().map(|(_, l)| *l).collect();
                let point = match leaves.iter().position(|(ln, _)| ln == node) {
                    Some(i) if node.node_type() == Node::TEXT_NODE => {
                        LeafPoint::InText { leaf: i, offset }
                    }
                    _ => LeafPoint::Before(
                        leaves
                            .iter()
                            .filter(|(ln, _)| leaf_before_point(ln, node, offset))
                            .count(),
                    ),
                };
                return Some(Pos::new(id, selection_map::to_model(&kinds, point)));
            }
            if el.has_attribute("data-block-id") {
                // A point in the wrapper but outside the text: before the
                // content element is the start, after it the end.
                let content = content_of_wrapper(el);
                let after = content
                    .as_ref()
                    .is_some_and(|c| leaf_before_point(c.as_ref(), node, offset));
                return block_edge(el, after);
            }
        }
        cur = n.parent_node();
        prev = Some(n);
    }
    None
}

/// The block wrapper at `node` or, among its siblings, the next one (the
/// point is at its start) or else the previous one (at its end); a chunk
/// stands for its first or last block. Returns the wrapper and whether the
/// point is at its end.
fn nearest_block(node: Node, at_end: bool) -> Option<(Element, bool)> {
    let element = |n: &Node| n.dyn_ref::<Element>().cloned();
    let mut found = None;
    if !at_end {
        let mut n = Some(node.clone());
        while let Some(x) = n {
            if let Some(e) = element(&x) {
                found = Some((e, false));
                break;
            }
            n = x.next_sibling();
        }
    }
    if found.is_none() {
        let mut n = Some(node);
        while let Some(x) = n {
            if let Some(e) = element(&x) {
                found = Some((e, true));
                break;
            }
            n = x.previous_sibling();
        }
    }
    let (mut el, end) = found?;
    while el.class_list().contains(CHUNK_CLASS) {
        el = if end {
            el.last_element_child()?
        } else {
            el.first_element_child()?
        };
    }
    Some((el, end))
}

fn block_edge(wrapper: &Element, end: bool) -> Option<Pos> {
    let id = block_id_of(wrapper)?;
    let len = content_of_wrapper(wrapper)
        .map(|c| {
            let kinds: Vec<Leaf> = leaves_of(&c).iter().map(|(_, l)| *l).collect();
            selection_map::model_len(&kinds)
        })
        .unwrap_or(0);
    Some(Pos::new(id, if end { len } else { 0 }))
}

/// The DOM point of a model position, if its block is rendered.
pub fn model_to_dom(surface: &Surface, pos: &Pos) -> Option<(Node, u32)> {
    let content = surface.content_of(&pos.block)?;
    let leaves = leaves_of(content);
    let kinds: Vec<Leaf> = leaves.iter().map(|(_, l)| *l).collect();
    match selection_map::to_leaf(&kinds, pos.offset) {
        LeafPoint::InText { leaf, offset } => leaves.get(leaf).map(|(n, _)| (n.clone(), offset)),
        LeafPoint::Before(i) => match leaves.get(i) {
            Some((n, _)) => {
                let parent = n.parent_node()?;
                let kids = parent.child_nodes();
                let idx = (0..kids.length()).find(|k| kids.item(*k).as_ref() == Some(n))?;
                Some((parent, idx))
            }
            None => Some((content.clone().into(), content.child_nodes().length())),
        },
    }
}

/// The current browser selection, if it lies inside the surface.
pub fn read_selection(root: &Element) -> Option<Selection> {
    let sel = web_sys::window()?.get_selection().ok()??;
    if sel.range_count() == 0 {
        return None;
    }
    let anchor = dom_to_model(root, &sel.anchor_node()?, sel.anchor_offset())?;
    let focus = dom_to_model(root, &sel.focus_node()?, sel.focus_offset())?;
    Some(Selection { anchor, focus })
}

/// A static range (from `beforeinput`'s `getTargetRanges()`) in model terms.
pub fn static_range_to_model(root: &Element, r: &web_sys::StaticRange) -> Option<Selection> {
    let anchor = dom_to_model(root, &r.start_container(), r.start_offset())?;
    let focus = dom_to_model(root, &r.end_container(), r.end_offset())?;
    Some(Selection { anchor, focus })
}

/// Puts the browser selection at a model selection.
pub fn write_selection(surface: &Surface, sel: &Selection) -> bool {
    let Some((an, ao)) = model_to_dom(surface, &sel.anchor) else {
        return false;
    };
    let Some((fnode, fo)) = model_to_dom(surface, &sel.focus) else {
        return false;
    };
    let Some(dom_sel) = web_sys::window().and_then(|w| w.get_selection().ok().flatten()) else {
        return false;
    };
    // Writing the selection forces style and layout and makes the browser
    // re-sync its selection state: skip it when the DOM already holds it.
    if dom_sel.anchor_node().as_ref() == Some(&an)
        && dom_sel.anchor_offset() == ao
        && dom_sel.focus_node().as_ref() == Some(&fnode)
        && dom_sel.focus_offset() == fo
    {
        return true;
    }
    dom_sel.set_base_and_extent(&an, ao, &fnode, fo).is_ok()
}
