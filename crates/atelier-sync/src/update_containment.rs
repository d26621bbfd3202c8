//! Whether an update adds anything to a document: how a server answers a
//! read-only client's sync step 2.

use yrs::Snapshot;
use yrs::updates::decoder::Decode;

use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::update_v1::check_update_v1;

/// True when every struct and deletion in `update` is already in the
/// document whose snapshot is `snapshot` (Yjs's `snapshotContainsUpdate`).
///
/// A read-only Hocuspocus client always answers the server's step 1 with a
/// step 2; Hocuspocus acknowledges it (SyncStatus 1) when it adds nothing,
/// so the provider does not show unsaved changes forever, and refuses it
/// (SyncStatus 0) otherwise. Take the snapshot with
/// `yrs::ReadTxn::snapshot` on the server's document.
pub fn update_adds_nothing(update: &[u8], snapshot: &Snapshot) -> Result<bool> {
    check_update_v1(update, &Limits::default())?;
    let update = yrs::Update::decode_v1(update).map_err(|e| SyncError::Apply(e.to_string()))?;
    for (client, ranges) in update.insertions(true).iter() {
        let known = snapshot.state_map.get(client);
        if ranges.iter().any(|range| range.end > known) {
            return Ok(false);
        }
    }
    Ok(update.delete_set().diff(&snapshot.delete_set).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

    #[test]
    fn tells_redundant_from_new() {
        let server = Doc::with_client_id(1);
        let text = server.get_or_insert_text("t");
        text.insert(&mut server.transact_mut(), 0, "hello");
        text.remove_range(&mut server.transact_mut(), 0, 1);
        let full = server
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let snapshot = server.transact().snapshot();
        // The server's own state (structs and deletions) adds nothing.
        assert!(update_adds_nothing(&full, &snapshot).expect("valid"));
        assert!(update_adds_nothing(&[0, 0], &snapshot).expect("valid"));

        let client = Doc::with_client_id(2);
        client
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&full).expect("decodes"))
            .expect("applies");
        let ctext = client.get_or_insert_text("t");
        ctext.insert(&mut client.transact_mut(), 0, "x");
        let diff = client
            .transact()
            .encode_diff_v1(&server.transact().state_vector());
        assert!(!update_adds_nothing(&diff, &snapshot).expect("valid"));

        // A new deletion of a server item is new too, even with no struct.
        ctext.remove_range(&mut client.transact_mut(), 1, 1);
        let client_full = client
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let client_sv = client.transact().state_vector().encode_v1();
        let only_deletes = yrs::diff_updates_v1(&client_full, &client_sv).expect("diffs");
        assert!(!update_adds_nothing(&only_deletes, &snapshot).expect("valid"));
        assert!(update_adds_nothing(&[1, 2], &snapshot).is_err());
    }
}
