//! The dependency gates of `cargo xtask ci`: cargo-deny (`deny.toml`:
//! licences, duplicate versions, sources, and advisories where the RustSec
//! database is on the machine) and cargo-machete (dependencies that no code
//! uses). Both are cargo subcommands installed by
//! `scripts/setup-and-test.sh` at the versions below; a missing or
//! different one fails the step with the command that installs it.

use crate::cargo::cargo;
use crate::ci::step;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Keep equal to `CARGO_DENY_VERSION` in `scripts/setup-and-test.sh`.
pub const CARGO_DENY_VERSION: &str = "0.20.2";
/// Keep equal to `CARGO_MACHETE_VERSION` in `scripts/setup-and-test.sh`.
pub const CARGO_MACHETE_VERSION: &str = "0.9.2";

/// `cargo SUBCOMMAND`, in an environment where the subcommand knows it was
/// started by cargo: cargo-machete decides that from `CARGO` being set and
/// `CARGO_PKG_NAME` not, and `cargo xtask` (a `cargo run`) sets both.
fn cargo_subcommand(subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.arg(subcommand).env_remove("CARGO_PKG_NAME");
    cmd
}

/// Fails unless `cargo SUBCOMMAND --version` reports `version`.
fn require(subcommand: &str, package: &str, version: &str) -> Result<()> {
    let install = format!("cargo install {package} --version ={version} --locked");
    let out = cargo_subcommand(subcommand).arg("--version").output();
    let reported = match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => bail!("{package} is not installed: `{install}` (scripts/setup-and-test.sh does)"),
    };
    // "cargo-deny 0.20.2"; cargo-machete prints the bare "0.9.2"
    if !reported.split_whitespace().any(|word| word == version) {
        bail!("{package} reports {reported:?}, CI pins {version}: `{install}`");
    }
    Ok(())
}

/// `cargo deny check` with the workspace's `deny.toml`.
///
/// Licences, bans (duplicate versions are warnings, counted in the
/// summary; `cargo deny check bans` lists them) and sources always run.
/// Advisories need the RustSec database, which `cargo deny fetch` clones
/// from GitHub: where it is already on the machine it is checked as it is,
/// never fetched here (CI's network reaches only the package registries);
/// elsewhere the step says SKIPPED and why.
pub fn deny(root: &Path) -> Result<()> {
    require("deny", "cargo-deny", CARGO_DENY_VERSION)?;
    step(
        "cargo deny check licenses bans sources",
        cargo().current_dir(root).args([
            "deny",
            "--log-level",
            "error",
            "check",
            "--show-stats",
            "licenses",
            "bans",
            "sources",
        ]),
    )?;
    match advisory_database()? {
        Some((dir, date)) => step(
            &format!(
                "cargo deny check advisories (database {} of {date}, not refreshed)",
                dir.display()
            ),
            // --offline: the database is used as it is, never fetched.
            cargo()
                .current_dir(root)
                .args(["deny", "--offline", "check", "advisories"]),
        ),
        None => {
            println!(
                "SKIPPED: cargo deny check advisories (no RustSec advisory database in {}: \
                 `cargo deny fetch` clones it from GitHub, which this machine cannot reach)",
                advisory_dbs_dir().display()
            );
            Ok(())
        }
    }
}

/// Where cargo-deny keeps advisory databases by default.
fn advisory_dbs_dir() -> PathBuf {
    crate::wasm_build::cargo_home().join("advisory-dbs")
}

/// The RustSec database cargo-deny would use, and the date of its last
/// commit, if one was fetched on this machine.
fn advisory_database() -> Result<Option<(PathBuf, String)>> {
    let dir = advisory_dbs_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    for entry in entries {
        let path = entry.context("listing the advisory databases")?.path();
        let is_rustsec = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("advisory-db-"));
        if is_rustsec && path.join("crates").is_dir() {
            let date = Command::new("git")
                .args(["log", "-1", "--format=%cs"])
                .current_dir(&path)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_else(|| "unknown date".to_owned());
            return Ok(Some((path, date)));
        }
    }
    Ok(None)
}

/// `cargo machete --with-metadata`: every dependency a crate declares is
/// named in its code. A dependency used only in a way the tool cannot see
/// (a macro's generated code, say) goes in the crate's
/// `[package.metadata.cargo-machete] ignored`, with a comment saying why.
pub fn unused_dependencies(root: &Path) -> Result<()> {
    require("machete", "cargo-machete", CARGO_MACHETE_VERSION)?;
    step(
        "cargo machete (unused dependencies)",
        cargo_subcommand("machete")
            .current_dir(root)
            .arg("--with-metadata"),
    )
}
