//! Shared helpers for the daemon integration tests: an in-process server on port 0 and a
//! temp-dir socket (optionally with the HTTP metrics endpoint), a blocking raw-bytes client, and
//! a one-request HTTP GET.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tinykv::server::{bind_tcp, bind_unix, run, Listener, ServerConfig};
use tinykv::store::{Config, Store};

/// A running in-process server.
pub struct TestServer {
    pub tcp: SocketAddr,
    /// The HTTP endpoint's address, when started with [`TestServer::with_http`].
    pub http: Option<SocketAddr>,
    pub sock: PathBuf,
    pub store: Arc<Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::with_config(ServerConfig::default())
    }

    pub fn with_config(config: ServerConfig) -> TestServer {
        let store = Arc::new(Store::new(Config::default()).unwrap());
        Self::with_store(config, store)
    }

    pub fn with_store(config: ServerConfig, store: Arc<Store>) -> TestServer {
        Self::spawn(config, store, false)
    }

    /// A server that also serves `/metrics`, `/healthz` and `/readyz` on a loopback port.
    pub fn with_http(config: ServerConfig, store: Arc<Store>) -> TestServer {
        Self::spawn(config, store, true)
    }

    fn spawn(config: ServerConfig, store: Arc<Store>, with_http: bool) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("tinykv.sock");
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = Arc::clone(&store);
        let sock2 = sock.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let tcp = bind_tcp("127.0.0.1:0".parse().unwrap())?;
                let unix = bind_unix(&sock2, 0o600)?;
                let mut listeners = vec![Listener::Tcp(tcp), Listener::Unix(unix)];
                let mut http = None;
                if with_http {
                    let h = bind_tcp("127.0.0.1:0".parse().unwrap())?;
                    http = Some(h.local_addr()?);
                    listeners.push(Listener::Http(h));
                }
                let Listener::Tcp(tcp) = &listeners[0] else {
                    unreachable!()
                };
                addr_tx.send((tcp.local_addr()?, http)).unwrap();
                run(listeners, st, config, async {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        let (tcp, http) = addr_rx.recv().expect("server failed to start");
        TestServer {
            tcp,
            http,
            sock,
            store,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A raw TCP client.
    pub fn client(&self) -> Raw<TcpStream> {
        let s = TcpStream::connect(self.tcp).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw::new(s)
    }

    /// A raw Unix-socket client.
    pub fn unix_client(&self) -> Raw<UnixStream> {
        let s = UnixStream::connect(&self.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw::new(s)
    }

    /// Starts a shutdown (as a signal would) without waiting for it to finish.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server (as a signal would) and waits for `run` to return.
    pub fn stop(&mut self) {
        self.begin_stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }

    /// Waits for `run` to return by itself (after SHUTDOWN).
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A blocking client that sends raw bytes and reads raw RESP replies.
pub struct Raw<S: Read + Write> {
    pub r: BufReader<S>,
}

pub trait Dup: Read + Write + Sized {
    fn dup(&self) -> Self;
}
impl Dup for TcpStream {
    fn dup(&self) -> Self {
        self.try_clone().unwrap()
    }
}
impl Dup for UnixStream {
    fn dup(&self) -> Self {
        self.try_clone().unwrap()
    }
}

impl<S: Read + Write + Dup> Raw<S> {
    pub fn new(s: S) -> Self {
        Raw {
            r: BufReader::new(s),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).unwrap();
    }

    /// Sends a command as multibulk.
    pub fn cmd(&mut self, argv: &[&str]) -> String {
        let mut b = format!("*{}\r\n", argv.len());
        for a in argv {
            b.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
        }
        self.send(b.as_bytes());
        self.reply()
    }

    /// Reads one whole reply, returned as its raw text.
    pub fn reply(&mut self) -> String {
        let mut out = String::new();
        self.read_one(&mut out);
        out
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        assert!(l.ends_with("\r\n"), "short line {l:?}");
        l
    }

    fn read_one(&mut self, out: &mut String) {
        let l = self.line();
        out.push_str(&l);
        let n: i64 = l[1..l.len() - 2].parse().unwrap_or(0);
        match l.as_bytes()[0] {
            b'$' | b'=' | b'!' if n >= 0 => {
                let mut buf = vec![0; n as usize + 2];
                self.r.read_exact(&mut buf).unwrap();
                out.push_str(&String::from_utf8_lossy(&buf));
            }
            b'*' | b'~' | b'>' => (0..n).for_each(|_| self.read_one(out)),
            b'%' => (0..2 * n).for_each(|_| self.read_one(out)),
            _ => {}
        }
    }

    /// True when the server has closed the connection (reads EOF or a reset).
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.r.read(&mut b), Ok(0) | Err(_))
    }

    /// Everything until EOF.
    pub fn read_to_end(&mut self) -> String {
        let mut s = Vec::new();
        let _ = self.r.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    }
}

/// Bulk-string reply text for `s`.
pub fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

/// One HTTP/1.1 request; returns the status code and the body.
pub fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// `GET url` on the server's HTTP endpoint.
pub fn get(server: &TestServer, path: &str) -> (u16, String) {
    http(
        server.http.expect("server started without HTTP"),
        "GET",
        path,
    )
}

/// A `tinykv serve --port 0` child process on loopback (socket in a temp dir), for tests that
/// measure the daemon's own memory; its stderr (the log) is collected in the background.
/// Killed when dropped.
pub struct DaemonProcess {
    pub child: std::process::Child,
    pub tcp: SocketAddr,
    log: Arc<std::sync::Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl DaemonProcess {
    pub fn start(extra: &[&str]) -> DaemonProcess {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tinykv"))
            .arg("serve")
            .arg("--socket")
            .arg(dir.path().join("kv.sock"))
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let sink = Arc::clone(&log);
        std::thread::spawn(move || loop {
            let mut line = String::new();
            match err.read_line(&mut line) {
                Ok(n) if n > 0 => sink.lock().unwrap().push_str(&line),
                _ => return,
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let tcp = loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "serve exited");
            if let Some(a) = line.trim().strip_prefix("tinykv listening on tcp:") {
                break a.parse().unwrap();
            }
        };
        DaemonProcess {
            child,
            tcp,
            log,
            _dir: dir,
        }
    }

    /// A raw TCP client.
    pub fn client(&self) -> Raw<TcpStream> {
        let s = TcpStream::connect(self.tcp).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw::new(s)
    }

    /// Resident set size now (`VmRSS`), in bytes.
    pub fn rss(&self) -> u64 {
        self.status_kb("VmRSS:") * 1024
    }

    /// Peak resident set size so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        self.status_kb("VmHWM:") * 1024
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/<pid>/status"))
    }

    /// Waits up to 10 s for a log line containing `needle`.
    pub fn wait_log(&self, needle: &str) -> bool {
        for _ in 0..1000 {
            if self.log.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A multibulk request for `argv`, as bytes.
pub fn frame(argv: &[&[u8]]) -> Vec<u8> {
    let mut b = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        b.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        b.extend_from_slice(a);
        b.extend_from_slice(b"\r\n");
    }
    b
}

/// Reads until the server closes the connection (EOF or reset) or `read_timeout` passes;
/// returns whether it closed and how many bytes came first.
pub fn read_until_closed<S: Read>(s: &mut S) -> (bool, usize) {
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (true, total),
            Ok(n) => total += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (false, total)
            }
            Err(_) => return (true, total),
        }
    }
}
