//! How a request reaches the AI server: a [`Transport`] takes an
//! [`HttpRequest`] and reports the answer as it arrives, and the returned
//! [`Abort`] stops it.
//!
//! [`FetchTransport`] is the browser's `fetch` with an `AbortController`
//! and the response body read chunk by chunk; *Stop* aborts it, which
//! closes the connection, and the Atelier server then drops the model
//! server's response (or stops the embedded generation at its next
//! token). Tests give the pane a transport of their own. This is the
//! pane's only I/O: documents and their connections are `atelier-web`'s.

use crate::endpoint::HttpRequest;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// What a transport reports, in this order: `Head`, any number of `Body`,
/// then `End` or `Failed` (`Failed` may come at any point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// The status and the `Retry-After` header.
    Head {
        /// HTTP status.
        status: u16,
        /// `Retry-After`, as sent.
        retry_after: Option<String>,
    },
    /// More of the body.
    Body(Vec<u8>),
    /// The body ended.
    End,
    /// The request failed without (the rest of) an answer: the reason.
    Failed(String),
}

/// Receives a transport's events.
pub type EventSink = Rc<dyn Fn(TransportEvent)>;

/// Stops a request: the transport reports nothing after it.
pub struct Abort(Option<Box<dyn FnOnce()>>);

impl Abort {
    /// An abort that runs `f`.
    pub fn new(f: impl FnOnce() + 'static) -> Self {
        Abort(Some(Box::new(f)))
    }

    /// An abort with nothing to stop.
    pub fn none() -> Self {
        Abort(None)
    }

    /// Stops the request.
    pub fn abort(mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Sends requests for the pane.
pub trait Transport {
    /// Starts `request`; events go to `sink`, never synchronously from
    /// inside this call.
    fn send(&self, request: HttpRequest, sink: EventSink) -> Abort;
}

/// The browser's `fetch`, streamed.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest, sink: EventSink) -> Abort {
        let controller = web_sys::AbortController::new().ok();
        let stopped = Rc::new(RefCell::new(false));
        let signal = controller.as_ref().map(web_sys::AbortController::signal);
        let flag = stopped.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let deliver = |e: TransportEvent| {
                if !*flag.borrow() {
                    sink(e);
                }
            };
            match run_fetch(&request, signal.as_ref(), &deliver).await {
                Ok(()) => deliver(TransportEvent::End),
                Err(e) => deliver(TransportEvent::Failed(js_message(&e))),
            }
        });
        Abort::new(move || {
            *stopped.borrow_mut() = true;
            if let Some(c) = controller {
                c.abort();
            }
        })
    }
}

async fn run_fetch(
    request: &HttpRequest,
    signal: Option<&web_sys::AbortSignal>,
    deliver: &impl Fn(TransportEvent),
) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&request.body));
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    init.set_headers(&headers);
    init.set_signal(signal);
    if request.include_credentials {
        init.set_credentials(web_sys::RequestCredentials::Include);
    }
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&request.url, &init))
            .await?
            .dyn_into()?;
    deliver(TransportEvent::Head {
        status: response.status(),
        retry_after: response.headers().get("retry-after").ok().flatten(),
    });
    let Some(body) = response.body() else {
        return Ok(());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().dyn_into()?;
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into())?;
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        deliver(TransportEvent::Body(bytes));
    }
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the request failed".into())
}
