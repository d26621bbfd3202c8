//! The server's own decoders of outside bytes: bearer tokens, an OIDC
//! provider's JWKS, and other nodes' fan-out messages.

use crate::text;
use atelier_server::auth::Authenticator;
use atelier_server::fanout::Envelope;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::LazyLock;

/// The HS256 secret the `jwt` target's authenticator holds (the seed
/// tokens are signed with it).
pub const FUZZ_SECRET: &str = "atelier-fuzz-hs256-secret";

/// The audience the `jwt` target's authenticator requires.
pub const FUZZ_AUDIENCE: &str = "atelier";

/// A P-256 public key (no private key is kept anywhere): ES256 tokens
/// reach signature verification, and none can pass it.
pub const FUZZ_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"fuzz-es256","use":"sig","alg":"ES256","x":"Dr1YZidaHDH1tfMFYliPUjZx4nKrYEjKiNlDYMiasRI","y":"n7zhzyeAS-La0Hu3LcqdCZcfg_dvcO6z8nx_y6UuUPo"}]}"#;

/// The `alg` a token's header names, if it has a readable one.
fn header_alg(token: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD
        .decode(token.trim().split('.').next()?)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&header).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

/// A bearer token checked by an authenticator with an HS256 secret and an
/// ES256 JWKS. Only HS256 tokens can pass (nobody holds the ES256 private
/// key), and never one whose header says `alg: none` or anything else.
pub fn jwt(data: &[u8]) {
    // Built once per process: `authenticate` only reads the authenticator,
    // and parsing the JWKS's EC key for every input cost more than
    // checking the token.
    static AUTH: LazyLock<Authenticator> = LazyLock::new(|| {
        let auth = Authenticator::new(false, Some(FUZZ_SECRET), Some(FUZZ_AUDIENCE.into()));
        if auth.add_jwks(FUZZ_JWKS).ok() != Some(1) {
            panic!("the fuzz JWKS must hold one key");
        }
        auth
    });
    let auth = &*AUTH;
    let token = text(data);
    if auth.authenticate(Some(&token)).is_ok() {
        let alg = header_alg(&token);
        assert_eq!(
            alg.as_deref(),
            Some("HS256"),
            "a token was accepted with alg {alg:?}: {token:?}"
        );
    }
}

/// A JWKS document parsed as a refresh would parse it.
pub fn jwks(data: &[u8]) {
    let auth = Authenticator::new(false, None, None);
    let json = text(data);
    if auth.replace_jwks(&json).is_ok() {
        // A token is then checked against whatever keys it held.
        let _ = auth.authenticate(Some(
            "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln",
        ));
    }
}

/// A fan-out message from another node: what decodes re-encodes to itself.
pub fn fanout_envelope(data: &[u8]) {
    if let Ok(envelope) = Envelope::decode(data) {
        assert_eq!(
            envelope.encode(),
            data,
            "a fan-out message does not re-encode to itself"
        );
    }
}
