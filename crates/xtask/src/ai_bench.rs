//! `cargo xtask bench ai`: the embedded assistant model's time to first
//! token for a 200-token prompt and its generation speed, on this machine;
//! results in `bench/results/ai.json` and `bench/results/ai.md`.
//!
//! The measurement itself is `atelier-llm`'s `bench` example, built in
//! release mode and run in its own process; this file fetches the model
//! when it is missing, runs it, and writes the report against the
//! targets of issue 13 (first token ≤ 500 ms, ≥ 50 tokens/s on two cores).

use crate::bench_mode::Mode;
use crate::cargo;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Target: milliseconds to the first token of a 200-token prompt.
const FIRST_TOKEN_TARGET_MS: f64 = 500.0;
/// Target: generated tokens per second.
const TOKENS_PER_SECOND_TARGET: f64 = 50.0;

fn model_path(root: &Path) -> PathBuf {
    let dir = std::env::var_os("ATELIER_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("data/models"));
    dir.join("SmolLM2-135M-Instruct.Q4_1.gguf")
}

fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}

/// The 1-minute load average: how busy the machine was.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn machine(root: &Path) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_gib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let kb: f64 = s
            .lines()
            .find(|l| l.starts_with("MemTotal:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some((kb / 1_048_576.0 * 10.0).round() / 10.0)
    });
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory_gib": memory_gib,
        "os": std::env::consts::OS,
        "rustc": first_line(Command::new("rustc").arg("--version")),
        "candle": cargo::locked_version(root, "candle-core").ok(),
        "tokenizers": cargo::locked_version(root, "tokenizers").ok(),
        "commit": first_line(Command::new("git").current_dir(root).args(["rev-parse", "--short", "HEAD"])),
    })
}

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let (mode, args) = Mode::from_args(args);
    let mut runs = if mode == Mode::Quick { 1 } else { 3usize };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = crate::parse_count("--runs", it.next())?,
            other => bail!("unknown option {other:?} for `bench ai` (try --runs N or --quick)"),
        }
    }
    let root = crate::workspace_root()?;
    let model = model_path(&root);
    if !model.exists() {
        eprintln!("== fetching the model (scripts/fetch-model.sh)");
        let status = Command::new("bash")
            .current_dir(&root)
            .arg("scripts/fetch-model.sh")
            .status()
            .context("cannot run scripts/fetch-model.sh")?;
        if (!status.success() || !model.exists()) && mode == Mode::Quick {
            println!(
                "SKIPPED: bench ai (no model at {} and scripts/fetch-model.sh could not fetch it)",
                model.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        if !status.success() || !model.exists() {
            bail!(
                "no model at {} and scripts/fetch-model.sh could not fetch it",
                model.display()
            );
        }
    }
    eprintln!("== building the measurement ({})", mode.profile_dir());
    let mut build_args = mode.cargo_profile().to_vec();
    build_args.extend_from_slice(match mode {
        Mode::Full => &["-p", "atelier-llm"][..],
        // With the whole workspace's features, as the tests built the
        // model's crates: nothing of candle is compiled again.
        Mode::Quick => &["--workspace", "--features", "xtask/counting-alloc"][..],
    });
    build_args.extend(["--example", "bench"]);
    let files = cargo::build(&root, &build_args, "bench")?;
    let exe = files
        .iter()
        .find(|f| f.extension().is_none())
        .context("no bench executable")?;
    let machine = machine(&root);
    // Candle's CPU pool busy-waits between operations: with its default
    // (one thread per core) a busy machine slows it down badly, so both
    // settings are measured, one after the other.
    let mut settings = Vec::new();
    for (name, threads) in [("default_threads", None), ("one_thread", Some("1"))] {
        eprintln!(
            "== measuring ({runs} runs, {})",
            threads.map_or("candle's default threads".into(), |t| format!(
                "CANDLE_NUM_THREADS={t}"
            ))
        );
        let mut cmd = Command::new(exe);
        cmd.arg(&model)
            .args(["--runs", &runs.to_string()])
            .env_remove("CANDLE_NUM_THREADS")
            .env_remove("RAYON_NUM_THREADS")
            .stderr(Stdio::inherit());
        if let Some(t) = threads {
            cmd.env("CANDLE_NUM_THREADS", t);
        }
        let load = load_average();
        let out = cmd.output().context("cannot run the bench example")?;
        if !out.status.success() {
            bail!("the measurement failed ({})", out.status);
        }
        let mut measured: Value =
            serde_json::from_slice(&out.stdout).context("the measurement printed no JSON")?;
        measured["load_average_1min_before"] = json!(load);
        let num = |k: &str| measured[k].as_f64().unwrap_or(f64::NAN);
        let meets = json!({
            "first_token_cold": num("first_token_ms_cold") <= FIRST_TOKEN_TARGET_MS,
            "first_token_cached_prefix": num("first_token_ms_cached_prefix") <= FIRST_TOKEN_TARGET_MS,
            "tokens_per_second": num("tokens_per_second") >= TOKENS_PER_SECOND_TARGET,
        });
        measured["meets"] = meets;
        settings.push((name, measured));
    }
    let mut results = serde_json::Map::new();
    for (name, v) in settings {
        results.insert(name.to_owned(), v);
    }
    let report = json!({
        "benchmark": "ai",
        "date": crate::bench::now_utc(),
        "command": match mode {
            Mode::Full => format!("cargo xtask bench ai --runs {runs}"),
            Mode::Quick => "cargo xtask bench ai --quick".to_owned(),
        },
        "machine": machine,
        "targets": {
            "first_token_ms": FIRST_TOKEN_TARGET_MS,
            "tokens_per_second": TOKENS_PER_SECOND_TARGET,
        },
        "results": results,
    });
    let dir = mode.results_dir(&root)?;
    std::fs::write(
        dir.join("ai.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )
    .context("cannot write ai.json")?;
    let md = markdown(&report);
    std::fs::write(dir.join("ai.md"), &md).context("cannot write ai.md")?;
    println!("{md}");
    Ok(ExitCode::SUCCESS)
}

fn markdown(r: &Value) -> String {
    let m = &r["machine"];
    let default = &r["results"]["default_threads"];
    let one = &r["results"]["one_thread"];
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        v => v.to_string(),
    };
    let ms = |v: &Value| format!("{:.0} ms", v.as_f64().unwrap_or(f64::NAN));
    let tps = |v: &Value| format!("{:.1} tokens/s", v.as_f64().unwrap_or(f64::NAN));
    let ok = |b: &Value| {
        if b.as_bool() == Some(true) {
            "yes"
        } else {
            "**no**"
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "# Embedded assistant model\n");
    let _ = writeln!(
        out,
        "Generated by `{}` ({}, commit {}). Model {} on the CPU with candle {} (Q4_1 weights re-quantized to Q8_0 at load: {} tensors, load {} ms), tokenizers {}, greedy decoding.\n",
        s(&r["command"]),
        s(&r["date"]),
        s(&m["commit"]),
        s(&default["model"]),
        s(&m["candle"]),
        s(&default["requantized_tensors"]),
        s(&default["load_ms"]),
        s(&m["tokenizers"]),
    );
    let _ = writeln!(
        out,
        "Machine: {} ({} cores, {} GiB), {}. Other work on the machine slows every figure: the 1-minute load average was {} before the default-threads run and {} before the one-thread run.\n",
        s(&m["cpu"]),
        s(&m["cores"]),
        s(&m["memory_gib"]),
        s(&m["rustc"]),
        s(&default["load_average_1min_before"]),
        s(&one["load_average_1min_before"]),
    );
    let _ = writeln!(
        out,
        "| measure (median of {}) | target | candle's default ({} threads) | met | `CANDLE_NUM_THREADS=1` | met |",
        s(&default["runs"]),
        s(&default["threads"]),
    );
    let _ = writeln!(out, "|---|---:|---:|---|---:|---|");
    let _ = writeln!(
        out,
        "| first token, {}-token prompt, nothing cached | ≤ {} ms | {} | {} | {} | {} |",
        s(&default["prompt_tokens"][0]),
        s(&r["targets"]["first_token_ms"]),
        ms(&default["first_token_ms_cold"]),
        ok(&default["meets"]["first_token_cold"]),
        ms(&one["first_token_ms_cold"]),
        ok(&one["meets"]["first_token_cold"]),
    );
    let _ = writeln!(
        out,
        "| first token, {}-token prompt, the action's system message cached ({} tokens) | ≤ {} ms | {} | {} | {} | {} |",
        s(&default["prompt_tokens"][1]),
        s(&default["cached_prefix_tokens"]),
        s(&r["targets"]["first_token_ms"]),
        ms(&default["first_token_ms_cached_prefix"]),
        ok(&default["meets"]["first_token_cached_prefix"]),
        ms(&one["first_token_ms_cached_prefix"]),
        ok(&one["meets"]["first_token_cached_prefix"]),
    );
    let _ = writeln!(
        out,
        "| generation, {} tokens | ≥ {} tokens/s | {} | {} | {} | {} |",
        s(&default["generated_tokens"]),
        s(&r["targets"]["tokens_per_second"]),
        tps(&default["tokens_per_second"]),
        ok(&default["meets"]["tokens_per_second"]),
        tps(&one["tokens_per_second"]),
        ok(&one["meets"]["tokens_per_second"]),
    );
    let _ = writeln!(
        out,
        "\nThe prompt is the assistant's *Summarize* action (a system message: the shared prompt and the action's instruction; a user message: the text) grown to 200 tokens; the cached run sends another text with the same system message, so only that message's state is reused, as for every use of an action after the first. Every run, default threads: cold {}, cached {}, tokens/s {}; one thread: cold {}, cached {}, tokens/s {}.",
        s(&default["first_token_ms_cold_runs"]),
        s(&default["first_token_ms_cached_prefix_runs"]),
        s(&default["tokens_per_second_runs"]),
        s(&one["first_token_ms_cold_runs"]),
        s(&one["first_token_ms_cached_prefix_runs"]),
        s(&one["tokens_per_second_runs"]),
    );
    out
}
