//! Active expiry: reclaims expired entries that nobody reads. A background thread wakes every
//! `reaper_interval_ms`, and while any entry has a TTL it walks shards (one lock at a time,
//! read lock to find, write lock per removal) within a time budget, resuming where it stopped.
//! Each wake-up also refreshes the cached clock used for access tracking and rebuilds smaller
//! any shard table that removals left under a tenth full.
//! `Store::reap_expired` runs a full pass by hand, for tests on a manual clock.

use super::shared::Shared;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a background pass may run per wake-up, so the reaper never hogs a core.
const BUDGET: Duration = Duration::from_millis(25);

impl Shared {
    /// Remove the expired entries of shard `idx`; returns how many.
    pub(crate) fn reap_shard(&self, idx: usize) -> usize {
        let now = self.now();
        let expired: Vec<Box<[u8]>> = {
            let guard = self.map.shards()[idx].read();
            // SAFETY: the read lock is held while the iterator lives.
            unsafe { guard.iter() }
                .map(|b| unsafe { b.as_ref() })
                .filter(|(e, _)| e.is_expired(now))
                .map(|(e, _)| Box::from(e.key()))
                .collect()
        };
        expired
            .iter()
            .filter(|k| self.remove_expired(k, now))
            .count()
    }

    /// Rebuilds smaller every shard table under a tenth full (see `Shared::shrink_shard`);
    /// returns how many changed. A read lock per shard when none is sparse.
    pub(crate) fn shrink_sparse(&self) -> usize {
        (0..self.map.shards().len())
            .filter(|&i| self.shrink_shard(i))
            .count()
    }

    /// Visit shards from the saved cursor until all were seen or `budget` ran out.
    pub(crate) fn reap_some(&self, budget: Duration) -> usize {
        let shards = self.map.shards().len();
        let started = Instant::now();
        let mut removed = 0;
        for _ in 0..shards {
            let idx = self.reap_cursor.fetch_add(1, Relaxed) % shards;
            removed += self.reap_shard(idx);
            if started.elapsed() >= budget {
                break;
            }
        }
        removed
    }
}

/// The running reaper thread; dropping it stops and joins the thread.
#[derive(Debug)]
pub(crate) struct Reaper {
    /// Set to true to ask the thread to exit; the condvar wakes it early.
    stop: Arc<(Mutex<bool>, Condvar)>,
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
