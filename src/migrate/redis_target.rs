//! Writing to Redis (or Valkey), one server or a Redis Cluster, with the `redis` crate. Each
//! batch is one pipeline of `SET key value [PXAT at] [NX]`: PXAT carries the absolute expiry,
//! so time spent migrating does not lengthen a TTL; NX keeps a key the target holds
//! (`--on-conflict skip|fail`). Namespaces become key prefixes ([`super::redis_key`]).
//!
//! To one server under `--on-conflict overwrite`, runs of entries without a TTL go as MSETs
//! instead (at most [`MSET_KEYS`] keys, [`MSET_BYTES`] bytes), which the server executes in
//! about half the time of as many SETs and answers with one reply. An MSET is all-or-nothing,
//! so one the server refuses (an ACL that denies one of its keys) is sent again as single
//! SETs, each with its own outcome, and the rest of the run uses SETs only.

use super::{redis_key, Entry, OnConflict, Outcome, Started, Stored, Target};
use redis::cluster::{cluster_pipe, ClusterClient, ClusterConnection};
use redis::{Cmd, Connection, Value};
use std::collections::VecDeque;

/// Most keys in one MSET.
pub const MSET_KEYS: usize = 512;
/// Most key and value bytes in one MSET (a longer one holds the server's other clients up).
pub const MSET_BYTES: usize = 1 << 20;

/// `url` with any password replaced by `***`, for messages and reports.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (a, h),
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{auth}@{host}"),
    }
}

/// `url` as the `redis` crate's connection info, with `password` (when given) in place of the
/// URL's.
pub fn connection_info(
    url: &str,
    password: Option<&str>,
) -> redis::RedisResult<redis::ConnectionInfo> {
    let info = redis::IntoConnectionInfo::into_connection_info(url)?;
    Ok(match password {
        Some(p) => {
            let settings = info.redis_settings().clone().set_password(p);
            info.set_redis_settings(settings)
        }
        None => info,
    })
}

/// The connection: one server or a cluster.
enum Link {
    /// One Redis server.
    One(Connection),
    /// A Redis Cluster, routed by key slot.
    Cluster(Box<ClusterConnection>),
}

/// A Redis or Redis Cluster target.
pub struct RedisTarget {
    /// Where writes go.
    link: Link,
    /// Between namespace and key in the written key.
    separator: String,
    /// For messages, without the password.
    label: String,
    /// The batch being sent to one server, as RESP (reused from batch to batch).
    out: bytes::BytesMut,
    /// Whether runs of entries without a TTL may go as MSETs (until one is refused).
    mset: bool,
    /// For each batch sent to one server and not yet finished, oldest first: the entries
    /// each of its commands carries (1 for a SET), one reply per command.
    pending: VecDeque<Vec<usize>>,
    /// Replies already read for the oldest pending batches (a refused MSET's single SETs
    /// are sent after them, so theirs are read first).
    read: VecDeque<Vec<Value>>,
}

impl RedisTarget {
    /// Connects to one server at `url` (password from the URL or `password`), and checks that
    /// it answers and takes writes (a wrong password or a read-only replica fails here).
    pub fn connect(
        url: &str,
        password: Option<&str>,
        separator: &str,
    ) -> Result<RedisTarget, String> {
        let label = without_password(url);
        let fail = |what: &str, e: redis::RedisError| format!("target {label}: {what}: {e}");
        let info = connection_info(url, password).map_err(|e| fail("bad URL", e))?;
        let client = redis::Client::open(info).map_err(|e| fail("bad URL", e))?;
        let con = client
            .get_connection_with_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail("cannot connect", e))?;
        let mut t = RedisTarget {
            link: Link::One(con),
            separator: separator.to_string(),
            label,
            out: bytes::BytesMut::new(),
            mset: true,
            pending: VecDeque::new(),
            read: VecDeque::new(),
        };
        t.check_writable()?;
        Ok(t)
    }

    /// Connects to a Redis Cluster through its seed nodes (`redis://host:port` each) and
    /// checks it as [`RedisTarget::connect`] does.
    pub fn connect_cluster(
        seeds: &[String],
        password: Option<&str>,
        separator: &str,
    ) -> Result<RedisTarget, String> {
        let label = format!(
            "cluster {}",
            seeds
                .iter()
                .map(|s| without_password(s))
                .collect::<Vec<_>>()
                .join(",")
        );
        let fail = |what: &str, e: redis::RedisError| format!("target {label}: {what}: {e}");
        let mut builder = ClusterClient::builder(seeds.to_vec())
            .connection_timeout(std::time::Duration::from_secs(5));
        if let Some(p) = password {
            builder = builder.password(p);
        }
        let client = builder.build().map_err(|e| fail("bad seed nodes", e))?;
        let con = client
            .get_connection()
            .map_err(|e| fail("cannot connect", e))?;
        let mut t = RedisTarget {
            link: Link::Cluster(Box::new(con)),
            separator: separator.to_string(),
            label,
            out: bytes::BytesMut::new(),
            mset: false,
            pending: VecDeque::new(),
            read: VecDeque::new(),
        };
        t.check_writable()?;
        Ok(t)
    }

    /// PING, then a write and delete of a probe key, so that a read-only replica, an ACL
    /// without write rights or a full `noeviction` server fails before any source read.
    fn check_writable(&mut self) -> Result<(), String> {
        let probe = format!("tinykv:migrate:probe:{}", std::process::id());
        let mut set = redis::cmd("SET");
        set.arg(&probe).arg("1").arg("PX").arg(10_000);
        let mut del = redis::cmd("DEL");
        del.arg(&probe);
        for c in [redis::cmd("PING"), set, del] {
            self.one(&c)
                .and_then(|v| match v {
                    Value::ServerError(e) => Err(server_error(&e)),
                    _ => Ok(()),
                })
                .map_err(|e| format!("target {}: not writable: {e}", self.label))?;
        }
        Ok(())
    }

    /// Runs one command.
    fn one(&mut self, c: &Cmd) -> Result<Value, String> {
        let r = match &mut self.link {
            Link::One(con) => c.query::<Value>(con),
            Link::Cluster(con) => c.query::<Value>(con.as_mut()),
        };
        r.map_err(|e| e.to_string())
    }

    /// Runs `cmds` as one pipeline, one reply each; a command's error reply is its own
    /// `Value::ServerError`. A cluster pipeline that fails as a whole is run again one command
    /// at a time, so one bad key does not fail its batch.
    fn pipeline(&mut self, cmds: &[Cmd]) -> Result<Vec<Value>, String> {
        match &mut self.link {
            Link::One(con) => {
                let mut p = redis::pipe();
                p.ignore_errors();
                cmds.iter().for_each(|c| {
                    p.add_command(c.clone());
                });
                p.query(con).map_err(|e| e.to_string())
            }
            Link::Cluster(con) => {
                let mut p = cluster_pipe();
                cmds.iter().for_each(|c| {
                    p.add_command(c.clone());
                });
                match p.query::<Vec<Value>>(con.as_mut()) {
                    Ok(v) => Ok(v),
                    Err(e) if e.is_io_error() => Err(e.to_string()),
                    Err(_) => Ok(cmds
                        .iter()
                        .map(|c| match c.query::<Value>(con.as_mut()) {
                            Ok(v) => v,
                            Err(e) => Value::SimpleString(format!("ERR {e}")),
                        })
                        .collect()),
                }
            }
        }
    }

    fn key(&self, e: &Entry) -> Vec<u8> {
        redis_key(&e.ns, &e.key, &self.separator)
    }

    /// Reads `n` replies from one server.
    fn recv(&mut self, n: usize) -> Result<Vec<Value>, String> {
        let Link::One(con) = &mut self.link else {
            return Err(format!("target {}: not one server", self.label));
        };
        (0..n)
            .map(|_| {
                con.recv_response()
                    .map_err(|e| format!("target {}: {e}", self.label))
            })
            .collect()
    }
}

/// Encodes `batch` for one server into `out` (cleared first): every entry as `SET key value
/// [PXAT at] [NX]`, except that with `mset` limits `(keys, bytes)` and without `nx`, each run of consecutive
/// entries without a TTL goes as MSETs of at most `keys` keys and `bytes` key and value bytes
/// (a run of one as a SET). Gives the entries each command carries, in order, so the order
/// of writes is the batch's.
fn encode_batch(
    batch: &[Entry],
    nx: bool,
    mset: Option<(usize, usize)>,
    separator: &str,
    out: &mut bytes::BytesMut,
) -> Vec<usize> {
    out.clear();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < batch.len() {
        // MSET has no NX: under a keep-the-target's policy every entry is a SET NX.
        if let Some((keys, bytes)) = mset.filter(|_| !nx) {
            // The longest MSET from here within the limits (at least one entry).
            let mut end = i;
            let mut size = 0;
            while end < batch.len()
                && end - i < keys.max(1)
                && batch[end].expires_at_ms.is_none()
                && (end == i || size + batch[end].key.len() + batch[end].value.len() <= bytes)
            {
                size += batch[end].key.len() + batch[end].value.len();
                end += 1;
            }
            if end - i >= 2 {
                let keys: Vec<Vec<u8>> = batch[i..end]
                    .iter()
                    .map(|e| redis_key(&e.ns, &e.key, separator))
                    .collect();
                let mut argv: Vec<&[u8]> = Vec::with_capacity(1 + 2 * (end - i));
                argv.push(b"MSET");
                for (k, e) in keys.iter().zip(&batch[i..end]) {
                    argv.push(k);
                    argv.push(&e.value);
                }
                crate::protocol::encode_command(&argv, out);
                runs.push(end - i);
                i = end;
                continue;
            }
        }
        let e = &batch[i];
        let key = redis_key(&e.ns, &e.key, separator);
        let at = e.expires_at_ms.map(|at| at.to_string());
        let mut argv: [&[u8]; 6] = [b"SET", &key, &e.value, b"", b"", b""];
        let mut n = 3;
        if let Some(at) = &at {
            argv[3] = b"PXAT";
            argv[4] = at.as_bytes();
            n = 5;
        }
        if nx {
            argv[n] = b"NX";
            n += 1;
        }
        crate::protocol::encode_command(&argv[..n], out);
        runs.push(1);
        i += 1;
    }
    runs
}

/// A server's error reply as Redis writes it: `CODE detail`.
fn server_error(e: &redis::ServerError) -> String {
    match e.details() {
        Some(d) => format!("{} {d}", e.code()),
        None => e.code().to_string(),
    }
}

/// An error in a pipeline reply, as text.
fn error_of(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(server_error(e)),
        Value::SimpleString(s) if s.starts_with("ERR ") => Some(s.clone()),
        _ => None,
    }
}

/// What a SET's reply says: written, kept by NX (nil), or failed.
fn outcome(v: &Value) -> Outcome {
    match (error_of(v), v) {
        (Some(e), _) => Outcome::Failed(e),
        (None, Value::Nil) => Outcome::Conflict,
        _ => Outcome::Written,
    }
}

impl Target for RedisTarget {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn existing(&mut self, batch: &[Entry]) -> Result<Vec<bool>, String> {
        let cmds: Vec<Cmd> = batch
            .iter()
            .map(|e| {
                let mut c = redis::cmd("EXISTS");
                c.arg(self.key(e));
                c
            })
            .collect();
        Ok(self
            .pipeline(&cmds)?
            .iter()
            .map(|v| matches!(v, Value::Int(1)))
            .collect())
    }

    fn write(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Vec<Outcome>, String> {
        let started = self.start(batch, policy)?;
        self.finish(batch, started)
    }

    /// One server: the batch's SETs go out in one write and their replies are read in
    /// `finish`, after the next batch is sent. The server queues a batch's small replies
    /// (`+OK`) while it reads the next, so it never waits on this client between batches.
    /// A cluster pipeline is written and read at once.
    fn start(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Started, String> {
        let nx = policy != OnConflict::Overwrite;
        if let Link::Cluster(_) = self.link {
            let mut p = redis::pipe();
            for e in batch {
                p.cmd("SET").arg(self.key(e)).arg(&e.value);
                if let Some(at) = e.expires_at_ms {
                    p.arg("PXAT").arg(at);
                }
                if nx {
                    p.arg("NX");
                }
            }
            let cmds: Vec<Cmd> = p.cmd_iter().cloned().collect();
            let replies = self.pipeline(&cmds)?;
            return Ok(Started::Done(replies.iter().map(outcome).collect()));
        }
        // One server: the commands straight into one RESP buffer (the daemon's own request
        // encoder), without building a redis::Cmd per key and packing the pipeline again.
        let limits = self.mset.then_some((MSET_KEYS, MSET_BYTES));
        let runs = encode_batch(batch, nx, limits, &self.separator, &mut self.out);
        let Link::One(con) = &mut self.link else {
            return Err(format!("target {}: not one server", self.label));
        };
        con.send_packed_command(&self.out)
            .map_err(|e| format!("target {}: {e}", self.label))?;
        self.pending.push_back(runs);
        Ok(Started::InFlight(batch.len()))
    }

    fn finish(&mut self, batch: &[Entry], started: Started) -> Result<Vec<Outcome>, String> {
        let n = match started {
            Started::Done(outcomes) => return Ok(outcomes),
            Started::InFlight(n) => n,
        };
        let runs = self
            .pending
            .pop_front()
            .filter(|r| r.iter().sum::<usize>() == n && n == batch.len())
            .ok_or_else(|| format!("target {}: not the batch in flight", self.label))?;
        let replies = match self.read.pop_front() {
            Some(r) => r,
            None => self.recv(runs.len())?,
        };
        let mut outcomes = Vec::with_capacity(n);
        let mut refused = Vec::new();
        for (&len, v) in runs.iter().zip(&replies) {
            let at = outcomes.len();
            if len == 1 {
                outcomes.push(outcome(v));
                continue;
            }
            // A refused MSET's entries get their own outcomes below.
            if error_of(v).is_some() {
                refused.extend(at..at + len);
            }
            outcomes.extend(std::iter::repeat_n(Outcome::Written, len));
        }
        if !refused.is_empty() {
            // Single SETs for the refused MSETs' entries, each with its own outcome. Batches
            // sent since are answered first, so their replies are read and kept.
            self.mset = false;
            for i in 0..self.pending.len() {
                if i >= self.read.len() {
                    let replies = self.recv(self.pending[i].len())?;
                    self.read.push_back(replies);
                }
            }
            let cmds: Vec<Cmd> = refused
                .iter()
                .map(|&i| {
                    let mut c = redis::cmd("SET");
                    c.arg(self.key(&batch[i])).arg(&batch[i].value);
                    c
                })
                .collect();
            for (i, v) in refused.iter().zip(self.pipeline(&cmds)?) {
                outcomes[*i] = outcome(&v);
            }
        }
        Ok(outcomes)
    }

    fn read_back(&mut self, entries: &[Entry]) -> Result<Vec<Option<Stored>>, String> {
        let mut cmds = Vec::with_capacity(entries.len() * 2);
        for e in entries {
            let k = self.key(e);
            let mut get = redis::cmd("GET");
            get.arg(&k);
            let mut at = redis::cmd("PEXPIRETIME");
            at.arg(&k);
            cmds.push(get);
            cmds.push(at);
        }
        let replies = self.pipeline(&cmds)?;
        Ok(replies
            .chunks(2)
            .map(|pair| match (&pair[0], pair.get(1)) {
                (Value::BulkString(v), Some(Value::Int(at))) => {
                    Some((v.clone(), (*at >= 0).then_some(*at as u64)))
                }
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Decoder, Limits};
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// What a server holds: value and PXAT per key.
    type Model = HashMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

    /// The commands in `out`, as a server's request decoder reads them.
    fn commands(out: &bytes::BytesMut) -> Vec<Vec<Vec<u8>>> {
        let mut buf = out.clone();
        let mut dec = Decoder::new(Limits::default());
        let mut cmds = Vec::new();
        while let Some(argv) = dec.decode(&mut buf).unwrap() {
            cmds.push(argv.to_vec());
        }
        assert!(buf.is_empty(), "a partial command is left");
        cmds
    }

    /// Applies `cmds` as Redis executes SET (with PXAT, NX) and MSET, starting from `model`.
    fn apply(mut model: Model, cmds: &[Vec<Vec<u8>>]) -> Model {
        for c in cmds {
            match c[0].as_slice() {
                b"MSET" => c[1..].chunks(2).for_each(|kv| {
                    model.insert(kv[0].clone(), (kv[1].clone(), None));
                }),
                b"SET" => {
                    let (mut at, mut nx) = (None, false);
                    let mut opts = c[3..].iter();
                    while let Some(o) = opts.next() {
                        match o.as_slice() {
                            b"PXAT" => {
                                let n = std::str::from_utf8(opts.next().unwrap()).unwrap();
                                at = Some(n.parse().unwrap());
                            }
                            b"NX" => nx = true,
                            other => panic!("unexpected SET option {other:?}"),
                        }
                    }
                    if !(nx && model.contains_key(&c[1])) {
                        model.insert(c[1].clone(), (c[2].clone(), at));
                    }
                }
                other => panic!("unexpected command {other:?}"),
            }
        }
        model
    }

    /// Keys of every UTF-8 width and raw bytes, from a small set so batches repeat keys.
    fn entry() -> impl Strategy<Value = Entry> {
        let key = prop_oneof![
            Just(b"k".to_vec()),
            Just("é".as_bytes().to_vec()),
            Just("€x".as_bytes().to_vec()),
            Just("😀".as_bytes().to_vec()),
            Just(vec![0xff, 0x00, b'\r', b'\n']),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        (
            prop_oneof![Just("default"), Just("a")],
            key,
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::option::of(1u64..1 << 45),
        )
            .prop_map(|(ns, key, value, at)| Entry {
                ns: ns.to_string(),
                key,
                value,
                expires_at_ms: at,
            })
    }

    proptest::proptest! {
        /// The MSET runs leave a server as the plain SET per entry does, whatever the mix of
        /// TTLs, repeated keys, policies and limits (small ones, so runs cross them often),
        /// and every command keeps to the limits and says how many entries it carries.
        #[test]
        fn mset_runs_write_what_single_sets_write(
            batch in proptest::collection::vec(entry(), 0..40),
            before in proptest::collection::vec(entry(), 0..8),
            nx in any::<bool>(),
            keys in 1usize..7,
            bytes in 1usize..120,
        ) {
            let mut out = bytes::BytesMut::new();
            let plain_runs = encode_batch(&before, false, None, ":", &mut out);
            prop_assert!(plain_runs.iter().all(|&n| n == 1));
            let start = apply(Model::new(), &commands(&out));

            let runs = encode_batch(&batch, nx, None, ":", &mut out);
            prop_assert_eq!(runs, vec![1; batch.len()]);
            let want = apply(start.clone(), &commands(&out));

            let runs = encode_batch(&batch, nx, Some((keys, bytes)), ":", &mut out);
            let cmds = commands(&out);
            prop_assert_eq!(apply(start, &cmds), want);
            prop_assert_eq!(runs.len(), cmds.len());
            prop_assert_eq!(runs.iter().sum::<usize>(), batch.len());
            let mut at = 0;
            for (n, c) in runs.iter().zip(&cmds) {
                let carried = &batch[at..at + n];
                if *n == 1 {
                    prop_assert_eq!(c[0].as_slice(), b"SET");
                    prop_assert_eq!(&c[2], &carried[0].value);
                } else {
                    prop_assert!(!nx);
                    prop_assert_eq!(c[0].as_slice(), b"MSET");
                    prop_assert_eq!(c.len(), 1 + 2 * n);
                    prop_assert!(*n <= keys);
                    prop_assert!(carried.iter().all(|e| e.expires_at_ms.is_none()));
                    let size: usize = carried.iter().map(|e| e.key.len() + e.value.len()).sum();
                    prop_assert!(size <= bytes);
                }
                at += n;
            }
        }
    }

    #[test]
    fn mset_runs_stop_at_the_real_limits() {
        let e = |i: usize, len: usize| Entry {
            ns: super::super::DEFAULT_NAMESPACE.to_string(),
            key: format!("k{i}").into_bytes(),
            value: vec![b'v'; len],
            expires_at_ms: None,
        };
        let mut out = bytes::BytesMut::new();
        let limits = Some((MSET_KEYS, MSET_BYTES));
        let many: Vec<Entry> = (0..2 * MSET_KEYS + 1).map(|i| e(i, 10)).collect();
        let runs = encode_batch(&many, false, limits, ":", &mut out);
        assert_eq!(runs, vec![MSET_KEYS, MSET_KEYS, 1]);
        // Four values of a third of the byte budget: three per MSET, then one SET.
        let big: Vec<Entry> = (0..4).map(|i| e(i, MSET_BYTES / 3 - 2)).collect();
        assert_eq!(encode_batch(&big, false, limits, ":", &mut out), vec![3, 1]);
        // A value over the budget goes alone, as a SET.
        let huge = vec![e(0, MSET_BYTES + 1), e(1, 1), e(2, 1)];
        assert_eq!(
            encode_batch(&huge, false, limits, ":", &mut out),
            vec![1, 2]
        );
    }

    #[test]
    fn passwords_are_hidden_in_labels() {
        for (url, want) in [
            ("redis://:secret@h:1", "redis://:***@h:1"),
            ("redis://u:secret@h:1/0", "redis://u:***@h:1/0"),
            ("redis://h:1", "redis://h:1"),
            ("unix:///tmp/s.sock", "unix:///tmp/s.sock"),
            ("postgres://u:p%40w@h/db", "postgres://u:***@h/db"),
        ] {
            assert_eq!(without_password(url), want, "{url}");
        }
    }
}
