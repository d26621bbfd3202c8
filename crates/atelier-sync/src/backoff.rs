//! Reconnection delays: capped exponential backoff with jitter.
//!
//! Pure arithmetic: the caller supplies the attempt number and a random
//! `u64` (from whatever source it trusts), and gets a delay in milliseconds.

/// How random the delay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// Uniform in `[0, delay]` ("full jitter").
    Full,
    /// Uniform in `[delay / 2, delay]`: spreads reconnects without ever
    /// retrying at once.
    #[default]
    Equal,
}

/// A capped exponential backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry, in milliseconds.
    pub initial_ms: u64,
    /// Largest delay, in milliseconds.
    pub max_ms: u64,
    /// Growth factor per attempt.
    pub factor: u32,
    /// Randomization.
    pub jitter: Jitter,
}

impl Default for Backoff {
    /// The Hocuspocus provider's defaults: 1 s, doubling, capped at 30 s.
    fn default() -> Self {
        Backoff {
            initial_ms: 1_000,
            max_ms: 30_000,
            factor: 2,
            jitter: Jitter::Equal,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry),
    /// randomized by `random` (any value; uniformly distributed for uniform
    /// jitter).
    pub fn delay_ms(&self, attempt: u32, random: u64) -> u64 {
        let cap = self.ceiling_ms(attempt);
        match self.jitter {
            Jitter::None => cap,
            Jitter::Full => random % (cap + 1),
            Jitter::Equal => {
                let half = cap / 2;
                half + random % (cap - half + 1)
            }
        }
    }

    /// The un-jittered delay for `attempt`: `initial · factor^attempt`, capped.
    pub fn ceiling_ms(&self, attempt: u32) -> u64 {
        let growth = u64::from(self.factor.max(1)).saturating_pow(attempt);
        self.initial_ms.saturating_mul(growth).min(self.max_ms)
    }
}

/// Counts failed attempts and hands out delays.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconnect {
    policy: Backoff,
    attempt: u32,
}

impl Reconnect {
    /// Starts with no failed attempt.
    pub fn new(policy: Backoff) -> Self {
        Reconnect { policy, attempt: 0 }
    }

    /// Records a failed attempt (or a lost connection) and returns how long
    /// to wait before the next one.
    pub fn next_delay_ms(&mut self, random: u64) -> u64 {
        let delay = self.policy.delay_ms(self.attempt, random);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Records a successful connection: the next failure starts over.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failed attempts since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let b = Backoff {
            jitter: Jitter::None,
            ..Backoff::default()
        };
        let delays: Vec<u64> = (0..7).map(|a| b.delay_ms(a, 0)).collect();
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!(b.delay_ms(u32::MAX, 0), 30_000);
    }

    #[test]
    fn jitter_stays_in_range() {
        let full = Backoff {
            jitter: Jitter::Full,
            ..Backoff::default()
        };
        let equal = Backoff::default();
        for random in [0, 1, 999, 12_345_678, u64::MAX] {
            for attempt in 0..10 {
                let cap = full.ceiling_ms(attempt);
                assert!(full.delay_ms(attempt, random) <= cap);
                let d = equal.delay_ms(attempt, random);
                assert!(d >= cap / 2 && d <= cap, "{d} outside [{}, {cap}]", cap / 2);
            }
        }
    }

    #[test]
    fn reconnect_resets() {
        let mut r = Reconnect::new(Backoff {
            jitter: Jitter::None,
            ..Backoff::default()
        });
        assert_eq!(r.next_delay_ms(7), 1_000);
        assert_eq!(r.next_delay_ms(7), 2_000);
        r.reset();
        assert_eq!(r.attempts(), 0);
        assert_eq!(r.next_delay_ms(7), 1_000);
    }
}
