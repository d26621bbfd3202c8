//! Who may read or write which document.
//!
//! Bearer tokens are JWTs. Their claims say which documents a user may
//! read and write, as lists of names where a trailing `*` matches any suffix:
//!
//! ```json
//! {"sub": "u-42", "name": "Zoé", "exp": 1790000000,
//!  "read": ["*"], "write": ["team-a/*", "notes"]}
//! ```
//!
//! Write access implies read access. A token without `read`/`write` claims
//! grants nothing.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

pub use atelier_sync::Access;

/// An authenticated user.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Stable user id (`sub`), or `anonymous`.
    pub user: String,
    /// Display name, if the token has one.
    pub name: Option<String>,
    read: Vec<String>,
    write: Vec<String>,
}

impl Principal {
    /// The principal of `--allow-anonymous`: read-write everywhere.
    pub fn anonymous() -> Self {
        Principal {
            user: "anonymous".into(),
            name: None,
            read: vec!["*".into()],
            write: vec!["*".into()],
        }
    }

    /// What this user may do with `doc`, or `None` for nothing.
    pub fn access(&self, doc: &str) -> Option<Access> {
        let hit = |patterns: &[String]| patterns.iter().any(|p| matches_pattern(p, doc));
        if hit(&self.write) {
            Some(Access::ReadWrite)
        } else if hit(&self.read) {
            Some(Access::ReadOnly)
        } else {
            None
        }
    }
}

fn matches_pattern(pattern: &str, doc: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => doc.starts_with(prefix),
        None => pattern == doc,
    }
}

/// Why a token was refused. The text is sent to the client as the close or
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
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    read: Vec<String>,
    #[serde(default)]
    write: Vec<String>,
}

/// Checks tokens against the configured keys.
#[derive(Clone)]
pub struct Authenticator {
    anonymous: bool,
    hs256: Option<DecodingKey>,
    /// Keys from an OIDC provider's JWKS, by `kid`.
    jwks: Vec<(Option<String>, DecodingKey, Algorithm)>,
    audience: Option<String>,
}

impl Authenticator {
    /// An authenticator for the given secrets.
    pub fn new(anonymous: bool, hs256_secret: Option<&str>, audience: Option<String>) -> Self {
        Authenticator {
            anonymous,
            hs256: hs256_secret.map(|s| DecodingKey::from_secret(s.as_bytes())),
            jwks: Vec::new(),
            audience,
        }
    }

    /// Adds the keys of a JWKS document (RS256 and ES256 keys are used).
    pub fn add_jwks(&mut self, jwks_json: &str) -> Result<usize, AuthError> {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks_json)
            .map_err(|e| AuthError::Invalid(format!("JWKS: {e}")))?;
        let before = self.jwks.len();
        for jwk in &set.keys {
            let alg = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                self.jwks.push((jwk.common.key_id.clone(), key, alg));
            }
        }
        Ok(self.jwks.len() - before)
    }

    /// Whether anonymous access is on.
    pub fn allows_anonymous(&self) -> bool {
        self.anonymous
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
        let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let (key, alg) = match header.alg {
            Algorithm::HS256 => match &self.hs256 {
                Some(k) => (k, Algorithm::HS256),
                None => return Err(AuthError::Invalid("HS256 tokens are not accepted".into())),
            },
            alg @ (Algorithm::RS256 | Algorithm::ES256) => {
                let found = self.jwks.iter().find(|(kid, _, a)| {
                    *a == alg && (header.kid.is_none() || kid.as_deref() == header.kid.as_deref())
                });
                match found {
                    Some((_, k, a)) => (k, *a),
                    None => return Err(AuthError::Invalid("unknown signing key".into())),
                }
            }
            other => {
                return Err(AuthError::Invalid(format!(
                    "algorithm {other:?} not accepted"
                )));
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = 5;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data = decode::<Claims>(token, key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::Invalid(e.to_string()),
        })?;
        Ok(Principal {
            user: data.claims.sub,
            name: data.claims.name,
            read: data.claims.read,
            write: data.claims.write,
        })
    }

    /// Authenticates and checks access to one document.
    pub fn authorize(
        &self,
        token: Option<&str>,
        doc: &str,
    ) -> Result<(Principal, Access), AuthError> {
        let p = self.authenticate(token)?;
        match p.access(doc) {
            Some(a) => Ok((p, a)),
            None => Err(AuthError::Forbidden(doc.to_owned())),
        }
    }
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
}
