//! What every read of a shared store bumps, spread so that threads on different cores do not
//! fight over one cache line: `Striped` counters (one line per stripe; a thread keeps its stripe,
//! and live threads hold different stripes while there are enough)
//! and access stamps handed out a block at a time per thread. Invariant: totals are exact (a read
//! adds the stripes); stamps stay distinct, and a thread's block is dropped when the reaper's
//! clock moves, so a stamp's time part is never older than the reaper's last wake-up.

use crossbeam_utils::CachePadded;
use std::cell::{Cell, RefCell};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Stripes per counter: enough for the cores a store is shared across.
pub(crate) const STRIPES: usize = 16;

/// Stamps a thread takes from the shared counter at once.
pub(crate) const STAMP_BLOCK: u64 = 64;

/// A counter many threads add to.
#[derive(Debug, Default)]
pub(crate) struct Striped([CachePadded<AtomicU64>; STRIPES]);

impl Striped {
    /// Adds `n` on this thread's stripe.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0[stripe()].fetch_add(n, Relaxed);
    }

    /// The total.
    pub(crate) fn load(&self) -> u64 {
        self.0.iter().map(|s| s.load(Relaxed)).sum()
    }
}

/// This thread's stripe, fixed at its first use: the lowest one no live thread holds, given
/// back when the thread exits, so threads that come and go (worker pools) do not end up
/// sharing lines while stripes sit unused. With every stripe held, threads share them in turn.
#[inline]
pub(crate) fn stripe() -> usize {
    (mine() & !SHARED) as usize
}

/// This thread's stripe if no other live thread holds it (see [`stripe`]): what a thread may
/// write with plain stores.
#[inline]
pub(crate) fn own_stripe() -> Option<usize> {
    let m = mine();
    (m & SHARED == 0).then_some(m as usize)
}

/// Set in [`MINE`] when the thread shares its stripe.
const SHARED: u32 = 1 << 31;
/// [`MINE`] before the thread's first use.
const UNSET: u32 = u32::MAX;

thread_local! {
    /// This thread's stripe (with [`SHARED`] if it shares it): a plain cell, the hot path's read.
    static MINE: Cell<u32> = const { Cell::new(UNSET) };
    /// The stripe this thread holds alone, given back when the thread exits.
    static HOLD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

#[inline]
fn mine() -> u32 {
    let m = MINE.with(Cell::get);
    if m != UNSET {
        return m;
    }
    first_use()
}

/// Takes this thread's stripe (see [`stripe`]).
#[cold]
fn first_use() -> u32 {
    let held = Held::take();
    let (stripe, alone) = (held.stripe as u32, held.alone);
    // A thread being torn down cannot keep a stripe to give back later: it gives it back now
    // (the drop) and shares.
    let kept = alone && HOLD.try_with(|h| *h.borrow_mut() = Some(held)).is_ok();
    let m = if kept { stripe } else { stripe | SHARED };
    MINE.with(|c| c.set(m));
    m
}

/// Stripes held by live threads, a bit each.
static HELD: AtomicU32 = AtomicU32::new(0);

/// A thread's stripe; given back on drop (thread exit) if the thread holds it alone.
struct Held {
    stripe: usize,
    alone: bool,
}

impl Held {
    fn take() -> Held {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        match take_free(&HELD) {
            Some(stripe) => Held {
                stripe,
                alone: true,
            },
            None => Held {
                stripe: NEXT.fetch_add(1, Relaxed) % STRIPES,
                alone: false,
            },
        }
    }
}

/// Marks the lowest stripe not in `held` as held and returns it; `None` when all are.
fn take_free(held: &AtomicU32) -> Option<usize> {
    let mut now = held.load(Relaxed);
    loop {
        let free = !now & ((1u64 << STRIPES) - 1) as u32;
        if free == 0 {
            return None;
        }
        let stripe = free.trailing_zeros() as usize;
        // Acquire: whatever the stripe's last holder wrote (its reader words) happened before.
        match held.compare_exchange_weak(now, now | 1 << stripe, Acquire, Relaxed) {
            Ok(_) => return Some(stripe),
            Err(seen) => now = seen,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.alone {
            // Whatever this thread still does on its way out, it does as a sharer.
            let _ = MINE.try_with(|c| c.set(self.stripe as u32 | SHARED));
            HELD.fetch_and(!(1 << self.stripe), Release);
        }
    }
}

thread_local! {
    /// This thread's block of stamps: (store, reaper clock it was taken at, next, end).
    static STAMPS: Cell<(usize, u64, u64, u64)> = const { Cell::new((0, 0, 0, 0)) };
}

/// The next stamp of this thread's block for `store` (an address) taken at reaper clock
/// `epoch`, or `None` when the thread has none left: take a block with [`stamp_block`].
#[inline]
pub(crate) fn next_stamp(store: usize, epoch: u64) -> Option<u64> {
    STAMPS.with(|c| {
        let (owner, at, next, end) = c.get();
        (owner == store && at == epoch && next < end).then(|| {
            c.set((owner, at, next + 1, end));
            next
        })
    })
}

/// Records a block `first..first + STAMP_BLOCK` just taken, of which `first` is used now.
#[inline]
pub(crate) fn stamp_block(store: usize, epoch: u64, first: u64) {
    STAMPS.with(|c| c.set((store, epoch, first + 1, first + STAMP_BLOCK)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_totals_are_exact_across_threads() {
        let c = std::sync::Arc::new(Striped::default());
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| c.add(1)))
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        c.add(5);
        assert_eq!(c.load(), 80_005);
    }

    #[test]
    fn a_thread_takes_the_lowest_stripe_no_live_thread_holds() {
        let held = AtomicU32::new(0);
        assert_eq!(take_free(&held), Some(0));
        assert_eq!(take_free(&held), Some(1));
        assert_eq!(take_free(&held), Some(2));
        held.fetch_and(!(1 << 1), Relaxed); // the second thread exits
        assert_eq!(take_free(&held), Some(1), "its stripe is taken again");
        let taken: Vec<_> = (0..STRIPES).map_while(|_| take_free(&held)).collect();
        assert_eq!(taken, (3..STRIPES).collect::<Vec<_>>());
        assert_eq!(take_free(&held), None, "all held: threads then share");
    }

    #[test]
    fn live_threads_hold_different_stripes() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let stop_rx = std::sync::Arc::new(std::sync::Mutex::new(stop_rx));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (tx, stop_rx) = (tx.clone(), stop_rx.clone());
                std::thread::spawn(move || {
                    tx.send(stripe()).unwrap();
                    let _ = stop_rx.lock().unwrap().recv();
                })
            })
            .collect();
        let seen: Vec<usize> = (0..3).map(|_| rx.recv().unwrap()).collect();
        // While fewer than STRIPES threads are alive no two share (other tests' threads count).
        if HELD.load(Relaxed) != ((1u64 << STRIPES) - 1) as u32 {
            assert!(
                seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2],
                "{seen:?}"
            );
        }
        drop(stop_tx);
        threads.into_iter().for_each(|h| h.join().unwrap());
    }

    #[test]
    fn a_block_serves_one_store_and_one_epoch() {
        stamp_block(1, 7, 100);
        assert_eq!(next_stamp(1, 7), Some(101));
        assert_eq!(next_stamp(2, 7), None, "another store");
        assert_eq!(next_stamp(1, 8), None, "the reaper's clock moved");
        for want in 102..100 + STAMP_BLOCK {
            assert_eq!(next_stamp(1, 7), Some(want));
        }
        assert_eq!(next_stamp(1, 7), None, "used up");
    }
}
