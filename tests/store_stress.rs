//! Threads hammer one store with mixed operations; the final counters and the cap must be exact.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tinykv::store::*;

const THREADS: usize = 4;
const OPS: usize = 100_000;

/// Run 4 threads x 100k mixed operations (set, get, delete, incr); returns the number of sets.
fn mixed_workload(s: &Arc<Store>, ns: Ns, cap: Option<usize>) -> u64 {
    let sets = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, sets) = (Arc::clone(s), Arc::clone(&sets));
            std::thread::spawn(move || {
                let mut x = (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for i in 0..OPS {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let key = format!("k{}", x % 20_000);
                    match i % 5 {
                        0 | 1 => {
                            s.set(
                                Ns::DEFAULT,
                                &key,
                                Value::Int(i as i64),
                                &SetOptions::default(),
                            )
                            .unwrap();
                            sets.fetch_add(1, Ordering::Relaxed);
                        }
                        2 => {
                            s.get(Ns::DEFAULT, &key);
                        }
                        3 => {
                            s.delete((Ns::DEFAULT, &key));
                        }
                        _ => {
                            s.incr_by((ns, &format!("c{}", i % 8)), 1).unwrap();
                        }
                    }
                    if let Some(cap) = cap.filter(|_| i % 1_000 == 0) {
                        assert!(s.total_len() <= cap, "cap passed: {}", s.total_len());
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    sets.load(Ordering::Relaxed)
}

const INCRS: u64 = (THREADS * OPS / 5) as u64;

#[test]
fn mixed_operations_from_four_threads_keep_counters_exact() {
    let s = Arc::new(Store::new(Config::default()).unwrap());
    let ns = s.namespace("counters").unwrap();
    let sets = mixed_workload(&s, ns, None);
    let st = s.stats();
    assert_eq!(st.sets, sets + INCRS);
    assert_eq!(st.hits + st.misses, INCRS, "one read in five");
    let total: i64 = (0..8)
        .map(|c| match s.get(ns, &format!("c{c}")) {
            Some(Value::Int(n)) => n,
            other => panic!("counter c{c} lost: {other:?}"),
        })
        .sum();
    assert_eq!(total as u64, INCRS, "every INCR counted exactly once");
    assert_eq!(st.evicted, 0);
}

#[test]
fn mixed_operations_from_four_threads_hold_the_entry_cap() {
    let cap = 5_000;
    let s = Arc::new(
        Store::new(Config {
            max_entries: Some(cap),
            ..Config::default()
        })
        .unwrap(),
    );
    let ns = s.namespace("counters").unwrap();
    let sets = mixed_workload(&s, ns, Some(cap));
    let st = s.stats();
    assert!(st.keys as usize <= cap);
    assert!(st.evicted > 0, "the cap was exercised");
    assert_eq!(st.sets, sets + INCRS);
    assert_eq!(st.keys, (s.len(Ns::DEFAULT) + s.len(ns)) as u64);
    let left: Vec<String> = s
        .keys(Ns::DEFAULT, "*")
        .into_iter()
        .chain(s.keys(ns, "*"))
        .collect();
    assert_eq!(left.len() as u64, st.keys);
    let expected_bytes: u64 = left
        .iter()
        .map(|k| alloc_size(ENTRY_HEADER + 2 + k.len() + 8) as u64)
        .sum();
    assert_eq!(
        st.bytes - st.table_bytes,
        expected_bytes,
        "byte count matches the entries left"
    );
}

#[test]
fn byte_cap_holds_under_concurrent_writers() {
    let per = alloc_size(ENTRY_HEADER + 2 + 6 + 100) as u64;
    let cap = 256 * 1024;
    let s = Arc::new(
        Store::new(Config {
            max_memory: Some(cap),
            ..Config::default()
        })
        .unwrap(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..50_000 {
                    let key = format!("{t}{:05}", i);
                    s.set(
                        Ns::DEFAULT,
                        &key,
                        Value::Bytes(vec![b'v'; 100]),
                        &SetOptions::default(),
                    )
                    .unwrap();
                    if i % 1000 == 0 {
                        assert!(s.stats().bytes <= cap);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let st = s.stats();
    assert!(st.bytes <= cap);
    assert_eq!(st.bytes, st.table_bytes + st.keys * per);
    assert_eq!(st.evicted + st.keys, (THREADS * 50_000) as u64);
}
