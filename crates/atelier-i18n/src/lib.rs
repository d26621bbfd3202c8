//! Atelier's message catalogue: every string the widgets show or announce,
//! in every interface language, from one set of Fluent files.
//!
//! ```
//! use atelier_i18n::{Lang, fill};
//! let lang = Lang::from_tag("fr-BE");
//! assert_eq!(lang.editor().bold, "Gras");
//! assert_eq!(lang.editor().words.format(1), "1 mot");
//! assert_eq!(lang.chat().replies.format(0), "0 réponse");
//! assert_eq!(Lang::En.chat().replies.format(2), "2 replies");
//! assert_eq!(fill(lang.chat().replying_to, &[("name", "Ana")]), "Réponse à Ana");
//! ```
//!
//! # Where the catalogue lives
//!
//! `crates/atelier-i18n/messages/<lang>/<widget>.ftl`: one directory per
//! language (`en`, `fr`, `de`, `nl`), one [Fluent](https://projectfluent.org)
//! file per widget (`editor`, `chat`, `assistant`, `gallery`), ids
//! prefixed with the widget's name (`editor-bold`). `build.rs` (the work
//! is in `build/compile.rs`) compiles them to Rust:
//!
//! - [`Lang`], one variant per directory, English the default and the
//!   fallback for any other tag;
//! - per widget a module ([`editor`], [`chat`], [`assistant`], [`gallery`])
//!   with a `Strings` struct whose fields are the ids without the prefix,
//!   `-` read as `_` (`editor-link-prompt` is `link_prompt`; in the
//!   assistant, `assistant-errors-…` fill the nested `errors` struct), each
//!   documented by the English message's comment, and four statics
//!   `EN`, `FR`, `DE`, `NL`, also reached as `lang.editor()` etc.;
//! - [`catalogue_json`], the same messages for JavaScript (`cargo xtask
//!   dist` writes it to `pkg/messages.json`).
//!
//! A plain message is a `&'static str`; its variables are written `{name}`
//! in it (Fluent's `{ $name }`) and filled by [`fill`]. A message with a
//! select expression on `$n` (`[one]` / `*[other]`) is a [`Plural`]:
//! [`Plural::format`] picks the variant by the language's CLDR rule
//! ([`Lang::plural_category`]) and writes `n` the language's way
//! ([`Lang::format_number`]).
//!
//! # Adding a string
//!
//! Add the message to `messages/en/<widget>.ftl` with a `#` comment just
//! above it saying where it shows (it becomes the field's documentation),
//! then to the same file of every other language. The build fails, naming
//! file and id, while a language lacks a message English has, has one
//! English lacks, or uses other variables than English: a missing
//! translation is a build error, never a blank label. A message that
//! counts things selects on `$n`:
//!
//! ```ftl
//! # Word count of the document, { $n } the number of words.
//! editor-words = { $n ->
//!     [one] { $n } word
//!    *[other] { $n } words
//! }
//! ```
//!
//! A language whose singular reads like its plural may write the plain
//! text instead (German `{ $n } ungelesen`); the field is a [`Plural`] as
//! soon as one language selects. Terms, attributes, functions, message
//! references and nested selects are refused with a message saying so.
//!
//! # Adding a language
//!
//! Copy `messages/en/` to `messages/<tag>/` (its primary BCP 47 subtag) and
//! translate it; the build adds the `Lang` variant. Then give the language
//! its plural rule in `plural.rs` (the `match` there stops compiling until
//! you do) and its name in `atelier-ai`'s prompts (same).
//!
//! # Why Fluent at build time
//!
//! Translators and tools know Fluent, and the catalogue is data that
//! JavaScript can read too. But the runtime crates (`fluent-bundle`, with
//! its parser, resolver and `intl-memoizer`, and plural rules for every
//! CLDR locale) would add their code to every wasm bundle, whose brotli
//! size has a budget, and would find a missing string only when a user
//! sees it. Parsing with `fluent-syntax` in `build.rs` (a build dependency:
//! nothing of it reaches the wasm) gives statics of `&'static str` that
//! cost what hand-written ones did, checks the whole catalogue at compile
//! time, and leaves at runtime only the two-category plural rule of our
//! languages and the browser's own `Intl` for numbers.
//!
//! # Features
//!
//! None. On `wasm32`, numbers are formatted by the browser through
//! `js-sys`; natively they are plain digits, and [`catalogue_json`] exists.

mod fill;
mod number_format;
mod plural;

pub use fill::fill;
pub use plural::{Plural, PluralCategory};

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

impl Lang {
    /// Reads a BCP 47 tag (`fr`, `de-AT`, `nl_BE`, …); an unknown or empty
    /// tag gives English.
    pub fn from_tag(tag: &str) -> Self {
        Self::parse_tag(tag).unwrap_or_default()
    }

    /// The language of a BCP 47 tag, if the catalogue has it.
    pub fn parse_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        Self::from_primary(&primary)
    }

    /// The language a widget shows: its element's `lang` attribute when
    /// set and not empty, else the page's (`<html lang>`), else English —
    /// the way `lang` inherits in HTML.
    pub fn from_element(element_lang: Option<&str>, page_lang: Option<&str>) -> Self {
        [element_lang, page_lang]
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty())
            .map_or_else(Lang::default, Lang::from_tag)
    }
}

impl editor::Strings {
    /// The word count sentence for `n` words.
    pub fn word_count(&self, n: usize) -> String {
        self.words.format(n)
    }
}

/// The whole catalogue as JSON, for JavaScript: `{"en": {"editor-bold":
/// "Bold", …}, "fr": {…}, …}`. A plain message is its text, a plural one
/// an object `{"one": "…", "other": "…"}` (in every language, even one
/// that writes no select); variables stay Fluent's `{ $n }`.
#[cfg(not(target_arch = "wasm32"))]
pub fn catalogue_json() -> &'static str {
    CATALOGUE_JSON
}

#[cfg(test)]
mod tests;
