//! The server benchmark's report: `server.{json,md}` (or the partial and
//! quick runs'), written from the orchestrator's measurements.

use super::{IDLE_NOTES, NOTES, P99_TARGET_MS, WARM_UP, now_utc, peers};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Writes `{dir}/{stem}.{json,md}` (`dir`: `bench/results` or the quick
/// run's). With no throughput results and the committed stem (`--only
/// idle`), only the idle row of the committed report is replaced.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_report(
    dir: &Path,
    stem: &str,
    args: &[String],
    machine: &Value,
    docs: usize,
    seconds: u64,
    results: Vec<Value>,
    idle: Option<Value>,
) -> Result<ExitCode> {
    let json_path = dir.join(format!("{stem}.json"));
    let report = if results.is_empty() && stem == "server" {
        let text = std::fs::read_to_string(&json_path)
            .context("bench/results/server.json (the idle row alone updates it)")?;
        let mut report: Value = serde_json::from_str(&text)?;
        report["idle"] = idle.unwrap_or(Value::Null);
        report
    } else {
        // The peers section (`--peers`) is measured on its own: a full
        // run keeps the committed one.
        let peers = (stem == "server")
            .then(|| std::fs::read_to_string(&json_path).ok())
            .flatten()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map_or(Value::Null, |v| v["peers"].clone());
        json!({
            "peers": peers,
            "date": now_utc(),
            "command": format!("cargo xtask bench server {}", args.join(" ")).trim().to_owned(),
            "machine": machine,
            "docs": docs, "seconds_per_step": seconds, "p99_target_ms": P99_TARGET_MS,
            "results": results,
            "idle": idle,
        })
    };
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown(&report))?;
    println!("wrote {stem}.json and {stem}.md in {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes the peer comparison: into the committed report's `peers`
/// section (the other rows stay those measured before), or, for a partial
/// run, into `server-partial.*` alone.
pub(super) fn write_peers_report(
    dir: &Path,
    stem: &str,
    machine: &Value,
    section: Value,
) -> Result<ExitCode> {
    let json_path = dir.join(format!("{stem}.json"));
    let mut report = if stem == "server" {
        let text = std::fs::read_to_string(&json_path)
            .context("bench/results/server.json (the peers section alone updates it)")?;
        serde_json::from_str::<Value>(&text)?
    } else {
        json!({ "date": now_utc(), "machine": machine, "results": [], "idle": null })
    };
    report["peers"] = section;
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown(&report))?;
    println!("wrote {stem}.json and {stem}.md in {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

pub(super) fn markdown(r: &Value) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Server: one node against three (issue 17)\n");
    if r["results"].as_array().is_some_and(|a| !a.is_empty()) {
        throughput_markdown(r, &mut md);
    }
    if r["idle"].is_object() {
        idle_markdown(&r["idle"], &mut md);
    }
    if r["peers"].is_object() {
        peers::markdown(&r["peers"], &mut md);
    }
    md
}

/// The idle-connections section (issue 16).
fn idle_markdown(idle: &Value, md: &mut String) {
    let _ = writeln!(
        md,
        "\n## Idle connections (issue 16)\n\n`{}`, {}; load average {} at its start, {} at its end. \
         {} y-websocket clients, each connected to `/sync/{{doc}}`, synced once (step 1/2 both \
         ways) and then silent, against one node on the embedded SQLite store (a fresh file per \
         row; the node's open-files limit was {}). The node's RSS (`VmRSS`) is sampled once it \
         is warm (one client connected, synced and gone) and again once it has settled with \
         every client connected; *per connection* is (after − before) / clients. KiB as \
         `/proc` counts them.\n",
        idle["command"].as_str().unwrap_or("?"),
        idle["date"].as_str().unwrap_or("?"),
        idle["load_average_at_start"].as_str().unwrap_or("?"),
        idle["load_average_at_end"].as_str().unwrap_or("?"),
        idle["clients"],
        idle["node_open_files_limit"],
    );
    let _ = writeln!(
        md,
        "| documents | text per document, bytes | RSS before, MiB | RSS idle, MiB | per connection, KiB | peak RSS, MiB | RSS after they left, MiB | connect time, s |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mib = |v: &Value| {
        v.as_f64()
            .map_or("–".to_owned(), |k| format!("{:.1}", k / 1024.0))
    };
    for row in idle["rows"].as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} | {} | {} | {:.1} |",
            row["docs"],
            row["doc_bytes"].as_u64().unwrap_or(0),
            mib(&row["rss_before_kib"]),
            mib(&row["rss_after_kib"]),
            row["per_connection_kib"].as_f64().unwrap_or(f64::NAN),
            mib(&row["rss_peak_kib"]),
            mib(&row["rss_after_close_kib"]),
            row["connect_secs"].as_f64().unwrap_or(f64::NAN),
        );
    }
    md.push('\n');
    md.push_str(IDLE_NOTES);
}

/// The throughput sections (issue 17) and their reading.
fn throughput_markdown(r: &Value, md: &mut String) {
    let m = &r["machine"];
    let _ = writeln!(
        md,
        "`{}` on {} ({} cores, {}), {}; {}; {}; load average at start {} \
         (other engineers' builds share this machine; the measured processes ran at \
         nice {}). {} documents, one \
         y-websocket writer and one reader each (2 × {} connections), 8 \
         characters per update; each step {} s after a {} s warm-up. Capacity: \
         the highest delivered rate with delivery p99 ≤ {} ms and nothing lost. \
         Date {}.\n",
        r["command"].as_str().unwrap_or(""),
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["kernel"].as_str().unwrap_or("?"),
        m["rustc"].as_str().unwrap_or("?"),
        m["postgres"].as_str().unwrap_or("?"),
        m["redis"].as_str().unwrap_or("?"),
        m["load_average_at_start"].as_str().unwrap_or("?"),
        m["nice"],
        r["docs"],
        r["docs"],
        r["seconds_per_step"],
        WARM_UP.as_secs(),
        r["p99_target_ms"],
        r["date"].as_str().unwrap_or("?"),
    );
    let results = r["results"].as_array().cloned().unwrap_or_default();
    let base = results
        .first()
        .and_then(|x| x["capacity_updates_per_s"].as_f64())
        .unwrap_or(0.0);
    let _ = writeln!(
        md,
        "| configuration | capacity (updates/s at p99 ≤ target) | p99 there, ms | p99 at the lowest step, ms | ratio to one node |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for x in &results {
        let c = x["capacity_updates_per_s"].as_f64().unwrap_or(0.0);
        let ratio = if base > 0.0 {
            format!("{:.2}×", c / base)
        } else {
            "–".into()
        };
        // The p99 of the step that set the capacity, and of the lowest step.
        let steps: Vec<&Value> = x["steps"].as_array().into_iter().flatten().collect();
        let at_capacity = steps
            .iter()
            .find(|s| c > 0.0 && s["delivered_per_s"].as_f64() == Some(c))
            .and_then(|s| s["p99_ms"].as_f64())
            .map_or("–".to_owned(), |p| format!("{p:.1}"));
        let lowest = steps
            .first()
            .and_then(|s| s["p99_ms"].as_f64())
            .map_or("–".to_owned(), |p| format!("{p:.1}"));
        let _ = writeln!(
            md,
            "| {} | {c:.0} | {at_capacity} | {lowest} | {ratio} |",
            x["config"].as_str().unwrap_or("?")
        );
    }
    for x in &results {
        let _ = writeln!(
            md,
            "\n## {}\n\nLoad average {} at its start, {} at its end.\n",
            x["config"].as_str().unwrap_or("?"),
            x["load_average_at_start"].as_str().unwrap_or("?"),
            x["load_average_at_end"].as_str().unwrap_or("?"),
        );
        let _ = writeln!(
            md,
            "| offered/s | delivered/s | p50 ms | p99 ms | lost | CPU s per s: nodes | PostgreSQL | Redis | driver | idle |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        for s in x["steps"].as_array().into_iter().flatten() {
            let cpu = &s["cpu_per_s"];
            let nodes: Vec<String> = cpu["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {:.0} | {:.1} | {:.1} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                s["offered_per_s"],
                s["delivered_per_s"].as_f64().unwrap_or(0.0),
                s["p50_ms"].as_f64().unwrap_or(0.0),
                s["p99_ms"].as_f64().unwrap_or(0.0),
                s["lost"],
                nodes.join(" + "),
                cpu["postgres"].as_f64().unwrap_or(0.0),
                cpu["redis"].as_f64().unwrap_or(0.0),
                cpu["driver"].as_f64().unwrap_or(0.0),
                cpu["idle"].as_f64().unwrap_or(0.0),
            );
        }
    }
    // Where the CPU went at each configuration's last step within target
    // (or its first step, when none was): what decides whether more
    // processes on the same two cores can help, and what separate
    // machines would allow.
    let _ = writeln!(
        md,
        "\n## Where the time goes\n\nCPU seconds per 1,000 delivered updates, per process, \
         at each configuration's highest step within the target (its first step when none \
         was), from `/proc/PID/stat` (PostgreSQL: the postmaster and its backends) around \
         the measured window. *Ceiling if alone* is a CPU-only model, not a measurement: the \
         updates/s each tier could carry on machines of its own with {cores} cores each (the \
         nodes on one machine per node, the driver elsewhere; Redis is single-threaded, so \
         one core), min over the tiers; it ignores network round trips between machines.\n",
        cores = m["cores"]
    );
    let _ = writeln!(
        md,
        "| configuration | at offered/s | each node | PostgreSQL | Redis | driver | total | ceiling if alone: nodes | PostgreSQL | Redis | cluster |"
    );
    let _ = writeln!(md, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let cores = m["cores"].as_f64().unwrap_or(2.0);
    for x in &results {
        let steps: Vec<&Value> = x["steps"].as_array().into_iter().flatten().collect();
        let best = steps
            .iter()
            .rfind(|s| s["p99_ms"].as_f64().is_some_and(|p| p <= P99_TARGET_MS) && s["lost"] == 0)
            .or(steps.first());
        let Some(s) = best else { continue };
        let per_k = |v: f64| {
            let d = s["delivered_per_s"].as_f64().unwrap_or(0.0);
            if d > 0.0 { v / d * 1000.0 } else { 0.0 }
        };
        let cpu = &s["cpu_per_s"];
        let each: Vec<f64> = cpu["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .map(per_k)
            .collect();
        let nodes: f64 = each.iter().sum();
        let pg = per_k(cpu["postgres"].as_f64().unwrap_or(0.0));
        let redis = per_k(cpu["redis"].as_f64().unwrap_or(0.0));
        let driver = per_k(cpu["driver"].as_f64().unwrap_or(0.0));
        // Updates/s a tier carries when its CPU per 1,000 updates runs on
        // `machines × cores` cores of its own.
        let ceiling = |per_1000: f64, cores: f64| {
            if per_1000 > 0.0 {
                cores / per_1000 * 1000.0
            } else {
                f64::INFINITY
            }
        };
        let n = each.len().max(1) as f64;
        let c_nodes = ceiling(nodes, n * cores);
        let c_pg = ceiling(pg, cores);
        let c_redis = if x["nodes"].as_u64().unwrap_or(1) > 1 {
            ceiling(redis, 1.0)
        } else {
            f64::INFINITY
        };
        let show = |v: f64| {
            if v.is_finite() {
                format!("{v:.0}")
            } else {
                "–".into()
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} |",
            x["config"].as_str().unwrap_or("?"),
            s["offered_per_s"],
            each.iter()
                .map(|v| format!("{v:.3}"))
                .collect::<Vec<_>>()
                .join(" + "),
            pg,
            redis,
            driver,
            nodes + pg + redis + driver,
            show(c_nodes),
            show(c_pg),
            show(c_redis),
            show(c_nodes.min(c_pg).min(c_redis)),
        );
    }
    md.push_str(NOTES);
}
