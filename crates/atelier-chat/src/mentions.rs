//! @mentions: finding the `@query` being typed, ranking the people who
//! match, completing it, and splitting a text into text and mentions for
//! rendering. A mention is stored as `@id` (what
//! [`atelier_doc::chat::mention_spans`] reads back); it shows as the
//! person's name.

use atelier_doc::chat::{is_mention_char, is_mentionable, mention_spans};
use std::ops::Range;

/// How many suggestions the completion list shows.
pub const MAX_SUGGESTIONS: usize = 8;

/// Lower-cases for matching ("Ärzte" matches "ä"). In the browser this is
/// the engine's own `toLowerCase`, which keeps Rust's Unicode case tables
/// (≈7 KB brotli) out of the bundle, as the editor does.
pub fn fold_case(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(s).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        s.to_lowercase()
    }
}

/// The `@query` the caret is in: the byte range from the `@` to the caret,
/// and the text typed after the `@` (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionQuery {
    /// Bytes of `@query` in the text.
    pub range: Range<usize>,
    /// What follows the `@`.
    pub query: String,
}

/// The mention being typed when the caret is at byte `caret` of `text`:
/// an `@` at the start or after whitespace or `(`, followed by mention
/// characters up to the caret.
pub fn mention_query(text: &str, caret: usize) -> Option<MentionQuery> {
    let before = text.get(..caret)?;
    let at = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_mention_char(c))
        .filter(|&(_, c)| c == '@')?
        .0;
    let prev_ok = before[..at]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || c == '(');
    prev_ok.then(|| MentionQuery {
        range: at..caret,
        query: before[at + 1..].to_owned(),
    })
}

/// Someone who can be mentioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// User id (inserted as `@id`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether they are here now (listed first on equal match).
    pub present: bool,
}

/// The candidates matching `query`, best first, at most
/// [`MAX_SUGGESTIONS`]: a name starting with the query, then a word of the
/// name starting with it, then an id starting with it, then a name or id
/// containing it; people here now before the others, then by name. The
/// local user and ids that cannot be written as `@id` are left out, and
/// each id appears once.
pub fn rank(candidates: &[Candidate], query: &str, local_id: &str) -> Vec<Candidate> {
    let q = fold_case(query);
    let mut scored: Vec<(u8, bool, String, &Candidate)> = Vec::new();
    for c in candidates {
        if c.id == local_id
            || !is_mentionable(&c.id)
            || scored.iter().any(|(_, _, _, o)| o.id == c.id)
        {
            continue;
        }
        let name = fold_case(&c.name);
        let id = fold_case(&c.id);
        let score = if q.is_empty() || name.starts_with(&q) {
            0
        } else if name.split_whitespace().any(|w| w.starts_with(&q)) {
            1
        } else if id.starts_with(&q) {
            2
        } else if name.contains(&q) || id.contains(&q) {
            3
        } else {
            continue;
        };
        scored.push((score, !c.present, name, c));
    }
    scored.sort_unstable_by(|a, b| (a.0, a.1, &a.2, &a.3.id).cmp(&(b.0, b.1, &b.2, &b.3.id)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, _, c)| c.clone())
        .collect()
}

/// Replaces the query by `@id ` and returns the new text and the caret
/// (a byte offset after the inserted space).
pub fn complete(text: &str, q: &MentionQuery, id: &str) -> (String, usize) {
    let inserted = format!("@{id} ");
    let mut out = String::with_capacity(text.len() + inserted.len());
    out.push_str(&text[..q.range.start]);
    out.push_str(&inserted);
    let caret = out.len();
    // A space already after the caret would make two.
    let rest = &text[q.range.end..];
    out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
    (out, caret)
}

/// A piece of text for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Plain text.
    Text(&'a str),
    /// `@id`, to show highlighted as the person's name.
    Mention {
        /// The mentioned id.
        id: &'a str,
        /// The text of the mention as written (`@id`).
        source: &'a str,
    },
}

/// Splits `text` at its mentions.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    for (range, id) in mention_spans(text) {
        if range.start > from {
            out.push(Segment::Text(&text[from..range.start]));
        }
        out.push(Segment::Mention {
            id,
            source: &text[range.clone()],
        });
        from = range.end;
    }
    if from < text.len() {
        out.push(Segment::Text(&text[from..]));
    }
    out
}

/// The byte offset of UTF-16 offset `units` in `text` (the DOM counts
/// UTF-16 units); past the end gives the length, and an offset inside a
/// surrogate pair gives the character's end.
pub fn utf16_to_byte(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16() as u32;
    }
    text.len()
}

/// The UTF-16 offset of byte offset `byte` in `text`.
pub fn byte_to_utf16(text: &str, byte: usize) -> u32 {
    text.get(..byte)
        .unwrap_or(text)
        .chars()
        .map(|c| c.len_utf16() as u32)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, name: &str, present: bool) -> Candidate {
        Candidate {
            id: id.into(),
            name: name.into(),
            present,
        }
    }

    #[test]
    fn finds_the_query_at_the_caret() {
        let t = "hi @al";
        assert_eq!(
            mention_query(t, t.len()),
            Some(MentionQuery {
                range: 3..6,
                query: "al".into()
            })
        );
        assert_eq!(mention_query("@", 1).map(|q| q.query), Some(String::new()));
        assert_eq!(mention_query("(@bo", 4).map(|q| q.range), Some(1..4));
        assert_eq!(mention_query("mail a@b", 8), None, "inside an address");
        assert_eq!(mention_query("@al bob", 7), None, "after a space");
        assert_eq!(
            mention_query("@é", 1),
            Some(MentionQuery {
                range: 0..1,
                query: String::new()
            })
        );
        assert_eq!(mention_query("@é", 2), None, "not a char boundary");
    }

    #[test]
    fn ranks_names_before_ids_and_present_first() {
        let people = [
            cand("u-zoe", "Zoé Martin", false),
            cand("u-marc", "Marc", false),
            cand("u-martine", "Martine", true),
            cand("u-me", "Marie", true),
            cand("mar.x", "Xavier", true),
            cand("bad id", "Mario", true),
            cand("u-marc", "Marc again", true),
        ];
        let ids: Vec<String> = rank(&people, "Mar", "u-me")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, vec!["u-martine", "u-marc", "u-zoe", "mar.x"]);
        assert_eq!(
            rank(&people, "", "u-me").len(),
            4,
            "without me, bad ids and repeats"
        );
        assert!(rank(&people, "zzz", "u-me").is_empty());
        let many: Vec<Candidate> = (0..20)
            .map(|i| cand(&format!("u{i}"), "Same", true))
            .collect();
        assert_eq!(rank(&many, "s", "").len(), MAX_SUGGESTIONS);
    }

    #[test]
    fn completion_inserts_the_id() {
        let t = "ask @ma now";
        let q = mention_query(t, 7).expect("query");
        let (text, caret) = complete(t, &q, "u-marc");
        assert_eq!(text, "ask @u-marc now");
        assert_eq!(&text[..caret], "ask @u-marc ");
        let q = mention_query("@", 1).expect("query");
        assert_eq!(complete("@", &q, "bo").0, "@bo ");
    }

    #[test]
    fn segments_split_mentions() {
        assert_eq!(
            segments("hi @bob, and @carol."),
            vec![
                Segment::Text("hi "),
                Segment::Mention {
                    id: "bob",
                    source: "@bob"
                },
                Segment::Text(", and "),
                Segment::Mention {
                    id: "carol",
                    source: "@carol"
                },
                Segment::Text("."),
            ]
        );
        assert_eq!(segments("a@b.fr"), vec![Segment::Text("a@b.fr")]);
    }

    #[test]
    fn utf16_offsets() {
        let t = "a😀é";
        assert_eq!(utf16_to_byte(t, 0), 0);
        assert_eq!(utf16_to_byte(t, 1), 1);
        assert_eq!(utf16_to_byte(t, 3), 5);
        assert_eq!(utf16_to_byte(t, 4), 7);
        assert_eq!(utf16_to_byte(t, 99), 7);
        assert_eq!(byte_to_utf16(t, 5), 3);
        assert_eq!(byte_to_utf16(t, 7), 4);
    }
}
