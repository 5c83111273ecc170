//! The command table (`command::table`) is the one list of commands: every row dispatches
//! (`execute`, the daemon or the REPL answers a well-formed call with something other than
//! "unknown command"), `COMMAND COUNT`/`LIST` show exactly the rows the daemon answers, their
//! latencies get their own series, `HELP` lists the table, and the README's command table
//! lists what `HELP` lists.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use std::collections::BTreeSet;
use std::time::Instant;

use daemon_support::*;
use tinykv::cli::repl::{Local, Repl};
use tinykv::command::table::{Flags, Group, ANSWERED, COMMANDS};
use tinykv::command::{execute, Reply, Session};
use tinykv::server::{PersistOptions, ServerConfig};
use tinykv::store::{Config, Store};

/// A well-formed call of every row, run after `SET k v` and `SET n 1`. A new row needs a line
/// here (`every_row_has_an_example` says so).
const EXAMPLES: &[(&str, &str)] = &[
    ("get", "GET k"),
    ("set", "SET k v"),
    ("setnx", "SETNX fresh v"),
    ("setex", "SETEX k 10 v"),
    ("psetex", "PSETEX k 10000 v"),
    ("getset", "GETSET k w"),
    ("getdel", "GETDEL k"),
    ("getex", "GETEX k EX 10"),
    ("mget", "MGET k n"),
    ("mset", "MSET k v n 2"),
    ("msetnx", "MSETNX fresh1 v fresh2 v"),
    ("append", "APPEND k more"),
    ("strlen", "STRLEN k"),
    ("incr", "INCR n"),
    ("decr", "DECR n"),
    ("incrby", "INCRBY n 5"),
    ("decrby", "DECRBY n 5"),
    ("del", "DEL k"),
    ("unlink", "UNLINK k n"),
    ("exists", "EXISTS k"),
    ("type", "TYPE k"),
    ("keys", "KEYS *"),
    ("scan", "SCAN 0 MATCH * COUNT 10"),
    ("scanentries", "SCANENTRIES 0 MATCH * COUNT 10"),
    ("rename", "RENAME k k2"),
    ("renamenx", "RENAMENX k k3"),
    ("expire", "EXPIRE k 100"),
    ("pexpire", "PEXPIRE k 100000"),
    ("expireat", "EXPIREAT k 4000000000"),
    ("pexpireat", "PEXPIREAT k 4000000000000"),
    ("ttl", "TTL k"),
    ("pttl", "PTTL k"),
    ("persist", "PERSIST k"),
    ("expiretime", "EXPIRETIME k"),
    ("pexpiretime", "PEXPIRETIME k"),
    ("object", "OBJECT ENCODING k"),
    ("ping", "PING"),
    ("echo", "ECHO hi"),
    ("select", "SELECT 0"),
    ("dbsize", "DBSIZE"),
    ("flushdb", "FLUSHDB"),
    ("flushall", "FLUSHALL"),
    ("stats", "STATS"),
    ("namespaces", "NAMESPACES"),
    ("auth", "AUTH pw"),
    ("hello", "HELLO 2"),
    ("client", "CLIENT ID"),
    ("info", "INFO server"),
    ("config", "CONFIG GET maxmemory"),
    ("command", "COMMAND COUNT"),
    ("quit", "QUIT"),
    ("shutdown", "SHUTDOWN"),
    ("save", "SAVE"),
    ("bgsave", "BGSAVE"),
    ("lastsave", "LASTSAVE"),
    ("list", "LIST"),
    ("use", "USE other"),
    ("flush", "FLUSH"),
    ("help", "HELP"),
    ("exit", "EXIT"),
];

fn example(name: &str) -> Vec<&'static str> {
    let (_, line) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no example for {name}"));
    line.split_whitespace().collect()
}

fn names(flags: Flags) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|r| r.flags.has(flags))
        .map(|r| r.name)
        .collect()
}

#[test]
fn every_row_has_an_example() {
    let table: Vec<&str> = COMMANDS.iter().map(|r| r.name).collect();
    let examples: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
    assert_eq!(table, examples);
}

#[test]
fn execute_answers_its_rows_and_no_others() {
    for row in COMMANDS {
        let store = Store::new(Config::default()).expect("store");
        let mut session = Session::default();
        execute(&store, &mut session, &["SET", "k", "v"]);
        execute(&store, &mut session, &["SET", "n", "1"]);
        let reply = execute(&store, &mut session, &example(row.name));
        if row.flags.has(Flags::EXEC) {
            assert!(!matches!(reply, Reply::Error(_)), "{}: {reply:?}", row.name);
        } else {
            let Reply::Error(e) = reply else {
                panic!("{}: execute answered {reply:?}", row.name)
            };
            assert!(e.starts_with("ERR unknown command"), "{}: {e}", row.name);
        }
    }
}

#[test]
fn the_repl_answers_its_words() {
    for name in names(Flags::REPL) {
        let mut repl = Repl::new(Local {
            store: Store::new(Config::default()).expect("store"),
            session: Session::default(),
        });
        let out = repl.eval_line(&example(name).join(" "));
        assert!(
            !out.text.contains("unknown command"),
            "{name}: {}",
            out.text
        );
        assert!(!out.text.starts_with("(error)"), "{name}: {}", out.text);
    }
}

/// A daemon with a password (so AUTH is well-formed) and a snapshot file (so SAVE and BGSAVE
/// are), a connection authenticated to it, and the snapshot's temp dir.
fn daemon() -> (TestServer, Raw<std::net::TcpStream>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::with_config(ServerConfig {
        requirepass: Some("pw".into()),
        persist: PersistOptions {
            snapshot: Some(dir.path().join("dump.snap")),
            ..PersistOptions::default()
        },
        ..ServerConfig::default()
    });
    let mut c = srv.client();
    assert_eq!(c.cmd(&["AUTH", "pw"]), "+OK\r\n");
    (srv, c, dir)
}

#[test]
fn the_daemon_answers_every_answered_row() {
    let (srv, mut c, _dir) = daemon();
    for row in &COMMANDS[..ANSWERED] {
        if matches!(row.name, "quit" | "shutdown") {
            continue;
        }
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["SET", "n", "1"]);
        let got = c.cmd(&example(row.name));
        assert!(!got.starts_with('-'), "{}: {got:?}", row.name);
    }
    // REPL words are not the daemon's.
    for name in names(Flags::REPL) {
        let got = c.cmd(&example(name));
        assert!(got.starts_with("-ERR unknown command"), "{name}: {got:?}");
    }
    let mut q = srv.client();
    assert_eq!(q.cmd(&["QUIT"]), "+OK\r\n");
    assert!(q.closed());
    // SHUTDOWN has no reply: the connection closes and the server stops.
    let mut s = srv.client();
    assert_eq!(s.cmd(&["AUTH", "pw"]), "+OK\r\n");
    s.send(&frame(&[b"SHUTDOWN"]));
    assert_eq!(s.read_to_end(), "");
}

#[test]
fn command_count_and_list_are_the_answered_rows() {
    let (_srv, mut c, _dir) = daemon();
    let answered: Vec<&str> = COMMANDS
        .iter()
        .filter(|r| r.flags.answered())
        .map(|r| r.name)
        .collect();
    assert_eq!(answered.len(), ANSWERED);
    assert_eq!(
        c.cmd(&["COMMAND", "COUNT"]),
        format!(":{}\r\n", answered.len())
    );
    let list = c.cmd(&["COMMAND", "LIST"]);
    let mut want = format!("*{}\r\n", answered.len());
    for name in &answered {
        want.push_str(&bulk(name));
    }
    assert_eq!(list, want);
    for name in ["getset", "renamenx", "expiretime", "pexpiretime", "stats"] {
        assert!(answered.contains(&name), "{name}");
    }
}

#[test]
fn each_answered_command_has_its_own_latency_series() {
    let (_srv, mut c, _dir) = daemon();
    c.cmd(&["SET", "k", "v"]);
    for name in ["getset", "renamenx", "expiretime", "pexpiretime"] {
        c.cmd(&example(name));
    }
    c.cmd(&["NOSUCH"]);
    // Samples are merged once per batch: this request's batch follows theirs.
    let info = c.cmd(&["INFO", "latencystats"]);
    for name in [
        "getset",
        "renamenx",
        "expiretime",
        "pexpiretime",
        "set",
        "other",
    ] {
        let key = format!("latency_percentiles_usec_{name}:p50=");
        assert!(info.contains(&key), "{name} missing from {info}");
    }
}

/// The command names in `HELP`'s output: each listing line is two spaces, a name, a summary.
fn help_names() -> Vec<String> {
    tinykv::cli::help::help(None)
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[test]
fn help_lists_the_table() {
    let table: Vec<String> = COMMANDS.iter().map(|r| r.name.to_owned()).collect();
    assert_eq!(help_names(), table);
    let text = tinykv::cli::help::help(None);
    for group in [
        Group::Strings,
        Group::Keys,
        Group::Server,
        Group::Daemon,
        Group::Repl,
    ] {
        assert!(text.contains(group.title()), "{}", group.title());
    }
    for row in COMMANDS {
        let one = tinykv::cli::help::help(Some(row.name.to_ascii_uppercase()));
        assert_eq!(one, format!("{}\n  {}", row.usage, row.summary));
    }
}

/// The command names in README.md's REPL command table: the first word of every code span in
/// a row's first cell (`| `TTL key` / `PTTL key` | ... |` names TTL and PTTL).
fn readme_names() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## The REPL")
        .nth(1)
        .expect("a section \"The REPL\"");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut names = BTreeSet::new();
    let mut in_table = false;
    for line in section.lines() {
        if line.starts_with("| command |") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("| ---") {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let first = line.split(" | ").next().unwrap_or("");
        for (i, span) in first.split('`').enumerate() {
            if i % 2 == 1 {
                if let Some(word) = span.split_whitespace().next() {
                    names.insert(word.to_ascii_lowercase());
                }
            }
        }
    }
    assert!(in_table, "no command table in README's REPL section");
    names
}

#[test]
fn the_readme_lists_what_help_lists() {
    let help: BTreeSet<String> = help_names().into_iter().collect();
    let readme = readme_names();
    let missing: Vec<_> = help.difference(&readme).collect();
    let extra: Vec<_> = readme.difference(&help).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README's REPL command table: missing {missing:?}, not in HELP {extra:?}"
    );
}
/// Not a test of speed (no timed assertion): prints ns per `execute` for GET and SET, for
/// comparing dispatch before and after a change. Run with
/// `cargo test --test command_table -- --ignored --nocapture dispatch_ns`.
#[test]
#[ignore]
fn dispatch_ns_per_execute() {
    let store = Store::new(Config::default()).expect("store");
    let mut session = Session::default();
    let set: [&[u8]; 3] = [b"SET", b"key:1", b"value"];
    let get: [&[u8]; 2] = [b"GET", b"key:1"];
    const N: u32 = 2_000_000;
    for (label, argv) in [("SET", &set[..]), ("GET", &get[..])] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..N {
                std::hint::black_box(execute(&store, &mut session, std::hint::black_box(argv)));
            }
            best = best.min(t.elapsed().as_nanos() as f64 / f64::from(N));
        }
        println!("{label}: {best:.1} ns/execute (best of 5 x {N})");
    }
}
