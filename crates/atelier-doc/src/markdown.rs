//! Markdown import (CommonMark + GFM task lists, strike-through and tables,
//! parsed by `pulldown-cmark`) and export.
//!
//! Export is lossy where Markdown has no syntax: underline and colours are
//! dropped. Importing an export gives the same export again (tested on a
//! corpus of real documents).

use crate::block::{InlineRun, Marks, NewBlock};
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

pub use crate::markdown_export::{export, export_with_ids, inline_markdown};

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
