//! The hash table: a sharded map (dashmap's shards of hashbrown tables) of entries, each
//! looked up by its stored key. The only code in the crate that touches shards, buckets,
//! control bytes or slot pointers; everything else goes through the safe methods here, each of
//! which takes one shard lock (or, for a batch, the locks of one chunk in ascending shard
//! order) and holds it only for the call. A slot is just the entry pointer: a lookup reads the
//! control bytes, the slot, then the one entry whose control byte and pointer tag match.
//! Growth and shrinking (`grow`) reserve a new table's bytes in [`Caps`] before it exists;
//! `walk` holds the bucket-level walks (SCAN's cursor, the reaper's slices, eviction's sample);
//! `batch` the overlapped lookups behind MGET; `readers` the per-thread reader words that let
//! reads of a concurrent table skip the lock word, and `ShardWrite`, the only way
//! to write a shard. Invariant: hashbrown's layout (group width,
//! probe sequence, control bytes, slots below them) is known only in this folder, and the
//! tests here fail if it ever disagrees with the table's.

mod batch;
mod grow;
mod readers;
mod walk;

pub(crate) use self::batch::{BatchProbe, CHUNK};
#[cfg(test)]
pub(crate) use self::walk::SHARD_SHIFT;

use self::readers::{Header, Readers};
use super::caps::Caps;
use super::entry::{prefetch_read, Entry};
use crossbeam_utils::CachePadded;
use dashmap::{DashMap, SharedValue};
use hashbrown::raw::{Bucket, RawTable};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// A table slot: the entry pointer (dashmap's value is unit).
type Slot = (Entry, SharedValue<()>);

/// Table bytes per entry at the table's fullest (7/8 load). For docs and rough sizing only;
/// the store charges table growth exactly.
pub const ENTRY_OVERHEAD: usize = (std::mem::size_of::<Slot>() + 1) * 8 / 7;

/// The entries, by stored key.
#[derive(Debug)]
pub(crate) struct Table {
    /// The shards: each a read-write lock around one hashbrown table.
    map: DashMap<Entry, (), foldhash::fast::RandomState>,
    /// Where each shard's table was last seen, for [`Table::prefetch_key`], and its header
    /// copy (see `readers`).
    geometry: Box<[CachePadded<Geometry>]>,
    /// The reader words of a table built for reads from many threads (see `readers`).
    readers: Option<Readers>,
    /// Bytes of the tables (slots and control bytes), charged to the byte cap with the entries.
    bytes: AtomicU64,
}

/// A shard table's control-byte address and bucket mask as of its last write, and in a
/// concurrent table its header copy. The pair is read without the shard lock, only to aim
/// prefetches: a stale or torn pair aims them at the wrong lines (a prefetch never faults),
/// never at anything that is read. A read finds the header copy on the line it loads anyway.
#[derive(Debug, Default)]
struct Geometry {
    /// Address of the control bytes (0 before the first write).
    ctrl: AtomicUsize,
    /// Buckets less one.
    mask: AtomicUsize,
    /// The shard's table header as of its last write, for readers that skip the lock word
    /// (concurrent tables only; see `readers`).
    header: Header,
}

/// What [`Table::upsert`] did.
pub(crate) enum Upsert<R> {
    /// The key was present; the closure ran on its entry and returned this.
    Existing(R),
    /// The key was absent and the new entry is in.
    Inserted,
    /// The key was absent and there was no room without evicting; nothing changed.
    Vacant,
}

/// What [`Table::insert`] did.
pub(crate) enum Insert {
    /// The entry is in.
    Done,
    /// Another entry has the key; here is the one offered back.
    Present(Entry),
    /// The table is full and the byte cap has no room to grow it; the entry offered back.
    NoRoom(Entry),
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

/// Starts loading the lines a lookup of `hash` in `table` reads first: the home control group
/// and the slots it covers. Issued together, so the control-byte miss and the slot miss
/// overlap instead of following each other.
#[inline(always)]
fn prefetch_home(table: &RawTable<Slot>, hash: u64) {
    let ctrl = table.data_end().as_ptr() as usize;
    prefetch_group(ctrl, hash as usize & (table.buckets() - 1));
}

impl Table {
    /// An empty table of `shards` shards (a power of two, at least 2); `concurrent` builds it
    /// for reads from many threads (see `readers`).
    pub(crate) fn new(shards: usize, concurrent: bool) -> Table {
        let map =
            DashMap::with_hasher_and_shard_amount(foldhash::fast::RandomState::default(), shards);
        let table = Table {
            map,
            geometry: (0..shards).map(|_| CachePadded::default()).collect(),
            readers: concurrent.then(|| Readers::new(shards)),
            bytes: AtomicU64::new(0),
        };
        if concurrent {
            table.publish_headers();
        }
        table
    }

    /// Number of shards.
    pub(crate) fn shard_count(&self) -> usize {
        self.map.shards().len()
    }

    /// Bytes of the tables now (part of the byte count).
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }

    /// True when no shard holds an entry (a read lock per shard).
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The hash of stored key `key`, as the map computes it.
    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.map.hash_usize(&key) as u64
    }

    /// The index of the shard holding keys of hash `hash`.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        self.map.determine_shard(hash as usize)
    }

    /// A slot's hash, read from its entry's key (a slot stores no hash).
    #[inline]
    fn slot_hash(&self, slot: &Slot) -> u64 {
        self.hash(slot.0.key())
    }

    /// Starts loading the table lines a lookup of stored key `key` will read, without taking
    /// the shard lock: a caller with other work to do first (reading a value from JS) overlaps
    /// the lookup's first cache miss with it.
    #[inline]
    pub(crate) fn prefetch_key(&self, key: &[u8]) {
        self.prefetch_hash(self.hash(key));
    }

    /// [`Table::prefetch_key`] of a key's hash.
    #[inline(always)]
    fn prefetch_hash(&self, hash: u64) {
        let g = &self.geometry[self.shard_index(hash)];
        let ctrl = g.ctrl.load(Relaxed);
        if ctrl != 0 {
            prefetch_group(ctrl, hash as usize & g.mask.load(Relaxed));
        }
    }

    /// Runs `f` on the entry at `key` with its shard held for reading: in a concurrent table
    /// by this thread's reader word while no writer is in (see `readers`), else (or when one
    /// is) by the shard's read lock. `None` if absent. `f` must not write to the table.
    #[inline]
    pub(crate) fn with_ref<R>(&self, key: &[u8], f: impl FnOnce(&Entry) -> R) -> Option<R> {
        let hash = self.hash(key);
        let idx = self.shard_index(hash);
        // The home group's lines start loading before the lock is taken: when threads share
        // the store, the lock word is often on the other core, and its transfer then overlaps
        // the group's misses instead of coming first.
        self.prefetch_hash(hash);
        if let Some(table) = self.read_unlocked(idx) {
            return find_ref(&table, hash, key, f);
        }
        find_ref(&self.map.shards()[idx].read(), hash, key, f)
    }

    /// Runs `f` on the entry at `key` under its shard's write lock; `None` if absent. Unlike
    /// `DashMap::get_mut` this hands out the entry itself, so `f` may move it to a new
    /// allocation (the key stays the same, so its slot and hash stay right).
    #[inline]
    pub(crate) fn with_mut<R>(&self, key: &[u8], f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let hash = self.hash(key);
        let table = self.write_shard(self.shard_index(hash));
        prefetch_home(&table, hash);
        let bucket = find_key(&table, hash, key)?;
        // SAFETY: the bucket was just found and the shard's write lock is held until `f` ends.
        let slot = unsafe { bucket.as_mut() };
        Some(f(&mut slot.0))
    }

    /// Under one write lock on `key`'s shard: runs `existing` on the entry if the key is
    /// present, else inserts `make()` if room for one more entry of `size` bytes (and for the
    /// table's growth) can be had in `caps` without evicting, and calls `inserted` on it
    /// under the lock. One probe for the common write; an overwrite touches no cap counter.
    #[inline]
    pub(crate) fn upsert<R>(
        &self,
        key: &[u8],
        size: u64,
        caps: &Caps,
        existing: impl FnOnce(&mut Entry) -> R,
        make: impl FnOnce() -> Entry,
        inserted: impl FnOnce(&Entry),
    ) -> Upsert<R> {
        let hash = self.hash(key);
        let mut table = self.write_shard(self.shard_index(hash));
        // A new key's insert writes the slot: its line loads alongside the control bytes.
        prefetch_home(&table, hash);
        if let Some(bucket) = find_key(&table, hash, key) {
            // SAFETY: the bucket was just found and the write lock is held until `existing` ends.
            let slot = unsafe { bucket.as_mut() };
            return Upsert::Existing(existing(&mut slot.0));
        }
        if !caps.try_reserve(1, size) {
            return Upsert::Vacant;
        }
        if !self.grow_for_insert(&mut table, caps) {
            caps.release(1, size);
            return Upsert::Vacant;
        }
        self.insert_counted(&mut table, hash, make(), inserted);
        Upsert::Inserted
    }

    /// Inserts `entry`, whose room the caller reserved, unless its key is present; grows the
    /// table first when full, reserving the growth in `caps` without evicting. Calls
    /// `inserted` on it under the shard's write lock.
    pub(crate) fn insert(
        &self,
        entry: Entry,
        caps: &Caps,
        inserted: impl FnOnce(&Entry),
    ) -> Insert {
        let hash = self.hash(entry.key());
        let mut table = self.write_shard(self.shard_index(hash));
        let key = entry.key();
        if find_key(&table, hash, key).is_some() {
            return Insert::Present(entry);
        }
        if !self.grow_for_insert(&mut table, caps) {
            return Insert::NoRoom(entry);
        }
        self.insert_counted(&mut table, hash, entry, inserted);
        Insert::Done
    }

    /// Inserts `entry` into `table` (which has room: see `grow_for_insert`) and calls
    /// `inserted` on it.
    #[inline]
    fn insert_counted(
        &self,
        table: &mut RawTable<Slot>,
        hash: u64,
        mut entry: Entry,
        inserted: impl FnOnce(&Entry),
    ) {
        entry.set_hash_tag(hash);
        let bucket = table.insert(hash, (entry, SharedValue::new(())), |slot| {
            self.slot_hash(slot)
        });
        // SAFETY: the bucket was just returned by insert and the write lock is still held.
        let (e, _) = unsafe { bucket.as_ref() };
        inserted(e);
    }

    /// Records where shard `idx`'s table now is, for [`Table::prefetch_key`] (each
    /// `ShardWrite`, as it ends).
    #[inline]
    fn publish_geometry(&self, idx: usize, table: &RawTable<Slot>) {
        let g = &self.geometry[idx];
        let ctrl = table.data_end().as_ptr() as usize;
        if g.ctrl.load(Relaxed) != ctrl {
            g.ctrl.store(ctrl, Relaxed);
            g.mask.store(table.buckets() - 1, Relaxed);
        }
    }

    /// Removes the entry at `key` and hands it over.
    pub(crate) fn remove(&self, key: &[u8]) -> Option<Entry> {
        self.remove_if(key, |_| true)
    }

    /// Removes the entry at `key` if `pick` says so, under one write lock.
    pub(crate) fn remove_if(&self, key: &[u8], pick: impl FnOnce(&Entry) -> bool) -> Option<Entry> {
        let hash = self.hash(key);
        let mut table = self.write_shard(self.shard_index(hash));
        let bucket = find_key(&table, hash, key)?;
        // SAFETY: the bucket was just found and the shard's write lock is held: it is read,
        // then (if picked) removed from the table, which hands its entry over.
        unsafe {
            if !pick(&bucket.as_ref().0) {
                return None;
            }
            Some(table.remove(bucket).0 .0)
        }
    }

    /// Keeps only the entries `keep` says yes to, a shard write lock at a time.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&Entry) -> bool) {
        for idx in 0..self.shard_count() {
            let mut table = self.write_shard(idx);
            // SAFETY: the shard's write lock is held; each full bucket is visited once and
            // erased (dropping its entry) at most once, while the iterator is live, as
            // hashbrown allows for the bucket just yielded.
            unsafe {
                for bucket in table.iter() {
                    if !keep(&bucket.as_ref().0) {
                        table.erase(bucket);
                    }
                }
            }
        }
    }

    /// Calls `f` on every entry, a shard read lock at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Entry)) {
        self.map.iter().for_each(|r| f(r.key()));
    }
}

/// The bucket of the entry at stored key `key` (of hash `hash`) in `table`, for a caller that
/// holds it for writing: a slot's tag rules it out before its entry is read.
#[inline(always)]
fn find_key(table: &RawTable<Slot>, hash: u64, key: &[u8]) -> Option<Bucket<Slot>> {
    table.find(hash, |slot| slot.0.may_hash_to(hash) && slot.0.key_is(key))
}

/// Finds the entry at stored key `key` (of hash `hash`) in `table`, which the caller holds
/// for reading, and runs `f` on it. The lookup overlaps its misses: control bytes with slots
/// (see `prefetch_home`), then all of a candidate entry's lines with the key comparison that
/// reads the first.
#[inline(always)]
fn find_ref<R>(
    table: &RawTable<Slot>,
    hash: u64,
    key: &[u8],
    f: impl FnOnce(&Entry) -> R,
) -> Option<R> {
    prefetch_home(table, hash);
    let bucket = table.find(hash, |slot| {
        slot.0.may_hash_to(hash) && {
            slot.0.prefetch();
            slot.0.key_is(key)
        }
    })?;
    // SAFETY: the bucket was just found and the caller holds the table until `f` ends.
    Some(f(unsafe { &bucket.as_ref().0 }))
}

// The map's key traits: an entry is its stored key, so lookups by `&[u8]` find it.

impl std::hash::Hash for Entry {
    /// Hashes as the stored key's bytes, so lookups by `&[u8]` find the entry.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key_is(other.key())
    }
}

impl Eq for Entry {}

impl std::borrow::Borrow<[u8]> for Entry {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}
