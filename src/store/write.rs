//! The store's writes: SET in all its forms, INCRBY, APPEND, RENAME, DEL and GETDEL. Each is a
//! retry loop around one table call under one shard lock: an entry found expired is removed
//! and the write goes again; a write that needs room evicts with no lock held and goes again.
//! Invariant: room is reserved before anything is written (see `caps`), so an error leaves
//! nothing half-written.

use super::entry::{entry_size, Entry};
use super::key::{key_ns, make_key, Key, Ns, NS_PREFIX};
use super::shared::Removal;
use super::table::Upsert;
use super::value::{parse_i64, Value, ValueRef};
use super::{SetOptions, SetOutcome, Step, Store, Ttl};
use crate::error::{Error, Result};
use std::cell::Cell;

impl Store {
    /// Absolute expiry for a write, from explicit options or the default TTL; 0 = none.
    pub(super) fn expiry_for(&self, opts: &SetOptions) -> Result<u64> {
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
        self.set_ref((ns, key), value.view(), opts)
    }

    /// Write a borrowed value at `key` under `opts` (copied into the entry; nothing else is
    /// allocated). `key` is `(ns, bytes)` or a [`StoredKey`](super::StoredKey).
    #[inline]
    pub fn set_ref(
        &self,
        key: impl Key,
        value: ValueRef<'_>,
        opts: &SetOptions,
    ) -> Result<SetOutcome> {
        key.with_layout(|k| self.set_at(k, value, opts))
    }

    /// [`Store::set_ref`] of a stored key.
    #[inline]
    fn set_at(&self, k: &[u8], value: ValueRef<'_>, opts: &SetOptions) -> Result<SetOutcome> {
        self.check_key_len(k.len().saturating_sub(NS_PREFIX))?;
        self.check_value(value)?;
        let s = &*self.shared;
        let ns = key_ns(k);
        let expires_at = self.expiry_for(opts)?;
        let new_size = entry_size(k.len(), value, expires_at);
        // The entry is built before the lookup, so that work overlaps the table's cache miss
        // instead of waiting for it. A new key takes it; an overwrite that changes the value's
        // size moves to it; an overwrite of the same size writes in place and drops it. Not in
        // a concurrent store: there a thread mostly overwrites entries other threads built, so
        // its own heap's span would empty with each dropped entry and go back to the allocator's
        // shared pool, to be taken again by the next write (a global lock per set).
        let prebuild = !opts.xx && !s.config.concurrent;
        let prebuilt = Cell::new(prebuild.then(|| Entry::new(k, value, expires_at, s.bump())));
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
            s.counters.sets.add(1);
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
                match s.table.with_mut(k, overwrite) {
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

    /// Remove `key`; true if it existed. `key` is `(ns, bytes)` or a
    /// [`StoredKey`](super::StoredKey).
    pub fn delete(&self, key: impl Key) -> bool {
        key.with_layout(|k| self.remove_live(k)).is_some()
    }

    /// Remove stored key `k`, counting it as deleted if live and as expired if not; the entry
    /// if live.
    fn remove_live(&self, k: &[u8]) -> Option<Entry> {
        let s = &*self.shared;
        let e = s.table.remove(k)?;
        let live = !e.is_expired(s.now());
        let why = if live {
            Removal::Deleted
        } else {
            Removal::Expired
        };
        s.on_removed(&e, why);
        live.then_some(e)
    }

    /// Add `delta` to the integer at `key` (absent counts as 0); atomic across threads. `key`
    /// is `(ns, bytes)` or a [`StoredKey`](super::StoredKey).
    pub fn incr_by(&self, key: impl Key, delta: i64) -> Result<i64> {
        key.with_layout(|k| self.incr_by_at(k, delta))
    }

    /// [`Store::incr_by`] of a stored key.
    fn incr_by_at(&self, k: &[u8], delta: i64) -> Result<i64> {
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
            s.counters.sets.add(1);
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
        self.remove_live(&make_key(ns, key.as_ref()))
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
            let step = s.table.with_mut(&k, |e| -> Step<Result<usize>> {
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
                s.counters.sets.add(1);
                Step::Done(Ok(bytes.len()))
            });
            match step {
                None => {
                    let opts = SetOptions {
                        nx: true,
                        ..SetOptions::default()
                    };
                    if self
                        .set_ref((ns, key), ValueRef::Bytes(suffix), &opts)?
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
            return Ok(self.exists((ns, from)));
        }
        let ttl = self.ttl((ns, from));
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
            self.persist((ns, to));
        } else {
            self.set(ns, to, value, &opts)?;
        }
        Ok(true)
    }
}
