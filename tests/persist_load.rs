//! Loads that must change all or nothing: a 1,000,000-line JSONL file whose line 500,001 is bad
//! (five ways) changes 0 keys, in-process and through `tinykv import` into a daemon, and the
//! error names the line and the fault; loads under caps evict by the policy, and `noeviction`
//! refuses with nothing half-loaded (existing keys it replaced get their old values back);
//! `kv.load`'s conflict rules; the binary snapshot's round trip in-process on a manual clock.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use daemon_support::DaemonProcess;
use std::sync::Arc;
use tinykv::persist::{self, PersistError};
use tinykv::store::{Config, EvictionPolicy, ManualClock, OnConflict, Store, Ttl, Value};

const LINES: usize = 1_000_000;
const BAD: usize = 500_001;

/// A 1M-line JSONL file with `bad` as line 500,001.
fn file_with(bad: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(LINES * 40);
    for i in 1..=LINES {
        if i == BAD {
            out.extend_from_slice(bad.as_bytes());
        } else {
            out.extend_from_slice(format!("{{\"key\":\"k{i}\",\"value\":\"v{i}\"}}").as_bytes());
        }
        out.push(b'\n');
    }
    out
}

/// Line 500,001 broken five ways, with what the error must say.
fn bad_lines() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "bad JSON",
            "{\"key\":\"x\",\"value\":".into(),
            "EOF while parsing",
        ),
        (
            "missing key",
            "{\"value\":\"v\"}".into(),
            "missing field `key`",
        ),
        (
            "bad base64",
            "{\"key\":\"x\",\"value\":\"@@@\",\"encoding\":\"base64\"}".into(),
            "value is not valid base64",
        ),
        (
            "value over the limit",
            format!("{{\"key\":\"x\",\"value\":\"{}\"}}", "v".repeat(2048)),
            "value is 2048 bytes, larger than the limit of 1024 bytes",
        ),
        (
            "bad namespace name",
            "{\"key\":\"x\",\"value\":\"v\",\"ns\":\"has space\"}".into(),
            "namespace name must not contain spaces",
        ),
    ]
}

fn small_values() -> Config {
    Config {
        max_value_len: 1024,
        ..Config::default()
    }
}

#[test]
fn a_bad_line_in_a_million_changes_nothing_in_process() {
    let store = Store::new(small_values()).unwrap();
    let ns = store.namespace("default").unwrap();
    store
        .set(ns, "k1", Value::from("before"), &Default::default())
        .unwrap();
    for (what, bad, want) in bad_lines() {
        let file = file_with(&bad);
        let e = persist::load_bytes(&store, &file, OnConflict::Replace, None).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("line 500001: "), "{what}: {msg}");
        assert!(msg.contains(want), "{what}: {msg}");
        assert!(matches!(e, PersistError::Format(_) | PersistError::Load(_)));
        assert_eq!(store.total_len(), 1, "{what}: keys changed");
        assert_eq!(store.get(ns, "k1"), Some(Value::from("before")), "{what}");
    }
    // The same file with the line fixed loads whole.
    let good = file_with("{\"key\":\"fixed\",\"value\":\"ok\"}");
    let r = persist::load_bytes(&store, &good, OnConflict::Replace, None).unwrap();
    assert_eq!(r.loaded, LINES as u64);
    assert_eq!(store.total_len(), LINES);
}

#[test]
fn a_bad_line_in_a_million_changes_nothing_in_a_daemon() {
    let d = DaemonProcess::start(&["--max-bulk-len", "1kb"]);
    let mut c = d.client();
    assert_eq!(c.cmd(&["SET", "k1", "before"]), "+OK\r\n");
    let dir = tempfile::tempdir().unwrap();
    for (what, bad, want) in bad_lines() {
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, file_with(&bad)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tinykv"))
            .args([
                "import",
                path.to_str().unwrap(),
                "-p",
                &d.tcp.port().to_string(),
                "--replace",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(
            err.contains("line 500001: ") && err.contains(want),
            "{what}: {err}"
        );
        assert!(err.contains("nothing was loaded"), "{what}: {err}");
        assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n", "{what}");
        assert_eq!(c.cmd(&["GET", "k1"]), "$6\r\nbefore\r\n", "{what}");
    }
}

#[test]
fn noeviction_refuses_and_undoes_everything() {
    let store = Store::new(Config {
        max_entries: Some(100),
        eviction_policy: EvictionPolicy::NoEviction,
        ..Config::default()
    })
    .unwrap();
    let ns = store.namespace("default").unwrap();
    for i in 0..50 {
        store
            .set(
                ns,
                &format!("old{i}"),
                Value::from(format!("o{i}")),
                &Default::default(),
            )
            .unwrap();
    }
    store
        .set(
            ns,
            "shared",
            Value::from("mine"),
            &tinykv::SetOptions {
                ttl_ms: Some(60_000),
                ..Default::default()
            },
        )
        .unwrap();
    // 60 lines: one replaces `shared`, the rest are new; only 49 fit.
    let mut file = String::from("{\"key\":\"shared\",\"value\":\"theirs\"}\n");
    for i in 0..59 {
        file.push_str(&format!("{{\"key\":\"new{i}\",\"value\":\"n\"}}\n"));
    }
    let e = persist::load_bytes(&store, file.as_bytes(), OnConflict::Replace, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("noeviction") && msg.contains("nothing was loaded"),
        "{msg}"
    );
    assert!(msg.starts_with("line 51: "), "{msg}");
    assert_eq!(store.total_len(), 51);
    assert_eq!(store.get(ns, "shared"), Some(Value::from("mine")));
    assert!(matches!(store.ttl((ns, "shared")), Ttl::Remaining(ms) if ms > 50_000));
    assert!(store.get(ns, "new0").is_none());
}

#[test]
fn a_load_under_a_cap_evicts_by_the_policy() {
    let store = Store::new(Config {
        max_entries: Some(100),
        ..Config::default()
    })
    .unwrap();
    let mut file = String::new();
    for i in 0..250 {
        file.push_str(&format!("{{\"key\":\"k{i}\",\"value\":\"v\"}}\n"));
    }
    let r = persist::load_bytes(&store, file.as_bytes(), OnConflict::Replace, None).unwrap();
    assert_eq!((r.loaded, r.evicted), (250, 150));
    assert_eq!(store.total_len(), 100);
}

#[test]
fn conflicts_fail_skip_or_replace() {
    let store = Store::new(Config::default()).unwrap();
    let ns = store.namespace("default").unwrap();
    store
        .set(ns, "a", Value::from("mine"), &Default::default())
        .unwrap();
    let file = b"{\"key\":\"b\",\"value\":\"2\"}\n{\"key\":\"a\",\"value\":\"theirs\"}\n";
    let e = persist::load_bytes(&store, file, OnConflict::Fail, None).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("line 2: key \"a\" already exists"),
        "{e}"
    );
    assert_eq!(store.total_len(), 1);
    let r = persist::load_bytes(&store, file, OnConflict::Skip, None).unwrap();
    assert_eq!((r.loaded, r.existing), (1, 1));
    assert_eq!(store.get(ns, "a"), Some(Value::from("mine")));
    persist::load_bytes(&store, file, OnConflict::Replace, None).unwrap();
    assert_eq!(store.get(ns, "a"), Some(Value::from("theirs")));
}

#[test]
fn snapshot_round_trip_on_a_manual_clock_skips_what_expired() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let cfg = Config {
        reaper_interval_ms: 0,
        ..Config::default()
    };
    let a = Store::with_clock(cfg.clone(), clock.clone()).unwrap();
    let sessions = a.namespace("sessions").unwrap();
    let d = a.namespace("default").unwrap();
    let short = tinykv::SetOptions {
        ttl_ms: Some(500),
        ..Default::default()
    };
    let long = tinykv::SetOptions {
        ttl_ms: Some(50_000),
        ..Default::default()
    };
    a.set(d, "short", Value::from("s"), &short).unwrap();
    a.set(sessions, "long", Value::Int(7), &long).unwrap();
    a.set(
        d,
        &[0xffu8, 0][..],
        Value::Bytes(vec![0, 1]),
        &Default::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.snap");
    let saved = persist::save(&a, &path).unwrap();
    assert_eq!(saved.entries, 3);
    clock.advance(1_000);
    let b = Store::with_clock(cfg, clock.clone()).unwrap();
    let s = persist::load(&b, &path, OnConflict::Fail).unwrap();
    assert_eq!((s.report.loaded, s.report.expired), (2, 1));
    let bs = b.namespace("sessions").unwrap();
    assert_eq!(b.get(bs, "long"), Some(Value::Int(7)));
    assert_eq!(b.ttl((bs, "long")), Ttl::Remaining(49_000));
    assert_eq!(
        b.get(b.namespace("default").unwrap(), &[0xffu8, 0][..]),
        Some(Value::Bytes(vec![0, 1]))
    );
}
