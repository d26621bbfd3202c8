//! `cargo xtask serve [ARGS...]`: the main job — builds the server in
//! release mode and runs `atelier serve ARGS` (SQLite in `./data`, the
//! gallery from `www/` on http://127.0.0.1:8080 by default). When the
//! widget bundle can be built (`scripts/dist.sh`), it is built first so the
//! gallery has it.

use crate::cargo::cargo;
use anyhow::{Context, Result};
use std::process::{Command, ExitCode};

/// Builds and runs the server, forwarding `args` to `atelier serve`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let root = crate::workspace_root()?;
    let dist = root.join("scripts/dist.sh");
    if dist.exists() && !root.join("www/pkg").exists() {
        println!("building the widget bundle into www/pkg …");
        let ok = Command::new("bash")
            .arg(&dist)
            .current_dir(&root)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("warning: the widget bundle did not build; the server starts without it");
        }
    }
    let status = cargo()
        .current_dir(&root)
        .args([
            "run",
            "--release",
            "-p",
            "atelier-server",
            "--bin",
            "atelier",
            "--",
            "serve",
        ])
        .args(args)
        .status()
        .context("cannot run cargo")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
