//! Deep copies of XML subtrees, used to move blocks.
//!
//! Yjs has no move for XML nodes, so a move is a copy plus a delete. The copy
//! keeps every attribute with its exact type (including `undefined`), every
//! text format attribute and every nested element, so blocks Atelier cannot
//! edit (tables, media, custom blocks) survive a move untouched.

use crate::depth::MAX_READ_DEPTH;
use crate::error::{Error, Result};
use std::sync::Arc;
use yrs::types::Attrs;
use yrs::types::text::YChange;
use yrs::{
    Any, Out, ReadTxn, Text, TransactionMut, Xml, XmlElementPrelim, XmlElementRef, XmlFragment,
    XmlOut, XmlTextPrelim,
};

/// A detached copy of an XML node.
#[derive(Debug, Clone, PartialEq)]
pub enum XmlSnapshot {
    /// An element with its attributes (in their stored order) and children.
    Element {
        /// Node name.
        tag: String,
        /// Attributes.
        attrs: Vec<(String, Any)>,
        /// Child nodes.
        children: Vec<XmlSnapshot>,
    },
    /// A text node as formatted chunks.
    Text(Vec<(String, Attrs)>),
}

/// Copies a node out of the document. Nested fragments are not part of
/// BlockNote's schema and are skipped (`None`). A subtree deeper than
/// [`MAX_READ_DEPTH`] is refused rather than copied in part, so a move can
/// never drop what it cannot see.
pub fn snapshot<T: ReadTxn>(txn: &T, node: &XmlOut) -> Result<Option<XmlSnapshot>> {
    snapshot_within(txn, node, MAX_READ_DEPTH)
}

fn snapshot_within<T: ReadTxn>(txn: &T, node: &XmlOut, room: usize) -> Result<Option<XmlSnapshot>> {
    if room == 0 {
        return Err(Error::TooDeep {
            limit: MAX_READ_DEPTH,
        });
    }
    Ok(match node {
        XmlOut::Element(e) => Some(snapshot_element(txn, e, room)?),
        XmlOut::Text(t) => {
            let chunks = t
                .diff(txn, YChange::identity)
                .into_iter()
                .filter_map(|d| match d.insert {
                    Out::Any(Any::String(s)) => {
                        Some((s.to_string(), d.attributes.map(|a| *a).unwrap_or_default()))
                    }
                    _ => None,
                })
                .collect();
            Some(XmlSnapshot::Text(chunks))
        }
        XmlOut::Fragment(_) => None,
    })
}

fn snapshot_element<T: ReadTxn>(txn: &T, e: &XmlElementRef, room: usize) -> Result<XmlSnapshot> {
    let mut attrs: Vec<(String, Any)> = e
        .attributes(txn)
        .filter_map(|(k, v)| match v {
            Out::Any(a) => Some((k.to_string(), a)),
            _ => None,
        })
        .collect();
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut children = Vec::new();
    for c in e.children(txn) {
        children.extend(snapshot_within(txn, &c, room - 1)?);
    }
    Ok(XmlSnapshot::Element {
        tag: e.tag().to_string(),
        attrs,
        children,
    })
}

/// Writes a snapshot into `parent` at `index` (a snapshot is at most
/// [`MAX_READ_DEPTH`] deep, which bounds this recursion).
pub fn write<P: XmlFragment>(txn: &mut TransactionMut, parent: &P, index: u32, snap: &XmlSnapshot) {
    match snap {
        XmlSnapshot::Element {
            tag,
            attrs,
            children,
        } => {
            let el = parent.insert(txn, index, XmlElementPrelim::empty(tag.as_str()));
            for (k, v) in attrs {
                el.insert_attribute(txn, Arc::<str>::from(k.as_str()), v.clone());
            }
            for (i, c) in children.iter().enumerate() {
                write(txn, &el, i as u32, c);
            }
        }
        XmlSnapshot::Text(chunks) => {
            let t = parent.insert(txn, index, XmlTextPrelim::new(""));
            let mut at = 0;
            for (text, attrs) in chunks {
                t.insert_with_attributes(txn, at, text, attrs.clone());
                at += crate::inline::utf16_len(text);
            }
        }
    }
}
