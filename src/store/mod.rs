//! The engine: a sharded hash table of namespaced keys to values with per-entry TTLs, an entry
//! cap and a byte cap enforced by approximate-LRU eviction, a background reaper, and stats.
//! Invariants: this module knows nothing of napi, tokio, sockets, the protocol or the REPL;
//! every read checks expiry, so an expired entry is never returned; caps hold at every
//! instant (see `caps`); only `table/` touches the hash table's buckets; time comes only from
//! the injected [`Clock`]. One-key methods on the hot path take a [`Key`]: `(ns, bytes)`, or
//! a [`StoredKey`] a binding laid out itself.

mod batch;
mod caps;
mod clock;
mod config;
mod entry;
mod evict;
mod expiry;
pub mod glob;
mod key;
mod lfu;
mod load;
mod multi;
mod namespaces;
mod reaper;
mod scan;
mod shared;
mod slab;
mod stats;
mod striped;
mod table;
mod value;
mod write;

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::config::{parse_memory_size, Config, EvictionPolicy, ACCESS_RESOLUTION_MS};
pub use self::entry::{alloc_size, ENTRY_HEADER, EXPIRY_WORD};
pub use self::key::{Key, Ns, StoredKey};
pub use self::load::{
    check_batch, check_namespace_name, LoadBatch, LoadEntry, LoadError, LoadReport, LoadValue,
    OnConflict,
};
pub use self::namespaces::{NsGuard, MAX_NAMESPACES, MAX_NAMESPACE_LEN};
pub use self::scan::{EntryView, ScannedEntry};
pub use self::stats::{NsStats, Stats};
pub use self::table::ENTRY_OVERHEAD;
/// Redis's `string2ll`, for the command layer's integer arguments.
pub(crate) use self::value::parse_i64;
pub use self::value::{Value, ValueRef};
pub use crate::error::{Error, Result};

use self::key::key_ns;
use self::reaper::Reaper;
use self::shared::{Removal, Shared};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Options for [`Store::set`]; the default is a plain overwrite with the default TTL.
#[derive(Debug, Default, Clone)]
pub struct SetOptions {
    /// Expire this many ms from now.
    pub ttl_ms: Option<u64>,
    /// Expire at this absolute clock time (ms); wins over `ttl_ms`.
    pub expire_at_ms: Option<u64>,
    /// Write only if the key is absent (NX).
    pub nx: bool,
    /// Write only if the key is present (XX).
    pub xx: bool,
    /// Keep the existing entry's TTL (KEEPTTL).
    pub keep_ttl: bool,
    /// Return the previous value (GET).
    pub get: bool,
}

/// What a [`Store::set`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// False when NX or XX prevented the write.
    pub written: bool,
    /// The previous value, when `SetOptions::get` was asked for.
    pub previous: Option<Value>,
}

/// Remaining time to live of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// No such key (or it has expired).
    Missing,
    /// The key exists and has no TTL.
    Persistent,
    /// The key expires in this many ms.
    Remaining(u64),
}

/// What [`Store::info`] knows about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// Milliseconds since the entry was last read or written (to the reaper's clock
    /// resolution, 100 ms by default, when the store runs a reaper).
    pub idle_ms: u64,
    /// The LFU access counter (logarithmic, 0..=255, new entries start at 5, decays one step
    /// per idle minute), as Redis's OBJECT FREQ reports it.
    pub frequency: u8,
    /// Remaining time to live.
    pub ttl: Ttl,
    /// Bytes charged for the entry's one allocation: header, key and value (its table slot is
    /// charged with the table).
    pub size: u64,
    /// True when the value is stored as a 64-bit integer.
    pub is_int: bool,
}

/// A TinyKV store. Share it between threads as `Arc<Store>`; dropping the last owner stops and
/// joins the reaper thread.
#[derive(Debug)]
pub struct Store {
    /// The state the reaper thread also holds.
    shared: Arc<Shared>,
    /// Declared after `shared` so it is dropped (stopped and joined) while `shared` is alive.
    _reaper: Option<Reaper>,
}

impl Store {
    /// A store on the system clock, with a reaper thread unless `reaper_interval_ms` is 0.
    pub fn new(config: Config) -> Result<Store> {
        Self::with_clock(config, Arc::new(SystemClock::new()))
    }

    /// A store on the given clock.
    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Store> {
        config.validate()?;
        let interval = config.reaper_interval_ms;
        let shared = Arc::new(Shared::new(config, clock));
        let reaper = if interval > 0 {
            let r = Reaper::start(Arc::clone(&shared), Duration::from_millis(interval))
                .map_err(|e| Error::InvalidArgument(format!("cannot start reaper thread: {e}")))?;
            Some(r)
        } else {
            None
        };
        Ok(Store {
            shared,
            _reaper: reaper,
        })
    }

    /// The configuration this store was built with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Current time on the store's clock, in ms.
    pub fn now_ms(&self) -> u64 {
        self.shared.now()
    }

    /// The id of namespace `name`, creating it on first use, pinned for the store's life: its
    /// id is never reused, so it counts against [`MAX_NAMESPACES`] forever. For names that
    /// come and go (per-user namespaces, a session's SELECT) use
    /// [`Store::acquire_namespace`], whose ids are reused. Errors: an invalid name
    /// ([`Error::InvalidNamespace`]), or [`MAX_NAMESPACES`] in use.
    pub fn namespace(&self, name: &str) -> Result<Ns> {
        self.shared.namespaces.id(name)
    }

    /// A hold on namespace `name`, registering it if new. Read and write it through
    /// [`NsGuard::ns`] while the guard lives; the id is never reused while any guard (or pin)
    /// holds it. After the last guard is dropped the id is freed as soon as the namespace has
    /// no keys (at once if it has none; else when its last key is deleted, expires, is evicted
    /// or flushed), and its name may then get a different id. Rule for callers: use an `Ns`
    /// only while holding a guard (or a pin from [`Store::namespace`]) for it. Errors as for
    /// [`Store::namespace`]; the default namespace is never freed.
    pub fn acquire_namespace(&self, name: &str) -> Result<NsGuard> {
        NsGuard::acquire(&self.shared.namespaces, name)
    }

    /// The name of a namespace id.
    pub fn namespace_name(&self, ns: Ns) -> String {
        self.shared.namespaces.name(ns)
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        self.check_key_len(key.len())
    }

    fn check_key_len(&self, len: usize) -> Result<()> {
        let max = self.shared.config.max_key_len;
        if len > max {
            return Err(Error::KeyTooLarge { len, max });
        }
        Ok(())
    }

    fn check_value(&self, value: ValueRef<'_>) -> Result<()> {
        let max = self.shared.config.max_value_len;
        match value {
            ValueRef::Bytes(b) if b.len() > max => Err(Error::ValueTooLarge { len: b.len(), max }),
            _ => Ok(()),
        }
    }

    /// Read a value through `f` without copying it. `None` if missing or expired. `key` is
    /// `(ns, bytes)` or a [`StoredKey`]; `f` runs under the shard's read lock, so it must not
    /// write to this store.
    #[inline]
    pub fn get_with<R>(&self, key: impl Key, f: impl FnOnce(ValueRef<'_>) -> R) -> Option<R> {
        key.with_layout(|k| self.get_at(k, f))
    }

    /// [`Store::get_with`] of a stored key.
    #[inline]
    fn get_at<R>(&self, k: &[u8], f: impl FnOnce(ValueRef<'_>) -> R) -> Option<R> {
        let s = &*self.shared;
        let found = s.table.with_ref(k, |e| {
            if s.expired(e) {
                return Err(e.expires_at());
            }
            s.touch(e);
            Ok(f(e.value()))
        });
        let expired_at = match found {
            Some(Ok(r)) => {
                s.counters.hits.add(1);
                return Some(r);
            }
            Some(Err(at)) => at,
            None => {
                s.counters.misses.add(1);
                return None;
            }
        };
        s.remove_expired(k, expired_at);
        s.counters.misses.add(1);
        None
    }

    /// [`Store::get_with`] while the value is fresh, in one lookup: `fresh` is shown the
    /// remaining TTL (`None` for none), and `f` runs only if it accepts it. `None`, with
    /// nothing counted and the entry not touched, when the key is missing, expired or not
    /// fresh (the caller then takes its slow path, which counts): getOrSet's hit under a
    /// `staleTtl`.
    #[inline]
    pub fn get_fresh_with<R>(
        &self,
        key: impl Key,
        fresh: impl FnOnce(Option<u64>) -> bool,
        f: impl FnOnce(ValueRef<'_>) -> R,
    ) -> Option<R> {
        let s = &*self.shared;
        let found = key.with_layout(|k| {
            s.table.with_ref(k, |e| {
                let at = e.expires_at();
                let remaining = if at == 0 {
                    None
                } else {
                    let now = s.now();
                    if e.is_expired(now) {
                        return None;
                    }
                    Some(at - now)
                };
                if !fresh(remaining) {
                    return None;
                }
                s.touch(e);
                Some(f(e.value()))
            })
        })?;
        if found.is_some() {
            s.counters.hits.add(1);
        }
        found
    }

    /// A hint that `key` is about to be read or written: starts loading the lines its lookup
    /// reads first, without taking a lock, so a caller can overlap that cache miss with other
    /// work (the addon reads the value of a `set` from JS meanwhile). Changes nothing.
    #[inline]
    pub fn prefetch(&self, key: impl Key) {
        key.with_layout(|k| self.shared.table.prefetch_key(k));
    }

    /// A copy of the value at `key`.
    pub fn get(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> Option<Value> {
        self.get_with((ns, key), |v| v.to_owned())
    }

    /// Values for many keys, in order.
    pub fn mget<K: AsRef<[u8]>>(&self, ns: Ns, keys: &[K]) -> Vec<Option<Value>> {
        let mut out = vec![None; keys.len()];
        self.get_many_with(ns, keys, |i, v| out[i] = Some(v.to_owned()));
        out
    }

    /// Live keys in `ns` matching the glob `pattern`, in no particular order, as text: a key
    /// that is not UTF-8 (a daemon client may write any bytes) is converted lossily. The
    /// addon's view; [`Store::keys_bytes`] is the exact one.
    pub fn keys(&self, ns: Ns, pattern: &str) -> Vec<String> {
        self.shared
            .keys(ns, pattern.as_bytes())
            .into_iter()
            .map(text)
            .collect()
    }

    /// Live keys in `ns` matching the glob `pattern` (matched on bytes, as Redis does), in no
    /// particular order.
    pub fn keys_bytes(&self, ns: Ns, pattern: &[u8]) -> Vec<Vec<u8>> {
        self.shared.keys(ns, pattern)
    }

    /// One step of a cursor scan over `ns`: start at cursor 0, stop when it returns 0. Keys as
    /// text, as for [`Store::keys`]; [`Store::scan_bytes`] is the exact one.
    pub fn scan(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&str>,
        count: usize,
    ) -> (u64, Vec<String>) {
        let (next, keys) = self
            .shared
            .scan(ns, cursor, pattern.map(str::as_bytes), count);
        (next, keys.into_iter().map(text).collect())
    }

    /// [`Store::scan`] with keys and pattern as bytes.
    pub fn scan_bytes(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> (u64, Vec<Vec<u8>>) {
        self.shared.scan(ns, cursor, pattern, count)
    }

    /// One SCAN step of `ns` with each key's value and absolute expiry (SCANENTRIES): the same
    /// cursor and guarantees as [`Store::scan_bytes`], one table walk instead of a lookup per key.
    pub fn scan_entries(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> (u64, Vec<ScannedEntry>) {
        self.shared.scan_entries(ns, cursor, pattern, count)
    }

    /// Calls `f` on every live entry of every namespace, a slice of the table at a time under
    /// one shard read lock (so writers wait at most one slice; keep `f` short: copy out, do not
    /// write to this store from it). Point in time: every entry present for the whole walk is
    /// seen, at least once (twice only if the reaper shrank its table meanwhile); an entry
    /// written, expired or removed during the walk may or may not be.
    pub fn walk(&self, f: impl FnMut(EntryView<'_>)) {
        self.shared.walk(f)
    }

    /// Number of entries in `ns` (entries past their TTL count until reclaimed).
    pub fn len(&self, ns: Ns) -> usize {
        self.shared.namespaces.counts(ns).0 as usize
    }

    /// Is `ns` empty?
    pub fn is_empty(&self, ns: Ns) -> bool {
        self.len(ns) == 0
    }

    /// Number of entries in every namespace.
    pub fn total_len(&self) -> usize {
        self.shared.keys.load(Relaxed) as usize
    }

    /// Remove every entry of `ns`; returns how many.
    pub fn flush(&self, ns: Ns) -> usize {
        self.flush_where(|k| key_ns(k) == ns)
    }

    /// Remove every entry of every namespace; returns how many.
    pub fn flush_all(&self) -> usize {
        self.flush_where(|_| true)
    }

    fn flush_where(&self, pick: impl Fn(&[u8]) -> bool) -> usize {
        let s = &*self.shared;
        let mut removed = 0;
        s.table.retain(|e| {
            if pick(e.key()) {
                s.on_removed(e, Removal::Flushed);
                removed += 1;
                false
            } else {
                true
            }
        });
        s.free_empty_tables();
        removed
    }

    /// Run one full reaper pass now; returns how many expired entries it removed.
    pub fn reap_expired(&self) -> usize {
        let s = &*self.shared;
        (0..s.table.shard_count()).map(|i| s.reap_shard(i)).sum()
    }

    /// Rebuild smaller every shard table that removals left under a tenth full, and free the
    /// empty ones, so their memory goes back to the allocator and to the byte cap; returns how
    /// many tables changed. The reaper does this on each wake-up; this runs it now.
    pub fn shrink_tables(&self) -> usize {
        self.shared.shrink_sparse()
    }

    /// A snapshot of the counters, sizes and per-namespace totals.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
}

/// A key as text; lossy only for a key that is not UTF-8.
fn text(key: Vec<u8>) -> String {
    String::from_utf8(key).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What a write found under the shard lock, for the retry loop around it.
enum Step<T> {
    /// Finished, with this result.
    Done(T),
    /// The entry had expired at this time: remove it and go again.
    Expired(u64),
    /// A cap needs room first: evict (with no lock held) and go again.
    NeedRoom,
}
