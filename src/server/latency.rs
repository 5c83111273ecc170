//! Per-command latency histograms: recorded by each connection, merged into sharded totals,
//! read by INFO's `latencystats`, the daemon's `STATS` and `/metrics`.
//!
//! Buckets are log-linear over nanoseconds (8 sub-buckets per power of two, so a reported
//! percentile is at most 12.5% above the true value), which keeps a histogram a fixed array and
//! merging an element-wise add.
//!
//! Invariants (the hot path stays cheap):
//! - Recording a command touches only the connection's own [`LocalLatency`]: no atomics, no locks.
//! - One clock read per command: a command's time runs from the end of the previous command of
//!   the same batch (or from just before it, for a batch's first), so it includes parsing its
//!   request but never time spent waiting for input.
//! - A connection merges its [`LocalLatency`] into one shard of [`Latency`] once per batch of
//!   requests (and when it closes); shards are picked by client id, so connections rarely share
//!   a lock.
//! - Command names are a fixed table (the answered rows of `command::table` plus `other`), so a client cannot grow the
//!   label set of `tinykv_command_duration_seconds` by sending made-up names.

use std::sync::Mutex;
use std::time::Duration;

use super::clients::lock;
use crate::command::table::{self, Spec, ANSWERED};

/// Number of buckets: values from 0 ns to about 2^36 ns (69 s); longer ones land in the last.
pub(crate) const BUCKETS: usize = 280;

/// Number of shards of the merged totals.
const SHARDS: usize = 16;

/// Names of the tracked commands, in index order: the table's rows the daemon answers, then
/// `other`.
pub(crate) fn tracked() -> impl Iterator<Item = &'static str> {
    table::answered()
        .iter()
        .map(|s| s.name)
        .chain(std::iter::once("other"))
}

/// Number of tracked names, `other` included.
pub(crate) const fn tracked_len() -> usize {
    ANSWERED + 1
}

/// Index of `name` (any case) among [`tracked`]: its table row, as answered rows come first;
/// REPL-only words and unknown names map to `other`.
#[cfg(test)]
pub(crate) fn command_index(name: &[u8]) -> usize {
    slot(table::lookup(name))
}

/// The latency slot of a command already looked up in the table (`None`: unknown).
pub(crate) fn slot(spec: Option<&Spec>) -> usize {
    match spec {
        Some(s) if s.flags.answered() => s.cmd as usize,
        _ => ANSWERED,
    }
}

/// The bucket of a duration of `ns` nanoseconds.
pub(crate) fn bucket(ns: u64) -> usize {
    if ns < 8 {
        return ns as usize;
    }
    let msb = 63 - ns.leading_zeros() as usize;
    let sub = ((ns >> (msb - 3)) & 7) as usize;
    ((msb - 2) * 8 + sub).min(BUCKETS - 1)
}

/// Exclusive upper bound of bucket `i`, in nanoseconds.
pub(crate) fn upper_ns(i: usize) -> u64 {
    if i < 8 {
        return i as u64 + 1;
    }
    let msb = i / 8 + 2;
    let sub = (i % 8) as u64;
    (9 + sub) << (msb - 3)
}

/// One command's histogram.
#[derive(Debug, Clone)]
pub(crate) struct Hist {
    /// Samples per bucket.
    pub counts: Box<[u64; BUCKETS]>,
    /// Sum of all samples, in nanoseconds (for the Prometheus `_sum`).
    pub sum_ns: u64,
}

impl Default for Hist {
    fn default() -> Self {
        Hist {
            counts: Box::new([0; BUCKETS]),
            sum_ns: 0,
        }
    }
}

impl Hist {
    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds `other`'s samples.
    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
    }

    /// The `q` quantile (0..=1) in microseconds: the upper bound of the bucket holding it.
    pub fn quantile_us(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_ns(i) as f64 / 1000.0;
            }
        }
        upper_ns(BUCKETS - 1) as f64 / 1000.0
    }
}

/// A connection's unmerged samples: `(command index, bucket, nanoseconds)`.
#[derive(Debug, Default)]
pub(crate) struct LocalLatency {
    /// Samples since the last flush; reused, so recording does not allocate once warm.
    samples: Vec<(u16, u16, u64)>,
}

impl LocalLatency {
    /// Records one command's duration.
    pub fn record(&mut self, cmd: usize, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.samples.push((cmd as u16, bucket(ns) as u16, ns));
    }

    /// Moves the samples into `into`'s shard for client `id` (one lock per call).
    pub fn flush(&mut self, into: &Latency, id: u64) {
        if self.samples.is_empty() {
            return;
        }
        let mut shard = lock(&into.shards[id as usize % SHARDS]);
        if shard.len() < tracked_len() {
            shard.resize_with(tracked_len(), || None);
        }
        for &(cmd, b, ns) in &self.samples {
            if let Some(slot) = shard.get_mut(cmd as usize) {
                let h = slot.get_or_insert_with(Hist::default);
                h.counts[b as usize] += 1;
                h.sum_ns = h.sum_ns.saturating_add(ns);
            }
        }
        drop(shard);
        self.samples.clear();
        if self.samples.capacity() > 4096 {
            self.samples.shrink_to(256);
        }
    }
}

/// The daemon's merged latency totals.
#[derive(Debug)]
pub(crate) struct Latency {
    /// Histograms per command, split by client id so flushes rarely contend.
    shards: Vec<Mutex<Vec<Option<Hist>>>>,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }
}

impl Latency {
    /// Every command with samples, by name, with its histogram summed over the shards.
    pub fn snapshot(&self) -> Vec<(&'static str, Hist)> {
        let mut sum: Vec<Option<Hist>> = vec![None; tracked_len()];
        for shard in &self.shards {
            for (i, h) in lock(shard).iter().enumerate() {
                if let (Some(h), Some(slot)) = (h, sum.get_mut(i)) {
                    slot.get_or_insert_with(Hist::default).merge(h);
                }
            }
        }
        tracked()
            .zip(sum)
            .filter_map(|(name, h)| h.filter(|h| h.count() > 0).map(|h| (name, h)))
            .collect()
    }
}

/// `p50=1.003,p99=2.007,p99.9=5.015` as Redis's `latency_percentiles_usec_<cmd>` shows it.
pub(crate) fn percentiles_text(h: &Hist) -> String {
    format!(
        "p50={:.3},p99={:.3},p99.9={:.3}",
        h.quantile_us(0.5),
        h.quantile_us(0.99),
        h.quantile_us(0.999)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_bound_their_values() {
        for ns in [0u64, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 123_456, 1 << 30] {
            let b = bucket(ns);
            assert!(ns < upper_ns(b), "{ns} not below upper of {b}");
            if b > 0 {
                assert!(ns >= upper_ns(b - 1), "{ns} below upper of {}", b - 1);
            }
        }
        for i in 1..BUCKETS {
            assert!(upper_ns(i) > upper_ns(i - 1));
        }
    }

    #[test]
    fn every_answered_command_has_its_own_slot() {
        for row in crate::command::table::answered() {
            for name in [row.name.to_owned(), row.name.to_ascii_uppercase()] {
                let i = command_index(name.as_bytes());
                assert_eq!(tracked().nth(i), Some(row.name), "{name}");
            }
        }
        for name in [&b"GETSET"[..], b"renamenx", b"ExpireTime", b"PEXPIRETIME"] {
            assert_ne!(command_index(name), tracked_len() - 1, "{name:?}");
        }
        // REPL words and unknown names share `other`.
        for name in [&b"LIST"[..], b"exit", b"touch", b"", &[b'x'; 40]] {
            assert_eq!(command_index(name), tracked_len() - 1, "{name:?}");
        }
        assert_eq!(tracked().count(), tracked_len());
        assert_eq!(tracked().last(), Some("other"));
    }

    #[test]
    fn quantiles_and_merge() {
        let lat = Latency::default();
        let mut a = LocalLatency::default();
        let get = command_index(b"GET");
        assert_eq!(tracked().nth(get), Some("get"));
        assert_eq!(command_index(b"NOPE"), tracked_len() - 1);
        for us in 1..=1000u64 {
            a.record(get, Duration::from_micros(us));
        }
        a.flush(&lat, 1);
        let mut b = LocalLatency::default();
        b.record(get, Duration::from_micros(5000));
        b.flush(&lat, 2);
        b.flush(&lat, 2);
        let snap = lat.snapshot();
        assert_eq!(snap.len(), 1);
        let (name, h) = &snap[0];
        assert_eq!((*name, h.count()), ("get", 1001));
        let p50 = h.quantile_us(0.5);
        assert!((500.0..=563.0).contains(&p50), "{p50}");
        let p999 = h.quantile_us(0.999);
        assert!((999.0..=1130.0).contains(&p999), "{p999}");
        assert!(h.quantile_us(1.0) >= 5000.0);
        assert!(percentiles_text(h).starts_with("p50="));
    }
}
