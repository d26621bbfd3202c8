//! Every committed corpus input (`corpus/TARGET/`) and every kept crash
//! (`regressions/TARGET/`) run through its target, without libFuzzer: a
//! crash found once stays fixed, and a change that makes a seed panic fails
//! here before any fuzzing.
//!
//! One file (a fresh libFuzzer crash, say):
//! `ATELIER_FUZZ_TARGET=jwt ATELIER_FUZZ_INPUT=crash-… cargo test -p atelier-fuzz --test corpus -- one_input --nocapture`.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs every file under `dir/TARGET/` through TARGET; returns how many ran.
fn replay(dir: &Path) -> usize {
    let mut ran = 0;
    for target in atelier_fuzz::TARGETS {
        let Ok(entries) = std::fs::read_dir(dir.join(target.name)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let Ok(data) = std::fs::read(file) else {
                panic!("cannot read {}", file.display());
            };
            // A panic names the file that caused it.
            let outcome = std::panic::catch_unwind(|| (target.run)(&data));
            assert!(
                outcome.is_ok(),
                "{} panicked on {}",
                target.name,
                file.display()
            );
            ran += 1;
        }
    }
    ran
}

#[test]
fn every_corpus_input_runs_clean() {
    let dir = crate_dir().join("corpus");
    let ran = replay(&dir);
    // Every target has seeds: an empty corpus would fuzz from nothing.
    for target in atelier_fuzz::TARGETS {
        let seeds = std::fs::read_dir(dir.join(target.name)).map_or(0, |d| d.count());
        assert!(seeds > 0, "corpus/{} has no seed", target.name);
    }
    println!("{ran} corpus inputs ran clean");
}

#[test]
fn every_kept_crash_stays_fixed() {
    let ran = replay(&crate_dir().join("regressions"));
    println!("{ran} kept crashes ran clean");
}

#[test]
fn one_input() {
    let (Ok(name), Ok(path)) = (
        std::env::var("ATELIER_FUZZ_TARGET"),
        std::env::var("ATELIER_FUZZ_INPUT"),
    ) else {
        println!("SKIPPED: one_input needs ATELIER_FUZZ_TARGET and ATELIER_FUZZ_INPUT");
        return;
    };
    let Some(target) = atelier_fuzz::target(&name) else {
        panic!("no target {name:?}");
    };
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    (target.run)(&data);
}
