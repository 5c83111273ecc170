//! Stats snapshots: one shape shown the same way by the REPL, the daemon and the addon.

use super::shared::Shared;
use std::sync::atomic::Ordering::Relaxed;

/// Keys and bytes of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsStats {
    /// Namespace name.
    pub name: String,
    /// Entries in it.
    pub keys: u64,
    /// Bytes charged to its keys and values (tables are shared, so not included).
    pub bytes: u64,
}

/// A point-in-time view of a store's counters and sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that found nothing (or only an expired entry).
    pub misses: u64,
    /// Successful writes (set, incr).
    pub sets: u64,
    /// Entries removed by delete.
    pub deletes: u64,
    /// Entries removed because their TTL passed.
    pub expired: u64,
    /// Entries removed to make room under a cap.
    pub evicted: u64,
    /// Entries now in the store.
    pub keys: u64,
    /// Bytes now charged: every entry allocation (header, key and value) as the allocator sizes
    /// it, plus the map's tables. This is what `max_memory` caps.
    pub bytes: u64,
    /// The part of `bytes` taken by the map's tables (slots and control bytes).
    pub table_bytes: u64,
    /// The eviction policy's name (`lru`, `lfu`, `volatile-ttl`, `noeviction`).
    pub eviction_policy: &'static str,
    /// The entry cap, if any.
    pub max_entries: Option<usize>,
    /// The byte cap, if any.
    pub max_memory: Option<u64>,
    /// Namespaces holding at least one entry.
    pub namespaces: Vec<NsStats>,
}

impl Stats {
    /// hits / (hits + misses), or 0 before any read.
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

impl Shared {
    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let namespaces = self
            .namespaces
            .all()
            .into_iter()
            .filter_map(|(ns, name)| {
                let (keys, bytes) = self.namespaces.counts(ns);
                (keys > 0).then_some(NsStats { name, keys, bytes })
            })
            .collect();
        Stats {
            hits: c.hits.load(),
            misses: c.misses.load(),
            sets: c.sets.load(),
            deletes: c.deletes.load(Relaxed),
            expired: c.expired.load(Relaxed),
            evicted: c.evicted.load(Relaxed),
            keys: self.keys.load(Relaxed),
            bytes: self.caps.bytes(),
            table_bytes: self.table.bytes(),
            eviction_policy: self.config.eviction_policy.name(),
            max_entries: self.config.max_entries,
            max_memory: self.config.max_memory,
            namespaces,
        }
    }
}
