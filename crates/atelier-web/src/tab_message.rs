//! Messages between tabs of one browser on a `BroadcastChannel`.
//!
//! One channel serves a document and its siblings (the text `D` and its
//! chat `D:chat`), so every message names its document. Layout:
//! one byte saying what the message is, the document name's length as two
//! little-endian bytes, the name (UTF-8), then the payload to the end. A
//! `postMessage` carries exactly one message, so the payload needs no
//! length, and the decoder is total: every length is checked against the
//! bytes that are there. The kind bytes differ from those of the first
//! layout (one channel per document, no name), so a tab still running an
//! older bundle is told apart instead of misread.
//!
//! The semantics are y-protocols sync over a broadcast medium, per
//! document: a tab that opens a document sends [`TabMessage::Hello`] with
//! its state vector; every tab that has the document open answers with the
//! diff the joiner lacks ([`TabMessage::Update`]), its own state vector
//! ([`TabMessage::Step1`], which is answered with a diff but never with
//! another step 1, so the exchange ends) and its awareness. Afterwards each
//! tab broadcasts its document updates and awareness changes as they
//! happen.
//!
//! Payloads are not checked here: updates go through
//! `atelier_sync::check_update_v1_against`, state vectors through
//! `Document::diff_v1` and awareness through `AwarenessUpdate::decode`.

use std::fmt;

const HELLO: u8 = 0x10;
const STEP1: u8 = 0x11;
const UPDATE: u8 = 0x12;
const AWARENESS: u8 = 0x13;

/// The longest document name a tab message carries (what
/// `atelier_sync::Limits::max_document_name_bytes` allows on the wire).
pub const MAX_NAME_BYTES: usize = 1 << 10;

/// One message on the cross-tab channel (its document is named beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// A tab opened the document: its encoded state vector. Answered with
    /// a diff, a [`TabMessage::Step1`] and the awareness of the answering tab.
    Hello(Vec<u8>),
    /// An encoded state vector: answered with a diff only.
    Step1(Vec<u8>),
    /// A Yjs v1 update (a diff or a new change).
    Update(Vec<u8>),
    /// An encoded y-protocols awareness update.
    Awareness(Vec<u8>),
}

/// A tab message that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTabMessage(&'static str);

impl fmt::Display for BadTabMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad cross-tab message: {}", self.0)
    }
}

impl std::error::Error for BadTabMessage {}

impl TabMessage {
    /// The message for document `doc` as bytes. A name longer than
    /// [`MAX_NAME_BYTES`] cannot be encoded (no receiver would accept it).
    pub fn encode(&self, doc: &str) -> Result<Vec<u8>, BadTabMessage> {
        let (tag, payload) = match self {
            TabMessage::Hello(p) => (HELLO, p),
            TabMessage::Step1(p) => (STEP1, p),
            TabMessage::Update(p) => (UPDATE, p),
            TabMessage::Awareness(p) => (AWARENESS, p),
        };
        let name = doc.as_bytes();
        let len = u16::try_from(name.len())
            .ok()
            .filter(|_| name.len() <= MAX_NAME_BYTES)
            .ok_or(BadTabMessage("document name too long"))?;
        let mut out = Vec::with_capacity(3 + name.len() + payload.len());
        out.push(tag);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(payload);
        Ok(out)
    }

    /// Decodes a message of at most `max_bytes` bytes into its document
    /// name and the message.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<(String, Self), BadTabMessage> {
        if bytes.len() > max_bytes {
            return Err(BadTabMessage("too large"));
        }
        let Some((&tag, rest)) = bytes.split_first() else {
            return Err(BadTabMessage("empty"));
        };
        let (len, rest) = rest
            .split_first_chunk::<2>()
            .ok_or(BadTabMessage("truncated document name"))?;
        let len = usize::from(u16::from_le_bytes(*len));
        if len > MAX_NAME_BYTES {
            return Err(BadTabMessage("document name too long"));
        }
        let (name, payload) = rest
            .split_at_checked(len)
            .ok_or(BadTabMessage("truncated document name"))?;
        let name = std::str::from_utf8(name)
            .map_err(|_| BadTabMessage("document name is not UTF-8"))?
            .to_owned();
        let payload = payload.to_vec();
        let message = match tag {
            HELLO => TabMessage::Hello(payload),
            STEP1 => TabMessage::Step1(payload),
            UPDATE => TabMessage::Update(payload),
            AWARENESS => TabMessage::Awareness(payload),
            _ => return Err(BadTabMessage("unknown kind")),
        };
        Ok((name, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind_with_its_document() {
        for (doc, m) in [
            ("notes", TabMessage::Hello(vec![0])),
            ("notes:chat", TabMessage::Step1(vec![1, 2])),
            ("", TabMessage::Update(vec![])),
            ("é/ü", TabMessage::Awareness(vec![9; 30])),
        ] {
            let bytes = m.encode(doc).expect("encode");
            assert_eq!(TabMessage::decode(&bytes, 64), Ok((doc.to_owned(), m)));
        }
    }

    #[test]
    fn the_longest_name_round_trips_and_a_longer_one_is_refused() {
        let longest = "n".repeat(MAX_NAME_BYTES);
        let bytes = TabMessage::Update(vec![7])
            .encode(&longest)
            .expect("encode");
        let (name, _) = TabMessage::decode(&bytes, usize::MAX).expect("decode");
        assert_eq!(name, longest);
        let longer = "n".repeat(MAX_NAME_BYTES + 1);
        assert!(TabMessage::Update(vec![]).encode(&longer).is_err());
        // A hand-made message claiming a longer name is refused too.
        let mut forged = vec![UPDATE];
        forged.extend_from_slice(&u16::try_from(MAX_NAME_BYTES + 1).unwrap_or(0).to_le_bytes());
        forged.extend(std::iter::repeat_n(b'n', MAX_NAME_BYTES + 1));
        assert_eq!(
            TabMessage::decode(&forged, usize::MAX),
            Err(BadTabMessage("document name too long"))
        );
    }

    #[test]
    fn refuses_empty_truncated_unknown_and_oversized_messages() {
        assert_eq!(TabMessage::decode(&[], 10), Err(BadTabMessage("empty")));
        for truncated in [&[HELLO][..], &[HELLO, 3], &[HELLO, 3, 0, b'a', b'b']] {
            assert_eq!(
                TabMessage::decode(truncated, 10),
                Err(BadTabMessage("truncated document name")),
                "{truncated:?}"
            );
        }
        assert_eq!(
            TabMessage::decode(&[7, 0, 0], 10),
            Err(BadTabMessage("unknown kind"))
        );
        assert_eq!(
            TabMessage::decode(&[UPDATE, 1, 0, 0xff], 10),
            Err(BadTabMessage("document name is not UTF-8"))
        );
        assert_eq!(
            TabMessage::decode(&[UPDATE; 11], 10),
            Err(BadTabMessage("too large"))
        );
    }

    #[test]
    fn a_message_of_the_first_layout_is_not_misread() {
        // Kind 2 (an update) then the payload, as a tab of an older bundle
        // posts it: unknown here, whatever its payload looks like.
        for old in [&[2u8, 0, 0, 1][..], &[0, 1, 2], &[3]] {
            assert!(TabMessage::decode(old, 64).is_err(), "{old:?}");
        }
    }
}
