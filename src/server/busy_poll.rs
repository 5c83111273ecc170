//! Bounded busy polling: after connections have served requests, keep the event loop polling
//! (non-blocking) for up to [`ServerConfig::busy_poll`](super::ServerConfig::busy_poll) before
//! it goes to sleep in `epoll_wait`.
//!
//! Why: a server thread asleep in `epoll_wait` must be woken by the client's `send`, and that
//! wakeup (an inter-processor interrupt, and on a VM a trip through the hypervisor) is paid on
//! the *client's* CPU. Measured with redis-benchmark -P 1 -c 50 on the 2-core VM this project
//! benchmarks on: about 8-12% of the client's CPU went to waking the server, which slept ~150
//! times per 1000 requests; polling for 20 us before sleeping cut that to ~5-45 per 1000 and
//! raised requests/s by ~8-10%. The server's own CPU per request rises (by ~0.5-1.5 us at -P 1):
//! it spends idle time polling instead of sleeping.
//!
//! Only on a current-thread runtime (`run` decides): there each yield of the poller polls the
//! I/O driver. On a multi-thread runtime another worker may hold the driver, and spinning was
//! measured to buy nothing.
//!
//! Invariants: an idle server never spins (the poller sleeps until a connection reports work);
//! a spin ends once no request has been served for the budget, and never runs longer than
//! [`MAX_POLLS`] polls without sleeping; the poller stops when the server stops.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

/// Most non-blocking polls in one spin (each is one `epoll_wait(0)`, well under a microsecond),
/// so even a client that never pauses lets the poller sleep now and then.
const MAX_POLLS: u32 = 1_000_000;

/// Shared between the connections (which report work) and the poller task.
#[derive(Debug, Default)]
pub(crate) struct BusyPoll {
    /// Batches of requests served so far; the poller spins while this keeps moving.
    work: AtomicU64,
    /// True while the poller waits for work (so [`BusyPoll::worked`] knows to wake it).
    asleep: AtomicBool,
    /// Wakes the poller.
    wake: Notify,
}

impl BusyPoll {
    /// A connection served a batch of requests. Cheap: one atomic add, and a notify only when
    /// the poller is asleep.
    pub fn worked(&self) {
        self.work.fetch_add(1, Ordering::Relaxed);
        if self.asleep.swap(false, Ordering::Relaxed) {
            self.wake.notify_one();
        }
    }

    /// The poller: sleeps until work is reported, then yields to the runtime (each yield polls
    /// the I/O driver without blocking and runs whatever became ready) until `budget` passes
    /// with no new work. Returns when `stop` changes.
    pub async fn run(&self, budget: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            self.asleep.store(true, Ordering::Relaxed);
            tokio::select! {
                _ = stop.changed() => return,
                _ = self.wake.notified() => {}
            }
            let mut seen = self.work.load(Ordering::Relaxed);
            // When the polls started finding nothing; the clock is read only on idle polls.
            let mut idle_since: Option<Instant> = None;
            for _ in 0..MAX_POLLS {
                tokio::task::yield_now().await;
                let now = self.work.load(Ordering::Relaxed);
                if now != seen {
                    seen = now;
                    idle_since = None;
                } else if *stop.borrow()
                    || idle_since.get_or_insert_with(Instant::now).elapsed() >= budget
                {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Waits (bounded, yielding to the poller) until the poller is asleep again.
    async fn until_asleep(bp: &BusyPoll) -> bool {
        for _ in 0..100_000 {
            if bp.asleep.load(Ordering::Relaxed) {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    #[tokio::test]
    async fn spins_after_work_then_sleeps_and_stops_on_shutdown() {
        let bp = Arc::new(BusyPoll::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let poller = {
            let bp = Arc::clone(&bp);
            tokio::spawn(async move { bp.run(Duration::from_micros(200), stop_rx).await })
        };
        assert!(until_asleep(&bp).await, "an idle poller sleeps");
        bp.worked();
        assert!(!bp.asleep.load(Ordering::Relaxed), "work wakes it");
        tokio::task::yield_now().await;
        assert!(until_asleep(&bp).await, "it sleeps again once work stops");
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), poller)
            .await
            .expect("the poller stops on shutdown")
            .unwrap();
    }
}
