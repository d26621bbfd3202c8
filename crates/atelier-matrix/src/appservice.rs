//! Application service mode: each Atelier user appears in the room as a
//! Matrix user of their own, a *puppet* (`@atelier_ana:example.org`,
//! display name their Atelier name), the way established bridges do it.
//!
//! What it needs: the homeserver's administrator adds the bridge's
//! registration file to `app_service_config_files` (Synapse) and restarts
//! the homeserver; the Atelier server reads the same file
//! (`--matrix-appservice-registration`). Bot mode needs only an account
//! invited to the room, and relays as `Name: text`.
//!
//! The registration's fields, as the Application Service API defines them:
//! - `id`: any name of the service, unique on the homeserver;
//! - `url`: where the homeserver reaches the Atelier server (its base URL:
//!   the homeserver pushes events to `PUT {url}/_matrix/app/v1/transactions/{txnId}`);
//! - `as_token`: the secret the bridge calls the homeserver with;
//! - `hs_token`: the secret the homeserver pushes with (a push with another
//!   is refused with 403 `M_FORBIDDEN`);
//! - `sender_localpart`: the bridge bot's localpart (it joins the linked
//!   rooms, invites the puppets and reacts for Atelier users);
//! - `namespaces.users`: one entry, `exclusive: true`, whose `regex` is
//!   `@PREFIX.*:SERVER`; puppets are `@PREFIX<Atelier user id>:SERVER`;
//! - `rate_limited: false`, so puppets are not throttled.
//!
//! The file may be YAML (the subset such files use: `key: value` lines,
//! the namespaces as a block list) or JSON, which YAML also reads.

use crate::Error;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};

/// Most transaction ids remembered to answer a repeated push at once.
const REMEMBERED_TXNS: usize = 1_000;

/// What the bridge needs of an application service registration.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// `id`.
    pub id: String,
    /// `url`.
    pub url: String,
    /// `as_token`.
    pub as_token: String,
    /// `hs_token`.
    pub hs_token: String,
    /// `sender_localpart`.
    pub sender_localpart: String,
    /// The puppets' localpart prefix, from the user namespace's regex
    /// (`atelier_` of `@atelier_.*:example.org`).
    pub puppet_prefix: String,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens never show in logs.
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("sender_localpart", &self.sender_localpart)
            .field("puppet_prefix", &self.puppet_prefix)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Reads a registration file's text (YAML or JSON).
    pub fn parse(text: &str) -> Result<Registration, Error> {
        let fields = if text.trim_start().starts_with('{') {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| Error::Config(format!("registration JSON: {e}")))?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let regex = v["namespaces"]["users"][0]["regex"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            [
                s("id"),
                s("url"),
                s("as_token"),
                s("hs_token"),
                s("sender_localpart"),
                regex,
            ]
        } else {
            yaml_fields(text)
        };
        let [id, url, as_token, hs_token, sender_localpart, regex] = fields;
        for (name, value) in [
            ("id", &id),
            ("url", &url),
            ("as_token", &as_token),
            ("hs_token", &hs_token),
            ("sender_localpart", &sender_localpart),
            ("namespaces.users[0].regex", &regex),
        ] {
            if value.is_empty() {
                return Err(Error::Config(format!("the registration has no {name}")));
            }
        }
        let puppet_prefix: String = regex
            .trim_start_matches('^')
            .trim_start_matches('@')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '='))
            .collect();
        if puppet_prefix.is_empty() {
            return Err(Error::Config(format!(
                "the registration's user namespace {regex:?} must start with a fixed prefix, like @atelier_.*:example.org"
            )));
        }
        Ok(Registration {
            id,
            url,
            as_token,
            hs_token,
            sender_localpart,
            puppet_prefix,
        })
    }

    /// The localpart of the puppet of Atelier user `user`: the prefix, then
    /// the id with the characters Matrix does not allow in a localpart
    /// escaped as the specification suggests (`_` before an upper-case
    /// letter made lower-case, `__` for `_`, `=xx` for any other byte), so
    /// two Atelier ids never share a puppet.
    pub fn puppet_localpart(&self, user: &str) -> String {
        let mut out = self.puppet_prefix.clone();
        for b in user.bytes() {
            match b {
                b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'/' => out.push(b as char),
                b'_' => out.push_str("__"),
                b'A'..=b'Z' => {
                    out.push('_');
                    out.push(b.to_ascii_lowercase() as char);
                }
                other => out.push_str(&format!("={other:02x}")),
            }
        }
        out
    }

    /// The Atelier user id a puppet (`@atelier_u-ana:server`) stands for,
    /// the inverse of [`Registration::puppet_localpart`].
    pub fn atelier_user(&self, puppet: &str) -> Option<String> {
        let localpart = puppet.strip_prefix('@')?.split(':').next()?;
        let escaped = localpart.strip_prefix(&self.puppet_prefix)?.as_bytes();
        let mut out = Vec::with_capacity(escaped.len());
        let mut i = 0;
        while i < escaped.len() {
            match escaped[i] {
                b'_' => {
                    let next = *escaped.get(i + 1)?;
                    out.push(if next == b'_' {
                        b'_'
                    } else {
                        next.to_ascii_uppercase()
                    });
                    i += 2;
                }
                b'=' => {
                    let hex = std::str::from_utf8(escaped.get(i + 1..i + 3)?).ok()?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 3;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).ok()
    }

    /// A room message whose `m.mentions` names puppets, with each mention
    /// written in its text as the chat writes one (`@id`): the pill's text
    /// (from `formatted_body`, the puppet's display name) is replaced in
    /// `body` by `@` and the Atelier user id. `None` when nothing changes.
    pub fn mentions_as_atelier(&self, ev: &Value) -> Option<Value> {
        let content = &ev["content"];
        let users = content["m.mentions"]["user_ids"].as_array()?;
        let mut body = content["body"].as_str()?.to_owned();
        let formatted = content["formatted_body"].as_str().unwrap_or("");
        let mut changed = false;
        for user in users.iter().filter_map(Value::as_str) {
            let Some(id) = self.atelier_user(user) else {
                continue;
            };
            let mention = format!("@{id}");
            if !atelier_doc::chat::is_mentionable(&id) || body.contains(&mention) {
                continue;
            }
            let anchor = format!("https://matrix.to/#/{user}\">");
            let pill = formatted
                .split_once(&anchor)
                .and_then(|(_, rest)| rest.split_once("</a>"))
                .map(|(text, _)| text);
            if let Some(pill) = pill.filter(|p| !p.is_empty())
                && let Some(at) = body.find(pill)
            {
                body.replace_range(at..at + pill.len(), &mention);
                changed = true;
            }
        }
        if !changed {
            return None;
        }
        let mut ev = ev.clone();
        ev["content"]["body"] = Value::from(body);
        Some(ev)
    }

    /// Whether `user_id` (`@x:server`) is one of the service's puppets.
    pub fn is_puppet(&self, user_id: &str) -> bool {
        user_id
            .strip_prefix('@')
            .is_some_and(|rest| rest.starts_with(&self.puppet_prefix))
    }

    /// Whether a push carries the homeserver's token (compared in constant
    /// time).
    pub fn accepts_hs_token(&self, token: &str) -> bool {
        let (a, b) = (self.hs_token.as_bytes(), token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The scalar fields and the first user namespace regex of a YAML
/// registration, in the order [`Registration::parse`] reads them.
fn yaml_fields(text: &str) -> [String; 6] {
    let mut out: [String; 6] = Default::default();
    let keys = ["id", "url", "as_token", "hs_token", "sender_localpart"];
    let mut in_users = false;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or("");
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        let item = line.trim().trim_start_matches("- ").trim();
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), unquote(value.trim()));
        if !indented {
            in_users = false;
            if let Some(i) = keys.iter().position(|k| *k == key) {
                out[i] = value;
            }
        } else if key == "users" {
            in_users = true;
        } else if matches!(key, "rooms" | "aliases") {
            in_users = false;
        } else if in_users && key == "regex" && out[5].is_empty() {
            out[5] = value;
        }
    }
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_owned();
        }
    }
    v.to_owned()
}

/// The transaction ids of the pushes already applied: the homeserver
/// retries a push it got no answer to, and one applied before is answered
/// at once. (The ledger deduplicates by event id anyway, so a push
/// forgotten here, after a restart, imports nothing twice either.)
#[derive(Debug, Default)]
pub struct SeenTransactions {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl SeenTransactions {
    /// Whether `txn` was applied.
    pub fn contains(&self, txn: &str) -> bool {
        self.set.contains(txn)
    }

    /// Notes `txn` as applied, forgetting the oldest beyond a thousand.
    pub fn insert(&mut self, txn: &str) {
        if self.set.insert(txn.to_owned()) {
            self.order.push_back(txn.to_owned());
            if self.order.len() > REMEMBERED_TXNS
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
id: atelier
url: "http://127.0.0.1:8080"
as_token: "as-secret"
hs_token: 'hs-secret' # pushes
sender_localpart: atelierbridge
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@atelier_.*:localhost"
  aliases: []
  rooms: []
"#;

    #[test]
    fn a_yaml_or_json_registration_is_read() {
        let r = Registration::parse(YAML).expect("valid");
        assert_eq!(r.hs_token, "hs-secret");
        assert_eq!(r.puppet_prefix, "atelier_");
        assert_eq!(r.sender_localpart, "atelierbridge");
        assert!(
            !format!("{r:?}").contains("secret"),
            "tokens stay out of logs"
        );
        let json = r#"{"id":"a","url":"http://x","as_token":"a1","hs_token":"h1",
            "sender_localpart":"bot","namespaces":{"users":[{"exclusive":true,"regex":"@p_.*"}]}}"#;
        assert_eq!(Registration::parse(json).expect("json").puppet_prefix, "p_");
        let err = Registration::parse("id: a\n").expect_err("incomplete");
        assert!(err.to_string().contains("url"), "{err}");
    }

    #[test]
    fn puppets_are_distinct_and_recognised() {
        let r = Registration::parse(YAML).expect("valid");
        assert_eq!(r.puppet_localpart("u-ana"), "atelier_u-ana");
        assert_eq!(r.puppet_localpart("Ana_B"), "atelier__ana___b");
        assert_ne!(r.puppet_localpart("a b"), r.puppet_localpart("a=20b"));
        assert!(r.is_puppet("@atelier_u-ana:localhost"));
        for id in ["u-ana", "Ana_B", "a b", "zoë"] {
            let puppet = format!("@{}:localhost", r.puppet_localpart(id));
            assert_eq!(r.atelier_user(&puppet).as_deref(), Some(id));
        }
        assert!(!r.is_puppet("@alice:localhost"));
        assert!(r.accepts_hs_token("hs-secret"));
        assert!(!r.accepts_hs_token("hs-secreT"));
    }

    #[test]
    fn a_puppet_pill_becomes_an_atelier_mention() {
        let r = Registration::parse(YAML).expect("valid");
        let ev = serde_json::json!({"type": "m.room.message", "content": {
            "msgtype": "m.text", "body": "Ana: à toi",
            "format": "org.matrix.custom.html",
            "formatted_body": "<a href=\"https://matrix.to/#/@atelier_u-ana:localhost\">Ana</a>: à toi",
            "m.mentions": {"user_ids": ["@atelier_u-ana:localhost", "@bob:localhost"]},
        }});
        let ev = r.mentions_as_atelier(&ev).expect("rewritten");
        assert_eq!(ev["content"]["body"], "@u-ana: à toi");
        assert!(r.mentions_as_atelier(&ev).is_none(), "already a mention");
    }

    #[test]
    fn a_repeated_transaction_is_known() {
        let mut seen = SeenTransactions::default();
        seen.insert("t1");
        assert!(seen.contains("t1"));
        for i in 0..REMEMBERED_TXNS {
            seen.insert(&format!("x{i}"));
        }
        assert!(!seen.contains("t1"), "the oldest are forgotten");
    }
}
