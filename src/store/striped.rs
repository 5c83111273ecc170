//! What every read of a shared store bumps, spread so that threads on different cores do not
//! fight over one cache line: `Striped` counters (one line per stripe; a thread keeps its stripe)
//! and access stamps handed out a block at a time per thread. Invariant: totals are exact (a read
//! adds the stripes); stamps stay distinct, and a thread's block is dropped when the reaper's
//! clock moves, so a stamp's time part is never older than the reaper's last wake-up.

use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

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

/// This thread's stripe, fixed at its first use (threads take them in turn).
#[inline]
pub(crate) fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
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
