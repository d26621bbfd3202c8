//! `cargo xtask dist`: builds the widget bundle into `www/pkg/` with no tool
//! downloaded at run time: the wasm release build, `wasm-bindgen` (the CLI
//! at exactly the crate version in `Cargo.lock`, installed from crates.io
//! if missing), and `wasm-opt` from npm's `binaryen@132` (Debian's v108
//! corrupts the externref table export). Every `wasm-opt` level is tried and
//! the one smallest *after brotli* is kept — the size users download —
//! since the smallest raw file is often not.

use crate::cargo::cargo;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
const LEVELS: &[&str] = &["O1", "O2", "Os", "Oz"];

/// Bytes of `data` compressed with brotli at quality 11 (what static hosts serve).
pub fn brotli_size(data: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(data).context("brotli")?;
    }
    Ok(out.len())
}

fn run_ok(what: &str, cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The bundle's files and sizes after a build.
pub struct Bundle {
    /// `www/pkg`.
    pub dir: PathBuf,
    /// Brotli size of the wasm kept.
    pub wasm_brotli: usize,
    /// Brotli size of wasm + JS + CSS.
    pub total_brotli: usize,
}

/// Builds the bundle; prints each variant's raw and brotli sizes.
pub fn build(root: &Path) -> Result<Bundle> {
    run_ok(
        "cargo build (atelier-elements, wasm-release)",
        cargo().current_dir(root).args([
            "build",
            "-p",
            "atelier-elements",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ]),
    )?;
    let wasm = crate::cargo::target_dir(root)?
        .join(TARGET)
        .join(PROFILE)
        .join("atelier_elements.wasm");
    let bindgen = crate::wasm_build::ensure_wasm_bindgen(root)?;
    let wasm_opt = root.join("e2e/node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        run_ok(
            "npm ci in e2e/ (binaryen@132 for wasm-opt)",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(root.join("e2e")),
        )?;
    }
    let out = root.join("www/pkg");
    let types = out.join(".types");
    std::fs::create_dir_all(&out).context("cannot create www/pkg")?;
    run_ok(
        "wasm-bindgen",
        Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "atelier_elements",
                "--out-dir",
            ])
            .arg(&out)
            .arg(&wasm),
    )?;
    run_ok(
        "wasm-bindgen (types)",
        Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--out-name",
                "atelier_elements",
                "--out-dir",
            ])
            .arg(&types)
            .arg(&wasm),
    )?;
    std::fs::rename(
        types.join("atelier_elements.d.ts"),
        out.join("atelier_elements.d.ts"),
    )
    .context("moving the generated type declarations")?;
    let _ = std::fs::remove_dir_all(&types);
    let js = root.join("crates/atelier-elements/js");
    for (from, name) in [
        (js.join("atelier-elements.js"), "atelier-elements.js"),
        (js.join("atelier-elements.d.ts"), "atelier-elements.d.ts"),
        (root.join("styles/editor.css"), "editor.css"),
        (root.join("styles/tokens.css"), "tokens.css"),
    ] {
        std::fs::copy(&from, out.join(name))
            .with_context(|| format!("copying {}", from.display()))?;
    }

    let base = out.join("atelier_elements_bg.wasm");
    let plain = std::fs::read(&base).context("reading the wasm-bindgen output")?;
    let mut best = ("none".to_owned(), brotli_size(&plain)?, plain.clone());
    println!(
        "{:<6} raw {:>9} B   brotli {:>8} B",
        "none",
        plain.len(),
        best.1
    );
    let tmp = out.join(".opt.wasm");
    for level in LEVELS {
        run_ok(
            &format!("wasm-opt -{level}"),
            Command::new(&wasm_opt)
                .arg(format!("-{level}"))
                .args([
                    "--enable-reference-types",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--strip-debug",
                    "--strip-producers",
                ])
                .arg(&base)
                .arg("-o")
                .arg(&tmp),
        )?;
        let bytes = std::fs::read(&tmp).context("reading wasm-opt output")?;
        let size = brotli_size(&bytes)?;
        println!("{level:<6} raw {:>9} B   brotli {size:>8} B", bytes.len());
        if size < best.1 {
            best = (level.to_string(), size, bytes);
        }
    }
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&base, &best.2).context("writing the kept wasm")?;
    let mut total = best.1;
    for name in [
        "atelier_elements.js",
        "atelier-elements.js",
        "editor.css",
        "tokens.css",
    ] {
        total += brotli_size(&std::fs::read(out.join(name)).with_context(|| name.to_owned())?)?;
    }
    println!(
        "kept wasm-opt -{}: wasm {} B brotli; bundle (wasm + JS + CSS) {total} B brotli",
        best.0, best.1
    );
    Ok(Bundle {
        dir: out,
        wasm_brotli: best.1,
        total_brotli: total,
    })
}

/// `cargo xtask dist`.
pub fn run(_args: &[String]) -> Result<ExitCode> {
    let root = crate::workspace_root()?;
    let bundle = build(&root)?;
    println!(
        "bundle in {}: wasm {} B brotli, total {} B brotli",
        bundle.dir.display(),
        bundle.wasm_brotli,
        bundle.total_brotli
    );
    Ok(ExitCode::SUCCESS)
}
