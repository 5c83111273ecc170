//! The cursor arithmetic, and the home-bucket visits against the table's own layout.

use super::*;
use crate::store::key::key_name;
use crate::store::{Config, ManualClock, Ns, SetOptions, Store, Value};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const D: Ns = Ns::DEFAULT;

fn store(shards: usize) -> Store {
    let config = Config {
        reaper_interval_ms: 0,
        shards,
        ..Config::default()
    };
    Store::with_clock(config, Arc::new(ManualClock::new(1_000_000))).unwrap()
}

fn fill(s: &Store, ns: Ns, prefix: &str, n: usize) {
    for i in 0..n {
        let key = format!("{prefix}{i}");
        s.set(ns, &key, Value::Int(i as i64), &SetOptions::default())
            .unwrap();
    }
}

#[test]
fn the_bucket_cursor_counts_in_reverse_binary() {
    let mut v = 0;
    let mut seen = vec![0];
    while let Some(next) = next_bucket_cursor(v, 7) {
        v = next;
        seen.push(v & 7);
    }
    assert_eq!(seen, [0, 4, 2, 6, 1, 5, 3, 7]);
    // A table of one bucket is done after one visit.
    assert_eq!(next_bucket_cursor(0, 0), None);
    // Visited 0 and 2 of a 4-bucket table that then grows to 8: the walk goes on at 6 (the
    // other half of old bucket 2) and then 1, so nothing is visited twice or missed.
    assert_eq!(next_bucket_cursor(0, 3), Some(2));
    assert_eq!(next_bucket_cursor(2, 7), Some(6));
    assert_eq!(next_bucket_cursor(6, 7), Some(1));
}

proptest! {
    /// The model of Redis's guarantee: whatever the table size at each step (grown or shrunk
    /// between steps), every hash's home bucket is visited at least once in a walk.
    #[test]
    fn a_walk_meets_every_hash_whatever_the_resizes(
        hashes in prop::collection::vec(any::<u64>(), 1..100),
        sizes in prop::collection::vec(0u32..12, 1..30),
    ) {
        let (mut v, mut step) = (0u64, 0usize);
        let mut met: HashSet<u64> = HashSet::new();
        loop {
            let mask = (1u64 << sizes[step % sizes.len()]) - 1;
            step += 1;
            met.extend(hashes.iter().copied().filter(|h| h & mask == v & mask));
            match next_bucket_cursor(v, mask) {
                Some(next) => v = next,
                None => break,
            }
            prop_assert!(step < 1 << 16);
        }
        prop_assert_eq!(met.len(), hashes.iter().collect::<HashSet<_>>().len());
    }
}

/// Visiting every home bucket of a table finds each of its entries exactly once, with
/// tombstones in the probe sequences, in tables smaller than a group, and in tables too big
/// for the pointer tag (so homes come from hashing the key).
#[test]
fn home_bucket_visits_find_every_entry_once() {
    for (shards, n) in [(2, 3), (2, 6_000), (2, 80_000)] {
        let s = store(shards);
        fill(&s, D, "k", n);
        for i in (0..n).step_by(3) {
            s.delete((D, &format!("k{i}")));
        }
        for shard in s.shared.table.map.shards() {
            let table = shard.read();
            if table.is_empty() {
                continue;
            }
            let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
            for home in 0..table.buckets() {
                s.shared.table.visit_home(&table, home, |e| {
                    *seen.entry(key_name(e.key()).to_owned()).or_default() += 1;
                });
            }
            assert_eq!(seen.len(), table.len(), "{n} keys");
            assert!(seen.values().all(|&c| c == 1));
        }
        if n == 80_000 {
            let big = s.shared.table.map.shards()[0].read().buckets();
            assert!(big > 1 << TAG_HASH_BITS, "untagged homes tested: {big}");
        }
    }
}
