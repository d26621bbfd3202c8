//! Tool calls written as text, recognised while the text streams.
//!
//! A model without native tool calls (the embedded one) answers either in
//! prose or with a JSON call ([`crate::doc_tool::parse_tool_call_text`]
//! says which shapes). Prose should stream at once; a call must not show
//! as text. [`ToolTextSniffer`] decides from the answer's first
//! characters: an answer that starts like JSON, a code fence or a
//! `<tool_call>` tag is held to its end and then parsed; anything else
//! passes through as it comes. A held answer that turns out not to be a
//! call comes out whole, as text, at the end: nothing is lost.
//!
//! ```
//! use atelier_ai::tool_text::{Sniffed, ToolTextSniffer};
//! let mut s = ToolTextSniffer::new(1 << 16);
//! assert_eq!(s.push("  Bon"), Some("  Bon".to_owned()));
//! assert_eq!(s.finish(&["applyDocumentOperations"]), Sniffed::Text(String::new()));
//!
//! let mut s = ToolTextSniffer::new(1 << 16);
//! assert_eq!(s.push("{\"operations\""), None);
//! assert_eq!(s.push(": []}"), None);
//! assert!(matches!(s.finish(&["applyDocumentOperations"]), Sniffed::ToolCall { .. }));
//! ```

use crate::doc_tool::parse_tool_call_text;

/// The openings a call written as text may have.
const CALL_OPENINGS: [&str; 4] = ["{", "[", "```", "<tool_call>"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Only whitespace so far, or the start of an opening.
    Undecided(String),
    /// Prose: passed through.
    Prose,
    /// Possibly a call: held.
    Holding(String),
}

/// What a held answer turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// Text still to pass on (empty when everything already passed).
    Text(String),
    /// A call of one of the offered tools.
    ToolCall {
        /// The tool.
        name: String,
        /// Its arguments as JSON text.
        arguments: String,
    },
}

/// Watches a streamed answer for a tool call written as text.
#[derive(Debug, Clone)]
pub struct ToolTextSniffer {
    state: State,
    max_hold: usize,
}

impl ToolTextSniffer {
    /// A sniffer that holds at most `max_hold` bytes; past that the held
    /// text is passed on as prose (no call is that long).
    pub fn new(max_hold: usize) -> Self {
        ToolTextSniffer {
            state: State::Undecided(String::new()),
            max_hold,
        }
    }

    /// Whether the answer is being held as a possible call.
    pub fn is_holding(&self) -> bool {
        matches!(self.state, State::Holding(_))
    }

    /// Takes the next piece; returns the text to pass on now, if any.
    pub fn push(&mut self, piece: &str) -> Option<String> {
        match &mut self.state {
            State::Prose => (!piece.is_empty()).then(|| piece.to_owned()),
            State::Holding(held) => {
                held.push_str(piece);
                if held.len() > self.max_hold {
                    let text = std::mem::take(held);
                    self.state = State::Prose;
                    return Some(text);
                }
                None
            }
            State::Undecided(held) => {
                held.push_str(piece);
                let start = held.trim_start();
                if start.is_empty() {
                    return None;
                }
                if CALL_OPENINGS.iter().any(|o| start.starts_with(o)) {
                    let held = std::mem::take(held);
                    self.state = State::Holding(held);
                    return self.push("");
                }
                if CALL_OPENINGS.iter().any(|o| o.starts_with(start)) {
                    // "`" or "<tool": not yet known.
                    return None;
                }
                let text = std::mem::take(held);
                self.state = State::Prose;
                Some(text)
            }
        }
    }

    /// Ends the answer: a call of one of `tools`, or the text still held.
    pub fn finish(self, tools: &[&str]) -> Sniffed {
        match self.state {
            State::Prose => Sniffed::Text(String::new()),
            State::Undecided(held) => Sniffed::Text(held),
            State::Holding(held) => match parse_tool_call_text(&held, tools) {
                Some((name, arguments)) => Sniffed::ToolCall { name, arguments },
                None => Sniffed::Text(held),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOLS: [&str; 1] = ["applyDocumentOperations"];

    fn run(pieces: &[&str]) -> (String, Sniffed) {
        run_capped(pieces, 256)
    }

    fn run_capped(pieces: &[&str], max_hold: usize) -> (String, Sniffed) {
        let mut s = ToolTextSniffer::new(max_hold);
        let mut passed = String::new();
        for p in pieces {
            if let Some(t) = s.push(p) {
                passed.push_str(&t);
            }
        }
        (passed, s.finish(&TOOLS))
    }

    #[test]
    fn prose_passes_at_once_and_calls_are_held() {
        assert_eq!(
            run(&["\n", " <b", ">Hi"]),
            ("\n <b>Hi".into(), Sniffed::Text(String::new()))
        );
        let (passed, end) = run(&[
            "<tool",
            "_call>{\"name\":\"applyDocumentOperations\",",
            "\"arguments\":{\"operations\":[]}}</tool_call>",
        ]);
        assert_eq!(passed, "");
        assert_eq!(
            end,
            Sniffed::ToolCall {
                name: TOOLS[0].into(),
                arguments: "{\"operations\":[]}".into()
            }
        );
        // Held, then not a call: comes out whole.
        assert_eq!(
            run(&["[1] ", "Intro"]),
            (String::new(), Sniffed::Text("[1] Intro".into()))
        );
        assert_eq!(run(&["  "]), (String::new(), Sniffed::Text("  ".into())));
        // Too long to be held: passed on as prose.
        let long = "{".repeat(70);
        let (passed, end) = run_capped(&[&long, "x"], 64);
        assert_eq!(passed, format!("{long}x"));
        assert_eq!(end, Sniffed::Text(String::new()));
    }
}
