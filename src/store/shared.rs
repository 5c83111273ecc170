//! The state every handle and the reaper share, and the accounting rules that keep the caps
//! exact. Invariant: `used_entries` and `used_bytes` are reserved *before* an entry is inserted
//! and released after it is removed, so they never fall below the live totals and never rise
//! above the caps, even with many writers racing; the one exception is [`Shared::charge`], for
//! the expiry word of a TTL set when nothing can be evicted. Eviction runs with no shard lock
//! held.

use super::clock::Clock;
use super::config::Config;
use super::entry::{
    key_ns, prefetch_read, table_size, Entry, Ns, Slot, STAMP_SEQ_BITS, TAG_HASH_BITS,
};
use super::evict::EvictionPool;
use super::namespaces::Namespaces;
use crate::error::{Error, Result};
use crossbeam_utils::CachePadded;
use dashmap::{DashMap, RwLock, SharedValue};
use hashbrown::raw::RawTable;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// The map type: entries (each holding its stored key, namespace prefix + key bytes), looked
/// up by that key as `&[u8]`. No value: a slot is just the entry pointer.
pub(crate) type Map = DashMap<Entry, (), foldhash::fast::RandomState>;

/// What [`Shared::upsert`] did.
pub(crate) enum Upsert<R> {
    /// The key was present; the closure ran on its entry and returned this.
    Existing(R),
    /// The key was absent and the new entry is in.
    Inserted,
    /// The key was absent and there was no room without evicting; nothing changed.
    Vacant,
}

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
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) sets: AtomicU64,
    pub(crate) deletes: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) evicted: AtomicU64,
}

/// Everything behind a store handle.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The entries.
    pub(crate) map: Map,
    /// Caps and limits, fixed at construction.
    pub(crate) config: Config,
    /// The injected time source for TTLs.
    pub(crate) clock: Arc<dyn Clock>,
    /// The last access stamp issued (see [`STAMP_SEQ_BITS`]): advanced by every access, and
    /// raised to the clock by the reaper (or, with no reaper, by every access).
    pub(crate) tick: AtomicU64,
    /// The clock as of the reaper's last wake-up, for access tracking (idle time, LFU decay):
    /// Redis's cached LRU clock. 0 when there is no reaper thread; reads then use the clock.
    pub(crate) coarse_now: AtomicU64,
    /// Entries in the map. Incremented after an insert and decremented before the room is
    /// released, so it never exceeds `used_entries`.
    pub(crate) keys: AtomicU64,
    /// Entries live or reserved; never above `max_entries`.
    pub(crate) used_entries: AtomicU64,
    /// Bytes live or reserved; never above `max_memory`.
    pub(crate) used_bytes: AtomicU64,
    /// Bytes of the map's tables (slots and control bytes), included in `used_bytes`.
    pub(crate) table_bytes: AtomicU64,
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
    /// Where each shard's table was last seen, for [`Shared::prefetch_key`].
    geometry: Box<[CachePadded<Geometry>]>,
}

/// Prefetches the control group at bucket `pos` of the table whose control bytes start at
/// address `ctrl`, and the 16 slots it covers: slots sit below the control bytes in reverse
/// order, 128 bytes downward from `pos`. Only aims prefetches, so any address is allowed.
#[inline(always)]
fn prefetch_group(ctrl: usize, pos: usize) {
    let line = |addr: usize| prefetch_read(std::ptr::without_provenance(addr));
    line(ctrl.wrapping_add(pos));
    line(ctrl.wrapping_sub((pos + 1) * 8));
    line(ctrl.wrapping_sub((pos + 9) * 8));
}

/// A shard table's control-byte address and bucket mask as of its last insert. Read without
/// the shard lock, only to aim prefetches: a stale or torn pair aims them at the wrong lines
/// (a prefetch never faults), never at anything that is read.
#[derive(Debug, Default)]
struct Geometry {
    ctrl: AtomicUsize,
    mask: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(config: Config, clock: Arc<dyn Clock>) -> Self {
        let start = clock.now_ms() << STAMP_SEQ_BITS;
        let shards = config.shards.max(2).next_power_of_two();
        let map =
            DashMap::with_hasher_and_shard_amount(foldhash::fast::RandomState::default(), shards);
        Self {
            map,
            config,
            clock,
            tick: AtomicU64::new(start),
            coarse_now: AtomicU64::new(0),
            keys: AtomicU64::new(0),
            used_entries: AtomicU64::new(0),
            used_bytes: AtomicU64::new(0),
            table_bytes: AtomicU64::new(0),
            volatile: AtomicU64::new(0),
            counters: Counters::default(),
            namespaces: Arc::new(Namespaces::new()),
            pool: Mutex::new(EvictionPool::default()),
            reap_cursor: AtomicU64::new(0),
            geometry: (0..shards).map(|_| CachePadded::default()).collect(),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The next access stamp; every access gets a distinct one, so recency is a total order.
    #[inline]
    pub(crate) fn bump(&self) -> u64 {
        self.bump_n(1)
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
        if new > old {
            if !self.try_reserve(0, new - old) {
                return false;
            }
        } else if new < old {
            self.release(0, old - new);
        }
        if new != old {
            self.namespaces.add(ns, 0, new as i64 - old as i64);
        }
        true
    }

    /// [`Shared::resize`] that never refuses: the byte count may pass the cap. For a TTL set
    /// on a key when nothing can be evicted (see `Store::expire_at_key`).
    pub(crate) fn charge(&self, ns: Ns, old: u64, new: u64) {
        if new >= old {
            self.used_bytes.fetch_add(new - old, Relaxed);
        } else {
            self.used_bytes.fetch_sub(old - new, Relaxed);
        }
        self.namespaces.add(ns, 0, new as i64 - old as i64);
    }

    /// Record an access to `e`.
    #[inline]
    pub(crate) fn touch(&self, e: &Entry) {
        e.touch(self.bump(), self.access_now());
    }

    /// The hash of stored key `key`, as the map computes it.
    #[inline]
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.map.hash_usize(&key) as u64
    }

    /// Starts loading the lines a lookup of `hash` in `table` reads first: the home control
    /// group and the slots it covers. Issued together, so the control-byte miss and the slot
    /// miss overlap instead of following each other.
    #[inline(always)]
    pub(crate) fn prefetch_home(table: &RawTable<Slot>, hash: u64) {
        let ctrl = table.data_end().as_ptr() as usize;
        prefetch_group(ctrl, hash as usize & (table.buckets() - 1));
    }

    /// Starts loading the table lines a lookup of stored key `key` will read, without taking
    /// the shard lock: a caller with other work to do first (reading a value from JS) overlaps
    /// the lookup's first cache miss with it.
    #[inline]
    pub(crate) fn prefetch_key(&self, key: &[u8]) {
        let hash = self.hash(key);
        let g = &self.geometry[self.map.determine_shard(hash as usize)];
        let ctrl = g.ctrl.load(Relaxed);
        if ctrl != 0 {
            prefetch_group(ctrl, hash as usize & g.mask.load(Relaxed));
        }
    }

    /// Runs `f` on the entry at `key` under its shard's read lock; `None` if absent. The
    /// lookup overlaps its misses: control bytes with slots (see [`Shared::prefetch_home`]),
    /// then all of a candidate entry's lines with the key comparison that reads the first.
    #[inline]
    pub(crate) fn with_ref<R>(&self, key: &[u8], f: impl FnOnce(&Entry) -> R) -> Option<R> {
        let hash = self.hash(key);
        let table = self.shard_of(hash).read();
        Self::prefetch_home(&table, hash);
        let bucket = table.find(hash, |slot| {
            slot.0.may_hash_to(hash) && {
                slot.0.prefetch();
                slot.0.key_is(key)
            }
        })?;
        // SAFETY: the bucket was just found and the shard's read lock is held until `f` ends.
        Some(f(unsafe { &bucket.as_ref().0 }))
    }

    /// Runs `f` on the entry at `key` under its shard's write lock; `None` if absent. Unlike
    /// `DashMap::get_mut` this hands out the entry itself, so `f` may move it to a new
    /// allocation (the key stays the same, so its slot and hash stay right).
    #[inline]
    pub(crate) fn with_mut<R>(&self, key: &[u8], f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let hash = self.hash(key);
        let shard = self.shard_of(hash);
        let table = shard.write();
        Self::prefetch_home(&table, hash);
        let bucket = table.find(hash, |slot| slot.0.may_hash_to(hash) && slot.0.key_is(key))?;
        // SAFETY: the bucket was just found and the shard's write lock is held until `f` ends.
        let slot = unsafe { bucket.as_mut() };
        Some(f(&mut slot.0))
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
        let reserved = self.try_reserve(1, size);
        let hash = self.hash(key);
        let shard = self.shard_of(hash);
        let mut table = shard.write();
        // A new key's insert writes the slot: its line loads alongside the control bytes.
        Self::prefetch_home(&table, hash);
        if let Some(bucket) =
            table.find(hash, |slot| slot.0.may_hash_to(hash) && slot.0.key_is(key))
        {
            if reserved {
                self.release(1, size);
            }
            // SAFETY: the bucket was just found and the write lock is held until `existing` ends.
            let slot = unsafe { bucket.as_mut() };
            return Upsert::Existing(existing(&mut slot.0));
        }
        if !reserved {
            return Upsert::Vacant;
        }
        if !self.grow_for_insert(&mut table) {
            self.release(1, size);
            return Upsert::Vacant;
        }
        self.insert_counted(&mut table, hash, make());
        Upsert::Inserted
    }

    /// The shard holding keys of hash `hash`.
    #[inline]
    fn shard_of(&self, hash: u64) -> &CachePadded<RwLock<RawTable<Slot>>> {
        &self.map.shards()[self.map.determine_shard(hash as usize)]
    }

    /// A slot's hash, read from its entry's key (a slot stores no hash).
    #[inline]
    fn slot_hash(&self, slot: &Slot) -> u64 {
        self.hash(slot.0.key())
    }

    /// Inserts `entry` into `table` (which has room: see `grow_for_insert`) and accounts for
    /// it; its room was reserved by the caller.
    #[inline]
    fn insert_counted(&self, table: &mut RawTable<Slot>, hash: u64, mut entry: Entry) {
        entry.set_hash_tag(hash);
        let bucket = table.insert(hash, (entry, SharedValue::new(())), |slot| {
            self.slot_hash(slot)
        });
        // SAFETY: the bucket was just returned by insert and the write lock is still held.
        let (e, _) = unsafe { bucket.as_ref() };
        self.on_inserted(e);
        self.publish_geometry(self.map.determine_shard(hash as usize), table);
    }

    /// Records where shard `idx`'s table now is, for [`Shared::prefetch_key`].
    #[inline]
    fn publish_geometry(&self, idx: usize, table: &RawTable<Slot>) {
        let g = &self.geometry[idx];
        let ctrl = table.data_end().as_ptr() as usize;
        if g.ctrl.load(Relaxed) != ctrl {
            g.ctrl.store(ctrl, Relaxed);
            g.mask.store(table.buckets() - 1, Relaxed);
        }
    }

    /// Makes room in `table` for one more insert. When it is full, builds its replacement:
    /// twice the buckets, or the same number when at most half the slots are live (the rest are
    /// tombstones left by removals), or 4 for a table never allocated. The new table's bytes
    /// are reserved (without evicting) before it is allocated and the old table's released
    /// after it is freed, so `used_bytes` covers both while both exist. False, with nothing
    /// changed, if the byte cap has no room for the new table.
    fn grow_for_insert(&self, table: &mut RawTable<Slot>) -> bool {
        let allocated = allocated(table);
        if allocated && table.len() < table.capacity() {
            return true;
        }
        let buckets = table.buckets();
        let next = if !allocated {
            4
        } else if table.len() <= full_capacity(buckets) / 2 {
            buckets
        } else {
            buckets * 2
        };
        self.rebuild(table, next)
    }

    /// Replaces `table` (write-locked) with one of `buckets` buckets holding the same entries.
    /// The new table's bytes are reserved (without evicting) before it is allocated and the
    /// old table's released after it is freed, so `used_bytes` covers both while both exist.
    /// False, with nothing changed, if the byte cap has no room for the new table.
    fn rebuild(&self, table: &mut RawTable<Slot>, buckets: usize) -> bool {
        let new_bytes = table_size(buckets) as u64;
        if !self.try_reserve(0, new_bytes) {
            return false;
        }
        let old_bytes = if allocated(table) {
            table_size(table.buckets()) as u64
        } else {
            0
        };
        let mut rebuilt = RawTable::with_capacity(full_capacity(buckets));
        self.move_entries(table, &mut rebuilt);
        drop(std::mem::replace(table, rebuilt));
        self.release(0, old_bytes);
        self.table_bytes
            .fetch_add(new_bytes.wrapping_sub(old_bytes), Relaxed);
        true
    }

    /// Moves every entry of `from` into `to`, which has room for them all. A slot holds only
    /// the entry pointer, but where `to` has at most 2^[`TAG_HASH_BITS`] buckets every entry's
    /// place in it follows from the hash bits tagged on its pointer and its control byte in
    /// `from` (the hash's top 7 bits): no entry is read. Otherwise each key is read and
    /// rehashed (see `move_entries_by_key`).
    fn move_entries(&self, from: &mut RawTable<Slot>, to: &mut RawTable<Slot>) {
        if to.buckets() > 1 << TAG_HASH_BITS {
            return self.move_entries_by_key(from, to);
        }
        let ctrl = from.data_end().as_ptr().cast::<u8>();
        // SAFETY: the caller holds `from`'s shard write lock. Each full bucket is read once
        // (moving its entry out) and `from` is then emptied without dropping anything, so every
        // entry ends up owned by `to` exactly once; nothing between can panic.
        unsafe {
            for bucket in from.iter() {
                let (entry, v) = bucket.as_ptr().read();
                // A full bucket's control byte is the top 7 bits of its hash.
                let h2 = u64::from(*ctrl.add(from.bucket_index(&bucket)));
                let hash = match entry.hash_tag() {
                    Some(low) => (h2 << 57) | low,
                    None => self.hash(entry.key()),
                };
                to.insert(hash, (entry, v), |slot| self.slot_hash(slot));
            }
            from.clear_no_drop();
        }
    }

    /// [`Shared::move_entries`] by reading every key: entries are collected first (a
    /// sequential read of the slots) and each one is prefetched a few places ahead of its
    /// turn, so the reads overlap instead of costing one cache miss after another.
    fn move_entries_by_key(&self, from: &mut RawTable<Slot>, to: &mut RawTable<Slot>) {
        const AHEAD: usize = 8;
        let entries: Vec<Entry> = from.drain().map(|(e, _)| e).collect();
        let mut hashes = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if let Some(ahead) = entries.get(i + AHEAD) {
                ahead.prefetch();
            }
            hashes.push(self.hash(e.key()));
        }
        for (mut e, hash) in entries.into_iter().zip(hashes) {
            e.set_hash_tag(hash);
            to.insert(hash, (e, SharedValue::new(())), |slot| self.slot_hash(slot));
        }
    }

    /// Frees the table of every shard left empty (after a flush), so its bytes go back to the
    /// allocator and the count; the shard gets a new table on its next insert.
    pub(crate) fn free_empty_tables(&self) {
        for shard in self.map.shards() {
            let mut table = shard.write();
            if table.is_empty() && allocated(&table) {
                self.free_table(&mut table);
            }
        }
    }

    /// Replaces `table` (write-locked, allocated) with an unallocated one and releases its bytes.
    fn free_table(&self, table: &mut RawTable<Slot>) {
        let bytes = table_size(table.buckets()) as u64;
        *table = RawTable::new();
        self.table_bytes.fetch_sub(bytes, Relaxed);
        self.release(0, bytes);
    }

    /// Rebuilds shard `idx`'s table smaller if under a tenth of its buckets are live (after
    /// deletes, expiries or evictions; hashbrown never shrinks on removal), sized so the live
    /// entries fill at most half of it: far from both thresholds, so it does not flip back and
    /// forth. A table left empty is freed. As with growth, the new table's bytes are reserved
    /// before it exists and the old one's released after it is freed; if the cap has no room
    /// for the new table, nothing changes. True if the table changed.
    pub(crate) fn shrink_shard(&self, idx: usize) -> bool {
        let shard = &self.map.shards()[idx];
        if !sparse(&shard.read()) {
            return false;
        }
        let mut table = shard.write();
        if !sparse(&table) {
            return false;
        }
        if table.is_empty() {
            self.free_table(&mut table);
            return true;
        }
        let mut next = 4;
        while full_capacity(next) < table.len() * 2 {
            next *= 2;
        }
        if next >= table.buckets() || !self.rebuild(&mut table, next) {
            return false;
        }
        self.publish_geometry(idx, &table);
        true
    }

    /// Insert `entry`, whose key the caller saw absent, evicting as needed. Room for the
    /// entry, and for the table's growth when the shard's table is full, is reserved before
    /// anything is written, so `used_bytes` covers the real allocations at every instant.
    /// Hands the entry back if another writer inserted the key first; the caller then retries.
    pub(crate) fn insert_new(&self, entry: Entry) -> Result<Option<Entry>> {
        let size = entry.size();
        self.reserve(1, size)?;
        let hash = self.hash(entry.key());
        let shard = self.shard_of(hash);
        loop {
            let mut table = shard.write();
            if table
                .find(hash, |slot| {
                    slot.0.may_hash_to(hash) && slot.0.key_is(entry.key())
                })
                .is_some()
            {
                drop(table);
                self.release(1, size);
                return Ok(Some(entry));
            }
            if !self.grow_for_insert(&mut table) {
                drop(table);
                if !self.evict_one() {
                    self.release(1, size);
                    return Err(Error::OutOfMemory);
                }
                continue;
            }
            self.insert_counted(&mut table, hash, entry);
            return Ok(None);
        }
    }

    /// Reserve room for `entries` more entries and `bytes` more bytes, evicting as needed.
    pub(crate) fn reserve(&self, entries: u64, bytes: u64) -> Result<()> {
        if let Some(max) = self.config.max_memory {
            if bytes > max {
                return Err(Error::OutOfMemory);
            }
        }
        loop {
            if self.try_reserve(entries, bytes) {
                return Ok(());
            }
            if !self.evict_one() {
                return Err(Error::OutOfMemory);
            }
        }
    }

    /// Reserve without evicting; false if a cap would be passed.
    pub(crate) fn try_reserve(&self, entries: u64, bytes: u64) -> bool {
        let max_e = self.config.max_entries.map(|m| m as u64);
        if !add_within(&self.used_entries, entries, max_e) {
            return false;
        }
        if !add_within(&self.used_bytes, bytes, self.config.max_memory) {
            self.used_entries.fetch_sub(entries, Relaxed);
            return false;
        }
        true
    }

    /// Give back a reservation that was not used.
    pub(crate) fn release(&self, entries: u64, bytes: u64) {
        self.used_entries.fetch_sub(entries, Relaxed);
        self.used_bytes.fetch_sub(bytes, Relaxed);
    }

    /// Account for an entry that has just been inserted (its room was reserved).
    pub(crate) fn on_inserted(&self, entry: &Entry) {
        self.keys.fetch_add(1, Relaxed);
        self.namespaces
            .add(key_ns(entry.key()), 1, entry.size() as i64);
        if entry.expires_at() != 0 {
            self.volatile.fetch_add(1, Relaxed);
        }
        self.counters.sets.fetch_add(1, Relaxed);
    }

    /// Account for an entry that has left the map.
    pub(crate) fn on_removed(&self, entry: &Entry, why: Removal) {
        let size = entry.size();
        self.keys.fetch_sub(1, Relaxed);
        self.release(1, size);
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
        let gone = |e: &Entry, _: &()| {
            let x = e.expires_at();
            x != 0 && x <= at
        };
        match self.map.remove_if(key, gone) {
            Some((e, _)) => {
                self.on_removed(&e, Removal::Expired);
                true
            }
            None => false,
        }
    }
}

/// Add `delta` to `counter` unless that passes `max`; lock-free.
fn add_within(counter: &AtomicU64, delta: u64, max: Option<u64>) -> bool {
    let Some(max) = max else {
        counter.fetch_add(delta, Relaxed);
        return true;
    };
    counter
        .fetch_update(Relaxed, Relaxed, |cur| {
            let next = cur.checked_add(delta)?;
            (next <= max).then_some(next)
        })
        .is_ok()
}

/// Does `table` own an allocation? Not `capacity() > 0`: hashbrown's capacity is the live
/// entries plus the free slots left before growth, which is 0 for an allocated table whose
/// slots are all tombstones. An unallocated table is one shared bucket; allocated ones have
/// at least 4.
fn allocated<T>(table: &RawTable<T>) -> bool {
    table.buckets() > 1
}

/// Tables of fewer buckets are never shrunk: they cost little and refill quickly.
const MIN_SHRINK_BUCKETS: usize = 64;

/// Is `table` worth rebuilding smaller: allocated and either empty (of any size: a table
/// shrunk earlier can be small) or big enough with under a tenth of its buckets live (the
/// fill below which Redis shrinks a dict)?
fn sparse(table: &RawTable<Slot>) -> bool {
    let buckets = table.buckets();
    allocated(table)
        && (table.is_empty() || (buckets >= MIN_SHRINK_BUCKETS && table.len() * 10 < buckets))
}

/// How many entries a hashbrown table of `buckets` buckets holds before it must grow (7/8 of
/// its buckets, one less than that for tables under 8 buckets).
fn full_capacity(buckets: usize) -> usize {
    if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_tombstones_still_counts_as_allocated() {
        assert!(!allocated(&RawTable::<u64>::new()));
        // Filled to capacity in consecutive buckets, then emptied: every removal leaves a
        // tombstone, so hashbrown reports no capacity though the table is still allocated.
        let mut t: RawTable<u64> = RawTable::with_capacity(full_capacity(64));
        for i in 0..full_capacity(64) as u64 {
            t.insert(i, i, |&x| x);
        }
        for i in 0..full_capacity(64) as u64 {
            assert_eq!(t.remove_entry(i, |&x| x == i), Some(i));
        }
        assert_eq!((t.len(), t.capacity(), t.buckets()), (0, 0, 64));
        assert!(allocated(&t));
    }
}
