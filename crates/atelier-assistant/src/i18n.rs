//! The pane's user-visible strings: `atelier-i18n`'s catalogue
//! (`crates/atelier-i18n/messages/*/assistant.ftl`), under the names this
//! crate has always used. A missing string is still a build error: the
//! catalogue checks every language against English when it compiles. The
//! actions' own labels come from [`atelier_ai::prompts::Action::label`],
//! which the prompts share; its `Lang` is this one.

pub use atelier_i18n::Lang;
pub use atelier_i18n::assistant::{DE, EN, ErrorStrings, FR, NL, Strings};
pub use atelier_i18n::fill;

/// The pane's strings in `lang`.
pub fn strings(lang: Lang) -> &'static Strings {
    lang.assistant()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_placeholders() {
        assert_eq!(Lang::from_tag("fr-BE"), Lang::Fr);
        assert_eq!(Lang::from_tag("es"), Lang::En);
        assert_eq!(Lang::Nl.tag(), "nl");
        assert_eq!(EN.applied.format(2), "Applied (2 blocks).");
        assert_eq!(EN.applied.format(1), "Applied (1 block).");
        assert_eq!(FR.applied.format(1), "Appliqué (1 bloc).");
        for s in [&EN, &FR, &DE, &NL] {
            assert!(s.dropped.contains("{text}"));
            assert!(
                s.errors.rate_limited.contains("{scope}")
                    && s.errors.rate_limited.contains("{wait}")
            );
            assert!(s.errors.wait_secs.contains("{secs}"));
            assert!(s.preparing_edits.other.contains("{n}"));
        }
        assert_eq!(strings(Lang::De).panel, "Assistent");
    }
}
