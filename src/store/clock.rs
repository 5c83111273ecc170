//! Time for TTLs. Every expiry decision reads an injected [`Clock`], so tests move time by hand
//! and never sleep. Times are milliseconds on the Unix epoch scale, so a TTL written as an
//! absolute time survives export and import. The system clock reads the wall clock on every
//! call, as Redis's `mstime()` does: an absolute expiry (PXAT, EXPIREAT) fires when the wall
//! clock passes it, even after the clock was stepped or the machine suspended, and relative
//! TTLs follow the same steps, as in Redis. The price is that time may go backwards: the store
//! only ever compares it with expiries and subtracts with saturation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in ms. May go backwards (a wall-clock step); callers must not assume
    /// two reads are ordered.
    fn now_ms(&self) -> u64;
}

/// Wall-clock epoch milliseconds, read on every call (as Redis reads `gettimeofday`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// The wall clock.
    pub fn new() -> Self {
        SystemClock
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        // Before 1970 (a badly set clock) reads as 0, which expires nothing.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to; for deterministic TTL tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    /// Current time in ms.
    now: AtomicU64,
}

impl ManualClock {
    /// A manual clock starting at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now: AtomicU64::new(start_ms),
        }
    }

    /// Move time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Set the time; ignored if it would move backwards.
    pub fn set(&self, ms: u64) {
        self.now.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(1_000);
        c.advance(500);
        assert_eq!(c.now_ms(), 1_500);
        c.set(1_200);
        assert_eq!(c.now_ms(), 1_500);
        c.set(2_000);
        assert_eq!(c.now_ms(), 2_000);
    }

    #[test]
    fn system_clock_reads_the_wall_clock() {
        let c = SystemClock::new();
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let a = c.now_ms();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        // No anchor, no truncated offset: the reading lies between two wall-clock reads. (An
        // anchored clock lags by up to 1 ms per truncation, and the test's bounds are exact.)
        assert!(before <= a && a <= after, "{before} <= {a} <= {after}");
    }
}
