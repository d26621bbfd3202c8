//! Helpers shared by the server's integration tests: an in-process server on
//! a free port with its own database, and the Node provider peer.

#![allow(dead_code, missing_docs)]

use atelier_server::config::Config;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret";

/// A running server; dropping it shuts it down gracefully.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub db: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), atelier_server::error::StartError>>>,
    pub state: Arc<atelier_server::state::AppState>,
}

/// A test's own directory (its SQLite file, config files), removed when the
/// test ends, pass or fail; kept, and its path printed, when
/// `ATELIER_KEEP_TEST_DIRS` is set.
pub struct TestDir(tempfile::TempDir);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

pub fn temp_dir(name: &str) -> TestDir {
    let keep = std::env::var_os("ATELIER_KEEP_TEST_DIRS").is_some();
    let dir = tempfile::Builder::new()
        .prefix(&format!("atelier-test-{name}-"))
        .disable_cleanup(keep)
        .tempdir()
        .expect("temp dir");
    if keep {
        eprintln!("keeping test directory {}", dir.path().display());
    }
    TestDir(dir)
}

/// A document name no other test (nor an earlier run against the same
/// PostgreSQL server) uses: `prefix` and the test directory's random name.
pub fn unique(dir: &Path, prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    )
}

/// The database URL the tests use: `ATELIER_TEST_DB` (e.g. a PostgreSQL
/// URL the CI script started) or a fresh SQLite file.
pub fn test_db(dir: &Path) -> String {
    match std::env::var("ATELIER_TEST_DB") {
        Ok(url) if !url.is_empty() => url,
        _ => format!("sqlite://{}", dir.join("atelier.db").display()),
    }
}

/// Starts the real server binary `bin` (the test's
/// `env!("CARGO_BIN_EXE_atelier")`) on a free port, anonymous access
/// allowed, with `extra` arguments; returns it and its address.
pub fn spawn_binary(bin: &str, db: &str, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--allow-anonymous",
            "--db",
            db,
        ])
        .args(extra)
        .env("ATELIER_LOG", "info")
        .env("ATELIER_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(addr) = v["fields"]["addr"].as_str()
        {
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return (child, addr.to_owned());
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not report its address; log: {seen:#?}");
}

impl TestServer {
    pub async fn start(db: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut cfg = Config {
            db: db.to_owned(),
            jwt_secret: Some(SECRET.into()),
            www: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www"),
            ..Config::default()
        };
        tweak(&mut cfg);
        let state = atelier_server::build_state(cfg).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(atelier_server::serve_on(
            listener,
            state.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        TestServer {
            addr,
            db: db.to_owned(),
            stop: Some(stop),
            task: Some(task),
            state,
        }
    }

    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A token granting `write` and `read` patterns, valid for an hour (or expired).
pub fn token(sub: &str, read: &[&str], write: &[&str], expired: bool) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let exp = if expired { now - 3600 } else { now + 3600 };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": sub, "exp": exp, "read": read, "write": write}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token")
}

/// A token whose only claim is `grant` (`read`, `chat` or `write`) on `pattern`.
pub fn token_with(sub: &str, grant: &str, pattern: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64 + 3600)
        .unwrap_or(0);
    let mut claims = json!({"sub": sub, "exp": exp});
    claims[grant] = json!([pattern]);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token")
}

/// What real BlockNote (`peers/blocknote.mjs inspect`) reads from a Yjs v1
/// state: `{blocks, tree, pending}`; `None` after printing why when Node or
/// the npm packages are missing.
pub fn blocknote_inspect(test: &str, state: &[u8]) -> Option<Value> {
    use base64::Engine;
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers");
    if !peers.join("node_modules/@blocknote/server-util").exists() {
        println!(
            "SKIPPED: {test}'s BlockNote check (peers/node_modules missing: run `npm ci` in peers/)"
        );
        return None;
    }
    let mut child = match Command::new("node")
        .arg("blocknote.mjs")
        .arg("inspect")
        .current_dir(&peers)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("SKIPPED: {test}'s BlockNote check (cannot run node: {e})");
            return None;
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(state);
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b64.as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "blocknote.mjs inspect: bad output ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        v.get("error").is_none(),
        "blocknote.mjs inspect failed: {v}"
    );
    Some(v)
}

/// The Node process hosting y-websocket and Hocuspocus providers.
pub struct Peers {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    seq: u64,
}

impl Peers {
    /// Starts the peer process, or `None` (after printing SKIPPED) when Node
    /// or the npm packages are missing.
    pub fn start(test: &str) -> Option<Peers> {
        let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers");
        if !peers.join("node_modules/y-websocket").exists() {
            println!("SKIPPED: {test} (peers/node_modules missing: run `npm ci` in peers/)");
            return None;
        }
        let mut child = match Command::new("node")
            .arg("provider-peer.mjs")
            .current_dir(&peers)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                println!("SKIPPED: {test} (cannot run node: {e})");
                return None;
            }
        };
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Some(Peers {
            child,
            stdin,
            stdout,
            seq: 0,
        })
    }

    /// Sends one command and returns its answer; panics with the peer's
    /// error (which includes what it saw) on failure.
    pub fn call(&mut self, mut cmd: Value) -> Value {
        self.seq += 1;
        cmd["seq"] = json!(self.seq);
        let line = cmd.to_string();
        writeln!(self.stdin, "{line}").expect("write to peer");
        self.stdin.flush().expect("flush");
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).expect("read from peer");
        let v: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("peer answered {answer:?}: {e}"));
        if let Some(err) = v.get("error") {
            panic!("peer command {line} failed: {err}");
        }
        v
    }

    /// Like [`call`] but returns the error text instead of panicking.
    pub fn try_call(&mut self, mut cmd: Value) -> Result<Value, String> {
        self.seq += 1;
        cmd["seq"] = json!(self.seq);
        writeln!(self.stdin, "{cmd}").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        match v.get("error") {
            Some(e) => Err(e.to_string()),
            None => Ok(v),
        }
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
