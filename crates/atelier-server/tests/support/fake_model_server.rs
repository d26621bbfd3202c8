//! A scripted model server for the AI proxy's tests: a raw TCP listener
//! that reads one HTTP request and answers with exactly the bytes a test
//! script gives, in the writes and with the pauses it gives, so every SSE
//! byte on the wire is under the test's control (a test double: a real
//! model cannot run in CI). It reports each request it read and whether
//! the proxy closed the connection while it waited.

#![allow(dead_code, missing_docs)]

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One step of an answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes (one write).
    Write(Vec<u8>),
    /// Pause.
    Sleep(Duration),
    /// Wait up to this long for the peer to close the connection, and
    /// report when it did.
    AwaitClose(Duration),
}

/// A request the server read.
#[derive(Debug, Clone)]
pub struct Seen {
    pub head: String,
    pub body: Vec<u8>,
}

impl Seen {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the proxy sent JSON")
    }
}

/// What happened on a connection, as the server saw it.
#[derive(Debug, Clone)]
pub enum Event {
    Request(Seen),
    /// The peer closed the connection this long after AwaitClose began.
    Closed(Duration),
    /// AwaitClose ended without the peer closing.
    StillOpen,
}

pub struct FakeModelServer {
    pub addr: std::net::SocketAddr,
    pub events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The head of a 200 streamed answer, closed-delimited as many servers do.
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
        .to_vec()
}

/// A whole answer with this status, extra headers and JSON body.
pub fn json_answer(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

async fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen { head, body })
}

impl FakeModelServer {
    /// Serves `script` to every connection, in turn.
    pub async fn start(script: Vec<Step>) -> FakeModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let script = script.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let Some(seen) = read_request(&mut sock).await else {
                        return;
                    };
                    let _ = tx.send(Event::Request(seen));
                    for step in script {
                        match step {
                            Step::Write(bytes) => {
                                if sock.write_all(&bytes).await.is_err() {
                                    return;
                                }
                                let _ = sock.flush().await;
                            }
                            Step::Sleep(d) => tokio::time::sleep(d).await,
                            Step::AwaitClose(limit) => {
                                let started = Instant::now();
                                let mut b = [0u8; 256];
                                let closed = tokio::time::timeout(limit, async {
                                    loop {
                                        match sock.read(&mut b).await {
                                            Ok(0) | Err(_) => return,
                                            Ok(_) => {}
                                        }
                                    }
                                })
                                .await
                                .is_ok();
                                let _ = tx.send(if closed {
                                    Event::Closed(started.elapsed())
                                } else {
                                    Event::StillOpen
                                });
                            }
                        }
                    }
                });
            }
        });
        FakeModelServer { addr, events, task }
    }

    /// The base URL to give `--ai-url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The next event, within `within`; panics naming what it waited for.
    pub async fn next_event(&mut self, what: &str, within: Duration) -> Event {
        match tokio::time::timeout(within, self.events.recv()).await {
            Ok(Some(e)) => e,
            Ok(None) => panic!("the fake model server stopped while waiting for {what}"),
            Err(_) => panic!("no {what} within {within:?}"),
        }
    }
}
