//! Which URL to open for a document, and in which framing.

use crate::error::{Result, WebError};

/// The wire framing of a connection (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// Hocuspocus: one socket at the server address, every message names
    /// its document, the token goes in the Auth message. What La Suite Docs
    /// speaks, and the default.
    #[default]
    Hocuspocus,
    /// y-websocket: the document name is appended to the server address
    /// (`{server}/{doc}`) and the token is passed as `?token=`.
    YWebsocket,
}

impl Framing {
    /// Parses the `protocol` attribute: `y-websocket` (or `yws`), anything
    /// else (including nothing) is Hocuspocus.
    pub fn from_attribute(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("y-websocket") || v.eq_ignore_ascii_case("yws") => {
                Framing::YWebsocket
            }
            _ => Framing::Hocuspocus,
        }
    }
}

/// The WebSocket URL for `doc` on `server`.
///
/// `server` must be `ws://` or `wss://` (`http(s)://` is converted).
/// With y-websocket the document name is percent-encoded into the path and
/// a non-empty token appended as `token=` to the query; with Hocuspocus the
/// address is used as given.
///
/// ```
/// use atelier_web::{Framing, socket_url};
/// assert_eq!(
///     socket_url("ws://h/sync", "a b", "t", Framing::YWebsocket).unwrap(),
///     "ws://h/sync/a%20b?token=t"
/// );
/// assert_eq!(socket_url("https://h/sync", "a", "", Framing::Hocuspocus).unwrap(), "wss://h/sync");
/// ```
pub fn socket_url(server: &str, doc: &str, token: &str, framing: Framing) -> Result<String> {
    let server = server.trim();
    let bad = |reason| WebError::BadUrl {
        url: server.to_owned(),
        reason,
    };
    let (scheme, rest) = server
        .split_once("://")
        .ok_or_else(|| bad("it needs a ws:// or wss:// scheme"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(bad("only ws://, wss://, http:// and https:// are accepted")),
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("it names no host"));
    }
    let rest = rest.split('#').next().unwrap_or_default();
    match framing {
        Framing::Hocuspocus => Ok(format!("{scheme}://{rest}")),
        Framing::YWebsocket => {
            if doc.is_empty() {
                return Err(WebError::NoDocument);
            }
            let (path, query) = match rest.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (rest, None),
            };
            let mut url = format!("{scheme}://{}/{}", path.trim_end_matches('/'), encode(doc));
            let mut params: Vec<String> = query
                .filter(|q| !q.is_empty())
                .map(|q| vec![q.to_owned()])
                .unwrap_or_default();
            if !token.is_empty() {
                params.push(format!("token={}", encode(token)));
            }
            if !params.is_empty() {
                url.push('?');
                url.push_str(&params.join("&"));
            }
            Ok(url)
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_websocket_url_keeps_query_and_encodes_names() {
        assert_eq!(
            socket_url("ws://h:1/sync/?x=1", "é/1", "a&b", Framing::YWebsocket),
            Ok("ws://h:1/sync/%C3%A9%2F1?x=1&token=a%26b".to_owned())
        );
        assert_eq!(
            socket_url("ws://h/sync", "d", "", Framing::YWebsocket),
            Ok("ws://h/sync/d".to_owned())
        );
    }

    #[test]
    fn refuses_addresses_without_ws_scheme_or_host() {
        assert!(socket_url("h/sync", "d", "", Framing::Hocuspocus).is_err());
        assert!(socket_url("ftp://h", "d", "", Framing::Hocuspocus).is_err());
        assert!(socket_url("ws:///x", "d", "", Framing::Hocuspocus).is_err());
        assert_eq!(
            socket_url("ws://h", "", "", Framing::YWebsocket),
            Err(WebError::NoDocument)
        );
    }

    #[test]
    fn protocol_attribute() {
        assert_eq!(Framing::from_attribute(None), Framing::Hocuspocus);
        assert_eq!(
            Framing::from_attribute(Some("Y-WebSocket")),
            Framing::YWebsocket
        );
        assert_eq!(
            Framing::from_attribute(Some("hocuspocus")),
            Framing::Hocuspocus
        );
    }
}
