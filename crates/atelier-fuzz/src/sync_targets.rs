//! The wire protocol's entry points: frames into server and client
//! sessions, updates into documents, awareness and state vectors.

use crate::frames;
use atelier_doc::Document;
use atelier_sync::{
    Access, AuthDecision, AwarenessStates, AwarenessUpdate, ClientConfig, ClientSession, DocHost,
    EncodedStateVector, Limits, ServerSession, check_update_v1_against,
};
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact};

/// Lets every document in, read-write, as an authenticated editor would be.
fn allow(_document: &str, token: &str) -> AuthDecision {
    if token == "deny" {
        AuthDecision::Deny {
            reason: "permission-denied".into(),
        }
    } else {
        AuthDecision::Allow(Access::ReadWrite)
    }
}

/// Runs a connection's frames through `session` and the documents behind
/// it, as the server does: a frame the session refuses closes the
/// connection. Then checks that a restart from the stored log rebuilds
/// exactly the documents that were served.
fn serve(mut session: ServerSession, data: &[u8]) {
    let mut host = DocHost::new();
    let mut served_cleanly = true;
    for (i, frame) in frames(data).into_iter().enumerate() {
        let now = i as u64 * 1_000;
        if session.receive(now, frame, &mut allow).is_err() {
            break;
        }
        if host.serve(now, &mut session).is_err() {
            served_cleanly = false;
            break;
        }
        while session.poll_transmit().is_some() {}
    }
    let names: Vec<String> = session
        .open_documents()
        .map(|(d, _)| d.to_owned())
        .collect();
    let before: Vec<String> = names.iter().map(|n| fingerprint(host.doc(n))).collect();
    match host.restart() {
        Ok(()) => {
            let after: Vec<String> = names.iter().map(|n| fingerprint(host.doc(n))).collect();
            assert_eq!(
                before, after,
                "a restart from the stored log changed a document"
            );
        }
        Err(e) => assert!(
            !served_cleanly,
            "every stored update applied live, but the restart failed: {e}"
        ),
    }
}

/// A document's state vector and every root's content, for comparison
/// (as text: a document may hold NaN, which equals nothing).
fn fingerprint(doc: &Doc) -> String {
    let txn = doc.transact();
    let mut roots: Vec<String> = txn
        .root_refs()
        .map(|(name, value)| format!("{name}={:?}", value.to_json(&txn)))
        .collect();
    roots.sort();
    format!("{:?} {:?}", txn.state_vector(), roots)
}

/// y-websocket frames into a server session of document "fuzz".
pub fn server_ywebsocket(data: &[u8]) {
    serve(
        ServerSession::y_websocket("fuzz", Access::ReadWrite, Limits::default()),
        data,
    );
}

/// Hocuspocus frames into a server session.
pub fn server_hocuspocus(data: &[u8]) {
    serve(ServerSession::hocuspocus(Limits::default()), data);
}

/// Frames from a server into a client session (the first byte's low bit
/// picks the framing), applied to the client's document.
pub fn client_frames(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let config = if pick & 1 == 0 {
        ClientConfig::y_websocket()
    } else {
        ClientConfig::hocuspocus("fuzz", "token")
    };
    let Ok(mut client) = ClientSession::new(Doc::new(), config) else {
        return;
    };
    client.connected(0);
    for (i, frame) in frames(rest).into_iter().enumerate() {
        let now = i as u64 * 1_000;
        while client.poll_transmit().is_some() {}
        if client.receive(now, frame).is_err() {
            return;
        }
        client.tick(now);
        while client.poll_event().is_some() {}
    }
}

/// Updates checked and applied to a rich-text document, which is then
/// read through the model (blocks, Markdown, HTML) as the editor would.
pub fn update_v1(data: &[u8]) {
    let doc = Document::new();
    let limits = Limits::default();
    for update in frames(data) {
        if check_update_v1_against(update, &limits, doc.ydoc()).is_ok() {
            let _ = doc.apply_update_v1(update);
        }
    }
    let blocks = doc.blocks();
    let _ = atelier_doc::markdown_export::export(&blocks);
    let _ = atelier_doc::html::export(&blocks);
}

/// Awareness updates merged into a client's states, and state vectors
/// checked: what the check accepts, `yrs` must decode.
pub fn awareness(data: &[u8]) {
    let limits = Limits::default();
    let mut states = AwarenessStates::new(limits.max_awareness_clients);
    for (i, frame) in frames(data).into_iter().enumerate() {
        if let Ok(update) = AwarenessUpdate::decode(frame, &limits) {
            let again = AwarenessUpdate::decode(&update.encode(), &limits);
            assert_eq!(again.as_ref().ok(), Some(&update), "awareness re-encoding");
            states.apply(&update, i as u64 * 1_000, Some(1));
            let _ = states.to_update().encode();
        }
        if let Ok(sv) = EncodedStateVector::decode(frame, &limits) {
            assert!(
                StateVector::decode_v1(sv.as_bytes()).is_ok(),
                "a state vector the check accepted does not decode"
            );
        }
    }
}
