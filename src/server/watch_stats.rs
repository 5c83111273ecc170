//! The daemon's once-a-second sampler: INFO's `instantaneous_ops_per_sec`, and a rate-limited
//! warning when the store is evicting (memory or entry pressure).
//!
//! Invariant: it only reads counters and writes `ServerState::ops_per_sec`; it stops when the server
//! starts shutting down.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::state::ServerState;

/// How often the counters are sampled.
const PERIOD: Duration = Duration::from_secs(1);

/// Least time between two eviction-pressure warnings.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Spawns the sampler, which runs until `stop` changes. The baselines are read here, before
/// `run` starts accepting, so every eviction caused by a client counts as pressure.
pub(crate) fn spawn(
    shared: Arc<ServerState>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let last_commands = shared.clients.total_commands();
    let last_evicted = shared.store.stats().evicted;
    tokio::spawn(sample(shared, stop, last_commands, last_evicted))
}

async fn sample(
    shared: Arc<ServerState>,
    mut stop: watch::Receiver<bool>,
    mut last_commands: u64,
    mut last_evicted: u64,
) {
    let mut tick = tokio::time::interval_at(Instant::now() + PERIOD, PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_at = Instant::now();
    let mut last_warn: Option<Instant> = None;
    let mut evicted_since_warn = 0u64;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        let secs = now.duration_since(last_at).as_secs_f64().max(1e-3);
        last_at = now;
        let commands = shared.clients.total_commands();
        let ops = commands.saturating_sub(last_commands) as f64 / secs;
        last_commands = commands;
        shared
            .ops_per_sec
            .store(ops.round() as u64, Ordering::Relaxed);
        let stats = shared.store.stats();
        evicted_since_warn += stats.evicted.saturating_sub(last_evicted);
        last_evicted = stats.evicted;
        let due = last_warn.is_none_or(|w| now.duration_since(w) >= WARN_EVERY);
        if evicted_since_warn > 0 && due {
            tracing::warn!(
                evicted_keys = stats.evicted,
                evicted_since_last_warning = evicted_since_warn,
                used_memory = stats.bytes,
                maxmemory = stats.max_memory.unwrap_or(0),
                keys = stats.keys,
                max_entries = stats.max_entries.unwrap_or(0),
                maxmemory_policy = stats.eviction_policy,
                "eviction pressure: the store is evicting keys to stay under its caps"
            );
            last_warn = Some(now);
            evicted_since_warn = 0;
        }
    }
}
