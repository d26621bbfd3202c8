//! OpenID Connect discovery and JWKS fetching for `--oidc-issuer`.
//!
//! At startup the server reads `{issuer}/.well-known/openid-configuration`,
//! checks that its `issuer` is exactly the configured one, and loads the
//! RS256/ES256 keys of its `jwks_uri`; if any of that fails the server does
//! not start. The keys are then refreshed every [`REFRESH_EVERY`], and also
//! when a token names a key id (`kid`) that is not known — the provider has
//! rotated its keys — at most once every [`UNKNOWN_KID_REFRESH_MIN`], so
//! that tokens with made-up key ids cannot make the server hammer the
//! provider.

use crate::auth::AuthError;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// How often the JWKS is fetched again in the background.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// The shortest time between two refreshes caused by unknown key ids.
pub const UNKNOWN_KID_REFRESH_MIN: Duration = Duration::from_secs(30);
/// How long a call to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest discovery or JWKS document read.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// A discovered OpenID Connect provider.
pub struct OidcProvider {
    issuer: String,
    jwks_uri: String,
    client: reqwest::Client,
    /// When an unknown `kid` last caused a refresh; the lock also makes
    /// concurrent refreshes wait for the one under way.
    last_kid_refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl OidcProvider {
    /// Reads the provider's discovery document and checks its issuer.
    pub async fn discover(issuer: &str) -> Result<Self, AuthError> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| AuthError::Unavailable(format!("HTTP client: {e}")))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let body = get_text(&client, &url).await?;
        let discovery: Discovery = serde_json::from_str(&body).map_err(|e| {
            AuthError::Unavailable(format!("{url} is not an OpenID configuration: {e}"))
        })?;
        if discovery.issuer != issuer {
            return Err(AuthError::Unavailable(format!(
                "{url} names the issuer {:?}, not the configured {issuer:?}",
                discovery.issuer
            )));
        }
        Ok(OidcProvider {
            issuer: issuer.to_owned(),
            jwks_uri: discovery.jwks_uri,
            client,
            last_kid_refresh: tokio::sync::Mutex::new(None),
        })
    }

    /// The issuer that tokens must name in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where the provider publishes its keys.
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    /// Fetches the JWKS document.
    pub async fn fetch_jwks(&self) -> Result<String, AuthError> {
        get_text(&self.client, &self.jwks_uri).await
    }

    /// Whether a refresh for an unknown key id would happen now (or one is
    /// under way), so that waiting for [`Self::refresh_for_unknown_kid`] is
    /// worth it.
    pub fn may_refresh_for_unknown_kid(&self) -> bool {
        match self.last_kid_refresh.try_lock() {
            Ok(last) => !recent(*last),
            Err(_) => true,
        }
    }

    /// Fetches the JWKS because a token named the unknown key `kid`, unless
    /// that was done less than [`UNKNOWN_KID_REFRESH_MIN`] ago (`None`).
    pub async fn refresh_for_unknown_kid(&self, kid: &str) -> Option<Result<String, AuthError>> {
        let mut last = self.last_kid_refresh.lock().await;
        if recent(*last) {
            tracing::debug!(kid = %kid, "unknown key id; JWKS refreshed recently, not again");
            return None;
        }
        *last = Some(Instant::now());
        Some(self.fetch_jwks().await)
    }
}

fn recent(last: Option<Instant>) -> bool {
    last.is_some_and(|t| t.elapsed() < UNKNOWN_KID_REFRESH_MIN)
}

/// The innermost error, which says what went wrong (`Connection refused`)
/// where the outer ones repeat the URL.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// GETs `url` and returns its body, or an error naming the URL.
async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, AuthError> {
    let unavailable = |what: String| AuthError::Unavailable(format!("{url}: {what}"));
    let resp = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| unavailable(format!("cannot reach it ({})", root_cause(&e))))?;
    if !resp.status().is_success() {
        return Err(unavailable(format!("answered HTTP {}", resp.status())));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(unavailable("document too large".into()));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| unavailable(format!("cannot read the answer ({e})")))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(unavailable("document too large".into()));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| unavailable("answer is not UTF-8".into()))
}
