//! HTML export (every text escaped, only safe link targets) and the
//! sanitizing HTML import used for paste.
//!
//! Import reads a small, fixed subset of HTML with a tolerant tokenizer and
//! maps it onto the schema: everything else — scripts, styles, event
//! handlers, unknown elements, `javascript:` links — is dropped or reduced
//! to its text, so pasted content can never carry executable markup.

use crate::block::{Block, InlineRun, Marks, NewBlock};
use crate::depth::MAX_BLOCK_LEVEL;
use crate::sanitize::is_safe_href;
use crate::schema::block_type;

/// Escapes text for use in HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Blocks as HTML (lists grouped into `ul`/`ol`).
pub fn export(blocks: &[Block]) -> String {
    let mut out = String::new();
    write_blocks(&mut out, blocks);
    out
}

fn list_tag(kind: &str) -> Option<&'static str> {
    match kind {
        block_type::BULLET_LIST_ITEM
        | block_type::CHECK_LIST_ITEM
        | block_type::TOGGLE_LIST_ITEM => Some("ul"),
        block_type::NUMBERED_LIST_ITEM => Some("ol"),
        _ => None,
    }
}

fn write_blocks(out: &mut String, blocks: &[Block]) {
    let mut open_list: Option<&'static str> = None;
    for b in blocks {
        let tag = list_tag(&b.kind);
        if open_list != tag {
            if let Some(t) = open_list {
                out.push_str(&format!("</{t}>"));
            }
            if let Some(t) = tag {
                out.push_str(&format!("<{t}>"));
            }
            open_list = tag;
        }
        write_block(out, b);
    }
    if let Some(t) = open_list {
        out.push_str(&format!("</{t}>"));
    }
}

fn write_block(out: &mut String, b: &Block) {
    let inline = inline_html(&b.content);
    match b.kind.as_str() {
        block_type::HEADING => {
            let l = b.prop_f64("level").unwrap_or(1.0).clamp(1.0, 6.0) as u8;
            out.push_str(&format!("<h{l}>{inline}</h{l}>"));
        }
        block_type::BULLET_LIST_ITEM
        | block_type::NUMBERED_LIST_ITEM
        | block_type::TOGGLE_LIST_ITEM => {
            out.push_str(&format!("<li>{inline}"));
            write_blocks(out, &b.children);
            out.push_str("</li>");
            return;
        }
        block_type::CHECK_LIST_ITEM => {
            let checked = if b.prop_bool("checked") == Some(true) {
                " checked"
            } else {
                ""
            };
            out.push_str(&format!(
                "<li><input type=\"checkbox\" disabled{checked}> {inline}"
            ));
            write_blocks(out, &b.children);
            out.push_str("</li>");
            return;
        }
        block_type::QUOTE => out.push_str(&format!("<blockquote>{inline}</blockquote>")),
        block_type::CODE_BLOCK => {
            let lang = b.prop_str("language").unwrap_or("text");
            out.push_str(&format!(
                "<pre><code class=\"language-{}\">{}</code></pre>",
                escape(lang),
                escape(&b.plain_text())
            ));
        }
        block_type::DIVIDER => out.push_str("<hr>"),
        block_type::TABLE => {
            out.push_str("<table>");
            for row in b.table.as_deref().unwrap_or(&[]) {
                out.push_str("<tr>");
                for cell in row {
                    out.push_str(&format!("<td>{}</td>", inline_html(cell)));
                }
                out.push_str("</tr>");
            }
            out.push_str("</table>");
        }
        _ => out.push_str(&format!("<p>{inline}</p>")),
    }
    write_blocks(out, &b.children);
}

/// Inline runs as HTML.
pub fn inline_html(runs: &[InlineRun]) -> String {
    let mut out = String::new();
    for r in runs {
        let m = &r.marks;
        let mut open = String::new();
        let mut close = Vec::new();
        let mut wrap = |o: String, c: &'static str| {
            open.push_str(&o);
            close.push(c);
        };
        if let Some(href) = m.link.as_deref().filter(|h| is_safe_href(h)) {
            wrap(
                format!("<a href=\"{}\" rel=\"noopener noreferrer\">", escape(href)),
                "</a>",
            );
        }
        let flags = [
            (m.bold, "<strong>", "</strong>"),
            (m.italic, "<em>", "</em>"),
            (m.underline, "<u>", "</u>"),
            (m.strike, "<s>", "</s>"),
            (m.code, "<code>", "</code>"),
        ];
        for (on, o, c) in flags {
            if on {
                wrap(o.to_owned(), c);
            }
        }
        let mut colors = Vec::new();
        if let Some(c) = &m.text_color {
            colors.push(format!("data-text-color=\"{}\"", escape(c)));
        }
        if let Some(c) = &m.background_color {
            colors.push(format!("data-background-color=\"{}\"", escape(c)));
        }
        if !colors.is_empty() {
            wrap(format!("<span {}>", colors.join(" ")), "</span>");
        }
        out.push_str(&open);
        out.push_str(&escape(&r.text).replace('\n', "<br>"));
        for c in close.iter().rev() {
            out.push_str(c);
        }
    }
    out
}

// ----- sanitizing import -------------------------------------------------

/// A token of the tolerant HTML reader.
#[derive(Debug, PartialEq)]
enum Token {
    Open(String, Vec<(String, String)>),
    Close(String),
    Text(String),
}

/// Elements whose whole content is dropped.
const DROPPED: &[&str] = &[
    "script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math", "head",
    "title", "textarea", "select", "button", "form",
];

fn tokenize(html: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').unwrap_or(rest.len());
            let inner = &rest[1..end];
            rest = rest.get(end + 1..).unwrap_or("");
            if let Some(name) = inner.strip_prefix('/') {
                out.push(Token::Close(name.trim().to_ascii_lowercase()));
            } else if !inner.starts_with('!') && !inner.starts_with('?') {
                let inner = inner.trim_end_matches('/');
                let (name, attrs) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
                out.push(Token::Open(name.to_ascii_lowercase(), parse_attrs(attrs)));
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        out.push(Token::Text(decode_entities(&rest[..end])));
        rest = &rest[end..];
    }
    out
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, r) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            value = decode_entities(v);
            rest = r.trim_start();
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads pasted HTML into blocks of the schema. Never produces a link
/// outside `http`/`https`/`mailto`, and never keeps markup as markup.
pub fn sanitize_paste(html: &str) -> Vec<NewBlock> {
    // Blocks in document order with their nesting depth; nested at the end.
    let mut blocks: Vec<(usize, NewBlock)> = Vec::new();
    let mut current: Option<NewBlock> = None;
    // The item type of each enclosing list.
    let mut lists: Vec<&'static str> = Vec::new();
    let mut marks = MarkStack::default();
    let mut dropping: Option<String> = None;
    let mut in_pre = false;
    // Depth is the number of enclosing lists, minus one for a list item's
    // own block: a sub-list inside the `<li>` (BlockNote, ProseMirror) or
    // right after it (Google Docs) nests under that item, and so does a
    // paragraph inside the `<li>` after the item's text.
    let flush = |current: &mut Option<NewBlock>,
                 blocks: &mut Vec<(usize, NewBlock)>,
                 lists: &[&'static str]| {
        if let Some(b) = current.take()
            && (!b.content.is_empty() || b.kind != block_type::PARAGRAPH)
        {
            let item = matches!(
                b.kind.as_str(),
                block_type::BULLET_LIST_ITEM
                    | block_type::NUMBERED_LIST_ITEM
                    | block_type::CHECK_LIST_ITEM
            );
            // Nesting past what Atelier writes is flattened at the deepest
            // level: the text stays, the extra indentation goes.
            let level = lists.len().saturating_sub(usize::from(item));
            blocks.push((level.min(MAX_BLOCK_LEVEL), b));
        }
    };
    for tok in tokenize(html) {
        if let Some(d) = &dropping {
            if tok == Token::Close(d.clone()) {
                dropping = None;
            }
            continue;
        }
        match tok {
            Token::Open(name, attrs) => {
                if DROPPED.contains(&name.as_str()) {
                    dropping = Some(name);
                    continue;
                }
                let start_block = |kind: &str| Some(NewBlock::text(kind, ""));
                match name.as_str() {
                    "p" | "div" | "section" | "article" | "header" | "footer" | "td" | "th" => {
                        // `<li><p>text</p></li>` (BlockNote, ProseMirror,
                        // most editors): the paragraph fills the item
                        // instead of following an empty one.
                        let fills_current = current.as_ref().is_some_and(|b| {
                            b.content.is_empty() && b.kind != block_type::PARAGRAPH
                        });
                        if !fills_current {
                            flush(&mut current, &mut blocks, &lists);
                            current = start_block(block_type::PARAGRAPH);
                        }
                    }
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                        flush(&mut current, &mut blocks, &lists);
                        let level = name[1..].parse::<u8>().unwrap_or(1).min(3);
                        current =
                            start_block(block_type::HEADING).map(|b| b.with_prop("level", level));
                    }
                    "blockquote" => {
                        flush(&mut current, &mut blocks, &lists);
                        current = start_block(block_type::QUOTE);
                    }
                    "pre" => {
                        flush(&mut current, &mut blocks, &lists);
                        in_pre = true;
                        current = start_block(block_type::CODE_BLOCK);
                    }
                    "ul" | "ol" => {
                        flush(&mut current, &mut blocks, &lists);
                        lists.push(if name == "ul" {
                            block_type::BULLET_LIST_ITEM
                        } else {
                            block_type::NUMBERED_LIST_ITEM
                        });
                    }
                    "li" => {
                        flush(&mut current, &mut blocks, &lists);
                        current = start_block(
                            lists
                                .last()
                                .copied()
                                .unwrap_or(block_type::BULLET_LIST_ITEM),
                        );
                    }
                    "input" => {
                        let checkbox = attrs
                            .iter()
                            .any(|(k, v)| k == "type" && v.eq_ignore_ascii_case("checkbox"));
                        if let (true, Some(b)) = (checkbox, current.as_mut()) {
                            b.kind = block_type::CHECK_LIST_ITEM.to_owned();
                            let checked = attrs.iter().any(|(k, _)| k == "checked");
                            b.props.insert("checked".into(), checked.into());
                        }
                    }
                    "hr" => {
                        flush(&mut current, &mut blocks, &lists);
                        let level = lists.len().min(MAX_BLOCK_LEVEL);
                        blocks.push((level, NewBlock::text(block_type::DIVIDER, "")));
                    }
                    "br" => push_text(&mut current, "\n", &marks, in_pre),
                    "b" | "strong" => marks.bold += 1,
                    "i" | "em" => marks.italic += 1,
                    "u" => marks.underline += 1,
                    "s" | "strike" | "del" => marks.strike += 1,
                    "code" if !in_pre => marks.code += 1,
                    "a" => {
                        let href = attrs
                            .iter()
                            .find(|(k, _)| k == "href")
                            .map(|(_, v)| v.clone())
                            .filter(|h| is_safe_href(h));
                        marks.links.push(href);
                    }
                    _ => {}
                }
            }
            Token::Close(name) => match name.as_str() {
                "p" | "div" | "section" | "article" | "header" | "footer" | "h1" | "h2" | "h3"
                | "h4" | "h5" | "h6" | "blockquote" | "td" | "th" => {
                    flush(&mut current, &mut blocks, &lists)
                }
                "li" => flush(&mut current, &mut blocks, &lists),
                "pre" => {
                    in_pre = false;
                    flush(&mut current, &mut blocks, &lists);
                }
                "ul" | "ol" => {
                    flush(&mut current, &mut blocks, &lists);
                    lists.pop();
                }
                "b" | "strong" => marks.bold = marks.bold.saturating_sub(1),
                "i" | "em" => marks.italic = marks.italic.saturating_sub(1),
                "u" => marks.underline = marks.underline.saturating_sub(1),
                "s" | "strike" | "del" => marks.strike = marks.strike.saturating_sub(1),
                "code" if !in_pre => marks.code = marks.code.saturating_sub(1),
                "a" => {
                    marks.links.pop();
                }
                _ => {}
            },
            Token::Text(t) => push_text(&mut current, &t, &marks, in_pre),
        }
    }
    flush(&mut current, &mut blocks, &lists);
    nest(blocks)
}

/// Builds the block tree from blocks in document order with their depth: a
/// block at depth `d + 1` becomes a child of the last block at depth `d`
/// (deeper jumps are clamped to one level below the previous block).
fn nest(flat: Vec<(usize, NewBlock)>) -> Vec<NewBlock> {
    fn last_at(blocks: &mut Vec<NewBlock>, depth: usize) -> Option<&mut Vec<NewBlock>> {
        if depth == 0 {
            return Some(blocks);
        }
        let parent = blocks.last_mut()?;
        last_at(&mut parent.children, depth - 1)
    }
    fn depth_of_last(blocks: &[NewBlock]) -> usize {
        match blocks.last() {
            Some(b) if !b.children.is_empty() => 1 + depth_of_last(&b.children),
            Some(_) => 0,
            None => 0,
        }
    }
    let mut roots: Vec<NewBlock> = Vec::new();
    for (depth, block) in flat {
        let max = if roots.is_empty() {
            0
        } else {
            depth_of_last(&roots) + 1
        };
        match last_at(&mut roots, depth.min(max)) {
            Some(list) => list.push(block),
            None => roots.push(block),
        }
    }
    roots
}

#[derive(Default)]
struct MarkStack {
    bold: u32,
    italic: u32,
    underline: u32,
    strike: u32,
    code: u32,
    links: Vec<Option<String>>,
}

fn push_text(current: &mut Option<NewBlock>, text: &str, m: &MarkStack, in_pre: bool) {
    let text = if in_pre {
        text.to_owned()
    } else {
        // Outside <pre>, HTML collapses whitespace runs to one space.
        let mut s = String::with_capacity(text.len());
        let mut prev_space = false;
        for c in text.chars() {
            let space = c == ' ' || c == '\t' || c == '\r' || (c == '\n' && text != "\n");
            if space {
                if !prev_space {
                    s.push(' ');
                }
            } else {
                s.push(c);
            }
            prev_space = space;
        }
        s
    };
    if text.is_empty() || (current.is_none() && text.trim().is_empty()) {
        return;
    }
    // Whitespace at the start of a block does not render (e.g. the space
    // after a check-list item's checkbox).
    let text = if !in_pre && current.as_ref().is_none_or(|b| b.content.is_empty()) {
        let t = text.trim_start();
        if t.is_empty() {
            return;
        }
        t.to_owned()
    } else {
        text
    };
    let block = current.get_or_insert_with(|| NewBlock::paragraph(""));
    let marks = if block.kind == block_type::CODE_BLOCK {
        Marks::default()
    } else {
        Marks {
            bold: m.bold > 0,
            italic: m.italic > 0,
            underline: m.underline > 0,
            strike: m.strike > 0,
            code: m.code > 0,
            link: m.links.last().cloned().flatten(),
            ..Default::default()
        }
    };
    match block.content.last_mut() {
        Some(last) if last.marks == marks => last.text.push_str(&text),
        _ => block.content.push(InlineRun::styled(text, marks)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_escapes_text_and_drops_unsafe_links() {
        let b = Block {
            id: "x".into(),
            kind: "paragraph".into(),
            props: Default::default(),
            content: vec![
                InlineRun::plain("<script>alert('x')</script>"),
                InlineRun::styled(
                    "l",
                    Marks {
                        link: Some("javascript:alert(1)".into()),
                        ..Default::default()
                    },
                ),
            ],
            table: None,
            children: vec![],
        };
        let html = export(&[b]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn hostile_paste_keeps_no_executable_content() {
        let hostile = r#"<p onclick="alert(1)">Hi <a href="javascript:alert(1)">click</a>
            <a href=" JAVASCRIPT:alert(2)">x</a><img src=x onerror=alert(3)>
            <script>alert(4)</script><style>body{display:none}</style>
            <a href="https://ok.fr" onmouseover="alert(5)">ok</a>
            <span style="background:url(javascript:alert(6))">styled</span></p>"#;
        let blocks = sanitize_paste(hostile);
        let all = format!("{blocks:?}");
        for bad in [
            "alert(4)",
            "display:none",
            "onclick",
            "onerror",
            "javascript",
            "style=",
            "background:",
        ] {
            assert!(!all.to_lowercase().contains(bad), "{bad} leaked: {all}");
        }
        let links: Vec<_> = blocks
            .iter()
            .flat_map(|b| b.content.iter().filter_map(|r| r.marks.link.clone()))
            .collect();
        assert_eq!(links, vec!["https://ok.fr".to_string()]);
        let text: String = blocks[0].content.iter().map(|r| r.text.as_str()).collect();
        assert!(text.starts_with("Hi click x"), "{text:?}");
    }

    /// Block kinds and texts as an indented outline, for nesting tests.
    fn outline(blocks: &[NewBlock], depth: usize, out: &mut Vec<String>) {
        for b in blocks {
            let text: String = b.content.iter().map(|r| r.text.as_str()).collect();
            out.push(format!("{}{} {}", "  ".repeat(depth), b.kind, text));
            outline(&b.children, depth + 1, out);
        }
    }

    fn shape(html: &str) -> Vec<String> {
        let mut out = Vec::new();
        outline(&sanitize_paste(html), 0, &mut out);
        out
    }

    #[test]
    fn nested_lists_paste_as_nested_blocks() {
        // BlockNote's and ProseMirror's HTML: the sub-list inside the item.
        assert_eq!(
            shape(
                "<ul><li><p>a</p><ul><li><p>b</p><ol><li>c</li></ol></li></ul></li><li><p>d</p></li></ul>"
            ),
            [
                "bulletListItem a",
                "  bulletListItem b",
                "    numberedListItem c",
                "bulletListItem d",
            ]
        );
        // `<li>` left open (valid HTML), a paragraph after the item's text,
        // and text after the sub-list.
        assert_eq!(
            shape("<ol><li>one<ul><li>x<li>y</ul><li>two<p>more</p></ol><p>after</p>"),
            [
                "numberedListItem one",
                "  bulletListItem x",
                "  bulletListItem y",
                "numberedListItem two",
                "  paragraph more",
                "paragraph after",
            ]
        );
        // Google Docs: the sub-list right after the parent's `</li>`; text
        // after a `<p>` inside an item is the item's child.
        assert_eq!(
            shape("<ul><li><p>a</p></li><ul><li><p>b</p></li></ul><li><p>c</p>tail</li></ul>"),
            [
                "bulletListItem a",
                "  bulletListItem b",
                "bulletListItem c",
                "  paragraph tail",
            ]
        );
        // A sub-list with no item around it goes one level down at most.
        assert_eq!(
            shape("<ul><ul><li>deep</li></ul><li>top</li></ul>"),
            ["bulletListItem deep", "bulletListItem top"]
        );
    }

    #[test]
    fn paste_of_list_items_holding_paragraphs_fills_the_items() {
        // What BlockNote (and ProseMirror editors) put on the clipboard.
        let blocks = sanitize_paste(
            "<ul><li><p>un</p></li><li><p><strong>deux</strong></p></li></ul><ol><li><p>trois</p></li></ol><ul><li><input type=\"checkbox\"> fait</li></ul>",
        );
        let got: Vec<(&str, String)> = blocks
            .iter()
            .map(|b| {
                let text: String = b.content.iter().map(|r| r.text.as_str()).collect();
                (b.kind.as_str(), text)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("bulletListItem", "un".to_owned()),
                ("bulletListItem", "deux".to_owned()),
                ("numberedListItem", "trois".to_owned()),
                ("checkListItem", "fait".to_owned()),
            ]
        );
        assert!(blocks[1].content[0].marks.bold);
    }

    #[test]
    fn paste_maps_structure_to_blocks() {
        let blocks = sanitize_paste(
            "<h2>T</h2><ul><li>a</li><li><input type=checkbox checked>b</li></ul><pre>x\n  y</pre><p><b>bo</b>ld &amp; &#x1F600;</p>",
        );
        let kinds: Vec<&str> = blocks.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "heading",
                "bulletListItem",
                "checkListItem",
                "codeBlock",
                "paragraph"
            ]
        );
        assert_eq!(blocks[3].content[0].text, "x\n  y");
        assert!(blocks[4].content[0].marks.bold);
        assert_eq!(blocks[4].content[1].text, "ld & 😀");
    }

    #[test]
    fn truncated_html_does_not_panic() {
        for s in [
            "<",
            "<a href=\"",
            "&#xZZ;",
            "&",
            "<p",
            "</",
            "<!--",
            "<a href='x",
            "é<b>ü",
        ] {
            let _ = sanitize_paste(s);
        }
    }
}
