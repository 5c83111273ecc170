//! Batch lookups (MGET) with their cache misses overlapped. A lone lookup is a chain of
//! dependent misses (control bytes, slot, entry); a batch runs each step for every key before
//! the next step, with prefetches in between, so the misses of different keys are in flight
//! together. Invariant: a chunk's shard read locks are taken in ascending shard order, all
//! before any lookup, and released before the probe returns, so batches cannot deadlock each
//! other or a writer (which holds one shard lock at a time).

use super::{prefetch_home, Slot, Table};
use crate::store::entry::Entry;
use dashmap::RwLockReadGuard;
use hashbrown::raw::RawTable;

/// Keys looked up under one set of shard locks.
pub(crate) const CHUNK: usize = 64;

/// Lookups of many keys, a chunk at a time; holds its buffers across chunks.
pub(crate) struct BatchProbe<'t> {
    /// The table probed.
    table: &'t Table,
    /// The read lock of each shard the current chunk needs, by shard index; empty between
    /// chunks.
    guards: Vec<Option<RwLockReadGuard<'t, RawTable<Slot>>>>,
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
    /// `keys[i]` present, in order, with the chunk's shard read locks held (so `found` must not
    /// write to the table); the locks are released before it returns.
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
            self.guards[idx] = Some(shards[idx].read());
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
            // SAFETY: the shard's read lock is held while the iterator and buckets are used.
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
            // SAFETY: the bucket is full and the shard's read lock is held.
            if let Some(e) = bucket.map(|b| unsafe { &b.as_ref().0 }) {
                found(i, e);
            }
        }
        for g in self.guards.iter_mut() {
            *g = None;
        }
    }
}
