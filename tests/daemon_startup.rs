//! The real `tinykv` binary's startup and stop: passwords for the daemon and the client (flag,
//! file, environment; empty ones refused), `--max-clients` bounds, the open-file limit, a socket
//! directory someone else has locked, and SIGINT/SIGTERM (graceful, and a forced second signal
//! that leaves a newer daemon's socket alone).
#![cfg(unix)] // Unix only: Unix sockets, flock, signals and RLIMIT_NOFILE.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tinykv");

/// Environment variables to set.
type Env<'a> = &'a [(&'a str, &'a str)];

/// A `tinykv serve` child, killed on drop.
struct Daemon {
    child: Child,
    sock: PathBuf,
    /// Everything it wrote to stderr so far (a thread drains the pipe).
    log: Arc<Mutex<String>>,
}

impl Daemon {
    /// Polls stderr until it holds `needle`; fails after 15 s.
    fn wait_log(&self, needle: &str) {
        let end = Instant::now() + Duration::from_secs(15);
        while !self.log.lock().unwrap().contains(needle) {
            assert!(Instant::now() < end, "no log line with {needle:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Waits (at most 15 s) for the exit code.
    fn wait(&mut self) -> Option<i32> {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            assert!(Instant::now() < end, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tinykv serve --socket SOCK ARGS...` with `env` set (and `TINYKV_PASSWORD` removed unless
/// `env` sets it).
fn command(sock: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("serve").arg("--socket").arg(sock).args(args);
    c.env_remove("TINYKV_PASSWORD");
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Starts the daemon and waits for its `listening on unix:` line; `None` if it exited first.
fn start(sock: &Path, args: &[&str], env: &[(&str, &str)]) -> Option<Daemon> {
    spawned(command(sock, args, env), sock)
}

/// [`start`] with a prepared command.
fn spawned(mut cmd: Command, sock: &Path) -> Option<Daemon> {
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut err = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = err.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut d = Daemon {
        child,
        sock: sock.to_path_buf(),
        log,
    };
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = d.child.wait();
            return None;
        }
        if line.starts_with("tinykv listening on unix:") {
            // Keep draining stdout so the daemon never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return Some(d);
        }
    }
}

/// Runs `tinykv serve ...` that is expected to refuse to start: its exit code and stderr.
/// A daemon that starts anyway is killed after 10 s and reported as code `None`.
fn refused(sock: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = command(sock, args, env).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status, err)
}

/// Sends one inline command on a fresh connection; the first reply line.
fn ask(conn: &mut UnixStream, line: &str) -> String {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // A refused client may find the connection already closed; its error reply is still there.
    let _ = conn.write_all(format!("{line}\r\n").as_bytes());
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).trim_end().to_string()
}

#[test]
fn empty_or_blank_requirepass_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    for pass in ["", "   ", "\t\n"] {
        let args = ["--port", "0", "--bind", "0.0.0.0", "--requirepass", pass];
        let (code, err) = refused(&sock, &args, &[]);
        assert_eq!(code, Some(2), "{pass:?} must be refused: {err}");
        assert!(err.contains("empty or blank password"), "{err}");
        assert!(!sock.exists());
    }
}

#[test]
fn requirepass_file_and_env_set_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let file = dir.path().join("pass");
    std::fs::write(&file, "s3cret\n").unwrap();
    let f = file.to_str().unwrap();
    let by_file: &[&str] = &["--requirepass-file", f];
    let runs: [(&[&str], Env); 3] = [
        (by_file, &[]),
        (&[], &[("TINYKV_PASSWORD", "s3cret")]),
        // A flag beats the environment.
        (by_file, &[("TINYKV_PASSWORD", "other")]),
    ];
    for (args, env) in runs {
        let d = start(&sock, args, env).expect("serve started");
        let mut c = UnixStream::connect(&d.sock).unwrap();
        assert!(
            ask(&mut c, "PING").starts_with("-NOAUTH"),
            "{args:?} {env:?}"
        );
        assert!(ask(&mut c, "AUTH \"s3cret\\n\"").starts_with("-WRONGPASS"));
        assert_eq!(ask(&mut c, "AUTH s3cret"), "+OK", "{args:?} {env:?}");
        assert_eq!(ask(&mut c, "PING"), "+PONG");
    }
}

#[test]
fn empty_password_file_or_env_and_conflicting_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let e = empty.to_str().unwrap();
    let (code, err) = refused(&sock, &["--requirepass-file", e], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("empty or blank password") && err.contains(e),
        "{err}"
    );

    let (code, err) = refused(&sock, &[], &[("TINYKV_PASSWORD", "")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("TINYKV_PASSWORD"), "{err}");

    let missing = dir.path().join("missing");
    let (code, err) = refused(
        &sock,
        &["--requirepass-file", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot read password file"), "{err}");

    let both = ["--requirepass", "a", "--requirepass-file", e];
    let (code, err) = refused(&sock, &both, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn max_clients_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let (code, err) = refused(&sock, &["--max-clients", "0"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--max-clients"), "{err}");
}

/// CLIENT LIST over a fresh connection.
fn client_list(sock: &Path) -> String {
    let mut c = UnixStream::connect(sock).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"CLIENT LIST\r\n").unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = c.read(&mut buf) {
        all.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&all);
        if let Some((head, body)) = text.split_once("\r\n") {
            let len: usize = head.trim_start_matches('$').parse().unwrap_or(0);
            if body.len() >= len {
                return body.to_string();
            }
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn second_signal_leaves_a_newer_daemons_socket_alone() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let mut old = start(&sock, &["--max-output-buffer", "64kb"], &[]).expect("first serve");
    // A client that never reads keeps the old daemon's graceful shutdown waiting on its flush.
    let mut stuck = UnixStream::connect(&sock).unwrap();
    stuck
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let value = "x".repeat(60_000);
    stuck
        .write_all(format!("SET big {value}\r\n").as_bytes())
        .unwrap();
    let frame = b"GET big\r\n".repeat(200);
    for _ in 0..20 {
        if stuck.write_all(&frame).is_err() {
            break;
        }
    }
    let end = Instant::now() + Duration::from_secs(15);
    while !client_list(&sock).contains("cmd=get") {
        assert!(Instant::now() < end, "the daemon never served the GETs");
        std::thread::sleep(Duration::from_millis(10));
    }
    old.signal(libc::SIGINT);
    old.wait_log("signal received");
    // The old daemon closed its listener and removed its socket; a new one takes the path.
    let end = Instant::now() + Duration::from_secs(15);
    while sock.exists() {
        assert!(Instant::now() < end, "the old socket was not removed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let new = start(&sock, &[], &[]).expect("second serve");
    old.signal(libc::SIGINT);
    assert_eq!(old.wait(), Some(130));
    assert!(
        sock.exists(),
        "the forced exit removed the newer daemon's socket"
    );
    let mut c = UnixStream::connect(&new.sock).unwrap();
    assert_eq!(ask(&mut c, "PING"), "+PONG");
}

#[test]
fn fd_limit_below_max_clients_lowers_it_and_refuses_extra_clients() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let mut cmd = command(&sock, &["--max-clients", "100"], &[]);
    // SAFETY: setrlimit is async-signal-safe; the child gets a soft and hard limit of 64.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let d = spawned(cmd, &sock).expect("serve started");
    let mut held = Vec::new();
    let (mut served, mut refused) = (0, 0);
    for _ in 0..80 {
        let mut c = UnixStream::connect(&sock).unwrap();
        // A client past the fd limit used to get no reply at all: the read timed out.
        match ask(&mut c, "PING").as_str() {
            "+PONG" => served += 1,
            "-ERR max number of clients reached" => refused += 1,
            other => panic!("client {} got {other:?}", served + refused),
        }
        held.push(c);
    }
    assert_eq!((served, refused), (32, 48));
    d.wait_log("too low for --max-clients; serving at most 32 clients");
}

#[test]
fn a_locked_socket_directory_fails_startup_naming_it() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    // Another user's `flock` on a shared directory such as /tmp, held for good.
    let held = std::fs::File::open(dir.path()).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let (code, err) = refused(&sock, &[], &[]);
    assert_eq!(code, Some(1), "startup must fail, not hang: {err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(err.contains("lock"), "{err}");
    drop(held);
    assert!(
        start(&sock, &[], &[]).is_some(),
        "starts once the lock is gone"
    );
}

/// `tinykv -s SOCK ARGS...` with `env` (and both password variables removed unless set there):
/// exit code and stdout.
fn client(sock: &Path, args: &[&str], env: Env) -> (Option<i32>, String) {
    let mut c = Command::new(BIN);
    c.arg("-s").arg(sock).args(args);
    c.env_remove("TINYKV_PASSWORD").env_remove("REDISCLI_AUTH");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn client_reads_its_password_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    let _d = start(&sock, &[], &[("TINYKV_PASSWORD", "s3cret")]).expect("serve started");
    let file = dir.path().join("pass");
    std::fs::write(&file, "s3cret\n").unwrap();
    let f = file.to_str().unwrap();
    let ok = (Some(0), "PONG".to_string());
    assert_eq!(
        client(&sock, &["PING"], &[("TINYKV_PASSWORD", "s3cret")]),
        ok
    );
    assert_eq!(client(&sock, &["PING"], &[("REDISCLI_AUTH", "s3cret")]), ok);
    assert_eq!(client(&sock, &["--pass-file", f, "PING"], &[]), ok);
    // -a beats the environment.
    let (code, out) = client(&sock, &["-a", "s3cret", "PING"], &[("REDISCLI_AUTH", "x")]);
    assert_eq!((code, out.as_str()), (Some(0), "PONG"));
    let (code, out) = client(&sock, &["PING"], &[]);
    assert_eq!(code, Some(1));
    assert!(out.contains("NOAUTH"), "{out}");
}

#[test]
fn sigint_and_sigterm_stop_the_binary_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("kv.sock");
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let mut d = start(&sock, &[], &[]).expect("serve started");
        let mut c = UnixStream::connect(&sock).unwrap();
        assert_eq!(ask(&mut c, "PING"), "+PONG");
        drop(c);
        d.signal(sig);
        assert_eq!(d.wait(), Some(0), "signal {sig}");
        assert!(!sock.exists(), "socket removed after signal {sig}");
        d.wait_log("shut down cleanly");
    }
}
