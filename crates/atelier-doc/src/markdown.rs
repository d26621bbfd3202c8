//! Markdown import (CommonMark + GFM task lists, strike-through and tables,
//! parsed by `pulldown-cmark`) and export.
//!
//! Export is lossy where Markdown has no syntax: underline and colours are
//! dropped. Importing an export gives the same export again (tested on a
//! corpus of real documents).

use crate::block::{Block, InlineRun, Marks, NewBlock};
use crate::depth::MAX_BLOCK_LEVEL;
use crate::document::{Document, Placement};
use crate::error::Result;
use crate::sanitize::is_safe_href;
use crate::schema::block_type;
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Parses Markdown into blocks.
pub fn parse(markdown: &str) -> Vec<NewBlock> {
    let opts = Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut b = Builder::default();
    for event in Parser::new_ext(markdown, opts) {
        b.event(event);
    }
    b.finish()
}

/// Appends the blocks of a Markdown text to the end of a document, in one
/// transaction. Returns nothing; read the document to see them.
pub fn import(doc: &Document, markdown: &str) -> Result<()> {
    let blocks = parse(markdown);
    if blocks.is_empty() {
        return Ok(());
    }
    doc.insert_blocks(&Placement::End, &blocks).map(|_| ())
}

/// Builds blocks from parser events.
#[derive(Default)]
struct Builder {
    /// Finished top-level blocks.
    out: Vec<NewBlock>,
    /// Open container blocks (list items, quotes) whose children are being read.
    stack: Vec<Frame>,
    /// The block whose inline content is being read.
    current: Option<NewBlock>,
    marks: Marks,
    mark_depth: MarkDepth,
    /// Kind of each open list: `Some(start)` for ordered.
    lists: Vec<Option<u64>>,
    code_text: Option<String>,
    table: Option<Vec<Vec<Vec<InlineRun>>>>,
    cell: Option<Vec<InlineRun>>,
    /// Inside an image: its alt text is kept as plain text.
    in_image: bool,
    /// Quotes and list items opened past [`MAX_BLOCK_LEVEL`]: their text
    /// becomes paragraphs at the deepest level instead of nesting further.
    overflow: usize,
}

#[derive(Default)]
struct MarkDepth {
    bold: u32,
    italic: u32,
    strike: u32,
    link: Vec<Option<String>>,
}

struct Frame {
    block: NewBlock,
    /// Whether the frame's own inline content was already filled.
    has_text: bool,
}

impl Builder {
    fn push_block(&mut self, b: NewBlock) {
        match self.stack.last_mut() {
            Some(frame) => {
                // A list item's or quote's first paragraph is its own text;
                // later blocks inside it become its children.
                if !frame.has_text && b.kind == block_type::PARAGRAPH && b.children.is_empty() {
                    frame.block.content = b.content;
                    frame.has_text = true;
                } else {
                    frame.block.children.push(b);
                }
            }
            None => self.out.push(b),
        }
    }

    fn flush_inline(&mut self) {
        if let Some(b) = self.current.take() {
            self.push_block(b);
        }
    }

    fn text_target(&mut self) -> &mut Vec<InlineRun> {
        match self.cell {
            Some(ref mut cell) => cell,
            // Tight list items have text without a paragraph tag.
            None => {
                &mut self
                    .current
                    .get_or_insert_with(|| NewBlock::paragraph(""))
                    .content
            }
        }
    }

    fn push_text(&mut self, text: &str, extra_code: bool) {
        if text.is_empty() {
            return;
        }
        let mut marks = Marks {
            bold: self.mark_depth.bold > 0,
            italic: self.mark_depth.italic > 0,
            strike: self.mark_depth.strike > 0,
            code: extra_code,
            link: self.mark_depth.link.last().cloned().flatten(),
            ..self.marks.clone()
        };
        if self.in_image {
            marks = Marks::default();
        }
        let runs = self.text_target();
        match runs.last_mut() {
            Some(last) if last.marks == marks => last.text.push_str(text),
            _ => runs.push(InlineRun::styled(text, marks)),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => match self.code_text.as_mut() {
                Some(code) => code.push_str(&t),
                None => self.push_text(&t, false),
            },
            Event::Code(t) => self.push_text(&t, true),
            Event::SoftBreak => self.push_text(" ", false),
            Event::HardBreak => self.push_text("\n", false),
            Event::Html(t) | Event::InlineHtml(t) => {
                // Raw HTML is kept as visible text, never as markup.
                let t = t.trim_end_matches('\n');
                self.push_text(t, false);
            }
            Event::Rule => {
                self.flush_inline();
                self.push_block(NewBlock::text(block_type::DIVIDER, ""));
            }
            Event::TaskListMarker(checked) => {
                if let Some(frame) = self.stack.last_mut() {
                    frame.block.kind = block_type::CHECK_LIST_ITEM.to_owned();
                    frame.block.props.insert("checked".into(), checked.into());
                }
            }
            Event::FootnoteReference(t) => self.push_text(&format!("[^{t}]"), false),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.push_text(&t, false),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.flush_inline();
                self.current = Some(NewBlock::paragraph(""));
            }
            Tag::Heading { level, .. } => {
                self.flush_inline();
                let level = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                self.current =
                    Some(NewBlock::text(block_type::HEADING, "").with_prop("level", level));
            }
            Tag::BlockQuote(_) | Tag::Item if self.stack.len() >= MAX_BLOCK_LEVEL => {
                self.flush_inline();
                self.overflow += 1;
            }
            Tag::BlockQuote(_) => {
                self.flush_inline();
                self.stack.push(Frame {
                    block: NewBlock::text(block_type::QUOTE, ""),
                    has_text: false,
                });
            }
            Tag::CodeBlock(kind) => {
                self.flush_inline();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                let lang = if lang.is_empty() {
                    "text".to_owned()
                } else {
                    lang
                };
                self.current =
                    Some(NewBlock::text(block_type::CODE_BLOCK, "").with_prop("language", lang));
                self.code_text = Some(String::new());
            }
            Tag::List(start) => {
                self.flush_inline();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush_inline();
                let mut block = match self.lists.last_mut() {
                    Some(Some(start)) => {
                        let b = NewBlock::text(block_type::NUMBERED_LIST_ITEM, "");
                        // Only the first item carries a start other than 1.
                        let b = if *start != 1 {
                            b.with_prop("start", *start)
                        } else {
                            b
                        };
                        *start = 1;
                        b
                    }
                    _ => NewBlock::text(block_type::BULLET_LIST_ITEM, ""),
                };
                block.id = None;
                self.stack.push(Frame {
                    block,
                    has_text: false,
                });
            }
            Tag::Emphasis => self.mark_depth.italic += 1,
            Tag::Strong => self.mark_depth.bold += 1,
            Tag::Strikethrough => self.mark_depth.strike += 1,
            Tag::Link { dest_url, .. } => {
                let href = dest_url.to_string();
                self.mark_depth
                    .link
                    .push(is_safe_href(&href).then_some(href));
            }
            Tag::Image { .. } => self.in_image = true,
            Tag::Table(_) => {
                self.flush_inline();
                self.table = Some(Vec::new());
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    t.push(Vec::new());
                }
            }
            Tag::TableCell => self.cell = Some(Vec::new()),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) => self.flush_inline(),
            TagEnd::CodeBlock => {
                let code = self.code_text.take().unwrap_or_default();
                let code = code.strip_suffix('\n').unwrap_or(&code).to_owned();
                if let Some(b) = self.current.as_mut()
                    && !code.is_empty()
                {
                    b.content = vec![InlineRun::plain(code)];
                }
                self.flush_inline();
            }
            TagEnd::BlockQuote(_) | TagEnd::Item if self.overflow > 0 => {
                self.flush_inline();
                self.overflow -= 1;
            }
            TagEnd::BlockQuote(_) | TagEnd::Item => {
                self.flush_inline();
                if let Some(frame) = self.stack.pop() {
                    self.push_block(frame.block);
                }
            }
            TagEnd::List(_) => {
                self.flush_inline();
                self.lists.pop();
            }
            TagEnd::Emphasis => self.mark_depth.italic = self.mark_depth.italic.saturating_sub(1),
            TagEnd::Strong => self.mark_depth.bold = self.mark_depth.bold.saturating_sub(1),
            TagEnd::Strikethrough => {
                self.mark_depth.strike = self.mark_depth.strike.saturating_sub(1)
            }
            TagEnd::Link => {
                self.mark_depth.link.pop();
            }
            TagEnd::Image => self.in_image = false,
            TagEnd::TableCell => {
                if let (Some(cell), Some(row)) = (
                    self.cell.take(),
                    self.table.as_mut().and_then(|t| t.last_mut()),
                ) {
                    row.push(cell);
                }
            }
            TagEnd::Table => {
                if let Some(rows) = self.table.take() {
                    self.push_block(NewBlock {
                        kind: block_type::TABLE.to_owned(),
                        table: Some(rows),
                        ..Default::default()
                    });
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Vec<NewBlock> {
        self.flush_inline();
        while let Some(frame) = self.stack.pop() {
            self.push_block(frame.block);
        }
        self.out
    }
}

// ----- export ----------------------------------------------------------------

/// Writes blocks as Markdown.
pub fn export(blocks: &[Block]) -> String {
    let mut out = String::new();
    write_blocks(&mut out, blocks, "");
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

fn write_blocks(out: &mut String, blocks: &[Block], indent: &str) {
    let mut number = 0u64;
    let mut prev: Option<&str> = None;
    for b in blocks {
        if b.kind == block_type::PARAGRAPH && b.content.is_empty() && b.children.is_empty() {
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
        let child_indent = write_block(out, b, indent, number);
        if !b.children.is_empty() {
            if is_list(&b.kind) {
                write_blocks(out, &b.children, &child_indent);
            } else {
                out.push_str(indent);
                out.push('\n');
                write_blocks(out, &b.children, indent);
            }
        }
        prev = Some(&b.kind);
    }
}

/// Writes one block; returns the indent its list children use.
fn write_block(out: &mut String, b: &Block, indent: &str, number: u64) -> String {
    let text = || inline_markdown(&b.content);
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
                out.push_str(if i + 1 < n { "\\\n" } else { "\n" });
            }
            indent.to_owned()
        }
        block_type::CODE_BLOCK => {
            let code = b.plain_text();
            let fence = "`".repeat(longest_backtick_run(&code).max(2) + 1);
            let lang = b
                .prop_str("language")
                .filter(|l| *l != "text")
                .unwrap_or("");
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
        _ => line(out, "", &text()),
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

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
