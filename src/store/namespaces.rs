//! The namespace registry: names to ids, and per-namespace key, byte and holder counts.
//!
//! A stored key starts with its namespace's 2-byte id, so there are at most
//! [`MAX_NAMESPACES`] ids, and they are reused: an id is free again once its namespace has no
//! keys and no holders. A holder is an [`NsGuard`] (a daemon session's SELECT, an addon
//! namespace view) or a pin from [`Namespaces::id`] (the legacy `Store::namespace`, which holds
//! its id for the store's life). Rule that makes reuse safe: keys are written into a namespace
//! only by a caller that holds it, so while `holders == 0` its key count can only fall; an id is
//! freed only under the registry's write lock with `holders == 0 && keys == 0` both seen there.
//! `holders` changes only under that lock; `keys` drops outside it, so the two sides use
//! SeqCst (the releaser stores `holders` then loads `keys`, the remover stores `keys` then
//! loads `holders`): whichever comes second sees the other's zero and frees the id under the
//! lock. The default namespace (id 0) is never freed. Names are checked here, the one place
//! they are registered: 1 to [`MAX_NAMESPACE_LEN`] bytes, no whitespace or control characters
//! (they appear in INFO and CLIENT LIST lines). One rule for Redis's database 0: the name "0"
//! is the default namespace (as "default" is), wherever a name comes from (SELECT 0, a
//! `redis://host/0` URL, the addon's `namespace("0")`). Counts live in lazily allocated fixed chunks,
//! so the hot path updates them without a lock.

use super::key::Ns;
use crate::error::{Error, Result};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

/// The default namespace's name.
const DEFAULT_NAME: &str = "default";

/// The name a namespace is registered under: "0" (Redis's database 0) is the default one.
fn canonical(name: &str) -> &str {
    if name == "0" {
        DEFAULT_NAME
    } else {
        name
    }
}

const CHUNK: usize = 256;
const CHUNKS: usize = 256;
/// Most namespaces one store can have at once (ids of emptied namespaces are reused).
pub const MAX_NAMESPACES: usize = CHUNK * CHUNKS;
/// Longest namespace name, in bytes.
pub const MAX_NAMESPACE_LEN: usize = 256;

/// Live keys, bytes and holders of one namespace id.
#[derive(Debug, Default)]
pub(crate) struct NsCounter {
    pub(crate) keys: AtomicI64,
    pub(crate) bytes: AtomicI64,
    /// Guards and pins on the id; changed only under the registry's write lock.
    holders: AtomicI64,
}

/// One id's name, while the id is in use.
#[derive(Debug, Default)]
struct Slot {
    /// `None` while the id is free.
    name: Option<String>,
    /// Held for the store's life by [`Namespaces::id`] (counted once in `holders`).
    pinned: bool,
}

/// The name tables, behind one lock.
#[derive(Debug, Default)]
struct Names {
    /// Name -> id, for ids in use.
    ids: HashMap<String, u32>,
    /// Id -> name; never shrinks.
    slots: Vec<Slot>,
    /// Freed ids, reused before new ones.
    free: Vec<u32>,
}

/// Names, ids and counters.
#[derive(Debug)]
pub(crate) struct Namespaces {
    names: RwLock<Names>,
    /// Counters by id, in chunks allocated on first use.
    counters: Box<[OnceLock<Box<[NsCounter]>>]>,
}

/// Checks a namespace name: 1 to [`MAX_NAMESPACE_LEN`] bytes, no whitespace and no control
/// characters (so it cannot forge or split the lines of INFO or CLIENT LIST).
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAMESPACE_LEN {
        return Err(Error::InvalidNamespace(format!(
            "a namespace name must be 1 to {MAX_NAMESPACE_LEN} bytes, got {}",
            name.len()
        )));
    }
    if let Some((at, c)) = name
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidNamespace(format!(
            "a namespace name must not contain spaces or control characters (found U+{:04X} at byte {at})",
            c as u32
        )));
    }
    Ok(())
}

impl Namespaces {
    pub(crate) fn new() -> Self {
        let r = Self {
            names: RwLock::new(Names::default()),
            counters: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
        };
        // Id 0 is always "default"; registering it cannot fail.
        let _ = r.id(DEFAULT_NAME);
        r
    }

    /// The id for `name`, registering it on first use and pinning it for the store's life.
    pub(crate) fn id(&self, name: &str) -> Result<Ns> {
        let name = canonical(name);
        {
            let names = self.names.read();
            if let Some(&id) = names.ids.get(name) {
                if names.slots[id as usize].pinned {
                    return Ok(Ns(id));
                }
            }
        }
        let mut names = self.names.write();
        let id = self.lookup_or_register(&mut names, name)?;
        let slot = &mut names.slots[id as usize];
        if !slot.pinned {
            slot.pinned = true;
            self.counter(Ns(id)).holders.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Ns(id))
    }

    /// The id for `name`, registered if new, with one more holder; see [`NsGuard`].
    pub(crate) fn acquire(&self, name: &str) -> Result<Ns> {
        let name = canonical(name);
        let mut names = self.names.write();
        let id = self.lookup_or_register(&mut names, name)?;
        self.counter(Ns(id)).holders.fetch_add(1, Ordering::SeqCst);
        Ok(Ns(id))
    }

    /// One more holder of an id that already has one (cloning a guard).
    fn hold_again(&self, ns: Ns) {
        let _names = self.names.write();
        self.counter(ns).holders.fetch_add(1, Ordering::SeqCst);
    }

    /// One holder fewer; frees the id if that was the last one and it has no keys.
    pub(crate) fn release(&self, ns: Ns) {
        let mut names = self.names.write();
        let c = self.counter(ns);
        if c.holders.fetch_sub(1, Ordering::SeqCst) == 1 && c.keys.load(Ordering::SeqCst) == 0 {
            self.free_locked(&mut names, ns);
        }
    }

    /// Under the write lock: the id of `name`, or a free or new id registered for it.
    fn lookup_or_register(&self, names: &mut Names, name: &str) -> Result<u32> {
        if let Some(&id) = names.ids.get(name) {
            return Ok(id);
        }
        check_name(name)?;
        let id = match names.free.pop() {
            Some(id) => id,
            None if names.slots.len() < MAX_NAMESPACES => {
                names.slots.push(Slot::default());
                (names.slots.len() - 1) as u32
            }
            None => {
                return Err(Error::InvalidArgument(format!(
                    "too many namespaces (the limit is {MAX_NAMESPACES} holding keys or selected at once)"
                )))
            }
        };
        names.slots[id as usize].name = Some(name.to_owned());
        names.ids.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Under the write lock: frees `ns` if it is in use, not the default, and has no holders
    /// and no keys.
    fn free_locked(&self, names: &mut Names, ns: Ns) {
        let c = self.counter(ns);
        if ns == Ns::DEFAULT
            || c.holders.load(Ordering::SeqCst) != 0
            || c.keys.load(Ordering::SeqCst) != 0
        {
            return;
        }
        let Some(name) = names.slots[ns.0 as usize].name.take() else {
            return;
        };
        names.ids.remove(&name);
        c.bytes.store(0, Ordering::Relaxed);
        names.free.push(ns.0);
    }

    #[cold]
    fn free_if_unused(&self, ns: Ns) {
        let mut names = self.names.write();
        self.free_locked(&mut names, ns);
    }

    /// The name of a registered id ("" for a free one).
    pub(crate) fn name(&self, ns: Ns) -> String {
        let names = self.names.read();
        let slot = names.slots.get(ns.0 as usize);
        slot.and_then(|s| s.name.clone()).unwrap_or_default()
    }

    /// Every id in use with its name.
    pub(crate) fn all(&self) -> Vec<(Ns, String)> {
        let names = self.names.read();
        let slots = names.slots.iter().enumerate();
        slots
            .filter_map(|(i, s)| Some((Ns(i as u32), s.name.clone()?)))
            .collect()
    }

    pub(crate) fn counter(&self, ns: Ns) -> &NsCounter {
        let i = ns.0 as usize;
        let chunk = self.counters[(i / CHUNK) % CHUNKS]
            .get_or_init(|| (0..CHUNK).map(|_| NsCounter::default()).collect());
        &chunk[i % CHUNK]
    }

    /// Adjust a namespace's counts; frees its id when its last key goes and it has no holder.
    #[inline]
    pub(crate) fn add(&self, ns: Ns, keys: i64, bytes: i64) {
        let c = self.counter(ns);
        if keys != 0 {
            let before = c.keys.fetch_add(keys, Ordering::SeqCst);
            if before + keys == 0 && ns != Ns::DEFAULT && c.holders.load(Ordering::SeqCst) == 0 {
                self.free_if_unused(ns);
            }
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

    /// Holders of an id (guards, plus one for a pin).
    #[cfg(test)]
    pub(crate) fn holders(&self, ns: Ns) -> i64 {
        self.counter(ns).holders.load(Ordering::SeqCst)
    }
}

/// A hold on a namespace: while it lives, its id names this namespace and is not reused, so
/// the holder may read and write through [`NsGuard::ns`]. Dropping it releases the hold; the
/// id is then reused once the namespace also has no keys (and no other holder). Owns an `Arc`
/// of the registry, not a borrow of the store: `Send + Sync + 'static`, and it may outlive the
/// store (releasing then only updates the orphaned registry). Cloning takes another hold.
pub struct NsGuard {
    registry: Arc<Namespaces>,
    ns: Ns,
}

impl NsGuard {
    /// Takes a hold on `name` (registering it if new) in `registry`.
    pub(crate) fn acquire(registry: &Arc<Namespaces>, name: &str) -> Result<NsGuard> {
        let ns = registry.acquire(name)?;
        Ok(NsGuard {
            registry: Arc::clone(registry),
            ns,
        })
    }

    /// The held namespace's id: valid for reads and writes while this guard lives.
    pub fn ns(&self) -> Ns {
        self.ns
    }
}

impl Clone for NsGuard {
    fn clone(&self) -> Self {
        self.registry.hold_again(self.ns);
        NsGuard {
            registry: Arc::clone(&self.registry),
            ns: self.ns,
        }
    }
}

impl Drop for NsGuard {
    fn drop(&mut self) {
        self.registry.release(self.ns);
    }
}

impl std::fmt::Debug for NsGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("NsGuard").field(&self.ns).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_names_round_trip() {
        let r = Namespaces::new();
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
        let r = Namespaces::new();
        let a = r.id("a").unwrap();
        r.add(a, 2, 100);
        r.add(a, -1, -40);
        assert_eq!(r.counts(a), (1, 60));
        assert_eq!(r.counts(Ns::DEFAULT), (0, 0));
    }

    fn check(name: &str, ok: bool) {
        assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
    }

    #[test]
    fn names_with_whitespace_or_control_characters_are_refused() {
        check("user:42", true);
        check("café", true);
        check(&"x".repeat(MAX_NAMESPACE_LEN), true);
        check("", false);
        check(&"x".repeat(MAX_NAMESPACE_LEN + 1), false);
        check("a b", false);
        check("a\r\ndb0:keys=1", false);
        check("a\tb", false);
        check("a\0b", false);
        check("a\x7fb", false);
        check("a\u{85}b", false);
        check("a\u{2028}b", false);
        let e = check_name("x\ny").unwrap_err().to_string();
        assert!(e.contains("U+000A at byte 1"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_guard_can_move_between_threads_and_outlive_borrows() {
        fn send_sync_static<T: Send + Sync + 'static>() {}
        send_sync_static::<NsGuard>();
    }

    #[test]
    fn ids_of_released_empty_namespaces_are_reused() {
        let r = Arc::new(Namespaces::new());
        for i in 0..3 * MAX_NAMESPACES {
            let g = NsGuard::acquire(&r, &format!("n{i}")).unwrap();
            assert!(g.ns().0 < 2, "id {} for the {i}th name", g.ns().0);
        }
        assert_eq!(r.all().len(), 1, "only default is left");
    }

    #[test]
    fn an_id_is_freed_only_with_no_keys_and_no_holders() {
        let r = Arc::new(Namespaces::new());
        let g = NsGuard::acquire(&r, "a").unwrap();
        let a = g.ns();
        let g2 = g.clone();
        assert_eq!(r.holders(a), 2);
        r.add(a, 1, 10);
        drop(g);
        drop(g2);
        assert_eq!(r.name(a), "a", "it still has a key");
        r.add(a, -1, -10);
        assert_eq!(r.name(a), "", "its last key went: freed");
        let b = NsGuard::acquire(&r, "b").unwrap();
        assert_eq!(b.ns(), a, "reused");
        assert_eq!(r.counts(a), (0, 0));
        // A key going while a holder remains does not free it.
        r.add(a, 1, 10);
        r.add(a, -1, -10);
        assert_eq!(r.name(a), "b");
        // Pinned ids and the default are never freed.
        let p = r.id("pinned").unwrap();
        r.add(p, 1, 1);
        r.add(p, -1, -1);
        assert_eq!(r.name(p), "pinned");
        let d = NsGuard::acquire(&r, "default").unwrap();
        drop(d);
        assert_eq!(r.name(Ns::DEFAULT), "default");
    }
}
