//! Pure text rules of the editor: Markdown shortcuts, character and word
//! boundaries in UTF-16 text, "does this paste look like Markdown", and the
//! word count.

use atelier_doc::Block;
use atelier_doc::schema::block_type;
use serde_json::{Map, Value};

/// A block type change requested by a Markdown shortcut or the slash menu.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockKind {
    /// The BlockNote block type.
    pub kind: &'static str,
    /// Props to set with it.
    pub props: Map<String, Value>,
}

impl BlockKind {
    /// A type without extra props.
    pub fn plain(kind: &'static str) -> Self {
        BlockKind {
            kind,
            props: Map::new(),
        }
    }

    /// A type with one prop.
    pub fn with(kind: &'static str, key: &str, value: Value) -> Self {
        let mut props = Map::new();
        props.insert(key.to_owned(), value);
        BlockKind { kind, props }
    }
}

/// The block type a Markdown prefix at the start of a paragraph turns it
/// into when the user types a space after it (`# `, `- `, `1. `, `[] `, `> `).
pub fn block_shortcut(prefix: &str) -> Option<BlockKind> {
    Some(match prefix {
        "#" => BlockKind::with(block_type::HEADING, "level", 1.into()),
        "##" => BlockKind::with(block_type::HEADING, "level", 2.into()),
        "###" => BlockKind::with(block_type::HEADING, "level", 3.into()),
        "-" | "*" | "+" => BlockKind::plain(block_type::BULLET_LIST_ITEM),
        "1." | "1)" => BlockKind::plain(block_type::NUMBERED_LIST_ITEM),
        "[]" | "[ ]" => BlockKind::with(block_type::CHECK_LIST_ITEM, "checked", false.into()),
        "[x]" | "[X]" => BlockKind::with(block_type::CHECK_LIST_ITEM, "checked", true.into()),
        ">" => BlockKind::plain(block_type::QUOTE),
        _ => return None,
    })
}

/// Whether typing a backtick after `prefix` (the whole text before the
/// caret) completes the three-backtick code-block shortcut.
pub fn is_code_fence(prefix: &str) -> bool {
    prefix == "``"
}

/// The `**bold**` inline shortcut: when `text` (the text before the caret
/// plus the typed `*`) ends with `**inner**`, returns the UTF-16 offset of the opening
/// `**` and the UTF-16 length of `inner`.
pub fn bold_shortcut(text: &str) -> Option<(u32, u32)> {
    let closing = text.strip_suffix("**")?;
    let open = closing.rfind("**")?;
    let inner = closing.get(open + 2..)?;
    if inner.is_empty()
        || inner.contains('*')
        || inner.starts_with(char::is_whitespace)
        || inner.ends_with(char::is_whitespace)
    {
        return None;
    }
    let before = closing.get(..open)?;
    Some((utf16_len(before), utf16_len(inner)))
}

/// Length of a string in UTF-16 units.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// The text of `s` before a UTF-16 offset (clamped; a split surrogate pair
/// is left out).
pub fn prefix_utf16(s: &str, offset: u32) -> String {
    let mut n = 0u32;
    let mut out = String::new();
    for c in s.chars() {
        let l = c.len_utf16() as u32;
        if n + l > offset {
            break;
        }
        out.push(c);
        n += l;
    }
    out
}

/// How many UTF-16 units Backspace removes before `offset`: one character
/// (a surrogate pair counts as one), joined with following combining marks
/// and zero-width joiner sequences.
pub fn char_len_before(units: &[u16], offset: u32) -> u32 {
    let mut o = offset as usize;
    let mut n = 0;
    loop {
        let step = code_point_len_before(units, o);
        if step == 0 {
            break;
        }
        let cp = code_point_at(units, o - step);
        o -= step;
        n += step;
        let extends = is_extender(cp);
        let after_zwj =
            o > 0 && code_point_at(units, o - code_point_len_before(units, o)) == 0x200D;
        if !(extends || after_zwj) {
            break;
        }
        if after_zwj {
            // Take the joiner too, then the character it joins.
            o -= 1;
            n += 1;
        }
    }
    n as u32
}

/// How many UTF-16 units Delete removes after `offset` (a surrogate pair,
/// its combining marks and ZWJ sequences count as one character).
pub fn char_len_after(units: &[u16], offset: u32) -> u32 {
    let mut o = offset as usize;
    let start = o;
    let first = code_point_len_after(units, o);
    if first == 0 {
        return 0;
    }
    o += first;
    loop {
        let step = code_point_len_after(units, o);
        if step == 0 {
            break;
        }
        let cp = code_point_at(units, o);
        if cp == 0x200D {
            o += step;
            o += code_point_len_after(units, o);
            continue;
        }
        if !is_extender(cp) {
            break;
        }
        o += step;
    }
    (o - start) as u32
}

fn is_extender(cp: u32) -> bool {
    matches!(cp, 0x0300..=0x036F | 0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF | 0x20D0..=0x20FF)
}

fn code_point_len_before(units: &[u16], o: usize) -> usize {
    if o == 0 || o > units.len() {
        return 0;
    }
    let low = units.get(o - 1).copied().unwrap_or(0);
    if (0xDC00..0xE000).contains(&low)
        && o >= 2
        && units
            .get(o - 2)
            .is_some_and(|h| (0xD800..0xDC00).contains(h))
    {
        2
    } else {
        1
    }
}

fn code_point_len_after(units: &[u16], o: usize) -> usize {
    match units.get(o) {
        None => 0,
        Some(h) if (0xD800..0xDC00).contains(h) => {
            if units
                .get(o + 1)
                .is_some_and(|l| (0xDC00..0xE000).contains(l))
            {
                2
            } else {
                1
            }
        }
        Some(_) => 1,
    }
}

fn code_point_at(units: &[u16], o: usize) -> u32 {
    let slice = units.get(o..(o + 2).min(units.len())).unwrap_or(&[]);
    char::decode_utf16(slice.iter().copied())
        .next()
        .and_then(|r| r.ok())
        .map_or(0, u32::from)
}

/// Where the word before `offset` starts (Ctrl+Backspace without a target
/// range from the browser): skips spaces, then word characters.
pub fn word_start_before(units: &[u16], offset: u32) -> u32 {
    let is_space = |u: u16| char::from_u32(u32::from(u)).is_some_and(char::is_whitespace);
    let mut o = (offset as usize).min(units.len());
    while o > 0 && units.get(o - 1).is_some_and(|u| is_space(*u)) {
        o -= 1;
    }
    while o > 0
        && units
            .get(o - 1)
            .is_some_and(|u| !is_space(*u) && *u != u16::from(b'\n'))
    {
        o -= 1;
    }
    o as u32
}

/// Where the word after `offset` ends (Ctrl+Delete).
pub fn word_end_after(units: &[u16], offset: u32) -> u32 {
    let is_space = |u: u16| char::from_u32(u32::from(u)).is_some_and(char::is_whitespace);
    let mut o = (offset as usize).min(units.len());
    while o < units.len() && units.get(o).is_some_and(|u| is_space(*u)) {
        o += 1;
    }
    while o < units.len() && units.get(o).is_some_and(|u| !is_space(*u)) {
        o += 1;
    }
    o as u32
}

/// Where the visual line before `offset` starts, approximated by the last
/// hard break (`deleteSoftLineBackward` without a target range).
pub fn line_start_before(units: &[u16], offset: u32) -> u32 {
    let o = (offset as usize).min(units.len());
    units
        .get(..o)
        .and_then(|s| s.iter().rposition(|u| *u == u16::from(b'\n')))
        .map_or(0, |p| p as u32 + 1)
}

/// Whether pasted plain text looks like Markdown (headings, lists, quotes,
/// fences, emphasis or links), so it is imported as structure.
pub fn looks_like_markdown(text: &str) -> bool {
    let line_hits = text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("# ")
                || t.starts_with("## ")
                || t.starts_with("### ")
                || t.starts_with("- ")
                || t.starts_with("* ")
                || t.starts_with("> ")
                || t.starts_with("```")
                || t.starts_with("- [ ] ")
                || t.starts_with("- [x] ")
                || t.split_once(". ").is_some_and(|(n, _)| {
                    !n.is_empty() && n.len() <= 3 && n.chars().all(|c| c.is_ascii_digit())
                })
        })
        .count();
    let inline = text.contains("**") || (text.contains("](") && text.contains('['));
    line_hits > 0 || inline
}

/// Words in the document's text blocks (and their children).
pub fn word_count(blocks: &[Block]) -> usize {
    let mut n = 0;
    for b in blocks {
        b.walk(&mut |b, _| n += block_words(b));
    }
    n
}

/// Words in one block's own text (not its children); none outside text blocks.
pub fn block_words(b: &Block) -> usize {
    if atelier_doc::schema::has_inline_content(&b.kind) {
        b.plain_text().split_whitespace().count()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn markdown_prefixes_map_to_block_types() {
        assert_eq!(block_shortcut("##").map(|k| k.kind), Some("heading"));
        assert_eq!(
            block_shortcut("###").and_then(|k| k.props.get("level").cloned()),
            Some(3.into())
        );
        assert_eq!(
            block_shortcut("1.").map(|k| k.kind),
            Some("numberedListItem")
        );
        assert_eq!(block_shortcut("[]").map(|k| k.kind), Some("checkListItem"));
        assert_eq!(block_shortcut(">").map(|k| k.kind), Some("quote"));
        assert_eq!(block_shortcut("#x"), None);
        assert!(is_code_fence("``"));
    }

    #[test]
    fn bold_shortcut_finds_the_pair() {
        assert_eq!(bold_shortcut("a **bé**"), Some((2, 2)));
        assert_eq!(bold_shortcut("😀**x**"), Some((2, 1)));
        assert_eq!(bold_shortcut("** x**"), None);
        assert_eq!(bold_shortcut("****"), None);
        assert_eq!(bold_shortcut("plain*"), None);
    }

    #[test]
    fn backspace_removes_whole_characters() {
        let s = u("a😀");
        assert_eq!(char_len_before(&s, 3), 2);
        assert_eq!(char_len_after(&s, 1), 2);
        let family = u("x👩\u{200D}👧");
        assert_eq!(char_len_before(&family, family.len() as u32), 5);
        assert_eq!(char_len_after(&family, 1), 5);
        let accent = u("e\u{301}");
        assert_eq!(char_len_before(&accent, 2), 2);
        assert_eq!(char_len_before(&accent, 0), 0);
    }

    #[test]
    fn word_and_line_boundaries() {
        let s = u("one two  three");
        assert_eq!(word_start_before(&s, 14), 9);
        assert_eq!(word_start_before(&s, 9), 4);
        assert_eq!(word_end_after(&s, 3), 7);
        let l = u("ab\ncd");
        assert_eq!(line_start_before(&l, 5), 3);
        assert_eq!(line_start_before(&l, 2), 0);
        assert_eq!(prefix_utf16("a😀b", 3), "a😀");
        assert_eq!(prefix_utf16("a😀b", 2), "a");
    }

    #[test]
    fn markdown_detection() {
        assert!(looks_like_markdown("# Title\n\ntext"));
        assert!(looks_like_markdown("some **bold** text"));
        assert!(looks_like_markdown("1. one\n2. two"));
        assert!(!looks_like_markdown("Just a sentence. Another one."));
    }
}
