//! Agents as collaborators over HTTP: `POST /api/docs/{doc}/ops` applies the
//! editor's own typed operations (`atelier_doc::Op`) as a named agent.
//!
//! A batch runs all or nothing on a copy of the document written by a
//! client id of the agent's own (`Document::try_ops`); the update it makes
//! then goes through [`Room::apply_update`] like any client's: checked,
//! stored before it is acknowledged, broadcast. While it works, and for
//! [`PRESENCE_LINGER`] after, the agent shows in the document's awareness
//! with its name, colour and a caret on the block it changed last, so every
//! page sees who edits. An agent sending batch after batch is one presence
//! (one awareness client per document and agent name, [`AgentPresences`]):
//! one caret that moves, not one per batch.
//!
//! Request: `{"agent": {"name": "Résumeur", "color": "#7c3aed"}, "ops": [...]}`
//! (see `atelier_doc::Op` for the operations' JSON); answer `200`
//! `{"outcomes": [...]}`, or `422` `{"error", "index", "op"}` naming the
//! first operation refused (nothing is applied then).

use crate::auth::{AuthError, Credentials, Grant};
use crate::http::{ApiError, valid_doc_name};
use crate::room::{ConnId, Room, Rooms};
use crate::state::AppState;
use atelier_doc::awareness::{AwarenessState, User};
use atelier_doc::{BlockId, Document, Op, OpOutcome};
use atelier_sync::{AwarenessEntry, AwarenessUpdate};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an agent's presence stays after its last batch.
pub const PRESENCE_LINGER: Duration = Duration::from_secs(8);

/// Longest agent name kept.
const MAX_AGENT_NAME: usize = 64;

/// Who the agent is, as collaborators see it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Agent {
    /// Name shown beside its caret.
    #[serde(default)]
    pub name: String,
    /// Caret colour (`#rrggbb`); one is picked when absent or invalid.
    #[serde(default)]
    pub color: Option<String>,
}

impl Agent {
    /// The agent as shown: a non-empty name of reasonable length, a valid colour.
    pub fn normalized(&self) -> Agent {
        let name: String = self.name.trim().chars().take(MAX_AGENT_NAME).collect();
        let valid_color = |c: &&String| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
        };
        Agent {
            name: if name.is_empty() {
                "Agent".to_owned()
            } else {
                name
            },
            color: Some(
                self.color
                    .as_ref()
                    .filter(valid_color)
                    .cloned()
                    .unwrap_or_else(|| "#7c3aed".to_owned()),
            ),
        }
    }
}

/// Body of `POST /api/docs/{doc}/ops`.
#[derive(Debug, Deserialize)]
pub struct OpsRequest {
    /// Who applies them.
    #[serde(default)]
    pub agent: Agent,
    /// The batch, applied all or nothing.
    pub ops: Vec<Op>,
}

/// A random client id below 2^53 (Yjs ids are JavaScript numbers).
fn agent_client_id() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::http::now_ms() as u64);
    h.finish() & ((1 << 53) - 1)
}

/// One agent's presence in one document: the connection and awareness
/// client it shows as, the room membership that keeps the document open
/// meanwhile, and which batch was its last.
struct Presence {
    conn: ConnId,
    client: u64,
    clock: u64,
    batch: u64,
    room: Arc<Room>,
}

/// The presences of the agents editing over HTTP, keyed by (document,
/// agent name): batches of one agent within [`PRESENCE_LINGER`] of each
/// other share one awareness client, whose clock each batch advances.
#[derive(Default)]
pub struct AgentPresences {
    live: Mutex<HashMap<(String, String), Presence>>,
}

impl std::fmt::Debug for AgentPresences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentPresences").finish_non_exhaustive()
    }
}

/// What a batch shows as: (room, connection, awareness client, clock, batch).
type Entered = (Arc<Room>, ConnId, u64, u64, u64);

impl AgentPresences {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Presence>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Advances `name`'s presence in `doc`, if it is there.
    fn advance(&self, key: &(String, String)) -> Option<Entered> {
        let mut live = self.live();
        let p = live.get_mut(key)?;
        p.clock += 1;
        p.batch += 1;
        Some((p.room.clone(), p.conn, p.client, p.clock, p.batch))
    }

    /// The presence a new batch of `name` in `doc` shows as: the agent's
    /// current one, or a new one holding a membership of the room.
    async fn enter(&self, rooms: &Arc<Rooms>, doc: &str, name: &str) -> Result<Entered, ApiError> {
        let key = (doc.to_owned(), name.to_owned());
        if let Some(entered) = self.advance(&key) {
            return Ok(entered);
        }
        let room = rooms.join(doc).await.map_err(ApiError::from)?;
        let conn = rooms.next_conn_id();
        let entered = {
            let mut live = self.live();
            if live.contains_key(&key) {
                None
            } else {
                let client = agent_client_id();
                let presence = Presence {
                    conn,
                    client,
                    clock: 1,
                    batch: 1,
                    room: room.clone(),
                };
                live.insert(key.clone(), presence);
                Some((room.clone(), conn, client, 1, 1))
            }
        };
        if let Some(entered) = entered {
            return Ok(entered);
        }
        // Another batch of the agent got there first: show as it, and give
        // back the membership just taken (`conn` was never used).
        rooms.leave(&room, conn).await;
        self.advance(&key).ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the agent's presence ended meanwhile; send again".into(),
            )
        })
    }

    /// Ends `name`'s presence in `doc` if `batch` was its last: returns
    /// the room and connection to leave.
    fn expire(&self, doc: &str, name: &str, batch: u64) -> Option<(Arc<Room>, ConnId)> {
        let key = (doc.to_owned(), name.to_owned());
        let mut live = self.live();
        if live.get(&key).is_some_and(|p| p.batch == batch) {
            return live.remove(&key).map(|p| (p.room, p.conn));
        }
        None
    }
}

/// Why a batch could not be applied.
#[derive(Debug)]
pub enum OpsError {
    /// An operation was refused; nothing was applied.
    Refused(atelier_doc::BatchError),
    /// Anything else (access, storage, limits), as the HTTP API words it.
    Api(ApiError),
}

impl From<ApiError> for OpsError {
    fn from(e: ApiError) -> Self {
        OpsError::Api(e)
    }
}

impl IntoResponse for OpsError {
    fn into_response(self) -> Response {
        match self {
            OpsError::Refused(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({
                    "error": e.to_string(),
                    "index": e.index,
                    "op": e.op,
                })),
            )
                .into_response(),
            OpsError::Api(e) => e.into_response(),
        }
    }
}

/// Applies a batch of operations to `doc` as `agent`, through the room, and
/// keeps the agent's presence for [`PRESENCE_LINGER`]. The caller checked
/// write access.
pub async fn apply_as_agent(
    rooms: &Arc<Rooms>,
    doc: &str,
    agent: &Agent,
    ops: &[Op],
) -> Result<Vec<OpOutcome>, OpsError> {
    let agent = agent.normalized();
    let (room, conn, client, clock, batch) = rooms.agents.enter(rooms, doc, &agent.name).await?;
    let result = apply_in_room(rooms, &room, (conn, client, clock), &agent, ops).await;
    // Leaving removes the agent's presence from every page; later, so a
    // person sees who changed what, and only after its last batch.
    let (rooms, doc, name) = (rooms.clone(), doc.to_owned(), agent.name.clone());
    tokio::spawn(async move {
        tokio::time::sleep(PRESENCE_LINGER).await;
        if let Some((room, conn)) = rooms.agents.expire(&doc, &name, batch) {
            rooms.leave(&room, conn).await;
        }
    });
    result
}

async fn apply_in_room(
    rooms: &Arc<Rooms>,
    room: &Arc<Room>,
    (conn, presence_client, clock): (ConnId, u64, u64),
    agent: &Agent,
    ops: &[Op],
) -> Result<Vec<OpOutcome>, OpsError> {
    let state = room.full_state().await.map_err(ApiError::from)?;
    // The document's client id is the batch's own: two batches of one
    // agent at once must never write the same item ids.
    let client = agent_client_id();
    // The document copy is not `Send`: all the work on it happens here,
    // between two awaits.
    let (update, outcomes, presence) = run_batch(&state, client, agent, ops)?;
    let awareness = AwarenessUpdate {
        entries: vec![AwarenessEntry {
            client_id: presence_client,
            clock,
            state: presence,
        }],
    };
    if let Err(e) = room.apply_awareness(conn, awareness).await {
        tracing::warn!(error = %e, "agent presence not published");
    }
    if update != [0, 0] {
        room.apply_update(rooms, conn, &update)
            .await
            .map_err(ApiError::from)?;
    }
    Ok(outcomes)
}

/// Runs the batch on a copy of `state` as `client`: the update it makes,
/// the outcomes, and the agent's awareness state with a caret at the end
/// of the last block the batch touched that still exists.
fn run_batch(
    state: &[u8],
    client: u64,
    agent: &Agent,
    ops: &[Op],
) -> Result<(Vec<u8>, Vec<OpOutcome>, String), OpsError> {
    let internal = |what: &str, e: atelier_doc::Error| {
        OpsError::Api(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what}: {e}"),
        ))
    };
    let current =
        Document::from_update_v1(state).map_err(|e| internal("cannot read the document", e))?;
    let (update, outcomes) = current.try_ops(ops, client).map_err(OpsError::Refused)?;
    current
        .apply_update_v1(&update)
        .map_err(|e| internal("cannot apply the batch", e))?;
    let last: Option<BlockId> = ops
        .iter()
        .zip(&outcomes)
        .rev()
        .find_map(|(op, outcome)| match outcome {
            OpOutcome::Created { ids } => ids.last().cloned(),
            OpOutcome::Joined { block, .. } => Some(block.clone()),
            OpOutcome::Done => op.target().cloned(),
        })
        .filter(|id| current.block_len(id).is_ok());
    let mut presence = AwarenessState {
        user: Some(User {
            name: agent.name.clone(),
            color: agent.color.clone().unwrap_or_default(),
            id: Some(format!("agent:{}", agent.name)),
        }),
        ..AwarenessState::default()
    };
    if let Some(block) = &last
        && let Ok(len) = current.block_len(block)
    {
        let _ = presence.set_selection(&current, (block, len), (block, len));
    }
    Ok((update, outcomes, presence.to_json()))
}

/// `POST /api/docs/{doc}/ops`.
pub async fn post_ops(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    Json(body): Json<OpsRequest>,
) -> Result<Response, OpsError> {
    authorize_write(&st, &headers, &doc).await?;
    let outcomes = apply_as_agent(&st.rooms, &doc, &body.agent, &body.ops).await?;
    Ok(Json(serde_json::json!({ "outcomes": outcomes })).into_response())
}

/// Checks a write grant on the text document `doc` (operations edit rich
/// text; a chat document has none).
pub async fn authorize_write(
    st: &AppState,
    headers: &HeaderMap,
    doc: &str,
) -> Result<(), ApiError> {
    if !valid_doc_name(doc) || atelier_sync::is_chat_document(doc) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "operations apply to a text document".into(),
        ));
    }
    let creds = Credentials::from_headers(headers);
    let (principal, _) = st.auth.authorize_request(&creds, doc).await?;
    if principal.grant(doc) != Some(Grant::Write) {
        return Err(ApiError::from(AuthError::Forbidden(doc.to_owned())));
    }
    Ok(())
}
