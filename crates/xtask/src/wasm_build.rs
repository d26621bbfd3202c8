//! Building `atelier-bench-wasm` for Node: the wasm32 build with the
//! `wasm-release` profile, then `wasm-bindgen --target nodejs` with a CLI of
//! exactly the `wasm-bindgen` version in `Cargo.lock` (installed if missing).

use crate::cargo;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-unknown-unknown";

/// Builds the bench module; returns the directory holding
/// `atelier_bench_wasm.js` and the size of its `.wasm` file.
pub fn build(root: &Path, target_dir: &Path) -> Result<(PathBuf, u64)> {
    check_target_installed()?;
    eprintln!("building atelier-bench-wasm for {TARGET} (profile wasm-release)…");
    let files = cargo::build(
        root,
        &[
            "-p",
            "atelier-bench-wasm",
            "--lib",
            "--target",
            TARGET,
            "--profile",
            "wasm-release",
        ],
        "atelier_bench_wasm",
    )?;
    let wasm = files
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .context("the build produced no .wasm file")?;
    let bindgen = ensure_wasm_bindgen(root)?;
    let out_dir = target_dir.join("bench-wasm").join("pkg");
    let status = Command::new(&bindgen)
        .args(["--target", "nodejs", "--out-dir"])
        .arg(&out_dir)
        .arg(&wasm)
        .status()
        .with_context(|| format!("cannot run {}", bindgen.display()))?;
    if !status.success() {
        bail!("wasm-bindgen failed on {}", wasm.display());
    }
    let size = std::fs::metadata(out_dir.join("atelier_bench_wasm_bg.wasm"))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok((out_dir, size))
}

fn check_target_installed() -> Result<()> {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output()
    else {
        // No rustup: let cargo report a missing target itself.
        return Ok(());
    };
    if !String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        bail!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
    Ok(())
}

/// The version a `wasm-bindgen` binary reports, if it runs.
fn cli_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    // "wasm-bindgen 0.2.130"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub(crate) fn cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".cargo")
}

/// A `wasm-bindgen` CLI of exactly the locked crate version, installing it
/// with `cargo install` when neither `PATH` nor `$CARGO_HOME/bin` has one.
pub(crate) fn ensure_wasm_bindgen(root: &Path) -> Result<PathBuf> {
    let version = cargo::locked_version(root, "wasm-bindgen")?;
    let installed = cargo_home().join("bin").join("wasm-bindgen");
    for candidate in [PathBuf::from("wasm-bindgen"), installed.clone()] {
        if cli_version(&candidate).as_deref() == Some(version.as_str()) {
            return Ok(candidate);
        }
    }
    eprintln!(
        "installing wasm-bindgen-cli {version} (must equal the wasm-bindgen crate in Cargo.lock; \
         takes a few minutes)…"
    );
    // Without `--locked`: the CLI's own lockfile pins crate versions this
    // registry mirror lacks (see ../shared/TOOLCHAIN.md).
    let status = cargo::cargo()
        .args(["install", "wasm-bindgen-cli", "--version"])
        .arg(format!("={version}"))
        .status()
        .context("cannot run cargo install")?;
    if !status.success() {
        bail!("cargo install wasm-bindgen-cli --version ={version} failed");
    }
    match cli_version(&installed) {
        Some(v) if v == version => Ok(installed),
        other => bail!(
            "{} reports version {other:?} after installing {version}",
            installed.display()
        ),
    }
}
