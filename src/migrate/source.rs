//! Reading entries from a running TinyKV daemon over RESP (the crate's own client), a
//! namespace at a time: NAMESPACES lists them, SELECT enters one, and SCANENTRIES walks it,
//! each step one request giving keys with their values and absolute expiries. The walk is
//! SCAN's: every key present for the whole run is read; a key written during it may or may
//! not be.

use super::{Entry, BATCH_BYTES, DEFAULT_NAMESPACE};
use crate::client::{Client, Target};

/// A daemon being read.
pub struct DaemonSource {
    /// The connection: the crate's own RESP client (the CLI's), whose reply parser reads a
    /// SCANENTRIES step in a fraction of the `redis` crate's parser's instructions.
    con: Client,
    /// The namespaces still to walk, the current one first.
    namespaces: Vec<String>,
    /// SCAN's cursor in the current namespace; `None` before its first step.
    cursor: Option<u64>,
    /// SCAN MATCH, if any.
    pattern: Option<String>,
    /// Most entries per step (`--batch-size`).
    batch: usize,
    /// SCANENTRIES COUNT of the next step: `batch`, or fewer when the last step's entries
    /// were so large that `batch` of them would pass [`BATCH_BYTES`], or while ramping up.
    count: usize,
    /// The ramp: the most the next step may ask for. It starts at [`FIRST_STEP`] and grows
    /// fourfold a step, so the target has its first batch after a short read rather than a
    /// full one, and is kept busy from then on.
    ramp: usize,
    /// Where the daemon is, for messages.
    label: String,
    /// Keys in the chosen namespaces when the run began, for a progress bar.
    total: u64,
}

impl DaemonSource {
    /// Connects to the daemon at `url` (`redis://`, `unix://PATH`) with `password`, and lists
    /// its namespaces (only `only`'s, when not empty; naming one the daemon lacks is fine: it
    /// has no keys).
    pub fn connect(
        url: &str,
        password: Option<&str>,
        only: &[String],
        pattern: Option<String>,
        batch: usize,
    ) -> Result<DaemonSource, String> {
        let label = super::redis_target::without_password(url);
        let mut target = Target::parse_url(url).map_err(|e| format!("source {label}: {e}"))?;
        if let Some(p) = password {
            target.password = Some(p.to_string());
        }
        let mut con =
            Client::connect(&target).map_err(|e| format!("source {label}: cannot connect: {e}"))?;
        let mut counted = con.namespaces().map_err(|e| {
            format!("source {label}: NAMESPACES failed (is it a TinyKV daemon?): {e}")
        })?;
        if !only.is_empty() {
            counted.retain(|(n, _)| only.contains(n));
        }
        let total = counted.iter().map(|(_, c)| c).sum();
        let mut namespaces: Vec<String> = counted.into_iter().map(|(n, _)| n).collect();
        namespaces.sort();
        namespaces.reverse();
        Ok(DaemonSource {
            con,
            namespaces,
            cursor: None,
            pattern,
            batch: batch.max(1),
            count: batch.clamp(1, FIRST_STEP),
            ramp: FIRST_STEP,
            label,
            total,
        })
    }

    /// Keys in the chosen namespaces when the run began (the walk may find more or fewer).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The next batch of entries, `None` when every namespace is walked.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Entry>>, String> {
        loop {
            let Some(ns) = self.namespaces.last().cloned() else {
                return Ok(None);
            };
            let cursor = match self.cursor {
                Some(0) => {
                    self.namespaces.pop();
                    self.cursor = None;
                    continue;
                }
                Some(c) => c,
                None => {
                    let db = if ns == DEFAULT_NAMESPACE { "0" } else { &ns };
                    self.con
                        .call(&[b"SELECT", db.as_bytes()])
                        .map_err(|e| self.err(&format!("SELECT {ns}"), e))?;
                    0
                }
            };
            let (next, out) = self
                .step_entries(&ns, cursor)
                .map_err(|e| self.err("SCANENTRIES", e))?;
            self.cursor = Some(next);
            if out.is_empty() {
                continue;
            }
            return Ok(Some(out));
        }
    }

    /// One SCANENTRIES step of namespace `ns` from `cursor`: the next cursor and the entries.
    fn step_entries(&mut self, ns: &str, cursor: u64) -> Result<(u64, Vec<Entry>), String> {
        let pattern = self.pattern.as_deref().map(str::as_bytes);
        let (next, found) = self.con.scan_entries(cursor, pattern, self.count)?;
        let out: Vec<Entry> = found
            .into_iter()
            .map(|e| Entry {
                ns: ns.to_string(),
                key: e.key,
                value: e.value,
                expires_at_ms: e.expires_at_ms,
            })
            .collect();
        if !out.is_empty() {
            self.ramp = self.ramp.saturating_mul(4);
            self.count = count_within_bytes(&out, self.batch).min(self.ramp);
        }
        Ok((next, out))
    }

    fn err(&self, what: &str, e: String) -> String {
        format!("source {}: {what}: {e}", self.label)
    }
}

/// SCANENTRIES COUNT of a walk's first step (at most `--batch-size`).
const FIRST_STEP: usize = 1000;

/// How many entries the size of `seen`'s fit in [`BATCH_BYTES`]: from 1 to `batch`.
fn count_within_bytes(seen: &[Entry], batch: usize) -> usize {
    let bytes: usize = seen.iter().map(|e| e.key.len() + e.value.len()).sum();
    let per_entry = (bytes / seen.len().max(1)).max(1);
    (BATCH_BYTES / per_entry).clamp(1, batch)
}

/// Entries of a file `tinykv export` (JSONL) or a save (a snapshot) wrote, read whole and
/// checked first (a malformed file fails before anything is written), then given out in
/// batches.
pub struct FileSource {
    /// The entries still to give, in file order, reversed so that `pop` takes the next.
    entries: Vec<Entry>,
    /// Most entries per batch (fewer past [`BATCH_BYTES`]).
    batch: usize,
}

impl FileSource {
    /// Reads `path` (JSONL or snapshot, told apart by the snapshot's magic), keeping only the
    /// namespaces in `only` (all when empty) and keys matching `pattern`.
    pub fn open(
        path: &std::path::Path,
        only: &[String],
        pattern: Option<&str>,
        batch: usize,
    ) -> Result<FileSource, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("source {}: cannot read: {e}", path.display()))?;
        let input = crate::persist::parse(&bytes, None)
            .map_err(|e| format!("source {}: {e}", path.display()))?;
        let names: Vec<String> = input
            .batch
            .namespaces
            .iter()
            .map(|n| match n.as_str() {
                "0" => DEFAULT_NAMESPACE.to_string(),
                _ => n.clone(),
            })
            .collect();
        let mut entries: Vec<Entry> = input
            .batch
            .entries
            .iter()
            .filter_map(|e| {
                let ns = names.get(e.ns as usize)?;
                if !only.is_empty() && !only.contains(ns) {
                    return None;
                }
                if pattern.is_some_and(|p| !crate::store::glob::matches(p.as_bytes(), &e.key)) {
                    return None;
                }
                let value = match e.value.view() {
                    crate::store::ValueRef::Bytes(b) => b.to_vec(),
                    crate::store::ValueRef::Int(n) => n.to_string().into_bytes(),
                };
                Some(Entry {
                    ns: ns.clone(),
                    key: e.key.to_vec(),
                    value,
                    expires_at_ms: e.expires_at_ms,
                })
            })
            .collect();
        entries.reverse();
        Ok(FileSource {
            entries,
            batch: batch.max(1),
        })
    }

    /// Entries left to give.
    pub fn total(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The next batch, `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Entry>>, String> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        // The next `batch` entries, fewer if their bytes would pass BATCH_BYTES (at least one).
        let mut bytes = 0;
        let take = self
            .entries
            .iter()
            .rev()
            .take(self.batch)
            .take_while(|e| {
                bytes += e.key.len() + e.value.len();
                bytes <= BATCH_BYTES
            })
            .count()
            .max(1);
        let mut out = self.entries.split_off(self.entries.len() - take);
        out.reverse();
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value_len: usize) -> Entry {
        Entry {
            ns: DEFAULT_NAMESPACE.into(),
            key: key.as_bytes().to_vec(),
            value: vec![b'v'; value_len],
            expires_at_ms: None,
        }
    }

    fn batch_lens(entries: Vec<Entry>, batch: usize) -> Vec<usize> {
        let mut entries = entries;
        entries.reverse();
        let mut src = FileSource { entries, batch };
        let mut lens = Vec::new();
        while let Some(b) = src.next_batch().unwrap() {
            lens.push(b.len());
        }
        lens
    }

    #[test]
    fn file_batches_stop_at_the_entry_count_or_the_byte_budget() {
        let small: Vec<Entry> = (0..25).map(|i| entry(&format!("k{i}"), 100)).collect();
        assert_eq!(batch_lens(small, 10), [10, 10, 5]);
        // 3 MiB values: two fit in 8 MiB, a third would not.
        let big: Vec<Entry> = (0..5).map(|i| entry(&format!("k{i}"), 3 << 20)).collect();
        assert_eq!(batch_lens(big, 10), [2, 2, 1]);
        // A value over the budget still goes, alone.
        assert_eq!(
            batch_lens(vec![entry("huge", 10 << 20), entry("k", 1)], 10),
            [1, 1]
        );
    }

    #[test]
    fn a_daemon_step_asks_for_as_many_entries_as_fit_the_byte_budget() {
        let small: Vec<Entry> = (0..10).map(|i| entry(&format!("k{i}"), 100)).collect();
        assert_eq!(count_within_bytes(&small, 10_000), 10_000);
        let big: Vec<Entry> = (0..3).map(|i| entry(&format!("k{i}"), 1 << 20)).collect();
        assert_eq!(count_within_bytes(&big, 10_000), 7);
        assert_eq!(count_within_bytes(&[entry("huge", 64 << 20)], 10_000), 1);
    }
}
