//! The engine: a sharded concurrent map (dashmap) of namespaced keys to values with per-entry
//! TTLs, an entry cap and a byte cap enforced by approximate-LRU eviction, a background reaper,
//! and stats. Invariants: this module knows nothing of napi, tokio, sockets, the protocol or
//! the REPL; every read checks expiry, so an expired entry is never returned; caps hold at
//! every instant (see `shared`); time comes only from the injected [`Clock`].

mod batch;
mod clock;
mod config;
mod entry;
mod evict;
pub mod glob;
mod load;
mod multi;
mod namespaces;
mod reaper;
mod scan;
mod shared;
mod slab;
mod stats;

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::config::{parse_memory_size, Config, EvictionPolicy};
/// Redis's `string2ll`, for the command layer's integer arguments.
pub(crate) use self::entry::parse_i64;
pub use self::entry::{
    alloc_size, Ns, StoredKey, Value, ValueRef, ENTRY_HEADER, ENTRY_OVERHEAD, EXPIRY_WORD,
};
pub use self::load::{
    check_batch, check_namespace_name, LoadBatch, LoadEntry, LoadError, LoadReport, LoadValue,
    OnConflict,
};
pub use self::namespaces::{NsGuard, MAX_NAMESPACES, MAX_NAMESPACE_LEN};
pub use self::scan::EntryView;
pub use self::stats::{NsStats, Stats};
pub use crate::error::{Error, Result};

use self::entry::{entry_size, key_ns, make_key, Entry, NS_PREFIX};
use self::reaper::Reaper;
use self::shared::Upsert;
use self::shared::{Removal, Shared};
use std::cell::Cell;
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

    /// Read a value through `f` without copying it. `None` if missing or expired.
    #[inline]
    pub fn get_with<R>(
        &self,
        ns: Ns,
        key: &(impl AsRef<[u8]> + ?Sized),
        f: impl FnOnce(ValueRef<'_>) -> R,
    ) -> Option<R> {
        let k = make_key(ns, key.as_ref());
        self.get_with_key(StoredKey::from_layout(&k), f)
    }

    /// [`Store::get_with`] for a key the caller already laid out (see [`StoredKey`]).
    #[inline]
    pub fn get_with_key<R>(
        &self,
        key: StoredKey<'_>,
        f: impl FnOnce(ValueRef<'_>) -> R,
    ) -> Option<R> {
        let s = &*self.shared;
        let k = key.bytes();
        let found = s.with_ref(k, |e| {
            if s.expired(e) {
                return Err(e.expires_at());
            }
            s.touch(e);
            Ok(f(e.value()))
        });
        let expired_at = match found {
            Some(Ok(r)) => {
                s.counters.hits.fetch_add(1, Relaxed);
                return Some(r);
            }
            Some(Err(at)) => at,
            None => {
                s.counters.misses.fetch_add(1, Relaxed);
                return None;
            }
        };
        s.remove_expired(k, expired_at);
        s.counters.misses.fetch_add(1, Relaxed);
        None
    }

    /// A hint that `key` is about to be read or written: starts loading the lines its lookup
    /// reads first, without taking a lock, so a caller can overlap that cache miss with other
    /// work (the addon reads the value of a `set` from JS meanwhile). Changes nothing.
    #[inline]
    pub fn prefetch(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) {
        self.prefetch_key(StoredKey::from_layout(&make_key(ns, key.as_ref())));
    }

    /// [`Store::prefetch`] for a key the caller already laid out (see [`StoredKey`]).
    #[inline]
    pub fn prefetch_key(&self, key: StoredKey<'_>) {
        self.shared.prefetch_key(key.bytes());
    }

    /// A copy of the value at `key`.
    pub fn get(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> Option<Value> {
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
    pub fn set(
        &self,
        ns: Ns,
        key: &(impl AsRef<[u8]> + ?Sized),
        value: Value,
        opts: &SetOptions,
    ) -> Result<SetOutcome> {
        self.set_ref(ns, key, value.view(), opts)
    }

    /// Write a borrowed value at `key` under `opts` (copied into the entry; nothing else is
    /// allocated).
    pub fn set_ref(
        &self,
        ns: Ns,
        key: &(impl AsRef<[u8]> + ?Sized),
        value: ValueRef<'_>,
        opts: &SetOptions,
    ) -> Result<SetOutcome> {
        let k = make_key(ns, key.as_ref());
        self.set_key(StoredKey::from_layout(&k), value, opts)
    }

    /// [`Store::set_ref`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn set_key(
        &self,
        key: StoredKey<'_>,
        value: ValueRef<'_>,
        opts: &SetOptions,
    ) -> Result<SetOutcome> {
        let k = key.bytes();
        self.check_key_len(k.len().saturating_sub(NS_PREFIX))?;
        self.check_value(value)?;
        let s = &*self.shared;
        let ns = key_ns(k);
        let expires_at = self.expiry_for(opts)?;
        let new_size = entry_size(k.len(), value, expires_at);
        // The entry is built before the lookup, so that work overlaps the table's cache miss
        // instead of waiting for it. A new key takes it; an overwrite that changes the value's
        // size moves to it; an overwrite of the same size writes in place and drops it.
        let prebuilt = Cell::new((!opts.xx).then(|| Entry::new(k, value, expires_at, s.bump())));
        let overwrite = |e: &mut Entry| -> Step<SetOutcome> {
            if s.expired(e) {
                return Step::Expired(e.expires_at());
            }
            let previous = opts.get.then(|| e.value().to_owned());
            if opts.nx {
                return Step::Done(SetOutcome {
                    written: false,
                    previous,
                });
            }
            let new_exp = if opts.keep_ttl {
                e.expires_at()
            } else {
                expires_at
            };
            if !s.resize(ns, e.size(), entry_size(k.len(), value, new_exp)) {
                return Step::NeedRoom;
            }
            s.on_ttl_change(e.expires_at(), new_exp);
            e.rewrite(value, new_exp, prebuilt.take());
            s.touch(e);
            s.counters.sets.fetch_add(1, Relaxed);
            Step::Done(SetOutcome {
                written: true,
                previous,
            })
        };
        let written = || SetOutcome {
            written: true,
            previous: None,
        };
        loop {
            let step = if opts.xx {
                match s.with_mut(k, overwrite) {
                    Some(step) => step,
                    None => {
                        return Ok(SetOutcome {
                            written: false,
                            previous: None,
                        })
                    }
                }
            } else {
                let make = || {
                    prebuilt
                        .take()
                        .unwrap_or_else(|| Entry::new(k, value, expires_at, s.bump()))
                };
                match s.upsert(k, new_size, overwrite, make) {
                    Upsert::Existing(step) => step,
                    Upsert::Inserted => return Ok(written()),
                    // No room without evicting: insert the slow way, which evicts.
                    Upsert::Vacant => match s.insert_new(make())? {
                        None => return Ok(written()),
                        // Another writer inserted the key first: go again, with the entry.
                        Some(entry) => {
                            prebuilt.set(Some(entry));
                            continue;
                        }
                    },
                }
            };
            match step {
                Step::Done(out) => return Ok(out),
                Step::Expired(at) => {
                    s.remove_expired(k, at);
                }
                Step::NeedRoom => {
                    if !s.evict_one() {
                        return Err(Error::OutOfMemory);
                    }
                }
            }
        }
    }

    /// Remove `key`; true if it existed.
    pub fn delete(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> bool {
        self.remove_live(ns, key.as_ref()).is_some()
    }

    /// [`Store::delete`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn delete_key(&self, key: StoredKey<'_>) -> bool {
        self.remove_live_key(key.bytes()).is_some()
    }

    /// Remove `key`, counting it as deleted if live and as expired if not; the entry if live.
    fn remove_live(&self, ns: Ns, key: &[u8]) -> Option<Entry> {
        self.remove_live_key(&make_key(ns, key))
    }

    /// [`Store::remove_live`] of a stored key.
    fn remove_live_key(&self, k: &[u8]) -> Option<Entry> {
        let s = &*self.shared;
        let (e, _) = s.map.remove(k)?;
        let live = !e.is_expired(s.now());
        let why = if live {
            Removal::Deleted
        } else {
            Removal::Expired
        };
        s.on_removed(&e, why);
        live.then_some(e)
    }

    /// Is `key` present? Does not count as an access.
    pub fn exists(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> bool {
        !matches!(self.ttl(ns, key), Ttl::Missing)
    }

    /// [`Store::exists`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn exists_key(&self, key: StoredKey<'_>) -> bool {
        !matches!(self.ttl_key(key), Ttl::Missing)
    }

    /// Remaining TTL of `key`.
    pub fn ttl(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> Ttl {
        self.ttl_key(StoredKey::from_layout(&make_key(ns, key.as_ref())))
    }

    /// [`Store::ttl`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn ttl_key(&self, key: StoredKey<'_>) -> Ttl {
        let s = &*self.shared;
        let Some(at) = s.with_ref(key.bytes(), Entry::expires_at) else {
            return Ttl::Missing;
        };
        if at == 0 {
            return Ttl::Persistent;
        }
        let now = s.now();
        if now > at {
            Ttl::Missing
        } else {
            Ttl::Remaining(at - now)
        }
    }

    /// Expire `key` in `ttl_ms` (0 removes it now); false if the key is missing.
    pub fn expire(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized), ttl_ms: u64) -> bool {
        self.expire_key(StoredKey::from_layout(&make_key(ns, key.as_ref())), ttl_ms)
    }

    /// [`Store::expire`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn expire_key(&self, key: StoredKey<'_>, ttl_ms: u64) -> bool {
        let at = self.shared.now().saturating_add(ttl_ms);
        self.expire_at_key(key, at)
    }

    /// Expire `key` at absolute clock time `at_ms`; a time not in the future (`at_ms <= now`)
    /// removes it now, as Redis's EXPIREAT does (a key written with that expiry by SET PXAT
    /// would live through the current millisecond).
    pub fn expire_at(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized), at_ms: u64) -> bool {
        self.expire_at_key(StoredKey::from_layout(&make_key(ns, key.as_ref())), at_ms)
    }

    /// [`Store::expire_at`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn expire_at_key(&self, key: StoredKey<'_>, at_ms: u64) -> bool {
        let s = &*self.shared;
        let now = s.now();
        if at_ms <= now {
            return self.delete_key(key);
        }
        let k = key.bytes();
        // A key that had no TTL grows by the expiry word: room is made as for a write, but
        // when nothing can be evicted the TTL is set anyway and the store runs over its byte
        // cap by those bytes until something is freed (as Redis's EXPIRE is never refused).
        let mut over_cap = false;
        loop {
            let step = s.with_mut(k, |e| {
                if e.is_expired(now) {
                    return Step::Expired(e.expires_at());
                }
                let (old, new) = (e.size(), entry_size(k.len(), e.value(), at_ms));
                if over_cap {
                    s.charge(key_ns(k), old, new);
                } else if !s.resize(key_ns(k), old, new) {
                    return Step::NeedRoom;
                }
                s.on_ttl_change(e.expires_at(), at_ms);
                e.set_expires_at(at_ms);
                Step::Done(())
            });
            match step {
                None => return false,
                Some(Step::Done(())) => return true,
                Some(Step::Expired(at)) => {
                    s.remove_expired(k, at);
                    return false;
                }
                Some(Step::NeedRoom) => over_cap = !s.evict_one(),
            }
        }
    }

    /// Access statistics for `key`, without counting as an access. `None` if missing or expired.
    pub fn info(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> Option<EntryInfo> {
        let s = &*self.shared;
        let k = make_key(ns, key.as_ref());
        let r = s.map.get(&k[..])?;
        let e = r.key();
        let now = s.now();
        if e.is_expired(now) {
            return None;
        }
        let access_now = s.access_now();
        Some(EntryInfo {
            idle_ms: access_now.saturating_sub(e.last_access_ms()),
            frequency: e.frequency(access_now),
            ttl: if e.expires_at() == 0 {
                Ttl::Persistent
            } else {
                Ttl::Remaining(e.expires_at() - now)
            },
            size: e.size(),
            is_int: e.is_int(),
        })
    }

    /// Remove `key`'s TTL; true if it had one.
    pub fn persist(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> bool {
        self.persist_key(StoredKey::from_layout(&make_key(ns, key.as_ref())))
    }

    /// [`Store::persist`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn persist_key(&self, key: StoredKey<'_>) -> bool {
        let s = &*self.shared;
        s.with_mut(key.bytes(), |e| {
            if e.expires_at() == 0 || e.is_expired(s.now()) {
                return false;
            }
            // Dropping the expiry word shrinks the entry, which always fits.
            s.resize(
                key_ns(e.key()),
                e.size(),
                entry_size(e.key().len(), e.value(), 0),
            );
            s.on_ttl_change(e.expires_at(), 0);
            e.set_expires_at(0);
            true
        })
        .unwrap_or(false)
    }

    /// Add `delta` to the integer at `key` (absent counts as 0); atomic across threads.
    pub fn incr_by(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized), delta: i64) -> Result<i64> {
        self.incr_by_key(StoredKey::from_layout(&make_key(ns, key.as_ref())), delta)
    }

    /// [`Store::incr_by`] for a key the caller already laid out (see [`StoredKey`]).
    pub fn incr_by_key(&self, key: StoredKey<'_>, delta: i64) -> Result<i64> {
        let k = key.bytes();
        self.check_key_len(k.len().saturating_sub(NS_PREFIX))?;
        let s = &*self.shared;
        let ns = key_ns(k);
        let bump = |e: &mut Entry| -> Step<Result<i64>> {
            if s.expired(e) {
                return Step::Expired(e.expires_at());
            }
            let current = match e.value() {
                ValueRef::Int(n) => n,
                ValueRef::Bytes(b) => match parse_i64(b) {
                    Some(n) => n,
                    None => return Step::Done(Err(Error::NotInteger)),
                },
            };
            let Some(next) = current.checked_add(delta) else {
                return Step::Done(Err(Error::Overflow));
            };
            if !s.resize(
                ns,
                e.size(),
                entry_size(k.len(), ValueRef::Int(0), e.expires_at()),
            ) {
                return Step::NeedRoom;
            }
            e.set_value(ValueRef::Int(next));
            s.touch(e);
            s.counters.sets.fetch_add(1, Relaxed);
            Step::Done(Ok(next))
        };
        loop {
            let expires_at = self.expiry_for(&SetOptions::default())?;
            let new_size = entry_size(k.len(), ValueRef::Int(0), expires_at);
            let make = || Entry::new(k, ValueRef::Int(delta), expires_at, s.bump());
            let step = match s.upsert(k, new_size, bump, make) {
                Upsert::Existing(step) => step,
                Upsert::Inserted => return Ok(delta),
                Upsert::Vacant => match s.insert_new(make())? {
                    None => return Ok(delta),
                    Some(_) => continue,
                },
            };
            match step {
                Step::Done(out) => return out,
                Step::Expired(at) => {
                    s.remove_expired(k, at);
                }
                Step::NeedRoom => {
                    if !s.evict_one() {
                        return Err(Error::OutOfMemory);
                    }
                }
            }
        }
    }

    /// Remove `key` and return its value (GETDEL).
    pub fn take(&self, ns: Ns, key: &(impl AsRef<[u8]> + ?Sized)) -> Option<Value> {
        self.remove_live(ns, key.as_ref())
            .map(|e| e.value().to_owned())
    }

    /// Append `suffix` to the value at `key` (absent counts as empty); returns the new length.
    pub fn append(
        &self,
        ns: Ns,
        key: &(impl AsRef<[u8]> + ?Sized),
        suffix: &[u8],
    ) -> Result<usize> {
        self.check_key(key.as_ref())?;
        let s = &*self.shared;
        let k = make_key(ns, key.as_ref());
        let max = s.config.max_value_len;
        loop {
            let step = s.with_mut(&k, |e| -> Step<Result<usize>> {
                if s.expired(e) {
                    return Step::Expired(e.expires_at());
                }
                let mut bytes = match e.value() {
                    ValueRef::Bytes(b) => b.to_vec(),
                    ValueRef::Int(n) => n.to_string().into_bytes(),
                };
                bytes.extend_from_slice(suffix);
                if bytes.len() > max {
                    return Step::Done(Err(Error::ValueTooLarge {
                        len: bytes.len(),
                        max,
                    }));
                }
                let value = ValueRef::Bytes(&bytes);
                if !s.resize(ns, e.size(), entry_size(k.len(), value, e.expires_at())) {
                    return Step::NeedRoom;
                }
                e.set_value(value);
                s.touch(e);
                s.counters.sets.fetch_add(1, Relaxed);
                Step::Done(Ok(bytes.len()))
            });
            match step {
                None => {
                    let opts = SetOptions {
                        nx: true,
                        ..SetOptions::default()
                    };
                    if self
                        .set_ref(ns, key, ValueRef::Bytes(suffix), &opts)?
                        .written
                    {
                        return Ok(suffix.len());
                    }
                }
                Some(Step::Done(out)) => return out,
                Some(Step::Expired(at)) => {
                    s.remove_expired(&k, at);
                }
                Some(Step::NeedRoom) => {
                    if !s.evict_one() {
                        return Err(Error::OutOfMemory);
                    }
                }
            }
        }
    }

    /// Move `from` to `to`, keeping its TTL and replacing any value at `to`. False if `from`
    /// is missing.
    pub fn rename(
        &self,
        ns: Ns,
        from: &(impl AsRef<[u8]> + ?Sized),
        to: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<bool> {
        self.check_key(to.as_ref())?;
        if from.as_ref() == to.as_ref() {
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
        self.flush_where(|k| entry::key_ns(k) == ns)
    }

    /// Remove every entry of every namespace; returns how many.
    pub fn flush_all(&self) -> usize {
        self.flush_where(|_| true)
    }

    fn flush_where(&self, pick: impl Fn(&[u8]) -> bool) -> usize {
        let s = &*self.shared;
        let mut removed = 0;
        s.map.retain(|e, _| {
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
        (0..s.map.shards().len()).map(|i| s.reap_shard(i)).sum()
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
