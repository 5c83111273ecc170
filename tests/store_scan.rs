//! SCAN through the public API while the tables change between steps: every key present for
//! the whole walk is returned at least once when tables grow (inserts mid-walk) or shrink
//! (deletes and `shrink_tables` mid-walk), and the command layer walks to cursor 0.

use std::collections::HashSet;
use std::sync::Arc;
use tinykv::command::{execute, Reply, Session};
use tinykv::store::*;

const D: Ns = Ns::DEFAULT;

fn store(shards: usize) -> Store {
    let config = Config {
        reaper_interval_ms: 0,
        shards,
        ..Config::default()
    };
    Store::with_clock(config, Arc::new(ManualClock::new(1_000_000))).unwrap()
}

fn fill(s: &Store, prefix: &str, range: std::ops::Range<usize>) {
    for i in range {
        let key = format!("{prefix}{i}");
        s.set(D, &key, Value::Int(i as i64), &SetOptions::default())
            .unwrap();
    }
}

/// Walks with `count`, calling `between(step)` after each step; every key returned.
fn walk(s: &Store, count: usize, mut between: impl FnMut(usize)) -> Vec<String> {
    let (mut cursor, mut out, mut step) = (0, Vec::new(), 0);
    loop {
        let (next, keys) = s.scan(D, cursor, None, count);
        out.extend(keys);
        if next == 0 {
            return out;
        }
        between(step);
        step += 1;
        cursor = next;
    }
}

fn assert_all_in(want: impl Iterator<Item = String>, got: &[String]) {
    let got: HashSet<&str> = got.iter().map(String::as_str).collect();
    for k in want {
        assert!(got.contains(k.as_str()), "{k} was never returned");
    }
}

#[test]
fn keys_present_throughout_are_returned_when_tables_grow_mid_walk() {
    for shards in [2, 64] {
        let s = store(shards);
        fill(&s, "k", 0..2_000);
        let got = walk(&s, 10, |step| {
            // Tables grow several times over during the walk.
            if step % 10 == 5 && step < 100 {
                fill(&s, &format!("new{step}-"), 0..2_000);
            }
        });
        assert_all_in((0..2_000).map(|i| format!("k{i}")), &got);
        let originals = got.iter().filter(|k| k.starts_with('k')).count();
        assert_eq!(originals, 2_000, "a grown table repeats nothing");
    }
}

#[test]
fn keys_present_throughout_are_returned_when_tables_shrink_mid_walk() {
    for shards in [2, 64] {
        let s = store(shards);
        fill(&s, "k", 0..20_000);
        let got = walk(&s, 25, |step| {
            if step == 20 {
                for i in 0..20_000 {
                    if i % 40 != 0 {
                        s.delete((D, &format!("k{i}")));
                    }
                }
                assert!(s.shrink_tables() > 0, "the tables shrank");
            }
        });
        assert_all_in((0..20_000).step_by(40).map(|i| format!("k{i}")), &got);
    }
}

#[test]
fn the_scan_command_walks_to_cursor_zero_with_match_and_count() {
    let s = store(64);
    fill(&s, "user:", 0..500);
    fill(&s, "order:", 0..500);
    let mut session = Session::default();
    let (mut cursor, mut found) = ("0".to_string(), Vec::new());
    let mut calls = 0;
    loop {
        let argv = ["SCAN", &cursor, "MATCH", "user:*", "COUNT", "7"];
        let Reply::Array(parts) = execute(&s, &mut session, &argv) else {
            panic!("not an array")
        };
        let [Reply::Bulk(next), Reply::Array(keys)] = &parts[..] else {
            panic!("{parts:?}")
        };
        for k in keys {
            let Reply::Bulk(k) = k else { panic!("{k:?}") };
            found.push(String::from_utf8(k.clone()).unwrap());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    found.sort();
    let mut want: Vec<String> = (0..500).map(|i| format!("user:{i}")).collect();
    want.sort();
    assert_eq!(found, want);
    assert!(calls >= 1000 / 14, "COUNT bounds each call: {calls} calls");
}
