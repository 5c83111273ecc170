//! Active expiry: reclaims expired entries that nobody reads. A background thread wakes every
//! `reaper_interval_ms`, and while any entry has a TTL it walks the tables from where it last
//! stopped, a slice of [`SLICE`] buckets at a time (a read lock per shard to find, a write lock
//! per removal). Like Redis's active expire cycle it goes on to the next slice only while at
//! least a tenth of the entries in the last one had expired, and never past a time budget: a
//! store whose TTLs are not yet due costs one slice per wake-up, not a scan of every entry.
//! Each wake-up also refreshes the cached clock used for access tracking and rebuilds smaller
//! any shard table that removals left under a tenth full.
//! `Store::reap_expired` runs a full pass by hand, for tests on a manual clock.

use super::shared::Shared;
use parking_lot::{Condvar, Mutex};
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a background pass may run per wake-up, so the reaper never hogs a core.
const BUDGET: Duration = Duration::from_millis(25);

/// Buckets the reaper looks at before it decides whether to go on (about 512 entries at the
/// load a table has after growing; some tens of microseconds).
const SLICE: usize = 1024;

/// A slice with fewer expired entries than one in this many ends the wake-up's pass (Redis's
/// `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`, 10%).
const STALE_ONE_IN: usize = 10;

impl Shared {
    /// Remove the expired entries of shard `idx`; returns how many.
    pub(crate) fn reap_shard(&self, idx: usize) -> usize {
        let now = self.now();
        let mut expired = Vec::new();
        self.collect_expired(idx, 0..usize::MAX, now, &mut expired);
        self.remove_collected(&expired, now)
    }

    /// Under shard `idx`'s read lock, adds to `out` the keys of the entries expired at `now`
    /// in buckets `range` (cut to the table's size). Returns (entries looked at, the table's
    /// bucket count).
    fn collect_expired(
        &self,
        idx: usize,
        range: Range<usize>,
        now: u64,
        out: &mut Vec<Box<[u8]>>,
    ) -> (usize, usize) {
        let mut seen = 0;
        let buckets = self.table.for_each_in(idx, range, |e| {
            seen += 1;
            if e.is_expired(now) {
                out.push(Box::from(e.key()));
            }
        });
        (seen, buckets)
    }

    /// Removes the collected `keys` that are still expired at `now`; returns how many.
    fn remove_collected(&self, keys: &[Box<[u8]>], now: u64) -> usize {
        // Expired at `now` means an expiry before it (`now > at`).
        let before = now.saturating_sub(1);
        keys.iter()
            .filter(|k| self.remove_expired(k, before))
            .count()
    }

    /// Rebuilds smaller every shard table under a tenth full (see `Table::shrink_shard`);
    /// returns how many changed. A read lock per shard when none is sparse.
    pub(crate) fn shrink_sparse(&self) -> usize {
        (0..self.table.shard_count())
            .filter(|&i| self.table.shrink_shard(i, &self.caps))
            .count()
    }

    /// One wake-up's pass: slices from the saved cursor while at least one entry in
    /// [`STALE_ONE_IN`] of the last slice had expired, until `budget` runs out or every bucket
    /// was seen once. Returns how many entries it removed.
    pub(crate) fn reap_some(&self, budget: Duration) -> usize {
        let started = Instant::now();
        let (mut removed, mut visited, mut total) = (0, 0, None);
        loop {
            let (seen, gone) = self.reap_slice(SLICE);
            removed += gone;
            visited += SLICE;
            if gone * STALE_ONE_IN < seen.max(1) || started.elapsed() >= budget {
                return removed;
            }
            // Counted only by a pass that goes on (one read lock per shard).
            let total = *total.get_or_insert_with(|| self.table.total_buckets());
            if visited >= total {
                return removed;
            }
        }
    }

    /// Looks at the next `n` buckets after the cursor (crossing into the next shards as
    /// needed, wrapping around after the last) and removes the expired entries among them.
    /// Returns (entries looked at, entries removed).
    pub(crate) fn reap_slice(&self, n: usize) -> (usize, usize) {
        let shards = self.table.shard_count();
        let now = self.now();
        let cursor = self.reap_cursor.load(Relaxed);
        let (mut shard, mut bucket) = ((cursor >> 32) as usize, (cursor & 0xFFFF_FFFF) as usize);
        let (mut seen, mut left) = (0, n);
        let mut expired = Vec::new();
        // At most one full turn over the shards (the +1 finishes the shard it started in).
        for _ in 0..=shards {
            if left == 0 {
                break;
            }
            let range = bucket..bucket.saturating_add(left);
            let (looked, buckets) = self.collect_expired(shard % shards, range, now, &mut expired);
            seen += looked;
            let end = buckets.min(bucket.saturating_add(left));
            left -= end.saturating_sub(bucket);
            if end >= buckets {
                shard = (shard + 1) % shards;
                bucket = 0;
            } else {
                bucket = end;
            }
        }
        self.reap_cursor
            .store(((shard as u64) << 32) | bucket as u64, Relaxed);
        (seen, self.remove_collected(&expired, now))
    }
}

/// The running reaper thread; dropping it stops and joins the thread.
#[derive(Debug)]
pub(crate) struct Reaper {
    /// Set to true to ask the thread to exit; the condvar wakes it early.
    stop: Arc<(Mutex<bool>, Condvar)>,
    /// The thread, joined on drop.
    handle: Option<JoinHandle<()>>,
}

impl Reaper {
    pub(crate) fn start(shared: Arc<Shared>, interval: Duration) -> std::io::Result<Reaper> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("tinykv-reaper".into())
            .spawn(move || {
                let (lock, cvar) = &*signal;
                loop {
                    {
                        let mut stopped = lock.lock();
                        if !*stopped {
                            cvar.wait_for(&mut stopped, interval);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    let now = shared.now();
                    shared.advance_stamps(now);
                    shared.coarse_now.store(now, Relaxed);
                    if shared.volatile.load(Relaxed) > 0 {
                        shared.reap_some(BUDGET);
                    }
                    // Tables emptied by deletes, expiry or eviction give back their memory.
                    shared.shrink_sparse();
                    // Entry memory idle past its decay goes back to the OS.
                    super::slab::purge_idle();
                }
            })?;
        Ok(Reaper {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock() = true;
        cvar.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Config, ManualClock, Ns, SetOptions, Store, Value};

    /// A store of `n` keys with a TTL of 1 s, two shards, on a manual clock, no reaper thread.
    fn timed_store(n: usize) -> (Store, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let config = Config {
            reaper_interval_ms: 0,
            shards: 2,
            ..Config::default()
        };
        let s = Store::with_clock(config, clock.clone()).unwrap();
        let ttl = SetOptions {
            ttl_ms: Some(1_000),
            ..SetOptions::default()
        };
        for i in 0..n {
            s.set(Ns::DEFAULT, &format!("k{i}"), Value::Int(1), &ttl)
                .unwrap();
        }
        (s, clock)
    }

    fn cursor(s: &Store) -> (u64, u64) {
        let c = s.shared.reap_cursor.load(Relaxed);
        (c >> 32, c & 0xFFFF_FFFF)
    }

    #[test]
    fn a_pass_with_nothing_due_looks_at_one_slice() {
        let (s, _) = timed_store(20_000);
        let long = Duration::from_secs(60);
        assert_eq!(s.shared.reap_some(long), 0);
        assert_eq!(cursor(&s), (0, SLICE as u64), "one slice, then it stopped");
        assert_eq!(s.shared.reap_some(long), 0);
        assert_eq!(
            cursor(&s),
            (0, 2 * SLICE as u64),
            "the next pass goes on from there"
        );
        assert_eq!(s.total_len(), 20_000);
    }

    #[test]
    fn a_pass_goes_on_while_a_tenth_of_a_slice_has_expired() {
        let (s, clock) = timed_store(20_000);
        // A second batch expires later: 20,000 of 30,000 keys are due after 1 s.
        let later = SetOptions {
            ttl_ms: Some(60_000),
            ..SetOptions::default()
        };
        for i in 0..10_000 {
            s.set(Ns::DEFAULT, &format!("late{i}"), Value::Int(1), &later)
                .unwrap();
        }
        clock.advance(1_001);
        let removed = s.shared.reap_some(Duration::from_secs(60));
        assert_eq!(removed, 20_000, "every slice had two thirds expired");
        assert_eq!(s.total_len(), 10_000);
        assert_eq!(s.stats().expired, 20_000);
        // Now nothing is due: the next pass stops after one slice.
        let before = cursor(&s);
        assert_eq!(s.shared.reap_some(Duration::from_secs(60)), 0);
        assert_ne!(cursor(&s), before);
        // And the slices wrap around: repeated passes find the late keys when they are due.
        clock.advance(59_000);
        let mut removed = 0;
        for _ in 0..100 {
            removed += s.shared.reap_some(Duration::from_secs(60));
        }
        assert_eq!((removed, s.total_len()), (10_000, 0));
    }
}
