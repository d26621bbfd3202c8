//! Replaying real editing traces through the model.
//!
//! The traces are those of the public data set `josephg/editing-traces`:
//! keystroke-by-keystroke histories, each with the text it must end at.
//! Two formats exist:
//!
//! - **sequential** (`{startContent, endContent, txns: [{time, patches}]}`):
//!   one editor, every patch applies to the text left by the previous one;
//! - **concurrent** (`{kind: "concurrent", endContent, numAgents, txns:
//!   [{parents, numChildren, agent, patches}]}`): a transaction applies to the
//!   merge of the states after its `parents`.
//!
//! A patch is `[position, deleted, inserted]` in **Unicode scalar values**;
//! the patches of one transaction apply in sequence (they come in descending
//! position order). Replays convert positions to UTF-16 with a
//! [`ScalarIndex`] and edit one block of a [`Document`] through its public
//! text operations, one yrs transaction per deletion or insertion.
//!
//! The block is a `codeBlock` by default: its text is one `Y.XmlText` in
//! which `\n` is a character, the faithful mapping of a plain-text trace
//! onto BlockNote's schema. [`BlockKind::Paragraph`] replays into a paragraph
//! instead, where every `\n` becomes a `hardBreak` element between text
//! nodes; that path costs `O(lines)` per edit in the model and, because a
//! break inserted inside a line moves the line's tail to a new text node, it
//! does not converge under concurrency (see the tests).
//!
//! ```
//! use atelier_doc::trace::{ReplayOptions, Trace, replay};
//! let json = r#"{"startContent": "", "endContent": "hé😀!",
//!               "txns": [{"time": "2021-01-01T00:00:00Z", "patches": [[0, 0, "hé!"]]},
//!                        {"time": "2021-01-01T00:00:01Z", "patches": [[2, 0, "😀"]]}]}"#;
//! let trace = Trace::from_json(json).unwrap();
//! let done = replay(&trace, &ReplayOptions::default()).unwrap();
//! assert_eq!(done.text, "hé😀!");
//! assert!(done.mismatch(trace.end_content()).is_none());
//! ```

use crate::block::{BlockId, NewBlock};
use crate::document::{Document, Placement, content_node};
use crate::error::{Error, Result};
use crate::schema::block_type;
use crate::unicode_offsets::ScalarIndex;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Transact, Update, XmlFragment, XmlTextPrelim};

#[path = "trace_format.rs"]
mod format;
pub use format::{
    ConcurrentTrace, ConcurrentTxn, Patch, SequentialTrace, SequentialTxn, Trace, TraceKind,
};

/// Which block the trace's text is replayed into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BlockKind {
    /// A `codeBlock`: one `Y.XmlText`, `\n` is a character.
    #[default]
    CodeBlock,
    /// A `paragraph`: every `\n` is a `hardBreak` element between text nodes.
    Paragraph,
}

/// How to replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// The block the text lives in.
    pub block: BlockKind,
    /// Replay only the first this many transactions (all when `None`).
    pub max_txns: Option<usize>,
}

/// Counters from one replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayStats {
    /// Trace transactions replayed.
    pub txns: usize,
    /// Patches replayed.
    pub patches: usize,
    /// Scalars inserted.
    pub inserted: u64,
    /// Scalars deleted.
    pub deleted: u64,
    /// yrs transactions that edited text (one per non-empty deletion or insertion).
    pub local_transactions: u64,
    /// Concurrent only: transactions before which the agent merged others' work.
    pub merges: usize,
    /// Concurrent only: updates of other agents' transactions applied in merges.
    pub merged_updates: usize,
    /// Length of the final text in Unicode scalars.
    pub final_scalar_len: u32,
    /// Length of the final text in UTF-16 units.
    pub final_utf16_len: u32,
}

/// The outcome of a replay: the final document, its text and counters.
#[derive(Debug)]
pub struct Replay {
    /// Which format was replayed.
    pub kind: TraceKind,
    /// The final document (for a concurrent trace: all replicas merged).
    pub document: Document,
    /// The block holding the text.
    pub block: BlockId,
    /// The final text.
    pub text: String,
    /// Counters.
    pub stats: ReplayStats,
}

impl Replay {
    /// Where the final text first differs from `expected`, if it does.
    pub fn mismatch(&self, expected: &str) -> Option<Mismatch> {
        first_mismatch(expected, &self.text)
    }
}

/// Where a replayed text first differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    /// Scalar offset of the first difference.
    pub position: usize,
    /// Line (1-based) of that offset in the expected text.
    pub line: usize,
    /// Column (1-based, in scalars) of that offset in the expected text.
    pub column: usize,
    /// Length of the expected text in scalars.
    pub expected_len: usize,
    /// Length of the replayed text in scalars.
    pub actual_len: usize,
    /// The expected text around the difference.
    pub expected_context: String,
    /// The replayed text around the difference.
    pub actual_context: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "texts differ at scalar {} (line {}, column {}): expected {:?}, got {:?} \
             (lengths: expected {}, got {})",
            self.position,
            self.line,
            self.column,
            self.expected_context,
            self.actual_context,
            self.expected_len,
            self.actual_len
        )
    }
}

/// Scalars of context shown on each side of a difference.
const CONTEXT: usize = 24;

/// Where `actual` first differs from `expected`, with context, if it does.
pub fn first_mismatch(expected: &str, actual: &str) -> Option<Mismatch> {
    if expected == actual {
        return None;
    }
    let e: Vec<char> = expected.chars().collect();
    let a: Vec<char> = actual.chars().collect();
    let position = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let before = &e[..position];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = position - before.iter().rposition(|&c| c == '\n').map_or(0, |p| p + 1) + 1;
    let window = |s: &[char]| -> String {
        let lo = position.saturating_sub(CONTEXT);
        let hi = (position + CONTEXT).min(s.len());
        s.get(lo..hi)
            .map(|w| w.iter().collect())
            .unwrap_or_default()
    };
    Some(Mismatch {
        position,
        line,
        column,
        expected_len: e.len(),
        actual_len: a.len(),
        expected_context: window(&e),
        actual_context: window(&a),
    })
}

/// Replays a trace of either format.
pub fn replay(trace: &Trace, options: &ReplayOptions) -> Result<Replay> {
    match trace {
        Trace::Sequential(t) => replay_sequential(t, options),
        Trace::Concurrent(t) => replay_concurrent(t, options),
    }
}

/// Client id of the replica that replays a sequential trace.
const SEQUENTIAL_CLIENT: u64 = 1;
/// Client id of the replica that writes the shared block of a concurrent
/// replay; agent `a` edits as client `a + 1`.
const GENESIS_CLIENT: u64 = 0x7fff_0000;
/// Client id of the document into which all replicas are finally merged.
const MERGE_CLIENT: u64 = 0x7fff_0001;
/// Bound on agents × transactions: a concurrent replay keeps one version
/// counter per agent for every transaction (and per replica).
const MAX_VERSION_ENTRIES: usize = 1 << 26;

/// Replays a sequential trace into one block of one document.
pub fn replay_sequential(trace: &SequentialTrace, options: &ReplayOptions) -> Result<Replay> {
    let document = Document::with_client_id(SEQUENTIAL_CLIENT);
    let block = create_block(&document, options.block, &trace.start_content)?;
    let mut index = ScalarIndex::from_text(&trace.start_content);
    let mut stats = ReplayStats::default();
    let limit = options.max_txns.unwrap_or(usize::MAX);
    for (i, txn) in trace.txns.iter().enumerate().take(limit) {
        for (j, patch) in txn.patches.iter().enumerate() {
            apply_patch(&document, &block, &mut index, patch, &mut stats)
                .map_err(|e| at_patch(i, j, patch, e))?;
        }
        stats.txns += 1;
    }
    finish(TraceKind::Sequential, document, block, stats)
}

/// Replays a sequential trace with every patch inside ONE yrs transaction:
/// the whole history committed at once, as a bulk edit (or an undo of a
/// long session) would be. Same block and edits as [`replay_sequential`].
pub fn replay_sequential_one_transaction(
    trace: &SequentialTrace,
    options: &ReplayOptions,
) -> Result<Replay> {
    let document = Document::with_client_id(SEQUENTIAL_CLIENT);
    let block = create_block(&document, options.block, &trace.start_content)?;
    let mut index = ScalarIndex::from_text(&trace.start_content);
    let mut stats = ReplayStats::default();
    let limit = options.max_txns.unwrap_or(usize::MAX);
    {
        let mut txn = document.ydoc().transact_mut();
        for (i, t) in trace.txns.iter().enumerate().take(limit) {
            for (j, patch) in t.patches.iter().enumerate() {
                apply_patch_in(&document, &mut txn, &block, &mut index, patch, &mut stats)
                    .map_err(|e| at_patch(i, j, patch, e))?;
            }
            stats.txns += 1;
        }
    }
    stats.local_transactions = 1;
    finish(TraceKind::Sequential, document, block, stats)
}

/// Writes `text` as one insertion into the empty text of a fresh block: a
/// paste of the whole text in one transaction.
pub fn paste(text: &str, options: &ReplayOptions) -> Result<Replay> {
    let document = Document::with_client_id(SEQUENTIAL_CLIENT);
    let block = create_block(&document, options.block, "")?;
    document.insert_text(&block, 0, text)?;
    let stats = ReplayStats {
        patches: 1,
        inserted: text.chars().count() as u64,
        local_transactions: 1,
        ..ReplayStats::default()
    };
    finish(TraceKind::Sequential, document, block, stats)
}

/// A document whose block holds `text` repeated `times` times, written as
/// `times` insertions at the end (one transaction each): the large
/// document whose load `bench crdt` times.
pub fn repeated_document(
    text: &str,
    times: u32,
    options: &ReplayOptions,
) -> Result<(Document, BlockId)> {
    let document = Document::with_client_id(SEQUENTIAL_CLIENT);
    let block = create_block(&document, options.block, "")?;
    let step = u32::try_from(text.encode_utf16().count())
        .map_err(|_| Error::InvalidOperation("text too long".into()))?;
    for i in 0..times {
        let at = step
            .checked_mul(i)
            .ok_or_else(|| Error::InvalidOperation("repeated text too long".into()))?;
        document.insert_text(&block, at, text)?;
    }
    Ok((document, block))
}

/// One agent's replica in a concurrent replay.
struct Replica {
    document: Document,
    index: ScalarIndex,
    /// Per agent, how many of its transactions this replica holds (a prefix
    /// of that agent's transactions, since each agent edits sequentially).
    version: Vec<u32>,
    /// Updates this replica's document emitted since the sink was last drained.
    sink: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Replica {
    fn new(agent: usize, agents: usize, genesis: &[u8]) -> Result<Replica> {
        let document = Document::with_client_id(agent as u64 + 1);
        document.apply_update_v1(genesis)?;
        let sink: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let writer = Arc::clone(&sink);
        document
            .ydoc()
            .observe_update_v1("atelier-trace-replay", move |_, e| {
                writer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(e.update.clone());
            })
            .map_err(|e| Error::InvalidOperation(format!("cannot observe updates: {e}")))?;
        Ok(Replica {
            document,
            index: ScalarIndex::new(),
            version: vec![0; agents],
            sink,
        })
    }

    fn drain(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.sink.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Replays a concurrent trace with one replica per agent.
///
/// Before each transaction its agent's replica is brought to exactly the
/// merge of the parents' states: the trace's rules make every agent edit
/// sequentially, so the causal history of a transaction holds a prefix of
/// each agent's transactions and a version is one counter per agent. The
/// replica already holds its own agent's previous transaction, which is in
/// the parents' history, so it never holds more than the parents; it lacks
/// the other agents' transactions between its version and the parents'
/// merged version, and gets exactly those, as the updates they emitted when
/// they were made, in trace order (a topological order). A state-vector diff
/// from another replica would not do: that replica may have moved on past
/// the parent, and a delete-only transaction moves no state vector.
/// At the end every replica's full state is merged into a fresh document.
pub fn replay_concurrent(trace: &ConcurrentTrace, options: &ReplayOptions) -> Result<Replay> {
    trace.validate()?;
    // Only agents that edit get a replica, so a large `numAgents` costs nothing.
    let agents = trace
        .txns
        .iter()
        .map(|t| t.agent as usize + 1)
        .max()
        .unwrap_or(0);
    if agents.saturating_mul(trace.txns.len()) > MAX_VERSION_ENTRIES {
        return Err(Error::Malformed(format!(
            "{agents} editing agents × {} transactions is more than this replay keeps track of",
            trace.txns.len()
        )));
    }
    let genesis_doc = Document::with_client_id(GENESIS_CLIENT);
    let block = create_block(&genesis_doc, options.block, "")?;
    let genesis = genesis_doc.encode_state_v1();
    let mut replicas = (0..agents)
        .map(|a| Replica::new(a, agents, &genesis))
        .collect::<Result<Vec<_>>>()?;

    let limit = options.max_txns.unwrap_or(usize::MAX).min(trace.txns.len());
    // Per transaction: the updates it emitted, whether it inserted astral
    // characters, and the version after it (row-major, `agents` per row).
    let mut updates: Vec<Vec<Vec<u8>>> = Vec::with_capacity(limit);
    let mut astral: Vec<bool> = Vec::with_capacity(limit);
    let mut versions: Vec<u32> = Vec::with_capacity(limit * agents);
    // Per agent, its transactions' indexes in order.
    let mut by_agent: Vec<Vec<usize>> = vec![Vec::new(); agents];
    let mut stats = ReplayStats::default();
    let mut target = vec![0u32; agents];
    let mut missing: Vec<usize> = Vec::new();

    for (i, txn) in trace.txns.iter().enumerate().take(limit) {
        let a = txn.agent as usize;
        target.iter_mut().for_each(|v| *v = 0);
        for &p in &txn.parents {
            let row = versions
                .get(p * agents..(p + 1) * agents)
                .ok_or_else(|| Error::Malformed(format!("txn {i}: parent {p} was not replayed")))?;
            for (t, &v) in target.iter_mut().zip(row) {
                *t = (*t).max(v);
            }
        }
        if target[a] as usize != by_agent[a].len() {
            return Err(Error::Malformed(format!(
                "txn {i}: agent {a} already made {} transactions but its parents hold {}; \
                 an agent must edit sequentially",
                by_agent[a].len(),
                target[a]
            )));
        }
        let replica = &mut replicas[a];
        missing.clear();
        for (b, (&have, &want)) in replica.version.iter().zip(&target).enumerate() {
            if have > want {
                return Err(Error::Malformed(format!(
                    "txn {i}: agent {a} has seen more of agent {b}'s work than its parents"
                )));
            }
            let lacking = by_agent[b]
                .get(have as usize..want as usize)
                .ok_or_else(|| {
                    Error::Malformed(format!(
                        "txn {i}: its parents hold {want} transactions of agent {b}, \
                         who made {} so far",
                        by_agent[b].len()
                    ))
                })?;
            missing.extend_from_slice(lacking);
        }
        if !missing.is_empty() {
            missing.sort_unstable();
            merge_into(replica, &updates, &missing)?;
            let stays_bmp =
                replica.index.astral_count() == 0 && missing.iter().all(|&m| !astral[m]);
            replica.index = if stays_bmp {
                ScalarIndex::without_astral(replica.document.block_len(&block)?)
            } else {
                ScalarIndex::from_text(&replica.document.block_plain_text(&block)?)
            };
            stats.merges += 1;
            stats.merged_updates += missing.len();
            replica.drain();
        }
        replica.version.copy_from_slice(&target);

        for (j, patch) in txn.patches.iter().enumerate() {
            apply_patch(
                &replica.document,
                &block,
                &mut replica.index,
                patch,
                &mut stats,
            )
            .map_err(|e| at_patch(i, j, patch, e))?;
        }
        replica.version[a] += 1;
        updates.push(replica.drain());
        astral.push(
            txn.patches
                .iter()
                .any(|p| p.2.chars().any(|c| c.len_utf16() == 2)),
        );
        versions.extend_from_slice(&replica.version);
        by_agent[a].push(i);
        stats.txns += 1;
    }

    let merged = Document::with_client_id(MERGE_CLIENT);
    merged.apply_update_v1(&genesis)?;
    for r in &replicas {
        merged.apply_update_v1(&r.document.encode_state_v1())?;
    }
    if merged.ydoc().transact().has_missing_updates() {
        return Err(Error::InvalidOperation(
            "the merged replicas left updates pending (missing dependencies)".into(),
        ));
    }
    finish(TraceKind::Concurrent, merged, block, stats)
}

/// Applies the updates of the transactions `missing` (in that order) to a
/// replica, in one yrs transaction.
fn merge_into(replica: &Replica, updates: &[Vec<Vec<u8>>], missing: &[usize]) -> Result<()> {
    let mut txn = replica.document.ydoc().transact_mut();
    for &m in missing {
        for bytes in &updates[m] {
            let update = Update::decode_v1(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
            txn.apply_update(update)
                .map_err(|e| Error::Malformed(e.to_string()))?;
        }
    }
    Ok(())
}

/// Creates the block the replay edits, holding `text`, with a text node even
/// when `text` is empty: otherwise each replica would create its own text
/// node on first insertion, and concurrent first insertions would land in
/// different nodes.
fn create_block(document: &Document, kind: BlockKind, text: &str) -> Result<BlockId> {
    let kind = match kind {
        BlockKind::CodeBlock => block_type::CODE_BLOCK,
        BlockKind::Paragraph => block_type::PARAGRAPH,
    };
    let id = document
        .insert_blocks(&Placement::End, &[NewBlock::text(kind, text)])?
        .into_iter()
        .next()
        .ok_or_else(|| Error::InvalidOperation("no block was created".into()))?;
    let mut txn = document.ydoc().transact_mut();
    let located = document.locate(&txn, &id)?;
    let content = content_node(&txn, &located.container)
        .ok_or_else(|| Error::InvalidOperation(format!("block {id} has no content node")))?;
    if content.len(&txn) == 0 {
        content.insert(&mut txn, 0, XmlTextPrelim::new(""));
    }
    Ok(id)
}

/// Applies one patch: the deletion, then the insertion, at scalar `pos`.
fn apply_patch(
    document: &Document,
    block: &BlockId,
    index: &mut ScalarIndex,
    Patch(pos, del, ins): &Patch,
    stats: &mut ReplayStats,
) -> Result<()> {
    if *del > 0 {
        let (at, len) = index.to_utf16_range(*pos, *del)?;
        document.delete_text(block, at, len)?;
        index.delete(*pos, *del)?;
        stats.deleted += u64::from(*del);
        stats.local_transactions += 1;
    }
    if !ins.is_empty() {
        let at = index.to_utf16(*pos)?;
        document.insert_text(block, at, ins)?;
        index.insert(*pos, ins)?;
        stats.inserted += ins.chars().count() as u64;
        stats.local_transactions += 1;
    }
    stats.patches += 1;
    Ok(())
}

/// [`apply_patch`] inside the caller's transaction.
fn apply_patch_in(
    document: &Document,
    txn: &mut yrs::TransactionMut,
    block: &BlockId,
    index: &mut ScalarIndex,
    Patch(pos, del, ins): &Patch,
    stats: &mut ReplayStats,
) -> Result<()> {
    if *del > 0 {
        let (at, len) = index.to_utf16_range(*pos, *del)?;
        document.delete_text_in(txn, block, at, len)?;
        index.delete(*pos, *del)?;
        stats.deleted += u64::from(*del);
    }
    if !ins.is_empty() {
        let at = index.to_utf16(*pos)?;
        document.insert_text_in(txn, block, at, ins, None)?;
        index.insert(*pos, ins)?;
        stats.inserted += ins.chars().count() as u64;
    }
    stats.patches += 1;
    Ok(())
}

fn at_patch(txn: usize, patch: usize, p: &Patch, e: Error) -> Error {
    let preview: String = p.2.chars().take(16).collect();
    Error::Malformed(format!(
        "txn {txn}, patch {patch} [{}, {}, {preview:?}]: {e}",
        p.0, p.1
    ))
}

fn finish(
    kind: TraceKind,
    document: Document,
    block: BlockId,
    mut stats: ReplayStats,
) -> Result<Replay> {
    let text = document.block_plain_text(&block)?;
    stats.final_scalar_len = crate::unicode_offsets::scalar_len(&text);
    stats.final_utf16_len = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
    Ok(Replay {
        kind,
        document,
        block,
        text,
        stats,
    })
}

/// The obvious replay of a sequential trace on a `Vec<char>`: the reference
/// the CRDT replay is checked against when only a prefix is replayed.
pub fn replay_naive(trace: &SequentialTrace, max_txns: Option<usize>) -> Result<String> {
    let mut text: Vec<char> = trace.start_content.chars().collect();
    for (i, txn) in trace
        .txns
        .iter()
        .enumerate()
        .take(max_txns.unwrap_or(usize::MAX))
    {
        for (j, p) in txn.patches.iter().enumerate() {
            let (pos, del) = (p.0 as usize, p.1 as usize);
            let end = pos
                .checked_add(del)
                .filter(|&e| e <= text.len())
                .ok_or_else(|| {
                    at_patch(
                        i,
                        j,
                        p,
                        Error::OutOfRange {
                            pos: p.0.saturating_add(p.1),
                            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
                        },
                    )
                })?;
            text.splice(pos..end, p.2.chars());
        }
    }
    Ok(text.into_iter().collect())
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
