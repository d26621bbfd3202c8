//! WebSocket endpoints (being written).
use axum::http::StatusCode;
/// Hocuspocus endpoint.
pub async fn hocuspocus() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
/// y-websocket endpoint.
pub async fn ywebsocket() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
