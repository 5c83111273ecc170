//! A dropped store's entry memory goes back to the OS on its own: with no store left there is
//! no reaper, and with nothing allocating the entry allocator never runs its decay check, so
//! its janitor thread must unmap the chunks once they have been idle past the decay. One test,
//! alone in its binary, so nothing else allocates or purges meanwhile; RSS is read from /proc.
#![cfg(unix)] // Unix only: the slab's chunks (mmap) and RSS from /proc.

mod common;

use common::rss_bytes;
use std::time::{Duration, Instant};
use tinykv::store::{Config, Ns, SetOptions, Store, Value};

#[test]
fn a_dropped_stores_memory_goes_back_with_nothing_else_running() {
    let before = rss_bytes();
    let store = Store::new(Config {
        reaper_interval_ms: 0, // no reaper: it would purge idle chunks on its own wake-ups
        ..Config::default()
    })
    .unwrap();
    let value = Value::Bytes(vec![b'v'; 900]);
    for i in 0..60_000 {
        store
            .set(
                Ns::DEFAULT,
                &format!("k{i}"),
                value.clone(),
                &SetOptions::default(),
            )
            .unwrap();
    }
    let loaded = rss_bytes();
    let grown = loaded.saturating_sub(before);
    assert!(
        grown > 40 << 20,
        "60,000 entries of ~940 bytes grew RSS by only {grown} bytes"
    );
    drop(store);
    // Freed entries stay mapped for the decay (1 s) in case a store refills; then the
    // janitor unmaps them. Allow several decays on a slow machine.
    let dropped = Instant::now();
    let released = |rss: u64| loaded.saturating_sub(rss) >= grown * 3 / 4;
    while !released(rss_bytes()) && dropped.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let now = rss_bytes();
    assert!(
        released(now),
        "RSS {now} after {:?}: grew {grown} loading, gave back {}",
        dropped.elapsed(),
        loaded.saturating_sub(now)
    );
}
