//! The y-websocket framing: one document per socket, named in the URL.
//!
//! Every WebSocket message is `varUint(messageType) · body`
//! (`y-websocket/src/y-websocket.js`): 0 sync, 1 awareness
//! (`varUint8Array(awareness update)`), 2 auth, 3 query awareness (no body).

use crate::auth::YwsAuth;
use crate::awareness::AwarenessUpdate;
use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::message::SyncMessage;
use crate::varint::{Reader, write_bytes, write_var_u64};

/// y-websocket message type: sync.
pub const MESSAGE_SYNC: u64 = 0;
/// y-websocket message type: awareness.
pub const MESSAGE_AWARENESS: u64 = 1;
/// y-websocket message type: auth.
pub const MESSAGE_AUTH: u64 = 2;
/// y-websocket message type: query awareness.
pub const MESSAGE_QUERY_AWARENESS: u64 = 3;

/// One y-websocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YwsMessage {
    /// A sync message.
    Sync(SyncMessage),
    /// An awareness update.
    Awareness(AwarenessUpdate),
    /// An auth message.
    Auth(YwsAuth),
    /// A request for every awareness state the receiver knows.
    QueryAwareness,
}

impl YwsMessage {
    /// Decodes one whole frame.
    pub fn decode(frame: &[u8], limits: &Limits) -> Result<Self> {
        check_frame_size(frame, limits)?;
        let mut r = Reader::new(frame);
        let message = match r.read_var_u64("message type")? {
            MESSAGE_SYNC => YwsMessage::Sync(SyncMessage::read(&mut r, limits)?),
            MESSAGE_AWARENESS => {
                let bytes = r.read_bytes(limits.max_message_bytes, "awareness update")?;
                YwsMessage::Awareness(AwarenessUpdate::decode(bytes, limits)?)
            }
            MESSAGE_AUTH => YwsMessage::Auth(YwsAuth::read(&mut r, limits)?),
            MESSAGE_QUERY_AWARENESS => YwsMessage::QueryAwareness,
            tag => {
                return Err(SyncError::UnknownType {
                    what: "y-websocket message type",
                    tag,
                });
            }
        };
        r.finish("y-websocket message")?;
        Ok(message)
    }

    /// Encodes the frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            YwsMessage::Sync(sync) => {
                out.reserve(sync.encoded_len_hint() + 1);
                write_var_u64(&mut out, MESSAGE_SYNC);
                sync.write(&mut out);
            }
            YwsMessage::Awareness(update) => {
                write_var_u64(&mut out, MESSAGE_AWARENESS);
                write_bytes(&mut out, &update.encode());
            }
            YwsMessage::Auth(auth) => {
                write_var_u64(&mut out, MESSAGE_AUTH);
                auth.write(&mut out);
            }
            YwsMessage::QueryAwareness => write_var_u64(&mut out, MESSAGE_QUERY_AWARENESS),
        }
        out
    }
}

/// Rejects a frame over [`Limits::max_message_bytes`] before reading it.
pub(crate) fn check_frame_size(frame: &[u8], limits: &Limits) -> Result<()> {
    if frame.len() > limits.max_message_bytes {
        return Err(SyncError::TooLarge {
            what: "message",
            size: frame.len() as u64,
            limit: limits.max_message_bytes as u64,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_vector::EncodedStateVector;

    #[test]
    fn round_trips_each_type() {
        let limits = Limits::default();
        for msg in [
            YwsMessage::Sync(SyncMessage::Step1(EncodedStateVector::empty())),
            YwsMessage::Sync(SyncMessage::Update(vec![0, 0])),
            YwsMessage::Awareness(AwarenessUpdate::default()),
            YwsMessage::Auth(YwsAuth::PermissionDenied {
                reason: "no".into(),
            }),
            YwsMessage::QueryAwareness,
        ] {
            let bytes = msg.encode();
            assert_eq!(YwsMessage::decode(&bytes, &limits).expect("decodes"), msg);
        }
        assert_eq!(YwsMessage::QueryAwareness.encode(), [3]);
    }

    #[test]
    fn rejects_oversized_unknown_and_trailing() {
        let limits = Limits {
            max_message_bytes: 4,
            ..Limits::default()
        };
        assert!(YwsMessage::decode(&[0, 2, 2, 0, 0], &limits).is_err());
        assert!(YwsMessage::decode(&[4], &limits).is_err());
        assert!(YwsMessage::decode(&[3, 0], &limits).is_err());
        assert!(YwsMessage::decode(&[], &limits).is_err());
    }
}
