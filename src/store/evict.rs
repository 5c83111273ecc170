//! Eviction: approximate LRU by sampling, with an eviction pool, as Redis does. Each step reads
//! a few entries from a random spot of a random shard, keeps the oldest candidates seen so far
//! in a small pool, and removes the oldest candidate whose access stamp is still what was
//! sampled (one touched since is no longer a good victim). The policy sets the score (LRU
//! stamp, LFU counter, or expiry time); expired entries go before live ones under every policy.
//! Lock order: pool mutex, then one shard lock at a time; never a shard lock while evicting.

use super::config::EvictionPolicy;
use super::entry::KeyBuf;
use super::shared::{Removal, Shared};
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

impl EvictionPool {
    fn offer(&mut self, key: &[u8], stamp: u64, score: u64) {
        if self.candidates.len() == POOL_SIZE
            && self
                .candidates
                .first()
                .is_some_and(|worst| worst.score <= score)
        {
            return;
        }
        if let Some(c) = self.candidates.iter_mut().find(|c| &*c.key == key) {
            c.stamp = stamp;
            c.score = score;
        } else {
            self.candidates.push(Candidate {
                key: KeyBuf::copy_of(key),
                stamp,
                score,
            });
        }
        // Highest score first, so the best victim pops off the end.
        self.candidates
            .sort_unstable_by_key(|c| std::cmp::Reverse(c.score));
        if self.candidates.len() > POOL_SIZE {
            self.candidates.remove(0);
        }
    }
}

impl Shared {
    /// Remove one entry to make room; false when nothing can be evicted.
    pub(crate) fn evict_one(&self) -> bool {
        let mut pool = self.pool.lock();
        // A few rounds: candidates can go stale when other threads touch or remove them.
        for _ in 0..8 {
            self.sample(&mut pool);
            while let Some(c) = pool.candidates.pop() {
                let removed = self.map.remove_if(&c.key[..], |e, _| e.stamp() == c.stamp);
                if let Some((e, _)) = removed {
                    let why = if e.is_expired(self.now()) {
                        Removal::Expired
                    } else {
                        Removal::Evicted
                    };
                    self.on_removed(&e, why);
                    return true;
                }
            }
            if self.map.is_empty() || self.config.eviction_policy == EvictionPolicy::NoEviction {
                // Under noeviction only expired entries qualify; one walk found none.
                return false;
            }
        }
        false
    }

    /// Eviction score under the store's policy: lower goes first; `None` = never evict.
    /// Expired entries come before every live one, least recently used first.
    fn score(&self, e: &super::entry::Entry, stamp: u64, now: u64) -> Option<u64> {
        const STAMP: u64 = (1 << 55) - 1;
        if e.is_expired(now) {
            return Some(stamp & !LIVE);
        }
        let live = match self.config.eviction_policy {
            EvictionPolicy::Lru => stamp & !LIVE,
            EvictionPolicy::Lfu => {
                // Stamps stay below 2^63: drop their low 8 bits to fit under the counter.
                (u64::from(e.frequency(self.access_now())) << 55) | ((stamp >> 8) & STAMP)
            }
            EvictionPolicy::VolatileTtl if e.expires_at() != 0 => e.expires_at() & !LIVE,
            EvictionPolicy::VolatileTtl | EvictionPolicy::NoEviction => return None,
        };
        Some(live | LIVE)
    }

    /// Offer `eviction_samples` candidates from a random spot to the pool. Entries the policy
    /// never evicts (no TTL under volatile-ttl, live ones under noeviction) do not count, so
    /// rare candidates are still found; the walk stops after `SCAN_FACTOR` times the samples.
    fn sample(&self, pool: &mut EvictionPool) {
        const SCAN_FACTOR: usize = 64;
        let shards = self.map.shards();
        let wanted = self.config.eviction_samples;
        let now = self.now();
        let (mut taken, mut seen) = (0, 0);
        let first = pool.rng.gen_range(0..shards.len());
        for s in 0..shards.len() {
            let guard = shards[(first + s) % shards.len()].read();
            if guard.is_empty() {
                continue;
            }
            let buckets = guard.buckets();
            let start = pool.rng.gen_range(0..buckets);
            for i in 0..buckets {
                let idx = (start + i) & (buckets - 1);
                // SAFETY: idx < buckets(), and the shard's read lock is held for the whole
                // walk, so the table cannot be resized or the bucket freed underneath us.
                let (e, _) = unsafe {
                    if !guard.is_bucket_full(idx) {
                        continue;
                    }
                    guard.bucket(idx).as_ref()
                };
                let stamp = e.stamp();
                seen += 1;
                if let Some(score) = self.score(e, stamp, now) {
                    pool.offer(e.key(), stamp, score);
                    taken += 1;
                }
                if taken >= wanted || seen >= wanted * SCAN_FACTOR {
                    return;
                }
            }
        }
    }
}
