//! Key listing and the whole-store walk: KEYS (every entry, a shard read lock at a time), a
//! cursor SCAN whose steps cost O(COUNT), and `Store::walk`, a slice of the table at a time.
//! Both cursor walks are the table's (`Table::walk_step`: home buckets in reverse-binary
//! order, as Redis's dictScan), so every key present for the whole walk is returned at least
//! once, whatever resizes happen between steps (a grown table repeats nothing, a shrunk one
//! may repeat keys). A SCAN step visits at most `10 * count` buckets.

use super::entry::Entry;
use super::glob;
use super::key::{key_name, key_ns, Ns};
use super::shared::Shared;
use super::value::{Value, ValueRef};

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

/// One entry of a SCANENTRIES step, copied out of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedEntry {
    /// Its key, without the namespace prefix.
    pub key: Vec<u8>,
    /// Its value.
    pub value: Value,
    /// Absolute expiry on the store's clock; `None` for none.
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
        let mut out = Vec::new();
        self.table.for_each(|e| {
            if key_ns(e.key()) == ns && !e.is_expired(now) {
                let name = key_name(e.key());
                if all || glob::matches(pattern, name) {
                    out.push(name.to_owned());
                }
            }
        });
        out
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
        let mut keys = Vec::new();
        let (next, visited) = self.scan_live(ns, cursor, count, |e| {
            keys.push(key_name(e.key()).to_owned())
        });
        ScanStep {
            next,
            keys,
            visited,
        }
    }

    /// One SCAN step's walk: calls `f` on each live entry of `ns` it finds, until about
    /// `count` of them or `10 * count` buckets; the next cursor and the buckets visited.
    fn scan_live(
        &self,
        ns: Ns,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(&Entry),
    ) -> (u64, usize) {
        let count = count.max(1);
        let budget = count.saturating_mul(VISITS_PER_KEY);
        let now = self.now();
        let found = std::cell::Cell::new(0);
        self.table.walk_step(
            cursor,
            |visited| found.get() >= count || visited >= budget,
            |e| {
                if key_ns(e.key()) == ns && !e.is_expired(now) {
                    found.set(found.get() + 1);
                    f(e);
                }
            },
        )
    }

    /// One SCANENTRIES step: as [`Shared::scan`], with each key's value and absolute expiry
    /// read under the same shard lock that found it.
    pub(crate) fn scan_entries(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> (u64, Vec<ScannedEntry>) {
        let mut out = Vec::new();
        // Counted before the pattern, as SCAN's COUNT counts keys visited.
        let (next, _) = self.scan_live(ns, cursor, count, |e| {
            let key = key_name(e.key());
            if pattern.is_none_or(|p| glob::matches(p, key)) {
                let at = e.expires_at();
                out.push(ScannedEntry {
                    key: key.to_owned(),
                    value: e.value().to_owned(),
                    expires_at_ms: (at != 0).then_some(at),
                });
            }
        });
        (next, out)
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
            let (next, _) = self.table.walk_step(
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
}

#[cfg(test)]
mod tests;
