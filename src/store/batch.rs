//! Batch reads (MGET) with their cache misses overlapped. A lone lookup is a chain of
//! dependent misses (control bytes, slot, entry); a batch runs each step for every key before
//! the next step, with prefetches in between, so the misses of different keys are in flight
//! together. Shard read locks are taken in ascending shard order, all of a chunk's before any
//! lookup, and held for that chunk only: batches cannot deadlock each other or a writer (which
//! holds one shard lock at a time).

use super::entry::{ns_prefix, KeyBuf, Ns, ValueRef};
use super::shared::Shared;
use super::Store;
use std::sync::atomic::Ordering::Relaxed;

/// Keys looked up under one set of shard locks.
const CHUNK: usize = 64;

impl Store {
    /// Reads many keys: calls `f(i, value)` for each `keys[i]` that is present and live, in
    /// order. Counts hits and misses and records accesses as [`Store::get_with`] does; expired
    /// entries met are removed after the locks are released. As with `get_with`, `f` runs under
    /// shard read locks (here, those of up to 64 keys), so it must not write to this store.
    pub fn get_many_with<K: AsRef<[u8]>>(
        &self,
        ns: Ns,
        keys: &[K],
        mut f: impl FnMut(usize, ValueRef<'_>),
    ) {
        let s = &*self.shared;
        let shards = s.map.shards();
        let mut guards: Vec<Option<_>> = (0..shards.len()).map(|_| None).collect();
        let mut expired: Vec<(KeyBuf, u64)> = Vec::new();
        let mut wanted = vec![false; shards.len()];
        let now = s.now();
        // The chunk's stored keys, back to back, and where each ends.
        let mut buf: Vec<u8> = Vec::new();
        let mut ends: Vec<usize> = Vec::with_capacity(CHUNK);
        for (c, chunk) in keys.chunks(CHUNK).enumerate() {
            buf.clear();
            ends.clear();
            for k in chunk {
                buf.extend_from_slice(&ns_prefix(ns));
                buf.extend_from_slice(k.as_ref());
                ends.push(buf.len());
            }
            let stored: Vec<&[u8]> = ends
                .iter()
                .scan(0, |start, &end| {
                    let k = &buf[*start..end];
                    *start = end;
                    Some(k)
                })
                .collect();
            let mut hash = [0u64; CHUNK];
            let mut shard = [0usize; CHUNK];
            wanted.fill(false);
            for (i, k) in stored.iter().enumerate() {
                hash[i] = s.hash(k);
                shard[i] = s.map.determine_shard(hash[i] as usize);
                wanted[shard[i]] = true;
            }
            for (idx, _) in wanted.iter().enumerate().filter(|(_, w)| **w) {
                guards[idx] = Some(shards[idx].read());
            }
            // Step 1: start loading each key's home control group and slots.
            for i in 0..stored.len() {
                if let Some(t) = &guards[shard[i]] {
                    Shared::prefetch_home(t, hash[i]);
                }
            }
            // Step 2: the first slot whose control byte and hash tag match the key's hash (no
            // entry read yet; almost always the key's own slot): start loading its entry.
            for i in 0..stored.len() {
                let Some(t) = &guards[shard[i]] else { continue };
                // SAFETY: the shard's read lock is held while the iterator and buckets are used.
                let candidate = unsafe { t.iter_hash(hash[i]) }
                    .map(|b| unsafe { &b.as_ref().0 })
                    .find(|e| e.may_hash_to(hash[i]));
                if let Some(e) = candidate {
                    e.prefetch();
                }
            }
            // Step 3: find each key (its entry is in cache now), check expiry, hand out the
            // value.
            let mut hits = 0;
            // One logical-time stamp per key, taken at once (misses leave gaps, which keep
            // the order): one atomic add per chunk instead of one per hit.
            let first = s.bump_n(stored.len() as u64);
            let access_ms = s.access_now();
            for (i, k) in stored.iter().enumerate() {
                let Some(t) = &guards[shard[i]] else { continue };
                let bucket = t.find(hash[i], |slot| {
                    slot.0.may_hash_to(hash[i]) && slot.0.key_is(k)
                });
                // SAFETY: the bucket is full and the shard's read lock is held.
                let Some(e) = bucket.map(|b| unsafe { &b.as_ref().0 }) else {
                    continue;
                };
                if e.is_expired(now) {
                    expired.push((KeyBuf::copy_of(k), e.expires_at()));
                    continue;
                }
                e.touch(first + i as u64, access_ms);
                hits += 1;
                f(c * CHUNK + i, e.value());
            }
            for g in guards.iter_mut() {
                *g = None;
            }
            s.counters.hits.fetch_add(hits, Relaxed);
            s.counters
                .misses
                .fetch_add(stored.len() as u64 - hits, Relaxed);
        }
        for (k, at) in expired {
            s.remove_expired(&k, at);
        }
    }
}
