//! Raw-byte protocol checks against an in-process server: framing, inline commands, pipelining,
//! protocol errors, limits and robustness against random frames.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use daemon_support::*;
use tinykv::protocol::Limits;
use tinykv::server::ServerConfig;

#[test]
fn ping_over_tcp_and_unix_multibulk_and_inline() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    c.send(b"PING\r\n");
    assert_eq!(c.reply(), "+PONG\r\n");
    let mut u = srv.unix_client();
    assert_eq!(u.cmd(&["ping"]), "+PONG\r\n");
    u.send(b"set k \"a b\"\r\nget k\r\n");
    assert_eq!(u.reply(), "+OK\r\n");
    assert_eq!(u.reply(), bulk("a b"));
}

#[test]
fn pipelining_answers_in_order() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
        if i % 100 == 0 {
            batch.extend_from_slice(b"PING\r\n");
        }
    }
    c.send(&batch);
    for i in 1..=1000 {
        assert_eq!(c.reply(), format!(":{i}\r\n"));
        if (i - 1) % 100 == 0 {
            assert_eq!(c.reply(), "+PONG\r\n");
        }
    }
}

#[test]
fn split_frames_are_reassembled() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let frame = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    for b in frame.iter() {
        c.send(&[*b]);
    }
    assert_eq!(c.reply(), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "key"]), bulk("value"));
}

#[test]
fn malformed_frames_get_one_error_and_close() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n:5\r\n",
            "-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"*x\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET a \"b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    let srv = TestServer::start();
    for (input, want) in cases {
        let mut c = srv.client();
        c.send(b"PING\r\n");
        c.send(input);
        assert_eq!(
            c.read_to_end(),
            format!("+PONG\r\n{want}"),
            "input {input:?}"
        );
    }
    assert_eq!(srv.client().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn bad_commands_keep_the_connection() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert!(c
        .cmd(&["NOSUCHCOMMAND", "x"])
        .starts_with("-ERR unknown command"));
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn inline_and_bulk_limits() {
    let cfg = ServerConfig {
        limits: Limits {
            max_bulk: 1024,
            max_inline: 256,
            max_multibulk: 8,
        },
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            vec![b'a'; 300],
            "-ERR Protocol error: too big inline request\r\n",
        ),
        (
            b"*9\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$1025\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut c = srv.client();
        c.send(&input);
        assert_eq!(c.read_to_end(), want);
    }
    let mut c = srv.client();
    let v = "x".repeat(1024);
    assert_eq!(c.cmd(&["SET", "k", &v]), "+OK\r\n");
}

#[test]
fn random_frames_never_take_the_server_down() {
    let srv = TestServer::start();
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"-1",
        b"3",
        b"99999999999",
        b"\"",
        b"PING",
        b" ",
        b"\n",
        b"\0",
    ];
    // 10,000 frames over 100 connections; each connection closes when a frame is malformed.
    for _ in 0..100 {
        let mut c = srv.client();
        let mut buf = Vec::new();
        for _ in 0..100 {
            for _ in 0..(next() % 8) {
                let r = next();
                if r % 3 == 0 {
                    buf.push((r >> 8) as u8);
                } else {
                    buf.extend_from_slice(pieces[(r >> 8) as usize % pieces.len()]);
                }
            }
        }
        // The server may close mid-send after a malformed frame: a failed write is expected.
        let _ = std::io::Write::write_all(c.r.get_mut(), &buf);
        let _ = c.r.get_mut().shutdown(std::net::Shutdown::Write);
        let _ = c.read_to_end();
    }
    assert_eq!(srv.client().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn large_values_round_trip_over_both_transports() {
    let srv = TestServer::start();
    let big = "v".repeat(3 * 1024 * 1024 + 7);
    let mut c = srv.client();
    assert_eq!(c.cmd(&["SET", "big", &big]), "+OK\r\n");
    let mut u = srv.unix_client();
    assert_eq!(u.cmd(&["GET", "big"]), bulk(&big));
    assert_eq!(u.cmd(&["STRLEN", "big"]), format!(":{}\r\n", big.len()));
    // After the large exchange the connection keeps working with small requests.
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(u.cmd(&["PING"]), "+PONG\r\n");
}
