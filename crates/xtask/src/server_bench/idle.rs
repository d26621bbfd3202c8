//! The idle-connections row of `cargo xtask bench server` (issue 16): what
//! a connected but silent y-websocket client costs the server in memory.
//!
//! Run by the orchestrator as `xtask bench server --drive-idle …` against
//! one node it started (embedded SQLite store). The driver samples the
//! node's resident set (`VmRSS` in `/proc/PID/status`) once the node is
//! warm (one client connected, synced and gone), connects `--clients`
//! y-websocket clients spread over `--docs` documents, each completing
//! sync step 1/2 once and then sending nothing, samples again once the
//! RSS has settled, and prints `(after − before) / clients` as JSON. The
//! clients keep reading (pings are answered) but never write an update.
//! With `--doc-bytes N` each document first gets N characters of text (one
//! update, from a client that then leaves), so every idle client has been
//! sent a document of that size.

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Connections opened at once (the rest wait their turn).
const IN_FLIGHT: usize = 64;
/// How long the whole connect phase may take before the run fails.
const CONNECT_DEADLINE: Duration = Duration::from_secs(300);

/// y-websocket sync step 1 with an empty state vector (a fresh client).
const STEP1_EMPTY: [u8; 4] = [0, 0, 1, 0];
/// y-websocket sync step 2 with an empty update (0 structs, empty delete
/// set): a fresh client's answer to the server's step 1.
const STEP2_EMPTY: [u8; 5] = [0, 1, 2, 0, 0];

/// Entry point of `bench server --drive-idle`.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut addr = None;
    let mut pid = None;
    let mut clients = 5000usize;
    let mut docs = 1usize;
    let mut prefix = "idle".to_owned();
    let mut doc_bytes = 0usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--addr" => addr = Some(v.clone()),
            "--pid" => pid = Some(v.parse::<u32>().context("--pid")?),
            "--clients" => clients = v.parse().context("--clients")?,
            "--docs" => docs = v.parse().context("--docs")?,
            "--prefix" => prefix = v.clone(),
            "--doc-bytes" => doc_bytes = v.parse().context("--doc-bytes")?,
            other => bail!("unknown idle driver option {other}"),
        }
    }
    let (Some(addr), Some(pid)) = (addr, pid) else {
        bail!("the idle driver needs --addr and --pid");
    };
    if clients == 0 || docs == 0 {
        bail!("--clients and --docs must be at least 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if doc_bytes > 0 {
        rt.block_on(seed(&addr, docs, &prefix, doc_bytes))?;
    }
    let mut report = rt.block_on(measure(&addr, pid, clients, docs, &prefix))?;
    report["doc_bytes"] = json!(doc_bytes);
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// The resident set of a process in KiB (`VmRSS`).
pub(super) fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS:")
}

/// A `kB` field of `/proc/PID/status`.
fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Samples the RSS every 500 ms until two samples in a row differ by less
/// than 256 KiB (or 10 s pass); returns the last one.
async fn settled_rss(pid: u32) -> Result<u64> {
    let mut last = rss_kib(pid).context("the node's /proc/PID/status is gone")?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = rss_kib(pid).context("the node exited")?;
        if now.abs_diff(last) < 256 {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects one client and completes the sync handshake: sends step 1
/// (empty state vector), answers the server's step 1 with an empty step 2,
/// and waits for the server's step 2.
async fn connect_and_sync(addr: &str, doc: &str) -> Result<Ws> {
    let url = format!("ws://{addr}/sync/{doc}");
    // Small client buffers: 5,000 clients in this process must not cost
    // the machine what the node is being measured for.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut ws = None;
    for attempt in 0..20 {
        match tokio_tungstenite::connect_async_with_config(&url, Some(config), true).await {
            Ok((s, _)) => {
                ws = Some(s);
                break;
            }
            Err(e) if attempt == 19 => return Err(e).context(url),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut ws = ws.context("no connection")?;
    ws.send(Message::Binary(STEP1_EMPTY.to_vec().into()))
        .await?;
    let (mut answered, mut synced) = (false, false);
    while !(answered && synced) {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .with_context(|| format!("{url}: no sync reply within 30 s"))?;
        let Some(msg) = msg else {
            bail!("{url}: closed during the sync");
        };
        let Message::Binary(frame) = msg? else {
            continue;
        };
        match frame.get(..2) {
            Some([0, 0]) => {
                ws.send(Message::Binary(STEP2_EMPTY.to_vec().into()))
                    .await?;
                answered = true;
            }
            Some([0, 1]) => synced = true,
            _ => {}
        }
    }
    Ok(ws)
}

/// Gives each document `chars` characters of text: one y-websocket update
/// per document, sent by a client that then closes (the node stores it
/// before it reads the close).
async fn seed(addr: &str, docs: usize, prefix: &str, chars: usize) -> Result<()> {
    use yrs::{Text, Transact};
    let doc = yrs::Doc::new();
    let text = doc.get_or_insert_text("text");
    let update = {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, &"x".repeat(chars));
        txn.encode_update_v1()
    };
    let mut frame = vec![0u8, 2];
    let mut len = update.len();
    while len >= 0x80 {
        frame.push((len as u8) | 0x80);
        len >>= 7;
    }
    frame.push(len as u8);
    frame.extend_from_slice(&update);
    let frame = Arc::new(frame);
    let sem = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::with_capacity(docs);
    for d in 0..docs {
        let (addr, name, frame, sem) = (
            addr.to_owned(),
            format!("{prefix}-{d}"),
            frame.clone(),
            sem.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let mut ws = connect_and_sync(&addr, &name).await?;
            ws.send(Message::Binary(frame.to_vec().into())).await?;
            ws.close(None).await?;
            // Until the node closes too: the update is in before we go.
            while let Some(Ok(_)) = ws.next().await {}
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

async fn measure(
    addr: &str,
    pid: u32,
    clients: usize,
    docs: usize,
    prefix: &str,
) -> Result<serde_json::Value> {
    // Warm the node first (its worker threads' first allocations, the
    // store's first load), so `before` holds what any node holds.
    let warm = connect_and_sync(addr, &format!("{prefix}-warm-up")).await?;
    drop(warm);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = settled_rss(pid).await?;
    let started = Instant::now();
    let synced = Arc::new(AtomicUsize::new(0));
    let sem = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let (addr, doc) = (addr.to_owned(), format!("{prefix}-{}", c % docs));
        let (sem, synced) = (sem.clone(), synced.clone());
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await;
            let ws = connect_and_sync(&addr, &doc).await?;
            drop(permit);
            synced.fetch_add(1, Ordering::Relaxed);
            // Silent from now on; reading answers the node's pings.
            let (_tx, mut rx) = ws.split();
            while let Some(Ok(_)) = rx.next().await {}
            Ok::<_, anyhow::Error>(())
        }));
    }
    while synced.load(Ordering::Relaxed) < clients {
        if started.elapsed() > CONNECT_DEADLINE {
            bail!(
                "only {} of {clients} clients synced after {} s",
                synced.load(Ordering::Relaxed),
                CONNECT_DEADLINE.as_secs()
            );
        }
        if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
            let why = match tasks.swap_remove(i).await {
                Ok(Err(e)) => format!("{e:#}"),
                Ok(Ok(())) => "the node closed it".to_owned(),
                Err(e) => e.to_string(),
            };
            bail!("a client ended before all were synced: {why}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    // Settled: what stays while the clients sit idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = settled_rss(pid).await?;
    let hwm = status_field(pid, "VmHWM:");
    let still_open = tasks.iter().filter(|t| !t.is_finished()).count();
    if still_open < clients {
        bail!(
            "{} of {clients} clients were closed by the node while idle",
            clients - still_open
        );
    }
    // Then everyone leaves: what the node gives back.
    for t in &tasks {
        t.abort();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_close = settled_rss(pid).await?;
    // KiB, as /proc counts them (its "kB").
    let per_connection = (after as f64 - before as f64) / clients as f64;
    Ok(json!({
        "clients": clients,
        "docs": docs,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_peak_kib": hwm,
        "rss_after_close_kib": after_close,
        "per_connection_kib": per_connection,
        "connect_secs": connect_secs,
    }))
}
