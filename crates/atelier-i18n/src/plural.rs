//! Plural messages and the CLDR rules that choose their variant.

use crate::{Lang, fill};

/// A CLDR plural category, as a Fluent variant key names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluralCategory {
    /// `[one]`.
    One,
    /// `*[other]`, the default variant.
    Other,
}

impl Lang {
    /// The CLDR cardinal plural category of the integer `n` in this
    /// language. English, German and Dutch: *one* for 1 only. French: *one*
    /// for 0 and 1 ("0 réponse"). French's *many* (exact millions, "1 000 000
    /// de mots") is not told apart: like Fluent with no `[many]` variant,
    /// it falls to *other*.
    pub fn plural_category(self, n: usize) -> PluralCategory {
        // A new language of the catalogue stops this match compiling: look
        // its rule up in CLDR's plurals.xml and add it here.
        let one = match self {
            Lang::Fr => n <= 1,
            Lang::En | Lang::De | Lang::Nl => n == 1,
        };
        if one {
            PluralCategory::One
        } else {
            PluralCategory::Other
        }
    }
}

/// A message that counts: a Fluent select expression on `$n` with `[one]`
/// and `*[other]` variants, compiled for one language. Both templates hold
/// `{n}` and the message's other variables as `{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plural {
    /// The language whose rule picks the variant.
    pub lang: Lang,
    /// The `[one]` variant.
    pub one: &'static str,
    /// The `*[other]` variant.
    pub other: &'static str,
}

impl Plural {
    /// The template for `n` things.
    pub fn pick(&self, n: usize) -> &'static str {
        match self.lang.plural_category(n) {
            PluralCategory::One => self.one,
            PluralCategory::Other => self.other,
        }
    }

    /// The message for `n` things, `n` written the language's way.
    pub fn format(&self, n: usize) -> String {
        // `str::replace`, not `fill`: the editor's bundle, whose only
        // plural is its word count, has `replace` already and no `fill`.
        self.pick(n).replace("{n}", &self.lang.format_number(n))
    }

    /// The message for `n` things with its other variables filled from
    /// `values` (see [`fill`]).
    pub fn format_with(&self, n: usize, values: &[(&str, &str)]) -> String {
        let count = self.lang.format_number(n);
        let mut all = Vec::with_capacity(values.len() + 1);
        all.push(("n", count.as_str()));
        all.extend_from_slice(values);
        fill(self.pick(n), &all)
    }
}
