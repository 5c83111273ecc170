//! One connection: read bytes, decode requests, dispatch them, write replies, until the client
//! leaves, breaks the protocol, idles out, stalls past the output limit, or the server stops.
//!
//! The loop is a biased `select!`: pending output is written first (so replies go out as soon
//! as a batch is processed), then more input is read. Every request that was read completely is
//! processed before the next wait, so on shutdown "in flight" means "already executed, reply not
//! yet flushed", and those replies are flushed before the socket closes. Closing is lingering
//! (FIN, then drain input until the peer's FIN), so a RST never destroys replies in transit.
//!
//! Guards, each closing the connection at once (no flush, no linger) and logging a warning:
//! - a request named `POST` or `Host:` is a web page's HTTP request (cross-protocol scripting);
//!   nothing after it in the buffer runs;
//! - a client that has not authenticated (when a password is set) may have at most
//!   [`UNAUTH_MAX_OUTPUT`] bytes of replies pending, so it cannot pin memory with error replies.
//!
//! Memory: GET and MGET are copied from the store straight into the output buffer
//! ([`direct`]), so such a reply is never built twice and never takes the buffer past
//! `max_output_buffer`; buffers that grew past [`KEEP_BUFFER`] for one large request or reply are
//! replaced by small ones once they are (nearly) empty, and the decoder frees its large argument
//! buffers before the next request.

mod direct;

use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout_at, Instant};

use super::admin::{self, Flow};
use super::latency::{self, LocalLatency};
use super::state::{ConnState, ServerState};
use crate::command::Session;
use crate::protocol::{is_http_request, Decoder, Resp};
use direct::Outcome;

/// Read buffer growth step; also the most read in one syscall when the buffer is empty.
const READ_CHUNK: usize = 16 * 1024;

/// An empty buffer larger than this is replaced by a small one, so one large request or reply
/// does not pin its memory for the life of the connection.
const KEEP_BUFFER: usize = 1024 * 1024;

/// Most reply bytes a client that has not authenticated may leave pending; past this it is
/// closed. Redis and Valkey did the same in the fix for CVE-2025-21605 (1 KiB beyond their 16 KiB
/// static reply buffer); a client that is only told NOAUTH never needs more than a few lines.
const UNAUTH_MAX_OUTPUT: usize = 4 * 1024;

/// A closing connection that receives nothing for this long is closed without waiting for the
/// client's FIN (nothing unread is left to turn the close into a RST).
const LINGER_QUIET: std::time::Duration = std::time::Duration::from_millis(100);

/// What a connection task needs from the server.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// Store, config, connected clients, counters.
    pub shared: Arc<ServerState>,
    /// Flips to `true` when the server shuts down.
    pub stop: watch::Receiver<bool>,
    /// Dropped when the task ends; `run` waits until every clone is gone.
    pub _done: mpsc::Sender<()>,
}

/// An accepted socket with its peer and local addresses.
#[derive(Debug)]
pub(crate) enum Accepted {
    /// TCP: stream, peer address, local address.
    Tcp(TcpStream, String, String),
    /// Unix socket: stream, `path:0`.
    #[cfg(unix)]
    Unix(UnixStream, String),
}

/// Tells a client it cannot be served, and closes.
pub(crate) async fn reject(conn: Accepted, msg: &'static str) {
    let line = format!("-{msg}\r\n");
    let _ = match conn {
        Accepted::Tcp(mut s, ..) => s.write_all(line.as_bytes()).await,
        #[cfg(unix)]
        Accepted::Unix(mut s, _) => s.write_all(line.as_bytes()).await,
    };
}

/// Serves one connection to its end.
pub(crate) async fn serve(conn: Accepted, ctx: Ctx) {
    let shared = Arc::clone(&ctx.shared);
    let (id, reason) = match conn {
        Accepted::Tcp(mut s, peer, local) => {
            let (r, w) = s.split();
            run(r, w, peer, local, ctx).await
        }
        #[cfg(unix)]
        Accepted::Unix(mut s, path) => {
            let (r, w) = s.split();
            run(r, w, path.clone(), path, ctx).await
        }
    };
    tracing::debug!(
        client = id,
        reason,
        connected_clients = shared.clients.len(),
        "connection closed"
    );
}

/// Serves until the connection ends; returns the client id and why it closed.
async fn run<R, W>(mut r: R, mut w: W, peer: String, local: String, ctx: Ctx) -> (u64, &'static str)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let shared = &*ctx.shared;
    let mut stop_rx = ctx.stop.clone();
    // Created once: re-creating `changed()` on every loop turn registers and drops a waiter
    // per request.
    let stop = stop_rx.changed();
    tokio::pin!(stop);
    let session = Session::default();
    let guard = shared
        .clients
        .register(peer.clone(), local, &session.ns_name);
    tracing::debug!(
        client = guard.info.id,
        addr = %peer,
        connected_clients = shared.clients.len(),
        "connection opened"
    );
    let mut st = ConnState {
        shared,
        info: &guard.info,
        session,
        resp: Resp::V2,
        authenticated: shared.config.requirepass.is_none(),
        last_cmd: Vec::new(),
        latency: LocalLatency::default(),
    };
    let id = st.info.id;
    let mut decoder = Decoder::new(shared.config.limits);
    decoder.set_authenticated(st.authenticated);
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let limit = match shared.config.max_output_buffer {
        0 => usize::MAX,
        n => n,
    };
    let idle = shared.config.idle_timeout;
    let far = Instant::now() + std::time::Duration::from_secs(86400 * 365);
    let idle_sleep = sleep_until(idle.map_or(far, |t| Instant::now() + t));
    let stall_sleep = sleep_until(far);
    tokio::pin!(idle_sleep, stall_sleep);
    let mut stalled = false;
    // The decoder's last request was put off until `out` is empty (`Outcome::Wait`).
    let mut waiting = false;
    // Set when a guard closes the connection without flushing (see the module docs).
    let mut abort: Option<&'static str> = None;
    let mut eof = false;
    let mut flow = Flow::Continue;
    let mut reason = "client closed";
    while flow == Flow::Continue {
        // Process every complete request already read (unless the output is at its limit).
        let mut processed = 0u64;
        let mut mark: Option<std::time::Instant> = None;
        while out.len() < limit {
            if waiting && !out.is_empty() {
                break;
            }
            let was_authed = st.authenticated;
            let argv = if std::mem::take(&mut waiting) {
                decoder.last_request()
            } else {
                match decoder.decode(&mut inbuf) {
                    Ok(Some(argv)) => argv,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(client = id, error = %e, "protocol error; closing connection");
                        reason = "protocol error";
                        out.extend_from_slice(format!("-ERR {e}\r\n").as_bytes());
                        flow = Flow::Close;
                        break;
                    }
                }
            };
            if is_http_request(&argv[0]) {
                tracing::warn!(
                    client = id,
                    addr = %peer,
                    "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or \
                     Host: commands to TinyKV. This is likely due to an attacker attempting to use \
                     Cross Protocol Scripting to compromise your TinyKV instance. Connection aborted."
                );
                abort = Some("cross-protocol request");
                break;
            }
            // The one table lookup of this request: its latency slot, and the row the direct
            // path and the dispatcher act on.
            let spec = crate::command::lookup(&argv[0]);
            let cmd = latency::slot(spec);
            // One clock read per command: this command's time runs from the end of the previous
            // one in the batch (so it includes parsing its request), or from here for the first.
            let started = *mark.get_or_insert_with(std::time::Instant::now);
            let outcome = if st.authenticated {
                direct::serve(&mut st, spec, argv, &mut out, limit)
            } else {
                Outcome::Pass
            };
            flow = match outcome {
                Outcome::Done => Flow::Continue,
                Outcome::Pass => admin::dispatch(&mut st, spec, argv, &mut out),
                Outcome::Wait => {
                    waiting = true;
                    break;
                }
            };
            processed += 1;
            let done = std::time::Instant::now();
            st.latency.record(cmd, done - started);
            mark = Some(done);
            if st.authenticated != was_authed {
                decoder.set_authenticated(st.authenticated);
            }
            if !st.authenticated && out.len() > UNAUTH_MAX_OUTPUT {
                tracing::warn!(
                    client = id,
                    addr = %peer,
                    pending = out.len(),
                    "closing unauthenticated client: too many replies pending"
                );
                abort = Some("unauthenticated output limit");
                break;
            }
            if flow != Flow::Continue {
                break;
            }
        }
        if let Some(why) = abort {
            // Dropping the socket with input unread resets it: nothing more is read or run.
            return (id, why);
        }
        if let (true, Some(now)) = (processed > 0, mark) {
            shared.busy_poll.worked();
            st.info.touch(processed, &st.last_cmd, now);
            st.latency.flush(&shared.latency, id);
        }
        if flow != Flow::Continue || eof {
            break;
        }
        // A reply put off until `out` drains stops reading as a full buffer does.
        let at_limit = out.len() >= limit || waiting;
        if at_limit != stalled {
            stalled = at_limit;
            let until = if stalled {
                Instant::now() + shared.config.output_stall_timeout
            } else {
                far
            };
            stall_sleep.as_mut().reset(until);
        }
        // Give back the memory of one-off large requests and replies once they are done.
        trim(&mut inbuf);
        trim(&mut out);
        if inbuf.capacity() - inbuf.len() < READ_CHUNK / 4 {
            inbuf.reserve(READ_CHUNK);
        }
        tokio::select! {
            biased;
            _ = &mut stop => {
                reason = "server shutdown";
                break;
            }
            res = w.write(&out), if !out.is_empty() => match res {
                Ok(0) | Err(_) => return (id, "write failed"),
                Ok(n) => {
                    out.advance(n);
                    if stalled {
                        stall_sleep.as_mut().reset(Instant::now() + shared.config.output_stall_timeout);
                    }
                    // A client still receiving a large reply is not idle (Redis counts writes too).
                    if let Some(t) = idle {
                        idle_sleep.as_mut().reset(Instant::now() + t);
                    }
                }
            },
            res = r.read_buf(&mut inbuf), if !stalled => match res {
                Ok(0) => eof = true,
                Ok(_) => {
                    if let Some(t) = idle {
                        idle_sleep.as_mut().reset(Instant::now() + t);
                    }
                }
                Err(_) => return (id, "read failed"),
            },
            _ = &mut idle_sleep, if idle.is_some() => {
                return (id, "idle timeout");
            }
            _ = &mut stall_sleep, if stalled => {
                tracing::warn!(client = id, "closing client that stopped reading its replies");
                return (id, "output buffer stalled");
            }
        }
    }
    // Flush the replies of everything processed, within `shutdown_grace`.
    let deadline = Instant::now() + shared.config.shutdown_grace;
    if !out.is_empty() {
        let _ = timeout_at(deadline, w.write_all(&out)).await;
    }
    let _ = timeout_at(deadline, w.shutdown()).await;
    // Lingering close: our FIN is out; now discard input until the client closes too, goes
    // quiet, or the deadline passes. Closing with unread requests in the receive buffer would
    // send a RST, and a RST makes the client's kernel drop replies it has not read yet.
    let _ = timeout_at(deadline, async {
        loop {
            inbuf.clear();
            match tokio::time::timeout(LINGER_QUIET, r.read_buf(&mut inbuf)).await {
                Ok(Ok(n)) if n > 0 => continue,
                _ => break,
            }
        }
    })
    .await;
    if flow == Flow::Shutdown {
        shared.shutdown_request.notify_one();
        reason = "SHUTDOWN";
    } else if flow == Flow::Close && reason == "client closed" {
        reason = "QUIT";
    }
    drop(guard);
    (id, reason)
}

/// Replaces a buffer whose allocation grew past [`KEEP_BUFFER`] by a small one, once it holds at
/// most [`READ_CHUNK`] bytes (which are copied over).
///
/// `capacity()` counts from the read position, so a large buffer that has been consumed or
/// written out looks small while its allocation is still large (and `reserve` would go on
/// reusing it). `try_reclaim` moves the few bytes left to the front of the allocation without
/// allocating, and succeeds only when that allocation exceeds `KEEP_BUFFER`: then it is replaced.
/// An ordinary buffer costs a few comparisons.
fn trim(buf: &mut BytesMut) {
    if buf.len() <= READ_CHUNK && buf.try_reclaim(KEEP_BUFFER + 1) {
        let mut small = BytesMut::with_capacity(READ_CHUNK);
        small.extend_from_slice(buf);
        *buf = small;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_frees_large_buffers_even_after_they_were_consumed() {
        use bytes::BufMut;
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        buf.put_bytes(b'x', 4 * KEEP_BUFFER);
        buf.advance(4 * KEEP_BUFFER - 10);
        assert!(
            buf.capacity() < KEEP_BUFFER,
            "capacity() no longer sees the allocation"
        );
        trim(&mut buf);
        assert_eq!(&buf[..], &[b'x'; 10][..]);
        assert!(buf.capacity() <= 2 * READ_CHUNK, "{}", buf.capacity());
        // A small buffer is left alone.
        let mut small = BytesMut::with_capacity(READ_CHUNK);
        small.put_slice(b"abc");
        let before = small.as_ptr();
        trim(&mut small);
        assert_eq!(small.as_ptr(), before);
    }
}
