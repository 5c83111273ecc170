//! Store configuration: caps, limits and maintenance cadence, with defaults a cache user expects.

use crate::error::{Error, Result};

/// Which entry goes first when a cap is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EvictionPolicy {
    /// Approximate least-recently-used, by sampling into an eviction pool (Redis's method).
    #[default]
    Lru,
    /// Least-frequently-used: a logarithmic access counter that decays with idle time, as in
    /// Redis; ties go to the least recently used.
    Lfu,
    /// Among entries with a TTL, the soonest expiry goes first; entries without one are kept,
    /// and a write that needs room fails when no entry has a TTL.
    VolatileTtl,
    /// Never evict live entries: writes that need room fail with an OOM error; reads keep
    /// working. Expired entries may still be reclaimed to make room.
    NoEviction,
}

impl EvictionPolicy {
    /// The Redis name (`allkeys-lru`, `allkeys-lfu`, `volatile-ttl`, `noeviction`).
    pub fn redis_name(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "allkeys-lru",
            EvictionPolicy::Lfu => "allkeys-lfu",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::NoEviction => "noeviction",
        }
    }

    /// The short name (`lru`, `lfu`, `volatile-ttl`, `noeviction`).
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::Lfu => "lfu",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::NoEviction => "noeviction",
        }
    }
}

impl std::str::FromStr for EvictionPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "lru" | "allkeys-lru" => Ok(EvictionPolicy::Lru),
            "lfu" | "allkeys-lfu" => Ok(EvictionPolicy::Lfu),
            "volatile-ttl" => Ok(EvictionPolicy::VolatileTtl),
            "noeviction" => Ok(EvictionPolicy::NoEviction),
            other => Err(Error::InvalidArgument(format!(
                "unknown eviction policy '{other}' (expected lru, lfu, volatile-ttl or noeviction)"
            ))),
        }
    }
}

/// How a store is bounded and maintained.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most entries the store holds; past it the eviction policy makes room. `None` = unbounded.
    pub max_entries: Option<usize>,
    /// Most bytes (key + value + per-entry overhead) the store holds. `None` = unbounded.
    pub max_memory: Option<u64>,
    /// Longest key accepted, in bytes.
    pub max_key_len: usize,
    /// Longest value accepted, in bytes.
    pub max_value_len: usize,
    /// TTL applied to new entries written without one. `None` = entries live until removed.
    pub default_ttl_ms: Option<u64>,
    /// How often the background reaper wakes to reclaim expired entries; 0 = no reaper thread
    /// (tests then call `Store::reap_expired` by hand).
    pub reaper_interval_ms: u64,
    /// Number of lock shards in the map (rounded up to a power of two, at least 2).
    pub shards: usize,
    /// What to evict when a cap is reached.
    pub eviction_policy: EvictionPolicy,
    /// Keys sampled per eviction step; more samples track exact LRU more closely.
    pub eviction_samples: usize,
    /// Redis's `databases`: SELECT takes a numeric name only below this (the store itself
    /// does not use it; namespaces are by name). Database 0 is the default namespace.
    pub databases: u32,
    /// Built for reads from many threads at once (a store that worker threads share): a read
    /// announces itself in a per-thread reader slot instead of taking the shard lock, and an
    /// entry's access time is rewritten at most once per [`ACCESS_RESOLUTION_MS`] (Redis's LRU
    /// clock resolution), so reads on different cores write no line they share. Answers are
    /// the same either way; recency (LRU order) is then exact to that resolution.
    pub concurrent: bool,
}

/// How stale an entry's access time may be in a [`Config::concurrent`] store before a read
/// rewrites it (Redis's LRU clock resolution).
pub const ACCESS_RESOLUTION_MS: u64 = 1000;

impl Default for Config {
    fn default() -> Self {
        Self {
            max_entries: None,
            max_memory: None,
            max_key_len: 64 * 1024,
            max_value_len: 512 * 1024 * 1024,
            default_ttl_ms: None,
            reaper_interval_ms: 100,
            shards: 64,
            eviction_policy: EvictionPolicy::Lru,
            eviction_samples: 5,
            databases: 16,
            concurrent: false,
        }
    }
}

impl Config {
    /// Reject settings that cannot work, with a message naming the setting.
    pub fn validate(&self) -> Result<()> {
        if self.max_entries == Some(0) {
            return Err(Error::InvalidArgument(
                "max_entries must be at least 1".into(),
            ));
        }
        if self.databases == 0 {
            return Err(Error::InvalidArgument(
                "databases must be at least 1".into(),
            ));
        }
        if self.max_memory == Some(0) {
            return Err(Error::InvalidArgument(
                "max_memory must be at least 1 byte".into(),
            ));
        }
        if self.default_ttl_ms == Some(0) {
            return Err(Error::InvalidArgument(
                "default_ttl must be a positive number of milliseconds".into(),
            ));
        }
        if self.max_key_len == 0 {
            return Err(Error::InvalidArgument(
                "max_key_len must be at least 1".into(),
            ));
        }
        let most_key = super::entry::MAX_STORED_KEY - super::key::NS_PREFIX;
        if self.max_key_len > most_key {
            return Err(Error::InvalidArgument(format!(
                "max_key_len must be at most {most_key} bytes"
            )));
        }
        let most_value = super::entry::MAX_PART_LEN;
        if self.max_value_len > most_value {
            return Err(Error::InvalidArgument(format!(
                "max_value_len must be at most {most_value} bytes"
            )));
        }
        if self.eviction_samples == 0 {
            return Err(Error::InvalidArgument(
                "eviction_samples must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Parse a memory size the way Redis reads one: plain bytes, or a number with a binary unit
/// (`kb`, `mb`, `gb`, `k`, `m`, `g`, `b`), case-insensitive. `"64mb"` is 64 x 1024 x 1024.
pub fn parse_memory_size(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        Error::InvalidArgument(format!(
            "invalid memory size '{s}' (expected bytes, or a number with kb, mb or gb)"
        ))
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory_size("100").unwrap(), 100);
        assert_eq!(parse_memory_size("64mb").unwrap(), 64 << 20);
        assert_eq!(parse_memory_size("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_memory_size("3k").unwrap(), 3 << 10);
        for bad in ["", "mb", "1.5mb", "-1", "10xb", "99999999999999999999gb"] {
            assert!(parse_memory_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn validate_names_the_setting() {
        let c = Config {
            max_entries: Some(0),
            ..Config::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_entries"));
        assert!(Config::default().validate().is_ok());
    }
}
