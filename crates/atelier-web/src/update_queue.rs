//! What a document's update observer captures for IndexedDB and the other
//! tabs, and the rule that keeps updates from going back where they came
//! from.
//!
//! `yrs` observers must be `Send + Sync`, so they cannot reach the drivers
//! (which hold `Rc`s): they only push into these queues, and the page's
//! next drive takes what they captured. Pure, tested natively.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Updates waiting for one consumer; capturing can be switched off for good
/// (IndexedDB failed, no tab channel).
#[derive(Debug)]
pub struct UpdateQueue {
    on: AtomicBool,
    updates: Mutex<Vec<Vec<u8>>>,
}

impl UpdateQueue {
    /// An empty queue, capturing if `on`.
    pub fn new(on: bool) -> Self {
        UpdateQueue {
            on: AtomicBool::new(on),
            updates: Mutex::new(Vec::new()),
        }
    }

    /// Whether updates are captured.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::SeqCst)
    }

    /// Appends `update` (nothing when capturing is off).
    pub fn push(&self, update: &[u8]) {
        if self.is_on() {
            self.lock().push(update.to_vec());
        }
    }

    /// Takes every captured update, oldest first.
    pub fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.lock())
    }

    /// Stops capturing and drops what was captured.
    pub fn turn_off(&self) {
        self.on.store(false, Ordering::SeqCst);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // A poisoned lock only means a panic elsewhere; the queue is intact.
        self.updates.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The two queues of one document and where the update being applied
/// comes from.
#[derive(Debug)]
pub struct Captures {
    /// Updates to append to IndexedDB.
    pub to_store: UpdateQueue,
    /// Updates to broadcast to the other tabs.
    pub to_tabs: UpdateQueue,
    applying_stored: AtomicBool,
    applying_tab: AtomicBool,
}

/// Where an update being applied comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Read back from IndexedDB.
    Stored,
    /// Sent by another tab.
    Tab,
}

impl Captures {
    /// Queues capturing for IndexedDB if `persist`, for tabs if `cross_tab`.
    pub fn new(persist: bool, cross_tab: bool) -> Self {
        Captures {
            to_store: UpdateQueue::new(persist),
            to_tabs: UpdateQueue::new(cross_tab),
            applying_stored: AtomicBool::new(false),
            applying_tab: AtomicBool::new(false),
        }
    }

    /// Called by the observer for every update of the document: a stored
    /// update is neither stored again nor broadcast (every tab reads the
    /// same store); another tab's update is stored (this tab may be the
    /// only one persisting it) but not echoed back to the tabs.
    pub fn capture(&self, update: &[u8]) {
        if self.applying_stored.load(Ordering::SeqCst) {
            return;
        }
        self.to_store.push(update);
        if !self.applying_tab.load(Ordering::SeqCst) {
            self.to_tabs.push(update);
        }
    }

    /// Runs `apply` with updates marked as coming from `source`.
    pub fn applying<R>(&self, source: Source, apply: impl FnOnce() -> R) -> R {
        let flag = match source {
            Source::Stored => &self.applying_stored,
            Source::Tab => &self.applying_tab,
        };
        flag.store(true, Ordering::SeqCst);
        let result = apply();
        flag.store(false, Ordering::SeqCst);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_updates_go_to_the_store_and_the_tabs() {
        let c = Captures::new(true, true);
        c.capture(&[1]);
        c.capture(&[2]);
        assert_eq!(c.to_store.take(), vec![vec![1], vec![2]]);
        assert_eq!(c.to_tabs.take(), vec![vec![1], vec![2]]);
        assert!(c.to_store.take().is_empty(), "taken once");
    }

    #[test]
    fn stored_updates_are_not_stored_again_nor_broadcast() {
        let c = Captures::new(true, true);
        c.applying(Source::Stored, || c.capture(&[1]));
        assert!(c.to_store.take().is_empty());
        assert!(c.to_tabs.take().is_empty());
        c.capture(&[2]);
        assert_eq!(c.to_store.take(), vec![vec![2]], "the flag was cleared");
    }

    #[test]
    fn another_tabs_update_is_stored_but_not_echoed() {
        let c = Captures::new(true, true);
        let applied = c.applying(Source::Tab, || {
            c.capture(&[3]);
            "applied"
        });
        assert_eq!(applied, "applied");
        assert_eq!(c.to_store.take(), vec![vec![3]]);
        assert!(c.to_tabs.take().is_empty());
    }

    #[test]
    fn a_queue_switched_off_drops_what_it_held_and_captures_nothing_more() {
        let c = Captures::new(true, false);
        c.capture(&[1]);
        assert!(c.to_tabs.take().is_empty(), "no tab channel asked for");
        c.to_store.turn_off();
        assert!(!c.to_store.is_on());
        c.capture(&[2]);
        assert!(c.to_store.take().is_empty());
    }
}
