//! Property tests of every decoder: arbitrary messages round-trip, and
//! random or mutated bytes return `Ok` or `Err` but never panic.
//!
//! proptest prints the failing input and keeps it in
//! `tests/decoders.proptest-regressions`, which replays it first on every
//! later run; `PROPTEST_CASES=10000` runs longer.

use std::panic::{AssertUnwindSafe, catch_unwind};

use atelier_sync::{
    Access, AuthDecision, AwarenessEntry, AwarenessUpdate, ClientConfig, ClientSession,
    EncodedStateVector, HocuspocusAuth, HocuspocusFrame, HocuspocusMessage, Limits, ServerSession,
    SyncMessage, YwsAuth, YwsMessage, check_update_v1, peek_document,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use yrs::types::xml::XmlFragment;
use yrs::updates::decoder::Decode;
use yrs::{
    Array, ClientID, Doc, Map, OffsetKind, Options, ReadTxn, StateVector, Text, Transact, Update,
    XmlElementPrelim, XmlOut, XmlTextPrelim,
};

/// A real v1 update: a few text, map and array edits by one client.
fn arb_update() -> impl Strategy<Value = Vec<u8>> {
    (
        1u64..1 << 53,
        prop::collection::vec((any::<u8>(), "[a-zé]{0,6}", any::<i32>()), 0..6),
        any::<bool>(),
    )
        .prop_map(|(client, ops, incremental)| {
            // UTF-16 offsets over characters of one UTF-16 unit: every
            // position is a character boundary.
            let doc = Doc::with_options(Options {
                offset_kind: OffsetKind::Utf16,
                ..Options::with_client_id(ClientID::new(client))
            });
            let text = doc.get_or_insert_text("t");
            let map = doc.get_or_insert_map("m");
            let array = doc.get_or_insert_array("a");
            let before = doc.transact().state_vector();
            for (op, s, n) in ops {
                let mut txn = doc.transact_mut();
                let len = text.len(&txn);
                match op % 6 {
                    0 => text.insert(&mut txn, u32::from(op) % (len + 1), &s),
                    1 if len > 0 => text.remove_range(&mut txn, u32::from(op) % len, 1),
                    2 => {
                        map.insert(&mut txn, s, n);
                    }
                    3 if array.len(&txn) > 0 => array.remove(&mut txn, 0),
                    4 => text.push(&mut txn, "👋"),
                    _ => {
                        array.push_back(&mut txn, f64::from(n));
                    }
                }
            }
            let sv = if incremental {
                before
            } else {
                StateVector::default()
            };
            doc.transact().encode_state_as_update_v1(&sv)
        })
}

/// A real v1 update nesting XML elements 1 to 400 deep, some of it past
/// `Limits::max_nesting_depth`, with text in the innermost element.
fn arb_nested_update() -> impl Strategy<Value = Vec<u8>> {
    (1u64..1 << 53, 1usize..400, "[a-z]{0,4}").prop_map(|(client, levels, text)| {
        let doc = Doc::with_client_id(client);
        let root = doc.get_or_insert_xml_fragment("document-store");
        {
            let mut txn = doc.transact_mut();
            let mut e = root.insert(&mut txn, 0, XmlElementPrelim::empty("blockGroup"));
            for _ in 1..levels {
                e = e.insert(&mut txn, 0, XmlElementPrelim::empty("blockContainer"));
            }
            e.insert(&mut txn, 0, XmlTextPrelim::new(text));
        }
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    })
}

/// The deepest element or text of a document's `document-store`.
fn nesting(doc: &Doc) -> usize {
    let root = doc.get_or_insert_xml_fragment("document-store");
    let txn = doc.transact();
    let mut deepest = 0;
    let mut stack: Vec<(XmlOut, usize)> = root.children(&txn).map(|c| (c, 1)).collect();
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if let XmlOut::Element(e) = node {
            stack.extend(e.children(&txn).map(|c| (c, depth + 1)));
        }
    }
    deepest
}

fn arb_state_vector() -> impl Strategy<Value = EncodedStateVector> {
    prop::collection::vec((0u64..1 << 53, any::<u32>()), 0..5).prop_map(|entries| {
        let mut sv = StateVector::default();
        for (client, clock) in entries {
            sv.set_max(ClientID::new(client), clock);
        }
        EncodedStateVector::from_state_vector(&sv)
    })
}

fn arb_sync() -> impl Strategy<Value = SyncMessage> {
    prop_oneof![
        arb_state_vector().prop_map(SyncMessage::Step1),
        arb_update().prop_map(SyncMessage::Step2),
        arb_update().prop_map(SyncMessage::Update),
    ]
}

fn arb_awareness() -> impl Strategy<Value = AwarenessUpdate> {
    let state = prop_oneof![
        Just("null".to_owned()),
        ("\\PC{0,12}", any::<u32>()).prop_map(|(name, n)| {
            serde_json::json!({"user": {"name": name, "color": "#30bced"}, "n": n}).to_string()
        }),
    ];
    prop::collection::vec((0u64..1 << 53, 0u64..1 << 53, state), 0..4).prop_map(|entries| {
        AwarenessUpdate {
            entries: entries
                .into_iter()
                .map(|(client_id, clock, state)| AwarenessEntry {
                    client_id,
                    clock,
                    state,
                })
                .collect(),
        }
    })
}

fn arb_yws() -> impl Strategy<Value = YwsMessage> {
    prop_oneof![
        arb_sync().prop_map(YwsMessage::Sync),
        arb_awareness().prop_map(YwsMessage::Awareness),
        "\\PC{0,20}".prop_map(|reason| YwsMessage::Auth(YwsAuth::PermissionDenied { reason })),
        Just(YwsMessage::Auth(YwsAuth::Granted)),
        Just(YwsMessage::QueryAwareness),
    ]
}

fn arb_hocuspocus_message() -> impl Strategy<Value = HocuspocusMessage> {
    let text = || "\\PC{0,16}";
    prop_oneof![
        arb_sync().prop_map(HocuspocusMessage::Sync),
        arb_sync().prop_map(HocuspocusMessage::SyncReply),
        arb_awareness().prop_map(HocuspocusMessage::Awareness),
        (text(), prop::option::of(text())).prop_map(|(token, provider_version)| {
            HocuspocusMessage::Auth(HocuspocusAuth::Token {
                token,
                provider_version,
            })
        }),
        Just(HocuspocusMessage::Auth(HocuspocusAuth::TokenRequest)),
        text().prop_map(
            |reason| HocuspocusMessage::Auth(HocuspocusAuth::PermissionDenied { reason })
        ),
        prop_oneof![Just(Access::ReadOnly), Just(Access::ReadWrite)]
            .prop_map(|access| HocuspocusMessage::Auth(HocuspocusAuth::Authenticated { access })),
        Just(HocuspocusMessage::QueryAwareness),
        text().prop_map(HocuspocusMessage::Stateless),
        text().prop_map(HocuspocusMessage::BroadcastStateless),
        prop::option::of(text()).prop_map(|reason| HocuspocusMessage::Close { reason }),
        any::<bool>().prop_map(|applied| HocuspocusMessage::SyncStatus { applied }),
    ]
}

fn arb_hocuspocus() -> impl Strategy<Value = HocuspocusFrame> {
    prop_oneof![
        1 => Just(HocuspocusFrame::Ping),
        1 => Just(HocuspocusFrame::Pong),
        12 => ("\\PC{0,24}", arb_hocuspocus_message())
            .prop_map(|(document, message)| HocuspocusFrame::Message { document, message }),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    /// Overwrites bytes with a large varint (length-prefix attacks).
    BigVarint(usize),
}

fn arb_mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::BigVarint),
    ];
    prop::collection::vec(one, 1..4)
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Set(i, b) if len > 0 => bytes[i % len] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Remove(i) if len > 0 => {
                bytes.remove(i % len);
            }
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::BigVarint(i) if len > 0 => {
                let at = i % len;
                let big = [0xff, 0xff, 0xff, 0xff, 0x0f];
                for (k, b) in big.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + k) {
                        *slot = *b;
                    }
                }
            }
            _ => {}
        }
    }
    bytes
}

fn small_limits() -> Limits {
    Limits {
        max_message_bytes: 4096,
        max_document_bytes: 2048,
        max_update_bytes: 1024,
        max_any_depth: 8,
        ..Limits::default()
    }
}

fn decode_everything(bytes: &[u8], limits: &Limits) {
    let _ = YwsMessage::decode(bytes, limits);
    let _ = HocuspocusFrame::decode(bytes, limits);
    let _ = peek_document(bytes, limits);
    let _ = AwarenessUpdate::decode(bytes, limits);
    let _ = EncodedStateVector::decode(bytes, limits);
    let _ = check_update_v1(bytes, limits);
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn y_websocket_messages_round_trip(msg in arb_yws()) {
        let bytes = msg.encode();
        prop_assert_eq!(YwsMessage::decode(&bytes, &Limits::default()).expect("decodes"), msg);
    }

    #[test]
    fn hocuspocus_frames_round_trip(frame in arb_hocuspocus()) {
        let bytes = frame.encode();
        prop_assert_eq!(HocuspocusFrame::decode(&bytes, &Limits::default()).expect("decodes"), frame);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes, &Limits::default());
        decode_everything(&bytes, &small_limits());
    }

    #[test]
    fn mutated_messages_decode_canonically_or_fail(
        msg in arb_yws(),
        frame in arb_hocuspocus(),
        mutations in arb_mutations(),
    ) {
        let limits = Limits::default();
        let bytes = mutate(msg.encode(), &mutations);
        decode_everything(&bytes, &limits);
        if let Ok(back) = YwsMessage::decode(&bytes, &limits) {
            // Decoding is strict, so whatever decodes re-encodes exactly.
            prop_assert_eq!(back.encode(), bytes);
        }
        let bytes = mutate(frame.encode(), &mutations);
        decode_everything(&bytes, &limits);
        if let Ok(back) = HocuspocusFrame::decode(&bytes, &limits) {
            prop_assert_eq!(back.encode(), bytes);
        }
    }

    #[test]
    fn checked_nested_updates_stay_within_the_depth_limit(
        update in arb_nested_update(),
        mutations in arb_mutations(),
    ) {
        let limits = Limits::default();
        let bytes = mutate(update, &mutations);
        if check_update_v1(&bytes, &limits).is_ok() {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let doc = Doc::new();
                if let Ok(update) = Update::decode_v1(&bytes) {
                    let _ = doc.transact_mut().apply_update(update);
                }
                nesting(&doc)
            }));
            match outcome {
                Ok(depth) => prop_assert!(
                    depth <= limits.max_nesting_depth,
                    "a checked update nests {} deep: {:?}", depth, bytes
                ),
                Err(_) => prop_assert!(false, "yrs panicked on a checked update {:?}", bytes),
            }
        }
    }

    #[test]
    fn checked_updates_never_make_yrs_panic(update in arb_update(), mutations in arb_mutations()) {
        let bytes = mutate(update, &mutations);
        if check_update_v1(&bytes, &Limits::default()).is_ok() {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if let Ok(update) = Update::decode_v1(&bytes) {
                    let doc = Doc::new();
                    let _ = doc.transact_mut().apply_update(update);
                }
            }));
            prop_assert!(outcome.is_ok(), "yrs panicked on a checked update {:?}", bytes);
        }
    }

    #[test]
    fn sessions_survive_hostile_frames(
        frames in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                (arb_hocuspocus(), arb_mutations()).prop_map(|(f, m)| mutate(f.encode(), &m)),
                arb_hocuspocus().prop_map(|f| f.encode()),
                (arb_yws(), arb_mutations()).prop_map(|(m, muts)| mutate(m.encode(), &muts)),
                arb_yws().prop_map(|m| m.encode()),
            ],
            1..8,
        ),
    ) {
        let mut allow = |_: &str, _: &str| AuthDecision::Allow(Access::ReadWrite);
        let doc = Doc::new();
        let mut hp_client = ClientSession::new(doc.clone(), ClientConfig::hocuspocus("", "t"))
            .expect("session");
        let mut yws_client = ClientSession::new(Doc::new(), ClientConfig::y_websocket())
            .expect("session");
        let mut hp_server = ServerSession::hocuspocus(small_limits());
        let mut yws_server = ServerSession::y_websocket("d", Access::ReadWrite, small_limits());
        hp_client.connected(0);
        yws_client.connected(0);
        for frame in &frames {
            let before = doc.transact().state_vector();
            if hp_client.receive(1, frame).is_err() {
                prop_assert_eq!(doc.transact().state_vector(), before, "an error touched the doc");
            }
            let _ = yws_client.receive(1, frame);
            let _ = hp_server.receive(1, frame, &mut allow);
            let _ = yws_server.receive(1, frame, &mut allow);
            while hp_client.poll_transmit().is_some() {}
            while hp_server.poll_transmit().is_some() {}
            while hp_server.poll_event().is_some() {}
            hp_client.tick(100_000);
        }
    }
}
