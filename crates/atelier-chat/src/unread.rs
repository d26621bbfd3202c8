//! Unread bookkeeping: which message the "new messages" marker sits
//! above, and how many messages arrived unseen. Pure, tested natively.
//!
//! A message is seen when it arrives while the reader is at the bottom of
//! the timeline and the page is visible. Otherwise it is unread: the count
//! grows, and the first of a run of unread messages gets the marker. When
//! the reader reaches the bottom again (page visible), the count drops to
//! zero but the marker stays where it was, so they can still see where the
//! new part began; the next unseen message moves it.

/// The unread state of one panel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    marker: Option<String>,
    count: usize,
}

impl Unread {
    /// Nothing unread.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of the message the marker sits above.
    pub fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    /// How many messages arrived unseen.
    pub fn count(&self) -> usize {
        self.count
    }

    /// A new message `id` arrived. `own`: the local user wrote it (never
    /// unread; sending also means the reader has caught up). `seen`: the
    /// reader is at the bottom and the page is visible. Returns whether
    /// the count changed.
    pub fn arrived(&mut self, id: &str, own: bool, seen: bool) -> bool {
        if own {
            return self.caught_up(true);
        }
        if seen {
            return false;
        }
        if self.count == 0 {
            self.marker = Some(id.to_owned());
        }
        self.count += 1;
        true
    }

    /// The reader reached the bottom with the page visible (`clear_marker`:
    /// also remove the marker, as sending does). Returns whether the count
    /// changed.
    pub fn caught_up(&mut self, clear_marker: bool) -> bool {
        if clear_marker {
            self.marker = None;
        }
        let changed = self.count != 0;
        self.count = 0;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_seen_at_the_bottom_are_read() {
        let mut u = Unread::new();
        assert!(!u.arrived("a", false, true));
        assert_eq!((u.count(), u.marker()), (0, None));
    }

    #[test]
    fn the_marker_stays_on_the_first_unseen_message() {
        let mut u = Unread::new();
        assert!(u.arrived("a", false, false));
        assert!(u.arrived("b", false, false));
        assert_eq!((u.count(), u.marker()), (2, Some("a")));
        // Reaching the bottom reads them; the marker remains.
        assert!(u.caught_up(false));
        assert!(!u.caught_up(false));
        assert_eq!((u.count(), u.marker()), (0, Some("a")));
        // The next unseen message starts a new run.
        u.arrived("c", false, false);
        assert_eq!((u.count(), u.marker()), (1, Some("c")));
    }

    #[test]
    fn sending_catches_up_and_clears_the_marker() {
        let mut u = Unread::new();
        u.arrived("a", false, false);
        assert!(u.arrived("mine", true, false));
        assert_eq!((u.count(), u.marker()), (0, None));
        assert!(!u.arrived("mine2", true, true));
    }
}
