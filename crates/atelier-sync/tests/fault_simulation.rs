//! Convergence under faults (issue 18): a deterministic simulation of
//! several clients and the server, driven by a random *plan* of edits and
//! network events — frames delivered in any interleaving across
//! connections (each connection keeps its order, as TCP does), frames
//! delivered twice, connections dropped with their frames in flight,
//! partitions (clients that stay away), reconnects and server restarts that
//! keep only what was stored. After healing (everyone reconnects and the
//! network goes quiet), every replica must equal the server's copy, the
//! server's copy must equal its stored log, and every edit a client saw
//! acknowledged must be in it.
//!
//! proptest runs 256 plans by default (`PROPTEST_CASES=5000` for thousands);
//! a failing plan is shrunk to a minimal one, printed, and kept in
//! `tests/fault_simulation.proptest-regressions`, which replays it first on
//! every later run.

use atelier_sync::{
    Access, AuthDecision, ClientConfig, ClientSession, DocHost, Limits, ServerSession,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::VecDeque;
use yrs::updates::decoder::Decode;
use yrs::{
    ClientID, Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Text, Transact, Update,
};

const ROOM: &str = "room";
const PEERS: usize = 3;

fn allow(_doc: &str, _token: &str) -> AuthDecision {
    AuthDecision::Allow(Access::ReadWrite)
}

/// One step of a plan.
#[derive(Debug, Clone)]
enum Step {
    /// A client inserts `text` at a position (modulo its length) or
    /// deletes one character there.
    Edit {
        peer: usize,
        at: u32,
        text: Option<String>,
    },
    /// The next frame a client sent reaches the server (`twice`: a
    /// duplicate follows it).
    Up { peer: usize, twice: bool },
    /// The next frame the server sent reaches a client.
    Down { peer: usize, twice: bool },
    /// The connection breaks: frames in flight both ways are lost.
    Drop { peer: usize },
    /// A disconnected client connects again.
    Reconnect { peer: usize },
    /// The server crashes and restarts from its stored log.
    Restart,
    /// Time passes (timers: resync of unacknowledged changes).
    Tick { ms: u16 },
}

fn arb_step() -> impl Strategy<Value = Step> {
    let peer = 0..PEERS;
    prop_oneof![
        4 => (peer.clone(), any::<u32>(), prop::option::weighted(0.8, "[a-zé]{1,3}"))
            .prop_map(|(peer, at, text)| Step::Edit { peer, at, text }),
        8 => (peer.clone(), prop::bool::weighted(0.1))
            .prop_map(|(peer, twice)| Step::Up { peer, twice }),
        8 => (peer.clone(), prop::bool::weighted(0.1))
            .prop_map(|(peer, twice)| Step::Down { peer, twice }),
        1 => peer.clone().prop_map(|peer| Step::Drop { peer }),
        2 => peer.prop_map(|peer| Step::Reconnect { peer }),
        1 => Just(Step::Restart),
        1 => (0u16..5_000).prop_map(|ms| Step::Tick { ms }),
    ]
}

struct Peer {
    client: ClientSession,
    server: ServerSession,
    online: bool,
    up: VecDeque<Vec<u8>>,
    down: VecDeque<Vec<u8>>,
}

impl Peer {
    fn new(index: usize) -> Self {
        // UTF-16 offsets, as Atelier and Yjs count: every position of these
        // one-unit characters is a boundary.
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::with_client_id(ClientID::new(index as u64 + 1))
        });
        doc.get_or_insert_text("t");
        // Both framings meet on one document.
        let (config, server) = if index.is_multiple_of(2) {
            (
                ClientConfig::hocuspocus(ROOM, "t"),
                ServerSession::hocuspocus(Limits::default()),
            )
        } else {
            (
                ClientConfig::y_websocket(),
                ServerSession::y_websocket(ROOM, Access::ReadWrite, Limits::default()),
            )
        };
        Peer {
            client: ClientSession::new(doc, config).expect("no open transaction"),
            server,
            online: false,
            up: VecDeque::new(),
            down: VecDeque::new(),
        }
    }

    fn fresh_server_session(&self) -> ServerSession {
        if self.client.document_name().is_some() {
            ServerSession::hocuspocus(Limits::default())
        } else {
            ServerSession::y_websocket(ROOM, Access::ReadWrite, Limits::default())
        }
    }

    fn text(&self) -> String {
        let doc = self.client.doc();
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }
}

struct World {
    host: DocHost,
    peers: Vec<Peer>,
    now: u64,
    /// State vectors of each client's document when the server confirmed
    /// all its changes: what that client saw acknowledged.
    acknowledged: Vec<StateVector>,
}

impl World {
    fn new() -> Self {
        let mut w = World {
            host: DocHost::new(),
            peers: (0..PEERS).map(Peer::new).collect(),
            now: 0,
            acknowledged: vec![StateVector::default(); PEERS],
        };
        for i in 0..PEERS {
            w.connect(i);
        }
        w
    }

    fn connect(&mut self, i: usize) {
        if self.peers[i].online {
            return;
        }
        let p = &mut self.peers[i];
        p.server = p.fresh_server_session();
        p.up.clear();
        p.down.clear();
        p.online = true;
        p.client.connected(self.now);
        self.pump_client(i);
    }

    fn disconnect(&mut self, i: usize) {
        let p = &mut self.peers[i];
        if !p.online {
            return;
        }
        p.online = false;
        p.up.clear();
        p.down.clear();
        p.client.disconnected(self.now);
    }

    /// Moves what the client wants to send into its connection (or, offline,
    /// lets the session keep it in its offline queue).
    fn pump_client(&mut self, i: usize) {
        let p = &mut self.peers[i];
        while let Some(frame) = p.client.poll_transmit() {
            if p.online {
                p.up.push_back(frame);
            }
        }
        if p.client.unsynced_changes() == 0 {
            self.acknowledged[i] = p.client.doc().transact().state_vector();
        }
    }

    /// The server answers what connection `i` received and fans out.
    fn pump_server(&mut self, i: usize) {
        let fanout = self
            .host
            .serve(self.now, &mut self.peers[i].server)
            .expect("the host serves");
        for (j, peer) in self.peers.iter_mut().enumerate() {
            if j != i && peer.online {
                DocHost::deliver(&mut peer.server, &fanout).expect("deliver");
            }
        }
        for peer in self.peers.iter_mut().filter(|p| p.online) {
            while let Some(frame) = peer.server.poll_transmit() {
                peer.down.push_back(frame);
            }
        }
    }

    fn step(&mut self, step: &Step) {
        self.now += 7;
        match *step {
            Step::Edit { peer, at, ref text } => {
                {
                    let doc = self.peers[peer].client.doc();
                    let t = doc.get_or_insert_text("t");
                    let mut txn = doc.transact_mut();
                    let len = t.len(&txn);
                    match text {
                        Some(s) => t.insert(&mut txn, at % (len + 1), s),
                        None if len > 0 => t.remove_range(&mut txn, at % len, 1),
                        None => {}
                    }
                }
                self.pump_client(peer);
            }
            Step::Up { peer, twice } => {
                let Some(frame) = self.peers[peer].up.pop_front() else {
                    return;
                };
                for _ in 0..if twice { 2 } else { 1 } {
                    self.peers[peer]
                        .server
                        .receive(self.now, &frame, &mut allow)
                        .expect("the server accepts a client's frames");
                }
                self.pump_server(peer);
            }
            Step::Down { peer, twice } => {
                let Some(frame) = self.peers[peer].down.pop_front() else {
                    return;
                };
                for _ in 0..if twice { 2 } else { 1 } {
                    self.peers[peer]
                        .client
                        .receive(self.now, &frame)
                        .expect("a client accepts the server's frames");
                }
                self.pump_client(peer);
            }
            Step::Drop { peer } => self.disconnect(peer),
            Step::Reconnect { peer } => self.connect(peer),
            Step::Restart => {
                for i in 0..PEERS {
                    self.disconnect(i);
                }
                self.host.restart().expect("the stored log replays");
            }
            Step::Tick { ms } => {
                self.now += u64::from(ms);
                for i in 0..PEERS {
                    self.peers[i].client.tick(self.now);
                    self.pump_client(i);
                }
            }
        }
    }

    /// Everyone reconnects; frames flow until nothing moves.
    fn heal(&mut self) {
        for i in 0..PEERS {
            self.connect(i);
        }
        for _round in 0..500 {
            let mut moved = false;
            for i in 0..PEERS {
                while !self.peers[i].up.is_empty() {
                    self.step(&Step::Up {
                        peer: i,
                        twice: false,
                    });
                    moved = true;
                }
                while !self.peers[i].down.is_empty() {
                    self.step(&Step::Down {
                        peer: i,
                        twice: false,
                    });
                    moved = true;
                }
            }
            if !moved {
                // Quiet: let timers resend anything still unconfirmed once.
                if self
                    .peers
                    .iter_mut()
                    .all(|p| p.client.unsynced_changes() == 0)
                {
                    return;
                }
                self.step(&Step::Tick { ms: 5_000 });
            }
        }
        panic!("the network never went quiet");
    }
}

fn contains(big: &StateVector, small: &StateVector) -> bool {
    small
        .iter()
        .all(|(client, clock)| big.get(client) >= *clock)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_after_any_plan_of_faults(plan in prop::collection::vec(arb_step(), 0..120)) {
        let mut w = World::new();
        for step in &plan {
            w.step(step);
        }
        w.heal();
        let server = w.host.doc(ROOM).clone();
        let server_text = server.get_or_insert_text("t").get_string(&server.transact());
        let server_sv = server.transact().state_vector();
        // The server's memory is what it stored: a restart changes nothing.
        let stored = Doc::new();
        for update in w.host.stored(ROOM) {
            stored
                .transact_mut()
                .apply_update(Update::decode_v1(update).expect("stored update decodes"))
                .expect("stored update applies");
        }
        prop_assert_eq!(stored.transact().state_vector(), server_sv.clone());
        for (i, peer) in w.peers.iter().enumerate() {
            prop_assert_eq!(peer.text(), server_text.clone(), "peer {} text", i);
            prop_assert_eq!(
                peer.client.doc().transact().state_vector(),
                server_sv.clone(),
                "peer {} state vector",
                i
            );
            prop_assert!(!peer.client.doc().transact().has_missing_updates(), "peer {} pending", i);
            // Nothing a client saw acknowledged is missing from the server.
            prop_assert!(contains(&server_sv, &w.acknowledged[i]), "peer {} lost acknowledged edits", i);
        }
    }
}
