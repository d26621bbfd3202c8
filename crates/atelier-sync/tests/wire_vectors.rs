//! Byte-for-byte agreement with the real npm packages.
//!
//! `peers/protocol-vectors.mjs` prints vectors made by `lib0`, `y-protocols`,
//! `@hocuspocus/common`, `@hocuspocus/server` and live traffic between real
//! Hocuspocus and y-websocket peers, each with a description of how the
//! JavaScript readers see it. Every vector must decode with our codec to
//! the same description and re-encode to the same bytes.
//!
//! Without `node` or `peers/node_modules` the test prints `SKIPPED:` with the
//! reason and passes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use atelier_sync::{
    AwarenessUpdate, HocuspocusAuth, HocuspocusFrame, HocuspocusMessage, Limits, SyncMessage,
    YwsAuth, YwsMessage,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    framing: String,
    bytes: String,
    expect: Value,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the Node script, or explains why it cannot run.
fn load_vectors() -> Result<Vec<Vector>, String> {
    let root = workspace_root();
    if !root.join("peers/node_modules/@hocuspocus/server").is_dir() {
        return Err("peers/node_modules is missing (run `npm ci` in peers/)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Err("`node` is not on PATH".into()),
    }
    let out = Command::new("node")
        .arg("peers/protocol-vectors.mjs")
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    assert!(
        out.status.success(),
        "peers/protocol-vectors.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors: Vec<Vector> =
        serde_json::from_slice(&out.stdout).expect("protocol-vectors.mjs prints a JSON array");
    Ok(vectors)
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(BASE64.encode(bytes))
}

fn describe_sync(sync: &SyncMessage) -> Value {
    match sync {
        SyncMessage::Step1(sv) => json!({"sync": "step1", "payload": b64(sv.as_bytes())}),
        SyncMessage::Step2(u) => json!({"sync": "step2", "payload": b64(u)}),
        SyncMessage::Update(u) => json!({"sync": "update", "payload": b64(u)}),
    }
}

fn describe_awareness(update: &AwarenessUpdate) -> Value {
    Value::Array(
        update
            .entries
            .iter()
            .map(|e| json!({"client": e.client_id, "clock": e.clock, "state": e.state}))
            .collect(),
    )
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

fn describe_yws(message: &YwsMessage) -> Value {
    match message {
        YwsMessage::Sync(sync) => merge(json!({"type": "sync"}), describe_sync(sync)),
        YwsMessage::Awareness(update) => {
            json!({"type": "awareness", "entries": describe_awareness(update)})
        }
        YwsMessage::Auth(YwsAuth::PermissionDenied { reason }) => {
            json!({"type": "auth", "auth": "permission-denied", "reason": reason})
        }
        YwsMessage::Auth(YwsAuth::Granted) => json!({"type": "auth", "auth": "granted"}),
        YwsMessage::QueryAwareness => json!({"type": "query-awareness"}),
    }
}

fn describe_hocuspocus(frame: &HocuspocusFrame) -> Value {
    let (document, message) = match frame {
        HocuspocusFrame::Ping => return json!({"type": "ping"}),
        HocuspocusFrame::Pong => return json!({"type": "pong"}),
        HocuspocusFrame::Message { document, message } => (document, message),
    };
    let body = match message {
        HocuspocusMessage::Sync(sync) => merge(json!({"type": "sync"}), describe_sync(sync)),
        HocuspocusMessage::SyncReply(sync) => {
            merge(json!({"type": "sync-reply"}), describe_sync(sync))
        }
        HocuspocusMessage::Awareness(update) => {
            json!({"type": "awareness", "entries": describe_awareness(update)})
        }
        HocuspocusMessage::Auth(auth) => match auth {
            HocuspocusAuth::Token {
                token,
                provider_version,
            } => {
                json!({"type": "auth", "auth": "token", "token": token, "providerVersion": provider_version})
            }
            HocuspocusAuth::TokenRequest => json!({"type": "auth", "auth": "token-request"}),
            HocuspocusAuth::PermissionDenied { reason } => {
                json!({"type": "auth", "auth": "permission-denied", "reason": reason})
            }
            HocuspocusAuth::Authenticated { access } => {
                json!({"type": "auth", "auth": "authenticated", "scope": access.scope()})
            }
        },
        HocuspocusMessage::QueryAwareness => json!({"type": "query-awareness"}),
        HocuspocusMessage::Stateless(payload) => json!({"type": "stateless", "payload": payload}),
        HocuspocusMessage::BroadcastStateless(payload) => {
            json!({"type": "broadcast-stateless", "payload": payload})
        }
        HocuspocusMessage::Close { reason } => json!({"type": "close", "reason": reason}),
        HocuspocusMessage::SyncStatus { applied } => {
            json!({"type": "sync-status", "applied": applied})
        }
    };
    merge(json!({"document": document}), body)
}

/// A coarse kind for coverage: type, plus sub-type where there is one.
fn kind(framing: &str, expect: &Value) -> String {
    let field = |k: &str| expect.get(k).map(|v| v.to_string()).unwrap_or_default();
    let extra = match expect.get("type").and_then(Value::as_str) {
        Some("sync" | "sync-reply") => field("sync"),
        Some("auth") => field("auth"),
        Some("sync-status") => field("applied"),
        Some("close") => (!expect["reason"].is_null()).to_string(),
        _ => String::new(),
    };
    format!("{framing}:{}:{}", field("type"), extra).replace('"', "")
}

#[test]
fn npm_vectors_decode_to_the_same_fields_and_reencode_identically() {
    let vectors = match load_vectors() {
        Ok(v) => v,
        Err(reason) => {
            println!("SKIPPED: wire_vectors ({reason})");
            return;
        }
    };
    let limits = Limits::default();
    let mut kinds = BTreeSet::new();
    for v in &vectors {
        let bytes = BASE64.decode(&v.bytes).expect("base64 from the script");
        let (described, reencoded) = match v.framing.as_str() {
            "ywebsocket" => {
                let message = YwsMessage::decode(&bytes, &limits)
                    .unwrap_or_else(|e| panic!("{}: {e}", v.name));
                (describe_yws(&message), message.encode())
            }
            "hocuspocus" => {
                let frame = HocuspocusFrame::decode(&bytes, &limits)
                    .unwrap_or_else(|e| panic!("{}: {e}", v.name));
                (describe_hocuspocus(&frame), frame.encode())
            }
            other => panic!("{}: unknown framing {other}", v.name),
        };
        assert_eq!(described, v.expect, "{}: decoded fields differ", v.name);
        assert_eq!(reencoded, bytes, "{}: re-encoding differs", v.name);
        kinds.insert(kind(&v.framing, &v.expect));
    }
    println!("{} npm vectors agree", vectors.len());
    let required = [
        "ywebsocket:sync:step1",
        "ywebsocket:sync:step2",
        "ywebsocket:sync:update",
        "ywebsocket:awareness:",
        "ywebsocket:auth:permission-denied",
        "ywebsocket:query-awareness:",
        "hocuspocus:sync:step1",
        "hocuspocus:sync:step2",
        "hocuspocus:sync:update",
        "hocuspocus:sync-reply:step1",
        "hocuspocus:awareness:",
        "hocuspocus:auth:token",
        "hocuspocus:auth:token-request",
        "hocuspocus:auth:permission-denied",
        "hocuspocus:auth:authenticated",
        "hocuspocus:query-awareness:",
        "hocuspocus:stateless:",
        "hocuspocus:broadcast-stateless:",
        "hocuspocus:close:true",
        "hocuspocus:close:false",
        "hocuspocus:sync-status:true",
        "hocuspocus:sync-status:false",
        "hocuspocus:ping:",
        "hocuspocus:pong:",
    ];
    for k in required {
        assert!(kinds.contains(k), "no vector of kind {k}; have {kinds:?}");
    }
}

#[test]
fn every_truncation_of_every_vector_is_an_error() {
    let vectors = match load_vectors() {
        Ok(v) => v,
        Err(reason) => {
            println!("SKIPPED: wire_vectors truncations ({reason})");
            return;
        }
    };
    let limits = Limits::default();
    for v in &vectors {
        let bytes = BASE64.decode(&v.bytes).expect("base64 from the script");
        for end in 0..bytes.len() {
            let prefix = &bytes[..end];
            match v.framing.as_str() {
                "ywebsocket" => assert!(
                    YwsMessage::decode(prefix, &limits).is_err(),
                    "{}: prefix of {end} bytes decoded",
                    v.name
                ),
                _ => match HocuspocusFrame::decode(prefix, &limits) {
                    Err(_) => {}
                    // Only these messages can be a prefix of a longer one:
                    // Close without a reason (provider) of Close with one
                    // (server), the server's token request of a client's
                    // token, a Hocuspocus 3 token of a 4.x token with its
                    // provider version, and a one-byte keep-alive of anything.
                    Ok(HocuspocusFrame::Ping | HocuspocusFrame::Pong) => {}
                    Ok(HocuspocusFrame::Message {
                        message:
                            HocuspocusMessage::Close { reason: None }
                            | HocuspocusMessage::Auth(
                                HocuspocusAuth::TokenRequest
                                | HocuspocusAuth::Token {
                                    provider_version: None,
                                    ..
                                },
                            ),
                        ..
                    }) => {}
                    Ok(other) => panic!("{}: prefix of {end} bytes decoded as {other:?}", v.name),
                },
            }
        }
    }
}
