//! Approximate LRU against exact LRU on the same Zipf(0.99) trace over 1M keys at a 100k cap:
//! the hit ratios must be within 1 percentage point.

use lru::LruCache;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};
use std::num::NonZeroUsize;
use tinykv::store::{Config, Ns, SetOptions, Store, Value};

const KEYS: u64 = 1_000_000;
const CAP: usize = 100_000;
const REQUESTS: usize = 3_000_000;
const WARMUP: usize = 1_000_000;

fn trace() -> Vec<u32> {
    let zipf = Zipf::new(KEYS, 0.99).unwrap();
    let mut rng = SmallRng::seed_from_u64(42);
    (0..REQUESTS)
        .map(|_| zipf.sample(&mut rng) as u32)
        .collect()
}

/// Cache-aside replay: read, and write on a miss. Returns the hit ratio after warm-up.
fn replay(trace: &[u32], mut get_or_put: impl FnMut(u32) -> bool) -> f64 {
    let mut hits = 0;
    for (i, &k) in trace.iter().enumerate() {
        let hit = get_or_put(k);
        if i >= WARMUP && hit {
            hits += 1;
        }
    }
    hits as f64 / (trace.len() - WARMUP) as f64
}

#[test]
fn sampled_lru_tracks_exact_lru_on_zipf() {
    let trace = trace();
    let mut exact = LruCache::new(NonZeroUsize::new(CAP).unwrap());
    let exact_ratio = replay(&trace, |k| {
        if exact.get(&k).is_some() {
            true
        } else {
            exact.put(k, [0u8; 16]);
            false
        }
    });
    let store = Store::new(Config {
        max_entries: Some(CAP),
        ..Config::default()
    })
    .unwrap();
    let mut key = String::new();
    let ours = replay(&trace, |k| {
        use std::fmt::Write;
        key.clear();
        let _ = write!(key, "key:{k}");
        if store.get_with((Ns::DEFAULT, &key), |_| ()).is_some() {
            true
        } else {
            store
                .set(
                    Ns::DEFAULT,
                    &key,
                    Value::Bytes(vec![0; 16]),
                    &SetOptions::default(),
                )
                .unwrap();
            false
        }
    });
    let gap = (ours - exact_ratio) * 100.0;
    println!(
        "exact LRU {:.2}%  tinykv lru {:.2}%  gap {gap:+.2} points",
        exact_ratio * 100.0,
        ours * 100.0
    );
    assert!(store.total_len() <= CAP);
    assert!(
        exact_ratio > 0.3,
        "the trace should be cacheable: {exact_ratio}"
    );
    assert!(
        gap.abs() <= 1.0,
        "tinykv {ours:.4} vs exact {exact_ratio:.4}"
    );
}
