//! Who is in the chat: the local user, the collaborators a host reports
//! from awareness, and the names and colours shown for them.

use crate::i18n::{Strings, fill};
use crate::mentions::fold_case;

/// The local user, as the host knows them (from its token or attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatUser {
    /// Stable user id: written as `author` on messages and in reactions, and
    /// what others type after `@` to mention this user.
    pub id: String,
    /// Display name, stored with each message as `authorName`.
    pub name: String,
    /// CSS colour (`#rgb` or `#rrggbb`; anything else falls back to a
    /// palette colour derived from the id).
    pub color: String,
}

/// A collaborator on the document, from the host's awareness states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatPeer {
    /// Their user id (several tabs of one person share it).
    pub id: String,
    /// Display name.
    pub name: String,
    /// CSS colour, as for [`ChatUser::color`].
    pub color: String,
    /// Whether they are typing in a chat composer now (awareness `typing`).
    pub typing: bool,
}

/// Colours for people whose colour is missing or not a plain hex colour:
/// dark enough for white text and readable on light and dark backgrounds.
const PALETTE: &[&str] = &[
    "#1f6fb2", "#a13d63", "#2e7d32", "#8e24aa", "#b35900", "#00796b", "#5d4037", "#3949ab",
];

/// Whether `s` is a `#rgb` or `#rrggbb` colour: the only colours put in a
/// `style` attribute, so a peer's awareness cannot inject CSS.
pub fn is_hex_color(s: &str) -> bool {
    let Some(hex) = s.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A colour for `id`: `given` when it is a hex colour, else a palette
/// colour chosen by a hash of the id (stable across pages).
pub fn color_for(id: &str, given: Option<&str>) -> String {
    if let Some(c) = given.filter(|c| is_hex_color(c)) {
        return c.to_owned();
    }
    // FNV-1a: tiny, stable, and good enough to spread ids over 8 colours.
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    PALETTE[(h as usize) % PALETTE.len()].to_owned()
}

/// The collaborators to list under "here now": one entry per user id (the
/// first tab's name and colour), without the local user, sorted by name.
pub fn present(peers: &[ChatPeer], local_id: &str) -> Vec<ChatPeer> {
    let mut out: Vec<ChatPeer> = Vec::new();
    for p in peers
        .iter()
        .filter(|p| p.id != local_id && !p.id.is_empty())
    {
        match out.iter_mut().find(|o| o.id == p.id) {
            Some(o) => o.typing |= p.typing,
            None => out.push(p.clone()),
        }
    }
    let mut keyed: Vec<(String, ChatPeer)> =
        out.into_iter().map(|p| (fold_case(&p.name), p)).collect();
    keyed.sort_unstable_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    keyed.into_iter().map(|(_, p)| p).collect()
}

/// The typing line for the people typing now (not the local user), or
/// `None` when nobody is.
pub fn typing_summary(peers: &[ChatPeer], local_id: &str, s: &Strings) -> Option<String> {
    let names: Vec<String> = present(peers, local_id)
        .into_iter()
        .filter(|p| p.typing)
        .map(|p| {
            if p.name.trim().is_empty() {
                s.someone.to_owned()
            } else {
                p.name
            }
        })
        .collect();
    match names.as_slice() {
        [] => None,
        [a] => Some(fill(s.typing_one, &[("a", a)])),
        [a, b] => Some(fill(s.typing_two, &[("a", a), ("b", b)])),
        _ => Some(s.typing_many.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn peer(id: &str, name: &str, typing: bool) -> ChatPeer {
        ChatPeer {
            id: id.into(),
            name: name.into(),
            color: "#123456".into(),
            typing,
        }
    }

    #[test]
    fn colours_are_checked_and_stable() {
        assert!(is_hex_color("#abc") && is_hex_color("#A0B1C2"));
        for bad in ["red", "#abcd", "#12345g", "#fff;background:url(x)", ""] {
            assert!(!is_hex_color(bad), "{bad}");
        }
        assert_eq!(color_for("u", Some("#abc")), "#abc");
        let c = color_for("alice", Some("expression(alert(1))"));
        assert!(is_hex_color(&c));
        assert_eq!(c, color_for("alice", None));
    }

    #[test]
    fn presence_is_one_entry_per_user_without_me() {
        let peers = [
            peer("b", "bob", false),
            peer("me", "Me", true),
            peer("a", "Alice", false),
            peer("b", "Bob (tab 2)", true),
        ];
        let here = present(&peers, "me");
        let ids: Vec<&str> = here.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b"]);
        assert!(here[1].typing, "typing in any tab counts");
    }

    #[test]
    fn typing_lines() {
        let s = Lang::En.chat();
        assert_eq!(typing_summary(&[peer("me", "Me", true)], "me", s), None);
        assert_eq!(
            typing_summary(&[peer("a", "Alice", true)], "me", s).as_deref(),
            Some("Alice is typing…")
        );
        assert_eq!(
            typing_summary(&[peer("b", "Zoé", true), peer("a", "Alice", true)], "me", s).as_deref(),
            Some("Alice and Zoé are typing…")
        );
        assert_eq!(
            typing_summary(&[peer("b", " ", true)], "me", Lang::Fr.chat()).as_deref(),
            Some("Quelqu’un est en train d’écrire…")
        );
        let three = [
            peer("a", "A", true),
            peer("b", "B", true),
            peer("c", "C", true),
        ];
        assert_eq!(
            typing_summary(&three, "me", Lang::De.chat()).as_deref(),
            Some("Mehrere Personen schreiben…")
        );
    }
}
