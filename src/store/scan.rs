//! Key listing: KEYS (a full walk) and a cursor SCAN whose steps cost O(COUNT).
//!
//! A SCAN cursor is `shard << SHARD_SHIFT | v`: a shard index, and within that shard's table a
//! bucket cursor `v` advanced in reverse-binary order, as Redis's dictScan does. One step
//! visits home buckets `v & mask` (every entry whose hash's low bits, `hash & mask`, equal the
//! bucket: hashbrown's probe sequence from there, up to the first group with an empty byte, is
//! where such entries can be, as lookups rely on) until it has `count` entries of the
//! namespace or has visited `10 * count` buckets, under one shard read lock at a time. As in
//! Redis, reverse-binary order makes the walk survive resizes between steps: every key present
//! for the whole walk is returned at least once (a grown table repeats nothing, a shrunk one
//! may repeat keys). Invariant: this module knows hashbrown's group width and probe sequence
//! (`GROUP_WIDTH`, `visit_home`); the `home_bucket_visits_find_every_entry_once` test fails
//! if they ever disagree with the table's.

use super::entry::{key_name, key_ns, Entry, Ns, Slot, ValueRef, TAG_HASH_BITS};
use super::glob;
use super::shared::Shared;
use hashbrown::raw::RawTable;

/// Bits of a cursor that hold the bucket cursor; the shard index sits above them.
const SHARD_SHIFT: u32 = 48;
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
/// A step visits at most this many buckets per key asked for (Redis's empty-bucket bound).
const VISITS_PER_KEY: usize = 10;

/// Home buckets a [`Shared::walk`] visits under one read lock.
const WALK_SLICE: usize = 1024;

/// One live entry, as [`Store::walk`](super::Store::walk) shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryView<'a> {
    /// Its namespace.
    pub ns: Ns,
    /// Its key, without the namespace prefix.
    pub key: &'a [u8],
    /// Its value.
    pub value: ValueRef<'a>,
    /// Absolute expiry on the store's clock (epoch ms on the system clock); `None` for none.
    pub expires_at_ms: Option<u64>,
}

/// One SCAN step's result.
#[derive(Debug)]
pub(crate) struct ScanStep {
    /// The cursor to pass next; 0 when the walk is complete.
    pub(crate) next: u64,
    /// Live keys of the namespace found, before the pattern filter.
    pub(crate) keys: Vec<Vec<u8>>,
    /// Home buckets (and empty shards) visited: at most `10 * count` (the tests check it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) visited: usize,
}

impl Shared {
    /// Names of the live keys in `ns` matching `pattern`.
    pub(crate) fn keys(&self, ns: Ns, pattern: &[u8]) -> Vec<Vec<u8>> {
        let now = self.now();
        let all = pattern == b"*";
        self.map
            .iter()
            .filter(|r| key_ns(r.key().key()) == ns && !r.key().is_expired(now))
            .map(|r| key_name(r.key().key()).to_owned())
            .filter(|name| all || glob::matches(pattern, name))
            .collect()
    }

    /// One SCAN step: about `count` keys from position `cursor`, and the next cursor (0 when
    /// the walk is complete).
    pub(crate) fn scan(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> (u64, Vec<Vec<u8>>) {
        let step = self.scan_step(ns, cursor, count);
        let mut keys = step.keys;
        if let Some(p) = pattern {
            keys.retain(|k| glob::matches(p, k));
        }
        (step.next, keys)
    }

    /// [`Shared::scan`] before the pattern filter, with the number of buckets it visited.
    pub(crate) fn scan_step(&self, ns: Ns, cursor: u64, count: usize) -> ScanStep {
        let count = count.max(1);
        let budget = count.saturating_mul(VISITS_PER_KEY);
        let now = self.now();
        let mut keys = Vec::new();
        let found = std::cell::Cell::new(0);
        let (next, visited) = self.walk_step(
            cursor,
            |visited| found.get() >= count || visited >= budget,
            |e| {
                if key_ns(e.key()) == ns && !e.is_expired(now) {
                    keys.push(key_name(e.key()).to_owned());
                    found.set(found.get() + 1);
                }
            },
        );
        ScanStep {
            next,
            keys,
            visited,
        }
    }

    /// One step of the cursor walk under SCAN and [`Shared::walk`]: from `cursor`, calls `f`
    /// on every entry of each home bucket visited, under one shard read lock at a time, until
    /// `enough(buckets visited)` says stop (checked after each bucket and each shard); returns
    /// the next cursor (0 when the walk is complete) and the buckets visited.
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
                    loop {
                        visited += 1;
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

    /// Calls `f` on every live entry of every namespace, [`WALK_SLICE`] home buckets at a
    /// time under one shard read lock, so a writer waits at most one slice. The walk survives
    /// resizes between slices as SCAN does: an entry present for the whole walk is seen at
    /// least once (twice only if its table shrank meanwhile); one written or removed during
    /// the walk may or may not be seen.
    pub(crate) fn walk(&self, mut f: impl FnMut(EntryView<'_>)) {
        let mut cursor = 0;
        loop {
            let now = self.now();
            let (next, _) = self.walk_step(
                cursor,
                |visited| visited >= WALK_SLICE,
                |e| {
                    if !e.is_expired(now) {
                        let at = e.expires_at();
                        f(EntryView {
                            ns: key_ns(e.key()),
                            key: key_name(e.key()),
                            value: e.value(),
                            expires_at_ms: (at != 0).then_some(at),
                        })
                    }
                },
            );
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }

    /// Calls `f` on every entry of `table` (read-locked, allocated) whose home bucket is
    /// `home`: those sit in the probe sequence from `home` up to the first control group that
    /// holds an empty byte, since a lookup stops there (in a table no bigger than a group,
    /// anywhere in it). Entries of other home buckets met on the way are skipped.
    fn visit_home(&self, table: &RawTable<Slot>, home: usize, mut f: impl FnMut(&Entry)) {
        let mask = table.buckets() - 1;
        let ctrl = table.data_end().as_ptr().cast::<u8>().cast_const();
        let mut check = |i: usize| {
            // SAFETY: `i <= mask`, and the caller holds the shard's read lock.
            unsafe {
                if table.is_bucket_full(i) {
                    let e = &table.bucket(i).as_ref().0;
                    if self.home_of(e, mask) == home {
                        f(e);
                    }
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

    /// The home bucket of `e` in a table of `mask + 1` buckets: its hash's low bits, from the
    /// tag on its pointer when the table is small enough, else by hashing its key.
    fn home_of(&self, e: &Entry, mask: usize) -> usize {
        match e.hash_tag() {
            Some(low) if mask < 1 << TAG_HASH_BITS => low as usize & mask,
            _ => self.hash(e.key()) as usize & mask,
        }
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
