//! Durability under `kill -9`: a Hocuspocus client streams edits and records
//! which ones the server acknowledged (SyncStatus); the server process is
//! killed at a random moment; after a restart every acknowledged edit is
//! there. Repeated `ATELIER_KILL_ROUNDS` times (default 6) with kill delays
//! from a seed printed at the start (`ATELIER_SEED` replays it).

#[path = "support/server.rs"]
mod support;

use serde_json::json;
use std::process::Command;
use std::time::Duration;
use support::{Peers, temp_dir, test_db};

fn spawn_server(db: &str) -> (std::process::Child, String) {
    support::spawn_binary(env!("CARGO_BIN_EXE_atelier"), db, &[])
}

#[test]
fn acknowledged_edits_survive_kill_9() {
    let test = "acknowledged_edits_survive_kill_9";
    let Some(mut p) = Peers::start(test) else {
        return;
    };
    let rounds: u32 = std::env::var("ATELIER_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let seed: u64 = std::env::var("ATELIER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("{test}: seed {seed} (replay with ATELIER_SEED={seed}), {rounds} rounds");
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let dir = temp_dir("kill9");
    let db = test_db(&dir);
    let doc = format!(
        "kill9-{}",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    );
    let mut acked: Vec<String> = Vec::new();
    let mut total_sent = 0;
    for round in 0..rounds {
        let (mut server, addr) = spawn_server(&db);
        let url = format!("ws://{addr}/sync");
        let id = format!("w{round}");
        p.call(json!({"cmd": "connect", "id": id, "kind": "hocuspocus", "url": url, "doc": doc, "token": "", "name": id}));
        let st = p.call(json!({"cmd": "wait_synced", "id": id, "timeout_ms": 15000}));
        let text = st["text"].as_str().unwrap_or("").to_owned();
        for token in &acked {
            assert!(
                text.contains(token.as_str()),
                "round {round}: acknowledged edit {token:?} lost after kill -9 (seed {seed}); text: {text:?}"
            );
        }
        // Kill the server at a random moment while edits stream in.
        let kill_after = Duration::from_millis(30 + next() % 400);
        let pid = server.id();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(kill_after);
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        });
        let mut i = 0;
        loop {
            let token = format!("[{round}.{i}]");
            total_sent += 1;
            let r = p.call(
                json!({"cmd": "append_wait_ack", "id": id, "text": token, "timeout_ms": 300}),
            );
            if r["acked"] == true {
                acked.push(token);
            } else {
                break;
            }
            i += 1;
        }
        killer.join().expect("killer thread");
        let _ = server.wait();
        p.call(json!({"cmd": "disconnect", "id": id}));
    }
    // A last restart: everything acknowledged is there, exactly once each.
    let (mut server, addr) = spawn_server(&db);
    let url = format!("ws://{addr}/sync");
    p.call(json!({"cmd": "connect", "id": "final", "kind": "hocuspocus", "url": url, "doc": doc, "token": "", "name": "final"}));
    let st = p.call(json!({"cmd": "wait_synced", "id": "final", "timeout_ms": 15000}));
    let text = st["text"].as_str().unwrap_or("").to_owned();
    let _ = server.kill();
    let _ = server.wait();
    for token in &acked {
        assert_eq!(
            text.matches(token.as_str()).count(),
            1,
            "{token:?} in {text:?} (seed {seed})"
        );
    }
    assert!(
        !acked.is_empty(),
        "no edit was ever acknowledged; text {text:?}"
    );
    println!(
        "{test}: {} of {total_sent} edits acknowledged, all present after {rounds} kills",
        acked.len()
    );
}
