//! Prometheus text exposition of a store's stats, through prometheus-client. Shared by the
//! daemon's `/metrics` (which registers its own connection and latency metrics beside these)
//! and the addon's `kv.metrics()`. Counters end in `_total`; gauges cover keys and bytes, per
//! namespace too. Reads stats only; knows nothing of sockets or napi.

use crate::store::Stats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// A collector that takes a fresh [`Stats`] snapshot on every scrape.
pub struct StatsCollector {
    /// Where snapshots come from (usually a closure over an `Arc<Store>`).
    source: Box<dyn Fn() -> Stats + Send + Sync>,
}

impl StatsCollector {
    /// A collector over `source`.
    pub fn new(source: impl Fn() -> Stats + Send + Sync + 'static) -> Self {
        StatsCollector {
            source: Box::new(source),
        }
    }
}

impl std::fmt::Debug for StatsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatsCollector")
    }
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

fn per_namespace(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: &[(String, u64)],
) -> std::fmt::Result {
    let kind = ConstGauge::new(0i64).metric_type();
    let mut family = enc.encode_descriptor(name, help, None, kind)?;
    for (ns, v) in values {
        let labels = [("namespace", ns.as_str())];
        ConstGauge::new(*v as i64).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for StatsCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let st = (self.source)();
        counter(
            &mut enc,
            "tinykv_keyspace_hits",
            "Reads that found a live entry.",
            st.hits,
        )?;
        counter(
            &mut enc,
            "tinykv_keyspace_misses",
            "Reads that found no live entry.",
            st.misses,
        )?;
        counter(
            &mut enc,
            "tinykv_sets",
            "Successful writes (set, incr, append).",
            st.sets,
        )?;
        counter(
            &mut enc,
            "tinykv_deletes",
            "Entries removed by delete.",
            st.deletes,
        )?;
        counter(
            &mut enc,
            "tinykv_expired_keys",
            "Entries removed because their TTL passed.",
            st.expired,
        )?;
        counter(
            &mut enc,
            "tinykv_evicted_keys",
            "Entries removed to make room under a cap.",
            st.evicted,
        )?;
        gauge(
            &mut enc,
            "tinykv_keys",
            "Entries in the store.",
            st.keys as i64,
        )?;
        gauge(
            &mut enc,
            "tinykv_used_memory_bytes",
            "Bytes charged: entry allocations plus tables.",
            st.bytes as i64,
        )?;
        gauge(
            &mut enc,
            "tinykv_table_memory_bytes",
            "Bytes of the hash tables (part of used memory).",
            st.table_bytes as i64,
        )?;
        let max_memory = st.max_memory.unwrap_or(0) as i64;
        gauge(
            &mut enc,
            "tinykv_max_memory_bytes",
            "The byte cap; 0 means unbounded.",
            max_memory,
        )?;
        let max_entries = st.max_entries.unwrap_or(0) as i64;
        gauge(
            &mut enc,
            "tinykv_max_entries",
            "The entry cap; 0 means unbounded.",
            max_entries,
        )?;
        let keys: Vec<(String, u64)> = st
            .namespaces
            .iter()
            .map(|n| (n.name.clone(), n.keys))
            .collect();
        per_namespace(
            &mut enc,
            "tinykv_namespace_keys",
            "Entries per namespace.",
            &keys,
        )?;
        let bytes: Vec<(String, u64)> = st
            .namespaces
            .iter()
            .map(|n| (n.name.clone(), n.bytes))
            .collect();
        per_namespace(
            &mut enc,
            "tinykv_namespace_bytes",
            "Key and value bytes per namespace.",
            &bytes,
        )?;
        Ok(())
    }
}

/// Content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of [`encode_openmetrics`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Encode a registry in OpenMetrics text, as prometheus-client writes it (counter families
/// named without `_total`, samples with it, a trailing `# EOF`).
pub fn encode_openmetrics(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// Encode a registry in the classic Prometheus text format (0.0.4), which every scraper and
/// `promtool check metrics` read: counter families take their `_total` sample name in HELP and
/// TYPE, and there is no `# EOF`.
pub fn encode(registry: &Registry) -> String {
    to_prometheus_text(&encode_openmetrics(registry))
}

/// Convert prometheus-client's OpenMetrics text to the classic format (see [`encode`]).
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The Prometheus text for one stats snapshot, for an in-process store.
pub fn render(stats: Stats) -> String {
    let mut registry = Registry::default();
    let snapshot = std::sync::Mutex::new(Some(stats));
    registry.register_collector(Box::new(StatsCollector::new(move || {
        snapshot
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .unwrap_or_else(empty_stats)
    })));
    encode(&registry)
}

fn empty_stats() -> Stats {
    Stats {
        hits: 0,
        misses: 0,
        sets: 0,
        deletes: 0,
        expired: 0,
        evicted: 0,
        keys: 0,
        bytes: 0,
        table_bytes: 0,
        eviction_policy: "lru",
        max_entries: None,
        max_memory: None,
        namespaces: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Config, Ns, SetOptions, Store, Value};

    #[test]
    fn renders_counters_gauges_and_namespaces() {
        let s = Store::new(Config {
            max_entries: Some(10),
            ..Config::default()
        })
        .unwrap();
        let ns = s.namespace("sessions").unwrap();
        s.set(Ns::DEFAULT, "a", Value::Int(1), &SetOptions::default())
            .unwrap();
        s.set(ns, "b", Value::from("xyz"), &SetOptions::default())
            .unwrap();
        s.get(Ns::DEFAULT, "a");
        s.get(Ns::DEFAULT, "nope");
        let text = render(s.stats());
        for line in [
            "tinykv_keyspace_hits_total 1",
            "tinykv_keyspace_misses_total 1",
            "tinykv_sets_total 2",
            "tinykv_keys 2",
            "tinykv_max_entries 10",
            "tinykv_namespace_keys{namespace=\"sessions\"} 1",
            "tinykv_namespace_keys{namespace=\"default\"} 1",
            "# TYPE tinykv_evicted_keys_total counter",
            "# TYPE tinykv_used_memory_bytes gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        let used = format!("tinykv_used_memory_bytes {}", s.stats().bytes);
        assert!(text.contains(&used), "{text}");
        assert!(
            text.contains("# TYPE tinykv_keyspace_hits_total counter"),
            "{text}"
        );
        assert!(!text.contains("# EOF"));
    }
}
