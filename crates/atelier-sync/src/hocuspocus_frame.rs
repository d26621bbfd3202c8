//! The Hocuspocus framing: several documents share one socket.
//!
//! Every message is `varString(document) · varUint(type) · body`
//! (`@hocuspocus/server/src/OutgoingMessage.ts`, `MessageReceiver.ts`):
//!
//! | type | name | body |
//! |---|---|---|
//! | 0 | Sync | sync message |
//! | 1 | Awareness | `varUint8Array(awareness update)` |
//! | 2 | Auth | see [`HocuspocusAuth`] |
//! | 3 | QueryAwareness | none |
//! | 4 | SyncReply | sync message (a step 1 sent this way asks for no step 1 back) |
//! | 5 | Stateless | `varString(payload)` |
//! | 6 | BroadcastStateless | `varString(payload)` (server-internal; Hocuspocus 4 rejects it from clients) |
//! | 7 | Close | server → client `varString(reason)`; client → server nothing |
//! | 8 | SyncStatus | `varUint(1)` applied, `varUint(0)` refused (the provider reads a `varInt`: same bytes) |
//!
//! Hocuspocus 4 adds connection-level keep-alives that carry no document:
//! the one-byte frames `[9]` (Ping) and `[10]` (Pong). A one-byte frame can
//! never be a document message (its name would be cut short), which is how
//! the provider tells them apart. Hocuspocus 4 may also address a document
//! as `name\0sessionId` (see [`split_session`]).

use crate::auth::HocuspocusAuth;
use crate::awareness::AwarenessUpdate;
use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::message::SyncMessage;
use crate::varint::{Reader, write_bytes, write_str, write_var_u64};
use crate::ywebsocket_frame::check_frame_size;

/// Hocuspocus message type: Sync.
pub const TYPE_SYNC: u64 = 0;
/// Hocuspocus message type: Awareness.
pub const TYPE_AWARENESS: u64 = 1;
/// Hocuspocus message type: Auth.
pub const TYPE_AUTH: u64 = 2;
/// Hocuspocus message type: QueryAwareness.
pub const TYPE_QUERY_AWARENESS: u64 = 3;
/// Hocuspocus message type: SyncReply.
pub const TYPE_SYNC_REPLY: u64 = 4;
/// Hocuspocus message type: Stateless.
pub const TYPE_STATELESS: u64 = 5;
/// Hocuspocus message type: BroadcastStateless.
pub const TYPE_BROADCAST_STATELESS: u64 = 6;
/// Hocuspocus message type: Close.
pub const TYPE_CLOSE: u64 = 7;
/// Hocuspocus message type: SyncStatus.
pub const TYPE_SYNC_STATUS: u64 = 8;
/// Hocuspocus 4 connection-level type: Ping (a frame of this one byte).
pub const TYPE_PING: u64 = 9;
/// Hocuspocus 4 connection-level type: Pong (a frame of this one byte).
pub const TYPE_PONG: u64 = 10;

/// One frame of the Hocuspocus framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HocuspocusFrame {
    /// Hocuspocus 4 keep-alive request (`[9]`).
    Ping,
    /// Hocuspocus 4 keep-alive answer (`[10]`).
    Pong,
    /// A message about one document.
    Message {
        /// The document address as sent (Hocuspocus 4 may append `\0session`).
        document: String,
        /// The message.
        message: HocuspocusMessage,
    },
}

/// The document-addressed messages of the Hocuspocus framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HocuspocusMessage {
    /// Type 0.
    Sync(SyncMessage),
    /// Type 1.
    Awareness(AwarenessUpdate),
    /// Type 2.
    Auth(HocuspocusAuth),
    /// Type 3.
    QueryAwareness,
    /// Type 4.
    SyncReply(SyncMessage),
    /// Type 5.
    Stateless(String),
    /// Type 6.
    BroadcastStateless(String),
    /// Type 7: the reason is present from servers, absent from providers.
    Close {
        /// Why the document was closed.
        reason: Option<String>,
    },
    /// Type 8: whether the server applied the last update.
    SyncStatus {
        /// True for `1`.
        applied: bool,
    },
}

impl HocuspocusFrame {
    /// Decodes one whole frame.
    pub fn decode(frame: &[u8], limits: &Limits) -> Result<Self> {
        check_frame_size(frame, limits)?;
        match frame {
            [9] => return Ok(HocuspocusFrame::Ping),
            [10] => return Ok(HocuspocusFrame::Pong),
            _ => {}
        }
        let mut r = Reader::new(frame);
        let document = r
            .read_str(limits.max_document_name_bytes, "document name")?
            .to_owned();
        let message = HocuspocusMessage::read(&mut r, limits)?;
        r.finish("Hocuspocus message")?;
        Ok(HocuspocusFrame::Message { document, message })
    }

    /// Encodes the frame.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            HocuspocusFrame::Ping => vec![TYPE_PING as u8],
            HocuspocusFrame::Pong => vec![TYPE_PONG as u8],
            HocuspocusFrame::Message { document, message } => message.encode_for(document),
        }
    }
}

impl HocuspocusMessage {
    fn read(r: &mut Reader<'_>, limits: &Limits) -> Result<Self> {
        Ok(match r.read_var_u64("message type")? {
            TYPE_SYNC => HocuspocusMessage::Sync(SyncMessage::read(r, limits)?),
            TYPE_AWARENESS => {
                let bytes = r.read_bytes(limits.max_message_bytes, "awareness update")?;
                HocuspocusMessage::Awareness(AwarenessUpdate::decode(bytes, limits)?)
            }
            TYPE_AUTH => HocuspocusMessage::Auth(HocuspocusAuth::read(r, limits)?),
            TYPE_QUERY_AWARENESS => HocuspocusMessage::QueryAwareness,
            TYPE_SYNC_REPLY => HocuspocusMessage::SyncReply(SyncMessage::read(r, limits)?),
            TYPE_STATELESS => HocuspocusMessage::Stateless(
                r.read_str(limits.max_stateless_bytes, "stateless payload")?
                    .to_owned(),
            ),
            TYPE_BROADCAST_STATELESS => HocuspocusMessage::BroadcastStateless(
                r.read_str(limits.max_stateless_bytes, "stateless payload")?
                    .to_owned(),
            ),
            TYPE_CLOSE => HocuspocusMessage::Close {
                reason: if r.is_empty() {
                    None
                } else {
                    Some(
                        r.read_str(limits.max_token_bytes, "close reason")?
                            .to_owned(),
                    )
                },
            },
            TYPE_SYNC_STATUS => match r.read_var_u64("sync status")? {
                0 => HocuspocusMessage::SyncStatus { applied: false },
                1 => HocuspocusMessage::SyncStatus { applied: true },
                tag => {
                    return Err(SyncError::UnknownType {
                        what: "sync status",
                        tag,
                    });
                }
            },
            tag => {
                return Err(SyncError::UnknownType {
                    what: "Hocuspocus message type",
                    tag,
                });
            }
        })
    }

    /// Encodes the message addressed to `document`.
    pub fn encode_for(&self, document: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(document.len() + 8);
        write_str(&mut out, document);
        match self {
            HocuspocusMessage::Sync(sync) | HocuspocusMessage::SyncReply(sync) => {
                out.reserve(sync.encoded_len_hint());
                let tag = if matches!(self, HocuspocusMessage::Sync(_)) {
                    TYPE_SYNC
                } else {
                    TYPE_SYNC_REPLY
                };
                write_var_u64(&mut out, tag);
                sync.write(&mut out);
            }
            HocuspocusMessage::Awareness(update) => {
                write_var_u64(&mut out, TYPE_AWARENESS);
                write_bytes(&mut out, &update.encode());
            }
            HocuspocusMessage::Auth(auth) => {
                write_var_u64(&mut out, TYPE_AUTH);
                auth.write(&mut out);
            }
            HocuspocusMessage::QueryAwareness => write_var_u64(&mut out, TYPE_QUERY_AWARENESS),
            HocuspocusMessage::Stateless(payload) => {
                write_var_u64(&mut out, TYPE_STATELESS);
                write_str(&mut out, payload);
            }
            HocuspocusMessage::BroadcastStateless(payload) => {
                write_var_u64(&mut out, TYPE_BROADCAST_STATELESS);
                write_str(&mut out, payload);
            }
            HocuspocusMessage::Close { reason } => {
                write_var_u64(&mut out, TYPE_CLOSE);
                if let Some(reason) = reason {
                    write_str(&mut out, reason);
                }
            }
            HocuspocusMessage::SyncStatus { applied } => {
                write_var_u64(&mut out, TYPE_SYNC_STATUS);
                write_var_u64(&mut out, u64::from(*applied));
            }
        }
        out
    }
}

/// Reads only the document address of a frame (`None` for Ping and Pong),
/// so a caller can route or prepare a document before decoding the rest.
pub fn peek_document<'a>(frame: &'a [u8], limits: &Limits) -> Result<Option<&'a str>> {
    check_frame_size(frame, limits)?;
    if matches!(frame, [9] | [10]) {
        return Ok(None);
    }
    Reader::new(frame)
        .read_str(limits.max_document_name_bytes, "document name")
        .map(Some)
}

/// Splits a Hocuspocus 4 address `name\0sessionId` into the document name
/// and the session id.
pub fn split_session(address: &str) -> (&str, Option<&str>) {
    match address.split_once('\0') {
        Some((name, session)) => (name, Some(session)),
        None => (address, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Access;

    fn msg(document: &str, message: HocuspocusMessage) -> HocuspocusFrame {
        HocuspocusFrame::Message {
            document: document.into(),
            message,
        }
    }

    #[test]
    fn layouts_match_hocuspocus() {
        let limits = Limits::default();
        let cases: Vec<(HocuspocusFrame, Vec<u8>)> = vec![
            (HocuspocusFrame::Ping, vec![9]),
            (HocuspocusFrame::Pong, vec![10]),
            (
                msg("d", HocuspocusMessage::SyncStatus { applied: true }),
                vec![1, b'd', 8, 1],
            ),
            (
                msg("d", HocuspocusMessage::Close { reason: None }),
                vec![1, b'd', 7],
            ),
            (
                msg(
                    "d",
                    HocuspocusMessage::Close {
                        reason: Some("x".into()),
                    },
                ),
                vec![1, b'd', 7, 1, b'x'],
            ),
            (
                msg("d", HocuspocusMessage::QueryAwareness),
                vec![1, b'd', 3],
            ),
            (
                msg(
                    "d",
                    HocuspocusMessage::Auth(HocuspocusAuth::Authenticated {
                        access: Access::ReadWrite,
                    }),
                ),
                [&[1, b'd', 2, 2, 10][..], b"read-write"].concat(),
            ),
            (
                msg("d", HocuspocusMessage::Stateless("hi".into())),
                vec![1, b'd', 5, 2, b'h', b'i'],
            ),
        ];
        for (frame, bytes) in cases {
            assert_eq!(frame.encode(), bytes, "{frame:?}");
            assert_eq!(
                HocuspocusFrame::decode(&bytes, &limits).expect("decodes"),
                frame
            );
        }
    }

    #[test]
    fn peeks_and_splits_addresses() {
        let limits = Limits::default();
        let frame = msg("doc\0s1", HocuspocusMessage::QueryAwareness).encode();
        let address = peek_document(&frame, &limits)
            .expect("ok")
            .expect("addressed");
        assert_eq!(split_session(address), ("doc", Some("s1")));
        assert_eq!(peek_document(&[9], &limits).expect("ping"), None);
        assert!(peek_document(&[5, b'a'], &limits).is_err());
    }

    #[test]
    fn rejects_bad_status_and_types() {
        let limits = Limits::default();
        assert!(HocuspocusFrame::decode(&[1, b'd', 8, 2], &limits).is_err());
        assert!(HocuspocusFrame::decode(&[1, b'd', 9], &limits).is_err());
        assert!(HocuspocusFrame::decode(&[1, b'd', 3, 0], &limits).is_err());
        assert!(HocuspocusFrame::decode(&[], &limits).is_err());
    }
}
