//! `cargo xtask ci`: every check CI runs, in order, failing fast.
//!
//! Formatting, clippy with `-D warnings` on every target, the wasm32 build
//! of the crates that must stay portable, then every test. Browser tests of
//! the widgets run when Chromium and chromedriver are installed (the set-up
//! script installs them); otherwise they are reported SKIPPED by name.

use crate::cargo::cargo;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Crates whose DOM tests run in Chromium (wasm-bindgen-test).
const BROWSER_CRATES: &[&str] = &["atelier-editor", "atelier-elements"];
/// Crates that must also build for `wasm32-unknown-unknown`.
const PORTABLE_CRATES: &[&str] = &["atelier-doc", "atelier-sync"];

fn step(name: &str, cmd: &mut Command) -> Result<()> {
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

/// Runs all checks.
pub fn run(_args: &[String]) -> Result<ExitCode> {
    let root = crate::workspace_root()?;
    let in_root = |mut c: Command| {
        c.current_dir(&root);
        c
    };
    step(
        "cargo fmt --check",
        in_root(cargo()).args(["fmt", "--all", "--", "--check"]),
    )?;
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
    let mut wasm = in_root(cargo());
    wasm.args(["build", "--target", "wasm32-unknown-unknown"]);
    for k in PORTABLE_CRATES {
        wasm.args(["-p", k]);
    }
    step("wasm32 build of the portable crates", &mut wasm)?;
    // Every crate's native tests, the widgets' pure logic included; their
    // DOM tests run in Chromium below.
    step(
        "cargo test (native)",
        in_root(cargo()).args(["test", "--workspace"]),
    )?;
    let chromedriver = Path::new("/usr/bin/chromedriver");
    for k in BROWSER_CRATES.iter().filter(|k| exists(&root, k)) {
        let has_tests = root.join("crates").join(k).join("tests").exists();
        if !has_tests {
            continue;
        }
        if !chromedriver.exists() {
            println!(
                "SKIPPED: browser tests of {k} (no /usr/bin/chromedriver; install chromium chromium-driver)"
            );
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
            in_root(cargo())
                .args(["test", "-p", k, "--target", "wasm32-unknown-unknown"])
                .env("CHROMEDRIVER", chromedriver)
                .env("TMPDIR", scratch.path()),
        )?;
    }
    e2e_browser(&root)?;
    println!("\nall checks passed");
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------
// Browser end-to-end tests (atelier-web / atelier-elements).

/// Builds the bundle (`cargo xtask dist`) and the server binary, then runs
/// `node --test e2e/*.test.mjs` (Playwright in headless Chromium against a
/// real `atelier serve`). Prints `SKIPPED: browser e2e (reason)` when
/// Chromium or Node is missing.
fn e2e_browser(root: &Path) -> Result<()> {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        println!(
            "SKIPPED: browser e2e (no /usr/bin/chromium; apt-get install -y chromium chromium-driver)"
        );
        return Ok(());
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: browser e2e (node is not installed)");
        return Ok(());
    }
    if !root.join("e2e/node_modules/playwright-core").exists() {
        step(
            "npm ci in e2e/ (playwright-core, binaryen)",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(root.join("e2e")),
        )?;
    }
    println!("\n== cargo xtask dist (wasm bundle into www/pkg)");
    let bundle = crate::dist::build(root, Default::default())?;
    println!(
        "== editor bundle: {} B brotli (wasm + JS + CSS); Markdown module {} B brotli (loaded on first use)",
        bundle.total_brotli, bundle.markdown_brotli
    );
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
