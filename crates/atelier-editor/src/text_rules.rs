//! Pure text rules of the editor: Markdown shortcuts, character and word
//! boundaries in UTF-16 text, "does this paste look like Markdown", and the
//! word count.

use atelier_doc::schema::block_type;
use atelier_doc::{Block, Mark};
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

/// Whether `c` belongs to a word, for the inline shortcuts ("not inside
/// words") and the slash menu's matching: anything but white space and
/// ASCII punctuation (accented letters are word characters, with no
/// Unicode tables in the bundle).
pub fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_ascii_punctuation()
}

/// An inline Markdown shortcut completed by the character just typed.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineShortcut {
    /// UTF-16 offset of the opening delimiter.
    pub open: u32,
    /// UTF-16 length of the text between the delimiters.
    pub inner: u32,
    /// Length of each delimiter (1 or 2, ASCII).
    pub delim: u32,
    /// The mark the text gets.
    pub mark: Mark,
}

/// The inline delimiters, longest first so `**` wins over `*`.
const DELIMITERS: [(&str, Mark); 6] = [
    ("**", Mark::Bold),
    ("__", Mark::Bold),
    ("~~", Mark::Strike),
    ("*", Mark::Italic),
    ("_", Mark::Italic),
    ("`", Mark::Code),
];

/// The inline shortcut (`**bold**`, `__bold__`, `*italic*`, `_italic_`,
/// `~~strike~~`, `` `code` ``) that typing `typed` right after `before`
/// (the block's text before the caret) closes, as BlockNote and Tiptap
/// read them: the text between the delimiters is not empty, neither starts
/// nor ends with a space and holds no delimiter character or line break;
/// the opening delimiter does not stand inside a word (`snake_case_name`
/// and `2*3*4` stay literal).
pub fn inline_shortcut(before: &str, typed: char) -> Option<InlineShortcut> {
    DELIMITERS.into_iter().find_map(|(d, mark)| {
        let dc = typed;
        if !d.bytes().all(|b| char::from(b) == dc) {
            return None;
        }
        // The closing delimiter, less the character being typed.
        let body = before.strip_suffix(&d[1..])?;
        let last = body.chars().next_back()?;
        if last == dc || last.is_whitespace() {
            return None;
        }
        let q = body.rfind(dc)?;
        let inner = body.get(q + 1..)?;
        let open = (q + 1).checked_sub(d.len())?;
        let outside = body.get(..open)?;
        let opener_ok = body.get(open..=q) == Some(d)
            && outside
                .chars()
                .next_back()
                .is_none_or(|c| c != dc && !is_word_char(c));
        (opener_ok && !inner.starts_with(char::is_whitespace) && !inner.contains('\n')).then(|| {
            InlineShortcut {
                open: utf16_len(outside),
                inner: utf16_len(inner),
                delim: d.len() as u32,
                mark,
            }
        })
    })
}

/// `text` when it is one whole `http://`, `https://` or `mailto:` URL and
/// nothing else (a pasted link), else `None`.
pub fn url_target(text: &str) -> Option<&str> {
    let t = text.trim();
    let (scheme, rest) = t.split_once(':')?;
    let ok = match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => rest.len() > 2 && rest.starts_with("//"),
        "mailto" => rest.contains('@'),
        _ => false,
    };
    (ok && !t.contains(|c: char| c.is_whitespace() || c.is_control())).then_some(t)
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

    /// (open, inner, delimiter length, mark) of the shortcut that typing
    /// the last character of `typed` closes.
    fn closes(typed: &str) -> Option<(u32, u32, u32, Mark)> {
        let (i, c) = typed.char_indices().next_back()?;
        inline_shortcut(&typed[..i], c).map(|s| (s.open, s.inner, s.delim, s.mark))
    }

    #[test]
    fn inline_shortcuts_find_their_pair() {
        assert_eq!(closes("a **bé**"), Some((2, 2, 2, Mark::Bold)));
        assert_eq!(closes("😀 **x**"), Some((3, 1, 2, Mark::Bold)));
        assert_eq!(closes("__gras__"), Some((0, 4, 2, Mark::Bold)));
        assert_eq!(closes("un *mot*"), Some((3, 3, 1, Mark::Italic)));
        assert_eq!(closes("(_mot_"), Some((1, 3, 1, Mark::Italic)));
        assert_eq!(closes("~~non~~"), Some((0, 3, 2, Mark::Strike)));
        assert_eq!(closes("`a*b*`"), Some((0, 4, 1, Mark::Code)));
        assert_eq!(closes("`x = 1`"), Some((0, 5, 1, Mark::Code)));
        // Typing the first star of a closing `**` is not an italic.
        assert_eq!(closes("**gras*"), None);
        assert_eq!(closes("** x**"), None);
        assert_eq!(closes("**x **"), None);
        assert_eq!(closes("****"), None);
        assert_eq!(closes("plain*"), None);
        assert_eq!(closes("~x~"), None);
        // Not inside words.
        assert_eq!(closes("snake_case_"), None);
        assert_eq!(closes("2*3*"), None);
        assert_eq!(closes("l'été*x*"), None);
        assert_eq!(closes("😀**x**"), None);
        assert_eq!(closes("a\n*b*"), Some((2, 1, 1, Mark::Italic)));
        assert_eq!(closes("*a\nb*"), None);
    }

    #[test]
    fn link_targets() {
        assert_eq!(
            url_target(" https://example.org/a?b "),
            Some("https://example.org/a?b")
        );
        assert_eq!(url_target("MAILTO:x@y.fr"), Some("MAILTO:x@y.fr"));
        assert_eq!(url_target("https://a b"), None);
        assert_eq!(url_target("javascript:alert(1)"), None);
        assert_eq!(url_target("see https://x.org"), None);
        assert_eq!(url_target("https://"), None);
        assert_eq!(url_target("example.org/page"), None);
        assert_eq!(url_target("ftp://x.org"), None);
        assert_eq!(url_target("data:text/html,x"), None);
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
