//! The two formats of the editing traces (sequential and concurrent, see
//! [`super`]), read from their JSON and checked before any replay.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One edit: `[position, deleted, inserted]`, counted in Unicode scalars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch(pub u32, pub u32, pub String);

/// A transaction of a sequential trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequentialTxn {
    /// When it happened (RFC 3339), if recorded; also read from `timestamp`.
    #[serde(default, alias = "timestamp", skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Patches, applied in order.
    #[serde(default)]
    pub patches: Vec<Patch>,
}

/// A trace written by one editor: each patch applies to the previous text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequentialTrace {
    /// The text before the first transaction.
    #[serde(default)]
    pub start_content: String,
    /// The text after the last transaction.
    pub end_content: String,
    /// Transactions in order.
    pub txns: Vec<SequentialTxn>,
}

/// A transaction of a concurrent trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConcurrentTxn {
    /// Indexes of the earlier transactions whose merged state this one edits.
    pub parents: Vec<usize>,
    /// How many later transactions name this one as a parent.
    #[serde(default)]
    pub num_children: u32,
    /// The agent (`0..numAgents`) that made it.
    pub agent: u32,
    /// When it happened (RFC 3339), if recorded; also read from `timestamp`.
    #[serde(default, alias = "timestamp", skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Patches, applied in order, relative to the text the agent sees.
    #[serde(default)]
    pub patches: Vec<Patch>,
}

/// A trace of several agents editing at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConcurrentTrace {
    /// Always `"concurrent"`.
    pub kind: String,
    /// The text once every transaction is merged.
    pub end_content: String,
    /// Number of agents; agents are `0..numAgents`.
    pub num_agents: u32,
    /// Transactions; every parent comes earlier in the list.
    pub txns: Vec<ConcurrentTxn>,
}

/// The two trace formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceKind {
    /// One editor.
    Sequential,
    /// Several agents with causal parents.
    Concurrent,
}

impl std::fmt::Display for TraceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TraceKind::Sequential => "sequential",
            TraceKind::Concurrent => "concurrent",
        })
    }
}

/// A trace of either format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    /// A sequential trace.
    Sequential(SequentialTrace),
    /// A concurrent trace.
    Concurrent(ConcurrentTrace),
}

/// Both formats' fields, so a file of either format is parsed in one pass.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTrace {
    kind: Option<String>,
    start_content: Option<String>,
    end_content: String,
    num_agents: Option<u32>,
    txns: Vec<RawTxn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTxn {
    parents: Option<Vec<usize>>,
    #[serde(default)]
    num_children: u32,
    agent: Option<u32>,
    #[serde(default, alias = "timestamp")]
    time: Option<String>,
    #[serde(default)]
    patches: Vec<Patch>,
}

impl Trace {
    /// Parses a trace of either format from its JSON text.
    pub fn from_json(text: &str) -> Result<Trace> {
        Self::from_json_slice(text.as_bytes())
    }

    /// Parses a trace of either format from JSON bytes (not gzipped).
    pub fn from_json_slice(bytes: &[u8]) -> Result<Trace> {
        let raw: RawTrace = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("not an editing trace: {e}")))?;
        let concurrent = match raw.kind.as_deref() {
            Some("concurrent") => true,
            Some("sequential") | None => {
                raw.num_agents.is_some() || raw.txns.iter().any(|t| t.parents.is_some())
            }
            Some(other) => {
                return Err(Error::Malformed(format!(
                    "unknown trace kind {other:?} (expected \"concurrent\" or none)"
                )));
            }
        };
        if !concurrent {
            return Ok(Trace::Sequential(SequentialTrace {
                start_content: raw.start_content.unwrap_or_default(),
                end_content: raw.end_content,
                txns: raw
                    .txns
                    .into_iter()
                    .map(|t| SequentialTxn {
                        time: t.time,
                        patches: t.patches,
                    })
                    .collect(),
            }));
        }
        if raw.start_content.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(Error::Malformed(
                "a concurrent trace starts from the empty text; startContent is not supported"
                    .into(),
            ));
        }
        let num_agents = raw
            .num_agents
            .ok_or_else(|| Error::Malformed("concurrent trace without numAgents".into()))?;
        let txns = raw
            .txns
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let missing = |field: &str| {
                    Error::Malformed(format!("concurrent trace: txn {i} has no {field}"))
                };
                Ok(ConcurrentTxn {
                    parents: t.parents.ok_or_else(|| missing("parents"))?,
                    num_children: t.num_children,
                    agent: t.agent.ok_or_else(|| missing("agent"))?,
                    time: t.time,
                    patches: t.patches,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let trace = ConcurrentTrace {
            kind: "concurrent".into(),
            end_content: raw.end_content,
            num_agents,
            txns,
        };
        trace.validate()?;
        Ok(Trace::Concurrent(trace))
    }

    /// The format of this trace.
    pub fn kind(&self) -> TraceKind {
        match self {
            Trace::Sequential(_) => TraceKind::Sequential,
            Trace::Concurrent(_) => TraceKind::Concurrent,
        }
    }

    /// The text the trace must end at.
    pub fn end_content(&self) -> &str {
        match self {
            Trace::Sequential(t) => &t.end_content,
            Trace::Concurrent(t) => &t.end_content,
        }
    }

    /// Number of transactions.
    pub fn txn_count(&self) -> usize {
        match self {
            Trace::Sequential(t) => t.txns.len(),
            Trace::Concurrent(t) => t.txns.len(),
        }
    }

    /// Number of patches over all transactions.
    pub fn patch_count(&self) -> usize {
        match self {
            Trace::Sequential(t) => t.txns.iter().map(|x| x.patches.len()).sum(),
            Trace::Concurrent(t) => t.txns.iter().map(|x| x.patches.len()).sum(),
        }
    }
}

impl ConcurrentTrace {
    /// Checks what the replay relies on: agents in range, parents earlier in
    /// the list and mutually distinct.
    pub fn validate(&self) -> Result<()> {
        for (i, t) in self.txns.iter().enumerate() {
            if t.agent >= self.num_agents {
                return Err(Error::Malformed(format!(
                    "txn {i}: agent {} is not below numAgents {}",
                    t.agent, self.num_agents
                )));
            }
            for (k, &p) in t.parents.iter().enumerate() {
                if p >= i {
                    return Err(Error::Malformed(format!(
                        "txn {i}: parent {p} does not come earlier in the list"
                    )));
                }
                if t.parents[..k].contains(&p) {
                    return Err(Error::Malformed(format!("txn {i}: parent {p} is repeated")));
                }
            }
        }
        Ok(())
    }
}
