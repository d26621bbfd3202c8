//! Limits on what a request's head may hold, checked before any handler
//! runs. hyper itself accepts heads up to about 400 KiB; a browser or a
//! proxy never sends more than a few KiB, so anything past
//! [`MAX_HEADER_BYTES`] is refused with `431 Request Header Fields Too
//! Large` and a body saying so (as nginx and most proxies do at 8–32 KiB).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most bytes of header names and values one request may send.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses requests whose headers add up to more than [`MAX_HEADER_BYTES`].
pub async fn limit_headers(request: Request<Body>, next: Next) -> Response {
    let total: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if total > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers are {total} bytes, over the limit of {MAX_HEADER_BYTES}\n"),
        )
            .into_response();
    }
    next.run(request).await
}
