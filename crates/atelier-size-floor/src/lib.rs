//! The size floor of Atelier's editor bundle: the smallest program that
//! uses the runtime DESIGN.md prescribes the way the editor does — a yrs
//! document in BlockNote's shape (an `XmlFragment` of elements holding
//! formatted `XmlText`), deep observation, an undo manager, sticky
//! positions, v1 updates over a WebSocket, a JSON awareness state, and a
//! Leptos view of the blocks.
//!
//! It is a working (if bare) collaborative text box: [`start`] connects to
//! a server that relays raw v1 updates, shows each block's text, and
//! appends what the user types as a new bold block. `cargo xtask bench
//! size` builds it exactly like the editor bundle and reports its size
//! next to the editor's, so the share of the bundle that the editor's own
//! features cost is measured rather than guessed. It is not shipped.

use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use yrs::types::xml::{XmlElementPrelim, XmlFragment, XmlTextPrelim};
use yrs::undo::UndoManager;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Assoc, DeepObservable, Doc, GetString, IndexedSequence, ReadTxn, StateVector, Text,
    Transact, Update, Xml, XmlFragmentRef, XmlOut,
};

/// Milliseconds since the epoch, for the undo manager's capture timeout.
fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// The text of every block of `fragment`.
fn block_texts<T: ReadTxn>(fragment: &XmlFragmentRef, txn: &T) -> Vec<String> {
    fragment
        .children(txn)
        .filter_map(|node| match node {
            XmlOut::Element(e) => Some(e.get_string(txn)),
            _ => None,
        })
        .collect()
}

/// Appends `text` as a new bold block and returns the v1 update to send,
/// with the JSON awareness state of a caret at its start.
fn append_block(doc: &Doc, fragment: &XmlFragmentRef, text: &str) -> (Vec<u8>, String) {
    let mut txn = doc.transact_mut();
    let block = fragment.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
    block.insert_attribute(&mut txn, "id", text.len().to_string());
    let content = block.push_back(&mut txn, XmlTextPrelim::new(""));
    content.insert(&mut txn, 0, text);
    let bold = [(Arc::from("bold"), Any::Bool(true))].into_iter().collect();
    content.format(&mut txn, 0, text.len() as u32, bold);
    let caret = content
        .sticky_index(&txn, 0, Assoc::After)
        .and_then(|s| serde_json::to_value(&s).ok());
    let state = serde_json::json!({ "user": { "name": "floor" }, "cursor": caret });
    (txn.encode_update_v1(), state.to_string())
}

/// Connects to `url` and mounts the text box on the page's body.
#[wasm_bindgen]
pub fn start(url: &str) -> Result<(), JsValue> {
    let doc = Doc::new();
    let fragment = doc.get_or_insert_xml_fragment("document-store");
    let options = yrs::undo::Options {
        capture_timeout_millis: 500,
        tracked_origins: Default::default(),
        capture_transaction: None,
        timestamp: Arc::new(now),
        init_undo_stack: Vec::new(),
        init_redo_stack: Vec::new(),
    };
    let mut undo: UndoManager<()> = UndoManager::with_options(options);
    undo.expand_scope(&doc, &fragment);
    let undo = Rc::new(RefCell::new(undo));

    let (texts, set_texts) = signal(Vec::<String>::new());
    let observed = fragment.clone();
    fragment.observe_deep("floor".to_owned(), move |txn, events| {
        if events.iter().next().is_some() {
            set_texts.set(block_texts(&observed, txn));
        }
    });

    let socket = web_sys::WebSocket::new(url)?;
    socket.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let remote = doc.clone();
    let replies = socket.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let bytes = js_sys::Uint8Array::new(&e.data()).to_vec();
            if let Ok(update) = Update::decode_v1(&bytes) {
                let _ = remote.transact_mut().apply_update(update);
            } else if let Ok(sv) = StateVector::decode_v1(&bytes) {
                // A peer's state vector: answer with what it lacks.
                let missing = remote.transact().encode_state_as_update_v1(&sv);
                let _ = replies.send_with_u8_array(&missing);
            }
        });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let local = doc.clone();
    let on_input = move |e: web_sys::InputEvent| {
        let typed = e.data().unwrap_or_default();
        if typed == "undo" {
            undo.borrow_mut().undo_blocking();
            return;
        }
        let (update, awareness) = append_block(&local, &fragment, &typed);
        let _ = socket.send_with_u8_array(&update);
        let _ = socket.send_with_str(&awareness);
    };
    mount_to_body(move || {
        view! {
            <div contenteditable="true" on:beforeinput=on_input.clone()>
                <For each=move || texts.get().into_iter().enumerate() key=|(i, _)| *i let:block>
                    <p>{block.1}</p>
                </For>
            </div>
        }
    });
    Ok(())
}
