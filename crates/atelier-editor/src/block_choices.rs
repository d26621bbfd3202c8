//! The block types the toolbar's selector and the slash menu offer, and how
//! the slash menu filters them: on the words of each item's own label in
//! the interface language, and on a few English aliases, so `/tit` finds
//! the French headings ("Titre 1") and `/h2` works in every language.

use crate::i18n::Strings;
use crate::text_rules::BlockKind;
use atelier_doc::schema::block_type;

/// One entry of the block-type menus.
pub(crate) struct KindChoice {
    /// The value of the toolbar's `<option>` (the block type, or `headingN`).
    pub(crate) value: &'static str,
    /// Its label in the interface language.
    pub(crate) label: fn(&Strings) -> &'static str,
    /// English words the slash menu also matches, space-separated.
    aliases: &'static str,
    /// The block type it makes.
    pub(crate) kind: fn() -> BlockKind,
}

/// Every block type the menus offer, in menu order.
pub(crate) const CHOICES: &[KindChoice] = &[
    KindChoice {
        value: "paragraph",
        label: |s| s.paragraph,
        aliases: "paragraph text p",
        kind: || BlockKind::plain(block_type::PARAGRAPH),
    },
    KindChoice {
        value: "heading1",
        label: |s| s.heading1,
        aliases: "heading title h1",
        kind: || BlockKind::with(block_type::HEADING, "level", 1.into()),
    },
    KindChoice {
        value: "heading2",
        label: |s| s.heading2,
        aliases: "heading title h2",
        kind: || BlockKind::with(block_type::HEADING, "level", 2.into()),
    },
    KindChoice {
        value: "heading3",
        label: |s| s.heading3,
        aliases: "heading title h3",
        kind: || BlockKind::with(block_type::HEADING, "level", 3.into()),
    },
    KindChoice {
        value: "bulletListItem",
        label: |s| s.bullet_list,
        aliases: "bulleted list unordered ul",
        kind: || BlockKind::plain(block_type::BULLET_LIST_ITEM),
    },
    KindChoice {
        value: "numberedListItem",
        label: |s| s.numbered_list,
        aliases: "numbered list ordered ol",
        kind: || BlockKind::plain(block_type::NUMBERED_LIST_ITEM),
    },
    KindChoice {
        value: "checkListItem",
        label: |s| s.check_list,
        aliases: "check list todo task checkbox",
        kind: || BlockKind::with(block_type::CHECK_LIST_ITEM, "checked", false.into()),
    },
    KindChoice {
        value: "quote",
        label: |s| s.quote,
        aliases: "quote blockquote",
        kind: || BlockKind::plain(block_type::QUOTE),
    },
    KindChoice {
        value: "codeBlock",
        label: |s| s.code_block,
        aliases: "code pre",
        kind: || BlockKind::plain(block_type::CODE_BLOCK),
    },
    KindChoice {
        value: "divider",
        label: |s| s.divider,
        aliases: "divider separator hr rule",
        kind: || BlockKind::plain(block_type::DIVIDER),
    },
];

/// Folds a label or a query for matching: lower case, accents removed
/// ("Überschrift" matches "uber", "numérotée" matches "numero"). In the
/// browser the engine does it (`toLowerCase`, `normalize("NFD")`), which
/// keeps Rust's Unicode tables (≈7 KB brotli) out of the bundle; natively
/// (tests) only the case is folded.
pub(crate) fn fold(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    let lower = String::from(js_sys::JsString::from(s).to_lower_case().normalize("NFD"));
    #[cfg(not(target_arch = "wasm32"))]
    let lower = s.to_lowercase();
    lower
        .chars()
        .filter(|c| !matches!(c, '\u{300}'..='\u{36f}'))
        .collect()
}

/// Whether a word of `text` (split at spaces and ASCII punctuation) starts
/// with `query` (already folded).
fn word_starts_with(text: &str, query: &str) -> bool {
    text.split(|c: char| !crate::text_rules::is_word_char(c))
        .any(|w| w.starts_with(query))
}

/// The slash menu's items for what was typed after `/`, as indexes into
/// [`CHOICES`]: every item when nothing was typed, else those with a word
/// of their label (in the interface language) or an English alias that
/// starts with the query.
pub(crate) fn matching(strings: &Strings, query: &str) -> Vec<usize> {
    let q = fold(query);
    CHOICES
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            q.is_empty()
                || word_starts_with(&fold((c.label)(strings)), &q)
                || word_starts_with(c.aliases, &q)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The value of the block-type `<select>` for a block.
pub(crate) fn choice_value(b: &atelier_doc::Block) -> &'static str {
    match b.kind.as_str() {
        block_type::HEADING => match crate::render::heading_level(b) {
            1 => "heading1",
            2 => "heading2",
            _ => "heading3",
        },
        k => CHOICES
            .iter()
            .find(|c| c.value == k)
            .map_or("paragraph", |c| c.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn labels(lang: Lang, query: &str) -> Vec<&'static str> {
        let s = lang.editor();
        matching(s, query)
            .into_iter()
            .map(|i| (CHOICES[i].label)(s))
            .collect()
    }

    #[test]
    fn the_slash_menu_matches_words_of_its_own_labels() {
        // Not the list types, whose internal names contain "tit" (listItem).
        assert_eq!(labels(Lang::Fr, "tit"), ["Titre 1", "Titre 2", "Titre 3"]);
        assert_eq!(
            labels(Lang::Fr, "Liste"),
            ["Liste à puces", "Liste numérotée", "Liste de tâches"]
        );
        assert_eq!(labels(Lang::Fr, "puc"), ["Liste à puces"]);
        assert_eq!(
            labels(Lang::De, "über"),
            ["Überschrift 1", "Überschrift 2", "Überschrift 3"]
        );
        assert_eq!(labels(Lang::Nl, "kop"), ["Kop 1", "Kop 2", "Kop 3"]);
        assert_eq!(labels(Lang::En, "zzz"), Vec::<&str>::new());
        assert_eq!(labels(Lang::En, "").len(), CHOICES.len());
        // A word's middle does not match.
        assert_eq!(labels(Lang::En, "ist"), Vec::<&str>::new());
    }

    #[test]
    fn english_aliases_work_in_every_language() {
        assert_eq!(labels(Lang::Fr, "h2"), ["Titre 2"]);
        assert_eq!(labels(Lang::De, "quote"), ["Zitat"]);
        assert_eq!(labels(Lang::Nl, "todo"), ["Takenlijst"]);
        assert_eq!(labels(Lang::Fr, "hr"), ["Séparateur"]);
    }
}
