//! Shared helpers for the persistence tests: every kind of value written to a daemon over RESP,
//! a key-by-key dump of a daemon (NAMESPACES, KEYS, GET, PEXPIRETIME through the crate's
//! client), a comparison with expiries within 1 s, and the `tinykv` binary as a child process.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Output};

use tinykv::client::{Address, Client, Target};
use tinykv::command::Reply;

/// (namespace, key) -> (value, PEXPIRETIME: -1 for none).
pub type Dump = BTreeMap<(String, Vec<u8>), (Vec<u8>, i64)>;

/// A client on `addr`.
pub fn client(addr: SocketAddr) -> Client {
    Client::connect(&Target::new(Address::Tcp(
        addr.ip().to_string(),
        addr.port(),
    )))
    .unwrap()
}

fn req(c: &mut Client, argv: &[&[u8]]) -> Reply {
    let r = c.request(argv).unwrap();
    assert!(!matches!(r, Reply::Error(_)), "{argv:?}: {r:?}");
    r
}

/// Every entry of the daemon at `addr`, key by key.
pub fn dump(addr: SocketAddr) -> Dump {
    let mut c = client(addr);
    let Reply::Map(list) = req(&mut c, &[b"NAMESPACES"]) else {
        panic!("NAMESPACES")
    };
    let mut out = Dump::new();
    for (name, _) in list {
        let Reply::Bulk(name) = name else {
            panic!("{name:?}")
        };
        let ns = String::from_utf8(name).unwrap();
        let select = if ns == "default" { "0" } else { ns.as_str() };
        req(&mut c, &[b"SELECT", select.as_bytes()]);
        let Reply::Array(keys) = req(&mut c, &[b"KEYS", b"*"]) else {
            panic!("KEYS")
        };
        for k in keys {
            let Reply::Bulk(k) = k else { panic!("{k:?}") };
            let Reply::Bulk(v) = req(&mut c, &[b"GET", &k]) else {
                panic!("GET")
            };
            let Reply::Int(at) = req(&mut c, &[b"PEXPIRETIME", &k]) else {
                panic!("PEXPIRETIME")
            };
            out.insert((ns.clone(), k), (v, at));
        }
    }
    out
}

/// Asserts `got` holds exactly `want`'s keys and values, with expiries within 1 s.
pub fn assert_same(got: &Dump, want: &Dump) {
    let gk: Vec<_> = got.keys().collect();
    let wk: Vec<_> = want.keys().collect();
    assert_eq!(gk, wk, "key sets differ");
    for (k, (v, at)) in want {
        let (gv, gat) = &got[k];
        assert!(
            gv == v,
            "{k:?}: value differs ({} vs {} bytes)",
            gv.len(),
            v.len()
        );
        if *at < 0 {
            assert_eq!(*gat, *at, "{k:?}: expiry");
        } else {
            assert!((gat - at).abs() <= 1000, "{k:?}: expiry {gat} vs {at}");
        }
    }
}

/// Writes every kind of value the round trips must keep: text, binary, integers, the empty
/// string, a 512 KiB value, unicode keys, binary keys, several namespaces (the default one, a
/// named one, a numeric database), with and without TTLs. Returns what was written.
pub fn write_every_kind(addr: SocketAddr) -> Dump {
    let mut c = client(addr);
    let big: Vec<u8> = (0..512 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    /// Namespace, key, value, TTL in ms.
    type Case = (&'static str, Vec<u8>, Vec<u8>, Option<u64>);
    let cases: Vec<Case> = vec![
        ("0", b"text".to_vec(), b"hello world".to_vec(), None),
        ("0", b"binary".to_vec(), vec![0, 255, 128, 10, 13, 0], None),
        ("0", b"counter".to_vec(), b"42".to_vec(), None),
        (
            "0",
            b"negative".to_vec(),
            b"-9223372036854775808".to_vec(),
            None,
        ),
        ("0", b"not-an-int".to_vec(), b"007".to_vec(), None),
        ("0", b"empty".to_vec(), Vec::new(), None),
        ("0", b"big".to_vec(), big, Some(3_600_000)),
        (
            "0",
            "ключ:ü:🔑".as_bytes().to_vec(),
            "значение ✓".as_bytes().to_vec(),
            None,
        ),
        ("0", vec![0xff, 0x00, b'k'], b"binary key".to_vec(), None),
        ("0", b"ttl".to_vec(), b"soon".to_vec(), Some(600_000)),
        (
            "sessions",
            b"user:1".to_vec(),
            b"{\"id\":1}".to_vec(),
            Some(86_400_000),
        ),
        ("sessions", b"user:2".to_vec(), b"{\"id\":2}".to_vec(), None),
        ("3", b"db3".to_vec(), b"three".to_vec(), None),
        ("caf\u{e9}", b"k".to_vec(), b"v".to_vec(), None),
    ];
    for (ns, k, v, ttl) in &cases {
        req(&mut c, &[b"SELECT", ns.as_bytes()]);
        match ttl {
            Some(ms) => req(&mut c, &[b"SET", k, v, b"PX", ms.to_string().as_bytes()]),
            None => req(&mut c, &[b"SET", k, v]),
        };
    }
    dump(addr)
}

/// Runs the `tinykv` binary with `args`.
pub fn tinykv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinykv"))
        .args(args)
        .output()
        .unwrap()
}

/// `-p PORT` for `addr`.
pub fn port(addr: SocketAddr) -> String {
    addr.port().to_string()
}

/// How many entries the snapshot (or JSONL file) at `path` holds.
pub fn entries_in(path: &std::path::Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let input = tinykv::persist::parse(&bytes, None).unwrap();
    input.batch.entries.len()
}
