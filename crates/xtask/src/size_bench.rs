//! `cargo xtask bench size`: where the editor bundle's bytes go.
//!
//! Builds the bundle exactly as `cargo xtask dist` does, then measures,
//! all in brotli bytes (what a browser downloads):
//! - the bundle's parts: editor wasm, JS, CSS, and the Markdown module;
//! - each crate's marginal share of the editor wasm's code
//!   ([`crate::wasm_size::attribute`], on a copy optimized the same way
//!   but keeping function names);
//! - the *size floor*: `atelier-size-floor`, the smallest collaborative text
//!   box on the same runtime (yrs, Leptos, serde_json, a WebSocket), built
//!   the same way. The bundle minus the floor is what the editor's own
//!   features cost;
//! - a peer: the BlockNote page the interop tests open
//!   (`peers/blocknote-page`: `@blocknote/core` without React, Yjs, the
//!   Hocuspocus provider), bundled for production with esbuild (`--minify`,
//!   `NODE_ENV=production`).
//!
//! Writes `bench/results/size.json` and `bench/results/size.md`.

use crate::dist::{self, TARGET_BYTES};
use crate::wasm_size::{self, Share};
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The floor crate and its wasm-bindgen output name.
const FLOOR: (&str, &str) = ("atelier-size-floor", "atelier_size_floor");

/// The floor's sizes.
struct Floor {
    wasm: usize,
    js: usize,
    /// Its code by group, as for the editor.
    shares: Vec<Share>,
}

/// The tools the measurements run: wasm-bindgen, wasm-opt, esbuild.
struct Tools {
    bindgen: PathBuf,
    wasm_opt: PathBuf,
    esbuild: PathBuf,
}

/// Optimizes the wasm-bindgen output `unoptimized` with `flags` into
/// `named` keeping its function names, and attributes its code
/// ([`wasm_size::attribute`]).
fn attribute_named(
    tools: &Tools,
    unoptimized: &Path,
    flags: &[&str],
    named: &Path,
) -> Result<(Vec<Share>, usize)> {
    dist::run_wasm_opt(&tools.wasm_opt, flags, unoptimized, named, true)?;
    let wasm = std::fs::read(named).with_context(|| named.display().to_string())?;
    println!(
        "attributing {} (one brotli pass per group)…",
        named.display()
    );
    wasm_size::attribute(&wasm)
}

/// Builds and measures `atelier-size-floor` in `dir`.
fn floor(root: &Path, tools: &Tools, dir: &Path) -> Result<Floor> {
    let wasm_dir = dist::compile(root, &[FLOOR.0], &[], dist::Options::default())?;
    dist::bindgen(&tools.bindgen, &wasm_dir, FLOOR.1, dir)?;
    let wasm_path = dir.join(format!("{}_bg.wasm", FLOOR.1));
    let unoptimized = dir.join(format!("{}_unoptimized.wasm", FLOOR.1));
    std::fs::copy(&wasm_path, &unoptimized).context("copying the floor's wasm")?;
    let (wasm, flags) = dist::optimize(&tools.wasm_opt, &wasm_path, false)?;
    let named = dir.join(format!("{}_named.wasm", FLOOR.1));
    let (shares, _) = attribute_named(tools, &unoptimized, flags, &named)?;
    let glue = dir.join(format!("{}.js", FLOOR.1));
    dist::minify(&tools.esbuild, &glue, &glue)?;
    Ok(Floor {
        wasm,
        js: dist::file_brotli(&glue)?,
        shares,
    })
}

/// Brotli bytes of the BlockNote test page (JS + CSS) bundled for
/// production into `dir`.
fn blocknote_page(root: &Path, esbuild: &Path, dir: &Path) -> Result<usize> {
    crate::node_packages::ensure(
        root,
        "peers",
        &["@blocknote/core", "@hocuspocus/provider", "yjs"],
    )?;
    let status = Command::new(esbuild)
        .arg(root.join("peers/blocknote-page/main.mjs"))
        .args([
            "--bundle",
            "--minify",
            "--format=esm",
            "--target=es2022",
            "--define:process.env.NODE_ENV=\"production\"",
            "--log-level=error",
        ])
        .arg(format!("--outdir={}", dir.display()))
        .current_dir(root.join("peers"))
        .status()
        .context("cannot run esbuild")?;
    if !status.success() {
        bail!("esbuild failed on peers/blocknote-page/main.mjs ({status})");
    }
    Ok(dist::file_brotli(&dir.join("main.js"))? + dist::file_brotli(&dir.join("main.css"))?)
}

/// The short hash of the checked-out commit, or "unknown".
fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `cargo xtask bench size`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let (mode, args) = crate::bench_mode::Mode::from_args(args);
    if let Some(arg) = args.first() {
        bail!("bench size takes no arguments but --quick (got {arg})");
    }
    if mode == crate::bench_mode::Mode::Quick {
        // Its figures are `dist`'s, which CI's dist step already holds to
        // the budget; the attribution and the floor are two more optimized
        // builds (about 20 minutes on two busy cores).
        println!(
            "SKIPPED: bench size in --quick (the bundle's bytes are checked by `cargo xtask dist`; \
             the per-crate attribution and the floor need full builds)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let root = crate::workspace_root()?;
    let bundle = dist::build(&root, dist::Options::default())?;
    let dir = crate::cargo::target_dir(&root)?.join("size-bench");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context("cannot clear target/size-bench")?;
    }
    std::fs::create_dir_all(&dir).context("cannot create target/size-bench")?;

    let (wasm_opt, esbuild) = dist::npm_tools(&root)?;
    let tools = Tools {
        bindgen: crate::wasm_build::ensure_wasm_bindgen(&root)?,
        wasm_opt,
        esbuild,
    };
    // The editor wasm again, optimized the same way but with its names.
    dist::bindgen(&tools.bindgen, &bundle.wasm_dir, "atelier_elements", &dir)?;
    let (shares, code_brotli) = attribute_named(
        &tools,
        &dir.join("atelier_elements_bg.wasm"),
        bundle.wasm_opt_flags,
        &dir.join("atelier_elements_named.wasm"),
    )?;
    let floor = floor(&root, &tools, &dir)?;
    let blocknote = blocknote_page(&root, &tools.esbuild, &dir.join("blocknote"))?;

    let commit = git_commit();
    let when = crate::bench::now_utc();
    let md = report(
        &bundle,
        &shares,
        code_brotli,
        &floor,
        blocknote,
        &commit,
        &when,
    );
    let results = mode.results_dir(&root)?;
    std::fs::write(results.join("size.md"), &md).context("writing size.md")?;
    let json = json!({
        "commit": commit,
        "generated": when,
        "target_bytes": TARGET_BYTES,
        "editor_bundle_brotli": bundle.total_brotli,
        "editor_wasm_brotli": bundle.wasm_brotli,
        "editor_code_section_brotli": code_brotli,
        "markdown_module_brotli": bundle.markdown_brotli,
        "floor_wasm_brotli": floor.wasm,
        "floor_js_brotli": floor.js,
        "blocknote_core_page_brotli": blocknote,
        "groups": shares.iter().map(|s| json!({
            "group": s.group, "functions": s.functions, "raw": s.raw, "brotli_marginal": s.brotli,
        })).collect::<Vec<_>>(),
        "floor_groups": floor.shares.iter().map(|s| json!({
            "group": s.group, "functions": s.functions, "raw": s.raw, "brotli_marginal": s.brotli,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(
        results.join("size.json"),
        serde_json::to_string_pretty(&json)?,
    )
    .context("writing size.json")?;
    print!("{md}");
    println!("wrote size.md and size.json in {}", results.display());
    Ok(ExitCode::SUCCESS)
}

/// The Markdown report.
fn report(
    bundle: &dist::Bundle,
    shares: &[Share],
    code_brotli: usize,
    floor: &Floor,
    blocknote: usize,
    commit: &str,
    when: &str,
) -> String {
    let mut md = String::new();
    let floor_total = floor.wasm + floor.js;
    let _ = writeln!(md, "# Editor bundle size\n");
    let _ = writeln!(
        md,
        "Generated by `cargo xtask bench size` ({when}, commit {commit}). All sizes are brotli \
         (quality 11) bytes, what a browser downloads.\n"
    );
    let _ = writeln!(md, "| part | brotli bytes |\n|---|---:|");
    let _ = writeln!(
        md,
        "| **editor bundle: wasm + JS + CSS** (target {TARGET_BYTES}) | **{}** |",
        bundle.total_brotli
    );
    let _ = writeln!(md, "| editor wasm | {} |", bundle.wasm_brotli);
    let _ = writeln!(
        md,
        "| editor wasm: code section alone | {code_brotli} |\n\
         | Markdown module, loaded on first use (wasm + JS) | {} |\n\
         | size floor: `atelier-size-floor` (wasm + JS) | {floor_total} |\n\
         | editor bundle minus the floor | {} |\n\
         | peer: BlockNote page without React (`@blocknote/core`, Yjs, Hocuspocus provider; JS + CSS) | {blocknote} |\n",
        bundle.markdown_brotli,
        bundle.total_brotli.saturating_sub(floor_total)
    );
    let _ = writeln!(
        md,
        "The *size floor* is the smallest collaborative text box on the editor's runtime \
         (yrs in BlockNote's shape, deep observation, undo, sticky positions, v1 updates over \
         a WebSocket, a JSON awareness state, a Leptos view), built like the bundle. The peer \
         is `peers/blocknote-page` (what the interop tests open) bundled for production with \
         esbuild; a React BlockNote page, as La Suite Docs ships, loads more (React, Mantine \
         and `@blocknote/react` on top).\n"
    );
    let _ = writeln!(
        md,
        "## Where the editor wasm's code goes\n\n\
         Functions are grouped by the crate whose code made them: generic standard-library \
         code (hash maps, vectors) counts for the crate that instantiated it, and Leptos', \
         wasm-bindgen's and serde's crates count as one runtime each. *Marginal* is the code \
         section's brotli size minus its size without the group: what removing the group \
         would save. Marginals add up to less than the whole, since groups share patterns. \
         The last column is the same measure in the size floor: for a runtime, the \
         difference is what the editor's use of it adds.\n"
    );
    let _ = writeln!(
        md,
        "| group | functions | raw bytes | marginal brotli bytes | in the floor |\n\
         |---|---:|---:|---:|---:|"
    );
    for s in shares.iter().filter(|s| s.brotli >= 200) {
        let in_floor = floor
            .shares
            .iter()
            .find(|f| f.group == s.group)
            .map_or_else(|| "–".to_owned(), |f| f.brotli.to_string());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {in_floor} |",
            s.group, s.functions, s.raw, s.brotli
        );
    }
    let small: Vec<&Share> = shares.iter().filter(|s| s.brotli < 200).collect();
    if !small.is_empty() {
        let _ = writeln!(
            md,
            "| {} smaller groups | {} | {} | {} | |",
            small.len(),
            small.iter().map(|s| s.functions).sum::<usize>(),
            small.iter().map(|s| s.raw).sum::<usize>(),
            small.iter().map(|s| s.brotli).sum::<usize>()
        );
    }
    md
}
