//! The subjects under test: TinyKV (uncapped, and under a byte cap), an exact LRU behind a
//! mutex, and a bare DashMap. Each implements the same four calls; the alternatives update a
//! present key in place, as a careful user would, so they are not charged a key allocation.

use crate::CAPPED_MEMORY;
use criterion::black_box;
use dashmap::DashMap;
use lru::LruCache;
use std::sync::Mutex;
use tinykv::store::{Config, Ns, SetOptions, Store, Value};

/// What every subject must do; `&self` so threads share one instance.
pub trait Subject: Sync {
    /// Read `key`; true on a hit.
    fn get(&self, key: &str) -> bool;
    /// Write `value` at `key`.
    fn set(&self, key: &str, value: &[u8]);
    /// Remove `key` (used only by the untimed clean-up).
    fn remove(&self, key: &str);
    /// Does the subject evict by itself, so fresh keys need no clean-up?
    fn bounded(&self) -> bool {
        false
    }
    /// TinyKV's (hits, misses, evictions) counters, for the capped column's notes.
    fn counters(&self) -> Option<(u64, u64, u64)> {
        None
    }
}

struct TinyKv(Store);

impl Subject for TinyKv {
    fn get(&self, key: &str) -> bool {
        self.0
            .get_with((Ns::DEFAULT, key), |v| {
                black_box(v);
            })
            .is_some()
    }
    fn set(&self, key: &str, value: &[u8]) {
        let v = Value::Bytes(value.to_vec());
        black_box(
            self.0
                .set(Ns::DEFAULT, key, v, &SetOptions::default())
                .is_ok(),
        );
    }
    fn remove(&self, key: &str) {
        self.0.delete((Ns::DEFAULT, key));
    }
    fn bounded(&self) -> bool {
        self.0.config().max_memory.is_some()
    }
    fn counters(&self) -> Option<(u64, u64, u64)> {
        let s = self.0.stats();
        Some((s.hits, s.misses, s.evicted))
    }
}

struct ExactLru(Mutex<LruCache<String, Vec<u8>>>);

impl Subject for ExactLru {
    fn get(&self, key: &str) -> bool {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        black_box(c.get(key).map(|v| v.len())).is_some()
    }
    fn set(&self, key: &str, value: &[u8]) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match c.get_mut(key) {
            Some(v) => *v = value.to_vec(),
            None => {
                c.put(key.to_owned(), value.to_vec());
            }
        }
    }
    fn remove(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop(key);
    }
}

struct Floor(DashMap<String, Vec<u8>, foldhash::fast::RandomState>);

impl Subject for Floor {
    fn get(&self, key: &str) -> bool {
        black_box(self.0.get(key).map(|v| v.len())).is_some()
    }
    fn set(&self, key: &str, value: &[u8]) {
        match self.0.get_mut(key) {
            Some(mut v) => *v = value.to_vec(),
            None => {
                self.0.insert(key.to_owned(), value.to_vec());
            }
        }
    }
    fn remove(&self, key: &str) {
        self.0.remove(key);
    }
}

/// Subjects in column order; `lru` is the ratio baseline.
pub const SUBJECTS: [&str; 4] = ["tinykv", "tinykv@64MiB", "lru", "dashmap"];

pub fn build(name: &str) -> Box<dyn Subject> {
    let tinykv = |max_memory| {
        let config = Config {
            max_memory,
            ..Config::default()
        };
        TinyKv(Store::new(config).unwrap_or_else(|e| panic!("store config: {e}")))
    };
    match name {
        "tinykv" => Box::new(tinykv(None)),
        "tinykv@64MiB" => Box::new(tinykv(Some(CAPPED_MEMORY))),
        "lru" => Box::new(ExactLru(Mutex::new(LruCache::unbounded()))),
        _ => Box::new(Floor(DashMap::with_hasher(Default::default()))),
    }
}
