//! `cargo xtask bench` (every benchmark, then this summary) and
//! `cargo xtask bench summary` (the summary alone, from the results files):
//! one table of every measured row with Atelier's figure, the peer's, their
//! ratio, the target and whether it is met, written to
//! `bench/results/SUMMARY.md` and `summary.json`. A results file that is
//! missing shows as "not run"; a row without a peer says so.

use crate::bench_mode::Mode;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

/// Reads one results file into rows.
type RowsOf = fn(&Value, &mut Vec<Row>);

/// A benchmark command.
type Command = fn(&[String]) -> Result<ExitCode>;

/// One row of the summary.
struct Row {
    area: &'static str,
    what: String,
    atelier: String,
    peer: String,
    ratio: Option<f64>,
    target: String,
    met: Option<bool>,
}

fn read(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{x:.1} ms"))
}

/// Rows of `crdt.json`: per trace, the replay and the bulk rows against Yjs.
fn crdt_rows(c: &Value, rows: &mut Vec<Row>) {
    for t in c["traces"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().unwrap_or("?");
        let e = &t["engines"];
        for (engine, limit) in [("native", 0.5), ("wasm", 1.0)] {
            let ratio = e[engine]["replayVsYjs"].as_f64();
            rows.push(Row {
                area: "CRDT",
                what: format!("replay {name} ({engine})"),
                atelier: ms(&e[engine]["replayMs"]["median"]),
                peer: ms(&e["yjs"]["replayMs"]["median"]),
                ratio,
                target: format!("≤ {limit}× Yjs"),
                met: ratio.map(|r| r <= limit),
            });
        }
        for engine in ["native", "wasm"] {
            let b = &e[engine]["bulk"];
            // Concurrent traces have no single-writer bulk rows.
            if b.is_null() {
                continue;
            }
            let one = b["oneTxnVsReplay"].as_f64();
            // Concurrent traces are measured by load only.
            if !b["oneTxnMs"].is_null() {
                rows.push(Row {
                    area: "CRDT",
                    what: format!("{name} in one transaction ({engine})"),
                    atelier: ms(&b["oneTxnMs"]["median"]),
                    peer: "its own replay".into(),
                    ratio: one,
                    target: "≤ 2× the replay".into(),
                    met: one.map(|r| r <= 2.0),
                });
            }
            let load = b["repeatedLoadVsYjs"].as_f64();
            rows.push(Row {
                area: "CRDT",
                what: format!("{name} ×100 load ({engine})"),
                atelier: ms(&b["repeatedLoadMs"]["median"]),
                peer: ms(&e["yjs"]["bulk"]["repeatedLoadMs"]["median"]),
                ratio: load,
                target: "≤ 0.5× Yjs".into(),
                met: load.map(|r| r <= 0.5),
            });
        }
    }
}

/// Rows of `chat.json`: open, scroll and delivery against their targets,
/// and the open's floor against Yjs applying the same chat.
fn chat_rows(c: &Value, rows: &mut Vec<Row>) {
    let targets = &c["targets"];
    let open = c["open"]["cold_open_median_ms"].as_f64();
    rows.push(Row {
        area: "Chat",
        what: "open 10,000 messages to painted (cold)".into(),
        atelier: ms(&c["open"]["cold_open_median_ms"]),
        peer: "no peer panel".into(),
        ratio: None,
        target: format!("≤ {} ms", targets["open_ms"]),
        met: c["met"]["open"].as_bool().or(open.map(|o| o <= 150.0)),
    });
    rows.push(Row {
        area: "Chat",
        what: "scroll frame p99".into(),
        atelier: ms(&c["scroll"]["p99_ms"]),
        peer: "–".into(),
        ratio: None,
        target: format!("≤ {} ms", targets["scroll_frame_p99_ms"]),
        met: c["met"]["scroll"].as_bool(),
    });
    rows.push(Row {
        area: "Chat",
        what: "send to painted on another page, p99".into(),
        atelier: ms(&c["delivery"]["p99_ms"]),
        peer: "–".into(),
        ratio: None,
        target: format!("≤ {} ms", targets["delivery_p99_ms"]),
        met: c["met"]["delivery"].as_bool(),
    });
    let floor = c["floor"]["median_ms"]["apply_and_read"].as_f64();
    let yjs = c["floor"]["median_ms"]["yjs"].as_f64();
    rows.push(Row {
        area: "Chat",
        what: "apply and read the 10,000-message chat (Node)".into(),
        atelier: ms(&c["floor"]["median_ms"]["apply_and_read"]),
        peer: format!("Yjs {}", ms(&c["floor"]["median_ms"]["yjs"])),
        ratio: floor.zip(yjs).map(|(a, b)| a / b),
        target: "–".into(),
        met: None,
    });
}

/// Rows of `editor.json`: keystroke-to-painted p99 and time to editable
/// per document size, against BlockNote (its `blocknote_comparison`).
fn editor_rows(e: &Value, rows: &mut Vec<Row>) {
    let target = format!(
        "≤ {}× BlockNote",
        crate::editor_bench::BLOCKNOTE_TARGET_RATIO
    );
    for c in e["blocknote_comparison"].as_array().into_iter().flatten() {
        let chars = c["chars"].as_u64().unwrap_or(0);
        let p = &c["painted_p99_ms"];
        rows.push(Row {
            area: "Editor",
            what: format!("keydown to painted p99, {chars} characters"),
            atelier: ms(&p["atelier"]),
            peer: match p["blocknote_timed_out_after_ms"].as_f64() {
                Some(t) if p["blocknote"].is_null() => {
                    format!("BlockNote not editable within {:.0} s", t / 1000.0)
                }
                _ => format!("BlockNote {}", ms(&p["blocknote"])),
            },
            ratio: p["ratio"].as_f64(),
            target: target.clone(),
            met: p["met"].as_bool(),
        });
        let l = &c["slow_4g_load_to_editable_ms"];
        rows.push(Row {
            area: "Editor",
            what: format!("load to editable on slow 4G, {chars} characters"),
            atelier: ms(&l["atelier"]),
            peer: match l["blocknote_timed_out_after_ms"].as_f64() {
                Some(t) => format!(
                    "BlockNote did not become editable within {:.0} s",
                    t / 1000.0
                ),
                None => format!("BlockNote {}", ms(&l["blocknote"])),
            },
            // An upper bound when BlockNote ran out of time; `met` holds.
            ratio: l["ratio"].as_f64(),
            target: target.clone(),
            met: l["met"].as_bool(),
        });
    }
}

/// Rows of `server.json`: capacity per configuration and idle memory.
fn server_rows(s: &Value, rows: &mut Vec<Row>) {
    for r in s["results"].as_array().into_iter().flatten() {
        rows.push(Row {
            area: "Server",
            what: format!(
                "updates/s at delivery p99 ≤ {} ms, {} ({})",
                s["p99_target_ms"],
                r["config"].as_str().unwrap_or("?"),
                r["placement"].as_str().unwrap_or("")
            ),
            atelier: r["capacity_updates_per_s"]
                .as_f64()
                .map_or("–".into(), |c| format!("{c:.0}")),
            peer: "–".into(),
            ratio: None,
            target: "–".into(),
            met: None,
        });
    }
    let peers = &s["peers"];
    let capacity = |name: &str| {
        peers["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["server"].as_str().is_some_and(|n| n.starts_with(name)))
            .and_then(|p| p["capacity_updates_per_s"].as_f64())
    };
    let ateliers: Vec<(&str, f64)> = peers["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p["server"].as_str().filter(|n| n.starts_with("Atelier"))?;
            let store = if name.contains("SQLite") {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            Some((store, p["capacity_updates_per_s"].as_f64()?))
        })
        .collect();
    for (store, ours) in ateliers {
        for (peer, target) in [("Hocuspocus", Some(5.0)), ("y-websocket", None)] {
            let theirs = capacity(peer);
            let ratio = theirs.map(|t| ours / t);
            rows.push(Row {
                area: "Server",
                what: format!(
                    "updates/s at p99 ≤ {} ms against {peer}, {} documents, Atelier on {store}",
                    peers["p99_target_ms"], peers["docs"]
                ),
                atelier: format!("{ours:.0}"),
                peer: theirs.map_or("–".into(), |t| format!("{peer} {t:.0}")),
                ratio,
                target: target.map_or("–".into(), |t| format!("≥ {t}× {peer}")),
                met: target.and_then(|t| ratio.map(|r| r >= t)),
            });
        }
    }
    for r in s["idle"]["rows"].as_array().into_iter().flatten() {
        let kib = r["per_connection_kib"].as_f64();
        rows.push(Row {
            area: "Server",
            what: format!(
                "RSS per idle connection, {} documents",
                r["docs"].as_u64().unwrap_or(0)
            ),
            atelier: kib.map_or("–".into(), |k| format!("{k:.1} KiB")),
            peer: "y-websocket server 4–5 KiB (operator's figure)".into(),
            ratio: None,
            target: "≤ 20 KiB".into(),
            met: kib.map(|k| k <= 20.0),
        });
    }
}

/// Rows of `size.json` and `ai.json`.
fn other_rows(size: Option<&Value>, ai: Option<&Value>, rows: &mut Vec<Row>) {
    if let Some(z) = size {
        let ours = z["editor_bundle_brotli"].as_f64();
        let theirs = z["blocknote_core_page_brotli"].as_f64();
        rows.push(Row {
            area: "Bytes",
            what: "editor page, brotli".into(),
            atelier: ours.map_or("–".into(), |b| format!("{b:.0} B")),
            peer: theirs.map_or("–".into(), |b| format!("BlockNote core page {b:.0} B")),
            ratio: ours.zip(theirs).map(|(a, b)| a / b),
            target: "≤ 225,000 B (issue 16)".into(),
            met: ours.map(|b| b <= 225_000.0),
        });
    }
    if let Some(a) = ai {
        let r = &a["results"]["default_threads"];
        let ttft = r["first_token_ms_cached_prefix"].as_f64();
        rows.push(Row {
            area: "AI",
            what: "first token, cached system prompt (embedded model)".into(),
            atelier: ms(&r["first_token_ms_cached_prefix"]),
            peer: "–".into(),
            ratio: None,
            target: format!("≤ {} ms", a["targets"]["first_token_ms"]),
            met: ttft
                .zip(a["targets"]["first_token_ms"].as_f64())
                .map(|(x, t)| x <= t),
        });
    }
}

/// Writes the summary from whatever results files exist in `dir`.
pub fn write(dir: &Path) -> Result<()> {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    let mut sources = Vec::new();
    let parts: [(&str, RowsOf); 4] = [
        ("crdt.json", crdt_rows),
        ("chat.json", chat_rows),
        ("editor.json", editor_rows),
        ("server.json", server_rows),
    ];
    for (file, rows_of) in parts {
        match read(dir, file) {
            Some(v) => {
                rows_of(&v, &mut rows);
                sources.push(file);
            }
            None => missing.push(file),
        }
    }
    let size = read(dir, "size.json");
    let ai = read(dir, "ai.json");
    for (file, v) in [("size.json", &size), ("ai.json", &ai)] {
        if v.is_some() {
            sources.push(file);
        } else {
            missing.push(file);
        }
    }
    other_rows(size.as_ref(), ai.as_ref(), &mut rows);

    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    let missed = rows.iter().filter(|r| r.met == Some(false)).count();
    let mut md = String::from(
        "# Benchmarks: summary\n\nGenerated by `cargo xtask bench summary` from the results files beside \
         it (`cargo xtask bench` runs every benchmark, then this). Each source file (listed \
         at the end with the time it was generated) has the method, machine, versions and \
         every run.\n\n",
    );
    md.push_str(&format!(
        "{met} rows meet their target, {missed} miss it; the others have no target or no peer yet.\n\n",
    ));
    if !missing.is_empty() {
        md.push_str(&format!(
            "Not run (no results file): {}.\n\n",
            missing.join(", ")
        ));
    }
    md.push_str("| Area | Row | Atelier | Peer | Ratio | Target | Status |\n|---|---|---:|---|---:|---|---|\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.area,
            r.what,
            r.atelier,
            r.peer,
            r.ratio.map_or("–".into(), |x| format!("{x:.2}×")),
            r.target,
            match r.met {
                Some(true) => "met",
                Some(false) => "**MISSED**",
                None => "–",
            }
        ));
    }
    md.push_str("\nSources: ");
    md.push_str(
        &sources
            .iter()
            .map(|f| {
                let when = read(dir, f)
                    .and_then(|v| {
                        ["generatedAt", "generated", "date"]
                            .iter()
                            .find_map(|k| v[k].as_str().map(str::to_owned))
                    })
                    .unwrap_or_else(|| "undated".into());
                format!("[`{f}`]({f}) ([md]({}), {when})", f.replace(".json", ".md"))
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    md.push('\n');
    std::fs::write(dir.join("SUMMARY.md"), md).context("writing SUMMARY.md")?;
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "area": r.area, "row": r.what, "atelier": r.atelier, "peer": r.peer,
                "ratio": r.ratio, "target": r.target, "met": r.met,
            })
        })
        .collect();
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&json!({"rows": json_rows, "missing": missing}))? + "\n",
    )?;
    println!(
        "bench summary: {} rows ({met} met, {missed} missed) in {}",
        rows.len(),
        dir.join("SUMMARY.md").display()
    );
    Ok(())
}

/// `cargo xtask bench [--quick]` with no subcommand: every benchmark in
/// turn, then the summary. One that fails is reported and the others still
/// run; the command fails if any did. `--quick` runs each tiny from dev
/// builds into `target/bench-quick/` (CI), leaving `bench/results/` as it
/// is.
pub fn run_all(args: &[String]) -> Result<ExitCode> {
    let (mode, rest) = Mode::from_args(args);
    if let Some(extra) = rest.first() {
        anyhow::bail!(
            "`cargo xtask bench` takes only --quick ({extra:?}); run one benchmark to pass options"
        );
    }
    let root = crate::workspace_root()?;
    let quick: &[&str] = match mode {
        Mode::Full => &[],
        Mode::Quick => &["--quick"],
    };
    let args = |extra: &[&str]| -> Vec<String> {
        quick.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let mut steps: Vec<(&str, Command, Vec<String>)> = vec![
        ("crdt", crate::bench::run, args(&[])),
        ("size", crate::size_bench::run, args(&[])),
        ("editor", crate::editor_bench::run, args(&[])),
        (
            "chat",
            crate::chat_bench::run,
            args(if mode == Mode::Quick {
                &["--no-dist"]
            } else {
                &[]
            }),
        ),
        ("server", crate::server_bench::run, args(&[])),
        ("ai", crate::ai_bench::run, args(&[])),
    ];
    if mode == Mode::Quick {
        // The full run measures the peers on their own (`--peers`, minutes
        // per step); the quick one runs them small so they do not rot.
        steps.insert(
            5,
            ("server peers", crate::server_bench::run, args(&["--peers"])),
        );
    }
    let started = std::time::Instant::now();
    let mut failed = Vec::new();
    for (name, run, args) in steps {
        println!("\n== bench {name} {}", args.join(" "));
        let step_started = std::time::Instant::now();
        match run(&args) {
            Ok(code) if code == ExitCode::SUCCESS => {}
            Ok(_) => failed.push(name),
            Err(e) => {
                eprintln!("bench {name}: {e:#}");
                failed.push(name);
            }
        }
        println!("== bench {name}: {:.0?}", step_started.elapsed());
    }
    let dir = mode.results_dir(&root)?;
    write(&dir)?;
    if mode == Mode::Quick {
        // Its rows keep the full run's labels; say what they are.
        let path = dir.join("SUMMARY.md");
        let md = std::fs::read_to_string(&path).context("reading the quick SUMMARY.md")?;
        std::fs::write(
            &path,
            format!(
                "**Quick run** (`cargo xtask bench --quick`): tiny sizes from dev builds, so \
                 that no benchmark rots. These figures measure nothing; the measured ones are \
                 in `bench/results/`.\n\n{md}"
            ),
        )
        .context("writing the quick SUMMARY.md")?;
    }
    println!("bench: {:.0?} in all", started.elapsed());
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("bench: these did not complete: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}
