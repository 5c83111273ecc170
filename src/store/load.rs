//! Bulk load: many entries into a store at once, for snapshots, `kv.load` and restores.
//!
//! The store knows nothing of files or formats: a caller (`crate::persist`) parses a file into
//! a [`LoadBatch`] (namespace names once, entries that borrow from the file's bytes where they
//! can), and [`Store::load`] validates the whole batch before it writes anything, then writes
//! each entry through [`Store::set_ref`], the path every write takes, so caps evict by the
//! policy as any write would.
//!
//! Invariants:
//! - Validate first, then apply: a bad entry (a namespace name the registry refuses, a key or
//!   value over the store's limits, an entry larger than the whole memory cap) fails the load
//!   with its index before anything is written.
//! - All or nothing: if a write fails midway (policy `noeviction` with no room left, or the
//!   namespace table full), every write the load made is undone (keys it created are deleted,
//!   keys it replaced get their old value and expiry back) and the error says so.
//!   What writers other than the load did meanwhile is theirs; evictions a load caused are not
//!   undone (an evicted entry is gone under any write).
//! - Expiries are absolute ms on the store's clock; an entry already due is skipped and counted,
//!   never written.
//!
//! This file uses only `Store`'s public methods, the registry's name check and the entry size
//! formula; it adds no hook into the table.

use super::{Config, Error, Ns, NsGuard, SetOptions, Store, Ttl, Value, ValueRef};
use std::borrow::Cow;

/// An entry's value as a load carries it: bytes borrowed from a file buffer or owned after
/// decoding, or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadValue<'a> {
    /// Text or binary bytes.
    Bytes(Cow<'a, [u8]>),
    /// A 64-bit integer (stored as one, so INCR needs no parsing).
    Int(i64),
}

impl LoadValue<'_> {
    /// A borrowed view for [`Store::set_ref`].
    pub fn view(&self) -> ValueRef<'_> {
        match self {
            LoadValue::Bytes(b) => ValueRef::Bytes(b),
            LoadValue::Int(n) => ValueRef::Int(*n),
        }
    }
}

/// One entry of a [`LoadBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadEntry<'a> {
    /// Index into [`LoadBatch::namespaces`]: entries name their namespace once per batch, not
    /// once per entry.
    pub ns: u32,
    /// The key's bytes.
    pub key: Cow<'a, [u8]>,
    /// The value.
    pub value: LoadValue<'a>,
    /// Absolute expiry on the store's clock (epoch ms on the system clock); `None` for none.
    pub expires_at_ms: Option<u64>,
}

/// Entries to load, with the namespace names they refer to.
#[derive(Debug, Clone, Default)]
pub struct LoadBatch<'a> {
    /// Namespace names; [`LoadEntry::ns`] indexes this. `"default"` (or `"0"`) is the default
    /// namespace.
    pub namespaces: Vec<String>,
    /// The entries, in file order (with [`OnConflict::Replace`] a later duplicate of a key
    /// wins; otherwise the first one does).
    pub entries: Vec<LoadEntry<'a>>,
}

/// What to do with a key the store already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Refuse the whole load, writing nothing (Redis's RESTORE without REPLACE).
    #[default]
    Fail,
    /// The loaded entry replaces the stored one.
    Replace,
    /// The stored entry stays; the loaded one is skipped and counted.
    Skip,
}

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// Entries written.
    pub loaded: u64,
    /// Entries skipped because their expiry had passed.
    pub expired: u64,
    /// Entries skipped because the key existed ([`OnConflict::Skip`]).
    pub existing: u64,
    /// Entries the store evicted while the load ran, to stay under its caps.
    pub evicted: u64,
}

/// Why a load wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The entry at fault (index into [`LoadBatch::entries`]), when one is.
    pub index: Option<usize>,
    /// What is wrong.
    pub error: Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let msg = self.error.to_string();
        let msg = msg.strip_prefix("ERR ").unwrap_or(&msg);
        match self.index {
            Some(i) => write!(f, "entry {}: {msg}", i + 1),
            None => f.write_str(msg),
        }
    }
}

impl std::error::Error for LoadError {}

/// What the load did to one key, to undo it if a later write fails.
enum Undo {
    /// Nothing (expired or skipped).
    None,
    /// The key was absent: delete it.
    Created,
    /// The key held this value and expiry: put them back.
    Replaced(Value, Option<u64>),
}

/// Checks every entry of `batch` against the rules of a store configured by `config`
/// (namespace names, key and value limits, an entry larger than the memory cap) without
/// writing; the first bad one's index and what is wrong. A client checks a file against a
/// daemon's limits with it before sending anything.
pub fn check_batch(batch: &LoadBatch<'_>, config: &Config) -> Result<(), LoadError> {
    for (n, name) in batch.namespaces.iter().enumerate() {
        check_namespace_name(name).map_err(|error| LoadError {
            // The first entry in the namespace is the one at fault.
            index: batch.entries.iter().position(|e| e.ns as usize == n),
            error,
        })?;
    }
    let c = config;
    for (i, e) in batch.entries.iter().enumerate() {
        let at = |error| LoadError {
            index: Some(i),
            error,
        };
        if batch.namespaces.get(e.ns as usize).is_none() {
            let msg = format!("namespace index {} is not in the batch", e.ns);
            return Err(at(Error::InvalidArgument(msg)));
        }
        if e.key.len() > c.max_key_len {
            let (len, max) = (e.key.len(), c.max_key_len);
            return Err(at(Error::KeyTooLarge { len, max }));
        }
        if let LoadValue::Bytes(b) = &e.value {
            if b.len() > c.max_value_len {
                let (len, max) = (b.len(), c.max_value_len);
                return Err(at(Error::ValueTooLarge { len, max }));
            }
        }
        if let Some(max) = c.max_memory {
            let stored = super::key::NS_PREFIX + e.key.len();
            let size =
                super::entry::entry_size(stored, e.value.view(), e.expires_at_ms.unwrap_or(0));
            if size > max {
                return Err(at(Error::OutOfMemory));
            }
        }
    }
    Ok(())
}

/// Checks a namespace name by the registry's rule (1 to 256 bytes, no whitespace or control
/// characters; "0" and "default" are the default namespace).
pub fn check_namespace_name(name: &str) -> Result<(), Error> {
    super::namespaces::check_name(name)
}

impl Store {
    /// Checks every entry of `batch` against this store's rules (see [`check_batch`]).
    pub fn check_load(&self, batch: &LoadBatch<'_>) -> Result<(), LoadError> {
        check_batch(batch, self.config())
    }

    /// Loads `batch` (see the module docs): checks it whole, then writes it, undoing every
    /// write if one fails. With [`OnConflict::Fail`] a key the store holds fails the load
    /// before anything is written.
    pub fn load(
        &self,
        batch: &LoadBatch<'_>,
        on_conflict: OnConflict,
    ) -> Result<LoadReport, LoadError> {
        self.check_load(batch)?;
        let mut guards: Vec<NsGuard> = Vec::with_capacity(batch.namespaces.len());
        for name in &batch.namespaces {
            let g = self
                .acquire_namespace(name)
                .map_err(|error| LoadError { index: None, error })?;
            guards.push(g);
        }
        let ns_of = |e: &LoadEntry<'_>| guards[e.ns as usize].ns();
        let now = self.now_ms();
        let live = |e: &LoadEntry<'_>| e.expires_at_ms.is_none_or(|at| at > now);
        if on_conflict == OnConflict::Fail {
            for (i, e) in batch.entries.iter().enumerate() {
                if live(e) && self.exists((ns_of(e), &*e.key)) {
                    let msg = format!(
                        "key {:?} already exists (load with replace, or skip existing keys)",
                        String::from_utf8_lossy(&e.key)
                    );
                    return Err(LoadError {
                        index: Some(i),
                        error: Error::InvalidArgument(msg),
                    });
                }
            }
        }
        let evicted_before = self.stats().evicted;
        // An empty store has nothing to replace: skip the previous-value reads.
        let fresh = self.total_len() == 0;
        let keep_no_ttl = self.config().default_ttl_ms.is_some();
        let mut report = LoadReport::default();
        let mut undo: Vec<Undo> = Vec::with_capacity(batch.entries.len());
        for (i, e) in batch.entries.iter().enumerate() {
            if !live(e) {
                report.expired += 1;
                undo.push(Undo::None);
                continue;
            }
            let ns = ns_of(e);
            let replacing = on_conflict == OnConflict::Replace && !fresh;
            let before = if replacing {
                match self.ttl((ns, &*e.key)) {
                    Ttl::Missing => None,
                    Ttl::Persistent => Some(None),
                    Ttl::Remaining(ms) => Some(Some(self.now_ms().saturating_add(ms))),
                }
            } else {
                None
            };
            let opts = SetOptions {
                expire_at_ms: e.expires_at_ms,
                nx: on_conflict != OnConflict::Replace,
                get: replacing,
                ..SetOptions::default()
            };
            match self.set_ref((ns, &*e.key), e.value.view(), &opts) {
                Ok(out) if !out.written => {
                    report.existing += 1;
                    undo.push(Undo::None);
                }
                Ok(out) => {
                    if e.expires_at_ms.is_none() && keep_no_ttl {
                        self.persist((ns, &*e.key));
                    }
                    report.loaded += 1;
                    undo.push(match (out.previous, before) {
                        (Some(v), Some(exp)) => Undo::Replaced(v, exp),
                        (Some(v), None) => Undo::Replaced(v, None),
                        (None, _) => Undo::Created,
                    });
                }
                Err(error) => {
                    self.undo(batch, &undo, &ns_of);
                    let error = match error {
                        Error::OutOfMemory => Error::InvalidArgument(format!(
                            "OOM: the load needs more room than maxmemory/maxEntries allow under \
                             the noeviction policy; nothing was loaded ({} of {} entries fit)",
                            report.loaded,
                            batch.entries.len()
                        )),
                        other => other,
                    };
                    return Err(LoadError {
                        index: Some(i),
                        error,
                    });
                }
            }
        }
        report.evicted = self.stats().evicted.saturating_sub(evicted_before);
        Ok(report)
    }

    /// Reverts the writes recorded in `undo` (a prefix of `batch.entries`), last first.
    fn undo(&self, batch: &LoadBatch<'_>, undo: &[Undo], ns_of: &dyn Fn(&LoadEntry<'_>) -> Ns) {
        for (e, u) in batch.entries.iter().zip(undo).rev() {
            let ns = ns_of(e);
            match u {
                Undo::None => {}
                Undo::Created => {
                    self.delete((ns, &*e.key));
                }
                Undo::Replaced(v, exp) => {
                    let opts = SetOptions {
                        expire_at_ms: *exp,
                        ..SetOptions::default()
                    };
                    // Room was just freed by removing later writes; a failure here leaves the key
                    // as the load wrote it, which the error already reports.
                    let _ = self.set_ref((ns, &*e.key), v.view(), &opts);
                    if exp.is_none() {
                        self.persist((ns, &*e.key));
                    }
                }
            }
        }
    }
}
