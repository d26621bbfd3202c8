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
//! The driver is this same program built in release (`bench server
//! --drive …`), so the load generator does not eat the servers' CPU as a
//! debug build would. Writes `bench/results/server.{json,md}`.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
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

/// Entry point: the orchestrator, or the driver with `--drive`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    if args.first().map(String::as_str) == Some("--drive") {
        return drive::run(&args[1..]);
    }
    let mut docs = 1000usize;
    let mut seconds = 10u64;
    let mut rates: Vec<u64> = RATES.to_vec();
    // Anything but the full run writes `server-partial.*`, so it never
    // replaces the committed results.
    let mut stem = "server";
    let mut server: Option<PathBuf> = None;
    let mut only: Option<Vec<String>> = None;
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
                // Some configurations: 1, spread, affine.
                let v = it.next().context("--only needs a list like 1,spread")?;
                only = Some(v.split(',').map(str::to_owned).collect());
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
            "--quick" => {
                stem = "server-partial";
                docs = 50;
                seconds = 2;
                rates = vec![100, 200];
            }
            other => bail!(
                "unknown option {other:?}; bench server [--docs N] [--seconds S] [--rates R,R…] [--atelier BIN] [--quick]"
            ),
        }
    }
    // Bounded: 2 × docs sockets from one process, and at most
    // rates × (warm-up + seconds + drain) per configuration.
    if docs > 10_000 {
        bail!("--docs {docs}: at most 10,000 documents (two sockets each)");
    }
    let root = crate::workspace_root()?;
    println!("building atelier (release, without the embedded model) and the load driver…");
    let built = crate::cargo::build(
        &root,
        &[
            "--release",
            "-p",
            "atelier-server",
            "--bin",
            "atelier",
            "--no-default-features",
        ],
        "atelier",
    )?
    .into_iter()
    .find(|p| p.file_name().is_some_and(|n| n == "atelier"))
    .context("no atelier binary")?;
    let server = server.unwrap_or(built);
    let driver = crate::cargo::build(
        &root,
        &["--release", "-p", "xtask", "--bin", "xtask"],
        "xtask",
    )?
    .into_iter()
    .find(|p| p.file_name().is_some_and(|n| n == "xtask"))
    .context("no xtask binary")?;
    // Instances of their own (ports, directories): the test suites of
    // other worktrees use the default ones, and their traffic must not
    // count here (nor this run stop their servers).
    // Read before the run: its load average is the one at the start.
    let machine = machine(&root);
    let services = Services::start(&root)?;
    let (db, redis) = (services.db.clone(), services.redis.clone());
    let run_id = std::process::id();
    let configs = [
        ("1 node", 1usize, "spread"),
        ("3 nodes, clients spread", 3, "spread"),
        ("3 nodes, document-affine", 3, "affine"),
    ];
    let mut results = Vec::new();
    for (i, (label, n, placement)) in configs.iter().enumerate() {
        let key = if *n == 1 { "1" } else { placement };
        if only.as_ref().is_some_and(|o| !o.iter().any(|k| k == key)) {
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
    let report = json!({
        "date": now_utc(),
        "command": format!("cargo xtask bench server {}", args.join(" ")).trim().to_owned(),
        "machine": machine,
        "docs": docs, "seconds_per_step": seconds, "p99_target_ms": P99_TARGET_MS,
        "results": results,
    });
    let dir = root.join("bench/results");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown(&report))?;
    println!("wrote bench/results/{stem}.json and {stem}.md");
    Ok(ExitCode::SUCCESS)
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
fn start_node(bin: &PathBuf, db: &str, redis: Option<&str>) -> Result<(Child, String)> {
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

fn markdown(r: &Value) -> String {
    let mut md = String::new();
    let m = &r["machine"];
    let _ = writeln!(md, "# Server: one node against three (issue 17)\n");
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
    md
}

/// The load driver (run in release by the orchestrator).
mod drive {
    use super::{DRAIN, WARM_UP};
    use anyhow::{Context, Result, bail};
    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use std::collections::VecDeque;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use tokio_tungstenite::tungstenite::Message;
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, Text, Transact};

    /// One document's bookkeeping shared by its writer and reader.
    #[derive(Default)]
    struct DocTimes {
        /// (writer's clock where the update starts, when it was sent, step).
        sent: Mutex<VecDeque<(u32, Instant, u32)>>,
    }

    /// The driver's clock of steps.
    struct Shared {
        /// What writers tag new sends with: 0 (not measured) or step + 1.
        tag: AtomicU64,
        /// Which tag readers record latencies for (through the drain).
        measuring: AtomicU64,
        /// Interval between one writer's updates, µs (0: writers pause).
        interval_us: AtomicU64,
        latencies: Mutex<Vec<u32>>,
        sent: AtomicU64,
        ready: AtomicUsize,
        /// Updates the readers received (any step), for the report.
        received: AtomicU64,
    }

    /// What the orchestrator asks the driver to run.
    struct Plan {
        /// The nodes' addresses.
        nodes: Vec<String>,
        /// The nodes' process ids (for their CPU time).
        pids: Vec<u32>,
        /// PostgreSQL's postmaster and Redis' process ids.
        postgres: Option<u32>,
        redis: Option<u32>,
        /// `spread` (a document's writer and reader on different nodes) or
        /// `affine` (on the same node).
        placement: String,
        docs: usize,
        seconds: u64,
        rates: Vec<u64>,
        /// Document names are `{prefix}-{n}`.
        prefix: String,
    }

    pub fn run(args: &[String]) -> Result<ExitCode> {
        let mut plan = Plan {
            nodes: Vec::new(),
            pids: Vec::new(),
            postgres: None,
            redis: None,
            placement: "spread".to_owned(),
            docs: 1000,
            seconds: 10,
            rates: Vec::new(),
            prefix: "bench".to_owned(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let v = it.next().with_context(|| format!("{a} needs a value"))?;
            match a.as_str() {
                "--nodes" => plan.nodes = v.split(',').map(str::to_owned).collect(),
                "--pids" => plan.pids = v.split(',').filter_map(|p| p.parse().ok()).collect(),
                "--pg-dir" => plan.postgres = pid_in(&format!("{v}/postmaster.pid")),
                "--redis-pidfile" => plan.redis = pid_in(v),
                "--placement" => plan.placement = v.clone(),
                "--docs" => plan.docs = v.parse()?,
                "--seconds" => plan.seconds = v.parse()?,
                "--rates" => plan.rates = v.split(',').filter_map(|r| r.parse().ok()).collect(),
                "--prefix" => plan.prefix = v.clone(),
                other => bail!("unknown driver option {other}"),
            }
        }
        if plan.nodes.is_empty() || plan.rates.is_empty() {
            bail!("the driver needs --nodes and --rates");
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let steps = rt.block_on(drive(plan))?;
        println!("{}", serde_json::to_string(&steps)?);
        Ok(ExitCode::SUCCESS)
    }

    fn varuint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *bytes.get(*pos)?;
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn put_varuint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// The update of a y-websocket sync message (step 2 or update), if any.
    fn sync_update(frame: &[u8]) -> Option<&[u8]> {
        let mut pos = 0;
        if varuint(frame, &mut pos)? != 0 {
            return None;
        }
        if !matches!(varuint(frame, &mut pos)?, 1 | 2) {
            return None;
        }
        let len = usize::try_from(varuint(frame, &mut pos)?).ok()?;
        frame.get(pos..pos.checked_add(len)?)
    }

    /// Seconds of CPU (user + system) a process used so far.
    fn cpu_secs(pid: u32) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        // Fields after the command name (which may hold spaces).
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return 0.0;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// The process id in the first line of a pid file.
    fn pid_in(file: &str) -> Option<u32> {
        std::fs::read_to_string(file)
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// CPU of a process and of its children (PostgreSQL's backends are
    /// children of the postmaster; children that ended are not counted,
    /// and a node's connections live as long as the node).
    fn cpu_of_tree(root: Option<u32>) -> f64 {
        let Some(root) = root else { return 0.0 };
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0.0;
        };
        let children: f64 = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rsplit_once(')')
                        .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok())
                        == Some(root)
                })
            })
            .map(cpu_secs)
            .sum();
        cpu_secs(root) + children
    }

    /// Idle CPU seconds of the whole machine (`/proc/stat`, all cores).
    fn idle_secs() -> f64 {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let l = s.lines().next()?.to_owned();
                let f: Vec<f64> = l
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|v| v.parse().ok())
                    .collect();
                Some((f.get(3)? + f.get(4).unwrap_or(&0.0)) / 100.0)
            })
            .unwrap_or(0.0)
    }

    struct CpuSample {
        nodes: Vec<f64>,
        postgres: f64,
        redis: f64,
        driver: f64,
        idle: f64,
    }

    fn sample(pids: &[u32], pg: Option<u32>, redis: Option<u32>) -> CpuSample {
        CpuSample {
            nodes: pids.iter().map(|p| cpu_secs(*p)).collect(),
            postgres: cpu_of_tree(pg),
            redis: cpu_of_tree(redis),
            driver: cpu_secs(std::process::id()),
            idle: idle_secs(),
        }
    }

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn connect(addr: &str, doc: &str) -> Result<Ws> {
        let url = format!("ws://{addr}/sync/{doc}");
        for attempt in 0..20 {
            // TCP_NODELAY, as browsers set it: a small frame is sent at
            // once, not held back by Nagle's algorithm.
            match tokio_tungstenite::connect_async_with_config(&url, None, true).await {
                Ok((ws, _)) => return Ok(ws),
                Err(e) if attempt == 19 => return Err(e).context(url),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        bail!("unreachable")
    }

    async fn drive(plan: Plan) -> Result<Value> {
        let Plan {
            nodes,
            pids,
            postgres,
            redis,
            placement,
            docs,
            seconds,
            rates,
            prefix,
        } = plan;
        let shared = Arc::new(Shared {
            tag: AtomicU64::new(0),
            measuring: AtomicU64::new(0),
            interval_us: AtomicU64::new(0),
            latencies: Mutex::new(Vec::new()),
            sent: AtomicU64::new(0),
            ready: AtomicUsize::new(0),
            received: AtomicU64::new(0),
        });
        let n = nodes.len();
        let mut tasks = Vec::new();
        let sem = Arc::new(tokio::sync::Semaphore::new(32));
        for d in 0..docs {
            let name = format!("{prefix}-{d}");
            let times = Arc::new(DocTimes::default());
            let writer_node = nodes[d % n].clone();
            let reader_node = if placement == "affine" {
                writer_node.clone()
            } else {
                nodes[(d + 1) % n].clone()
            };
            let (shared, sem) = (shared.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let permit = sem.acquire_owned().await;
                let reader = connect(&reader_node, &name).await?;
                let writer = connect(&writer_node, &name).await?;
                drop(permit);
                let (_, mut reader_rx) = reader.split();
                let (mut writer_tx, mut writer_rx) = writer.split();
                // The writer's incoming side: sync step 1 and pings.
                tokio::spawn(async move { while writer_rx.next().await.is_some() {} });
                let reader_times = times.clone();
                let reader_shared = shared.clone();
                tokio::spawn(async move {
                    let mut joined = false;
                    while let Some(Ok(msg)) = reader_rx.next().await {
                        let Message::Binary(frame) = msg else {
                            continue;
                        };
                        if !joined {
                            joined = true;
                            reader_shared.ready.fetch_add(1, Ordering::Relaxed);
                        }
                        let Some(bytes) = sync_update(&frame) else {
                            continue;
                        };
                        let Ok(update) = yrs::Update::decode_v1(bytes) else {
                            continue;
                        };
                        reader_shared.received.fetch_add(1, Ordering::Relaxed);
                        let now = Instant::now();
                        // Where the update starts in the writer's clock
                        // (`state_vector()` is empty for an update that
                        // does not start at clock 0).
                        let clock = update
                            .state_vector_lower()
                            .get(&yrs::block::ClientID::new(d as u64 + 1));
                        let mut sent = match reader_times.sent.lock() {
                            Ok(s) => s,
                            Err(_) => return,
                        };
                        while sent.front().is_some_and(|(c, _, _)| *c <= clock) {
                            if let Some((_, at, step)) = sent.pop_front()
                                && step != 0
                                && u64::from(step)
                                    == reader_shared.measuring.load(Ordering::Relaxed)
                                && let Ok(mut l) = reader_shared.latencies.lock()
                            {
                                l.push(now.duration_since(at).as_micros() as u32);
                            }
                        }
                    }
                });
                let doc = yrs::Doc::with_client_id(d as u64 + 1);
                let text = doc.get_or_insert_text("text");
                shared.ready.fetch_add(1, Ordering::Relaxed);
                // Writers are spread evenly over each interval (writer d
                // of n starts d/n of the way in), so the offered rate is
                // steady, not one burst per interval; each keeps its own
                // schedule (sleep until the next slot, no drift).
                let mut k: u64 = 0;
                let mut current = 0u64;
                let mut next = tokio::time::Instant::now();
                loop {
                    let interval = shared.interval_us.load(Ordering::Relaxed);
                    if interval == 0 {
                        current = 0;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    if interval == u64::MAX {
                        return Ok::<_, anyhow::Error>(());
                    }
                    if interval != current {
                        current = interval;
                        let phase = interval.saturating_mul(d as u64) / docs as u64;
                        next = tokio::time::Instant::now() + Duration::from_micros(phase);
                    }
                    // Sleep in short steps, so a new rate takes effect at once.
                    let now = tokio::time::Instant::now();
                    if now < next {
                        tokio::time::sleep_until(next.min(now + Duration::from_millis(200))).await;
                        continue;
                    }
                    let clock = doc
                        .transact()
                        .state_vector()
                        .get(&yrs::block::ClientID::new(d as u64 + 1));
                    let update = {
                        let mut txn = doc.transact_mut();
                        let len = text.len(&txn);
                        text.insert(&mut txn, len, &format!("{:08}", k % 100_000_000));
                        txn.encode_update_v1()
                    };
                    k += 1;
                    let mut frame = vec![0u8, 2];
                    put_varuint(&mut frame, update.len() as u64);
                    frame.extend_from_slice(&update);
                    let step = shared.tag.load(Ordering::Relaxed) as u32;
                    if let Ok(mut s) = times.sent.lock() {
                        s.push_back((clock, Instant::now(), step));
                    }
                    if step != 0 {
                        shared.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    writer_tx.send(Message::Binary(frame.into())).await?;
                    next += Duration::from_micros(interval);
                }
            }));
        }
        // Everyone connected (two readiness marks per document).
        let deadline = Instant::now() + Duration::from_secs(120);
        while shared.ready.load(Ordering::Relaxed) < 2 * docs {
            if Instant::now() > deadline {
                bail!(
                    "only {} of {} sockets ready after 120 s",
                    shared.ready.load(Ordering::Relaxed),
                    2 * docs
                );
            }
            if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
                let why = match tasks.swap_remove(i).await {
                    Ok(Err(e)) => format!("{e:#}"),
                    Ok(Ok(())) => "it stopped".to_owned(),
                    Err(e) => e.to_string(),
                };
                bail!("a client ended while connecting: {why}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("   {} sockets ready", 2 * docs);
        let mut steps = Vec::new();
        for (i, rate) in rates.iter().enumerate() {
            let interval = (docs as u64 * 1_000_000) / rate.max(&1);
            shared.interval_us.store(interval.max(1), Ordering::Relaxed);
            tokio::time::sleep(WARM_UP).await;
            if let Ok(mut l) = shared.latencies.lock() {
                l.clear();
            }
            shared.sent.store(0, Ordering::Relaxed);
            let before = sample(&pids, postgres, redis);
            let t0 = Instant::now();
            shared.measuring.store(i as u64 + 1, Ordering::Relaxed);
            shared.tag.store(i as u64 + 1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            // New sends are no longer measured; the measured ones may still
            // arrive during the drain (late arrivals count: their latency
            // is what saturation looks like).
            shared.tag.store(0, Ordering::Relaxed);
            let window = t0.elapsed().as_secs_f64();
            let after = sample(&pids, postgres, redis);
            let sent = shared.sent.load(Ordering::Relaxed);
            shared.interval_us.store(0, Ordering::Relaxed);
            tokio::time::sleep(DRAIN).await;
            shared.measuring.store(0, Ordering::Relaxed);
            let mut lat = shared
                .latencies
                .lock()
                .map(|l| l.clone())
                .unwrap_or_default();
            lat.sort_unstable();
            let pct = |p: f64| -> f64 {
                if lat.is_empty() {
                    return f64::NAN;
                }
                let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
                f64::from(lat[i]) / 1000.0
            };
            let per_s = |a: f64, b: f64| (b - a) / window;
            let step = json!({
                "offered_per_s": rate,
                "sent": sent,
                "delivered": lat.len(),
                "delivered_per_s": lat.len() as f64 / window,
                "lost": sent.saturating_sub(lat.len() as u64),
                "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0),
                "cpu_per_s": {
                    "nodes": before.nodes.iter().zip(&after.nodes).map(|(a, b)| per_s(*a, *b)).collect::<Vec<_>>(),
                    "postgres": per_s(before.postgres, after.postgres),
                    "redis": per_s(before.redis, after.redis),
                    "driver": per_s(before.driver, after.driver),
                    "idle": per_s(before.idle, after.idle),
                },
            });
            eprintln!(
                "   offered {rate}/s: delivered {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, lost {} ({} updates received in all)",
                lat.len() as f64 / window,
                pct(0.5),
                pct(0.99),
                sent.saturating_sub(lat.len() as u64),
                shared.received.load(Ordering::Relaxed)
            );
            let saturated = pct(0.99) > 1000.0 || (lat.len() as f64) < 0.8 * sent as f64;
            steps.push(step);
            if saturated {
                eprintln!("   saturated; higher rates skipped");
                break;
            }
        }
        shared.interval_us.store(u64::MAX, Ordering::Relaxed);
        Ok(Value::Array(steps))
    }
}
