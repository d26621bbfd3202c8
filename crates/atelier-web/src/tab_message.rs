//! Messages between tabs of one browser on a `BroadcastChannel`.
//!
//! Each message is one byte saying what it is, then its payload, so the
//! decoder is total without length prefixes (a `postMessage` carries
//! exactly one message). The semantics are y-protocols sync over a
//! broadcast medium: a tab that joins sends [`TabMessage::Hello`] with its
//! state vector; every tab answers with the diff the joiner lacks
//! ([`TabMessage::Update`]), its own state vector ([`TabMessage::Step1`],
//! which is answered with a diff but never with another step 1, so the
//! exchange ends) and its awareness. Afterwards each tab broadcasts its
//! document updates and awareness changes as they happen.
//!
//! Payloads are not checked here: updates go through
//! `atelier_sync::check_update_v1`, state vectors through
//! `Document::diff_v1` and awareness through `AwarenessUpdate::decode`.

use std::fmt;

const HELLO: u8 = 0;
const STEP1: u8 = 1;
const UPDATE: u8 = 2;
const AWARENESS: u8 = 3;

/// One message on the cross-tab channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// A tab joined: its encoded state vector. Answered with a diff, a
    /// [`TabMessage::Step1`] and the awareness of the answering tab.
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
    /// The message as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, payload) = match self {
            TabMessage::Hello(p) => (HELLO, p),
            TabMessage::Step1(p) => (STEP1, p),
            TabMessage::Update(p) => (UPDATE, p),
            TabMessage::Awareness(p) => (AWARENESS, p),
        };
        let mut out = Vec::with_capacity(payload.len() + 1);
        out.push(tag);
        out.extend_from_slice(payload);
        out
    }

    /// Decodes a message of at most `max_bytes` bytes.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Self, BadTabMessage> {
        if bytes.len() > max_bytes {
            return Err(BadTabMessage("too large"));
        }
        let Some((&tag, payload)) = bytes.split_first() else {
            return Err(BadTabMessage("empty"));
        };
        let payload = payload.to_vec();
        match tag {
            HELLO => Ok(TabMessage::Hello(payload)),
            STEP1 => Ok(TabMessage::Step1(payload)),
            UPDATE => Ok(TabMessage::Update(payload)),
            AWARENESS => Ok(TabMessage::Awareness(payload)),
            _ => Err(BadTabMessage("unknown kind")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        for m in [
            TabMessage::Hello(vec![0]),
            TabMessage::Step1(vec![1, 2]),
            TabMessage::Update(vec![]),
            TabMessage::Awareness(vec![9; 30]),
        ] {
            assert_eq!(TabMessage::decode(&m.encode(), 64), Ok(m));
        }
    }

    #[test]
    fn refuses_empty_unknown_and_oversized_messages() {
        assert_eq!(TabMessage::decode(&[], 10), Err(BadTabMessage("empty")));
        assert_eq!(
            TabMessage::decode(&[7, 1], 10),
            Err(BadTabMessage("unknown kind"))
        );
        assert_eq!(
            TabMessage::decode(&[2; 11], 10),
            Err(BadTabMessage("too large"))
        );
    }
}
