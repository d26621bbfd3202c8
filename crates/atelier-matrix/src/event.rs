//! Matrix events in and out: what a room's timeline event means for the
//! chat ([`Incoming`]), and the content of the events the bot sends.

use atelier_doc::chat::ChatMessage;
use serde_json::{Value, json};

/// A timeline event that changes the chat.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A new message.
    Message {
        /// Its event id.
        event_id: String,
        /// Who sent it (`@alice:server`).
        sender: String,
        /// When the homeserver received it (ms since the epoch).
        ts: f64,
        /// Its text, without a reply's quoted fallback.
        body: String,
        /// The event it answers (a reply, or a thread's root).
        reply_to: Option<String>,
    },
    /// A new text for an earlier message (`m.replace`).
    Edit {
        /// The edit's own event id.
        event_id: String,
        /// Who edited.
        sender: String,
        /// When.
        ts: f64,
        /// The event edited.
        target: String,
        /// Its new text.
        body: String,
    },
    /// A reaction (`m.annotation`).
    Reaction {
        /// The reaction's event id (a redaction of it takes it back).
        event_id: String,
        /// Who reacted.
        sender: String,
        /// The event reacted to.
        target: String,
        /// The emoji.
        key: String,
    },
    /// A redaction: of a message (a deletion) or of a reaction.
    Redaction {
        /// The redaction's event id.
        event_id: String,
        /// Who redacted.
        sender: String,
        /// The event redacted.
        target: String,
    },
}

impl Incoming {
    /// What a timeline event means for the chat, if anything (state
    /// events, unknown types and malformed content mean nothing).
    pub fn from_event(ev: &Value) -> Option<Incoming> {
        let s = |v: &Value| v.as_str().map(str::to_owned);
        let event_id = s(&ev["event_id"])?;
        let sender = s(&ev["sender"])?;
        let ts = ev["origin_server_ts"].as_f64().unwrap_or(0.0);
        let content = &ev["content"];
        let relates = &content["m.relates_to"];
        match ev["type"].as_str()? {
            "m.room.message" => {
                if relates["rel_type"] == "m.replace" {
                    let new = &content["m.new_content"];
                    return Some(Incoming::Edit {
                        event_id,
                        sender,
                        ts,
                        target: s(&relates["event_id"])?,
                        body: text_of(new).or_else(|| text_of(content))?,
                    });
                }
                let reply_to = s(&relates["m.in_reply_to"]["event_id"]).or_else(|| {
                    (relates["rel_type"] == "m.thread")
                        .then(|| s(&relates["event_id"]))
                        .flatten()
                });
                let mut body = text_of(content)?;
                if reply_to.is_some() {
                    body = strip_reply_fallback(&body).to_owned();
                }
                Some(Incoming::Message {
                    event_id,
                    sender,
                    ts,
                    body,
                    reply_to,
                })
            }
            "m.reaction" if relates["rel_type"] == "m.annotation" => Some(Incoming::Reaction {
                event_id,
                sender,
                target: s(&relates["event_id"])?,
                key: s(&relates["key"])?,
            }),
            "m.room.redaction" => Some(Incoming::Redaction {
                event_id,
                sender,
                // Top level before room version 11, in the content since.
                target: s(&ev["redacts"]).or_else(|| s(&content["redacts"]))?,
            }),
            _ => None,
        }
    }

    /// The event's id.
    pub fn event_id(&self) -> &str {
        match self {
            Incoming::Message { event_id, .. }
            | Incoming::Edit { event_id, .. }
            | Incoming::Reaction { event_id, .. }
            | Incoming::Redaction { event_id, .. } => event_id,
        }
    }

    /// Who sent the event.
    pub fn sender(&self) -> &str {
        match self {
            Incoming::Message { sender, .. }
            | Incoming::Edit { sender, .. }
            | Incoming::Reaction { sender, .. }
            | Incoming::Redaction { sender, .. } => sender,
        }
    }
}

/// A message content's text: `body`, marked for the types that are not
/// plain text.
fn text_of(content: &Value) -> Option<String> {
    let body = content["body"].as_str()?;
    Some(match content["msgtype"].as_str() {
        Some("m.text") | Some("m.notice") | None => body.to_owned(),
        Some("m.emote") => format!("* {body}"),
        // Files and images: their name, saying what they are (the chat
        // has no attachments).
        Some(other) => format!("[{}] {body}", other.trim_start_matches("m.")),
    })
}

/// A reply's text without the `> <@user> quoted` lines older clients put
/// before it (the reply fallback, removed from the spec in v1.13).
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    let mut rest = body;
    while let Some(line_end) = rest.find('\n') {
        if !rest.starts_with('>') {
            break;
        }
        rest = &rest[line_end + 1..];
    }
    if rest.starts_with('>') {
        // Nothing but quote.
        return body;
    }
    rest.strip_prefix('\n').unwrap_or(rest)
}

/// Escapes text for `formatted_body` (line breaks as `<br>`).
fn escape_html(text: &str) -> String {
    atelier_doc::html::escape(text).replace('\n', "<br>")
}

/// The name a chat message shows for its author.
pub fn author_name(message: &ChatMessage) -> &str {
    message.fallback_author_name()
}

/// The text part of a relayed message: `Name: text` in `body`, the name in
/// bold in `formatted_body` (bot mode), or the text alone when a puppet
/// sends it under the author's own name (application service mode).
fn text_content(message: &ChatMessage, body: &str, puppet: bool) -> Value {
    if puppet {
        return json!({"msgtype": "m.text", "body": body});
    }
    let name = author_name(message);
    json!({
        "msgtype": "m.text",
        "body": format!("{name}: {body}"),
        "format": "org.matrix.custom.html",
        "formatted_body": format!("<strong>{}</strong>: {}", escape_html(name), escape_html(body)),
    })
}

/// The key the bot's events carry with the chat message id they relay, so
/// that a relay whose record was lost (a crash between send and record)
/// is recognised when it comes back through `/sync`.
pub const MESSAGE_ID_KEY: &str = "org.atelier.message_id";

/// The content the bot sends for a chat message, replying to `reply_to`
/// (the event of the message it answers) if any.
pub fn message_content(message: &ChatMessage, reply_to: Option<&str>) -> Value {
    message_content_as(message, reply_to, false)
}

/// As [`message_content`], without the author's name in the text when
/// `puppet` (the author's puppet sends it).
pub fn message_content_as(message: &ChatMessage, reply_to: Option<&str>, puppet: bool) -> Value {
    let mut content = text_content(message, &message.body, puppet);
    content[MESSAGE_ID_KEY] = json!(message.id);
    if let Some(event) = reply_to {
        content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": event}});
    }
    content
}

/// The content of an edit of `event` to the message's current text.
pub fn edit_content(message: &ChatMessage, event: &str) -> Value {
    edit_content_as(message, event, false)
}

/// As [`edit_content`], for a puppet's own message when `puppet`.
pub fn edit_content_as(message: &ChatMessage, event: &str, puppet: bool) -> Value {
    let new = text_content(message, &message.body, puppet);
    let mut content = text_content(message, &format!("* {}", message.body), puppet);
    content["m.new_content"] = new;
    content["m.relates_to"] = json!({"rel_type": "m.replace", "event_id": event});
    content
}

/// The content of the bot's reaction with `key` to `event`.
pub fn reaction_content(event: &str, key: &str) -> Value {
    json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": event, "key": key}})
}

/// A transaction id part naming a reaction: its generation and the emoji
/// in hex (an emoji is no safe id character).
pub fn reaction_txn_part(what: &str, generation: u32, key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{what}-{generation}-{hex}")
}

/// A transaction id for relaying `what` (`message`, `edit-<ts>`, `redact`)
/// of chat message `id`: the same relay always gets the same id, so the
/// homeserver makes one event of it however often it is sent.
pub fn txn_id(what: &str, id: &str) -> String {
    format!("atelier-{what}-{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_loses_its_quoted_fallback_and_names_its_parent() {
        let ev = json!({
            "type": "m.room.message", "event_id": "$b", "sender": "@a:hs",
            "origin_server_ts": 5,
            "content": {"msgtype": "m.text", "body": "> <@x:hs> first\n> more\n\nthe answer",
                        "m.relates_to": {"m.in_reply_to": {"event_id": "$a"}}},
        });
        assert_eq!(
            Incoming::from_event(&ev),
            Some(Incoming::Message {
                event_id: "$b".into(),
                sender: "@a:hs".into(),
                ts: 5.0,
                body: "the answer".into(),
                reply_to: Some("$a".into()),
            })
        );
    }

    #[test]
    fn a_thread_message_answers_the_thread_root() {
        let ev = json!({
            "type": "m.room.message", "event_id": "$t", "sender": "@a:hs",
            "content": {"msgtype": "m.emote", "body": "waves",
                        "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}},
        });
        assert!(matches!(
            Incoming::from_event(&ev),
            Some(Incoming::Message { reply_to: Some(root), body, .. })
                if root == "$root" && body == "* waves"
        ));
    }

    #[test]
    fn edits_reactions_and_redactions_name_their_target() {
        let edit = json!({
            "type": "m.room.message", "event_id": "$e", "sender": "@a:hs",
            "content": {"msgtype": "m.text", "body": "* fixed",
                        "m.new_content": {"msgtype": "m.text", "body": "fixed"},
                        "m.relates_to": {"rel_type": "m.replace", "event_id": "$a"}},
        });
        assert!(matches!(
            Incoming::from_event(&edit),
            Some(Incoming::Edit { target, body, .. }) if target == "$a" && body == "fixed"
        ));
        let reaction = json!({
            "type": "m.reaction", "event_id": "$r", "sender": "@a:hs",
            "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": "👍"}},
        });
        assert!(matches!(
            Incoming::from_event(&reaction),
            Some(Incoming::Reaction { key, .. }) if key == "👍"
        ));
        let v11 = json!({"type": "m.room.redaction", "event_id": "$x", "sender": "@a:hs",
                         "content": {"redacts": "$a"}});
        assert!(matches!(
            Incoming::from_event(&v11),
            Some(Incoming::Redaction { target, .. }) if target == "$a"
        ));
        let state = json!({"type": "m.room.member", "event_id": "$m", "sender": "@a:hs",
                           "state_key": "@a:hs", "content": {"membership": "join"}});
        assert_eq!(Incoming::from_event(&state), None);
    }

    #[test]
    fn relayed_text_names_the_author_and_escapes_html() {
        let msg = ChatMessage {
            id: "1-0".into(),
            author: "u1".into(),
            author_name: Some("Zoë <admin>".into()),
            ts: 1.0,
            body: "a < b\nc".into(),
            reply_to: None,
            reactions: Default::default(),
            reactor_names: Default::default(),
            edited_ts: None,
            deleted: false,
            item: None,
        };
        let c = message_content(&msg, Some("$p"));
        assert_eq!(c["body"], "Zoë <admin>: a < b\nc");
        assert_eq!(
            c["formatted_body"],
            "<strong>Zoë &lt;admin&gt;</strong>: a &lt; b<br>c"
        );
        assert_eq!(c[MESSAGE_ID_KEY], "1-0");
        assert_eq!(c["m.relates_to"]["m.in_reply_to"]["event_id"], "$p");
    }
}
