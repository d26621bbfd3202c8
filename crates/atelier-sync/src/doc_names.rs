//! How sibling documents are named.
//!
//! A document's chat is a Yjs document of its own, beside the text, so a
//! server can let someone write the chat without letting them edit the
//! text (DESIGN.md §3, §5): the chat of document `D` is the document
//! `D:chat`. Both ride on one Hocuspocus socket; what a user may do with
//! `D:chat` follows from what they may do with `D`.

/// The suffix that names a document's chat.
pub const CHAT_SUFFIX: &str = ":chat";

/// The chat document of `base`: `base:chat`.
///
/// ```
/// assert_eq!(atelier_sync::chat_document_name("notes"), "notes:chat");
/// ```
pub fn chat_document_name(base: &str) -> String {
    format!("{base}{CHAT_SUFFIX}")
}

/// Whether `name` names a document's chat (and not the text itself).
pub fn is_chat_document(name: &str) -> bool {
    name.len() > CHAT_SUFFIX.len() && name.ends_with(CHAT_SUFFIX)
}

/// The document `name` belongs to: `D` for `D:chat`, `name` itself otherwise.
///
/// ```
/// use atelier_sync::base_document_name;
/// assert_eq!(base_document_name("notes:chat"), "notes");
/// assert_eq!(base_document_name("notes"), "notes");
/// ```
pub fn base_document_name(name: &str) -> &str {
    if is_chat_document(name) {
        &name[..name.len() - CHAT_SUFFIX.len()]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_names_round_trip() {
        for base in ["notes", "a:b", "7f3c-uuid", "é"] {
            let chat = chat_document_name(base);
            assert!(is_chat_document(&chat));
            assert_eq!(base_document_name(&chat), base);
            assert!(!is_chat_document(base));
            assert_eq!(base_document_name(base), base);
        }
        // The bare suffix names no base document.
        assert!(!is_chat_document(":chat"));
        assert_eq!(base_document_name(":chat"), ":chat");
    }
}
