//! `cargo xtask fuzz`: builds `atelier-fuzz`'s libFuzzer binary with
//! coverage instrumentation (and AddressSanitizer unless `--no-asan`), and
//! runs every target (or the chosen ones) from its committed corpus for a
//! fixed time or until it has executed a number of inputs.
//!
//! The flags are those `cargo fuzz` passes (sancov module pass, 8-bit
//! counters, PC table, compare tracing, `--cfg fuzzing`, debug assertions,
//! overflow checks) plus `-Zsanitizer=address`, accepted by the stable
//! compiler under `RUSTC_BOOTSTRAP=1` as `dist` does for `build-std`. The
//! explicit `--target` keeps build scripts and proc macros uninstrumented.
//!
//! **Why AddressSanitizer is optional.** Safe Rust cannot corrupt memory,
//! so for most of the code under test ASan only adds cost, and here a
//! large one: the same targets ran 3 to 13 times fewer inputs per second
//! with it (2026-12-08, 15 s each from the seeds on the shared 2-core
//! machine: `update_v1` 1,391 → 16,021/s, `server_ywebsocket` 2,938 →
//! 24,780/s, `fanout_envelope` 15,901 → 43,072/s), spent on shadow checks
//! of every access, fake stack frames for use-after-return, and a stack
//! trace recorded at every allocation.
//! What it can catch is a memory error in `unsafe` code, and the targets
//! do reach some: the vendored `yrs` keeps its blocks behind raw pointers.
//! So CI's short run (`--quick`) and `cargo xtask fuzz` keep ASan, and the
//! long runs that count executions (`cargo xtask reliability`) may leave it
//! out with `--no-asan` (built in `target/fuzz-noasan`); the results say
//! which build ran. Without ASan, an out-of-bounds access in `unsafe` code
//! shows only if it faults or trips a later assertion; panics, overflow,
//! debug assertions, timeouts and the targets' own checks are caught alike.
//! A crash that libFuzzer reports only as a "deadly signal" is read with the
//! ASan build: the first long run without it (2026-12-08) stopped
//! `update_v1` on such a signal, which the same input did not raise on
//! every run, and the ASan binary named it at once, a heap use-after-free
//! in yrs (`regressions/update_v1/`).
//!
//! New inputs libFuzzer finds go to `target/fuzz/corpus/NAME/` (not
//! committed, shared by both builds); `--merge` adds to
//! `crates/atelier-fuzz/corpus/NAME/` only the ones that reach new
//! coverage. A crash stops that target, is kept in
//! `target/fuzz/artifacts/NAME/`, and fails the command with the file to
//! commit under `crates/atelier-fuzz/regressions/NAME/`.
//!
//! `--jobs N` fuzzes N targets at a time (each is one libFuzzer process);
//! `--execs N` runs each target until it has executed N inputs, with the
//! time (`--seconds`) as a cap, and the results say whether it got there.

use crate::cargo::{cargo, target_dir};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const HOST: &str = "x86_64-unknown-linux-gnu";

/// The instrumentation `cargo fuzz` uses.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks \
    -Cforce-frame-pointers";

/// Added to [`RUSTFLAGS`] for the AddressSanitizer build.
const ASAN_RUSTFLAGS: &str = "-Zsanitizer=address";

/// Rust's reference cycles (documents' observers) are not bugs; memory
/// errors are what ASan is here for.
const ASAN_OPTIONS: &str = "detect_leaks=0:allocator_may_return_null=1";

/// What one target's run found.
#[derive(Debug)]
pub struct TargetRun {
    /// The target's name.
    pub name: String,
    /// Inputs executed (libFuzzer's `number_of_executed_units`).
    pub executions: u64,
    /// The executions it was asked to reach, if any (`--execs`).
    pub goal: Option<u64>,
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
            "executions_goal": self.goal,
            "reached_goal": self.goal.map(|g| self.executions >= g),
            "corpus": self.corpus,
            "crashes": u64::from(self.crash.is_some()),
            "crash_file": self.crash.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// Options of one fuzzing session.
pub struct FuzzOptions {
    /// Seconds per target (a cap when `executions` is set).
    pub seconds_per_target: u64,
    /// Run each target until it has executed this many inputs.
    pub executions: Option<u64>,
    /// Only these targets (all when empty).
    pub only: Vec<String>,
    /// Merge coverage-increasing inputs into the committed corpus.
    pub merge: bool,
    /// The CI build: without the server's targets, optimized less.
    pub quick: bool,
    /// Build with AddressSanitizer (see the module's documentation).
    pub asan: bool,
    /// Targets fuzzed at the same time.
    pub jobs: usize,
    /// A bound on the whole session's wall-clock seconds: each target gets
    /// at most its share of what is left (what is left divided among the
    /// targets not yet started, times `jobs`), so targets that finish early
    /// leave their time to the others.
    pub total_seconds: Option<u64>,
}

impl FuzzOptions {
    /// `seconds` per target, every target, one at a time, with ASan.
    pub fn for_seconds(seconds: u64, quick: bool) -> Self {
        FuzzOptions {
            seconds_per_target: seconds,
            executions: None,
            only: Vec::new(),
            merge: false,
            quick,
            asan: true,
            jobs: 1,
            total_seconds: None,
        }
    }
}

/// `cargo xtask fuzz [--minutes N | --seconds S] [--execs N] [--target A,B] [--jobs N] [--total-seconds T] [--no-asan] [--merge] [--reseed] [--quick]`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut opts = FuzzOptions::for_seconds(60, false);
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
            "--execs" => opts.executions = Some(crate::parse_count("--execs", it.next())? as u64),
            "--jobs" => opts.jobs = crate::parse_count("--jobs", it.next())?,
            "--total-seconds" => {
                opts.total_seconds = Some(crate::parse_count("--total-seconds", it.next())? as u64)
            }
            "--no-asan" => opts.asan = false,
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
                "CRASH in {}: {}\n  replay: ATELIER_FUZZ_TARGET={} ATELIER_FUZZ_INPUT={} cargo test -p atelier-fuzz --test corpus -- one_input --nocapture\n  a bare \"deadly signal\": replay it with the ASan build (`cargo xtask fuzz` builds target/fuzz/{HOST}/release/atelier-fuzz): ATELIER_FUZZ_TARGET={} ASAN_OPTIONS=detect_leaks=0 target/fuzz/{HOST}/release/atelier-fuzz -runs=20 {}\n  keep it: copy it to crates/atelier-fuzz/regressions/{}/ with a name that says what broke, then fix",
                r.name,
                file.display(),
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
fn build_fuzzer(root: &Path, build_dir: &Path, quick: bool, asan: bool) -> Result<PathBuf> {
    let started = Instant::now();
    // Its own target directory: the instrumentation flags would otherwise
    // rebuild the workspace's ordinary artifacts (and each build's flags
    // the other's).
    let target_dir = build_dir.to_path_buf();
    let rustflags = if asan {
        format!("{RUSTFLAGS} {ASAN_RUSTFLAGS}")
    } else {
        RUSTFLAGS.to_owned()
    };
    let mut cmd = cargo();
    cmd.current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", rustflags)
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

/// Builds the fuzzer and runs the chosen targets, `opts.jobs` at a time.
pub fn fuzz_all(root: &Path, opts: &FuzzOptions) -> Result<Vec<TargetRun>> {
    let target = target_dir(root)?;
    // The working corpus and the crashes live in one place for both
    // builds, so a long run without ASan starts from what the others found.
    let fuzz_dir = target.join(if opts.quick { "fuzz-quick" } else { "fuzz" });
    let build_dir = if opts.asan {
        fuzz_dir.clone()
    } else {
        target.join(if opts.quick {
            "fuzz-quick-noasan"
        } else {
            "fuzz-noasan"
        })
    };
    let bin = build_fuzzer(root, &build_dir, opts.quick, opts.asan)?;
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
    // A small pool of workers, each taking the next target in order.
    let jobs = opts.jobs.clamp(1, chosen.len().max(1));
    let session = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<TargetRun>>>> =
        Mutex::new(chosen.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(name) = chosen.get(i) else { break };
                    let seconds = match opts.total_seconds {
                        Some(total) => {
                            let left = total.saturating_sub(session.elapsed().as_secs());
                            let waiting = (chosen.len() - i) as u64;
                            let share = left * jobs as u64 / waiting;
                            // A worker's share cannot outlast the session.
                            share.min(left).clamp(1, opts.seconds_per_target)
                        }
                        None => opts.seconds_per_target,
                    };
                    let run = fuzz_one(root, &fuzz_dir, &bin, name, opts, seconds);
                    if let Ok(run) = &run {
                        eprintln!(
                            "fuzz: {name}: {} executions in {:.0} s ({:.0}/s), corpus {}, {}",
                            run.executions,
                            run.seconds,
                            run.executions as f64 / run.seconds.max(0.001),
                            run.corpus,
                            if run.crash.is_some() {
                                "CRASH"
                            } else {
                                "no crash"
                            }
                        );
                    }
                    results.lock().expect("no worker panics")[i] = Some(run);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every target ran"))
        .collect()
}

fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count() as u64)
}

/// Runs one target for the chosen time or number of executions.
fn fuzz_one(
    root: &Path,
    fuzz_dir: &Path,
    bin: &Path,
    name: &str,
    opts: &FuzzOptions,
    seconds: u64,
) -> Result<TargetRun> {
    let committed = root.join("crates/atelier-fuzz/corpus").join(name);
    let work = fuzz_dir.join("corpus").join(name);
    let artifacts = fuzz_dir.join("artifacts").join(name);
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(&artifacts)?;
    let started = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.env("ATELIER_FUZZ_TARGET", name)
        .env("ASAN_OPTIONS", ASAN_OPTIONS)
        .arg(&work)
        .arg(&committed)
        .arg(format!("-max_total_time={seconds}"));
    if let Some(n) = opts.executions {
        cmd.arg(format!("-runs={n}"));
    }
    let out = cmd
        .arg("-print_final_stats=1")
        // libFuzzer's own default, above every committed seed (the largest
        // is 2.5 KB). 16 KB let the mutator grow inputs that made every
        // execution slower (the text targets are linear or worse in their
        // input).
        .arg("-max_len=4096")
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
            .env("ASAN_OPTIONS", ASAN_OPTIONS)
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
        goal: opts.executions,
        seconds,
        corpus: count_files(&work) + count_files(&committed),
        crash,
    })
}
