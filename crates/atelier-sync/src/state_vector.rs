//! State vectors as they travel in sync step 1, checked before `yrs` sees them.

use yrs::StateVector;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use crate::error::Result;
use crate::limits::Limits;
use crate::varint::{Reader, write_var_u64};

/// The lib0 v1 encoding of a state vector, kept as the peer wrote it.
///
/// Yjs writes entries sorted by client id, `yrs` in hash-map order; keeping
/// the bytes makes a decoded message re-encode to exactly what was received.
/// A value obtained from [`EncodedStateVector::decode`] is known to be well
/// formed: entries within the caps, client ids below 2^53, clocks that fit
/// in 32 bits, no trailing bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedStateVector(Vec<u8>);

impl EncodedStateVector {
    /// Checks `bytes` and keeps them.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let mut r = Reader::new(bytes);
        // Each entry is at least two bytes: client id and clock.
        let count = r.read_count(2, limits.max_state_vector_entries, "state vector entries")?;
        for _ in 0..count {
            r.read_client_id("state vector client id")?;
            r.read_var_u32("state vector clock")?;
        }
        r.finish("state vector")?;
        Ok(EncodedStateVector(bytes.to_vec()))
    }

    /// Encodes a `yrs` state vector.
    pub fn from_state_vector(sv: &StateVector) -> Self {
        EncodedStateVector(sv.encode_v1())
    }

    /// The state vector of an empty document.
    pub fn empty() -> Self {
        let mut bytes = Vec::with_capacity(1);
        write_var_u64(&mut bytes, 0);
        EncodedStateVector(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The state vector as `yrs` uses it.
    pub fn to_state_vector(&self) -> StateVector {
        // The bytes were checked on decode or produced by yrs, so this
        // cannot fail; the empty fallback only avoids a panic path.
        StateVector::decode_v1(&self.0).unwrap_or_default()
    }
}

impl From<&StateVector> for EncodedStateVector {
    fn from(sv: &StateVector) -> Self {
        EncodedStateVector::from_state_vector(sv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, GetString, ReadTxn, Text, Transact};

    #[test]
    fn decodes_what_yrs_encodes() {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "hello");
        let sv = doc.transact().state_vector();
        let enc = EncodedStateVector::from_state_vector(&sv);
        let back = EncodedStateVector::decode(enc.as_bytes(), &Limits::default()).expect("valid");
        assert_eq!(back.to_state_vector(), sv);
        assert_eq!(text.get_string(&doc.transact()), "hello");
    }

    #[test]
    fn rejects_hostile_counts_and_trailing_bytes() {
        let limits = Limits::default();
        // Claims 2^32 entries in five bytes.
        assert!(EncodedStateVector::decode(&[0x80, 0x80, 0x80, 0x80, 0x10], &limits).is_err());
        assert!(EncodedStateVector::decode(&[1, 5, 6, 0], &limits).is_err());
        // A clock over 2^32.
        assert!(
            EncodedStateVector::decode(&[1, 5, 0x80, 0x80, 0x80, 0x80, 0x10], &limits).is_err()
        );
        assert!(EncodedStateVector::decode(&[], &limits).is_err());
        assert_eq!(
            EncodedStateVector::decode(&[0], &limits).expect("empty"),
            EncodedStateVector::empty()
        );
    }
}
