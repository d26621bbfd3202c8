//! Remote awareness states, merged by the rules of `y-protocols/awareness.js`.

use std::collections::BTreeMap;

use crate::awareness::{AwarenessEntry, AwarenessUpdate};

/// Which clients an awareness update added, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwarenessChange {
    /// Clients seen for the first time (or again after they left).
    pub added: Vec<u64>,
    /// Clients whose state changed.
    pub updated: Vec<u64>,
    /// Clients that left or timed out.
    pub removed: Vec<u64>,
}

impl AwarenessChange {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

#[derive(Debug, Clone)]
struct RemoteState {
    clock: u64,
    state: Option<String>,
    last_updated_ms: u64,
}

/// The awareness states of other clients of one document.
///
/// An entry wins when its clock is newer, or when it has the same clock and
/// removes a present state (y-protocols' rule). Entries for the local client
/// are never stored here; [`AwarenessStates::apply`] reports them so the
/// owner can raise its own clock and re-announce itself.
#[derive(Debug, Clone)]
pub struct AwarenessStates {
    states: BTreeMap<u64, RemoteState>,
    max_clients: usize,
}

/// The result of [`AwarenessStates::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwarenessApplied {
    /// What changed among remote clients.
    pub change: AwarenessChange,
    /// The highest clock a peer announced for the local client, if any.
    pub local_clock_seen: Option<u64>,
}

impl AwarenessStates {
    /// An empty set that keeps at most `max_clients` remote clients.
    pub fn new(max_clients: usize) -> Self {
        AwarenessStates {
            states: BTreeMap::new(),
            max_clients,
        }
    }

    /// Merges `update` received at `now_ms`.
    pub fn apply(
        &mut self,
        update: &AwarenessUpdate,
        now_ms: u64,
        local_client: Option<u64>,
    ) -> AwarenessApplied {
        let mut out = AwarenessApplied::default();
        for AwarenessEntry {
            client_id,
            clock,
            state,
        } in &update.entries
        {
            if Some(*client_id) == local_client {
                out.local_clock_seen = Some(out.local_clock_seen.unwrap_or(0).max(*clock));
                continue;
            }
            let removal = state == "null";
            let (current_clock, had_state) = match self.states.get(client_id) {
                Some(s) => (s.clock, s.state.is_some()),
                None => (0, false),
            };
            let newer = current_clock < *clock || (current_clock == *clock && removal && had_state);
            if !newer {
                continue;
            }
            if !self.states.contains_key(client_id) && self.states.len() >= self.max_clients {
                // A peer flooding client ids cannot grow this map past the cap.
                continue;
            }
            let new_state = (!removal).then(|| state.clone());
            let previous = self.states.insert(
                *client_id,
                RemoteState {
                    clock: *clock,
                    state: new_state,
                    last_updated_ms: now_ms,
                },
            );
            let previous_state = previous.and_then(|p| p.state);
            match (previous_state, removal) {
                (None, false) => out.change.added.push(*client_id),
                (Some(_), true) => out.change.removed.push(*client_id),
                (Some(prev), false) if prev != *state => out.change.updated.push(*client_id),
                _ => {}
            }
        }
        out
    }

    /// Removes states not renewed within `timeout_ms` (y-protocols uses 30 s).
    pub fn expire(&mut self, now_ms: u64, timeout_ms: u64) -> Vec<u64> {
        let mut removed = Vec::new();
        for (client, s) in self.states.iter_mut() {
            if s.state.is_some() && now_ms.saturating_sub(s.last_updated_ms) >= timeout_ms {
                s.state = None;
                removed.push(*client);
            }
        }
        removed
    }

    /// Forgets every state (on disconnect) and returns the clients that had one.
    pub fn clear(&mut self) -> Vec<u64> {
        let removed = self
            .states
            .iter()
            .filter(|(_, s)| s.state.is_some())
            .map(|(c, _)| *c)
            .collect();
        self.states.clear();
        removed
    }

    /// The JSON state of `client`, if present.
    pub fn get(&self, client: u64) -> Option<&str> {
        self.states.get(&client).and_then(|s| s.state.as_deref())
    }

    /// Present states as `(client id, clock, JSON)`.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, &str)> {
        self.states
            .iter()
            .filter_map(|(c, s)| s.state.as_deref().map(|j| (*c, s.clock, j)))
    }

    /// Number of present states.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when no remote state is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The present states as one update (the answer to a query).
    pub fn to_update(&self) -> AwarenessUpdate {
        AwarenessUpdate {
            entries: self
                .iter()
                .map(|(client_id, clock, state)| AwarenessEntry {
                    client_id,
                    clock,
                    state: state.to_owned(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(client_id: u64, clock: u64, state: &str) -> AwarenessUpdate {
        AwarenessUpdate {
            entries: vec![AwarenessEntry {
                client_id,
                clock,
                state: state.into(),
            }],
        }
    }

    #[test]
    fn follows_y_protocols_clock_rules() {
        let mut s = AwarenessStates::new(10);
        let a = s.apply(&entry(1, 1, "{\"a\":1}"), 0, Some(9));
        assert_eq!(a.change.added, vec![1]);
        // Older clock: ignored.
        assert!(s.apply(&entry(1, 0, "{}"), 0, Some(9)).change.is_empty());
        let u = s.apply(&entry(1, 2, "{\"a\":2}"), 0, Some(9));
        assert_eq!(u.change.updated, vec![1]);
        // Same clock, removal: accepted.
        let r = s.apply(&entry(1, 2, "null"), 0, Some(9));
        assert_eq!(r.change.removed, vec![1]);
        assert!(s.is_empty());
        // The local client is reported, not stored.
        let l = s.apply(&entry(9, 5, "null"), 0, Some(9));
        assert_eq!(l.local_clock_seen, Some(5));
        assert!(l.change.is_empty());
    }

    #[test]
    fn expires_and_caps() {
        let mut s = AwarenessStates::new(1);
        s.apply(&entry(1, 1, "{}"), 1_000, None);
        assert!(s.apply(&entry(2, 1, "{}"), 1_000, None).change.is_empty());
        assert_eq!(s.expire(20_000, 30_000), Vec::<u64>::new());
        assert_eq!(s.expire(31_000, 30_000), vec![1]);
        assert_eq!(s.to_update().entries.len(), 0);
    }
}
