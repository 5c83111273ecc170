//! Byte accounting against the real allocator and the real process: the store's byte count
//! never passes `max_memory`, `alloc_size` matches the entry allocator and, past 1 KiB, glibc's `malloc_usable_size`, and loading
//! 1M entries under a 64 MiB cap grows RSS by an amount within 25% of the store's own count.
//! One test per concern; RSS is read from /proc, so this binary runs its tests one at a time.
#![cfg(unix)] // Unix only: glibc's malloc_usable_size, the Unix slab and /proc.

mod common;

use common::rss_bytes;
use std::sync::Mutex;
use tinykv::store::{alloc_size, parse_memory_size, Config, Ns, SetOptions, Store, Value};

/// RSS readings are process-wide: keep the tests in this binary from overlapping.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn alloc_size_matches_the_allocator() {
    let _g = SERIAL.lock();
    // Entries of up to 1 KiB come from the store's own spans (blocks rounded to 8 bytes, at
    // least 32); the slab's unit tests check that blocks of a size sit that far apart.
    for (n, block) in [
        (1usize, 32usize),
        (26, 32),
        (33, 40),
        (100, 104),
        (136, 136),
        (1024, 1024),
    ] {
        assert_eq!(alloc_size(n), block, "n = {n}");
    }
    // Bigger ones come from glibc malloc: its chunk is the usable size plus an 8-byte header.
    for n in [1025usize, 1100, 4096, 10_000] {
        let b: Box<[u8]> = vec![7u8; n].into_boxed_slice();
        // SAFETY: the pointer came from the global allocator (glibc malloc) and is live.
        let usable = unsafe { libc::malloc_usable_size(b.as_ptr() as *mut libc::c_void) };
        assert_eq!(
            alloc_size(n),
            usable + 8,
            "n = {n}: chunk = usable + 8-byte header"
        );
    }
}

#[test]
fn a_million_entries_under_64mb_stay_under_the_cap_and_match_rss() {
    let _g = SERIAL.lock();
    let cap = parse_memory_size("64mb").unwrap();
    let before = rss_bytes();
    let s = Store::new(Config {
        max_memory: Some(cap),
        ..Config::default()
    })
    .unwrap();
    let value = vec![b'v'; 100];
    let mut key = String::new();
    let mut peak = 0;
    for i in 0..1_000_000u32 {
        use std::fmt::Write;
        key.clear();
        let _ = write!(key, "key:{i}");
        s.set(
            Ns::DEFAULT,
            &key,
            Value::Bytes(value.clone()),
            &SetOptions::default(),
        )
        .unwrap();
        let bytes = s.stats().bytes;
        assert!(bytes <= cap, "count {bytes} passed the cap at insert {i}");
        peak = peak.max(bytes);
    }
    let st = s.stats();
    let growth = rss_bytes().saturating_sub(before);
    let ratio = growth as f64 / st.bytes as f64;
    println!(
        "entries {} evicted {} count {} (table {}) peak {} rss growth {} ratio {:.3}",
        st.keys, st.evicted, st.bytes, st.table_bytes, peak, growth, ratio
    );
    assert!(
        st.evicted > 0 && st.keys > 100_000,
        "the cap was reached and the store is full"
    );
    assert!(
        cap - st.bytes < cap / 20,
        "the store fills the cap: {} of {cap}",
        st.bytes
    );
    assert!(
        (0.75..=1.25).contains(&ratio),
        "RSS growth {growth} vs count {} (ratio {ratio:.3})",
        st.bytes
    );
}
