//! `cargo xtask fuzz`: builds `atelier-fuzz`'s libFuzzer binary with
//! coverage instrumentation and AddressSanitizer, and runs every target
//! (or the chosen ones) from its committed corpus for a fixed time.
//!
//! The flags are those `cargo fuzz` passes (sancov module pass, 8-bit
//! counters, PC table, compare tracing, `--cfg fuzzing`, debug assertions,
//! overflow checks) plus `-Zsanitizer=address`, accepted by the stable
//! compiler under `RUSTC_BOOTSTRAP=1` as `dist` does for `build-std`. The
//! explicit `--target` keeps build scripts and proc macros uninstrumented.
//!
//! New inputs libFuzzer finds go to `target/fuzz/corpus/NAME/` (not
//! committed); `--merge` adds to `crates/atelier-fuzz/corpus/NAME/` only the
//! ones that reach new coverage. A crash stops that target, is kept in
//! `target/fuzz/artifacts/NAME/`, and fails the command with the file to
//! commit under `crates/atelier-fuzz/regressions/NAME/`.

use crate::cargo::{cargo, target_dir};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const HOST: &str = "x86_64-unknown-linux-gnu";

/// The instrumentation `cargo fuzz` uses, plus AddressSanitizer.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks \
    -Zsanitizer=address -Cforce-frame-pointers";

/// What one target's run found.
#[derive(Debug)]
pub struct TargetRun {
    /// The target's name.
    pub name: String,
    /// Inputs executed (libFuzzer's `number_of_executed_units`).
    pub executions: u64,
    /// Seconds it ran.
    pub seconds: f64,
    /// Inputs in its working corpus at the end.
    pub corpus: u64,
    /// The crash file, if it crashed.
    pub crash: Option<PathBuf>,
}

impl TargetRun {
    /// The run as a JSON object for the results files.
    pub fn to_json(&self) -> Value {
        json!({
            "target": self.name,
            "executions": self.executions,
            "seconds": (self.seconds * 10.0).round() / 10.0,
            "executions_per_second": (self.executions as f64 / self.seconds.max(0.001)).round(),
            "corpus": self.corpus,
            "crashes": u64::from(self.crash.is_some()),
            "crash_file": self.crash.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// Options of one fuzzing session.
pub struct FuzzOptions {
    /// Seconds per target.
    pub seconds_per_target: u64,
    /// Only these targets (all when empty).
    pub only: Vec<String>,
    /// Merge coverage-increasing inputs into the committed corpus.
    pub merge: bool,
    /// The CI build: without the server's targets, optimized less.
    pub quick: bool,
}

/// `cargo xtask fuzz [--minutes N | --seconds S] [--target A,B] [--merge] [--reseed] [--quick]`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut opts = FuzzOptions {
        seconds_per_target: 60,
        only: Vec::new(),
        merge: false,
        quick: false,
    };
    let mut reseed = false;
    let mut json_out: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--minutes" => {
                opts.seconds_per_target = 60 * crate::parse_count("--minutes", it.next())? as u64
            }
            "--seconds" => {
                opts.seconds_per_target = crate::parse_count("--seconds", it.next())? as u64
            }
            "--target" => {
                let names = it.next().context("--target needs NAME[,NAME...]")?;
                opts.only = names.split(',').map(str::to_owned).collect();
            }
            "--merge" => opts.merge = true,
            "--quick" => opts.quick = true,
            "--reseed" => reseed = true,
            "--json" => json_out = Some(PathBuf::from(it.next().context("--json needs a file")?)),
            other => bail!("unknown fuzz option {other:?}"),
        }
    }
    let root = crate::workspace_root()?;
    if reseed {
        write_seeds(&root)?;
    }
    let runs = fuzz_all(&root, &opts)?;
    if let Some(path) = json_out {
        let doc = json!({ "targets": runs.iter().map(TargetRun::to_json).collect::<Vec<_>>() });
        std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if report_crashes(&runs) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints each crash with how to replay and keep it; true if any.
pub fn report_crashes(runs: &[TargetRun]) -> bool {
    let mut any = false;
    for r in runs {
        if let Some(file) = &r.crash {
            any = true;
            eprintln!(
                "CRASH in {}: {}\n  replay: ATELIER_FUZZ_TARGET={} ATELIER_FUZZ_INPUT={} cargo test -p atelier-fuzz --test corpus -- one_input --nocapture\n  keep it: copy it to crates/atelier-fuzz/regressions/{}/ with a name that says what broke, then fix",
                r.name,
                file.display(),
                r.name,
                file.display(),
                r.name
            );
        }
    }
    any
}

/// Records the wire vectors from the real npm peers and writes the seeds.
fn write_seeds(root: &Path) -> Result<()> {
    let vectors = root.join("target/fuzz-wire-vectors.json");
    let out = Command::new("node")
        .current_dir(root)
        .arg("peers/protocol-vectors.mjs")
        .stderr(Stdio::null())
        .output()
        .context("cannot run node peers/protocol-vectors.mjs (npm ci in peers/ first)")?;
    if !out.status.success() {
        bail!("peers/protocol-vectors.mjs failed");
    }
    std::fs::write(&vectors, &out.stdout)?;
    let status = cargo()
        .current_dir(root)
        .args([
            "run",
            "-q",
            "-p",
            "atelier-fuzz",
            "--bin",
            "atelier-fuzz-seeds",
            "--",
        ])
        .arg(root.join("crates/atelier-fuzz/corpus"))
        .arg(&vectors)
        .status()
        .context("cannot run atelier-fuzz-seeds")?;
    if !status.success() {
        bail!("atelier-fuzz-seeds failed");
    }
    Ok(())
}

/// Builds the instrumented binary and returns its path.
fn build_fuzzer(root: &Path, fuzz_dir: &Path, quick: bool) -> Result<PathBuf> {
    let started = Instant::now();
    // Its own target directory: the instrumentation flags would otherwise
    // rebuild the workspace's ordinary artifacts.
    let target_dir = fuzz_dir.to_path_buf();
    let mut cmd = cargo();
    cmd.current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "build",
            "--release",
            "-p",
            "atelier-fuzz",
            "--features",
            "libfuzzer",
            "--bin",
            "atelier-fuzz",
            "--target",
            HOST,
        ])
        .stderr(Stdio::inherit());
    if quick {
        // Fewer targets and less optimization: a build that only has to
        // show, in CI, that every target still runs.
        cmd.arg("--no-default-features")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
    }
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("building the fuzzer failed");
    }
    let bin = target_dir.join(HOST).join("release/atelier-fuzz");
    if !bin.is_file() {
        bail!("the fuzzer build left no {}", bin.display());
    }
    eprintln!(
        "fuzz: built {} in {:.0} s",
        bin.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(bin)
}

/// The targets the binary holds (it prints them for `ATELIER_FUZZ_TARGET=list`).
fn target_names(bin: &Path, fuzz_dir: &Path) -> Result<Vec<String>> {
    let empty = fuzz_dir.join("empty-input");
    std::fs::write(&empty, b"")?;
    let out = Command::new(bin)
        .env("ATELIER_FUZZ_TARGET", "list")
        .arg(&empty)
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        bail!("{} listed no target", bin.display());
    }
    Ok(names)
}

/// Builds the fuzzer and runs the chosen targets one after the other.
pub fn fuzz_all(root: &Path, opts: &FuzzOptions) -> Result<Vec<TargetRun>> {
    let fuzz_dir = target_dir(root)?.join(if opts.quick { "fuzz-quick" } else { "fuzz" });
    let bin = build_fuzzer(root, &fuzz_dir, opts.quick)?;
    let all = target_names(&bin, &fuzz_dir)?;
    for name in &opts.only {
        if !all.contains(name) {
            bail!("no fuzz target {name:?}; targets: {}", all.join(", "));
        }
    }
    let chosen: Vec<String> = if opts.only.is_empty() {
        all
    } else {
        opts.only.clone()
    };
    let mut runs = Vec::new();
    for name in &chosen {
        let run = fuzz_one(root, &fuzz_dir, &bin, name, opts)?;
        eprintln!(
            "fuzz: {name}: {} executions in {:.0} s, corpus {}, {}",
            run.executions,
            run.seconds,
            run.corpus,
            if run.crash.is_some() {
                "CRASH"
            } else {
                "no crash"
            }
        );
        runs.push(run);
    }
    Ok(runs)
}

fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count() as u64)
}

/// Runs one target for the chosen time.
fn fuzz_one(
    root: &Path,
    fuzz_dir: &Path,
    bin: &Path,
    name: &str,
    opts: &FuzzOptions,
) -> Result<TargetRun> {
    let committed = root.join("crates/atelier-fuzz/corpus").join(name);
    let work = fuzz_dir.join("corpus").join(name);
    let artifacts = fuzz_dir.join("artifacts").join(name);
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(&artifacts)?;
    let started = Instant::now();
    let out = Command::new(bin)
        .env("ATELIER_FUZZ_TARGET", name)
        // Rust's reference cycles (documents' observers) are not bugs;
        // memory errors are what ASan is here for.
        .env("ASAN_OPTIONS", "detect_leaks=0:allocator_may_return_null=1")
        .arg(&work)
        .arg(&committed)
        .arg(format!("-max_total_time={}", opts.seconds_per_target))
        .arg("-print_final_stats=1")
        .arg("-max_len=16384")
        .arg("-timeout=20")
        .arg("-rss_limit_mb=3072")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr);
    let executions = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let crash = if out.status.success() {
        None
    } else {
        let file = log
            .lines()
            .find_map(|l| l.split("Test unit written to ").nth(1))
            .map(|p| PathBuf::from(p.trim()));
        // Show what libFuzzer said, so the failure explains itself.
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        eprintln!(
            "fuzz: {name} stopped with {}:\n{}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        Some(file.unwrap_or_else(|| artifacts.clone()))
    };
    if opts.merge && crash.is_none() {
        let status = Command::new(bin)
            .env("ATELIER_FUZZ_TARGET", name)
            .env("ASAN_OPTIONS", "detect_leaks=0:allocator_may_return_null=1")
            .arg("-merge=1")
            .arg(&committed)
            .arg(&work)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("merging {name}'s corpus failed");
        }
    }
    Ok(TargetRun {
        name: name.to_owned(),
        executions,
        seconds,
        corpus: count_files(&work) + count_files(&committed),
        crash,
    })
}
