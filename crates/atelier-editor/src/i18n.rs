//! The editor's user-visible strings: `atelier-i18n`'s catalogue
//! (`crates/atelier-i18n/messages/*/editor.ftl`), under the names this
//! crate has always used.

pub use atelier_i18n::Lang;
pub use atelier_i18n::editor::Strings;

/// The editor's strings in `lang`.
pub fn strings(lang: Lang) -> &'static Strings {
    lang.editor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_fallback() {
        assert_eq!(Lang::from_tag("de-AT"), Lang::De);
        assert_eq!(Lang::from_tag("nl_BE"), Lang::Nl);
        assert_eq!(Lang::from_tag("xx"), Lang::En);
        assert_eq!(strings(Lang::Fr).word_count(3), "3 mots");
        assert_eq!(strings(Lang::Fr).word_count(1), "1 mot");
        assert_eq!(strings(Lang::En).word_count(1), "1 word");
    }
}
