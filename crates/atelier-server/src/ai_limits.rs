//! Rate limits of the AI endpoint, per user and per document.
//!
//! Each limit is a set of windows (`5/min,100/h,500/day`); a request
//! passes when every window of its user and of its document still has
//! room, and then counts in all of them. Windows slide: a request counts
//! for exactly one minute (hour, day) after it was made, as Django REST
//! framework's throttles count for La Suite Docs, whose defaults these
//! are (5/min, 100/h, 500/day per document; 3/min, 50/h, 200/day per
//! user). A refusal says which limit and when to retry.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One window: at most `max` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Requests allowed in the window.
    pub max: u32,
    /// The window's length.
    pub per: Duration,
}

/// A limit: every window must have room.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateSpec {
    /// The windows; none means unlimited.
    pub windows: Vec<Window>,
}

impl RateSpec {
    /// La Suite Docs' default per document: 5/min, 100/h, 500/day.
    pub fn docs_document_default() -> Self {
        RateSpec::from_windows(&[(5, 60), (100, 3600), (500, 86_400)])
    }

    /// La Suite Docs' default per user: 3/min, 50/h, 200/day.
    pub fn docs_user_default() -> Self {
        RateSpec::from_windows(&[(3, 60), (50, 3600), (200, 86_400)])
    }

    fn from_windows(w: &[(u32, u64)]) -> Self {
        RateSpec {
            windows: w
                .iter()
                .map(|(max, secs)| Window {
                    max: *max,
                    per: Duration::from_secs(*secs),
                })
                .collect(),
        }
    }

    fn longest(&self) -> Duration {
        self.windows
            .iter()
            .map(|w| w.per)
            .max()
            .unwrap_or(Duration::ZERO)
    }
}

fn unit_name(per: Duration) -> String {
    match per.as_secs() {
        1 => "second".into(),
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        s => format!("{s} s"),
    }
}

impl fmt::Display for RateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.windows.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self
            .windows
            .iter()
            .map(|w| {
                let unit = match w.per.as_secs() {
                    1 => "s".to_owned(),
                    60 => "min".to_owned(),
                    3600 => "h".to_owned(),
                    86_400 => "day".to_owned(),
                    s => format!("{s}s"),
                };
                format!("{}/{unit}", w.max)
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for RateSpec {
    type Err = String;

    /// `5/min,100/h,500/day`; units `s`, `min`, `h`, `day` (also `second`,
    /// `minute`, `hour`, `d`), or `none` for no limit.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") || s.is_empty() {
            return Ok(RateSpec::default());
        }
        let mut windows = Vec::new();
        for part in s.split(',') {
            let (n, unit) = part
                .trim()
                .split_once('/')
                .ok_or_else(|| format!("{part:?}: write a limit as COUNT/UNIT, e.g. 5/min"))?;
            let max: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: {n:?} is not a count"))?;
            let secs = match unit.trim() {
                "s" | "sec" | "second" => 1,
                "m" | "min" | "minute" => 60,
                "h" | "hour" => 3600,
                "d" | "day" => 86_400,
                other => {
                    return Err(format!(
                        "{part:?}: unknown unit {other:?}; use s, min, h or day"
                    ));
                }
            };
            windows.push(Window {
                max,
                per: Duration::from_secs(secs),
            });
        }
        Ok(RateSpec { windows })
    }
}

/// Whose limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    /// The user's.
    User,
    /// The document's.
    Document,
}

/// A refusal: which limit, and when a request would pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Whose limit.
    pub by: LimitedBy,
    /// The window that is full.
    pub window: Window,
    /// How long until it has room.
    pub retry_after: Duration,
}

impl Refusal {
    /// Seconds for a `Retry-After` header (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.by {
            LimitedBy::User => "you",
            LimitedBy::Document => "this document",
        };
        write!(
            f,
            "AI rate limit reached for {whose}: {} requests per {}; retry in {} s",
            self.window.max,
            unit_name(self.window.per),
            self.retry_after_secs()
        )
    }
}

/// Request times per key, each window's count taken from them.
#[derive(Debug, Default)]
struct Log {
    keys: HashMap<String, VecDeque<Instant>>,
    checks: u64,
}

impl Log {
    fn check(&self, key: &str, spec: &RateSpec, now: Instant) -> Option<(Window, Duration)> {
        let times = self.keys.get(key)?;
        for w in &spec.windows {
            let since = now.checked_sub(w.per);
            // Times are in order: count those inside the window.
            let inside: Vec<&Instant> = times
                .iter()
                .filter(|t| since.is_none_or(|s| **t > s))
                .collect();
            if inside.len() as u64 >= u64::from(w.max) {
                // Room comes back when the oldest counted one leaves.
                let oldest_needed = inside.len() + 1 - w.max.max(1) as usize;
                let leaves = inside
                    .get(oldest_needed.saturating_sub(1))
                    .map(|t| (**t + w.per).saturating_duration_since(now))
                    .unwrap_or(w.per);
                return Some((*w, leaves));
            }
        }
        None
    }

    fn record(&mut self, key: &str, spec: &RateSpec, now: Instant) {
        let keep = spec.longest();
        let times = self.keys.entry(key.to_owned()).or_default();
        times.push_back(now);
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= keep)
        {
            times.pop_front();
        }
        // The biggest window bounds how many times a key keeps.
        let cap = spec.windows.iter().map(|w| w.max).max().unwrap_or(0) as usize;
        while times.len() > cap.max(1) {
            times.pop_front();
        }
        self.checks += 1;
        if self.checks.is_multiple_of(1024) {
            // Forget keys with nothing left in any window.
            self.keys.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < keep)
            });
        }
    }
}

/// The AI endpoint's limits.
#[derive(Debug)]
pub struct AiLimits {
    user: RateSpec,
    document: RateSpec,
    log: Mutex<(Log, Log)>,
}

impl AiLimits {
    /// Limits with these specs.
    pub fn new(user: RateSpec, document: RateSpec) -> Self {
        AiLimits {
            user,
            document,
            log: Mutex::new((Log::default(), Log::default())),
        }
    }

    /// Counts a request of `user` on `document` made at `now`, or refuses
    /// it (and then counts nothing).
    pub fn admit(&self, user: &str, document: &str, now: Instant) -> Result<(), Refusal> {
        let Ok(mut logs) = self.log.lock() else {
            // A panic while counting: do not lock everyone out.
            return Ok(());
        };
        let (users, documents) = &mut *logs;
        if let Some((window, retry_after)) = users.check(user, &self.user, now) {
            return Err(Refusal {
                by: LimitedBy::User,
                window,
                retry_after,
            });
        }
        if let Some((window, retry_after)) = documents.check(document, &self.document, now) {
            return Err(Refusal {
                by: LimitedBy::Document,
                window,
                retry_after,
            });
        }
        if !self.user.windows.is_empty() {
            users.record(user, &self.user, now);
        }
        if !self.document.windows.is_empty() {
            documents.record(document, &self.document, now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        let s: RateSpec = "5/min, 100/h,500/day".parse().expect("valid");
        assert_eq!(s, RateSpec::docs_document_default());
        assert_eq!(s.to_string(), "5/min,100/h,500/day");
        assert_eq!("none".parse::<RateSpec>(), Ok(RateSpec::default()));
        assert!("5".parse::<RateSpec>().is_err());
        assert!("5/week".parse::<RateSpec>().is_err());
        assert!("x/min".parse::<RateSpec>().is_err());
    }

    #[test]
    fn the_user_and_the_document_are_limited_apart() {
        let limits = AiLimits::new(
            RateSpec::docs_user_default(),
            RateSpec::docs_document_default(),
        );
        let t0 = Instant::now();
        for i in 0..3 {
            limits
                .admit("alice", "doc", t0 + Duration::from_secs(i))
                .expect("within 3/min");
        }
        let refused = limits
            .admit("alice", "doc", t0 + Duration::from_secs(10))
            .expect_err("4th in a minute");
        assert_eq!(refused.by, LimitedBy::User);
        assert_eq!(refused.retry_after, Duration::from_secs(50));
        assert_eq!(
            refused.to_string(),
            "AI rate limit reached for you: 3 requests per minute; retry in 50 s"
        );
        // Bob may still use the document, up to its 5/min.
        limits
            .admit("bob", "doc", t0 + Duration::from_secs(11))
            .expect("4th on the document");
        limits
            .admit("bob", "doc", t0 + Duration::from_secs(12))
            .expect("5th on the document");
        let refused = limits
            .admit("bob", "doc", t0 + Duration::from_secs(13))
            .expect_err("6th on the document");
        assert_eq!(refused.by, LimitedBy::Document);
        // A refused request counted nowhere: Bob has used 2 of his 3.
        limits
            .admit("bob", "other", t0 + Duration::from_secs(14))
            .expect("bob's 3rd");
        // The window slides.
        limits
            .admit("alice", "other", t0 + Duration::from_secs(61))
            .expect("a minute later");
    }

    #[test]
    fn hour_windows_say_when_room_comes_back() {
        let limits = AiLimits::new("100/min,3/h".parse().expect("valid"), RateSpec::default());
        let t0 = Instant::now();
        for i in 0..3 {
            limits
                .admit("u", "d", t0 + Duration::from_secs(i * 600))
                .expect("room");
        }
        let r = limits
            .admit("u", "d", t0 + Duration::from_secs(1800))
            .expect_err("full hour");
        assert_eq!(r.retry_after, Duration::from_secs(1800));
        assert!(r.to_string().contains("per hour"), "{r}");
        limits
            .admit("u", "d", t0 + Duration::from_secs(3601))
            .expect("the first left the hour");
    }

    #[test]
    fn no_windows_means_no_limit() {
        let limits = AiLimits::new(RateSpec::default(), RateSpec::default());
        let t0 = Instant::now();
        for _ in 0..10_000 {
            limits.admit("u", "d", t0).expect("unlimited");
        }
    }
}
