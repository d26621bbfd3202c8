//! Atelier's sync server.
//!
//! Speaks the Yjs protocols on one endpoint — y-websocket (`/sync/{doc}`)
//! and Hocuspocus (`/sync`, and `/collaboration/ws/` as La Suite Docs
//! names it) — stores every update durably before acknowledging it
//! (SQLite by default, PostgreSQL for several processes), checks JWT bearer
//! tokens (HS256, or OIDC-discovered RS256/ES256 keys) or asks a
//! cookie-forwarding service ([`auth`]), and serves the gallery, `/healthz`,
//! `/metrics` and a REST API.
//!
//! ```no_run
//! # async fn run() -> Result<(), atelier_server::error::StartError> {
//! let cfg = atelier_server::config::Config { allow_anonymous: true, ..Default::default() };
//! atelier_server::serve(cfg, std::future::pending()).await
//! # }
//! ```

pub mod agents;
pub mod ai_config;
#[cfg(feature = "embedded-model")]
pub mod ai_embedded;
pub mod ai_limits;
pub mod ai_proxy;
pub mod ai_upstream;
pub mod auth;
pub mod auth_cookie;
pub mod auth_oidc;
pub mod config;
pub mod error;
pub mod fanout;
pub mod fanout_redis;
pub mod http;
pub mod matrix_appservice;
pub mod matrix_bridge;
pub mod matrix_config;
pub mod matrix_links;
pub mod mcp;
pub mod metrics;
pub mod request_limits;
pub mod room;
pub mod security_headers;
pub mod state;
pub mod store;
pub mod store_postgres;
pub mod store_queue;
pub mod store_sqlite;
pub mod ws;

use crate::error::StartError;
use axum::Router;
use axum::routing::{get, post, put};
use std::future::Future;
use std::sync::Arc;
use tower_http::services::ServeDir;

/// Builds the router over a shared state.
pub fn router(state: Arc<state::AppState>) -> Router {
    // `cargo xtask dist` writes a brotli and a gzip copy of each module,
    // wasm file and stylesheet: sent to browsers that accept them (a
    // quarter of the editor page's bytes, issue 16), the file itself to
    // the others.
    let www = ServeDir::new(&state.cfg.www)
        .append_index_html_on_directories(true)
        .precompressed_br()
        .precompressed_gzip();
    // The pages and what they load carry the CSP; every response carries
    // nosniff (security_headers.rs).
    let www =
        security_headers::for_static_files(Router::new().fallback_service(www), &state.cfg.csp);
    let api = Router::new()
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .route("/sync", get(ws::hocuspocus))
        .route("/collaboration/ws/", get(ws::hocuspocus))
        .route("/sync/{*doc}", get(ws::ywebsocket))
        .route("/api/docs/{doc}", get(http::get_doc))
        .route("/api/docs/{doc}/update", post(http::post_update))
        .route("/api/docs/{doc}/ops", post(agents::post_ops))
        .route(
            "/api/docs/{doc}/matrix-link",
            put(matrix_links::put_link)
                .get(matrix_links::get_link)
                .delete(matrix_links::delete_link),
        )
        .route("/ai", get(ai_proxy::status))
        .route("/ai/v1/models", get(ai_proxy::models))
        .route("/ai/v1/chat/completions", post(ai_proxy::chat_completions))
        .nest_service("/mcp", mcp::service(state.clone()));
    // The Matrix application service endpoint, in that mode only.
    let api = match &state.matrix_appservice {
        Some(service) => api.nest_service("/_matrix/app", service.clone().router()),
        None => api,
    };
    let api = api
        .route(
            "/api/docs/{doc}/versions",
            get(http::list_versions).post(http::save_version),
        )
        .route("/api/docs/{doc}/versions/{id}", get(http::get_version))
        .route(
            "/api/docs/{doc}/versions/{id}/restore",
            post(http::restore_version),
        )
        .fallback_service(www)
        .with_state(state)
        .layer(axum::middleware::from_fn(request_limits::limit_headers));
    security_headers::for_every_response(api)
}

/// Opens the store and builds the shared state.
pub async fn build_state(cfg: config::Config) -> Result<Arc<state::AppState>, StartError> {
    let store = store::Store::open(&cfg.db).await?;
    let metrics = Arc::new(metrics::Metrics::default());
    let rooms = room::Rooms::new(
        store,
        metrics.clone(),
        cfg.limits(),
        cfg.max_document_bytes,
        cfg.compact_every,
        std::time::Duration::from_secs(cfg.version_interval_secs),
    );
    if let Some(url) = &cfg.redis {
        // Before serving: every room loaded from now on subscribes.
        fanout::Fanout::start(url, &rooms)
            .map_err(|e| StartError::Setting(format!("invalid --redis URL: {e}")))?;
    }
    let auth = auth::Authenticator::from_config(&cfg)
        .await
        .map_err(|e| StartError::Auth(e.to_string()))?;
    let ai = ai_proxy::AiService::start(cfg.ai.clone())?;
    let matrix = match &cfg.matrix {
        Some(matrix) => {
            if cfg.redis.is_some() {
                // Two nodes relaying one room would each import its events.
                tracing::warn!(
                    "a Matrix bridge on a node of several: give the Matrix settings to one node only"
                );
            }
            let file = matrix
                .links_file
                .clone()
                .unwrap_or_else(|| matrix_links::default_links_file(&cfg.db));
            Some(
                matrix_links::MatrixBridge::start(matrix, &rooms, file)
                    .map_err(StartError::Setting)?,
            )
        }
        None => None,
    };
    let matrix_appservice = matrix.as_ref().and_then(|m| m.appservice());
    Ok(Arc::new(state::AppState {
        cfg,
        rooms,
        auth,
        metrics,
        conn_counts: Default::default(),
        ai,
        matrix_appservice,
        matrix,
    }))
}

/// Serves until `shutdown` resolves, then flushes every loaded document.
pub async fn serve(
    cfg: config::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = cfg.addr;
    let state = build_state(cfg).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    tracing::info!(
        addr = %listener.local_addr()?,
        store = state.rooms.store.kind(),
        "atelier listening"
    );
    serve_on(listener, state, shutdown).await
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<state::AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    use axum::serve::ListenerExt;
    let rooms = state.rooms.clone();
    // TCP_NODELAY on every connection: a sync message is small and must
    // leave at once; with Nagle's algorithm a frame written while the
    // previous one is unacknowledged waits for the peer's delayed ACK
    // (up to 40 ms on Linux).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    rooms.flush_all().await;
    tracing::info!("shut down cleanly");
    Ok(())
}
