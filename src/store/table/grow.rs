//! A table's size: growth before an insert, shrinking after removals, freeing when empty.
//! Invariant (the caps' rule, for tables): a new table's bytes are reserved in [`Caps`]
//! (without evicting) before it is allocated and the old table's released after it is freed,
//! so the byte count covers both while both exist; if the cap has no room, nothing changes.

use super::{Slot, Table};
use crate::store::caps::Caps;
use crate::store::entry::{Entry, TAG_HASH_BITS};
use dashmap::SharedValue;
use hashbrown::raw::RawTable;
use std::sync::atomic::Ordering::Relaxed;

/// Bytes of a hashbrown table with `buckets` buckets: the slots (padded to the control-byte
/// alignment), one control byte per bucket and one trailing SIMD group.
pub(crate) const fn table_size(buckets: usize) -> usize {
    let data = (buckets * std::mem::size_of::<Slot>() + 15) & !15;
    data + buckets + 16
}

/// Tables of fewer buckets are never shrunk: they cost little and refill quickly.
const MIN_SHRINK_BUCKETS: usize = 64;

impl Table {
    /// Makes room in `table` for one more insert. When it is full, builds its replacement:
    /// twice the buckets, or the same number when at most half the slots are live (the rest are
    /// tombstones left by removals), or 4 for a table never allocated. False, with nothing
    /// changed, if the byte cap has no room for the new table.
    pub(super) fn grow_for_insert(&self, table: &mut RawTable<Slot>, caps: &Caps) -> bool {
        let allocated = allocated(table);
        if allocated && table.len() < table.capacity() {
            return true;
        }
        let buckets = table.buckets();
        let next = if !allocated {
            4
        } else if table.len() <= full_capacity(buckets) / 2 {
            buckets
        } else {
            buckets * 2
        };
        self.rebuild(table, next, caps)
    }

    /// Replaces `table` (write-locked) with one of `buckets` buckets holding the same entries,
    /// under the module's rule. False, with nothing changed, if the cap has no room.
    fn rebuild(&self, table: &mut RawTable<Slot>, buckets: usize, caps: &Caps) -> bool {
        let new_bytes = table_size(buckets) as u64;
        if !caps.try_reserve(0, new_bytes) {
            return false;
        }
        let old_bytes = if allocated(table) {
            table_size(table.buckets()) as u64
        } else {
            0
        };
        let mut rebuilt = RawTable::with_capacity(full_capacity(buckets));
        self.move_entries(table, &mut rebuilt);
        drop(std::mem::replace(table, rebuilt));
        caps.release(0, old_bytes);
        self.bytes
            .fetch_add(new_bytes.wrapping_sub(old_bytes), Relaxed);
        true
    }

    /// Moves every entry of `from` into `to`, which has room for them all. A slot holds only
    /// the entry pointer, but where `to` has at most 2^[`TAG_HASH_BITS`] buckets every entry's
    /// place in it follows from the hash bits tagged on its pointer and its control byte in
    /// `from` (the hash's top 7 bits): no entry is read. Otherwise each key is read and
    /// rehashed (see `move_entries_by_key`).
    fn move_entries(&self, from: &mut RawTable<Slot>, to: &mut RawTable<Slot>) {
        if to.buckets() > 1 << TAG_HASH_BITS {
            return self.move_entries_by_key(from, to);
        }
        let ctrl = from.data_end().as_ptr().cast::<u8>();
        // SAFETY: the caller holds `from`'s shard write lock. Each full bucket is read once
        // (moving its entry out) and `from` is then emptied without dropping anything, so every
        // entry ends up owned by `to` exactly once; nothing between can panic.
        unsafe {
            for bucket in from.iter() {
                let (entry, v) = bucket.as_ptr().read();
                // A full bucket's control byte is the top 7 bits of its hash.
                let h2 = u64::from(*ctrl.add(from.bucket_index(&bucket)));
                let hash = match entry.hash_tag() {
                    Some(low) => (h2 << 57) | low,
                    None => self.hash(entry.key()),
                };
                to.insert(hash, (entry, v), |slot| self.slot_hash(slot));
            }
            from.clear_no_drop();
        }
    }

    /// [`Table::move_entries`] by reading every key: entries are collected first (a
    /// sequential read of the slots) and each one is prefetched a few places ahead of its
    /// turn, so the reads overlap instead of costing one cache miss after another.
    fn move_entries_by_key(&self, from: &mut RawTable<Slot>, to: &mut RawTable<Slot>) {
        const AHEAD: usize = 8;
        let entries: Vec<Entry> = from.drain().map(|(e, _)| e).collect();
        let mut hashes = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if let Some(ahead) = entries.get(i + AHEAD) {
                ahead.prefetch();
            }
            hashes.push(self.hash(e.key()));
        }
        for (mut e, hash) in entries.into_iter().zip(hashes) {
            e.set_hash_tag(hash);
            to.insert(hash, (e, SharedValue::new(())), |slot| self.slot_hash(slot));
        }
    }

    /// Frees the table of every shard left empty (after a flush), so its bytes go back to the
    /// allocator and the count; the shard gets a new table on its next insert.
    pub(crate) fn free_empty(&self, caps: &Caps) {
        for idx in 0..self.shard_count() {
            let mut table = self.write_shard(idx);
            if table.is_empty() && allocated(&table) {
                self.free_table(&mut table, caps);
            }
        }
    }

    /// Replaces `table` (write-locked, allocated) with an unallocated one and releases its bytes.
    fn free_table(&self, table: &mut RawTable<Slot>, caps: &Caps) {
        let bytes = table_size(table.buckets()) as u64;
        *table = RawTable::new();
        self.bytes.fetch_sub(bytes, Relaxed);
        caps.release(0, bytes);
    }

    /// Rebuilds shard `idx`'s table smaller if under a tenth of its buckets are live (after
    /// deletes, expiries or evictions; hashbrown never shrinks on removal), sized so the live
    /// entries fill at most half of it: far from both thresholds, so it does not flip back and
    /// forth. A table left empty is freed. Under the module's rule; true if the table changed.
    pub(crate) fn shrink_shard(&self, idx: usize, caps: &Caps) -> bool {
        let shard = &self.map.shards()[idx];
        if !sparse(&shard.read()) {
            return false;
        }
        let mut table = self.write_shard(idx);
        if !sparse(&table) {
            return false;
        }
        if table.is_empty() {
            self.free_table(&mut table, caps);
            return true;
        }
        let mut next = 4;
        while full_capacity(next) < table.len() * 2 {
            next *= 2;
        }
        next < table.buckets() && self.rebuild(&mut table, next, caps)
    }
}

/// Does `table` own an allocation? Not `capacity() > 0`: hashbrown's capacity is the live
/// entries plus the free slots left before growth, which is 0 for an allocated table whose
/// slots are all tombstones. An unallocated table is one shared bucket; allocated ones have
/// at least 4.
fn allocated<T>(table: &RawTable<T>) -> bool {
    table.buckets() > 1
}

/// Is `table` worth rebuilding smaller: allocated and either empty (of any size: a table
/// shrunk earlier can be small) or big enough with under a tenth of its buckets live (the
/// fill below which Redis shrinks a dict)?
fn sparse(table: &RawTable<Slot>) -> bool {
    let buckets = table.buckets();
    allocated(table)
        && (table.is_empty() || (buckets >= MIN_SHRINK_BUCKETS && table.len() * 10 < buckets))
}

/// How many entries a hashbrown table of `buckets` buckets holds before it must grow (7/8 of
/// its buckets, one less than that for tables under 8 buckets).
fn full_capacity(buckets: usize) -> usize {
    if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_the_entry_pointer() {
        assert_eq!(std::mem::size_of::<Slot>(), 8);
        assert_eq!(table_size(4), 32 + 4 + 16);
    }

    #[test]
    fn a_table_of_tombstones_still_counts_as_allocated() {
        assert!(!allocated(&RawTable::<u64>::new()));
        // Filled to capacity in consecutive buckets, then emptied: every removal leaves a
        // tombstone, so hashbrown reports no capacity though the table is still allocated.
        let mut t: RawTable<u64> = RawTable::with_capacity(full_capacity(64));
        for i in 0..full_capacity(64) as u64 {
            t.insert(i, i, |&x| x);
        }
        for i in 0..full_capacity(64) as u64 {
            assert_eq!(t.remove_entry(i, |&x| x == i), Some(i));
        }
        assert_eq!((t.len(), t.capacity(), t.buckets()), (0, 0, 64));
        assert!(allocated(&t));
    }
}
