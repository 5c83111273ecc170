//! The namespace registry: names to ids, and per-namespace key and byte counts. Ids are never
//! reused, so a stored key's 4-byte prefix stays meaningful for the life of the store. Counts
//! live in lazily allocated fixed chunks, so the hot path reads them without a lock.

use super::entry::Ns;
use crate::error::{Error, Result};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

const CHUNK: usize = 256;
const CHUNKS: usize = 256;
/// Most namespaces one store can name.
pub const MAX_NAMESPACES: usize = CHUNK * CHUNKS;
/// Longest namespace name, in bytes.
pub const MAX_NAMESPACE_LEN: usize = 256;

/// Live keys and bytes in one namespace.
#[derive(Debug, Default)]
pub(crate) struct NsCounter {
    pub(crate) keys: AtomicI64,
    pub(crate) bytes: AtomicI64,
}

/// Names, ids and counters.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Name -> id; written only when a new name appears.
    ids: RwLock<HashMap<String, u32>>,
    /// Id -> name.
    names: RwLock<Vec<String>>,
    /// Counters by id, in chunks allocated on first use.
    counters: Box<[OnceLock<Box<[NsCounter]>>]>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        let r = Self {
            ids: RwLock::new(HashMap::new()),
            names: RwLock::new(Vec::new()),
            counters: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
        };
        // Id 0 is always "default"; registering it cannot fail.
        let _ = r.id("default");
        r
    }

    /// The id for `name`, registering it on first use.
    pub(crate) fn id(&self, name: &str) -> Result<Ns> {
        if let Some(&id) = self.ids.read().get(name) {
            return Ok(Ns(id));
        }
        if name.is_empty() || name.len() > MAX_NAMESPACE_LEN {
            return Err(Error::InvalidArgument(format!(
                "namespace name must be 1 to {MAX_NAMESPACE_LEN} bytes"
            )));
        }
        let mut ids = self.ids.write();
        if let Some(&id) = ids.get(name) {
            return Ok(Ns(id));
        }
        let mut names = self.names.write();
        if names.len() >= MAX_NAMESPACES {
            return Err(Error::InvalidArgument(format!(
                "too many namespaces (the limit is {MAX_NAMESPACES})"
            )));
        }
        let id = names.len() as u32;
        names.push(name.to_owned());
        ids.insert(name.to_owned(), id);
        Ok(Ns(id))
    }

    /// The name of a registered id.
    pub(crate) fn name(&self, ns: Ns) -> String {
        self.names
            .read()
            .get(ns.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Every registered id with its name.
    pub(crate) fn all(&self) -> Vec<(Ns, String)> {
        let names = self.names.read();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (Ns(i as u32), n.clone()))
            .collect()
    }

    pub(crate) fn counter(&self, ns: Ns) -> &NsCounter {
        let i = ns.0 as usize;
        let chunk = self.counters[(i / CHUNK) % CHUNKS]
            .get_or_init(|| (0..CHUNK).map(|_| NsCounter::default()).collect());
        &chunk[i % CHUNK]
    }

    /// Adjust a namespace's counts.
    #[inline]
    pub(crate) fn add(&self, ns: Ns, keys: i64, bytes: i64) {
        let c = self.counter(ns);
        if keys != 0 {
            c.keys.fetch_add(keys, Ordering::Relaxed);
        }
        if bytes != 0 {
            c.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Live keys and bytes in a namespace.
    pub(crate) fn counts(&self, ns: Ns) -> (u64, u64) {
        let c = self.counter(ns);
        (
            c.keys.load(Ordering::Relaxed).max(0) as u64,
            c.bytes.load(Ordering::Relaxed).max(0) as u64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_names_round_trip() {
        let r = Registry::new();
        assert_eq!(r.id("default").unwrap(), Ns::DEFAULT);
        let a = r.id("sessions").unwrap();
        assert_eq!(r.id("sessions").unwrap(), a);
        assert_eq!(r.name(a), "sessions");
        assert_ne!(r.id("0").unwrap(), a);
        assert!(r.id("").is_err());
        assert!(r.id(&"x".repeat(MAX_NAMESPACE_LEN + 1)).is_err());
    }

    #[test]
    fn counters_add_up() {
        let r = Registry::new();
        let a = r.id("a").unwrap();
        r.add(a, 2, 100);
        r.add(a, -1, -40);
        assert_eq!(r.counts(a), (1, 60));
        assert_eq!(r.counts(Ns::DEFAULT), (0, 0));
    }
}
