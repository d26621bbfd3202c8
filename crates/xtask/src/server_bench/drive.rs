//! The load driver of `cargo xtask bench server`, run in release by the
//! orchestrator (`xtask bench server --drive …`): y-websocket writers and
//! readers over tokio-tungstenite, rate steps, delivery latencies and the
//! CPU time of every process around each measured window, printed as JSON.

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
    /// The framing the servers speak.
    protocol: Protocol,
}

/// The wire framing of the server under test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// y-websocket: the document is the URL path, frames are bare.
    Yws,
    /// Hocuspocus: each frame starts with the document name, auth first.
    Hocuspocus,
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
        protocol: Protocol::Yws,
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
            "--protocol" => {
                plan.protocol = match v.as_str() {
                    "y-websocket" => Protocol::Yws,
                    "hocuspocus" => Protocol::Hocuspocus,
                    other => bail!("--protocol {other}: y-websocket or hocuspocus"),
                }
            }
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

/// Appends a length-prefixed string (lib0 `writeVarString`).
fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varuint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A frame's payload after the Hocuspocus document name (the frame
/// itself for y-websocket); `None` for frames without one (pings).
fn payload(frame: &[u8], protocol: Protocol) -> Option<&[u8]> {
    if protocol == Protocol::Yws {
        return Some(frame);
    }
    let mut pos = 0;
    let len = usize::try_from(varuint(frame, &mut pos)?).ok()?;
    frame.get(pos.checked_add(len)?..)
}

/// Resident memory of a process, KiB (`VmRSS` in `/proc/PID/status`).
pub(super) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects a client of `doc` and joins it: for Hocuspocus, the auth
/// message (any token: the bench server has no authentication hook),
/// then, for both framings, sync step 1 with an empty state vector.
async fn connect(addr: &str, doc: &str, protocol: Protocol) -> Result<Ws> {
    let url = match protocol {
        Protocol::Yws => format!("ws://{addr}/sync/{doc}"),
        Protocol::Hocuspocus => format!("ws://{addr}/"),
    };
    for attempt in 0..20 {
        // TCP_NODELAY, as browsers set it: a small frame is sent at
        // once, not held back by Nagle's algorithm.
        match tokio_tungstenite::connect_async_with_config(&url, None, true).await {
            Ok((mut ws, _)) => {
                if protocol == Protocol::Hocuspocus {
                    // Type 2 (auth), 0 (token), the token.
                    let mut auth = Vec::new();
                    put_str(&mut auth, doc);
                    auth.extend_from_slice(&[2, 0]);
                    put_str(&mut auth, "bench");
                    ws.send(Message::Binary(auth.into())).await?;
                }
                // Sync step 1 with the empty state vector ([0]).
                ws.send(Message::Binary(frame_for(doc, protocol, 0, &[0]).into()))
                    .await?;
                return Ok(ws);
            }
            Err(e) if attempt == 19 => return Err(e).context(url),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    bail!("unreachable")
}

/// A sync message (`kind` 0: step 1, 2: update) for `doc`'s server.
fn frame_for(doc: &str, protocol: Protocol, kind: u8, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(body.len() + doc.len() + 8);
    if protocol == Protocol::Hocuspocus {
        put_str(&mut frame, doc);
    }
    frame.extend_from_slice(&[0, kind]);
    put_varuint(&mut frame, body.len() as u64);
    frame.extend_from_slice(body);
    frame
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
        protocol,
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
            let reader = connect(&reader_node, &name, protocol).await?;
            let writer = connect(&writer_node, &name, protocol).await?;
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
                    let Some(bytes) = payload(&frame, protocol).and_then(sync_update) else {
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
                            && u64::from(step) == reader_shared.measuring.load(Ordering::Relaxed)
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
                let frame = frame_for(&name, protocol, 2, &update);
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
            "rss_kib": pids.iter().map(|p| rss_kib(*p)).collect::<Vec<_>>(),
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
