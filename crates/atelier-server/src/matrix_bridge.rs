//! The Matrix bridge: for each link (`--matrix-link DOC=ROOM`, or made by
//! API: `matrix_links.rs`), the chat of `DOC`
//! (the document `DOC:chat`) is relayed into the room, and the room's
//! messages into the chat under their senders' display names
//! (`atelier_matrix`). In bot mode one bot account sends as `Name: text`
//! and reads the room with `/sync`; in application service mode each
//! Atelier user's puppet sends their messages, and the homeserver pushes
//! the room's events (`matrix_appservice.rs`). `matrix_config.rs` says
//! what each mode needs.
//!
//! Each link keeps its chat document loaded (a membership of the room, as a
//! connection would) and runs two loops:
//! - out: on every update of the chat, the messages, edits and deletions
//!   the room lacks (`Ledger::pending`) are sent in chat order, each with a
//!   transaction id made from the message id, so a send repeated after a
//!   timeout or a restart makes one event; then recorded in the ledger. A
//!   homeserver that is down or slow leaves them pending, and they go once
//!   it answers: the chat document is the durable queue. A refusal is
//!   recorded as the message's failure and not retried.
//! - in: `/sync` long polls of the room; each batch of events is applied
//!   to the chat together with the new sync token, in one update. In
//!   application service mode, each push of the homeserver instead; the
//!   ledger drops events it applied before either way.
//!
//! The bridge writes like any collaborator: an update made on a copy of the
//! document by a client id of its own, applied through
//! [`Room::apply_update`] (checked, stored before it counts, broadcast).

use crate::matrix_appservice::{Appservice, Pushed};
use crate::matrix_config::MatrixLink;
use crate::room::{ConnId, Room, RoomError, Rooms};
use atelier_doc::chat::ChatMessage;
use atelier_matrix::Error as MatrixError;
use atelier_matrix::client::{Client, Credentials};
use atelier_matrix::event::{self, Incoming, MESSAGE_ID_KEY};
use atelier_matrix::ledger::{Ledger, Outgoing};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// First wait after a failure; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between two tries while the homeserver is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Most pages of 100 events fetched to fill one timeline gap (a bridge
/// down so long that more happened is not filled completely).
const MAX_GAP_PAGES: usize = 50;
/// How often the out loop looks at the chat without being woken, so a
/// wake-up lost to a lagging broadcast delays a message, never loses it.
const RECHECK: Duration = Duration::from_secs(10);

/// A doubling wait, reset on success.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(MIN_BACKOFF)
    }

    async fn wait(&mut self, hint: Option<Duration>) {
        let wait = hint.unwrap_or(self.0).min(Duration::from_secs(60));
        tokio::time::sleep(wait).await;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
    }

    fn reset(&mut self) {
        self.0 = MIN_BACKOFF;
    }
}

fn hint(e: &MatrixError) -> Option<Duration> {
    match e {
        MatrixError::RateLimited(d) => Some(*d),
        _ => None,
    }
}

/// Resolves once `cancel` says stop (or its sender is gone).
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|stop| *stop).await;
}

/// Relays one link until `cancel` says stop; failures are logged and
/// retried, none ends it. `matrix_links.rs` starts and stops it.
pub(crate) async fn run_link(
    homeserver: String,
    credentials: Credentials,
    rooms: Arc<Rooms>,
    link: MatrixLink,
    service: Option<Arc<Appservice>>,
    mut cancel: watch::Receiver<bool>,
) {
    let chat_doc = atelier_sync::chat_document_name(&link.doc);
    let mut backoff = Backoff::new();
    loop {
        // Logged in and in the room, however long the homeserver takes to
        // come up or the bot to be invited.
        let (client, room_id, encrypted) = loop {
            let joined = async {
                let client = Client::login(&homeserver, &credentials).await?;
                let room_id = client.join(&link.room).await?;
                let encrypted = client.is_encrypted(&room_id).await?;
                Ok::<_, MatrixError>((client, room_id, encrypted))
            };
            let joined = tokio::select! {
                joined = joined => joined,
                _ = cancelled(&mut cancel) => return,
            };
            match joined {
                Ok(ok) => break ok,
                Err(e) => {
                    tracing::warn!(doc = %link.doc, room = %link.room, error = %e, "Matrix bridge cannot join its room yet");
                    tokio::select! {
                        _ = backoff.wait(hint(&e)) => {}
                        _ = cancelled(&mut cancel) => return,
                    }
                }
            }
        };
        tracing::info!(doc = %link.doc, room = %room_id, bot = %client.user_id(), "Matrix bridge linked");
        if encrypted {
            tracing::error!(doc = %link.doc, room = %room_id, "{}", MatrixError::Encrypted);
        }
        let encrypted = Arc::new(AtomicBool::new(encrypted));
        let pushed = service.as_ref().map(|s| s.attach(&room_id));
        if let Some(service) = &service
            && let Err(e) = client.ping_appservice(&service.registration.id).await
        {
            // Only a hurry-up: the homeserver retries on its own.
            tracing::info!(error = %e, "Matrix application service ping failed");
        }
        loop {
            // A room closed after a storage failure is dropped by `Rooms`:
            // join it again and carry on from what is stored.
            let room = match rooms.join(&chat_doc).await {
                Ok(room) => room,
                Err(e) => {
                    tracing::warn!(doc = %chat_doc, error = %e, "Matrix bridge cannot load the chat");
                    backoff.wait(None).await;
                    continue;
                }
            };
            let conn = rooms.next_conn_id();
            let relay = Relay {
                rooms: rooms.clone(),
                room: room.clone(),
                conn,
                client: client.clone(),
                room_id: room_id.clone(),
                encrypted: encrypted.clone(),
                service: service.clone(),
                pushed: pushed.clone(),
            };
            let stop = tokio::select! {
                stop = relay.run() => Some(stop),
                _ = cancelled(&mut cancel) => None,
            };
            rooms.leave(&room, conn).await;
            let Some(stop) = stop else {
                if let Some(service) = &service {
                    service.detach(&room_id);
                }
                tracing::info!(doc = %link.doc, room = %room_id, "Matrix bridge unlinked");
                return;
            };
            backoff.wait(None).await;
            match stop {
                Stop::Chat(e) => {
                    tracing::warn!(doc = %chat_doc, error = %e, "Matrix bridge paused: the chat could not be written");
                }
                Stop::Relogin => {
                    tracing::warn!(doc = %link.doc, "Matrix bridge logged out by the homeserver; logging in again");
                    break;
                }
            }
        }
    }
}

/// A task that ends with the future holding it: a relay stopped by an
/// unlink drops its future mid-way, and its inbound loop must not outlive it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a relay stopped.
enum Stop {
    /// The chat could not be written (a storage failure).
    Chat(RoomError),
    /// The homeserver no longer takes the bot's access token.
    Relogin,
}

impl From<RoomError> for Stop {
    fn from(e: RoomError) -> Self {
        Stop::Chat(e)
    }
}

/// One link at work: the chat's room and the Matrix room.
#[derive(Clone)]
struct Relay {
    rooms: Arc<Rooms>,
    room: Arc<Room>,
    conn: ConnId,
    client: Client,
    room_id: String,
    /// Whether the room is end-to-end encrypted: then nothing goes out
    /// (clear text in an encrypted room would defeat it) and what comes in
    /// cannot be read.
    encrypted: Arc<AtomicBool>,
    /// Application service mode: puppets send, and the homeserver pushes
    /// the room's events (taken from `pushed`) instead of `/sync`.
    service: Option<Arc<Appservice>>,
    pushed: Option<Pushed>,
}

impl Relay {
    /// Runs both directions until the chat cannot be written or the bot
    /// must log in again.
    async fn run(&self) -> Stop {
        match self.relay_both().await {
            Ok(stop) | Err(stop) => stop,
        }
    }

    async fn relay_both(&self) -> Result<Stop, Stop> {
        self.write(|ledger| ledger.begin()).await?;
        if let Some(pushed) = self.pushed.clone() {
            let mut inbound = AbortOnDrop({
                let relay = self.clone();
                tokio::spawn(async move { relay.inbound_pushed(pushed).await })
            });
            let stop = tokio::select! {
                stop = self.outbound() => stop,
                _ = &mut inbound.0 => Stop::Relogin,
            };
            return Ok(stop);
        }
        let since = match self.write(|ledger| ledger.since()).await? {
            Some(since) => since,
            // The first sync of a new link: the room's history stays out,
            // everything after it comes in.
            None => self.first_token().await?,
        };
        let mut inbound = AbortOnDrop({
            let relay = self.clone();
            tokio::spawn(async move { relay.inbound(since).await })
        });
        let stop = tokio::select! {
            stop = self.outbound() => stop,
            _ = &mut inbound.0 => Stop::Relogin,
        };
        Ok(stop)
    }

    async fn first_token(&self) -> Result<String, Stop> {
        let mut backoff = Backoff::new();
        loop {
            match self.client.sync(&self.room_id, None).await {
                Ok(batch) => {
                    let token = batch.next_batch.clone();
                    self.write(|l| l.set_since(&token)).await?;
                    return Ok(token);
                }
                Err(e) if e.is_unauthorized() => return Err(Stop::Relogin),
                Err(e) => {
                    tracing::warn!(room = %self.room_id, error = %e, "Matrix first sync failed");
                    backoff.wait(hint(&e)).await;
                }
            }
        }
    }

    /// Room → chat, until the homeserver no longer takes the bot's token.
    async fn inbound(&self, mut since: String) {
        let mut names: HashMap<String, String> = HashMap::new();
        let mut backoff = Backoff::new();
        loop {
            let batch = match self.client.sync(&self.room_id, Some(&since)).await {
                Ok(batch) => batch,
                Err(e) if e.is_unauthorized() => return,
                Err(e) => {
                    tracing::warn!(room = %self.room_id, error = %e, "Matrix sync failed");
                    backoff.wait(hint(&e)).await;
                    continue;
                }
            };
            backoff.reset();
            let mut batch = batch;
            if batch.limited
                && let Some(prev) = batch.prev_batch.take()
            {
                // More happened than one sync returns (the bridge was down
                // a long while): fetch the gap between the last sync and
                // this batch, oldest first, before the batch.
                match self.gap(&prev, &since).await {
                    Ok(mut older) => {
                        older.append(&mut batch.events);
                        batch.events = older;
                    }
                    Err(e) => {
                        tracing::warn!(room = %self.room_id, error = %e, "Matrix timeline gap not fetched; retrying");
                        backoff.wait(hint(&e)).await;
                        continue;
                    }
                }
            }
            let next = batch.next_batch.clone();
            match self
                .import(&batch.state, &batch.events, &mut names, Some(&next))
                .await
            {
                Ok(()) => {
                    since = batch.next_batch;
                }
                Err(e) => {
                    // Sync again from the same token: nothing is lost.
                    tracing::warn!(room = %self.room_id, error = %e, "Matrix events not stored; retrying");
                    backoff.wait(None).await;
                }
            }
        }
    }

    /// Room → chat in application service mode: each push of the
    /// homeserver, answered once stored.
    async fn inbound_pushed(&self, pushed: Pushed) {
        let mut names: HashMap<String, String> = HashMap::new();
        let mut pushed = pushed.lock().await;
        while let Some(push) = pushed.recv().await {
            let stored = self.import(&[], &push.events, &mut names, None).await;
            if let Err(e) = &stored {
                tracing::warn!(room = %self.room_id, error = %e, "pushed Matrix events not stored; the homeserver will push them again");
            }
            let _ = push.done.send(stored.is_ok());
        }
    }

    /// Whether `sender` is the bridge itself: the bot, or a puppet.
    fn is_ours(&self, sender: &str) -> bool {
        sender == self.client.user_id()
            || self
                .service
                .as_ref()
                .is_some_and(|s| s.registration.is_puppet(sender))
    }

    /// Applies the room's `events` (and member names from `state`) to the
    /// chat in one update, with the sync token `next` if any.
    async fn import(
        &self,
        state: &[Value],
        events: &[Value],
        names: &mut HashMap<String, String>,
        next: Option<&str>,
    ) -> Result<(), RoomError> {
        for ev in state.iter().chain(events) {
            note_member_name(ev, names);
            if ev["type"] == "m.room.encryption" && !self.encrypted.swap(true, Ordering::SeqCst) {
                tracing::error!(room = %self.room_id, "{}", MatrixError::Encrypted);
            }
        }
        let mut incoming = Vec::new();
        let mut recovered = Vec::new();
        for ev in events {
            let sender = ev["sender"].as_str().unwrap_or_default();
            if self.is_ours(sender) {
                // The bot's own relay coming back: if its record was
                // lost (a crash between send and record), restore it.
                if let (Some(message), Some(event_id)) = (
                    ev["content"][MESSAGE_ID_KEY].as_str(),
                    ev["event_id"].as_str(),
                ) {
                    recovered.push((message.to_owned(), event_id.to_owned()));
                }
                continue;
            }
            // Puppets mentioned in Matrix become the chat's `@id` mentions.
            let rewritten = self
                .service
                .as_ref()
                .and_then(|s| s.registration.mentions_as_atelier(ev));
            if let Some(inc) = Incoming::from_event(rewritten.as_ref().unwrap_or(ev)) {
                incoming.push(inc);
            }
        }
        for inc in &incoming {
            let sender = inc.sender();
            if !names.contains_key(sender) {
                let name = self
                    .client
                    .display_name(&self.room_id, sender)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| localpart(sender).to_owned());
                names.insert(sender.to_owned(), name);
            }
        }
        if incoming.is_empty() && recovered.is_empty() {
            // Nothing for the chat: the token is kept in memory only; a
            // restart syncs from the stored one and finds nothing new.
            return Ok(());
        }
        let next = next.map(str::to_owned);
        let room_id = self.room_id.clone();
        let lookup = names.clone();
        self.write(move |ledger| {
            for (message, event_id) in &recovered {
                if ledger.event_of(message).is_none() {
                    ledger.record_sent(message, event_id);
                }
            }
            for inc in &incoming {
                let name = lookup
                    .get(inc.sender())
                    .map_or_else(|| localpart(inc.sender()), String::as_str);
                if let Err(why) = ledger.apply(inc, name) {
                    tracing::info!(room = %room_id, event = %inc.event_id(), %why, "Matrix event not applied to the chat");
                }
            }
            if let Some(next) = &next {
                ledger.set_since(next);
            }
        })
        .await
    }

    /// The room's events between the sync token `since` and the
    /// pagination token `from`, oldest first.
    async fn gap(&self, from: &str, since: &str) -> Result<Vec<Value>, MatrixError> {
        let mut events = Vec::new();
        let mut from = from.to_owned();
        for _ in 0..MAX_GAP_PAGES {
            let (page, next) = self.client.page_back(&self.room_id, &from, since).await?;
            events.extend(page);
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        events.reverse();
        Ok(events)
    }

    /// Chat → room, until the chat cannot be written or the bot must log
    /// in again.
    async fn outbound(&self) -> Stop {
        match self.send_pending().await {
            Ok(never) => match never {},
            Err(stop) => stop,
        }
    }

    async fn send_pending(&self) -> Result<std::convert::Infallible, Stop> {
        let mut updates = self.room.subscribe();
        let mut backoff = Backoff::new();
        loop {
            let pending = self.write(|ledger| ledger.pending()).await?;
            let mut stalled = None;
            let mut again = false;
            for (i, action) in pending.iter().enumerate() {
                match self.relay(action).await {
                    Ok(record) => {
                        backoff.reset();
                        self.write(move |ledger| record(ledger)).await?;
                        // A reply to the message just sent (both written
                        // during an outage, say) must name its new event:
                        // read what is pending again before sending it.
                        if let Outgoing::Send { message: sent, .. } = action
                            && pending[i + 1..].iter().any(|later| {
                                matches!(later, Outgoing::Send { message, .. }
                                    if message.reply_to.as_deref() == Some(sent.id.as_str()))
                            })
                        {
                            again = true;
                            break;
                        }
                    }
                    Err(e) if e.is_unauthorized() => return Err(Stop::Relogin),
                    Err(e) if e.is_transient() => {
                        // Keep the order: nothing after it goes first.
                        tracing::warn!(room = %self.room_id, error = %e, "Matrix send deferred");
                        stalled = Some(e);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(room = %self.room_id, error = %e, "Matrix refused a relay");
                        if let Outgoing::Send { message, .. } = action {
                            let (id, reason) = (message.id.clone(), e.to_string());
                            self.write(move |ledger| ledger.record_failure(&id, &reason))
                                .await?;
                        } else {
                            // An edit or deletion refused: recorded as done,
                            // so it does not block what follows.
                            let record = done_anyway(action);
                            self.write(move |ledger| record(ledger)).await?;
                        }
                    }
                }
            }
            if let Some(e) = stalled {
                backoff.wait(hint(&e)).await;
                continue;
            }
            if again {
                continue;
            }
            // Until the chat changes (or a while passes).
            let _ = tokio::time::timeout(RECHECK, updates.recv()).await;
            // Collapse a burst of updates into one pass.
            while updates.try_recv().is_ok() {}
        }
    }

    /// Performs one relay; returns how to record it.
    async fn relay(&self, action: &Outgoing) -> Result<Record, MatrixError> {
        if self.encrypted.load(Ordering::SeqCst) {
            return Err(MatrixError::Encrypted);
        }
        match action {
            Outgoing::Send { message, reply_to } => {
                let (sender, puppet) = self.sender_of(message).await?;
                let mut content = event::message_content_as(message, reply_to.as_deref(), puppet);
                self.add_mentions(&mut content, message);
                let txn = event::txn_id("message", &message.id);
                let event_id = sender
                    .send(&self.room_id, "m.room.message", &txn, &content)
                    .await?;
                let id = message.id.clone();
                Ok(Box::new(move |l: &Ledger| l.record_sent(&id, &event_id)))
            }
            Outgoing::Edit { message, event } => {
                let ts = message.edited_ts.unwrap_or_default();
                let (sender, puppet) = self.sender_of(message).await?;
                let mut content = event::edit_content_as(message, event, puppet);
                if let Some(new) = content.get_mut("m.new_content") {
                    self.add_mentions(new, message);
                }
                let txn = event::txn_id(&format!("edit-{ts}"), &message.id);
                sender
                    .send(&self.room_id, "m.room.message", &txn, &content)
                    .await?;
                Ok(done_anyway(action))
            }
            Outgoing::Redact { message, event } => {
                let txn = event::txn_id("redact", message);
                // A puppet takes back its own event; so may the bot, in
                // bot mode (its own) or with the power to redact others'.
                let author = self.chat_author(message).await;
                let sender = match author {
                    Some(m) => self.sender_of(&m).await?.0,
                    None => self.client.clone(),
                };
                sender.redact(&self.room_id, event, &txn).await?;
                Ok(done_anyway(action))
            }
            Outgoing::React {
                message,
                event,
                key,
                generation,
            } => {
                let txn = event::txn_id(
                    &event::reaction_txn_part("react", *generation, key),
                    message,
                );
                let content = event::reaction_content(event, key);
                let reaction = self
                    .client
                    .send(&self.room_id, "m.reaction", &txn, &content)
                    .await?;
                let (id, key) = (message.clone(), key.clone());
                Ok(Box::new(move |l: &Ledger| {
                    l.record_reaction(&id, &key, &reaction)
                }))
            }
            Outgoing::Unreact {
                message,
                key,
                reaction,
                generation,
            } => {
                let txn = event::txn_id(
                    &event::reaction_txn_part("unreact", *generation, key),
                    message,
                );
                // An empty annotation is a reaction the room refused.
                if !reaction.is_empty() {
                    self.client.redact(&self.room_id, reaction, &txn).await?;
                }
                Ok(done_anyway(action))
            }
        }
    }

    /// Who sends `message` into the room, and whether it is the author's
    /// puppet: in application service mode the puppet, registered, named
    /// and in the room first (invited by the bridge bot if it must be);
    /// the bot otherwise.
    async fn sender_of(&self, message: &ChatMessage) -> Result<(Client, bool), MatrixError> {
        let Some(service) = &self.service else {
            return Ok((self.client.clone(), false));
        };
        let reg = &service.registration;
        let localpart = reg.puppet_localpart(&message.author);
        let user_id = format!("@{localpart}:{}", self.client.server_name());
        let name = event::author_name(message).to_owned();
        let puppet = self.client.acting_as(&user_id);
        let key = (user_id.clone(), self.room_id.clone());
        let ready = service
            .puppets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if ready.as_deref() == Some(name.as_str()) {
            return Ok((puppet, true));
        }
        if ready.is_none() {
            self.client.register_puppet(&localpart).await?;
        }
        puppet.set_display_name(&name).await?;
        if ready.is_none() {
            match puppet.join(&self.room_id).await {
                Ok(_) => {}
                Err(MatrixError::Refused { status: 403, .. }) => {
                    self.client.invite(&self.room_id, &user_id).await?;
                    puppet.join(&self.room_id).await?;
                }
                Err(e) => return Err(e),
            }
        }
        service
            .puppets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, name);
        Ok((puppet, true))
    }

    /// Application service mode: the Atelier users `message` mentions
    /// (`@id`) as their puppets in `m.mentions`, so Matrix notifies them
    /// the way it does its own users. (Matrix users cannot be mentioned
    /// from the chat yet: their ids, `matrix:@alice:server`, are not
    /// mentionable as `@id`.)
    fn add_mentions(&self, content: &mut Value, message: &ChatMessage) {
        let Some(service) = &self.service else {
            return;
        };
        let server = self.client.server_name();
        let users: Vec<String> = message
            .mentions()
            .iter()
            .map(|id| format!("@{}:{server}", service.registration.puppet_localpart(id)))
            .collect();
        if !users.is_empty() {
            content["m.mentions"] = serde_json::json!({"user_ids": users});
        }
    }

    /// The chat message `id`, as the chat holds it now.
    async fn chat_author(&self, id: &str) -> Option<ChatMessage> {
        let id = id.to_owned();
        self.write(move |ledger| ledger.chat().message(&id))
            .await
            .ok()
            .flatten()
    }

    /// Runs `f` on the ledger of a copy of the chat, then applies what it
    /// wrote (if anything) to the room as this relay's update.
    async fn write<R>(&self, f: impl FnOnce(&Ledger) -> R) -> Result<R, RoomError> {
        let state = self.room.full_state().await?;
        let (result, update) = edit_copy(&state, f)?;
        if let Some(update) = update {
            self.room
                .apply_update(&self.rooms, self.conn, &update)
                .await?;
        }
        Ok(result)
    }
}

/// How to record a relay once the homeserver took it.
type Record = Box<dyn FnOnce(&Ledger) + Send>;

fn done_anyway(action: &Outgoing) -> Record {
    match action {
        Outgoing::Send { message, .. } => {
            let id = message.id.clone();
            Box::new(move |l: &Ledger| l.record_failure(&id, "not relayed"))
        }
        Outgoing::Edit { message, .. } => {
            let (id, ts) = (message.id.clone(), message.edited_ts.unwrap_or_default());
            Box::new(move |l: &Ledger| l.record_edit(&id, ts))
        }
        Outgoing::Redact { message, .. } => {
            let id = message.clone();
            Box::new(move |l: &Ledger| l.record_redaction(&id))
        }
        Outgoing::React {
            message,
            key,
            generation,
            ..
        } => {
            // A refused reaction is given up: recorded as made, with no event.
            let _ = generation;
            let (id, key) = (message.clone(), key.clone());
            Box::new(move |l: &Ledger| l.record_reaction(&id, &key, ""))
        }
        Outgoing::Unreact {
            message,
            key,
            generation,
            ..
        } => {
            let (id, key, generation) = (message.clone(), key.clone(), *generation);
            Box::new(move |l: &Ledger| l.record_unreaction(&id, &key, generation))
        }
    }
}

/// Runs `f` on a copy of `state` written by a fresh client id; returns its
/// result and the update it made, if it changed anything.
pub(crate) fn edit_copy<R>(
    state: &[u8],
    f: impl FnOnce(&Ledger) -> R,
) -> Result<(R, Option<Vec<u8>>), RoomError> {
    let doc = Doc::with_client_id(bridge_client_id());
    {
        let update = Update::decode_v1(state).map_err(|e| RoomError::Malformed(e.to_string()))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| RoomError::Malformed(e.to_string()))?;
    }
    let ledger = Ledger::new(&doc);
    // The exact updates of the transactions `f` makes (not a diff against
    // `before`, which would carry the document's whole delete set).
    let made: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = made.clone();
    let _ = doc.observe_update_v1("matrix-bridge", move |_, e| {
        if let Ok(mut m) = sink.lock() {
            m.push(e.update.clone());
        }
    });
    let result = f(&ledger);
    let _ = doc.unobserve_update_v1("matrix-bridge");
    let made = std::mem::take(&mut *made.lock().unwrap_or_else(|p| p.into_inner()));
    if made.is_empty() {
        return Ok((result, None));
    }
    let update = yrs::merge_updates_v1(made).map_err(|e| RoomError::Malformed(e.to_string()))?;
    Ok((result, Some(update)))
}

/// A random client id below 2^53 (Yjs ids are JavaScript numbers).
fn bridge_client_id() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::http::now_ms() as u64);
    h.finish() & ((1 << 53) - 1)
}

/// Notes a member's display name from an `m.room.member` event.
fn note_member_name(ev: &Value, names: &mut HashMap<String, String>) {
    if ev["type"] != "m.room.member" {
        return;
    }
    if let (Some(user), Some(name)) = (
        ev["state_key"].as_str(),
        ev["content"]["displayname"].as_str(),
    ) && !name.trim().is_empty()
    {
        names.insert(user.to_owned(), name.to_owned());
    }
}

/// `alice` of `@alice:example.org`.
fn localpart(user: &str) -> &str {
    user.trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or(user)
}
