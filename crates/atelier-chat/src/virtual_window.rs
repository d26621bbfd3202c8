//! Which rows of a long list to put in the DOM: a height per row (measured
//! once rendered, estimated before), prefix sums to turn a scroll offset
//! into a row and back, and the window of rows that covers the viewport
//! plus an overscan margin. Pure, so it is tested natively.

use std::collections::HashMap;
use std::ops::Range;

/// Height assumed for a row never measured, until some row is measured
/// (then the mean of measured rows is used).
pub const DEFAULT_ROW_HEIGHT: f64 = 64.0;

/// Row heights keyed by row key (a message id), in display order.
#[derive(Debug, Clone, Default)]
pub struct HeightCache {
    keys: Vec<String>,
    /// Key → row, for jumps and scroll anchoring (first row of a key).
    rows: HashMap<String, usize>,
    measured: HashMap<String, f64>,
    /// `prefix[i]` = top of row `i`; one more entry than rows.
    prefix: Vec<f64>,
    /// Rows from here on need their prefix recomputed.
    stale_from: usize,
    sum_measured: f64,
}

impl HeightCache {
    /// An empty cache.
    pub fn new() -> Self {
        HeightCache {
            prefix: vec![0.0],
            ..Default::default()
        }
    }

    /// Sets the rows shown, in order. Measurements of keys still present
    /// are kept; this costs one pass over the rows.
    pub fn set_rows(&mut self, keys: Vec<String>) {
        let first_diff = self
            .keys
            .iter()
            .zip(&keys)
            .position(|(a, b)| a != b)
            .unwrap_or(self.keys.len().min(keys.len()));
        self.keys = keys;
        self.stale_from = self.stale_from.min(first_diff);
        self.rows.clear();
        for (i, k) in self.keys.iter().enumerate() {
            self.rows.entry(k.clone()).or_insert(i);
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of row `i`.
    pub fn key(&self, i: usize) -> Option<&str> {
        self.keys.get(i).map(String::as_str)
    }

    /// The row of `key`.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.rows.get(key).copied()
    }

    /// Records the measured height of row `i`; returns whether it changed.
    pub fn measure(&mut self, i: usize, height: f64) -> bool {
        let Some(key) = self.keys.get(i) else {
            return false;
        };
        if !height.is_finite() || height < 0.0 {
            return false;
        }
        let old = self.measured.insert(key.clone(), height);
        if let Some(old) = old {
            self.sum_measured -= old;
        }
        self.sum_measured += height;
        let changed = old.is_none_or(|o| (o - height).abs() > 0.5);
        if changed {
            self.stale_from = self.stale_from.min(i);
        }
        changed
    }

    /// Whether row `i` has been measured.
    pub fn is_measured(&self, i: usize) -> bool {
        self.keys
            .get(i)
            .is_some_and(|k| self.measured.contains_key(k))
    }

    /// The height assumed for unmeasured rows.
    pub fn estimate(&self) -> f64 {
        if self.measured.is_empty() {
            DEFAULT_ROW_HEIGHT
        } else {
            self.sum_measured / self.measured.len() as f64
        }
    }

    fn height(&self, i: usize, estimate: f64) -> f64 {
        self.measured
            .get(&self.keys[i])
            .copied()
            .unwrap_or(estimate)
    }

    fn refresh(&mut self) {
        let n = self.keys.len();
        if self.prefix.len() == n + 1 && self.stale_from >= n {
            return;
        }
        let estimate = self.estimate();
        // The estimate moves with every measurement, so unmeasured rows
        // before `stale_from` may be off by a little: that only shifts
        // the spacer, which the scroll anchoring absorbs.
        let from = self
            .stale_from
            .min(n)
            .min(self.prefix.len().saturating_sub(1));
        self.prefix.truncate(from + 1);
        let mut top = self.prefix[from];
        for i in from..n {
            top += self.height(i, estimate);
            self.prefix.push(top);
        }
        self.stale_from = n;
    }

    /// The top of row `i` (the total height for `i == len`).
    pub fn offset_of(&mut self, i: usize) -> f64 {
        self.refresh();
        self.prefix[i.min(self.keys.len())]
    }

    /// The total height of all rows.
    pub fn total(&mut self) -> f64 {
        self.offset_of(self.keys.len())
    }

    /// The row at vertical offset `y` (the last row past the end).
    pub fn index_at(&mut self, y: f64) -> usize {
        self.refresh();
        let n = self.keys.len();
        if n == 0 {
            return 0;
        }
        // The last row whose top is at or above y.
        let i = self.prefix[..n].partition_point(|&top| top <= y);
        i.saturating_sub(1).min(n - 1)
    }

    /// The rows to render for a viewport of `height` at `scroll_top`, with
    /// `overscan` pixels more above and below.
    pub fn window(&mut self, scroll_top: f64, height: f64, overscan: f64) -> Range<usize> {
        let n = self.keys.len();
        if n == 0 {
            return 0..0;
        }
        let first = self.index_at((scroll_top - overscan).max(0.0));
        let last = self.index_at(scroll_top + height + overscan);
        first..(last + 1).min(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> HeightCache {
        let mut c = HeightCache::new();
        c.set_rows((0..n).map(|i| format!("m{i}")).collect());
        c
    }

    #[test]
    fn ten_thousand_rows_render_a_screenful() {
        let mut c = rows(10_000);
        assert_eq!(c.total(), 10_000.0 * DEFAULT_ROW_HEIGHT);
        let w = c.window(0.0, 600.0, 200.0);
        assert_eq!(w, 0..13);
        let bottom = c.total() - 600.0;
        let w = c.window(bottom, 600.0, 200.0);
        assert_eq!(w.end, 10_000);
        assert!(w.len() < 20, "{w:?}");
    }

    #[test]
    fn measurements_move_what_follows() {
        let mut c = rows(5);
        assert!(c.measure(1, 100.0));
        assert!(!c.measure(1, 100.2), "sub-pixel changes are noise");
        assert!(c.is_measured(1) && !c.is_measured(0));
        // Unmeasured rows now use the mean of the measured ones.
        assert_eq!(c.estimate(), 100.2);
        assert!(c.measure(0, 20.0));
        assert_eq!(c.offset_of(1), 20.0);
        assert_eq!(c.offset_of(2), 120.2);
        assert_eq!(c.index_at(20.0), 1);
        assert_eq!(c.index_at(19.9), 0);
        assert_eq!(c.index_at(1e9), 4);
        assert!(!c.measure(99, 1.0));
        assert!(!c.measure(0, f64::NAN));
    }

    #[test]
    fn new_rows_keep_measurements_by_key() {
        let mut c = rows(3);
        c.measure(0, 10.0);
        c.measure(1, 20.0);
        c.measure(2, 30.0);
        assert_eq!(c.total(), 60.0);
        // A row merged in the middle (a concurrent message) and one appended.
        c.set_rows(vec![
            "m0".into(),
            "x".into(),
            "m1".into(),
            "m2".into(),
            "y".into(),
        ]);
        assert_eq!(c.offset_of(2), 10.0 + 20.0);
        assert_eq!(c.total(), 60.0 + 2.0 * 20.0);
        assert_eq!(c.index_of("m2"), Some(3));
        assert_eq!(c.key(4), Some("y"));
    }

    #[test]
    fn windows_cover_the_viewport() {
        let mut c = rows(100);
        for i in 0..100 {
            c.measure(i, if i % 2 == 0 { 30.0 } else { 90.0 });
        }
        for top in [0.0, 45.0, 1000.0, 5999.0] {
            let w = c.window(top, 300.0, 0.0);
            assert!(c.offset_of(w.start) <= top, "{top}");
            assert!(c.offset_of(w.end) >= (top + 300.0).min(c.total()), "{top}");
        }
        assert_eq!(rows(0).window(0.0, 100.0, 10.0), 0..0);
    }
}
