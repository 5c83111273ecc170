//! What the addon reports about a store: `stats()` (the store's [`Stats`] snapshot as a typed
//! object), `info(key)` (one entry's access data, [`EntryInfo`]) and `metrics()` (the same
//! Prometheus text as the daemon's store metrics, from [`crate::metrics::render`]).
//! Counts cross as JS numbers: exact up to 2^53.
use super::args;
use super::class::TinyKV;
use super::raw::{Env as JsEnv, Js, StrBuf, STACK_KEY};
use crate::store::{EntryInfo, Stats, Ttl};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Entries and bytes of one namespace.
#[napi(object, js_name = "NamespaceStats")]
pub struct JsNsStats {
    /// Namespace name.
    pub name: String,
    /// Entries in the namespace.
    pub keys: f64,
    /// Bytes of the namespace's entry allocations (the shared hash tables are not
    /// split between namespaces; they count in `tableMemory`).
    pub bytes: f64,
}

/// A snapshot of the store's counters and sizes (shared by all namespaces of one store).
#[napi(object, js_name = "TinyKVStats")]
pub struct JsStats {
    /// Reads that found a live entry.
    pub hits: f64,
    /// Reads that found nothing (or only an expired entry).
    pub misses: f64,
    /// hits / (hits + misses), 0 before any read.
    pub hit_ratio: f64,
    /// Successful writes (set, incr, ...).
    pub sets: f64,
    /// Entries removed by `delete`.
    pub deletes: f64,
    /// Entries removed because their TTL passed.
    pub expired: f64,
    /// Entries removed to stay under `maxEntries` / `maxMemory`.
    pub evicted: f64,
    /// Entries now in the store, all namespaces together.
    pub keys: f64,
    /// Bytes the store holds, as the allocator sizes them: every entry allocation (header, key
    /// and value) plus the hash tables. This is what `maxMemory` caps (Redis's `used_memory`).
    pub used_memory: f64,
    /// The part of `usedMemory` taken by the hash tables (slots and control bytes).
    pub table_memory: f64,
    /// The byte cap, if any.
    pub max_memory: Option<f64>,
    /// The entry cap, if any.
    pub max_entries: Option<f64>,
    /// The eviction policy the store was created with.
    #[napi(ts_type = "'lru' | 'lfu' | 'volatile-ttl' | 'noeviction'")]
    pub eviction_policy: String,
    /// Namespaces that hold at least one entry.
    pub namespaces: Vec<JsNsStats>,
}

impl From<Stats> for JsStats {
    fn from(s: Stats) -> Self {
        JsStats {
            hits: s.hits as f64,
            misses: s.misses as f64,
            hit_ratio: s.hit_ratio(),
            sets: s.sets as f64,
            deletes: s.deletes as f64,
            expired: s.expired as f64,
            evicted: s.evicted as f64,
            keys: s.keys as f64,
            used_memory: s.bytes as f64,
            table_memory: s.table_bytes as f64,
            max_memory: s.max_memory.map(|n| n as f64),
            max_entries: s.max_entries.map(|n| n as f64),
            eviction_policy: s.eviction_policy.to_string(),
            namespaces: s
                .namespaces
                .into_iter()
                .map(|n| JsNsStats {
                    name: n.name,
                    keys: n.keys as f64,
                    bytes: n.bytes as f64,
                })
                .collect(),
        }
    }
}

/// What the store knows about one entry (`kv.info(key)`), as Redis's OBJECT IDLETIME / FREQ.
#[napi(object, js_name = "EntryInfo")]
pub struct JsEntryInfo {
    /// Milliseconds since the entry was last read or written, to the store's access-clock
    /// resolution (about 100 ms).
    pub idle_ms: f64,
    /// The LFU access counter, 0 to 255: logarithmic, new entries start at 5, and it decays
    /// one step per idle minute (Redis's OBJECT FREQ).
    pub frequency: u32,
    /// Remaining time to live in ms, or `-1` if the entry has no TTL.
    pub ttl: f64,
    /// Bytes charged for the entry: its one allocation (16-byte header, key and value, and an
    /// 8-byte expiry in front while it has a TTL).
    pub size: f64,
    /// True when the value is held as a 64-bit integer (set from a safe integer, or by `incr`).
    pub is_int: bool,
}

impl From<EntryInfo> for JsEntryInfo {
    fn from(i: EntryInfo) -> Self {
        JsEntryInfo {
            idle_ms: i.idle_ms as f64,
            frequency: u32::from(i.frequency),
            ttl: match i.ttl {
                Ttl::Remaining(ms) => ms as f64,
                Ttl::Persistent | Ttl::Missing => -1.0,
            },
            size: i.size as f64,
            is_int: i.is_int,
        }
    }
}

#[napi]
impl TinyKV {
    /// A snapshot of the store's counters and sizes (all namespaces).
    #[napi(catch_unwind)]
    pub fn stats(&self, env: &Env) -> Result<JsStats> {
        Ok(self.store(env, "stats")?.stats().into())
    }

    /// Access data for `key` (idle time, LFU frequency, TTL, size), or `undefined` if the key
    /// is missing or expired. Looking does not count as an access.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string",
        ts_return_type = "EntryInfo | undefined"
    )]
    pub fn info(&self, env: &Env, key: Unknown) -> Result<Either<JsEntryInfo, ()>> {
        let mut kb = StrBuf::<STACK_KEY>::new();
        let e = JsEnv::of(env);
        let key = args::name(e, &mut kb, Js::of(&key), format_args!("TinyKV.info: key"))?;
        let store = self.store(env, "info")?;
        // `()` is `undefined` in JS (an `Option` would be `null`).
        Ok(match store.info(self.view.ns, key) {
            Some(i) => Either::A(i.into()),
            None => Either::B(()),
        })
    }

    /// The store's stats in the Prometheus text format (0.0.4), the same families as the
    /// daemon's `/metrics` (`tinykv_keyspace_hits_total`, `tinykv_used_memory_bytes`,
    /// `tinykv_namespace_keys{namespace="..."}`, ...), to serve from an app's own `/metrics`.
    #[napi(catch_unwind)]
    pub fn metrics(&self, env: &Env) -> Result<String> {
        Ok(crate::metrics::render(self.store(env, "metrics")?.stats()))
    }
}
