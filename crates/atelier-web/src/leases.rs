//! Who still uses a shared document, and when it may close.
//!
//! Pure bookkeeping for the [`crate::hub`], tested natively: widgets take
//! and give back leases on a key; when the last one is given back, a grace
//! period starts (the hub lets a document linger about three seconds), and
//! the entry may close only if nobody took a lease again before it ended.
//! An element re-mounted by an attribute change thus keeps its socket.
//! A page holds a handful of documents: a vector searched in order costs
//! the bundle far less code than a hash map.

/// One grace period: [`Leases::expire`] with an older ticket does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    users: usize,
    /// The grace period running, if the entry has no users.
    ticket: Option<u64>,
}

/// Reference counts with a grace period, by key.
#[derive(Debug, Clone)]
pub struct Leases<K> {
    entries: Vec<(K, Entry)>,
    next_ticket: u64,
}

impl<K> Default for Leases<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Leases<K> {
    /// No entries.
    pub const fn new() -> Self {
        Leases {
            entries: Vec::new(),
            next_ticket: 0,
        }
    }
}

impl<K: PartialEq + Clone> Leases<K> {
    /// Takes a lease on `key` (registering it if new) and cancels its grace
    /// period, if one runs. Returns the number of users now.
    pub fn acquire(&mut self, key: &K) -> usize {
        let i = match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                let entry = Entry {
                    users: 0,
                    ticket: None,
                };
                self.entries.push((key.clone(), entry));
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[i].1;
        entry.users += 1;
        entry.ticket = None;
        entry.users
    }

    /// Gives a lease back. When it was the last one, a grace period starts
    /// and its ticket is returned: call [`Leases::expire`] with it when the
    /// period ends. Giving back a lease nobody holds does nothing.
    pub fn release(&mut self, key: &K) -> Option<Ticket> {
        let ticket = self.next_ticket + 1;
        let entry = self.get_mut(key)?;
        if entry.users == 0 {
            return None;
        }
        entry.users -= 1;
        if entry.users > 0 {
            return None;
        }
        entry.ticket = Some(ticket);
        self.next_ticket = ticket;
        Some(Ticket(ticket))
    }

    /// The grace period of `ticket` ended: returns true, and forgets `key`,
    /// if nobody took a lease since (the caller then closes what the key
    /// names).
    pub fn expire(&mut self, key: &K, ticket: Ticket) -> bool {
        let due = self
            .get(key)
            .is_some_and(|e| e.users == 0 && e.ticket == Some(ticket.0));
        if due {
            self.remove(key);
        }
        due
    }

    /// Leases held on `key`.
    pub fn users(&self, key: &K) -> usize {
        self.get(key).map_or(0, |e| e.users)
    }

    /// Whether `key` is known (in use, or lingering in its grace period).
    pub fn contains(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Forgets `key` at once, whatever its leases.
    pub fn remove(&mut self, key: &K) {
        self.entries.retain(|(k, _)| k != key);
    }

    fn get(&self, key: &K) -> Option<&Entry> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_release_starts_a_grace_period_that_closes() {
        let mut l = Leases::new();
        assert_eq!(l.acquire(&"d"), 1);
        assert_eq!(l.acquire(&"d"), 2);
        assert_eq!(l.release(&"d"), None, "one user is left");
        let ticket = l.release(&"d").expect("the last user left");
        assert!(l.contains(&"d"), "it lingers");
        assert!(l.expire(&"d", ticket));
        assert!(!l.contains(&"d"));
        assert!(!l.expire(&"d", ticket), "closes once");
    }

    #[test]
    fn a_user_coming_back_during_the_grace_period_keeps_it_open() {
        let mut l = Leases::new();
        l.acquire(&"d");
        let first = l.release(&"d").expect("grace period");
        assert_eq!(l.acquire(&"d"), 1, "re-mounted");
        assert!(!l.expire(&"d", first), "still used");
        // Leaving again starts a new period; the old ticket stays void.
        let second = l.release(&"d").expect("grace period");
        assert_ne!(first, second);
        assert!(!l.expire(&"d", first));
        assert!(l.expire(&"d", second));
    }

    #[test]
    fn releasing_more_than_acquired_or_unknown_keys_does_nothing() {
        let mut l = Leases::new();
        assert_eq!(l.release(&"x"), None);
        l.acquire(&"d");
        let ticket = l.release(&"d").expect("grace period");
        assert_eq!(l.release(&"d"), None, "no lease left to give back");
        assert_eq!(l.users(&"d"), 0);
        assert!(l.expire(&"d", ticket));
    }

    #[test]
    fn keys_are_independent() {
        let mut l = Leases::new();
        l.acquire(&"a");
        l.acquire(&"b");
        let a = l.release(&"a").expect("a lingers");
        assert_eq!(l.users(&"b"), 1);
        assert!(l.expire(&"a", a));
        assert!(l.contains(&"b"));
        l.remove(&"b");
        assert!(!l.contains(&"b"));
    }
}
