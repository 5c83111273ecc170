//! Batch lookups (MGET) with their cache misses overlapped. A lone lookup is a chain of
//! dependent misses (control bytes, slot, entry); a batch runs each step for every key before
//! the next step, with prefetches in between, so the misses of different keys are in flight
//! together. Invariant: a chunk's shards are held for reading (in a concurrent table by this
//! thread's reader word when it can, else by the read lock) in ascending shard order, all
//! before any lookup, and released before the probe returns, so batches cannot deadlock each
//! other or a writer (which holds one shard at a time, and waits only for its own shard's
//! readers).

use super::readers::ReadSlot;
use super::{prefetch_home, Slot, Table};
use crate::store::entry::Entry;
use dashmap::RwLockReadGuard;
use hashbrown::raw::RawTable;

/// A shard held for reading: by its read lock, or by this thread's reader word.
enum Held<'t> {
    Lock(RwLockReadGuard<'t, RawTable<Slot>>),
    Word(ReadSlot<'t>),
}

impl std::ops::Deref for Held<'_> {
    type Target = RawTable<Slot>;
    #[inline]
    fn deref(&self) -> &RawTable<Slot> {
        match self {
            Held::Lock(g) => g,
            Held::Word(w) => w,
        }
    }
}

/// Keys looked up under one set of shard locks.
pub(crate) const CHUNK: usize = 64;

/// Lookups of many keys, a chunk at a time; holds its buffers across chunks.
pub(crate) struct BatchProbe<'t> {
    /// The table probed.
    table: &'t Table,
    /// Each shard the current chunk needs, held for reading, by shard index; empty between
    /// chunks.
    guards: Vec<Option<Held<'t>>>,
    /// Which shards the current chunk needs.
    wanted: Vec<bool>,
}

impl<'t> BatchProbe<'t> {
    /// A probe of `table`, holding no lock.
    pub(crate) fn new(table: &'t Table) -> BatchProbe<'t> {
        let n = table.shard_count();
        BatchProbe {
            table,
            guards: (0..n).map(|_| None).collect(),
            wanted: vec![false; n],
        }
    }

    /// Looks up stored keys `keys` (at most [`CHUNK`]) and calls `found(i, entry)` for each
    /// `keys[i]` present, in order, with the chunk's shards held for reading (so `found` must
    /// not write to the table); they are released before it returns.
    pub(crate) fn probe(&mut self, keys: &[&[u8]], mut found: impl FnMut(usize, &Entry)) {
        let keys = &keys[..keys.len().min(CHUNK)];
        let shards = self.table.map.shards();
        let mut hash = [0u64; CHUNK];
        let mut shard = [0usize; CHUNK];
        self.wanted.fill(false);
        for (i, k) in keys.iter().enumerate() {
            hash[i] = self.table.hash(k);
            shard[i] = self.table.shard_index(hash[i]);
            self.wanted[shard[i]] = true;
        }
        for (idx, _) in self.wanted.iter().enumerate().filter(|(_, w)| **w) {
            self.guards[idx] = Some(match self.table.read_unlocked(idx) {
                Some(word) => Held::Word(word),
                None => Held::Lock(shards[idx].read()),
            });
        }
        let guards = &self.guards;
        // Step 1: start loading each key's home control group and slots.
        for i in 0..keys.len() {
            if let Some(t) = &guards[shard[i]] {
                prefetch_home(t, hash[i]);
            }
        }
        // Step 2: the first slot whose control byte and hash tag match the key's hash (no
        // entry read yet; almost always the key's own slot): start loading its entry.
        for i in 0..keys.len() {
            let Some(t) = &guards[shard[i]] else { continue };
            // SAFETY: the shard is held for reading while the iterator and buckets are used.
            let candidate = unsafe { t.iter_hash(hash[i]) }
                .map(|b| unsafe { &b.as_ref().0 })
                .find(|e| e.may_hash_to(hash[i]));
            if let Some(e) = candidate {
                e.prefetch();
            }
        }
        // Step 3: find each key (its entry is in cache now) and hand it out.
        for (i, k) in keys.iter().enumerate() {
            let Some(t) = &guards[shard[i]] else { continue };
            let bucket = t.find(hash[i], |slot| {
                slot.0.may_hash_to(hash[i]) && slot.0.key_is(k)
            });
            // SAFETY: the bucket is full and the shard is held for reading.
            if let Some(e) = bucket.map(|b| unsafe { &b.as_ref().0 }) {
                found(i, e);
            }
        }
        for g in self.guards.iter_mut() {
            *g = None;
        }
    }
}
