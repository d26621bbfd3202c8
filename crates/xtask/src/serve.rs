//! `cargo xtask serve [ARGS...]`: the main job — builds the server in
//! release mode and runs `atelier serve ARGS` (SQLite in `./data`, the
//! gallery from `www/` on http://127.0.0.1:8080 by default). When the
//! widget bundle is missing, `cargo xtask dist` builds it first so the
//! gallery has it.

use crate::cargo::cargo;
use anyhow::{Context, Result};
use std::process::ExitCode;

/// Builds and runs the server, forwarding `args` to `atelier serve`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let root = crate::workspace_root()?;
    if !root.join("www/pkg/atelier-elements.js").exists() {
        println!("building the widget bundle into www/pkg …");
        if let Err(e) = crate::dist::build(&root, Default::default()) {
            eprintln!(
                "warning: the widget bundle did not build ({e:#}); the server starts without it"
            );
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
