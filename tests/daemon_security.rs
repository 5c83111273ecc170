//! Issue 15's hardening of the daemon's protocol layer: a web page's HTTP request runs nothing
//! (cross-protocol scripting); a client that has not authenticated cannot pin error replies; a
//! large request's buffers do not outlive it on an idle connection; and one reply cannot take a
//! connection past `--max-output-buffer`. Memory is the RSS of a real `tinykv serve` process,
//! with generous bounds; data sizes stay modest so the suite stays fast.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use std::io::Write;
use std::time::Duration;

use daemon_support::{bulk, frame, read_until_closed, DaemonProcess, TestServer};

const MIB: u64 = 1024 * 1024;

/// `assert_eq!` for replies of megabytes: on failure shows lengths and beginnings, not the lot.
fn assert_reply(got: &str, want: &str) {
    let head = |s: &str| s.chars().take(60).collect::<String>();
    assert!(
        got == want,
        "got {} bytes {:?}..., want {} bytes {:?}...",
        got.len(),
        head(got),
        want.len(),
        head(want)
    );
}

#[test]
fn http_requests_are_dropped_before_anything_after_them_runs() {
    let srv = TestServer::start();
    let mut c = srv.client();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let port = srv.tcp.port();
    let attacks: Vec<Vec<u8>> = vec![
        // What fetch('http://127.0.0.1:PORT/', {method: 'POST', mode: 'no-cors', body}) sends.
        format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
             Content-Length: 10\r\n\r\nFLUSHALL\r\n"
        )
        .into_bytes(),
        b"post / HTTP/1.1\r\nFLUSHALL\r\n".to_vec(),
        // GET is a (malformed) command; the Host: header line gives it away.
        b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\nFLUSHALL\r\n".to_vec(),
        [frame(&[b"POST", b"/"]), frame(&[b"FLUSHALL"])].concat(),
        [frame(&[b"HOST:", b"x"]), frame(&[b"FLUSHALL"])].concat(),
    ];
    for attack in attacks {
        let mut a = srv.client();
        a.r.get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        a.send(&attack);
        let (closed, got) = read_until_closed(&mut a.r);
        let text = String::from_utf8_lossy(&attack).into_owned();
        assert!(closed, "connection left open after {text:?}");
        assert_eq!(got, 0, "replies sent to {text:?}");
        assert_eq!(
            c.cmd(&["GET", "k"]),
            bulk("v"),
            "FLUSHALL ran after {text:?}"
        );
    }
    // Ordinary commands that merely mention the words still work.
    assert_eq!(c.cmd(&["SET", "POST", "Host:"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "POST"]), bulk("Host:"));
}

#[test]
fn http_request_is_logged_as_a_security_attack() {
    let d = DaemonProcess::start(&[]);
    let mut a = d.client();
    a.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nFLUSHALL\r\n");
    assert!(read_until_closed(&mut a.r).0);
    assert!(
        d.wait_log("Possible SECURITY ATTACK detected"),
        "no security warning logged"
    );
}

#[test]
fn unauthenticated_clients_cannot_pin_error_replies() {
    let d = DaemonProcess::start(&["--requirepass", "secret"]);
    let before = d.rss();
    // 1 Mi one-letter commands: 32 MiB of NOAUTH errors per client if they were all kept.
    let flood = b"x\n".repeat(1 << 20);
    let mut floods = Vec::new();
    for _ in 0..4 {
        let mut c = d.client();
        c.r.get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // The daemon may close the connection while this is still being written.
        let _ = c.r.get_mut().write_all(&flood);
        floods.push(c);
    }
    for c in &mut floods {
        let (closed, got) = read_until_closed(&mut c.r);
        assert!(closed, "an unauthenticated client kept its replies pending");
        assert!(got < 64 * 1024, "{got} bytes of replies");
    }
    let grown = d.rss().saturating_sub(before);
    eprintln!(
        "unauthenticated floods: daemon RSS {} -> +{} KiB",
        before / 1024,
        grown / 1024
    );
    assert!(grown < 24 * MIB, "daemon RSS grew by {} MiB", grown / MIB);
    // The server is fine, and authenticated clients are not capped.
    let mut c = d.client();
    assert_eq!(c.cmd(&["AUTH", "secret"]), "+OK\r\n");
    c.send(&b"x\r\n".repeat(1000));
    for _ in 0..1000 {
        assert!(c.reply().starts_with("-ERR unknown command"));
    }
}

#[test]
fn a_large_request_does_not_stay_pinned_on_an_idle_connection() {
    let d = DaemonProcess::start(&[]);
    let mut admin = d.client();
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
    let before = d.rss();
    let value = vec![b'x'; 64 << 20];
    // Three connections each send one 64 MiB SET, then sit idle; the values are deleted.
    let mut idle = Vec::new();
    for i in 0..3 {
        let key = format!("big{i}");
        let mut c = d.client();
        c.send(&frame(&[b"SET", key.as_bytes(), &value]));
        assert_eq!(c.reply(), "+OK\r\n");
        assert_eq!(admin.cmd(&["DEL", &key]), ":1\r\n");
        idle.push(c);
    }
    let grown = d.rss().saturating_sub(before);
    eprintln!(
        "idle after 3 x 64 MiB SET: daemon RSS {} -> +{} KiB",
        before / 1024,
        grown / 1024
    );
    assert!(
        grown < 64 * MIB,
        "idle connections hold {} MiB after 3 x 64 MiB SETs were deleted",
        grown / MIB
    );
    for c in &mut idle {
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn a_reply_larger_than_the_output_cap_is_refused_before_it_is_built() {
    const TOO_BIG: &str = "-ERR reply exceeds maximum allowed size (max-output-buffer)\r\n";
    let d = DaemonProcess::start(&["--max-output-buffer", "8mb"]);
    let mut c = d.client();
    let value = vec![b'x'; 4 << 20];
    c.send(&frame(&[b"SET", b"big", &value]));
    assert_eq!(c.reply(), "+OK\r\n");
    let before = d.peak_rss();
    // 16 x 4 MiB = 64 MiB: eight times the cap.
    let mut mget: Vec<&[u8]> = vec![b"MGET"];
    mget.extend([&b"big"[..]; 16]);
    c.send(&frame(&mget));
    assert_reply(&c.reply(), TOO_BIG);
    let grown = d.peak_rss().saturating_sub(before);
    eprintln!(
        "refused 64 MiB MGET: daemon peak RSS {} -> +{} KiB",
        before / 1024,
        grown / 1024
    );
    assert!(
        grown < 32 * MIB,
        "peak RSS grew by {} MiB for a refused reply",
        grown / MIB
    );
    // Replies that fit the cap are served whole, also when together they do not fit in it.
    let want = bulk(&"x".repeat(4 << 20));
    let mut pipeline = frame(&[b"MGET", b"big", b"nosuch"]);
    for _ in 0..5 {
        pipeline.extend(frame(&[b"GET", b"big"]));
    }
    c.send(&pipeline);
    assert_reply(&c.reply(), &format!("*2\r\n{want}$-1\r\n"));
    for _ in 0..5 {
        assert_reply(&c.reply(), &want);
    }
    // Also after the client's FIN: what it sent before is answered in full.
    let mut h = d.client();
    h.send(&frame(&[b"GET", b"big"]).repeat(5));
    h.r.get_ref().shutdown(std::net::Shutdown::Write).unwrap();
    for _ in 0..5 {
        assert_reply(&h.reply(), &want);
    }
    assert!(h.closed());
    // A single value larger than the cap is refused too; the connection stays usable.
    let huge = vec![b'y'; 9 << 20];
    c.send(&frame(&[b"SET", b"huge", &huge]));
    assert_eq!(c.reply(), "+OK\r\n");
    assert_reply(&c.cmd(&["GET", "huge"]), TOO_BIG);
    assert_reply(
        &c.cmd(&["MGET", "nosuch", "big"]),
        &format!("*2\r\n$-1\r\n{want}"),
    );
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn any_reply_larger_than_the_output_cap_is_refused_not_only_get_and_mget() {
    const CAP: usize = 4096;
    let server = TestServer::with_config(tinykv::server::ServerConfig {
        max_output_buffer: CAP,
        ..Default::default()
    });
    let mut c = server.client();
    // 200 keys of 30 bytes: KEYS * and a SCAN of them all are about 8 KiB each.
    for i in 0..200 {
        let key = format!("user:{i:025}");
        assert_eq!(c.cmd(&["SET", &key, "v"]), "+OK\r\n");
    }
    let too_big = "-ERR reply exceeds maximum allowed size (max-output-buffer)\r\n";
    assert_reply(&c.cmd(&["KEYS", "*"]), too_big);
    assert_reply(&c.cmd(&["SCAN", "0", "COUNT", "1000"]), too_big);
    // Replies under the cap are served as before, on the same connection.
    let one = c.cmd(&["KEYS", "user:0000000000000000000000007"]);
    assert_reply(&one, "*1\r\n$30\r\nuser:0000000000000000000000007\r\n");
    let some = c.cmd(&["SCAN", "0", "COUNT", "10"]);
    assert!(some.starts_with("*2\r\n"), "{some}");
    assert_eq!(c.cmd(&["DBSIZE"]), ":200\r\n");
}
