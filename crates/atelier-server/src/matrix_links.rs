//! Which documents' chats are linked to which Matrix rooms, and the API
//! that links and unlinks them while the server runs:
//!
//! - `PUT /api/docs/{doc}/matrix-link` with `{"room": "!id" | "#alias:server"}`
//!   links the chat of `doc` (the document `doc:chat`) to the room, or
//!   moves it to another room; the relay starts at once (`matrix_bridge.rs`).
//! - `GET` answers `{"doc", "room", "source": "api" | "config"}` (404 when
//!   the chat is not linked).
//! - `DELETE` unlinks: the relay stops at once, and a later link begins
//!   afresh (`Ledger::end`: neither side's messages of the meantime cross).
//!
//! Authorised like the other document API calls that change a document
//! (versions, agents' operations): `PUT` and `DELETE` need *write* access to
//! `doc` (a token that lacks it gets 403, no or an invalid token 401), `GET`
//! any access. The configuration's links (`--matrix-link`) win: the API
//! cannot move or remove them (409), and an API link to a document the
//! configuration links later is ignored, with a warning, while it does.
//!
//! The API's links are kept in a JSON file (`--matrix-links-file`, by
//! default `matrix-links.json` beside the SQLite file), written whole to
//! a temporary file and renamed before the answer, so a link answered is a
//! link that survives a restart. The bridge runs on one node: with several
//! nodes, send the API calls to the node that has the Matrix settings.

use crate::http::{ApiError, authorize};
use crate::matrix_appservice::Appservice;
use crate::matrix_bridge::{edit_copy, run_link};
use crate::matrix_config::{MatrixConfig, MatrixLink, valid_link_doc, valid_room};
use crate::room::Rooms;
use crate::state::AppState;
use atelier_matrix::client::Credentials;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

/// Who made a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkSource {
    /// `--matrix-link` (flags, environment or TOML file).
    Config,
    /// `PUT /api/docs/{doc}/matrix-link`.
    Api,
}

/// A link as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    /// The document whose chat is linked.
    pub doc: String,
    /// The room id or alias.
    pub room: String,
    /// Who made it.
    pub source: LinkSource,
}

/// One running relay.
struct Running {
    room: String,
    source: LinkSource,
    cancel: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The file of the API's links.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LinksFile {
    /// Room by document.
    links: BTreeMap<String, String>,
}

/// The bridge's links and their relays.
pub struct MatrixBridge {
    homeserver: String,
    credentials: Credentials,
    service: Option<Arc<Appservice>>,
    rooms: Arc<Rooms>,
    file: PathBuf,
    running: Mutex<BTreeMap<String, Running>>,
}

impl std::fmt::Debug for MatrixBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixBridge")
            .field("homeserver", &self.homeserver)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// Where the API's links are kept when `--matrix-links-file` is not given:
/// beside the SQLite file, or in `data/` with PostgreSQL.
pub fn default_links_file(db: &str) -> PathBuf {
    let sqlite = db.strip_prefix("sqlite://").or_else(|| {
        (!db.starts_with("postgres://") && !db.starts_with("postgresql://")).then_some(db)
    });
    match sqlite {
        Some(path) => FsPath::new(path)
            .with_file_name("matrix-links.json")
            .to_path_buf(),
        None => PathBuf::from("data/matrix-links.json"),
    }
}

/// Reads the API's links; a missing file is no link.
fn read_links(file: &FsPath) -> Result<BTreeMap<String, String>, String> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice::<LinksFile>(&bytes)
            .map(|f| f.links)
            .map_err(|e| format!("{}: not a Matrix links file: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

/// Writes the API's links whole: a temporary file, synced, then renamed.
async fn write_links(file: &FsPath, links: BTreeMap<String, String>) -> std::io::Result<()> {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = file.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(&LinksFile { links })?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &file)
    })
    .await
    .map_err(std::io::Error::other)?
}

impl MatrixBridge {
    /// Starts the relays of the configuration's links and of the API's
    /// links kept in `file`. Fails if that file cannot be read.
    pub fn start(
        cfg: &MatrixConfig,
        rooms: &Arc<Rooms>,
        file: PathBuf,
    ) -> Result<Arc<MatrixBridge>, String> {
        let mut saved = read_links(&file)?;
        for link in &cfg.links {
            if let Some(room) = saved.remove(&link.doc)
                && room != link.room
            {
                tracing::warn!(doc = %link.doc, config = %link.room, api = %room, "the configuration links this chat to another room than the API did: the configuration wins");
            }
        }
        let service = cfg
            .appservice
            .clone()
            .map(|r| Arc::new(Appservice::new(r, cfg.links.len() + saved.len())));
        let mut bridge = MatrixBridge {
            homeserver: cfg.homeserver.clone(),
            credentials: cfg.credentials.clone(),
            service,
            rooms: rooms.clone(),
            file,
            running: Mutex::new(BTreeMap::new()),
        };
        let mut running = BTreeMap::new();
        let links = cfg
            .links
            .iter()
            .map(|l| (l.clone(), LinkSource::Config))
            .chain(
                saved
                    .into_iter()
                    .map(|(doc, room)| (MatrixLink { doc, room }, LinkSource::Api)),
            );
        for (link, source) in links {
            let doc = link.doc.clone();
            running.insert(doc, bridge.spawn(link, source));
        }
        *bridge.running.get_mut() = running;
        Ok(Arc::new(bridge))
    }

    /// The application service the router must serve, in that mode.
    pub fn appservice(&self) -> Option<Arc<Appservice>> {
        self.service.clone()
    }

    fn spawn(&self, link: MatrixLink, source: LinkSource) -> Running {
        let (cancel, cancelled) = watch::channel(false);
        let room = link.room.clone();
        let task = tokio::spawn(run_link(
            self.homeserver.clone(),
            self.credentials.clone(),
            self.rooms.clone(),
            link,
            self.service.clone(),
            cancelled,
        ));
        Running {
            room,
            source,
            cancel,
            task,
        }
    }

    /// The link of `doc`'s chat, if any.
    pub async fn link_of(&self, doc: &str) -> Option<LinkView> {
        self.running.lock().await.get(doc).map(|r| LinkView {
            doc: doc.to_owned(),
            room: r.room.clone(),
            source: r.source,
        })
    }

    fn api_links(running: &BTreeMap<String, Running>) -> BTreeMap<String, String> {
        running
            .iter()
            .filter(|(_, r)| r.source == LinkSource::Api)
            .map(|(d, r)| (d.clone(), r.room.clone()))
            .collect()
    }

    fn count_links(&self, n: usize) {
        if let Some(service) = &self.service {
            service.set_links(n);
        }
    }

    /// Links `doc`'s chat to `room` (or moves it there), kept before the
    /// relay starts. Returns the link and whether it changed.
    pub async fn link(&self, doc: &str, room: &str) -> Result<(LinkView, bool), ApiError> {
        let mut running = self.running.lock().await;
        let view = LinkView {
            doc: doc.to_owned(),
            room: room.to_owned(),
            source: LinkSource::Api,
        };
        match running.get(doc) {
            Some(r) if r.source == LinkSource::Config => return Err(configured(doc)),
            Some(r) if r.room == room => return Ok((view, false)),
            _ => {}
        }
        let mut links = Self::api_links(&running);
        links.insert(doc.to_owned(), room.to_owned());
        write_links(&self.file, links).await.map_err(|e| {
            tracing::error!(file = %self.file.display(), error = %e, "Matrix links not saved");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the link could not be saved; try again".into(),
            )
        })?;
        if let Some(old) = running.remove(doc) {
            self.stop(doc, old).await;
        }
        self.count_links(running.len() + 1);
        let link = MatrixLink {
            doc: doc.to_owned(),
            room: room.to_owned(),
        };
        running.insert(doc.to_owned(), self.spawn(link, LinkSource::Api));
        tracing::info!(doc, room, "Matrix link made by API");
        Ok((view, true))
    }

    /// Unlinks `doc`'s chat; the relay has stopped when it returns.
    /// Returns whether there was a link.
    pub async fn unlink(&self, doc: &str) -> Result<bool, ApiError> {
        let mut running = self.running.lock().await;
        match running.get(doc) {
            None => return Ok(false),
            Some(r) if r.source == LinkSource::Config => return Err(configured(doc)),
            Some(_) => {}
        }
        let mut links = Self::api_links(&running);
        links.remove(doc);
        write_links(&self.file, links).await.map_err(|e| {
            tracing::error!(file = %self.file.display(), error = %e, "Matrix links not saved");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the unlink could not be saved; try again".into(),
            )
        })?;
        if let Some(old) = running.remove(doc) {
            self.stop(doc, old).await;
        }
        self.count_links(running.len());
        tracing::info!(doc, "Matrix link taken back by API");
        Ok(true)
    }

    /// Stops a relay, waits for it, and ends the link in the chat's ledger.
    async fn stop(&self, doc: &str, relay: Running) {
        let _ = relay.cancel.send(true);
        if let Err(e) = relay.task.await {
            tracing::warn!(doc, error = %e, "Matrix relay ended badly");
        }
        let chat_doc = atelier_sync::chat_document_name(doc);
        let ended = async {
            let room = self.rooms.join(&chat_doc).await?;
            let conn = self.rooms.next_conn_id();
            let written = async {
                let state = room.full_state().await?;
                let ((), update) = edit_copy(&state, |ledger| ledger.end())?;
                if let Some(update) = update {
                    room.apply_update(&self.rooms, conn, &update).await?;
                }
                Ok::<_, crate::room::RoomError>(())
            }
            .await;
            self.rooms.leave(&room, conn).await;
            written
        };
        if let Err(e) = ended.await {
            // The relay is stopped either way; a later link would only
            // relay what the chat received meanwhile.
            tracing::warn!(doc, error = %e, "the ended Matrix link is not recorded in the chat");
        }
    }
}

fn configured(doc: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!(
            "the chat of {doc} is linked by the server's configuration (--matrix-link); change it there"
        ),
    )
}

/// The bridge, or why there is none.
fn bridge(st: &AppState) -> Result<&Arc<MatrixBridge>, ApiError> {
    st.matrix.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this server bridges no Matrix homeserver (see --matrix-homeserver)".into(),
        )
    })
}

fn check_doc(doc: &str) -> Result<(), ApiError> {
    if valid_link_doc(doc) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "name the document, not its chat: /api/docs/{doc}/matrix-link".into(),
        ))
    }
}

/// Body of `PUT /api/docs/{doc}/matrix-link`.
#[derive(Debug, Deserialize)]
struct LinkRequest {
    /// `!roomid` or `#alias:server`.
    room: String,
}

/// `PUT /api/docs/{doc}/matrix-link`: links the document's chat to a room.
pub async fn put_link(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, true).await?;
    check_doc(&doc)?;
    let bridge = bridge(&st)?;
    let request: LinkRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"room\": \"!id\" or \"#alias:server\"}}: {e}"),
        )
    })?;
    let room = request.room.trim();
    if !valid_room(room) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{room:?} is no Matrix room: expected !id or #alias:server"),
        ));
    }
    let (view, changed) = bridge.link(&doc, room).await?;
    let status = if changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

/// `GET /api/docs/{doc}/matrix-link`: the room the chat is linked to.
pub async fn get_link(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, false).await?;
    check_doc(&doc)?;
    match bridge(&st)?.link_of(&doc).await {
        Some(view) => Ok(Json(view).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the chat of {doc} is linked to no Matrix room"),
        )),
    }
}

/// `DELETE /api/docs/{doc}/matrix-link`: unlinks the chat.
pub async fn delete_link(
    State(st): State<Arc<AppState>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers, &doc, true).await?;
    check_doc(&doc)?;
    if bridge(&st)?.unlink(&doc).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the chat of {doc} is linked to no Matrix room"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_links_file_sits_beside_the_store() {
        assert_eq!(
            default_links_file("sqlite://data/atelier.db"),
            PathBuf::from("data/matrix-links.json")
        );
        assert_eq!(
            default_links_file("/var/lib/atelier/a.db"),
            PathBuf::from("/var/lib/atelier/matrix-links.json")
        );
        assert_eq!(
            default_links_file("postgres://u@h/db"),
            PathBuf::from("data/matrix-links.json")
        );
        assert_eq!(
            default_links_file("sqlite://a.db"),
            PathBuf::from("matrix-links.json")
        );
    }

    #[tokio::test]
    async fn links_are_written_whole_and_read_back() {
        let dir = tempfile::Builder::new()
            .prefix("atelier-matrix-links-")
            .tempdir()
            .expect("tmp dir");
        let file = dir.path().join("sub/links.json");
        assert_eq!(read_links(&file), Ok(BTreeMap::new()));
        let links = BTreeMap::from([("notes".to_owned(), "!abc:hs".to_owned())]);
        write_links(&file, links.clone()).await.expect("written");
        assert_eq!(read_links(&file), Ok(links));
        std::fs::write(&file, "not json").expect("write");
        let err = read_links(&file).expect_err("garbage");
        assert!(err.contains("links.json"), "{err}");
    }
}
