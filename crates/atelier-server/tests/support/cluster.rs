//! Several `atelier serve` processes (the built binary) sharing PostgreSQL
//! and Redis, private Redis and PostgreSQL instances a test may stop and
//! restart, plain HTTP calls, and waiting for conditions with deadlines.

#![allow(dead_code, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The PostgreSQL and Redis URLs of the multi-node tests, or `None` after
/// printing `SKIPPED: <test> (reason)`.
pub fn cluster_env(test: &str) -> Option<(String, String)> {
    let db = std::env::var("ATELIER_TEST_DB").unwrap_or_default();
    let redis = std::env::var("ATELIER_TEST_REDIS").unwrap_or_default();
    if !db.starts_with("postgres") {
        println!(
            "SKIPPED: {test} (several nodes need PostgreSQL: set ATELIER_TEST_DB, e.g. eval \"$(bash scripts/postgres.sh start)\")"
        );
        return None;
    }
    if !redis.starts_with("redis") {
        println!(
            "SKIPPED: {test} (several nodes need Redis: set ATELIER_TEST_REDIS, e.g. eval \"$(bash scripts/redis.sh start)\")"
        );
        return None;
    }
    Some((db, redis))
}

/// One `atelier serve` process.
pub struct Node {
    pub child: Child,
    pub addr: String,
    /// Its log lines (JSON), for failure messages.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Node {
    /// Starts the server binary on a free port with `--db` and `--redis`.
    pub fn start(db: &str, redis: Option<&str>, extra: &[&str]) -> Node {
        Node::start_on("127.0.0.1:0", db, redis, extra)
    }

    /// As [`Node::start`], listening on `addr` (a test that must tell
    /// another server where to reach this one before it starts).
    pub fn start_on(addr: &str, db: &str, redis: Option<&str>, extra: &[&str]) -> Node {
        let mut args = vec!["serve", "--addr", addr, "--allow-anonymous", "--db", db];
        if let Some(r) = redis {
            args.extend(["--redis", r]);
        }
        args.extend(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
            .args(&args)
            .env("ATELIER_LOG", "info,atelier_server=debug")
            .env("ATELIER_LOG_FORMAT", "json")
            .env("ATELIER_WWW", "/nonexistent")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let log: Arc<Mutex<Vec<String>>> = Default::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent
                    && let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(addr) = v["fields"]["addr"].as_str()
                {
                    let _ = tx.send(addr.to_owned());
                    sent = true;
                }
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                    if l.len() > 400 {
                        l.drain(..100);
                    }
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Node { child, addr, log },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server did not report its address; log: {:#?}",
                    log.lock().map(|l| l.clone())
                );
            }
        }
    }

    pub fn hocuspocus_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    pub fn ywebsocket_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// The last lines of its log.
    pub fn tail(&self, n: usize) -> String {
        let l = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        l[l.len().saturating_sub(n)..].join("\n")
    }

    /// A metric's value from `/metrics` (first sample with that exact name and labels).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = http(&self.addr, "GET", "/metrics", &[]).ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request; returns status and body.
pub fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status in {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, body.to_owned()))
}

/// Polls `check` every 20 ms until it returns `Ok` or `timeout` passes,
/// then panics with `what` and the last thing it saw.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return v,
            Err(seen) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last saw: {seen}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

fn run_script(name: &str, action: &str, env: &[(&str, String)]) {
    let out = Command::new("bash")
        .arg(script(name))
        .arg(action)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/{name} {action} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Redis server of the test's own (scripts/redis.sh on another port and
/// directory), to stop and restart without disturbing other tests.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    pub fn start() -> PrivateRedis {
        let dir = tempfile::Builder::new()
            .prefix("atelier-redis-")
            .tempdir()
            .expect("tmp dir");
        let r = PrivateRedis {
            port: free_port(),
            dir,
        };
        r.up();
        r
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ATELIER_REDIS_PORT", self.port.to_string()),
            ("ATELIER_REDIS_DIR", self.dir.path().display().to_string()),
        ]
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn up(&self) {
        run_script("redis.sh", "start", &self.env());
    }

    pub fn down(&self) {
        run_script("redis.sh", "stop", &self.env());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.down();
    }
}

/// A PostgreSQL server of the test's own (scripts/postgres.sh on another
/// port and directory), to stop and restart mid-test.
pub struct PrivatePostgres {
    pub port: u16,
    dir: String,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let port = free_port();
        // Not under a 0700 temporary directory: the postgres user must reach it.
        let dir = format!("/tmp/atelier-pg-test-{}-{port}", std::process::id());
        let p = PrivatePostgres { port, dir };
        p.up();
        p
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ATELIER_PG_PORT", self.port.to_string()),
            ("ATELIER_PG_DIR", self.dir.clone()),
        ]
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn up(&self) {
        run_script("postgres.sh", "start", &self.env());
    }

    pub fn down(&self) {
        run_script("postgres.sh", "stop", &self.env());
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
