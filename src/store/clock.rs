//! Time for TTLs. Every expiry decision reads an injected [`Clock`], so tests move time by hand
//! and never sleep. Times are milliseconds on the Unix epoch scale, so a TTL written as an
//! absolute time survives export and import; the system clock is made monotonic by anchoring
//! the epoch once and adding `Instant` elapsed time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of "now" in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in ms. Must never go backwards.
    fn now_ms(&self) -> u64;
}

/// Wall-clock epoch milliseconds, anchored once and advanced monotonically.
#[derive(Debug)]
pub struct SystemClock {
    /// Epoch ms at `start`; anchoring once keeps NTP steps from moving expiries.
    epoch_at_start: u64,
    /// Monotonic origin.
    start: Instant,
}

impl SystemClock {
    /// A clock anchored at the current wall-clock time.
    pub fn new() -> Self {
        let epoch_at_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            epoch_at_start,
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.epoch_at_start + self.start.elapsed().as_millis() as u64
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
    fn system_clock_is_epoch_scaled_and_monotonic() {
        let c = SystemClock::new();
        let a = c.now_ms();
        let b = c.now_ms();
        assert!(a > 1_600_000_000_000, "epoch ms expected, got {a}");
        assert!(b >= a);
    }
}
