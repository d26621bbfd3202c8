//! The y-protocols awareness update, as it travels.
//!
//! Layout (`y-protocols/awareness.js` `encodeAwarenessUpdate`):
//! `varUint(n) · n × (varUint(clientID) · varUint(clock) · varString(JSON state))`,
//! where the state `null` means the client left.
//!
//! `yrs::sync::AwarenessUpdate` is not used on the wire: it keeps entries in
//! a hash map (so re-encoding reorders them) and its decoder reserves the
//! declared entry count before reading. This type keeps the peer's order,
//! bounds the count by the bytes present and checks every state is JSON,
//! because a relay that forwards invalid JSON breaks every Yjs peer
//! (`JSON.parse` throws inside their message handler).

use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::varint::{Reader, write_str, write_var_u64};

/// One client's entry in an awareness update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwarenessEntry {
    /// The Yjs client id (the document's `clientID`).
    pub client_id: u64,
    /// The client's awareness clock; higher wins.
    pub clock: u64,
    /// The state as JSON text; `null` when the client left.
    pub state: String,
}

impl AwarenessEntry {
    /// True when the entry removes the client's state.
    pub fn is_removal(&self) -> bool {
        self.state == "null"
    }
}

/// An awareness update: the states of some clients.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwarenessUpdate {
    /// The entries, in the order the sender wrote them.
    pub entries: Vec<AwarenessEntry>,
}

impl AwarenessUpdate {
    /// Decodes a whole awareness update.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let mut r = Reader::new(bytes);
        // client id, clock and string length: three bytes at least.
        let count = r.read_count(3, limits.max_awareness_clients, "awareness entries")?;
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let client_id = r.read_client_id("awareness client id")?;
            let clock = r.read_var_u64("awareness clock")?;
            let state = r.read_str(limits.max_awareness_state_bytes, "awareness state")?;
            check_json(state, "awareness state")?;
            entries.push(AwarenessEntry {
                client_id,
                clock,
                state: state.to_owned(),
            });
        }
        r.finish("awareness update")?;
        Ok(AwarenessUpdate { entries })
    }

    /// Encodes the update.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            1 + self
                .entries
                .iter()
                .map(|e| e.state.len() + 24)
                .sum::<usize>(),
        );
        write_var_u64(&mut out, self.entries.len() as u64);
        for e in &self.entries {
            write_var_u64(&mut out, e.client_id);
            write_var_u64(&mut out, e.clock);
            write_str(&mut out, &e.state);
        }
        out
    }

    /// Converts to `yrs`'s representation (clocks above `u32::MAX` saturate).
    pub fn to_yrs(&self) -> yrs::sync::AwarenessUpdate {
        let clients = self
            .entries
            .iter()
            .map(|e| {
                (
                    yrs::ClientID::new(e.client_id & ((1 << 53) - 1)),
                    yrs::sync::awareness::AwarenessUpdateEntry {
                        clock: u32::try_from(e.clock).unwrap_or(u32::MAX),
                        json: e.state.as_str().into(),
                    },
                )
            })
            .collect();
        yrs::sync::AwarenessUpdate { clients }
    }
}

/// Fails unless `text` is one JSON value.
pub(crate) fn check_json(text: &str, what: &'static str) -> Result<()> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(drop)
        .map_err(|e| SyncError::malformed(what, format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_order() {
        let update = AwarenessUpdate {
            entries: vec![
                AwarenessEntry {
                    client_id: 99,
                    clock: 3,
                    state: r#"{"user":{"name":"Zoé"}}"#.into(),
                },
                AwarenessEntry {
                    client_id: 1,
                    clock: 300,
                    state: "null".into(),
                },
            ],
        };
        let bytes = update.encode();
        assert_eq!(
            AwarenessUpdate::decode(&bytes, &Limits::default()).expect("ok"),
            update
        );
        assert!(update.entries[1].is_removal());
        assert_eq!(update.to_yrs().clients.len(), 2);
    }

    #[test]
    fn rejects_bad_json_and_huge_counts() {
        let limits = Limits::default();
        let bad = AwarenessUpdate {
            entries: vec![AwarenessEntry {
                client_id: 1,
                clock: 1,
                state: "{nope".into(),
            }],
        };
        assert!(AwarenessUpdate::decode(&bad.encode(), &limits).is_err());
        assert!(AwarenessUpdate::decode(&[0xff, 0xff, 0xff, 0xff, 0x0f], &limits).is_err());
        assert!(AwarenessUpdate::decode(&[0, 0], &limits).is_err());
    }
}
