//! `cargo xtask ci [--no-browser] [STEP...]`: every check CI runs, in
//! order, failing fast. With step names, only those run (in this order).
//!
//! | step | what | needs |
//! |---|---|---|
//! | `fmt` | `cargo fmt --check` | |
//! | `deny` | cargo-deny: licences, bans, sources (advisories where the RustSec database is on the machine) | cargo-deny |
//! | `unused-deps` | cargo-machete: dependencies no code uses | cargo-machete |
//! | `yrs-patches` | `vendor/yrs` is the published crate plus its patch series | git history |
//! | `clippy` | `-D warnings`, every target, with and without xtask's `counting-alloc` | |
//! | `wasm32` | the portable crates build for `wasm32-unknown-unknown` | wasm target |
//! | `test` | every native test | |
//! | `dist` | the widget bundle, its forbidden-symbol check and its size budget | Node (esbuild and binaryen from `tools/build/`), `rust-src` |
//! | `browser` | the widgets' wasm-bindgen tests in headless Chromium | Chromium, chromedriver |
//! | `e2e` | `e2e/*.test.mjs` (Playwright) against a real server | Chromium, Node (npm packages of `e2e/` and `peers/`) |
//!
//! Only `browser` and `e2e` need a browser: without `/usr/bin/chromium`
//! and `/usr/bin/chromedriver`, or with `--no-browser` or
//! `ATELIER_NO_BROWSER=1`, they print `SKIPPED: … (reason)` and every other
//! step still runs — the bundle's guards above all, which once were skipped
//! with the browser tests.

use crate::cargo::cargo;
use crate::dependency_checks;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Crates whose DOM tests run in Chromium (wasm-bindgen-test).
const BROWSER_CRATES: &[&str] = &[
    "atelier-editor",
    "atelier-elements",
    "atelier-chat",
    "atelier-assistant",
];
/// Crates that must also build for `wasm32-unknown-unknown`.
const PORTABLE_CRATES: &[&str] = &["atelier-doc", "atelier-sync", "atelier-ai"];
/// Every step, in the order they run.
const STEPS: &[&str] = &[
    "fmt",
    "deny",
    "unused-deps",
    "yrs-patches",
    "clippy",
    "wasm32",
    "test",
    "fuzz",
    "dist",
    "browser",
    "e2e",
    "bench",
];
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Runs `cmd` as the step `name`, printing how long it took; fails if it fails.
pub(crate) fn step(name: &str, cmd: &mut Command) -> Result<()> {
    println!("\n== {name}");
    let started = Instant::now();
    let status = cmd.status().with_context(|| format!("cannot run {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    println!("== {name}: ok in {:.0?}", started.elapsed());
    Ok(())
}

fn exists(root: &Path, krate: &str) -> bool {
    root.join("crates").join(krate).join("Cargo.toml").exists()
}

/// What `ci` was asked to do.
struct Plan {
    steps: Vec<&'static str>,
    /// Why the browser steps cannot run here, if they cannot.
    no_browser: Option<String>,
}

fn parse(args: &[String]) -> Result<Plan> {
    let mut no_browser = match std::env::var("ATELIER_NO_BROWSER") {
        Ok(v) if !v.is_empty() && v != "0" => Some("ATELIER_NO_BROWSER is set".to_owned()),
        _ => None,
    };
    let mut chosen = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--no-browser" => no_browser = Some("--no-browser".to_owned()),
            name => match STEPS.iter().find(|s| **s == name) {
                Some(step) => chosen.push(*step),
                None => bail!(
                    "unknown step or option {name:?}; steps: {}; option: --no-browser",
                    STEPS.join(", ")
                ),
            },
        }
    }
    let steps = if chosen.is_empty() {
        STEPS.to_vec()
    } else {
        STEPS
            .iter()
            .copied()
            .filter(|s| chosen.contains(s))
            .collect()
    };
    if no_browser.is_none() {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            if !Path::new(path).exists() {
                no_browser = Some(format!(
                    "no {path}; apt-get install -y {package} (scripts/setup-and-test.sh does)"
                ));
                break;
            }
        }
    }
    Ok(Plan { steps, no_browser })
}

/// Runs the checks `args` select (all by default).
pub fn run(args: &[String]) -> Result<ExitCode> {
    let plan = parse(args)?;
    let root = crate::workspace_root()?;
    let in_root = |mut c: Command| {
        c.current_dir(&root);
        c
    };
    let started = Instant::now();
    let mut bundle_built = false;
    for name in &plan.steps {
        match *name {
            "fmt" => step(
                "cargo fmt --check",
                in_root(cargo()).args(["fmt", "--all", "--", "--check"]),
            )?,
            "deny" => dependency_checks::deny(&root)?,
            "unused-deps" => dependency_checks::unused_dependencies(&root)?,
            "yrs-patches" => yrs_patches(&root)?,
            "clippy" => {
                step(
                    "cargo clippy (native, -D warnings)",
                    in_root(cargo()).args([
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )?;
                // The build `bench crdt` measures with compiles code the
                // default build leaves out.
                step(
                    "cargo clippy of xtask with counting-alloc (-D warnings)",
                    in_root(cargo()).args([
                        "clippy",
                        "-p",
                        "xtask",
                        "--all-targets",
                        "--features",
                        "counting-alloc",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )?;
            }
            "wasm32" => {
                let mut wasm = in_root(cargo());
                wasm.args(["build", "--target", "wasm32-unknown-unknown"]);
                for k in PORTABLE_CRATES {
                    wasm.args(["-p", k]);
                }
                step("wasm32 build of the portable crates", &mut wasm)?;
            }
            // Every crate's native tests, the widgets' pure logic included;
            // their DOM tests run in Chromium (`browser`).
            "test" => step(
                "cargo test (native)",
                in_root(cargo()).args([
                    "test",
                    "--workspace",
                    "--features",
                    "xtask/counting-alloc",
                ]),
            )?,
            // Every fuzz target for a few seconds, so none rots (the corpus
            // and kept crashes already ran in `test`).
            "fuzz" => {
                println!("\n== fuzz (every target 5 s, quick build)");
                let started = Instant::now();
                let runs =
                    crate::fuzz::fuzz_all(&root, &crate::fuzz::FuzzOptions::for_seconds(5, true))?;
                if crate::fuzz::report_crashes(&runs) {
                    bail!("a fuzz target crashed");
                }
                println!("== fuzz: ok ({:.0?})", started.elapsed());
            }
            "dist" => {
                dist(&root)?;
                bundle_built = true;
            }
            "browser" => browser_tests(&root, plan.no_browser.as_deref())?,
            "e2e" => e2e_browser(&root, plan.no_browser.as_deref(), bundle_built)?,
            // Every benchmark, tiny, so none rots (the figures go to
            // target/bench-quick/, not bench/results/).
            "bench" => match plan.no_browser.as_deref() {
                Some(reason) => println!("SKIPPED: cargo xtask bench --quick ({reason})"),
                None => {
                    println!("\n== cargo xtask bench --quick");
                    let started = Instant::now();
                    let code = crate::bench_summary::run_all(&["--quick".to_owned()])?;
                    if code != ExitCode::SUCCESS {
                        bail!("cargo xtask bench --quick: a benchmark did not complete");
                    }
                    println!("== bench --quick: ok ({:.0?})", started.elapsed());
                }
            },
            other => bail!("step {other} has no implementation"),
        }
    }
    println!(
        "\nall checks passed ({}) in {:.0?}",
        plan.steps.join(", "),
        started.elapsed()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask dist`: builds the bundle, which fails on a forbidden symbol
/// (`wasm_size::check_forbidden`) or an editor bundle over its budget. It
/// needs Node for esbuild and binaryen (`tools/build/`), never a browser.
fn dist(root: &Path) -> Result<()> {
    println!("\n== cargo xtask dist (bundle into www/pkg, forbidden-symbol check, size budget)");
    let started = Instant::now();
    let bundle = crate::dist::build(root, Default::default())?;
    println!(
        "== dist: ok in {:.0?}; editor bundle {} B brotli (wasm + JS + CSS), within budget; \
         Markdown module {} B brotli (loaded on first use)",
        started.elapsed(),
        bundle.total_brotli,
        bundle.markdown_brotli
    );
    Ok(())
}

/// `vendor/yrs/verify-patches.sh`: the vendored yrs is the published crate
/// plus the commits PATCHES.md lists. It reads the series from git, so a
/// checkout without history (an archive, a shallow clone) cannot check it.
fn yrs_patches(root: &Path) -> Result<()> {
    let shallow = Command::new("git")
        .args(["rev-parse", "--is-shallow-repository"])
        .current_dir(root)
        .output();
    let reason = match shallow {
        Ok(out) if out.status.success() => {
            (String::from_utf8_lossy(&out.stdout).trim() == "true").then_some("a shallow clone")
        }
        _ => Some("not a git checkout"),
    };
    if let Some(reason) = reason {
        println!("SKIPPED: vendor/yrs patch series ({reason}: the series is read from history)");
        return Ok(());
    }
    step(
        "vendor/yrs = yrs-0.28.1.crate + the patch series of PATCHES.md",
        Command::new("bash")
            .arg("vendor/yrs/verify-patches.sh")
            .current_dir(root),
    )
}

/// The widgets' DOM tests (wasm-bindgen-test in headless Chromium).
fn browser_tests(root: &Path, no_browser: Option<&str>) -> Result<()> {
    for k in BROWSER_CRATES.iter().filter(|k| exists(root, k)) {
        let has_tests = root.join("crates").join(k).join("tests").exists();
        if !has_tests {
            continue;
        }
        if let Some(reason) = no_browser {
            println!("SKIPPED: browser tests of {k} ({reason})");
            continue;
        }
        // chromedriver stops Chromium without removing its profile (about
        // 80 MB in TMPDIR per run); a scratch TMPDIR removed afterwards
        // keeps repeated runs from filling the disk.
        let scratch = tempfile::Builder::new()
            .prefix("atelier-browser-tests-")
            .tempdir()
            .context("cannot create a scratch TMPDIR for the browser tests")?;
        step(
            &format!("browser tests of {k} (headless Chromium)"),
            cargo()
                .current_dir(root)
                .args(["test", "-p", k, "--target", "wasm32-unknown-unknown"])
                .env("CHROMEDRIVER", CHROMEDRIVER)
                .env("TMPDIR", scratch.path()),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Browser end-to-end tests (atelier-web / atelier-elements).

/// Builds the server binary (and the bundle, unless the `dist` step just
/// did), then runs `node --test e2e/*.test.mjs` (Playwright in headless
/// Chromium against a real `atelier serve`). Prints `SKIPPED: browser e2e
/// (reason)` when Chromium or Node is missing.
fn e2e_browser(root: &Path, no_browser: Option<&str>, bundle_built: bool) -> Result<()> {
    if let Some(reason) = no_browser {
        println!("SKIPPED: browser e2e ({reason})");
        return Ok(());
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: browser e2e (node is not installed)");
        return Ok(());
    }
    crate::node_packages::ensure(root, "e2e", &["playwright-core"])?;
    // The BlockNote page and the Hocuspocus server some tests open.
    crate::node_packages::ensure(root, "peers", &["@blocknote/core", "@hocuspocus/server"])?;
    if !bundle_built {
        dist(root)?;
    }
    let mut server = cargo();
    server
        .args(["build", "-p", "atelier-server", "--bin", "atelier"])
        .current_dir(root);
    step("cargo build of the atelier server", &mut server)?;
    let mut tests: Vec<String> = std::fs::read_dir(root.join("e2e"))
        .context("cannot list e2e/")?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".test.mjs"))
        .map(|n| format!("e2e/{n}"))
        .collect();
    tests.sort();
    if tests.is_empty() {
        println!("SKIPPED: browser e2e (no e2e/*.test.mjs)");
        return Ok(());
    }
    step(
        "node --test e2e/*.test.mjs (headless Chromium)",
        Command::new("node")
            .arg("--test")
            .args(&tests)
            .env(
                "ATELIER_BIN",
                crate::cargo::target_dir(root)?.join("debug/atelier"),
            )
            .current_dir(root),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn steps_run_in_their_own_order_and_the_browser_can_be_ruled_out() -> Result<()> {
        let plan = parse(&args(&["dist", "--no-browser", "fmt"]))?;
        assert_eq!(plan.steps, ["fmt", "dist"]);
        assert_eq!(plan.no_browser.as_deref(), Some("--no-browser"));
        let all = parse(&[])?;
        assert_eq!(all.steps, STEPS);
        Ok(())
    }

    #[test]
    fn an_unknown_step_is_an_error_naming_the_steps() {
        let err = parse(&args(&["lint"])).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("unknown step") && e.contains("yrs-patches")));
    }
}
