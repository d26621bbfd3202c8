//! Which remote changes a widget announces to screen-reader users (WCAG
//! 4.1.3, status messages): a collaborator joined or left, the connection
//! dropped or came back. Pure bookkeeping over the presence and status
//! reports a [`crate::DocHandle`] gives; the widget turns each
//! [`Announcement`] into a sentence in its language and writes it into a
//! polite live region.
//!
//! What is *not* announced: the peers already there when the document
//! opens (the widget's presence list shows them), a peer's caret moving, a
//! reconnection that never went offline (a socket retried at once).

use crate::presence::Peer;
use crate::status::ConnectionStatus;

/// One change worth telling a screen-reader user about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// A collaborator (a person or an agent) opened the document; their
    /// display name, empty when they published none.
    Joined(String),
    /// A collaborator left; their display name, possibly empty.
    Left(String),
    /// The connection dropped: local edits are kept and sent later.
    ConnectionLost,
    /// The connection is back after [`Announcement::ConnectionLost`].
    ConnectionBack,
    /// The server refused the document (a wrong or expired token, no grant).
    Denied,
}

/// Remembers what was last reported, to announce only the differences.
#[derive(Debug, Default)]
pub struct Announcer {
    /// Peers by awareness client id, once a first report was seen.
    peers: Option<Vec<(u64, String)>>,
    /// Whether [`Announcement::ConnectionLost`] was announced and not yet
    /// followed by [`Announcement::ConnectionBack`].
    lost: bool,
    /// Whether the document was ever connected (synced or read-only).
    connected_once: bool,
    /// Whether [`Announcement::Denied`] was announced.
    denied: bool,
}

impl Announcer {
    /// A new announcer that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The joins and leaves since the last report (none for the first one,
    /// whose peers were there before this widget).
    pub fn presence(&mut self, peers: &[Peer]) -> Vec<Announcement> {
        if self.lost {
            // Offline: who is here is unknown until the connection is back.
            return Vec::new();
        }
        // A few peers at most: plain vectors (a map costs the editor's
        // bundle more than it saves).
        let now: Vec<(u64, String)> = peers
            .iter()
            .map(|p| (p.client_id, p.name.trim().to_owned()))
            .collect();
        let Some(before) = self.peers.replace(now.clone()) else {
            return Vec::new();
        };
        let has = |list: &[(u64, String)], id: u64| list.iter().any(|(c, _)| *c == id);
        let mut out: Vec<Announcement> = now
            .iter()
            .filter(|(id, _)| !has(&before, *id))
            .map(|(_, name)| Announcement::Joined(name.clone()))
            .collect();
        out.extend(
            before
                .iter()
                .filter(|(id, _)| !has(&now, *id))
                .map(|(_, name)| Announcement::Left(name.clone())),
        );
        out
    }

    /// The announcement a new connection status calls for, if any: lost
    /// when a document that was connected goes offline, back when it is
    /// connected again after that.
    pub fn status(&mut self, status: ConnectionStatus) -> Option<Announcement> {
        match status {
            ConnectionStatus::Synced | ConnectionStatus::ReadOnly => {
                self.connected_once = true;
                if std::mem::take(&mut self.lost) {
                    // The first report once back is a fresh start.
                    self.peers = None;
                    Some(Announcement::ConnectionBack)
                } else {
                    None
                }
            }
            ConnectionStatus::Offline if self.connected_once && !self.lost => {
                self.lost = true;
                Some(Announcement::ConnectionLost)
            }
            ConnectionStatus::Denied if !self.denied => {
                self.denied = true;
                Some(Announcement::Denied)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: u64, name: &str) -> Peer {
        Peer {
            client_id: id,
            name: name.to_owned(),
            color: "#000000".to_owned(),
            cursor: None,
        }
    }

    #[test]
    fn peers_present_at_open_are_not_announced_later_ones_are() {
        let mut a = Announcer::new();
        assert!(a.presence(&[peer(1, "Ada")]).is_empty());
        assert_eq!(
            a.presence(&[peer(1, "Ada"), peer(2, " Grace ")]),
            [Announcement::Joined("Grace".into())]
        );
        // A caret moving or a name unchanged: nothing.
        assert!(a.presence(&[peer(1, "Ada"), peer(2, "Grace")]).is_empty());
        assert_eq!(
            a.presence(&[peer(2, "Grace"), peer(3, "")]),
            [
                Announcement::Joined(String::new()),
                Announcement::Left("Ada".into())
            ]
        );
    }

    #[test]
    fn a_drop_is_announced_once_and_its_end_once() {
        let mut a = Announcer::new();
        // Connecting and going offline before the first sync: the widget's
        // own status shows it; nothing was lost.
        assert_eq!(a.status(ConnectionStatus::Connecting), None);
        assert_eq!(a.status(ConnectionStatus::Offline), None);
        assert_eq!(a.status(ConnectionStatus::Synced), None);
        // A socket retried at once (connecting, synced): nothing.
        assert_eq!(a.status(ConnectionStatus::Connecting), None);
        assert_eq!(a.status(ConnectionStatus::Synced), None);
        assert_eq!(
            a.status(ConnectionStatus::Offline),
            Some(Announcement::ConnectionLost)
        );
        assert_eq!(a.status(ConnectionStatus::Connecting), None);
        assert_eq!(a.status(ConnectionStatus::Offline), None);
        assert_eq!(
            a.status(ConnectionStatus::ReadOnly),
            Some(Announcement::ConnectionBack)
        );
        assert_eq!(a.status(ConnectionStatus::Synced), None);
    }

    #[test]
    fn a_refusal_is_announced_once() {
        let mut a = Announcer::new();
        assert_eq!(a.status(ConnectionStatus::Connecting), None);
        assert_eq!(
            a.status(ConnectionStatus::Denied),
            Some(Announcement::Denied)
        );
        assert_eq!(a.status(ConnectionStatus::Denied), None);
    }

    #[test]
    fn after_a_drop_the_peers_are_a_fresh_start() {
        let mut a = Announcer::new();
        a.status(ConnectionStatus::Synced);
        a.presence(&[peer(1, "Ada")]);
        assert_eq!(
            a.status(ConnectionStatus::Offline),
            Some(Announcement::ConnectionLost)
        );
        // Awareness empties while offline, then refills: no "Ada left",
        // no "Ada joined".
        assert!(a.presence(&[]).is_empty());
        a.status(ConnectionStatus::Synced);
        assert!(a.presence(&[peer(1, "Ada")]).is_empty());
    }
}
