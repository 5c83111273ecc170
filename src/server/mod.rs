//! The daemon: listeners (Unix socket, TCP), one task per connection, limits, graceful shutdown.
//!
//! Shape (after mini-redis): [`run`] takes bound listeners, the shared store, a [`ServerConfig`]
//! and a `shutdown` future, so tests pass a oneshot instead of a signal. Each accepted socket gets
//! a task that reads bytes, decodes them with [`crate::protocol`], answers connection-level
//! commands itself (`admin`) and hands the rest to [`crate::command::execute`].
//!
//! Invariants:
//! - Only this module and `client` touch sockets or tokio; the store is reached only via `command`.
//! - A bad command gets an error reply and the connection stays; a malformed frame gets one
//!   `-ERR Protocol error: ...` reply and the connection closes; nothing a peer sends panics a task.
//! - Memory per connection is bounded: requests by [`Limits`], pending replies by
//!   `max_output_buffer` (reading pauses when it is reached; a client that stays stuck there for
//!   `output_stall_timeout` is disconnected).
//! - On shutdown every connection finishes the requests it has read, flushes their replies within
//!   `shutdown_grace`, and closes; `run` returns after the listeners (and the socket file) are gone.

mod admin;
mod clients;
mod connection;
mod info;
mod listen;
mod serve;

pub use listen::{bind_tcp, bind_unix, default_socket_path, UnixSocket};
pub use serve::{serve, ServeOptions};

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify, Semaphore};

use crate::protocol::Limits;
use crate::store::Store;
use clients::Registry;

/// How the server behaves; [`Default`] gives Redis-like defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Most simultaneous clients; one more gets `-ERR max number of clients reached` and is closed.
    pub max_clients: usize,
    /// Request size limits (bulk, inline, multibulk count).
    pub limits: Limits,
    /// Pending reply bytes at which a connection stops reading until the client drains them.
    /// 0 = unlimited.
    pub max_output_buffer: usize,
    /// How long a connection may sit at `max_output_buffer` without the client reading anything
    /// before it is disconnected.
    pub output_stall_timeout: Duration,
    /// Close connections that send nothing for this long; `None` = never.
    pub idle_timeout: Option<Duration>,
    /// Password for AUTH; `None` = no authentication.
    pub requirepass: Option<String>,
    /// How long shutdown waits for connections to flush their replies.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_clients: 10_000,
            limits: Limits::default(),
            max_output_buffer: 64 * 1024 * 1024,
            output_stall_timeout: Duration::from_secs(30),
            idle_timeout: None,
            requirepass: None,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// A bound listener for [`run`].
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener (loopback unless the operator chose otherwise).
    Tcp(TcpListener),
    /// A Unix socket; its file is removed when this is dropped.
    Unix(UnixSocket),
}

/// State every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The store all clients read and write.
    store: Arc<Store>,
    /// Limits and auth, fixed for the server's life.
    config: ServerConfig,
    /// Connected clients, for CLIENT LIST and INFO.
    clients: Registry,
    /// When the server started, for INFO's uptime.
    started: Instant,
    /// Connections accepted since start (INFO stats).
    total_connections: AtomicU64,
    /// Connections refused at `max_clients` (INFO stats).
    rejected_connections: AtomicU64,
    /// Woken by the SHUTDOWN command.
    shutdown_request: Notify,
    /// TCP port (0 if none) and Unix socket path, for INFO.
    endpoints: Endpoints,
}

/// Where the server listens, for INFO and CONFIG GET.
#[derive(Debug, Default, Clone)]
struct Endpoints {
    /// TCP port, 0 when TCP is off.
    port: u16,
    /// Unix socket path, empty when off.
    unixsocket: String,
}

/// Serves `listeners` until `shutdown` completes or a client sends SHUTDOWN, then shuts down
/// gracefully (see the module docs). Returns once the listeners are closed and the connections
/// have flushed or `shutdown_grace` has passed.
pub async fn run(
    listeners: Vec<Listener>,
    store: Arc<Store>,
    config: ServerConfig,
    shutdown: impl Future,
) -> io::Result<()> {
    let mut endpoints = Endpoints::default();
    for l in &listeners {
        match l {
            Listener::Tcp(t) => endpoints.port = t.local_addr()?.port(),
            Listener::Unix(u) => endpoints.unixsocket = u.path().display().to_string(),
        }
    }
    let grace = config.shutdown_grace;
    let shared = Arc::new(Shared {
        store,
        clients: Registry::default(),
        started: Instant::now(),
        total_connections: AtomicU64::new(0),
        rejected_connections: AtomicU64::new(0),
        shutdown_request: Notify::new(),
        endpoints,
        config,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let permits = Arc::new(Semaphore::new(
        shared.config.max_clients.min(Semaphore::MAX_PERMITS),
    ));
    let mut acceptors = Vec::new();
    for listener in listeners {
        let ctx = connection::Ctx {
            shared: Arc::clone(&shared),
            stop: stop_rx.clone(),
            _done: done_tx.clone(),
        };
        acceptors.push(tokio::spawn(accept_loop(
            listener,
            ctx,
            Arc::clone(&permits),
        )));
    }
    tokio::select! {
        _ = shutdown => tracing::info!("shutdown requested by signal"),
        _ = shared.shutdown_request.notified() => tracing::info!("shutdown requested by SHUTDOWN"),
    }
    let deadline = tokio::time::Instant::now() + grace;
    let _ = stop_tx.send(true);
    for a in acceptors {
        let _ = a.await;
    }
    drop(done_tx);
    drop(stop_rx);
    if tokio::time::timeout_at(deadline, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {grace:?}; closing them");
    }
    Ok(())
}

/// Accepts on one listener until shutdown; the listener (and its socket file) is dropped on exit.
async fn accept_loop(listener: Listener, ctx: connection::Ctx, permits: Arc<Semaphore>) {
    let mut stop = ctx.stop.clone();
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            a = accept(&listener) => a,
        };
        match accepted {
            Ok(conn) => {
                backoff = Duration::from_millis(10);
                ctx.shared.total_connections.fetch_add(1, Ordering::Relaxed);
                let ctx = ctx.clone();
                match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => {
                        tokio::spawn(async move {
                            connection::serve(conn, ctx).await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        ctx.shared
                            .rejected_connections
                            .fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(connection::reject(
                            conn,
                            "ERR max number of clients reached",
                        ));
                    }
                }
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning; the listener stays open.
                tracing::warn!("accept failed: {e}; retrying in {backoff:?}");
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn accept(listener: &Listener) -> io::Result<connection::Accepted> {
    match listener {
        Listener::Tcp(l) => {
            let (s, peer) = l.accept().await?;
            let _ = s.set_nodelay(true);
            let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
            Ok(connection::Accepted::Tcp(s, peer.to_string(), local))
        }
        Listener::Unix(u) => {
            let (s, _) = u.listener().accept().await?;
            let path = format!("{}:0", u.path().display());
            Ok(connection::Accepted::Unix(s, path))
        }
    }
}
