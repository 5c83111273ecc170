//! TTLs and per-key inspection: EXISTS, TTL, EXPIRE, EXPIREAT, PERSIST and OBJECT's view of
//! an entry. None of these counts as an access. Invariant: a TTL is checked against the clock
//! on every read, so an expired entry is reported missing even before it is reclaimed; gaining
//! or losing a TTL resizes the entry by its expiry word, accounted for like any write.

use super::entry::{entry_size, Entry};
use super::key::{key_ns, make_key, Key, Ns};
use super::{EntryInfo, Step, Store, Ttl};

impl Store {
    /// Is `key` present? Does not count as an access. `key` is `(ns, bytes)` or a
    /// [`StoredKey`](super::StoredKey).
    pub fn exists(&self, key: impl Key) -> bool {
        key.with_layout(|k| self.exists_at(k))
    }

    /// [`Store::exists`] of a stored key: one function for both key forms, as `ttl_at` is.
    fn exists_at(&self, k: &[u8]) -> bool {
        !matches!(self.ttl_at(k), Ttl::Missing)
    }

    /// Remaining TTL of `key` (`(ns, bytes)` or a [`StoredKey`](super::StoredKey)).
    pub fn ttl(&self, key: impl Key) -> Ttl {
        key.with_layout(|k| self.ttl_at(k))
    }

    /// [`Store::ttl`] of a stored key.
    fn ttl_at(&self, k: &[u8]) -> Ttl {
        let s = &*self.shared;
        let Some(at) = s.table.with_ref(k, Entry::expires_at) else {
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

    /// The absolute expiry of `key` on the store's clock (PEXPIRETIME): `None` when the key is
    /// missing or expired, `Some(None)` when it has no TTL. Read once, not derived from a TTL
    /// and a second clock read, so it is the exact time stored.
    pub fn expires_at_ms(&self, key: impl Key) -> Option<Option<u64>> {
        let s = &*self.shared;
        let at = key.with_layout(|k| s.table.with_ref(k, Entry::expires_at))?;
        match at {
            0 => Some(None),
            at if s.now() > at => None,
            at => Some(Some(at)),
        }
    }

    /// Expire `key` in `ttl_ms` (0 removes it now); false if the key is missing. `key` is
    /// `(ns, bytes)` or a [`StoredKey`](super::StoredKey).
    pub fn expire(&self, key: impl Key, ttl_ms: u64) -> bool {
        let at = self.shared.now().saturating_add(ttl_ms);
        self.expire_at(key, at)
    }

    /// Expire `key` at absolute clock time `at_ms`; a time not in the future (`at_ms <= now`)
    /// removes it now, as Redis's EXPIREAT does (a key written with that expiry by SET PXAT
    /// would live through the current millisecond). `key` is `(ns, bytes)` or a
    /// [`StoredKey`](super::StoredKey).
    pub fn expire_at(&self, key: impl Key, at_ms: u64) -> bool {
        let now = self.shared.now();
        if at_ms <= now {
            return self.delete(key);
        }
        key.with_layout(|k| self.expire_later(k, now, at_ms))
    }

    /// [`Store::expire_at`] of stored key `k` at `at_ms`, after `now`.
    fn expire_later(&self, k: &[u8], now: u64, at_ms: u64) -> bool {
        let s = &*self.shared;
        // A key that had no TTL grows by the expiry word: room is made as for a write, but
        // when nothing can be evicted the TTL is set anyway and the store runs over its byte
        // cap by those bytes until something is freed (as Redis's EXPIRE is never refused).
        let mut over_cap = false;
        loop {
            let step = s.table.with_mut(k, |e| {
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
        s.table
            .with_ref(&k, |e| {
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
            })
            .flatten()
    }

    /// Remove `key`'s TTL; true if it had one. `key` is `(ns, bytes)` or a
    /// [`StoredKey`](super::StoredKey).
    pub fn persist(&self, key: impl Key) -> bool {
        key.with_layout(|k| self.persist_at(k))
    }

    /// [`Store::persist`] of a stored key.
    fn persist_at(&self, k: &[u8]) -> bool {
        let s = &*self.shared;
        let found = s.table.with_mut(k, |e| {
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
        });
        found.unwrap_or(false)
    }
}
