//! The Matrix bridge's options: the homeserver, who relays, and which
//! document's chat is linked to which room (`matrix_bridge.rs`).
//!
//! Two modes, chosen by configuration:
//! - **application service** (`--matrix-appservice-registration FILE`):
//!   each Atelier user appears in the room as a puppet of their own. Needs
//!   the homeserver's administrator: the same registration file goes into
//!   the homeserver's `app_service_config_files` (Synapse), its `url` is
//!   this server's base URL (the homeserver pushes events to
//!   `/_matrix/app/v1/transactions/…`), and the homeserver is restarted.
//!   No bot account or password: the registration's `as_token` is the
//!   bridge's credential. Fields: `atelier_matrix::appservice`.
//! - **bot** (`--matrix-user` with a password or access token): one
//!   ordinary account, invited to the room, relays as `Name: text`; needs
//!   nothing from the homeserver's administrator.

use crate::error::{StartError, setting};
use atelier_matrix::appservice::Registration;
use atelier_matrix::client::Credentials;
use serde::Deserialize;
use std::path::PathBuf;

/// `atelier serve` flags of the Matrix bridge (flattened into
/// [`crate::config::ServeArgs`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MatrixArgs {
    /// Matrix homeserver the linked chats are bridged to: the base URL of
    /// its client-server API (`https://matrix.example.org`). Needs
    /// --matrix-user and a password or access token.
    #[arg(long, env = "ATELIER_MATRIX_HOMESERVER", value_name = "URL")]
    pub matrix_homeserver: Option<String>,
    /// The bot account that relays (`@atelier:example.org` or `atelier`),
    /// logged in with the password in --matrix-password-file (else the
    /// environment variable ATELIER_MATRIX_PASSWORD).
    #[arg(long, env = "ATELIER_MATRIX_USER", value_name = "USER")]
    pub matrix_user: Option<String>,
    /// File holding the bot's password.
    #[arg(long, env = "ATELIER_MATRIX_PASSWORD_FILE", value_name = "PATH")]
    pub matrix_password_file: Option<PathBuf>,
    /// File holding an access token of the bot, used instead of logging in
    /// (else the environment variable ATELIER_MATRIX_ACCESS_TOKEN).
    #[arg(long, env = "ATELIER_MATRIX_ACCESS_TOKEN_FILE", value_name = "PATH")]
    pub matrix_access_token_file: Option<PathBuf>,
    /// Application service mode: the registration file (YAML) the
    /// homeserver loads from its `app_service_config_files`. Each Atelier
    /// user then appears as their own Matrix user; no bot account is
    /// needed, and the homeserver pushes events to this server's
    /// `/_matrix/app/v1/transactions`.
    #[arg(
        long,
        env = "ATELIER_MATRIX_APPSERVICE_REGISTRATION",
        value_name = "PATH"
    )]
    pub matrix_appservice_registration: Option<PathBuf>,
    /// A document whose chat is bridged to a Matrix room, as
    /// `DOC=!roomid` (or `DOC=#alias:server`); repeat the flag, or
    /// separate links with commas in the environment variable. The bot
    /// joins the room (invite it, or make the room public).
    #[arg(
        long = "matrix-link",
        env = "ATELIER_MATRIX_LINKS",
        value_name = "DOC=ROOM",
        value_delimiter = ','
    )]
    pub matrix_links: Vec<String>,
    /// Where the links made by API (`PUT /api/docs/{doc}/matrix-link`)
    /// are kept across restarts [default: `matrix-links.json` beside the
    /// SQLite file, or in `data/` with PostgreSQL].
    #[arg(long, env = "ATELIER_MATRIX_LINKS_FILE", value_name = "PATH")]
    pub matrix_links_file: Option<PathBuf>,
}

/// The same options in the TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MatrixFileOptions {
    /// `matrix_homeserver`.
    pub matrix_homeserver: Option<String>,
    /// `matrix_user`.
    pub matrix_user: Option<String>,
    /// `matrix_password_file`.
    pub matrix_password_file: Option<PathBuf>,
    /// `matrix_access_token_file`.
    pub matrix_access_token_file: Option<PathBuf>,
    /// `matrix_appservice_registration`.
    pub matrix_appservice_registration: Option<PathBuf>,
    /// `matrix_links`: `["DOC=ROOM", …]`.
    pub matrix_links: Option<Vec<String>>,
    /// `matrix_links_file`.
    pub matrix_links_file: Option<PathBuf>,
}

/// One document's chat linked to one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixLink {
    /// The document (`D`; its chat is `D:chat`).
    pub doc: String,
    /// The room id or alias.
    pub room: String,
}

/// The resolved bridge settings.
#[derive(Debug, Clone)]
pub struct MatrixConfig {
    /// Client-server API base URL.
    pub homeserver: String,
    /// How the bot logs in (in application service mode, the
    /// registration's `as_token`).
    pub credentials: Credentials,
    /// Application service mode's registration; `None` in bot mode.
    pub appservice: Option<Registration>,
    /// The links of the configuration (the API adds others).
    pub links: Vec<MatrixLink>,
    /// Where the API's links are kept; `None`: the default beside the store.
    pub links_file: Option<PathBuf>,
}

fn read_secret(path: &PathBuf, what: &str) -> Result<String, StartError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        setting(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(setting(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    Ok(secret)
}

fn env_secret(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl MatrixConfig {
    /// Flags over the file; `None` when no homeserver is configured. A
    /// homeserver without links is a bridge whose links are all made by API.
    pub fn resolve(
        args: MatrixArgs,
        file: MatrixFileOptions,
    ) -> Result<Option<MatrixConfig>, StartError> {
        let links = if args.matrix_links.is_empty() {
            file.matrix_links.unwrap_or_default()
        } else {
            args.matrix_links
        };
        let homeserver = args.matrix_homeserver.or(file.matrix_homeserver);
        let links_file = args.matrix_links_file.or(file.matrix_links_file);
        let Some(homeserver) = homeserver else {
            if links.is_empty() {
                return Ok(None);
            }
            return Err(setting("--matrix-link needs --matrix-homeserver URL"));
        };
        if !(homeserver.starts_with("http://") || homeserver.starts_with("https://")) {
            return Err(setting(format!(
                "--matrix-homeserver must be an http(s) URL, not {homeserver}"
            )));
        }
        let links = links
            .iter()
            .map(|l| parse_link(l))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(path) = args
            .matrix_appservice_registration
            .or(file.matrix_appservice_registration)
        {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                setting(format!(
                    "cannot read the Matrix application service registration {}: {e}",
                    path.display()
                ))
            })?;
            let registration = Registration::parse(&text)
                .map_err(|e| setting(format!("{}: {e}", path.display())))?;
            return Ok(Some(MatrixConfig {
                homeserver,
                credentials: Credentials::AccessToken(registration.as_token.clone()),
                appservice: Some(registration),
                links,
                links_file,
            }));
        }
        let token = match args
            .matrix_access_token_file
            .or(file.matrix_access_token_file)
        {
            Some(path) => Some(read_secret(&path, "Matrix access token")?),
            None => env_secret("ATELIER_MATRIX_ACCESS_TOKEN"),
        };
        let credentials = match token {
            Some(token) => Credentials::AccessToken(token),
            None => {
                let user = args.matrix_user.or(file.matrix_user).ok_or_else(|| {
                    setting("the Matrix bridge needs --matrix-user (or an access token)")
                })?;
                let password = match args.matrix_password_file.or(file.matrix_password_file) {
                    Some(path) => read_secret(&path, "Matrix password")?,
                    None => env_secret("ATELIER_MATRIX_PASSWORD").ok_or_else(|| {
                        setting(
                            "the Matrix bot needs a password (--matrix-password-file or ATELIER_MATRIX_PASSWORD) or an access token",
                        )
                    })?,
                };
                Credentials::Password { user, password }
            }
        };
        Ok(Some(MatrixConfig {
            homeserver,
            credentials,
            appservice: None,
            links,
            links_file,
        }))
    }
}

fn parse_link(link: &str) -> Result<MatrixLink, StartError> {
    let bad = || {
        setting(format!(
            "--matrix-link {link:?}: expected DOC=!roomid or DOC=#alias:server"
        ))
    };
    let (doc, room) = link.trim().split_once('=').ok_or_else(bad)?;
    let (doc, room) = (doc.trim(), room.trim());
    if !valid_link_doc(doc) || !valid_room(room) {
        return Err(bad());
    }
    Ok(MatrixLink {
        doc: doc.to_owned(),
        room: room.to_owned(),
    })
}

/// Whether `doc` can have its chat linked: a valid document name that is
/// not itself a chat (`D:chat`).
pub fn valid_link_doc(doc: &str) -> bool {
    crate::http::valid_doc_name(doc) && !atelier_sync::is_chat_document(doc)
}

/// Whether `room` names a Matrix room: `!id` (room ids have no server part
/// since room version 12) or `#alias:server`, without spaces or control
/// characters, at most 255 bytes as the spec allows.
pub fn valid_room(room: &str) -> bool {
    room.len() <= 255
        && !room.chars().any(|c| c.is_control() || c.is_whitespace())
        && (room.len() > 1 && room.starts_with('!') || room.starts_with('#') && room.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_need_a_homeserver_and_a_bot() {
        assert!(
            MatrixConfig::resolve(MatrixArgs::default(), Default::default())
                .expect("no bridge")
                .is_none()
        );
        let args = MatrixArgs {
            matrix_links: vec!["notes=!abc:example.org".into()],
            ..Default::default()
        };
        let err = MatrixConfig::resolve(args.clone(), Default::default()).expect_err("no URL");
        assert!(err.to_string().contains("--matrix-homeserver"), "{err}");
        let dir = tempfile::Builder::new()
            .prefix("atelier-matrix-cfg-")
            .tempdir()
            .expect("tmp dir");
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").expect("write");
        let cfg = MatrixConfig::resolve(
            MatrixArgs {
                matrix_homeserver: Some("http://127.0.0.1:8008".into()),
                matrix_user: Some("atelier".into()),
                matrix_password_file: Some(pw),
                ..args
            },
            Default::default(),
        )
        .expect("valid")
        .expect("a bridge");
        assert_eq!(
            cfg.links,
            vec![MatrixLink {
                doc: "notes".into(),
                room: "!abc:example.org".into()
            }]
        );
        assert!(
            matches!(cfg.credentials, Credentials::Password { ref password, .. } if password == "s3cret")
        );
        assert!(
            !format!("{cfg:?}").contains("s3cret"),
            "secrets stay out of logs"
        );
    }

    #[test]
    fn the_toml_file_links_chats_too() {
        let dir = tempfile::Builder::new()
            .prefix("atelier-matrix-cfg-")
            .tempdir()
            .expect("tmp dir");
        let token = dir.path().join("token");
        std::fs::write(&token, "syt_abc\n").expect("write");
        let path = dir.path().join("a.toml");
        std::fs::write(
            &path,
            format!(
                "matrix_homeserver = \"https://matrix.example.org\"\nmatrix_access_token_file = {:?}\nmatrix_links = [\"a=!x\", \"b=#y:example.org\"]\n",
                token.display().to_string()
            ),
        )
        .expect("write");
        let cfg = crate::config::Config::resolve(crate::config::ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .expect("valid");
        let matrix = cfg.matrix.expect("a bridge");
        assert_eq!(matrix.links.len(), 2);
        assert!(matches!(matrix.credentials, Credentials::AccessToken(ref t) if t == "syt_abc"));
    }

    #[test]
    fn a_registration_file_chooses_application_service_mode() {
        let dir = tempfile::Builder::new()
            .prefix("atelier-matrix-cfg-")
            .tempdir()
            .expect("tmp dir");
        let reg = dir.path().join("registration.yaml");
        std::fs::write(
            &reg,
            "id: atelier\nurl: http://127.0.0.1:8080\nas_token: as1\nhs_token: hs1\nsender_localpart: bridge\nnamespaces:\n  users:\n    - exclusive: true\n      regex: '@atelier_.*:example.org'\n",
        )
        .expect("write");
        let cfg = MatrixConfig::resolve(
            MatrixArgs {
                matrix_homeserver: Some("http://127.0.0.1:8008".into()),
                matrix_appservice_registration: Some(reg),
                matrix_links: vec!["notes=!abc".into()],
                ..Default::default()
            },
            Default::default(),
        )
        .expect("valid")
        .expect("a bridge");
        let registration = cfg.appservice.expect("application service mode");
        assert_eq!(registration.puppet_prefix, "atelier_");
        assert!(matches!(cfg.credentials, Credentials::AccessToken(ref t) if t == "as1"));
        let missing = MatrixConfig::resolve(
            MatrixArgs {
                matrix_homeserver: Some("http://127.0.0.1:8008".into()),
                matrix_appservice_registration: Some(dir.path().join("none.yaml")),
                matrix_links: vec!["notes=!abc".into()],
                ..Default::default()
            },
            Default::default(),
        )
        .expect_err("no file");
        assert!(missing.to_string().contains("none.yaml"), "{missing}");
    }

    #[test]
    fn a_link_names_a_document_and_a_room() {
        for bad in [
            "notes",
            "notes=abc",
            "=!a:b",
            "notes:chat=!a:b",
            "notes=#nocolon",
            "notes=!",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_link("a b=#room:hs").expect("valid").room, "#room:hs");
        assert_eq!(
            parse_link("notes=!B4yxFADSMByAaP6qQOjA")
                .expect("a room v12 id")
                .room,
            "!B4yxFADSMByAaP6qQOjA"
        );
    }
}
