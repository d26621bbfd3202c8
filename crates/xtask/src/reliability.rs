//! `cargo xtask reliability`: the figures behind SECURITY.md's promises,
//! measured in one run and written to `bench/results/reliability.json`
//! (and `.md`):
//!
//! - **fuzzing**: every `atelier-fuzz` target for a fixed time, or until it
//!   has executed N inputs (`--fuzz-execs`, the time then a cap), with
//!   executions, rate and crashes per target (`cargo xtask fuzz`);
//! - **convergence under faults**: `atelier-sync`'s seeded fault simulation
//!   with N plans (`PROPTEST_CASES`);
//! - **kill -9 under load**: `atelier-server`'s `kill9` test with N kills
//!   (`ATELIER_KILL_ROUNDS`), acknowledged edits counted and checked;
//! - **hostile inputs**: the server's table (tokens, resource bombs) and
//!   the text table (paste, Markdown, chat, AI output), tried and accepted.
//!
//! `--quick` runs each small (a minute or two in all, plus the builds), so
//! CI keeps every part from rotting; the full run is for the results file.
//! `--no-fuzz` or `--no-faults` (the last three parts) skips a part and
//! keeps its figures from the previous results file, each part with the
//! command that measured it, so a long fuzzing run does not erase the
//! fault figures (or the reverse).

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

/// The cap on each target's time when `--fuzz-execs` is given without
/// `--fuzz-seconds`.
const EXECS_DEFAULT_CAP_SECONDS: u64 = 4 * 3600;

/// `cargo xtask reliability [--quick] [--fuzz-seconds S] [--fuzz-execs N] [--fuzz-jobs N] [--fuzz-total-seconds T] [--no-asan] [--plans N] [--kills N] [--no-fuzz] [--no-faults]`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut sizes = FULL;
    let mut fuzz = true;
    let mut faults = true;
    let mut fuzz_execs = None;
    let mut fuzz_seconds_given = false;
    let mut fuzz_jobs = 1;
    let mut fuzz_total = None;
    let mut asan = true;
    let mut it = args.iter();
    let mut quick = false;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => {
                sizes = QUICK;
                quick = true;
            }
            "--fuzz-seconds" => {
                sizes.fuzz_seconds = crate::parse_count("--fuzz-seconds", it.next())? as u64;
                fuzz_seconds_given = true;
            }
            "--fuzz-execs" => {
                fuzz_execs = Some(crate::parse_count("--fuzz-execs", it.next())? as u64)
            }
            "--fuzz-jobs" => fuzz_jobs = crate::parse_count("--fuzz-jobs", it.next())?,
            "--fuzz-total-seconds" => {
                fuzz_total = Some(crate::parse_count("--fuzz-total-seconds", it.next())? as u64)
            }
            "--no-asan" => asan = false,
            "--plans" => sizes.plans = crate::parse_count("--plans", it.next())? as u64,
            "--kills" => sizes.kills = crate::parse_count("--kills", it.next())? as u64,
            "--no-fuzz" => fuzz = false,
            "--no-faults" => faults = false,
            other => bail!("unknown reliability option {other:?}"),
        }
    }
    if fuzz_execs.is_some() && !fuzz_seconds_given {
        sizes.fuzz_seconds = EXECS_DEFAULT_CAP_SECONDS;
    }
    let root = crate::workspace_root()?;
    let started = Instant::now();
    let mut failed = Vec::new();
    let command = format!("cargo xtask reliability {}", args.join(" "))
        .trim_end()
        .to_owned();
    let out_dir = root.join("bench/results");
    let name = if quick {
        "reliability-quick"
    } else {
        "reliability"
    };
    let json_path = out_dir.join(format!("{name}.json"));
    // The parts this run skips keep their figures from the previous run.
    let previous: Option<Value> = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let carried = |part: &str| -> Result<Value> {
        let prev = previous.as_ref().with_context(|| {
            format!(
                "no previous {} to keep the {part} from",
                json_path.display()
            )
        })?;
        let mut value = prev[part].clone();
        if value.is_null() || value.get("skipped").is_some() {
            bail!(
                "the previous {} has no {part} figures to keep",
                json_path.display()
            );
        }
        if let Some(obj) = value.as_object_mut() {
            let from = obj
                .get("measured_by")
                .cloned()
                .unwrap_or_else(|| json!({"command": prev["command"], "seconds": prev["seconds"]}));
            obj.insert("measured_by".into(), from);
        }
        Ok(value)
    };

    let fuzz_part = if fuzz {
        let fuzz_started = Instant::now();
        let runs = fuzz_all(
            &root,
            &FuzzOptions {
                seconds_per_target: sizes.fuzz_seconds,
                executions: fuzz_execs,
                only: Vec::new(),
                merge: false,
                quick,
                asan,
                jobs: fuzz_jobs,
                total_seconds: fuzz_total,
            },
        )?;
        let crashes: u64 = runs.iter().map(|r| u64::from(r.crash.is_some())).sum();
        if crashes > 0 {
            crate::fuzz::report_crashes(&runs);
            failed.push(format!("fuzzing: {crashes} target(s) crashed"));
        }
        json!({
            "measured_by": {"command": command, "seconds": fuzz_started.elapsed().as_secs()},
            "sanitizer": if asan { "address" } else { "none" },
            "jobs": fuzz_jobs,
            "seconds_per_target": sizes.fuzz_seconds,
            "total_seconds_bound": fuzz_total,
            "executions_goal": fuzz_execs,
            "targets_reaching_goal": fuzz_execs.map(|g| runs.iter().filter(|r| r.executions >= g).count()),
            "targets": runs.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "crashes": crashes,
            "min_executions": runs.iter().map(|r| r.executions).min().unwrap_or(0),
            "total_executions": runs.iter().map(|r| r.executions).sum::<u64>(),
        })
    } else {
        carried("fuzzing")?
    };
    if !fuzz && fuzz_part["crashes"].as_u64() != Some(0) {
        failed.push("fuzzing (kept from the previous run) had crashes".into());
    }

    let (sim_part, kill_part, hostile) = if faults {
        faults_parts(&root, &sizes, &command, &mut failed)?
    } else {
        let sim = carried("fault_simulation")?;
        let kill = carried("kill9")?;
        let mut hostile = previous
            .as_ref()
            .map(|p| p["hostile_inputs"].clone())
            .unwrap_or(Value::Null);
        if !hostile.is_array() {
            bail!(
                "the previous {} has no hostile input figures to keep",
                json_path.display()
            );
        }
        let from = sim["measured_by"].clone();
        for h in hostile.as_array_mut().into_iter().flatten() {
            if let Some(obj) = h.as_object_mut() {
                obj.entry("measured_by").or_insert_with(|| from.clone());
            }
        }
        if sim["passed"] != true || kill["passed"] != true {
            failed.push("a fault part (kept from the previous run) had failed".into());
        }
        (sim, kill, hostile)
    };

    let doc = json!({
        "command": command,
        "machine": machine(),
        "seconds": started.elapsed().as_secs(),
        "fuzzing": fuzz_part,
        "fault_simulation": sim_part,
        "kill9": kill_part,
        "hostile_inputs": hostile,
        "failures": failed,
    });
    std::fs::create_dir_all(&out_dir)?;
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

/// Runs the fault simulation, kill -9 and the hostile input tables.
fn faults_parts(
    root: &Path,
    sizes: &Sizes,
    command: &str,
    failed: &mut Vec<String>,
) -> Result<(Value, Value, Value)> {
    let started = Instant::now();

    let sim = run_test(
        root,
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
    let mut sim_part = json!({
        "plans": sizes.plans,
        "passed": sim.passed,
        "plans_survived": if sim.passed { sizes.plans } else { 0 },
    });

    let kill = run_test(
        root,
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
    let mut kill_part = json!({
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
        let t = run_test(root, &format!("hostile {name}"), args, &[])?;
        let (tried, accepted) = hostile_counts(&t.output).unwrap_or((0, u64::MAX));
        if !t.passed || accepted != 0 {
            failed.push(format!("hostile {name}: {accepted} accepted"));
        }
        hostile.push(json!({"table": name, "tried": tried, "accepted": accepted}));
    }

    // The three parts ran as one; each names the run and its time.
    let from = json!({"command": command, "seconds": started.elapsed().as_secs()});
    sim_part["measured_by"] = from.clone();
    kill_part["measured_by"] = from.clone();
    for h in &mut hostile {
        h["measured_by"] = from.clone();
    }
    Ok((sim_part, kill_part, Value::Array(hostile)))
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

/// "Measured by `COMMAND` (N s)." for a part's `measured_by`.
fn measured_by(part: &Value) -> String {
    let from = &part["measured_by"];
    match (from["command"].as_str(), from["seconds"].as_u64()) {
        (Some(c), Some(s)) => format!("Measured by `{c}` ({s} s)."),
        (Some(c), None) => format!("Measured by `{c}`."),
        _ => String::new(),
    }
}

/// The results as Markdown tables.
fn markdown(doc: &Value) -> String {
    let mut md = format!(
        "# Reliability\n\nCommand: `{}` ({} s on {} cores, {}).\n\n",
        doc["command"].as_str().unwrap_or(""),
        doc["seconds"],
        doc["machine"]["cores"],
        doc["machine"]["rustc"].as_str().unwrap_or("")
    );
    let fuzz = &doc["fuzzing"];
    md.push_str("## Fuzzing\n\n");
    md.push_str(&measured_by(fuzz));
    if let Some(sanitizer) = fuzz["sanitizer"].as_str() {
        md.push_str(&format!(
            " Build: {}, {} target(s) at a time.",
            if sanitizer == "none" {
                "coverage instrumentation, debug assertions and overflow checks, without AddressSanitizer"
            } else {
                "coverage instrumentation, debug assertions, overflow checks and AddressSanitizer"
            },
            fuzz["jobs"]
        ));
    }
    if let Some(total) = fuzz["total_seconds_bound"].as_u64() {
        md.push_str(&format!(
            " Time bound: {total} s for the whole part, each target at most its share of what was left."
        ));
    }
    if let Some(goal) = fuzz["executions_goal"].as_u64() {
        md.push_str(&format!(
            " Goal: {goal} executions per target, at most {} s each; reached by {} of {} targets.",
            fuzz["seconds_per_target"],
            fuzz["targets_reaching_goal"],
            fuzz["targets"].as_array().map_or(0, Vec::len)
        ));
    }
    md.push_str("\n\n| Target | Executions | Seconds | Exec/s | Corpus | Crashes |\n|---|---:|---:|---:|---:|---:|\n");
    for t in fuzz["targets"].as_array().into_iter().flatten() {
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
        "\n## Faults\n\n{}\n\n",
        measured_by(&doc["fault_simulation"])
    ));
    md.push_str(&format!(
        "| Part | Tried | Survived / refused | Lost / accepted |\n|---|---:|---:|---:|\n| Fault simulation (plans) | {} | {} | {} |\n| kill -9 under load (kills) | {} | {} | {} |\n",
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

    #[test]
    fn a_part_names_the_run_that_measured_it() {
        let part = json!({"measured_by": {"command": "cargo xtask reliability --no-fuzz", "seconds": 900}});
        assert_eq!(
            measured_by(&part),
            "Measured by `cargo xtask reliability --no-fuzz` (900 s)."
        );
        assert_eq!(measured_by(&json!({"plans": 5})), "");
    }
}
