//! Multi-key writes (MSET, MSETNX, the addon's `mset`): all or nothing. Redis checks memory
//! once before the command, so an MSET is either refused whole or done whole; here the caps
//! hold at every instant instead, so a capped store first reserves the room the whole batch
//! needs (the entries it adds, and the bytes by which each new value outgrows the one it
//! replaces), evicting as the policy allows, and refuses with OOM before writing anything if
//! that room cannot be had. The reservation is released just before the writes, which then
//! find that room; if a concurrent writer takes it first and a write fails, the keys already
//! written are put back as they were (new ones deleted, overwritten ones restored with their
//! old value and expiry) before the error is returned. An uncapped store cannot run out of
//! room and skips all of this.

use super::entry::entry_size;
use super::key::make_key;
use super::{Ns, SetOptions, Store, Value, ValueRef};
use crate::error::Result;
use std::collections::HashMap;

/// A key's value and expiry before a batch wrote it, to put back on failure.
struct Before {
    value: Value,
    expires_at: u64,
}

impl Store {
    /// Write many entries with the same options, all or nothing: checks every key and value
    /// first, and on a capped store reserves the room the whole batch needs before writing any
    /// (see the module docs). On an error nothing of the batch is left written.
    pub fn mset<K: AsRef<[u8]>>(
        &self,
        ns: Ns,
        entries: &[(K, ValueRef<'_>)],
        opts: &SetOptions,
    ) -> Result<()> {
        for (k, v) in entries {
            self.check_key(k.as_ref())?;
            self.check_value(*v)?;
        }
        let c = &self.shared.config;
        if c.max_memory.is_none() && c.max_entries.is_none() {
            for (k, v) in entries {
                self.set_ref((ns, k), *v, opts)?;
            }
            return Ok(());
        }
        let before = self.reserve_batch(ns, entries, opts)?;
        for (i, (k, v)) in entries.iter().enumerate() {
            if let Err(e) = self.set_ref((ns, k), *v, opts) {
                self.put_back(ns, &entries[..i], &before);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Reserves, then releases, the room `entries` needs (evicting as the policy allows), and
    /// returns what each distinct key held before: OOM if the room cannot be had.
    fn reserve_batch<'k, K: AsRef<[u8]>>(
        &self,
        ns: Ns,
        entries: &'k [(K, ValueRef<'_>)],
        opts: &SetOptions,
    ) -> Result<HashMap<&'k [u8], Option<Before>>> {
        let s = &*self.shared;
        let expires_at = self.expiry_for(opts)?;
        // The last value written to each key is the one that stays.
        let mut last: HashMap<&[u8], ValueRef<'_>> = HashMap::with_capacity(entries.len());
        for (k, v) in entries {
            last.insert(k.as_ref(), *v);
        }
        let (mut new_entries, mut new_bytes) = (0u64, 0u64);
        let mut before = HashMap::with_capacity(last.len());
        for (k, v) in last {
            let key = make_key(ns, k);
            let now = s.now();
            let old = s.table.with_ref(&key[..], |e| {
                (!e.is_expired(now)).then(|| {
                    let b = Before {
                        value: e.value().to_owned(),
                        expires_at: e.expires_at(),
                    };
                    (b, e.size())
                })
            });
            let new_size = entry_size(key.len(), v, expires_at);
            match old.flatten() {
                Some((b, old_size)) => {
                    new_bytes += new_size.saturating_sub(old_size);
                    before.insert(k, Some(b));
                }
                None => {
                    new_entries += 1;
                    new_bytes += new_size;
                    before.insert(k, None);
                }
            }
        }
        s.reserve(new_entries, new_bytes)?;
        s.caps.release(new_entries, new_bytes);
        Ok(before)
    }

    /// Undoes the writes of `written` (a prefix of a batch): keys that were new are deleted
    /// first (freeing room), then overwritten ones get their old value and expiry back.
    fn put_back<K: AsRef<[u8]>>(
        &self,
        ns: Ns,
        written: &[(K, ValueRef<'_>)],
        before: &HashMap<&[u8], Option<Before>>,
    ) {
        let mut restore = Vec::new();
        for (k, _) in written {
            let k = k.as_ref();
            match before.get(k) {
                Some(None) => {
                    self.delete((ns, k));
                }
                Some(Some(b)) => restore.push((k, b)),
                None => {}
            }
        }
        restore.sort_unstable_by_key(|(k, _)| *k);
        restore.dedup_by_key(|(k, _)| *k);
        for (k, b) in restore {
            let opts = SetOptions {
                expire_at_ms: (b.expires_at != 0).then_some(b.expires_at),
                ..SetOptions::default()
            };
            // Best effort: the room it had was just given back by the batch's own writes.
            if self.set_ref((ns, k), b.value.view(), &opts).is_ok() && b.expires_at == 0 {
                self.persist((ns, k));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Config, ManualClock, Ttl};
    use std::sync::Arc;

    const D: Ns = Ns::DEFAULT;

    /// The rollback a batch runs when a write fails mid-way (a concurrent writer took its
    /// room): new keys go, overwritten ones get their value and expiry back, including "no
    /// TTL" on a store with a default TTL.
    #[test]
    fn put_back_restores_values_and_expiries_and_deletes_new_keys() {
        let config = Config {
            reaper_interval_ms: 0,
            default_ttl_ms: Some(5_000),
            ..Config::default()
        };
        let s = Store::with_clock(config, Arc::new(ManualClock::new(1_000))).unwrap();
        let ttl = SetOptions {
            ttl_ms: Some(60_000),
            ..SetOptions::default()
        };
        let plain = SetOptions::default();
        s.set_ref((D, "a"), ValueRef::Bytes(b"old a"), &ttl)
            .unwrap();
        s.set_ref((D, "b"), ValueRef::Bytes(b"old b"), &plain)
            .unwrap();
        assert!(s.persist((D, "b")));
        let new = ValueRef::Bytes(b"new");
        let entries = [("a", new), ("b", new), ("c", new), ("c", new)];
        let before = s.reserve_batch(D, &entries, &plain).unwrap();
        for (k, v) in &entries {
            s.set_ref((D, k), *v, &plain).unwrap();
        }
        s.put_back(D, &entries, &before);
        assert_eq!(s.get(D, "a"), Some(Value::Bytes(b"old a".to_vec())));
        assert_eq!(s.ttl((D, "a")), Ttl::Remaining(60_000));
        assert_eq!(s.get(D, "b"), Some(Value::Bytes(b"old b".to_vec())));
        assert_eq!(s.ttl((D, "b")), Ttl::Persistent);
        assert_eq!(s.get(D, "c"), None);
        assert_eq!(s.total_len(), 2);
    }
}
