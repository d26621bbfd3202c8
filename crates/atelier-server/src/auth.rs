//! Who may read or write which document.
//!
//! Three ways to authenticate, chosen per connection and document:
//!
//! 1. **Bearer JWTs** (`?token=`, `Authorization: Bearer`, or the token of a
//!    Hocuspocus Auth message). HS256 with `--jwt-secret` (development);
//!    RS256 and ES256 with `--oidc-issuer`, whose keys come from the
//!    provider's discovery document and JWKS (Keycloak, ProConnect-style
//!    providers; see [`crate::auth_oidc`]). OIDC tokens must name the issuer
//!    in `iss`; every token must carry `aud` = `--jwt-audience` when that is
//!    set, and an `exp` in the future. Claims say which documents a user may
//!    read and write, as lists of names where a trailing `*` matches any
//!    suffix:
//!
//!    ```json
//!    {"sub": "u-42", "name": "Zoé", "exp": 1790000000,
//!     "read": ["*"], "chat": ["team-b/*"], "write": ["team-a/*", "notes"]}
//!    ```
//!
//!    A grant is *read*, *chat* or *write* ([`Grant`]; each implies the ones
//!    before it), as La Suite Docs has readers, commenters and editors. It
//!    names the text document `D`; its chat `D:chat` follows (see
//!    [`atelier_sync::doc_names`]): *read* reads both, *chat* reads the
//!    text and writes the chat, *write* writes both. A token without
//!    `read`/`chat`/`write` claims grants nothing, except that an OIDC token
//!    (a plain Keycloak access token, say) gets `--oidc-default-access`
//!    (`read`, `chat`, `write`, or the default `none`) on every document.
//! 2. **Cookie forwarding** with `--auth-url`, as La Suite Docs' y-provider
//!    does: when a connection has no token (or no token can be checked
//!    because no JWT key is configured), the server asks
//!    `GET {auth-url}?document=<name>`, forwarding the client's `Cookie`
//!    and `Authorization` headers, and the JSON answer decides (see
//!    [`crate::auth_cookie`]).
//! 3. **Anonymous** read-write access with `--allow-anonymous`
//!    (development), for connections with no token when there is no
//!    `--auth-url`.
//!
//! ```
//! use atelier_server::auth::{Access, Authenticator};
//! let auth = Authenticator::new(true, None, None);
//! let (who, access) = auth.authorize(None, "notes").expect("anonymous is on");
//! assert_eq!((who.user.as_str(), access), ("anonymous", Access::ReadWrite));
//! ```

use crate::auth_cookie::CookieAuth;
use crate::auth_oidc::OidcProvider;
use axum::http::{HeaderMap, header};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use std::sync::{Arc, RwLock};

pub use atelier_sync::Access;

/// What a user may do with a document and its chat, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// Read the text and the chat.
    Read,
    /// Read the text, read and write the chat (La Suite's commenters).
    Chat,
    /// Read and write both.
    Write,
}

impl Grant {
    /// The access this grant gives on `doc`, a text document or its chat.
    pub fn access_to(self, doc: &str) -> Access {
        let writes = if atelier_sync::is_chat_document(doc) {
            self >= Grant::Chat
        } else {
            self == Grant::Write
        };
        if writes {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        }
    }
}

/// An authenticated user.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Stable user id (`sub`), or `anonymous`.
    pub user: String,
    /// Display name, if the token has one.
    pub name: Option<String>,
    read: Vec<String>,
    chat: Vec<String>,
    write: Vec<String>,
}

impl Principal {
    /// The principal of `--allow-anonymous`: read-write everywhere.
    pub fn anonymous() -> Self {
        Principal {
            user: "anonymous".into(),
            name: None,
            read: Vec::new(),
            chat: Vec::new(),
            write: vec!["*".into()],
        }
    }

    /// A principal with `grant` on one document (and its chat) only: a
    /// cookie-forwarding answer.
    pub fn for_document(user: String, name: Option<String>, doc: &str, grant: Grant) -> Self {
        // Used as a pattern, a name ending in `*` would match more documents,
        // but such a principal is only ever asked about `doc`.
        let only = vec![atelier_sync::base_document_name(doc).to_owned()];
        let mut p = Principal {
            user,
            name,
            read: Vec::new(),
            chat: Vec::new(),
            write: Vec::new(),
        };
        match grant {
            Grant::Read => p.read = only,
            Grant::Chat => p.chat = only,
            Grant::Write => p.write = only,
        }
        p
    }

    /// The strongest grant this user holds on `doc`'s text document.
    pub fn grant(&self, doc: &str) -> Option<Grant> {
        let base = atelier_sync::base_document_name(doc);
        let hit = |patterns: &[String]| patterns.iter().any(|p| matches_pattern(p, base));
        if hit(&self.write) {
            Some(Grant::Write)
        } else if hit(&self.chat) {
            Some(Grant::Chat)
        } else if hit(&self.read) {
            Some(Grant::Read)
        } else {
            None
        }
    }

    /// What this user may do with `doc` (a text document or its chat), or
    /// `None` for nothing.
    pub fn access(&self, doc: &str) -> Option<Access> {
        self.grant(doc).map(|g| g.access_to(doc))
    }
}

fn matches_pattern(pattern: &str, doc: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => doc.starts_with(prefix),
        None => pattern == doc,
    }
}

/// Why a request was refused. The text is sent to the client as the close or
/// permission-denied reason, so it says what to fix without leaking secrets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// No token was given and anonymous access is off.
    #[error("authentication required: send a bearer token")]
    Missing,
    /// The token has expired.
    #[error("token expired")]
    Expired,
    /// The token is malformed, badly signed, or for another audience.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token is valid but grants nothing on this document.
    #[error("no access to document {0:?}")]
    Forbidden(String),
    /// The identity provider or the authorization service could not answer.
    #[error("authentication service unavailable: {0}")]
    Unavailable(String),
}

/// Access given on every document to OIDC tokens without `read`/`write` claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DefaultAccess {
    /// Nothing: such tokens are refused.
    #[default]
    None,
    /// Read-only access everywhere.
    Read,
    /// Read the text and write the chat everywhere (commenters).
    Chat,
    /// Read-write access everywhere.
    Write,
}

/// What a request brings to authenticate with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    /// A bearer token, if any.
    pub token: Option<String>,
    /// The `Cookie` header, forwarded by cookie-forwarding auth.
    pub cookie: Option<String>,
    /// The `Authorization` header, forwarded by cookie-forwarding auth.
    pub authorization: Option<String>,
}

impl Credentials {
    /// The credentials of an HTTP request or WebSocket upgrade.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let cookies: Vec<&str> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let token = authorization
            .as_deref()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Credentials {
            token,
            cookie: (!cookies.is_empty()).then(|| cookies.join("; ")),
            authorization,
        }
    }

    /// The same credentials with `token` instead of the header's bearer
    /// token, when `token` is given.
    pub fn with_token(&self, token: Option<&str>) -> Self {
        let mut c = self.clone();
        if let Some(t) = token {
            c.token = Some(t.to_owned());
        }
        c
    }

    /// The bearer token, if the request carries one.
    pub fn bearer(&self) -> Option<&str> {
        self.token()
    }

    fn token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    read: Option<Vec<String>>,
    #[serde(default)]
    chat: Option<Vec<String>>,
    #[serde(default)]
    write: Option<Vec<String>>,
    /// Issued-at (seconds since the epoch), checked not to lie ahead.
    #[serde(default)]
    iat: Option<f64>,
}

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// Seconds since the Unix epoch, now.
fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A verification key from a JWKS.
#[derive(Clone)]
struct JwksKey {
    kid: Option<String>,
    key: DecodingKey,
    alg: Algorithm,
}

/// Why a token did not verify, internally: an unknown `kid` may be worth a
/// JWKS refresh.
enum Unverified {
    UnknownKid(String),
    Refused(AuthError),
}

impl From<AuthError> for Unverified {
    fn from(e: AuthError) -> Self {
        Unverified::Refused(e)
    }
}

/// Checks tokens against the configured keys, or asks the cookie-forwarding
/// service. Cheap to clone: clones share the keys and caches.
#[derive(Clone)]
pub struct Authenticator {
    anonymous: bool,
    hs256: Option<DecodingKey>,
    /// Keys from an OIDC provider's JWKS; replaced whole on refresh.
    jwks: Arc<RwLock<Vec<JwksKey>>>,
    audience: Option<String>,
    default_access: DefaultAccess,
    oidc: Option<Arc<OidcProvider>>,
    cookie: Option<Arc<CookieAuth>>,
}

impl Authenticator {
    /// An authenticator for the given secrets.
    pub fn new(anonymous: bool, hs256_secret: Option<&str>, audience: Option<String>) -> Self {
        Authenticator {
            anonymous,
            hs256: hs256_secret.map(|s| DecodingKey::from_secret(s.as_bytes())),
            jwks: Arc::new(RwLock::new(Vec::new())),
            audience,
            default_access: DefaultAccess::None,
            oidc: None,
            cookie: None,
        }
    }

    /// The authenticator a configuration asks for: discovers the OIDC
    /// provider (failing if it cannot be reached), starts the JWKS refresh
    /// task, and sets up cookie forwarding.
    pub async fn from_config(cfg: &crate::config::Config) -> Result<Self, AuthError> {
        let mut auth = Authenticator::new(
            cfg.allow_anonymous,
            cfg.jwt_secret.as_deref(),
            cfg.jwt_audience.clone(),
        );
        auth.default_access = cfg.oidc_default_access;
        if let Some(issuer) = &cfg.oidc_issuer {
            let provider = OidcProvider::discover(issuer).await?;
            let n = auth.replace_jwks(&provider.fetch_jwks().await?)?;
            if n == 0 {
                return Err(AuthError::Unavailable(format!(
                    "the JWKS at {} has no RS256 or ES256 signing key",
                    provider.jwks_uri()
                )));
            }
            tracing::info!(issuer = %issuer, keys = n, "OIDC provider discovered");
            auth.oidc = Some(Arc::new(provider));
            auth.spawn_jwks_refresh();
        }
        if let Some(url) = &cfg.auth_url {
            auth.cookie = Some(Arc::new(CookieAuth::new(url)?));
        }
        Ok(auth)
    }

    /// Adds the keys of a JWKS document (RS256 and ES256 signing keys are
    /// used, others skipped) and returns how many were added.
    pub fn add_jwks(&self, jwks_json: &str) -> Result<usize, AuthError> {
        let keys = parse_jwks(jwks_json)?;
        let n = keys.len();
        self.jwks
            .write()
            .map_err(|_| AuthError::Unavailable("key store poisoned".into()))?
            .extend(keys);
        Ok(n)
    }

    /// Replaces the JWKS keys by those of `jwks_json` (keys the provider
    /// dropped are no longer accepted) and returns how many there are.
    pub fn replace_jwks(&self, jwks_json: &str) -> Result<usize, AuthError> {
        let keys = parse_jwks(jwks_json)?;
        let n = keys.len();
        *self
            .jwks
            .write()
            .map_err(|_| AuthError::Unavailable("key store poisoned".into()))? = keys;
        Ok(n)
    }

    /// Sets the access of OIDC tokens that carry no `read`/`write` claims.
    pub fn with_default_access(mut self, access: DefaultAccess) -> Self {
        self.default_access = access;
        self
    }

    /// Refreshes the JWKS every [`crate::auth_oidc::REFRESH_EVERY`] until
    /// every clone of this authenticator is dropped.
    fn spawn_jwks_refresh(&self) {
        let Some(oidc) = self.oidc.clone() else {
            return;
        };
        let keys = Arc::downgrade(&self.jwks);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::auth_oidc::REFRESH_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(keys) = keys.upgrade() else {
                    return;
                };
                match oidc.fetch_jwks().await.and_then(|j| parse_jwks(&j)) {
                    Ok(fresh) if !fresh.is_empty() => {
                        tracing::debug!(keys = fresh.len(), "JWKS refreshed");
                        if let Ok(mut k) = keys.write() {
                            *k = fresh;
                        }
                    }
                    // Keep the old keys rather than lock everyone out.
                    Ok(_) => {
                        tracing::warn!("JWKS refresh found no usable key; keeping the old keys")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "JWKS refresh failed; keeping the old keys")
                    }
                }
            }
        });
    }

    /// Whether anonymous access is on.
    pub fn allows_anonymous(&self) -> bool {
        self.anonymous
    }

    /// Whether any JWT signature key is configured.
    fn verifies_tokens(&self) -> bool {
        self.hs256.is_some()
            || self.oidc.is_some()
            || self.jwks.read().map(|k| !k.is_empty()).unwrap_or(false)
    }

    /// Checks a token (or its absence) and returns the principal.
    pub fn authenticate(&self, token: Option<&str>) -> Result<Principal, AuthError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let Some(token) = token else {
            return if self.anonymous {
                Ok(Principal::anonymous())
            } else {
                Err(AuthError::Missing)
            };
        };
        self.verify(token).map_err(|e| match e {
            Unverified::UnknownKid(kid) => unknown_kid(&kid),
            Unverified::Refused(e) => e,
        })
    }

    fn verify(&self, token: &str) -> Result<Principal, Unverified> {
        let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let candidates: Vec<(DecodingKey, Algorithm)> = match header.alg {
            Algorithm::HS256 => match &self.hs256 {
                Some(k) => vec![(k.clone(), Algorithm::HS256)],
                None => {
                    return Err(AuthError::Invalid("HS256 tokens are not accepted".into()).into());
                }
            },
            alg @ (Algorithm::RS256 | Algorithm::ES256) => {
                let keys = self
                    .jwks
                    .read()
                    .map_err(|_| AuthError::Unavailable("key store poisoned".into()))?;
                let found: Vec<(DecodingKey, Algorithm)> = keys
                    .iter()
                    .filter(|k| {
                        k.alg == alg
                            && (header.kid.is_none() || k.kid.as_deref() == header.kid.as_deref())
                    })
                    .map(|k| (k.key.clone(), k.alg))
                    .collect();
                if found.is_empty() {
                    return Err(match header.kid {
                        Some(kid) => Unverified::UnknownKid(kid),
                        None => AuthError::Invalid(format!("no {alg:?} key to check it")).into(),
                    });
                }
                found
            }
            other => {
                return Err(AuthError::Invalid(format!("algorithm {other:?} not accepted")).into());
            }
        };
        let mut last = AuthError::Invalid("no key".into());
        for (key, alg) in &candidates {
            match self.decode_with(token, key, *alg) {
                Ok(p) => return Ok(p),
                Err(e) => last = e,
            }
        }
        Err(last.into())
    }

    fn decode_with(
        &self,
        token: &str,
        key: &DecodingKey,
        alg: Algorithm,
    ) -> Result<Principal, AuthError> {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        // A token not valid yet (`nbf` ahead) is refused like an expired one.
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        let from_provider = alg != Algorithm::HS256;
        if from_provider && let Some(oidc) = &self.oidc {
            validation.set_issuer(&[oidc.issuer()]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        let data = decode::<Claims>(token, key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                AuthError::Invalid("not valid yet (nbf)".into())
            }
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                AuthError::Invalid("issued by another provider (iss)".into())
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                AuthError::Invalid("meant for another audience (aud)".into())
            }
            _ => AuthError::Invalid(e.to_string()),
        })?;
        let c = data.claims;
        // A token issued in the future was minted by a clock (or a forger)
        // that cannot be trusted with the expiry either.
        if let Some(iat) = c.iat
            && iat > now_seconds() + LEEWAY_SECONDS as f64
        {
            return Err(AuthError::Invalid("issued in the future (iat)".into()));
        }
        let all = || vec!["*".to_owned()];
        let (read, chat, write) = match (c.read, c.chat, c.write) {
            (None, None, None) if from_provider => match self.default_access {
                DefaultAccess::None => (Vec::new(), Vec::new(), Vec::new()),
                DefaultAccess::Read => (all(), Vec::new(), Vec::new()),
                DefaultAccess::Chat => (Vec::new(), all(), Vec::new()),
                DefaultAccess::Write => (Vec::new(), Vec::new(), all()),
            },
            (read, chat, write) => (
                read.unwrap_or_default(),
                chat.unwrap_or_default(),
                write.unwrap_or_default(),
            ),
        };
        Ok(Principal {
            user: c.sub,
            name: c.name.or(c.preferred_username),
            read,
            chat,
            write,
        })
    }

    /// Authenticates a token (or its absence) and checks access to one
    /// document, without any network call: unknown signing keys are
    /// refused and `--auth-url` is not consulted. See [`Self::authorize_request`].
    pub fn authorize(
        &self,
        token: Option<&str>,
        doc: &str,
    ) -> Result<(Principal, Access), AuthError> {
        let p = self.authenticate(token)?;
        grant(p, doc)
    }

    /// Whether `creds` go to the cookie-forwarding service rather than
    /// the token checks.
    fn uses_cookie_auth(&self, creds: &Credentials) -> Option<&CookieAuth> {
        let cookie = self.cookie.as_deref()?;
        match creds.token() {
            Some(_) if self.verifies_tokens() => None,
            _ => Some(cookie),
        }
    }

    /// Decides at once when no network call is needed: a token signed by a
    /// known key, no token and no `--auth-url`, or a cached answer of the
    /// cookie-forwarding service. `None` means: call
    /// [`Self::authorize_request`].
    pub fn decide_now(
        &self,
        creds: &Credentials,
        doc: &str,
    ) -> Option<Result<(Principal, Access), AuthError>> {
        if let Some(cookie) = self.uses_cookie_auth(creds) {
            return cookie.cached(creds, doc);
        }
        let Some(token) = creds.token() else {
            return Some(self.authorize(None, doc));
        };
        match self.verify(token) {
            Ok(p) => Some(grant(p, doc)),
            Err(Unverified::UnknownKid(kid)) => match &self.oidc {
                Some(oidc) if oidc.may_refresh_for_unknown_kid() => None,
                _ => Some(Err(unknown_kid(&kid))),
            },
            Err(Unverified::Refused(e)) => Some(Err(e)),
        }
    }

    /// Authenticates a request and checks its access to one document,
    /// refreshing the JWKS when a token names an unknown key (at most every
    /// 30 s) and asking the `--auth-url` service when there is no token.
    pub async fn authorize_request(
        &self,
        creds: &Credentials,
        doc: &str,
    ) -> Result<(Principal, Access), AuthError> {
        if let Some(cookie) = self.uses_cookie_auth(creds) {
            return cookie.check(creds, doc).await;
        }
        let Some(token) = creds.token() else {
            return self.authorize(None, doc);
        };
        match self.verify(token) {
            Ok(p) => grant(p, doc),
            Err(Unverified::Refused(e)) => Err(e),
            Err(Unverified::UnknownKid(kid)) => {
                let Some(oidc) = &self.oidc else {
                    return Err(unknown_kid(&kid));
                };
                // The provider may have rotated its keys: look again, then
                // retry whether or not this call was the one that fetched.
                if let Some(jwks) = oidc.refresh_for_unknown_kid(&kid).await {
                    match jwks.and_then(|j| self.replace_jwks(&j)) {
                        Ok(n) => {
                            tracing::info!(kid = %kid, keys = n, "JWKS refreshed for an unknown key id")
                        }
                        Err(e) => tracing::warn!(kid = %kid, error = %e, "JWKS refresh failed"),
                    }
                }
                match self.verify(token) {
                    Ok(p) => grant(p, doc),
                    Err(Unverified::UnknownKid(kid)) => Err(unknown_kid(&kid)),
                    Err(Unverified::Refused(e)) => Err(e),
                }
            }
        }
    }
}

fn unknown_kid(kid: &str) -> AuthError {
    AuthError::Invalid(format!("unknown signing key {kid:?}"))
}

fn grant(p: Principal, doc: &str) -> Result<(Principal, Access), AuthError> {
    match p.access(doc) {
        Some(a) => Ok((p, a)),
        None => Err(AuthError::Forbidden(doc.to_owned())),
    }
}

/// The RS256 and ES256 signature keys of a JWKS document. Keys of other
/// types, curves, algorithms or uses are skipped, so that one exotic key
/// does not make the whole set unusable.
fn parse_jwks(jwks_json: &str) -> Result<Vec<JwksKey>, AuthError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet =
        serde_json::from_str(jwks_json).map_err(|e| AuthError::Invalid(format!("JWKS: {e}")))?;
    let mut keys = Vec::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            continue;
        };
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            continue;
        }
        let alg = match (&jwk.algorithm, &jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.push(JwksKey {
                kid: jwk.common.key_id.clone(),
                key,
                alg,
            });
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    fn token(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encodes")
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    #[test]
    fn claims_decide_access_per_document() {
        let a = Authenticator::new(false, Some("s3cret"), None);
        let t = token(
            "s3cret",
            json!({"sub": "u1", "exp": now() + 60, "read": ["*"], "write": ["team/*"]}),
        );
        let (p, acc) = a.authorize(Some(&t), "team/plan").expect("write access");
        assert_eq!(p.user, "u1");
        assert_eq!(acc, Access::ReadWrite);
        assert_eq!(
            a.authorize(Some(&t), "other").map(|x| x.1),
            Ok(Access::ReadOnly)
        );
        let narrow = token(
            "s3cret",
            json!({"sub": "u2", "exp": now() + 60, "read": ["a"]}),
        );
        assert_eq!(
            a.authorize(Some(&narrow), "b").map(|x| x.1),
            Err(AuthError::Forbidden("b".into()))
        );
    }

    #[test]
    fn a_chat_claim_reads_the_text_and_writes_its_chat() {
        let a = Authenticator::new(false, Some("s3cret"), None);
        let t = token(
            "s3cret",
            json!({"sub": "c", "exp": now() + 60, "read": ["*"], "chat": ["team/*"], "write": ["mine"]}),
        );
        let access = |doc: &str| a.authorize(Some(&t), doc).map(|x| x.1);
        assert_eq!(access("team/plan"), Ok(Access::ReadOnly));
        assert_eq!(access("team/plan:chat"), Ok(Access::ReadWrite));
        assert_eq!(access("other"), Ok(Access::ReadOnly));
        assert_eq!(access("other:chat"), Ok(Access::ReadOnly));
        assert_eq!(access("mine"), Ok(Access::ReadWrite));
        assert_eq!(access("mine:chat"), Ok(Access::ReadWrite));
        let none = token(
            "s3cret",
            json!({"sub": "n", "exp": now() + 60, "read": ["x"]}),
        );
        assert_eq!(
            a.authorize(Some(&none), "y:chat").map(|x| x.1),
            Err(AuthError::Forbidden("y:chat".into()))
        );
        // The grant order: read < chat < write.
        assert!(Grant::Read < Grant::Chat && Grant::Chat < Grant::Write);
    }

    #[test]
    fn wrong_expired_and_missing_tokens_are_refused() {
        let a = Authenticator::new(false, Some("s3cret"), None);
        let wrong = token(
            "other",
            json!({"sub": "u", "exp": now() + 60, "write": ["*"]}),
        );
        assert!(matches!(
            a.authenticate(Some(&wrong)),
            Err(AuthError::Invalid(_))
        ));
        let expired = token(
            "s3cret",
            json!({"sub": "u", "exp": now() - 3600, "write": ["*"]}),
        );
        assert_eq!(a.authenticate(Some(&expired)), Err(AuthError::Expired));
        assert_eq!(a.authenticate(None), Err(AuthError::Missing));
        assert!(matches!(
            a.authenticate(Some("garbage")),
            Err(AuthError::Invalid(_))
        ));
        let anon = Authenticator::new(true, None, None);
        assert_eq!(anon.authenticate(None), Ok(Principal::anonymous()));
    }

    #[test]
    fn audience_is_checked_when_configured() {
        let a = Authenticator::new(false, Some("k"), Some("atelier".into()));
        let other = token(
            "k",
            json!({"sub": "u", "exp": now() + 60, "aud": "else", "write": ["*"]}),
        );
        assert!(a.authenticate(Some(&other)).is_err());
        let ok = token(
            "k",
            json!({"sub": "u", "exp": now() + 60, "aud": "atelier", "write": ["*"]}),
        );
        assert!(a.authenticate(Some(&ok)).is_ok());
    }

    #[test]
    fn hs256_tokens_without_claims_get_no_default_access() {
        // The default access is for OIDC tokens only; a development token
        // without claims still grants nothing.
        let a =
            Authenticator::new(false, Some("k"), None).with_default_access(DefaultAccess::Write);
        let bare = token("k", json!({"sub": "u", "exp": now() + 60}));
        assert_eq!(
            a.authorize(Some(&bare), "d").map(|x| x.1),
            Err(AuthError::Forbidden("d".into()))
        );
    }

    #[test]
    fn jwks_keeps_only_signature_keys_it_can_check() {
        let a = Authenticator::new(false, None, None);
        let jwks = json!({"keys": [
            {"kty": "EC", "crv": "P-384", "kid": "p384",
             "x": "AAAA", "y": "AAAA"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "X448", "kid": "weird", "x": "AAAA"},
            {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "sig", "n": "AQAB", "e": "AQAB"}
        ]});
        assert_eq!(a.add_jwks(&jwks.to_string()), Ok(1));
        assert!(a.add_jwks("{\"keys\": 3}").is_err());
        assert_eq!(a.replace_jwks("{\"keys\": []}"), Ok(0));
    }

    #[test]
    fn cookie_credentials_come_from_the_upgrade_headers() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "session=alice".parse().expect("header"));
        h.append(header::COOKIE, "theme=dark".parse().expect("header"));
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().expect("header"));
        let c = Credentials::from_headers(&h);
        assert_eq!(c.cookie.as_deref(), Some("session=alice; theme=dark"));
        assert_eq!(c.token.as_deref(), Some("abc"));
        assert_eq!(c.with_token(Some("xyz")).token.as_deref(), Some("xyz"));
        assert_eq!(c.with_token(None).token.as_deref(), Some("abc"));
    }
}
