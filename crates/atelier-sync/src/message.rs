//! The y-protocols sync message, shared by both framings.
//!
//! Layout (`y-protocols/sync.js`): `varUint(kind) · varUint8Array(payload)`
//! with kind 0 = step 1 (payload: a state vector), 1 = step 2 (payload: an
//! update answering a step 1) and 2 = update.

use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::state_vector::EncodedStateVector;
use crate::update_v1::check_update_v1;
use crate::varint::{Reader, write_bytes, write_var_u64};

/// Tag of sync step 1.
pub const SYNC_STEP_1: u64 = 0;
/// Tag of sync step 2.
pub const SYNC_STEP_2: u64 = 1;
/// Tag of a sync update.
pub const SYNC_UPDATE: u64 = 2;

/// One y-protocols sync message.
///
/// Decoded values hold a checked state vector or a structurally checked v1
/// update (see [`crate::check_update_v1`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMessage {
    /// Step 1: the sender's state vector, asking for what it lacks.
    Step1(EncodedStateVector),
    /// Step 2: the update answering a step 1 (a whole document when the
    /// state vector was empty).
    Step2(Vec<u8>),
    /// An incremental v1 update.
    Update(Vec<u8>),
}

impl SyncMessage {
    /// Reads the message body (after the framing's message type).
    pub(crate) fn read(r: &mut Reader<'_>, limits: &Limits) -> Result<Self> {
        match r.read_var_u64("sync message type")? {
            SYNC_STEP_1 => {
                let bytes = r.read_bytes(limits.max_message_bytes, "state vector")?;
                Ok(SyncMessage::Step1(EncodedStateVector::decode(
                    bytes, limits,
                )?))
            }
            SYNC_STEP_2 => {
                let bytes = r.read_bytes(limits.max_document_bytes, "sync step 2 payload")?;
                check_update_v1(bytes, limits)?;
                Ok(SyncMessage::Step2(bytes.to_vec()))
            }
            SYNC_UPDATE => {
                let bytes = r.read_bytes(limits.max_update_bytes, "update payload")?;
                check_update_v1(bytes, limits)?;
                Ok(SyncMessage::Update(bytes.to_vec()))
            }
            tag => Err(SyncError::UnknownType {
                what: "sync message type",
                tag,
            }),
        }
    }

    /// Appends the message body.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            SyncMessage::Step1(sv) => {
                write_var_u64(out, SYNC_STEP_1);
                write_bytes(out, sv.as_bytes());
            }
            SyncMessage::Step2(update) => {
                write_var_u64(out, SYNC_STEP_2);
                write_bytes(out, update);
            }
            SyncMessage::Update(update) => {
                write_var_u64(out, SYNC_UPDATE);
                write_bytes(out, update);
            }
        }
    }

    /// The update carried by a step 2 or an update message.
    pub fn update(&self) -> Option<&[u8]> {
        match self {
            SyncMessage::Step1(_) => None,
            SyncMessage::Step2(u) | SyncMessage::Update(u) => Some(u),
        }
    }

    /// Upper bound of the encoded size, to reserve once.
    pub(crate) fn encoded_len_hint(&self) -> usize {
        11 + match self {
            SyncMessage::Step1(sv) => sv.as_bytes().len(),
            SyncMessage::Step2(u) | SyncMessage::Update(u) => u.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(msg: &SyncMessage) -> Vec<u8> {
        let mut out = Vec::new();
        msg.write(&mut out);
        let mut r = Reader::new(&out);
        let back = SyncMessage::read(&mut r, &Limits::default()).expect("decodes");
        r.finish("sync").expect("consumed");
        assert_eq!(&back, msg);
        out
    }

    #[test]
    fn layouts_match_y_protocols() {
        assert_eq!(
            round_trip(&SyncMessage::Step1(EncodedStateVector::empty())),
            [0, 1, 0]
        );
        assert_eq!(round_trip(&SyncMessage::Step2(vec![0, 0])), [1, 2, 0, 0]);
        assert_eq!(round_trip(&SyncMessage::Update(vec![0, 0])), [2, 2, 0, 0]);
    }

    #[test]
    fn caps_update_sizes_before_reading() {
        let limits = Limits {
            max_update_bytes: 2,
            max_document_bytes: 3,
            ..Limits::default()
        };
        let mut r = Reader::new(&[2, 3, 0, 0, 0]);
        assert!(matches!(
            SyncMessage::read(&mut r, &limits),
            Err(SyncError::TooLarge { .. })
        ));
        let mut r = Reader::new(&[1, 4, 0, 0, 0, 0]);
        assert!(matches!(
            SyncMessage::read(&mut r, &limits),
            Err(SyncError::TooLarge { .. })
        ));
        let mut r = Reader::new(&[3, 0]);
        assert!(matches!(
            SyncMessage::read(&mut r, &limits),
            Err(SyncError::UnknownType { .. })
        ));
    }
}
