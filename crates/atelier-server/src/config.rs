//! Server configuration: command-line flags, each with an environment
//! variable, over an optional TOML file, over defaults that start a working
//! single-machine server (`atelier serve` with no flags).

use crate::auth::DefaultAccess;
use crate::error::{StartError, setting};
use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `atelier serve` options. Precedence: flag > environment > TOML file > default.
#[derive(Debug, Clone, Parser, Default)]
#[command(name = "atelier serve", about = "Atelier's Yjs-compatible sync server")]
pub struct ServeArgs {
    /// TOML file with any of the options below (snake_case keys).
    #[arg(long, env = "ATELIER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ATELIER_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Store URL: a SQLite path (`sqlite://data/atelier.db`) or `postgres://…`
    /// [default: sqlite://data/atelier.db].
    #[arg(long, env = "ATELIER_DB")]
    pub db: Option<String>,
    /// Redis URL (`redis://host:6379/`) for several nodes sharing a
    /// PostgreSQL store: updates and awareness accepted on one node reach
    /// the document's clients on every other node [default: none, one node].
    #[arg(long, env = "ATELIER_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// Directory of static files served at `/` (the gallery) [default: www].
    #[arg(long, env = "ATELIER_WWW")]
    pub www: Option<PathBuf>,
    /// Content-Security-Policy sent with the files of `--www`; widen it when
    /// serving pages that need more, or give an empty value to send none
    /// (a proxy in front sets its own) [default: the strict policy the
    /// widgets need, `atelier_server::security_headers::DEFAULT_CSP`].
    #[arg(long, env = "ATELIER_CSP", value_name = "POLICY")]
    pub csp: Option<String>,
    /// Accept connections without a token, with read-write access (development only).
    #[arg(long, env = "ATELIER_ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,
    /// Secret for HS256 bearer tokens (development).
    #[arg(long, env = "ATELIER_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// OpenID Connect issuer URL (Keycloak: `https://host/realms/NAME`). At
    /// startup the server reads `{issuer}/.well-known/openid-configuration`
    /// and its `jwks_uri`, and refuses to start if it cannot; RS256/ES256
    /// tokens must then be signed by those keys (refreshed every 10 minutes
    /// and on an unknown `kid`) and carry `iss` = this URL.
    #[arg(long, env = "ATELIER_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Access on every document for OIDC tokens without `read`/`write`
    /// claims (plain SSO tokens): `read`, `chat` (read the text, write its
    /// chat), `write` or `none` [default: none].
    #[arg(long, env = "ATELIER_OIDC_DEFAULT_ACCESS", value_enum)]
    pub oidc_default_access: Option<DefaultAccess>,
    /// Expected `aud` claim of tokens, if any (then required).
    #[arg(long, env = "ATELIER_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Cookie-forwarding authorization (La Suite Docs style): for clients
    /// without a token, `GET {URL}?document=NAME` with the client's `Cookie`
    /// and `Authorization` headers must answer 200
    /// `{"access": "read"|"write"|"none", "user": ID, "name": NAME}` within
    /// 3 s; answers are cached for 30 s.
    #[arg(long, env = "ATELIER_AUTH_URL", value_name = "URL")]
    pub auth_url: Option<String>,
    /// Largest WebSocket message accepted, in bytes [default: 4 MiB].
    #[arg(long, env = "ATELIER_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Largest document (encoded state) accepted, in bytes [default: 64 MiB].
    #[arg(long, env = "ATELIER_MAX_DOCUMENT_BYTES")]
    pub max_document_bytes: Option<usize>,
    /// Deepest nesting of shared types an update may create: a `blockGroup`
    /// in the root is 1, each level of nested blocks adds 2 [default: 128,
    /// at most 256]. Deeper updates are refused, and the connection closes
    /// naming this limit.
    #[arg(long, env = "ATELIER_MAX_NESTING_DEPTH")]
    pub max_nesting_depth: Option<usize>,
    /// Most simultaneous connections per user [default: 32].
    #[arg(long, env = "ATELIER_MAX_CONNECTIONS_PER_USER")]
    pub max_connections_per_user: Option<usize>,
    /// Most simultaneous connections per client IP [default: 128].
    #[arg(long, env = "ATELIER_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// Most document updates per connection per second [default: 200].
    #[arg(long, env = "ATELIER_MAX_UPDATES_PER_SECOND")]
    pub max_updates_per_second: Option<u32>,
    /// Compact a document's log once it holds this many updates [default: 500].
    #[arg(long, env = "ATELIER_COMPACT_EVERY")]
    pub compact_every: Option<usize>,
    /// Save an automatic version every this many seconds of editing [default: 600].
    #[arg(long, env = "ATELIER_VERSION_INTERVAL_SECS")]
    pub version_interval_secs: Option<u64>,
    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "ATELIER_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// The AI endpoint's options (`--ai-*`).
    #[command(flatten)]
    pub ai: crate::ai_config::AiArgs,
    /// The Matrix bridge's options (`--matrix-*`).
    #[command(flatten)]
    pub matrix: crate::matrix_config::MatrixArgs,
}

/// The TOML file's shape: the same options, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    db: Option<String>,
    redis: Option<String>,
    www: Option<PathBuf>,
    csp: Option<String>,
    allow_anonymous: Option<bool>,
    jwt_secret: Option<String>,
    oidc_issuer: Option<String>,
    oidc_default_access: Option<DefaultAccess>,
    jwt_audience: Option<String>,
    auth_url: Option<String>,
    max_message_bytes: Option<usize>,
    max_document_bytes: Option<usize>,
    max_nesting_depth: Option<usize>,
    max_connections_per_user: Option<usize>,
    max_connections_per_ip: Option<usize>,
    max_updates_per_second: Option<u32>,
    compact_every: Option<usize>,
    version_interval_secs: Option<u64>,
    log_format: Option<String>,
    ai_url: Option<String>,
    ai_model: Option<String>,
    ai_key_file: Option<PathBuf>,
    ai_model_path: Option<PathBuf>,
    ai_rate_user: Option<String>,
    ai_rate_document: Option<String>,
    ai_timeout_secs: Option<u64>,
    matrix_homeserver: Option<String>,
    matrix_user: Option<String>,
    matrix_password_file: Option<PathBuf>,
    matrix_access_token_file: Option<PathBuf>,
    matrix_appservice_registration: Option<PathBuf>,
    matrix_links: Option<Vec<String>>,
    matrix_links_file: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Store URL.
    pub db: String,
    /// Redis URL for the fan-out between nodes.
    pub redis: Option<String>,
    /// Static files directory.
    pub www: PathBuf,
    /// Content-Security-Policy of the static files (empty: none).
    pub csp: String,
    /// Anonymous read-write access.
    pub allow_anonymous: bool,
    /// HS256 secret.
    pub jwt_secret: Option<String>,
    /// OIDC issuer.
    pub oidc_issuer: Option<String>,
    /// Access of OIDC tokens without document claims.
    pub oidc_default_access: DefaultAccess,
    /// Expected audience.
    pub jwt_audience: Option<String>,
    /// Cookie-forwarding authorization service.
    pub auth_url: Option<String>,
    /// Message size cap.
    pub max_message_bytes: usize,
    /// Document size cap.
    pub max_document_bytes: usize,
    /// Nesting depth cap of updates (`atelier_sync::Limits::max_nesting_depth`).
    pub max_nesting_depth: usize,
    /// Connections per user cap.
    pub max_connections_per_user: usize,
    /// Connections per IP cap.
    pub max_connections_per_ip: usize,
    /// Updates per connection per second cap.
    pub max_updates_per_second: u32,
    /// Seconds a Hocuspocus connection may stay open before any of its
    /// documents is authenticated (30): a client that connects and never
    /// authenticates does not hold its slot for ever.
    pub auth_timeout_secs: u64,
    /// Seconds a frame may wait for a peer that reads nothing (20): past
    /// it, the connection is dropped, so a client that stops reading holds
    /// at most the bounded queues, never the server's time.
    pub send_timeout_secs: u64,
    /// Log length that triggers compaction.
    pub compact_every: usize,
    /// Automatic version interval.
    pub version_interval_secs: u64,
    /// `text` or `json`.
    pub log_format: String,
    /// The AI endpoint's options.
    pub ai: crate::ai_config::AiConfig,
    /// The Matrix bridge, when a chat is linked to a room.
    pub matrix: Option<crate::matrix_config::MatrixConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "sqlite://data/atelier.db".into(),
            redis: None,
            www: PathBuf::from("www"),
            csp: crate::security_headers::DEFAULT_CSP.into(),
            allow_anonymous: false,
            jwt_secret: None,
            oidc_issuer: None,
            oidc_default_access: DefaultAccess::None,
            jwt_audience: None,
            auth_url: None,
            max_message_bytes: 4 << 20,
            max_document_bytes: 64 << 20,
            max_nesting_depth: atelier_sync::Limits::default().max_nesting_depth,
            max_connections_per_user: 32,
            max_connections_per_ip: 128,
            max_updates_per_second: 200,
            auth_timeout_secs: 30,
            send_timeout_secs: 20,
            compact_every: 500,
            version_interval_secs: 600,
            log_format: "text".into(),
            ai: Default::default(),
            matrix: None,
        }
    }
}

impl Config {
    /// The protocol limits every connection and room enforces.
    pub fn limits(&self) -> atelier_sync::Limits {
        atelier_sync::Limits {
            max_message_bytes: self.max_message_bytes,
            max_document_bytes: self.max_document_bytes.max(self.max_message_bytes),
            max_update_bytes: self.max_message_bytes,
            max_nesting_depth: self.max_nesting_depth,
            ..atelier_sync::Limits::default()
        }
    }

    /// Resolves flags and environment over the TOML file over defaults.
    pub fn resolve(args: ServeArgs) -> Result<Config, StartError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| setting(format!("cannot read config {}: {e}", path.display())))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| setting(format!("invalid config {}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let d = Config::default();
        let cfg = Config {
            addr: args.addr.or(file.addr).unwrap_or(d.addr),
            db: args.db.or(file.db).unwrap_or(d.db),
            redis: args.redis.or(file.redis),
            www: args.www.or(file.www).unwrap_or(d.www),
            csp: args.csp.or(file.csp).unwrap_or(d.csp),
            allow_anonymous: args.allow_anonymous || file.allow_anonymous.unwrap_or(false),
            jwt_secret: args.jwt_secret.or(file.jwt_secret),
            oidc_issuer: args.oidc_issuer.or(file.oidc_issuer),
            oidc_default_access: args
                .oidc_default_access
                .or(file.oidc_default_access)
                .unwrap_or(d.oidc_default_access),
            jwt_audience: args.jwt_audience.or(file.jwt_audience),
            auth_url: args.auth_url.or(file.auth_url),
            max_message_bytes: args
                .max_message_bytes
                .or(file.max_message_bytes)
                .unwrap_or(d.max_message_bytes),
            max_document_bytes: args
                .max_document_bytes
                .or(file.max_document_bytes)
                .unwrap_or(d.max_document_bytes),
            max_nesting_depth: args
                .max_nesting_depth
                .or(file.max_nesting_depth)
                .unwrap_or(d.max_nesting_depth),
            max_connections_per_user: args
                .max_connections_per_user
                .or(file.max_connections_per_user)
                .unwrap_or(d.max_connections_per_user),
            max_connections_per_ip: args
                .max_connections_per_ip
                .or(file.max_connections_per_ip)
                .unwrap_or(d.max_connections_per_ip),
            max_updates_per_second: args
                .max_updates_per_second
                .or(file.max_updates_per_second)
                .unwrap_or(d.max_updates_per_second),
            auth_timeout_secs: d.auth_timeout_secs,
            send_timeout_secs: d.send_timeout_secs,
            compact_every: args
                .compact_every
                .or(file.compact_every)
                .unwrap_or(d.compact_every),
            version_interval_secs: args
                .version_interval_secs
                .or(file.version_interval_secs)
                .unwrap_or(d.version_interval_secs),
            log_format: args.log_format.or(file.log_format).unwrap_or(d.log_format),
            ai: crate::ai_config::AiConfig::resolve(
                args.ai,
                crate::ai_config::AiFileOptions {
                    ai_url: file.ai_url,
                    ai_model: file.ai_model,
                    ai_key_file: file.ai_key_file,
                    ai_model_path: file.ai_model_path,
                    ai_rate_user: file.ai_rate_user,
                    ai_rate_document: file.ai_rate_document,
                    ai_timeout_secs: file.ai_timeout_secs,
                },
            )?,
            matrix: crate::matrix_config::MatrixConfig::resolve(
                args.matrix,
                crate::matrix_config::MatrixFileOptions {
                    matrix_homeserver: file.matrix_homeserver,
                    matrix_user: file.matrix_user,
                    matrix_password_file: file.matrix_password_file,
                    matrix_access_token_file: file.matrix_access_token_file,
                    matrix_appservice_registration: file.matrix_appservice_registration,
                    matrix_links: file.matrix_links,
                    matrix_links_file: file.matrix_links_file,
                },
            )?,
        };
        let mut cfg = cfg;
        crate::security_headers::check_csp(&cfg.csp).map_err(setting)?;
        // Readers of a document stop at MAX_READ_DEPTH: accepting deeper
        // updates would store what no export or editor shows.
        if !(1..=atelier_doc::depth::MAX_READ_DEPTH).contains(&cfg.max_nesting_depth) {
            return Err(setting(format!(
                "max_nesting_depth {} is outside 1..={}: readers of a document stop at {}",
                cfg.max_nesting_depth,
                atelier_doc::depth::MAX_READ_DEPTH,
                atelier_doc::depth::MAX_READ_DEPTH
            )));
        }
        if !cfg.allow_anonymous
            && cfg.jwt_secret.is_none()
            && cfg.oidc_issuer.is_none()
            && cfg.auth_url.is_none()
        {
            // `atelier serve` with no flags must just work on a developer's
            // machine, but never expose unauthenticated documents to a network.
            if cfg.addr.ip().is_loopback() {
                tracing::warn!(
                    "no --jwt-secret, --oidc-issuer or --auth-url: anonymous read-write access on loopback only"
                );
                cfg.allow_anonymous = true;
            } else {
                return Err(setting(format!(
                    "no way to authenticate clients on {}: pass --jwt-secret, --oidc-issuer or --auth-url (or --allow-anonymous to accept anyone)",
                    cfg.addr
                )));
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_over_defaults() {
        let dir = tempfile::Builder::new()
            .prefix("atelier-cfg-")
            .tempdir()
            .expect("tmp dir");
        let path = dir.path().join("a.toml");
        std::fs::write(
            &path,
            "db = \"sqlite:///tmp/x.db\"\nmax_message_bytes = 10\nallow_anonymous = true\n",
        )
        .expect("write");
        let args = ServeArgs {
            config: Some(path.clone()),
            max_message_bytes: Some(20),
            ..Default::default()
        };
        let cfg = Config::resolve(args).expect("valid");
        assert_eq!(cfg.db, "sqlite:///tmp/x.db");
        assert_eq!(cfg.max_message_bytes, 20);
        assert_eq!(cfg.addr, Config::default().addr);
        std::fs::write(&path, "no_such_option = 1\n").expect("write");
        let err = Config::resolve(ServeArgs {
            config: Some(path),
            ..Default::default()
        });
        assert!(err.is_err());
    }

    #[test]
    fn no_flags_means_anonymous_on_loopback_only() {
        let cfg = Config::resolve(ServeArgs::default()).expect("defaults start");
        assert!(cfg.allow_anonymous);
        let public = ServeArgs {
            addr: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            ..Default::default()
        };
        assert!(Config::resolve(public).is_err());
    }

    #[test]
    fn csp_defaults_to_the_strict_policy_and_is_configurable() {
        let cfg = Config::resolve(ServeArgs::default()).expect("defaults start");
        assert_eq!(cfg.csp, crate::security_headers::DEFAULT_CSP);
        let dir = tempfile::Builder::new()
            .prefix("atelier-cfg-")
            .tempdir()
            .expect("tmp dir");
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "csp = \"default-src 'self'\"\n").expect("write");
        let from_file = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(from_file).expect("valid").csp,
            "default-src 'self'"
        );
        let flag = ServeArgs {
            config: Some(path),
            csp: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(Config::resolve(flag).expect("valid").csp, "");
        let err = Config::resolve(ServeArgs {
            csp: Some("default-src 'self'\r\nX-Evil: 1".into()),
            ..Default::default()
        })
        .expect_err("two header lines");
        assert!(err.to_string().contains("--csp"), "{err}");
    }

    #[test]
    fn nesting_depth_is_configurable_up_to_what_readers_follow() {
        // Atelier writes up to the default, so servers accept it by default.
        assert_eq!(
            Config::default().max_nesting_depth,
            atelier_doc::depth::MAX_NESTING_DEPTH
        );
        let dir = tempfile::Builder::new()
            .prefix("atelier-cfg-")
            .tempdir()
            .expect("tmp dir");
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "max_nesting_depth = 200\n").expect("write");
        let cfg = Config::resolve(ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(cfg.limits().max_nesting_depth, 200);
        for refused in [0, atelier_doc::depth::MAX_READ_DEPTH + 1] {
            let err = Config::resolve(ServeArgs {
                max_nesting_depth: Some(refused),
                ..Default::default()
            })
            .expect_err("outside the range");
            assert!(err.to_string().contains("max_nesting_depth"), "{err}");
        }
    }
}
