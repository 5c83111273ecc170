//! Eviction: approximate LRU by sampling, with an eviction pool, as Redis does. Each step reads
//! a few entries from a random spot of a random shard, keeps the oldest candidates seen so far
//! in a small pool, and removes the oldest candidate whose access stamp is still what was
//! sampled (one touched since is no longer a good victim). The policy sets the score (LRU
//! stamp, LFU counter, or expiry time); expired entries go before live ones under every policy.
//! Lock order: pool mutex, then one shard lock at a time; never a shard lock while evicting.
//! The pool knows the table and the policy only: accounting for what it removed is the
//! caller's.

use super::config::EvictionPolicy;
use super::entry::Entry;
use super::key::KeyBuf;
use super::table::Table;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Score bit that puts live entries after every expired one.
const LIVE: u64 = 1 << 63;

/// Candidates kept between steps (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// One eviction candidate.
#[derive(Debug)]
struct Candidate {
    /// Stored key (namespace prefix + key).
    key: KeyBuf,
    /// Access stamp when sampled; the entry is only evicted if it still has it.
    stamp: u64,
    /// Lower goes first.
    score: u64,
}

/// The eviction pool and the sampler's random source.
#[derive(Debug)]
pub(crate) struct EvictionPool {
    /// Sorted by score, best victim last.
    candidates: Vec<Candidate>,
    /// Picks the shard and bucket a sample starts from.
    rng: SmallRng,
}

impl Default for EvictionPool {
    fn default() -> Self {
        Self {
            candidates: Vec::with_capacity(POOL_SIZE + 1),
            rng: SmallRng::from_entropy(),
        }
    }
}

/// Puts a candidate in the pool (sorted by score, best victim last, at most [`POOL_SIZE`]),
/// unless the pool is full of better ones.
fn offer(candidates: &mut Vec<Candidate>, key: &[u8], stamp: u64, score: u64) {
    if candidates.len() == POOL_SIZE && candidates.first().is_some_and(|worst| worst.score <= score)
    {
        return;
    }
    if let Some(c) = candidates.iter_mut().find(|c| &*c.key == key) {
        c.stamp = stamp;
        c.score = score;
    } else {
        candidates.push(Candidate {
            key: KeyBuf::copy_of(key),
            stamp,
            score,
        });
    }
    // Highest score first, so the best victim pops off the end.
    candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.score));
    if candidates.len() > POOL_SIZE {
        candidates.remove(0);
    }
}

/// What eviction needs to know beyond the table: the policy and its sample size, and the
/// time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// The store's eviction policy.
    pub(crate) policy: EvictionPolicy,
    /// Entries the policy may evict that one sample offers to the pool.
    pub(crate) samples: usize,
    /// The store's clock now, for expiry.
    pub(crate) now: u64,
    /// The access-tracking clock now, for LFU decay.
    pub(crate) access_now: u64,
}

impl EvictionPool {
    /// Removes one entry from `table` to make room and hands it over; `None` when nothing can
    /// be evicted.
    pub(crate) fn evict(&mut self, table: &Table, p: Policy) -> Option<Entry> {
        // A few rounds: candidates can go stale when other threads touch or remove them.
        for _ in 0..8 {
            self.sample(table, p);
            while let Some(c) = self.candidates.pop() {
                if let Some(e) = table.remove_if(&c.key[..], |e| e.stamp() == c.stamp) {
                    return Some(e);
                }
            }
            if table.is_empty() || p.policy == EvictionPolicy::NoEviction {
                // Under noeviction only expired entries qualify; one walk found none.
                return None;
            }
        }
        None
    }

    /// Offer `p.samples` candidates from a random spot to the pool. Entries the policy never
    /// evicts (no TTL under volatile-ttl, live ones under noeviction) do not count, so rare
    /// candidates are still found; the walk stops after `SCAN_FACTOR` times the samples.
    fn sample(&mut self, table: &Table, p: Policy) {
        const SCAN_FACTOR: usize = 64;
        let (mut taken, mut seen) = (0, 0);
        let Self { candidates, rng } = self;
        table.sample(
            |n| rng.gen_range(0..n),
            |e| {
                let stamp = e.stamp();
                seen += 1;
                if let Some(score) = score(e, stamp, p) {
                    offer(candidates, e.key(), stamp, score);
                    taken += 1;
                }
                taken >= p.samples || seen >= p.samples * SCAN_FACTOR
            },
        );
    }
}

/// Eviction score under policy `p`: lower goes first; `None` = never evict. Expired entries
/// come before every live one, least recently used first.
fn score(e: &Entry, stamp: u64, p: Policy) -> Option<u64> {
    const STAMP: u64 = (1 << 55) - 1;
    if e.is_expired(p.now) {
        return Some(stamp & !LIVE);
    }
    let live = match p.policy {
        EvictionPolicy::Lru => stamp & !LIVE,
        EvictionPolicy::Lfu => {
            // Stamps stay below 2^63: drop their low 8 bits to fit under the counter.
            (u64::from(e.frequency(p.access_now)) << 55) | ((stamp >> 8) & STAMP)
        }
        EvictionPolicy::VolatileTtl if e.expires_at() != 0 => e.expires_at() & !LIVE,
        EvictionPolicy::VolatileTtl | EvictionPolicy::NoEviction => return None,
    };
    Some(live | LIVE)
}
