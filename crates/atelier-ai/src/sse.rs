//! Server-sent events (`text/event-stream`), both ways, sans-I/O.
//!
//! The parser follows the WHATWG event-stream grammar: lines end with
//! `\n`, `\r\n` or `\r` (a `\r\n` split across two reads is one line end);
//! a blank line dispatches the event; `data:` lines append to the event's
//! data with `\n` between them; `event:` names it; `id:` sets its id;
//! lines starting with `:` are comments; one space after the colon is
//! dropped; a leading byte-order mark is skipped; other fields are
//! ignored. Two departures, both on the strict side or harmless: bytes that
//! are not UTF-8 are an error rather than replaced, and an event still
//! open when the stream ends is dispatched (some servers omit the last
//! blank line) instead of dropped.
//!
//! Input is capped: a line longer than [`SseLimits::max_line_bytes`] or an
//! event carrying more than [`SseLimits::max_event_bytes`] of data is an
//! error, whatever the size of the reads it arrives in.
//!
//! ```
//! use atelier_ai::sse::{SseParser, SseLimits, data_event};
//! let mut p = SseParser::new(SseLimits::default());
//! let wire = data_event("{\"a\":1}") + &data_event("[DONE]");
//! let (first, rest) = wire.as_bytes().split_at(5);
//! let mut events = p.push(first).unwrap();
//! events.extend(p.push(rest).unwrap());
//! assert_eq!(events[0].data, "{\"a\":1}");
//! assert_eq!(events[1].data, "[DONE]");
//! ```

use crate::error::{AiError, Result};

/// Caps on what one stream may make the parser hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseLimits {
    /// Longest line, in bytes, without its line end.
    pub max_line_bytes: usize,
    /// Most data bytes in one event.
    pub max_event_bytes: usize,
}

impl Default for SseLimits {
    /// 1 MiB per line and per event: a chat-completion chunk is a few
    /// hundred bytes; a whole non-streamed tool call stays far below.
    fn default() -> Self {
        SseLimits {
            max_line_bytes: 1 << 20,
            max_event_bytes: 1 << 20,
        }
    }
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any (`message` when absent, per the spec).
    pub event: Option<String>,
    /// The data lines joined with `\n`.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// An incremental event-stream parser: feed it bytes as they arrive, in
/// reads of any size, and take the events each read completes.
#[derive(Debug, Clone)]
pub struct SseParser {
    limits: SseLimits,
    line: Vec<u8>,
    /// The previous read ended in `\r`: a `\n` starting this one belongs
    /// to that line end.
    skip_lf: bool,
    /// Whether the first bytes (and a byte-order mark) were seen.
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
}

impl SseParser {
    /// A parser with these caps.
    pub fn new(limits: SseLimits) -> Self {
        SseParser {
            limits,
            line: Vec::new(),
            skip_lf: false,
            started: false,
            data: String::new(),
            has_data: false,
            event: None,
            id: None,
        }
    }

    /// Feeds bytes; returns the events they complete, in order.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>> {
        let mut out = Vec::new();
        if !self.started && !bytes.is_empty() {
            // The byte-order mark may itself arrive split: hold back a
            // prefix of it until the read that decides.
            self.line.extend_from_slice(bytes);
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return Ok(out);
            }
            self.started = true;
            let held = std::mem::take(&mut self.line);
            let rest = held.strip_prefix(BOM).unwrap_or(&held);
            self.feed(rest, &mut out)?;
            return Ok(out);
        }
        if self.skip_lf && !bytes.is_empty() {
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
            self.skip_lf = false;
        }
        self.feed(bytes, &mut out)?;
        Ok(out)
    }

    fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<()> {
        while !bytes.is_empty() {
            match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.extend_line(&bytes[..end])?;
                    let cr = bytes[end] == b'\r';
                    bytes = &bytes[end + 1..];
                    if cr {
                        match bytes.first() {
                            Some(b'\n') => bytes = &bytes[1..],
                            Some(_) => {}
                            None => self.skip_lf = true,
                        }
                    }
                    let line = std::mem::take(&mut self.line);
                    if let Some(ev) = self.take_line(&line)? {
                        out.push(ev);
                    }
                }
                None => {
                    self.extend_line(bytes)?;
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    fn extend_line(&mut self, part: &[u8]) -> Result<()> {
        if self.line.len() + part.len() > self.limits.max_line_bytes {
            return Err(AiError::LineTooLong {
                limit: self.limits.max_line_bytes,
            });
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    /// Interprets one complete line; a blank one dispatches.
    fn take_line(&mut self, line: &[u8]) -> Result<Option<SseEvent>> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let line = std::str::from_utf8(line).map_err(|_| AiError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                let grown = self.data.len() + usize::from(self.has_data) + value.len();
                if grown > self.limits.max_event_bytes {
                    return Err(AiError::EventTooLarge {
                        limit: self.limits.max_event_bytes,
                    });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            // The last event id persists across events, per the spec.
            id: self.id.clone(),
        })
    }

    /// Ends the stream: the last line and event, if still open, are
    /// taken as complete.
    pub fn finish(mut self) -> Result<Option<SseEvent>> {
        if !self.started {
            // Only a partial byte-order mark was seen: not text.
            return if self.line.is_empty() {
                Ok(None)
            } else {
                Err(AiError::NotUtf8)
            };
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if let Some(ev) = self.take_line(&line)? {
                return Ok(Some(ev));
            }
        }
        Ok(self.dispatch())
    }
}

/// Writes `data` as one event: one `data:` line per line of `data`, then
/// the blank line. `data` with `\r\n` or `\r` line ends comes back from
/// [`SseParser`] with `\n`.
pub fn data_event(data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    write_event(&mut out, None, data);
    out
}

/// Appends one event, named when `event` is given, to `out`.
pub fn write_event(out: &mut String, event: Option<&str>, data: &str) {
    if let Some(name) = event {
        // A name cannot hold a line end: it would start another field.
        out.push_str("event: ");
        out.extend(name.chars().filter(|c| *c != '\n' && *c != '\r'));
        out.push('\n');
    }
    for line in data.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        for part in line.split('\r') {
            out.push_str("data: ");
            out.push_str(part);
            out.push('\n');
        }
    }
    out.push('\n');
}

/// A comment line, which clients ignore: a keep-alive for proxies that
/// close quiet connections.
pub fn comment(text: &str) -> String {
    let mut out = String::from(": ");
    out.extend(text.chars().filter(|c| *c != '\n' && *c != '\r'));
    out.push_str("\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(limits: SseLimits, parts: &[&[u8]]) -> Result<Vec<SseEvent>> {
        let mut p = SseParser::new(limits);
        let mut out = Vec::new();
        for part in parts {
            out.extend(p.push(part)?);
        }
        out.extend(p.finish()?);
        Ok(out)
    }

    fn datas(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn fields_comments_and_line_ends_follow_the_spec() {
        let wire = b"\xEF\xBB\xBF: keep-alive\r\nevent: delta\r\ndata: a\rdata:b\n\nid: 7\ndata:  two spaces\nretry: 10\nunknown\n\n\n";
        let events = all(SseLimits::default(), &[wire]).expect("valid");
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: Some("delta".into()),
                    data: "a\nb".into(),
                    id: None
                },
                SseEvent {
                    event: None,
                    data: " two spaces".into(),
                    id: Some("7".into())
                },
            ]
        );
    }

    #[test]
    fn an_event_without_data_dispatches_nothing() {
        let events = all(SseLimits::default(), &[b"event: ping\n\n: c\n\n"]).expect("valid");
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn a_crlf_split_between_reads_is_one_line_end() {
        let events = all(
            SseLimits::default(),
            &[b"data: x\r", b"\n", b"\r", b"\ndata: y\n\n"],
        )
        .expect("valid");
        assert_eq!(datas(&events), ["x", "y"]);
    }

    #[test]
    fn the_last_event_without_a_blank_line_is_kept() {
        let events = all(SseLimits::default(), &[b"data: [DONE]"]).expect("valid");
        assert_eq!(datas(&events), ["[DONE]"]);
        let events = all(SseLimits::default(), &[b"data: [DONE]\n"]).expect("valid");
        assert_eq!(datas(&events), ["[DONE]"]);
    }

    #[test]
    fn oversized_lines_and_events_are_errors() {
        let limits = SseLimits {
            max_line_bytes: 16,
            max_event_bytes: 20,
        };
        let long = [b'a'; 17];
        let mut p = SseParser::new(limits);
        // Split into small reads: the cap holds across reads.
        let mut result = Ok(Vec::new());
        for b in long.chunks(3) {
            result = p.push(b);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(AiError::LineTooLong { limit: 16 }));
        let many = b"data: 0123456789\ndata: 0123456789\n\n";
        assert_eq!(
            all(limits, &[many]),
            Err(AiError::EventTooLarge { limit: 20 })
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error() {
        assert_eq!(
            all(SseLimits::default(), &[b"data: \xFF\n\n"]),
            Err(AiError::NotUtf8)
        );
        // A multi-byte character split across reads is fine.
        let wire = "data: é€😀\n\n".as_bytes();
        for cut in 0..wire.len() {
            let (a, b) = wire.split_at(cut);
            let events = all(SseLimits::default(), &[a, b]).expect("valid");
            assert_eq!(datas(&events), ["é€😀"], "cut at {cut}");
        }
    }

    #[test]
    fn writing_then_parsing_gives_the_data_back() {
        for data in ["", "one", "two\nlines", "crlf\r\nand cr\rend", "\n"] {
            let wire = data_event(data);
            let events = all(SseLimits::default(), &[wire.as_bytes()]).expect("valid");
            let expected = data.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(datas(&events), [expected.as_str()], "{data:?}");
        }
        let mut named = String::new();
        write_event(&mut named, Some("error\nx"), "boom");
        assert_eq!(named, "event: errorx\ndata: boom\n\n");
        assert_eq!(comment("hi\n"), ": hi\n\n");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any split of a stream into reads parses the same as one read.
        #[test]
        fn any_split_parses_the_same(
            datas in proptest::collection::vec("[a-z é\\n{}\":,\\[\\]]{0,40}", 0..8),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
            crlf in any::<bool>(),
        ) {
            let mut wire = String::from(": hello\n");
            for d in &datas {
                wire.push_str(&data_event(d));
            }
            if crlf {
                wire = wire.replace('\n', "\r\n");
            }
            let bytes = wire.as_bytes();
            let whole = all(SseLimits::default(), &[bytes]);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut parts: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for p in points {
                parts.push(&bytes[at..p]);
                at = p;
            }
            parts.push(&bytes[at..]);
            let split = all(SseLimits::default(), &parts);
            prop_assert_eq!(&whole, &split);
            let whole = whole.expect("valid");
            prop_assert_eq!(whole.len(), datas.len());
        }

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), cut in any::<prop::sample::Index>()) {
            let limits = SseLimits { max_line_bytes: 64, max_event_bytes: 128 };
            let (a, b) = bytes.split_at(cut.index(bytes.len() + 1));
            let _ = all(limits, &[a, b]);
        }
    }
}
