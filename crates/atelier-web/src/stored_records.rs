//! Reading a document's IndexedDB log back: every record is checked
//! against the document as loaded so far (so a log cannot nest past the
//! limit record by record) and applied, or skipped if it cannot be read.
//! Pure, so the fuzz target `idb_records` runs exactly this natively.

use atelier_doc::Document;
use atelier_sync::{Limits, check_update_v1_against};

/// Applies `records` (oldest first) to `doc`; returns how many could not be
/// read and were skipped (the caller keeps them: never compact them away).
pub fn apply_stored_records(doc: &Document, limits: &Limits, records: &[Vec<u8>]) -> usize {
    records
        .iter()
        .filter(|record| {
            check_update_v1_against(record, limits, doc.ydoc()).is_err()
                || doc.apply_update_v1(record).is_err()
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_records_are_counted_and_the_rest_applied() {
        let writer = Document::new();
        atelier_doc::markdown::import(&writer, "# Kept").expect("import");
        let good = writer.encode_state_v1();
        let doc = Document::new();
        let skipped =
            apply_stored_records(&doc, &Limits::default(), &[vec![0xff, 0x01], good.clone()]);
        assert_eq!(skipped, 1);
        assert_eq!(doc.encode_state_v1(), good);
    }
}
