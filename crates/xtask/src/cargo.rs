//! Running cargo from xtask: builds whose artifacts we need, the target
//! directory, and versions pinned in `Cargo.lock`.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo that runs us (`$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cargo build ARGS` in `root` and returns the files of the artifacts
/// of package target `target_name` (diagnostics go to our stderr).
pub fn build(root: &Path, args: &[&str], target_name: &str) -> Result<Vec<PathBuf>> {
    let out = cargo()
        .current_dir(root)
        .arg("build")
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo")?;
    if !out.status.success() {
        bail!("cargo build {} failed", args.join(" "));
    }
    let mut files = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["name"] != target_name {
            continue;
        }
        if let Some(exe) = msg["executable"].as_str() {
            files.push(PathBuf::from(exe));
        }
        if let Some(list) = msg["filenames"].as_array() {
            files.extend(list.iter().filter_map(Value::as_str).map(PathBuf::from));
        }
    }
    if files.is_empty() {
        bail!(
            "cargo build {} produced no artifact for {target_name}",
            args.join(" ")
        );
    }
    Ok(files)
}

/// The workspace's target directory (honours `CARGO_TARGET_DIR` and config).
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    let out = cargo()
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed");
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

/// The version of package `name` in `Cargo.lock` (the first one listed).
pub fn locked_version(root: &Path, name: &str) -> Result<String> {
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(v.to_owned());
        }
    }
    bail!("{name} is not in Cargo.lock")
}
