//! Shutdown, output-buffer and idle limits, against an in-process server.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use daemon_support::*;
use tinykv::server::ServerConfig;
use tinykv::store::{Ns, Value};

/// Reads `:N\r\n` replies until EOF after `all`; returns the last N and how many replies came.
fn count_int_replies(r: &mut impl Read, mut all: Vec<u8>) -> (i64, u64) {
    let _ = r.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    let mut last = 0;
    let mut n = 0;
    for line in text.split_inclusive("\r\n") {
        if let Some(v) = line.strip_prefix(':').and_then(|l| l.strip_suffix("\r\n")) {
            last = v.parse().unwrap();
            n += 1;
        }
    }
    (last, n)
}

#[test]
fn graceful_shutdown_mid_pipeline_loses_no_acknowledged_write() {
    let mut srv = TestServer::start();
    let c = srv.client();
    let mut reader = c.r.get_ref().try_clone().unwrap();
    let mut writer = c.r.get_ref().try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A writer that pipelines INCRs until the server closes the connection (the reader saw EOF),
    // then closes its side, as a client does.
    let eof = Arc::new(AtomicBool::new(false));
    let eof_seen = Arc::clone(&eof);
    let w = std::thread::spawn(move || {
        let frame = b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n".repeat(100);
        for _ in 0..100_000 {
            if eof_seen.load(Ordering::Relaxed) || writer.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = writer.shutdown(std::net::Shutdown::Write);
    });
    // Wait until some replies have arrived, then shut the server down mid-stream.
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    while all.len() < 1000 {
        let n = reader.read(&mut chunk[..]).unwrap();
        assert!(n > 0, "server closed early");
        all.extend_from_slice(&chunk[..n]);
    }
    let rd = std::thread::spawn(move || {
        let counted = count_int_replies(&mut reader, all);
        eof.store(true, Ordering::Relaxed);
        counted
    });
    srv.stop();
    let (last, replies) = rd.join().unwrap();
    w.join().unwrap();
    let stored = match srv.store.get(Ns::DEFAULT, "n") {
        Some(Value::Int(i)) => i,
        Some(Value::Bytes(b)) => String::from_utf8(b).unwrap().parse().unwrap(),
        None => 0,
    };
    // Every acknowledged INCR is in the store, and every executed INCR was acknowledged.
    assert!(replies >= 100, "{replies} replies");
    assert_eq!(replies as i64, last, "replies arrive in order with no gap");
    assert_eq!(
        stored, last,
        "store has {stored}, client saw acknowledgements up to {last}"
    );
}

#[test]
fn shutdown_command_stops_the_server() {
    let mut srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    c.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(c.read_to_end(), "");
    srv.join();
    assert!(!srv.sock.exists(), "socket file removed");
}

#[test]
fn client_that_never_reads_is_disconnected_and_memory_stays_bounded() {
    let cfg = ServerConfig {
        max_output_buffer: 64 * 1024,
        output_stall_timeout: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let mut setup = srv.client();
    let value = "x".repeat(16 * 1024);
    assert_eq!(setup.cmd(&["SET", "big", &value]), "+OK\r\n");
    let c = srv.unix_client();
    let mut s = c.r.into_inner();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let frame = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(64);
    let cut = (0..100_000).any(|_| s.write_all(&frame).is_err());
    assert!(
        cut,
        "server kept accepting requests from a client that never reads"
    );
    assert_eq!(setup.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn idle_clients_are_closed() {
    let cfg = ServerConfig {
        idle_timeout: Some(Duration::from_millis(50)),
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let mut c = srv.client();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert!(c.closed());
}
