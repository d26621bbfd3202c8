//! What BlockNote (the editor of La Suite Docs) writes into the shared XML
//! fragment, name by name (DESIGN.md §3).
//!
//! Every name and default here was checked against `@blocknote/core` 0.55's
//! own output; `tests/blocknote_interop.rs` keeps checking it against the
//! real package.

use yrs::Any;
use yrs::any::Number;

/// Name of the `Y.XmlFragment` that holds the rich text.
pub const FRAGMENT: &str = "document-store";
/// Element that holds a list of blocks (the root one, and nested children).
pub const BLOCK_GROUP: &str = "blockGroup";
/// Element that wraps one block: its content node, then an optional `blockGroup`.
pub const BLOCK_CONTAINER: &str = "blockContainer";
/// Inline element that BlockNote writes for a line break inside a block.
pub const HARD_BREAK: &str = "hardBreak";
/// Attribute of a `blockContainer` holding the block id.
pub const ID_ATTR: &str = "id";

/// Block type names of BlockNote's default schema.
pub mod block_type {
    /// A paragraph.
    pub const PARAGRAPH: &str = "paragraph";
    /// A heading with a numeric `level` (1–6).
    pub const HEADING: &str = "heading";
    /// An item of a bulleted list.
    pub const BULLET_LIST_ITEM: &str = "bulletListItem";
    /// An item of a numbered list.
    pub const NUMBERED_LIST_ITEM: &str = "numberedListItem";
    /// An item of a check list with a boolean `checked`.
    pub const CHECK_LIST_ITEM: &str = "checkListItem";
    /// A toggle list item.
    pub const TOGGLE_LIST_ITEM: &str = "toggleListItem";
    /// A code block with a string `language`.
    pub const CODE_BLOCK: &str = "codeBlock";
    /// A block quote.
    pub const QUOTE: &str = "quote";
    /// A horizontal rule.
    pub const DIVIDER: &str = "divider";
    /// A table (`table` > `tableRow` > `tableCell` > `tableParagraph`).
    pub const TABLE: &str = "table";
    /// An image.
    pub const IMAGE: &str = "image";
    /// A video.
    pub const VIDEO: &str = "video";
    /// An audio file.
    pub const AUDIO: &str = "audio";
    /// Any other file.
    pub const FILE: &str = "file";
}

/// Table structure names.
pub mod table {
    /// A table row.
    pub const ROW: &str = "tableRow";
    /// A table cell.
    pub const CELL: &str = "tableCell";
    /// A table header cell.
    pub const HEADER: &str = "tableHeader";
    /// The paragraph inside a table cell.
    pub const PARAGRAPH: &str = "tableParagraph";
}

/// Mark (inline style) names of BlockNote's default schema.
pub mod mark {
    /// Bold; value `{}`.
    pub const BOLD: &str = "bold";
    /// Italic; value `{}`.
    pub const ITALIC: &str = "italic";
    /// Underline; value `{}`.
    pub const UNDERLINE: &str = "underline";
    /// Strike-through; value `{}`.
    pub const STRIKE: &str = "strike";
    /// Inline code; value `{}`.
    pub const CODE: &str = "code";
    /// Text colour; value `{stringValue}`.
    pub const TEXT_COLOR: &str = "textColor";
    /// Background colour; value `{stringValue}`.
    pub const BACKGROUND_COLOR: &str = "backgroundColor";
    /// Link; value `{href}`.
    pub const LINK: &str = "link";
}

/// Whether a block type holds inline text that the editor can change.
pub fn has_inline_content(kind: &str) -> bool {
    use block_type::*;
    matches!(
        kind,
        PARAGRAPH
            | HEADING
            | BULLET_LIST_ITEM
            | NUMBERED_LIST_ITEM
            | CHECK_LIST_ITEM
            | TOGGLE_LIST_ITEM
            | CODE_BLOCK
            | QUOTE
    )
}

/// Whether a block type is one that Atelier can create and edit.
///
/// Everything else (tables, media, unknown custom blocks) is kept untouched.
pub fn is_editable(kind: &str) -> bool {
    has_inline_content(kind) || kind == block_type::DIVIDER
}

/// The attributes BlockNote writes on a new content node of `kind`, in its
/// order, with its JSON types (including explicit `undefined`).
pub fn default_props(kind: &str) -> Vec<(&'static str, Any)> {
    use block_type::*;
    let text_props = || {
        vec![
            ("backgroundColor", Any::from("default")),
            ("textColor", Any::from("default")),
            ("textAlignment", Any::from("left")),
        ]
    };
    match kind {
        PARAGRAPH | BULLET_LIST_ITEM | TOGGLE_LIST_ITEM => text_props(),
        HEADING => {
            let mut p = text_props();
            p.push(("level", Any::Number(Number::Int(1))));
            p.push(("isToggleable", Any::Bool(false)));
            p
        }
        NUMBERED_LIST_ITEM => {
            let mut p = text_props();
            p.push(("start", Any::Undefined));
            p
        }
        CHECK_LIST_ITEM => {
            let mut p = text_props();
            p.push(("checked", Any::Bool(false)));
            p
        }
        CODE_BLOCK => vec![("language", Any::from("text"))],
        QUOTE => vec![
            ("backgroundColor", Any::from("default")),
            ("textColor", Any::from("default")),
        ],
        TABLE => vec![("textColor", Any::from("default"))],
        IMAGE | VIDEO => vec![
            ("textAlignment", Any::from("left")),
            ("backgroundColor", Any::from("default")),
            ("name", Any::from("")),
            ("url", Any::from("")),
            ("caption", Any::from("")),
            ("showPreview", Any::Bool(true)),
            ("previewWidth", Any::Undefined),
        ],
        AUDIO => vec![
            ("backgroundColor", Any::from("default")),
            ("name", Any::from("")),
            ("url", Any::from("")),
            ("caption", Any::from("")),
            ("showPreview", Any::Bool(true)),
        ],
        FILE => vec![
            ("backgroundColor", Any::from("default")),
            ("name", Any::from("")),
            ("url", Any::from("")),
            ("caption", Any::from("")),
        ],
        _ => Vec::new(),
    }
}

/// The attributes BlockNote writes on a new `tableCell`.
pub fn default_table_cell_props() -> Vec<(&'static str, Any)> {
    vec![
        ("textColor", Any::from("default")),
        ("backgroundColor", Any::from("default")),
        ("textAlignment", Any::from("left")),
        ("colspan", Any::Number(Number::Int(1))),
        ("rowspan", Any::Number(Number::Int(1))),
    ]
}

/// Strips the `--<hash>` suffix BlockNote appends to some mark names
/// (`comment--ab12` is a `comment` mark).
pub fn base_mark_name(name: &str) -> &str {
    match name.find("--") {
        Some(i) => &name[..i],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_suffix_is_stripped() {
        assert_eq!(base_mark_name("comment--ab12"), "comment");
        assert_eq!(base_mark_name("bold"), "bold");
    }

    #[test]
    fn numbered_list_start_is_explicitly_undefined() {
        let props = default_props(block_type::NUMBERED_LIST_ITEM);
        assert!(props.contains(&("start", Any::Undefined)));
    }

    #[test]
    fn unknown_blocks_are_not_editable() {
        assert!(!is_editable("table"));
        assert!(!is_editable("alert"));
        assert!(is_editable("divider"));
    }
}
