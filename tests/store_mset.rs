//! MSET is all or nothing when the caps run out of room: under `noeviction` and
//! `volatile-ttl` a batch that does not fit is refused with OOM and leaves no key of it
//! written and every overwritten key as it was; one that fits is written whole.

use std::sync::Arc;
use tinykv::command::{execute, Reply, Session};
use tinykv::store::*;

const OLD: &[u8] = b"old value";

fn store(max_memory: u64, policy: EvictionPolicy) -> Store {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = Config {
        reaper_interval_ms: 0,
        max_memory: Some(max_memory),
        eviction_policy: policy,
        ..Config::default()
    };
    let s = Store::with_clock(config, clock).unwrap();
    // Five keys the batch overwrites, one with a TTL.
    for i in 0..5 {
        let opts = SetOptions {
            ttl_ms: (i == 0).then_some(60_000),
            ..SetOptions::default()
        };
        s.set_ref((Ns::DEFAULT, &format!("k{i}")), ValueRef::Bytes(OLD), &opts)
            .unwrap();
    }
    s
}

/// MSET k0 v k1 v ... k99 v of 500-byte values, through the command layer.
fn mset_100(s: &Store) -> Reply {
    let value = vec![b'v'; 500];
    let mut argv: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..100 {
        argv.push(format!("k{i}").into_bytes());
        argv.push(value.clone());
    }
    execute(s, &mut Session::default(), &argv)
}

/// Checks that the batch left nothing behind.
fn untouched(s: &Store) {
    assert_eq!(s.total_len(), 5);
    for i in 0..5 {
        let v = s.get(Ns::DEFAULT, &format!("k{i}"));
        assert_eq!(v, Some(Value::Bytes(OLD.to_vec())), "k{i}");
    }
    assert!(matches!(s.ttl((Ns::DEFAULT, "k0")), Ttl::Remaining(60_000)));
    assert_eq!(s.ttl((Ns::DEFAULT, "k1")), Ttl::Persistent);
    for i in 5..100 {
        assert_eq!(s.get(Ns::DEFAULT, &format!("k{i}")), None, "k{i}");
    }
}

#[test]
fn an_mset_that_does_not_fit_writes_nothing() {
    for policy in [EvictionPolicy::NoEviction, EvictionPolicy::VolatileTtl] {
        // Room for about 60 of the 100 values.
        let s = store(36_000, policy);
        let oom = Error::OutOfMemory.to_string();
        assert_eq!(mset_100(&s), Reply::Error(oom), "{policy:?}");
        if policy == EvictionPolicy::NoEviction {
            untouched(&s);
        }
        // The addon's path: the store's mset.
        let value = [b'w'; 500];
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let entries: Vec<(&str, ValueRef<'_>)> = keys
            .iter()
            .map(|k| (k.as_str(), ValueRef::Bytes(&value)))
            .collect();
        let r = s.mset(Ns::DEFAULT, &entries, &SetOptions::default());
        assert_eq!(r, Err(Error::OutOfMemory));
        if policy == EvictionPolicy::NoEviction {
            untouched(&s);
        }
    }
}

#[test]
fn an_mset_that_fits_writes_everything() {
    let s = store(200_000, EvictionPolicy::NoEviction);
    assert_eq!(mset_100(&s), Reply::ok());
    assert_eq!(s.total_len(), 100);
    for i in 0..100 {
        assert_eq!(
            s.get(Ns::DEFAULT, &format!("k{i}")),
            Some(Value::Bytes(vec![b'v'; 500]))
        );
    }
}

/// At every cap from "nothing fits" to "everything fits", the batch is all or nothing: this
/// crosses the caps where the table's growth, not the entries, is what runs out, so the
/// batch fails after some writes and must put them back.
#[test]
fn at_every_cap_an_mset_is_all_or_nothing() {
    let mut saw = (false, false);
    for cap in (20_000..70_000).step_by(500) {
        let s = store(cap, EvictionPolicy::NoEviction);
        match mset_100(&s) {
            Reply::Simple(ok) if ok == "OK" => {
                saw.0 = true;
                assert_eq!(s.total_len(), 100, "cap {cap}");
            }
            Reply::Error(_) => {
                saw.1 = true;
                untouched(&s);
            }
            other => panic!("cap {cap}: {other:?}"),
        }
        assert!(s.stats().bytes <= cap);
    }
    assert_eq!(saw, (true, true));
}
