//! HTTP routes: health, metrics, the REST document API and static files.

use crate::auth::{Access, AuthError, Credentials};
use crate::room::{RoomError, load_stored};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use yrs::{ReadTxn, StateVector, Transact};

/// An API error with its HTTP status.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// An error answered with `status` and `message`.
    pub fn new(status: StatusCode, message: String) -> Self {
        ApiError(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
            AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        ApiError(status, e.to_string())
    }
}

impl From<RoomError> for ApiError {
    fn from(e: RoomError) -> Self {
        let status = match e {
            RoomError::Malformed(_) => StatusCode::BAD_REQUEST,
            RoomError::Refused(atelier_sync::SyncError::TooDeep { .. }) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            RoomError::Refused(_) => StatusCode::BAD_REQUEST,
            RoomError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RoomError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
    }
}

/// Checks that a document name is usable: 1–256 bytes, no control characters.
pub fn valid_doc_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 256 && !name.chars().any(char::is_control)
}

/// Checks the request's access to `doc`: any access, or write access if
/// `need_write` (401 without valid credentials, 403 without the access).
pub(crate) async fn authorize(
    st: &AppState,
    headers: &HeaderMap,
    doc: &str,
    need_write: bool,
) -> Result<(), ApiError> {
    if !valid_doc_name(doc) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "invalid document name".into(),
        ));
    }
    let creds = Credentials::from_headers(headers);
    let (_, access) = st.auth.authorize_request(&creds, doc).await?;
    if need_write && access != Access::ReadWrite {
        return Err(ApiError(StatusCode::FORBIDDEN, "read-only access".into()));
    }
    Ok(())
}

/// `GET /healthz`: `ok` (200), or `unavailable: store, redis` (503)
/// naming what is down; then the AI line, then one line per dependency
/// (`store: …`, `redis: …`).
pub async fn healthz(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    let (down, details) = dependencies(&st).await;
    let (status, first) = if down.is_empty() {
        (StatusCode::OK, "ok\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unavailable: {}\n", down.join(", ")),
        )
    };
    // The AI line informs; a missing model does not make the server unhealthy.
    (status, format!("{first}{}{details}", st.ai.health_line()))
}

/// Checks the store and, with `--redis`, the fan-out: which are down, and
/// a line for each.
async fn dependencies(st: &AppState) -> (Vec<&'static str>, String) {
    let kind = st.rooms.store.kind();
    let mut down = Vec::new();
    let mut details = match st.rooms.store.ping().await {
        Ok(()) => format!("store: ok ({kind})\n"),
        Err(e) => {
            down.push("store");
            format!("store: down ({kind}: {e})\n")
        }
    };
    match st.rooms.fanout().map(|f| f.health()) {
        None => details.push_str("redis: not configured\n"),
        Some(Ok(())) => details.push_str("redis: ok\n"),
        Some(Err(e)) => {
            down.push("redis");
            details.push_str(&format!("redis: down ({e})\n"));
        }
    }
    (down, details)
}

/// `GET /metrics`.
pub async fn metrics(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render()
            + &st
                .rooms
                .fanout()
                .map(|f| f.metrics.render())
                .unwrap_or_default()
            + &st.ai.render_metrics(),
    )
}

/// The current full state of a document: from memory when loaded, else from the store.
async fn current_state(st: &AppState, doc: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(room) = st.rooms.get(doc).await {
        return Ok(room.full_state().await?);
    }
    let (d, _, _) = load_stored(&st.rooms.store, doc).await?;
    let state = d
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(state)
}

/// Query of the state endpoints.
#[derive(Deserialize)]
pub struct FormatQuery {
    /// `binary` (default), `markdown` or `blocks` (JSON, with block ids).
    #[serde(default)]
    format: Option<String>,
    /// With `markdown`: each block's id in an HTML comment an agent can
    /// quote back (`atelier_doc::markdown::export_with_ids`).
    #[serde(default)]
    ids: bool,
}

fn render(state: Vec<u8>, q: &FormatQuery) -> Result<Response, ApiError> {
    match q.format.as_deref().unwrap_or("binary") {
        "binary" => {
            Ok(([(header::CONTENT_TYPE, "application/octet-stream")], state).into_response())
        }
        "markdown" => {
            let d = atelier_doc::Document::from_update_v1(&state)
                .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            let blocks = d.blocks();
            let text = if q.ids {
                atelier_doc::markdown::export_with_ids(&blocks)
            } else {
                atelier_doc::markdown::export(&blocks)
            };
            let mut response = (
                [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
                text,
            )
                .into_response();
            // A document stored before the nesting limit existed is served
            // with what readers follow, and says so.
            let deepest = d.deepest_nesting();
            if deepest > atelier_doc::depth::MAX_READ_DEPTH {
                tracing::warn!(
                    deepest,
                    limit = atelier_doc::depth::MAX_READ_DEPTH,
                    "document nests too deep: its export leaves the deeper part out"
                );
                let warning = format!(
                    "199 atelier \"the document nests {deepest} levels deep; levels past {} are left out\"",
                    atelier_doc::depth::MAX_READ_DEPTH
                );
                if let Ok(value) = header::HeaderValue::from_str(&warning) {
                    response.headers_mut().insert(header::WARNING, value);
                }
            }
            Ok(response)
        }
        "blocks" => {
            let d = atelier_doc::Document::from_update_v1(&state)
                .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(Json(d.blocks()).into_response())
        }
        other => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("unknown format {other:?}: use binary, markdown or blocks"),
        )),
    }
}

/// `GET /api/docs/{doc}?format=binary|markdown`.
pub async fn get_doc(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, false).await?;
    render(current_state(&st, &doc).await?, &q)
}

/// `GET /api/docs/{doc}/versions`.
pub async fn list_versions(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, false).await?;
    let v = st
        .rooms
        .store
        .list_versions(&doc)
        .await
        .map_err(RoomError::from)?;
    Ok(Json(v).into_response())
}

/// Body of `POST /api/docs/{doc}/versions`.
#[derive(Deserialize)]
pub struct NewVersion {
    /// Name shown in the history.
    name: String,
}

/// `POST /api/docs/{doc}/versions` saves a named version of the current state.
pub async fn save_version(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    Json(body): Json<NewVersion>,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, true).await?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "a version name has 1 to 200 characters".into(),
        ));
    }
    let state = current_state(&st, &doc).await?;
    let id = st
        .rooms
        .store
        .save_version(&doc, name, now_ms(), &state)
        .await
        .map_err(RoomError::from)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
}

/// `GET /api/docs/{doc}/versions/{id}?format=binary|markdown` (preview).
pub async fn get_version(
    State(st): State<Arc<AppState>>,
    Path((doc, id)): Path<(String, i64)>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, false).await?;
    match st
        .rooms
        .store
        .version(&doc, id)
        .await
        .map_err(RoomError::from)?
    {
        Some(state) => render(state, &q),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no version {id}"))),
    }
}

/// `POST /api/docs/{doc}/versions/{id}/restore`: makes the document's rich
/// text what it was in that version, as a new update on top of the current
/// state (history is never rewritten; connected clients receive it live).
pub async fn restore_version(
    State(st): State<Arc<AppState>>,
    Path((doc, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, true).await?;
    let Some(old) = st
        .rooms
        .store
        .version(&doc, id)
        .await
        .map_err(RoomError::from)?
    else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no version {id}")));
    };
    let room = st.rooms.join(&doc).await?;
    let conn = st.rooms.next_conn_id();
    let result = async {
        let current = room.full_state().await?;
        let update = atelier_doc::document::restore_update(&current, &old).map_err(|e| {
            let status = match e {
                atelier_doc::Error::TooDeep { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            ApiError(status, e.to_string())
        })?;
        room.apply_update(&st.rooms, conn, &update).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    st.rooms.leave(&room, conn).await;
    result?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/docs/{doc}/update`: applies a Yjs v1 update (body) as a client
/// would, for back ends that write documents without a WebSocket.
pub async fn post_update(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, true).await?;
    if body.len() > st.cfg.max_message_bytes {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            "update too large".into(),
        ));
    }
    let room = st.rooms.join(&doc).await?;
    let conn = st.rooms.next_conn_id();
    let result = room.apply_update(&st.rooms, conn, &body).await;
    st.rooms.leave(&room, conn).await;
    result?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
