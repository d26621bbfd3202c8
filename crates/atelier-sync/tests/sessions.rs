//! Client and server sessions talking in memory, in both framings.
//!
//! Each client has its own server session (one connection) in front of one
//! shared [`DocHost`]. The randomized test prints its seed; replay it with
//! `ATELIER_SEED=<seed> cargo test -p atelier-sync --test sessions`.

use atelier_sync::{
    Access, AuthDecision, ClientConfig, ClientEvent, ClientSession, ClientStatus, DocHost,
    HocuspocusClient, Limits, ServerSession, SyncError,
};
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact};

const ROOM: &str = "room";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    YWebsocket,
    Hocuspocus,
}

fn authorize(_doc: &str, token: &str) -> AuthDecision {
    match token {
        "rw" => AuthDecision::Allow(Access::ReadWrite),
        "ro" => AuthDecision::Allow(Access::ReadOnly),
        _ => AuthDecision::Deny {
            reason: "permission-denied".into(),
        },
    }
}

/// A small deterministic generator (xorshift64*), so runs replay from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Peer {
    client: ClientSession,
    server: ServerSession,
    framing: Framing,
    access: Access,
    online: bool,
}

impl Peer {
    fn new(framing: Framing, client_id: u64, token: &str) -> Self {
        let doc = Doc::with_client_id(client_id);
        doc.get_or_insert_text("t");
        let config = match framing {
            Framing::YWebsocket => ClientConfig::y_websocket(),
            Framing::Hocuspocus => ClientConfig::hocuspocus(ROOM, token),
        };
        let access = match token {
            "ro" => Access::ReadOnly,
            _ => Access::ReadWrite,
        };
        Peer {
            client: ClientSession::new(doc, config).expect("no open transaction"),
            server: Self::server_session(framing, access),
            framing,
            access,
            online: false,
        }
    }

    fn server_session(framing: Framing, access: Access) -> ServerSession {
        match framing {
            Framing::YWebsocket => ServerSession::y_websocket(ROOM, access, Limits::default()),
            Framing::Hocuspocus => ServerSession::hocuspocus(Limits::default()),
        }
    }

    fn connect(&mut self, now: u64) {
        self.server = Self::server_session(self.framing, self.access);
        self.client.connected(now);
        self.online = true;
    }

    fn disconnect(&mut self, now: u64) {
        self.client.disconnected(now);
        self.online = false;
    }

    fn text(&self) -> String {
        let doc = self.client.doc();
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    fn edit(&self, at: u32, s: &str) {
        let doc = self.client.doc();
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        let at = at.min(text.len(&txn));
        text.insert(&mut txn, at, s);
    }

    fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }
}

struct Net {
    host: DocHost,
    peers: Vec<Peer>,
    now: u64,
    lost: usize,
    duplicated: usize,
}

impl Net {
    fn new(peers: Vec<Peer>) -> Self {
        Net {
            host: DocHost::new(),
            peers,
            now: 0,
            lost: 0,
            duplicated: 0,
        }
    }

    /// Moves frames until nothing moves. With `chaos`, each frame may be
    /// dropped or delivered twice.
    fn run(&mut self, mut chaos: Option<&mut Rng>) {
        for _round in 0..200 {
            let mut moved = false;
            self.now += 10;
            for i in 0..self.peers.len() {
                if !self.peers[i].online {
                    // Frames queued while offline are lost with the connection.
                    while self.peers[i].client.poll_transmit().is_some() {}
                    continue;
                }
                while let Some(frame) = self.peers[i].client.poll_transmit() {
                    moved = true;
                    let n = copies(&mut chaos);
                    self.lost += usize::from(n == 0);
                    self.duplicated += usize::from(n == 2);
                    for _ in 0..n {
                        self.peers[i]
                            .server
                            .receive(self.now, &frame, &mut authorize)
                            .expect("server accepts client frames");
                    }
                }
                let fanout = self
                    .host
                    .serve(self.now, &mut self.peers[i].server)
                    .expect("host serves");
                for (j, peer) in self.peers.iter_mut().enumerate() {
                    if j != i && peer.online {
                        DocHost::deliver(&mut peer.server, &fanout).expect("deliver");
                    }
                }
            }
            for peer in self.peers.iter_mut().filter(|p| p.online) {
                while let Some(frame) = peer.server.poll_transmit() {
                    moved = true;
                    let n = copies(&mut chaos);
                    self.lost += usize::from(n == 0);
                    self.duplicated += usize::from(n == 2);
                    for _ in 0..n {
                        peer.client
                            .receive(self.now, &frame)
                            .expect("client accepts server frames");
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the sessions never went quiet");
    }

    fn room_text(&mut self) -> String {
        let doc = self.host.doc(ROOM);
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    fn room_state_vector(&mut self) -> StateVector {
        self.host.doc(ROOM).transact().state_vector()
    }

    fn assert_converged(&mut self) {
        let text = self.room_text();
        let sv = self.room_state_vector();
        for (i, peer) in self.peers.iter().enumerate() {
            assert_eq!(peer.text(), text, "peer {i} text");
            assert_eq!(
                peer.client.doc().transact().state_vector(),
                sv,
                "peer {i} state vector"
            );
            assert!(
                !peer.client.doc().transact().has_missing_updates(),
                "peer {i} pending"
            );
        }
    }
}

/// How many times a frame arrives: once, or with chaos 0 (lost) to 2.
fn copies(chaos: &mut Option<&mut Rng>) -> usize {
    match chaos {
        None => 1,
        Some(rng) => match rng.below(10) {
            0 => 0,
            1 => 2,
            _ => 1,
        },
    }
}

fn handshake_converges(framing: Framing) {
    let mut a = Peer::new(framing, 1, "rw");
    let mut b = Peer::new(framing, 2, "rw");
    a.edit(0, "from a, offline; ");
    b.edit(0, "from b, offline; ");
    a.client
        .set_local_awareness(0, Some(r#"{"user":{"name":"A"}}"#))
        .expect("json");
    b.client
        .set_local_awareness(0, Some(r#"{"user":{"name":"B"}}"#))
        .expect("json");
    let mut net = Net::new(vec![a, b]);
    net.peers[0].connect(0);
    net.run(None);
    net.peers[1].connect(net.now);
    net.run(None);
    net.assert_converged();
    assert_eq!(
        net.room_text().len(),
        "from a, offline; from b, offline; ".len()
    );
    for peer in &mut net.peers {
        assert_eq!(peer.client.status(), ClientStatus::Synced);
        assert_eq!(peer.client.unsynced_changes(), 0);
        assert!(peer.events().contains(&ClientEvent::Synced));
    }
    // Awareness went both ways through the server.
    assert_eq!(
        net.peers[0].client.remote_awareness().get(2),
        Some(r#"{"user":{"name":"B"}}"#)
    );
    assert_eq!(
        net.peers[1].client.remote_awareness().get(1),
        Some(r#"{"user":{"name":"A"}}"#)
    );
    // Live edits flow once synced.
    net.peers[1].edit(0, "live ");
    net.run(None);
    net.assert_converged();
    assert!(net.room_text().starts_with("live "));
}

#[test]
fn y_websocket_handshake_converges() {
    handshake_converges(Framing::YWebsocket);
}

#[test]
fn hocuspocus_handshake_converges() {
    handshake_converges(Framing::Hocuspocus);
}

#[test]
fn hocuspocus_acknowledges_only_what_was_stored() {
    let mut net = Net::new(vec![Peer::new(Framing::Hocuspocus, 1, "rw")]);
    net.peers[0].connect(0);
    net.run(None);
    net.peers[0].events();
    net.peers[0].edit(0, "one");
    net.peers[0].edit(3, " two");
    assert_eq!(net.peers[0].client.unsynced_changes(), 2);
    net.run(None);
    assert_eq!(net.peers[0].client.unsynced_changes(), 0);
    let confirmed: Vec<u64> = net.peers[0]
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::Confirmed { up_to } => Some(up_to),
            _ => None,
        })
        .collect();
    assert_eq!(confirmed, vec![1, 2]);
    // Both updates are in the store, in order.
    assert_eq!(
        net.host.stored(ROOM).len(),
        3,
        "the empty step 2 and two updates"
    );
}

#[test]
fn read_only_updates_are_refused_in_both_framings() {
    for framing in [Framing::Hocuspocus, Framing::YWebsocket] {
        let writer = Peer::new(framing, 1, "rw");
        writer.edit(0, "shared");
        let reader = Peer::new(framing, 2, "ro");
        let mut net = Net::new(vec![writer, reader]);
        net.peers[0].connect(0);
        net.run(None);
        net.peers[1].connect(net.now);
        net.run(None);
        assert_eq!(
            net.peers[1].text(),
            "shared",
            "{framing:?}: readers get sync"
        );
        let events = net.peers[1].events();
        if framing == Framing::Hocuspocus {
            assert!(events.contains(&ClientEvent::Authenticated {
                access: Access::ReadOnly
            }));
            // Its step 2 added nothing, so Hocuspocus-style it was acknowledged.
            assert_eq!(net.peers[1].client.unsynced_changes(), 0);
        }
        net.peers[1].edit(0, "vandalism ");
        net.run(None);
        assert_eq!(net.room_text(), "shared", "{framing:?}: nothing applied");
        assert_eq!(
            net.peers[0].text(),
            "shared",
            "{framing:?}: nothing fanned out"
        );
        if framing == Framing::Hocuspocus {
            assert!(
                net.peers[1]
                    .events()
                    .iter()
                    .any(|e| matches!(e, ClientEvent::Rejected { up_to: 1 }))
            );
            assert_eq!(net.peers[1].client.unsynced_changes(), 1);
        }
    }
}

#[test]
fn wrong_token_is_refused_and_reveals_nothing() {
    let writer = Peer::new(Framing::Hocuspocus, 1, "rw");
    writer.edit(0, "secret");
    let intruder = Peer::new(Framing::Hocuspocus, 2, "wrong");
    let mut net = Net::new(vec![writer, intruder]);
    net.peers[0].connect(0);
    net.run(None);
    net.peers[1].edit(0, "spam");
    net.peers[1].connect(net.now);
    net.run(None);
    assert_eq!(net.peers[1].client.status(), ClientStatus::Denied);
    assert!(
        net.peers[1]
            .events()
            .contains(&ClientEvent::PermissionDenied {
                reason: "permission-denied".into()
            })
    );
    assert_eq!(net.peers[1].text(), "spam", "no server content reached it");
    assert_eq!(
        net.room_text(),
        "secret",
        "its held step 1 and update were dropped"
    );
    assert!(net.peers[1].server.access(ROOM).is_none());
}

#[test]
fn offline_edits_are_flushed_after_reconnect_and_converge() {
    for framing in [Framing::Hocuspocus, Framing::YWebsocket] {
        let mut net = Net::new(vec![
            Peer::new(framing, 1, "rw"),
            Peer::new(framing, 2, "rw"),
        ]);
        net.peers[0].connect(0);
        net.peers[1].connect(0);
        net.run(None);
        let now = net.now;
        net.peers[0].disconnect(now);
        for i in 0..20 {
            net.peers[0].edit(i, "a");
        }
        net.peers[1].edit(0, "b-online ");
        net.run(None);
        assert_eq!(net.peers[0].client.status(), ClientStatus::Disconnected);
        assert!(net.peers[0].client.unsynced_changes() >= 20);
        assert!(net.peers[0].client.offline_bytes() > 0, "queued, merged");
        let now = net.now;
        net.peers[0].connect(now);
        net.run(None);
        net.assert_converged();
        assert!(net.room_text().contains(&"a".repeat(20)), "{framing:?}");
        assert_eq!(net.peers[0].client.unsynced_changes(), 0, "{framing:?}");
    }
}

#[test]
fn lost_and_duplicated_frames_converge_after_resync() {
    let seed = std::env::var("ATELIER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    println!(
        "seed {seed} (replay: ATELIER_SEED={seed} cargo test -p atelier-sync --test sessions)"
    );
    let mut rng = Rng(seed);
    for framing in [Framing::Hocuspocus, Framing::YWebsocket] {
        let mut net = Net::new((1..=3).map(|id| Peer::new(framing, id, "rw")).collect());
        for peer in &mut net.peers {
            peer.connect(0);
        }
        for _step in 0..60 {
            let i = rng.below(3) as usize;
            match rng.below(10) {
                0 => {
                    let now = net.now;
                    if net.peers[i].online {
                        net.peers[i].disconnect(now);
                    } else {
                        net.peers[i].connect(now);
                    }
                }
                1 => net.peers[i].client.resync(),
                _ => {
                    let at = rng.below(40) as u32;
                    let c = char::from(b'a' + rng.below(26) as u8).to_string();
                    net.peers[i].edit(at, &c);
                }
            }
            net.run(Some(&mut rng));
        }
        assert!(net.lost > 0 && net.duplicated > 0, "the network misbehaved");
        // Resync: everyone reconnects over a reliable network.
        let now = net.now;
        for peer in &mut net.peers {
            peer.disconnect(now);
            peer.connect(now);
        }
        net.run(None);
        net.assert_converged();
    }
}

#[test]
fn one_hocuspocus_socket_carries_several_documents() {
    let mut host = DocHost::new();
    let mut server = ServerSession::hocuspocus(Limits::default());
    let mut mux = HocuspocusClient::new(Limits::default());
    let docs: Vec<Doc> = (0..2).map(|i| Doc::with_client_id(10 + i)).collect();
    for (i, doc) in docs.iter().enumerate() {
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, &format!("doc {i}"));
        let session =
            ClientSession::new(doc.clone(), ClientConfig::hocuspocus(format!("d{i}"), "rw"))
                .expect("session");
        mux.attach(0, session).expect("hocuspocus session");
    }
    mux.connected(0);
    for _ in 0..6 {
        while let Some(frame) = mux.poll_transmit() {
            server.receive(0, &frame, &mut authorize).expect("accepted");
        }
        host.serve(0, &mut server).expect("served");
        while let Some(frame) = server.poll_transmit() {
            mux.receive(0, &frame).expect("routed");
        }
    }
    mux.receive(0, &[9]).expect("ping");
    assert_eq!(mux.poll_transmit(), Some(vec![10]), "pong");
    for i in 0..2 {
        let name = format!("d{i}");
        let doc = host.doc(&name);
        assert_eq!(
            doc.get_or_insert_text("t").get_string(&doc.transact()),
            format!("doc {i}")
        );
        assert_eq!(
            mux.session(&name).map(|s| s.status()),
            Some(ClientStatus::Synced)
        );
    }
    let events: Vec<(String, ClientEvent)> = std::iter::from_fn(|| mux.poll_event()).collect();
    assert_eq!(
        events
            .iter()
            .filter(|(_, e)| *e == ClientEvent::Synced)
            .count(),
        2
    );
}

#[test]
fn malformed_frames_are_errors_that_touch_nothing() {
    let mut net = Net::new(vec![Peer::new(Framing::Hocuspocus, 1, "rw")]);
    net.peers[0].connect(0);
    net.run(None);
    let before = net.peers[0].client.doc().transact().state_vector();
    // A sync update whose payload is cut short.
    let mut bad = atelier_sync::HocuspocusMessage::Sync(atelier_sync::SyncMessage::Update(vec![
        1, 1, 5, 0, 4, 1, 1, b't', 3, b'a',
    ]))
    .encode_for(ROOM);
    let err = net.peers[0]
        .client
        .receive(0, &bad)
        .expect_err("truncated update");
    assert!(err.is_peer_error());
    assert_eq!(net.peers[0].client.doc().transact().state_vector(), before);
    bad.truncate(3);
    assert!(matches!(
        net.peers[0].server.receive(0, &bad, &mut authorize),
        Err(SyncError::Truncated { .. })
    ));
}

/// An agent editing through a page shows to the other peers under a client
/// id of its own, beside the page's own state, and leaves when withdrawn;
/// the page never takes the server's copy of its agent for a remote peer.
fn extra_awareness_is_a_peer_of_its_own(framing: Framing) {
    let mut a = Peer::new(framing, 1, "rw");
    let b = Peer::new(framing, 2, "rw");
    a.client
        .set_local_awareness(0, Some(r#"{"user":{"name":"A"}}"#))
        .expect("json");
    assert!(
        a.client
            .set_extra_awareness(0, 1, Some(r#"{"user":{"name":"x"}}"#))
            .is_err(),
        "the document's own client id is refused"
    );
    assert!(
        a.client
            .set_extra_awareness(0, 77, Some("{not json"))
            .is_err()
    );
    // Set before connecting: announced with the handshake.
    a.client
        .set_extra_awareness(0, 77, Some(r#"{"user":{"name":"Résumeur"}}"#))
        .expect("json");
    let mut net = Net::new(vec![a, b]);
    net.peers[0].connect(0);
    net.peers[1].connect(0);
    net.run(None);
    let seen = |net: &Net, id| {
        net.peers[1]
            .client
            .remote_awareness()
            .get(id)
            .map(str::to_owned)
    };
    assert_eq!(seen(&net, 1).as_deref(), Some(r#"{"user":{"name":"A"}}"#));
    assert_eq!(
        seen(&net, 77).as_deref(),
        Some(r#"{"user":{"name":"Résumeur"}}"#)
    );
    // A moves its agent's caret while connected.
    net.peers[0]
        .client
        .set_extra_awareness(net.now, 77, Some(r#"{"user":{"name":"Résumeur"},"n":2}"#))
        .expect("json");
    net.run(None);
    assert_eq!(
        seen(&net, 77).as_deref(),
        Some(r#"{"user":{"name":"Résumeur"},"n":2}"#)
    );
    // A reconnects: the server's full awareness names 77, which A keeps out
    // of its remote peers; its own announcement still wins.
    let now = net.now;
    net.peers[0].disconnect(now);
    net.peers[0].connect(now);
    net.run(None);
    assert!(net.peers[0].client.remote_awareness().get(77).is_none());
    assert!(net.peers[1].client.remote_awareness().get(77).is_some());
    // Renewed with the page's own state.
    let renew_at = net.now + 15_000;
    net.peers[0].client.tick(renew_at);
    assert!(
        net.peers[0].client.poll_transmit().is_some(),
        "renewal sent"
    );
    // Withdrawn: gone for B, the page's own state stays.
    net.peers[0]
        .client
        .set_extra_awareness(net.now, 77, None)
        .expect("withdraw");
    net.run(None);
    assert!(seen(&net, 77).is_none());
    assert!(seen(&net, 1).is_some());
}

#[test]
fn y_websocket_extra_awareness_is_a_peer_of_its_own() {
    extra_awareness_is_a_peer_of_its_own(Framing::YWebsocket);
}

#[test]
fn hocuspocus_extra_awareness_is_a_peer_of_its_own() {
    extra_awareness_is_a_peer_of_its_own(Framing::Hocuspocus);
}
