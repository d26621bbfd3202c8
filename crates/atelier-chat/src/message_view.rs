//! One timeline row as DOM: what a row shows ([`RowModel`], compared to
//! decide whether a row must be rebuilt) and how it is built. The body goes
//! through [`atelier_doc::chat_format::parse`] into blocks and runs, which
//! become elements chosen by block type and mark and text nodes: nothing
//! from a message is ever parsed as HTML, and a link's target passes
//! [`is_chat_link`] again right before it is set.

use crate::i18n::{Strings, fill};
use crate::mentions::{Segment, segments};
use atelier_doc::chat_format::{is_chat_link, parse};
use atelier_doc::schema::block_type;
use atelier_doc::{InlineRun, NewBlock};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

/// A reply's view of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentPreview {
    /// The thread to open when the preview is activated.
    pub thread: String,
    /// The parent's author.
    pub author: String,
    /// A one-line excerpt of the parent (empty when it is missing or deleted).
    pub excerpt: String,
    /// The parent is not (yet) in the chat.
    pub missing: bool,
}

/// One reaction button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionView {
    /// The emoji.
    pub emoji: String,
    /// How many reacted.
    pub count: usize,
    /// Whether the local user is one of them.
    pub mine: bool,
    /// Who reacted, as a list of names.
    pub names: String,
}

/// Everything one row shows. Two equal models render the same DOM.
#[derive(Debug, Clone, PartialEq)]
pub struct RowModel {
    /// Message id.
    pub id: String,
    /// Author's name.
    pub author: String,
    /// Author's colour (a checked hex colour).
    pub color: String,
    /// Written by the local user.
    pub own: bool,
    /// Not yet held by the server.
    pub pending: bool,
    /// A tombstone.
    pub deleted: bool,
    /// Why a bridged room (Matrix) refused the message, if it did.
    pub refused: Option<String>,
    /// Edited after sending.
    pub edited: bool,
    /// The body (empty for tombstones).
    pub body: String,
    /// Day separator text above the message, when it starts a day.
    pub day: Option<String>,
    /// The unread marker sits above this message.
    pub unread_marker: bool,
    /// Time of day.
    pub time: String,
    /// Full date and time (tooltip).
    pub time_full: String,
    /// ISO 8601 instant for `<time datetime>`.
    pub iso: String,
    /// For replies: the parent.
    pub parent: Option<ParentPreview>,
    /// For thread roots in the full view: how many replies.
    pub replies: usize,
    /// Reactions, in emoji order.
    pub reactions: Vec<ReactionView>,
    /// Names for the ids mentioned in the body: (id, name, is the local user).
    pub mention_names: Vec<(String, String, bool)>,
    /// The row holding keyboard focus: its controls are in the Tab order.
    pub current: bool,
    /// Asking whether to delete.
    pub confirming_delete: bool,
    /// Being edited in the composer.
    pub editing: bool,
    /// The user may write (not read-only).
    pub can_write: bool,
}

/// Attribute names the timeline reads back from the DOM.
pub(crate) const ACTION: &str = "data-action";
pub(crate) const TARGET: &str = "data-target";
pub(crate) const EMOJI: &str = "data-emoji";
pub(crate) const ROW_ID: &str = "data-id";

fn el(doc: &Document, tag: &str, class: &str) -> Element {
    // `createElement` fails only for invalid tag names, and every tag here
    // is a literal.
    let e = doc
        .create_element(tag)
        .unwrap_or_else(|_| doc.create_element("div").expect("div is a valid tag"));
    if !class.is_empty() {
        e.set_class_name(class);
    }
    e
}

fn text(parent: &Element, doc: &Document, s: &str) {
    let _ = parent.append_child(&doc.create_text_node(s));
}

fn set(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

fn button(doc: &Document, class: &str, action: &str, label: &str, tabindex: &str) -> Element {
    let b = el(doc, "button", class);
    set(&b, "type", "button");
    set(&b, ACTION, action);
    set(&b, "tabindex", tabindex);
    if !label.is_empty() {
        set(&b, "aria-label", label);
        set(&b, "title", label);
    }
    b
}

/// Builds the row for `m`; `id_prefix` keeps element ids unique when two
/// panels on one page show the same chat.
pub fn build_row(doc: &Document, m: &RowModel, s: &Strings, id_prefix: &str) -> Element {
    let tabindex = if m.current { "0" } else { "-1" };
    let row = el(doc, "div", "atelier-chat-row");
    set(&row, ROW_ID, &m.id);
    if let Some(day) = &m.day {
        let sep = el(doc, "div", "atelier-chat-day");
        set(&sep, "role", "separator");
        set(&sep, "aria-label", day);
        let span = el(doc, "span", "");
        text(&span, doc, day);
        let _ = sep.append_child(&span);
        let _ = row.append_child(&sep);
    }
    if m.unread_marker {
        let line = el(doc, "div", "atelier-chat-unread-line");
        set(&line, "role", "separator");
        set(&line, "aria-label", s.unread_marker);
        let span = el(doc, "span", "");
        text(&span, doc, s.unread_marker);
        let _ = line.append_child(&span);
        let _ = row.append_child(&line);
    }
    let article = el(doc, "article", "atelier-chat-message");
    set(&article, ROW_ID, &m.id);
    set(&article, "tabindex", "-1");
    let meta_id = format!("{id_prefix}-meta-{}", css_safe_id(&m.id));
    set(&article, "aria-labelledby", &meta_id);
    for (name, on) in [
        ("data-own", m.own),
        ("data-pending", m.pending),
        ("data-refused", m.refused.is_some()),
        ("data-deleted", m.deleted),
        ("data-editing", m.editing),
        ("data-current", m.current),
    ] {
        if on {
            set(&article, name, "true");
        }
    }

    let meta = el(doc, "div", "atelier-chat-meta");
    set(&meta, "id", &meta_id);
    let dot = el(doc, "span", "atelier-chat-dot");
    set(&dot, "aria-hidden", "true");
    // The colour was checked to be `#rgb`/`#rrggbb`; nothing else reaches a
    // style attribute.
    // Through the CSSOM: a Content Security Policy without 'unsafe-inline'
    // blocks `style` attributes, not this.
    if let Some(h) = dot.dyn_ref::<web_sys::HtmlElement>() {
        let _ = h.style().set_property("background-color", &m.color);
    }
    let _ = meta.append_child(&dot);
    let author = el(doc, "span", "atelier-chat-author");
    text(&author, doc, &m.author);
    let _ = meta.append_child(&author);
    let time = el(doc, "time", "atelier-chat-time");
    set(&time, "datetime", &m.iso);
    set(&time, "title", &m.time_full);
    text(&time, doc, &m.time);
    let _ = meta.append_child(&time);
    if m.edited && !m.deleted {
        let e = el(doc, "span", "atelier-chat-edited");
        text(&e, doc, s.edited);
        let _ = meta.append_child(&e);
    }
    if m.pending {
        let p = el(doc, "span", "atelier-chat-pending");
        text(&p, doc, s.pending);
        let _ = meta.append_child(&p);
    }
    // A refusal is said in words (the mark's text, then the reason as the
    // message's description), not by colour or the icon alone.
    let refusal_id = format!("{id_prefix}-refusal-{}", css_safe_id(&m.id));
    if m.refused.is_some() {
        let mark = el(doc, "span", "atelier-chat-refused");
        let icon = el(doc, "span", "atelier-chat-refused-icon");
        set(&icon, "aria-hidden", "true");
        text(&icon, doc, "!");
        let _ = mark.append_child(&icon);
        text(&mark, doc, s.refused);
        let _ = meta.append_child(&mark);
        set(&article, "aria-describedby", &refusal_id);
    }
    let _ = article.append_child(&meta);

    if let Some(parent) = &m.parent {
        let b = button(doc, "atelier-chat-parent", "open-thread", "", tabindex);
        set(&b, TARGET, &parent.thread);
        let who = el(doc, "span", "atelier-chat-parent-author");
        text(&who, doc, &fill(s.in_reply_to, &[("name", &parent.author)]));
        let _ = b.append_child(&who);
        let excerpt = if parent.missing {
            s.parent_missing
        } else if parent.excerpt.is_empty() {
            s.deleted
        } else {
            &parent.excerpt
        };
        let ex = el(doc, "span", "atelier-chat-parent-excerpt");
        text(&ex, doc, excerpt);
        let _ = b.append_child(&ex);
        let _ = article.append_child(&b);
    }

    if m.deleted {
        let t = el(doc, "p", "atelier-chat-tombstone");
        text(&t, doc, s.deleted);
        let _ = article.append_child(&t);
    } else {
        let body = el(doc, "div", "atelier-chat-body");
        render_body(doc, &body, &m.body, &m.mention_names, tabindex);
        let _ = article.append_child(&body);
    }
    if let Some(reason) = &m.refused {
        let p = el(doc, "p", "atelier-chat-refusal");
        set(&p, "id", &refusal_id);
        text(&p, doc, &fill(s.refused_reason, &[("reason", reason)]));
        let _ = article.append_child(&p);
    }

    if !m.reactions.is_empty() {
        let group = el(doc, "div", "atelier-chat-reactions");
        set(&group, "role", "group");
        set(&group, "aria-label", s.reactions);
        for r in &m.reactions {
            let label = format!(
                "{} {} — {}",
                r.emoji,
                r.count,
                fill(s.reacted_by, &[("names", &r.names), ("emoji", &r.emoji)])
            );
            let b = button(
                doc,
                "atelier-chat-reaction",
                "toggle-reaction",
                &label,
                tabindex,
            );
            set(&b, EMOJI, &r.emoji);
            set(&b, "aria-pressed", if r.mine { "true" } else { "false" });
            set(&b, "title", &r.names);
            if !m.can_write {
                set(&b, "aria-disabled", "true");
            }
            let e = el(doc, "span", "atelier-chat-reaction-emoji");
            set(&e, "aria-hidden", "true");
            text(&e, doc, &r.emoji);
            let _ = b.append_child(&e);
            let n = el(doc, "span", "atelier-chat-reaction-count");
            set(&n, "aria-hidden", "true");
            text(&n, doc, &r.count.to_string());
            let _ = b.append_child(&n);
            let _ = group.append_child(&b);
        }
        let _ = article.append_child(&group);
    }

    if m.replies > 0 {
        let label = s.replies.format(m.replies);
        let b = button(doc, "atelier-chat-thread-link", "open-thread", "", tabindex);
        set(&b, TARGET, &m.id);
        text(&b, doc, &label);
        let _ = article.append_child(&b);
    }

    if m.can_write && !m.deleted {
        if m.confirming_delete {
            let confirm = el(doc, "div", "atelier-chat-confirm");
            set(&confirm, "role", "group");
            set(&confirm, "aria-label", s.delete_confirm);
            let q = el(doc, "span", "atelier-chat-confirm-question");
            text(&q, doc, s.delete_confirm);
            let _ = confirm.append_child(&q);
            let yes = button(doc, "atelier-chat-danger", "confirm-delete", "", tabindex);
            text(&yes, doc, s.delete);
            let _ = confirm.append_child(&yes);
            let no = button(
                doc,
                "atelier-chat-action-text",
                "cancel-delete",
                "",
                tabindex,
            );
            text(&no, doc, s.keep);
            let _ = confirm.append_child(&no);
            let _ = article.append_child(&confirm);
        } else {
            let actions = el(doc, "div", "atelier-chat-actions");
            set(&actions, "role", "group");
            set(&actions, "aria-label", s.actions);
            let add = |action: &str, label: &str, icon: &str| {
                let b = button(doc, "atelier-chat-action", action, label, tabindex);
                let g = el(doc, "span", icon);
                set(&g, "aria-hidden", "true");
                let _ = b.append_child(&g);
                let _ = actions.append_child(&b);
            };
            add("react", s.react, "atelier-icon atelier-icon-react");
            add("reply", s.reply, "atelier-icon atelier-icon-reply");
            if m.own {
                add("edit", s.edit, "atelier-icon atelier-icon-edit");
                add("delete", s.delete, "atelier-icon atelier-icon-delete");
            }
            let _ = article.append_child(&actions);
        }
    }
    let _ = row.append_child(&article);
    row
}

/// An id usable inside an `id` attribute and a CSS selector.
pub(crate) fn css_safe_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Renders a message body into `parent`.
pub fn render_body(
    doc: &Document,
    parent: &Element,
    body: &str,
    names: &[(String, String, bool)],
    tabindex: &str,
) {
    let blocks = parse(body);
    let mut i = 0;
    while i < blocks.len() {
        let kind = blocks[i].kind.as_str();
        match kind {
            block_type::BULLET_LIST_ITEM | block_type::NUMBERED_LIST_ITEM => {
                let list = el(
                    doc,
                    if kind == block_type::BULLET_LIST_ITEM {
                        "ul"
                    } else {
                        "ol"
                    },
                    "",
                );
                if let Some(start) = blocks[i].props.get("start").and_then(|v| v.as_u64()) {
                    set(&list, "start", &start.to_string());
                }
                while i < blocks.len() && blocks[i].kind == kind {
                    let li = el(doc, "li", "");
                    render_runs(doc, &li, &blocks[i].content, names, tabindex);
                    let _ = list.append_child(&li);
                    i += 1;
                }
                let _ = parent.append_child(&list);
                continue;
            }
            block_type::CODE_BLOCK => {
                let pre = el(doc, "pre", "");
                let code = el(doc, "code", "");
                text(&code, doc, &plain(&blocks[i]));
                let _ = pre.append_child(&code);
                let _ = parent.append_child(&pre);
            }
            block_type::QUOTE => {
                let q = el(doc, "blockquote", "");
                render_runs(doc, &q, &blocks[i].content, names, tabindex);
                let _ = parent.append_child(&q);
            }
            _ => {
                let p = el(doc, "p", "");
                render_runs(doc, &p, &blocks[i].content, names, tabindex);
                let _ = parent.append_child(&p);
            }
        }
        i += 1;
    }
}

fn plain(block: &NewBlock) -> String {
    block.content.iter().map(|r| r.text.as_str()).collect()
}

fn render_runs(
    doc: &Document,
    parent: &Element,
    runs: &[InlineRun],
    names: &[(String, String, bool)],
    tabindex: &str,
) {
    for run in runs {
        let m = &run.marks;
        // Marks wrap from the outside in: link, strike, italic, bold, code.
        let mut outer: Option<Element> = None;
        let mut inner: Option<Element> = None;
        let mut wrap = |e: Element| {
            match &inner {
                Some(i) => {
                    let _ = i.append_child(&e);
                }
                None => outer = Some(e.clone()),
            }
            inner = Some(e);
        };
        if let Some(href) = m.link.as_deref().filter(|h| is_chat_link(h)) {
            let a = el(doc, "a", "atelier-chat-link");
            set(&a, "href", href);
            set(&a, "target", "_blank");
            set(&a, "rel", "noopener noreferrer");
            set(&a, "tabindex", tabindex);
            wrap(a);
        }
        if m.strike {
            wrap(el(doc, "s", ""));
        }
        if m.italic {
            wrap(el(doc, "em", ""));
        }
        if m.bold {
            wrap(el(doc, "strong", ""));
        }
        if m.code {
            wrap(el(doc, "code", ""));
        }
        let target = inner.clone().unwrap_or_else(|| parent.clone());
        if m.code || m.link.is_some() {
            text_with_breaks(doc, &target, &run.text);
        } else {
            for seg in segments(&run.text) {
                match seg {
                    Segment::Text(t) => text_with_breaks(doc, &target, t),
                    Segment::Mention { id, source } => {
                        let span = el(doc, "span", "atelier-chat-mention");
                        set(&span, "data-user", id);
                        match names.iter().find(|(i, _, _)| i == id) {
                            Some((_, name, me)) => {
                                if *me {
                                    set(&span, "data-me", "true");
                                }
                                set(&span, "title", source);
                                text(&span, doc, &format!("@{name}"));
                            }
                            None => text(&span, doc, source),
                        }
                        let _ = target.append_child(&span);
                    }
                }
            }
        }
        if let Some(o) = outer {
            let _ = parent.append_child(&o);
        }
    }
}

/// Text with `\n` as `<br>`.
fn text_with_breaks(doc: &Document, parent: &Element, t: &str) {
    for (i, line) in t.split('\n').enumerate() {
        if i > 0 {
            let _ = parent.append_child(&el(doc, "br", ""));
        }
        if !line.is_empty() {
            text(parent, doc, line);
        }
    }
}
