//! The engine: a sharded concurrent map (dashmap) of namespaced keys to values with per-entry
//! TTLs, an entry cap and a byte cap enforced by approximate-LRU eviction, a background reaper,
//! and stats. Invariants: this module knows nothing of napi, tokio, sockets, the protocol or
//! the REPL; every read checks expiry, so an expired entry is never returned; caps hold at
//! every instant (see `shared`); time comes only from the injected [`Clock`].

mod clock;
mod config;
mod entry;
mod evict;
pub mod glob;
mod namespaces;
mod reaper;
mod scan;
mod shared;
mod stats;

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::config::{parse_memory_size, Config, EvictionPolicy};
pub use self::entry::{alloc_size, Ns, Value, ValueRef, ENTRY_OVERHEAD};
pub use self::namespaces::{MAX_NAMESPACES, MAX_NAMESPACE_LEN};
pub use self::stats::{NsStats, Stats};
pub use crate::error::{Error, Result};

use self::entry::{make_key, parse_i64, value_heap_len, Entry, Stored};
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
    /// Bytes charged for the entry's key and value allocations (its table slot is charged with
    /// the table).
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

    /// The id of namespace `name`, creating it on first use.
    pub fn namespace(&self, name: &str) -> Result<Ns> {
        self.shared.namespaces.id(name)
    }

    /// The name of a namespace id.
    pub fn namespace_name(&self, ns: Ns) -> String {
        self.shared.namespaces.name(ns)
    }

    fn check_key(&self, key: &str) -> Result<()> {
        let max = self.shared.config.max_key_len;
        if key.len() > max {
            return Err(Error::KeyTooLarge {
                len: key.len(),
                max,
            });
        }
        Ok(())
    }

    fn check_value(&self, value: &Value) -> Result<()> {
        let max = self.shared.config.max_value_len;
        match value {
            Value::Bytes(b) if b.len() > max => Err(Error::ValueTooLarge { len: b.len(), max }),
            _ => Ok(()),
        }
    }

    /// Read a value through `f` without copying it. `None` if missing or expired.
    #[inline]
    pub fn get_with<R>(&self, ns: Ns, key: &str, f: impl FnOnce(ValueRef<'_>) -> R) -> Option<R> {
        let s = &*self.shared;
        let k = make_key(ns, key);
        let expired_at = match s.map.get(&k[..]) {
            Some(e) => {
                if e.expires_at == 0 || !e.is_expired(s.now()) {
                    s.touch(&e);
                    s.counters.hits.fetch_add(1, Relaxed);
                    return Some(f(e.value.as_ref()));
                }
                e.expires_at
            }
            None => {
                s.counters.misses.fetch_add(1, Relaxed);
                return None;
            }
        };
        s.remove_expired(&k, expired_at);
        s.counters.misses.fetch_add(1, Relaxed);
        None
    }

    /// A copy of the value at `key`.
    pub fn get(&self, ns: Ns, key: &str) -> Option<Value> {
        self.get_with(ns, key, |v| v.to_owned())
    }

    /// Absolute expiry for a write, from explicit options or the default TTL; 0 = none.
    fn expiry_for(&self, opts: &SetOptions) -> Result<u64> {
        if let Some(at) = opts.expire_at_ms {
            return Ok(at.max(1));
        }
        match opts.ttl_ms.or(self.shared.config.default_ttl_ms) {
            Some(0) => Err(Error::InvalidArgument(
                "ttl must be a positive number of milliseconds".into(),
            )),
            Some(ms) => Ok(self.shared.now().saturating_add(ms)),
            None => Ok(0),
        }
    }

    /// Write `value` at `key` under `opts`.
    pub fn set(&self, ns: Ns, key: &str, value: Value, opts: &SetOptions) -> Result<SetOutcome> {
        self.check_key(key)?;
        self.check_value(&value)?;
        let s = &*self.shared;
        let expires_at = self.expiry_for(opts)?;
        let k = make_key(ns, key);
        let new_heap = value_heap_len(&value);
        let mut value = Some(value);
        loop {
            if let Some(mut e) = s.map.get_mut(&k[..]) {
                if e.expires_at != 0 && e.is_expired(s.now()) {
                    let at = e.expires_at;
                    drop(e);
                    s.remove_expired(&k, at);
                    continue;
                }
                let previous = opts.get.then(|| e.value.as_ref().to_owned());
                if opts.nx {
                    return Ok(SetOutcome {
                        written: false,
                        previous,
                    });
                }
                let old_heap = e.value.heap_len();
                if new_heap > old_heap {
                    let grow = (new_heap - old_heap) as u64;
                    if !s.try_reserve(0, grow) {
                        drop(e);
                        if !s.evict_one() {
                            return Err(Error::OutOfMemory);
                        }
                        continue;
                    }
                } else {
                    s.release(0, (old_heap - new_heap) as u64);
                }
                s.namespaces.add(ns, 0, new_heap as i64 - old_heap as i64);
                let new_exp = if opts.keep_ttl {
                    e.expires_at
                } else {
                    expires_at
                };
                s.on_ttl_change(e.expires_at, new_exp);
                e.expires_at = new_exp;
                e.value = Stored::from_value(value.take().unwrap_or(Value::Int(0)));
                s.touch(&e);
                s.counters.sets.fetch_add(1, Relaxed);
                return Ok(SetOutcome {
                    written: true,
                    previous,
                });
            }
            if opts.xx {
                return Ok(SetOutcome {
                    written: false,
                    previous: None,
                });
            }
            let v = Stored::from_value(value.take().unwrap_or(Value::Int(0)));
            match s.insert_new(&k, Entry::new(v, expires_at, s.bump(), s.access_now()))? {
                None => {
                    return Ok(SetOutcome {
                        written: true,
                        previous: None,
                    })
                }
                // Another writer inserted the key first: take our value back and retry.
                Some(lost) => value = Some(lost.value.as_ref().to_owned()),
            }
        }
    }

    /// Remove `key`; true if it existed.
    pub fn delete(&self, ns: Ns, key: &str) -> bool {
        self.remove_live(ns, key).is_some()
    }

    /// Remove `key`, counting it as deleted if live and as expired if not; the entry if live.
    fn remove_live(&self, ns: Ns, key: &str) -> Option<Entry> {
        let s = &*self.shared;
        let k = make_key(ns, key);
        let (k, e) = s.map.remove(&k[..])?;
        let live = !e.is_expired(s.now());
        let why = if live {
            Removal::Deleted
        } else {
            Removal::Expired
        };
        s.on_removed(&k, &e, why);
        live.then_some(e)
    }

    /// Is `key` present? Does not count as an access.
    pub fn exists(&self, ns: Ns, key: &str) -> bool {
        !matches!(self.ttl(ns, key), Ttl::Missing)
    }

    /// Remaining TTL of `key`.
    pub fn ttl(&self, ns: Ns, key: &str) -> Ttl {
        let s = &*self.shared;
        let k = make_key(ns, key);
        let Some(e) = s.map.get(&k[..]) else {
            return Ttl::Missing;
        };
        if e.expires_at == 0 {
            return Ttl::Persistent;
        }
        let now = s.now();
        if e.is_expired(now) {
            Ttl::Missing
        } else {
            Ttl::Remaining(e.expires_at - now)
        }
    }

    /// Expire `key` in `ttl_ms` (0 removes it now); false if the key is missing.
    pub fn expire(&self, ns: Ns, key: &str, ttl_ms: u64) -> bool {
        let at = self.shared.now().saturating_add(ttl_ms);
        self.expire_at(ns, key, at)
    }

    /// Expire `key` at absolute clock time `at_ms`; a time not in the future removes it now.
    pub fn expire_at(&self, ns: Ns, key: &str, at_ms: u64) -> bool {
        let s = &*self.shared;
        let now = s.now();
        if at_ms <= now {
            return self.delete(ns, key);
        }
        let k = make_key(ns, key);
        let Some(mut e) = s.map.get_mut(&k[..]) else {
            return false;
        };
        if e.is_expired(now) {
            let at = e.expires_at;
            drop(e);
            s.remove_expired(&k, at);
            return false;
        }
        s.on_ttl_change(e.expires_at, at_ms);
        e.expires_at = at_ms;
        true
    }

    /// Access statistics for `key`, without counting as an access. `None` if missing or expired.
    pub fn info(&self, ns: Ns, key: &str) -> Option<EntryInfo> {
        let s = &*self.shared;
        let k = make_key(ns, key);
        let e = s.map.get(&k[..])?;
        let now = s.now();
        if e.is_expired(now) {
            return None;
        }
        let access_now = s.access_now();
        Some(EntryInfo {
            idle_ms: access_now.saturating_sub(e.last_access_ms()),
            frequency: e.frequency(access_now),
            ttl: if e.expires_at == 0 {
                Ttl::Persistent
            } else {
                Ttl::Remaining(e.expires_at - now)
            },
            size: entry::entry_size(k.len(), e.value.heap_len()),
            is_int: matches!(e.value, Stored::Int(_)),
        })
    }

    /// Remove `key`'s TTL; true if it had one.
    pub fn persist(&self, ns: Ns, key: &str) -> bool {
        let s = &*self.shared;
        let k = make_key(ns, key);
        let Some(mut e) = s.map.get_mut(&k[..]) else {
            return false;
        };
        if e.expires_at == 0 || e.is_expired(s.now()) {
            return false;
        }
        s.on_ttl_change(e.expires_at, 0);
        e.expires_at = 0;
        true
    }

    /// Add `delta` to the integer at `key` (absent counts as 0); atomic across threads.
    pub fn incr_by(&self, ns: Ns, key: &str, delta: i64) -> Result<i64> {
        self.check_key(key)?;
        let s = &*self.shared;
        let k = make_key(ns, key);
        loop {
            if let Some(mut e) = s.map.get_mut(&k[..]) {
                if e.expires_at != 0 && e.is_expired(s.now()) {
                    let at = e.expires_at;
                    drop(e);
                    s.remove_expired(&k, at);
                    continue;
                }
                let current = match &e.value {
                    Stored::Int(n) => *n,
                    Stored::Bytes(b) => parse_i64(b).ok_or(Error::NotInteger)?,
                };
                let next = current.checked_add(delta).ok_or(Error::Overflow)?;
                let old_heap = e.value.heap_len();
                if old_heap > 0 {
                    s.release(0, old_heap as u64);
                    s.namespaces.add(ns, 0, -(old_heap as i64));
                }
                e.value = Stored::Int(next);
                s.touch(&e);
                s.counters.sets.fetch_add(1, Relaxed);
                return Ok(next);
            }
            let expires_at = self.expiry_for(&SetOptions::default())?;
            let entry = Entry::new(Stored::Int(delta), expires_at, s.bump(), s.access_now());
            if s.insert_new(&k, entry)?.is_none() {
                return Ok(delta);
            }
        }
    }

    /// Remove `key` and return its value (GETDEL).
    pub fn take(&self, ns: Ns, key: &str) -> Option<Value> {
        self.remove_live(ns, key)
            .map(|e| e.value.as_ref().to_owned())
    }

    /// Append `suffix` to the value at `key` (absent counts as empty); returns the new length.
    pub fn append(&self, ns: Ns, key: &str, suffix: &[u8]) -> Result<usize> {
        self.check_key(key)?;
        let s = &*self.shared;
        let k = make_key(ns, key);
        loop {
            let Some(mut e) = s.map.get_mut(&k[..]) else {
                let opts = SetOptions {
                    nx: true,
                    ..SetOptions::default()
                };
                if self
                    .set(ns, key, Value::Bytes(suffix.to_vec()), &opts)?
                    .written
                {
                    return Ok(suffix.len());
                }
                continue;
            };
            if e.expires_at != 0 && e.is_expired(s.now()) {
                let at = e.expires_at;
                drop(e);
                s.remove_expired(&k, at);
                continue;
            }
            let mut bytes = match &e.value {
                Stored::Bytes(b) => b.to_vec(),
                Stored::Int(n) => n.to_string().into_bytes(),
            };
            bytes.extend_from_slice(suffix);
            let max = s.config.max_value_len;
            if bytes.len() > max {
                return Err(Error::ValueTooLarge {
                    len: bytes.len(),
                    max,
                });
            }
            let grow = (bytes.len() - e.value.heap_len()) as u64;
            if !s.try_reserve(0, grow) {
                drop(e);
                if !s.evict_one() {
                    return Err(Error::OutOfMemory);
                }
                continue;
            }
            s.namespaces.add(ns, 0, grow as i64);
            let len = bytes.len();
            e.value = Stored::Bytes(bytes.into_boxed_slice());
            s.touch(&e);
            s.counters.sets.fetch_add(1, Relaxed);
            return Ok(len);
        }
    }

    /// Move `from` to `to`, keeping its TTL and replacing any value at `to`. False if `from`
    /// is missing.
    pub fn rename(&self, ns: Ns, from: &str, to: &str) -> Result<bool> {
        self.check_key(to)?;
        if from == to {
            return Ok(self.exists(ns, from));
        }
        let ttl = self.ttl(ns, from);
        let Some(value) = self.take(ns, from) else {
            return Ok(false);
        };
        let expire_at_ms = match ttl {
            Ttl::Remaining(ms) => Some(self.now_ms() + ms),
            _ => None,
        };
        let opts = SetOptions {
            expire_at_ms,
            ..SetOptions::default()
        };
        if expire_at_ms.is_none() {
            // A plain set would apply the default TTL; RENAME keeps "no TTL".
            self.set(ns, to, value, &opts)?;
            self.persist(ns, to);
        } else {
            self.set(ns, to, value, &opts)?;
        }
        Ok(true)
    }

    /// Values for many keys, in order.
    pub fn mget(&self, ns: Ns, keys: &[&str]) -> Vec<Option<Value>> {
        keys.iter().map(|k| self.get(ns, k)).collect()
    }

    /// Write many entries with the same options. Checks every key and value before writing any.
    pub fn mset(&self, ns: Ns, entries: &[(&str, Value)], opts: &SetOptions) -> Result<()> {
        for (k, v) in entries {
            self.check_key(k)?;
            self.check_value(v)?;
        }
        for (k, v) in entries {
            self.set(ns, k, v.clone(), opts)?;
        }
        Ok(())
    }

    /// Live keys in `ns` matching the glob `pattern`, in no particular order.
    pub fn keys(&self, ns: Ns, pattern: &str) -> Vec<String> {
        self.shared.keys(ns, pattern)
    }

    /// One step of a cursor scan over `ns`: start at cursor 0, stop when it returns 0.
    pub fn scan(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&str>,
        count: usize,
    ) -> (u64, Vec<String>) {
        self.shared.scan(ns, cursor, pattern, count)
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
        self.flush_where(|k| entry::key_ns(k) == ns)
    }

    /// Remove every entry of every namespace; returns how many.
    pub fn flush_all(&self) -> usize {
        self.flush_where(|_| true)
    }

    fn flush_where(&self, pick: impl Fn(&[u8]) -> bool) -> usize {
        let s = &*self.shared;
        let mut removed = 0;
        s.map.retain(|k, e| {
            if pick(k) {
                s.on_removed(k, e, Removal::Flushed);
                removed += 1;
                false
            } else {
                true
            }
        });
        removed
    }

    /// Run one full reaper pass now; returns how many expired entries it removed.
    pub fn reap_expired(&self) -> usize {
        let s = &*self.shared;
        (0..s.map.shards().len()).map(|i| s.reap_shard(i)).sum()
    }

    /// A snapshot of the counters, sizes and per-namespace totals.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
}
