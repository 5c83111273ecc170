//! Key listing: KEYS (a full walk) and a cursor SCAN. The cursor is a position in a fixed order
//! (each key's hash rotated so the shard bits lead), so it survives table resizes: every key
//! present for a whole scan is returned at least once, and keys are returned in cursor order.

use super::entry::{key_name, key_ns, Ns};
use super::glob;
use super::shared::Shared;

impl Shared {
    /// Names of the live keys in `ns` matching `pattern`.
    pub(crate) fn keys(&self, ns: Ns, pattern: &str) -> Vec<String> {
        let now = self.now();
        let all = pattern == "*";
        self.map
            .iter()
            .filter(|r| key_ns(r.key().key()) == ns && !r.key().is_expired(now))
            .map(|r| key_name(r.key().key()).to_owned())
            .filter(|name| all || glob::matches(pattern.as_bytes(), name.as_bytes()))
            .collect()
    }

    /// One SCAN step: up to about `count` keys from position `cursor`, and the next cursor
    /// (0 when the walk is complete).
    pub(crate) fn scan(
        &self,
        ns: Ns,
        cursor: u64,
        pattern: Option<&str>,
        count: usize,
    ) -> (u64, Vec<String>) {
        let count = count.max(1);
        let now = self.now();
        let shards = self.map.shards();
        let shard_bits = shards.len().trailing_zeros();
        let shift = 64 - shard_bits;
        let mut out: Vec<(u64, String)> = Vec::new();
        let mut shard = (cursor >> shift) as usize;
        let mut from = cursor;
        while shard < shards.len() {
            let mut found: Vec<(u64, String)> = {
                let guard = shards[shard].read();
                // SAFETY: the read lock is held while the iterator lives.
                unsafe { guard.iter() }
                    .map(|b| unsafe { b.as_ref() })
                    .filter(|(e, _)| key_ns(e.key()) == ns && !e.is_expired(now))
                    .map(|(e, _)| (position(self.hash(e.key()) as usize), e.key()))
                    .filter(|(pos, _)| *pos >= from)
                    .map(|(pos, k)| (pos, key_name(k).to_owned()))
                    .collect()
            };
            found.sort_unstable_by_key(|(pos, _)| *pos);
            let room = count - out.len();
            if found.len() > room {
                let next = found[room].0;
                found.truncate(room);
                out.extend(found);
                return (next, filter(out, pattern));
            }
            out.extend(found);
            shard += 1;
            from = (shard as u64) << shift;
            if out.len() >= count {
                let next = if shard < shards.len() { from } else { 0 };
                return (next, filter(out, pattern));
            }
        }
        (0, filter(out, pattern))
    }
}

/// A key's place in scan order: its hash rotated so dashmap's shard bits are the high bits.
fn position(hash: usize) -> u64 {
    (hash as u64).rotate_left(7)
}

fn filter(found: Vec<(u64, String)>, pattern: Option<&str>) -> Vec<String> {
    found
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| pattern.is_none_or(|p| glob::matches(p.as_bytes(), k.as_bytes())))
        .collect()
}
