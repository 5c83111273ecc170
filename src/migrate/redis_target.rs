//! Writing to Redis (or Valkey), one server or a Redis Cluster, with the `redis` crate. Each
//! batch is one pipeline of `SET key value [PXAT at] [NX]`: PXAT carries the absolute expiry,
//! so time spent migrating does not lengthen a TTL; NX keeps a key the target holds
//! (`--on-conflict skip|fail`). Namespaces become key prefixes ([`super::redis_key`]).

use super::{redis_key, Entry, OnConflict, Outcome, Started, Stored, Target};
use redis::cluster::{cluster_pipe, ClusterClient, ClusterConnection};
use redis::{Cmd, Connection, Value};

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
        self.finish(started)
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
        // One server: the SETs straight into one RESP buffer (the daemon's own request
        // encoder), without building a redis::Cmd per key and packing the pipeline again.
        self.out.clear();
        for e in batch {
            let key = self.key(e);
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
            crate::protocol::encode_command(&argv[..n], &mut self.out);
        }
        let Link::One(con) = &mut self.link else {
            return Err(format!("target {}: not one server", self.label));
        };
        con.send_packed_command(&self.out)
            .map_err(|e| format!("target {}: {e}", self.label))?;
        Ok(Started::InFlight(batch.len()))
    }

    fn finish(&mut self, started: Started) -> Result<Vec<Outcome>, String> {
        let n = match started {
            Started::Done(outcomes) => return Ok(outcomes),
            Started::InFlight(n) => n,
        };
        let Link::One(con) = &mut self.link else {
            return Err(format!("target {}: no batch in flight", self.label));
        };
        (0..n)
            .map(|_| {
                con.recv_response()
                    .map(|v| outcome(&v))
                    .map_err(|e| format!("target {}: {e}", self.label))
            })
            .collect()
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
