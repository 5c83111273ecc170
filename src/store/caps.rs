//! The caps: how many entries and bytes the store holds, live or reserved, against
//! `max_entries` and `max_memory`. Invariant: room is reserved *before* anything is inserted
//! or grown (with a compare-and-swap that refuses to pass a cap) and released after it is
//! removed or shrunk, so the counts never fall below the live totals and never rise above the
//! caps, even with many writers racing. The one exception is [`Caps::charge`], for the expiry
//! word of a TTL set when nothing can be evicted (Redis never refuses EXPIRE): the byte count
//! then runs over by that word until something is freed.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The two counts and their limits.
#[derive(Debug)]
pub(crate) struct Caps {
    /// Entries live or reserved; never above `max_entries`.
    entries: AtomicU64,
    /// Bytes live or reserved (entry allocations and tables); never above `max_memory` but
    /// for [`Caps::charge`].
    bytes: AtomicU64,
    /// The entry cap, if any (`Config::max_entries`).
    max_entries: Option<u64>,
    /// The byte cap, if any (`Config::max_memory`).
    max_bytes: Option<u64>,
}

impl Caps {
    /// Empty counts under these caps.
    pub(crate) fn new(max_entries: Option<u64>, max_bytes: Option<u64>) -> Caps {
        Caps {
            entries: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            max_entries,
            max_bytes,
        }
    }

    /// Bytes live or reserved now (what INFO calls `used_memory`).
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }

    /// Reserves room for `entries` more entries and `bytes` more bytes, calling `evict` (which
    /// must hold no shard lock, and answers false when nothing could be evicted) until the room
    /// is there. OOM when it cannot be had, or when `bytes` alone passes the byte cap.
    pub(crate) fn reserve(
        &self,
        entries: u64,
        bytes: u64,
        mut evict: impl FnMut() -> bool,
    ) -> Result<()> {
        if self.max_bytes.is_some_and(|max| bytes > max) {
            return Err(Error::OutOfMemory);
        }
        loop {
            if self.try_reserve(entries, bytes) {
                return Ok(());
            }
            if !evict() {
                return Err(Error::OutOfMemory);
            }
        }
    }

    /// Reserves without evicting; false, with nothing changed, if a cap would be passed.
    #[inline]
    pub(crate) fn try_reserve(&self, entries: u64, bytes: u64) -> bool {
        if !add_within(&self.entries, entries, self.max_entries) {
            return false;
        }
        if !add_within(&self.bytes, bytes, self.max_bytes) {
            self.entries.fetch_sub(entries, Relaxed);
            return false;
        }
        true
    }

    /// Gives back room: a reservation not used, or what a removal or a shrink freed.
    #[inline]
    pub(crate) fn release(&self, entries: u64, bytes: u64) {
        self.entries.fetch_sub(entries, Relaxed);
        self.bytes.fetch_sub(bytes, Relaxed);
    }

    /// Accounts for something changing from `old` to `new` bytes; false (and nothing changed)
    /// if growing would pass the byte cap.
    #[inline]
    pub(crate) fn resize(&self, old: u64, new: u64) -> bool {
        if new > old {
            return self.try_reserve(0, new - old);
        }
        if new < old {
            self.release(0, old - new);
        }
        true
    }

    /// [`Caps::resize`] that never refuses: the byte count may pass the cap (the module's one
    /// exception).
    pub(crate) fn charge(&self, old: u64, new: u64) {
        if new >= old {
            self.bytes.fetch_add(new - old, Relaxed);
        } else {
            self.bytes.fetch_sub(old - new, Relaxed);
        }
    }
}

/// Add `delta` to `counter` unless that passes `max`; lock-free.
#[inline]
fn add_within(counter: &AtomicU64, delta: u64, max: Option<u64>) -> bool {
    let Some(max) = max else {
        counter.fetch_add(delta, Relaxed);
        return true;
    };
    counter
        .fetch_update(Relaxed, Relaxed, |cur| {
            let next = cur.checked_add(delta)?;
            (next <= max).then_some(next)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_is_never_passed_and_a_refusal_changes_nothing() {
        let caps = Caps::new(Some(2), Some(100));
        assert!(caps.try_reserve(1, 60));
        assert!(!caps.try_reserve(1, 41), "bytes over");
        assert!(caps.try_reserve(1, 40));
        assert!(!caps.try_reserve(1, 0), "entries over");
        assert_eq!(caps.bytes(), 100);
        assert!(!caps.resize(10, 11));
        assert!(caps.resize(40, 30));
        assert_eq!(caps.bytes(), 90);
        caps.charge(0, 20);
        assert_eq!(caps.bytes(), 110, "charge passes the cap");
        caps.release(2, 110);
        assert_eq!(caps.bytes(), 0);
        let mut evictions = 0;
        let oom = caps.reserve(3, 0, || {
            evictions += 1;
            false
        });
        assert!(oom.is_err() && evictions == 1);
        assert!(
            caps.reserve(0, 101, || true).is_err(),
            "larger than the cap"
        );
        assert!(caps.reserve(2, 100, || unreachable!()).is_ok());
    }
}
