//! The store's public API on a manual clock: values, options, TTLs, namespaces, limits, stats.

use std::sync::Arc;
use tinykv::store::*;

fn store() -> (Store, Arc<ManualClock>) {
    store_with(Config::default())
}

fn store_with(config: Config) -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = Config {
        reaper_interval_ms: 0,
        ..config
    };
    (Store::with_clock(config, clock.clone()).unwrap(), clock)
}

fn b(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

const D: Ns = Ns::DEFAULT;

#[test]
fn set_get_delete_and_binary_values() {
    let (s, _) = store();
    assert_eq!(s.get(D, "k"), None);
    assert!(
        s.set(D, "k", b("v"), &SetOptions::default())
            .unwrap()
            .written
    );
    assert_eq!(s.get(D, "k"), Some(b("v")));
    let bin = Value::Bytes(vec![0, 255, 10, 13]);
    s.set(D, "bin", bin.clone(), &SetOptions::default())
        .unwrap();
    assert_eq!(s.get(D, "bin"), Some(bin));
    assert!(s.delete((D, "k")));
    assert!(!s.delete((D, "k")));
    assert_eq!(s.get(D, "k"), None);
    assert_eq!(s.total_len(), 1);
}

#[test]
fn nx_xx_get_and_keepttl() {
    let (s, clock) = store();
    let nx = SetOptions {
        nx: true,
        get: true,
        ..SetOptions::default()
    };
    let xx = SetOptions {
        xx: true,
        ..SetOptions::default()
    };
    assert!(!s.set(D, "a", b("1"), &xx).unwrap().written);
    assert_eq!(s.get(D, "a"), None);
    assert_eq!(
        s.set(D, "a", b("1"), &nx).unwrap(),
        SetOutcome {
            written: true,
            previous: None
        }
    );
    assert_eq!(
        s.set(D, "a", b("2"), &nx).unwrap(),
        SetOutcome {
            written: false,
            previous: Some(b("1"))
        }
    );
    assert!(s.set(D, "a", b("3"), &xx).unwrap().written);
    assert_eq!(s.get(D, "a"), Some(b("3")));
    let ttl = SetOptions {
        ttl_ms: Some(1000),
        ..SetOptions::default()
    };
    s.set(D, "a", b("4"), &ttl).unwrap();
    clock.advance(400);
    let keep = SetOptions {
        keep_ttl: true,
        ..SetOptions::default()
    };
    s.set(D, "a", b("5"), &keep).unwrap();
    assert_eq!(s.ttl((D, "a")), Ttl::Remaining(600));
    s.set(D, "a", b("6"), &SetOptions::default()).unwrap();
    assert_eq!(s.ttl((D, "a")), Ttl::Persistent);
    let zero = SetOptions {
        ttl_ms: Some(0),
        ..SetOptions::default()
    };
    let err = s.set(D, "a", b("7"), &zero).unwrap_err();
    assert!(err
        .to_string()
        .contains("ttl must be a positive number of milliseconds"));
    assert_eq!(
        s.get(D, "a"),
        Some(b("6")),
        "a rejected write changes nothing"
    );
}

#[test]
fn overwrites_that_change_the_value_size() {
    // A size change moves the entry to a new allocation (the one set built before its lookup):
    // the TTL rules, the previous value and the byte count must come out as for an in-place write.
    let (s, clock) = store();
    let entry = |v: &str| alloc_size(ENTRY_HEADER + 2 + 1 + v.len()) as u64;
    let timed = |v: &str| alloc_size(EXPIRY_WORD + ENTRY_HEADER + 2 + 1 + v.len()) as u64;
    let used = |s: &Store| s.stats().bytes - s.stats().table_bytes;
    let ttl = |ms| SetOptions {
        ttl_ms: Some(ms),
        ..SetOptions::default()
    };
    s.set(D, "k", b("short"), &ttl(1000)).unwrap();
    clock.advance(400);
    let long = "x".repeat(300);
    let keep = SetOptions {
        keep_ttl: true,
        get: true,
        ..SetOptions::default()
    };
    let out = s.set(D, "k", b(&long), &keep).unwrap();
    assert_eq!((out.written, out.previous), (true, Some(b("short"))));
    assert_eq!(s.get(D, "k"), Some(b(&long)));
    assert_eq!(
        s.ttl((D, "k")),
        Ttl::Remaining(600),
        "KEEPTTL survives the move"
    );
    assert_eq!(used(&s), timed(&long));
    s.set(D, "k", b("tiny"), &SetOptions::default()).unwrap();
    assert_eq!(s.get(D, "k"), Some(b("tiny")));
    assert_eq!(s.ttl((D, "k")), Ttl::Persistent);
    assert_eq!(used(&s), entry("tiny"));
    let mid = "y".repeat(50);
    s.set(D, "k", b(&mid), &ttl(200)).unwrap();
    assert_eq!(
        (s.get(D, "k"), s.ttl((D, "k"))),
        (Some(b(&mid)), Ttl::Remaining(200))
    );
    let nx = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    assert!(!s.set(D, "k", b("other size"), &nx).unwrap().written);
    assert_eq!(s.get(D, "k"), Some(b(&mid)), "NX left the value alone");
    assert_eq!(used(&s), timed(&mid));
    // Past its TTL the old entry is expired, not overwritten: a fresh entry with no TTL.
    clock.advance(201);
    s.set(D, "k", b("after"), &SetOptions::default()).unwrap();
    assert_eq!(
        (s.get(D, "k"), s.ttl((D, "k"))),
        (Some(b("after")), Ttl::Persistent)
    );
    let st = s.stats();
    assert_eq!((st.keys, st.expired, st.sets), (1, 1, 5));
    assert_eq!(used(&s), entry("after"));
}

#[test]
fn a_ttl_costs_the_entry_its_expiry_word() {
    // An entry keeps its expiry in a word of its own only while it has a TTL: setting one
    // grows the entry by that word and removing it shrinks the entry back.
    let (s, _) = store();
    let size = |v: usize, timed: bool| {
        alloc_size(usize::from(timed) * EXPIRY_WORD + ENTRY_HEADER + 2 + 1 + v) as u64
    };
    let used = |s: &Store| {
        let st = s.stats();
        let ns: u64 = st.namespaces.iter().map(|n| n.bytes).sum();
        assert_eq!(
            ns,
            st.bytes - st.table_bytes,
            "namespaces add up to the entries"
        );
        ns
    };
    // Entries of 24-byte values (43 bytes) and counters (27): both grow into a bigger block.
    let value = "v".repeat(24);
    s.set(D, "k", b(&value), &SetOptions::default()).unwrap();
    assert_eq!(used(&s), size(24, false));
    assert!(s.expire((D, "k"), 1000));
    assert_eq!(
        (used(&s), s.ttl((D, "k"))),
        (size(24, true), Ttl::Remaining(1000))
    );
    assert!(s.expire((D, "k"), 2000), "a new TTL is written in place");
    assert_eq!(
        (used(&s), s.ttl((D, "k"))),
        (size(24, true), Ttl::Remaining(2000))
    );
    s.incr_by((D, "n"), 1).unwrap();
    assert!(s.expire((D, "n"), 500));
    assert_eq!(s.incr_by((D, "n"), 41).unwrap(), 42);
    assert_eq!(s.ttl((D, "n")), Ttl::Remaining(500), "INCR keeps the TTL");
    assert_eq!(used(&s), size(24, true) + size(8, true));
    assert!(s.persist((D, "k")));
    assert_eq!(
        (s.get(D, "k"), s.ttl((D, "k"))),
        (Some(b(&value)), Ttl::Persistent)
    );
    assert_eq!(used(&s), size(24, false) + size(8, true));
    assert!(!s.persist((D, "k")), "no TTL left to remove");
    assert_eq!(s.stats().keys, 2);
}

// Unix only: the word needs room only with the slab's 8-byte size classes; elsewhere an entry is
// a malloc chunk rounded to 16 bytes, whose padding may already hold it.
#[cfg(unix)]
#[test]
fn expire_at_the_byte_cap_evicts_for_its_word_or_runs_over() {
    // Two entries fill the cap exactly, so the 8 bytes a new TTL needs are not there.
    // Values of 24 bytes: entries of 43 and 51 bytes, in blocks of 48 and 56.
    let (va, vb) = ("a".repeat(24), "b".repeat(24));
    // Both writes, or None if the store refused one.
    let fill = |s: &Store| -> Option<()> {
        s.set(D, "a", b(&va), &SetOptions::default()).ok()?;
        s.set(D, "b", b(&vb), &SetOptions::default()).ok()?;
        Some(())
    };
    let build = |cap: Option<u64>, policy| {
        let (s, _) = store_with(Config {
            max_memory: cap,
            eviction_policy: policy,
            ..Config::default()
        });
        fill(&s).map(|()| s)
    };
    // A store holding both keys, with its bytes: None if a write was refused or evicted.
    let full = |cap: Option<u64>, policy| build(cap, policy).filter(|s| s.stats().keys == 2);
    // Each store hashes with its own seed, so the two keys share a shard table in some stores
    // and not in others, and the bytes differ a little from store to store. The cap is the
    // bytes of the common layout: the most frequent over a few stores.
    let common = |f: &dyn Fn() -> Option<u64>| -> u64 {
        let mut seen: Vec<u64> = (0..32).filter_map(|_| f()).collect();
        seen.sort_unstable();
        let mut best = (0, 0);
        for run in seen.chunk_by(|a, b| a == b) {
            if run.len() > best.1 {
                best = (run[0], run.len());
            }
        }
        assert!(best.1 > 0, "no store took both keys");
        best.0
    };
    // A capped store sizes its tables by the cap, so the cap that two entries fill exactly is
    // found by trying: start from an uncapped store's bytes and take what a capped one used.
    let mut cap = common(&|| full(None, EvictionPolicy::Lru).map(|s| s.stats().bytes));
    for _ in 0..4 {
        cap = common(&|| full(Some(cap), EvictionPolicy::Lru).map(|s| s.stats().bytes));
    }
    // A store of that layout, full to the byte.
    let capped = |policy| {
        (0..200)
            .find_map(|_| full(Some(cap), policy).filter(|s| s.stats().bytes == cap))
            .expect("a store full to the byte")
    };
    // LRU makes room by evicting the least recently used other key.
    let s = capped(EvictionPolicy::Lru);
    s.get(D, "a");
    assert!(s.expire((D, "a"), 1000));
    assert_eq!(s.ttl((D, "a")), Ttl::Remaining(1000));
    assert_eq!((s.exists((D, "b")), s.stats().evicted), (false, 1));
    assert!(s.stats().bytes <= cap);
    // With nothing it may evict, EXPIRE still applies (Redis never refuses it) and the store
    // runs over its cap by the word until something is freed; writes are refused meanwhile.
    let s = capped(EvictionPolicy::NoEviction);
    assert!(s.expire((D, "a"), 1000));
    assert_eq!(s.ttl((D, "a")), Ttl::Remaining(1000));
    assert_eq!(s.stats().bytes, cap + EXPIRY_WORD as u64);
    assert!(matches!(
        s.set(D, "c", b("3"), &SetOptions::default()),
        Err(Error::OutOfMemory)
    ));
    assert!(s.persist((D, "a")));
    assert_eq!(s.stats().bytes, cap);
    assert_eq!((s.get(D, "a"), s.get(D, "b")), (Some(b(&va)), Some(b(&vb))));
}

#[test]
fn ttls_on_a_manual_clock() {
    let (s, clock) = store();
    let ttl = SetOptions {
        ttl_ms: Some(1000),
        ..SetOptions::default()
    };
    s.set(D, "t", b("v"), &ttl).unwrap();
    assert_eq!(s.ttl((D, "t")), Ttl::Remaining(1000));
    assert_eq!(s.ttl((D, "nope")), Ttl::Missing);
    clock.advance(1000);
    assert_eq!(s.get(D, "t"), Some(b("v")), "alive at its expiry time");
    assert_eq!(s.ttl((D, "t")), Ttl::Remaining(0));
    clock.advance(1);
    assert_eq!(s.get(D, "t"), None, "gone 1 ms after its expiry time");
    assert!(!s.exists((D, "t")));
    assert_eq!(s.stats().expired, 1);
    s.set(D, "p", b("v"), &SetOptions::default()).unwrap();
    assert!(s.expire((D, "p"), 50));
    assert_eq!(s.ttl((D, "p")), Ttl::Remaining(50));
    assert!(s.persist((D, "p")));
    assert!(!s.persist((D, "p")));
    clock.advance(100);
    assert_eq!(s.get(D, "p"), Some(b("v")));
    assert!(!s.expire((D, "missing"), 10));
    let at = s.now_ms() + 10;
    assert!(s.expire_at((D, "p"), at));
    assert!(s.expire_at((D, "p"), s.now_ms()), "a past time deletes");
    assert!(!s.exists((D, "p")));
}

/// getOrSet's one-lookup hit under a `staleTtl`: `fresh` sees the remaining TTL, and only an
/// accepted read touches the entry or counts; everything else is left to the slow path.
#[test]
fn get_fresh_with_reads_only_what_fresh_accepts() {
    let (s, clock) = store();
    let ttl = SetOptions {
        ttl_ms: Some(1000),
        ..SetOptions::default()
    };
    s.set(D, "t", b("v"), &ttl).unwrap();
    s.set(D, "p", b("w"), &SetOptions::default()).unwrap();
    let before = s.stats();
    let copy = |v: ValueRef<'_>| v.to_owned();
    let mut seen = Vec::new();
    let mut over = |limit: u64| {
        let mut got = None;
        let r = s.get_fresh_with(
            (D, "t"),
            |rem| {
                got = Some(rem);
                rem.is_none_or(|r| r > limit)
            },
            copy,
        );
        seen.push(got);
        r
    };
    assert_eq!(over(999), Some(b("v")));
    assert_eq!(over(1000), None, "1000 ms left is not more than 1000");
    clock.advance(400);
    assert_eq!(over(599), Some(b("v")));
    assert_eq!(over(600), None);
    assert_eq!(
        seen,
        [
            Some(Some(1000)),
            Some(Some(1000)),
            Some(Some(600)),
            Some(Some(600))
        ]
    );
    let no_ttl = s.get_fresh_with((D, "p"), |rem| rem.is_none(), copy);
    assert_eq!(no_ttl, Some(b("w")), "a key with no TTL shows None");
    let mut called = false;
    let missing = s.get_fresh_with(
        (D, "nope"),
        |_| {
            called = true;
            true
        },
        copy,
    );
    assert_eq!(missing, None);
    assert!(!called, "a missing key asks nothing");
    clock.advance(601);
    let expired = s.get_fresh_with((D, "t"), |_| true, copy);
    assert_eq!(expired, None, "expired 1 ms past its time");
    let after = s.stats();
    assert_eq!(after.hits - before.hits, 3, "only the accepted reads count");
    assert_eq!(after.misses, before.misses, "the slow path counts the rest");
}

/// Every path that tests expiry agrees with Redis (`now > at`): at == now the key is alive,
/// at now = at + 1 it is gone. One key per path, all expiring at the same instant.
#[test]
fn expiry_edges_match_redis_on_every_path() {
    let (s, clock) = store();
    let at = s.now_ms() + 100;
    let opts = SetOptions {
        expire_at_ms: Some(at),
        ..SetOptions::default()
    };
    let names = [
        "get", "exists", "ttl", "mget", "keys", "scan", "incr", "append", "persist", "expire",
        "set_nx", "set_xx", "info", "take", "rename", "reap",
    ];
    let fill = |s: &Store| {
        for k in names {
            s.set(D, k, Value::Bytes(b"1".to_vec()), &opts).unwrap();
        }
    };
    fill(&s);
    clock.set(at);
    // Each probe answers "alive?" and may change the key (the key is re-set between rounds).
    let probe = |s: &Store, k: &str| -> bool {
        let nx = SetOptions {
            nx: true,
            get: true,
            ..SetOptions::default()
        };
        let xx = SetOptions {
            xx: true,
            ..SetOptions::default()
        };
        match k {
            "get" => s.get(D, k).is_some(),
            "exists" => s.exists((D, k)),
            "ttl" => s.ttl((D, k)) != Ttl::Missing,
            "mget" => s.mget(D, &[k])[0].is_some(),
            "keys" => s.keys(D, k) == vec![k.to_string()],
            "scan" => {
                let (_, found) = s.scan(D, 0, Some(k), 1000);
                found == vec![k.to_string()]
            }
            "incr" => s.incr_by((D, k), 1).unwrap() == 2,
            "append" => s.append(D, k, b"x").unwrap() == 2,
            "persist" => s.persist((D, k)),
            "expire" => s.expire((D, k), 10_000),
            "set_nx" => s.set(D, k, b("2"), &nx).unwrap().previous.is_some(),
            "set_xx" => s.set(D, k, b("2"), &xx).unwrap().written,
            "info" => s.info(D, k).is_some(),
            "take" => s.take(D, k).is_some(),
            "rename" => s.rename(D, k, "renamed").unwrap(),
            "reap" => {
                s.reap_expired();
                s.get_with((D, k), |_| ()).is_some()
            }
            _ => unreachable!(),
        }
    };
    for k in names {
        assert!(probe(&s, k), "{k}: alive at now == at");
    }
    s.flush_all();
    fill(&s);
    clock.set(at + 1);
    for k in names {
        assert!(!probe(&s, k), "{k}: gone at now == at + 1");
    }
    // EXPIREAT to the current instant deletes at once, as Redis's checkAlreadyExpired does.
    s.set(D, "e", b("v"), &SetOptions::default()).unwrap();
    assert!(s.expire_at((D, "e"), s.now_ms()));
    assert!(!s.exists((D, "e")));
}

/// A clock that can be stepped either way, as the wall clock can.
#[derive(Debug)]
struct Wall(std::sync::atomic::AtomicU64);

impl Clock for Wall {
    fn now_ms(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The store reads time as Redis does, from the wall clock, which may be stepped: absolute
/// expiries fire when the clock passes them, and a step backwards breaks nothing (TTLs grow,
/// idle times stay at 0, stamps keep increasing).
#[test]
fn wall_clock_steps_move_expiries_with_them() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = Arc::new(Wall(std::sync::atomic::AtomicU64::new(10_000_000)));
    let config = Config {
        reaper_interval_ms: 0,
        ..Config::default()
    };
    let s = Store::with_clock(config, clock.clone()).unwrap();
    let at = |ms| SetOptions {
        expire_at_ms: Some(ms),
        ..SetOptions::default()
    };
    s.set(D, "abs", b("v"), &at(10_000_100)).unwrap();
    s.set(
        D,
        "rel",
        b("v"),
        &SetOptions {
            ttl_ms: Some(100),
            ..SetOptions::default()
        },
    )
    .unwrap();
    s.set(D, "plain", b("v"), &SetOptions::default()).unwrap();
    // Stepped back an hour: nothing expires, TTLs grow by the step, reads keep working.
    clock.0.store(10_000_000 - 3_600_000, SeqCst);
    assert_eq!(s.ttl((D, "abs")), Ttl::Remaining(3_600_100));
    assert_eq!(s.get(D, "rel"), Some(b("v")));
    assert_eq!(s.info(D, "plain").map(|i| i.idle_ms), Some(0));
    s.set(D, "later", b("v"), &SetOptions::default()).unwrap();
    assert_eq!(s.incr_by((D, "n"), 1), Ok(1));
    // Stepped forward past the expiry: both TTL keys are gone at once, as in Redis.
    clock.0.store(10_000_101, SeqCst);
    assert_eq!((s.get(D, "abs"), s.get(D, "rel")), (None, None));
    assert_eq!(s.get(D, "plain"), Some(b("v")));
    assert_eq!(s.reap_expired(), 0, "already removed by the reads");
}

#[test]
fn default_ttl_applies_to_new_entries() {
    let (s, clock) = store_with(Config {
        default_ttl_ms: Some(100),
        ..Config::default()
    });
    s.set(D, "a", b("1"), &SetOptions::default()).unwrap();
    s.incr_by((D, "n"), 1).unwrap();
    assert_eq!(s.ttl((D, "a")), Ttl::Remaining(100));
    assert_eq!(s.ttl((D, "n")), Ttl::Remaining(100));
    clock.advance(101);
    assert_eq!(s.get(D, "a"), None);
    assert_eq!(
        s.incr_by((D, "n"), 5).unwrap(),
        5,
        "an expired counter restarts"
    );
}

#[test]
fn counters() {
    let (s, _) = store();
    assert_eq!(s.incr_by((D, "c"), 1).unwrap(), 1);
    assert_eq!(s.incr_by((D, "c"), -3).unwrap(), -2);
    s.set(D, "text", b("12"), &SetOptions::default()).unwrap();
    assert_eq!(s.incr_by((D, "text"), 1).unwrap(), 13);
    assert_eq!(s.get(D, "text"), Some(Value::Int(13)));
    s.set(D, "bad", b("1x"), &SetOptions::default()).unwrap();
    assert_eq!(s.incr_by((D, "bad"), 1).unwrap_err(), Error::NotInteger);
    s.set(D, "max", Value::Int(i64::MAX), &SetOptions::default())
        .unwrap();
    assert_eq!(s.incr_by((D, "max"), 1).unwrap_err(), Error::Overflow);
    assert_eq!(s.get(D, "max"), Some(Value::Int(i64::MAX)));
}

#[test]
fn batches_keys_and_scan() {
    let (s, _) = store();
    let entries: Vec<(String, Value)> = (0..50).map(|i| (format!("user:{i}"), b("x"))).collect();
    let refs: Vec<(&str, ValueRef<'_>)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.view()))
        .collect();
    s.mset(D, &refs, &SetOptions::default()).unwrap();
    s.set(D, "other", b("y"), &SetOptions::default()).unwrap();
    assert_eq!(
        s.mget(D, &["user:1", "nope", "other"]),
        vec![Some(b("x")), None, Some(b("y"))]
    );
    let mut keys = s.keys(D, "user:1*");
    keys.sort();
    assert_eq!(keys.len(), 11);
    assert_eq!(keys[0], "user:1");
    let (mut cursor, mut seen) = (0, Vec::new());
    loop {
        let (next, batch) = s.scan(D, cursor, Some("user:*"), 7);
        // About COUNT: a step ends after the bucket that reaches it, whose keys all come
        // together (as in Redis).
        assert!(batch.len() <= 14, "{}", batch.len());
        seen.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50);
}

#[test]
fn namespaces_are_isolated() {
    let (s, _) = store();
    let a = s.namespace("a").unwrap();
    let bns = s.namespace("b").unwrap();
    assert_eq!(s.namespace("a").unwrap(), a);
    assert_eq!(s.namespace_name(bns), "b");
    s.set(a, "k", b("in a"), &SetOptions::default()).unwrap();
    s.set(bns, "k", b("in b"), &SetOptions::default()).unwrap();
    s.set(bns, "k2", b("in b"), &SetOptions::default()).unwrap();
    assert_eq!(s.get(a, "k"), Some(b("in a")));
    assert_eq!(s.get(D, "k"), None);
    assert_eq!((s.len(a), s.len(bns), s.total_len()), (1, 2, 3));
    assert_eq!(s.keys(a, "*"), vec!["k".to_string()]);
    let names: Vec<(String, u64)> = s
        .stats()
        .namespaces
        .into_iter()
        .map(|n| (n.name, n.keys))
        .collect();
    assert_eq!(names, vec![("a".into(), 1), ("b".into(), 2)]);
    assert_eq!(s.flush(bns), 2);
    assert_eq!((s.len(a), s.len(bns)), (1, 0));
    assert_eq!(s.flush_all(), 1);
    assert_eq!(s.total_len(), 0);
    assert!(s.namespace("").is_err());
}

#[test]
fn size_limits_are_enforced_with_clear_errors() {
    let (s, _) = store_with(Config {
        max_key_len: 8,
        max_value_len: 4,
        ..Config::default()
    });
    let e = s
        .set(D, "123456789", b("v"), &SetOptions::default())
        .unwrap_err();
    assert_eq!(e, Error::KeyTooLarge { len: 9, max: 8 });
    assert!(e.to_string().contains("larger than the limit of 8 bytes"));
    let e = s
        .set(D, "k", b("12345"), &SetOptions::default())
        .unwrap_err();
    assert_eq!(e, Error::ValueTooLarge { len: 5, max: 4 });
    s.set(D, "k", b("1234"), &SetOptions::default()).unwrap();
    assert!(matches!(
        s.append(D, "k", b"5"),
        Err(Error::ValueTooLarge { .. })
    ));
    assert_eq!(s.get(D, "k"), Some(b("1234")));
    assert!(Store::new(Config {
        max_entries: Some(0),
        ..Config::default()
    })
    .is_err());
}

#[test]
fn entry_cap_evicts_least_recently_used() {
    let config = Config {
        max_entries: Some(3),
        eviction_samples: 64,
        ..Config::default()
    };
    let (s, _) = store_with(config);
    for k in ["a", "b", "c"] {
        s.set(D, k, b(k), &SetOptions::default()).unwrap();
    }
    s.get(D, "a");
    s.set(D, "d", b("d"), &SetOptions::default()).unwrap();
    assert_eq!(s.total_len(), 3);
    assert_eq!(s.get(D, "b"), None, "b was least recently used");
    assert!(s.exists((D, "a")) && s.exists((D, "c")) && s.exists((D, "d")));
    assert_eq!(s.stats().evicted, 1);
}

#[test]
fn noeviction_refuses_writes_but_serves_reads() {
    let config = Config {
        max_entries: Some(2),
        eviction_policy: EvictionPolicy::NoEviction,
        ..Config::default()
    };
    let (s, _) = store_with(config);
    s.set(D, "a", b("1"), &SetOptions::default()).unwrap();
    s.set(D, "b", b("2"), &SetOptions::default()).unwrap();
    let e = s.set(D, "c", b("3"), &SetOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "OOM command not allowed when used memory > 'maxmemory'."
    );
    assert_eq!(s.get(D, "a"), Some(b("1")));
    s.set(D, "a", b("updated"), &SetOptions::default()).unwrap();
    assert_eq!(s.total_len(), 2);
}

#[test]
fn stats_count_every_event() {
    let (s, clock) = store();
    s.set(D, "a", b("12345"), &SetOptions::default()).unwrap();
    s.set(
        D,
        "t",
        b("x"),
        &SetOptions {
            ttl_ms: Some(10),
            ..SetOptions::default()
        },
    )
    .unwrap();
    s.get(D, "a");
    s.get(D, "a");
    s.get(D, "nope");
    s.delete((D, "a"));
    clock.advance(11);
    assert_eq!(s.reap_expired(), 1);
    let st = s.stats();
    assert_eq!(
        (st.hits, st.misses, st.sets, st.deletes, st.expired),
        (2, 1, 2, 1, 1)
    );
    assert_eq!(st.keys, 0);
    assert_eq!(st.bytes, st.table_bytes, "only the table is left");
    s.set(D, "k", b("value"), &SetOptions::default()).unwrap();
    let st = s.stats();
    assert_eq!(
        st.bytes - st.table_bytes,
        alloc_size(ENTRY_HEADER + 2 + 1 + 5) as u64
    );
    let info = s.info(D, "k").unwrap();
    assert_eq!(info.size, alloc_size(ENTRY_HEADER + 2 + 1 + 5) as u64);
    assert!((s.stats().hit_ratio() - 2.0 / 3.0).abs() < 1e-9);
}

#[test]
fn byte_cap_holds_and_counts_the_table() {
    let cap = 4_096;
    let (s, _) = store_with(Config {
        max_memory: Some(cap),
        shards: 2,
        ..Config::default()
    });
    for i in 0..100 {
        s.set(
            D,
            &format!("k{i:03}"),
            Value::Bytes(vec![b'x'; 10]),
            &SetOptions::default(),
        )
        .unwrap();
        let st = s.stats();
        assert!(st.bytes <= cap, "{} > {cap}", st.bytes);
        let entries = st.keys * alloc_size(ENTRY_HEADER + 2 + 4 + 10) as u64;
        assert_eq!(
            st.bytes,
            st.table_bytes + entries,
            "bytes = table + allocations"
        );
    }
    assert!(s.total_len() > 10 && s.stats().evicted > 0);
    let huge = Value::Bytes(vec![0; cap as usize]);
    assert_eq!(
        s.set(D, "huge", huge, &SetOptions::default()).unwrap_err(),
        Error::OutOfMemory
    );
}

#[test]
fn info_reports_idle_time_frequency_and_ttl() {
    let (s, clock) = store();
    s.set(
        D,
        "k",
        b("v"),
        &SetOptions {
            ttl_ms: Some(10_000),
            ..SetOptions::default()
        },
    )
    .unwrap();
    s.set(D, "n", Value::Int(7), &SetOptions::default())
        .unwrap();
    clock.advance(1_500);
    let i = s.info(D, "k").unwrap();
    assert_eq!(
        (i.idle_ms, i.ttl, i.is_int),
        (1_500, Ttl::Remaining(8_500), false)
    );
    assert_eq!(i.frequency, 5, "new entries start at Redis's LFU_INIT_VAL");
    assert!(s.info(D, "n").unwrap().is_int);
    for _ in 0..200 {
        s.get(D, "k");
    }
    let i = s.info(D, "k").unwrap();
    assert_eq!(i.idle_ms, 0);
    assert!(i.frequency > 5, "reads raise the counter: {}", i.frequency);
    clock.advance(10 * 60_000);
    assert_eq!(s.info(D, "k"), None, "expired");
    assert!(
        s.info(D, "n").unwrap().frequency < 5,
        "the counter decays with idle minutes"
    );
    assert_eq!(s.info(D, "missing"), None);
}

#[test]
fn lfu_keeps_frequent_entries_over_recent_ones() {
    let config = Config {
        max_entries: Some(3),
        eviction_samples: 64,
        eviction_policy: EvictionPolicy::Lfu,
        ..Config::default()
    };
    let (s, _) = store_with(config);
    for k in ["hot", "warm", "cold"] {
        s.set(D, k, b(k), &SetOptions::default()).unwrap();
    }
    for _ in 0..500 {
        s.get(D, "hot");
        s.get(D, "warm");
    }
    s.get(D, "cold");
    s.set(D, "new", b("n"), &SetOptions::default()).unwrap();
    assert_eq!(
        s.get(D, "cold"),
        None,
        "least frequently used goes first even though recent"
    );
    assert!(s.exists((D, "hot")) && s.exists((D, "warm")) && s.exists((D, "new")));
}

#[test]
fn volatile_ttl_evicts_the_soonest_expiry_and_spares_persistent_keys() {
    let config = Config {
        max_entries: Some(3),
        eviction_samples: 64,
        eviction_policy: EvictionPolicy::VolatileTtl,
        ..Config::default()
    };
    let (s, _) = store_with(config);
    s.set(D, "forever", b("1"), &SetOptions::default()).unwrap();
    s.set(
        D,
        "late",
        b("2"),
        &SetOptions {
            ttl_ms: Some(60_000),
            ..SetOptions::default()
        },
    )
    .unwrap();
    s.set(
        D,
        "soon",
        b("3"),
        &SetOptions {
            ttl_ms: Some(1_000),
            ..SetOptions::default()
        },
    )
    .unwrap();
    s.set(D, "x", b("4"), &SetOptions::default()).unwrap();
    assert_eq!(s.get(D, "soon"), None);
    s.set(D, "y", b("5"), &SetOptions::default()).unwrap();
    assert_eq!(s.get(D, "late"), None);
    assert_eq!(
        s.set(D, "z", b("6"), &SetOptions::default()).unwrap_err(),
        Error::OutOfMemory,
        "no entry has a TTL"
    );
    assert!(s.exists((D, "forever")) && s.exists((D, "x")) && s.exists((D, "y")));
}

#[test]
fn volatile_ttl_finds_rare_ttl_keys() {
    // One key in ten has a TTL: sampling must still find one rather than refuse the write.
    for _ in 0..20 {
        let config = Config {
            max_entries: Some(200),
            eviction_policy: EvictionPolicy::VolatileTtl,
            ..Config::default()
        };
        let (s, _) = store_with(config);
        let ttl = SetOptions {
            ttl_ms: Some(60_000),
            ..SetOptions::default()
        };
        for i in 0..200 {
            let opts = if i % 10 == 0 {
                ttl.clone()
            } else {
                SetOptions::default()
            };
            s.set(D, &format!("k{i}"), b("v"), &opts).unwrap();
        }
        for i in 0..20 {
            s.set(D, &format!("new{i}"), b("v"), &SetOptions::default())
                .unwrap();
        }
        assert_eq!(s.stats().evicted, 20);
        assert!(
            (0..200)
                .filter(|i| i % 10 != 0)
                .all(|i| s.exists((D, &format!("k{i}")))),
            "persistent keys kept"
        );
    }
}

#[test]
fn policies_parse_by_short_and_redis_names() {
    for (name, p) in [
        ("lru", EvictionPolicy::Lru),
        ("allkeys-lfu", EvictionPolicy::Lfu),
        ("volatile-ttl", EvictionPolicy::VolatileTtl),
        ("NOEVICTION", EvictionPolicy::NoEviction),
    ] {
        assert_eq!(name.parse::<EvictionPolicy>().unwrap(), p);
    }
    assert!("random"
        .parse::<EvictionPolicy>()
        .unwrap_err()
        .to_string()
        .contains("expected lru, lfu"));
}

#[test]
fn a_flush_frees_the_tables_it_empties() {
    let (s, _) = store();
    let other = s.namespace("other").unwrap();
    for i in 0..10_000 {
        s.set(D, &format!("k{i}"), Value::Int(i), &SetOptions::default())
            .unwrap();
    }
    s.set(other, "kept", b("v"), &SetOptions::default())
        .unwrap();
    let full = s.stats();
    assert!(full.table_bytes > 10_000 * 8, "{}", full.table_bytes);
    // Flushing one namespace frees every table it empties; the shard holding `kept` keeps its.
    assert_eq!(s.flush(D), 10_000);
    let st = s.stats();
    assert_eq!(st.keys, 1);
    assert!(
        st.table_bytes > 0 && st.table_bytes < full.table_bytes / 32,
        "{}",
        st.table_bytes
    );
    assert_eq!(
        st.bytes,
        st.table_bytes + alloc_size(ENTRY_HEADER + 2 + 4 + 1) as u64
    );
    assert_eq!(s.get(other, "kept"), Some(b("v")));
    assert_eq!(s.flush_all(), 1);
    assert_eq!(
        (s.stats().bytes, s.stats().table_bytes),
        (0, 0),
        "a cleared store holds nothing"
    );
    // The store works as before: shards get new tables on their next insert.
    s.set(D, "again", b("x"), &SetOptions::default()).unwrap();
    assert_eq!(s.get(D, "again"), Some(b("x")));
    assert!(s.stats().table_bytes > 0);
}

/// hashbrown's bytes for a table of `buckets` (slots, control bytes, one trailing group).
fn table_bytes_of(buckets: usize) -> usize {
    ((buckets * 8 + 15) & !15) + buckets + 16
}

#[test]
fn tables_left_sparse_by_deletes_shrink_and_keep_every_key() {
    let (s, _) = store();
    let per = |i: u64| alloc_size(ENTRY_HEADER + 2 + format!("k{i}").len() + 8) as u64;
    for i in 0..100_000 {
        s.set(D, &format!("k{i}"), Value::Int(i), &SetOptions::default())
            .unwrap();
    }
    let full = s.stats();
    assert_eq!(s.shrink_tables(), 0, "a full store has nothing to shrink");
    assert_eq!(s.stats().table_bytes, full.table_bytes);
    // Delete 99 keys in 100: every table drops under a tenth full.
    for i in (0..100_000).filter(|i| i % 100 != 0) {
        assert!(s.delete((D, &format!("k{i}"))));
    }
    assert_eq!(
        s.stats().table_bytes,
        full.table_bytes,
        "removal alone never shrinks"
    );
    let shards = Config::default().shards;
    assert_eq!(s.shrink_tables(), shards);
    let st = s.stats();
    assert!(
        st.table_bytes * 8 < full.table_bytes,
        "{} of {}",
        st.table_bytes,
        full.table_bytes
    );
    let kept: Vec<u64> = (0..100_000).step_by(100).collect();
    assert_eq!(st.keys, kept.len() as u64);
    assert_eq!(
        st.bytes,
        st.table_bytes + kept.iter().map(|&i| per(i)).sum::<u64>()
    );
    for &i in &kept {
        assert_eq!(s.get(D, &format!("k{i}")), Some(Value::Int(i as i64)));
    }
    assert_eq!(
        s.shrink_tables(),
        0,
        "a shrunk table is at most half full, not sparse"
    );
    // The smaller tables grow again as keys come back.
    for i in 0..100_000 {
        s.set(D, &format!("k{i}"), Value::Int(i), &SetOptions::default())
            .unwrap();
    }
    assert_eq!(s.stats().keys, 100_000);
    assert_eq!(s.get(D, "k99999"), Some(Value::Int(99_999)));
    // Down to about one key per shard the tables shrink to a few buckets, and once emptied
    // those small tables are freed too.
    for i in 100..100_000 {
        assert!(s.delete((D, &format!("k{i}"))));
    }
    assert_eq!(s.shrink_tables(), shards);
    assert!(s.stats().table_bytes <= (shards * table_bytes_of(8)) as u64);
    for i in 0..100 {
        assert_eq!(s.get(D, &format!("k{i}")), Some(Value::Int(i)));
        assert!(s.delete((D, &format!("k{i}"))));
    }
    // (Shards whose last key went in the previous round were freed then.)
    assert!(s.shrink_tables() > 0);
    assert_eq!((s.stats().bytes, s.stats().table_bytes), (0, 0));
}

#[test]
fn the_reaper_shrinks_sparse_tables_on_its_own() {
    let s = Store::new(Config {
        reaper_interval_ms: 10,
        ..Config::default()
    })
    .unwrap();
    for i in 0..50_000 {
        s.set(D, &format!("k{i}"), b("v"), &SetOptions::default())
            .unwrap();
    }
    let full = s.stats().table_bytes;
    for i in 0..50_000 {
        s.delete((D, &format!("k{i}")));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.stats().table_bytes > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(full > 0);
    assert_eq!(
        s.stats().table_bytes,
        0,
        "the reaper freed the emptied tables"
    );
}

/// Growing tables rehash entries from the hash bits tagged on their pointers (tables up to
/// 2^15 buckets) or by reading their keys (bigger ones, here with 2 shards): either way every
/// key stays findable, including entries that moved to a new allocation when their value
/// changed size, and keys of every length.
#[test]
fn every_key_survives_table_growth() {
    for shards in [2, 64] {
        let (s, _) = store_with(Config {
            shards,
            ..Config::default()
        });
        let ns = Ns::DEFAULT;
        let key = |i: usize| format!("k{i}:{}", "x".repeat(i % 40));
        let opts = SetOptions::default();
        let mut want: Vec<Value> = Vec::with_capacity(100_000);
        for i in 0..100_000 {
            s.set(ns, &key(i), Value::Int(i as i64), &opts).unwrap();
            want.push(Value::Int(i as i64));
            if i % 7 == 0 {
                // Moves the entry to a bigger allocation (tag and all).
                let moved = b(&format!("moved-{i}"));
                s.set(ns, &key(i / 2), moved.clone(), &opts).unwrap();
                want[i / 2] = moved;
            }
        }
        for (i, v) in want.into_iter().enumerate() {
            assert_eq!(s.get(ns, &key(i)), Some(v), "{shards} shards, key {i}");
        }
        assert_eq!(s.stats().keys, 100_000);
    }
}

/// `prefetch` is a hint: it counts no read, creates nothing and changes no entry, before the
/// first insert (no table yet) and after.
#[test]
fn prefetch_is_only_a_hint() {
    let (s, _) = store();
    s.prefetch((D, "nothing-yet"));
    s.set(D, "a", b("1"), &SetOptions::default()).unwrap();
    let before = s.stats();
    for k in ["a", "missing", "", &"k".repeat(1000)] {
        s.prefetch((D, k));
    }
    let after = s.stats();
    assert_eq!(
        (after.hits, after.misses, after.keys),
        (before.hits, before.misses, 1)
    );
    assert_eq!(s.get(D, "a"), Some(b("1")));
    assert_eq!(s.get(D, "missing"), None);
}

/// `buf` with room for the namespace prefix, then `key`'s bytes: what a binding builds.
fn laid_out(key: &str) -> Vec<u8> {
    let mut buf = vec![0xAA; StoredKey::PREFIX];
    buf.extend_from_slice(key.as_bytes());
    buf
}

#[test]
fn a_key_laid_out_by_the_caller_reads_like_get_with() {
    let (s, clock) = store();
    let users = s.namespace("users").unwrap();
    s.set(D, "k", b("in default"), &SetOptions::default())
        .unwrap();
    s.set(users, "k", b("in users"), &SetOptions::default())
        .unwrap();
    let copy = |v: ValueRef<'_>| v.to_owned();
    for (ns, want) in [(D, "in default"), (users, "in users")] {
        let mut buf = laid_out("k");
        let key = StoredKey::new(ns, &mut buf).unwrap();
        assert_eq!(s.get_with(key, copy), Some(b(want)));
        assert_eq!(s.get_with(key, copy), s.get_with((ns, "k"), copy));
    }
    let mut other = laid_out("other");
    assert_eq!(
        s.get_with(StoredKey::new(D, &mut other).unwrap(), copy),
        None
    );
    // A buffer with no room for the prefix is refused rather than misread.
    assert!(StoredKey::new(D, &mut [0u8; 1]).is_none());
    // Expiry applies as in get_with, and the read counts as a hit or a miss.
    let ttl = SetOptions {
        ttl_ms: Some(10),
        ..SetOptions::default()
    };
    s.set(D, "t", b("soon gone"), &ttl).unwrap();
    let mut t = laid_out("t");
    let key = StoredKey::new(D, &mut t).unwrap();
    assert_eq!(s.get_with(key, copy), Some(b("soon gone")));
    clock.advance(11);
    assert_eq!(s.get_with(key, copy), None);
    let st = s.stats();
    assert_eq!((st.hits, st.misses), (7, 2));
    // Writes through a laid-out key land in its namespace, counted there.
    let mut w = laid_out("written");
    let key = StoredKey::new(users, &mut w).unwrap();
    s.prefetch(key);
    let out = s.set_ref(key, ValueRef::Bytes(b"via set_key"), &SetOptions::default());
    assert!(out.unwrap().written);
    assert_eq!(s.get(users, "written"), Some(b("via set_key")));
    assert_eq!(s.get(D, "written"), None);
    let users_keys = s
        .stats()
        .namespaces
        .iter()
        .find(|n| n.name == "users")
        .map(|n| n.keys);
    assert_eq!(users_keys, Some(2));
    // The key-length limit applies to the key, not its prefix.
    let (small, _) = store_with(Config {
        max_key_len: 5,
        ..Config::default()
    });
    let mut five = laid_out("12345");
    let ok = small.set_ref(
        StoredKey::new(D, &mut five).unwrap(),
        ValueRef::Bytes(b"v"),
        &SetOptions::default(),
    );
    assert!(ok.is_ok());
    let mut six = laid_out("123456");
    let err = small.set_ref(
        StoredKey::new(D, &mut six).unwrap(),
        ValueRef::Bytes(b"v"),
        &SetOptions::default(),
    );
    assert!(
        matches!(err, Err(Error::KeyTooLarge { len: 6, max: 5 })),
        "{err:?}"
    );
}

#[test]
fn exists_ttl_delete_and_incr_on_laid_out_keys_stay_in_their_namespace() {
    let (s, clock) = store();
    let users = s.namespace("users").unwrap();
    let ttl = SetOptions {
        ttl_ms: Some(100),
        ..SetOptions::default()
    };
    s.set(users, "k", b("u"), &ttl).unwrap();
    let mut buf = laid_out("k");
    let in_users = StoredKey::new(users, &mut buf).unwrap();
    let mut dbuf = laid_out("k");
    let in_default = StoredKey::new(D, &mut dbuf).unwrap();
    assert!(s.exists(in_users));
    assert!(!s.exists(in_default), "the same name in another namespace");
    assert_eq!(s.ttl(in_users), Ttl::Remaining(100));
    assert_eq!(s.ttl(in_default), Ttl::Missing);
    clock.advance(40);
    assert_eq!(s.ttl(in_users), s.ttl((users, "k")));
    assert_eq!(s.ttl(in_users), Ttl::Remaining(60));
    // expire and persist act on the namespace's key only.
    s.set(D, "k", b("d"), &SetOptions::default()).unwrap();
    assert!(s.expire(in_users, 500));
    assert_eq!(s.ttl(in_users), Ttl::Remaining(500));
    assert_eq!(s.ttl((D, "k")), Ttl::Persistent);
    assert!(s.persist(in_users));
    assert!(!s.persist(in_users), "no TTL left to remove");
    assert_eq!(s.ttl(in_users), Ttl::Persistent);
    assert!(s.expire_at(in_default, 1_000_000 + 40 + 20));
    assert_eq!(s.ttl((D, "k")), Ttl::Remaining(20));
    // An expiry not in the future removes the key now (counted as a delete).
    assert!(s.expire_at(in_default, 1));
    assert_eq!(s.get(D, "k"), None);
    let mut nbuf = laid_out("nothing");
    let nothing = StoredKey::new(users, &mut nbuf).unwrap();
    assert!(!s.expire(nothing, 10) && !s.persist(nothing));
    s.set(users, "k", b("u"), &ttl).unwrap();
    clock.advance(40);

    // incr counts in the key's namespace and starts a missing key at 0.
    let mut cbuf = laid_out("count");
    let count = StoredKey::new(users, &mut cbuf).unwrap();
    assert_eq!(s.incr_by(count, 5).unwrap(), 5);
    assert_eq!(s.incr_by(count, -7).unwrap(), -2);
    assert_eq!(s.get(users, "count"), Some(Value::Int(-2)));
    assert_eq!(s.get(D, "count"), None);
    s.set(users, "text", b("abc"), &SetOptions::default())
        .unwrap();
    let mut tbuf = laid_out("text");
    let text = StoredKey::new(users, &mut tbuf).unwrap();
    assert!(matches!(s.incr_by(text, 1), Err(Error::NotInteger)));
    s.set(users, "max", Value::Int(i64::MAX), &SetOptions::default())
        .unwrap();
    let mut mbuf = laid_out("max");
    let max = StoredKey::new(users, &mut mbuf).unwrap();
    assert!(matches!(s.incr_by(max, 1), Err(Error::Overflow)));
    let users_keys = |s: &Store| {
        s.stats()
            .namespaces
            .iter()
            .find(|n| n.name == "users")
            .map(|n| n.keys)
    };
    assert_eq!(users_keys(&s), Some(4));

    // delete removes only the namespace's key, once.
    s.set(D, "k", b("d"), &SetOptions::default()).unwrap();
    assert!(s.delete(in_users));
    assert!(!s.delete(in_users));
    assert_eq!(s.get(D, "k"), Some(b("d")));
    assert_eq!(users_keys(&s), Some(3));
    // An expired key is gone for exists and delete alike, and counts as expired.
    s.set(D, "gone", b("x"), &ttl).unwrap();
    let mut gbuf = laid_out("gone");
    let gone = StoredKey::new(D, &mut gbuf).unwrap();
    clock.advance(101);
    assert!(!s.exists(gone));
    assert!(!s.delete(gone));
    let st = s.stats();
    assert_eq!((st.deletes, st.expired), (2, 1));

    // The key-length limit applies to incr's key, not its prefix.
    let (small, _) = store_with(Config {
        max_key_len: 5,
        ..Config::default()
    });
    let mut five = laid_out("12345");
    assert_eq!(
        small
            .incr_by(StoredKey::new(D, &mut five).unwrap(), 1)
            .unwrap(),
        1
    );
    let mut six = laid_out("123456");
    let err = small.incr_by(StoredKey::new(D, &mut six).unwrap(), 1);
    assert!(
        matches!(err, Err(Error::KeyTooLarge { len: 6, max: 5 })),
        "{err:?}"
    );
}

/// PEXPIRETIME's source: the stored absolute expiry itself, not a TTL plus a second clock read.
#[test]
fn expires_at_is_the_stored_absolute_time() {
    let (s, clock) = store();
    let d = Ns::DEFAULT;
    let at = SetOptions {
        expire_at_ms: Some(1_000_123),
        ..SetOptions::default()
    };
    s.set(d, "t", Value::from("v"), &at).unwrap();
    s.set(d, "p", Value::from("v"), &SetOptions::default())
        .unwrap();
    assert_eq!(s.expires_at_ms((d, "t")), Some(Some(1_000_123)));
    assert_eq!(s.expires_at_ms((d, "p")), Some(None));
    assert_eq!(s.expires_at_ms((d, "missing")), None);
    clock.advance(123);
    assert_eq!(
        s.expires_at_ms((d, "t")),
        Some(Some(1_000_123)),
        "due, not yet past"
    );
    clock.advance(1);
    assert_eq!(s.expires_at_ms((d, "t")), None, "past its expiry");
}
