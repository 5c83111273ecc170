//! Entries to and from a running daemon over RESP, for `export`, `import`, `backup` and
//! `restore`: the connection flags they share, a reader (NAMESPACES, then per namespace
//! SCANENTRIES steps, each key with its value and absolute expiry) and an all-or-nothing writer.
//!
//! Invariants: the reader sees what SCAN guarantees (every key present for the whole read, at
//! least once, with a value it held during the read). The writer changes nothing until every
//! key has been checked (EXISTS, pipelined) against the conflict rule, and if the daemon refuses
//! a write midway (OOM under noeviction, ...) it undoes every write it made (DEL of the keys it
//! created, the old value and expiry of the keys it replaced) before it reports the error.

use crate::client::{Client, Target};
use crate::command::Reply;
use crate::persist::Input;
use crate::store::{LoadReport, LoadValue, OnConflict};
use indicatif::ProgressBar;

use super::Failure;

/// Requests per pipelined batch: few enough that replies stay far below the output cap.
const BATCH: usize = 1000;

/// The connection flags of the data commands, as the main CLI spells them.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Conn {
    /// The daemon's Unix socket [default: the default socket].
    #[arg(short = 's', long = "socket", value_name = "PATH")]
    socket: Option<std::path::PathBuf>,
    /// The daemon's TCP port.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    port: Option<u16>,
    /// The daemon's host for -p [default: 127.0.0.1].
    #[arg(short = 'h', long = "host", value_name = "HOST")]
    host: Option<String>,
    /// The daemon's URL: redis://[:PASSWORD@]HOST[:PORT] or unix://PATH.
    #[arg(short = 'u', long = "url", value_name = "URL")]
    url: Option<String>,
    /// Password for AUTH (prefer --pass-file or $TINYKV_PASSWORD).
    #[arg(short = 'a', long = "pass", value_name = "PASSWORD")]
    pass: Option<String>,
    /// Read the password for AUTH from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "pass")]
    pass_file: Option<std::path::PathBuf>,
}

impl Conn {
    /// Connects to the daemon these flags name (the default socket when none does).
    pub(crate) fn connect(&self) -> Result<Client, Failure> {
        let pass = super::flag_password(&self.pass, &self.pass_file)?;
        let mut target = super::named_target(&self.socket, self.port, &self.host, &self.url)?
            .unwrap_or_else(|| Target::new(super::default_address()));
        // A URL's database is not a filter here: every command names its namespaces.
        target.db = None;
        let target = super::with_password(target, pass);
        super::connect(&target)
    }
}

/// A runtime failure from an I/O error or an error reply.
fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(e.to_string())
}

/// One request's reply, or the error reply as a failure.
fn call(c: &mut Client, argv: &[&[u8]]) -> Result<Reply, Failure> {
    c.call(argv).map_err(Failure::Runtime)
}

/// SELECTs namespace `ns` ("default" is database 0).
fn select(c: &mut Client, ns: &str) -> Result<(), Failure> {
    let name = if ns == "default" { "0" } else { ns };
    call(c, &[b"SELECT", name.as_bytes()]).map(|_| ())
}

/// One entry read from a daemon.
pub(crate) struct Found<'a> {
    /// Its namespace.
    pub ns: &'a str,
    /// Its key.
    pub key: &'a [u8],
    /// Its value as the daemon returns it (integers as decimal text).
    pub value: &'a [u8],
    /// Absolute expiry, epoch ms.
    pub expires_at_ms: Option<u64>,
}

/// Reads every live entry of namespace `only` (all when `None`) whose key matches `pattern`,
/// calling `f` for each; returns how many. Progress goes to `bar` (its length is set here).
pub(crate) fn read_entries(
    c: &mut Client,
    only: Option<&str>,
    pattern: Option<&str>,
    bar: &ProgressBar,
    mut f: impl FnMut(Found<'_>) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let only = only.map(|n| if n == "0" { "default" } else { n });
    let list: Vec<(String, u64)> = c
        .namespaces()
        .map_err(Failure::Runtime)?
        .into_iter()
        .filter(|(n, _)| only.is_none_or(|o| o == n))
        .collect();
    bar.set_length(list.iter().map(|(_, n)| n).sum());
    let mut total = 0;
    for (ns, _) in &list {
        select(c, ns)?;
        let mut cursor = 0;
        loop {
            let (next, entries) = c
                .scan_entries(cursor, pattern.map(str::as_bytes), 1000)
                .map_err(Failure::Runtime)?;
            for e in &entries {
                f(Found {
                    ns,
                    key: &e.key,
                    value: &e.value,
                    expires_at_ms: e.expires_at_ms,
                })?;
                total += 1;
                bar.inc(1);
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(total)
}

/// The daemon's limits for checking a file before sending it: the value cap from
/// `proto-max-bulk-len`, the memory cap from `maxmemory`.
pub(crate) fn daemon_limits(c: &mut Client) -> Result<crate::store::Config, Failure> {
    let mut config = crate::store::Config::default();
    let get = |c: &mut Client, name: &str| -> Result<Option<u64>, Failure> {
        let r = call(c, &[b"CONFIG", b"GET", name.as_bytes()])?;
        let flat: Vec<Reply> = match r {
            Reply::Map(p) => p.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            Reply::Array(a) => a,
            _ => Vec::new(),
        };
        Ok(match flat.get(1) {
            Some(Reply::Bulk(b)) => std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()),
            _ => None,
        })
    };
    if let Some(n) = get(c, "proto-max-bulk-len")? {
        config.max_value_len = config.max_value_len.min(n as usize);
    }
    config.max_memory = get(c, "maxmemory")?.filter(|n| *n > 0);
    Ok(config)
}

/// What the writer did to one key, to undo it.
enum Done {
    /// Created: undo with DEL.
    Created,
    /// Replaced this value and expiry: undo by writing them back.
    Replaced(Vec<u8>, Option<u64>),
}

/// The value's bytes as SET sends them.
fn value_bytes<'a>(v: &'a LoadValue<'_>) -> std::borrow::Cow<'a, [u8]> {
    match v {
        LoadValue::Bytes(b) => std::borrow::Cow::Borrowed(b),
        LoadValue::Int(n) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
    }
}

/// Writes `input` to the daemon (see the module docs): expired entries (against `now_ms`) are
/// skipped and counted; keys the daemon holds follow `on_conflict`.
pub(crate) fn write_entries(
    c: &mut Client,
    input: &Input<'_>,
    on_conflict: OnConflict,
    now_ms: u64,
    bar: &ProgressBar,
) -> Result<LoadReport, Failure> {
    let batch = &input.batch;
    let mut report = LoadReport::default();
    // Live entries by namespace, in file order.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); batch.namespaces.len()];
    for (i, e) in batch.entries.iter().enumerate() {
        if e.expires_at_ms.is_some_and(|at| at <= now_ms) {
            report.expired += 1;
        } else {
            groups[e.ns as usize].push(i);
        }
    }
    // Check every key first; nothing is written until all are.
    let mut before: std::collections::HashMap<usize, (Vec<u8>, Option<u64>)> = Default::default();
    let mut exists = vec![false; batch.entries.len()];
    for (ns, idx) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
        select(c, &batch.namespaces[ns])?;
        for chunk in idx.chunks(BATCH) {
            let reqs: Vec<Vec<&[u8]>> = chunk
                .iter()
                .map(|i| vec![&b"EXISTS"[..], &batch.entries[*i].key])
                .collect();
            let replies = c.pipeline(&reqs).map_err(runtime)?;
            for (i, r) in chunk.iter().zip(replies) {
                exists[*i] = matches!(r, Reply::Int(n) if n > 0);
                if exists[*i] && on_conflict == OnConflict::Fail {
                    return Err(Failure::Runtime(format!(
                        "{}: key {:?} already exists in namespace {}; nothing was imported (pass \
                         --replace or --skip-existing)",
                        input.place(*i),
                        String::from_utf8_lossy(&batch.entries[*i].key),
                        batch.namespaces[ns]
                    )));
                }
            }
            if on_conflict == OnConflict::Replace {
                let held: Vec<usize> = chunk.iter().copied().filter(|i| exists[*i]).collect();
                let mut reqs: Vec<Vec<&[u8]>> = Vec::new();
                for i in &held {
                    reqs.push(vec![b"GET", &batch.entries[*i].key]);
                    reqs.push(vec![b"PEXPIRETIME", &batch.entries[*i].key]);
                }
                let replies = c.pipeline(&reqs).map_err(runtime)?;
                for (i, pair) in held.iter().zip(replies.chunks(2)) {
                    if let (Reply::Bulk(v), Reply::Int(at)) = (&pair[0], &pair[1]) {
                        before.insert(*i, (v.clone(), u64::try_from(*at).ok()));
                    }
                }
            }
        }
    }
    bar.set_length(batch.entries.len() as u64 - report.expired);
    let mut done: Vec<(usize, Done)> = Vec::new();
    let nx = on_conflict != OnConflict::Replace;
    for (ns, idx) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
        if let Err(e) = select(c, &batch.namespaces[ns]) {
            undo(c, input, &done);
            return Err(e);
        }
        for chunk in idx.chunks(BATCH) {
            let vals: Vec<_> = chunk
                .iter()
                .map(|i| value_bytes(&batch.entries[*i].value))
                .collect();
            let ats: Vec<String> = chunk
                .iter()
                .map(|i| {
                    batch.entries[*i]
                        .expires_at_ms
                        .map_or_else(String::new, |a| a.to_string())
                })
                .collect();
            let reqs: Vec<Vec<&[u8]>> = chunk
                .iter()
                .enumerate()
                .map(|(j, i)| {
                    let mut argv: Vec<&[u8]> = vec![b"SET", &batch.entries[*i].key, &vals[j]];
                    if !ats[j].is_empty() {
                        argv.extend([&b"PXAT"[..], ats[j].as_bytes()]);
                    }
                    if nx {
                        argv.push(b"NX");
                    }
                    argv
                })
                .collect();
            let replies = match c.pipeline(&reqs) {
                Ok(r) => r,
                Err(e) => {
                    undo(c, input, &done);
                    return Err(runtime(e));
                }
            };
            let mut failed = None;
            for (i, r) in chunk.iter().zip(replies) {
                match r {
                    Reply::Error(e) => {
                        failed.get_or_insert((*i, e));
                    }
                    Reply::Nil => report.existing += 1,
                    _ => {
                        report.loaded += 1;
                        let d = match before.remove(i) {
                            Some((v, at)) => Done::Replaced(v, at),
                            None if exists[*i] => continue, // replaced before a duplicate
                            None => Done::Created,
                        };
                        done.push((*i, d));
                    }
                }
            }
            bar.inc(chunk.len() as u64);
            if let Some((i, e)) = failed {
                undo(c, input, &done);
                return Err(Failure::Runtime(format!(
                    "{}: the daemon refused the write: {e}; every write of this import was \
                     undone, nothing was imported",
                    input.place(i)
                )));
            }
        }
    }
    Ok(report)
}

/// Reverts `done`, last first, best effort (the error that led here is what gets reported).
fn undo(c: &mut Client, input: &Input<'_>, done: &[(usize, Done)]) {
    let batch = &input.batch;
    let mut current: Option<u32> = None;
    for (i, d) in done.iter().rev() {
        let e = &batch.entries[*i];
        if current != Some(e.ns) {
            if select(c, &batch.namespaces[e.ns as usize]).is_err() {
                return;
            }
            current = Some(e.ns);
        }
        let _ = match d {
            Done::Created => c.request(&[&b"DEL"[..], &e.key]),
            Done::Replaced(v, None) => c.request(&[&b"SET"[..], &e.key, v]),
            Done::Replaced(v, Some(at)) => {
                let at = at.to_string();
                c.request(&[&b"SET"[..], &e.key, v, b"PXAT", at.as_bytes()])
            }
        };
    }
}
