//! `cargo xtask bench server --peers`: the same documents and rate steps
//! against `atelier serve` (one node, on PostgreSQL and on its default
//! embedded SQLite) and the servers users
//! would pick instead, each one process on loopback: the y-websocket
//! server from npm (`@y/websocket-server`, in memory) and Hocuspocus as
//! shipped (no extensions: in memory, and it acknowledges before storing
//! anything, where Atelier stores before acknowledging). The Node servers
//! start from `peers/` (run `npm ci` there first).

use super::{P99_TARGET_MS, capacity, load_average, start_node, stop};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A server under test: its row label, how to start it, its framing.
struct Peer {
    label: String,
    /// `None`: `atelier serve`; otherwise the script in `peers/`.
    script: Option<&'static str>,
    /// For `atelier serve`: its `--db`.
    db: Option<String>,
    protocol: &'static str,
}

/// Rows of [`run`]'s servers: Atelier on PostgreSQL, on SQLite, then the
/// y-websocket server and Hocuspocus.
const ATELIER_PG: usize = 0;
const ATELIER_SQLITE: usize = 1;
const Y_WEBSOCKET: usize = 2;
const HOCUSPOCUS: usize = 3;

/// The version of an npm package installed in `peers/node_modules`.
fn npm_version(root: &Path, package: &str) -> String {
    std::fs::read_to_string(
        root.join("peers/node_modules")
            .join(package)
            .join("package.json"),
    )
    .ok()
    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    .and_then(|v| v["version"].as_str().map(str::to_owned))
    .unwrap_or_else(|| "?".to_owned())
}

/// Starts a Node server script; returns it and its address (the script
/// prints `{"port": N}`; it stops when its stdin closes).
fn start_node_script(root: &Path, script: &str) -> Result<(Child, String)> {
    let mut child = Command::new("node")
        .arg(root.join("peers").join(script))
        .current_dir(root.join("peers"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start node peers/{script}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    if let Some(Ok(line)) = lines.next()
        && let Ok(v) = serde_json::from_str::<Value>(&line)
        && let Some(port) = v["port"].as_u64()
    {
        return Ok((child, format!("127.0.0.1:{port}")));
    }
    let _ = child.kill();
    let _ = child.wait();
    bail!("peers/{script} did not print its port (did `npm ci` run in peers/?)")
}

/// Runs the rate steps against each server; returns the `peers` section.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    root: &Path,
    atelier: &Path,
    driver: &Path,
    (db, pg_dir): (&str, &Path),
    docs: usize,
    seconds: u64,
    rates: &[u64],
    command: &str,
) -> Result<Value> {
    let sqlite_dir = root.join("target/bench-peers-sqlite");
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    let peers = [
        Peer {
            label: "Atelier (1 node, PostgreSQL)".to_owned(),
            script: None,
            db: Some(db.to_owned()),
            protocol: "y-websocket",
        },
        Peer {
            label: "Atelier (1 node, embedded SQLite, the default)".to_owned(),
            script: None,
            db: Some(format!(
                "sqlite://{}",
                sqlite_dir.join("atelier.db").display()
            )),
            protocol: "y-websocket",
        },
        Peer {
            label: format!(
                "y-websocket server (@y/websocket-server {}, in memory)",
                npm_version(root, "@y/websocket-server")
            ),
            script: Some("y-websocket-server.mjs"),
            db: None,
            protocol: "y-websocket",
        },
        Peer {
            label: format!(
                "Hocuspocus (@hocuspocus/server {}, no extensions, in memory)",
                npm_version(root, "@hocuspocus/server")
            ),
            script: Some("hocuspocus-bench-server.mjs"),
            db: None,
            protocol: "hocuspocus",
        },
    ];
    let run_id = std::process::id();
    let rates_arg: Vec<String> = rates.iter().map(u64::to_string).collect();
    let mut servers = Vec::new();
    for (i, peer) in peers.iter().enumerate() {
        let load_at_start = load_average();
        println!(
            "== {} (load average {load_at_start}): {docs} documents, steps {rates:?} updates/s, {seconds} s each",
            peer.label
        );
        let (mut child, addr) = match (peer.script, &peer.db) {
            (Some(script), _) => start_node_script(root, script)?,
            (None, db) => start_node(atelier, db.as_deref().unwrap_or_default(), None)?,
        };
        let pid = child.id();
        let rss_at_start = super::drive::rss_kib(pid);
        let mut drive = Command::new(driver);
        drive.args(["bench", "server", "--drive"]);
        if i == ATELIER_PG {
            // PostgreSQL's own CPU is counted as the store's.
            drive.args(["--pg-dir", &pg_dir.display().to_string()]);
        }
        let out = drive
            .args(["--nodes", &addr])
            .args(["--pids", &pid.to_string()])
            .args(["--docs", &docs.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .args(["--rates", &rates_arg.join(",")])
            .args(["--prefix", &format!("peers-{run_id}-{i}")])
            .args(["--protocol", peer.protocol])
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run the driver")?;
        let rss_at_end = super::drive::rss_kib(pid);
        match peer.script {
            None => stop(&mut child),
            Some(_) => {
                drop(child.stdin.take());
                stop(&mut child);
            }
        }
        if !out.status.success() {
            bail!(
                "the driver failed against {}: {}",
                peer.label,
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let steps: Value = serde_json::from_slice(&out.stdout).context("driver output")?;
        let capacity = capacity(&steps);
        println!("   capacity at p99 ≤ {P99_TARGET_MS} ms: {capacity:.0} updates/s");
        servers.push(json!({
            "server": peer.label, "protocol": peer.protocol,
            "capacity_updates_per_s": capacity, "steps": steps,
            "rss_kib_at_start": rss_at_start, "rss_kib_at_end": rss_at_end,
            "load_average_at_start": load_at_start, "load_average_at_end": load_average(),
        }));
    }
    let cap = |i: usize| servers[i]["capacity_updates_per_s"].as_f64().unwrap_or(0.0);
    let ratio = |i: usize| {
        if cap(i) > 0.0 {
            json!(cap(0) / cap(i))
        } else {
            Value::Null
        }
    };
    // Whether every step held: then the capacity is the top step, and a
    // ratio between two such servers says nothing.
    let held_all = |i: usize| {
        servers[i]["steps"].as_array().is_some_and(|s| {
            s.len() == rates.len()
                && s.last()
                    .and_then(|l| l["p99_ms"].as_f64())
                    .is_some_and(|p| p <= P99_TARGET_MS)
        })
    };
    let (vs_yws, vs_hocus) = (ratio(Y_WEBSOCKET), ratio(HOCUSPOCUS));
    let sqlite_ratio = |i: usize| {
        if cap(i) > 0.0 {
            json!(cap(ATELIER_SQLITE) / cap(i))
        } else {
            Value::Null
        }
    };
    Ok(json!({
        "date": super::now_utc(),
        "command": command,
        "docs": docs, "seconds_per_step": seconds, "p99_target_ms": P99_TARGET_MS,
        "rates": rates,
        "servers": servers,
        "ratio_atelier_over_y_websocket": vs_yws,
        "ratio_atelier_over_hocuspocus": vs_hocus,
        "ratio_atelier_sqlite_over_y_websocket": sqlite_ratio(Y_WEBSOCKET),
        "ratio_atelier_sqlite_over_hocuspocus": sqlite_ratio(HOCUSPOCUS),
        "top_step_held": (0..servers.len()).map(held_all).collect::<Vec<_>>(),
        "target_ratio_over_hocuspocus": 5.0,
        "target_met": vs_hocus.as_f64().is_some_and(|r| r >= 5.0),
    }))
}

/// The "Against the peers" section of server.md.
pub(super) fn markdown(p: &Value, md: &mut String) {
    let _ = writeln!(md, "\n## Against the peers\n");
    let _ = writeln!(
        md,
        "`{}` ({}): {} documents, one writer and one reader each, {} s per step, every server one process on loopback, driven by the same y-websocket clients (Hocuspocus-framed for Hocuspocus). *Held* is the highest delivered rate with delivery p99 ≤ {} ms and nothing lost.\n",
        p["command"].as_str().unwrap_or(""),
        p["date"].as_str().unwrap_or(""),
        p["docs"],
        p["seconds_per_step"],
        P99_TARGET_MS
    );
    let _ = writeln!(
        md,
        "| Server | Held at p99 ≤ {P99_TARGET_MS} ms, updates/s | RSS after the run, MiB | Server CPU s/s at the held step | Server CPU per update, µs | PostgreSQL CPU s/s | Machine idle CPU s/s at the next step |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    let servers = p["servers"].as_array().cloned().unwrap_or_default();
    for s in &servers {
        let cap = s["capacity_updates_per_s"].as_f64().unwrap_or(0.0);
        let held = s["steps"].as_array().and_then(|steps| {
            steps.iter().rev().find(|st| {
                st["p99_ms"].as_f64().is_some_and(|v| v <= P99_TARGET_MS) && st["lost"] == 0
            })
        });
        let cpu_s = held.and_then(|h| h["cpu_per_s"]["nodes"][0].as_f64());
        let cpu = cpu_s.map_or("–".to_owned(), |c| format!("{c:.2}"));
        let per_k = match (cpu_s, held.and_then(|h| h["delivered_per_s"].as_f64())) {
            (Some(c), Some(d)) if d > 0.0 => format!("{:.0}", c / d * 1e6),
            _ => "–".to_owned(),
        };
        let pg = held
            .and_then(|h| h["cpu_per_s"]["postgres"].as_f64())
            .filter(|c| *c > 0.0)
            .map_or("–".to_owned(), |c| format!("{c:.2}"));
        // The first step that did not hold: how much CPU the machine (the
        // server, its store and the load driver together) had left there.
        let next_idle = s["steps"]
            .as_array()
            .and_then(|steps| {
                steps.iter().find(|st| {
                    st["p99_ms"].as_f64().is_none_or(|v| v > P99_TARGET_MS) || st["lost"] != 0
                })
            })
            .and_then(|st| st["cpu_per_s"]["idle"].as_f64())
            .map_or("–".to_owned(), |c| format!("{c:.2}"));
        let _ = writeln!(
            md,
            "| {} | {cap:.0} | {:.0} | {cpu} | {per_k} | {pg} | {next_idle} |",
            s["server"].as_str().unwrap_or("?"),
            s["rss_kib_at_end"].as_f64().unwrap_or(0.0) / 1024.0
        );
    }
    let _ = writeln!(
        md,
        "\nEach step (offered updates/s: delivered/s, p50 / p99 ms, server CPU s/s, server RSS MiB at the step's end):\n"
    );
    for s in &servers {
        let _ = writeln!(md, "- {}:", s["server"].as_str().unwrap_or("?"));
        for st in s["steps"].as_array().into_iter().flatten() {
            let _ = writeln!(
                md,
                "  - {}: {:.0}/s, {:.1} / {:.1} ms, CPU {:.2}, RSS {:.0}{}",
                st["offered_per_s"],
                st["delivered_per_s"].as_f64().unwrap_or(0.0),
                st["p50_ms"].as_f64().unwrap_or(f64::NAN),
                st["p99_ms"].as_f64().unwrap_or(f64::NAN),
                st["cpu_per_s"]["nodes"][0].as_f64().unwrap_or(0.0),
                st["rss_kib"][0].as_f64().unwrap_or(0.0) / 1024.0,
                if st["lost"].as_u64().unwrap_or(0) > 0 {
                    format!(", lost {}", st["lost"])
                } else {
                    String::new()
                }
            );
        }
    }
    // The floor of this machine: what the load driver alone costs per
    // delivered update, at the held step of each server.
    let driver_us: Vec<f64> = servers
        .iter()
        .filter_map(|s| {
            let held = s["steps"].as_array()?.iter().rev().find(|st| {
                st["p99_ms"].as_f64().is_some_and(|v| v <= P99_TARGET_MS) && st["lost"] == 0
            })?;
            let d = held["delivered_per_s"].as_f64().filter(|d| *d > 0.0)?;
            Some(held["cpu_per_s"]["driver"].as_f64()? / d * 1e6)
        })
        .collect();
    let hocuspocus_cap = servers
        .get(HOCUSPOCUS)
        .and_then(|s| s["capacity_updates_per_s"].as_f64())
        .unwrap_or(0.0);
    if let Some(least) = driver_us.iter().copied().reduce(f64::min)
        && hocuspocus_cap > 0.0
    {
        let rate = 5.0 * hocuspocus_cap;
        let _ = writeln!(
            md,
            "\nThe load driver (the same for every server) used at least {least:.0} µs of CPU per delivered update. Five times Hocuspocus's held rate, {rate:.0} updates/s, would take the driver alone {:.1} cores of this machine's {}, before any server or database runs: on this machine the 5× target cannot be shown, whatever the server does. It needs the driver on other cores (or machines) than the server.",
            rate * least / 1e6,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    let fmt_ratio = |v: &Value| {
        v.as_f64()
            .map_or("– (the peer held no step)".to_owned(), |r| {
                format!("{r:.2}×")
            })
    };
    let top = p["top_step_held"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(
        md,
        "\nAtelier on PostgreSQL / y-websocket server, updates/s at p99 ≤ {P99_TARGET_MS} ms: {}; / Hocuspocus: {}. Atelier on SQLite / y-websocket server: {}; / Hocuspocus: {}. Issue 16's target, ≥ 5× Hocuspocus's updates/s at equal p99: **{}**.{}",
        fmt_ratio(&p["ratio_atelier_over_y_websocket"]),
        fmt_ratio(&p["ratio_atelier_over_hocuspocus"]),
        fmt_ratio(&p["ratio_atelier_sqlite_over_y_websocket"]),
        fmt_ratio(&p["ratio_atelier_sqlite_over_hocuspocus"]),
        if p["target_met"] == true {
            "MET"
        } else {
            "MISSED"
        },
        if top.iter().any(|t| t == true) {
            " (A server that held the top step could hold more: its figure, and a ratio with it, is a bound, not a measure.)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "\nNot alike: Atelier writes every update to its store before acknowledging it; the y-websocket server and Hocuspocus keep documents in memory only, and Hocuspocus as shipped acknowledges before anything is stored (with a persistence extension it stores later, debounced). Atelier's figures include that durability; the peers' do not."
    );
}
