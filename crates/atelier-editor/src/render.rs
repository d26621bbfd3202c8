//! What a block looks like in the editing surface, as a small virtual node
//! tree built from the model's read snapshot. Pure, so tested natively; the
//! DOM side (`surface`) only turns these nodes into elements.
//!
//! Every attribute value here comes from the model, which is outside input:
//! it is only ever set with `setAttribute`/`createTextNode` (never parsed as
//! HTML), links are kept only when [`atelier_doc::sanitize::is_safe_href`]
//! accepts them, and colour names become class names only when they are
//! plain lowercase words.

use atelier_doc::schema::block_type;
use atelier_doc::{Block, InlineRun, Marks};

/// A node to create in the surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VNode {
    /// An element with attributes and children.
    Element {
        /// Tag name.
        tag: &'static str,
        /// Attributes, in order.
        attrs: Vec<(&'static str, String)>,
        /// Child nodes.
        children: Vec<VNode>,
    },
    /// A text node.
    Text(String),
}

impl VNode {
    fn el(tag: &'static str, attrs: Vec<(&'static str, String)>, children: Vec<VNode>) -> Self {
        VNode::Element {
            tag,
            attrs,
            children,
        }
    }

    /// Serializes the node as HTML (escaped), for tests and debugging.
    pub fn to_html(&self) -> String {
        match self {
            VNode::Text(t) => atelier_doc::html::escape(t),
            VNode::Element {
                tag,
                attrs,
                children,
            } => {
                let mut s = format!("<{tag}");
                for (k, v) in attrs {
                    s.push_str(&format!(" {k}=\"{}\"", atelier_doc::html::escape(v)));
                }
                s.push('>');
                if *tag == "br" || *tag == "hr" || *tag == "input" {
                    return s;
                }
                for c in children {
                    s.push_str(&c.to_html());
                }
                s.push_str(&format!("</{tag}>"));
                s
            }
        }
    }
}

/// The attribute that marks a `<br>` as a filler (zero model units).
pub const FILLER_ATTR: &str = "data-atelier-filler";
/// The attribute that marks a block's content element (the caret's home).
pub const CONTENT_ATTR: &str = "data-atelier-content";

/// The part of a block that its own DOM depends on (not its children), so
/// unchanged blocks can be skipped on re-render.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockLook {
    /// The block type.
    pub kind: String,
    /// Its props.
    pub props: serde_json::Map<String, serde_json::Value>,
    /// Its inline content.
    pub content: Vec<InlineRun>,
    /// Its table rows, if any.
    pub table: Option<Vec<Vec<Vec<InlineRun>>>>,
}

impl BlockLook {
    /// The look of a block snapshot.
    pub fn of(b: &Block) -> Self {
        BlockLook {
            kind: b.kind.clone(),
            props: b.props.clone(),
            content: b.content.clone(),
            table: b.table.clone(),
        }
    }
}

/// Labels the renderer needs in the user's language.
#[derive(Debug, Clone, Copy)]
pub struct RenderLabels {
    /// Accessible name of a check-list checkbox.
    pub checkbox: &'static str,
    /// Text of the placeholder for a block the editor cannot edit yet.
    pub unsupported: &'static str,
}

/// Whether the editor edits text in blocks of this type.
pub fn is_text_block(kind: &str) -> bool {
    atelier_doc::schema::has_inline_content(kind)
}

/// Attributes of a block's wrapper element (`div.atelier-block`).
pub fn wrapper_attrs(b: &Block) -> Vec<(&'static str, String)> {
    let mut attrs = vec![
        ("class", "atelier-block".to_owned()),
        ("data-block-id", b.id.to_string()),
        (
            "data-type",
            safe_token(&b.kind).unwrap_or("unknown").to_owned(),
        ),
    ];
    if let Some(c) = b.prop_str("textColor").and_then(safe_token)
        && c != "default"
    {
        attrs.push(("data-text-color", c.to_owned()));
    }
    if let Some(c) = b.prop_str("backgroundColor").and_then(safe_token)
        && c != "default"
    {
        attrs.push(("data-background-color", c.to_owned()));
    }
    if let Some(a) = b.prop_str("textAlignment").and_then(safe_token)
        && a != "left"
    {
        attrs.push(("data-text-alignment", a.to_owned()));
    }
    if b.kind == block_type::CHECK_LIST_ITEM && checked(b) {
        attrs.push(("data-checked", "true".to_owned()));
    }
    attrs
}

/// Roughly how many lines a block's own text takes (≈ 90 characters a line,
/// plus one per hard break; at least 1, at most 1000): the height the
/// browser assumes for an off-screen block it has not laid out yet, so the
/// scrollbar of a long document is close to right before it is scrolled.
pub fn estimated_lines(b: &Block) -> u32 {
    let mut chars = 0u32;
    let mut breaks = 0u32;
    for r in &b.content {
        for c in r.text.chars() {
            if c == '\n' {
                breaks += 1;
            } else {
                chars += 1;
            }
        }
    }
    if b.kind == block_type::CODE_BLOCK {
        // Code does not wrap: one line per `\n`.
        chars = 0;
    }
    (chars.div_ceil(90) + breaks).clamp(1, 1000)
}

/// BlockNote does not coerce types: any truthy `checked` shows as checked.
pub fn checked(b: &Block) -> bool {
    match b.props.get("checked") {
        Some(serde_json::Value::Bool(v)) => *v,
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// The heading level to render (1–6; out-of-range values are clamped).
pub fn heading_level(b: &Block) -> u8 {
    b.prop_f64("level").map_or(1, |l| l.clamp(1.0, 6.0) as u8)
}

/// The nodes a block renders before its content element (a checkbox for
/// check-list items), outside the editable text.
pub fn block_prefix(b: &Block, labels: &RenderLabels) -> Option<VNode> {
    if b.kind != block_type::CHECK_LIST_ITEM {
        return None;
    }
    let mut input_attrs = vec![
        ("type", "checkbox".to_owned()),
        ("class", "atelier-check-input".to_owned()),
        ("aria-label", labels.checkbox.to_owned()),
    ];
    if checked(b) {
        input_attrs.push(("checked", String::new()));
    }
    Some(VNode::el(
        "span",
        vec![
            ("class", "atelier-check".to_owned()),
            ("contenteditable", "false".to_owned()),
        ],
        vec![VNode::el("input", input_attrs, Vec::new())],
    ))
}

/// The content element of a block (its own text, not its children).
pub fn block_content(b: &Block, labels: &RenderLabels) -> VNode {
    let content_attr =
        |class: &str| vec![("class", class.to_owned()), (CONTENT_ATTR, String::new())];
    match b.kind.as_str() {
        block_type::PARAGRAPH | block_type::TOGGLE_LIST_ITEM => {
            VNode::el("p", content_attr("atelier-text"), inline_nodes(&b.content))
        }
        block_type::HEADING => {
            let tag = match heading_level(b) {
                1 => "h1",
                2 => "h2",
                3 => "h3",
                4 => "h4",
                5 => "h5",
                _ => "h6",
            };
            VNode::el(tag, content_attr("atelier-text"), inline_nodes(&b.content))
        }
        block_type::BULLET_LIST_ITEM
        | block_type::NUMBERED_LIST_ITEM
        | block_type::CHECK_LIST_ITEM => VNode::el(
            "p",
            content_attr("atelier-text atelier-list-item"),
            inline_nodes(&b.content),
        ),
        block_type::QUOTE => VNode::el(
            "blockquote",
            content_attr("atelier-text"),
            inline_nodes(&b.content),
        ),
        block_type::CODE_BLOCK => {
            let mut attrs = content_attr("atelier-code");
            if let Some(lang) = b.prop_str("language").and_then(safe_token) {
                attrs.push(("data-language", lang.to_owned()));
            }
            attrs.push(("spellcheck", "false".to_owned()));
            let text = b.plain_text();
            let mut children = Vec::new();
            if !text.is_empty() {
                children.push(VNode::Text(text.clone()));
            }
            if text.is_empty() || text.ends_with('\n') {
                children.push(filler());
            }
            VNode::el("pre", attrs, children)
        }
        block_type::DIVIDER => VNode::el(
            "hr",
            vec![
                ("class", "atelier-divider".to_owned()),
                ("contenteditable", "false".to_owned()),
            ],
            Vec::new(),
        ),
        other => {
            // Tables, media and custom blocks: read-only, kept untouched.
            let mut summary = String::new();
            if let Some(rows) = &b.table {
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| c.iter().map(|r| r.text.as_str()).collect())
                        .collect();
                    summary.push_str(&cells.join(" | "));
                    summary.push('\n');
                }
            }
            let label = format!("{} ({other})", labels.unsupported);
            VNode::el(
                "div",
                vec![
                    ("class", "atelier-unsupported".to_owned()),
                    ("contenteditable", "false".to_owned()),
                    ("role", "note".to_owned()),
                    ("aria-label", label.clone()),
                ],
                vec![
                    VNode::el(
                        "span",
                        vec![("class", "atelier-unsupported-label".to_owned())],
                        vec![VNode::Text(label)],
                    ),
                    VNode::el(
                        "span",
                        vec![("class", "atelier-unsupported-summary".to_owned())],
                        vec![VNode::Text(summary.trim_end().to_owned())],
                    ),
                ],
            )
        }
    }
}

fn filler() -> VNode {
    VNode::el("br", vec![(FILLER_ATTR, String::new())], Vec::new())
}

/// Inline runs as nodes: text, `<br>` for hard breaks, mark elements, and a
/// filler `<br>` when the last line would otherwise be empty.
pub fn inline_nodes(runs: &[InlineRun]) -> Vec<VNode> {
    let mut out = Vec::new();
    for run in runs {
        let mut pieces = Vec::new();
        for (i, line) in run.text.split('\n').enumerate() {
            if i > 0 {
                // A hard break carries no marks in the model.
                flush_marked(&mut out, std::mem::take(&mut pieces), &run.marks);
                out.push(VNode::el("br", Vec::new(), Vec::new()));
            }
            if !line.is_empty() {
                pieces.push(VNode::Text(line.to_owned()));
            }
        }
        flush_marked(&mut out, pieces, &run.marks);
    }
    let ends_with_break = runs.last().is_none_or(|r| r.text.ends_with('\n'));
    if ends_with_break {
        out.push(filler());
    }
    out
}

fn flush_marked(out: &mut Vec<VNode>, pieces: Vec<VNode>, marks: &Marks) {
    if pieces.is_empty() {
        return;
    }
    out.push(wrap_marks(pieces, marks));
}

/// Wraps nodes in the elements of their marks (outermost first: link,
/// bold, italic, underline, strike, code, colours).
fn wrap_marks(mut nodes: Vec<VNode>, m: &Marks) -> VNode {
    let wrap = |tag: &'static str, attrs: Vec<(&'static str, String)>, nodes: Vec<VNode>| {
        vec![VNode::el(tag, attrs, nodes)]
    };
    if let Some(c) = m.background_color.as_deref().and_then(safe_token) {
        nodes = wrap(
            "span",
            vec![
                ("class", format!("atelier-bg-{c}")),
                ("data-background-color", c.to_owned()),
            ],
            nodes,
        );
    }
    if let Some(c) = m.text_color.as_deref().and_then(safe_token) {
        nodes = wrap(
            "span",
            vec![
                ("class", format!("atelier-tc-{c}")),
                ("data-text-color", c.to_owned()),
            ],
            nodes,
        );
    }
    if m.code {
        nodes = wrap("code", Vec::new(), nodes);
    }
    if m.strike {
        nodes = wrap("s", Vec::new(), nodes);
    }
    if m.underline {
        nodes = wrap("u", Vec::new(), nodes);
    }
    if m.italic {
        nodes = wrap("em", Vec::new(), nodes);
    }
    if m.bold {
        nodes = wrap("strong", Vec::new(), nodes);
    }
    if let Some(href) = m.link.as_deref() {
        if atelier_doc::sanitize::is_safe_href(href) {
            nodes = wrap(
                "a",
                vec![
                    ("href", href.to_owned()),
                    ("rel", "noopener noreferrer".to_owned()),
                    ("target", "_blank".to_owned()),
                ],
                nodes,
            );
        } else {
            nodes = wrap(
                "span",
                vec![("class", "atelier-unsafe-link".to_owned())],
                nodes,
            );
        }
    }
    match nodes.len() {
        1 => nodes.pop().unwrap_or(VNode::Text(String::new())),
        _ => VNode::el("span", Vec::new(), nodes),
    }
}

/// A colour or type name usable in a class or data attribute: ASCII
/// letters, digits and dashes only.
fn safe_token(s: &str) -> Option<&str> {
    let ok =
        !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_doc::{BlockId, Marks};

    #[test]
    fn off_screen_height_follows_the_text_length() {
        let block = |kind: &str, text: &str| Block {
            id: BlockId::from("b"),
            kind: kind.into(),
            props: serde_json::Map::new(),
            content: vec![InlineRun::plain(text)],
            table: None,
            children: Vec::new(),
        };
        assert_eq!(estimated_lines(&block("paragraph", "")), 1);
        assert_eq!(estimated_lines(&block("paragraph", &"é".repeat(181))), 3);
        assert_eq!(estimated_lines(&block("paragraph", "a\nb\nc")), 3);
        assert_eq!(estimated_lines(&block("codeBlock", "a\nb\nc\n")), 3);
        assert_eq!(
            estimated_lines(&block("paragraph", &"x".repeat(1_000_000))),
            1000
        );
    }

    const L: RenderLabels = RenderLabels {
        checkbox: "Done",
        unsupported: "Unsupported block",
    };

    fn block(kind: &str, runs: Vec<InlineRun>) -> Block {
        Block {
            id: BlockId::from("b1"),
            kind: kind.to_owned(),
            props: Default::default(),
            content: runs,
            table: None,
            children: Vec::new(),
        }
    }

    #[test]
    fn marks_nest_and_links_are_safe() {
        let marks = Marks {
            bold: true,
            link: Some("https://a.fr".into()),
            ..Default::default()
        };
        let b = block("paragraph", vec![InlineRun::styled("x", marks)]);
        assert_eq!(
            block_content(&b, &L).to_html(),
            "<p class=\"atelier-text\" data-atelier-content=\"\"><a href=\"https://a.fr\" rel=\"noopener noreferrer\" target=\"_blank\"><strong>x</strong></a></p>"
        );
        let evil = Marks {
            link: Some("javascript:alert(1)".into()),
            ..Default::default()
        };
        let b = block("paragraph", vec![InlineRun::styled("x", evil)]);
        let html = block_content(&b, &L).to_html();
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn hard_breaks_and_fillers() {
        let b = block("paragraph", vec![InlineRun::plain("a\nb\n")]);
        assert_eq!(
            block_content(&b, &L).to_html(),
            "<p class=\"atelier-text\" data-atelier-content=\"\">a<br>b<br><br data-atelier-filler=\"\"></p>"
        );
        let empty = block("paragraph", Vec::new());
        assert!(block_content(&empty, &L).to_html().contains(FILLER_ATTR));
    }

    #[test]
    fn colours_become_token_classes_only_when_plain() {
        let m = Marks {
            text_color: Some("red".into()),
            background_color: Some("x\" onclick=\"y".into()),
            ..Default::default()
        };
        let html =
            block_content(&block("paragraph", vec![InlineRun::styled("c", m)]), &L).to_html();
        assert!(html.contains("atelier-tc-red"));
        assert!(!html.contains("onclick"));
    }

    #[test]
    fn unknown_blocks_are_read_only_placeholders() {
        let mut b = block("table", Vec::new());
        b.table = Some(vec![vec![
            vec![InlineRun::plain("A")],
            vec![InlineRun::plain("B")],
        ]]);
        let html = block_content(&b, &L).to_html();
        assert!(html.contains("contenteditable=\"false\""));
        assert!(html.contains("A | B"));
        let mut h = block("heading", vec![InlineRun::plain("T")]);
        h.props.insert("level".into(), 2.into());
        assert!(block_content(&h, &L).to_html().starts_with("<h2"));
    }
}
