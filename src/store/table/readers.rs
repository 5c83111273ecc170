//! Reads that write no line another core reads, for a store that threads share (the
//! `concurrent` config). Beside each shard's lock sit a reader count per thread stripe and a
//! writer flag, as in Linux's big-reader locks: a read adds one to its stripe's count for the
//! shard, then checks the flag; a writer, holding the shard's write lock, raises the flag,
//! then waits until every stripe's count for the shard is zero. Only a thread that holds its
//! stripe alone counts (it then gives its count back with a plain store); others, past
//! [`STRIPES`] live threads, take the read lock. Both sides' steps are
//! sequentially consistent, so either the reader sees the flag (and takes the shard's read
//! lock instead) or the writer sees the reader (and waits for it). A read then writes only its
//! own stripe's line, which stays in its core's cache; only writes move lines between cores.
//! It finds the table through a copy of the shard's table header ([`Header`]) on the flag's
//! line, not through the header beside the lock word, so a write moves one line a reader
//! loads, not two.
//!
//! Invariant: every change to a shard's table or to its entries' non-atomic fields happens
//! under a [`ShardWrite`], never under the shard's write lock alone.

use super::super::striped::{own_stripe, STRIPES};
use super::{Slot, Table};
use crossbeam_utils::CachePadded;
use dashmap::RwLockWriteGuard;
use hashbrown::raw::RawTable;
use std::cell::{Cell, UnsafeCell};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};

/// Reader counts per padded block: one block holds a stripe's counts for this many shards.
const PER_BLOCK: usize = 32;

/// The reader counts of a concurrent table.
#[derive(Debug)]
pub(super) struct Readers {
    /// Stripe `s`'s count for shard `i` is `counts[s * blocks + i / PER_BLOCK][i % PER_BLOCK]`:
    /// a stripe's counts are blocks of their own, written only by its threads.
    counts: Box<[CachePadded<[AtomicU32; PER_BLOCK]>]>,
    /// Blocks per stripe.
    blocks: usize,
    /// One bit per stripe that has read this table: the stripes a writer waits on.
    active: AtomicU32,
    /// This table's number, never reused (an address can be, once a store is dropped).
    id: u64,
}

thread_local! {
    /// The [`Readers::id`] this thread last registered its stripe in (0 = none).
    static REGISTERED: Cell<u64> = const { Cell::new(0) };
}

/// A bitwise copy of a shard's table header (control-byte address, bucket mask, counts) for
/// readers of a concurrent table, beside the shard's writer flag. Written by a [`ShardWrite`]
/// as it ends, while the shard's readers are drained and its flag is up; read only by a
/// [`ReadSlot`]. Never dropped: the table it points at belongs to the shard.
pub(super) struct Header(UnsafeCell<ManuallyDrop<RawTable<Slot>>>);

// SAFETY: the copy is written only by a `ShardWrite`, with no reader in the shard, and read
// only by readers that entered while no writer was in (see the module docs).
unsafe impl Sync for Header {}

impl Default for Header {
    fn default() -> Header {
        Header(UnsafeCell::new(ManuallyDrop::new(RawTable::new())))
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Header")
    }
}

impl Header {
    /// Copies `table`'s header in.
    ///
    /// # Safety
    /// The caller holds the shard for writing (its lock, with the flag up and its readers
    /// drained, or before the table is shared), and `table` is the shard's.
    unsafe fn set(&self, table: &RawTable<Slot>) {
        // SAFETY: no reader is in (the caller's contract); the copy owns nothing (it is never
        // dropped) and is only ever read through `&`. (`ManuallyDrop` is `repr(transparent)`.)
        unsafe { std::ptr::copy_nonoverlapping(table, self.0.get().cast::<RawTable<Slot>>(), 1) }
    }
}

/// Gives a read's count back: only this thread writes its stripe's counts (see
/// `own_stripe`), so a load and a store.
#[inline]
fn leave(count: &AtomicU32) {
    count.store(count.load(Relaxed) - 1, Release);
}

/// A read in progress: its stripe's count for the shard, given back on drop (also when the
/// read panics), and the shard's table, through its [`Header`] copy. The table is a raw
/// pointer, lent out only by `deref` while the count is held; it also keeps the slot on its
/// thread, the only one that writes its count.
pub(super) struct ReadSlot<'a> {
    count: &'a AtomicU32,
    table: *const RawTable<Slot>,
}

impl Drop for ReadSlot<'_> {
    #[inline]
    fn drop(&mut self) {
        leave(self.count);
    }
}

impl std::ops::Deref for ReadSlot<'_> {
    type Target = RawTable<Slot>;
    #[inline]
    fn deref(&self) -> &RawTable<Slot> {
        // SAFETY: while this slot holds its count, no writer is in the shard to change the
        // header copy or the table (see `Readers::enter`).
        unsafe { &*self.table }
    }
}

impl Readers {
    pub(super) fn new(shards: usize) -> Readers {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let blocks = shards.div_ceil(PER_BLOCK);
        Readers {
            id: NEXT_ID.fetch_add(1, Relaxed),
            counts: (0..STRIPES * blocks)
                .map(|_| CachePadded::default())
                .collect(),
            blocks,
            active: AtomicU32::new(0),
        }
    }

    #[inline]
    fn count(&self, stripe: usize, shard: usize) -> &AtomicU32 {
        &self.counts[stripe * self.blocks + shard / PER_BLOCK][shard % PER_BLOCK]
    }

    /// Enters shard `shard` as a reader unless its writer flag `writing` is up or this thread
    /// shares its stripe; `None` then, and the caller takes the shard's read lock instead.
    /// `header` is the shard's [`Header`].
    #[inline]
    fn enter<'a>(
        &'a self,
        shard: usize,
        writing: &AtomicBool,
        header: &'a Header,
    ) -> Option<ReadSlot<'a>> {
        let s = own_stripe()?;
        self.register(s);
        let count = self.count(s, shard);
        count.fetch_add(1, SeqCst);
        if writing.load(SeqCst) {
            leave(count);
            return None;
        }
        // The flag was seen down after the count went up, so no `ShardWrite` is in the shard
        // until the slot drops, and the last one's header copy happened before its flag went
        // down (its `Release` store, read by this `SeqCst` load).
        Some(ReadSlot {
            count,
            table: header.0.get().cast_const().cast(),
        })
    }

    /// Marks stripe `s` as one that reads, once per thread and table: a writer waits only on
    /// marked stripes. The mark is made (sequentially consistent) before this thread's first
    /// count, so a writer that misses the count cannot miss the mark.
    #[inline]
    fn register(&self, s: usize) {
        if REGISTERED.with(Cell::get) != self.id {
            self.active.fetch_or(1 << s, SeqCst);
            REGISTERED.with(|r| r.set(self.id));
        }
    }

    /// Waits until no reader is in shard `shard`: called with the shard's write lock held and
    /// its flag raised, so no new reader stays in.
    fn drain(&self, shard: usize) {
        let mut stripes = self.active.load(SeqCst);
        while stripes != 0 {
            let s = stripes.trailing_zeros() as usize;
            stripes &= stripes - 1;
            let count = self.count(s, shard);
            let mut spins = 0u32;
            while count.load(Acquire) != 0 {
                // A reader holds a slot for one lookup; one that was descheduled meanwhile
                // needs its core back.
                spins += 1;
                if spins < 128 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// A shard's table held for writing: its write lock, and in a concurrent table its writer
/// flag raised with its readers drained. Lowers the flag and republishes the table's geometry
/// on drop.
pub(super) struct ShardWrite<'a> {
    table: &'a Table,
    idx: usize,
    guard: RwLockWriteGuard<'a, RawTable<Slot>>,
}

impl Table {
    /// Shard `idx`'s table for one read without its lock, unless a writer is in or this thread
    /// shares its stripe (see [`Readers::enter`]); `None` in a table that is not concurrent.
    #[inline]
    pub(super) fn read_unlocked(&self, idx: usize) -> Option<ReadSlot<'_>> {
        let g = &self.geometry[idx];
        self.readers.as_ref()?.enter(idx, &g.writing, &g.header)
    }

    /// Copies each shard's table header to its [`Header`] (a new concurrent table, before it
    /// is shared).
    pub(super) fn publish_headers(&self) {
        for (shard, g) in self.map.shards().iter().zip(self.geometry.iter()) {
            // SAFETY: the table is not shared yet, and the read lock keeps it still.
            unsafe { g.header.set(&shard.read()) }
        }
    }

    /// Shard `idx`'s table, for writing (see [`ShardWrite`]).
    #[inline]
    pub(super) fn write_shard(&self, idx: usize) -> ShardWrite<'_> {
        let guard = self.map.shards()[idx].write();
        if let Some(r) = &self.readers {
            self.geometry[idx].writing.swap(true, SeqCst);
            r.drain(idx);
        }
        ShardWrite {
            table: self,
            idx,
            guard,
        }
    }
}

impl Drop for ShardWrite<'_> {
    #[inline]
    fn drop(&mut self) {
        self.table.publish_geometry(self.idx, &self.guard);
        if self.table.readers.is_some() {
            let g = &self.table.geometry[self.idx];
            // SAFETY: this is the shard's `ShardWrite`: its lock is held, its flag is up and
            // its readers were drained.
            unsafe { g.header.set(&self.guard) };
            g.writing.store(false, Release);
        }
    }
}

impl std::ops::Deref for ShardWrite<'_> {
    type Target = RawTable<Slot>;
    #[inline]
    fn deref(&self) -> &RawTable<Slot> {
        &self.guard
    }
}

impl std::ops::DerefMut for ShardWrite<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut RawTable<Slot> {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::caps::Caps;
    use crate::store::entry::Entry;
    use crate::store::key::{make_key, Ns};
    use crate::store::striped::own_stripe;
    use crate::store::value::ValueRef;
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    /// A concurrent table of 2 shards holding `k` = `value` for each of `keys`.
    fn table(keys: &[&[u8]], value: &[u8]) -> (Arc<Table>, Caps) {
        let (t, caps) = (Arc::new(Table::new(2, true)), Caps::new(None, None));
        for k in keys {
            let e = Entry::new(&make_key(Ns(0), k), ValueRef::Bytes(value), 0, 1);
            assert!(matches!(
                t.insert(e, &caps, |_| {}),
                super::super::Insert::Done
            ));
        }
        (t, caps)
    }

    fn idle(t: &Table) -> bool {
        let r = t.readers.as_ref().unwrap();
        r.counts
            .iter()
            .all(|b| b.iter().all(|c| c.load(Relaxed) == 0))
    }

    fn bytes(e: &Entry) -> Vec<u8> {
        match e.value() {
            ValueRef::Bytes(b) => b.to_vec(),
            ValueRef::Int(n) => n.to_string().into_bytes(),
        }
    }

    #[test]
    fn a_writer_waits_for_a_reader_of_its_shard() {
        let key = make_key(Ns(0), b"k").to_vec();
        let (t, _caps) = table(&[b"k"], b"aaaa");
        let (in_tx, in_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let reader = {
            let (t, key) = (t.clone(), key.clone());
            std::thread::spawn(move || {
                t.with_ref(&key, |e| {
                    in_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    bytes(e)
                })
            })
        };
        in_rx.recv().unwrap();
        let written = Arc::new(AtomicBool::new(false));
        let writer = {
            let (t, key, written) = (t.clone(), key.clone(), written.clone());
            std::thread::spawn(move || {
                t.with_mut(&key, |e| e.set_value(ValueRef::Bytes(b"bbbbbbbb")));
                written.store(true, SeqCst);
            })
        };
        // A window for a writer that does not wait to get through; one that waits cannot.
        std::thread::sleep(Duration::from_millis(100));
        assert!(!written.load(SeqCst), "the write ran while a read was in");
        go_tx.send(()).unwrap();
        assert_eq!(reader.join().unwrap().unwrap(), b"aaaa");
        writer.join().unwrap();
        assert!(written.load(SeqCst));
        assert_eq!(t.with_ref(&key, bytes).unwrap(), b"bbbbbbbb");
        assert!(idle(&t));
    }

    #[test]
    fn a_thread_registers_in_new_counts_where_dropped_ones_were() {
        let Some(me) = own_stripe() else {
            return; // more than STRIPES live threads in this test run: this one shares
        };
        let (writing, header) = (AtomicBool::new(false), Header::default());
        // Two tables' counts, one after the other, at one address: a registration kept by
        // address would be taken for the second's.
        let mut at = std::mem::MaybeUninit::<Readers>::uninit();
        let first = at.write(Readers::new(2));
        drop(first.enter(0, &writing, &header));
        assert_ne!(first.active.load(Relaxed) & 1 << me, 0);
        // SAFETY: written just above and dropped once.
        unsafe { at.assume_init_drop() };
        let second = at.write(Readers::new(2));
        drop(second.enter(0, &writing, &header));
        assert_ne!(second.active.load(Relaxed) & 1 << me, 0, "not registered");
        // SAFETY: as above.
        unsafe { at.assume_init_drop() };
    }

    #[test]
    fn a_read_that_panics_gives_its_count_back() {
        let key = make_key(Ns(0), b"k");
        let (t, _caps) = table(&[b"k"], b"aaaa");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            t.with_ref(&key, |_| panic!("boom"))
        }));
        assert!(r.is_err());
        assert!(idle(&t), "the panicking read left its count");
        // A hang detector, not a timing assertion: a leaked count would make this spin forever.
        let (tx, rx) = mpsc::channel();
        let t2 = t.clone();
        std::thread::spawn(move || {
            let removed = t2.remove(&key).is_some();
            tx.send(removed).unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(true));
    }

    #[test]
    fn reads_see_whole_writes_while_tables_grow_and_shrink() {
        // Values are one byte repeated, a length that byte says (long ones, so a write in place
        // takes a while): a torn read shows up as a mixed value or a wrong length.
        let len = |b: u8| 2048 + usize::from(b % 2) * 8;
        let keys: Vec<Vec<u8>> = (0..64u32).map(|i| format!("k{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        let (t, caps) = table(&refs, &vec![b'a'; len(b'a')]);
        let caps = Arc::new(caps);
        let done = Arc::new(AtomicBool::new(false));
        let start = Arc::new(std::sync::Barrier::new(3));
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let (t, keys, done) = (t.clone(), keys.clone(), done.clone());
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    let mut seen = 0u64;
                    let mut i = r;
                    while !done.load(Relaxed) || seen == 0 {
                        i = (i + 7) % keys.len();
                        let got = t.with_ref(&make_key(Ns(0), &keys[i]), bytes);
                        if let Some(v) = got {
                            let b = v[0];
                            assert!(b.is_ascii_lowercase(), "{b}");
                            assert_eq!(v.len(), len(b), "value of {b}");
                            assert!(v.iter().all(|&x| x == b), "torn: {b} then another");
                            seen += 1;
                        }
                    }
                    seen
                })
            })
            .collect();
        start.wait();
        for round in 0..30_000usize {
            let k = make_key(Ns(0), &keys[round % keys.len()]);
            let b = b'a' + (round % 26) as u8;
            let v = vec![b; len(b)];
            t.with_mut(&k, |e| e.set_value(ValueRef::Bytes(&v)));
            // Churn: a burst of extra keys grows the shard tables, removing them shrinks them.
            if round % 1_000 == 0 {
                for j in 0..200u32 {
                    let e = Entry::new(&make_key(Ns(1), &j.to_be_bytes()), ValueRef::Int(1), 0, 1);
                    t.insert(e, &caps, |_| {});
                }
                for j in 0..200u32 {
                    t.remove(&make_key(Ns(1), &j.to_be_bytes()));
                }
                for idx in 0..t.shard_count() {
                    t.shrink_shard(idx, &caps);
                }
            }
        }
        done.store(true, Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        assert!(idle(&t));
    }
}
