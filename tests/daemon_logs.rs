//! The real `tinykv serve` with `--log-format json`: every stderr line is one JSON object, and
//! the startup, connection, protocol-error and shutdown events carry their fields. Also the
//! issue-5 flags (`--max-memory 64mb`, `--eviction-policy`) as the daemon reports them.
#![cfg(unix)] // Unix only: Unix sockets and SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_tinykv");

/// Sends one command and reads one line of reply (enough for simple replies).
fn ask(s: &mut UnixStream, cmd: &[u8]) -> String {
    s.write_all(cmd).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line
}

fn http_status(addr: &str, path: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Everything `child` wrote to its (piped) stderr, once it has exited.
fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// The events whose `message` is `msg`.
fn events<'a>(all: &'a [Value], msg: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["message"] == msg).collect()
}

#[test]
fn json_logs_are_one_object_per_line_with_the_expected_events() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("t.sock");
    let mut child = Command::new(BIN)
        .args(["serve", "--socket"])
        .arg(&sock)
        .args(["--metrics-addr", "127.0.0.1:0", "--log-format", "json"])
        .args(["--max-memory", "64mb", "--eviction-policy", "allkeys-lfu"])
        // Redis's name for debug, where the per-connection events are.
        .args(["--log-level", "verbose"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Stdout is JSON too: the announcements are log lines with the address in a field.
    let mut announced = Vec::new();
    let metrics = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited early");
        let e: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line not JSON ({e}): {line:?}"));
        announced.push(e.clone());
        if e["message"] == "tinykv metrics" {
            let url = e["url"].as_str().unwrap_or_default();
            let addr = url
                .strip_prefix("http://")
                .and_then(|a| a.strip_suffix("/metrics"));
            break addr.unwrap_or_else(|| panic!("{e}")).to_string();
        }
    };
    let listening = events(&announced, "tinykv listening");
    assert_eq!(listening.len(), 1, "{announced:?}");
    assert_eq!(
        listening[0]["listener"],
        format!("unix:{}", sock.display()).as_str()
    );
    assert_eq!(listening[0]["level"], "INFO");
    // The HTTP port is announced before `run` starts accepting; /readyz says 503 until then, so
    // poll it as a supervisor would.
    while http_status(&metrics, "/readyz") != 200 {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(http_status(&metrics, "/healthz"), 200);

    let mut c = UnixStream::connect(&sock).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert_eq!(ask(&mut c, b"PING\r\n"), "+PONG\r\n");
    let policy = ask(&mut c, b"CONFIG GET maxmemory-policy\r\n");
    assert_eq!(policy, "*2\r\n");
    drop(c);
    // A malformed frame: one error reply, then the server closes the connection.
    let mut bad = UnixStream::connect(&sock).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let reply = ask(&mut bad, b"*1\r\n$x\r\n");
    assert!(reply.starts_with("-ERR Protocol error"), "{reply}");
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest);

    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let err = stderr_of(&mut child);

    let logs: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    for e in &logs {
        assert!(e["timestamp"].is_string() && e["level"].is_string(), "{e}");
    }
    let ready = events(&logs, "tinykv ready");
    assert_eq!(ready.len(), 1, "{err}");
    assert_eq!(ready[0]["maxmemory"], 64 << 20);
    assert_eq!(ready[0]["maxmemory_policy"], "allkeys-lfu");
    assert_eq!(ready[0]["max_clients"], 10_000);
    let listeners: Vec<&str> = ready[0]["listeners"]
        .as_array()
        .unwrap_or_else(|| panic!("listeners is not a JSON array: {}", ready[0]))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        listeners,
        [
            format!("unix:{}", sock.display()),
            format!("http:{metrics}")
        ]
    );

    let opened = events(&logs, "connection opened");
    let closed = events(&logs, "connection closed");
    assert_eq!((opened.len(), closed.len()), (2, 2), "{err}");
    assert_eq!(opened[0]["connected_clients"], 1);
    assert!(closed.iter().all(|e| e["connected_clients"].is_u64()));
    assert!(
        closed.iter().any(|e| e["reason"] == "client closed"),
        "{err}"
    );
    assert!(
        closed.iter().any(|e| e["reason"] == "protocol error"),
        "{err}"
    );
    let proto = events(&logs, "protocol error; closing connection");
    assert_eq!(proto.len(), 1, "{err}");
    assert_eq!(proto[0]["level"], "WARN");

    let phases: Vec<&str> = events(&logs, "shutdown")
        .iter()
        .filter_map(|e| e["phase"].as_str())
        .collect();
    assert_eq!(
        phases,
        [
            "requested",
            "listeners_closed",
            "connections_drained",
            "complete"
        ],
        "{err}"
    );
    assert_eq!(events(&logs, "shut down cleanly").len(), 1, "{err}");
}

#[test]
fn bad_flags_are_refused() {
    for (flags, needle) in [
        (
            &["--eviction-policy", "random"][..],
            "unknown eviction policy",
        ),
        (&["--max-memory", "lots"][..], "lots"),
        (&["--log-format", "xml"][..], "unknown log format"),
        (&["--metrics-addr", "nowhere"][..], "invalid"),
        // tracing would read these as target names and log nothing at all.
        (&["--log-level", "warnin"][..], "unknown log level 'warnin'"),
        (
            &["--log-level", "tinykv=loud"][..],
            "unknown log level 'loud'",
        ),
        (&["--log-level", "tinykv"][..], "notice, warning"),
    ] {
        let out = Command::new(BIN).arg("serve").args(flags).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
}

#[test]
fn non_loopback_listeners_need_their_opt_in() {
    // Refused before anything listens: exit 1, the reason and the remedy on stderr.
    for (flags, needle) in [
        (
            &["--port", "0", "--bind", "0.0.0.0"][..],
            "without --requirepass",
        ),
        (
            &["--metrics-addr", "0.0.0.0:0"][..],
            "pass --metrics-public",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("t.sock");
        let mut child = Command::new(BIN)
            .args(["serve", "--socket"])
            .arg(&sock)
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A daemon that starts instead of refusing is stopped and reported, not waited on.
        let mut status = None;
        for _ in 0..1000 {
            status = child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{flags:?}: serve started instead of refusing");
        }
        let err = stderr_of(&mut child);
        assert_eq!(status.and_then(|s| s.code()), Some(1), "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
        assert!(!sock.exists(), "{flags:?}: nothing may listen");
    }
    // With --metrics-public the endpoint serves on every interface (read here over loopback).
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("t.sock");
    let mut child = Command::new(BIN)
        .args(["serve", "--socket"])
        .arg(&sock)
        .args(["--metrics-addr", "0.0.0.0:0", "--metrics-public"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let port = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited early");
        if let Some(a) = line
            .trim()
            .strip_prefix("tinykv metrics on http://0.0.0.0:")
        {
            break a.strip_suffix("/metrics").unwrap().to_string();
        }
    };
    let local = format!("127.0.0.1:{port}");
    while http_status(&local, "/readyz") != 200 {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(http_status(&local, "/healthz"), 200);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn eviction_pressure_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("t.sock");
    let mut child = Command::new(BIN)
        .args(["serve", "--socket"])
        .arg(&sock)
        .args(["--log-format", "json", "--max-entries", "5"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    assert!(out.read_line(&mut line).unwrap() > 0, "serve exited early");
    let mut c = UnixStream::connect(&sock).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    for i in 0..20 {
        assert_eq!(ask(&mut c, format!("SET k{i} v\r\n").as_bytes()), "+OK\r\n");
    }
    // The sampler runs once a second; read log lines until its warning arrives.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let warning = loop {
        let mut l = String::new();
        assert!(err.read_line(&mut l).unwrap() > 0, "no eviction warning");
        let e: Value = serde_json::from_str(&l).unwrap();
        if e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("eviction pressure"))
        {
            break e;
        }
    };
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["evicted_keys"], 15);
    assert_eq!(warning["max_entries"], 5);
    assert_eq!(warning["keys"], 5);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Starts `tinykv serve --log-format json ARGS` on a socket in `dir`; returns the child (stdout
/// and stderr piped) once it announced its socket.
fn json_daemon(dir: &std::path::Path, args: &[&str]) -> (Child, std::path::PathBuf) {
    let sock = dir.join("t.sock");
    let mut child = Command::new(BIN)
        .args(["serve", "--log-format", "json", "--socket"])
        .arg(&sock)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("TINYKV_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    assert!(out.read_line(&mut line).unwrap() > 0, "serve exited early");
    (child, sock)
}

/// SIGTERMs `child`, waits, and parses its stderr as JSON lines.
fn stop_and_read_logs(mut child: Child) -> Vec<Value> {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    stderr_of(&mut child)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

#[test]
fn connections_log_at_debug_so_short_clients_add_no_lines_at_info() {
    let dir = tempfile::tempdir().unwrap();
    // `notice` is Redis's default level, tracing's info.
    let (child, sock) = json_daemon(dir.path(), &["--log-level", "notice"]);
    for _ in 0..5 {
        let out = Command::new(BIN)
            .arg("-s")
            .arg(&sock)
            .arg("PING")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "PONG");
    }
    let logs = stop_and_read_logs(child);
    assert_eq!(events(&logs, "tinykv ready").len(), 1, "{logs:?}");
    assert!(events(&logs, "connection opened").is_empty(), "{logs:?}");
    assert!(events(&logs, "connection closed").is_empty(), "{logs:?}");
}

#[test]
fn redis_warning_level_keeps_warnings_and_drops_info() {
    let dir = tempfile::tempdir().unwrap();
    let (child, sock) = json_daemon(dir.path(), &["--log-level", "warning"]);
    let mut bad = UnixStream::connect(&sock).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let reply = ask(&mut bad, b"*1\r\n$x\r\n");
    assert!(reply.starts_with("-ERR Protocol error"), "{reply}");
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest);
    let logs = stop_and_read_logs(child);
    let proto = events(&logs, "protocol error; closing connection");
    assert_eq!(proto.len(), 1, "{logs:?}");
    assert!(logs.iter().all(|e| e["level"] != "INFO"), "{logs:?}");
}
