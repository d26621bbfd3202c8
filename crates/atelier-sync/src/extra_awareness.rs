//! Awareness states a client publishes under client ids other than its
//! document's: an agent (an in-page script, the assistant) editing through
//! the page shows to every collaborator as a collaborator of its own, with
//! its own name and caret, and leaves when it is withdrawn or the page goes.
//!
//! Each entry keeps its clock after it is withdrawn, so announcing it again
//! later still outbids the `null` every peer saw last (y-protocols keeps a
//! state with the highest clock per client id).

use crate::awareness::AwarenessEntry;

/// One extra client id's state.
#[derive(Debug, Clone)]
struct Extra {
    client_id: u64,
    clock: u64,
    /// `None`: withdrawn (announced as `null` once, then kept only for its clock).
    state: Option<String>,
}

/// The extra awareness entries of one client session.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtraAwareness {
    entries: Vec<Extra>,
    /// When the live entries were last announced (renewal timer).
    pub(crate) announced_ms: u64,
}

impl ExtraAwareness {
    /// Whether `client_id` is one of ours (live or withdrawn).
    pub(crate) fn owns(&self, client_id: u64) -> bool {
        self.entries.iter().any(|e| e.client_id == client_id)
    }

    /// Whether `update` names one of our ids.
    pub(crate) fn owns_any(&self, update: &crate::awareness::AwarenessUpdate) -> bool {
        !self.entries.is_empty() && update.entries.iter().any(|e| self.owns(e.client_id))
    }

    /// Whether any entry is live (needs renewing).
    pub(crate) fn any_live(&self) -> bool {
        self.entries.iter().any(|e| e.state.is_some())
    }

    /// Sets or withdraws `client_id`'s state; returns the entry to announce
    /// (`None`: nothing changed, e.g. withdrawing an unknown id).
    pub(crate) fn set(&mut self, client_id: u64, state: Option<String>) -> Option<AwarenessEntry> {
        let entry = match self
            .entries
            .iter_mut()
            .position(|e| e.client_id == client_id)
        {
            Some(i) => self.entries.get_mut(i)?,
            None if state.is_none() => return None,
            None => {
                self.entries.push(Extra {
                    client_id,
                    clock: 0,
                    state: None,
                });
                self.entries.last_mut()?
            }
        };
        if entry.state.is_none() && state.is_none() {
            return None;
        }
        entry.clock += 1;
        entry.state = state;
        Some(to_entry(entry))
    }

    /// Every live entry with a fresh clock (connection, renewal).
    pub(crate) fn renew(&mut self) -> Vec<AwarenessEntry> {
        self.entries
            .iter_mut()
            .filter(|e| e.state.is_some())
            .map(|e| {
                e.clock += 1;
                to_entry(e)
            })
            .collect()
    }

    /// Every live entry as it is (an answer to a query).
    pub(crate) fn live(&self) -> Vec<AwarenessEntry> {
        self.entries
            .iter()
            .filter(|e| e.state.is_some())
            .map(to_entry)
            .collect()
    }

    /// A peer announced one of our ids with clock `seen`: the entry to send
    /// so ours wins again (as y-protocols does for the local state), if any.
    pub(crate) fn outbid(&mut self, client_id: u64, seen: u64) -> Option<AwarenessEntry> {
        let e = self.entries.iter_mut().find(|e| e.client_id == client_id)?;
        if seen < e.clock || e.state.is_none() {
            return None;
        }
        e.clock = seen + 1;
        Some(to_entry(e))
    }
}

fn to_entry(e: &Extra) -> AwarenessEntry {
    AwarenessEntry {
        client_id: e.client_id,
        clock: e.clock,
        state: e.state.clone().unwrap_or_else(|| "null".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_withdrawn_entry_keeps_its_clock_and_is_announced_as_null_once() {
        let mut x = ExtraAwareness::default();
        assert!(
            x.set(9, None).is_none(),
            "withdrawing an unknown id sends nothing"
        );
        let e = x.set(9, Some("{\"a\":1}".into())).expect("announced");
        assert_eq!(
            (e.client_id, e.clock, e.state.as_str()),
            (9, 1, "{\"a\":1}")
        );
        assert!(x.any_live() && x.owns(9));
        let e = x.set(9, None).expect("withdrawn");
        assert_eq!((e.clock, e.state.as_str()), (2, "null"));
        assert!(
            x.set(9, None).is_none(),
            "a second withdrawal sends nothing"
        );
        assert!(!x.any_live() && x.owns(9));
        assert!(x.renew().is_empty());
        let e = x.set(9, Some("{}".into())).expect("back");
        assert_eq!(e.clock, 3, "the clock outbids the null peers saw");
    }

    #[test]
    fn renewal_and_outbidding_raise_the_clock() {
        let mut x = ExtraAwareness::default();
        x.set(1, Some("{}".into()));
        x.set(2, Some("{}".into()));
        let r = x.renew();
        assert_eq!(r.iter().map(|e| e.clock).collect::<Vec<_>>(), [2, 2]);
        assert!(x.outbid(1, 1).is_none(), "an older clock is ignored");
        assert_eq!(x.outbid(1, 7).map(|e| e.clock), Some(8));
        assert_eq!(x.live().len(), 2);
        assert!(x.outbid(3, 7).is_none());
    }
}
