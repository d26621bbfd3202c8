//! `cargo xtask bench server`: updates/s and delivery latency of `atelier
//! serve` on one node and on three nodes sharing PostgreSQL and Redis
//! (issue 17's scale measurement), with real WebSocket clients.
//!
//! The load: `--docs` documents (1,000), each with one writer and one
//! reader, y-websocket clients (tokio-tungstenite) in one driver process.
//! Writers type at a fixed total rate spread over the documents (8
//! characters per update, each update its own transaction); the reader of
//! a document times each update from the writer's send to its arrival
//! (one process, one clock). The rate steps up (`--rates`) until the
//! servers saturate; a configuration's *capacity* is the highest delivered
//! rate whose p99 stays within the target (`P99_TARGET_MS`).
//!
//! Configurations: one node (PostgreSQL, no Redis: nothing to fan out);
//! three nodes with each document's writer and reader on different nodes
//! (every delivery crosses Redis); three nodes with a document's clients on
//! one node (what a proxy hashing the y-websocket URL does). Per-process CPU
//! time (nodes, PostgreSQL, Redis, the driver) is read from `/proc` around
//! each measured step, since the two cores are shared by everything.
//!
//! The *idle connections* row (issue 16) measures memory, not speed:
//! `--idle` clients (5,000) each connect to one node on the embedded SQLite
//! store, sync once and stay silent; the node's RSS before and after,
//! divided by the clients, over 1 and over 1,000 documents
//! (`server_bench/idle.rs`).
//!
//! The driver is this same program built in release (`bench server
//! --drive …`), so the load generator does not eat the servers' CPU as a
//! debug build would. Writes `bench/results/server.{json,md}`; `--only idle`
//! alone replaces just the idle row there and keeps the rest; `--peers`
//! alone measures the comparison with the y-websocket server and
//! Hocuspocus (`server_bench/peers.rs`) and replaces just that section.

use crate::bench_mode::Mode;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

/// Delivery p99 a step must stay within to count toward capacity (issue
/// 16's delivery target on this machine).
const P99_TARGET_MS: f64 = 50.0;
/// Default rate steps, updates/s offered in total.
const RATES: &[u64] = &[100, 400, 1600, 3200, 4800, 6400, 8000, 12000, 16000];
/// Warm-up before each measured step, and drain after it.
const WARM_UP: Duration = Duration::from_secs(2);
const DRAIN: Duration = Duration::from_secs(2);

/// The report's reading of the figures (kept beside the code that measures
/// them; `--render` rewrites server.md with it).
const NOTES: &str = include_str!("server_bench_notes.md");
/// The reading of the idle-connections row.
const IDLE_NOTES: &str = include_str!("server_bench_idle_notes.md");
/// Idle clients by default, and the document counts they are spread over.
const IDLE_CLIENTS: usize = 5000;
const IDLE_DOCS: &[usize] = &[1, 1000];

/// Entry point: the orchestrator, or the driver with `--drive`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    if args.first().map(String::as_str) == Some("--drive") {
        return drive::run(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("--drive-idle") {
        return idle::run(&args[1..]);
    }
    let (mode, args) = Mode::from_args(args);
    let args = &args[..];
    let mut docs = 1000usize;
    let mut seconds = 10u64;
    let mut rates: Vec<u64> = RATES.to_vec();
    // Anything but the full run writes `server-partial.*`, so it never
    // replaces the committed results.
    let mut stem = "server";
    let mut server: Option<PathBuf> = None;
    let mut only: Option<Vec<String>> = None;
    let mut idle_clients = IDLE_CLIENTS;
    let mut idle_doc_bytes = 0usize;
    let mut peers = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--docs" => {
                docs = crate::parse_count("--docs", it.next())?;
                stem = "server-partial";
            }
            "--seconds" => {
                seconds = crate::parse_count("--seconds", it.next())? as u64;
                stem = "server-partial";
            }
            "--atelier" => {
                // Another build of the server (say main's, to compare).
                let path = it.next().context("--atelier needs the path of a binary")?;
                server = Some(PathBuf::from(path));
                stem = "server-partial";
            }
            "--only" => {
                // Some configurations: 1, spread, affine, idle.
                let v = it.next().context("--only needs a list like 1,spread")?;
                only = Some(v.split(',').map(str::to_owned).collect());
            }
            "--idle" => {
                // Clients of the idle-connections row.
                idle_clients = crate::parse_count("--idle", it.next())?;
                stem = "server-partial";
            }
            "--idle-doc-bytes" => {
                // Text in each document before the idle clients sync it.
                idle_doc_bytes = crate::parse_count("--idle-doc-bytes", it.next())?;
                stem = "server-partial";
            }
            "--rates" => {
                stem = "server-partial";
                let v = it.next().context("--rates needs a value")?;
                rates = v
                    .split(',')
                    .map(|r| r.trim().parse::<u64>())
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("--rates expects numbers like 500,1000, not {v:?}"))?;
            }
            "--render" => {
                // Rewrites server.md from server.json (after editing the
                // report's wording; the figures stay those measured).
                let dir = crate::workspace_root()?.join("bench/results");
                let json = std::fs::read_to_string(dir.join("server.json"))
                    .context("bench/results/server.json")?;
                let report: Value = serde_json::from_str(&json)?;
                std::fs::write(dir.join("server.md"), markdown(&report))?;
                println!("wrote bench/results/server.md");
                return Ok(ExitCode::SUCCESS);
            }
            "--peers" => {
                // The peer comparison alone (see server_bench/peers.rs).
                peers = true;
            }
            other => bail!(
                "unknown option {other:?}; bench server [--docs N] [--seconds S] [--rates R,R…] [--atelier BIN] [--only 1,spread,affine,idle] [--idle N] [--idle-doc-bytes N] [--peers] [--quick]"
            ),
        }
    }
    let wanted = |key: &str| only.as_ref().is_none_or(|o| o.iter().any(|k| k == key));
    // `--only idle` alone refreshes the idle row of the committed results
    // (the throughput rows stay those measured before); any other subset
    // is partial.
    if mode == Mode::Quick {
        // Every row, tiny, into the quick run's own directory.
        docs = 50;
        seconds = 2;
        rates = vec![100, 200];
        idle_clients = idle_clients.min(200);
        stem = "server";
    }
    let idle_alone = only.as_ref().is_some_and(|o| o.iter().all(|k| k == "idle"));
    if only.is_some() && !(idle_alone && stem == "server") {
        stem = "server-partial";
    }
    let throughput = ["1", "spread", "affine"].iter().any(|k| wanted(k));
    // Bounded: 2 × docs sockets from one process, and at most
    // rates × (warm-up + seconds + drain) per configuration.
    if docs > 10_000 {
        bail!("--docs {docs}: at most 10,000 documents (two sockets each)");
    }
    if idle_clients > 50_000 {
        bail!("--idle {idle_clients}: at most 50,000 clients");
    }
    // Every socket is a file descriptor, in the driver and in the node
    // (which inherits this process's limits).
    let nofile = raise_nofile_limit();
    let needed = (2 * docs).max(if wanted("idle") { idle_clients } else { 0 }) + 256;
    if nofile.is_some_and(|n| n < needed as u64) {
        bail!(
            "the open-files limit is {}, and this run needs {needed}: raise the hard limit (ulimit -Hn) first",
            nofile.unwrap_or(0)
        );
    }
    let root = crate::workspace_root()?;
    println!(
        "building atelier ({}{}) and the load driver…",
        mode.profile_dir(),
        if mode == Mode::Full {
            ", without the embedded model"
        } else {
            ""
        }
    );
    let mut build_args = mode.cargo_profile().to_vec();
    build_args.extend(["-p", "atelier-server", "--bin", "atelier"]);
    if mode == Mode::Full {
        // The quick run uses the dev build the tests made, model included.
        build_args.push("--no-default-features");
    }
    let built = crate::cargo::build(&root, &build_args, "atelier")?
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "atelier"))
        .context("no atelier binary")?;
    let server_given = server.is_some();
    let server = server.unwrap_or(built);
    let driver = match mode {
        Mode::Full => crate::cargo::build(
            &root,
            &["--release", "-p", "xtask", "--bin", "xtask"],
            "xtask",
        )?
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "xtask"))
        .context("no xtask binary")?,
        // The dev build `cargo xtask` runs (by path: `bench crdt --quick`
        // may have rebuilt it under this running process).
        Mode::Quick => crate::cargo::target_dir(&root)?.join("debug/xtask"),
    };
    // Instances of their own (ports, directories): the test suites of
    // other worktrees use the default ones, and their traffic must not
    // count here (nor this run stop their servers).
    // Read before the run: its load average is the one at the start.
    let machine = machine(&root);
    let run_id = std::process::id();
    if peers {
        let services = Services::start(&root)?;
        let command = format!("cargo xtask bench server {}", args.join(" "));
        let section = peers::run(
            &root,
            &server,
            &driver,
            (&services.db, &services.pg_data),
            docs,
            seconds,
            &rates,
            command.trim(),
        )?;
        drop(services);
        // The section names its own command, documents and step length, so
        // it replaces the committed one whatever they were; only another
        // build of the server (`--atelier`) writes `server-partial.*`.
        let stem = if server_given {
            "server-partial"
        } else {
            "server"
        };
        return write_peers_report(&mode.results_dir(&root)?, stem, &machine, section);
    }
    let idle_report = if wanted("idle") {
        let command = format!("cargo xtask bench server {}", args.join(" "));
        Some(idle_row(
            &server,
            &driver,
            (idle_clients, idle_doc_bytes),
            run_id,
            command.trim(),
        )?)
    } else {
        None
    };
    if !throughput {
        return write_report(
            &mode.results_dir(&root)?,
            stem,
            args,
            &machine,
            docs,
            seconds,
            Vec::new(),
            idle_report,
        );
    }
    let services = Services::start(&root)?;
    let (db, redis) = (services.db.clone(), services.redis.clone());
    let configs = [
        ("1 node", 1usize, "spread"),
        ("3 nodes, clients spread", 3, "spread"),
        ("3 nodes, document-affine", 3, "affine"),
    ];
    let mut results = Vec::new();
    for (i, (label, n, placement)) in configs.iter().enumerate() {
        let key = if *n == 1 { "1" } else { placement };
        if !wanted(key) {
            continue;
        }
        let load_at_start = load_average();
        println!(
            "== {label} (load average {load_at_start}): {docs} documents, steps {rates:?} updates/s, {seconds} s each"
        );
        let mut nodes = Vec::new();
        for _ in 0..*n {
            nodes.push(start_node(
                &server,
                &db,
                (*n > 1).then_some(redis.as_str()),
            )?);
        }
        let addrs: Vec<String> = nodes.iter().map(|n| n.1.clone()).collect();
        let pids: Vec<String> = nodes.iter().map(|n| n.0.id().to_string()).collect();
        let rates_arg: Vec<String> = rates.iter().map(u64::to_string).collect();
        let out = Command::new(&driver)
            .args(["bench", "server", "--drive"])
            .args(["--nodes", &addrs.join(",")])
            .args(["--pids", &pids.join(",")])
            .args(["--pg-dir", &services.pg_data.display().to_string()])
            .args([
                "--redis-pidfile",
                &services.redis_pidfile.display().to_string(),
            ])
            .args(["--placement", placement])
            .args(["--docs", &docs.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .args(["--rates", &rates_arg.join(",")])
            .args(["--prefix", &format!("bench-{run_id}-{i}")])
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run the driver")?;
        let fanout: Vec<Value> = addrs.iter().map(|a| fanout_metrics(a)).collect();
        for (mut child, _) in nodes {
            stop(&mut child);
        }
        if !out.status.success() {
            bail!(
                "the driver failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let steps: Value = serde_json::from_slice(&out.stdout).context("driver output")?;
        let capacity = capacity(&steps);
        println!("   capacity at p99 ≤ {P99_TARGET_MS} ms: {capacity:.0} updates/s");
        results.push(json!({
            "config": label, "nodes": n, "placement": placement,
            "capacity_updates_per_s": capacity, "steps": steps, "fanout_metrics": fanout,
            "load_average_at_start": load_at_start, "load_average_at_end": load_average(),
        }));
    }
    drop(services);
    write_report(
        &mode.results_dir(&root)?,
        stem,
        args,
        &machine,
        docs,
        seconds,
        results,
        idle_report,
    )
}

/// Raises this process's soft limit of open files to its hard limit (the
/// nodes and drivers started from here inherit it); returns the limit.
fn raise_nofile_limit() -> Option<u64> {
    let (soft, hard) = nofile_limits(std::process::id())?;
    if soft < hard {
        let raised = Command::new("prlimit")
            .args(["--pid", &std::process::id().to_string()])
            .arg(format!("--nofile={hard}:"))
            .status();
        if !raised.is_ok_and(|s| s.success()) {
            eprintln!("could not raise the open-files limit from {soft} to {hard} (prlimit)");
        }
    }
    nofile_limits(std::process::id()).map(|(soft, _)| soft)
}

/// A process's soft and hard limits of open files (`/proc/PID/limits`;
/// `unlimited` counts as `u64::MAX`).
fn nofile_limits(pid: u32) -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut v = line["Max open files".len()..]
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap_or(u64::MAX));
    Some((v.next()?, v.next()?))
}

/// The idle-connections row: for each document count, a fresh node on
/// its own SQLite file and one idle driver run against it.
fn idle_row(
    server: &Path,
    driver: &Path,
    (clients, doc_bytes): (usize, usize),
    run_id: u32,
    command: &str,
) -> Result<Value> {
    let load_at_start = load_average();
    let mut rows = Vec::new();
    let mut node_nofile = None;
    for &docs in IDLE_DOCS {
        println!(
            "== idle connections (load average {}): {clients} clients over {docs} document(s)",
            load_average()
        );
        let dir = tempfile::tempdir().context("a directory for the node's SQLite store")?;
        let db = format!("sqlite://{}", dir.path().join("atelier.db").display());
        let (mut child, addr) = start_node(server, &db, None)?;
        let pid = child.id();
        node_nofile = nofile_limits(pid).map(|(soft, _)| soft);
        if node_nofile.is_some_and(|n| n < clients as u64 + 64) {
            stop(&mut child);
            bail!(
                "the node may open {} files, fewer than {clients} clients need",
                node_nofile.unwrap_or(0)
            );
        }
        let out = Command::new(driver)
            .args(["bench", "server", "--drive-idle"])
            .args(["--addr", &addr])
            .args(["--pid", &pid.to_string()])
            .args(["--clients", &clients.to_string()])
            .args(["--docs", &docs.to_string()])
            .args(["--doc-bytes", &doc_bytes.to_string()])
            .args(["--prefix", &format!("idle-{run_id}")])
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run the idle driver")?;
        stop(&mut child);
        if !out.status.success() {
            bail!(
                "the idle driver failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let row: Value = serde_json::from_slice(&out.stdout).context("idle driver output")?;
        println!(
            "   {:.1} KiB per idle connection (RSS {} -> {} KiB; {} KiB after they left)",
            row["per_connection_kib"].as_f64().unwrap_or(f64::NAN),
            row["rss_before_kib"],
            row["rss_after_kib"],
            row["rss_after_close_kib"],
        );
        rows.push(row);
    }
    Ok(json!({
        "date": now_utc(),
        "command": command,
        "clients": clients,
        "store": "embedded SQLite",
        "node_open_files_limit": node_nofile,
        "load_average_at_start": load_at_start,
        "load_average_at_end": load_average(),
        "rows": rows,
    }))
}

/// Port and directory of the benchmark's own PostgreSQL and Redis.
const PG_PORT: &str = "54339";
const PG_DIR: &str = "/tmp/atelier-bench-pg";
const REDIS_PORT: &str = "63799";
const REDIS_DIR: &str = "/tmp/atelier-bench-redis";

/// PostgreSQL and Redis started by `scripts/postgres.sh` and
/// `scripts/redis.sh` for this run, stopped when dropped.
struct Services {
    root: PathBuf,
    db: String,
    redis: String,
    /// PostgreSQL's data directory (its `postmaster.pid` names the server).
    pg_data: PathBuf,
    redis_pidfile: PathBuf,
}

impl Services {
    fn start(root: &Path) -> Result<Services> {
        let mut s = Services {
            root: root.to_path_buf(),
            db: String::new(),
            redis: String::new(),
            pg_data: Path::new(PG_DIR).join("data"),
            redis_pidfile: Path::new(REDIS_DIR).join("redis.pid"),
        };
        s.db = script(root, "postgres.sh", "start", "ATELIER_TEST_DB")?;
        s.redis = script(root, "redis.sh", "start", "ATELIER_TEST_REDIS")?;
        // A fresh run starts from empty tables (earlier runs' documents
        // would only make the loads slower and the tables bigger).
        let psql = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).max())
            .map(|p| p.join("bin/psql"))
            .context("no PostgreSQL installation under /usr/lib/postgresql")?;
        let truncated = Command::new(psql)
            .args([&s.db, "-q", "-c"])
            .arg("DROP TABLE IF EXISTS atelier_updates, atelier_snapshots, atelier_versions")
            .status()
            .context("cannot run psql")?;
        if !truncated.success() {
            bail!("psql could not empty the benchmark's database");
        }
        Ok(s)
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        for name in ["redis.sh", "postgres.sh"] {
            let _ = script(&self.root, name, "stop", "");
        }
    }
}

/// Runs a service script with the benchmark's port and directory; returns
/// the value of the variable it exports (`var`, if any).
fn script(root: &Path, name: &str, action: &str, var: &str) -> Result<String> {
    let out = Command::new("bash")
        .arg(root.join("scripts").join(name))
        .arg(action)
        .env("ATELIER_PG_PORT", PG_PORT)
        .env("ATELIER_PG_DIR", PG_DIR)
        .env("ATELIER_REDIS_PORT", REDIS_PORT)
        .env("ATELIER_REDIS_DIR", REDIS_DIR)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run scripts/{name}"))?;
    if var.is_empty() {
        return Ok(String::new());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("export {var}=")))
        .map(str::to_owned)
        .with_context(|| format!("scripts/{name} {action} printed no {var}: {text}"))
}

/// Starts one node; returns it and the address it listens on.
fn start_node(bin: &Path, db: &str, redis: Option<&str>) -> Result<(Child, String)> {
    let mut cmd = Command::new(bin);
    cmd.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--allow-anonymous",
        "--db",
        db,
    ])
    .args(["--max-connections-per-ip", "100000"])
    .args(["--max-connections-per-user", "100000"])
    // The per-connection limit (200 updates/s by default) is a policy
    // against runaway clients, not a capacity: at 24,000 updates/s over
    // 100 documents each writer sends 240/s, and the peers have no limit.
    .args(["--max-updates-per-second", "1000000"])
    .env("ATELIER_LOG", "warn,atelier_server=info")
    .env("ATELIER_LOG_FORMAT", "json")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(r) = redis {
        cmd.args(["--redis", r]);
    }
    let mut child = cmd.spawn().context("cannot start atelier")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(addr) = v["fields"]["addr"].as_str()
        {
            let addr = addr.to_owned();
            // Keep draining the log so the node never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return Ok((child, addr));
        }
    }
    let _ = child.kill();
    bail!("atelier did not report its address")
}

/// SIGTERM (a graceful stop flushes documents), then waits.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    for _ in 0..200 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The node's fan-out counters (`/metrics` lines starting `atelier_fanout`).
fn fanout_metrics(addr: &str) -> Value {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return Value::Null;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let mut m = serde_json::Map::new();
    for l in text.lines().filter(|l| {
        l.starts_with("atelier_fanout")
            || l.starts_with("atelier_store")
            || l.starts_with("atelier_updates_total")
            || l.starts_with("atelier_compactions")
    }) {
        if let Some((k, v)) = l.rsplit_once(' ')
            && let Ok(v) = v.parse::<f64>()
        {
            m.insert(k.to_owned(), json!(v));
        }
    }
    Value::Object(m)
}

/// The highest delivered rate among steps with p99 within the target.
fn capacity(steps: &Value) -> f64 {
    steps
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["p99_ms"].as_f64().is_some_and(|p| p <= P99_TARGET_MS) && s["lost"] == 0)
        .filter_map(|s| s["delivered_per_s"].as_f64())
        .fold(0.0, f64::max)
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines().next().map(|l| l.trim().to_owned())
}

fn machine(root: &Path) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_owned())
    });
    let postgres = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).max())
        .and_then(|p| {
            first_line(
                &p.join("bin/postgres").display().to_string(),
                &["--version"],
            )
        });
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let locked = |name: &str| {
        let wanted = format!("name = \"{name}\"");
        let mut lines = lock.lines();
        while let Some(l) = lines.next() {
            if l.trim() == wanted {
                return lines
                    .next()
                    .and_then(|v| v.trim().strip_prefix("version = \""))
                    .map(|v| v.trim_end_matches('"').to_owned());
            }
        }
        None
    };
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory": std::fs::read_to_string("/proc/meminfo").ok()
            .and_then(|m| m.lines().next().map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))),
        "kernel": first_line("uname", &["-r"]),
        "rustc": first_line("rustc", &["--version"]),
        "postgres": postgres,
        "redis": first_line("redis-server", &["--version"]),
        "crates": {"redis": locked("redis"), "tokio-postgres": locked("tokio-postgres"),
                   "axum": locked("axum"), "tokio-tungstenite": locked("tokio-tungstenite")},
        // `nice -n -10 cargo xtask bench server` keeps other builders'
        // compilers from preempting the measured processes (they inherit it).
        "nice": std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| {
            s.rsplit_once(')')?.1.split_whitespace().nth(16)?.parse::<i64>().ok()
        }),
        "load_average_at_start": std::fs::read_to_string("/proc/loadavg").ok()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
    })
}

// The load driver (run in release by the orchestrator).
mod drive;
mod peers;
// The idle-connections driver.
mod idle;
// The results files and their Markdown.
mod report;
use report::{markdown, write_peers_report, write_report};
