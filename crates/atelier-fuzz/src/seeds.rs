//! The corpus's starting inputs: bytes the real peers sent (the wire
//! vectors `peers/protocol-vectors.mjs` records from yjs, y-protocols,
//! Hocuspocus and y-websocket) and inputs made with Atelier's own
//! encoders, which speak the same formats. `cargo xtask fuzz --reseed`
//! writes them under `corpus/`; libFuzzer then adds what it finds.

use crate::doc_targets::AGENT_DOC;
use crate::join_frames;

use atelier_ai::chat_stream::ChunkWriter;
use atelier_ai::vercel::UiStreamWriter;
use atelier_doc::Document;
use atelier_sync::{AwarenessEntry, AwarenessUpdate};
use atelier_web::tab_message::TabMessage;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One starting input of one target.
pub struct Seed {
    /// The target's name.
    pub target: &'static str,
    /// The file name (without directory).
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
}

fn seed(target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.into(),
        bytes: bytes.into(),
    }
}

/// Seeds from the wire vectors' JSON (`[{name, framing, bytes}]`, bytes in
/// base64): each frame alone for its framing's server target and for the
/// client target, and each framing's frames in one connection.
pub fn from_wire_vectors(json: &str) -> Result<Vec<Seed>, String> {
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("wire vectors: {e}"))?;
    let mut out = Vec::new();
    let mut by_framing: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    for v in &vectors {
        let (Some(name), Some(framing), Some(b64)) = (
            v["name"].as_str(),
            v["framing"].as_str(),
            v["bytes"].as_str(),
        ) else {
            return Err(format!("a wire vector lacks name, framing or bytes: {v}"));
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| format!("wire vector {name}: {e}"))?;
        let file: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let (target, slot, pick) = match framing {
            "hocuspocus" => ("server_hocuspocus", 1, 1u8),
            _ => ("server_ywebsocket", 0, 0u8),
        };
        out.push(seed(target, format!("peer-{file}"), bytes.clone()));
        let mut client = vec![pick];
        client.extend_from_slice(&bytes);
        out.push(seed("client_frames", format!("peer-{file}"), client));
        by_framing[slot].push(bytes);
    }
    for (slot, target) in [(0, "server_ywebsocket"), (1, "server_hocuspocus")] {
        let frames = &by_framing[slot];
        if !frames.is_empty() {
            out.push(seed(
                target,
                "peer-all-frames",
                join_frames(frames.iter().map(Vec::as_slice)),
            ));
        }
    }
    Ok(out)
}

/// Seeds made with Atelier's own encoders and hostile-input lists.
pub fn made_here() -> Vec<Seed> {
    let mut out = Vec::new();

    // Documents and their updates (what yrs writes is what Yjs reads).
    let doc = Document::new();
    let _ = atelier_doc::markdown::import(&doc, AGENT_DOC);
    let state = doc.encode_state_v1();
    let sv = doc.state_vector_v1();
    let more = Document::new();
    let _ = more.apply_update_v1(&state);
    let _ =
        atelier_doc::markdown::import(&more, "> quoted *text* with a [link](https://example.org)");
    let diff = more.diff_v1(&sv).unwrap_or_default();
    out.push(seed("update_v1", "document-state", state.clone()));
    out.push(seed(
        "update_v1",
        "state-then-diff",
        join_frames([state.as_slice(), diff.as_slice()]),
    ));
    out.push(seed(
        "idb_records",
        "log-of-two",
        join_frames([state.as_slice(), diff.as_slice()]),
    ));
    out.push(seed(
        "idb_records",
        "diff-before-state",
        join_frames([diff.as_slice(), state.as_slice()]),
    ));

    // Awareness and state vectors.
    let awareness = AwarenessUpdate {
        entries: vec![
            AwarenessEntry {
                client_id: 7,
                clock: 3,
                state: r##"{"user":{"name":"Ana","color":"#30bced"},"cursor":null}"##.into(),
            },
            AwarenessEntry {
                client_id: 9,
                clock: 1,
                state: "null".into(),
            },
        ],
    }
    .encode();
    out.push(seed("awareness", "two-clients", awareness.clone()));
    out.push(seed("awareness", "state-vector", sv.clone()));

    // Cross-tab records.
    let tab: Vec<Vec<u8>> = [
        TabMessage::Hello(sv.clone()),
        TabMessage::Update(state.clone()),
        TabMessage::Step1(sv.clone()),
        TabMessage::Awareness(awareness.clone()),
    ]
    .iter()
    .filter_map(|m| m.encode("notes").ok())
    .collect();
    out.push(seed(
        "tab_message",
        "a-tab-session",
        join_frames(tab.iter().map(Vec::as_slice)),
    ));

    // Text formats, with hostile inputs from the public XSS lists' kinds.
    let markdown = [
        (
            "headings-lists",
            "# T\n\n## U\n\n- a\n  - b\n1. c\n- [ ] task\n\n> q\n\n```rust\nfn x() {}\n```\n",
        ),
        (
            "marks-links",
            "**b** *i* ~~s~~ `c` [l](https://e.org) ![img](https://e.org/a.png)",
        ),
        (
            "javascript-link",
            "[x](javascript:alert(1)) [y]( JaVaScRiPt:alert(1)) <javascript:alert(1)>",
        ),
        (
            "raw-html",
            "<script>alert(1)</script><img src=x onerror=alert(1)>\n\n<iframe src=//e>",
        ),
        (
            "table",
            "| a | b |\n|---|---|\n| [x](data:text/html,1) | 2 |\n",
        ),
        ("deep-nesting", &"> ".repeat(200)),
    ];
    for (name, text) in markdown {
        out.push(seed("markdown", name, text));
        out.push(seed("chat_message", name, text));
    }
    let html = [
        (
            "paragraphs",
            "<h1>T</h1><p>a <b>b</b> <i>i</i> <a href=\"https://e.org\">l</a></p><ul><li>x<ul><li>y</li></ul></li></ul>",
        ),
        (
            "script",
            "<p>a</p><script>alert(1)</script><style>p{}</style>",
        ),
        (
            "event-handlers",
            "<img src=x onerror=alert(1)><svg onload=alert(1)><body onload=alert(1)>",
        ),
        (
            "javascript-href",
            "<a href=\"jav&#x09;ascript:alert(1)\">x</a><a href=\" javascript:alert(1)\">y</a><a href=\"data:text/html;base64,PHNjcmlwdD4=\">z</a>",
        ),
        (
            "mso-word",
            "<p class=MsoNormal><span style='mso-list:Ignore'>1.</span>x</p><!--[if gte mso 9]><xml></xml><![endif]-->",
        ),
        (
            "table-pre",
            "<table><tr><td>a</td><td><a href=vbscript:x>b</a></td></tr></table><pre>code\n  kept</pre>",
        ),
    ];
    for (name, text) in html {
        out.push(seed("html_paste", name, text));
    }
    let ops = [
        (
            "insert-delete",
            r#"[{"op":"insertText","block":"b","offset":2,"text":"é"},{"op":"deleteText","block":"a","offset":0,"len":1}]"#,
        ),
        (
            "format-link",
            r#"[{"op":"format","block":"b","offset":0,"len":3,"marks":{"bold":true,"link":"https://e.org"}}]"#,
        ),
        (
            "insert-blocks",
            r#"[{"op":"insertBlocks","at":{"at":"end"},"blocks":[{"type":"paragraph","content":[{"text":"x"}]}]}]"#,
        ),
        (
            "move-split-merge",
            r#"[{"op":"moveBlock","block":"d","to":{"at":"start"}},{"op":"splitBlock","block":"b","offset":3},{"op":"mergeWithPrevious","block":"c"}]"#,
        ),
        (
            "hostile-props",
            r#"[{"op":"updateBlock","block":"a","props":{"onclick":"x"}},{"op":"setContent","block":"b","content":[{"text":"x","marks":{"link":"javascript:alert(1)"}}]}]"#,
        ),
    ];
    for (name, text) in ops {
        out.push(seed("agent_ops", name, text));
    }

    #[cfg(feature = "server")]
    out.extend(server_seeds(&state, &awareness));

    // Model streams, cut into chunks where a network would cut them.
    let w = ChunkWriter::new("chatcmpl-1", "smollm2", 1_700_000_000);
    let openai = [
        w.role(),
        w.text("Bonjour "),
        w.text("à tous"),
        w.tool_call_start(0, "call_1", "edit_document"),
        w.tool_call_arguments(0, r#"{"ops":["#),
        w.tool_call_arguments(0, "]}"),
        w.finish("stop"),
        ChunkWriter::done(),
    ]
    .concat();
    let (a, b) = openai.as_bytes().split_at(openai.len() / 3);
    out.push(seed("ai_stream", "openai", join_frames([a, b])));
    let ui = UiStreamWriter;
    let vercel = [
        ui.start(),
        ui.start_step(),
        ui.text_start("t"),
        ui.text_delta("t", "Bonjour"),
        ui.text_end("t"),
        ui.finish_step(),
        ui.finish(Some("stop")),
        ui.done(),
    ]
    .concat();
    out.push(seed("ai_stream", "vercel-ui", vercel));
    out.push(seed(
        "ai_stream",
        "error-event",
        ChunkWriter::error("overloaded", "server_error"),
    ));
    out
}

/// Seeds of the server's targets: tokens, keys and fan-out messages.
#[cfg(feature = "server")]
fn server_seeds(state: &[u8], awareness: &[u8]) -> Vec<Seed> {
    use crate::server_targets::{FUZZ_AUDIENCE, FUZZ_JWKS, FUZZ_SECRET};
    use atelier_server::fanout::{Envelope, Kind};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// A signed HS256 token with these claims (header and payload as given).
    fn hs256(header: &str, claims: &str) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = jsonwebtoken::EncodingKey::from_secret(FUZZ_SECRET.as_bytes());
        let signature = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &key,
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap_or_default();
        format!("{signing_input}.{signature}")
    }

    let mut out = Vec::new();
    // Tokens and keys.
    let future =
        format!(r#"{{"sub":"ana","aud":"{FUZZ_AUDIENCE}","exp":4102444800,"write":["*"]}}"#);
    out.push(seed(
        "jwt",
        "hs256-valid",
        hs256(r#"{"alg":"HS256","typ":"JWT"}"#, &future),
    ));
    out.push(seed(
        "jwt",
        "hs256-expired",
        hs256(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":"ana","aud":"atelier","exp":1}"#,
        ),
    ));
    out.push(seed(
        "jwt",
        "hs256-other-audience",
        hs256(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":"ana","aud":"x","exp":4102444800}"#,
        ),
    ));
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(&future)
    );
    out.push(seed("jwt", "alg-none", none));
    let es = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"fuzz-es256"}"#),
        URL_SAFE_NO_PAD.encode(&future),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    out.push(seed("jwt", "es256-forged", es));
    out.push(seed("jwks", "es256", FUZZ_JWKS));
    out.push(seed("jwks", "rsa-and-enc", r#"{"keys":[{"kty":"RSA","kid":"r","alg":"RS256","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}"#));
    out.push(seed("jwks", "empty", r#"{"keys":[]}"#));

    // Fan-out messages.
    for (name, kind, payload) in [
        ("update", Kind::Update, state.to_vec()),
        ("awareness", Kind::Awareness, awareness.to_vec()),
        ("hint", Kind::Hint, Vec::new()),
        ("query", Kind::Query, Vec::new()),
    ] {
        let envelope = Envelope {
            kind,
            node: 42,
            sent_us: 1_700_000_000_000_000,
            seq: 17,
            payload,
        };
        out.push(seed("fanout_envelope", name, envelope.encode()));
    }

    out
}
