//! The editor's user-visible strings in French, German, Dutch and English.

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Français.
    Fr,
    /// Deutsch.
    De,
    /// Nederlands.
    Nl,
    /// English (the fallback).
    #[default]
    En,
}

impl Lang {
    /// Reads a BCP 47 tag (`fr`, `de-AT`, `nl-BE`, …); unknown tags give English.
    pub fn from_tag(tag: &str) -> Self {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Lang::Fr,
            "de" => Lang::De,
            "nl" => Lang::Nl,
            _ => Lang::En,
        }
    }

    /// The language's BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Fr => &FR,
            Lang::De => &DE,
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }
}

/// Every string the editor shows or announces.
#[derive(Debug)]
pub struct Strings {
    /// Accessible name of the editing surface.
    pub editor: &'static str,
    /// Accessible name of the toolbar.
    pub toolbar: &'static str,
    /// Bold button.
    pub bold: &'static str,
    /// Italic button.
    pub italic: &'static str,
    /// Underline button.
    pub underline: &'static str,
    /// Strike-through button.
    pub strike: &'static str,
    /// Inline code button.
    pub code: &'static str,
    /// Link button.
    pub link: &'static str,
    /// Prompt for a link target.
    pub link_prompt: &'static str,
    /// Message when a link target is refused.
    pub link_refused: &'static str,
    /// How the link field works (its description).
    pub link_hint: &'static str,
    /// Undo button.
    pub undo: &'static str,
    /// Redo button.
    pub redo: &'static str,
    /// Block type selector.
    pub block_type: &'static str,
    /// Paragraph.
    pub paragraph: &'static str,
    /// Heading 1.
    pub heading1: &'static str,
    /// Heading 2.
    pub heading2: &'static str,
    /// Heading 3.
    pub heading3: &'static str,
    /// Bulleted list.
    pub bullet_list: &'static str,
    /// Numbered list.
    pub numbered_list: &'static str,
    /// Check list.
    pub check_list: &'static str,
    /// Quote.
    pub quote: &'static str,
    /// Code block.
    pub code_block: &'static str,
    /// Divider.
    pub divider: &'static str,
    /// Slash menu name.
    pub slash_menu: &'static str,
    /// Shown by the slash menu when no block type matches what was typed.
    pub no_result: &'static str,
    /// Placeholder in an empty document.
    pub placeholder: &'static str,
    /// Word count, `{n}` replaced by the number.
    pub words: &'static str,
    /// Check-list checkbox name.
    pub done: &'static str,
    /// Label of a block the editor cannot edit yet.
    pub unsupported: &'static str,
    /// Announced when the editor is read-only.
    pub read_only: &'static str,
    /// Description of the editing surface: how Tab behaves and how to leave.
    pub keyboard_hint: &'static str,
}

impl Strings {
    /// The word count sentence for `n` words.
    pub fn word_count(&self, n: usize) -> String {
        self.words.replace("{n}", &n.to_string())
    }
}

static EN: Strings = Strings {
    editor: "Document editor",
    toolbar: "Formatting",
    bold: "Bold",
    italic: "Italic",
    underline: "Underline",
    strike: "Strikethrough",
    code: "Inline code",
    link: "Link",
    link_prompt: "Link address (https://…)",
    link_refused: "Only http, https and mailto links are allowed.",
    link_hint: "Enter applies, Escape cancels; an empty address removes the link.",
    undo: "Undo",
    redo: "Redo",
    block_type: "Block type",
    paragraph: "Paragraph",
    heading1: "Heading 1",
    heading2: "Heading 2",
    heading3: "Heading 3",
    bullet_list: "Bulleted list",
    numbered_list: "Numbered list",
    check_list: "Check list",
    quote: "Quote",
    code_block: "Code block",
    divider: "Divider",
    slash_menu: "Insert block",
    no_result: "No result",
    placeholder: "Type “/” for commands…",
    words: "{n} words",
    done: "Done",
    unsupported: "Block not editable here",
    read_only: "Read only",
    keyboard_hint: "Tab indents a block and Shift+Tab outdents it; press Escape, then Tab or Shift+Tab, to leave the editor.",
};

static FR: Strings = Strings {
    editor: "Éditeur de document",
    toolbar: "Mise en forme",
    bold: "Gras",
    italic: "Italique",
    underline: "Souligné",
    strike: "Barré",
    code: "Code en ligne",
    link: "Lien",
    link_prompt: "Adresse du lien (https://…)",
    link_refused: "Seuls les liens http, https et mailto sont autorisés.",
    link_hint: "Entrée applique, Échap annule ; une adresse vide retire le lien.",
    undo: "Annuler",
    redo: "Rétablir",
    block_type: "Type de bloc",
    paragraph: "Paragraphe",
    heading1: "Titre 1",
    heading2: "Titre 2",
    heading3: "Titre 3",
    bullet_list: "Liste à puces",
    numbered_list: "Liste numérotée",
    check_list: "Liste de tâches",
    quote: "Citation",
    code_block: "Bloc de code",
    divider: "Séparateur",
    slash_menu: "Insérer un bloc",
    no_result: "Aucun résultat",
    placeholder: "Tapez « / » pour les commandes…",
    words: "{n} mots",
    done: "Fait",
    unsupported: "Bloc non modifiable ici",
    read_only: "Lecture seule",
    keyboard_hint: "Tab indente un bloc et Maj+Tab le désindente ; appuyez sur Échap, puis Tab ou Maj+Tab, pour quitter l’éditeur.",
};

static DE: Strings = Strings {
    editor: "Dokumenteditor",
    toolbar: "Formatierung",
    bold: "Fett",
    italic: "Kursiv",
    underline: "Unterstrichen",
    strike: "Durchgestrichen",
    code: "Inline-Code",
    link: "Link",
    link_prompt: "Linkadresse (https://…)",
    link_refused: "Nur http-, https- und mailto-Links sind erlaubt.",
    link_hint: "Eingabe übernimmt, Escape bricht ab; eine leere Adresse entfernt den Link.",
    undo: "Rückgängig",
    redo: "Wiederholen",
    block_type: "Blocktyp",
    paragraph: "Absatz",
    heading1: "Überschrift 1",
    heading2: "Überschrift 2",
    heading3: "Überschrift 3",
    bullet_list: "Aufzählung",
    numbered_list: "Nummerierte Liste",
    check_list: "Checkliste",
    quote: "Zitat",
    code_block: "Codeblock",
    divider: "Trennlinie",
    slash_menu: "Block einfügen",
    no_result: "Kein Ergebnis",
    placeholder: "„/“ für Befehle eingeben…",
    words: "{n} Wörter",
    done: "Erledigt",
    unsupported: "Block hier nicht bearbeitbar",
    read_only: "Schreibgeschützt",
    keyboard_hint: "Tab rückt einen Block ein, Umschalt+Tab rückt ihn aus; Escape und dann Tab oder Umschalt+Tab verlässt den Editor.",
};

static NL: Strings = Strings {
    editor: "Documenteditor",
    toolbar: "Opmaak",
    bold: "Vet",
    italic: "Cursief",
    underline: "Onderstrepen",
    strike: "Doorhalen",
    code: "Inline code",
    link: "Link",
    link_prompt: "Linkadres (https://…)",
    link_refused: "Alleen http-, https- en mailto-links zijn toegestaan.",
    link_hint: "Enter past toe, Escape annuleert; een leeg adres verwijdert de link.",
    undo: "Ongedaan maken",
    redo: "Opnieuw",
    block_type: "Bloktype",
    paragraph: "Alinea",
    heading1: "Kop 1",
    heading2: "Kop 2",
    heading3: "Kop 3",
    bullet_list: "Opsomming",
    numbered_list: "Genummerde lijst",
    check_list: "Takenlijst",
    quote: "Citaat",
    code_block: "Codeblok",
    divider: "Scheidingslijn",
    slash_menu: "Blok invoegen",
    no_result: "Geen resultaat",
    placeholder: "Typ „/” voor opdrachten…",
    words: "{n} woorden",
    done: "Klaar",
    unsupported: "Blok hier niet bewerkbaar",
    read_only: "Alleen-lezen",
    keyboard_hint: "Tab laat een blok inspringen, Shift+Tab maakt dat ongedaan; druk op Escape en dan Tab of Shift+Tab om de editor te verlaten.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_fallback() {
        assert_eq!(Lang::from_tag("de-AT"), Lang::De);
        assert_eq!(Lang::from_tag("nl_BE"), Lang::Nl);
        assert_eq!(Lang::from_tag("xx"), Lang::En);
        assert_eq!(Lang::Fr.strings().word_count(3), "3 mots");
    }
}
