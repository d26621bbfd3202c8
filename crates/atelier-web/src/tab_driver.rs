//! [`TabDriver`]: one `BroadcastChannel` shared with the other tabs of this
//! browser, for a document and its siblings (the text and its chat).
//!
//! Updates and awareness go to the other tabs of this origin and theirs are
//! applied, so tabs converge with the server down. Every message names its
//! document ([`TabMessage`]); a tab ignores the documents it does not have
//! open. Another tab's update passes the same check as the network's
//! (`check_update_v1_against` the document) before it is applied. Each
//! document renews this tab's awareness every 15 s and drops the states of
//! tabs that went silent for 30 s (y-protocols' timers), so a tab that was
//! killed disappears from the others' presence.

use crate::doc_state::DocState;
use crate::tab_message::TabMessage;
use crate::update_queue::Source;
use crate::{now_ms, warn};
use atelier_sync::{
    AwarenessEntry, AwarenessStates, AwarenessUpdate, EncodedStateVector, Limits,
    check_update_v1_against,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BroadcastChannel, Event, MessageEvent};

/// y-protocols drops an awareness state not renewed within 30 s.
const AWARENESS_TIMEOUT_MS: u64 = 30_000;
/// How often this tab renews its awareness on the channel.
const AWARENESS_RENEW_MS: u64 = 15_000;

/// One document of this tab on the channel.
struct Member {
    name: String,
    doc: Weak<DocState>,
    /// The other tabs' awareness states for this document.
    awareness: AwarenessStates,
    clock: u64,
    announced_ms: u64,
}

/// The cross-tab channel of one document family.
pub(crate) struct TabDriver {
    channel: BroadcastChannel,
    _handler: Closure<dyn FnMut(Event)>,
    incoming: RefCell<VecDeque<Vec<u8>>>,
    members: RefCell<Vec<Member>>,
    limits: Limits,
}

impl TabDriver {
    /// Opens the channel `name`; `None` (with a warning) if the browser
    /// has none, and the documents then work without cross-tab sharing.
    pub(crate) fn open(name: &str) -> Option<Rc<Self>> {
        let channel = match BroadcastChannel::new(name) {
            Ok(c) => c,
            Err(e) => {
                warn(&format!("no cross-tab channel: {e:?}"));
                return None;
            }
        };
        let driver = Rc::new_cyclic(|weak: &Weak<TabDriver>| {
            let weak = weak.clone();
            let handler: Closure<dyn FnMut(Event)> = Closure::new(move |ev: Event| {
                let Some(driver) = weak.upgrade() else {
                    return;
                };
                let Ok(ev) = ev.dyn_into::<MessageEvent>() else {
                    return;
                };
                let data = ev.data();
                if data.is_instance_of::<js_sys::Uint8Array>() {
                    let bytes = js_sys::Uint8Array::new(&data).to_vec();
                    driver.incoming.borrow_mut().push_back(bytes);
                    crate::hub::drive();
                }
            });
            channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
            TabDriver {
                channel,
                _handler: handler,
                incoming: RefCell::new(VecDeque::new()),
                members: RefCell::new(Vec::new()),
                limits: Limits::default(),
            }
        });
        Some(driver)
    }

    /// `doc` is loaded: it says hello to the other tabs (which answer with
    /// what it lacks) and announces this tab's presence.
    pub(crate) fn join(&self, doc: &Rc<DocState>) {
        self.members.borrow_mut().push(Member {
            name: doc.key.name.clone(),
            doc: Rc::downgrade(doc),
            awareness: AwarenessStates::new(self.limits.max_awareness_clients),
            clock: 0,
            announced_ms: 0,
        });
        // What the loaded state already holds needs no broadcast: the hello
        // exchange carries it to tabs that lack it.
        doc.captures.to_tabs.take();
        self.post(&doc.key.name, &TabMessage::Hello(doc.doc.state_vector_v1()));
        self.announce_all(doc);
    }

    /// `doc` closes: the other tabs hear it left.
    pub(crate) fn leave(&self, doc: &DocState) {
        self.announce(doc, "null");
        self.members.borrow_mut().retain(|m| m.name != doc.key.name);
        if self.is_unused() {
            self.channel.set_onmessage(None);
            self.channel.close();
        }
    }

    /// Whether no document uses the channel any more.
    pub(crate) fn is_unused(&self) -> bool {
        self.members.borrow().is_empty()
    }

    /// Runs `f` on the other tabs' awareness states of `name`.
    pub(crate) fn with_awareness(&self, name: &str, f: impl FnOnce(&AwarenessStates)) {
        if let Some(m) = self.members.borrow().iter().find(|m| m.name == name) {
            f(&m.awareness);
        }
    }

    fn post(&self, doc: &str, message: &TabMessage) {
        let sent = message
            .encode(doc)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let bytes = js_sys::Uint8Array::from(bytes.as_slice());
                self.channel
                    .post_message(&bytes)
                    .map_err(|e| format!("{e:?}"))
            });
        if let Err(e) = sent {
            warn(&format!("cross-tab message not sent: {e}"));
        }
    }

    /// Broadcasts the updates `doc`'s observer captured.
    pub(crate) fn flush(&self, doc: &DocState) {
        let batch = doc.captures.to_tabs.take();
        if batch.is_empty() || !self.members.borrow().iter().any(|m| m.name == doc.key.name) {
            return;
        }
        for update in batch {
            self.post(&doc.key.name, &TabMessage::Update(update));
        }
    }

    /// Sends this tab's awareness state of `doc` (`"null"`: it left) to
    /// the other tabs, once `doc` has joined.
    pub(crate) fn announce(&self, doc: &DocState, json: &str) {
        self.announce_as(doc, doc.doc.ydoc().client_id().get(), json);
    }

    /// Sends this tab's awareness state of `doc` and those of the agents
    /// editing through it.
    fn announce_all(&self, doc: &DocState) {
        let published = doc.published.borrow().clone();
        if let Some(json) = published {
            self.announce(doc, &json);
        }
        for (client_id, json) in doc.agent_states() {
            self.announce_as(doc, client_id, &json);
        }
    }

    /// Sends the awareness state of `client_id` (the page's, or an agent's
    /// editing through it) of `doc`; one clock serves every client id of
    /// the tab, so each one's clock rises.
    pub(crate) fn announce_as(&self, doc: &DocState, client_id: u64, json: &str) {
        let clock = {
            let mut members = self.members.borrow_mut();
            let Some(m) = members.iter_mut().find(|m| m.name == doc.key.name) else {
                return;
            };
            m.clock += 1;
            m.announced_ms = now_ms();
            m.clock
        };
        let update = AwarenessUpdate {
            entries: vec![AwarenessEntry {
                client_id,
                clock,
                state: json.to_owned(),
            }],
        };
        self.post(&doc.key.name, &TabMessage::Awareness(update.encode()));
    }

    /// Renews this tab's awareness and drops tabs that went silent.
    pub(crate) fn tick(&self, now: u64) {
        let mut renew = Vec::new();
        for m in self.members.borrow_mut().iter_mut() {
            let Some(doc) = m.doc.upgrade() else {
                continue;
            };
            if !m.awareness.expire(now, AWARENESS_TIMEOUT_MS).is_empty() {
                doc.presence_dirty.set(true);
            }
            if now.saturating_sub(m.announced_ms) >= AWARENESS_RENEW_MS {
                renew.push(doc);
            }
        }
        for doc in renew {
            self.announce_all(&doc);
        }
    }

    /// Handles the messages received since the last drive.
    pub(crate) fn drive(&self) {
        loop {
            let Some(bytes) = self.incoming.borrow_mut().pop_front() else {
                break;
            };
            self.on_message(&bytes);
        }
    }

    fn on_message(&self, bytes: &[u8]) {
        let (name, message) = match TabMessage::decode(bytes, self.limits.max_message_bytes) {
            Ok(m) => m,
            Err(e) => {
                warn(&e.to_string());
                return;
            }
        };
        let doc = self
            .members
            .borrow()
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.doc.upgrade());
        // A document this tab does not have open.
        let Some(doc) = doc else {
            return;
        };
        match message {
            TabMessage::Hello(sv) => {
                self.answer_step1(&doc, &sv);
                self.post(&name, &TabMessage::Step1(doc.doc.state_vector_v1()));
                self.announce_all(&doc);
            }
            TabMessage::Step1(sv) => self.answer_step1(&doc, &sv),
            TabMessage::Update(update) => {
                let applied = check_update_v1_against(&update, &doc.limits, doc.doc.ydoc())
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        doc.captures.applying(Source::Tab, || {
                            doc.doc.apply_update_v1(&update).map_err(|e| e.to_string())
                        })
                    });
                if let Err(e) = applied {
                    warn(&format!("ignoring another tab's update to {name}: {e}"));
                    return;
                }
                doc.initialise_if_structured();
                // Cursors may resolve only now.
                doc.presence_dirty.set(true);
            }
            TabMessage::Awareness(bytes) => {
                let update = match AwarenessUpdate::decode(&bytes, &self.limits) {
                    Ok(u) => u,
                    Err(e) => {
                        warn(&format!("ignoring another tab's awareness: {e}"));
                        return;
                    }
                };
                let own = doc.doc.ydoc().client_id().get();
                let changed = self
                    .members
                    .borrow_mut()
                    .iter_mut()
                    .find(|m| m.name == name)
                    .is_some_and(|m| {
                        !m.awareness
                            .apply(&update, now_ms(), Some(own))
                            .change
                            .is_empty()
                    });
                if changed {
                    doc.presence_dirty.set(true);
                }
            }
        }
    }

    /// Sends another tab what it lacks of `doc` according to its state vector.
    fn answer_step1(&self, doc: &DocState, sv: &[u8]) {
        // Checked like a peer's step 1: yrs' own decoder trusts that every
        // client id fits in 53 bits (found by the `tab_message` fuzz target).
        let sv = match EncodedStateVector::decode(sv, &self.limits) {
            Ok(sv) => sv,
            Err(e) => {
                warn(&format!("ignoring another tab's state vector: {e}"));
                return;
            }
        };
        match doc.doc.diff_v1(sv.as_bytes()) {
            // `[0, 0]`: no structs and an empty delete set.
            Ok(diff) if diff.len() > 2 => self.post(&doc.key.name, &TabMessage::Update(diff)),
            Ok(_) => {}
            Err(e) => warn(&format!("ignoring another tab's state vector: {e}")),
        }
    }
}
