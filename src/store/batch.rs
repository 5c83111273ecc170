//! Batch reads (MGET): the keys laid out a chunk at a time and looked up together by the
//! table's [`BatchProbe`], which overlaps their cache misses and holds a chunk's shard read
//! locks for that chunk only. Expired entries met are removed after the locks are released.

use super::key::{ns_prefix, KeyBuf, Ns};
use super::table::{BatchProbe, CHUNK};
use super::value::ValueRef;
use super::Store;

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
        let mut probe = BatchProbe::new(&s.table);
        let mut expired: Vec<(KeyBuf, u64)> = Vec::new();
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
            // One logical-time stamp per key, taken at once (misses leave gaps, which keep
            // the order): one atomic add per chunk instead of one per hit.
            let first = s.bump_n(stored.len() as u64);
            let (access_ms, resolution) = (s.access_now(), s.access_resolution());
            let mut hits = 0;
            probe.probe(&stored, |i, e| {
                if e.is_expired(now) {
                    expired.push((KeyBuf::copy_of(e.key()), e.expires_at()));
                    return;
                }
                e.touch(first + i as u64, access_ms, resolution);
                hits += 1;
                f(c * CHUNK + i, e.value());
            });
            s.counters.hits.add(hits);
            s.counters.misses.add(stored.len() as u64 - hits);
        }
        for (k, at) in expired {
            s.remove_expired(&k, at);
        }
    }
}
