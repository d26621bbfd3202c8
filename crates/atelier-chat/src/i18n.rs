//! The chat panel's user-visible strings: `atelier-i18n`'s catalogue
//! (`crates/atelier-i18n/messages/*/chat.ftl`), under the names this crate
//! has always used. A missing string is still a build error: the catalogue
//! checks every language against English when it compiles.

pub use atelier_i18n::Lang;
pub use atelier_i18n::chat::Strings;
pub use atelier_i18n::fill;

/// The chat's strings in `lang`.
pub fn strings(lang: Lang) -> &'static Strings {
    lang.chat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_placeholders() {
        assert_eq!(Lang::from_tag("nl-BE"), Lang::Nl);
        assert_eq!(Lang::from_tag("de_AT"), Lang::De);
        assert_eq!(Lang::from_tag("xx"), Lang::En);
        for lang in Lang::ALL {
            let s = strings(lang);
            assert!(s.replies.one.contains("{n}"), "{lang:?}");
            assert!(s.replies.other.contains("{n}"), "{lang:?}");
            assert!(s.unread_count.other.contains("{n}"), "{lang:?}");
            assert!(s.replying_to.contains("{name}"), "{lang:?}");
            assert!(s.in_reply_to.contains("{name}"), "{lang:?}");
            assert!(s.typing_two.contains("{a}") && s.typing_two.contains("{b}"));
            assert!(s.too_long.other.contains("{n}") && s.too_long.other.contains("{max}"));
            assert!(s.reacted_by.contains("{names}") && s.reacted_by.contains("{emoji}"));
            assert_eq!(Lang::from_tag(lang.tag()), lang);
        }
        assert_eq!(strings(Lang::En).replies.format(1), "1 reply");
        assert_eq!(strings(Lang::Fr).replies.format(0), "0 réponse");
        assert_eq!(strings(Lang::De).replies.format(4), "4 Antworten");
        assert_eq!(
            fill("{a} & {b}", &[("a", "{b}"), ("b", "{a}")]),
            "{b} & {a}"
        );
        assert_eq!(fill("{x} {", &[]), "{x} {");
    }
}
