//! Reading entries from a running TinyKV daemon over RESP, a namespace at a time: NAMESPACES
//! lists them, SELECT enters one, SCAN walks it, and one pipelined round trip of GET and
//! PEXPIRETIME per batch reads values and absolute expiries. The walk is SCAN's: every key
//! present for the whole run is read; a key written during it may or may not be.

use super::{Entry, DEFAULT_NAMESPACE};
use redis::{Connection, Value};

/// A daemon being read.
pub struct DaemonSource {
    /// The connection (the `redis` crate speaks RESP to the daemon as to Redis).
    con: Connection,
    /// The namespaces still to walk, the current one first.
    namespaces: Vec<String>,
    /// SCAN's cursor in the current namespace; `None` before its first step.
    cursor: Option<u64>,
    /// SCAN MATCH, if any.
    pattern: Option<String>,
    /// SCAN COUNT.
    batch: usize,
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
        let info = super::redis_target::connection_info(url, password)
            .map_err(|e| format!("source {label}: {e}"))?;
        let client = redis::Client::open(info).map_err(|e| format!("source {label}: {e}"))?;
        let mut con = client
            .get_connection()
            .map_err(|e| format!("source {label}: cannot connect: {e}"))?;
        let listed: Value = redis::cmd("NAMESPACES").query(&mut con).map_err(|e| {
            format!("source {label}: NAMESPACES failed (is it a TinyKV daemon?): {e}")
        })?;
        let mut counted = names(listed);
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
                    redis::cmd("SELECT")
                        .arg(db)
                        .query::<()>(&mut self.con)
                        .map_err(|e| self.err(&format!("SELECT {ns}"), e))?;
                    0
                }
            };
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor);
            if let Some(p) = &self.pattern {
                scan.arg("MATCH").arg(p);
            }
            scan.arg("COUNT").arg(self.batch);
            let (next, keys): (u64, Vec<Vec<u8>>) =
                scan.query(&mut self.con).map_err(|e| self.err("SCAN", e))?;
            self.cursor = Some(next);
            if keys.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("GET").arg(k).cmd("PEXPIRETIME").arg(k);
            }
            let replies: Vec<Value> = pipe.query(&mut self.con).map_err(|e| self.err("GET", e))?;
            let mut out = Vec::with_capacity(keys.len());
            for (key, pair) in keys.into_iter().zip(replies.chunks(2)) {
                let value = match &pair[0] {
                    Value::BulkString(v) => v.clone(),
                    Value::Int(n) => n.to_string().into_bytes(),
                    // Deleted or expired since SCAN saw it.
                    _ => continue,
                };
                let expires_at_ms = match pair.get(1) {
                    Some(Value::Int(at)) if *at >= 0 => Some(*at as u64),
                    Some(Value::Int(-2)) => continue,
                    _ => None,
                };
                out.push(Entry {
                    ns: ns.clone(),
                    key,
                    value,
                    expires_at_ms,
                });
            }
            return Ok(Some(out));
        }
    }

    fn err(&self, what: &str, e: redis::RedisError) -> String {
        format!("source {}: {what}: {e}", self.label)
    }
}

/// Names and key counts of a NAMESPACES reply (a map; a flat array in RESP2).
fn names(v: Value) -> Vec<(String, u64)> {
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let count = |v: &Value| match v {
        Value::Int(n) => *n as u64,
        _ => 0,
    };
    let pairs: Vec<(Value, Value)> = match v {
        Value::Map(pairs) => pairs,
        Value::Array(items) => items
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect(),
        _ => Vec::new(),
    };
    pairs
        .iter()
        .filter_map(|(k, v)| Some((text(k)?, count(v))))
        .collect()
}
