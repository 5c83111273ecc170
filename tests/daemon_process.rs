//! The real `tinykv` binary: `serve` startup, socket file mode, stale and live sockets, signals,
//! exit codes, and the one-shot client.
#![cfg(unix)] // Unix only: Unix sockets, their modes and Unix signals.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_tinykv");

/// A `tinykv serve` child process, killed if a test fails before stopping it.
struct Daemon {
    child: Child,
    sock: PathBuf,
    tcp: Option<String>,
    stderr: BufReader<std::process::ChildStderr>,
}

impl Daemon {
    fn start(sock: &Path, extra: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--socket")
            .arg(sock)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut tcp = None;
        let want_tcp = extra.contains(&"--port");
        let mut seen_unix = false;
        while !(seen_unix && (!want_tcp || tcp.is_some())) {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "serve exited before listening"
            );
            if let Some(a) = line.trim().strip_prefix("tinykv listening on tcp:") {
                tcp = Some(a.to_string());
            }
            if line.starts_with("tinykv listening on unix:") {
                assert_eq!(
                    line.trim(),
                    format!("tinykv listening on unix:{}", sock.display())
                );
                seen_unix = true;
            }
        }
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Daemon {
            child,
            sock: sock.to_path_buf(),
            tcp,
            stderr,
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Reads stderr until a line containing `needle` (the daemon logs there).
    fn wait_log(&mut self, needle: &str) {
        loop {
            let mut line = String::new();
            assert!(
                self.stderr.read_line(&mut line).unwrap() > 0,
                "no log line with {needle:?}"
            );
            if line.contains(needle) {
                return;
            }
        }
    }

    fn wait(&mut self) -> i32 {
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tinykv ARGS`; a client command gets `--no-raw`, so its reply is formatted as on a
/// terminal (into a pipe the default is redis-cli's raw output).
fn tinykv(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    if args.first() != Some(&"serve") {
        cmd.arg("--no-raw");
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_socket_is_0600_and_a_second_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let mut d = Daemon::start(&sock, &["--port", "0"]);
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let s = sock.to_str().unwrap();
    // The one-shot client, over the socket and over TCP.
    assert_eq!(
        tinykv(&["-s", s, "SET", "k", "v"]),
        (0, "OK\n".into(), String::new())
    );
    assert_eq!(tinykv(&["-s", s, "GET", "k"]).1, "\"v\"\n");
    let port = d
        .tcp
        .clone()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(tinykv(&["-p", &port, "INCR", "n"]).1, "(integer) 1\n");
    assert_eq!(
        tinykv(&["-u", &format!("redis://127.0.0.1:{port}"), "INCR", "n"]).1,
        "(integer) 2\n"
    );
    let (code, out, _) = tinykv(&["-s", s, "INCR", "k"]);
    assert_eq!(
        (code, out.as_str()),
        (1, "(error) ERR value is not an integer or out of range\n")
    );
    // A live socket is never taken.
    let (code, _, err) = tinykv(&["serve", "--socket", s]);
    assert_eq!(code, 1);
    assert!(err.contains("already listening"), "{err}");
    assert_eq!(tinykv(&["-s", s, "GET", "k"]).1, "\"v\"\n");
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait(), 0);
    assert!(!sock.exists(), "socket removed on shutdown");
    // Connection failures exit non-zero and name the address.
    let (code, _, err) = tinykv(&["-s", s, "PING"]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("unix:{s}")), "{err}");
}

#[test]
fn stale_socket_is_replaced_and_socket_perm_applies() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let mut d = Daemon::start(&sock, &["--socket-perm", "660"]);
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let mut c = UnixStream::connect(&sock).unwrap();
    c.write_all(b"PING\r\n").unwrap();
    let (code, out, _) = tinykv(&["-s", sock.to_str().unwrap(), "SHUTDOWN"]);
    assert_eq!((code, out.as_str()), (0, "OK\n"));
    assert_eq!(d.wait(), 0);
    assert!(!d.sock.exists());
}

#[test]
fn both_runtimes_serve_and_shut_down_cleanly() {
    // --threads 1 is the current-thread runtime (the default on <= 2 cores), 2 the multi-thread
    // one; busy polling on (the default) and off.
    for extra in [
        &["--threads", "1"][..],
        &["--threads", "2"],
        &["--threads", "1", "--busy-poll-us", "0"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("kv.sock");
        let s = sock.to_str().unwrap();
        let mut d = Daemon::start(&sock, extra);
        assert_eq!(tinykv(&["-s", s, "SET", "k", "v"]).1, "OK\n", "{extra:?}");
        assert_eq!(tinykv(&["-s", s, "INCR", "n"]).1, "(integer) 1\n");
        assert_eq!(tinykv(&["-s", s, "GET", "k"]).1, "\"v\"\n");
        d.signal(libc::SIGTERM);
        assert_eq!(d.wait(), 0, "{extra:?}");
        assert!(!sock.exists());
    }
    let (code, _, err) = tinykv(&["serve", "--busy-poll-us", "2000000"]);
    assert_eq!(code, 2);
    assert!(err.contains("busy-poll-us"), "{err}");
}

#[test]
fn non_loopback_bind_requires_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("kv.sock");
    let (code, _, err) = tinykv(&[
        "serve",
        "--socket",
        s.to_str().unwrap(),
        "--port",
        "0",
        "--bind",
        "0.0.0.0",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("without --requirepass"), "{err}");
}

#[test]
fn second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let mut d = Daemon::start(&sock, &["--max-output-buffer", "64kb"]);
    // A client that never reads keeps the graceful flush waiting.
    let mut c = UnixStream::connect(&sock).unwrap();
    c.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let value = "x".repeat(60_000);
    c.write_all(format!("SET big {value}\r\n").as_bytes())
        .unwrap();
    let frame = b"GET big\r\n".repeat(200);
    for _ in 0..20 {
        if c.write_all(&frame).is_err() {
            break;
        }
    }
    // Signal only once the daemon is serving those GETs: a signal that came before it accepted
    // or read them would leave nothing to flush, and shutdown would finish before the second.
    let mut serving = false;
    for _ in 0..500 {
        if client_list(&sock).contains("cmd=get") {
            serving = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(serving, "the daemon never served the GETs");
    d.signal(libc::SIGINT);
    d.wait_log("signal received");
    d.signal(libc::SIGINT);
    assert_eq!(d.wait(), 130);
    assert!(!sock.exists());
}

/// CLIENT LIST over a fresh connection to `sock`.
fn client_list(sock: &Path) -> String {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"CLIENT LIST\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut header = String::new();
    r.read_line(&mut header).unwrap();
    let len: usize = header.trim().trim_start_matches('$').parse().unwrap();
    let mut body = vec![0; len + 2];
    std::io::Read::read_exact(&mut r, &mut body).unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

/// Runs `tinykv ARGS` with `input` on stdin; returns (exit code, stdout).
fn tinykv_stdin(args: &[&str], input: &str) -> (i32, String) {
    let out = common::run_with_stdin(BIN, args, input.as_bytes());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn repl_against_the_daemon_matches_the_in_process_repl() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let _d = Daemon::start(&sock, &["--requirepass", "pw"]);
    let s = sock.to_str().unwrap();
    let script = "SET a 1\nGET a\nEXISTS a\nDEL a\nGET a\nINCR n\nINCR a b\nMGET n zz\nSELECT cache\nSET k \"x y\"\nLIST\nSTATS\n";
    let (code, remote) = tinykv_stdin(&["-s", s, "-a", "pw"], script);
    assert_eq!(code, 0);
    let (_, local) = tinykv_stdin(&[], script);
    // The daemon's STATS adds its per-command latencies (`latency.<cmd>.p50` ...), which an
    // in-process store does not have. `bytes` includes the shard tables, and which shards the
    // keys land in depends on each process's random hash seed, so it is checked on its own.
    // Everything else matches line for line.
    let (latency, rest): (Vec<&str>, Vec<&str>) =
        remote.lines().partition(|l| l.starts_with("latency."));
    let without_bytes = |lines: Vec<&str>| -> (String, u64) {
        let (bytes, rest): (Vec<&str>, Vec<&str>) =
            lines.into_iter().partition(|l| l.starts_with("bytes: "));
        let n = bytes.first().and_then(|l| l[7..].parse().ok()).unwrap_or(0);
        (rest.join("\n") + "\n", n)
    };
    let (remote_rest, remote_bytes) = without_bytes(rest);
    let (local_rest, local_bytes) = without_bytes(local.lines().collect());
    assert_eq!(remote_rest, local_rest);
    // Both hold the same two entries (64 + 48 bytes) plus one to three 4-bucket tables.
    for bytes in [remote_bytes, local_bytes] {
        assert!((112 + 52..=112 + 3 * 52).contains(&bytes), "bytes: {bytes}");
    }
    assert!(
        latency.iter().any(|l| l.starts_with("latency.get.p99: ")),
        "{remote}"
    );
    assert!(remote.contains("true\ndeleted\n"), "{remote}");
    // Without the password every command is refused, and one-shot mode exits non-zero.
    let (code, out, _) = tinykv(&["-s", s, "GET", "a"]);
    assert_eq!(
        (code, out.as_str()),
        (1, "(error) NOAUTH Authentication required.\n")
    );
    let (code, _, err) = tinykv(&["-s", s, "-a", "wrong", "GET", "a"]);
    assert_eq!(code, 1);
    assert!(err.contains("WRONGPASS"), "{err}");
    let url = format!("unix://:pw@{s}?db=cache");
    assert_eq!(tinykv(&["-u", &url, "GET", "k"]).1, "\"x y\"\n");
}
