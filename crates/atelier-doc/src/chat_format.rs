//! Light formatting of chat messages, read into the block schema.
//!
//! A chat body is plain text with a small Markdown subset: `**bold**`,
//! `*italic*` (or `_…_`), `~~strike~~`, `` `code` ``, fenced code blocks,
//! `- ` / `* ` bullets, `1. ` numbered items, `> ` quotes, `[text](url)`
//! links and bare `http(s)://…` / `mailto:…` URLs. [`parse`] turns a body
//! into [`NewBlock`]s (`paragraph`, `bulletListItem`, `numberedListItem`,
//! `quote`, `codeBlock`) of [`InlineRun`]s with [`Marks`], so a widget
//! renders a message exactly as it renders document blocks: text nodes and
//! elements chosen by block type and mark, never HTML from the body.
//!
//! Why not pulldown-cmark: the chat must not pull the Markdown parser into
//! the bundle (with its entity table and Unicode case folding it is a
//! second wasm of ~68 KB brotli, loaded lazily by the editor); this subset
//! is a few KB. Anything outside it stays literal text: HTML, entities,
//! headings, images, tables.
//!
//! Safety: a link is kept only when its target is absolute `http`, `https`
//! or `mailto` and passes [`is_safe_href`]; anything else (`javascript:`,
//! `data:`, relative paths) stays text. The parser is linear per nesting
//! level (a failed search for a closing delimiter is remembered) and nests
//! at most [`MAX_NESTING`] marks, so a hostile 16 KB body costs
//! milliseconds.
//!
//! ```
//! use atelier_doc::chat_format::parse;
//! let blocks = parse("**Bonjour** <b>x</b> [site](javascript:alert(1))");
//! let runs = &blocks[0].content;
//! assert!(runs[0].marks.bold);
//! assert_eq!(runs[1].text, " <b>x</b> [site](javascript:alert(1))");
//! ```

use crate::block::{InlineRun, Marks, NewBlock};
use crate::sanitize::is_safe_href;
use crate::schema::block_type;

/// How many marks may nest inside one another; deeper delimiters stay text.
pub const MAX_NESTING: usize = 6;

/// Whether `href` may be a link in a chat message: an absolute `http`,
/// `https` or `mailto` URL that [`is_safe_href`] accepts.
pub fn is_chat_link(href: &str) -> bool {
    let b = href.as_bytes();
    let starts = |p: &str| b.len() > p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    (starts("http://") || starts("https://") || starts("mailto:"))
        && !href.chars().any(|c| c.is_whitespace() || c.is_control())
        && is_safe_href(href)
}

/// Reads a message body into blocks. Never fails: what is not formatting
/// is text.
pub fn parse(body: &str) -> Vec<NewBlock> {
    let lines: Vec<&str> = body
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = fence(line) {
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && fence(lines[i]).is_none() {
                code.push(lines[i]);
                i += 1;
            }
            i += 1; // the closing fence, if any
            let mut block = NewBlock::text(block_type::CODE_BLOCK, &code.join("\n"));
            if !info.is_empty()
                && info.len() <= 32
                && info
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '#'))
            {
                block = block.with_prop("language", info.to_ascii_lowercase());
            }
            blocks.push(block);
        } else if line.trim().is_empty() {
            i += 1;
        } else if quote_text(line).is_some() {
            let mut text = Vec::new();
            while let Some(t) = lines.get(i).and_then(|l| quote_text(l)) {
                text.push(t);
                i += 1;
            }
            blocks.push(inline_block(block_type::QUOTE, &text.join("\n")));
        } else if let Some(t) = bullet_text(line) {
            blocks.push(inline_block(block_type::BULLET_LIST_ITEM, t));
            i += 1;
        } else if let Some((n, t)) = numbered_text(line) {
            let mut block = inline_block(block_type::NUMBERED_LIST_ITEM, t);
            let first = blocks
                .last()
                .is_none_or(|b: &NewBlock| b.kind != block_type::NUMBERED_LIST_ITEM);
            if first && n != 1 {
                block = block.with_prop("start", n);
            }
            blocks.push(block);
            i += 1;
        } else {
            let mut text = Vec::new();
            while let Some(l) = lines.get(i).copied() {
                if l.trim().is_empty() || (!text.is_empty() && starts_block(l)) {
                    break;
                }
                text.push(l);
                i += 1;
            }
            blocks.push(inline_block(block_type::PARAGRAPH, &text.join("\n")));
        }
    }
    blocks
}

/// The body as one line of plain text, cut to `max_chars` characters with
/// an ellipsis: for reply previews and notifications.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for block in parse(body) {
        if !text.is_empty() {
            text.push(' ');
        }
        for run in &block.content {
            text.push_str(&run.text);
        }
    }
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", one_line[..cut].trim_end()),
        None => one_line,
    }
}

fn starts_block(line: &str) -> bool {
    fence(line).is_some()
        || quote_text(line).is_some()
        || bullet_text(line).is_some()
        || numbered_text(line).is_some()
}

fn inline_block(kind: &str, text: &str) -> NewBlock {
    NewBlock {
        kind: kind.to_owned(),
        content: parse_inline(text),
        ..Default::default()
    }
}

/// The info string of an opening or closing code fence (up to 3 spaces of
/// indent, then three backticks).
fn fence(line: &str) -> Option<&str> {
    let t = line.trim_start_matches(' ');
    (line.len() - t.len() <= 3)
        .then(|| t.strip_prefix("```"))
        .flatten()
        .map(str::trim)
        .filter(|info| !info.contains('`'))
}

fn quote_text(line: &str) -> Option<&str> {
    let t = line.trim_start_matches(' ');
    let rest = t.strip_prefix('>')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

fn bullet_text(line: &str) -> Option<&str> {
    let t = line.trim_start_matches(' ');
    ["- ", "* ", "+ "]
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .filter(|rest| !rest.trim().is_empty())
}

fn numbered_text(line: &str) -> Option<(u32, &str)> {
    let t = line.trim_start_matches(' ');
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = t[digits..]
        .strip_prefix(". ")
        .or_else(|| t[digits..].strip_prefix(") "))?;
    let n = t[..digits].parse().ok()?;
    (!rest.trim().is_empty()).then_some((n, rest))
}

/// Reads one block's text into runs; adjacent runs with equal marks merge.
pub fn parse_inline(text: &str) -> Vec<InlineRun> {
    let mut raw = Vec::new();
    Inline { src: text }.span(0, text.len(), &Marks::default(), 0, &mut raw);
    let mut out: Vec<InlineRun> = Vec::with_capacity(raw.len());
    for run in raw {
        match out.last_mut() {
            Some(last) if last.marks == run.marks => last.text.push_str(&run.text),
            _ if run.text.is_empty() => {}
            _ => out.push(run),
        }
    }
    out
}

/// Delimiters that can open emphasis, and the index of their memo slot.
const DELIMS: [u8; 3] = [b'*', b'_', b'~'];

struct Inline<'a> {
    src: &'a str,
}

impl Inline<'_> {
    fn before(&self, i: usize) -> Option<char> {
        self.src.get(..i).and_then(|s| s.chars().next_back())
    }

    fn after(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|s| s.chars().next())
    }

    fn run_len(&self, at: usize, end: usize, b: u8) -> usize {
        self.src.as_bytes()[at..end]
            .iter()
            .take_while(|&&x| x == b)
            .count()
    }

    /// Parses `src[start..end]` with `marks` applied, appending runs.
    fn span(
        &self,
        start: usize,
        end: usize,
        marks: &Marks,
        depth: usize,
        out: &mut Vec<InlineRun>,
    ) {
        let bytes = self.src.as_bytes();
        // Per (delimiter, length) and for `]` and backtick runs: the
        // position from which no closer exists before `end`, once a search
        // failed; later openers then fail at once (linear time).
        let mut no_closer = [usize::MAX; 10];
        let mut no_bracket = usize::MAX;
        let mut no_ticks = [usize::MAX; 4];
        let mut text_from = start;
        let mut p = start;
        let flush = |from: usize, to: usize, out: &mut Vec<InlineRun>| {
            if from < to {
                out.push(InlineRun::styled(&self.src[from..to], marks.clone()));
            }
        };
        while p < end {
            let b = bytes[p];
            match b {
                b'\\' if p + 1 < end && bytes[p + 1].is_ascii_punctuation() => {
                    flush(text_from, p, out);
                    text_from = p + 1;
                    p += 2;
                }
                b'`' => {
                    let n = self.run_len(p, end, b'`');
                    let slot = n.min(4) - 1;
                    let close = if p >= no_ticks[slot] {
                        None
                    } else {
                        self.find_ticks(p + n, end, n)
                    };
                    match close {
                        Some(q) => {
                            flush(text_from, p, out);
                            let inner = &self.src[p + n..q];
                            let inner =
                                match inner.strip_prefix(' ').and_then(|s| s.strip_suffix(' ')) {
                                    Some(s) if !s.trim().is_empty() => s,
                                    _ => inner,
                                };
                            let code = Marks {
                                code: true,
                                link: marks.link.clone(),
                                ..Marks::default()
                            };
                            out.push(InlineRun::styled(inner, code));
                            p = q + n;
                            text_from = p;
                        }
                        None => {
                            no_ticks[slot] = no_ticks[slot].min(p);
                            p += n;
                        }
                    }
                }
                b'*' | b'_' | b'~' => {
                    let r = self.run_len(p, end, b);
                    let k = match (b, r) {
                        (b'~', 2) => 2,
                        (b'~', _) => 0,
                        (_, 1..=3) => r,
                        _ => 0,
                    };
                    let slot = DELIMS.iter().position(|&d| d == b).unwrap_or(0) * 3 + k.max(1) - 1;
                    let opens = k > 0
                        && depth < MAX_NESTING
                        && p < no_closer[slot]
                        && self.after(p + r).is_some_and(|c| !c.is_whitespace())
                        && (b != b'_' || !self.before(p).is_some_and(char::is_alphanumeric));
                    let close = if opens {
                        self.find_closer(p + k, end, b, k)
                    } else {
                        None
                    };
                    match close {
                        Some(q) => {
                            flush(text_from, p, out);
                            let mut inner = marks.clone();
                            match (b, k) {
                                (b'~', _) => inner.strike = true,
                                (_, 1) => inner.italic = true,
                                (_, 2) => inner.bold = true,
                                _ => {
                                    inner.bold = true;
                                    inner.italic = true;
                                }
                            }
                            self.span(p + k, q, &inner, depth + 1, out);
                            p = q + k;
                            text_from = p;
                        }
                        None => {
                            if opens {
                                no_closer[slot] = no_closer[slot].min(p);
                            }
                            p += r;
                        }
                    }
                }
                b'[' if marks.link.is_none() && depth < MAX_NESTING && p < no_bracket => {
                    match self.link_at(p, end) {
                        Ok(Some((text_end, href, after))) => {
                            flush(text_from, p, out);
                            let inner = Marks {
                                link: Some(href.to_owned()),
                                ..marks.clone()
                            };
                            self.span(p + 1, text_end, &inner, depth + 1, out);
                            p = after;
                            text_from = p;
                        }
                        Ok(None) => p += 1,
                        Err(()) => {
                            no_bracket = p;
                            p += 1;
                        }
                    }
                }
                b'h' | b'H' | b'm' | b'M'
                    if marks.link.is_none()
                        && !self.before(p).is_some_and(char::is_alphanumeric) =>
                {
                    match self.autolink_end(p, end) {
                        Some(q) => {
                            flush(text_from, p, out);
                            let url = &self.src[p..q];
                            let linked = Marks {
                                link: Some(url.to_owned()),
                                ..marks.clone()
                            };
                            out.push(InlineRun::styled(url, linked));
                            p = q;
                            text_from = p;
                        }
                        None => p += 1,
                    }
                }
                // Non-ASCII bytes are never special, so stepping one byte
                // at a time only ever stops on ASCII, at char boundaries.
                _ => p += 1,
            }
        }
        flush(text_from, end, out);
    }

    /// The start of a run of exactly `n` backticks in `from..end`.
    fn find_ticks(&self, from: usize, end: usize, n: usize) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut q = from;
        while q < end {
            if bytes[q] == b'`' {
                let m = self.run_len(q, end, b'`');
                if m == n {
                    return Some(q);
                }
                q += m;
            } else {
                q += 1;
            }
        }
        None
    }

    /// A closing run of exactly `k` delimiters `b` in `from..end`, preceded
    /// by a non-space, with something between opener and closer.
    fn find_closer(&self, from: usize, end: usize, b: u8, k: usize) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut q = from;
        while q < end {
            if bytes[q] != b {
                q += 1;
                continue;
            }
            let m = self.run_len(q, end, b);
            let closes = m == k
                && q > from
                && self.before(q).is_some_and(|c| !c.is_whitespace())
                && (b != b'_' || !self.after(q + m).is_some_and(char::is_alphanumeric));
            if closes {
                return Some(q);
            }
            q += m;
        }
        None
    }

    /// A `[text](href)` link at `p`: `Ok(Some((end of text, href, index
    /// after the link)))`, `Ok(None)` when this one is not a (safe) link,
    /// `Err(())` when no `]` follows at all (so no later `[` can close).
    #[allow(clippy::type_complexity)]
    fn link_at(&self, p: usize, end: usize) -> Result<Option<(usize, &str, usize)>, ()> {
        let bytes = self.src.as_bytes();
        let close = bytes[p + 1..end]
            .iter()
            .position(|&x| x == b']')
            .map(|i| p + 1 + i)
            .ok_or(())?;
        if close == p + 1 || bytes.get(close + 1) != Some(&b'(') || close + 2 > end {
            return Ok(None);
        }
        let Some(paren) = bytes[close + 2..end].iter().position(|&x| x == b')') else {
            return Ok(None);
        };
        let href = &self.src[close + 2..close + 2 + paren];
        if is_chat_link(href) {
            Ok(Some((close, href, close + 3 + paren)))
        } else {
            Ok(None)
        }
    }

    /// The end of a bare URL starting at `p`, if one does.
    fn autolink_end(&self, p: usize, end: usize) -> Option<usize> {
        let rest = &self.src.as_bytes()[p..end];
        let scheme = ["https://", "http://", "mailto:"]
            .iter()
            .find(|s| rest.len() > s.len() && rest[..s.len()].eq_ignore_ascii_case(s.as_bytes()))?;
        let mut q = p + scheme.len();
        let mut opened = 0usize;
        let mut closed = 0usize;
        for c in self.src[q..end].chars() {
            if c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`') {
                break;
            }
            match c {
                '(' => opened += 1,
                ')' => closed += 1,
                _ => {}
            }
            q += c.len_utf8();
        }
        // Trailing punctuation belongs to the sentence, as does a `)` that
        // closes a parenthesis opened before the URL.
        while q > p + scheme.len() {
            let last = self.src[..q].chars().next_back()?;
            let strip = matches!(
                last,
                '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_' | '~'
            ) || (last == ')' && closed > opened);
            if !strip {
                break;
            }
            if last == ')' {
                closed -= 1;
            }
            q -= last.len_utf8();
        }
        let url = &self.src[p..q];
        (q > p + scheme.len() && is_chat_link(url)).then_some(q)
    }
}

#[cfg(test)]
#[path = "chat_format_tests.rs"]
mod tests;
