//! `xtask bench-native --runs N [--save-update FILE] FILE`: one trace measured
//! natively, in a fresh process so its memory figure is its own. Prints one
//! JSON object (the engine record `bench.rs` reads) on stdout.

use crate::trace_file;
use anyhow::{Context, Result, bail};
use atelier_bench_wasm::counting_alloc;
use atelier_doc::Document;
use atelier_doc::trace::{
    ReplayOptions, Trace, paste, repeated_document, replay, replay_sequential_one_transaction,
};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Runs the internal command.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let mut runs = 1;
    let mut save_update: Option<PathBuf> = None;
    let mut file: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => runs = crate::parse_count("--runs", it.next())?,
            "--save-update" => {
                save_update = Some(PathBuf::from(
                    it.next().context("--save-update needs a path")?,
                ))
            }
            flag if flag.starts_with("--") => bail!("unknown option {flag:?}"),
            f => file = Some(PathBuf::from(f)),
        }
    }
    let file = file.context("bench-native needs a trace file")?;
    let trace = trace_file::load(&file)?;
    let options = ReplayOptions::default();

    // The first run also measures memory: heap bytes counted by the global
    // allocator (peak during the replay, and still held with the final
    // document alive), and the peak resident set over the one before.
    let baseline_rss = proc_status_kib("VmRSS:");
    let rss_reset = reset_peak_rss();
    let baseline_heap = counting_alloc::live_bytes();
    counting_alloc::reset_peak();
    let mut times = Vec::with_capacity(runs);
    let started = Instant::now();
    let first = replay(&trace, &options)?;
    times.push(ms(started));
    let peak_heap = counting_alloc::peak_bytes().saturating_sub(baseline_heap);
    let retained_heap = counting_alloc::live_bytes().saturating_sub(baseline_heap);
    let peak_rss = match (baseline_rss, proc_status_kib("VmHWM:")) {
        (Some(b), Some(p)) if rss_reset => Some(p.saturating_sub(b) * 1024),
        _ => None,
    };
    let memory = json!({
        "peakBytes": peak_heap,
        "retainedBytes": retained_heap,
        "peakRssDeltaBytes": peak_rss,
        "method": "heap bytes counted by the global allocator: peak during the first replay and \
                   retained after it with the final document alive; peakRssDeltaBytes = VmHWM \
                   (reset via /proc/self/clear_refs) minus VmRSS before the replay",
    });
    let mismatch = first.mismatch(trace.end_content()).map(|m| m.to_string());
    let final_len = first.stats.final_scalar_len;
    let update = first.document.encode_state_v1();
    let block = first.block.clone();
    drop(first);
    for _ in 1..runs {
        let started = Instant::now();
        let done = replay(&trace, &options)?;
        times.push(ms(started));
        drop(done);
    }

    // Load: decode the full state into a fresh document.
    let mut load = Vec::with_capacity(runs);
    let mut loaded_ok = true;
    for i in 0..runs {
        let started = Instant::now();
        let doc = Document::from_update_v1(&update)?;
        load.push(ms(started));
        if i == 0 {
            loaded_ok = doc.block_plain_text(&block).ok().as_deref() == Some(trace.end_content());
        }
    }
    let bulk = bulk(&trace, &options, runs)?;
    let bulk_ok = bulk.get("ok") == Some(&serde_json::Value::Bool(true));
    if let Some(path) = save_update {
        std::fs::write(&path, &update)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let record = json!({
        "ok": mismatch.is_none() && loaded_ok && bulk_ok,
        "mismatch": mismatch
            .or_else(|| (!loaded_ok).then(|| "the loaded state differs from endContent".to_owned()))
            .or_else(|| bulk.get("mismatch").and_then(|m| m.as_str()).map(str::to_owned)),
        "kind": trace.kind().to_string(),
        "ops": trace.patch_count(),
        "txns": trace.txn_count(),
        "finalLen": final_len,
        "replayMs": summary(&times),
        "updateBytes": update.len(),
        "memory": memory,
        "loadMs": summary(&load),
        "bulk": bulk,
    });
    println!("{record}");
    Ok(ExitCode::SUCCESS)
}

/// How many copies of the final text the large document holds.
pub const REPEAT: u32 = 100;

/// The bulk rows: the whole (sequential) trace replayed in one transaction,
/// the final text pasted in one insertion, and the load of a document
/// holding the final text [`REPEAT`] times; `runs` timings each.
fn bulk(trace: &Trace, options: &ReplayOptions, runs: usize) -> Result<serde_json::Value> {
    let end = trace.end_content();
    let mut mismatch: Option<String> = None;
    let one_txn = match trace {
        Trace::Sequential(t) => {
            let mut times = Vec::with_capacity(runs);
            for i in 0..runs {
                let started = Instant::now();
                let done = replay_sequential_one_transaction(t, options)?;
                times.push(ms(started));
                if i == 0 {
                    mismatch = done.mismatch(end).map(|m| format!("one transaction: {m}"));
                }
            }
            summary(&times)
        }
        Trace::Concurrent(_) => serde_json::Value::Null,
    };
    let mut pasted = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        let done = paste(end, options)?;
        pasted.push(ms(started));
        if i == 0 && mismatch.is_none() {
            mismatch = done.mismatch(end).map(|m| format!("paste: {m}"));
        }
    }
    let (doc, block) = repeated_document(end, REPEAT, options)?;
    let update = doc.encode_state_v1();
    drop(doc);
    let expected_len = end.len() * REPEAT as usize;
    let mut load = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        let loaded = Document::from_update_v1(&update)?;
        load.push(ms(started));
        if i == 0 && mismatch.is_none() {
            let text = loaded.block_plain_text(&block)?;
            if text.len() != expected_len || !text.starts_with(end) {
                mismatch = Some(format!(
                    "the ×{REPEAT} document loaded {} bytes of text, not {expected_len}",
                    text.len()
                ));
            }
        }
    }
    Ok(json!({
        "ok": mismatch.is_none(),
        "mismatch": mismatch,
        "oneTxnMs": one_txn,
        "pasteMs": summary(&pasted),
        "repeat": REPEAT,
        "repeatedUpdateBytes": update.len(),
        "repeatedLoadMs": summary(&load),
    }))
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// `{median, runs}` of timings in milliseconds.
pub fn summary(times: &[f64]) -> serde_json::Value {
    json!({ "median": median(times), "runs": times })
}

/// The median (mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A `kB` field of `/proc/self/status`, in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
