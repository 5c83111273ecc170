//! Walks over buckets, each under one shard read lock at a time: SCAN's cursor walk (home
//! buckets in reverse-binary order, as Redis's dictScan, which survives resizes between steps),
//! the reaper's slices of bucket indexes, and eviction's sample from a random spot.
//!
//! A cursor is `shard << SHARD_SHIFT | v`: a shard index, and within that shard's table a
//! bucket cursor `v`. A visit of home bucket `v & mask` meets every entry whose hash's low bits
//! equal the bucket: hashbrown's probe sequence from there, up to the first group with an
//! empty byte, is where such entries can be, as lookups rely on. Invariant: this file knows
//! hashbrown's group width and probe sequence (`GROUP_WIDTH`, `visit_home`); the
//! `home_bucket_visits_find_every_entry_once` test fails if they ever disagree.

use super::{Slot, Table};
use crate::store::entry::{Entry, TAG_HASH_BITS};
use hashbrown::raw::RawTable;
use std::ops::Range;

/// Bits of a cursor that hold the bucket cursor; the shard index sits above them.
pub(crate) const SHARD_SHIFT: u32 = 48;
/// The bucket-cursor bits.
const LOW: u64 = (1 << SHARD_SHIFT) - 1;
/// hashbrown's control-group width: 16 with SSE2, else a word (its NEON and generic groups).
const GROUP_WIDTH: usize = if cfg!(all(
    target_feature = "sse2",
    any(target_arch = "x86", target_arch = "x86_64")
)) {
    16
} else {
    std::mem::size_of::<usize>()
};
/// A control byte marking an empty bucket.
const EMPTY: u8 = 0xFF;
/// Home buckets a walk step looks ahead to prefetch their entries: enough misses in flight
/// to cover memory latency, few enough that a short step wastes little.
const PREFETCH_AHEAD: usize = 24;

impl Table {
    /// One step of the cursor walk: from `cursor`, calls `f` on every entry of each home
    /// bucket visited, under one shard read lock at a time, until `enough(buckets visited)`
    /// says stop (checked after each bucket and each shard); returns the next cursor (0 when
    /// the walk is complete) and the buckets visited (an empty shard counts as one).
    pub(crate) fn walk_step(
        &self,
        cursor: u64,
        mut enough: impl FnMut(usize) -> bool,
        mut f: impl FnMut(&Entry),
    ) -> (u64, usize) {
        let shards = self.map.shards();
        let (mut shard, mut v) = ((cursor >> SHARD_SHIFT) as usize, cursor & LOW);
        let mut visited = 0;
        while shard < shards.len() {
            {
                let table = shards[shard].read();
                if !table.is_empty() {
                    let mask = table.buckets() - 1;
                    // The entries of the home bucket PREFETCH_AHEAD visits on are fetched
                    // from memory while this one is visited: entries are scattered over the
                    // heap, and a walk is otherwise one cache miss after another.
                    let mut ahead = Some(v);
                    for _ in 0..PREFETCH_AHEAD {
                        ahead = ahead.and_then(|a| {
                            self.prefetch_home_entries(&table, a as usize & mask);
                            next_bucket_cursor(a, mask as u64)
                        });
                    }
                    loop {
                        visited += 1;
                        if let Some(a) = ahead {
                            self.prefetch_home_entries(&table, a as usize & mask);
                            ahead = next_bucket_cursor(a, mask as u64);
                        }
                        self.visit_home(&table, v as usize & mask, &mut f);
                        match next_bucket_cursor(v, mask as u64) {
                            Some(next) => v = next,
                            None => break,
                        }
                        if enough(visited) {
                            return (((shard as u64) << SHARD_SHIFT) | v, visited);
                        }
                    }
                } else {
                    visited += 1;
                }
            }
            shard += 1;
            v = 0;
            if shard < shards.len() && enough(visited) {
                return ((shard as u64) << SHARD_SHIFT, visited);
            }
        }
        (0, visited)
    }

    /// Calls `f` on every entry of `table` (read-locked, allocated) whose home bucket is
    /// `home`: those sit in the probe sequence from `home` up to the first control group that
    /// holds an empty byte, since a lookup stops there (in a table no bigger than a group,
    /// anywhere in it). Entries of other home buckets met on the way are skipped.
    fn visit_home(&self, table: &RawTable<Slot>, home: usize, mut f: impl FnMut(&Entry)) {
        let mask = table.buckets() - 1;
        probe_home(table, home, |e| {
            if self.home_of(e, mask) == home {
                f(e);
            }
        });
    }

    /// Starts fetching into the cache the entries [`Table::visit_home`] would visit for
    /// `home`, where the pointer's tag tells their home without reading them (else none).
    fn prefetch_home_entries(&self, table: &RawTable<Slot>, home: usize) {
        let mask = table.buckets() - 1;
        if mask >= 1 << TAG_HASH_BITS {
            return;
        }
        probe_home(table, home, |e| {
            if e.hash_tag().is_some_and(|low| low as usize & mask == home) {
                e.prefetch();
            }
        });
    }

    /// The home bucket of `e` in a table of `mask + 1` buckets: its hash's low bits, from the
    /// tag on its pointer when the table is small enough, else by hashing its key.
    fn home_of(&self, e: &Entry, mask: usize) -> usize {
        match e.hash_tag() {
            Some(low) if mask < 1 << TAG_HASH_BITS => low as usize & mask,
            _ => self.hash(e.key()) as usize & mask,
        }
    }

    /// Under shard `idx`'s read lock, calls `f` on the entry of every full bucket in `range`
    /// (cut to the table's size); returns the table's bucket count.
    pub(crate) fn for_each_in(
        &self,
        idx: usize,
        range: Range<usize>,
        mut f: impl FnMut(&Entry),
    ) -> usize {
        let table = self.map.shards()[idx].read();
        for i in range.start..range.end.min(table.buckets()) {
            // SAFETY: `i` is below the table's bucket count, and the read lock is held while
            // the bucket is read.
            unsafe {
                if table.is_bucket_full(i) {
                    f(&table.bucket(i).as_ref().0);
                }
            }
        }
        table.buckets()
    }

    /// Buckets of every shard's table (a read lock per shard).
    pub(crate) fn total_buckets(&self) -> usize {
        self.map.shards().iter().map(|s| s.read().buckets()).sum()
    }

    /// Eviction's sample: from shard `pick(shards)` on, one shard read lock at a time, from
    /// bucket `pick(buckets)` of each non-empty table on (wrapping around), calls `f` on every
    /// entry until it answers true (enough). `pick(n)` is a random index below `n`.
    pub(crate) fn sample(
        &self,
        mut pick: impl FnMut(usize) -> usize,
        mut f: impl FnMut(&Entry) -> bool,
    ) {
        let shards = self.map.shards();
        let first = pick(shards.len());
        for s in 0..shards.len() {
            let guard = shards[(first + s) % shards.len()].read();
            if guard.is_empty() {
                continue;
            }
            let buckets = guard.buckets();
            let start = pick(buckets);
            for i in 0..buckets {
                let idx = (start + i) & (buckets - 1);
                // SAFETY: idx < buckets(), and the shard's read lock is held for the whole
                // walk, so the table cannot be resized or the bucket freed underneath us.
                let (e, _) = unsafe {
                    if !guard.is_bucket_full(idx) {
                        continue;
                    }
                    guard.bucket(idx).as_ref()
                };
                if f(e) {
                    return;
                }
            }
        }
    }
}

/// Calls `f` on the entry of every full bucket in the probe sequence of home bucket `home` of
/// `table` (read-locked, allocated): from `home` up to the first control group holding an
/// empty byte, or the whole table when it is no bigger than a group.
fn probe_home(table: &RawTable<Slot>, home: usize, mut f: impl FnMut(&Entry)) {
    let mask = table.buckets() - 1;
    let ctrl = table.data_end().as_ptr().cast::<u8>().cast_const();
    let mut check = |i: usize| {
        // SAFETY: `i <= mask`, and the caller holds the shard's read lock.
        unsafe {
            if table.is_bucket_full(i) {
                f(&table.bucket(i).as_ref().0);
            }
        }
    };
    if mask < GROUP_WIDTH {
        (0..=mask).for_each(&mut check);
        return;
    }
    let (mut pos, mut stride) = (home, 0);
    loop {
        let mut has_empty = false;
        for j in 0..GROUP_WIDTH {
            let i = (pos + j) & mask;
            // SAFETY: `i <= mask`: a control byte of the table, under its read lock.
            has_empty |= unsafe { *ctrl.add(i) } == EMPTY;
            check(i);
        }
        stride += GROUP_WIDTH;
        if has_empty || stride > mask {
            return;
        }
        pos = (pos + stride) & mask;
    }
}

/// Redis's reverse-binary increment of bucket cursor `v` for a table of `mask + 1` buckets,
/// over [`SHARD_SHIFT`] bits: set the bits above the mask, reverse, add one, reverse back.
/// `None` when the walk of the table is complete.
fn next_bucket_cursor(v: u64, mask: u64) -> Option<u64> {
    let rev = |x: u64| (x & LOW).reverse_bits() >> (64 - SHARD_SHIFT);
    let r = rev(v | (!mask & LOW)) + 1;
    (r <= LOW).then(|| rev(r))
}

#[cfg(test)]
mod tests;
