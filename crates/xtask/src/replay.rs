//! `cargo xtask replay FILE...`: replays traces and checks their end content.

use crate::trace_file;
use anyhow::{Result, bail};
use atelier_doc::trace::{BlockKind, Mismatch, ReplayOptions, replay};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Runs the command; the exit code is non-zero if any file failed.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut options = ReplayOptions::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--block" => {
                options.block = match it.next().map(String::as_str) {
                    Some("code") => BlockKind::CodeBlock,
                    Some("paragraph") => BlockKind::Paragraph,
                    other => bail!("--block expects `code` or `paragraph`, not {other:?}"),
                }
            }
            flag if flag.starts_with("--") => bail!("unknown option {flag:?}"),
            file => files.push(PathBuf::from(file)),
        }
    }
    if files.is_empty() {
        bail!("no trace file given: cargo xtask replay FILE...");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build of xtask; times are several times slower than release"
        );
    }
    let mut failures = 0;
    for file in &files {
        let name = trace_file::trace_name(file);
        match replay_one(file, &options) {
            Ok((summary, None)) => println!("{name}: {summary}: OK"),
            Ok((summary, Some(mismatch))) => {
                failures += 1;
                println!("{name}: {summary}: MISMATCH {mismatch}");
            }
            Err(e) => {
                failures += 1;
                println!("{name}: ERROR {e:#}");
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} of {} traces failed", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Replays one file: its summary and where it differs from `endContent`.
fn replay_one(
    file: &std::path::Path,
    options: &ReplayOptions,
) -> Result<(String, Option<Mismatch>)> {
    let trace = trace_file::load(file)?;
    let started = Instant::now();
    let done = replay(&trace, options)?;
    let elapsed = started.elapsed();
    let summary = format!(
        "{} trace, {} ops in {} txns, final length {} scalars ({} UTF-16), {:.3} s",
        trace.kind(),
        done.stats.patches,
        done.stats.txns,
        done.stats.final_scalar_len,
        done.stats.final_utf16_len,
        elapsed.as_secs_f64()
    );
    Ok((summary, done.mismatch(trace.end_content())))
}
