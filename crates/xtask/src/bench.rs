//! `cargo xtask bench crdt`: every trace replayed natively, as wasm under
//! Node and with Yjs under Node, in one run; results in
//! `bench/results/crdt.json` and `bench/results/crdt.md`.
//!
//! Each measurement runs in a fresh process (the native one in a release
//! build of xtask, `xtask bench-native`), so one trace's memory does not
//! leak into the next one's figure. Engines are compared on the same work:
//! the trace's text in one `Y.XmlText` inside BlockNote's
//! `document-store > blockGroup > blockContainer > codeBlock`, one
//! transaction per deletion or insertion, concurrent traces with one replica
//! per agent. Beside each replay, every engine also times the bulk rows of
//! issue 16: the whole sequential trace in one transaction, the final text
//! pasted in one insertion, and the load of a document holding the final
//! text 100 times (a second table in `crdt.md`).

use crate::bench_mode::Mode;
use crate::trace_file::{self, EXPECTED};
use crate::{cargo, wasm_build};
use anyhow::{Context, Result, bail};
use atelier_doc::Document;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Timed runs per trace and engine when neither `--runs` nor
/// `$ATELIER_BENCH_RUNS` says otherwise: the whole bench then takes a few
/// minutes on two cores.
const DEFAULT_RUNS: usize = 5;

/// Issue 16: one transaction or one paste takes at most this many times the
/// per-keystroke replay of the same engine.
const BULK_VS_REPLAY: f64 = 2.0;
/// Issue 16: atelier-doc loads in at most this many times Yjs's time.
const LOAD_VS_YJS: f64 = 0.5;

/// The engines, in table order.
const ENGINES: [&str; 3] = ["native", "wasm", "yjs"];

struct Options {
    mode: Mode,
    runs: usize,
    only: Option<Vec<String>>,
    wasm: bool,
    yjs: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let (mode, args) = Mode::from_args(args);
    let runs = match std::env::var("ATELIER_BENCH_RUNS") {
        Ok(v) => crate::parse_count("ATELIER_BENCH_RUNS", Some(&v))?,
        Err(_) if mode == Mode::Quick => 1,
        Err(_) => DEFAULT_RUNS,
    };
    let mut o = Options {
        mode,
        runs,
        // The quick run: one sequential trace and the concurrent one.
        only: (mode == Mode::Quick)
            .then(|| vec!["sveltecomponent".to_owned(), "friendsforever".to_owned()]),
        wasm: true,
        yjs: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => o.runs = crate::parse_count("--runs", it.next())?,
            "--only" => {
                let list = it
                    .next()
                    .context("--only needs a comma-separated list of names")?;
                o.only = Some(list.split(',').map(str::to_owned).collect());
            }
            "--no-wasm" => o.wasm = false,
            "--no-yjs" => o.yjs = false,
            other => bail!("unknown option {other:?} for `bench crdt`"),
        }
    }
    Ok(o)
}

/// Where an engine stands for this run: usable, skipped, or broken.
enum Engine {
    Ready,
    Skipped(String),
    Failed(String),
}

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let options = parse(args)?;
    let root = crate::workspace_root()?;
    let traces_dir = match std::env::var_os("ATELIER_TRACES") {
        Some(d) => PathBuf::from(d),
        None => root.join("../shared/data/editing-traces"),
    };
    let results_dir = options.mode.results_dir(&root)?;
    let mut skipped: Vec<Value> = Vec::new();
    // A partial run must not overwrite the full results (a quick one writes
    // elsewhere).
    let partial =
        options.mode == Mode::Full && (options.only.is_some() || !options.wasm || !options.yjs);
    let stem = if partial { "crdt-partial" } else { "crdt" };
    let load_before = load_average();
    let selected = |name: &str| {
        options
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    };

    if !traces_dir.is_dir() {
        let reason = format!(
            "no trace directory at {}; set ATELIER_TRACES",
            traces_dir.display()
        );
        for (_, name) in EXPECTED.iter().filter(|(_, n)| selected(n)) {
            println!("SKIPPED: {name} ({reason})");
        }
        println!("nothing measured; {} left as it was", results_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let files: Vec<PathBuf> = trace_file::discover(&traces_dir)?
        .into_iter()
        .filter(|f| selected(&trace_file::trace_name(f)))
        .collect();
    for (sub, name) in EXPECTED.iter().filter(|(_, n)| selected(n)) {
        if !files.iter().any(|f| trace_file::trace_name(f) == *name) {
            let reason = format!("not found in {}", traces_dir.join(sub).display());
            println!("SKIPPED: {name} ({reason})");
            skipped.push(json!({"name": name, "reason": reason}));
        }
    }

    let target_dir = cargo::target_dir(&root)?;
    let work = target_dir.join("bench-crdt");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let native_exe = measuring_xtask(&root, options.mode)?;
    let node = node_version();
    let mut wasm_size = 0;
    let (wasm_engine, pkg) = match (&node, options.wasm) {
        (_, false) => (Engine::Skipped("--no-wasm".into()), None),
        (Err(reason), _) => (Engine::Skipped(reason.clone()), None),
        (Ok(_), true) => match wasm_build::build(&root, &target_dir) {
            Ok((pkg, size)) => {
                wasm_size = size;
                (Engine::Ready, Some(pkg))
            }
            Err(e) => (Engine::Failed(format!("{e:#}")), None),
        },
    };
    let yjs_engine = match (&node, options.yjs) {
        (_, false) => Engine::Skipped("--no-yjs".into()),
        (Err(reason), _) => Engine::Skipped(reason.clone()),
        (Ok(_), true) => match crate::node_packages::ensure(&root, "bench", &["yjs"]) {
            Ok(_) => Engine::Ready,
            Err(e) => Engine::Skipped(format!("bench/node_modules/yjs missing: {e:#}")),
        },
    };
    for (name, engine) in [("wasm", &wasm_engine), ("yjs", &yjs_engine)] {
        match engine {
            Engine::Skipped(reason) => println!("SKIPPED: {name} engine ({reason})"),
            Engine::Failed(reason) => println!("FAILED: {name} engine ({reason})"),
            Engine::Ready => {}
        }
    }

    let bench_dir = root.join("bench/drivers");
    let mut traces = Vec::new();
    let mut failures = 0;
    for file in &files {
        let name = trace_file::trace_name(file);
        println!("== {name} ({} timed runs per engine)", options.runs);
        let native_update = work.join(format!("{name}.native.bin"));
        let yjs_update = work.join(format!("{name}.yjs.bin"));
        let native = measure(
            Command::new(&native_exe)
                .arg("bench-native")
                .args(["--runs", &options.runs.to_string()])
                .arg("--save-update")
                .arg(&native_update)
                .arg(file),
        );
        let wasm = match (&wasm_engine, &pkg) {
            (Engine::Ready, Some(pkg)) => measure(
                Command::new("node")
                    .arg("--expose-gc")
                    .arg(bench_dir.join("crdt-wasm.mjs"))
                    .arg("--pkg")
                    .arg(pkg)
                    .args(["--runs", &options.runs.to_string()])
                    .arg(file),
            ),
            (Engine::Failed(e), _) => json!({"error": e}),
            (Engine::Skipped(r), _) => json!({"skipped": r}),
            (Engine::Ready, None) => json!({"error": "the wasm module was not built"}),
        };
        let mut yjs = match &yjs_engine {
            Engine::Ready => {
                let mut cmd = Command::new("node");
                cmd.arg("--expose-gc")
                    .arg(bench_dir.join("crdt-yjs.mjs"))
                    .args(["--runs", &options.runs.to_string()])
                    .arg("--save-update")
                    .arg(&yjs_update);
                if native_update.is_file() && native.get("error").is_none() {
                    cmd.arg("--native-update").arg(&native_update);
                }
                measure(cmd.arg(file))
            }
            Engine::Skipped(r) => json!({"skipped": r}),
            Engine::Failed(e) => json!({"error": e}),
        };
        if yjs.get("ok").is_some() {
            let end = trace_file::load(file).map(|t| t.end_content().to_owned());
            yjs["yjsInNative"] =
                json!({"ok": yjs_state_loads_natively(&yjs_update, end.ok().as_deref())});
        }
        let mut engines = serde_json::Map::new();
        for (engine, mut record) in [("native", native), ("wasm", wasm), ("yjs", yjs.clone())] {
            add_ratios(&mut record, &yjs);
            if record.get("error").is_some() || record.get("ok") == Some(&Value::Bool(false)) {
                failures += 1;
            }
            println!("  {}", engine_line(engine, &record));
            engines.insert(engine.to_owned(), record);
        }
        let interop_ok = yjs.pointer("/nativeInYjs/ok") != Some(&Value::Bool(false))
            && yjs.pointer("/yjsInNative/ok") != Some(&Value::Bool(false));
        if !interop_ok {
            failures += 1;
            println!(
                "  INTEROP FAILURE: a final state did not load with the same text in the other engine"
            );
        }
        let first = ENGINES
            .iter()
            .find_map(|e| engines.get(*e).filter(|r| r.get("ops").is_some()));
        traces.push(json!({
            "name": name,
            "file": file.display().to_string(),
            "kind": first.and_then(|r| r.get("kind")).cloned().unwrap_or(Value::Null),
            "ops": first.and_then(|r| r.get("ops")).cloned().unwrap_or(Value::Null),
            "finalLen": first.and_then(|r| r.get("finalLen")).cloned().unwrap_or(Value::Null),
            "engines": engines,
        }));
    }

    let report = json!({
        "generatedAt": now_utc(),
        "loadAverage": {"before": load_before, "after": load_average()},
        "runs": options.runs,
        "tracesDir": traces_dir.display().to_string(),
        "machine": machine(&node),
        "wasmBytes": wasm_size,
        "method": {
            "structure": "text in one Y.XmlText inside document-store > blockGroup > blockContainer > codeBlock, \
                          for atelier-doc (native and wasm) and Yjs alike",
            "transactions": "one transaction per deletion or insertion of a patch",
            "concurrent": "one replica per agent; before each transaction its agent's replica receives the updates \
                           of exactly the transactions in its parents' history it lacks; finally all replicas merge \
                           into a fresh document",
            "replayMs": "median of `runs` full replays (trace parsed beforehand, not timed)",
            "updateBytes": "the final document's full state as a v1 update",
            "loadMs": "median of `runs` decodings of that update into a fresh document",
            "memory": {
                "peakHeap": "native and wasm: most heap bytes live at once during the first replay, counted by \
                             the same global allocator (atelier_bench_wasm::CountingAlloc); wasm pointers are \
                             32-bit, native ones 64-bit",
                "retained": "heap still held after the first replay with the final document alive: counted \
                             bytes for native and wasm (first replay); for Yjs V8 heapUsed after GC minus before \
                             (--expose-gc), median over the runs",
                "nativeRss": "native records also carry peakRssDeltaBytes: VmHWM (reset through \
                              /proc/self/clear_refs) minus VmRSS before the replay",
            },
            "ratios": "engine figure divided by Yjs's (below 1: less time or fewer bytes than Yjs)",
            "bulk": {
                "oneTxn": "sequential traces only: every patch of the trace inside ONE transaction \
                           (same block, same edits, same scalar-to-UTF-16 conversion); median of `runs`",
                "paste": "the trace's final text inserted in one call into the empty text of a fresh \
                          block (one transaction); median of `runs`",
                "repeatedLoad": "a document whose block holds the final text 100 times, written as 100 \
                                 insertions at the end by each engine itself, encoded as a v1 update \
                                 (untimed), then decoded into a fresh document; median of `runs`",
                "targets": "issue 16: one transaction or one paste ≤ 2× the same engine's per-keystroke \
                            replay; load of the final document and of the ×100 document ≤ 0.5× Yjs",
            },
        },
        "traces": traces,
        "skipped": skipped,
    });
    write_results(&results_dir, stem, &report)?;
    println!(
        "wrote {} and {}",
        results_dir.join(format!("{stem}.json")).display(),
        results_dir.join(format!("{stem}.md")).display()
    );
    if failures > 0 {
        eprintln!("{failures} measurement(s) failed or mismatched");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The build of xtask with the counting allocator that runs native
/// measurements: release for the full run (debug yrs is ~10× slower),
/// ourselves when already such a build; dev for the quick run.
fn measuring_xtask(root: &Path, mode: Mode) -> Result<PathBuf> {
    if mode == Mode::Full && !cfg!(debug_assertions) && cfg!(feature = "counting-alloc") {
        return std::env::current_exe().context("cannot locate the running xtask");
    }
    eprintln!(
        "building xtask ({}, counting allocator) for the native measurements…",
        mode.profile_dir()
    );
    let mut args = mode.cargo_profile().to_vec();
    args.extend([
        "-p",
        "xtask",
        "--bin",
        "xtask",
        "--features",
        "counting-alloc",
    ]);
    let files = cargo::build(root, &args, "xtask")?;
    files
        .into_iter()
        .find(|f| f.file_stem().is_some_and(|s| s == "xtask") && f.extension().is_none())
        .context("the build produced no xtask executable")
}

fn node_version() -> Result<String, String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Ok(_) => Err("`node --version` failed".into()),
        Err(e) => Err(format!("node is not installed or not on PATH: {e}")),
    }
}

/// Runs one measuring process; its last stdout line is the JSON record.
fn measure(cmd: &mut Command) -> Value {
    let out = match cmd.stderr(Stdio::inherit()).output() {
        Ok(out) => out,
        Err(e) => return json!({"error": format!("cannot start {cmd:?}: {e}")}),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    match (
        out.status.success(),
        last.map(serde_json::from_str::<Value>),
    ) {
        (true, Some(Ok(v))) => v,
        (ok, parsed) => json!({"error": format!(
            "measurement {} (exit {:?}); output: {}",
            if ok { "printed no JSON" } else { "failed" },
            out.status.code(),
            match parsed { Some(Err(_)) | None => stdout.trim().chars().take(400).collect::<String>(), Some(Ok(_)) => String::new() }
        )}),
    }
}

/// Whether Yjs's final state, loaded into a fresh atelier-doc document,
/// holds `end` as its (only) block's text with nothing pending.
fn yjs_state_loads_natively(update: &Path, end: Option<&str>) -> bool {
    let (Ok(bytes), Some(end)) = (std::fs::read(update), end) else {
        return false;
    };
    let Ok(doc) = Document::from_update_v1(&bytes) else {
        return false;
    };
    let blocks = doc.blocks();
    blocks.len() == 1 && blocks[0].plain_text() == end
}

/// Adds `replayVsYjs`, `sizeVsYjs`, `retainedVsYjs`, `loadVsYjs` to an engine record.
fn add_ratios(record: &mut Value, yjs: &Value) {
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => json!(a / b),
        _ => Value::Null,
    };
    let get = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_f64);
    if record.get("ok").is_none() {
        return;
    }
    let r = ratio(
        get(record, "/replayMs/median"),
        get(yjs, "/replayMs/median"),
    );
    let s = ratio(get(record, "/updateBytes"), get(yjs, "/updateBytes"));
    let l = ratio(get(record, "/loadMs/median"), get(yjs, "/loadMs/median"));
    let m = ratio(
        get(record, "/memory/retainedBytes"),
        get(yjs, "/memory/retainedBytes"),
    );
    record["retainedVsYjs"] = m;
    record["replayVsYjs"] = r;
    record["sizeVsYjs"] = s;
    record["loadVsYjs"] = l;
    if record.get("bulk").is_some_and(Value::is_object) {
        let replay = get(record, "/replayMs/median");
        let one = get(record, "/bulk/oneTxnMs/median");
        let paste = get(record, "/bulk/pasteMs/median");
        let big = get(record, "/bulk/repeatedLoadMs/median");
        let bulk = &mut record["bulk"];
        bulk["oneTxnVsReplay"] = ratio(one, replay);
        bulk["pasteVsReplay"] = ratio(paste, replay);
        bulk["oneTxnVsYjs"] = ratio(one, get(yjs, "/bulk/oneTxnMs/median"));
        bulk["pasteVsYjs"] = ratio(paste, get(yjs, "/bulk/pasteMs/median"));
        bulk["repeatedLoadVsYjs"] = ratio(big, get(yjs, "/bulk/repeatedLoadMs/median"));
    }
}

/// Issue 16's targets for the bulk rows that `record` misses: one
/// transaction or one paste at most 2× the per-keystroke replay, and (for
/// atelier-doc) loads at most 0.5× Yjs's.
fn bulk_misses(engine: &str, record: &Value) -> Vec<&'static str> {
    let f = |p: &str| record.pointer(p).and_then(Value::as_f64);
    let mut missed = Vec::new();
    if f("/bulk/oneTxnVsReplay").is_some_and(|r| r > BULK_VS_REPLAY) {
        missed.push("one txn > 2× replay");
    }
    if f("/bulk/pasteVsReplay").is_some_and(|r| r > BULK_VS_REPLAY) {
        missed.push("paste > 2× replay");
    }
    if engine != "yjs" {
        if f("/loadVsYjs").is_some_and(|r| r > LOAD_VS_YJS) {
            missed.push("load > 0.5× Yjs");
        }
        if f("/bulk/repeatedLoadVsYjs").is_some_and(|r| r > LOAD_VS_YJS) {
            missed.push("×100 load > 0.5× Yjs");
        }
    }
    missed
}

fn engine_line(engine: &str, r: &Value) -> String {
    if let Some(reason) = r.get("skipped").and_then(Value::as_str) {
        return format!("{engine:<6} SKIPPED ({reason})");
    }
    if let Some(e) = r.get("error").and_then(Value::as_str) {
        return format!("{engine:<6} ERROR {e}");
    }
    let f = |p: &str| r.pointer(p).and_then(Value::as_f64);
    let status = match r.get("mismatch").and_then(Value::as_str) {
        None => "OK".to_owned(),
        Some(m) => format!("MISMATCH {m}"),
    };
    format!(
        "{engine:<6} replay {:>9} ms {:>7}  update {:>8} B  peak heap {:>9}  retained {:>9}  load {:>8} ms  {status}",
        fmt_num(f("/replayMs/median"), 1),
        fmt_ratio(f("/replayVsYjs")),
        fmt_num(f("/updateBytes"), 0),
        fmt_mb(f("/memory/peakBytes")),
        fmt_mb(f("/memory/retainedBytes")),
        fmt_num(f("/loadMs/median"), 2),
    ) + &format!(
        "\n         one txn {:>9} ms {:>7} of replay  paste {:>8} ms {:>7}  ×100 load {:>8} ms {:>7} Yjs",
        fmt_num(f("/bulk/oneTxnMs/median"), 1),
        fmt_ratio(f("/bulk/oneTxnVsReplay")),
        fmt_num(f("/bulk/pasteMs/median"), 2),
        fmt_ratio(f("/bulk/pasteVsReplay")),
        fmt_num(f("/bulk/repeatedLoadMs/median"), 1),
        fmt_ratio(f("/bulk/repeatedLoadVsYjs")),
    )
}

fn fmt_num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.decimals$}"))
}

fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("×{v:.2}"))
}

fn fmt_mb(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1} MB", v / 1_048_576.0))
}

fn machine(node: &Result<String, String>) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let root = crate::workspace_root().ok();
    let yrs = root.as_deref().and_then(|r| {
        let version = cargo::locked_version(r, "yrs").ok()?;
        let manifest = std::fs::read_to_string(r.join("Cargo.toml")).unwrap_or_default();
        Some(if manifest.contains("vendor/yrs") {
            format!("{version} (patched copy in vendor/yrs)")
        } else {
            version
        })
    });
    let yjs = root.as_deref().and_then(|r| {
        let pkg = std::fs::read_to_string(r.join("bench/node_modules/yjs/package.json")).ok()?;
        let v: Value = serde_json::from_str(&pkg).ok()?;
        v["version"].as_str().map(str::to_owned)
    });
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "os": std::env::consts::OS,
        "rustc": rustc,
        "node": node.as_ref().ok(),
        "yrs": yrs,
        "yjs": yjs,
    })
}

/// The current UTC time, ISO 8601 (from `date`), or "unknown".
pub fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The 1-minute load average (`/proc/loadavg`), to show how busy the machine was.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn write_results(dir: &Path, stem: &str, report: &Value) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(report)? + "\n";
    std::fs::write(dir.join(format!("{stem}.json")), json)
        .with_context(|| format!("cannot write {stem}.json"))?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown(report))
        .with_context(|| format!("cannot write {stem}.md"))?;
    Ok(())
}

/// The Markdown report: one row per trace and engine.
fn markdown(report: &Value) -> String {
    let mut md = String::from("# CRDT benchmark: editing traces\n\n");
    let m = &report["machine"];
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let _ = writeln!(
        md,
        "Generated by `cargo xtask bench crdt` on {} — {} ({} cores), {}, node {}, yrs {}, Yjs {}. \
         Times are the median of {} runs; 1-minute load average {} before, {} after (other \
         work on the machine inflates times).\n",
        s(&report["generatedAt"]),
        s(&m["cpu"]),
        m["cores"],
        s(&m["rustc"]),
        s(&m["node"]),
        s(&m["yrs"]),
        s(&m["yjs"]),
        report["runs"],
        report["loadAverage"]["before"],
        report["loadAverage"]["after"],
    );
    let _ = writeln!(
        md,
        "| trace | kind | ops | final len | engine | replay ms | × Yjs | update bytes | × Yjs | peak heap | retained | × Yjs | load ms | × Yjs | check |\n\
         |---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for t in report["traces"].as_array().into_iter().flatten() {
        for engine in ENGINES {
            let r = &t["engines"][engine];
            let f = |p: &str| r.pointer(p).and_then(Value::as_f64);
            let check = if let Some(reason) = r.get("skipped").and_then(Value::as_str) {
                format!("SKIPPED ({reason})")
            } else if let Some(e) = r.get("error").and_then(Value::as_str) {
                format!("ERROR ({})", e.replace('|', "\\|").replace('\n', " "))
            } else if r["ok"] == Value::Bool(true) {
                "OK".into()
            } else {
                "MISMATCH".into()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {engine} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {check} |",
                s(&t["name"]),
                s(&t["kind"]),
                t["ops"],
                t["finalLen"],
                fmt_num(f("/replayMs/median"), 1),
                fmt_ratio(f("/replayVsYjs")),
                fmt_num(f("/updateBytes"), 0),
                fmt_ratio(f("/sizeVsYjs")),
                fmt_mb(f("/memory/peakBytes")),
                fmt_mb(f("/memory/retainedBytes")),
                fmt_ratio(f("/retainedVsYjs")),
                fmt_num(f("/loadMs/median"), 2),
                fmt_ratio(f("/loadVsYjs")),
            );
        }
    }
    bulk_table(&mut md, report);
    for sk in report["skipped"].as_array().into_iter().flatten() {
        let _ = writeln!(md, "\nSKIPPED: {} ({})", s(&sk["name"]), s(&sk["reason"]));
    }
    let method = &report["method"];
    let _ = writeln!(
        md,
        "\n## Method\n\n\
         - Structure: {}.\n- Transactions: {}.\n- Concurrent traces: {}.\n- Replay: {}.\n\
         - Update: {}.\n- Load: {}.\n- Peak heap: {}.\n- Retained: {}. The two sides of that ratio \
         are counted differently (allocator bytes vs. V8 heap), so read it as an order of magnitude.\n\
         - {}.\n- Ratios: {}.\n\
         - Interop: each engine's final state is loaded by the other (atelier-doc's into Yjs, \
         Yjs's into atelier-doc) and must give the same text; a failure fails the run.\n\
         - wasm module: {} bytes after wasm-bindgen (profile `wasm-release`, `opt-level = \"z\"`: \
         tuned for size, not speed).\n",
        s(&method["structure"]),
        s(&method["transactions"]),
        s(&method["concurrent"]),
        s(&method["replayMs"]),
        s(&method["updateBytes"]),
        s(&method["loadMs"]),
        s(&method["memory"]["peakHeap"]),
        s(&method["memory"]["retained"]),
        s(&method["memory"]["nativeRss"]),
        s(&method["ratios"]),
        report["wasmBytes"],
    );
    let bulk = &method["bulk"];
    let _ = writeln!(
        md,
        "- One transaction: {}.\n- Paste: {}.\n- ×100 load: {}.\n- Targets: {}.",
        s(&bulk["oneTxn"]),
        s(&bulk["paste"]),
        s(&bulk["repeatedLoad"]),
        s(&bulk["targets"]),
    );
    md
}

/// The second table: bulk edits against the same engine's per-keystroke
/// replay, and the load of the ×100 document, with issue 16's targets.
fn bulk_table(md: &mut String, report: &Value) {
    let _ = writeln!(
        md,
        "\n## Bulk edits and large documents\n\n\
         | trace | engine | replay ms | one txn ms | ÷ replay | × Yjs | paste ms | ÷ replay | × Yjs | load ms | × Yjs | ×100 update bytes | ×100 load ms | × Yjs | targets |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    for t in report["traces"].as_array().into_iter().flatten() {
        for engine in ENGINES {
            let r = &t["engines"][engine];
            if r.get("bulk").is_none_or(|b| !b.is_object()) {
                continue;
            }
            let f = |p: &str| r.pointer(p).and_then(Value::as_f64);
            let missed = bulk_misses(engine, r);
            let targets = if r["ok"] != Value::Bool(true) {
                "MISMATCH".to_owned()
            } else if missed.is_empty() {
                "met".to_owned()
            } else {
                format!("MISSED: {}", missed.join(", "))
            };
            let _ = writeln!(
                md,
                "| {} | {engine} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {targets} |",
                s(&t["name"]),
                fmt_num(f("/replayMs/median"), 1),
                fmt_num(f("/bulk/oneTxnMs/median"), 1),
                fmt_ratio(f("/bulk/oneTxnVsReplay")),
                fmt_ratio(f("/bulk/oneTxnVsYjs")),
                fmt_num(f("/bulk/pasteMs/median"), 2),
                fmt_ratio(f("/bulk/pasteVsReplay")),
                fmt_ratio(f("/bulk/pasteVsYjs")),
                fmt_num(f("/loadMs/median"), 2),
                fmt_ratio(f("/loadVsYjs")),
                fmt_num(f("/bulk/repeatedUpdateBytes"), 0),
                fmt_num(f("/bulk/repeatedLoadMs/median"), 1),
                fmt_ratio(f("/bulk/repeatedLoadVsYjs")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_compare_with_yjs() {
        let yjs = json!({"ok": true, "replayMs": {"median": 2.0}, "updateBytes": 100, "loadMs": {"median": 1.0}});
        let mut native = json!({"ok": true, "replayMs": {"median": 1.0}, "updateBytes": 110, "loadMs": {"median": 4.0}});
        add_ratios(&mut native, &yjs);
        assert_eq!(native["replayVsYjs"], json!(0.5));
        assert_eq!(native["sizeVsYjs"], json!(1.1));
        assert_eq!(native["loadVsYjs"], json!(4.0));
        let yjs = json!({"ok": true, "replayMs": {"median": 2.0}, "loadMs": {"median": 1.0},
                         "bulk": {"oneTxnMs": {"median": 3.0}, "pasteMs": {"median": 1.0},
                                  "repeatedLoadMs": {"median": 10.0}}});
        let mut native = json!({"ok": true, "replayMs": {"median": 1.0}, "loadMs": {"median": 0.2},
                                "bulk": {"oneTxnMs": {"median": 3.0}, "pasteMs": {"median": 0.5},
                                         "repeatedLoadMs": {"median": 6.0}}});
        add_ratios(&mut native, &yjs);
        assert_eq!(native["bulk"]["oneTxnVsReplay"], json!(3.0));
        assert_eq!(native["bulk"]["oneTxnVsYjs"], json!(1.0));
        assert_eq!(native["bulk"]["pasteVsReplay"], json!(0.5));
        assert_eq!(native["bulk"]["repeatedLoadVsYjs"], json!(0.6));
        assert_eq!(
            bulk_misses("native", &native),
            ["one txn > 2× replay", "×100 load > 0.5× Yjs"]
        );
        let mut skipped = json!({"skipped": "no node"});
        add_ratios(&mut skipped, &yjs);
        assert!(skipped.get("replayVsYjs").is_none());
    }

    #[test]
    fn markdown_lists_rows_and_skips() {
        let report = json!({
            "runs": 1,
            "machine": {},
            "method": {"memory": {}},
            "traces": [{"name": "t", "kind": "sequential", "ops": 3, "finalLen": 2,
                        "engines": {"native": {"ok": true, "replayMs": {"median": 1.5}},
                                    "wasm": {"skipped": "no node"},
                                    "yjs": {"error": "boom | bang"}}}],
            "skipped": [{"name": "u", "reason": "missing"}],
        });
        let md = markdown(&report);
        assert!(
            md.contains("| t | sequential | 3 | 2 | native | 1.5 |"),
            "{md}"
        );
        assert!(md.contains("SKIPPED (no node)"), "{md}");
        assert!(md.contains("ERROR (boom \\| bang)"), "{md}");
        assert!(md.contains("SKIPPED: u (missing)"), "{md}");
        assert!(
            md.contains("\n## Bulk edits and large documents\n\n| trace | engine |"),
            "{md}"
        );
    }
}
