//! Eight threads run a million mixed operations (set with TTL, get, incr, delete) under both
//! an entry cap and a byte cap, while a sampler checks both caps. Nothing may deadlock, no
//! entry may be returned after its TTL, and under `volatile-ttl` (which never evicts the
//! TTL-less counters) every INCR must be counted exactly.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tinykv::store::{Config, EvictionPolicy, Ns, SetOptions, Store, Value};

const THREADS: usize = 8;
const OPS_PER_THREAD: usize = 125_000;
const COUNTERS: usize = 16;

struct Outcome {
    incrs: u64,
    samples: u64,
}

fn run(policy: EvictionPolicy) -> (Arc<Store>, Outcome) {
    let (max_entries, max_memory) = (20_000, 4 * 1024 * 1024);
    let config = Config {
        max_entries: Some(max_entries),
        max_memory: Some(max_memory),
        eviction_policy: policy,
        ..Config::default()
    };
    let s = Arc::new(Store::new(config).unwrap());
    let counters = s.namespace("counters").unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let incrs = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (s, done) = (Arc::clone(&s), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut samples = 0;
            while !done.load(Ordering::Relaxed) {
                let st = s.stats();
                assert!(
                    st.keys <= max_entries as u64,
                    "entry cap passed: {}",
                    st.keys
                );
                assert!(st.bytes <= max_memory, "byte cap passed: {}", st.bytes);
                samples += 1;
                std::thread::yield_now();
            }
            samples
        })
    };
    let started = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, incrs) = (Arc::clone(&s), Arc::clone(&incrs));
            std::thread::spawn(move || {
                let mut x = (t as u64 + 7).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for i in 0..OPS_PER_THREAD {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Key and operation come from different bits: with both from `x`'s low
                    // digits, sets, gets and deletes each had keys of their own.
                    let key = format!("k{}", (x >> 20) % 50_000);
                    match x % 10 {
                        0..=3 => {
                            // The value records its own deadline, so a late read is detectable.
                            let ttl = 1 + x % 2_000;
                            let deadline = s.now_ms() + ttl;
                            let mut v = deadline.to_le_bytes().to_vec();
                            v.resize(8 + (x % 200) as usize, b'.');
                            // An absolute expiry, so the store's deadline is exactly the one
                            // recorded (with a TTL, the store reads the clock again, maybe a ms on).
                            let opts = SetOptions {
                                expire_at_ms: Some(deadline),
                                ..SetOptions::default()
                            };
                            s.set(Ns::DEFAULT, &key, Value::Bytes(v), &opts).unwrap();
                        }
                        4..=6 => {
                            let before = s.now_ms();
                            if let Some(Value::Bytes(v)) = s.get(Ns::DEFAULT, &key) {
                                let deadline = u64::from_le_bytes(v[..8].try_into().unwrap());
                                // As in Redis, an entry lives through its expiry ms
                                // (expired when now > at), so a read at `deadline` may see it.
                                assert!(
                                    deadline >= before,
                                    "read at {before} returned an entry that expired at {deadline}"
                                );
                            }
                        }
                        7 | 8 => {
                            s.incr_by((counters, &format!("c{}", i % COUNTERS)), 1)
                                .unwrap();
                            incrs.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            s.delete((Ns::DEFAULT, &key));
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("sampler found a cap passed");
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "suspiciously slow: a lock convoy?"
    );
    (
        s,
        Outcome {
            incrs: incrs.load(Ordering::Relaxed),
            samples,
        },
    )
}

#[test]
fn volatile_ttl_under_both_caps_counts_every_incr() {
    let (s, out) = run(EvictionPolicy::VolatileTtl);
    let counters = s.namespace("counters").unwrap();
    let total: i64 = (0..COUNTERS)
        .map(|c| match s.get(counters, &format!("c{c}")) {
            Some(Value::Int(n)) => n,
            other => panic!("counter c{c} lost: {other:?}"),
        })
        .sum();
    assert_eq!(total as u64, out.incrs);
    assert!(out.samples > 10, "the sampler ran: {}", out.samples);
    let st = s.stats();
    assert!(
        st.evicted + st.expired > 0,
        "the caps or TTLs were exercised"
    );
}

#[test]
fn lru_and_lfu_under_both_caps_hold_them() {
    for policy in [EvictionPolicy::Lru, EvictionPolicy::Lfu] {
        let (s, out) = run(policy);
        let st = s.stats();
        assert!(out.samples > 10);
        assert!(st.keys <= 20_000 && st.bytes <= 4 * 1024 * 1024);
        assert!(
            st.evicted > 0,
            "{policy:?}: the caps were exercised: {st:?}"
        );
    }
}
