//! The few calls of the Matrix client-server API (v3) the bot makes, over
//! plain HTTP: log in, join, send, redact, sync, read a member's name.
//!
//! Spoken by hand rather than through `matrix-sdk`: the bot's unencrypted
//! relay needs a handful of endpoints, with transaction ids and sync tokens
//! under the bridge's control. Measured on a 2-core machine (`-j 2`, cold):
//! `matrix-sdk` 0.18 with `e2e-encryption` builds in about 270 s, 95 s more
//! with its `sqlite` store (which a persistent crypto store needs), and
//! brings reqwest 0.13 beside the server's 0.12; the whole server without
//! the embedded model builds in about 150 s. Encrypted rooms will need the
//! SDK's crypto (Olm/Megolm sessions, device keys, key sharing): this
//! module is what it would replace, behind a feature.

use crate::Error;
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};
use std::time::Duration;

/// Device id the bot logs in with: a fixed one, so that the homeserver
/// deduplicates a send retried after a restart (transaction ids are
/// scoped to a device) and the bot does not pile up devices.
pub const DEVICE_ID: &str = "ATELIERBRIDGE";

/// Longest a `/sync` long poll waits on the homeserver.
const SYNC_TIMEOUT: Duration = Duration::from_secs(25);

/// How the bot proves who it is.
#[derive(Clone)]
pub enum Credentials {
    /// An access token obtained elsewhere (for example from an admin).
    AccessToken(String),
    /// A user (`@bot:server` or `bot`) and password, to log in with.
    Password {
        /// The user id or localpart.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never show in logs.
        match self {
            Credentials::AccessToken(_) => f.write_str("AccessToken(…)"),
            Credentials::Password { user, .. } => write!(f, "Password({user}, …)"),
        }
    }
}

/// A logged-in Matrix client: the bot of bot mode, or in application
/// service mode the service's bridge bot (its `as_token`), possibly acting
/// as one of its puppets ([`Client::acting_as`]).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
    user_id: String,
    /// Application service mode: the puppet every call is made as
    /// (`?user_id=`), `None` for the bridge bot itself.
    act_as: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// One `/sync` answer, reduced to one room.
#[derive(Debug, Default)]
pub struct SyncBatch {
    /// The token to pass as `since` next time.
    pub next_batch: String,
    /// The room's timeline events since the last sync, oldest first.
    pub events: Vec<Value>,
    /// Whether the timeline was cut (more events happened than the
    /// filter's limit); `prev_batch` pages back to them.
    pub limited: bool,
    /// Token to page back from the first of `events` with `/messages`.
    pub prev_batch: Option<String>,
    /// The room's state events in the batch (member names).
    pub state: Vec<Value>,
}

impl Client {
    /// Connects to the homeserver at `homeserver` (`https://matrix.example`)
    /// and logs in, or checks the access token with `/account/whoami`.
    pub async fn login(homeserver: &str, creds: &Credentials) -> Result<Client, Error> {
        let mut base = Url::parse(homeserver)
            .map_err(|e| Error::Config(format!("invalid homeserver URL {homeserver}: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Above the long poll, so a sync is never cut by the client.
            .timeout(SYNC_TIMEOUT + Duration::from_secs(20))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let mut client = Client {
            http,
            base,
            token: String::new(),
            user_id: String::new(),
            act_as: None,
        };
        match creds {
            Credentials::AccessToken(token) => {
                client.token = token.clone();
                let who = client
                    .call(Method::GET, &["account", "whoami"], &[], None)
                    .await?;
                client.user_id = str_field(&who, "user_id")?;
            }
            Credentials::Password { user, password } => {
                let body = json!({
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": user},
                    "password": password,
                    "device_id": DEVICE_ID,
                    "initial_device_display_name": "Atelier bridge",
                });
                let answer = client
                    .call(Method::POST, &["login"], &[], Some(&body))
                    .await?;
                client.token = str_field(&answer, "access_token")?;
                client.user_id = str_field(&answer, "user_id")?;
            }
        }
        Ok(client)
    }

    /// The bot's full user id (`@bot:server`), or the puppet's this
    /// client acts as.
    pub fn user_id(&self) -> &str {
        self.act_as.as_deref().unwrap_or(&self.user_id)
    }

    /// The homeserver's name (`example.org` of `@bot:example.org`).
    pub fn server_name(&self) -> &str {
        self.user_id
            .split_once(':')
            .map_or("", |(_, server)| server)
    }

    /// Application service mode: the same client making every call as
    /// `user` (a user of the service's namespace), with the `as_token`.
    pub fn acting_as(&self, user: &str) -> Client {
        Client {
            act_as: Some(user.to_owned()),
            ..self.clone()
        }
    }

    /// Application service mode: registers the puppet `localpart` of the
    /// service's namespace (`m.login.application_service`, no login
    /// made); a puppet registered before is fine.
    pub async fn register_puppet(&self, localpart: &str) -> Result<(), Error> {
        let body = json!({
            "type": "m.login.application_service",
            "username": localpart,
            "inhibit_login": true,
        });
        match self
            .call(Method::POST, &["register"], &[], Some(&body))
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::Refused { errcode, .. }) if errcode == "M_USER_IN_USE" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sets the global display name of this client's user (a puppet's
    /// carries the Atelier display name into every room it is in).
    pub async fn set_display_name(&self, name: &str) -> Result<(), Error> {
        let user = self.user_id().to_owned();
        self.call(
            Method::PUT,
            &["profile", &user, "displayname"],
            &[],
            Some(&json!({"displayname": name})),
        )
        .await
        .map(drop)
    }

    /// Application service mode: asks the homeserver to ping the service
    /// `appservice_id` (`POST /_matrix/client/v1/appservice/{id}/ping`),
    /// which also makes it push at once what it queued while the service
    /// was unreachable.
    pub async fn ping_appservice(&self, appservice_id: &str) -> Result<(), Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the homeserver URL cannot be a base".into()))?
            .pop_if_empty()
            .extend([
                "_matrix",
                "client",
                "v1",
                "appservice",
                appservice_id,
                "ping",
            ]);
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.token)
            .json(&json!({}))
            .send()
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(Error::Unreachable(format!(
            "ping answered {status}: {text}"
        )))
    }

    /// Invites `user` into `room`.
    pub async fn invite(&self, room: &str, user: &str) -> Result<(), Error> {
        self.call(
            Method::POST,
            &["rooms", room, "invite"],
            &[],
            Some(&json!({"user_id": user})),
        )
        .await
        .map(drop)
    }

    /// Joins a room (id or alias) the bot is invited to, or a public one
    /// (idempotent); returns the room id.
    pub async fn join(&self, room: &str) -> Result<String, Error> {
        let answer = self
            .call(Method::POST, &["join", room], &[], Some(&json!({})))
            .await?;
        str_field(&answer, "room_id")
    }

    /// Sends a message event with a transaction id: the homeserver answers
    /// a retried transaction with the event it already made, so a send
    /// repeated after a timeout or a restart appears once. Returns the
    /// event id.
    pub async fn send(
        &self,
        room: &str,
        event_type: &str,
        txn_id: &str,
        content: &Value,
    ) -> Result<String, Error> {
        let answer = self
            .call(
                Method::PUT,
                &["rooms", room, "send", event_type, txn_id],
                &[],
                Some(content),
            )
            .await?;
        str_field(&answer, "event_id")
    }

    /// Redacts an event, idempotently like [`Client::send`].
    pub async fn redact(&self, room: &str, event_id: &str, txn_id: &str) -> Result<(), Error> {
        self.call(
            Method::PUT,
            &["rooms", room, "redact", event_id, txn_id],
            &[],
            Some(&json!({})),
        )
        .await
        .map(drop)
    }

    /// One long poll of `/sync` for one room, from `since` (or an initial
    /// sync that only fetches a token, when `since` is `None`).
    pub async fn sync(&self, room: &str, since: Option<&str>) -> Result<SyncBatch, Error> {
        let filter = json!({
            "presence": {"types": []},
            "account_data": {"types": []},
            "room": {
                "rooms": [room],
                "account_data": {"types": []},
                "ephemeral": {"types": []},
                // The first sync starts the relay: it reads no history.
                "timeline": {"limit": if since.is_some() { 100 } else { 1 }},
            },
        })
        .to_string();
        let timeout = SYNC_TIMEOUT.as_millis().to_string();
        let mut query = vec![("filter", filter.as_str())];
        if let Some(since) = since {
            query.push(("since", since));
            query.push(("timeout", timeout.as_str()));
        }
        let answer = self.call(Method::GET, &["sync"], &query, None).await?;
        let next_batch = str_field(&answer, "next_batch")?;
        let joined = &answer["rooms"]["join"][room];
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        Ok(SyncBatch {
            next_batch,
            events: list(&joined["timeline"]["events"]),
            limited: joined["timeline"]["limited"].as_bool().unwrap_or(false),
            prev_batch: joined["timeline"]["prev_batch"].as_str().map(str::to_owned),
            state: list(&joined["state"]["events"]),
        })
    }

    /// One page of the room's events from `from` back towards `to` (both
    /// sync or pagination tokens), newest first, and the token of the next
    /// page back if there is one.
    pub async fn page_back(
        &self,
        room: &str,
        from: &str,
        to: &str,
    ) -> Result<(Vec<Value>, Option<String>), Error> {
        let query = [("dir", "b"), ("from", from), ("to", to), ("limit", "100")];
        let answer = self
            .call(Method::GET, &["rooms", room, "messages"], &query, None)
            .await?;
        let chunk = answer["chunk"].as_array().cloned().unwrap_or_default();
        let end = answer["end"].as_str().map(str::to_owned);
        let next = if chunk.is_empty() { None } else { end };
        Ok((chunk, next))
    }

    /// Whether the room is end-to-end encrypted (has `m.room.encryption`).
    pub async fn is_encrypted(&self, room: &str) -> Result<bool, Error> {
        match self
            .call(
                Method::GET,
                &["rooms", room, "state", "m.room.encryption", ""],
                &[],
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Refused { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A member's display name in a room, if they set one.
    pub async fn display_name(&self, room: &str, user: &str) -> Result<Option<String>, Error> {
        match self
            .call(
                Method::GET,
                &["rooms", room, "state", "m.room.member", user],
                &[],
                None,
            )
            .await
        {
            Ok(content) => Ok(content["displayname"].as_str().map(str::to_owned)),
            Err(Error::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Calls `/_matrix/client/v3/{path…}` (each part percent-encoded) and
    /// returns the JSON answer, or the homeserver's refusal.
    async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| Error::Config("the homeserver URL cannot be a base".into()))?;
            segments.pop_if_empty().extend(["_matrix", "client", "v3"]);
            segments.extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        if let Some(user) = &self.act_as {
            // The application service API's identity assertion.
            url.query_pairs_mut().append_pair("user_id", user);
        }
        let mut request = self.http.request(method, url);
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let errcode = value["errcode"].as_str().unwrap_or("").to_owned();
        let message = value["error"].as_str().unwrap_or("").to_owned();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = value["retry_after_ms"].as_u64().unwrap_or(1_000);
            return Err(Error::RateLimited(Duration::from_millis(wait)));
        }
        if status.is_server_error() {
            return Err(Error::Unreachable(format!(
                "homeserver answered {status}: {errcode} {message}"
            )));
        }
        Err(Error::Refused {
            status: status.as_u16(),
            errcode,
            message,
        })
    }
}

fn str_field(v: &Value, name: &str) -> Result<String, Error> {
    v[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Protocol(format!("the homeserver's answer has no {name}")))
}
