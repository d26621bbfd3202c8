//! The assistant's actions and the prompts they send.
//!
//! Every action's system message is [`SYSTEM_PROMPT`] followed by the
//! action's instruction, and its user message is the text alone: the
//! embedded model keeps the state it computed for each system message it
//! saw recently and starts the next answer from it, so per request it reads
//! only the user's text (time to first token stays low). Keep both parts
//! byte-identical from one request to the next; a free prompt, different
//! every time, goes in the user message instead.
//!
//! Instructions are in English, which small models follow best; the
//! answer's language is named in them. Labels for the pane come in
//! French, German, Dutch and English ([`Action::label`]).
//!
//! ```
//! use atelier_ai::prompts::{Action, Lang, action_request, SYSTEM_PROMPT};
//! let req = action_request(&Action::Translate(Lang::De), "Bonjour à tous.");
//! assert!(req.messages[0].text_content().starts_with(SYSTEM_PROMPT));
//! assert!(req.messages[0].text_content().contains("German"));
//! assert_eq!(req.messages[1].text_content(), "Bonjour à tous.");
//! assert_eq!(Action::Translate(Lang::De).label(Lang::Fr), "Traduire en allemand");
//! ```

use crate::doc_tool::{ModelBlock, TOOL_NAME, openai_tool};
use crate::openai::{ChatMessage, ChatRequest, Role, ToolChoice};

/// The system message every action starts with.
pub const SYSTEM_PROMPT: &str = "You are the writing assistant of a collaborative document editor. \
You help people write clear, correct and friendly text. \
Follow the instruction exactly and answer with the resulting text only: \
no preamble, no explanation, no quotation marks around it, no Markdown code fences. \
Keep the meaning, the facts, the names and the numbers of the text you are given. \
Keep its language unless the instruction asks for another one. \
Keep simple formatting such as lists, bold and italic when the text has it.";

/// The system message for edits through the document tool: the shared
/// prompt, then how to call the tool.
pub fn tool_system_prompt() -> String {
    format!(
        "{SYSTEM_PROMPT}\n\nYou edit the document by calling the tool {TOOL_NAME} with \
{{\"operations\": [...]}}. Each operation is {{\"type\":\"update\",\"id\":\"ID$\",\"block\":\"<p>...</p>\"}}, \
{{\"type\":\"add\",\"referenceId\":\"ID$\",\"position\":\"before\" or \"after\",\"blocks\":[\"<p>...</p>\"]}} \
or {{\"type\":\"delete\",\"id\":\"ID$\"}}. Use block ids exactly as given, with their trailing $. \
Each block is a single HTML element. Change only the blocks the request is about."
    )
}

/// A language an action can translate to or a label can be shown in: the
/// interface languages of Atelier's message catalogue.
pub use atelier_i18n::Lang;

/// The English name of `lang` (what the instructions say).
pub fn english_name(lang: Lang) -> &'static str {
    // A new language of the catalogue stops this match compiling: name it.
    match lang {
        Lang::En => "English",
        Lang::Fr => "French",
        Lang::De => "German",
        Lang::Nl => "Dutch",
    }
}

/// What the user asks the assistant to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Improve the writing of the selection.
    Improve,
    /// Fix spelling and grammar.
    FixSpelling,
    /// Make it simpler.
    Simplify,
    /// Make it shorter.
    Shorten,
    /// Say it another way.
    Rephrase,
    /// Translate to one of the four languages.
    Translate(Lang),
    /// Translate to a language the user typed.
    TranslateTo(String),
    /// Continue writing after the text.
    Continue,
    /// Summarize.
    Summarize,
    /// List the action items.
    ActionItems,
    /// The user's own request.
    Prompt(String),
}

impl Action {
    /// The instruction sent to the model.
    pub fn instruction(&self) -> String {
        match self {
            Action::Improve => {
                "Improve the writing of the following text: clearer, more fluent, same meaning.".into()
            }
            Action::FixSpelling => {
                "Fix the spelling, grammar and punctuation of the following text. Change nothing else.".into()
            }
            Action::Simplify => {
                "Rewrite the following text in simpler words and shorter sentences.".into()
            }
            Action::Shorten => {
                "Make the following text shorter, keeping what matters.".into()
            }
            Action::Rephrase => "Rephrase the following text.".into(),
            Action::Translate(lang) => {
                format!("Translate the following text into {}.", english_name(*lang))
            }
            Action::TranslateTo(lang) => {
                let lang: String = lang.chars().filter(|c| !c.is_control()).take(40).collect();
                format!("Translate the following text into {lang}.")
            }
            Action::Continue => {
                "Continue the following text with one or two sentences in the same style. Answer with the new sentences only.".into()
            }
            Action::Summarize => "Summarize the following text in a few sentences.".into(),
            Action::ActionItems => {
                "List the action items in the following text, one per line, each starting with \"- \".".into()
            }
            Action::Prompt(p) => p.clone(),
        }
    }

    /// The action's label in a pane shown in `lang`.
    pub fn label(&self, lang: Lang) -> String {
        use Lang::*;
        let fixed = |en: &str, fr: &str, de: &str, nl: &str| -> String {
            match lang {
                En => en,
                Fr => fr,
                De => de,
                Nl => nl,
            }
            .to_owned()
        };
        match self {
            Action::Improve => fixed(
                "Improve writing",
                "Améliorer la rédaction",
                "Text verbessern",
                "Schrijfstijl verbeteren",
            ),
            Action::FixSpelling => fixed(
                "Fix spelling and grammar",
                "Corriger l'orthographe et la grammaire",
                "Rechtschreibung und Grammatik korrigieren",
                "Spelling en grammatica verbeteren",
            ),
            Action::Simplify => fixed("Simplify", "Simplifier", "Vereinfachen", "Vereenvoudigen"),
            Action::Shorten => fixed("Shorten", "Raccourcir", "Kürzen", "Inkorten"),
            Action::Rephrase => fixed("Rephrase", "Reformuler", "Umformulieren", "Herformuleren"),
            Action::Translate(to) => {
                let target = match (lang, to) {
                    (En, l) => english_name(*l),
                    (Fr, En) => "anglais",
                    (Fr, Fr) => "français",
                    (Fr, De) => "allemand",
                    (Fr, Nl) => "néerlandais",
                    (De, En) => "Englische",
                    (De, Fr) => "Französische",
                    (De, De) => "Deutsche",
                    (De, Nl) => "Niederländische",
                    (Nl, En) => "het Engels",
                    (Nl, Fr) => "het Frans",
                    (Nl, De) => "het Duits",
                    (Nl, Nl) => "het Nederlands",
                };
                match lang {
                    En => format!("Translate to {target}"),
                    Fr => format!("Traduire en {target}"),
                    De => format!("Ins {target} übersetzen"),
                    Nl => format!("Vertalen naar {target}"),
                }
            }
            Action::TranslateTo(to) => match lang {
                En => format!("Translate to {to}"),
                Fr => format!("Traduire en {to}"),
                De => format!("Übersetzen: {to}"),
                Nl => format!("Vertalen naar {to}"),
            },
            Action::Continue => fixed(
                "Continue writing",
                "Continuer la rédaction",
                "Weiterschreiben",
                "Verder schrijven",
            ),
            Action::Summarize => fixed("Summarize", "Résumer", "Zusammenfassen", "Samenvatten"),
            Action::ActionItems => {
                fixed("Action items", "Actions à mener", "Aufgaben", "Actiepunten")
            }
            Action::Prompt(_) => fixed(
                "Ask the assistant",
                "Demander à l'assistant",
                "Assistent fragen",
                "Vraag het de assistent",
            ),
        }
    }
}

/// A streamed request for `action` on `text` (the selection, or the
/// document around the caret): the shared system prompt and the action's
/// instruction, then the text alone (a free prompt goes with the text).
pub fn action_request(action: &Action, text: &str) -> ChatRequest {
    let (system, user) = match action {
        Action::Prompt(p) => (SYSTEM_PROMPT.to_owned(), format!("{p}\n\nText:\n{text}")),
        fixed => (
            format!("{SYSTEM_PROMPT}\n\n{}", fixed.instruction()),
            text.to_owned(),
        ),
    };
    let mut req = ChatRequest::new(vec![
        ChatMessage::text(Role::System, system),
        ChatMessage::text(Role::User, user),
    ]);
    req.stream = Some(true);
    req
}

/// A streamed request to edit the document through the tool: the blocks
/// as the model sees them, the user's request, the tool offered.
pub fn edit_request(request: &str, blocks: &[ModelBlock]) -> ChatRequest {
    let listed = serde_json::to_string(blocks).unwrap_or_else(|_| "[]".into());
    let user = format!("Document blocks:\n{listed}\n\nRequest: {request}");
    let mut req = ChatRequest::new(vec![
        ChatMessage::text(Role::System, tool_system_prompt()),
        ChatMessage::text(Role::User, user),
    ]);
    req.stream = Some(true);
    req.tools = Some(vec![openai_tool()]);
    req.tool_choice = Some(ToolChoice::Mode("auto".into()));
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_shares_the_system_prompt() {
        let actions = [
            Action::Improve,
            Action::FixSpelling,
            Action::Simplify,
            Action::Shorten,
            Action::Rephrase,
            Action::Translate(Lang::Nl),
            Action::TranslateTo("Breton\n".into()),
            Action::Continue,
            Action::Summarize,
            Action::ActionItems,
            Action::Prompt("Write a haiku.".into()),
        ];
        for a in &actions {
            let r = action_request(a, "x");
            assert!(r.messages[0].text_content().starts_with(SYSTEM_PROMPT));
            assert!(r.messages[1].text_content().ends_with('x'));
            assert!(r.is_stream());
            for lang in [Lang::En, Lang::Fr, Lang::De, Lang::Nl] {
                assert!(!a.label(lang).is_empty());
            }
        }
        assert!(
            !Action::TranslateTo("Breton\n".into())
                .instruction()
                .contains('\n')
        );
        assert!(tool_system_prompt().starts_with(SYSTEM_PROMPT));
        let e = edit_request("Fix typos", &[]);
        assert!(e.allows_tools());
        assert_eq!(Lang::parse_tag("nl-BE"), Some(Lang::Nl));
        assert_eq!(Lang::parse_tag("es"), None);
    }
}
