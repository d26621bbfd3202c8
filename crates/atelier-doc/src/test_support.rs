//! Helpers for other crates' tests (feature `test-support`): documents a
//! hostile or legacy peer could have written.

use crate::schema::{BLOCK_CONTAINER, BLOCK_GROUP, FRAGMENT, ID_ATTR};
use yrs::types::xml::XmlFragment;
use yrs::{Any, Doc, ReadTxn, StateVector, Transact, Xml, XmlElementPrelim, XmlTextPrelim};

/// A full v1 state whose rich text nests `levels` elements deep, as the
/// update in issue 20 did: `blockGroup` and `blockContainer` alternating
/// under the root, each container holding a paragraph (`level N`) before its
/// nested group. Built without recursion, by client `client`.
pub fn deep_nest_update(client: u64, levels: usize) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let root = doc.get_or_insert_xml_fragment(FRAGMENT);
    {
        let mut txn = doc.transact_mut();
        let mut group = root.insert(&mut txn, 0, XmlElementPrelim::empty(BLOCK_GROUP));
        let mut depth = 1;
        while depth < levels {
            let container = group.insert(&mut txn, 0, XmlElementPrelim::empty(BLOCK_CONTAINER));
            container.insert_attribute(&mut txn, ID_ATTR, Any::from(format!("deep-{depth}")));
            let paragraph = container.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
            paragraph.insert(&mut txn, 0, XmlTextPrelim::new(format!("level {depth}")));
            depth += 1;
            if depth >= levels {
                break;
            }
            group = container.insert(&mut txn, 1, XmlElementPrelim::empty(BLOCK_GROUP));
            depth += 1;
        }
    }
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}
