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

/// Crates that build for the browser only (their tests run in Chromium).
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
    let mut tests = in_root(cargo());
    tests.args(["test", "--workspace"]);
    for k in BROWSER_CRATES.iter().filter(|k| exists(&root, k)) {
        tests.args(["--exclude", k]);
    }
    step("cargo test (native)", &mut tests)?;
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
        step(
            &format!("browser tests of {k} (headless Chromium)"),
            in_root(cargo())
                .args(["test", "-p", k, "--target", "wasm32-unknown-unknown"])
                .env("CHROMEDRIVER", chromedriver),
        )?;
    }
    println!("\nall checks passed");
    Ok(ExitCode::SUCCESS)
}
