//! The workspace's npm packages, one per purpose, each with its own
//! lockfile: `tools/build` (esbuild and binaryen for `dist`), `bench` (the
//! benchmark drivers' Yjs and playwright-core), `e2e` (the browser tests)
//! and `peers` (the real Yjs, Hocuspocus, BlockNote and MCP peers that Rust
//! tests spawn and browser tests open). xtask installs the one a command
//! needs, from its lockfile, when it is missing.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `DIR/node_modules` of the package in `dir` (relative to `root`), after
/// `npm ci` there if any of `needed` (paths inside `node_modules`) is
/// missing. `npm ci` replaces the whole `node_modules`, so it only runs
/// when something is absent.
pub fn ensure(root: &Path, dir: &str, needed: &[&str]) -> Result<PathBuf> {
    let modules = root.join(dir).join("node_modules");
    if needed.iter().all(|n| modules.join(n).exists()) {
        return Ok(modules);
    }
    println!("\n== npm ci in {dir}/ ({})", needed.join(", "));
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(root.join(dir))
        .status()
        .with_context(|| format!("cannot run npm ci in {dir}/ (is Node.js installed?)"))?;
    if !status.success() {
        bail!("npm ci in {dir}/ failed ({status})");
    }
    if let Some(absent) = needed.iter().find(|n| !modules.join(n).exists()) {
        bail!("npm ci in {dir}/ did not install {absent}");
    }
    Ok(modules)
}
