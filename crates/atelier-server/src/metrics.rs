//! Counters and gauges exported at `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server's metrics. Everything is a relaxed atomic: exact ordering
/// between counters does not matter to a scraper.
#[derive(Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections: AtomicU64,
    /// Documents loaded in memory.
    pub rooms: AtomicU64,
    /// Document updates accepted and stored.
    pub updates: AtomicU64,
    /// Updates refused (read-only, malformed, over a limit).
    pub updates_refused: AtomicU64,
    /// Bytes received on WebSockets.
    pub bytes_in: AtomicU64,
    /// Bytes sent on WebSockets.
    pub bytes_out: AtomicU64,
    /// Connections closed for a protocol error or a limit.
    pub protocol_errors: AtomicU64,
    /// Authentication failures.
    pub auth_failures: AtomicU64,
    /// Sum of store append latencies, microseconds.
    pub store_append_us_sum: AtomicU64,
    /// Number of store appends.
    pub store_appends: AtomicU64,
    /// Log compactions done.
    pub compactions: AtomicU64,
    /// Compactions skipped because another node (or task) was compacting
    /// the same document.
    pub compactions_skipped: AtomicU64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts one from a gauge.
    pub fn dec(gauge: &AtomicU64) {
        // Never wraps below zero even if a decrement races an increment.
        let _ = gauge.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(1))
        });
    }

    /// Renders the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "atelier_connections",
            "gauge",
            "Open WebSocket connections.",
            g(&self.connections),
        );
        metric(
            "atelier_rooms",
            "gauge",
            "Documents loaded in memory.",
            g(&self.rooms),
        );
        metric(
            "atelier_updates_total",
            "counter",
            "Document updates stored and applied.",
            g(&self.updates),
        );
        metric(
            "atelier_updates_refused_total",
            "counter",
            "Document updates refused.",
            g(&self.updates_refused),
        );
        metric(
            "atelier_received_bytes_total",
            "counter",
            "Bytes received on WebSockets.",
            g(&self.bytes_in),
        );
        metric(
            "atelier_sent_bytes_total",
            "counter",
            "Bytes sent on WebSockets.",
            g(&self.bytes_out),
        );
        metric(
            "atelier_protocol_errors_total",
            "counter",
            "Connections closed for a protocol error or limit.",
            g(&self.protocol_errors),
        );
        metric(
            "atelier_auth_failures_total",
            "counter",
            "Refused authentications.",
            g(&self.auth_failures),
        );
        let secs = g(&self.store_append_us_sum) as f64 / 1e6;
        let _ = writeln!(
            out,
            "# HELP atelier_store_append_seconds Time spent appending updates to the store."
        );
        let _ = writeln!(out, "# TYPE atelier_store_append_seconds summary");
        let _ = writeln!(out, "atelier_store_append_seconds_sum {secs}");
        let _ = writeln!(
            out,
            "atelier_store_append_seconds_count {}",
            g(&self.store_appends)
        );
        let _ = writeln!(
            out,
            "# HELP atelier_compactions_total Log compactions into snapshots."
        );
        let _ = writeln!(out, "# TYPE atelier_compactions_total counter");
        let _ = writeln!(out, "atelier_compactions_total {}", g(&self.compactions));
        let _ = writeln!(
            out,
            "# HELP atelier_compactions_skipped_total Compactions skipped: another node was compacting the document."
        );
        let _ = writeln!(out, "# TYPE atelier_compactions_skipped_total counter");
        let _ = writeln!(
            out,
            "atelier_compactions_skipped_total {}",
            g(&self.compactions_skipped)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        Metrics::add(&m.updates, 3);
        Metrics::add(&m.store_append_us_sum, 1_500_000);
        Metrics::add(&m.store_appends, 3);
        Metrics::add(&m.connections, 1);
        Metrics::dec(&m.connections);
        Metrics::dec(&m.connections);
        let text = m.render();
        assert!(text.contains("atelier_updates_total 3\n"), "{text}");
        assert!(
            text.contains("atelier_store_append_seconds_sum 1.5\n"),
            "{text}"
        );
        assert!(text.contains("atelier_connections 0\n"), "{text}");
        assert!(text.contains("# TYPE atelier_updates_total counter"));
    }
}
