//! Atelier's fuzz targets: one per entry point that takes bytes from
//! outside the process. Each target is a plain function that must never
//! panic on any input, and checks what the entry point promises (for
//! example, a pasted page never yields a `javascript:` link; a token with
//! `alg: none` is never accepted).
//!
//! Three ways to run them:
//! - `cargo xtask fuzz --minutes N [--target NAME]` builds `src/main.rs`
//!   with libFuzzer's coverage instrumentation and runs every target (or
//!   one) from its committed corpus (`corpus/NAME/`), reporting executions
//!   and crashes;
//! - `cargo test -p atelier-fuzz` replays every committed corpus file and
//!   every kept crash (`regressions/NAME/`) through the same functions, so a
//!   fixed crash stays fixed;
//! - a crash file from libFuzzer is replayed by
//!   `ATELIER_FUZZ_INPUT=FILE cargo test -p atelier-fuzz --test corpus -- one_input`.
//!
//! ```
//! let markdown = atelier_fuzz::target("markdown").expect("a target");
//! (markdown.run)(b"# A heading with [a link](javascript:alert(1))");
//! ```

mod ai_targets;
mod browser_targets;
mod doc_targets;
pub mod seeds;
#[cfg(feature = "server")]
mod server_targets;
mod sync_targets;

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name: the corpus directory and `--target` value.
    pub name: &'static str,
    /// The entry point it drives.
    pub about: &'static str,
    /// Runs one input; panics only on a bug.
    pub run: fn(&[u8]),
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "server_ywebsocket",
        about: "y-websocket frames (sync, awareness, auth) into a server session and its documents",
        run: sync_targets::server_ywebsocket,
    },
    Target {
        name: "server_hocuspocus",
        about: "Hocuspocus frames (auth, sync, awareness, stateless, close) into a server session and its documents",
        run: sync_targets::server_hocuspocus,
    },
    Target {
        name: "client_frames",
        about: "frames from a server into a browser's client session (both framings), applied to its document",
        run: sync_targets::client_frames,
    },
    Target {
        name: "update_v1",
        about: "a Yjs v1 update checked and applied to a rich-text document (yrs' decoder included)",
        run: sync_targets::update_v1,
    },
    Target {
        name: "awareness",
        about: "awareness updates and state vectors decoded and merged",
        run: sync_targets::awareness,
    },
    Target {
        name: "tab_message",
        about: "a cross-tab BroadcastChannel record, decoded and applied as the tab driver does",
        run: browser_targets::tab_message,
    },
    Target {
        name: "idb_records",
        about: "a document's IndexedDB log read back into a document",
        run: browser_targets::idb_records,
    },
    Target {
        name: "markdown",
        about: "Markdown import into a document, and its export read back",
        run: doc_targets::markdown,
    },
    Target {
        name: "html_paste",
        about: "pasted HTML sanitized into blocks; the document's HTML export keeps no markup or unsafe link",
        run: doc_targets::html_paste,
    },
    Target {
        name: "agent_ops",
        about: "an agent's JSON operations applied to a document, all or nothing",
        run: doc_targets::agent_ops,
    },
    Target {
        name: "chat_message",
        about: "a chat message body parsed into blocks",
        run: doc_targets::chat_message,
    },
    #[cfg(feature = "server")]
    Target {
        name: "jwt",
        about: "a bearer token verified against an HS256 secret and a JWKS; alg none is never accepted",
        run: server_targets::jwt,
    },
    #[cfg(feature = "server")]
    Target {
        name: "jwks",
        about: "a JWKS document from an OIDC provider parsed into keys",
        run: server_targets::jwks,
    },
    #[cfg(feature = "server")]
    Target {
        name: "fanout_envelope",
        about: "a message from another server node (Redis fan-out) decoded",
        run: server_targets::fanout_envelope,
    },
    Target {
        name: "ai_stream",
        about: "an OpenAI-compatible streaming response and a Docs (Vercel AI) stream, in arbitrary chunks",
        run: ai_targets::ai_stream,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Separates the frames of one input for the targets that take several
/// (a connection's frames, a log's records). Four bytes a Yjs message is
/// unlikely to hold, so a mutation rarely splits a frame by accident.
pub const FRAME_SEPARATOR: &[u8] = b"\xF5\xF4\xF3\xF2";

/// The frames of `data`, split at [`FRAME_SEPARATOR`].
pub fn frames(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(FRAME_SEPARATOR.len())
        .position(|w| w == FRAME_SEPARATOR)
    {
        out.push(&rest[..at]);
        rest = &rest[at + FRAME_SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

/// Joins `frames` into one input (the inverse of [`frames`]).
pub fn join_frames<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(FRAME_SEPARATOR);
        }
        out.extend_from_slice(f);
    }
    out
}

/// `data` as text, lossily (the text targets take any bytes).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_join_back() {
        let parts: [&[u8]; 3] = [b"a", b"", b"bc"];
        let joined = join_frames(parts);
        assert_eq!(frames(&joined), parts.to_vec());
        assert_eq!(frames(b"plain"), vec![&b"plain"[..]]);
    }

    #[test]
    fn target_names_are_unique() {
        let mut names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
    }
}
