//! Real Redis tools against the daemon: redis-cli over the socket and TCP, redis-benchmark with
//! zero errors. Needs Debian's `redis-tools` (CI installs it); fails loudly without it.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use std::process::Command;

use daemon_support::*;
use tinykv::server::ServerConfig;

fn tool(name: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}); install redis-tools"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn redis_cli_over_socket_and_tcp() {
    let srv = TestServer::start();
    let sock = srv.sock.to_str().unwrap().to_string();
    let port = srv.tcp.port().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["SET", "greeting", "hello world"], "OK\n"),
        (&["GET", "greeting"], "hello world\n"),
        (&["INCR", "hits"], "1\n"),
        (&["MGET", "greeting", "nope"], "hello world\n\n"),
        (&["DBSIZE"], "2\n"),
        (&["EXISTS", "hits"], "1\n"),
        (&["PING"], "PONG\n"),
    ];
    for conn in [vec!["-s", sock.as_str()], vec!["-p", port.as_str()]] {
        let mut flush = conn.clone();
        flush.push("FLUSHALL");
        assert_eq!(tool("redis-cli", &flush).1, "OK\n");
        for (args, want) in cases {
            let mut full = conn.clone();
            full.extend_from_slice(args);
            let (ok, out, err) = tool("redis-cli", &full);
            assert!(ok, "{full:?}: {err}");
            assert_eq!(out, *want, "{full:?}");
        }
    }
    // Human (tty-style) formatting and error replies.
    let (_, out, _) = tool("redis-cli", &["-s", &sock, "--no-raw", "INCR", "greeting"]);
    assert_eq!(out, "(error) ERR value is not an integer or out of range\n");
    let (_, out, _) = tool("redis-cli", &["-p", &port, "--no-raw", "GET", "nope"]);
    assert_eq!(out, "(nil)\n");
    // RESP3 via -3 (HELLO 3).
    let (ok, out, err) = tool("redis-cli", &["-3", "-s", &sock, "--no-raw", "GET", "nope"]);
    assert!(ok, "{err}");
    assert_eq!(out, "(nil)\n");
    // INFO as redis-cli prints it.
    let (_, out, _) = tool("redis-cli", &["-s", &sock, "INFO", "keyspace"]);
    assert!(out.contains("default:keys=2"), "{out}");
}

#[test]
fn redis_cli_with_password() {
    let cfg = ServerConfig {
        requirepass: Some("pw".into()),
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let sock = srv.sock.to_str().unwrap().to_string();
    let (_, out, _) = tool("redis-cli", &["-s", &sock, "GET", "x"]);
    assert!(out.contains("NOAUTH"), "{out}");
    let (ok, out, _) = tool(
        "redis-cli",
        &[
            "-s",
            &sock,
            "--no-auth-warning",
            "-a",
            "pw",
            "SET",
            "x",
            "1",
        ],
    );
    assert!(ok);
    assert_eq!(out, "OK\n");
}

#[test]
fn redis_benchmark_runs_with_zero_errors() {
    let srv = TestServer::start();
    let sock = srv.sock.to_str().unwrap().to_string();
    let (ok, out, err) = tool(
        "redis-benchmark",
        &[
            "-s",
            &sock,
            "-t",
            "set,get,incr,mset",
            "-n",
            "100000",
            "-c",
            "50",
            "-P",
            "4",
            "--csv",
        ],
    );
    assert!(ok, "{err}");
    assert!(!err.to_lowercase().contains("error"), "{err}");
    let tests: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(
        tests,
        ["\"SET\"", "\"GET\"", "\"INCR\"", "\"MSET (10 keys)\""],
        "{out}"
    );
    for line in out.lines().skip(1) {
        let rps: f64 = line.split("\",\"").nth(1).unwrap().parse().unwrap();
        assert!(rps > 0.0, "{line}");
    }
    // The server counted every request and still answers.
    let mut c = srv.client();
    let info = c.cmd(&["INFO", "stats"]);
    let total: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 400_000, "{total}");
    assert_eq!(
        c.cmd(&["GET", "counter:__rand_int__"]).chars().next(),
        Some('$')
    );
}
