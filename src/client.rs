//! The daemon client used by the CLI (`tinykv -s PATH ...`, `-p PORT`, `-u URL`): a small
//! blocking RESP client over a Unix socket or TCP.
//!
//! It is blocking on purpose: the CLI sends one command at a time and waits, so a runtime would
//! add nothing. Requests are encoded and replies parsed by [`crate::protocol`]. Every connection
//! error names the address it was trying, so "connection refused" is never anonymous.
//!
//! It knows nothing of the REPL: `cli::remote` makes a [`Client`] one of the REPL's backends.
//!
//! On Windows there are no Unix sockets: a `unix://` URL is refused when parsed and an
//! [`Address::Unix`] when connecting, both with [`NO_UNIX_SOCKETS`]'s reason.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use bytes::BytesMut;

use crate::command::Reply;
use crate::protocol::{encode_command, parse_reply, ReplyScan};

/// Why a Unix socket cannot be used on this platform.
#[cfg(not(unix))]
pub const NO_UNIX_SOCKETS: &str = "Unix sockets are not supported on Windows";

/// Where a daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A Unix socket path.
    Unix(PathBuf),
    /// A TCP host and port.
    Tcp(String, u16),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Tcp(h, p) if h.contains(':') => write!(f, "[{h}]:{p}"),
            Address::Tcp(h, p) => write!(f, "{h}:{p}"),
        }
    }
}

/// Everything a connection URL can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where to connect.
    pub address: Address,
    /// User for AUTH (Redis's ACL user; TinyKV knows only `default`).
    pub user: Option<String>,
    /// Password for AUTH.
    pub password: Option<String>,
    /// Namespace to SELECT after connecting; `None` for the default namespace, which is also
    /// what database 0 in a URL means (as ioredis and redis-cli read `redis://host/0`).
    pub db: Option<String>,
}

impl Target {
    /// A target at `address` with no AUTH and no SELECT.
    pub fn new(address: Address) -> Target {
        Target {
            address,
            user: None,
            password: None,
            db: None,
        }
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]` or `unix://[[user]:password@]/path[?db=name]`.
    /// A db of 0 (or none) is the default namespace and sends no SELECT; any other db is
    /// selected by name, so `/3` sends `SELECT 3`.
    pub fn parse_url(url: &str) -> Result<Target, String> {
        let bad = |why: &str| format!("invalid URL '{url}': {why}");
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://"))?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a), r),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
                None => (None, Some(a.to_string())),
            },
        };
        match scheme {
            "redis" | "tinykv" => {
                let (hostport, db) = match rest.split_once('/') {
                    Some((h, d)) => (h, url_db(d)),
                    None => (rest, None),
                };
                let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
                    let (h, p) = h.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
                    (h, p.strip_prefix(':'))
                } else {
                    match hostport.rsplit_once(':') {
                        Some((h, p)) => (h, Some(p)),
                        None => (hostport, None),
                    }
                };
                let port = match port {
                    Some(p) => p.parse().map_err(|_| bad("port is not a number"))?,
                    None => 6379,
                };
                let host = if host.is_empty() { "127.0.0.1" } else { host };
                Ok(Target {
                    address: Address::Tcp(host.to_string(), port),
                    user,
                    password,
                    db,
                })
            }
            "unix" if cfg!(not(unix)) => Err(bad(
                "Unix sockets are not supported on Windows; use redis://HOST:PORT",
            )),
            "unix" => {
                let (path, query) = match rest.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (rest, None),
                };
                if path.is_empty() {
                    return Err(bad("missing socket path"));
                }
                let db = query
                    .into_iter()
                    .flat_map(|q| q.split('&'))
                    .find_map(|kv| kv.strip_prefix("db="))
                    .and_then(url_db);
                Ok(Target {
                    address: Address::Unix(PathBuf::from(path)),
                    user,
                    password,
                    db,
                })
            }
            other => Err(bad(&format!(
                "unsupported scheme '{other}' (use redis:// or unix://)"
            ))),
        }
    }
}

/// The namespace a URL's db names: `None` for an empty db or database 0 (the default
/// namespace, whatever the digits: `0`, `00`), else the db as given.
fn url_db(db: &str) -> Option<String> {
    let zero = !db.is_empty() && db.bytes().all(|b| b == b'0');
    (!db.is_empty() && !zero).then(|| db.to_string())
}

/// A byte stream to the daemon.
#[derive(Debug)]
enum Stream {
    #[cfg(unix)]
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connection to a TinyKV (or Redis) server.
#[derive(Debug)]
pub struct Client {
    /// The socket.
    stream: Stream,
    /// Where it goes, for error messages.
    address: Address,
    /// Bytes read but not yet parsed into a reply.
    buf: BytesMut,
}

/// One entry of a [`Client::scan_entries`] step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedEntry {
    /// Its key.
    pub key: Vec<u8>,
    /// Its value as the daemon returns it (an integer as decimal text).
    pub value: Vec<u8>,
    /// Absolute expiry, epoch ms; `None` for no TTL.
    pub expires_at_ms: Option<u64>,
}

impl Client {
    /// Connects, then AUTHs and SELECTs as `target` asks. Errors name the address.
    pub fn connect(target: &Target) -> Result<Client, String> {
        let address = target.address.clone();
        let stream = match &address {
            #[cfg(unix)]
            Address::Unix(p) => UnixStream::connect(p).map(Stream::Unix),
            #[cfg(not(unix))]
            Address::Unix(_) => Err(io::Error::new(io::ErrorKind::Unsupported, NO_UNIX_SOCKETS)),
            Address::Tcp(h, port) => TcpStream::connect((h.as_str(), *port)).map(|s| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
        }
        .map_err(|e| format!("could not connect to {address}: {e}"))?;
        let mut client = Client {
            stream,
            address,
            buf: BytesMut::with_capacity(16 * 1024),
        };
        if let Some(pass) = &target.password {
            let mut argv = vec![b"AUTH".to_vec()];
            if let Some(user) = &target.user {
                argv.push(user.as_bytes().to_vec());
            }
            argv.push(pass.as_bytes().to_vec());
            client.expect_ok(argv)?;
        }
        // RESP3 when the server has it, so maps and doubles reach the REPL as maps and doubles
        // and print exactly as they do in-process; a RESP2-only server just says no.
        let _ = client.request(&["HELLO", "3"]);
        if let Some(db) = &target.db {
            client.expect_ok(vec![b"SELECT".to_vec(), db.as_bytes().to_vec()])?;
        }
        Ok(client)
    }

    fn expect_ok(&mut self, argv: Vec<Vec<u8>>) -> Result<(), String> {
        self.call(&argv).map(|_| ())
    }

    /// [`Client::request`], with an error reply as an `Err` naming the address.
    pub fn call<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Result<Reply, String> {
        match self.request(argv) {
            Ok(Reply::Error(e)) => Err(format!("{}: {e}", self.address)),
            Ok(r) => Ok(r),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A TinyKV daemon's namespaces holding keys, with their key counts (NAMESPACES: a map in
    /// RESP3, a flat array in RESP2).
    pub fn namespaces(&mut self) -> Result<Vec<(String, u64)>, String> {
        let pairs = match self.call(&["NAMESPACES"])? {
            Reply::Map(pairs) => pairs,
            Reply::Array(flat) => {
                let mut it = flat.into_iter();
                std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
            }
            other => return Err(format!("unexpected NAMESPACES reply {other:?}")),
        };
        let text = |r: Reply| match r {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Reply::Simple(s) => s,
            other => format!("{other:?}"),
        };
        let count = |r: Reply| match r {
            Reply::Int(n) => n.max(0) as u64,
            _ => 0,
        };
        Ok(pairs
            .into_iter()
            .map(|(k, v)| (text(k), count(v)))
            .collect())
    }

    /// One SCANENTRIES step of a TinyKV daemon's selected namespace from `cursor`: the next
    /// cursor (0 when the walk is complete) and each key found with its value and absolute
    /// expiry (epoch ms; `None` for no TTL).
    pub fn scan_entries(
        &mut self,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<ScannedEntry>), String> {
        let (cursor, count) = (cursor.to_string(), count.to_string());
        let mut argv: Vec<&[u8]> = vec![b"SCANENTRIES", cursor.as_bytes()];
        if let Some(p) = pattern {
            argv.extend([b"MATCH".as_slice(), p]);
        }
        argv.extend([b"COUNT".as_slice(), count.as_bytes()]);
        let bad = |what: String| format!("unexpected SCANENTRIES {what}");
        let Reply::Array(parts) = self.call(&argv)? else {
            return Err(bad("reply: not an array".into()));
        };
        let Ok([Reply::Bulk(next), Reply::Array(flat)]) = <[Reply; 2]>::try_from(parts) else {
            return Err(bad("reply: not [cursor, entries]".into()));
        };
        let next: u64 = std::str::from_utf8(&next)
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad(format!("cursor {next:?}")))?;
        let mut out = Vec::with_capacity(flat.len() / 3);
        let mut it = flat.into_iter();
        // Flat key, value, expiry triples; the expiry is absolute ms, -1 for none.
        while let (Some(k), Some(v), Some(at)) = (it.next(), it.next(), it.next()) {
            let (Reply::Bulk(key), Reply::Bulk(value), Reply::Int(at)) = (k, v, at) else {
                return Err(bad("entry: not key, value, expiry".into()));
            };
            out.push(ScannedEntry {
                key,
                value,
                expires_at_ms: (at >= 0).then_some(at as u64),
            });
        }
        Ok((next, out))
    }

    /// Where this client is connected.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Sends one command and waits for its reply.
    pub fn request<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<Reply> {
        let mut out = BytesMut::new();
        encode_command(argv, &mut out);
        self.stream.write_all(&out)?;
        self.read_reply()
    }

    /// Sends every request in one write, then reads their replies in order (pipelining: one
    /// round trip for the lot). Keep a batch to a few thousand requests so the replies stay
    /// under the server's output cap.
    pub fn pipeline<A: AsRef<[u8]>>(&mut self, requests: &[Vec<A>]) -> io::Result<Vec<Reply>> {
        let mut out = BytesMut::new();
        for argv in requests {
            encode_command(argv, &mut out);
        }
        self.stream.write_all(&out)?;
        requests.iter().map(|_| self.read_reply()).collect()
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        // Parse once the scan says the reply is all here: parsing after every read would
        // go over a large reply again and again (quadratic in its size).
        let mut scan = ReplyScan::default();
        loop {
            if scan.complete(&self.buf).is_some() {
                match parse_reply(&self.buf) {
                    Ok(Some((reply, used))) => {
                        let _ = self.buf.split_to(used);
                        return Ok(reply);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
                    }
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} closed the connection", self.address),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(h: &str, p: u16) -> Address {
        Address::Tcp(h.into(), p)
    }

    #[test]
    fn parses_urls() {
        let t = Target::parse_url("redis://localhost:7000/3").unwrap();
        assert_eq!(
            (t.address, t.db, t.password),
            (tcp("localhost", 7000), Some("3".into()), None)
        );
        let t = Target::parse_url("redis://:secret@127.0.0.1").unwrap();
        assert_eq!(
            (t.address, t.user, t.password),
            (tcp("127.0.0.1", 6379), None, Some("secret".into()))
        );
        let t = Target::parse_url("redis://default:p%@[::1]:6380").unwrap();
        assert_eq!(
            (t.address, t.user),
            (tcp("::1", 6380), Some("default".into()))
        );
        #[cfg(unix)]
        {
            let t = Target::parse_url("unix:///run/t.sock?db=cache").unwrap();
            assert_eq!(
                (t.address, t.db),
                (Address::Unix("/run/t.sock".into()), Some("cache".into()))
            );
            assert_eq!(Target::parse_url("unix:///t.sock?db=0").unwrap().db, None);
        }
        // Database 0 is the default namespace: no SELECT, as ioredis does with the same URL.
        for url in [
            "redis://h:1/0",
            "redis://h:1/00",
            "redis://h:1/",
            "redis://h:1",
        ] {
            assert_eq!(Target::parse_url(url).unwrap().db, None, "{url}");
        }
        let t = Target::parse_url("redis://h:1/10").unwrap();
        assert_eq!(t.db.as_deref(), Some("10"));
        for bad in ["localhost:6379", "http://x", "redis://h:port", "unix://"] {
            assert!(Target::parse_url(bad).is_err(), "{bad}");
        }
    }

    #[cfg(not(unix))]
    #[test]
    fn unix_urls_and_addresses_are_refused_on_windows() {
        let e = Target::parse_url("unix:///run/t.sock").unwrap_err();
        assert!(
            e.contains("Unix sockets are not supported on Windows"),
            "{e}"
        );
        let e = Client::connect(&Target::new(Address::Unix("t.sock".into()))).unwrap_err();
        assert!(e.contains(NO_UNIX_SOCKETS), "{e}");
    }
}
