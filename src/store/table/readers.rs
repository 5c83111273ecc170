//! Reads that write no line another core reads, for a store that threads share (the
//! `concurrent` config): a big-reader lock beside each shard's lock, as in Linux's brlocks.
//! Each thread stripe has a word per shard, in lines only that stripe's thread reads from. A
//! read takes its stripe's word from free to reading (one compare-and-swap on its own line)
//! and frees it with a plain store; a writer, holding the shard's write lock, takes the words
//! of every stripe that reads the table (its own too) from free to written, waiting while a
//! reader is in, and frees them as it ends. A read that finds its word taken takes the shard's read lock
//! instead, and so does a thread that shares its stripe (past [`STRIPES`] live threads).
//!
//! A write then moves one line per other reading thread (its word, taken and given back) and
//! the lock word's, and a read moves none. The reader finds the table through a copy of the
//! shard's table header ([`Header`]) beside the prefetch geometry, not through the header next
//! to the lock word, and a write rewrites the copy only when the header changed (an insert or
//! a removal, not an overwrite).
//!
//! A thread's first unlocked read of a table marks its stripe in `active` (the stripes writers
//! take), then takes and drops every shard's read lock: a writer that read `active` before the
//! mark still holds its shard's lock, so it ends before the sweep passes it, and every later
//! writer's lock acquisition comes after the sweep's, so it sees the mark.
//!
//! Invariant: every change to a shard's table or to its entries' non-atomic fields happens
//! under a [`ShardWrite`], never under the shard's write lock alone.

use super::super::striped::{own_stripe, STRIPES};
use super::{Slot, Table};
use crossbeam_utils::CachePadded;
use dashmap::RwLockWriteGuard;
use hashbrown::raw::RawTable;
use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU32, Ordering::*};

/// Words per padded block: one block holds a stripe's words for this many shards.
const PER_BLOCK: usize = 32;

/// A stripe's word for a shard: no one is in.
const FREE: u32 = 0;
/// The stripe's thread is reading the shard.
const READING: u32 = 1;
/// A writer holds the shard.
const WRITTEN: u32 = 2;

/// The reader words of a concurrent table.
#[derive(Debug)]
pub(super) struct Readers {
    /// Stripe `s`'s word for shard `i` is `words[s * blocks + i / PER_BLOCK][i % PER_BLOCK]`:
    /// a stripe's words are blocks of their own, read only by its thread.
    words: Box<[CachePadded<[AtomicU32; PER_BLOCK]>]>,
    /// Blocks per stripe.
    blocks: usize,
    /// One bit per stripe that has read this table without the lock: the stripes a writer
    /// takes. Bits are never cleared (a stripe's next thread inherits the mark).
    active: AtomicU32,
}

/// A bitwise copy of a shard's table header (control-byte address, bucket mask, counts) for
/// readers of a concurrent table. Written by a [`ShardWrite`] as it ends, while it holds every
/// reader's word; read only through a [`ReadSlot`]. Never dropped: the table it points at
/// belongs to the shard.
pub(super) struct Header(UnsafeCell<ManuallyDrop<RawTable<Slot>>>);

// SAFETY: the copy is written only by a `ShardWrite`, with no reader in the shard, and read
// only by readers that took their word while no writer was in (see the module docs).
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
    /// Copies `table`'s header in, unless the copy already equals it.
    ///
    /// # Safety
    /// The caller holds the shard for writing (its lock and every reader's word, or before the
    /// table is shared), and `table` is the shard's.
    unsafe fn set(&self, table: &RawTable<Slot>) {
        // `ManuallyDrop` is `repr(transparent)`.
        let copy: *mut RawTable<Slot> = self.0.get().cast();
        // SAFETY: only writers write the copy, and the caller is the only one.
        let old = unsafe { &*copy };
        // The whole header: ctrl = data_end, bucket_mask = buckets - 1, items = len,
        // growth_left = capacity - len.
        let same = old.data_end() == table.data_end()
            && old.buckets() == table.buckets()
            && old.len() == table.len()
            && old.capacity() == table.capacity();
        if !same {
            // SAFETY: no reader is in (the caller's contract); the copy owns nothing (it is
            // never dropped) and is only ever read through `&`.
            unsafe { std::ptr::copy_nonoverlapping(table, copy, 1) }
        }
    }
}

/// A read in progress: its stripe's word for the shard, freed on drop (also when the read
/// panics), and the shard's table, through its [`Header`] copy. The table is a raw pointer,
/// lent out only by `deref` while the word is held; it also keeps the slot on its thread, the
/// only one that reads through its stripe's words.
pub(super) struct ReadSlot<'a> {
    word: &'a AtomicU32,
    table: *const RawTable<Slot>,
}

impl Drop for ReadSlot<'_> {
    #[inline]
    fn drop(&mut self) {
        // A writer changes a word only from FREE, so while this read holds it a plain store
        // gives it back.
        self.word.store(FREE, Release);
    }
}

impl std::ops::Deref for ReadSlot<'_> {
    type Target = RawTable<Slot>;
    #[inline]
    fn deref(&self) -> &RawTable<Slot> {
        // SAFETY: while this slot holds its word, no writer is in the shard to change the
        // header copy or the table (see `Table::read_unlocked`).
        unsafe { &*self.table }
    }
}

impl Readers {
    pub(super) fn new(shards: usize) -> Readers {
        let blocks = shards.div_ceil(PER_BLOCK);
        Readers {
            words: (0..STRIPES * blocks)
                .map(|_| CachePadded::default())
                .collect(),
            blocks,
            active: AtomicU32::new(0),
        }
    }

    #[inline]
    fn word(&self, stripe: usize, shard: usize) -> &AtomicU32 {
        &self.words[stripe * self.blocks + shard / PER_BLOCK][shard % PER_BLOCK]
    }

    /// Takes the word of shard `shard` in every marked stripe, waiting while a reader is in;
    /// called with the shard's write lock held. The stripes taken.
    fn take(&self, shard: usize) -> u32 {
        // Under the write lock: every stripe whose registration sweep has passed this shard
        // is seen (see the module docs).
        // This thread's own word too: a read of the shard from inside this write (which the
        // table's callers never make) then waits instead of reading a table being changed.
        let taken = self.active.load(Acquire);
        for s in stripes_in(taken) {
            let word = self.word(s, shard);
            let mut spins = 0u32;
            while word
                .compare_exchange_weak(FREE, WRITTEN, Acquire, Relaxed)
                .is_err()
            {
                // A reader holds its word for one lookup; one that was descheduled meanwhile
                // needs its core back.
                spins += 1;
                if spins < 128 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        taken
    }

    /// Frees the words [`Readers::take`] took.
    fn give_back(&self, shard: usize, stripes: u32) {
        for s in stripes_in(stripes) {
            self.word(s, shard).store(FREE, Release);
        }
    }
}

/// The stripes whose bits are set in `mask`, lowest first.
fn stripes_in(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let s = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            s
        })
    })
}

/// A shard's table held for writing: its write lock, and in a concurrent table the words of
/// its readers' stripes. Republishes the table's geometry (and header copy) and frees the
/// words on drop.
pub(super) struct ShardWrite<'a> {
    table: &'a Table,
    idx: usize,
    guard: RwLockWriteGuard<'a, RawTable<Slot>>,
    /// The stripes whose words this write took.
    taken: u32,
}

impl Table {
    /// Shard `idx`'s table for one read without its lock, unless a writer is in or this thread
    /// shares its stripe; `None` then, and in a table that is not concurrent. A thread's first
    /// call on a table takes and drops every shard's read lock (see the module docs), so it
    /// must hold no shard then: a batch makes its first call before it holds any.
    #[inline]
    pub(super) fn read_unlocked(&self, idx: usize) -> Option<ReadSlot<'_>> {
        let r = self.readers.as_ref()?;
        let s = own_stripe()?;
        if r.active.load(Relaxed) & 1 << s == 0 {
            self.register(r, s);
        }
        let word = r.word(s, idx);
        // `Acquire`: the last writer's changes, header copy included, came before its
        // `Release` store of FREE.
        if word
            .compare_exchange(FREE, READING, Acquire, Relaxed)
            .is_err()
        {
            return None;
        }
        Some(ReadSlot {
            word,
            table: self.geometry[idx].header.0.get().cast_const().cast(),
        })
    }

    /// Marks stripe `s` as one that reads this table without the lock, then waits out the
    /// writers that may have missed the mark (see the module docs). Once per stripe and table:
    /// a stripe's later threads inherit the mark.
    #[cold]
    fn register(&self, r: &Readers, s: usize) {
        r.active.fetch_or(1 << s, SeqCst);
        for shard in self.map.shards() {
            drop(shard.read());
        }
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
        let taken = match &self.readers {
            Some(r) => r.take(idx),
            None => 0,
        };
        ShardWrite {
            table: self,
            idx,
            guard,
            taken,
        }
    }
}

impl Drop for ShardWrite<'_> {
    #[inline]
    fn drop(&mut self) {
        self.table.publish_geometry(self.idx, &self.guard);
        if let Some(r) = &self.table.readers {
            // SAFETY: this is the shard's `ShardWrite`: its lock is held, and so is every
            // reader's word.
            unsafe { self.table.geometry[self.idx].header.set(&self.guard) };
            r.give_back(self.idx, self.taken);
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
    use crate::store::table::BatchProbe;
    use crate::store::value::ValueRef;
    use std::sync::atomic::AtomicBool;
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

    /// No reader or writer holds a word.
    fn idle(t: &Table) -> bool {
        let r = t.readers.as_ref().unwrap();
        r.words
            .iter()
            .all(|b| b.iter().all(|c| c.load(Relaxed) == FREE))
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
    fn a_first_read_waits_for_a_writer_that_began_before_it_registered() {
        let key = make_key(Ns(0), b"k").to_vec();
        let (t, _caps) = table(&[b"k"], b"aaaa");
        let (in_tx, in_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        // The writer takes the shard before any thread has read the table unlocked: it takes
        // no reader's word.
        let writer = {
            let (t, key) = (t.clone(), key.clone());
            std::thread::spawn(move || {
                t.with_mut(&key, |e| {
                    in_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    e.set_value(ValueRef::Bytes(b"bbbbbbbb"));
                })
            })
        };
        in_rx.recv().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (t, key, done) = (t.clone(), key.clone(), done.clone());
            std::thread::spawn(move || {
                let registered_alone = own_stripe().is_some();
                let got = t.with_ref(&key, bytes);
                done.store(true, SeqCst);
                (registered_alone, got)
            })
        };
        // A window for a reader that does not wait to get through; one that waits cannot.
        std::thread::sleep(Duration::from_millis(100));
        assert!(!done.load(SeqCst), "the read ran while a write was in");
        go_tx.send(()).unwrap();
        writer.join().unwrap();
        let (registered_alone, got) = reader.join().unwrap();
        assert_eq!(got.unwrap(), b"bbbbbbbb");
        if registered_alone {
            let me = t.readers.as_ref().unwrap().active.load(Relaxed);
            assert_ne!(me, 0, "the reader did not mark its stripe");
        }
        assert!(idle(&t));
    }

    #[test]
    fn a_read_that_panics_gives_its_word_back() {
        let key = make_key(Ns(0), b"k");
        let (t, _caps) = table(&[b"k"], b"aaaa");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            t.with_ref(&key, |_| panic!("boom"))
        }));
        assert!(r.is_err());
        assert!(idle(&t), "the panicking read kept its word");
        // A hang detector, not a timing assertion: a kept word would make this spin forever.
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
                        // Reader 0 reads one key at a time; reader 1 reads batches of 8 (as
                        // MGET does, holding several shards at once).
                        let got: Vec<Vec<u8>> = if r == 0 {
                            let key = make_key(Ns(0), &keys[i]);
                            t.with_ref(&key, bytes).into_iter().collect()
                        } else {
                            let batch: Vec<Vec<u8>> = (0..8)
                                .map(|j| make_key(Ns(0), &keys[(i + j) % keys.len()]).to_vec())
                                .collect();
                            let refs: Vec<&[u8]> = batch.iter().map(|k| &k[..]).collect();
                            let mut out = Vec::new();
                            BatchProbe::new(&t).probe(&refs, |_, e| out.push(bytes(e)));
                            out
                        };
                        for v in got {
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
