//! Issue 12: a reader who may comment but not edit (La Suite Docs'
//! "commenter") can chat. The chat of `D` is the document `D:chat`; a
//! `chat` grant reads `D` and writes `D:chat`. On one Hocuspocus socket
//! carrying both, the server refuses the commenter's change to the text
//! (SyncStatus 0, nothing stored) and keeps the chat going.

#[path = "support/server.rs"]
mod support;

use atelier_sync::{
    Access, HocuspocusAuth, HocuspocusFrame, HocuspocusMessage, Limits, SyncMessage,
};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use support::{SECRET, TestServer, temp_dir, test_db, unique};
use tokio_tungstenite::tungstenite::Message;
use yrs::{Array, Doc, ReadTxn, StateVector, Transact};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const DEADLINE: Duration = Duration::from_secs(20);

fn chat_token(base: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64 + 3600)
        .unwrap_or(0);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "commenter", "exp": exp, "chat": [base]}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token")
}

async fn send(ws: &mut Ws, document: &str, message: HocuspocusMessage) {
    let frame = HocuspocusFrame::Message {
        document: document.to_owned(),
        message,
    };
    ws.send(Message::Binary(frame.encode().into()))
        .await
        .expect("send");
}

/// Waits for a message about `document` that `pick` accepts; panics with
/// every frame seen when the deadline passes.
async fn expect<T>(
    ws: &mut Ws,
    document: &str,
    mut pick: impl FnMut(&HocuspocusMessage) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                match HocuspocusFrame::decode(&b, &Limits::default()) {
                    Ok(HocuspocusFrame::Message {
                        document: d,
                        message,
                    }) => {
                        if d == document
                            && let Some(found) = pick(&message)
                        {
                            return found;
                        }
                        seen.push(format!("{d}: {message:?}"));
                    }
                    other => seen.push(format!("{other:?}")),
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no expected message about {document}: {other:?}; seen {seen:?}"),
        }
    }
}

fn message_update(text: &str) -> Vec<u8> {
    let doc = Doc::new();
    let chat = doc.get_or_insert_array("chat");
    chat.push_back(&mut doc.transact_mut(), text);
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commenter_chats_on_the_socket_that_refuses_their_text_edits() {
    let dir = temp_dir("chat-access");
    let server = TestServer::start(&test_db(&dir), |_| {}).await;
    let name = unique(&dir, "plan");
    let chat_name = format!("{name}:chat");
    let token = chat_token(&name);
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws("/sync"))
        .await
        .expect("connect");
    for doc in [name.as_str(), chat_name.as_str()] {
        send(
            &mut ws,
            doc,
            HocuspocusMessage::Auth(HocuspocusAuth::Token {
                token: token.clone(),
                provider_version: None,
            }),
        )
        .await;
    }
    let authenticated = |m: &HocuspocusMessage| match m {
        HocuspocusMessage::Auth(HocuspocusAuth::Authenticated { access }) => Some(*access),
        _ => None,
    };
    assert_eq!(
        expect(&mut ws, name.as_str(), authenticated).await,
        Access::ReadOnly
    );
    assert_eq!(
        expect(&mut ws, chat_name.as_str(), authenticated).await,
        Access::ReadWrite
    );
    let status = |m: &HocuspocusMessage| match m {
        HocuspocusMessage::SyncStatus { applied } => Some(*applied),
        _ => None,
    };

    // A change to the text is refused, and the socket stays open…
    send(
        &mut ws,
        name.as_str(),
        HocuspocusMessage::Sync(SyncMessage::Update(message_update("not allowed here"))),
    )
    .await;
    assert!(
        !expect(&mut ws, name.as_str(), status).await,
        "the text edit was applied"
    );
    // …for the chat, which goes on.
    send(
        &mut ws,
        chat_name.as_str(),
        HocuspocusMessage::Sync(SyncMessage::Update(message_update("bonjour"))),
    )
    .await;
    assert!(
        expect(&mut ws, chat_name.as_str(), status).await,
        "the chat message was refused"
    );

    let stored = |doc: String| {
        let rooms = server.state.rooms.clone();
        async move { rooms.store.load(&doc).await.expect("load") }
    };
    assert!(
        stored(name.clone()).await.updates.is_empty(),
        "nothing stored for the text"
    );
    let chat = stored(chat_name.clone()).await;
    assert_eq!(chat.updates.len(), 1, "the chat message is stored");
    server.stop().await;
}
