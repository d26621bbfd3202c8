//! Replays the real editing traces of `josephg/editing-traces` (every
//! sequential trace and the concurrent one) through the document model and
//! checks each ends at its `endContent`.
//!
//! The traces are read from `$ATELIER_TRACES`, by default
//! `../shared/data/editing-traces` beside the workspace, gzipped (decoded with
//! `flate2`). When the directory or a trace is missing, each affected trace
//! prints `SKIPPED: <name> (reason)` on stderr (not captured by the test
//! harness) instead of passing silently.

use atelier_doc::trace::{ReplayOptions, Trace, TraceKind, replay, replay_naive};
use std::io::Write;
use std::path::{Path, PathBuf};

fn traces_dir() -> PathBuf {
    match std::env::var_os("ATELIER_TRACES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/editing-traces"),
    }
}

/// Prints a line the test harness does not capture.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The trace's JSON, or `None` after printing why `label` is skipped.
fn load(label: &str, name: &str, sub: &str) -> Option<Vec<u8>> {
    let dir = traces_dir();
    if !dir.is_dir() {
        say(&format!(
            "SKIPPED: {label} (no trace directory at {}; set ATELIER_TRACES)",
            dir.display()
        ));
        return None;
    }
    let gz = dir.join(sub).join(format!("{name}.json.gz"));
    let plain = dir.join(sub).join(format!("{name}.json"));
    if plain.is_file() {
        return match std::fs::read(&plain) {
            Ok(bytes) => Some(bytes),
            Err(e) => panic!("cannot read {}: {e}", plain.display()),
        };
    }
    if !gz.is_file() {
        say(&format!("SKIPPED: {label} ({} not found)", gz.display()));
        return None;
    }
    let file =
        std::fs::File::open(&gz).unwrap_or_else(|e| panic!("cannot open {}: {e}", gz.display()));
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut json)
        .unwrap_or_else(|e| panic!("cannot decompress {}: {e}", gz.display()));
    Some(json)
}

/// Replays a trace fully and asserts its end content.
fn replay_fully(name: &str, sub: &str, kind: TraceKind) {
    let Some(json) = load(name, name, sub) else {
        return;
    };
    let trace = Trace::from_json_slice(&json).expect("trace parses");
    assert_eq!(trace.kind(), kind, "{name}");
    let started = std::time::Instant::now();
    let done = replay(&trace, &ReplayOptions::default()).expect("replay succeeds");
    if let Some(m) = done.mismatch(trace.end_content()) {
        panic!("{name}: {m}");
    }
    say(&format!(
        "replayed {name}: {} patches, {} scalars, {:.1?}",
        done.stats.patches,
        done.stats.final_scalar_len,
        started.elapsed()
    ));
}

#[test]
fn automerge_paper() {
    replay_fully("automerge-paper", "sequential", TraceKind::Sequential);
}

#[test]
fn seph_blog1() {
    replay_fully("seph-blog1", "sequential", TraceKind::Sequential);
}

#[test]
fn rustcode() {
    replay_fully("rustcode", "sequential", TraceKind::Sequential);
}

#[test]
fn sveltecomponent() {
    replay_fully("sveltecomponent", "sequential", TraceKind::Sequential);
}

#[test]
fn friendsforever_flat() {
    replay_fully("friendsforever_flat", "sequential", TraceKind::Sequential);
}

#[test]
fn friendsforever_concurrent() {
    replay_fully("friendsforever", "concurrent", TraceKind::Concurrent);
}

/// The concurrent trace and its linearised twin end at the same text.
#[test]
fn concurrent_and_flat_friendsforever_agree() {
    let label = "friendsforever vs friendsforever_flat";
    let Some(c) = load(label, "friendsforever", "concurrent") else {
        return;
    };
    let Some(s) = load(label, "friendsforever_flat", "sequential") else {
        return;
    };
    let c = Trace::from_json_slice(&c).expect("concurrent parses");
    let Trace::Sequential(s) = Trace::from_json_slice(&s).expect("flat parses") else {
        panic!("friendsforever_flat is not sequential")
    };
    assert_eq!(c.end_content(), s.end_content);
    assert_eq!(replay_naive(&s, None).expect("naive"), s.end_content);
}
