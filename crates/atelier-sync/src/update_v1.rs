//! A structural check of Yjs v1 updates before `yrs` decodes them.
//!
//! `yrs::Update::decode_v1` trusts counts and clocks in ways that are unsafe
//! for bytes from a peer: it reserves memory for declared counts before
//! reading them, adds struct lengths to `u32` clocks without checking for
//! overflow (a panic in debug builds), and asserts in debug builds that
//! client ids fit in 53 bits. This module walks the update format exactly as
//! Yjs reads it (`readClientsStructRefs`, `readItemContent`, `readAny`,
//! `readDeleteSet`), without allocating, and rejects anything that could
//! trigger those paths. An update that passes can be handed to `yrs`; one
//! that fails never touches a document.

use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::update_depth::{
    ItemId, NestingBase, NoBase, ParentRef, StructRef, TxnBase, check_nesting,
};
use crate::varint::Reader;

/// Counts from a checked update, for cheap decisions without decoding it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateSummary {
    /// Clients whose structs the update carries.
    pub clients: usize,
    /// Structs (items, GC and skip ranges) in the update.
    pub structs: usize,
    /// Deleted ranges in the update's delete set.
    pub deleted_ranges: usize,
    /// Items whose content is a shared type (elements, texts, maps, arrays).
    pub types: usize,
}

impl UpdateSummary {
    /// True for an update that carries nothing (Yjs's `[0, 0]`).
    pub fn is_empty(&self) -> bool {
        self.structs == 0 && self.deleted_ranges == 0
    }
}

const HAS_ORIGIN: u8 = 0x80;
const HAS_RIGHT_ORIGIN: u8 = 0x40;
const HAS_PARENT_SUB: u8 = 0x20;
const CONTENT_MASK: u8 = 0x1f;
const CONTENT_TYPE: u8 = 7;

/// Checks that `update` is a well-formed lib0 v1 update.
///
/// The caller checks its total size against [`Limits`]; this checks nesting
/// depth of `Any` values against [`Limits::max_any_depth`], the nesting of
/// the shared types the update creates against [`Limits::max_nesting_depth`]
/// (counting a reference to a type outside the update as a root: use
/// [`check_update_v1_against`] where the document is at hand), and
/// everything else against the bytes actually present.
pub fn check_update_v1(update: &[u8], limits: &Limits) -> Result<UpdateSummary> {
    check_update_v1_in(update, limits, None)
}

/// [`check_update_v1`] for an update about to be applied to `doc`: a new
/// type's depth counts the types that already enclose the item it is
/// attached to, so an update cannot deepen a document past
/// [`Limits::max_nesting_depth`] a level at a time. Opens a read
/// transaction on `doc`.
pub fn check_update_v1_against(
    update: &[u8],
    limits: &Limits,
    doc: &yrs::Doc,
) -> Result<UpdateSummary> {
    let txn = yrs::Transact::transact(doc);
    check_update_v1_in(update, limits, Some(&TxnBase(&txn)))
}

fn check_update_v1_in(
    update: &[u8],
    limits: &Limits,
    base: Option<&dyn NestingBase>,
) -> Result<UpdateSummary> {
    let summary = walk(update, limits, None)?;
    // Without a document, the deepest new type is at most as deep as the
    // update has types; with one, any new type may deepen it.
    let needed = match base {
        Some(_) => summary.types > 0,
        None => summary.types > limits.max_nesting_depth,
    };
    if needed {
        let mut structs = Vec::with_capacity(summary.structs);
        walk(update, limits, Some(&mut structs))?;
        check_nesting(&structs, base.unwrap_or(&NoBase), limits.max_nesting_depth)?;
    }
    Ok(summary)
}

/// Walks the update; with `record`, also notes each struct's place.
fn walk(
    update: &[u8],
    limits: &Limits,
    mut record: Option<&mut Vec<StructRef>>,
) -> Result<UpdateSummary> {
    let mut r = Reader::new(update);
    // Per client: struct count, client id and first clock, one byte each at least.
    let mut summary = UpdateSummary {
        clients: r.read_count(3, usize::MAX, "update clients")?,
        ..UpdateSummary::default()
    };
    for _ in 0..summary.clients {
        // A struct takes at least two bytes (info and a length or content).
        let structs = r.read_count(2, usize::MAX, "update structs")?;
        let client = r.read_client_id("update client id")?;
        let mut clock = u64::from(r.read_var_u32("update clock")?);
        for _ in 0..structs {
            let place = read_struct(&mut r, limits)?;
            if place.is_type {
                summary.types += 1;
            }
            if let Some(out) = record.as_deref_mut() {
                out.push(StructRef {
                    client,
                    // Below 2^32: checked after the previous struct.
                    clock: clock as u32,
                    len: place.len,
                    is_item: place.is_item,
                    is_type: place.is_type,
                    parent: place.parent,
                });
            }
            clock += u64::from(place.len);
            if clock > u64::from(u32::MAX) {
                return Err(SyncError::malformed(
                    "update",
                    "struct clocks overflow 32 bits",
                ));
            }
        }
        summary.structs += structs;
    }
    summary.deleted_ranges = read_delete_set(&mut r)?;
    r.finish("update")?;
    Ok(summary)
}

/// What the walk learns of one struct.
struct Place {
    len: u32,
    is_item: bool,
    is_type: bool,
    parent: ParentRef,
}

/// Reads one struct: the clock length it covers and where it sits.
fn read_struct(r: &mut Reader<'_>, limits: &Limits) -> Result<Place> {
    let info = r.read_u8("struct info")?;
    match info & CONTENT_MASK {
        0 | 10 => {
            // GC and Skip ranges: Yjs writes the bare reference number, and
            // `yrs` matches the whole byte, so other flag bits are malformed.
            if info & !CONTENT_MASK != 0 {
                return Err(SyncError::malformed(
                    "update",
                    "flags on a GC or skip range",
                ));
            }
            let len = r.read_var_u32("range length")?;
            if len == 0 {
                return Err(SyncError::malformed("update", "empty GC or skip range"));
            }
            Ok(Place {
                len,
                is_item: false,
                is_type: false,
                parent: ParentRef::Root,
            })
        }
        content @ 1..=9 => {
            let left = (info & HAS_ORIGIN != 0)
                .then(|| read_id(r, "item origin"))
                .transpose()?;
            let right = (info & HAS_RIGHT_ORIGIN != 0)
                .then(|| read_id(r, "item right origin"))
                .transpose()?;
            let parent = if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                let parent = match r.read_var_u64("item parent info")? {
                    1 => {
                        r.read_str(usize::MAX, "item parent name")?;
                        ParentRef::Root
                    }
                    0 => ParentRef::Type(read_id(r, "item parent id")?),
                    other => {
                        return Err(SyncError::UnknownType {
                            what: "item parent info",
                            tag: other,
                        });
                    }
                };
                if info & HAS_PARENT_SUB != 0 {
                    r.read_str(usize::MAX, "item parent key")?;
                }
                parent
            } else {
                ParentRef::Neighbours { left, right }
            };
            Ok(Place {
                len: read_content(r, content, limits)?,
                is_item: true,
                is_type: content == CONTENT_TYPE,
                parent,
            })
        }
        other => Err(SyncError::UnknownType {
            what: "struct content",
            tag: u64::from(other),
        }),
    }
}

fn read_id(r: &mut Reader<'_>, what: &'static str) -> Result<ItemId> {
    let client = r.read_client_id(what)?;
    let clock = r.read_var_u32(what)?;
    Ok(ItemId { client, clock })
}

/// Reads item content and returns its length in clock units.
fn read_content(r: &mut Reader<'_>, content: u8, limits: &Limits) -> Result<u32> {
    let len: u64 = match content {
        // Deleted
        1 => u64::from(r.read_var_u32("deleted content length")?),
        // JSON: a count of JSON strings
        2 => {
            let count = r.read_count(1, usize::MAX, "JSON content")?;
            for _ in 0..count {
                r.read_str(usize::MAX, "JSON content")?;
            }
            count as u64
        }
        // Binary
        3 => {
            r.read_bytes(usize::MAX, "binary content")?;
            1
        }
        // String: its length counts UTF-16 code units, as in JavaScript.
        4 => {
            let s = r.read_str(usize::MAX, "string content")?;
            s.chars().map(|c| c.len_utf16() as u64).sum()
        }
        // Embed (JSON)
        5 => {
            r.read_str(usize::MAX, "embed content")?;
            1
        }
        // Format: key and JSON value
        6 => {
            r.read_str(usize::MAX, "format key")?;
            r.read_str(usize::MAX, "format value")?;
            1
        }
        // Type
        7 => {
            match r.read_var_u64("type reference")? {
                // Array, Map, Text, XmlFragment, XmlText
                0 | 1 | 2 | 4 | 6 => {}
                // XmlElement and XmlHook carry a name
                3 | 5 => {
                    r.read_str(usize::MAX, "type name")?;
                }
                other => {
                    return Err(SyncError::UnknownType {
                        what: "type reference",
                        tag: other,
                    });
                }
            }
            1
        }
        // Any: a count of lib0 Any values
        8 => {
            let count = r.read_count(1, usize::MAX, "any content")?;
            for _ in 0..count {
                skip_any(r, 0, limits)?;
            }
            count as u64
        }
        // Doc: guid and options
        _ => {
            r.read_str(usize::MAX, "subdocument guid")?;
            skip_any(r, 0, limits)?;
            1
        }
    };
    u32::try_from(len).map_err(|_| SyncError::malformed("update", "content longer than 2^32"))
}

/// Skips one lib0 `Any` value (`lib0/encoding.writeAny`).
fn skip_any(r: &mut Reader<'_>, depth: usize, limits: &Limits) -> Result<()> {
    if depth >= limits.max_any_depth {
        return Err(SyncError::TooMany {
            what: "nested values",
            count: depth as u64 + 1,
            limit: limits.max_any_depth as u64,
        });
    }
    match r.read_u8("any tag")? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => Ok(()),
        // integer
        125 => r.skip_var_int("any integer"),
        // float32
        124 => r.take(4, "any float32").map(drop),
        // float64, bigint64
        123 | 122 => r.take(8, "any float64").map(drop),
        // string
        119 => r.read_str(usize::MAX, "any string").map(drop),
        // object: key/value pairs, at least two bytes each
        118 => {
            let count = r.read_count(2, usize::MAX, "any object entries")?;
            for _ in 0..count {
                r.read_str(usize::MAX, "any object key")?;
                skip_any(r, depth + 1, limits)?;
            }
            Ok(())
        }
        // array
        117 => {
            let count = r.read_count(1, usize::MAX, "any array items")?;
            for _ in 0..count {
                skip_any(r, depth + 1, limits)?;
            }
            Ok(())
        }
        // Uint8Array
        116 => r.read_bytes(usize::MAX, "any bytes").map(drop),
        other => Err(SyncError::UnknownType {
            what: "any tag",
            tag: u64::from(other),
        }),
    }
}

/// Reads a delete set and returns how many ranges it holds.
fn read_delete_set(r: &mut Reader<'_>) -> Result<usize> {
    let clients = r.read_count(2, usize::MAX, "delete set clients")?;
    let mut ranges_total = 0usize;
    for _ in 0..clients {
        r.read_client_id("delete set client id")?;
        let ranges = r.read_count(2, usize::MAX, "delete set ranges")?;
        for _ in 0..ranges {
            let clock = r.read_var_u32("deleted clock")?;
            let len = r.read_var_u32("deleted length")?;
            if clock.checked_add(len).is_none() {
                return Err(SyncError::malformed(
                    "delete set",
                    "range end overflows 32 bits",
                ));
            }
        }
        ranges_total += ranges;
    }
    Ok(ranges_total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::types::xml::XmlFragment;
    use yrs::updates::decoder::Decode;
    use yrs::{
        Any, Array, Doc, Map, ReadTxn, StateVector, Text, Transact, Xml, XmlElementPrelim,
        XmlTextPrelim,
    };

    fn rich_update() -> Vec<u8> {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("text");
        let map = doc.get_or_insert_map("map");
        let array = doc.get_or_insert_array("array");
        let xml = doc.get_or_insert_xml_fragment("document-store");
        {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "héllo 👋 world");
            text.remove_range(&mut txn, 0, 1);
            map.insert(&mut txn, "n", 1.5);
            map.insert(&mut txn, "b", true);
            map.insert(
                &mut txn,
                "nested",
                Any::from(vec![
                    Any::Null,
                    Any::Undefined,
                    Any::from(-7i64),
                    Any::from("s"),
                ]),
            );
            map.insert(&mut txn, "bytes", Any::Buffer(vec![1u8, 2, 3].into()));
            array.insert_range(&mut txn, 0, [1, 2, 3]);
            let el = xml.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            el.insert_attribute(&mut txn, "level", "1");
            el.push_back(&mut txn, XmlTextPrelim::new("text"));
        }
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn accepts_what_yrs_writes() {
        let update = rich_update();
        let summary = check_update_v1(&update, &Limits::default()).expect("valid");
        assert!(summary.structs > 5);
        assert_eq!(summary.deleted_ranges, 1);
        assert!(
            check_update_v1(&[0, 0], &Limits::default())
                .expect("empty")
                .is_empty()
        );
    }

    #[test]
    fn rejects_every_truncation_and_trailing_bytes() {
        let update = rich_update();
        for end in 0..update.len() {
            assert!(
                check_update_v1(&update[..end], &Limits::default()).is_err(),
                "prefix of {end} bytes accepted"
            );
        }
        let mut longer = update.clone();
        longer.push(0);
        assert!(check_update_v1(&longer, &Limits::default()).is_err());
    }

    #[test]
    fn rejects_clock_overflow_and_oversized_client_ids() {
        // One client, one GC struct of length 2^32-1 starting at clock 1.
        let overflow = [1, 1, 5, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0];
        assert!(check_update_v1(&overflow, &Limits::default()).is_err());
        let fits = [1, 1, 5, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0];
        assert!(check_update_v1(&fits, &Limits::default()).is_ok());
        // Client id 2^53 in the delete set.
        let big_client = [0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0];
        assert!(check_update_v1(&big_client, &Limits::default()).is_err());
    }

    #[test]
    fn inputs_that_make_yrs_panic_in_debug_builds_are_rejected() {
        // yrs 0.28.1 (debug): `ClientID::new` asserts ids below 2^53, and the
        // delete set adds clock + length in u32.
        let client_2_pow_60 = [
            1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 1, 0,
        ];
        let delete_range_overflow = [0, 1, 5, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 5];
        for bytes in [&client_2_pow_60[..], &delete_range_overflow[..]] {
            assert!(
                check_update_v1(bytes, &Limits::default()).is_err(),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn caps_any_nesting() {
        // One client, one item at root "m" with Any content: 200 nested arrays.
        let mut update = vec![1, 1, 9, 0, 8, 1, 1, b'm', 1];
        update.extend(std::iter::repeat_n([117, 1], 200).flatten());
        update.push(126);
        update.push(0);
        let limits = Limits::default();
        assert!(matches!(
            check_update_v1(&update, &limits),
            Err(SyncError::TooMany { .. })
        ));
        let shallow = Limits {
            max_any_depth: 1000,
            ..Limits::default()
        };
        assert!(check_update_v1(&update, &shallow).is_ok());
    }

    /// Nests `levels` elements under the last root child of `doc` (or
    /// under the root when it is empty) and returns the update.
    fn deepen(doc: &Doc, levels: usize) -> Vec<u8> {
        let xml = doc.get_or_insert_xml_fragment("document-store");
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let mut parent = match xml.get(&txn, 0) {
                Some(yrs::XmlOut::Element(e)) => {
                    let mut e = e;
                    while let Some(yrs::XmlOut::Element(inner)) = e.get(&txn, 0) {
                        e = inner;
                    }
                    e.insert(&mut txn, 0, XmlElementPrelim::empty("blockGroup"))
                }
                _ => xml.insert(&mut txn, 0, XmlElementPrelim::empty("blockGroup")),
            };
            for i in 1..levels {
                let tag = if i % 2 == 1 {
                    "blockContainer"
                } else {
                    "blockGroup"
                };
                parent = parent.insert(&mut txn, 0, XmlElementPrelim::empty(tag));
            }
        }
        doc.transact().encode_state_as_update_v1(&before)
    }

    fn too_deep(result: Result<UpdateSummary>) -> bool {
        matches!(result, Err(SyncError::TooDeep { limit: 128 }))
    }

    #[test]
    fn refuses_an_update_nesting_deeper_than_the_limit() {
        let limits = Limits::default();
        let deep = deepen(&Doc::with_client_id(1), 20_000);
        let err = check_update_v1(&deep, &limits).expect_err("20,000 levels");
        assert!(too_deep(Err(err.clone())), "{err}");
        assert!(err.to_string().contains("max_nesting_depth = 128"), "{err}");
        assert!(check_update_v1(&deepen(&Doc::with_client_id(1), 128), &limits).is_ok());
        assert!(too_deep(check_update_v1(
            &deepen(&Doc::with_client_id(1), 129),
            &limits
        )));
        let roomy = Limits {
            max_nesting_depth: 20_000,
            ..Limits::default()
        };
        assert!(check_update_v1(&deep, &roomy).is_ok());
    }

    #[test]
    fn refuses_an_update_that_deepens_a_document_past_the_limit() {
        let limits = Limits::default();
        let doc = Doc::with_client_id(1);
        let base = deepen(&doc, 127);
        let replica = Doc::with_client_id(2);
        replica
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&base).expect("decodes"))
            .expect("applies");
        // One level more is fine, two are not; alone, each looks harmless.
        let one = deepen(&doc, 1);
        let writer = Doc::with_client_id(3);
        writer
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&base).expect("decodes"))
            .expect("applies");
        let two = deepen(&writer, 2);
        for update in [&one, &two] {
            assert!(check_update_v1(update, &limits).is_ok());
        }
        assert!(check_update_v1_against(&one, &limits, &replica).is_ok());
        assert!(too_deep(check_update_v1_against(&two, &limits, &replica)));
    }

    #[test]
    fn a_type_beside_a_deep_one_counts_its_neighbour_depth() {
        // A new element inserted after an existing one names only its
        // neighbour (origin), not its parent: its depth is the neighbour's.
        let limits = Limits::default();
        let doc = Doc::with_client_id(1);
        let base = deepen(&doc, 128);
        let replica = Doc::with_client_id(2);
        replica
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&base).expect("decodes"))
            .expect("applies");
        let before = doc.transact().state_vector();
        {
            let xml = doc.get_or_insert_xml_fragment("document-store");
            let mut txn = doc.transact_mut();
            let mut e = match xml.get(&txn, 0) {
                Some(yrs::XmlOut::Element(e)) => e,
                _ => panic!("a root element"),
            };
            while let Some(yrs::XmlOut::Element(inner)) = e.get(&txn, 0) {
                e = inner;
            }
            // A sibling of the innermost element, and a child of it.
            let parent = match e.parent() {
                Some(yrs::XmlOut::Element(p)) => p,
                _ => panic!("nested"),
            };
            parent.insert(&mut txn, 1, XmlElementPrelim::empty("blockContainer"));
        }
        let beside = doc.transact().encode_state_as_update_v1(&before);
        assert!(check_update_v1_against(&beside, &limits, &replica).is_ok());
        let below = deepen(&doc, 1);
        assert!(too_deep(check_update_v1_against(&below, &limits, &replica)));
    }

    #[test]
    fn typing_skips_the_depth_walk_and_sibling_blocks_pass() {
        let limits = Limits::default();
        let doc = Doc::with_client_id(1);
        let xml = doc.get_or_insert_xml_fragment("document-store");
        let replica = Doc::with_client_id(2);
        let sync = |update: &[u8]| {
            replica
                .transact_mut()
                .apply_update(yrs::Update::decode_v1(update).expect("decodes"))
                .expect("applies");
        };
        let before = doc.transact().state_vector();
        let text = {
            let mut txn = doc.transact_mut();
            let group = xml.push_back(&mut txn, XmlElementPrelim::empty("blockGroup"));
            let container = group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
            let para = container.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            para.push_back(&mut txn, XmlTextPrelim::new(""))
        };
        let first = doc.transact().encode_state_as_update_v1(&before);
        let summary = check_update_v1_against(&first, &limits, &replica).expect("ok");
        assert_eq!(summary.types, 4);
        sync(&first);
        let before = doc.transact().state_vector();
        text.insert(&mut doc.transact_mut(), 0, "a");
        let typed = doc.transact().encode_state_as_update_v1(&before);
        let summary = check_update_v1_against(&typed, &limits, &replica).expect("ok");
        assert_eq!(summary.types, 0);
    }
}
