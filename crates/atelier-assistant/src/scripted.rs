//! A transport for tests (feature `test-support`): it records each
//! request and answers with a script of [`TransportEvent`]s that the test
//! releases step by step ([`ScriptedTransport::deliver`]), so a test can
//! act between two pieces of an answer (type in a block, press Stop)
//! without timers. The scripts speak the real wire formats: an OpenAI
//! `chat.completion.chunk` event stream written by
//! [`atelier_ai::chat_stream::ChunkWriter`] and cut into arbitrary byte
//! pieces, or an OpenAI error body with the `code`s and `Retry-After` of
//! `atelier-server`'s AI endpoint.

use crate::endpoint::HttpRequest;
use crate::transport::{Abort, EventSink, Transport, TransportEvent};
use atelier_ai::chat_stream::ChunkWriter;
use atelier_ai::openai::ErrorBody;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// The events of a streamed answer whose text arrives as `pieces`, the
/// bytes cut every `cut` bytes (a piece may end inside a UTF-8 character
/// or an event, as the network cuts them).
pub fn openai_stream(pieces: &[&str], cut: usize) -> Vec<TransportEvent> {
    let w = ChunkWriter::new("chatcmpl-test", "SmolLM2-135M-Instruct", 1);
    let mut wire = w.role();
    for p in pieces {
        wire.push_str(&w.text(p));
    }
    wire.push_str(&w.finish("stop"));
    wire.push_str(&ChunkWriter::done());
    body_events(200, None, wire.as_bytes(), cut)
}

/// The events of a streamed answer that calls `applyDocumentOperations`
/// with `arguments` (JSON text), cut every `cut` bytes.
pub fn openai_tool_stream(arguments: &str, cut: usize) -> Vec<TransportEvent> {
    let w = ChunkWriter::new("chatcmpl-test", "SmolLM2-135M-Instruct", 1);
    let mut wire = w.role();
    wire.push_str(&w.tool_call_start(0, "call_0", "applyDocumentOperations"));
    let mid = arguments.len() / 2;
    let split = (mid..arguments.len())
        .find(|i| arguments.is_char_boundary(*i))
        .unwrap_or(arguments.len());
    wire.push_str(&w.tool_call_arguments(0, &arguments[..split]));
    wire.push_str(&w.tool_call_arguments(0, &arguments[split..]));
    wire.push_str(&w.finish("tool_calls"));
    wire.push_str(&ChunkWriter::done());
    body_events(200, None, wire.as_bytes(), cut)
}

/// A stream that starts with `pieces` of text and then carries the error
/// event the server sends when the model fails mid-answer.
pub fn openai_stream_failing(pieces: &[&str], code: &str, message: &str) -> Vec<TransportEvent> {
    let w = ChunkWriter::new("chatcmpl-test", "SmolLM2-135M-Instruct", 1);
    let mut wire = w.role();
    for p in pieces {
        wire.push_str(&w.text(p));
    }
    let body = ErrorBody::new(message, "upstream_error", Some(code));
    let json = serde_json::to_string(&body).unwrap_or_default();
    wire.push_str(&format!("data: {json}\n\n"));
    body_events(200, None, wire.as_bytes(), 64)
}

/// An error answer: `status`, the OpenAI error body with `code`, and
/// `Retry-After` when given (as `atelier-server` answers a refused request).
pub fn openai_error(
    status: u16,
    code: &str,
    message: &str,
    retry_after: Option<u64>,
) -> Vec<TransportEvent> {
    let body = ErrorBody::new(message, "error", Some(code));
    let json = serde_json::to_string(&body).unwrap_or_default();
    body_events(
        status,
        retry_after.map(|s| s.to_string()),
        json.as_bytes(),
        1 << 16,
    )
}

fn body_events(
    status: u16,
    retry_after: Option<String>,
    bytes: &[u8],
    cut: usize,
) -> Vec<TransportEvent> {
    let mut events = vec![TransportEvent::Head {
        status,
        retry_after,
    }];
    events.extend(
        bytes
            .chunks(cut.max(1))
            .map(|c| TransportEvent::Body(c.to_vec())),
    );
    events.push(TransportEvent::End);
    events
}

struct Call {
    sink: EventSink,
    events: VecDeque<TransportEvent>,
    aborted: Rc<Cell<bool>>,
}

/// Answers each request with the next script, released by the test.
#[derive(Default)]
pub struct ScriptedTransport {
    scripts: RefCell<VecDeque<Vec<TransportEvent>>>,
    requests: RefCell<Vec<HttpRequest>>,
    current: RefCell<Option<Call>>,
    aborts: Rc<Cell<usize>>,
}

impl ScriptedTransport {
    /// A transport with no script yet.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Queues the answer to the next request.
    pub fn push_script(&self, events: Vec<TransportEvent>) {
        self.scripts.borrow_mut().push_back(events);
    }

    /// The requests sent so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.borrow().clone()
    }

    /// How many requests were aborted.
    pub fn aborts(&self) -> usize {
        self.aborts.get()
    }

    /// Events of the current request not delivered yet.
    pub fn remaining(&self) -> usize {
        self.current.borrow().as_ref().map_or(0, |c| c.events.len())
    }

    /// Delivers up to `n` more events of the current request; returns how
    /// many it delivered (none after an abort).
    pub fn deliver(&self, n: usize) -> usize {
        let mut done = 0;
        while done < n {
            let next = {
                let mut cur = self.current.borrow_mut();
                let Some(call) = cur.as_mut() else { break };
                if call.aborted.get() {
                    break;
                }
                call.events.pop_front().map(|e| (call.sink.clone(), e))
            };
            let Some((sink, event)) = next else { break };
            // The sink may send the next request: no borrow is held here.
            sink(event);
            done += 1;
        }
        done
    }

    /// Delivers every remaining event of the current request.
    pub fn deliver_all(&self) -> usize {
        self.deliver(usize::MAX)
    }
}

impl Transport for ScriptedTransport {
    fn send(&self, request: HttpRequest, sink: EventSink) -> Abort {
        self.requests.borrow_mut().push(request);
        let events = self.scripts.borrow_mut().pop_front().unwrap_or_else(|| {
            vec![TransportEvent::Failed(
                "the test gave no script for this request".into(),
            )]
        });
        let aborted = Rc::new(Cell::new(false));
        *self.current.borrow_mut() = Some(Call {
            sink,
            events: events.into(),
            aborted: aborted.clone(),
        });
        let aborts = self.aborts.clone();
        Abort::new(move || {
            aborted.set(true);
            aborts.set(aborts.get() + 1);
        })
    }
}
