//! Data-driven command tests: one line in, the exact reply out, on a manual clock.

use super::*;
use crate::store::{Clock, Config, ManualClock};
use std::sync::Arc;

struct T {
    store: Store,
    session: Session,
    clock: Arc<ManualClock>,
}

impl T {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let config = Config {
            reaper_interval_ms: 0,
            ..Config::default()
        };
        let store = Store::with_clock(config, clock.clone()).unwrap();
        T {
            store,
            session: Session::default(),
            clock,
        }
    }

    fn run(&mut self, line: &str) -> Reply {
        let argv: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        execute(&self.store, &mut self.session, &argv)
    }

    fn check(&mut self, line: &str, expected: Reply) {
        assert_eq!(self.run(line), expected, "command: {line}");
    }
}

fn ok() -> Reply {
    Reply::ok()
}
fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}
fn int(n: i64) -> Reply {
    Reply::Int(n)
}
fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn strings() {
    let mut t = T::new();
    t.check("GET a", Reply::Nil);
    t.check("SET a 1", ok());
    t.check("get a", bulk("1"));
    t.check("SET a 2 NX", Reply::Nil);
    t.check("SET b 2 XX", Reply::Nil);
    t.check("SET a 3 XX GET", bulk("1"));
    t.check("SET a 4 GET", bulk("3"));
    t.check("SET a 5 NX XX", err("ERR syntax error"));
    t.check("SET a 5 EX", err("ERR syntax error"));
    t.check(
        "SET a 5 EX 0",
        err("ERR invalid expire time in 'set' command"),
    );
    t.check(
        "SET a 5 EX ten",
        err("ERR value is not an integer or out of range"),
    );
    t.check(
        "SET a",
        err("ERR wrong number of arguments for 'set' command"),
    );
    t.check("SETNX a 9", int(0));
    t.check("SETNX c 9", int(1));
    t.check("GETSET c 10", bulk("9"));
    t.check("GETDEL c", bulk("10"));
    t.check("GETDEL c", Reply::Nil);
    t.check("MSET x 1 y 2", ok());
    t.check(
        "MSET x 1 y",
        err("ERR wrong number of arguments for 'mset' command"),
    );
    t.check(
        "MGET x nope y",
        Reply::Array(vec![bulk("1"), Reply::Nil, bulk("2")]),
    );
    t.check("MSETNX x 5 z 6", int(0));
    t.check("MSETNX z 6 w 7", int(1));
    t.check("APPEND x 23", int(3));
    t.check("GET x", bulk("123"));
    t.check("STRLEN x", int(3));
    t.check("STRLEN missing", int(0));
    t.check("APPEND fresh hi", int(2));
}

#[test]
fn counters() {
    let mut t = T::new();
    t.check("INCR n", int(1));
    t.check("INCRBY n 10", int(11));
    t.check("DECR n", int(10));
    t.check("DECRBY n 4", int(6));
    t.check("GET n", bulk("6"));
    t.check("APPEND n 0", int(2));
    t.check("INCR n", int(61));
    t.check("SET s hello", ok());
    t.check("INCR s", err("ERR value is not an integer or out of range"));
    t.check("GET s", bulk("hello"));
    t.check(
        "INCRBY n x",
        err("ERR value is not an integer or out of range"),
    );
    t.check("SET big 9223372036854775807", ok());
    t.check("INCR big", err("ERR increment or decrement would overflow"));
    t.check("GET big", bulk("9223372036854775807"));
    t.check(
        "DECRBY n -9223372036854775808",
        err("ERR decrement would overflow"),
    );
}

#[test]
fn expiry() {
    let mut t = T::new();
    t.check("SET a 1 PX 1500", ok());
    t.check("PTTL a", int(1500));
    t.check("TTL a", int(2));
    t.check("TTL missing", int(-2));
    t.check("SET p 1", ok());
    t.check("TTL p", int(-1));
    t.clock.advance(1000);
    t.check("PTTL a", int(500));
    t.check("SET a 2 KEEPTTL", ok());
    t.check("PTTL a", int(500));
    t.clock.advance(500);
    t.check("PTTL a", int(0));
    t.check("GET a", bulk("2"));
    t.clock.advance(1);
    t.check("GET a", Reply::Nil);
    t.check("EXISTS a", int(0));
    t.check("EXPIRE p 10", int(1));
    t.check("TTL p", int(10));
    t.check("EXPIRE p 20 NX", int(0));
    t.check("EXPIRE p 5 GT", int(0));
    t.check("EXPIRE p 5 LT", int(1));
    t.check("PERSIST p", int(1));
    t.check("PERSIST p", int(0));
    t.check("EXPIRE p 5 XX", int(0));
    t.check("EXPIRE missing 5", int(0));
    t.check("PEXPIRE p 250", int(1));
    t.check("PTTL p", int(250));
    let at = (t.clock.now_ms() + 3000) / 1000 * 1000 + 1000;
    t.check(&format!("PEXPIREAT p {at}"), int(1));
    t.check("PEXPIRETIME p", int(at as i64));
    t.check("EXPIRE p -1", int(1));
    t.check("EXISTS p", int(0));
    t.check("SETEX e 10 v", ok());
    t.check("TTL e", int(10));
    t.check(
        "PSETEX e 0 v",
        err("ERR invalid expire time in 'psetex' command"),
    );
    t.check("GETEX e PERSIST", bulk("v"));
    t.check("TTL e", int(-1));
    t.check("GETEX e PX 100", bulk("v"));
    t.check("PTTL e", int(100));
    t.check("GETEX e BOGUS", err("ERR syntax error"));
}

/// Redis's edges: alive at its expiry time, gone 1 ms later; TTL and EXPIRETIME round to the
/// nearest second.
#[test]
fn expiry_edges_and_rounding_match_redis() {
    let mut t = T::new();
    let at = t.clock.now_ms() + 100;
    t.check(&format!("SET k v PXAT {at}"), ok());
    t.clock.set(at);
    t.check("PTTL k", int(0));
    t.check("TTL k", int(0));
    t.check("GET k", bulk("v"));
    t.clock.advance(1);
    t.check("GET k", Reply::Nil);
    t.check("PTTL k", int(-2));
    for (px, ttl) in [
        (400, 0),
        (499, 0),
        (500, 1),
        (1400, 1),
        (1500, 2),
        (2499, 2),
    ] {
        t.check(&format!("SET r v PX {px}"), ok());
        t.check("TTL r", int(ttl));
    }
    // The manual clock starts at 1,000,000 ms: +1,499 rounds down, +1,500 up.
    t.check(&format!("PEXPIREAT r {}", 1_001_499 + 100_000), int(1));
    t.check("EXPIRETIME r", int(1_101));
    t.check(&format!("PEXPIREAT r {}", 1_001_500 + 100_000), int(1));
    t.check("EXPIRETIME r", int(1_102));
}

/// Integer arguments as Redis parses them, and the extremes Redis accepts.
#[test]
fn integer_arguments_and_extreme_expiries() {
    let mut t = T::new();
    let not_int = err("ERR value is not an integer or out of range");
    for line in [
        "SET k v EX +10",
        "SET k v EX 010",
        "SET k v PX -0",
        "EXPIRE k +5",
        "INCRBY n +5",
        "SCAN 0 COUNT +5",
    ] {
        t.check(line, not_int.clone());
    }
    t.check("SET k v PX 4611686018427387903", ok());
    t.check("PTTL k", int(4611686018427387903));
    t.check("SET k v PXAT 9223372036854775807", ok());
    t.check("PEXPIRETIME k", int(i64::MAX));
    t.check("EXPIRETIME k", int(9223372036854776));
    t.check("SET k v EXAT 9223372036854775", ok());
    let invalid = err("ERR invalid expire time in 'set' command");
    t.check("SET k v PX 9223372036854775807", invalid.clone());
    t.check("SET k v EX 9223372036854775", invalid.clone());
    t.check("SET k v EXAT 9223372036854776", invalid);
    t.check(
        "GETEX k PX 9223372036854775807",
        err("ERR invalid expire time in 'getex' command"),
    );
    t.check("GETEX k PXAT 9223372036854775807", bulk("v"));
    t.check(
        "PSETEX k 9223372036854775807 v",
        err("ERR invalid expire time in 'psetex' command"),
    );
}

#[test]
fn scan_cursors_parse_as_strtoull() {
    let mut t = T::new();
    let done = || Reply::Array(vec![bulk("0"), Reply::Array(vec![])]);
    for c in [
        "-1",
        "18446744073709551615",
        "+0",
        "-0",
        "00",
        "-18446744073709551615",
    ] {
        t.check(&format!("SCAN {c}"), done());
    }
    let invalid = err("ERR invalid cursor");
    for c in [
        "18446744073709551616",
        "-18446744073709551616",
        "-",
        "+",
        "1x",
        "0.5",
    ] {
        t.check(&format!("SCAN {c}"), invalid.clone());
    }
    assert_eq!(
        keys::parse_cursor(b""),
        Some(0),
        "strtoull reads nothing as 0"
    );
    assert_eq!(keys::parse_cursor(b" 1"), None);
    assert_eq!(keys::parse_cursor(b"-1"), Some(u64::MAX));
}

/// One rule for databases: a numeric name is an index below `databases`; 0 is the default
/// namespace.
#[test]
fn select_takes_indexes_below_databases_and_0_is_the_default() {
    let mut t = T::new();
    let range = err("ERR DB index is out of range");
    t.check("SELECT 1000000", range.clone());
    t.check("SELECT 16", range.clone());
    t.check("SELECT -1", range);
    let not_int = err("ERR value is not an integer or out of range");
    t.check("SELECT 01", not_int.clone());
    t.check("SELECT +1", not_int.clone());
    t.check("SELECT 99999999999999999999", not_int);
    t.check("SET k default", ok());
    t.check("SELECT 15", ok());
    t.check("GET k", Reply::Nil);
    t.check("SELECT 0", ok());
    assert_eq!(t.session.ns, Ns::DEFAULT);
    t.check("GET k", bulk("default"));
    t.check("SELECT users", ok());
    t.check("SELECT 1e3", ok());
    assert_eq!(t.store.namespace("0").unwrap(), Ns::DEFAULT);
    assert_eq!(t.store.acquire_namespace("0").unwrap().ns(), Ns::DEFAULT);
    let small = Store::with_clock(
        Config {
            databases: 2,
            reaper_interval_ms: 0,
            ..Config::default()
        },
        t.clock.clone(),
    )
    .unwrap();
    let mut s = Session::default();
    assert_eq!(execute(&small, &mut s, &["SELECT", "1"]), ok());
    assert_eq!(
        execute(&small, &mut s, &["SELECT", "2"]),
        err("ERR DB index is out of range")
    );
}

/// Keys are any bytes, as in Redis: every key command, and globs matched on bytes.
#[test]
fn binary_keys() {
    let mut t = T::new();
    let mut run = |argv: &[&[u8]]| execute(&t.store, &mut t.session, argv);
    let k: &[u8] = b"\xff\xfe";
    let other: &[u8] = b"\xff\x00z";
    let bin = |b: &[u8]| Reply::Bulk(b.to_vec());
    assert_eq!(run(&[b"SET", k, b"v"]), ok());
    assert_eq!(run(&[b"GET", k]), bulk("v"));
    assert_eq!(run(&[b"MSET", other, b"w", b"text", b"x"]), ok());
    assert_eq!(
        run(&[b"MGET", k, other, b"\x80"]),
        Reply::Array(vec![bulk("v"), bulk("w"), Reply::Nil])
    );
    let Reply::Array(mut keys) = run(&[b"KEYS", b"\xff*"]) else {
        panic!("not an array")
    };
    keys.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(keys, vec![bin(other), bin(k)]);
    assert_eq!(run(&[b"KEYS", b"?\xfe"]), Reply::Array(vec![bin(k)]));
    assert_eq!(
        run(&[b"KEYS", b"[\xfe-\xff]\x00?"]),
        Reply::Array(vec![bin(other)])
    );
    assert_eq!(
        run(&[b"SCAN", b"0", b"MATCH", b"\xff\xfe", b"COUNT", b"100"]),
        Reply::Array(vec![bulk("0"), Reply::Array(vec![bin(k)])])
    );
    assert_eq!(run(&[b"EXPIRE", k, b"10"]), int(1));
    assert_eq!(run(&[b"TTL", k]), int(10));
    assert_eq!(run(&[b"RENAME", k, b"\xc3"]), ok());
    assert_eq!(run(&[b"APPEND", b"\xc3", b"!"]), int(2));
    assert_eq!(run(&[b"GETDEL", b"\xc3"]), bulk("v!"));
    assert_eq!(run(&[b"INCR", b"\xfe"]), int(1));
    assert_eq!(run(&[b"DEL", other, b"\xfe"]), int(2));
    assert_eq!(run(&[b"EXISTS", k, other]), int(0));
    // Namespace names stay text: INFO and CLIENT LIST show them.
    assert_eq!(
        run(&[b"SELECT", b"\xff"]),
        err("ERR namespace names must be valid UTF-8")
    );
    assert_eq!(t.store.keys(Ns::DEFAULT, "*"), vec!["text".to_string()]);
}

#[test]
fn keyspace_and_namespaces() {
    let mut t = T::new();
    t.check("MSET user:1 a user:2 b order:1 c", ok());
    let Reply::Array(mut keys) = t.run("KEYS user:*") else {
        panic!("not an array")
    };
    keys.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(keys, vec![bulk("user:1"), bulk("user:2")]);
    t.check("EXISTS user:1 user:2 nope user:1", int(3));
    t.check("TYPE user:1", Reply::Simple("string".into()));
    t.check("TYPE nope", Reply::Simple("none".into()));
    t.check("DEL user:1 nope", int(1));
    t.check("RENAME order:1 order:2", ok());
    t.check("GET order:2", bulk("c"));
    t.check("RENAME nope x", err("ERR no such key"));
    t.check("DBSIZE", int(2));
    t.check("SELECT 1", ok());
    assert_eq!(t.session.ns_name, "1");
    t.check("DBSIZE", int(0));
    t.check("GET order:2", Reply::Nil);
    t.check("SET only-here 1", ok());
    t.check("SELECT default", ok());
    t.check("FLUSHDB", ok());
    t.check("DBSIZE", int(0));
    t.check("SELECT 1", ok());
    t.check("DBSIZE", int(1));
    t.check("FLUSHALL", ok());
    t.check("DBSIZE", int(0));
}

#[test]
fn scan_visits_every_key_once() {
    let mut t = T::new();
    for i in 0..500 {
        t.run(&format!("SET k:{i} v"));
    }
    t.run("SET other x");
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let Reply::Array(parts) = t.run(&format!("SCAN {cursor} MATCH k:* COUNT 37")) else {
            panic!("bad scan reply")
        };
        let (Reply::Bulk(c), Reply::Array(keys)) = (&parts[0], &parts[1]) else {
            panic!()
        };
        seen.extend(keys.iter().cloned());
        cursor = String::from_utf8(c.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    seen.sort_by_key(|r| format!("{r:?}"));
    seen.dedup();
    assert_eq!(seen.len(), 500);
    t.check("SCAN abc", err("ERR invalid cursor"));
    t.check("SCAN 0 COUNT 0", err("ERR syntax error"));
}

#[test]
fn errors_and_unknown_commands() {
    let mut t = T::new();
    t.check(
        "FOO bar",
        err("ERR unknown command 'FOO', with args beginning with: 'bar' "),
    );
    t.check(
        "GET",
        err("ERR wrong number of arguments for 'get' command"),
    );
    t.check("PING", Reply::Simple("PONG".into()));
    t.check("PING hi", bulk("hi"));
    t.check("ECHO hey", bulk("hey"));
    t.check("FLUSHDB now", err("ERR syntax error"));
    let empty: [&[u8]; 0] = [];
    assert_eq!(
        execute(&t.store, &mut t.session, &empty),
        err("ERR empty command")
    );
    let bad_name: [&[u8]; 2] = [b"SELECT", b"\xff\xfe"];
    assert!(execute(&t.store, &mut t.session, &bad_name).is_error());
}

#[test]
fn object_reports_access_tracking() {
    let mut t = T::new();
    t.check("SET k v", ok());
    t.check("SET n 12", ok());
    t.check("INCR n", int(13));
    t.clock.advance(3_500);
    t.check("OBJECT IDLETIME k", int(3));
    t.check("OBJECT FREQ k", int(5));
    t.check("OBJECT ENCODING n", bulk("int"));
    t.check("OBJECT ENCODING k", bulk("raw"));
    t.check("OBJECT FREQ missing", Reply::Nil);
    t.check("GET k", bulk("v"));
    t.check("OBJECT IDLETIME k", int(0));
    t.check(
        "OBJECT BOGUS k",
        err("ERR unknown subcommand 'BOGUS'. Try OBJECT HELP."),
    );
    t.check(
        "OBJECT FREQ",
        err("ERR wrong number of arguments for 'object|freq' command"),
    );
}

#[test]
fn cli_rendering() {
    assert_eq!(Reply::Int(3).to_cli_string(), "(integer) 3");
    assert_eq!(bulk("a\"b").to_cli_string(), "\"a\\\"b\"");
    assert_eq!(Reply::Nil.to_cli_string(), "(nil)");
    assert_eq!(Reply::Array(vec![]).to_cli_string(), "(empty array)");
    assert_eq!(
        Reply::Array(vec![bulk("a"), Reply::Array(vec![int(1), int(2)])]).to_cli_string(),
        "1) \"a\"\n2) 1) (integer) 1\n   2) (integer) 2"
    );
}
