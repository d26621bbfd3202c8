//! How a benchmark run is made. The full run builds in release mode and
//! writes `bench/results/`; `--quick` (what CI runs, `cargo xtask bench
//! --quick`) runs every benchmark with tiny sizes from dev builds (the ones
//! the test steps already made) into `target/bench-quick/`, so no benchmark
//! rots and the committed figures are never replaced by a quick run's.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The full run or the quick one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Release builds, the benchmark's own sizes, `bench/results/`.
    Full,
    /// Dev builds, tiny sizes, `target/bench-quick/`.
    Quick,
}

impl Mode {
    /// The mode `args` ask for, and `args` without `--quick`.
    pub(crate) fn from_args(args: &[String]) -> (Mode, Vec<String>) {
        let quick = args.iter().any(|a| a == "--quick");
        let rest = args.iter().filter(|a| *a != "--quick").cloned().collect();
        (if quick { Mode::Quick } else { Mode::Full }, rest)
    }

    /// Where this run's results files go (created if missing).
    pub(crate) fn results_dir(self, root: &Path) -> Result<PathBuf> {
        let dir = match self {
            Mode::Full => root.join("bench/results"),
            Mode::Quick => crate::cargo::target_dir(root)?.join("bench-quick"),
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// The cargo arguments choosing the build profile.
    pub(crate) fn cargo_profile(self) -> &'static [&'static str] {
        match self {
            Mode::Full => &["--release"],
            Mode::Quick => &[],
        }
    }

    /// The directory under `target/` that profile builds into.
    pub(crate) fn profile_dir(self) -> &'static str {
        match self {
            Mode::Full => "release",
            Mode::Quick => "debug",
        }
    }

    /// Environment for the browser drivers (`bench/drivers/*.mjs`): the
    /// quick run's sizes; none for the full run.
    pub(crate) fn driver_env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Mode::Full => &[],
            Mode::Quick => &[
                ("ATELIER_BENCH_KEYS", "20"),
                ("ATELIER_BENCH_SIZES", "1"),
                ("ATELIER_BENCH_MODES", "unpaced"),
                ("ATELIER_BENCH_MESSAGES", "300"),
                ("ATELIER_BENCH_OPENS", "1"),
                ("ATELIER_BENCH_SENDS", "10"),
                ("ATELIER_BENCH_FRAMES", "30"),
                ("ATELIER_BENCH_FLOOR_RUNS", "1"),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_is_taken_out_of_the_arguments() {
        let args: Vec<String> = ["--runs", "2", "--quick"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (mode, rest) = Mode::from_args(&args);
        assert_eq!(mode, Mode::Quick);
        assert_eq!(rest, ["--runs", "2"]);
        assert_eq!(Mode::from_args(&rest).0, Mode::Full);
        assert_eq!(Mode::Quick.cargo_profile(), [] as [&str; 0]);
        assert_eq!(Mode::Full.profile_dir(), "release");
    }
}
