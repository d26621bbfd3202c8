//! `cargo xtask reliability`: the figures behind SECURITY.md's promises,
//! measured in one run and written to `bench/results/reliability.json`
//! (and `.md`):
//!
//! - **fuzzing**: every `atelier-fuzz` target for a fixed time (executions
//!   and crashes per target, `cargo xtask fuzz`);
//! - **convergence under faults**: `atelier-sync`'s seeded fault simulation
//!   with N plans (`PROPTEST_CASES`);
//! - **kill -9 under load**: `atelier-server`'s `kill9` test with N kills
//!   (`ATELIER_KILL_ROUNDS`), acknowledged edits counted and checked;
//! - **hostile inputs**: the server's table (tokens, resource bombs) and
//!   the text table (paste, Markdown, chat, AI output), tried and accepted.
//!
//! `--quick` runs each small (a minute or two in all, plus the builds), so
//! CI keeps every part from rotting; the full run is for the results file.

use crate::cargo::cargo;
use crate::fuzz::{FuzzOptions, fuzz_all};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// How big each part is.
struct Sizes {
    fuzz_seconds: u64,
    plans: u64,
    kills: u64,
}

const FULL: Sizes = Sizes {
    fuzz_seconds: 600,
    plans: 5_000,
    kills: 200,
};

const QUICK: Sizes = Sizes {
    fuzz_seconds: 5,
    plans: 256,
    kills: 6,
};

/// `cargo xtask reliability [--quick] [--fuzz-seconds S] [--plans N] [--kills N] [--no-fuzz]`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut sizes = FULL;
    let mut fuzz = true;
    let mut it = args.iter();
    let mut quick = false;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => {
                sizes = QUICK;
                quick = true;
            }
            "--fuzz-seconds" => {
                sizes.fuzz_seconds = crate::parse_count("--fuzz-seconds", it.next())? as u64
            }
            "--plans" => sizes.plans = crate::parse_count("--plans", it.next())? as u64,
            "--kills" => sizes.kills = crate::parse_count("--kills", it.next())? as u64,
            "--no-fuzz" => fuzz = false,
            other => bail!("unknown reliability option {other:?}"),
        }
    }
    let root = crate::workspace_root()?;
    let started = Instant::now();
    let mut failed = Vec::new();

    let fuzz_part = if fuzz {
        let runs = fuzz_all(
            &root,
            &FuzzOptions {
                seconds_per_target: sizes.fuzz_seconds,
                only: Vec::new(),
                merge: false,
                quick,
            },
        )?;
        let crashes: u64 = runs.iter().map(|r| u64::from(r.crash.is_some())).sum();
        if crashes > 0 {
            failed.push(format!("fuzzing: {crashes} target(s) crashed"));
        }
        json!({
            "seconds_per_target": sizes.fuzz_seconds,
            "targets": runs.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "crashes": crashes,
            "min_executions": runs.iter().map(|r| r.executions).min().unwrap_or(0),
        })
    } else {
        json!({"skipped": "--no-fuzz"})
    };

    let sim = run_test(
        &root,
        "fault simulation",
        &[
            "test",
            "--release",
            "-p",
            "atelier-sync",
            "--test",
            "fault_simulation",
        ],
        &[("PROPTEST_CASES", sizes.plans.to_string())],
    )?;
    if !sim.passed {
        failed.push("fault simulation failed (its output names the seed and plan)".into());
    }
    let sim_part = json!({
        "plans": sizes.plans,
        "passed": sim.passed,
        "plans_survived": if sim.passed { sizes.plans } else { 0 },
    });

    let kill = run_test(
        &root,
        "kill -9",
        &[
            "test",
            "-p",
            "atelier-server",
            "--test",
            "kill9",
            "--",
            "--nocapture",
        ],
        &[("ATELIER_KILL_ROUNDS", sizes.kills.to_string())],
    )?;
    // "...: A of S edits acknowledged, all present after N kills"
    let acknowledged = kill
        .output
        .lines()
        .find(|l| l.contains("edits acknowledged, all present after"))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    if !kill.passed {
        failed.push("kill -9: an acknowledged edit was lost or the test failed".into());
    }
    let kill_part = json!({
        "kills": sizes.kills,
        "passed": kill.passed,
        "acknowledged_edits": acknowledged,
        "acknowledged_lost": if kill.passed { json!(0) } else { Value::Null },
    });

    let mut hostile = Vec::new();
    for (name, args) in [
        (
            "server",
            &[
                "test",
                "-p",
                "atelier-server",
                "--test",
                "hostile_inputs",
                "--",
                "--nocapture",
            ][..],
        ),
        (
            "text",
            &[
                "test",
                "-p",
                "atelier-ai",
                "--test",
                "hostile_text",
                "--",
                "--nocapture",
            ][..],
        ),
    ] {
        let t = run_test(&root, &format!("hostile {name}"), args, &[])?;
        let (tried, accepted) = hostile_counts(&t.output).unwrap_or((0, u64::MAX));
        if !t.passed || accepted != 0 {
            failed.push(format!("hostile {name}: {accepted} accepted"));
        }
        hostile.push(json!({"table": name, "tried": tried, "accepted": accepted}));
    }

    let doc = json!({
        "command": format!("cargo xtask reliability {}", args.join(" ")).trim_end().to_owned(),
        "machine": machine(),
        "seconds": started.elapsed().as_secs(),
        "fuzzing": fuzz_part,
        "fault_simulation": sim_part,
        "kill9": kill_part,
        "hostile_inputs": hostile,
        "failures": failed,
    });
    let out_dir = root.join("bench/results");
    std::fs::create_dir_all(&out_dir)?;
    let name = if quick {
        "reliability-quick"
    } else {
        "reliability"
    };
    let json_path = out_dir.join(format!("{name}.json"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc)? + "\n")?;
    std::fs::write(out_dir.join(format!("{name}.md")), markdown(&doc))?;
    println!("reliability: wrote {}", json_path.display());
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("reliability: FAILED: {}", failed.join("; "));
        Ok(ExitCode::FAILURE)
    }
}

/// What one test command printed and whether it passed.
struct TestRun {
    passed: bool,
    output: String,
}

fn run_test(root: &Path, what: &str, args: &[&str], env: &[(&str, String)]) -> Result<TestRun> {
    eprintln!("reliability: {what}: cargo {}", args.join(" "));
    let mut cmd = cargo();
    cmd.current_dir(root).args(args).stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run cargo for {what}"))?;
    let output = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        eprintln!("{output}");
    }
    Ok(TestRun {
        passed: out.status.success(),
        output,
    })
}

/// `HOSTILE <table> tried=N accepted=M` from a table test's output.
fn hostile_counts(output: &str) -> Option<(u64, u64)> {
    let line = output.lines().find(|l| l.starts_with("HOSTILE "))?;
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("tried=")?, field("accepted=")?))
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({"cpu": cpu, "cores": cores, "rustc": rustc})
}

/// The results as a Markdown table.
fn markdown(doc: &Value) -> String {
    let mut md = format!(
        "# Reliability\n\nCommand: `{}` ({} s on {} cores, {}).\n\n",
        doc["command"].as_str().unwrap_or(""),
        doc["seconds"],
        doc["machine"]["cores"],
        doc["machine"]["rustc"].as_str().unwrap_or("")
    );
    md.push_str("## Fuzzing\n\n| Target | Executions | Seconds | Exec/s | Corpus | Crashes |\n|---|---:|---:|---:|---:|---:|\n");
    for t in doc["fuzzing"]["targets"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            t["target"].as_str().unwrap_or(""),
            t["executions"],
            t["seconds"],
            t["executions_per_second"],
            t["corpus"],
            t["crashes"]
        ));
    }
    md.push_str(&format!(
        "\n## Faults\n\n| Part | Tried | Survived / refused | Lost / accepted |\n|---|---:|---:|---:|\n| Fault simulation (plans) | {} | {} | {} |\n| kill -9 under load (kills) | {} | {} | {} |\n",
        doc["fault_simulation"]["plans"],
        doc["fault_simulation"]["plans_survived"],
        if doc["fault_simulation"]["passed"] == true { "0" } else { "FAILED" },
        doc["kill9"]["kills"],
        if doc["kill9"]["passed"] == true { doc["kill9"]["kills"].clone() } else { json!(0) },
        doc["kill9"]["acknowledged_lost"]
    ));
    for h in doc["hostile_inputs"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| Hostile inputs ({}) | {} | {} | {} |\n",
            h["table"].as_str().unwrap_or(""),
            h["tried"],
            h["tried"]
                .as_u64()
                .unwrap_or(0)
                .saturating_sub(h["accepted"].as_u64().unwrap_or(0)),
            h["accepted"]
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_counts_are_read_from_the_tables_line() {
        let out = "noise\nHOSTILE server tried=29 accepted=0\n";
        assert_eq!(hostile_counts(out), Some((29, 0)));
        assert_eq!(hostile_counts("HOSTILE text tried=x accepted=0"), None);
        assert_eq!(hostile_counts("nothing"), None);
    }
}
