//! Authentication messages of both framings, and the server's auth decision.
//!
//! y-websocket (`y-protocols/auth.js`): `varUint(0) · varString(reason)`,
//! permission denied; nothing else is defined (authentication happens at the
//! HTTP upgrade).
//!
//! Hocuspocus (`@hocuspocus/common/src/auth.ts`), sub-types
//! `Token = 0, PermissionDenied = 1, Authenticated = 2`:
//! - client → server `0 · varString(token)`, and since Hocuspocus 4
//!   `· varString(providerVersion)`;
//! - server → client `0` alone (token request, `writeTokenSyncRequest`),
//!   `1 · varString(reason)`, `2 · varString("readonly" | "read-write")`.

use crate::error::{Result, SyncError};
use crate::limits::Limits;
use crate::varint::{Reader, write_str, write_var_u64};

/// What a connection may do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Sync and awareness, but updates are refused.
    ReadOnly,
    /// Everything.
    ReadWrite,
}

impl Access {
    /// The Hocuspocus scope string.
    pub fn scope(self) -> &'static str {
        match self {
            Access::ReadOnly => "readonly",
            Access::ReadWrite => "read-write",
        }
    }

    /// Parses a Hocuspocus scope string.
    pub fn from_scope(scope: &str) -> Option<Self> {
        match scope {
            "readonly" => Some(Access::ReadOnly),
            "read-write" => Some(Access::ReadWrite),
            _ => None,
        }
    }
}

/// The server's answer to a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Open the document with this access.
    Allow(Access),
    /// Refuse; the reason is sent to the client.
    Deny {
        /// Sent in the PermissionDenied message (Hocuspocus uses `permission-denied`).
        reason: String,
    },
    /// Decide later with [`crate::ServerSession::resolve_auth`]; the
    /// document's messages stay held until then.
    Defer,
}

/// Decides whether a token opens a document. The server supplies it.
pub trait Authorizer {
    /// Decides for `document` (the address as sent, without any
    /// Hocuspocus 4 session suffix removed) and `token`.
    fn authorize(&mut self, document: &str, token: &str) -> AuthDecision;
}

impl<F> Authorizer for F
where
    F: FnMut(&str, &str) -> AuthDecision,
{
    fn authorize(&mut self, document: &str, token: &str) -> AuthDecision {
        self(document, token)
    }
}

/// An Authorizer for sessions whose framing has no auth messages (y-websocket).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authorizer for NoAuth {
    fn authorize(&mut self, _document: &str, _token: &str) -> AuthDecision {
        AuthDecision::Deny {
            reason: "permission-denied".into(),
        }
    }
}

/// A y-websocket auth message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YwsAuth {
    /// Sub-type 0: the server refused the connection.
    PermissionDenied {
        /// The reason given.
        reason: String,
    },
    /// Sub-type 1 with no body: written by `yrs::sync` servers to grant
    /// access. Not part of y-protocols (Yjs clients ignore it); decoded for
    /// interoperability, never sent by Atelier.
    Granted,
}

impl YwsAuth {
    pub(crate) fn read(r: &mut Reader<'_>, limits: &Limits) -> Result<Self> {
        match r.read_var_u64("auth type")? {
            0 => Ok(YwsAuth::PermissionDenied {
                reason: r
                    .read_str(limits.max_token_bytes, "denial reason")?
                    .to_owned(),
            }),
            1 => Ok(YwsAuth::Granted),
            tag => Err(SyncError::UnknownType {
                what: "y-websocket auth type",
                tag,
            }),
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            YwsAuth::PermissionDenied { reason } => {
                write_var_u64(out, 0);
                write_str(out, reason);
            }
            YwsAuth::Granted => write_var_u64(out, 1),
        }
    }
}

/// A Hocuspocus auth message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HocuspocusAuth {
    /// Client → server: the token, and the provider version Hocuspocus 4 appends.
    Token {
        /// The token (may be empty).
        token: String,
        /// `@hocuspocus/provider`'s version, sent since 4.0.
        provider_version: Option<String>,
    },
    /// Server → client: please send the token again.
    TokenRequest,
    /// Server → client: the document is refused.
    PermissionDenied {
        /// The reason given (`permission-denied` by default).
        reason: String,
    },
    /// Server → client: the document is open with this access.
    Authenticated {
        /// From the scope string.
        access: Access,
    },
}

impl HocuspocusAuth {
    pub(crate) fn read(r: &mut Reader<'_>, limits: &Limits) -> Result<Self> {
        match r.read_var_u64("auth type")? {
            // Sub-type 0 is the token from a client, or alone a token request from a server.
            0 if r.is_empty() => Ok(HocuspocusAuth::TokenRequest),
            0 => {
                let token = r.read_str(limits.max_token_bytes, "token")?.to_owned();
                let provider_version = if r.is_empty() {
                    None
                } else {
                    Some(
                        r.read_str(limits.max_token_bytes, "provider version")?
                            .to_owned(),
                    )
                };
                Ok(HocuspocusAuth::Token {
                    token,
                    provider_version,
                })
            }
            1 => Ok(HocuspocusAuth::PermissionDenied {
                reason: r
                    .read_str(limits.max_token_bytes, "denial reason")?
                    .to_owned(),
            }),
            2 => {
                let scope = r.read_str(limits.max_token_bytes, "scope")?;
                let access = Access::from_scope(scope).ok_or_else(|| {
                    SyncError::malformed(
                        "scope",
                        format!("\"{scope}\" is not readonly or read-write"),
                    )
                })?;
                Ok(HocuspocusAuth::Authenticated { access })
            }
            tag => Err(SyncError::UnknownType {
                what: "Hocuspocus auth type",
                tag,
            }),
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            HocuspocusAuth::Token {
                token,
                provider_version,
            } => {
                write_var_u64(out, 0);
                write_str(out, token);
                if let Some(v) = provider_version {
                    write_str(out, v);
                }
            }
            HocuspocusAuth::TokenRequest => write_var_u64(out, 0),
            HocuspocusAuth::PermissionDenied { reason } => {
                write_var_u64(out, 1);
                write_str(out, reason);
            }
            HocuspocusAuth::Authenticated { access } => {
                write_var_u64(out, 2);
                write_str(out, access.scope());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(bytes: &[u8]) -> Result<HocuspocusAuth> {
        let mut r = Reader::new(bytes);
        let v = HocuspocusAuth::read(&mut r, &Limits::default())?;
        r.finish("auth")?;
        Ok(v)
    }

    #[test]
    fn token_and_token_request_are_told_apart() {
        assert_eq!(hp(&[0]).expect("request"), HocuspocusAuth::TokenRequest);
        assert_eq!(
            hp(&[0, 0]).expect("empty token"),
            HocuspocusAuth::Token {
                token: String::new(),
                provider_version: None
            }
        );
        assert_eq!(
            hp(&[0, 1, b't', 3, b'4', b'.', b'5']).expect("v4 token"),
            HocuspocusAuth::Token {
                token: "t".into(),
                provider_version: Some("4.5".into())
            }
        );
    }

    #[test]
    fn scopes_are_checked() {
        let mut ok = Vec::new();
        HocuspocusAuth::Authenticated {
            access: Access::ReadOnly,
        }
        .write(&mut ok);
        assert_eq!(ok, b"\x02\x08readonly");
        assert!(hp(&ok).is_ok());
        assert!(hp(b"\x02\x05admin").is_err());
        assert!(hp(&[3]).is_err());
    }
}
