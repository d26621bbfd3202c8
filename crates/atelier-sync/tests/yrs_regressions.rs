//! Regression tests for defects of `yrs` 0.28.1 that Atelier fixes in its
//! patched copy of the crate (`vendor/yrs`, see `vendor/yrs/PATCHES.md`).
//!
//! 1. Every `*.json` vector in the directory named by `ATELIER_YRS_REGRESSIONS`
//!    (default: `<workspace root>/../shared/data/yrs-regressions`) is replayed:
//!    its v1 updates are applied in order to a fresh `yrs` document, which
//!    must show the expected XML and state vector with nothing pending. Its
//!    full state (v1, and v2 for `yrs`) must then load into a fresh `yrs`
//!    document and into a fresh Yjs replica (`peers/yjs-state-check.mjs`) with
//!    the same result. Optional fields of the vector format: `gc` (default
//!    true) and `relay_full_state_after: n` (a replica relays its full state
//!    after `n` updates; fresh replicas load it, apply the rest and must end
//!    as expected).
//! 2. Further minimal cases of the same family (blocks integrated out of
//!    order behind skip placeholders) are built here with `yrs` itself and,
//!    where Node and `peers/node_modules` exist, checked against real Yjs
//!    applying the very same updates.
//!
//! Without the vector directory, or without `node`/`peers/node_modules`, the
//! affected part prints a `SKIPPED:` line saying why instead of passing
//! silently.
//!
//! ```text
//! cargo test -p atelier-sync --test yrs_regressions -- --nocapture
//! ATELIER_YRS_REGRESSIONS=/path/to/vectors cargo test -p atelier-sync --test yrs_regressions
//! ```

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use yrs::updates::decoder::Decode;
use yrs::{
    Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Transact, Update, Xml,
    XmlElementPrelim, XmlFragment,
};

/// Client id of every fresh replica that replays updates or loads a state;
/// the scenarios below never use it for edits.
const FRESH_CLIENT: u64 = 0x7fff_fff0;

// ---------------------------------------------------------------------------
// What a replica shows
// ---------------------------------------------------------------------------

/// What a replica shows after applying updates: the fields compared between
/// `yrs`, the expectation of a vector and Yjs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Report {
    /// `XmlFragment::get_string` (Yjs: `toString()`) of the fragment.
    xml: String,
    /// Client id to clock; clients at clock 0 are left out.
    state_vector: BTreeMap<u64, u32>,
    /// Whether structs or deletes wait for data that never arrived.
    pending: bool,
}

/// How a replica applies updates: the options of its `Doc`.
#[derive(Debug, Clone, Copy)]
struct Replay {
    /// Whether the replica garbage-collects deleted content (Yjs' `gc`).
    gc: bool,
}

impl Default for Replay {
    fn default() -> Self {
        Self { gc: true }
    }
}

fn fresh_doc(replay: Replay) -> Doc {
    Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(FRESH_CLIENT),
        offset_kind: OffsetKind::Utf16,
        skip_gc: !replay.gc,
        ..Options::default()
    })
}

fn sv_map(sv: &StateVector) -> BTreeMap<u64, u32> {
    sv.iter()
        .filter(|(_, clock)| **clock > 0)
        .map(|(client, clock)| (client.get(), *clock))
        .collect()
}

/// A fresh `yrs` replica that applied `updates` (v1) in order, one
/// transaction each, as a server applies messages as they come.
fn replay_yrs(
    replay: Replay,
    fragment: &str,
    updates: &[Vec<u8>],
) -> Result<(Doc, Report), String> {
    let doc = fresh_doc(replay);
    let frag = doc.get_or_insert_xml_fragment(fragment);
    for (i, bytes) in updates.iter().enumerate() {
        let update = Update::decode_v1(bytes).map_err(|e| format!("update {i}: {e}"))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| format!("update {i}: {e}"))?;
    }
    let report = {
        let txn = doc.transact();
        let store = txn.store();
        Report {
            xml: frag.get_string(&txn),
            state_vector: sv_map(&txn.state_vector()),
            pending: store.pending_update().is_some() || store.pending_ds().is_some(),
        }
    };
    Ok((doc, report))
}

fn full_state_v1(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

/// Clock ranges a full state claims to hold but lacks: a full state must
/// carry every clock of every client from 0 up to its state vector entry
/// (items or GC ranges), with no skip in between and nothing beyond.
fn full_state_holes(full_state: &[u8]) -> Result<Vec<String>, String> {
    let update = Update::decode_v1(full_state).map_err(|e| format!("full state: {e}"))?;
    let upper = update.state_vector();
    let mut holes = Vec::new();
    for (client, ranges) in update.insertions(true).iter() {
        let expected_end = upper.get(client);
        let ranges: Vec<_> = ranges.iter().cloned().collect();
        let contiguous = ranges.len() == 1 && ranges[0].start == 0 && ranges[0].end == expected_end;
        if !contiguous {
            holes.push(format!(
                "client {}: holds {:?}, state vector says 0..{}",
                client.get(),
                ranges,
                expected_end
            ));
        }
    }
    Ok(holes)
}

/// One sequence of updates to check, and what every replica must show.
struct Case<'a> {
    name: &'a str,
    fragment: &'a str,
    /// Yjs v1 updates, applied in order.
    updates: &'a [Vec<u8>],
    expected: &'a Report,
    replay: Replay,
    /// Also relay: a replica that applied only the first `n` updates sends
    /// its full state (pending data included) to a fresh replica, which then
    /// applies the remaining updates.
    relay_after: Option<usize>,
}

/// Checks a replica that applied the updates, then the replicas that load
/// its full state: a fresh `yrs` one (v1 and v2 encodings) and a fresh Yjs
/// one. All of them must show `expected`, and so must Yjs applying the
/// updates itself. With a relay point, fresh `yrs` and Yjs replicas that
/// load the relayed state and apply the rest must show it too.
fn check_replica(case: &Case<'_>) {
    let Case {
        name,
        fragment,
        updates,
        expected,
        replay,
        relay_after,
    } = *case;
    let (doc, report) = replay_yrs(replay, fragment, updates)
        .unwrap_or_else(|e| panic!("{name}: yrs cannot apply the updates: {e}"));
    assert_eq!(
        &report, expected,
        "{name}: yrs replica that applied the updates"
    );

    let full_state = full_state_v1(&doc);
    let holes = full_state_holes(&full_state)
        .unwrap_or_else(|e| panic!("{name}: yrs cannot decode its own full state: {e}"));
    assert!(
        holes.is_empty(),
        "{name}: full state {} has holes: {holes:?}",
        BASE64.encode(&full_state)
    );
    let (_, loaded) = replay_yrs(replay, fragment, std::slice::from_ref(&full_state))
        .unwrap_or_else(|e| panic!("{name}: fresh yrs replica cannot load the full state: {e}"));
    assert_eq!(
        &loaded,
        expected,
        "{name}: fresh yrs replica that loaded the full state {}",
        BASE64.encode(&full_state)
    );

    let full_state_v2 = doc
        .transact()
        .encode_state_as_update_v2(&StateVector::default());
    let as_v1 = Update::decode_v2(&full_state_v2)
        .map(|u| yrs::updates::encoder::Encode::encode_v1(&u))
        .unwrap_or_else(|e| panic!("{name}: yrs cannot decode its own v2 full state: {e}"));
    let (_, loaded_v2) = replay_yrs(replay, fragment, std::slice::from_ref(&as_v1))
        .unwrap_or_else(|e| panic!("{name}: fresh yrs replica cannot load the v2 full state: {e}"));
    assert_eq!(
        &loaded_v2, expected,
        "{name}: fresh yrs replica that loaded the v2 full state"
    );

    let yjs = YjsChecker::find();
    if let Some(reference) = yjs.check(
        &format!("{name}: Yjs applying the updates"),
        fragment,
        updates,
    ) {
        assert_eq!(
            &reference, expected,
            "{name}: Yjs replica that applied the same updates"
        );
    }
    if let Some(loaded) = yjs.check(
        &format!("{name}: Yjs loading the yrs full state"),
        fragment,
        std::slice::from_ref(&full_state),
    ) {
        assert_eq!(
            &loaded,
            expected,
            "{name}: fresh Yjs replica that loaded the yrs full state {}",
            BASE64.encode(&full_state)
        );
    }

    let Some(n) = relay_after else { return };
    assert!(
        n <= updates.len(),
        "{name}: relay point {n} lies past the {} updates",
        updates.len()
    );
    let (relay, _) = replay_yrs(replay, fragment, &updates[..n])
        .unwrap_or_else(|e| panic!("{name}: the relay cannot apply the first {n} updates: {e}"));
    let mut relayed = vec![full_state_v1(&relay)];
    relayed.extend_from_slice(&updates[n..]);
    let (_, loaded) = replay_yrs(replay, fragment, &relayed)
        .unwrap_or_else(|e| panic!("{name}: fresh yrs replica cannot load the relayed state: {e}"));
    assert_eq!(
        &loaded,
        expected,
        "{name}: fresh yrs replica that loaded the state relayed after {n} updates ({}) and the rest",
        BASE64.encode(&relayed[0])
    );
    if let Some(loaded) = yjs.check(
        &format!("{name}: Yjs loading the state relayed after {n} updates"),
        fragment,
        &relayed,
    ) {
        assert_eq!(
            &loaded,
            expected,
            "{name}: fresh Yjs replica that loaded the state relayed after {n} updates ({}) and the rest",
            BASE64.encode(&relayed[0])
        );
    }
}

// ---------------------------------------------------------------------------
// The Yjs side: peers/yjs-state-check.mjs
// ---------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `peers/yjs-state-check.mjs`, or says once per check why it can't.
enum YjsChecker {
    Ready { script: PathBuf },
    Unavailable(String),
}

impl YjsChecker {
    fn find() -> Self {
        let peers = workspace_root().join("peers");
        let script = peers.join("yjs-state-check.mjs");
        if !script.is_file() {
            return Self::Unavailable(format!("{} is missing", script.display()));
        }
        if !peers.join("node_modules").join("yjs").is_dir() {
            return Self::Unavailable(format!(
                "{} lacks the yjs package (run npm ci in peers)",
                peers.join("node_modules").display()
            ));
        }
        match Command::new("node").arg("--version").output() {
            Ok(out) if out.status.success() => Self::Ready { script },
            Ok(out) => Self::Unavailable(format!("`node --version` failed: {}", out.status)),
            Err(e) => Self::Unavailable(format!("node not found: {e}")),
        }
    }

    /// What a fresh Yjs replica shows after applying `updates` in order, or
    /// `None` (after printing why) if Node or the yjs package is missing.
    fn check(&self, what: &str, fragment: &str, updates: &[Vec<u8>]) -> Option<Report> {
        let script = match self {
            Self::Ready { script } => script,
            Self::Unavailable(why) => {
                println!("SKIPPED: {what}: {why}");
                return None;
            }
        };
        let mut child = Command::new("node")
            .arg(script)
            .arg(fragment)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node was found a moment ago, so it should start");
        {
            let mut stdin = child.stdin.take().expect("stdin was requested as a pipe");
            for update in updates {
                writeln!(stdin, "{}", BASE64.encode(update))
                    .expect("the Yjs checker should read all updates from stdin");
            }
        }
        let out = child
            .wait_with_output()
            .expect("the Yjs checker should run to completion");
        assert!(
            out.status.success(),
            "{what}: yjs-state-check.mjs failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let reply: YjsReport = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{what}: yjs-state-check.mjs printed no report ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        Some(reply.into_report(what))
    }
}

#[derive(Deserialize)]
struct YjsReport {
    state_vector: BTreeMap<String, u32>,
    pending: bool,
    xml: String,
}

impl YjsReport {
    fn into_report(self, what: &str) -> Report {
        let state_vector = self
            .state_vector
            .into_iter()
            .filter(|(_, clock)| *clock > 0)
            .map(|(client, clock)| {
                let client = client
                    .parse::<u64>()
                    .unwrap_or_else(|e| panic!("{what}: Yjs client id {client:?}: {e}"));
                (client, clock)
            })
            .collect();
        Report {
            xml: self.xml,
            state_vector,
            pending: self.pending,
        }
    }
}

// ---------------------------------------------------------------------------
// 1. The shared regression vectors
// ---------------------------------------------------------------------------

/// A file of `shared/data/yrs-regressions`.
#[derive(Deserialize)]
struct Vector {
    fragment: String,
    apply_in_order_v1_base64: Vec<String>,
    expected: Expected,
    /// The full state Yjs itself produces; it must load to the same result.
    #[serde(default)]
    reference_full_state_v1_base64: Option<String>,
    /// Whether the `yrs` replicas garbage-collect (default: yes).
    #[serde(default)]
    gc: Option<bool>,
    /// Also check a relay that sends its full state after this many updates.
    #[serde(default)]
    relay_full_state_after: Option<usize>,
}

#[derive(Deserialize)]
struct Expected {
    xml: String,
    state_vector: BTreeMap<String, u32>,
    pending: bool,
}

fn vector_dir() -> (PathBuf, &'static str) {
    match std::env::var_os("ATELIER_YRS_REGRESSIONS") {
        Some(dir) => (PathBuf::from(dir), "ATELIER_YRS_REGRESSIONS"),
        None => (
            workspace_root().join("../shared/data/yrs-regressions"),
            "the default location",
        ),
    }
}

fn decode_base64(name: &str, what: &str, text: &str) -> Vec<u8> {
    BASE64
        .decode(text)
        .unwrap_or_else(|e| panic!("{name}: {what} is not base64: {e}"))
}

/// The vectors of `shared/data/yrs-regressions` (the first one:
/// `gc-range-after-out-of-order.json`): a GC range that arrives over a skip
/// placeholder left by an out-of-order update, and reaches past that skip
/// into a block yrs already holds, made yrs 0.28.1 store overlapping blocks
/// and encode a skip with a wrapped (negative) length.
#[test]
fn gc_range_over_skip_of_out_of_order_update_shared_vectors() {
    let (dir, source) = vector_dir();
    if !dir.is_dir() {
        println!(
            "SKIPPED: shared yrs regression vectors: {} (from {source}) is not a directory",
            dir.display()
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry should be readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} (from {source}) holds no *.json vector",
        dir.display()
    );

    // Check every vector, then report all that failed.
    let mut failed = Vec::new();
    for path in &files {
        let name = vector_name(path);
        match std::panic::catch_unwind(|| check_vector_file(path)) {
            Ok(()) => println!("ok: {name}"),
            Err(_) => failed.push(name),
        }
    }
    assert!(
        failed.is_empty(),
        "failing vectors (see the panic messages above): {failed:?}"
    );
}

fn vector_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Checks one vector file; panics with what went wrong.
fn check_vector_file(path: &Path) {
    let name = vector_name(path);
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let vector: Vector =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not a vector: {e}"));
    let updates: Vec<Vec<u8>> = vector
        .apply_in_order_v1_base64
        .iter()
        .enumerate()
        .map(|(i, u)| decode_base64(&name, &format!("update {i}"), u))
        .collect();
    let expected = Report {
        xml: vector.expected.xml.clone(),
        state_vector: vector
            .expected
            .state_vector
            .iter()
            .filter(|(_, clock)| **clock > 0)
            .map(|(client, clock)| {
                let client = client
                    .parse::<u64>()
                    .unwrap_or_else(|e| panic!("{name}: client id {client:?}: {e}"));
                (client, *clock)
            })
            .collect(),
        pending: vector.expected.pending,
    };

    let replay = Replay {
        gc: vector.gc.unwrap_or(true),
    };
    check_replica(&Case {
        name: &name,
        fragment: &vector.fragment,
        updates: &updates,
        expected: &expected,
        replay,
        relay_after: vector.relay_full_state_after,
    });

    if let Some(reference) = &vector.reference_full_state_v1_base64 {
        let reference = decode_base64(&name, "reference_full_state_v1_base64", reference);
        let (_, loaded) = replay_yrs(replay, &vector.fragment, &[reference])
            .unwrap_or_else(|e| panic!("{name}: yrs cannot load the reference state: {e}"));
        assert_eq!(
            loaded, expected,
            "{name}: yrs replica that loaded the reference state"
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Further cases of the same family
// ---------------------------------------------------------------------------

/// Client 2 creates `<e>` in the fragment and then sets `attributes` on it,
/// one update each (clocks 0, 1, 2, ...). Returns those updates.
fn author_element_with_attributes(fragment: &str, attributes: &[&str]) -> Vec<Vec<u8>> {
    let doc = Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(2),
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    });
    let frag = doc.get_or_insert_xml_fragment(fragment);
    let mut updates = Vec::new();
    let element = {
        let mut txn = doc.transact_mut();
        let element = frag.insert(&mut txn, 0, XmlElementPrelim::empty("e"));
        updates.push(txn.encode_update_v1());
        element
    };
    for (i, key) in attributes.iter().enumerate() {
        let mut txn = doc.transact_mut();
        element.insert_attribute(&mut txn, *key, i.to_string());
        updates.push(txn.encode_update_v1());
    }
    updates
}

/// Client 1 learns all of `history`, deletes `<e>` (so its copies of the
/// attributes are garbage-collected) and answers a sync step 1 carrying
/// `remote_sv` with the diff: the attributes arrive as one GC range.
fn deleter_diff(fragment: &str, history: &[Vec<u8>], remote_sv: &StateVector) -> Vec<u8> {
    let doc = Doc::with_options(Options {
        client_id: yrs::block::ClientID::new(1),
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    });
    let frag = doc.get_or_insert_xml_fragment(fragment);
    for update in history {
        let update = Update::decode_v1(update).expect("updates of client 2 decode");
        doc.transact_mut()
            .apply_update(update)
            .expect("updates of client 2 apply in order");
    }
    {
        let mut txn = doc.transact_mut();
        frag.remove_range(&mut txn, 0, 1);
    }
    doc.transact().encode_diff_v1(remote_sv)
}

/// The shared vector's defect with more holes: the replica holds clocks 0, 2
/// and 4 (skips over 1 and 3), then a GC range over clocks 1..=5 arrives. It
/// spans both skips, the blocks between them and a clock past the replica's
/// last block; only the holes and the new tail may be filled.
#[test]
fn gc_range_spanning_several_skips_and_known_blocks_fills_only_the_holes() {
    let fragment = "xml";
    let history = author_element_with_attributes(fragment, &["a", "b", "c", "d", "f"]);
    let mut updates = vec![history[0].clone(), history[2].clone(), history[4].clone()];
    let (replica, _) =
        replay_yrs(Replay::default(), fragment, &updates).expect("out-of-order updates apply");
    let sv = replica.transact().state_vector();
    assert_eq!(
        sv_map(&sv),
        BTreeMap::from([(2, 1)]),
        "skips keep the state vector at the first hole"
    );
    updates.push(deleter_diff(fragment, &history, &sv));

    check_replica(&Case {
        name: "gc range spanning several skips",
        fragment,
        updates: &updates,
        expected: &Report {
            xml: String::new(),
            state_vector: BTreeMap::from([(2, 6)]),
            pending: false,
        },
        replay: Replay::default(),
        relay_after: Some(3),
    });
}

/// While yrs holds a block integrated out of order, its full state contains
/// a skip. yrs 0.28.1 wrote the skip's length to the v2 length stream, where
/// neither Yjs nor yrs itself read it (both read it from the rest stream as
/// for v1): the v2 full state of such a document did not load.
#[test]
fn skip_length_of_out_of_order_state_v2_is_readable() {
    let fragment = "xml";
    let history = author_element_with_attributes(fragment, &["a", "b"]);
    let updates = vec![history[0].clone(), history[2].clone()];
    let (doc, report) =
        replay_yrs(Replay::default(), fragment, &updates).expect("out-of-order update applies");
    assert_eq!(report.state_vector, BTreeMap::from([(2, 1)]));

    let txn = doc.transact();
    let v1 = Update::decode_v1(&txn.encode_state_as_update_v1(&StateVector::default()))
        .expect("v1 full state decodes");
    let v2 = Update::decode_v2(&txn.encode_state_as_update_v2(&StateVector::default()))
        .expect("v2 full state with a skip decodes");
    assert_eq!(
        v2, v1,
        "v1 and v2 full states of a document with a skip must carry the same blocks"
    );

    // The holder of the skip is, like Yjs, still waiting for clock 1.
    let yjs = YjsChecker::find();
    let full_state = yrs::updates::encoder::Encode::encode_v1(&v2);
    if let Some(loaded) = yjs.check("skip state v2 loaded by Yjs", fragment, &[full_state]) {
        assert_eq!(loaded.state_vector, BTreeMap::from([(2, 1)]));
        assert!(
            loaded.pending,
            "Yjs keeps the out-of-order attribute pending"
        );
    }
}

/// yrs 0.28.1 decoded a block list whose clocks run past `u32::MAX` (such
/// as its own wrapped skip) by wrapping the clock in release builds and
/// panicking in debug builds; it must be rejected as malformed instead.
#[test]
fn clock_overflow_in_update_is_rejected_not_wrapped() {
    // client 2: GC(0..1), skip of u32::MAX clocks, GC of 1: clocks past u32::MAX
    let mut bytes = vec![1, 3, 2, 0, 0, 1, 10];
    bytes.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
    bytes.extend([0, 1]);
    bytes.push(0); // empty delete set
    let decoded = std::panic::catch_unwind(|| Update::decode_v1(&bytes).is_err());
    assert_eq!(
        decoded.ok(),
        Some(true),
        "an update whose clocks overflow must decode to an error, without panicking"
    );
}

/// A replica holds clock 8 of client 2 behind a skip when a peer relays
/// clocks 6 and 10 (merged: item 6, a skip over 7..=9, item 10); item 6
/// waits for client 3, so the rest of the update becomes pending. Cutting
/// the known clock 8 out of the relayed skip split it, but yrs 0.28.1 left
/// the skip's left part at full length: the pending update got overlapping
/// skips, and its full state encoded item 10 two clocks too late, so a
/// replica loading it waited forever for clocks that are never sent.
#[test]
fn split_skip_of_pending_update_keeps_clocks_of_later_items() {
    let fragment = "xml";
    let doc_of = |client: u64| {
        Doc::with_options(Options {
            client_id: yrs::block::ClientID::new(client),
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        })
    };
    // Client 3 creates <p>.
    let b = doc_of(3);
    let b_frag = b.get_or_insert_xml_fragment(fragment);
    let b0 = {
        let mut txn = b.transact_mut();
        b_frag.insert(&mut txn, 0, XmlElementPrelim::empty("p"));
        txn.encode_update_v1()
    };
    // Client 2 creates <e0>..<e4> (clocks 0..=4) in one update, sets an
    // attribute on <e0> (5), learns <p>, sets an attribute on <p> (6, which
    // depends on client 3) and one on each of <e1>..<e4> (7..=10). One
    // attribute per element: yrs renders attributes in hash order.
    let a = doc_of(2);
    let a_frag = a.get_or_insert_xml_fragment(fragment);
    let mut a_updates = Vec::new();
    let elements: Vec<_> = {
        let mut txn = a.transact_mut();
        let elements = (0..5)
            .map(|i| a_frag.insert(&mut txn, i, XmlElementPrelim::empty(format!("e{i}"))))
            .collect();
        a_updates.push(txn.encode_update_v1());
        elements
    };
    let set_attribute = |element: &yrs::XmlElementRef, key: &str| {
        let mut txn = a.transact_mut();
        element.insert_attribute(&mut txn, key, "x");
        txn.encode_update_v1()
    };
    a_updates.push(set_attribute(&elements[0], "k5"));
    a.transact_mut()
        .apply_update(Update::decode_v1(&b0).expect("update of client 3 decodes"))
        .expect("update of client 3 applies");
    let p = {
        let txn = a.transact();
        match a_frag.get(&txn, 5) {
            Some(yrs::XmlOut::Element(p)) => p,
            other => panic!("<p> should follow <e4>, found {other:?}"),
        }
    };
    a_updates.push(set_attribute(&p, "k6"));
    for (i, element) in elements.iter().enumerate().skip(1) {
        a_updates.push(set_attribute(element, &format!("k{}", 6 + i)));
    }
    // a_updates[0] holds clocks 0..=4, a_updates[i] clock 4 + i
    assert_eq!(a_updates.len(), 7);

    let relayed = yrs::merge_updates_v1([a_updates[2].as_slice(), a_updates[6].as_slice()])
        .expect("updates merge");
    let updates = vec![
        a_updates[0].clone(),
        a_updates[4].clone(),
        relayed,
        b0.clone(),
        a_updates[1].clone(),
        a_updates[3].clone(),
        a_updates[5].clone(),
    ];
    let truth = {
        let mut causal = vec![b0];
        causal.extend(a_updates.iter().cloned());
        replay_yrs(Replay::default(), fragment, &causal)
            .expect("updates apply in causal order")
            .1
    };
    assert_eq!(
        truth.state_vector,
        BTreeMap::from([(2, 11), (3, 1)]),
        "the scenario has the clocks it is built for"
    );
    check_replica(&Case {
        name: "split skip of pending update",
        fragment,
        updates: &updates,
        expected: &truth,
        replay: Replay::default(),
        relay_after: Some(3),
    });
}
