//! The daemon's own Prometheus metrics, read from the live server state on every scrape:
//! connected clients, connections and commands since start, and the per-command duration
//! histogram `tinykv_command_duration_seconds{command=...}`.
//!
//! Invariant: a scrape only reads counters the daemon keeps anyway (the connected `Clients`, the
//! latency shards); nothing is counted twice to feed Prometheus.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::exemplar::Exemplar;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::latency::{upper_ns, BUCKETS};
use super::state::ServerState;

/// Powers of two of nanoseconds used as the exported `le` bounds: 1.024 µs .. 17.2 s. Each is
/// an internal bucket boundary, so the exported counts are exact.
const LE_POW2: std::ops::RangeInclusive<u32> = 10..=34;

/// Encodes the daemon's metrics from its shared state.
#[derive(Debug)]
pub(crate) struct DaemonCollector {
    /// The server state to read.
    shared: Arc<ServerState>,
}

impl DaemonCollector {
    /// A collector over `shared`.
    pub fn new(shared: Arc<ServerState>) -> Self {
        DaemonCollector { shared }
    }
}

impl Collector for DaemonCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let sh = &self.shared;
        let g = ConstGauge::new(sh.clients.len() as i64);
        g.encode(enc.encode_descriptor(
            "tinykv_connected_clients",
            "Clients connected now.",
            None,
            g.metric_type(),
        )?)?;
        let c = ConstCounter::new(sh.total_connections.load(Ordering::Relaxed));
        c.encode(enc.encode_descriptor(
            "tinykv_connections",
            "Connections accepted since start (refused ones included).",
            None,
            c.metric_type(),
        )?)?;
        let c = ConstCounter::new(sh.rejected_connections.load(Ordering::Relaxed));
        c.encode(enc.encode_descriptor(
            "tinykv_rejected_connections",
            "Connections refused at --max-clients.",
            None,
            c.metric_type(),
        )?)?;
        let c = ConstCounter::new(sh.clients.total_commands());
        c.encode(enc.encode_descriptor(
            "tinykv_commands_processed",
            "Commands processed since start.",
            None,
            c.metric_type(),
        )?)?;
        let mut family = enc.encode_descriptor(
            "tinykv_command_duration_seconds",
            "Time to execute one command, by command (excluding network and queueing).",
            None,
            MetricType::Histogram,
        )?;
        for (name, h) in sh.latency.snapshot() {
            let mut buckets = Vec::with_capacity(LE_POW2.clone().count() + 1);
            let mut i = 0;
            let mut placed = 0u64;
            for p in LE_POW2 {
                let bound = 1u64 << p;
                let mut n = 0;
                while i < BUCKETS && upper_ns(i) <= bound {
                    n += h.counts[i];
                    i += 1;
                }
                placed += n;
                buckets.push((bound as f64 / 1e9, n));
            }
            buckets.push((f64::INFINITY, h.count() - placed));
            let labels = [("command", name)];
            family.encode_family(&labels)?.encode_histogram(
                h.sum_ns as f64 / 1e9,
                h.count(),
                &buckets,
                None::<&HashMap<usize, Exemplar<NoLabelSet, f64>>>,
            )?;
        }
        Ok(())
    }
}
