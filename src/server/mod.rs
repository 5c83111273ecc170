//! The daemon: listeners (Unix socket, TCP), one task per connection, limits, graceful shutdown.
//!
//! Shape (after mini-redis): [`run`] takes bound listeners, the shared store, a [`ServerConfig`]
//! and a `shutdown` future, so tests pass a oneshot instead of a signal. Each accepted socket gets
//! a task that reads bytes, decodes them with [`crate::protocol`], answers connection-level
//! commands itself (`admin`) and hands the rest to [`crate::command::execute`]. The state they
//! run against (`ServerState` for the server, `ConnState` for one connection) lives in `state`,
//! which the handlers and observers depend on instead of on each other.
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
//!
//! Platforms: on Unix the daemon always has its socket and TCP on request; Windows has no Unix
//! sockets, so there it listens on TCP only, and Ctrl-C or Ctrl-Break stands for SIGINT/SIGTERM.

mod admin;
mod busy_poll;
mod clients;
mod collector;
mod connection;
mod http;
mod info;
mod latency;
mod launch;
mod listen;
mod persist;
mod signals;
mod state;
mod watch_stats;

pub use launch::{serve, LogFormat, ServeOptions};
pub use listen::{bind_tcp, DEFAULT_TCP_PORT};
#[cfg(unix)]
pub use listen::{bind_unix, default_socket_path, remove_socket, UnixSocket};
pub use persist::PersistOptions;
pub use signals::{request_shutdown, Signals};

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify, Semaphore};

use crate::protocol::Limits;
use crate::store::Store;
use clients::Clients;
use state::{Endpoints, ServerState};

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
    /// After serving requests, keep polling for more (without sleeping) for this long, so the
    /// client's next request does not have to wake the server; `Duration::ZERO` = never. Applies
    /// only when [`run`] is on a current-thread runtime (`tinykv serve --threads 1`, the default
    /// on machines with two cores or fewer). See `busy_poll.rs` for the measurements.
    pub busy_poll: Duration,
    /// The snapshot file, when to save it, and whether to save at shutdown.
    pub persist: PersistOptions,
}

impl ServerConfig {
    /// The default [`ServerConfig::busy_poll`].
    pub const DEFAULT_BUSY_POLL: Duration = Duration::from_micros(20);
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
            busy_poll: Self::DEFAULT_BUSY_POLL,
            persist: PersistOptions::default(),
        }
    }
}

/// A bound listener for [`run`].
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener (loopback unless the operator chose otherwise).
    Tcp(TcpListener),
    /// A Unix socket; its file is removed when this is dropped.
    #[cfg(unix)]
    Unix(UnixSocket),
    /// The HTTP endpoint (`/metrics`, `/healthz`, `/readyz`); it speaks HTTP, not RESP.
    Http(TcpListener),
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
    let mut names = Vec::new();
    let mut http_listeners = Vec::new();
    let mut resp_listeners = Vec::new();
    for l in listeners {
        match &l {
            Listener::Tcp(t) => {
                let addr = t.local_addr()?;
                endpoints.port = addr.port();
                names.push(format!("tcp:{addr}"));
            }
            #[cfg(unix)]
            Listener::Unix(u) => {
                endpoints.unixsocket = u.path().display().to_string();
                names.push(format!("unix:{}", u.path().display()));
            }
            Listener::Http(h) => names.push(format!("http:{}", h.local_addr()?)),
        }
        match l {
            Listener::Http(h) => http_listeners.push(h),
            other => resp_listeners.push(other),
        }
    }
    let grace = config.shutdown_grace;
    let config_persist = config.persist.clone();
    let shared = Arc::new(ServerState {
        store,
        clients: Clients::default(),
        started: Instant::now(),
        total_connections: AtomicU64::new(0),
        rejected_connections: AtomicU64::new(0),
        shutdown_request: Notify::new(),
        endpoints,
        config,
        latency: latency::Latency::default(),
        ready: AtomicBool::new(false),
        ops_per_sec: AtomicU64::new(0),
        busy_poll: busy_poll::BusyPoll::default(),
        persistence: Arc::new(persist::Persistence::new(config_persist)),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let (http_stop_tx, http_stop_rx) = watch::channel(false);
    let sampler = watch_stats::spawn(Arc::clone(&shared), stop_rx.clone());
    let saver = shared.config.persist.save_interval.map(|every| {
        let (p, store) = (Arc::clone(&shared.persistence), Arc::clone(&shared.store));
        tokio::spawn(persist::save_periodically(p, store, every, stop_rx.clone()))
    });
    // Only a current-thread runtime: there the poller's yields poll the I/O driver itself. On a
    // multi-thread runtime another worker may hold the driver, so spinning buys nothing
    // (measured with --threads 2 at -P 1: no fewer wakeups, ~2 us more CPU per request).
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    let busy_poll = !shared.config.busy_poll.is_zero()
        && flavor == tokio::runtime::RuntimeFlavor::CurrentThread;
    let poller = busy_poll.then(|| {
        let (sh, stop) = (Arc::clone(&shared), stop_rx.clone());
        tokio::spawn(async move { sh.busy_poll.run(sh.config.busy_poll, stop).await })
    });
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let permits = Arc::new(Semaphore::new(
        shared.config.max_clients.min(Semaphore::MAX_PERMITS),
    ));
    let mut acceptors = Vec::new();
    for listener in resp_listeners {
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
    shared.ready.store(true, Ordering::Release);
    // The HTTP endpoint starts after `ready` is set: its listener was bound before `run`, so a
    // probe may already be waiting, and on a multi-thread runtime an endpoint spawned earlier
    // could answer it "not ready" while the acceptors above are still being spawned.
    let mut http_tasks = Vec::new();
    for h in http_listeners {
        http_tasks.push(tokio::spawn(http::serve(
            h,
            Arc::clone(&shared),
            http_stop_rx.clone(),
        )));
    }
    let c = &shared.config;
    let store_config = shared.store.config();
    tracing::info!(
        listeners = ?names,
        max_clients = c.max_clients,
        maxmemory = store_config.max_memory.unwrap_or(0),
        max_entries = store_config.max_entries.unwrap_or(0),
        maxmemory_policy = store_config.eviction_policy.redis_name(),
        max_output_buffer = c.max_output_buffer,
        idle_timeout_secs = c.idle_timeout.map_or(0, |t| t.as_secs()),
        auth = c.requirepass.is_some(),
        "tinykv ready"
    );
    tokio::select! {
        _ = shutdown => tracing::info!(phase = "requested", by = "signal", "shutdown"),
        _ = shared.shutdown_request.notified() => {
            tracing::info!(phase = "requested", by = "SHUTDOWN", "shutdown")
        }
    }
    shared.ready.store(false, Ordering::Release);
    let deadline = tokio::time::Instant::now() + grace;
    let _ = stop_tx.send(true);
    for a in acceptors {
        let _ = a.await;
    }
    let _ = sampler.await;
    if let Some(s) = saver {
        let _ = s.await;
    }
    if let Some(p) = poller {
        let _ = p.await;
    }
    tracing::info!(
        phase = "listeners_closed",
        connected_clients = shared.clients.len(),
        "shutdown"
    );
    drop(done_tx);
    drop(stop_rx);
    if tokio::time::timeout_at(deadline, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!(
            phase = "grace_expired",
            connected_clients = shared.clients.len(),
            "some connections did not finish within {grace:?}; closing them"
        );
    } else {
        tracing::info!(phase = "connections_drained", "shutdown");
    }
    let _ = http_stop_tx.send(true);
    for h in http_tasks {
        let _ = h.await;
    }
    // After the connections: every write they acknowledged is in the shutdown save.
    let (p, store) = (Arc::clone(&shared.persistence), Arc::clone(&shared.store));
    let _ = tokio::task::spawn_blocking(move || persist::save_on_shutdown(&p, &store)).await;
    tracing::info!(
        phase = "complete",
        total_commands_processed = shared.clients.total_commands(),
        "shutdown"
    );
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
                        let n = ctx
                            .shared
                            .rejected_connections
                            .fetch_add(1, Ordering::Relaxed)
                            + 1;
                        // The first refusal, then every 100th: a client storm must not flood logs.
                        if n == 1 || n.is_multiple_of(100) {
                            tracing::warn!(
                                rejected_connections = n,
                                max_clients = ctx.shared.config.max_clients,
                                "refusing connection: max number of clients reached"
                            );
                        }
                        tokio::spawn(connection::reject(
                            conn,
                            "ERR max number of clients reached",
                        ));
                    }
                }
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning; the listener stays open.
                tracing::warn!(error = %e, ?backoff, "accept failed; retrying");
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
        #[cfg(unix)]
        Listener::Unix(u) => {
            let (s, _) = u.listener().accept().await?;
            let path = format!("{}:0", u.path().display());
            Ok(connection::Accepted::Unix(s, path))
        }
        // `run` never passes an HTTP listener to an accept loop.
        Listener::Http(_) => std::future::pending().await,
    }
}
