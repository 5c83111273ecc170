//! Model-based test: random operation sequences run against the store and against a simple
//! reference model (a HashMap with recency stamps and a manual clock); every result must match.
//! With `eviction_samples` above the cap, the sampler sees every entry, so the store's
//! eviction must equal exact LRU and the model can predict it.

use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use tinykv::store::{Config, Error, ManualClock, SetOptions, Store, Ttl, Value};

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    /// A batch read (duplicates allowed), checked as that many gets in order.
    Mget(Vec<u8>),
    Set {
        key: u8,
        val: u8,
        ttl: Option<u16>,
        nx: bool,
        xx: bool,
        keep_ttl: bool,
    },
    Delete(u8),
    Exists(u8),
    Ttl(u8),
    Expire(u8, u16),
    Persist(u8),
    Incr(u8, i8),
    Advance(u16),
    Reap,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    prop_oneof![
        4 => key.clone().prop_map(Op::Get),
        1 => proptest::collection::vec(key.clone(), 0..40).prop_map(Op::Mget),
        4 => (key.clone(), any::<u8>(), proptest::option::of(1u16..300), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(key, val, ttl, nx, xx, keep_ttl)| Op::Set { key, val, ttl, nx: nx && !xx, xx, keep_ttl: keep_ttl && ttl.is_none() }),
        1 => key.clone().prop_map(Op::Delete),
        1 => key.clone().prop_map(Op::Exists),
        1 => key.clone().prop_map(Op::Ttl),
        1 => (key.clone(), 0u16..300).prop_map(|(k, t)| Op::Expire(k, t)),
        1 => key.clone().prop_map(Op::Persist),
        2 => (key, any::<i8>()).prop_map(|(k, d)| Op::Incr(k, d)),
        1 => (0u16..200).prop_map(Op::Advance),
        1 => Just(Op::Reap),
    ]
}

#[derive(Debug, Clone)]
struct MEntry {
    value: Value,
    expires_at: u64,
    stamp: u64,
}

/// The reference: what a correct store would answer.
#[derive(Default)]
struct Model {
    map: HashMap<String, MEntry>,
    now: u64,
    tick: u64,
    cap: Option<usize>,
    hits: u64,
    misses: u64,
    expired: u64,
    evicted: u64,
}

impl Model {
    fn live(&self, k: &str) -> bool {
        self.map
            .get(k)
            .is_some_and(|e| e.expires_at == 0 || e.expires_at >= self.now)
    }

    fn drop_if_expired(&mut self, k: &str) {
        if self.map.contains_key(k) && !self.live(k) {
            self.map.remove(k);
            self.expired += 1;
        }
    }

    fn stamp(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Make room for one new entry the way the store does: expired entries first, then live
    /// ones, least recently used first in each group.
    fn make_room(&mut self) {
        let Some(cap) = self.cap else { return };
        while self.map.len() >= cap {
            let now = self.now;
            let expired = self
                .map
                .iter()
                .filter(|(_, e)| e.expires_at != 0 && now > e.expires_at);
            if let Some(k) = expired.min_by_key(|(_, e)| e.stamp).map(|(k, _)| k.clone()) {
                self.map.remove(&k);
                self.expired += 1;
            } else if let Some(k) = self
                .map
                .iter()
                .min_by_key(|(_, e)| e.stamp)
                .map(|(k, _)| k.clone())
            {
                self.map.remove(&k);
                self.evicted += 1;
            }
        }
    }

    fn insert(&mut self, k: &str, value: Value, expires_at: u64) {
        self.make_room();
        let stamp = self.stamp();
        self.map.insert(
            k.to_owned(),
            MEntry {
                value,
                expires_at,
                stamp,
            },
        );
    }
}

fn run(ops: Vec<Op>, cap: Option<usize>) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(10_000));
    let config = Config {
        max_entries: cap,
        eviction_samples: 64,
        reaper_interval_ms: 0,
        shards: 4,
        ..Config::default()
    };
    let s = Store::with_clock(config, clock.clone()).unwrap();
    let ns = s.namespace("m").unwrap();
    let mut m = Model {
        now: 10_000,
        cap,
        ..Model::default()
    };
    for op in ops {
        match op {
            Op::Get(k) => {
                let k = format!("k{k}");
                m.drop_if_expired(&k);
                let expected = if m.live(&k) {
                    m.hits += 1;
                    let stamp = m.stamp();
                    let e = m.map.get_mut(&k).unwrap();
                    e.stamp = stamp;
                    Some(e.value.clone())
                } else {
                    m.misses += 1;
                    None
                };
                prop_assert_eq!(s.get(ns, &k), expected, "get {}", k);
            }
            Op::Mget(keys) => {
                let names: Vec<String> = keys.iter().map(|k| format!("k{k}")).collect();
                let mut expected = Vec::new();
                for k in &names {
                    m.drop_if_expired(k);
                    expected.push(if m.live(k) {
                        m.hits += 1;
                        let stamp = m.stamp();
                        let e = m.map.get_mut(k).unwrap();
                        e.stamp = stamp;
                        Some(e.value.clone())
                    } else {
                        m.misses += 1;
                        None
                    });
                }
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                prop_assert_eq!(s.mget(ns, &refs), expected, "mget {:?}", names);
            }
            Op::Set {
                key,
                val,
                ttl,
                nx,
                xx,
                keep_ttl,
            } => {
                let k = format!("k{key}");
                let value = Value::Bytes(vec![val]);
                let opts = SetOptions {
                    ttl_ms: ttl.map(u64::from),
                    nx,
                    xx,
                    keep_ttl,
                    ..SetOptions::default()
                };
                m.drop_if_expired(&k);
                let exists = m.live(&k);
                let written = !(nx && exists || xx && !exists);
                if written {
                    let exp = ttl.map_or(0, |t| m.now + u64::from(t));
                    if exists {
                        let stamp = m.stamp();
                        let e = m.map.get_mut(&k).unwrap();
                        e.value = value.clone();
                        e.expires_at = if keep_ttl { e.expires_at } else { exp };
                        e.stamp = stamp;
                    } else {
                        m.insert(&k, value.clone(), exp);
                    }
                }
                prop_assert_eq!(
                    s.set(ns, &k, value, &opts).unwrap().written,
                    written,
                    "set {}",
                    k
                );
            }
            Op::Delete(k) => {
                let k = format!("k{k}");
                m.drop_if_expired(&k);
                let expected = m.map.remove(&k).is_some();
                prop_assert_eq!(s.delete((ns, &k)), expected);
            }
            Op::Exists(k) => {
                let k = format!("k{k}");
                prop_assert_eq!(s.exists((ns, &k)), m.live(&k));
            }
            Op::Ttl(k) => {
                let k = format!("k{k}");
                let expected = match m.map.get(&k) {
                    Some(_) if !m.live(&k) => Ttl::Missing,
                    Some(e) if e.expires_at == 0 => Ttl::Persistent,
                    Some(e) => Ttl::Remaining(e.expires_at - m.now),
                    None => Ttl::Missing,
                };
                prop_assert_eq!(s.ttl((ns, &k)), expected);
            }
            Op::Expire(k, t) => {
                let k = format!("k{k}");
                let expected = if t == 0 {
                    m.drop_if_expired(&k);
                    m.map.remove(&k).is_some()
                } else if m.live(&k) {
                    let now = m.now;
                    m.map.get_mut(&k).unwrap().expires_at = now + u64::from(t);
                    true
                } else {
                    m.drop_if_expired(&k);
                    false
                };
                prop_assert_eq!(s.expire((ns, &k), u64::from(t)), expected);
            }
            Op::Persist(k) => {
                let k = format!("k{k}");
                let expected = m.live(&k) && m.map[&k].expires_at != 0;
                if expected {
                    m.map.get_mut(&k).unwrap().expires_at = 0;
                }
                prop_assert_eq!(s.persist((ns, &k)), expected);
            }
            Op::Incr(k, d) => {
                let k = format!("k{k}");
                let d = i64::from(d);
                m.drop_if_expired(&k);
                let expected = if m.live(&k) {
                    let current = match &m.map[&k].value {
                        Value::Int(n) => Some(*n),
                        Value::Bytes(b) => std::str::from_utf8(b)
                            .ok()
                            .and_then(|t| t.parse::<i64>().ok())
                            .filter(|n| n.to_string().as_bytes() == b.as_slice()),
                    };
                    match current {
                        Some(n) => {
                            let stamp = m.stamp();
                            let e = m.map.get_mut(&k).unwrap();
                            e.value = Value::Int(n + d);
                            e.stamp = stamp;
                            Ok(n + d)
                        }
                        None => Err(Error::NotInteger),
                    }
                } else {
                    m.insert(&k, Value::Int(d), 0);
                    Ok(d)
                };
                prop_assert_eq!(s.incr_by((ns, &k), d), expected);
            }
            Op::Advance(ms) => {
                m.now += u64::from(ms);
                clock.advance(u64::from(ms));
            }
            Op::Reap => {
                let now = m.now;
                let before = m.map.len();
                m.map
                    .retain(|_, e| e.expires_at == 0 || e.expires_at >= now);
                let reaped = before - m.map.len();
                m.expired += reaped as u64;
                prop_assert_eq!(s.reap_expired(), reaped);
            }
        }
        prop_assert_eq!(s.len(ns), m.map.len());
    }
    let st = s.stats();
    prop_assert_eq!(
        (st.hits, st.misses, st.expired, st.evicted),
        (m.hits, m.misses, m.expired, m.evicted)
    );
    let mut keys = s.keys(ns, "*");
    keys.sort();
    let now = m.now;
    let mut expected: Vec<String> = m
        .map
        .iter()
        .filter(|(_, e)| e.expires_at == 0 || e.expires_at >= now)
        .map(|(k, _)| k.clone())
        .collect();
    expected.sort();
    prop_assert_eq!(keys, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model_without_cap(ops in proptest::collection::vec(op(), 1..200)) {
        run(ops, None)?;
    }

    #[test]
    fn store_matches_exact_lru_model_with_cap(ops in proptest::collection::vec(op(), 1..200)) {
        run(ops, Some(5))?;
    }
}
