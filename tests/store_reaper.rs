//! Active expiry: entries nobody reads are reclaimed, on a manual clock with explicit reaper
//! passes, and once in real time with the reaper thread. The thread stops when the store drops.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tinykv::store::*;

const D: Ns = Ns::DEFAULT;

#[test]
fn hundred_thousand_expired_keys_are_reclaimed_without_reads() {
    let clock = Arc::new(ManualClock::new(5_000));
    let config = Config {
        reaper_interval_ms: 0,
        ..Config::default()
    };
    let s = Store::with_clock(config, clock.clone()).unwrap();
    let ttl = SetOptions {
        ttl_ms: Some(1_000),
        ..SetOptions::default()
    };
    for i in 0..100_000 {
        s.set(D, &format!("key:{i}"), Value::Bytes(b"v".to_vec()), &ttl)
            .unwrap();
    }
    s.set(
        D,
        "keeper",
        Value::Bytes(b"v".to_vec()),
        &SetOptions::default(),
    )
    .unwrap();
    clock.advance(999);
    assert_eq!(s.reap_expired(), 0, "nothing is due yet");
    assert_eq!(s.total_len(), 100_001);
    // 1 s TTL + reaper passes within the next second of clock time.
    clock.advance(1);
    let mut removed = 0;
    for _ in 0..10 {
        clock.advance(100);
        removed += s.reap_expired();
    }
    assert_eq!(removed, 100_000);
    assert_eq!(s.total_len(), 1);
    let st = s.stats();
    assert_eq!(
        (st.expired, st.hits, st.misses),
        (100_000, 0, 0),
        "no reads were needed"
    );
    assert_eq!(
        st.bytes - st.table_bytes,
        alloc_size(ENTRY_HEADER + 2 + 6 + 1) as u64
    );
}

#[test]
fn reaper_thread_reclaims_in_real_time() {
    let config = Config {
        reaper_interval_ms: 20,
        ..Config::default()
    };
    let s = Store::new(config).unwrap();
    let ttl = SetOptions {
        ttl_ms: Some(50),
        ..SetOptions::default()
    };
    for i in 0..10_000 {
        s.set(D, &format!("k{i}"), Value::Int(i), &ttl).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.total_len() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(s.total_len(), 0);
    let st = s.stats();
    assert_eq!((st.expired, st.hits + st.misses), (10_000, 0));
}
