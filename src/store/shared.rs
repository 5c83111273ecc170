//! The state every store handle and the reaper share, and the bookkeeping around the table:
//! access stamps, the entry and TTL counts, per-namespace totals, and the write paths that
//! reserve room in the caps (see `caps`), evicting as needed, before the table inserts.
//! Invariant: eviction runs with no shard lock held, and what leaves or enters the table is
//! accounted for under the shard lock that moved it.

use super::caps::Caps;
use super::clock::Clock;
use super::config::{Config, ACCESS_RESOLUTION_MS};
use super::entry::{Entry, STAMP_SEQ_BITS};
use super::evict::{EvictionPool, Policy};
use super::key::{key_ns, Ns};
use super::namespaces::Namespaces;
use super::striped::{self, Striped};
use super::table::{Insert, Table, Upsert};
use crate::error::{Error, Result};
use crossbeam_utils::CachePadded;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Why an entry left the map; each cause feeds its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Its TTL passed.
    Expired,
    /// A cap needed room.
    Evicted,
    /// A caller deleted it.
    Deleted,
    /// A flush cleared its namespace.
    Flushed,
}

/// Monotonic event counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Reads that found a live entry (every read bumps one of these two: striped).
    pub(crate) hits: Striped,
    /// Reads that found nothing live.
    pub(crate) misses: Striped,
    /// Successful writes (striped too: a shared store's writers all bump it).
    pub(crate) sets: Striped,
    /// Entries removed by delete.
    pub(crate) deletes: AtomicU64,
    /// Entries removed because their TTL passed.
    pub(crate) expired: AtomicU64,
    /// Entries removed to make room.
    pub(crate) evicted: AtomicU64,
}

/// Everything behind a store handle.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The entries.
    pub(crate) table: Table,
    /// Entries and bytes live or reserved, against the caps.
    pub(crate) caps: Caps,
    /// Caps and limits, fixed at construction.
    pub(crate) config: Config,
    /// The injected time source for TTLs.
    pub(crate) clock: Arc<dyn Clock>,
    /// The last access stamp issued (see [`STAMP_SEQ_BITS`]): advanced a block at a time per
    /// thread while the reaper runs (else by every access), and raised to the clock by the
    /// reaper (or, with no reaper, by every access). On a line of its own: threads take
    /// blocks from it while every read checks `coarse_now`.
    pub(crate) tick: CachePadded<AtomicU64>,
    /// The clock as of the reaper's last wake-up, for access tracking (idle time, LFU decay):
    /// Redis's cached LRU clock. 0 when there is no reaper thread; reads then use the clock.
    pub(crate) coarse_now: AtomicU64,
    /// Entries in the table. Incremented after an insert and decremented before the room is
    /// released, so it never exceeds the entries the caps count.
    pub(crate) keys: AtomicU64,
    /// Entries carrying a TTL; lets the reaper sleep when there are none.
    pub(crate) volatile: AtomicU64,
    /// Event counters for stats.
    pub(crate) counters: Counters,
    /// Namespace names and per-namespace counts.
    /// Shared with every [`super::NsGuard`], which outlives no borrow of the store.
    pub(crate) namespaces: Arc<Namespaces>,
    /// Eviction candidates carried between eviction steps.
    pub(crate) pool: Mutex<EvictionPool>,
    /// Where the reaper goes on: shard index << 32 | bucket index.
    pub(crate) reap_cursor: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: Config, clock: Arc<dyn Clock>) -> Self {
        let start = clock.now_ms() << STAMP_SEQ_BITS;
        let shards = config.shards.max(2).next_power_of_two();
        Self {
            table: Table::new(shards, config.concurrent),
            caps: Caps::new(config.max_entries.map(|m| m as u64), config.max_memory),
            config,
            clock,
            tick: CachePadded::new(AtomicU64::new(start)),
            coarse_now: AtomicU64::new(0),
            keys: AtomicU64::new(0),
            volatile: AtomicU64::new(0),
            counters: Counters::default(),
            namespaces: Arc::new(Namespaces::new()),
            pool: Mutex::new(EvictionPool::default()),
            reap_cursor: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The next access stamp; every access gets a distinct one. While the reaper runs, a
    /// thread takes stamps a block at a time (see `striped.rs`), so threads sharing a store do
    /// not bump one counter per read; recency across threads is then exact to a block.
    #[inline]
    pub(crate) fn bump(&self) -> u64 {
        let epoch = self.coarse_now.load(Relaxed);
        if epoch == 0 {
            return self.bump_to_clock(1);
        }
        let me = self as *const Shared as usize;
        if let Some(stamp) = striped::next_stamp(me, epoch) {
            return stamp;
        }
        let first = self.tick.fetch_add(striped::STAMP_BLOCK, Relaxed) + 1;
        striped::stamp_block(me, epoch, first);
        first
    }

    /// Issues `n` consecutive access stamps and returns the first. While the reaper runs it
    /// keeps the stamps' time part current (one add per call); before that, or with no reaper,
    /// each call raises the stamps to the exact clock first.
    #[inline]
    pub(crate) fn bump_n(&self, n: u64) -> u64 {
        if self.coarse_now.load(Relaxed) != 0 {
            return self.tick.fetch_add(n, Relaxed) + 1;
        }
        self.bump_to_clock(n)
    }

    #[cold]
    fn bump_to_clock(&self, n: u64) -> u64 {
        let floor = self.now() << STAMP_SEQ_BITS;
        let mut cur = self.tick.load(Relaxed);
        loop {
            let first = cur.max(floor) + 1;
            match self
                .tick
                .compare_exchange_weak(cur, first + n - 1, Relaxed, Relaxed)
            {
                Ok(_) => return first,
                Err(seen) => cur = seen,
            }
        }
    }

    /// Raises future access stamps to clock time `now_ms` (the reaper, on each wake-up).
    pub(crate) fn advance_stamps(&self, now_ms: u64) {
        self.tick.fetch_max(now_ms << STAMP_SEQ_BITS, Relaxed);
    }

    /// Time for access tracking: the reaper's cached clock when it runs (100 ms resolution by
    /// default, saving a clock read per access), else the exact clock.
    #[inline]
    pub(crate) fn access_now(&self) -> u64 {
        match self.coarse_now.load(Relaxed) {
            0 => self.now(),
            t => t,
        }
    }

    /// Has `e` expired? Reads the clock only for entries with a TTL.
    #[inline]
    pub(crate) fn expired(&self, e: &Entry) -> bool {
        e.expires_at() != 0 && e.is_expired(self.now())
    }

    /// Account for an entry in `ns` changing from `old` to `new` bytes; false (and nothing
    /// changed) if growing would pass the byte cap.
    #[inline]
    pub(crate) fn resize(&self, ns: Ns, old: u64, new: u64) -> bool {
        if !self.caps.resize(old, new) {
            return false;
        }
        if new != old {
            self.namespaces.add(ns, 0, new as i64 - old as i64);
        }
        true
    }

    /// [`Shared::resize`] that never refuses (see [`Caps::charge`]): for a TTL set on a key
    /// when nothing can be evicted (see `Store::expire_at`).
    pub(crate) fn charge(&self, ns: Ns, old: u64, new: u64) {
        self.caps.charge(old, new);
        self.namespaces.add(ns, 0, new as i64 - old as i64);
    }

    /// Record an access to `e`.
    #[inline]
    pub(crate) fn touch(&self, e: &Entry) {
        e.touch(self.bump(), self.access_now(), self.access_resolution());
    }

    /// How old an entry's access time may be before a read rewrites it: 0 (every read) for a
    /// store one thread uses, [`ACCESS_RESOLUTION_MS`] for one built for many (see
    /// [`Config::concurrent`]).
    #[inline]
    pub(crate) fn access_resolution(&self) -> u64 {
        if self.config.concurrent {
            ACCESS_RESOLUTION_MS
        } else {
            0
        }
    }

    /// Under one write lock on `key`'s shard: runs `existing` on the entry if the key is
    /// present, else inserts `make()` if room for one more entry of `size` bytes (and for the
    /// table's growth) can be had without evicting. One probe for the common write.
    #[inline]
    pub(crate) fn upsert<R>(
        &self,
        key: &[u8],
        size: u64,
        existing: impl FnOnce(&mut Entry) -> R,
        make: impl FnOnce() -> Entry,
    ) -> Upsert<R> {
        let inserted = |e: &Entry| self.on_inserted(e);
        self.table
            .upsert(key, size, &self.caps, existing, make, inserted)
    }

    /// Insert `entry`, whose key the caller saw absent, evicting as needed. Room for the
    /// entry, and for the table's growth when the shard's table is full, is reserved before
    /// anything is written, so the byte count covers the real allocations at every instant.
    /// Hands the entry back if another writer inserted the key first; the caller then retries.
    pub(crate) fn insert_new(&self, entry: Entry) -> Result<Option<Entry>> {
        let size = entry.size();
        self.reserve(1, size)?;
        let mut entry = entry;
        loop {
            match self
                .table
                .insert(entry, &self.caps, |e| self.on_inserted(e))
            {
                Insert::Done => return Ok(None),
                Insert::Present(back) => {
                    self.caps.release(1, size);
                    return Ok(Some(back));
                }
                Insert::NoRoom(back) => {
                    if !self.evict_one() {
                        self.caps.release(1, size);
                        return Err(Error::OutOfMemory);
                    }
                    entry = back;
                }
            }
        }
    }

    /// Reserve room for `entries` more entries and `bytes` more bytes, evicting as needed.
    pub(crate) fn reserve(&self, entries: u64, bytes: u64) -> Result<()> {
        self.caps.reserve(entries, bytes, || self.evict_one())
    }

    /// Remove one entry to make room; false when nothing can be evicted. Takes the pool's
    /// mutex, then one shard lock at a time.
    pub(crate) fn evict_one(&self) -> bool {
        let mut pool = self.pool.lock();
        let policy = Policy {
            policy: self.config.eviction_policy,
            samples: self.config.eviction_samples,
            now: self.now(),
            access_now: self.access_now(),
        };
        let Some(e) = pool.evict(&self.table, policy) else {
            return false;
        };
        let why = if e.is_expired(self.now()) {
            Removal::Expired
        } else {
            Removal::Evicted
        };
        self.on_removed(&e, why);
        true
    }

    /// Frees the table of every shard left empty (after a flush).
    pub(crate) fn free_empty_tables(&self) {
        self.table.free_empty(&self.caps);
    }

    /// Account for an entry that has just been inserted (its room was reserved).
    pub(crate) fn on_inserted(&self, entry: &Entry) {
        self.keys.fetch_add(1, Relaxed);
        self.namespaces
            .add(key_ns(entry.key()), 1, entry.size() as i64);
        if entry.expires_at() != 0 {
            self.volatile.fetch_add(1, Relaxed);
        }
        self.counters.sets.add(1);
    }

    /// Account for an entry that has left the map.
    pub(crate) fn on_removed(&self, entry: &Entry, why: Removal) {
        let size = entry.size();
        self.keys.fetch_sub(1, Relaxed);
        self.caps.release(1, size);
        self.namespaces.add(key_ns(entry.key()), -1, -(size as i64));
        if entry.expires_at() != 0 {
            self.volatile.fetch_sub(1, Relaxed);
        }
        let counter = match why {
            Removal::Expired => &self.counters.expired,
            Removal::Evicted => &self.counters.evicted,
            Removal::Deleted => &self.counters.deletes,
            Removal::Flushed => return,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Track an entry's TTL changing from `old` to `new` (0 = none).
    #[inline]
    pub(crate) fn on_ttl_change(&self, old: u64, new: u64) {
        match (old != 0, new != 0) {
            (false, true) => {
                self.volatile.fetch_add(1, Relaxed);
            }
            (true, false) => {
                self.volatile.fetch_sub(1, Relaxed);
            }
            _ => {}
        }
    }

    /// Remove `key` if its entry still has an expiry no later than `at`: the expiry the caller
    /// saw passed (a rewrite since then, with a later TTL or none, keeps the entry). True if
    /// this call removed it.
    pub(crate) fn remove_expired(&self, key: &[u8], at: u64) -> bool {
        let gone = |e: &Entry| {
            let x = e.expires_at();
            x != 0 && x <= at
        };
        match self.table.remove_if(key, gone) {
            Some(e) => {
                self.on_removed(&e, Removal::Expired);
                true
            }
            None => false,
        }
    }
}
