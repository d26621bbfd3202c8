//! `--oidc-issuer`: a small OpenID provider served over real HTTP in the
//! test (discovery document and JWKS for ES256 keys generated per run), and
//! atelier-server checking y-websocket connections and REST calls against
//! it: valid tokens edit; wrong issuer, audience, expiry, key or algorithm
//! are refused; rotated keys are fetched on an unknown `kid`, at most once
//! per 30 s; SSO tokens without document claims get the default access; an
//! unreachable or mismatched issuer stops startup.

#[allow(dead_code)]
#[path = "support/rust_client.rs"]
mod rust_client;
#[path = "support/server.rs"]
mod support;

use atelier_server::auth::DefaultAccess;
use atelier_sync::{ClientConfig, ClientEvent};
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use reqwest::StatusCode;
use rust_client::RustClient;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestServer, temp_dir, test_db, unique};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Text, Transact};

const AUDIENCE: &str = "atelier";
const WAIT: Duration = Duration::from_secs(15);

/// An ES256 signing key with its key id.
struct Key {
    kid: String,
    secret: p256::SecretKey,
}

impl Key {
    fn new(kid: &str) -> Key {
        Key {
            kid: kid.to_owned(),
            secret: p256::SecretKey::random(&mut rand_core::OsRng),
        }
    }

    /// The public half as a JWK, as providers publish it.
    fn jwk(&self) -> Value {
        let mut jwk: Value =
            serde_json::from_str(&self.secret.public_key().to_jwk_string()).expect("jwk");
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        let der = self.secret.to_pkcs8_der().expect("pkcs8");
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(der.as_bytes()))
            .expect("signs")
    }
}

/// What the test provider serves.
struct ProviderState {
    /// The `issuer` of the discovery document (normally the provider's URL).
    issuer: String,
    jwks: Value,
    jwks_fetches: AtomicUsize,
}

/// An OpenID provider on a free loopback port.
struct Provider {
    url: String,
    state: Arc<Mutex<ProviderState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Provider {
    async fn start(keys: &[&Key]) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/realms/test",
            listener.local_addr().expect("addr")
        );
        let state = Arc::new(Mutex::new(ProviderState {
            issuer: url.clone(),
            jwks: json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}),
            jwks_fetches: AtomicUsize::new(0),
        }));
        let app = axum::Router::new()
            .route(
                "/realms/test/.well-known/openid-configuration",
                get(discovery),
            )
            .route("/realms/test/protocol/openid-connect/certs", get(jwks))
            .with_state((url.clone(), state.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Provider { url, state, task }
    }

    fn publish(&self, keys: &[&Key]) {
        self.state.lock().expect("state").jwks =
            json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    }

    fn jwks_fetches(&self) -> usize {
        self.state
            .lock()
            .expect("state")
            .jwks_fetches
            .load(Ordering::SeqCst)
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = (String, Arc<Mutex<ProviderState>>);

async fn discovery(State((url, state)): State<Shared>) -> Json<Value> {
    let issuer = state.lock().expect("state").issuer.clone();
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{url}/protocol/openid-connect/certs"),
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
    }))
}

async fn jwks(State((_, state)): State<Shared>) -> Json<Value> {
    let s = state.lock().expect("state");
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(s.jwks.clone())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Claims of a valid token from `issuer` with write access to everything.
fn claims(issuer: &str) -> Value {
    json!({"sub": "zoe", "name": "Zoé", "iss": issuer, "aud": AUDIENCE,
           "exp": now() + 3600, "iat": now(), "read": ["*"], "write": ["*"]})
}

async fn start_server(dir: &std::path::Path, provider: &Provider) -> TestServer {
    start_server_with(dir, provider, DefaultAccess::None).await
}

async fn start_server_with(
    dir: &std::path::Path,
    provider: &Provider,
    default: DefaultAccess,
) -> TestServer {
    let issuer = provider.url.clone();
    TestServer::start(&test_db(dir), move |cfg| {
        cfg.jwt_secret = None;
        cfg.oidc_issuer = Some(issuer);
        cfg.jwt_audience = Some(AUDIENCE.into());
        cfg.oidc_default_access = default;
    })
    .await
}

/// The HTTP status of a refused y-websocket upgrade, or 101 if it was accepted.
async fn ws_status(server: &TestServer, doc: &str, token: &str) -> (StatusCode, String) {
    let url = server.ws(&format!("/sync/{doc}?token={token}"));
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => (StatusCode::SWITCHING_PROTOCOLS, String::new()),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            (
                StatusCode::from_u16(resp.status().as_u16()).expect("status"),
                body,
            )
        }
        Err(e) => panic!("unexpected connection error: {e}"),
    }
}

/// The status and body of `GET /api/docs/{doc}` with `token`.
async fn rest_get(server: &TestServer, doc: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/docs/{doc}", server.addr))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.bytes().await.expect("body").to_vec())
}

/// Asserts that `token` is refused on y-websocket and REST with `reason` in the answer.
async fn assert_refused(server: &TestServer, doc: &str, token: &str, reason: &str) {
    let (status, body) = ws_status(server, doc, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "y-websocket: {body}");
    assert!(
        body.contains(reason),
        "y-websocket reason {body:?} lacks {reason:?}"
    );
    let (status, body) = rest_get(server, doc, token).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "REST: {body}");
    assert!(
        body.contains(reason),
        "REST reason {body:?} lacks {reason:?}"
    );
}

/// Edits `doc` over y-websocket with `token` and waits until the server's
/// state (read over REST) has the text.
async fn edit_over_websocket(server: &TestServer, doc: &str, token: &str, text: &str) {
    let local = Doc::new();
    let mut client = RustClient::connect(
        &server.ws(&format!("/sync/{doc}?token={token}")),
        local.clone(),
        ClientConfig::y_websocket(),
    )
    .await;
    client
        .pump_until("y-websocket sync", WAIT, |c| {
            c.events.contains(&ClientEvent::Synced)
        })
        .await;
    {
        let t = local.get_or_insert_text("text");
        let mut txn = local.transact_mut();
        let end = t.len(&txn);
        t.insert(&mut txn, end, text);
    }
    // Sends the edit (pump_until flushes before checking its condition).
    client.pump_until("sending the edit", WAIT, |_| true).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (status, state) = rest_get(server, doc, token).await;
        assert_eq!(status, StatusCode::OK);
        let remote = Doc::new();
        remote
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).expect("update"))
            .expect("applies");
        let t = remote.get_or_insert_text("text");
        if t.get_string(&remote.transact()).contains(text) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never had {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_tokens_of_the_discovered_issuer_edit_over_websocket_and_rest() {
    let key = Key::new("k1");
    let provider = Provider::start(&[&key]).await;
    let dir = temp_dir("oidc-ok");
    let server = start_server(&dir, &provider).await;
    let doc = unique(&dir, "oidc");
    let token = key.sign(&claims(&provider.url));
    edit_over_websocket(&server, &doc, &token, "signed by the provider").await;

    // REST writes need write claims; read claims alone read.
    let mut reader = claims(&provider.url);
    reader["write"] = json!([]);
    let reader = key.sign(&reader);
    assert_eq!(rest_get(&server, &doc, &reader).await.0, StatusCode::OK);
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/docs/{doc}/versions", server.addr))
        .bearer_auth(&reader)
        .json(&json!({"name": "v1"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/docs/{doc}/versions", server.addr))
        .bearer_auth(&token)
        .json(&json!({"name": "v1"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_issuer_audience_expiry_key_or_algorithm_is_refused() {
    let key = Key::new("k1");
    let provider = Provider::start(&[&key]).await;
    let dir = temp_dir("oidc-refused");
    let server = start_server(&dir, &provider).await;
    let doc = unique(&dir, "oidc");
    let fetches = provider.jwks_fetches();

    let mut c = claims(&provider.url);
    c["iss"] = json!("http://127.0.0.1:1/realms/other");
    assert_refused(&server, &doc, &key.sign(&c), "another provider (iss)").await;

    let mut c = claims(&provider.url);
    c["aud"] = json!("some-other-app");
    assert_refused(&server, &doc, &key.sign(&c), "another audience (aud)").await;
    let mut c = claims(&provider.url);
    c.as_object_mut().expect("object").remove("aud");
    assert_refused(&server, &doc, &key.sign(&c), "aud").await;

    let mut c = claims(&provider.url);
    c["exp"] = json!(now() - 600);
    assert_refused(&server, &doc, &key.sign(&c), "token expired").await;

    // Signed by a key the provider never published, under its key id.
    let mut impostor = Key::new("k1");
    assert_refused(
        &server,
        &doc,
        &impostor.sign(&claims(&provider.url)),
        "invalid token",
    )
    .await;
    // Under a key id of its own: the JWKS is fetched again, in vain.
    impostor.kid = "k-unknown".into();
    assert_refused(
        &server,
        &doc,
        &impostor.sign(&claims(&provider.url)),
        "unknown signing key",
    )
    .await;
    assert_eq!(
        provider.jwks_fetches(),
        fetches + 1,
        "one refresh, then rate-limited"
    );

    // The classic algorithm confusion: HS256 with the public key as secret.
    let public_pem = key
        .secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("pem");
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&provider.url),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("signs");
    assert_refused(&server, &doc, &forged, "HS256 tokens are not accepted").await;

    // And the genuine token still works after all that.
    let (status, _) = ws_status(&server, &doc, &key.sign(&claims(&provider.url))).await;
    assert_eq!(status, StatusCode::SWITCHING_PROTOCOLS);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_fetched_on_an_unknown_kid_at_most_every_30_s() {
    let old = Key::new("2024");
    let provider = Provider::start(&[&old]).await;
    let dir = temp_dir("oidc-rotation");
    let server = start_server(&dir, &provider).await;
    let doc = unique(&dir, "rotation");
    let fetches = provider.jwks_fetches();

    // The provider rotates: the new key replaces the old one.
    let new = Key::new("2025");
    provider.publish(&[&new]);
    edit_over_websocket(
        &server,
        &doc,
        &new.sign(&claims(&provider.url)),
        "after rotation",
    )
    .await;
    assert_eq!(provider.jwks_fetches(), fetches + 1);
    // The dropped key is no longer accepted.
    assert_refused(
        &server,
        &doc,
        &old.sign(&claims(&provider.url)),
        "unknown signing key",
    )
    .await;

    // A second rotation within 30 s is not fetched: the refresh is rate-limited.
    let newer = Key::new("2026");
    provider.publish(&[&new, &newer]);
    assert_refused(
        &server,
        &doc,
        &newer.sign(&claims(&provider.url)),
        "unknown signing key",
    )
    .await;
    assert_eq!(provider.jwks_fetches(), fetches + 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_tokens_without_claims_get_the_default_access() {
    let key = Key::new("k1");
    let provider = Provider::start(&[&key]).await;
    let sso = key.sign(&json!({
        "sub": "f:1234", "preferred_username": "zoe", "iss": provider.url,
        "aud": [AUDIENCE, "account"], "exp": now() + 3600, "typ": "Bearer"
    }));

    let dir = temp_dir("oidc-default-none");
    let server = start_server(&dir, &provider).await;
    let doc = unique(&dir, "sso");
    let (status, body) = ws_status(&server, &doc, &sso).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    server.stop().await;

    let dir = temp_dir("oidc-default-read");
    let server = start_server_with(&dir, &provider, DefaultAccess::Read).await;
    assert_eq!(rest_get(&server, &doc, &sso).await.0, StatusCode::OK);
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/docs/{doc}/update", server.addr))
        .bearer_auth(&sso)
        .body(Vec::<u8>::new())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    server.stop().await;

    let dir = temp_dir("oidc-default-write");
    let server = start_server_with(&dir, &provider, DefaultAccess::Write).await;
    edit_over_websocket(&server, &doc, &sso, "single sign-on").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_mismatched_issuer_stops_startup() {
    let dir = temp_dir("oidc-startup");
    // A port that was free a moment ago: nothing listens there now.
    let free = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let issuer = format!("http://{free}/realms/gone");
    let cfg = atelier_server::config::Config {
        db: test_db(&dir),
        oidc_issuer: Some(issuer.clone()),
        ..Default::default()
    };
    let err = atelier_server::build_state(cfg)
        .await
        .err()
        .expect("refuses to start")
        .to_string();
    assert!(
        err.contains(&format!("{issuer}/.well-known/openid-configuration")),
        "{err}"
    );

    let key = Key::new("k1");
    let provider = Provider::start(&[&key]).await;
    provider.state.lock().expect("state").issuer = "https://elsewhere.example/realms/test".into();
    let cfg = atelier_server::config::Config {
        db: test_db(&dir),
        oidc_issuer: Some(provider.url.clone()),
        ..Default::default()
    };
    let err = atelier_server::build_state(cfg)
        .await
        .err()
        .expect("refuses to start")
        .to_string();
    assert!(err.contains("elsewhere.example"), "{err}");
}
