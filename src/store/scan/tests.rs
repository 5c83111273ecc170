//! The bound on buckets visited per step, full walks against KEYS, and `Store::walk`.

use super::*;
use crate::store::table::SHARD_SHIFT;
use crate::store::{Config, ManualClock, SetOptions, Store, Value};
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

/// Every key of a full walk with `count`, in order, and the largest step's bucket visits.
fn walk(s: &Store, ns: Ns, count: usize) -> (Vec<String>, usize) {
    let (mut cursor, mut out, mut most) = (0, Vec::new(), 0);
    loop {
        let step = s.shared.scan_step(ns, cursor, count);
        most = most.max(step.visited);
        out.extend(step.keys.into_iter().map(|k| String::from_utf8(k).unwrap()));
        if step.next == 0 {
            return (out, most);
        }
        cursor = step.next;
    }
}

proptest! {
    /// With no writes during the walk, SCAN returns exactly the keys KEYS returns, each once.
    #[test]
    fn a_full_walk_returns_each_key_once(
        n in 0usize..400,
        other in 0usize..200,
        deleted in 0usize..200,
        count in 1usize..40,
        shards in prop::sample::select(vec![2usize, 4, 64]),
    ) {
        let s = store(shards);
        let ns = s.namespace("n").unwrap();
        fill(&s, ns, "k", n);
        fill(&s, D, "o", other);
        for i in 0..deleted.min(n) {
            s.delete((ns, &format!("k{}", i * 2 % n.max(1))));
        }
        let (got, most) = walk(&s, ns, count);
        prop_assert!(most <= count * VISITS_PER_KEY);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for k in &got {
            *counts.entry(k).or_default() += 1;
        }
        prop_assert!(counts.values().all(|&c| c == 1), "repeated keys: {:?}", counts);
        let want: HashSet<String> = s.keys(ns, "*").into_iter().collect();
        prop_assert_eq!(got.into_iter().collect::<HashSet<_>>(), want);
    }
}

#[test]
fn a_step_visits_at_most_ten_buckets_per_key_asked_for() {
    let s = store(64);
    fill(&s, D, "k", 100_000);
    let step = s.shared.scan_step(D, 0, 10);
    assert!(step.visited <= 100, "{}", step.visited);
    assert!(step.keys.len() >= 10);
    assert_ne!(step.next, 0);
    // A namespace of five keys among 100,000 others: every step stays bounded, the walk
    // returns its five keys, and it visits each bucket about once in all.
    let few = s.namespace("few").unwrap();
    fill(&s, few, "f", 5);
    let (mut cursor, mut found, mut total, mut steps) = (0, Vec::new(), 0, 0);
    loop {
        let step = s.shared.scan_step(few, cursor, 10);
        assert!(step.visited <= 100);
        total += step.visited;
        steps += 1;
        found.extend(step.keys);
        if step.next == 0 {
            break;
        }
        cursor = step.next;
    }
    found.sort();
    assert_eq!(found, [b"f0", b"f1", b"f2", b"f3", b"f4"]);
    let buckets = s.shared.table.total_buckets();
    assert!(
        total <= buckets + 64,
        "{total} visits for {buckets} buckets"
    );
    assert!(steps >= buckets / 100);
}

#[test]
fn a_cursor_past_the_last_shard_ends_the_walk() {
    let s = store(4);
    fill(&s, D, "k", 10);
    let step = s.shared.scan_step(D, 4 << SHARD_SHIFT, 10);
    assert_eq!((step.next, step.keys.len()), (0, 0));
    assert_eq!(s.scan(D, u64::MAX, None, 10), (0, vec![]));
}

/// The walk shows every live entry of every namespace once, with its value and absolute
/// expiry, and skips expired ones; across enough entries to take many slices.
#[test]
fn the_walk_shows_every_live_entry_once_with_its_expiry() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = Config {
        reaper_interval_ms: 0,
        shards: 4,
        ..Config::default()
    };
    let s = Store::with_clock(config, clock.clone()).unwrap();
    let ns = s.namespace("n").unwrap();
    let n = 20_000;
    fill(&s, D, "d", n);
    for i in 0..n {
        let opts = SetOptions {
            ttl_ms: Some(if i % 2 == 0 { 10 } else { 60_000 }),
            ..SetOptions::default()
        };
        s.set(ns, &format!("t{i}"), Value::from(format!("v{i}")), &opts)
            .unwrap();
    }
    clock.advance(100);
    let mut seen: HashMap<(Ns, Vec<u8>), (Value, Option<u64>)> = HashMap::new();
    let mut visits = 0;
    s.walk(|e| {
        visits += 1;
        seen.insert(
            (e.ns, e.key.to_vec()),
            (e.value.to_owned(), e.expires_at_ms),
        );
    });
    assert_eq!(visits, seen.len(), "an entry was shown twice");
    assert_eq!(seen.len(), n + n / 2);
    for i in 0..n {
        assert_eq!(
            seen[&(D, format!("d{i}").into_bytes())],
            (Value::Int(i as i64), None)
        );
        let t = seen.get(&(ns, format!("t{i}").into_bytes()));
        if i % 2 == 0 {
            assert_eq!(t, None, "expired t{i} shown");
        } else {
            assert_eq!(t, Some(&(Value::from(format!("v{i}")), Some(1_060_000))));
        }
    }
}
