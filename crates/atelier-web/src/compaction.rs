//! When the IndexedDB log of a document is folded into one full state.
//!
//! Pure bookkeeping, tested natively: the browser side ([`crate::idb_store`])
//! appends every update as one record and asks a [`Compactor`] after each
//! append and on every timer tick whether to replace the records with the
//! document's full state. Compacting bounds both the store size and the
//! time a reload spends replaying updates.

/// How often the log is compacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Compact as soon as the store holds this many records.
    pub max_records: u32,
    /// Compact a log of more than one record after this long without a write
    /// (milliseconds), so an idle tab leaves a single record behind.
    pub idle_ms: u64,
}

impl Default for CompactionPolicy {
    /// 500 records, or 5 seconds of quiet.
    fn default() -> Self {
        CompactionPolicy {
            max_records: 500,
            idle_ms: 5_000,
        }
    }
}

/// The state of one document's log, as far as compaction cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compactor {
    policy: CompactionPolicy,
    records: u32,
    last_write_ms: u64,
}

impl Compactor {
    /// A compactor for a store that holds `records` records now (what the
    /// load found), last written at `now_ms`.
    pub fn new(policy: CompactionPolicy, records: u32, now_ms: u64) -> Self {
        Compactor {
            policy,
            records,
            last_write_ms: now_ms,
        }
    }

    /// Starts over with a store of `records` records last written at `now_ms`.
    pub fn reset(&mut self, records: u32, now_ms: u64) {
        self.records = records;
        self.last_write_ms = now_ms;
    }

    /// Records held by the store, as far as this tab knows.
    pub fn records(&self) -> u32 {
        self.records
    }

    /// Notes that `count` records were appended at `now_ms`; returns whether
    /// the log should be compacted now.
    pub fn appended(&mut self, count: u32, now_ms: u64) -> bool {
        self.records = self.records.saturating_add(count);
        self.last_write_ms = now_ms;
        self.records >= self.policy.max_records.max(2)
    }

    /// Whether an idle log should be compacted at `now_ms`.
    pub fn idle_due(&self, now_ms: u64) -> bool {
        self.records > 1 && now_ms.saturating_sub(self.last_write_ms) >= self.policy.idle_ms
    }

    /// Notes that the log was replaced by one full-state record at `now_ms`.
    pub fn compacted(&mut self, now_ms: u64) {
        self.records = 1;
        self.last_write_ms = now_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: CompactionPolicy = CompactionPolicy {
        max_records: 4,
        idle_ms: 1_000,
    };

    #[test]
    fn compacts_when_the_log_reaches_its_cap() {
        let mut c = Compactor::new(POLICY, 1, 0);
        assert!(!c.appended(1, 10));
        assert!(!c.appended(1, 20));
        assert!(c.appended(1, 30), "four records reach the cap");
        c.compacted(31);
        assert_eq!(c.records(), 1);
        assert!(!c.appended(1, 40));
    }

    #[test]
    fn a_batch_counts_every_record() {
        let mut c = Compactor::new(POLICY, 0, 0);
        assert!(c.appended(7, 5));
    }

    #[test]
    fn compacts_an_idle_log_only_after_quiet_and_only_if_it_has_several_records() {
        let mut c = Compactor::new(POLICY, 1, 0);
        assert!(!c.idle_due(10_000), "one record is already compact");
        c.appended(1, 100);
        assert!(!c.idle_due(1_099));
        assert!(c.idle_due(1_100));
        c.compacted(1_100);
        assert!(!c.idle_due(50_000));
    }

    #[test]
    fn a_cap_below_two_never_compacts_after_every_single_write() {
        let policy = CompactionPolicy {
            max_records: 0,
            idle_ms: 1,
        };
        let mut c = Compactor::new(policy, 0, 0);
        assert!(!c.appended(1, 0), "one record is already compact");
        assert!(c.appended(1, 0));
    }

    #[test]
    fn a_clock_going_backwards_does_not_underflow() {
        let mut c = Compactor::new(POLICY, 3, 5_000);
        assert!(!c.idle_due(10));
        assert!(!c.appended(0, 1));
    }
}
