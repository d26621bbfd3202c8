//! Markdown export: what `getMarkdown`, `?format=markdown` and agents read.
//!
//! Every block BlockNote's own Markdown export (`blocksToMarkdownLossy`)
//! carries is carried here too, in the same form: where Markdown has no
//! form for a block (an image with a caption, audio, a captioned video),
//! it is written as the HTML BlockNote writes, with every value escaped
//! and only `http`, `https` and `mailto` addresses kept, so nothing an
//! agent reads is silently missing and nothing it reads is executable.
//! [`export_with_ids`] adds each block's id as an HTML comment an LLM can
//! quote back in an operation.

use crate::block::{Block, InlineRun, Marks};
use crate::html::escape;
use crate::sanitize::is_safe_href;
use crate::schema::block_type;

/// Writes blocks as Markdown.
pub fn export(blocks: &[Block]) -> String {
    export_as(blocks, false)
}

/// Writes blocks as Markdown with each block's id in an HTML comment,
/// `<!-- id:ID -->`: at the end of the first line of a text block, on the
/// line before any other block (code, table, divider, media), and alone for
/// an empty paragraph, which plain export leaves out. Rendered, the
/// comments are invisible; an LLM can quote the ids back in operations.
pub fn export_with_ids(blocks: &[Block]) -> String {
    export_as(blocks, true)
}

fn export_as(blocks: &[Block], ids: bool) -> String {
    let mut out = String::new();
    write_blocks(&mut out, blocks, "", ids);
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}

fn is_list(kind: &str) -> bool {
    matches!(
        kind,
        block_type::BULLET_LIST_ITEM
            | block_type::NUMBERED_LIST_ITEM
            | block_type::CHECK_LIST_ITEM
            | block_type::TOGGLE_LIST_ITEM
    )
}

fn write_blocks(out: &mut String, blocks: &[Block], indent: &str, ids: bool) {
    let mut number = 0u64;
    let mut prev: Option<&str> = None;
    for b in blocks {
        if b.kind == block_type::PARAGRAPH && b.content.is_empty() && b.children.is_empty() {
            if ids {
                if prev.is_some() {
                    out.push_str(indent);
                    out.push('\n');
                }
                out.push_str(&format!("{indent}{}\n", id_comment(b)));
                prev = Some(&b.kind);
            }
            continue;
        }
        let list_continues = prev.is_some_and(|p| is_list(p) && is_list(&b.kind) && p == b.kind);
        if prev.is_some() && !list_continues {
            out.push_str(indent);
            out.push('\n');
        }
        if b.kind == block_type::NUMBERED_LIST_ITEM {
            number = if list_continues {
                number + 1
            } else {
                b.prop_f64("start").map_or(1, |s| s.max(0.0) as u64)
            };
        }
        let child_indent = write_block(out, b, indent, number, ids);
        if !b.children.is_empty() {
            if is_list(&b.kind) {
                write_blocks(out, &b.children, &child_indent, ids);
            } else {
                out.push_str(indent);
                out.push('\n');
                write_blocks(out, &b.children, indent, ids);
            }
        }
        prev = Some(&b.kind);
    }
}

/// Writes one block; returns the indent its list children use.
/// `<!-- id:ID -->`, with anything that could end the comment escaped.
fn id_comment(b: &Block) -> String {
    format!(
        "<!-- id:{} -->",
        escape(b.id.as_str()).replace("--", "&#45;&#45;")
    )
}

fn write_block(out: &mut String, b: &Block, indent: &str, number: u64, ids: bool) -> String {
    let text = || inline_markdown(&b.content);
    // Text blocks carry their id at the end of their first line.
    let suffix = if ids {
        format!(" {}", id_comment(b))
    } else {
        String::new()
    };
    let line = |out: &mut String, prefix: &str, body: &str| {
        let cont = format!("{indent}{}", " ".repeat(prefix.chars().count()));
        for (i, l) in body.split('\n').enumerate() {
            if i == 0 {
                out.push_str(indent);
                out.push_str(prefix);
            } else {
                out.push_str(&cont);
            }
            out.push_str(l);
            if i == 0 {
                out.push_str(&suffix);
            }
            out.push_str(if i + 1 < body.split('\n').count() {
                "\\\n"
            } else {
                "\n"
            });
        }
        cont
    };
    match b.kind.as_str() {
        block_type::HEADING => {
            let level = b.prop_f64("level").unwrap_or(1.0).clamp(1.0, 6.0) as usize;
            line(
                out,
                &format!("{} ", "#".repeat(level)),
                &text().replace('\n', " "),
            )
        }
        block_type::BULLET_LIST_ITEM | block_type::TOGGLE_LIST_ITEM => line(out, "- ", &text()),
        block_type::CHECK_LIST_ITEM => {
            let mark = if b.prop_bool("checked") == Some(true) {
                "x"
            } else {
                " "
            };
            line(out, &format!("- [{mark}] "), &text());
            // Children nest under the item's content, which starts after `- `.
            format!("{indent}  ")
        }
        block_type::NUMBERED_LIST_ITEM => line(out, &format!("{number}. "), &text()),
        block_type::QUOTE => {
            let body = text();
            let n = body.split('\n').count();
            for (i, l) in body.split('\n').enumerate() {
                out.push_str(indent);
                out.push_str("> ");
                out.push_str(l);
                if i == 0 {
                    out.push_str(&suffix);
                }
                out.push_str(if i + 1 < n { "\\\n" } else { "\n" });
            }
            indent.to_owned()
        }
        // Blocks without a text line of their own carry their id on the
        // line before them.
        _ if ids && !has_text_line(&b.kind) => {
            out.push_str(&format!("{indent}{}\n", id_comment(b)));
            write_block(out, b, indent, number, false)
        }
        block_type::CODE_BLOCK => {
            let code = b.plain_text();
            let fence = "`".repeat(longest_backtick_run(&code).max(2) + 1);
            // BlockNote always names the language, `text` by default.
            let lang = b
                .prop_str("language")
                .map(|l| l.trim())
                .filter(|l| !l.is_empty() && !l.contains('`'))
                .unwrap_or("text");
            out.push_str(&format!("{indent}{fence}{lang}\n"));
            for l in code.split('\n') {
                if !code.is_empty() {
                    out.push_str(indent);
                    out.push_str(l);
                    out.push('\n');
                }
            }
            out.push_str(&format!("{indent}{fence}\n"));
            indent.to_owned()
        }
        block_type::DIVIDER => {
            out.push_str(indent);
            out.push_str("---\n");
            indent.to_owned()
        }
        block_type::TABLE => {
            write_table(out, b.table.as_deref().unwrap_or(&[]), indent);
            indent.to_owned()
        }
        block_type::IMAGE | block_type::VIDEO | block_type::AUDIO | block_type::FILE => {
            write_media(out, b, indent);
            indent.to_owned()
        }
        _ => line(out, "", &text()),
    }
}

/// Whether a block's Markdown starts with a line of its own text.
fn has_text_line(kind: &str) -> bool {
    !matches!(
        kind,
        block_type::CODE_BLOCK
            | block_type::DIVIDER
            | block_type::TABLE
            | block_type::IMAGE
            | block_type::VIDEO
            | block_type::AUDIO
            | block_type::FILE
    )
}

/// Media blocks as BlockNote's Markdown export writes them: Markdown where
/// it has a form (an image or video without caption, a file link), else
/// BlockNote's HTML (`figure` with `figcaption`, `audio`). Addresses other
/// than `http`, `https` and `mailto` are left out, as in the HTML export.
fn write_media(out: &mut String, b: &Block, indent: &str) {
    let prop = |name: &str| b.prop_str(name).map(str::trim).unwrap_or("");
    let url = Some(prop("url")).filter(|u| is_safe_href(u)).unwrap_or("");
    let (name, caption) = (prop("name"), prop("caption"));
    if url.is_empty() {
        return;
    }
    let md_url = url
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29");
    let media = match b.kind.as_str() {
        block_type::IMAGE => {
            let alt = if name.is_empty() {
                String::new()
            } else {
                format!(" alt=\"{}\"", escape(name))
            };
            format!("<img{alt} src=\"{}\">", escape(url))
        }
        block_type::VIDEO => format!("<video src=\"{}\" controls></video>", escape(url)),
        block_type::AUDIO => format!("<audio src=\"{}\" controls></audio>", escape(url)),
        _ => String::new(),
    };
    let line = match b.kind.as_str() {
        block_type::FILE if name.is_empty() => md_url,
        block_type::FILE => format!("[{}]({md_url})", escape_text(name, false)),
        block_type::AUDIO if caption.is_empty() => media,
        _ if caption.is_empty() => format!("![{}]({md_url})", escape_text(name, false)),
        _ => format!(
            "<figure>{media}<figcaption>{}</figcaption></figure>",
            escape(caption)
        ),
    };
    out.push_str(indent);
    out.push_str(&line);
    out.push('\n');
    if b.kind == block_type::FILE && !caption.is_empty() {
        out.push_str(indent);
        out.push('\n');
        out.push_str(indent);
        out.push_str(&escape_text(caption, true));
        out.push('\n');
    }
}

fn write_table(out: &mut String, rows: &[Vec<Vec<InlineRun>>], indent: &str) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return;
    }
    for (r, row) in rows.iter().enumerate() {
        out.push_str(indent);
        out.push('|');
        for c in 0..width {
            let cell = row
                .get(c)
                .map(|runs| inline_markdown(runs).replace('\n', " "))
                .unwrap_or_default();
            out.push(' ');
            out.push_str(&cell);
            out.push_str(" |");
        }
        out.push('\n');
        if r == 0 {
            out.push_str(indent);
            out.push('|');
            for _ in 0..width {
                out.push_str(" --- |");
            }
            out.push('\n');
        }
    }
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Escapes Markdown syntax characters in plain text.
fn escape_text(s: &str, at_line_start: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut line_start = at_line_start;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '-' | '+' | '=' if line_start => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if line_start_digits(&chars[..i], at_line_start) => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
        line_start = c == '\n';
    }
    out
}

/// Whether `prefix` is a run of digits that starts a line (an ordered-list marker).
fn line_start_digits(prefix: &[char], at_line_start: bool) -> bool {
    let digits = prefix
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    digits > 0
        && (digits == prefix.len() && at_line_start
            || prefix.len() > digits && prefix[prefix.len() - digits - 1] == '\n')
}

/// Inline runs as Markdown, keeping a mark open across runs that share it.
pub fn inline_markdown(runs: &[InlineRun]) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum M {
        Link,
        Bold,
        Italic,
        Strike,
    }
    let has = |m: M, marks: &Marks| match m {
        M::Link => marks.link.is_some(),
        M::Bold => marks.bold,
        M::Italic => marks.italic,
        M::Strike => marks.strike,
    };
    let open_delim = |m: M| match m {
        M::Link => "[",
        M::Bold => "**",
        M::Italic => "_",
        M::Strike => "~~",
    };
    let mut out = String::new();
    let mut open: Vec<(M, Option<String>)> = Vec::new();
    let order = [M::Link, M::Bold, M::Italic, M::Strike];
    let close = |out: &mut String, m: M, href: &Option<String>| match m {
        M::Link => {
            out.push_str("](");
            out.push_str(
                &href
                    .clone()
                    .unwrap_or_default()
                    .replace(' ', "%20")
                    .replace(')', "%29"),
            );
            out.push(')');
        }
        other => out.push_str(open_delim(other)),
    };
    let shared_prefix = |open: &[(M, Option<String>)], marks: &Marks| {
        open.iter()
            .take_while(|(m, href)| {
                has(*m, marks) && (*m != M::Link || href.as_deref() == marks.link.as_deref())
            })
            .count()
    };
    for (i, run) in runs.iter().enumerate() {
        let marks = &run.marks;
        // Close every open mark the run does not share (and those opened after it).
        let keep = shared_prefix(&open, marks);
        let core = run.text.trim_matches(' ');
        let lead = &run.text[..run.text.len() - run.text.trim_start_matches(' ').len()];
        let trail = &run.text[run.text.trim_end_matches(' ').len()..];
        while open.len() > keep {
            if let Some((m, href)) = open.pop() {
                close(&mut out, m, &href);
            }
        }
        if core.is_empty() {
            // Spaces only: they never open a mark.
            out.push_str(&run.text);
            continue;
        }
        // Whitespace at a mark boundary goes outside the delimiters.
        out.push_str(lead);
        for m in order {
            if has(m, marks) && !open.iter().any(|(o, _)| *o == m) {
                out.push_str(open_delim(m));
                open.push((
                    m,
                    if m == M::Link {
                        marks.link.clone()
                    } else {
                        None
                    },
                ));
            }
        }
        if marks.code {
            let ticks = "`".repeat(longest_backtick_run(core) + 1);
            let pad = if core.starts_with('`') || core.ends_with('`') {
                " "
            } else {
                ""
            };
            out.push_str(&format!("{ticks}{pad}{core}{pad}{ticks}"));
        } else {
            out.push_str(&escape_text(core, out.is_empty() || out.ends_with('\n')));
        }
        if !trail.is_empty() {
            // Trailing spaces first close the marks the next run does not
            // share, so the closing delimiter hugs the text.
            let keep = runs
                .get(i + 1)
                .map_or(0, |next| shared_prefix(&open, &next.marks));
            while open.len() > keep {
                if let Some((m, href)) = open.pop() {
                    close(&mut out, m, &href);
                }
            }
            out.push_str(trail);
        }
    }
    while let Some((m, href)) = open.pop() {
        close(&mut out, m, &href);
    }
    // Hard breaks stay raw `\n`: the block writer turns them into `\` + newline.
    out
}
