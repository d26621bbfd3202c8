//! Randomized convergence between real Yjs replicas and `yrs` replicas.
//!
//! Several replicas of one document edit the `XmlFragment` named `xml`
//! (elements, attributes of every value type, formatted text, and deletes of
//! content other clients created) while their updates are delivered in
//! random order, duplicated or lost. Now and then two replicas run sync
//! step 1/2 (one sends its state vector, the other answers with the diff,
//! GC ranges included), and at the end every replica pulls from every other
//! until nothing changes. Then all replicas must show the same XML and state
//! vector with nothing pending, and each replica's full state must load into
//! a fresh Yjs replica and a fresh `yrs` `Doc` with that same result.
//!
//! Yjs replicas live in one long-lived Node process (`peers/yjs-peer.mjs`,
//! with the real `yjs` package from `peers/node_modules`). This file owns all
//! the randomness and picks every operation from the replica's current tree,
//! so indices are always valid and a failure is a CRDT failure.
//!
//! ```text
//! cargo test -p atelier-sync --test yjs_yrs_convergence            # random seed, printed
//! ATELIER_SEED=1065 ATELIER_CASES=1 cargo test -p atelier-sync --test yjs_yrs_convergence \
//!     -- --exact yjs_and_yrs_replicas_converge --nocapture          # replay one case
//! ATELIER_CASES=2000 ATELIER_KEEP_GOING=1 cargo test ... -- --nocapture  # hunt
//! ```
//!
//! `ATELIER_CASES` sets the number of cases (seeds `ATELIER_SEED`,
//! `ATELIER_SEED + 1`, …); `ATELIER_KEEP_GOING` collects every failing case
//! instead of stopping at the first; `ATELIER_NO_SHRINK` skips shrinking.
//! A seed replays the same operations and deliveries; `yrs` itself orders
//! the formatting marks of one edit by `HashMap` order, so now and then a
//! replayed case comes out differently. The dumped traces and vectors below
//! are exact.
//!
//! When a case fails, the test writes every replica's trace to
//! `$CARGO_TARGET_TMPDIR/yjs_yrs_convergence/`, names the first corrupt
//! update of the run (checked against the document all local edits make),
//! and shrinks, for each misbehaving `yrs` replica, what it applied to a
//! minimal sequence on which a fresh `yrs` replica deviates from Yjs. Each
//! result is written there as a vector in the format of
//! `tests/regressions/*.json`; the ones kept are copied to
//! `tests/regressions/` and have a named test at the end of this file.
//!
//! Without `node` or `peers/node_modules` the Yjs variant prints `SKIPPED:`
//! and passes; the pure-`yrs` variant and the vectors' `yrs` checks always
//! run.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::Rng as _;
use proptest::test_runner::{RngAlgorithm, TestRng};
use serde::Deserialize;
use serde_json::{Value, json};
use yrs::block::ClientID;
use yrs::branch::BranchID;
use yrs::types::Attrs;
use yrs::types::text::YChange;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Any, Doc, GetString, Number, OffsetKind, Options, Out, ReadTxn, StateVector, Text, TextRef,
    Transact, TransactionMut, Update, Xml, XmlElementPrelim, XmlFragment, XmlFragmentRef, XmlOut,
    XmlTextPrelim, XmlTextRef,
};

/// The root type every replica edits.
const FRAGMENT: &str = "xml";
/// Cases of the Yjs variant unless `ATELIER_CASES` says otherwise.
const DEFAULT_NODE_CASES: u64 = 500;
/// Cases of the pure-`yrs` variant unless `ATELIER_CASES` says otherwise.
const DEFAULT_YRS_CASES: u64 = 3000;
/// Client id of the fresh replicas that load a full state or replay a trace;
/// no replica of a run uses it.
const FRESH_CLIENT: u64 = 0x7fff_fff0;
/// How long one request to the Node peer may take before the run gives up.
const PEER_TIMEOUT: Duration = Duration::from_secs(60);
/// Full-sync rounds after the random phase before a case counts as diverged.
/// Two rounds suffice for the data; more are allowed because a Yjs replica
/// that receives formatting may delete redundant formatting marks, which
/// only reach the others in a later round.
const MAX_SYNC_ROUNDS: usize = 6;

// ---------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------

/// The only source of randomness in a run, seeded from the case seed.
struct Dice(TestRng);

impl Dice {
    fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        Dice(TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
    }

    /// A number in `0..n`; `n` must not be zero.
    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Dice::below(0)");
        (self.0.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// `ATELIER_SEED` if set, else a seed from the clock (printed by the tests).
fn base_seed() -> u64 {
    if let Ok(text) = std::env::var("ATELIER_SEED") {
        return text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("ATELIER_SEED={text:?} is not a u64: {e}"));
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000_000
}

fn env_cases(default: u64) -> u64 {
    match std::env::var("ATELIER_CASES") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("ATELIER_CASES={text:?} is not a number: {e}")),
        Err(_) => default,
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

// ---------------------------------------------------------------------------
// Operations and what a replica looks like
// ---------------------------------------------------------------------------

/// One local edit, chosen on the Rust side and executed the same way by a
/// Yjs replica (see `applyOp` in `peers/yjs-peer.mjs`) and a `yrs` replica.
/// `path` lists child indices from the fragment down to the node edited;
/// text indices and lengths count UTF-16 units.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Op {
    InsertElement {
        path: Vec<u32>,
        index: u32,
        name: String,
    },
    /// A new `XmlText` holding `text`; `format` as in [`Op::TextInsert`].
    InsertText {
        path: Vec<u32>,
        index: u32,
        text: String,
        format: Option<Value>,
    },
    DeleteChildren {
        path: Vec<u32>,
        index: u32,
        len: u32,
    },
    SetAttribute {
        path: Vec<u32>,
        key: String,
        value: Value,
    },
    RemoveAttribute {
        path: Vec<u32>,
        key: String,
    },
    /// `format: None` inherits the formatting at the position; an object
    /// sets exactly those attributes (`null` removes one).
    TextInsert {
        path: Vec<u32>,
        index: u32,
        text: String,
        format: Option<Value>,
    },
    TextDelete {
        path: Vec<u32>,
        index: u32,
        len: u32,
    },
    TextFormat {
        path: Vec<u32>,
        index: u32,
        len: u32,
        format: Value,
    },
}

/// A replica's XML tree as far as choosing a valid operation needs it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TreeNode {
    Element {
        name: String,
        /// Attribute names, sorted.
        attrs: Vec<String>,
        children: Vec<TreeNode>,
        /// The client that created the element.
        client: u64,
    },
    Text {
        /// Plain text, formatting dropped.
        text: String,
        client: u64,
    },
    Other,
}

impl TreeNode {
    fn client(&self) -> Option<u64> {
        match self {
            TreeNode::Element { client, .. } | TreeNode::Text { client, .. } => Some(*client),
            TreeNode::Other => None,
        }
    }
}

/// What a replica shows: compared across replicas and implementations.
#[derive(Clone, Debug, PartialEq, Eq)]
struct View {
    xml: String,
    state_vector: BTreeMap<u64, u64>,
    pending: bool,
}

#[derive(Clone, Debug)]
struct Report {
    view: View,
    /// The replica's whole state: an update against the empty state vector.
    full_state: Vec<u8>,
    /// For a Yjs replay: the updates of the formatting cleanups Yjs ran on
    /// its own while applying the updates (it deletes formatting marks that
    /// became redundant; `yrs` does so only with `cleanup_formatting`).
    cleanup: Vec<Vec<u8>>,
}

// ---------------------------------------------------------------------------
// The Node peer
// ---------------------------------------------------------------------------

/// The `peers/yjs-peer.mjs` process: one JSON request per line in, one JSON
/// reply per line out.
struct NodePeer {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Result<String, String>>,
    broken: Option<String>,
}

impl NodePeer {
    /// Starts the peer, or says why it cannot run here.
    fn spawn() -> Result<NodePeer, String> {
        let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers");
        let script = peers.join("yjs-peer.mjs");
        if !script.is_file() {
            return Err(format!("{} is missing", script.display()));
        }
        if !peers.join("node_modules/yjs/package.json").is_file() {
            return Err("peers/node_modules/yjs is missing; run `npm ci` in peers/".into());
        }
        let mut child = Command::new("node")
            .arg(&script)
            .current_dir(&peers)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start `node`: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("node started without pipes".into());
        };
        // A reader thread lets `call` time out instead of hanging the test if
        // Yjs ever loops forever on an update.
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                let item = match reader.read_line(&mut line) {
                    Ok(0) => Err("yjs-peer exited".to_string()),
                    Ok(_) => Ok(line),
                    Err(e) => Err(format!("reading from yjs-peer: {e}")),
                };
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
        });
        let mut peer = NodePeer {
            child,
            stdin,
            lines,
            broken: None,
        };
        peer.call(json!({"cmd": "replay", "updates": []}))
            .map_err(|e| format!("yjs-peer does not answer: {e}"))?;
        Ok(peer)
    }

    fn call(&mut self, request: Value) -> Result<Value, String> {
        if let Some(reason) = &self.broken {
            return Err(format!("yjs-peer is unusable: {reason}"));
        }
        let sent = writeln!(self.stdin, "{request}").and_then(|()| self.stdin.flush());
        if let Err(e) = sent {
            self.broken = Some(format!("writing: {e}"));
            return Err(format!("writing to yjs-peer: {e}"));
        }
        let line = match self.lines.recv_timeout(PEER_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => {
                self.broken = Some(e.clone());
                return Err(e);
            }
            Err(_) => {
                let what = format!("no answer within {PEER_TIMEOUT:?} to {}", brief(&request));
                self.broken = Some(what.clone());
                return Err(what);
            }
        };
        let reply: Value =
            serde_json::from_str(&line).map_err(|e| format!("yjs-peer sent bad JSON: {e}"))?;
        if let Some(error) = reply.get("error") {
            return Err(format!(
                "Yjs: {}",
                error.as_str().unwrap_or("(non-string error)")
            ));
        }
        Ok(reply)
    }

    /// A fresh Yjs replica that applied `updates` in order.
    fn replay(&mut self, updates: &[Vec<u8>], gc: bool) -> Result<Report, String> {
        let updates: Vec<String> = updates.iter().map(|u| BASE64.encode(u)).collect();
        let reply = self.call(json!({
            "cmd": "replay", "updates": updates, "gc": gc, "client_id": FRESH_CLIENT,
        }))?;
        report_from_json(&reply)
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        // Closing stdin ends the peer; kill it in case it is stuck.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request shortened for error messages (updates can be long).
fn brief(request: &Value) -> String {
    let text = request.to_string();
    if text.len() > 200 {
        format!("{}…", &text[..text.floor_char_boundary(200)])
    } else {
        text
    }
}

fn base64_field(reply: &Value, key: &str) -> Result<Vec<u8>, String> {
    let text = reply
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("reply lacks string field {key}: {}", brief(reply)))?;
    BASE64
        .decode(text)
        .map_err(|e| format!("field {key} is not base64: {e}"))
}

fn report_from_json(reply: &Value) -> Result<Report, String> {
    let xml = reply
        .get("xml")
        .and_then(Value::as_str)
        .ok_or("report lacks xml")?
        .to_owned();
    let mut state_vector = BTreeMap::new();
    let sv = reply
        .get("state_vector")
        .and_then(Value::as_object)
        .ok_or("report lacks state_vector")?;
    for (client, clock) in sv {
        let client: u64 = client
            .parse()
            .map_err(|e| format!("bad client id {client}: {e}"))?;
        let clock = clock.as_u64().ok_or("clock is not a u64")?;
        state_vector.insert(client, clock);
    }
    let pending = reply
        .get("pending")
        .and_then(Value::as_bool)
        .ok_or("report lacks pending")?;
    Ok(Report {
        view: View {
            xml,
            state_vector,
            pending,
        },
        full_state: base64_field(reply, "full_state")?,
        cleanup: match reply.get("cleanup").and_then(Value::as_array) {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .map(|u| {
                    let text = u.as_str().ok_or("cleanup entries must be strings")?;
                    BASE64
                        .decode(text)
                        .map_err(|e| format!("cleanup entry is not base64: {e}"))
                })
                .collect::<Result<_, String>>()?,
        },
    })
}

// ---------------------------------------------------------------------------
// yrs replicas
// ---------------------------------------------------------------------------

/// A `yrs` document configured as Atelier configures its documents (UTF-16
/// offsets), with GC on or off.
struct YrsReplica {
    doc: Doc,
    xml: XmlFragmentRef,
    /// Updates of the local transaction being run, `None` otherwise.
    captured: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
}

impl YrsReplica {
    fn new(client_id: u64, gc: bool) -> Self {
        let doc = Doc::with_options(Options {
            client_id: ClientID::new(client_id),
            offset_kind: OffsetKind::Utf16,
            skip_gc: !gc,
            ..Options::default()
        });
        let xml = doc.get_or_insert_xml_fragment(FRAGMENT);
        let captured: Arc<Mutex<Option<Vec<Vec<u8>>>>> = Arc::default();
        let sink = captured.clone();
        doc.observe_update_v1("convergence-test", move |_, event| {
            if let Some(updates) = sink.lock().expect("update sink").as_mut() {
                updates.push(event.update.clone());
            }
        })
        .expect("no transaction is open on a new doc");
        YrsReplica { doc, xml, captured }
    }

    fn tree(&self) -> Vec<TreeNode> {
        let txn = self.doc.transact();
        yrs_tree(&txn, &self.xml)
    }

    fn apply_op(&self, op: &Op) -> Result<Option<Vec<u8>>, String> {
        *self.captured.lock().expect("update sink") = Some(Vec::new());
        let result = {
            let mut txn = self.doc.transact_mut();
            yrs_apply_op(&mut txn, &self.xml, op)
        };
        let updates = self
            .captured
            .lock()
            .expect("update sink")
            .take()
            .unwrap_or_default();
        result?;
        match updates.len() {
            0 => Ok(None),
            1 => Ok(updates.into_iter().next()),
            _ => yrs::merge_updates_v1(&updates)
                .map(Some)
                .map_err(|e| format!("merging local updates: {e}")),
        }
    }

    fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    fn diff(&self, state_vector: &[u8]) -> Result<Vec<u8>, String> {
        let sv = StateVector::decode_v1(state_vector)
            .map_err(|e| format!("decoding a state vector: {e}"))?;
        Ok(self.doc.transact().encode_state_as_update_v1(&sv))
    }

    fn apply(&self, update: &[u8]) -> Result<(), String> {
        let update = Update::decode_v1(update).map_err(|e| format!("decoding an update: {e}"))?;
        let mut txn = self.doc.transact_mut();
        txn.apply_update(update)
            .map_err(|e| format!("applying an update: {e}"))
    }

    fn report(&self) -> Report {
        let txn = self.doc.transact();
        let store = txn.store();
        let view = View {
            xml: yrs_xml(&txn, &self.xml),
            state_vector: sv_map(&txn.state_vector()),
            pending: store.pending_update().is_some() || store.pending_ds().is_some(),
        };
        Report {
            view,
            full_state: txn.encode_state_as_update_v1(&StateVector::default()),
            cleanup: Vec::new(),
        }
    }
}

/// Runs `f` on a `yrs` replica, turning a panic inside `yrs` into an error so
/// the run can still be shrunk and reported.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            Err(format!("yrs panicked in {what}: {message}"))
        }
    }
}

/// A fresh `yrs` replica that applied `updates` in order.
fn yrs_replay(updates: &[Vec<u8>], gc: bool) -> Result<Report, String> {
    guarded("replay", || {
        let replica = YrsReplica::new(FRESH_CLIENT, gc);
        for (i, update) in updates.iter().enumerate() {
            replica
                .apply(update)
                .map_err(|e| format!("update #{i}: {e}"))?;
        }
        Ok(replica.report())
    })
}

fn sv_map(sv: &StateVector) -> BTreeMap<u64, u64> {
    sv.iter()
        .map(|(client, clock)| (client.get(), u64::from(*clock)))
        .collect()
}

fn creator(node: &XmlOut) -> u64 {
    match node.id() {
        BranchID::Nested(id) => id.client.get(),
        BranchID::Root(_) => 0,
    }
}

fn yrs_tree<T: ReadTxn>(txn: &T, parent: &XmlFragmentRef) -> Vec<TreeNode> {
    parent
        .children(txn)
        .map(|child| {
            let client = creator(&child);
            match child {
                XmlOut::Element(e) => {
                    let mut attrs: Vec<String> =
                        e.attributes(txn).map(|(k, _)| k.to_owned()).collect();
                    attrs.sort();
                    let inner: &XmlFragmentRef = e.as_ref();
                    TreeNode::Element {
                        name: e.tag().to_string(),
                        attrs,
                        children: yrs_tree(txn, inner),
                        client,
                    }
                }
                XmlOut::Text(t) => TreeNode::Text {
                    text: plain_text(txn, &t),
                    client,
                },
                XmlOut::Fragment(_) => TreeNode::Other,
            }
        })
        .collect()
}

fn plain_text<T: ReadTxn>(txn: &T, text: &XmlTextRef) -> String {
    let text: &TextRef = text.as_ref();
    text.get_string(txn)
}

/// The node at `path`, or an error saying why the harness chose badly.
fn yrs_resolve<T: ReadTxn>(txn: &T, root: &XmlFragmentRef, path: &[u32]) -> Result<XmlOut, String> {
    let mut node = XmlOut::Fragment(root.clone());
    for &i in path {
        let parent: XmlFragmentRef = match &node {
            XmlOut::Fragment(f) => f.clone(),
            XmlOut::Element(e) => AsRef::<XmlFragmentRef>::as_ref(e).clone(),
            XmlOut::Text(_) => return Err(format!("path {path:?} goes through a text")),
        };
        node = parent
            .get(txn, i)
            .ok_or_else(|| format!("path {path:?}: no child {i}"))?;
    }
    Ok(node)
}

fn yrs_container<T: ReadTxn>(
    txn: &T,
    root: &XmlFragmentRef,
    path: &[u32],
) -> Result<XmlFragmentRef, String> {
    match yrs_resolve(txn, root, path)? {
        XmlOut::Fragment(f) => Ok(f),
        XmlOut::Element(e) => Ok(AsRef::<XmlFragmentRef>::as_ref(&e).clone()),
        XmlOut::Text(_) => Err(format!("path {path:?} is a text, not a container")),
    }
}

fn yrs_text<T: ReadTxn>(
    txn: &T,
    root: &XmlFragmentRef,
    path: &[u32],
) -> Result<XmlTextRef, String> {
    match yrs_resolve(txn, root, path)? {
        XmlOut::Text(t) => Ok(t),
        _ => Err(format!("path {path:?} is not a text")),
    }
}

fn check_range(index: u32, len: u32, size: u32) -> Result<(), String> {
    match index.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(format!("range {index}+{len} outside 0..={size}")),
    }
}

fn yrs_apply_op(txn: &mut TransactionMut, root: &XmlFragmentRef, op: &Op) -> Result<(), String> {
    match op {
        Op::InsertElement { path, index, name } => {
            let parent = yrs_container(txn, root, path)?;
            check_range(*index, 0, parent.len(txn))?;
            parent.insert(txn, *index, XmlElementPrelim::empty(name.as_str()));
        }
        Op::InsertText {
            path,
            index,
            text,
            format,
        } => {
            let parent = yrs_container(txn, root, path)?;
            check_range(*index, 0, parent.len(txn))?;
            let node = parent.insert(txn, *index, XmlTextPrelim::new(""));
            yrs_text_insert(txn, &node, 0, text, format.as_ref())?;
        }
        Op::DeleteChildren { path, index, len } => {
            let parent = yrs_container(txn, root, path)?;
            check_range(*index, *len, parent.len(txn))?;
            parent.remove_range(txn, *index, *len);
        }
        Op::SetAttribute { path, key, value } => match yrs_resolve(txn, root, path)? {
            XmlOut::Element(e) => {
                e.insert_attribute(txn, key.as_str(), json_to_any(value));
            }
            _ => return Err(format!("path {path:?} is not an element")),
        },
        Op::RemoveAttribute { path, key } => match yrs_resolve(txn, root, path)? {
            XmlOut::Element(e) => e.remove_attribute(txn, key),
            _ => return Err(format!("path {path:?} is not an element")),
        },
        Op::TextInsert {
            path,
            index,
            text,
            format,
        } => {
            let node = yrs_text(txn, root, path)?;
            check_range(*index, 0, node.len(txn))?;
            yrs_text_insert(txn, &node, *index, text, format.as_ref())?;
        }
        Op::TextDelete { path, index, len } => {
            let node = yrs_text(txn, root, path)?;
            check_range(*index, *len, node.len(txn))?;
            node.remove_range(txn, *index, *len);
        }
        Op::TextFormat {
            path,
            index,
            len,
            format,
        } => {
            let node = yrs_text(txn, root, path)?;
            check_range(*index, *len, node.len(txn))?;
            node.format(txn, *index, *len, json_to_attrs(format)?);
        }
    }
    Ok(())
}

fn yrs_text_insert(
    txn: &mut TransactionMut,
    node: &XmlTextRef,
    index: u32,
    text: &str,
    format: Option<&Value>,
) -> Result<(), String> {
    match format {
        None => node.insert(txn, index, text),
        Some(format) => node.insert_with_attributes(txn, index, text, json_to_attrs(format)?),
    }
    Ok(())
}

fn json_to_any(value: &Value) -> Any {
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Any::Number(Number::Int(i)),
            None => Any::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Any::String(s.as_str().into()),
        Value::Array(items) => Any::Array(items.iter().map(json_to_any).collect::<Vec<_>>().into()),
        Value::Object(map) => Any::Map(Arc::new(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_any(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

fn json_to_attrs(format: &Value) -> Result<Attrs, String> {
    let map = format
        .as_object()
        .ok_or_else(|| format!("format {format} is not an object"))?;
    Ok(map
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), json_to_any(v)))
        .collect())
}

// ---------------------------------------------------------------------------
// XML strings exactly as Yjs' `toString()` writes them
// ---------------------------------------------------------------------------

/// `fragment.toString()` of Yjs for a `yrs` fragment: elements with their
/// attributes sorted by name, text as its delta with one tag per formatting
/// attribute (sorted), a new chunk at every visible formatting mark. `yrs`'
/// own `get_string` orders attributes by hash map order, so it cannot be
/// compared with Yjs.
fn yrs_xml<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> String {
    let mut out = String::new();
    for child in fragment.children(txn) {
        write_xml(txn, child, &mut out);
    }
    out
}

fn write_xml<T: ReadTxn>(txn: &T, node: XmlOut, out: &mut String) {
    match node {
        XmlOut::Element(e) => {
            let name = e.tag().to_lowercase();
            let mut attrs: Vec<(String, String)> = e
                .attributes(txn)
                .map(|(k, v)| (k.to_owned(), js_out(&v)))
                .collect();
            attrs.sort();
            out.push('<');
            out.push_str(&name);
            for (k, v) in attrs {
                out.push_str(&format!(" {k}=\"{v}\""));
            }
            out.push('>');
            let inner: &XmlFragmentRef = e.as_ref();
            out.push_str(&yrs_xml(txn, inner));
            out.push_str(&format!("</{name}>"));
        }
        XmlOut::Text(t) => {
            for chunk in t.diff(txn, YChange::identity) {
                let mut tags: Vec<(String, Vec<(String, String)>)> = chunk
                    .attributes
                    .iter()
                    .flat_map(|attrs| attrs.iter())
                    .map(|(name, value)| {
                        let mut fields: Vec<(String, String)> = match value {
                            Any::Map(map) => {
                                map.iter().map(|(k, v)| (k.clone(), js_any(v))).collect()
                            }
                            _ => Vec::new(),
                        };
                        fields.sort();
                        (name.to_string(), fields)
                    })
                    .collect();
                tags.sort();
                for (name, fields) in &tags {
                    out.push('<');
                    out.push_str(name);
                    for (k, v) in fields {
                        out.push_str(&format!(" {k}=\"{v}\""));
                    }
                    out.push('>');
                }
                match &chunk.insert {
                    Out::Any(Any::String(s)) => out.push_str(s),
                    other => out.push_str(&js_out(other)),
                }
                for (name, _) in tags.iter().rev() {
                    out.push_str(&format!("</{name}>"));
                }
            }
        }
        XmlOut::Fragment(f) => out.push_str(&yrs_xml(txn, &f)),
    }
}

/// `String(value)` in JavaScript, for the values this test stores.
fn js_any(value: &Any) -> String {
    match value {
        Any::Null => "null".into(),
        Any::Undefined => "undefined".into(),
        Any::Bool(b) => b.to_string(),
        Any::Number(Number::Int(i)) => i.to_string(),
        Any::Number(Number::Float(f)) => js_number(*f),
        Any::String(s) => s.to_string(),
        Any::Buffer(bytes) => bytes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(","),
        Any::Array(items) => items.iter().map(js_any).collect::<Vec<_>>().join(","),
        Any::Map(_) => "[object Object]".into(),
    }
}

fn js_number(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f == f.trunc() && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn js_out(value: &Out) -> String {
    match value {
        Out::Any(any) => js_any(any),
        other => format!("[{other:?}]"),
    }
}

// ---------------------------------------------------------------------------
// Replicas of either kind
// ---------------------------------------------------------------------------

enum Backend {
    Yrs(YrsReplica),
    Yjs {
        peer: Rc<RefCell<NodePeer>>,
        name: String,
    },
}

struct Replica {
    /// `yrs0`, `yjs1`, … with `+gc` when it garbage-collects.
    label: String,
    client_id: u64,
    gc: bool,
    backend: Backend,
}

static YJS_NAMES: AtomicU64 = AtomicU64::new(0);

impl Replica {
    fn yrs(index: usize, client_id: u64, gc: bool) -> Replica {
        Replica {
            label: format!("yrs{index}{}", if gc { "+gc" } else { "" }),
            client_id,
            gc,
            backend: Backend::Yrs(YrsReplica::new(client_id, gc)),
        }
    }

    fn yjs(
        peer: &Rc<RefCell<NodePeer>>,
        index: usize,
        client_id: u64,
        gc: bool,
    ) -> Result<Replica, String> {
        let name = format!("r{}", YJS_NAMES.fetch_add(1, Ordering::Relaxed));
        peer.borrow_mut().call(json!({
            "cmd": "create", "name": name, "client_id": client_id, "gc": gc,
        }))?;
        Ok(Replica {
            label: format!("yjs{index}{}", if gc { "+gc" } else { "" }),
            client_id,
            gc,
            backend: Backend::Yjs {
                peer: peer.clone(),
                name,
            },
        })
    }

    fn is_yrs(&self) -> bool {
        matches!(self.backend, Backend::Yrs(_))
    }

    fn yjs_call(&self, mut request: Value) -> Result<Value, String> {
        let Backend::Yjs { peer, name } = &self.backend else {
            unreachable!("yjs_call on a yrs replica");
        };
        request["name"] = json!(name);
        peer.borrow_mut().call(request)
    }

    fn tree(&self) -> Result<Vec<TreeNode>, String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("tree", || Ok(r.tree())),
            Backend::Yjs { .. } => {
                let reply = self.yjs_call(json!({"cmd": "tree"}))?;
                serde_json::from_value(reply.get("tree").cloned().unwrap_or(Value::Null))
                    .map_err(|e| format!("bad tree from yjs-peer: {e}"))
            }
        }
    }

    /// Runs a local edit and returns the update it produced, if any.
    fn apply_op(&self, op: &Op) -> Result<Option<Vec<u8>>, String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("a local edit", || r.apply_op(op)),
            Backend::Yjs { .. } => {
                let reply = self.yjs_call(json!({"cmd": "op", "op": op}))?;
                match reply.get("update") {
                    Some(Value::Null) | None => Ok(None),
                    Some(_) => base64_field(&reply, "update").map(Some),
                }
            }
        }
    }

    fn state_vector(&self) -> Result<Vec<u8>, String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("state_vector", || Ok(r.state_vector())),
            Backend::Yjs { .. } => base64_field(
                &self.yjs_call(json!({"cmd": "state_vector"}))?,
                "state_vector",
            ),
        }
    }

    fn diff(&self, state_vector: &[u8]) -> Result<Vec<u8>, String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("diff", || r.diff(state_vector)),
            Backend::Yjs { .. } => base64_field(
                &self.yjs_call(
                    json!({"cmd": "diff", "state_vector": BASE64.encode(state_vector)}),
                )?,
                "update",
            ),
        }
    }

    fn apply(&self, update: &[u8]) -> Result<(), String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("apply", || r.apply(update)),
            Backend::Yjs { .. } => self
                .yjs_call(json!({"cmd": "apply", "update": BASE64.encode(update)}))
                .map(drop),
        }
    }

    fn report(&self) -> Result<Report, String> {
        match &self.backend {
            Backend::Yrs(r) => guarded("report", || Ok(r.report())),
            Backend::Yjs { .. } => report_from_json(&self.yjs_call(json!({"cmd": "report"}))?),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Backend::Yjs { peer, name } = &self.backend
            && let Ok(mut peer) = peer.try_borrow_mut()
        {
            let _ = peer.call(json!({"cmd": "drop", "name": name}));
        }
    }
}

// ---------------------------------------------------------------------------
// Choosing operations
// ---------------------------------------------------------------------------

const ELEMENT_NAMES: &[&str] = &["p", "h", "li", "q"];
const ATTRIBUTE_KEYS: &[&str] = &["a", "b", "c", "d"];
/// BMP, astral (surrogate pairs in UTF-16) and multi-byte characters, so a
/// replica counting bytes instead of UTF-16 units would show up.
const TEXTS: &[&str] = &["a", "bc", "xyz", "é", "中文", "😀", "a😀b", " ", "hello"];
/// Deeper elements are not created, to keep trees small and paths short.
const MAX_DEPTH: usize = 3;
/// Above this many nodes, deletes become more likely than inserts.
const CROWDED: usize = 24;

struct Container {
    path: Vec<u32>,
    children: Vec<Option<u64>>,
}

/// Every place in a tree where an operation can apply.
#[derive(Default)]
struct Places<'a> {
    containers: Vec<Container>,
    elements: Vec<(Vec<u32>, &'a [String])>,
    texts: Vec<(Vec<u32>, &'a str)>,
    nodes: usize,
}

fn survey<'a>(nodes: &'a [TreeNode], path: &[u32], places: &mut Places<'a>) {
    places.containers.push(Container {
        path: path.to_vec(),
        children: nodes.iter().map(TreeNode::client).collect(),
    });
    for (i, node) in nodes.iter().enumerate() {
        places.nodes += 1;
        let mut child = path.to_vec();
        child.push(i as u32);
        match node {
            TreeNode::Element {
                attrs, children, ..
            } => {
                places.elements.push((child.clone(), attrs));
                if child.len() < MAX_DEPTH {
                    survey(children, &child, places);
                }
            }
            TreeNode::Text { text, .. } => places.texts.push((child, text)),
            TreeNode::Other => {}
        }
    }
}

/// UTF-16 offsets of the character boundaries of `text`, from 0 to its length.
fn boundaries(text: &str) -> Vec<u32> {
    let mut offsets = vec![0];
    let mut at = 0;
    for c in text.chars() {
        at += c.len_utf16() as u32;
        offsets.push(at);
    }
    offsets
}

/// Two distinct boundaries `(index, len)` of a non-empty text.
fn pick_range(dice: &mut Dice, text: &str) -> (u32, u32) {
    let b = boundaries(text);
    let i = dice.below(b.len() - 1);
    let j = i + 1 + dice.below((b.len() - 1 - i).min(4));
    (b[i], b[j] - b[i])
}

fn pick_format(dice: &mut Dice, allow_empty: bool) -> Value {
    let mut format = serde_json::Map::new();
    for key in ["bold", "italic", "link"] {
        if dice.chance(35) {
            let set = dice.chance(75);
            let value = match (key, set) {
                (_, false) => Value::Null,
                ("link", true) => json!({"href": dice.pick(&["u1", "u2"])}),
                (_, true) => Value::Bool(true),
            };
            format.insert(key.into(), value);
        }
    }
    if format.is_empty() && !allow_empty {
        format.insert("bold".into(), Value::Bool(true));
    }
    Value::Object(format)
}

fn pick_insert_format(dice: &mut Dice) -> Option<Value> {
    if dice.chance(40) {
        None
    } else {
        Some(pick_format(dice, true))
    }
}

fn pick_attribute_value(dice: &mut Dice) -> Value {
    match dice.below(100) {
        0..40 => json!(dice.pick(&["x", "y", "long value", "é"])),
        40..65 => json!(dice.below(103) as i64 - 3),
        65..80 => json!(dice.pick(&[0.5, 2.25, -1.75])),
        _ => json!(dice.chance(50)),
    }
}

/// A random edit that is valid on a replica whose tree is `tree`.
/// `client` is the editing replica's client id: deleting children it did
/// not create (cross-client deletes) gets extra weight.
fn pick_op(dice: &mut Dice, tree: &[TreeNode], client: u64) -> Op {
    let mut places = Places::default();
    survey(tree, &[], &mut places);
    let crowded = places.nodes > CROWDED;
    loop {
        let roll = if crowded && dice.chance(35) {
            30
        } else {
            dice.below(100)
        };
        match roll {
            0..12 if !crowded => {
                let shallow: Vec<&Container> = places
                    .containers
                    .iter()
                    .filter(|c| c.path.len() < MAX_DEPTH)
                    .collect();
                let c = *dice.pick(&shallow);
                return Op::InsertElement {
                    path: c.path.clone(),
                    index: dice.below(c.children.len() + 1) as u32,
                    name: dice.pick(ELEMENT_NAMES).to_string(),
                };
            }
            12..26 if !crowded => {
                let c = dice.pick(&places.containers);
                return Op::InsertText {
                    path: c.path.clone(),
                    index: dice.below(c.children.len() + 1) as u32,
                    text: dice.pick(TEXTS).to_string(),
                    format: pick_insert_format(dice),
                };
            }
            26..38 => {
                let foreign: Vec<&Container> = places
                    .containers
                    .iter()
                    .filter(|c| c.children.iter().any(|&k| k.is_some_and(|k| k != client)))
                    .collect();
                let candidates: Vec<&Container> = if !foreign.is_empty() && dice.chance(70) {
                    foreign
                } else {
                    places
                        .containers
                        .iter()
                        .filter(|c| !c.children.is_empty())
                        .collect()
                };
                if candidates.is_empty() {
                    continue;
                }
                let c = *dice.pick(&candidates);
                let count = c.children.len();
                let index = match c
                    .children
                    .iter()
                    .position(|&k| k.is_some_and(|k| k != client))
                {
                    Some(i) if dice.chance(50) => i,
                    _ => dice.below(count),
                };
                let len = 1 + dice.below((count - index).min(3));
                return Op::DeleteChildren {
                    path: c.path.clone(),
                    index: index as u32,
                    len: len as u32,
                };
            }
            38..52 => {
                if places.elements.is_empty() {
                    continue;
                }
                let (path, _) = dice.pick(&places.elements);
                return Op::SetAttribute {
                    path: path.clone(),
                    key: dice.pick(ATTRIBUTE_KEYS).to_string(),
                    value: pick_attribute_value(dice),
                };
            }
            52..57 => {
                if places.elements.is_empty() {
                    continue;
                }
                let (path, attrs) = dice.pick(&places.elements);
                let key = if !attrs.is_empty() && dice.chance(85) {
                    dice.pick(attrs).clone()
                } else {
                    dice.pick(ATTRIBUTE_KEYS).to_string()
                };
                return Op::RemoveAttribute {
                    path: path.clone(),
                    key,
                };
            }
            57..72 if !crowded => {
                if places.texts.is_empty() {
                    continue;
                }
                let (path, text) = dice.pick(&places.texts);
                return Op::TextInsert {
                    path: path.clone(),
                    index: *dice.pick(&boundaries(text)),
                    text: dice.pick(TEXTS).to_string(),
                    format: pick_insert_format(dice),
                };
            }
            72..85 => {
                let texts: Vec<_> = places.texts.iter().filter(|(_, t)| !t.is_empty()).collect();
                if texts.is_empty() {
                    continue;
                }
                let (path, text) = *dice.pick(&texts);
                let (index, len) = pick_range(dice, text);
                return Op::TextDelete {
                    path: path.clone(),
                    index,
                    len,
                };
            }
            85..100 => {
                let texts: Vec<_> = places.texts.iter().filter(|(_, t)| !t.is_empty()).collect();
                if texts.is_empty() {
                    continue;
                }
                let (path, text) = *dice.pick(&texts);
                let (index, len) = pick_range(dice, text);
                return Op::TextFormat {
                    path: path.clone(),
                    index,
                    len,
                    format: pick_format(dice, false),
                };
            }
            _ => continue,
        }
    }
}

// ---------------------------------------------------------------------------
// One randomized run
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Mix {
    /// Two `yrs` replicas and two Yjs replicas in the Node peer.
    YjsAndYrs,
    /// Three or four `yrs` replicas.
    YrsOnly,
}

#[derive(Default, Debug)]
struct Stats {
    cases: u64,
    ops: u64,
    cross_client_deletes: u64,
    delivered: u64,
    duplicated: u64,
    lost: u64,
    syncs: u64,
    final_rounds: u64,
    extra_rounds: u64,
}

struct World {
    replicas: Vec<Replica>,
    /// Updates sent to each replica and not yet delivered: (sender, update).
    inbox: Vec<Vec<(usize, Vec<u8>)>>,
    /// Every update each replica applied, its own edits included, in order.
    traces: Vec<Vec<Applied>>,
    /// Every update a local edit produced, in the order of the edits.
    local: Vec<Vec<u8>>,
    /// What happened, for the failure report.
    log: Vec<String>,
}

/// An update a replica applied, and the line of the log that says where it
/// came from.
#[derive(Clone)]
struct Applied {
    event: usize,
    update: Vec<u8>,
}

struct CaseFailure {
    seed: u64,
    message: String,
    world: World,
}

impl World {
    fn local_op(&mut self, dice: &mut Dice, i: usize, stats: &mut Stats) -> Result<(), String> {
        let r = &self.replicas[i];
        let tree = r.tree()?;
        let op = pick_op(dice, &tree, r.client_id);
        if let Op::DeleteChildren { path, index, len } = &op
            && deletes_foreign(&tree, path, *index, *len, r.client_id)
        {
            stats.cross_client_deletes += 1;
        }
        self.log.push(format!(
            "{}: {}",
            r.label,
            serde_json::to_string(&op).unwrap_or_default()
        ));
        let update = r
            .apply_op(&op)
            .map_err(|e| format!("{} failed {op:?}: {e}", r.label))?;
        stats.ops += 1;
        let Some(update) = update else {
            return Ok(());
        };
        let event = self.log.len() - 1;
        self.traces[i].push(Applied {
            event,
            update: update.clone(),
        });
        self.local.push(update.clone());
        for j in 0..self.replicas.len() {
            if j == i {
                continue;
            }
            match dice.below(100) {
                0..15 => stats.lost += 1,
                15..25 => {
                    stats.duplicated += 1;
                    self.inbox[j].push((i, update.clone()));
                    self.inbox[j].push((i, update.clone()));
                }
                _ => self.inbox[j].push((i, update.clone())),
            }
        }
        Ok(())
    }

    /// Delivers (or, if `lose`, drops) a random pending message.
    fn deliver(&mut self, dice: &mut Dice, lose: bool, stats: &mut Stats) -> Result<bool, String> {
        let busy: Vec<usize> = (0..self.replicas.len())
            .filter(|&j| !self.inbox[j].is_empty())
            .collect();
        if busy.is_empty() {
            return Ok(false);
        }
        let j = *dice.pick(&busy);
        let k = dice.below(self.inbox[j].len());
        let (from, update) = self.inbox[j].swap_remove(k);
        let (to, sender) = (&self.replicas[j].label, &self.replicas[from].label);
        if lose {
            stats.lost += 1;
            self.log.push(format!("{to} <- {sender}: lost"));
            return Ok(true);
        }
        self.log.push(format!(
            "{to} <- {sender}: update of {} bytes",
            update.len()
        ));
        stats.delivered += 1;
        let event = self.log.len() - 1;
        self.traces[j].push(Applied {
            event,
            update: update.clone(),
        });
        self.replicas[j]
            .apply(&update)
            .map_err(|e| format!("{to} failed to apply an update from {sender}: {e}"))?;
        Ok(true)
    }

    /// Sync step 1/2: `a` sends its state vector to `b` and applies the diff
    /// `b` answers with.
    fn pull(&mut self, a: usize, b: usize, stats: &mut Stats) -> Result<(), String> {
        let (ra, rb) = (&self.replicas[a], &self.replicas[b]);
        let sv = ra.state_vector()?;
        let diff = rb
            .diff(&sv)
            .map_err(|e| format!("{} failed to answer sync step 1: {e}", rb.label))?;
        self.log.push(format!(
            "{} <- {}: sync step 2 of {} bytes",
            ra.label,
            rb.label,
            diff.len()
        ));
        stats.syncs += 1;
        let event = self.log.len() - 1;
        self.traces[a].push(Applied {
            event,
            update: diff.clone(),
        });
        ra.apply(&diff).map_err(|e| {
            format!(
                "{} failed to apply sync step 2 from {}: {e}",
                ra.label, rb.label
            )
        })
    }

    fn views(&self) -> Result<Vec<Report>, String> {
        self.replicas.iter().map(Replica::report).collect()
    }
}

fn deletes_foreign(tree: &[TreeNode], path: &[u32], index: u32, len: u32, client: u64) -> bool {
    let mut nodes = tree;
    for &i in path {
        match nodes.get(i as usize) {
            Some(TreeNode::Element { children, .. }) => nodes = children,
            _ => return false,
        }
    }
    nodes
        .iter()
        .skip(index as usize)
        .take(len as usize)
        .any(|n| n.client().is_some_and(|c| c != client))
}

fn new_world(
    dice: &mut Dice,
    mix: Mix,
    peer: Option<&Rc<RefCell<NodePeer>>>,
) -> Result<World, String> {
    let mut clients: Vec<u64> = Vec::new();
    while clients.len() < 4 {
        // Small ids keep vectors readable; random ones vary who wins ties.
        let id = 1 + dice.below(999) as u64;
        if !clients.contains(&id) {
            clients.push(id);
        }
    }
    let mut replicas = Vec::new();
    match (mix, peer) {
        (Mix::YjsAndYrs, Some(peer)) => {
            // The first replica of each kind garbage-collects, so every run
            // has diffs with GC ranges going both ways.
            replicas.push(Replica::yrs(0, clients[0], true));
            replicas.push(Replica::yrs(1, clients[1], dice.chance(50)));
            replicas.push(Replica::yjs(peer, 0, clients[2], true)?);
            replicas.push(Replica::yjs(peer, 1, clients[3], dice.chance(50))?);
        }
        (Mix::YjsAndYrs, None) => return Err("the Yjs mix needs the Node peer".into()),
        (Mix::YrsOnly, _) => {
            let n = 3 + dice.below(2);
            for (i, &client) in clients.iter().enumerate().take(n) {
                replicas.push(Replica::yrs(i, client, i == 0 || dice.chance(50)));
            }
        }
    }
    let n = replicas.len();
    Ok(World {
        replicas,
        inbox: vec![Vec::new(); n],
        traces: vec![Vec::new(); n],
        local: Vec::new(),
        log: Vec::new(),
    })
}

fn run_case(
    seed: u64,
    mix: Mix,
    peer: Option<&Rc<RefCell<NodePeer>>>,
    stats: &mut Stats,
) -> Result<(), Box<CaseFailure>> {
    let mut dice = Dice::new(seed);
    let mut world = match new_world(&mut dice, mix, peer) {
        Ok(world) => world,
        Err(message) => panic!("cannot set up case {seed}: {message}"),
    };
    let labels: Vec<String> = world.replicas.iter().map(|r| r.label.clone()).collect();
    world.log.push(format!("replicas: {}", labels.join(", ")));
    match drive(&mut dice, &mut world, stats) {
        Ok(()) => {
            stats.cases += 1;
            Ok(())
        }
        Err(message) => Err(Box::new(CaseFailure {
            seed,
            message,
            world,
        })),
    }
}

fn drive(dice: &mut Dice, world: &mut World, stats: &mut Stats) -> Result<(), String> {
    let n = world.replicas.len();
    let steps = 10 + dice.below(50);
    for _ in 0..steps {
        let roll = dice.below(100);
        if roll < 45 || (roll < 85 && world.inbox.iter().all(Vec::is_empty)) {
            let i = dice.below(n);
            world.local_op(dice, i, stats)?;
        } else if roll < 85 {
            world.deliver(dice, false, stats)?;
        } else {
            let a = dice.below(n);
            let b = (a + 1 + dice.below(n - 1)) % n;
            world.pull(a, b, stats)?;
            if dice.chance(50) {
                world.pull(b, a, stats)?;
            }
        }
    }
    // Whatever is still in flight arrives late or never.
    loop {
        let lose = dice.chance(40);
        if !world.deliver(dice, lose, stats)? {
            break;
        }
    }
    world.log.push("full sync".into());
    let mut pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect();
    let mut reports = Vec::new();
    for round in 0..MAX_SYNC_ROUNDS {
        dice.shuffle(&mut pairs);
        for &(a, b) in &pairs {
            world.pull(a, b, stats)?;
        }
        stats.final_rounds += 1;
        if round >= 2 {
            stats.extra_rounds += 1;
        }
        reports = world.views()?;
        if round >= 1
            && reports
                .iter()
                .all(|r| r.view == reports[0].view && !r.view.pending)
        {
            break;
        }
    }
    check_converged(world, &reports)
}

/// Every replica shows the same thing, and its full state loads into fresh
/// replicas of both implementations with that same result.
fn check_converged(world: &World, reports: &[Report]) -> Result<(), String> {
    let mut problems = Vec::new();
    let first = &world.replicas[0];
    let expected = View {
        pending: false,
        ..reports[0].view.clone()
    };
    for (replica, report) in world.replicas.iter().zip(reports) {
        if report.view != expected {
            problems.push(format!(
                "{} shows {:?}\n  but {} shows {:?}",
                replica.label, report.view, first.label, reports[0].view
            ));
        }
    }
    let peer = world.replicas.iter().find_map(|r| match &r.backend {
        Backend::Yjs { peer, .. } => Some(peer.clone()),
        Backend::Yrs(_) => None,
    });
    for (replica, report) in world.replicas.iter().zip(reports) {
        let full = std::slice::from_ref(&report.full_state);
        let mut loads = vec![("yrs", yrs_replay(full, true))];
        if let Some(peer) = &peer {
            loads.push(("Yjs", peer.borrow_mut().replay(full, true)));
        }
        for (kind, loaded) in loads {
            match loaded {
                Ok(loaded) if loaded.view == report.view && !loaded.view.pending => {}
                Ok(loaded) => problems.push(format!(
                    "{}'s full state loads into a fresh {kind} replica as {:?}\n  but {} shows {:?}",
                    replica.label, loaded.view, replica.label, report.view
                )),
                Err(e) => problems.push(format!(
                    "{}'s full state does not load into a fresh {kind} replica: {e}",
                    replica.label
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

// ---------------------------------------------------------------------------
// Shrinking a failure to a regression vector
// ---------------------------------------------------------------------------

/// What kind of thing went wrong, so shrinking keeps chasing the same bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    /// `yrs` returned an error or panicked applying the updates.
    Apply,
    /// `yrs` shows something else than expected after the updates.
    View,
    /// `yrs`' full state does not load as expected into a fresh replica.
    FullState,
    /// `yrs`' full state taken half-way (with data still pending), followed
    /// by the rest of the updates, does not load as expected.
    Relay,
}

/// Everything wrong with a fresh `yrs` replica applying `updates` in order,
/// measured against `expected` (what Yjs shows after the same updates).
///
/// With `relay_at: Some(n)`, also: a `yrs` replica that applied only the
/// first `n` updates encodes its full state, and fresh replicas that load
/// that state and then the remaining updates must end as `expected`. This is
/// what a relaying server does, and it catches encodings of pending data.
/// The Yjs side of the checks runs only with a Node peer.
fn yrs_problems(
    mut peer: Option<&mut NodePeer>,
    updates: &[Vec<u8>],
    relay_at: Option<usize>,
    gc: bool,
    expected: &View,
) -> Vec<(Problem, String)> {
    let mut problems = Vec::new();
    let mut loads: Vec<(Problem, String, Result<Report, String>)> = Vec::new();
    match yrs_replay(updates, gc) {
        Ok(got) => {
            if got.view != *expected {
                problems.push((
                    Problem::View,
                    format!("yrs shows {:?}, expected {expected:?}", got.view),
                ));
            }
            let full = std::slice::from_ref(&got.full_state);
            loads.push((
                Problem::FullState,
                "yrs' full state in a fresh yrs replica".into(),
                yrs_replay(full, true),
            ));
            if let Some(peer) = peer.as_deref_mut() {
                loads.push((
                    Problem::FullState,
                    "yrs' full state in a fresh Yjs replica".into(),
                    peer.replay(full, true),
                ));
            }
        }
        Err(e) => problems.push((Problem::Apply, format!("yrs cannot apply the updates: {e}"))),
    }
    if let Some(n) = relay_at.filter(|&n| n < updates.len()) {
        match yrs_replay(&updates[..n], gc) {
            Ok(part) => {
                let relayed: Vec<Vec<u8>> = std::iter::once(part.full_state)
                    .chain(updates[n..].iter().cloned())
                    .collect();
                let what = |kind: &str| {
                    format!(
                        "the full state of yrs after {n} updates, then the other {}, in a fresh \
                         {kind} replica",
                        updates.len() - n
                    )
                };
                loads.push((Problem::Relay, what("yrs"), yrs_replay(&relayed, true)));
                if let Some(peer) = peer {
                    loads.push((Problem::Relay, what("Yjs"), peer.replay(&relayed, true)));
                }
            }
            Err(e) => problems.push((
                Problem::Apply,
                format!("yrs cannot apply the first {n} updates: {e}"),
            )),
        }
    }
    for (problem, what, loaded) in loads {
        match loaded {
            Ok(loaded) if loaded.view == *expected => {}
            Ok(loaded) => problems.push((
                problem,
                format!("{what} shows {:?}, expected {expected:?}", loaded.view),
            )),
            Err(e) => problems.push((problem, format!("{what} fails: {e}"))),
        }
    }
    problems
}

/// Delta debugging: a 1-minimal subsequence of `items` on which `fails`
/// still holds (it must hold on `items`).
fn ddmin<T: Clone>(mut items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut n = 2;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let mut reduced = false;
        for start in (0..items.len()).step_by(chunk) {
            let end = (start + chunk).min(items.len());
            let complement: Vec<T> = items[..start]
                .iter()
                .chain(&items[end..])
                .cloned()
                .collect();
            if fails(&complement) {
                items = complement;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (2 * n).min(items.len());
        }
    }
    items
}

/// A regression vector, in the format of `tests/regressions/*.json`.
#[derive(Debug, Deserialize, serde::Serialize)]
struct Vector {
    description: String,
    fragment: String,
    apply_in_order_v1_base64: Vec<String>,
    expected: Expected,
    reference_full_state_v1_base64: String,
    /// Whether the `yrs` replica garbage-collects; vectors without the field
    /// are for a collecting replica (the default of `yrs` and Yjs).
    #[serde(default = "default_gc", skip_serializing_if = "is_true")]
    gc: bool,
    /// If set to `n`: a `yrs` replica that applied the first `n` updates
    /// encodes its full state (with whatever it still holds pending); fresh
    /// Yjs and `yrs` replicas that load it and then apply the remaining
    /// updates must also end as `expected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    relay_full_state_after: Option<usize>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct Expected {
    xml: String,
    state_vector: BTreeMap<String, u64>,
    pending: bool,
}

fn default_gc() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Shrinks failures with Yjs as the reference. It knows the truth of a run
/// (the document all local edits make, in Yjs) so that it never blames
/// `yrs` for what it did with a corrupt update some other replica sent.
struct Shrinker<'p> {
    peer: &'p mut NodePeer,
    /// Whether the peer holds the truth; without it nothing counts as corrupt.
    has_truth: bool,
    /// How each update seen so far contradicts the truth, if it does.
    corrupt: HashMap<Vec<u8>, Option<String>>,
}

impl<'p> Shrinker<'p> {
    fn new(peer: &'p mut NodePeer, local: &[Vec<u8>]) -> Self {
        let updates: Vec<String> = local.iter().map(|u| BASE64.encode(u)).collect();
        let has_truth = peer
            .call(json!({"cmd": "truth", "updates": updates}))
            .is_ok();
        Shrinker {
            peer,
            has_truth,
            corrupt: HashMap::new(),
        }
    }

    /// How each of `updates` contradicts the truth, if it does.
    fn corruption(&mut self, updates: &[Vec<u8>]) -> Vec<Option<String>> {
        if !self.has_truth {
            return vec![None; updates.len()];
        }
        let unknown: Vec<&Vec<u8>> = updates
            .iter()
            .filter(|u| !self.corrupt.contains_key(*u))
            .collect();
        if !unknown.is_empty() {
            let encoded: Vec<String> = unknown.iter().map(|u| BASE64.encode(u)).collect();
            let verdicts = self
                .peer
                .call(json!({"cmd": "validate", "updates": encoded}))
                .ok()
                .and_then(|reply| reply.get("corrupt").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            for (i, update) in unknown.into_iter().enumerate() {
                let verdict = verdicts.get(i).and_then(Value::as_str).map(str::to_owned);
                self.corrupt.insert(update.clone(), verdict);
            }
        }
        updates
            .iter()
            .map(|u| self.corrupt.get(u).cloned().flatten())
            .collect()
    }

    /// The problems of `yrs` on `updates`, with Yjs applying the same
    /// updates as the reference; none if an update is corrupt (garbage in)
    /// or Yjs is left with something pending (an incomplete sequence says
    /// nothing). Also returns the sequence `yrs` was checked on: `updates`
    /// followed by the formatting cleanups the Yjs reference made on its own,
    /// which a `yrs` replica needs to show the same thing.
    fn deviation(
        &mut self,
        updates: &[Vec<u8>],
        relay_at: Option<usize>,
        gc: bool,
    ) -> (Vec<(Problem, String)>, Vec<Vec<u8>>) {
        if self.corruption(updates).iter().any(Option::is_some) {
            return (Vec::new(), updates.to_vec());
        }
        match self.peer.replay(updates, gc) {
            Ok(reference) if !reference.view.pending => {
                let checked: Vec<Vec<u8>> =
                    updates.iter().chain(&reference.cleanup).cloned().collect();
                let problems = yrs_problems(
                    Some(&mut *self.peer),
                    &checked,
                    relay_at,
                    gc,
                    &reference.view,
                );
                (problems, checked)
            }
            _ => (Vec::new(), updates.to_vec()),
        }
    }

    /// The first update of the run, in log order, that contradicts the truth.
    fn first_corrupt(&mut self, world: &World) -> Option<String> {
        let mut applied: Vec<(usize, &str, &Vec<u8>)> = world
            .replicas
            .iter()
            .zip(&world.traces)
            .flat_map(|(r, trace)| trace.iter().map(|a| (a.event, r.label.as_str(), &a.update)))
            .collect();
        applied.sort_by_key(|(event, _, _)| *event);
        let updates: Vec<Vec<u8>> = applied.iter().map(|(_, _, u)| (*u).clone()).collect();
        let verdicts = self.corruption(&updates);
        applied
            .iter()
            .zip(verdicts)
            .find_map(|((event, _, _), verdict)| {
                let line = world.log.get(*event).map_or("?", String::as_str);
                verdict.map(|why| format!("event #{event} `{line}`: {why}"))
            })
    }
}

/// Shrinks what every misbehaving `yrs` replica applied and writes each
/// result as a vector; returns a summary per replica.
///
/// A replica's whole trace is often useless as it stands: once one replica
/// sends a corrupt update, the traces of those that received it are garbage
/// in. So the search starts from the shortest prefix of the trace after
/// which `yrs` goes wrong on correct updates only, completed by every local
/// edit of the run (so Yjs is not left waiting), and shrinks that.
fn shrink_failure(failure: &CaseFailure, peer: &mut NodePeer) -> Vec<String> {
    let mut summaries = Vec::new();
    let local = &failure.world.local;
    let mut shrinker = Shrinker::new(peer, local);
    if !shrinker.has_truth {
        summaries.push(
            "the run's local edits do not make a complete Yjs document: a local update is \
             broken, and corrupt updates cannot be told apart"
                .into(),
        );
    }
    match shrinker.first_corrupt(&failure.world) {
        Some(first) => summaries.push(format!("first corrupt update: {first}")),
        None if shrinker.has_truth => {
            summaries.push("no replica applied a corrupt update".into());
        }
        None => {}
    }
    for (replica, trace) in failure.world.replicas.iter().zip(&failure.world.traces) {
        if !replica.is_yrs() {
            continue;
        }
        let trace: Vec<Vec<u8>> = trace.iter().map(|a| a.update.clone()).collect();
        // Prefer a vector for a collecting replica, the common configuration.
        let mut gcs = vec![true];
        if !replica.gc {
            gcs.push(false);
        }
        let start = gcs.iter().find_map(|&gc| {
            (0..=trace.len()).find_map(|k| {
                let candidate: Vec<Vec<u8>> = trace[..k].iter().chain(local).cloned().collect();
                let (problems, _) = shrinker.deviation(&candidate, Some(k), gc);
                let first = problems.first()?.0;
                // Items remember which side of the relay point they are on.
                let tagged: Vec<(bool, Vec<u8>)> = candidate
                    .into_iter()
                    .enumerate()
                    .map(|(i, u)| (i >= k, u))
                    .collect();
                Some((gc, k, first, tagged))
            })
        });
        let Some((gc, prefix, kind, tagged)) = start else {
            summaries.push(format!(
                "{}: no prefix of its {} updates (completed by the run's local edits) makes \
                 yrs deviate from Yjs on correct updates (no vector)",
                replica.label,
                trace.len()
            ));
            continue;
        };
        let started = Instant::now();
        let before = tagged.len();
        let split = |items: &[(bool, Vec<u8>)]| {
            let n = items.iter().filter(|(after, _)| !after).count();
            let updates: Vec<Vec<u8>> = items.iter().map(|(_, u)| u.clone()).collect();
            (updates, n)
        };
        let minimal = ddmin(tagged, |candidate| {
            let (updates, n) = split(candidate);
            shrinker
                .deviation(&updates, Some(n), gc)
                .0
                .iter()
                .any(|(problem, _)| *problem == kind)
        });
        let (updates, n) = split(&minimal);
        // Keep the relay step only if the vector needs it.
        let direct = shrinker.deviation(&updates, None, gc);
        let ((problems, updates), relay) = if direct.0.iter().any(|(p, _)| *p == kind) {
            (direct, None)
        } else {
            (shrinker.deviation(&updates, Some(n), gc), Some(n))
        };
        let Some((_, why)) = problems.iter().find(|(p, _)| *p == kind) else {
            continue;
        };
        // `updates` now ends with the reference's own formatting cleanups, if
        // it made any; Yjs replaying them all must show the same.
        let Ok(reference) = shrinker.peer.replay(&updates, gc) else {
            continue;
        };
        let vector = Vector {
            description: format!(
                "Found by yjs_yrs_convergence (seed {}, replica {}, first {prefix} of its {} \
                 updates + the run's {} local edits); shrunk from {before} to {} updates. {why}",
                failure.seed,
                replica.label,
                trace.len(),
                local.len(),
                updates.len()
            ),
            fragment: FRAGMENT.into(),
            apply_in_order_v1_base64: updates.iter().map(|u| BASE64.encode(u)).collect(),
            expected: Expected {
                xml: reference.view.xml.clone(),
                state_vector: reference
                    .view
                    .state_vector
                    .iter()
                    .map(|(c, k)| (c.to_string(), *k))
                    .collect(),
                pending: false,
            },
            reference_full_state_v1_base64: BASE64.encode(&reference.full_state),
            gc,
            relay_full_state_after: relay,
        };
        let dir = failure_dir();
        let path = dir.join(format!("seed-{}-{}.json", failure.seed, replica.label));
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            let text = serde_json::to_string_pretty(&vector).map_err(std::io::Error::other)?;
            std::fs::write(&path, text + "\n")
        });
        summaries.push(format!(
            "{}: {kind:?} problem, shrunk {before} -> {} updates in {:.1?}: {why}\n  vector: {}{}",
            replica.label,
            updates.len(),
            started.elapsed(),
            path.display(),
            match written {
                Ok(()) => String::new(),
                Err(e) => format!(" (not written: {e})"),
            }
        ));
    }
    summaries
}

fn failure_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("yjs_yrs_convergence")
}

/// Writes what every replica of a failed case applied, in order, for
/// digging further with `peers/yjs-peer.mjs` (`replay`) or `yrs`.
fn dump_traces(failure: &CaseFailure) -> std::io::Result<PathBuf> {
    let replicas: Vec<Value> = failure
        .world
        .replicas
        .iter()
        .zip(&failure.world.traces)
        .map(|(r, trace)| {
            json!({
                "label": r.label,
                "client_id": r.client_id,
                "gc": r.gc,
                "applied_in_order": trace
                    .iter()
                    .map(|a| json!({"event": a.event, "update_v1_base64": BASE64.encode(&a.update)}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let dump = json!({
        "seed": failure.seed,
        "failure": failure.message,
        "log": failure.world.log,
        "replicas": replicas,
    });
    let dir = failure_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("seed-{}-traces.json", failure.seed));
    let text = serde_json::to_string_pretty(&dump).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}

/// Runs `cases` cases from `base`; on failure shrinks it and panics with the
/// seed to replay. With `ATELIER_KEEP_GOING` it collects every failing case
/// before panicking.
fn run_cases(test: &str, mix: Mix, default_cases: u64, peer: Option<Rc<RefCell<NodePeer>>>) {
    let base = base_seed();
    let cases = env_cases(default_cases);
    let keep_going = env_flag("ATELIER_KEEP_GOING");
    println!(
        "{test}: seeds {base}..{} ({cases} cases); replay one with ATELIER_SEED=<seed> ATELIER_CASES=1",
        base + cases
    );
    // The pure-yrs variant needs Yjs only to shrink a failure.
    let mut shrink_peer = peer.clone();
    let mut spawned = shrink_peer.is_some();
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    for seed in base..base + cases {
        let Err(failure) = run_case(seed, mix, peer.as_ref(), &mut stats) else {
            continue;
        };
        let tail: Vec<&str> = failure
            .world
            .log
            .iter()
            .rev()
            .take(60)
            .rev()
            .map(String::as_str)
            .collect();
        let mut report = format!(
            "case seed {seed} failed: {}\nlast events:\n  {}",
            failure.message,
            tail.join("\n  ")
        );
        match dump_traces(&failure) {
            Ok(path) => report.push_str(&format!("\ntraces: {}", path.display())),
            Err(e) => report.push_str(&format!("\ntraces not written: {e}")),
        }
        if !spawned {
            spawned = true;
            shrink_peer = NodePeer::spawn().ok().map(|p| Rc::new(RefCell::new(p)));
        }
        match &shrink_peer {
            Some(p) if !env_flag("ATELIER_NO_SHRINK") => {
                let summaries = shrink_failure(&failure, &mut p.borrow_mut());
                report.push_str("\nshrinking:\n  ");
                report.push_str(&summaries.join("\n  "));
            }
            _ => report.push_str("\n(not shrunk: no Node peer, or ATELIER_NO_SHRINK is set)"),
        }
        println!("{report}\n");
        let first_line = failure.message.lines().next().unwrap_or_default();
        failures.push(format!("seed {seed}: {first_line}"));
        if !keep_going {
            break;
        }
    }
    println!("{test}: {stats:?} in {:.1?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{test}: {} failing case(s), details above; replay one with ATELIER_SEED=<seed> \
         ATELIER_CASES=1\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn yjs_and_yrs_replicas_converge() {
    let peer = match NodePeer::spawn() {
        Ok(peer) => Rc::new(RefCell::new(peer)),
        Err(reason) => {
            println!("SKIPPED: yjs_yrs_convergence ({reason})");
            return;
        }
    };
    run_cases(
        "yjs_and_yrs_replicas_converge",
        Mix::YjsAndYrs,
        DEFAULT_NODE_CASES,
        Some(peer),
    );
}

#[test]
fn yrs_replicas_converge() {
    run_cases(
        "yrs_replicas_converge",
        Mix::YrsOnly,
        DEFAULT_YRS_CASES,
        None,
    );
}

// ---------------------------------------------------------------------------
// Regression vectors, one named test per thing that broke
// ---------------------------------------------------------------------------

/// Checks a regression vector: a fresh `yrs` replica applying its updates
/// in order ends as Yjs did, its full state loads into fresh replicas with
/// that same result (and so does the relayed state, if the vector has a
/// relay point), and the Yjs reference full state loads into `yrs` as
/// expected. The Yjs side of the checks runs when the Node peer is available.
fn check_vector(json: &str) {
    let vector: Vector = serde_json::from_str(json).expect("a regression vector");
    assert_eq!(vector.fragment, FRAGMENT, "vectors edit the `xml` fragment");
    let decode = |text: &String| BASE64.decode(text).expect("base64 in the vector");
    let updates: Vec<Vec<u8>> = vector.apply_in_order_v1_base64.iter().map(decode).collect();
    let expected = View {
        xml: vector.expected.xml.clone(),
        state_vector: vector
            .expected
            .state_vector
            .iter()
            .map(|(c, k)| (c.parse().expect("client id"), *k))
            .collect(),
        pending: vector.expected.pending,
    };
    let mut peer = match NodePeer::spawn() {
        Ok(peer) => Some(peer),
        Err(reason) => {
            println!("(Yjs checks skipped: {reason})");
            None
        }
    };
    let mut problems: Vec<String> = yrs_problems(
        peer.as_mut(),
        &updates,
        vector.relay_full_state_after,
        vector.gc,
        &expected,
    )
    .into_iter()
    .map(|(_, why)| why)
    .collect();
    let reference = decode(&vector.reference_full_state_v1_base64);
    match yrs_replay(std::slice::from_ref(&reference), true) {
        Ok(loaded) if loaded.view == expected => {}
        Ok(loaded) => problems.push(format!(
            "the Yjs full state in a fresh yrs replica shows {:?}, expected {expected:?}",
            loaded.view
        )),
        Err(e) => problems.push(format!("the Yjs full state does not load into yrs: {e}")),
    }
    if let Some(peer) = peer.as_mut() {
        match peer.replay(&updates, vector.gc) {
            Ok(yjs) if yjs.view == expected => {}
            other => panic!("the vector is wrong: Yjs applying its updates gives {other:?}"),
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n{}",
        vector.description,
        problems.join("\n")
    );
}

/// The vector of `/work/shared/data/yrs-regressions/`: an out-of-order
/// update integrated behind a skip placeholder, then the missing clocks
/// arrive as one GC range; the full state then encodes a wrapped skip length.
#[test]
fn gc_range_over_out_of_order_skip_keeps_full_state_loadable() {
    check_vector(include_str!("regressions/gc-range-after-out-of-order.json"));
}

/// A GC range that starts at a skip placeholder and runs past the item held
/// behind it, up to clocks the replica never saw (seed 1460).
#[test]
fn gc_range_running_past_an_out_of_order_item_is_integrated() {
    check_vector(include_str!(
        "regressions/gc-range-past-out-of-order-item.json"
    ));
}

/// A diff whose items fill the start of a skip placeholder and whose GC range
/// starts inside it and runs over the held item and beyond (seed 1279).
#[test]
fn gc_range_starting_inside_a_skip_is_integrated() {
    check_vector(include_str!("regressions/gc-range-from-inside-skip.json"));
}

/// Pending out-of-order ranges of one client must keep their clocks when a
/// replica encodes its state: `yrs` 0.28.1 shifts them, and every replica
/// that loads the state (or a sync step 2 diff) waits forever (seed 6969).
#[test]
fn full_state_with_pending_out_of_order_ranges_keeps_their_clocks() {
    check_vector(include_str!(
        "regressions/pending-out-of-order-ranges-keep-their-clocks.json"
    ));
}

#[test]
fn xml_of_yrs_matches_yjs_to_string() {
    // The harness compares its own rendering of a yrs fragment with Yjs'
    // `toString()`: check the rendering on formatted text and mixed
    // attribute values, independent of any sync.
    let replica = YrsReplica::new(1, true);
    let ops = [
        Op::InsertElement {
            path: vec![],
            index: 0,
            name: "p".into(),
        },
        Op::SetAttribute {
            path: vec![0],
            key: "b".into(),
            value: json!(2.5),
        },
        Op::SetAttribute {
            path: vec![0],
            key: "a".into(),
            value: json!(7),
        },
        Op::SetAttribute {
            path: vec![0],
            key: "c".into(),
            value: json!(false),
        },
        Op::InsertText {
            path: vec![0],
            index: 0,
            text: "héllo😀".into(),
            format: Some(json!({"bold": true})),
        },
        Op::TextFormat {
            path: vec![0, 0],
            index: 1,
            len: 2,
            format: json!({"link": {"href": "u"}, "italic": true}),
        },
        Op::TextInsert {
            path: vec![0, 0],
            index: 7,
            text: "!".into(),
            format: Some(json!({})),
        },
    ];
    for op in &ops {
        replica.apply_op(op).expect("valid op");
    }
    let xml = replica.report().view.xml;
    assert_eq!(
        xml,
        "<p a=\"7\" b=\"2.5\" c=\"false\"><bold>h</bold>\
         <bold><italic><link href=\"u\">él</link></italic></bold><bold>lo😀</bold>!</p>"
    );
    if let Ok(mut peer) = NodePeer::spawn() {
        let yjs = peer
            .replay(std::slice::from_ref(&replica.report().full_state), true)
            .expect("Yjs loads it");
        assert_eq!(yjs.view.xml, xml);
    }
}

#[test]
fn harness_picks_valid_ops_on_both_sides() {
    // A yrs and a Yjs replica take turns making random edits and exchange
    // each update at once: no edit may be rejected as invalid, and both must
    // render the same XML after every step. Without Node, only yrs runs.
    let peer = NodePeer::spawn().ok().map(|p| Rc::new(RefCell::new(p)));
    let mut dice = Dice::new(7);
    let mut replicas = vec![Replica::yrs(0, 11, true)];
    if let Some(peer) = &peer {
        replicas.push(Replica::yjs(peer, 0, 12, true).expect("create a Yjs replica"));
    }
    for step in 0..300 {
        let (from, to) = (step % replicas.len(), (step + 1) % replicas.len());
        let r = &replicas[from];
        let tree = r.tree().expect("tree");
        let op = pick_op(&mut dice, &tree, r.client_id);
        let update = r
            .apply_op(&op)
            .unwrap_or_else(|e| panic!("step {step}: {} rejects {op:?}: {e}", r.label));
        if from == to {
            continue;
        }
        if let Some(update) = update {
            replicas[to].apply(&update).expect("apply");
        }
        let (a, b) = (
            replicas[0].report().expect("report"),
            replicas[1].report().expect("report"),
        );
        assert_eq!(a.view, b.view, "step {step}: after {op:?} on {}", r.label);
    }
}
