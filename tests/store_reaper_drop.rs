//! The reaper thread stops and is joined when its store is dropped. Alone in its own test
//! binary so no other test's stores start or stop reaper threads meanwhile.
#![cfg(unix)] // Unix only: counts the reaper threads in /proc.

use std::time::{Duration, Instant};
use tinykv::store::{Config, Store};

fn reaper_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(std::result::Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "tinykv-reaper")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Poll until the count of reaper threads is `n` (threads name themselves once they run).
fn wait_for_reapers(n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = reaper_threads();
    while seen != n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        seen = reaper_threads();
    }
    seen
}

#[test]
fn dropping_the_store_stops_and_joins_the_reaper() {
    // A long interval: drop must wake the thread rather than wait the interval out.
    let before = reaper_threads();
    let stores: Vec<Store> = (0..4)
        .map(|_| {
            Store::new(Config {
                reaper_interval_ms: 60_000,
                ..Config::default()
            })
            .unwrap()
        })
        .collect();
    assert_eq!(wait_for_reapers(before + 4), before + 4);
    let started = Instant::now();
    drop(stores);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "drop waited out the interval"
    );
    // A joined thread's /proc entry can outlive the join by a moment: the kernel wakes the
    // joiner when the thread releases its memory, before it unlists the task.
    assert_eq!(
        wait_for_reapers(before),
        before,
        "join returned, so the threads are gone"
    );
}
