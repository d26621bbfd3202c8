//! Cookie-forwarding authorization (`--auth-url`), as La Suite Docs'
//! y-provider does it: the application that owns the sessions decides.
//!
//! For a connection (or REST call) without a token, and for each document,
//! the server sends
//!
//! ```text
//! GET {auth-url}?document=<name>
//! Cookie: <the client's Cookie header>
//! Authorization: <the client's Authorization header, if any>
//! ```
//!
//! and expects `200` with a JSON body
//! `{"access": "read" | "chat" | "write" | "none", "user": "<id>", "name": "<display name>"}`
//! (`user` and `name` optional; `chat` reads the text and writes its
//! chat, see [`crate::auth::Grant`]). For a chat document `D:chat` the
//! service is asked about `D`: it knows only the documents it owns. `401` refuses the session, `403` and `404`
//! refuse the document, and any other status, a redirect, a malformed body
//! or no answer within 3 s refuses with a reason saying so. `200` answers
//! are cached for 30 s per cookie, authorization and document. An answer
//! without `user` (a public document opened without a session, say) counts
//! as the user `anonymous` for `--max-connections-per-user`.

use crate::auth::{Access, AuthError, Credentials, Grant, Principal};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the authorization service may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// How long a `200` answer is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(30);
/// Cached answers kept at most; expired ones are dropped first.
const CACHE_MAX: usize = 10_000;
/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 64 << 10;

#[derive(Debug, Clone, Deserialize)]
struct Answer {
    access: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// (cookie, authorization, document)
type CacheKey = (String, String, String);

/// The client of the `--auth-url` service, with its answer cache.
pub struct CookieAuth {
    url: reqwest::Url,
    client: reqwest::Client,
    cache: Mutex<HashMap<CacheKey, (Instant, Answer)>>,
}

impl CookieAuth {
    /// A client for the service at `url` (an `http` or `https` URL).
    pub fn new(url: &str) -> Result<Self, AuthError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| AuthError::Unavailable(format!("--auth-url {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AuthError::Unavailable(format!(
                "--auth-url {url:?}: use an http or https URL"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect is most likely to a login page: not an answer, and
            // the cookies must not follow it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthError::Unavailable(format!("HTTP client: {e}")))?;
        Ok(CookieAuth {
            url: parsed,
            client,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Keyed by the text document: its chat shares the answer.
    fn key(creds: &Credentials, doc: &str) -> CacheKey {
        (
            creds.cookie.clone().unwrap_or_default(),
            creds.authorization.clone().unwrap_or_default(),
            atelier_sync::base_document_name(doc).to_owned(),
        )
    }

    /// The cached decision for these credentials and document, if fresh.
    pub fn cached(
        &self,
        creds: &Credentials,
        doc: &str,
    ) -> Option<Result<(Principal, Access), AuthError>> {
        let cache = self.cache.lock().ok()?;
        let (at, answer) = cache.get(&Self::key(creds, doc))?;
        (at.elapsed() < CACHE_FOR).then(|| decide(answer, doc))
    }

    /// Asks the service (or the cache) whether these credentials may use `doc`.
    pub async fn check(
        &self,
        creds: &Credentials,
        doc: &str,
    ) -> Result<(Principal, Access), AuthError> {
        if let Some(hit) = self.cached(creds, doc) {
            return hit;
        }
        let answer = self.ask(creds, doc).await?;
        let decision = decide(&answer, doc);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(Self::key(creds, doc), (Instant::now(), answer));
        }
        decision
    }

    async fn ask(&self, creds: &Credentials, doc: &str) -> Result<Answer, AuthError> {
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("document", atelier_sync::base_document_name(doc));
        let mut req = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(c) = &creds.cookie {
            req = req.header(reqwest::header::COOKIE, c);
        }
        if let Some(a) = &creds.authorization {
            req = req.header(reqwest::header::AUTHORIZATION, a);
        }
        let service = self.url.as_str();
        let resp = req.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                "cannot reach it".to_owned()
            };
            tracing::warn!(url = %service, error = %e, "authorization service call failed");
            AuthError::Unavailable(format!("authorization service {service}: {why}"))
        })?;
        let status = resp.status();
        match status.as_u16() {
            200 => {}
            401 => {
                return Err(AuthError::Invalid(
                    "session not accepted by the authorization service (HTTP 401)".into(),
                ));
            }
            403 | 404 => return Err(AuthError::Forbidden(doc.to_owned())),
            _ => {
                return Err(AuthError::Unavailable(format!(
                    "authorization service {service} answered HTTP {status}"
                )));
            }
        }
        let bytes = resp.bytes().await.map_err(|e| {
            AuthError::Unavailable(format!(
                "authorization service {service}: cannot read the answer ({e})"
            ))
        })?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(AuthError::Unavailable(format!(
                "authorization service {service}: answer too large"
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            AuthError::Unavailable(format!(
                "authorization service {service}: malformed answer ({e}); expected {{\"access\": \"read\"|\"chat\"|\"write\"|\"none\"}}"
            ))
        })
    }
}

fn decide(answer: &Answer, doc: &str) -> Result<(Principal, Access), AuthError> {
    let grant = match answer.access.as_str() {
        "write" => Grant::Write,
        "chat" => Grant::Chat,
        "read" => Grant::Read,
        "none" => return Err(AuthError::Forbidden(doc.to_owned())),
        other => {
            return Err(AuthError::Unavailable(format!(
                "authorization service answered access {other:?}; expected read, chat, write or none"
            )));
        }
    };
    let access = grant.access_to(doc);
    let user = answer
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "anonymous".to_owned());
    Ok((
        Principal::for_document(user, answer.name.clone(), doc, grant),
        access,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(access: &str) -> Answer {
        Answer {
            access: access.into(),
            user: Some("u1".into()),
            name: None,
        }
    }

    #[test]
    fn answers_map_to_access_on_that_document_only() {
        let (p, a) = decide(&answer("write"), "d").expect("write");
        assert_eq!((p.user.as_str(), a), ("u1", Access::ReadWrite));
        assert_eq!(p.access("other"), None);
        assert_eq!(
            decide(&answer("read"), "d").map(|x| x.1),
            Ok(Access::ReadOnly)
        );
        assert_eq!(
            decide(&answer("none"), "d").map(|x| x.1),
            Err(AuthError::Forbidden("d".into()))
        );
        assert!(matches!(
            decide(&answer("admin"), "d"),
            Err(AuthError::Unavailable(_))
        ));
    }

    #[test]
    fn a_chat_answer_reads_the_text_and_writes_its_chat() {
        assert_eq!(
            decide(&answer("chat"), "d").map(|x| x.1),
            Ok(Access::ReadOnly)
        );
        let (p, a) = decide(&answer("chat"), "d:chat").expect("chat");
        assert_eq!(a, Access::ReadWrite);
        assert_eq!(p.access("d"), Some(Access::ReadOnly));
        assert_eq!(
            decide(&answer("read"), "d:chat").map(|x| x.1),
            Ok(Access::ReadOnly)
        );
        assert_eq!(
            decide(&answer("write"), "d:chat").map(|x| x.1),
            Ok(Access::ReadWrite)
        );
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(CookieAuth::new("ftp://x/auth").is_err());
        assert!(CookieAuth::new("not a url").is_err());
        assert!(CookieAuth::new("http://127.0.0.1:1/auth?x=1").is_ok());
    }
}
