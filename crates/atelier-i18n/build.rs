//! Compiles the Fluent catalogue (`messages/<lang>/<widget>.ftl`) to Rust:
//! the work is in `build/compile.rs` (its tests, on broken catalogues, are
//! `tests/catalogue_checks.rs`). The build fails, listing every problem,
//! when a language lacks a message the English catalogue has, has one it
//! lacks, or uses a variable differently.

use std::path::Path;

#[path = "build/compile.rs"]
mod compile;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=messages");
    // Read when the script runs, not when it was compiled: a target
    // directory shared by two checkouts may reuse the compiled script.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into());
    let dir = Path::new(&manifest_dir).join("messages");
    let mut errors = Vec::new();
    let generated = compile::compile(&dir, &mut errors);
    if !errors.is_empty() || generated.is_none() {
        eprintln!("The message catalogue (crates/atelier-i18n/messages) has problems:");
        for e in &errors {
            eprintln!("error: {e}");
        }
        std::process::exit(1);
    }
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalogue.rs");
    std::fs::write(&out, generated.unwrap_or_default()).expect("writing the generated catalogue");
}
