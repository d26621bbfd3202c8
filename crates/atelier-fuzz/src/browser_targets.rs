//! The browser's own storage and channels, which another tab, an older
//! version or a hand-edited profile may have filled with anything.

use crate::frames;
use atelier_doc::Document;
use atelier_sync::{
    AwarenessStates, AwarenessUpdate, EncodedStateVector, Limits, check_update_v1_against,
};
use atelier_web::stored_records::apply_stored_records;
use atelier_web::tab_message::TabMessage;

/// Cross-tab records handled as the tab driver handles them: updates
/// checked then applied, state vectors answered with a diff, awareness
/// merged.
pub fn tab_message(data: &[u8]) {
    let limits = Limits::default();
    let doc = Document::new();
    let mut states = AwarenessStates::new(limits.max_awareness_clients);
    for (i, record) in frames(data).into_iter().enumerate() {
        let Ok((name, message)) = TabMessage::decode(record, limits.max_message_bytes) else {
            continue;
        };
        // What decodes must encode back to the same record.
        assert_eq!(
            message.encode(&name).ok().as_deref(),
            Some(record),
            "a tab record does not re-encode to itself"
        );
        match message {
            TabMessage::Hello(sv) | TabMessage::Step1(sv) => {
                // As the tab driver answers: checked, then diffed.
                if let Ok(sv) = EncodedStateVector::decode(&sv, &limits) {
                    let _ = doc.diff_v1(sv.as_bytes());
                }
            }
            TabMessage::Update(update) => {
                if check_update_v1_against(&update, &limits, doc.ydoc()).is_ok() {
                    let _ = doc.apply_update_v1(&update);
                }
            }
            TabMessage::Awareness(bytes) => {
                if let Ok(update) = AwarenessUpdate::decode(&bytes, &limits) {
                    states.apply(&update, i as u64, Some(1));
                }
            }
        }
    }
    let _ = doc.blocks();
}

/// A document's IndexedDB log read back (one record per frame).
pub fn idb_records(data: &[u8]) {
    let records: Vec<Vec<u8>> = frames(data).into_iter().map(<[u8]>::to_vec).collect();
    let doc = Document::new();
    let skipped = apply_stored_records(&doc, &Limits::default(), &records);
    assert!(skipped <= records.len());
    let _ = doc.blocks();
}
