//! `cargo xtask`: build, test, replay and benchmark orchestration.
//!
//! ```text
//! cargo xtask ci [--no-browser] [STEP...]
//! cargo xtask dist [--panic-messages] [--keep-names] [--package-only]
//! cargo xtask serve [ARGS...]
//! cargo xtask replay [--block code|paragraph] FILE...
//! cargo xtask fuzz [--minutes N | --seconds S] [--execs N] [--target NAME,...] [--jobs N] [--total-seconds T] [--no-asan] [--merge] [--reseed] [--quick] [--json FILE]
//! cargo xtask reliability [--quick] [--fuzz-seconds S] [--fuzz-execs N] [--fuzz-jobs N] [--fuzz-total-seconds T] [--no-asan] [--plans N] [--kills N] [--no-fuzz] [--no-faults]
//! cargo xtask schema [--check]
//! cargo xtask bench [--quick]  (every benchmark below, then the summary)
//! cargo xtask bench summary
//! cargo xtask bench crdt [--runs N] [--only NAME[,NAME...]] [--no-wasm] [--no-yjs]
//! cargo xtask bench editor
//! cargo xtask bench size
//! cargo xtask bench ai [--runs N]
//! cargo xtask bench chat [--no-dist]
//! cargo xtask bench server [--docs N] [--seconds S] [--rates R,R...] [--quick]
//! ```
//!
//! `replay` replays editing traces (either format, gzipped or not) through
//! `atelier-doc` and exits non-zero on any mismatch or error. `bench crdt`
//! replays every trace of `$ATELIER_TRACES` natively, as wasm under Node and
//! with Yjs under Node, and writes `bench/results/crdt.{json,md}`.

mod ai_bench;
mod bench;
mod bench_mode;
mod bench_summary;
mod cargo;
mod chat_bench;
mod ci;
mod dependency_checks;
mod dist;
mod editor_bench;
mod fuzz;
mod manifest;
mod manifest_dts;
mod messages;
#[cfg(feature = "counting-alloc")]
mod native_bench;
mod node_packages;
mod npm_package;
mod precompress;
mod reliability;
mod replay;
mod schema;
mod serve;
mod server_bench;
mod size_bench;
mod trace_file;
mod wasm_build;
mod wasm_names;
mod wasm_size;

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;

// Counts heap bytes so `bench-native` reports peak and retained heap the
// same way the wasm module does; it forwards to the system allocator. Only
// in the build `bench crdt` makes for its native measurements (feature
// `counting-alloc`): every other command has no reason to pay for counting.
#[cfg(feature = "counting-alloc")]
#[global_allocator]
static ALLOC: atelier_bench_wasm::CountingAlloc = atelier_bench_wasm::CountingAlloc;

const USAGE: &str = "\
usage:
  cargo xtask ci [--no-browser] [STEP...]
      Every check CI runs, failing fast: fmt, deny (cargo-deny), unused-deps
      (cargo-machete), yrs-patches, clippy -D warnings, wasm32 build of the
      portable crates, all native tests, fuzz (every fuzz target 5 s, quick
      build), dist (the bundle, its forbidden-symbol check and size budget),
      browser and e2e tests in headless Chromium.
      Name steps to run only those. Without Chromium, or with --no-browser or
      ATELIER_NO_BROWSER=1, only browser and e2e are SKIPPED.
  cargo xtask dist [--panic-messages] [--keep-names] [--package-only]
      Builds the widget bundle into www/pkg (wasm release build with std built
      for size, wasm-bindgen, wasm-opt keeping the level smallest after brotli)
      with its custom-elements.json, and prints its sizes; writes the npm
      package @atelier/elements into target/npm/atelier-elements.
      --panic-messages keeps panic messages (debugging); --keep-names keeps
      the wasm function names (CPU profiles; neither checks the budgets);
      --package-only only rewrites custom-elements.json and the npm package
      from www/pkg.
  cargo xtask serve [ARGS...]
      Builds and runs `atelier serve ARGS` (release); the gallery and sync
      server on http://127.0.0.1:8080 with SQLite in ./data by default.
  cargo xtask replay [--block code|paragraph] FILE...
      Replays editing traces (sequential or concurrent, .json or .json.gz)
      through atelier-doc; prints format, ops, final length, time and OK or
      MISMATCH per file; exits non-zero on any mismatch or error.
  cargo xtask fuzz [--minutes N | --seconds S] [--execs N] [--target NAME,...] [--jobs N] [--total-seconds T] [--no-asan] [--merge] [--reseed] [--quick] [--json FILE]
      Builds crates/atelier-fuzz's libFuzzer binary (coverage instrumentation
      and AddressSanitizer, in target/fuzz; --no-asan: without ASan, about
      twice the executions per second, in target/fuzz-noasan) and runs every
      target, or the named ones, N minutes (default 1) or S seconds each from
      its committed corpus; --execs N runs each until it has executed N
      inputs (the time then a cap); --jobs N fuzzes N targets at a time;
      --total-seconds T bounds the whole session, each target getting at
      most its share of the time left.
      Prints executions and fails on a crash, naming the file and how
      to replay and keep it. --merge adds the inputs that reach new coverage
      to crates/atelier-fuzz/corpus; --reseed first rewrites the seeds (wire
      vectors from the npm peers, inputs from Atelier's encoders). --quick
      (CI) builds without the server's three targets, at opt-level 1, in
      target/fuzz-quick.
  cargo xtask reliability [--quick] [--fuzz-seconds S] [--fuzz-execs N] [--fuzz-jobs N] [--fuzz-total-seconds T] [--no-asan] [--plans N] [--kills N] [--no-fuzz] [--no-faults]
      The figures SECURITY.md quotes, in one run: every fuzz target S seconds
      (600) or until N executions (--fuzz-execs; S then a cap, 4 h unless
      given), --fuzz-jobs targets at a time, within --fuzz-total-seconds
      (each target its share of the time left), the seeded fault simulation with
      N plans (5,000), kill -9 under load N times (200), and the hostile input
      tables (server and text); writes bench/results/reliability.{json,md}
      (--quick: 5 s, 256 plans, 6 kills, into reliability-quick.*), fails on
      any crash, loss or accepted input. --no-fuzz / --no-faults skip the
      fuzzing / the other parts and keep their figures (and the command that
      measured them) from the previous results file.
  cargo xtask schema [--check]
      Writes www/operations.schema.json, the JSON Schema of the operations
      agents send (atelier_doc::Op); --check fails if the committed one is stale.
  cargo xtask bench [--quick]
      Every benchmark below in turn (crdt, size, editor, chat, server, ai),
      then the summary. --quick (CI) runs each tiny from dev builds, the
      server's peers included, into target/bench-quick/, so none rots and
      bench/results/ stays as measured; every benchmark also takes --quick.
  cargo xtask bench summary
      One table of every measured row (Atelier, the peer, their ratio, the
      target, met or missed) from the results files, into
      bench/results/SUMMARY.md and summary.json.
  cargo xtask bench editor
      Keystroke latency (p50/p95/p99 at start, middle, end of a 105 k and a
      1 M character document), load-to-editable time and bundle size, in
      headless Chromium; writes bench/results/editor.{json,md}.
  cargo xtask bench size
      Builds the bundle as dist does and measures where its brotli bytes go:
      each crate's marginal share of the editor wasm, and the size floor
      (atelier-size-floor: yrs, Leptos, serde_json and a WebSocket, no editor);
      writes bench/results/size.{json,md}.
  cargo xtask bench ai [--runs N]
      The embedded assistant model (fetched by scripts/fetch-model.sh when
      missing): time to first token for a 200-token prompt, cold and with the
      action's system message cached, and generated tokens/s, against the
      targets (500 ms, 50 tokens/s); writes bench/results/ai.{json,md}.
  cargo xtask bench chat [--no-dist]
      <atelier-chat> with 10,000 messages in headless Chromium through atelier
      serve: open-to-painted time, scroll frame p99, send-to-painted-on-another-
      page p50/p99, against the targets (150 ms, 16 ms, 100 ms); writes
      bench/results/chat.{json,md}. --no-dist measures www/pkg as it is.
  cargo xtask bench server [--docs N] [--seconds S] [--rates R,R...] [--quick]
      atelier serve on one node, then on three sharing PostgreSQL and Redis
      (their own instances, started by scripts/postgres.sh and redis.sh):
      N documents (1,000) with a y-websocket writer and reader each, rate
      steps in updates/s; delivery p50/p99, capacity at p99 <= 50 ms and CPU
      per process; writes bench/results/server.{json,md}.
  cargo xtask bench crdt [--runs N] [--only NAME,...] [--no-wasm] [--no-yjs]
      Replays every trace in $ATELIER_TRACES (default ../shared/data/editing-traces
      beside the workspace) natively, as wasm under Node and with Yjs under Node;
      writes bench/results/crdt.json and bench/results/crdt.md. N (default 5, or
      $ATELIER_BENCH_RUNS) is the number of timed runs per trace and engine.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode> {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return Ok(ExitCode::FAILURE);
    };
    match command.as_str() {
        "ci" => ci::run(rest),
        "serve" => serve::run(rest),
        "dist" => dist::run(rest),
        "replay" => replay::run(rest),
        "fuzz" => fuzz::run(rest),
        "reliability" => reliability::run(rest),
        "schema" => schema::run(rest),
        "bench" => match rest.split_first() {
            Some((what, rest)) if what == "crdt" => bench::run(rest),
            Some((what, rest)) if what == "editor" => editor_bench::run(rest),
            Some((what, rest)) if what == "size" => size_bench::run(rest),
            Some((what, rest)) if what == "ai" => ai_bench::run(rest),
            Some((what, rest)) if what == "chat" => chat_bench::run(rest),
            Some((what, rest)) if what == "server" => server_bench::run(rest),
            Some((what, _)) if what == "summary" => {
                bench_summary::write(&workspace_root()?.join("bench/results"))?;
                Ok(ExitCode::SUCCESS)
            }
            None => bench_summary::run_all(&[]),
            Some((what, _)) if what == "--quick" => bench_summary::run_all(rest),
            _ => bail!(
                "unknown benchmark; try `cargo xtask bench`, `bench summary`, `bench crdt`, `bench editor` or `bench size`\n{USAGE}"
            ),
        },
        // Internal: one native measurement in a fresh process (see bench.rs).
        "bench-native" => bench_native(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

#[cfg(feature = "counting-alloc")]
fn bench_native(args: &[String]) -> Result<ExitCode> {
    native_bench::run(args)
}

#[cfg(not(feature = "counting-alloc"))]
fn bench_native(_args: &[String]) -> Result<ExitCode> {
    bail!(
        "bench-native counts heap bytes with a global allocator this build does not have: \
         build xtask with `--features counting-alloc` (`cargo xtask bench crdt` does)"
    )
}

/// The workspace root (two levels above this crate).
pub(crate) fn workspace_root() -> Result<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = here
        .ancestors()
        .nth(2)
        .context("xtask is not inside a workspace")?;
    Ok(root.to_path_buf())
}

/// Parses the value of a numeric option.
pub(crate) fn parse_count(flag: &str, value: Option<&String>) -> Result<usize> {
    let value = value.with_context(|| format!("{flag} needs a value"))?;
    let n: usize = value
        .parse()
        .with_context(|| format!("{flag} expects a positive integer, not {value:?}"))?;
    if n == 0 {
        bail!("{flag} must be at least 1");
    }
    Ok(n)
}
