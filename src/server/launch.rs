//! `tinykv serve`: wires options to a runtime, a store, listeners and signals, then [`run`]s
//! (launching the daemon; the CLI parses its flags in `cli/serve.rs`).
//!
//! Exit codes: 0 after a graceful shutdown (SIGINT, SIGTERM or SHUTDOWN), 1 when startup fails
//! (bad options, socket in use, address in use), 130 when a second signal forces an exit.
//!
//! Signals (`signals.rs`): the first SIGINT/SIGTERM (or host request) shuts down gracefully and
//! a second returns 130 at once, removing the socket file only if it is still the one this
//! daemon bound.
//!
//! Output: the `tinykv listening on ...` announcements go to stdout (tools and tests read the
//! bound addresses there); logs go to stderr through `tracing`, as text or, with
//! [`LogFormat::Json`], one JSON object per line on both: the announcements become
//! `{"message":"tinykv listening","listener":"unix:..."}` lines (`launch/logging.rs`).
//! `--log-level` takes tracing's level names and Redis's (`warning`, `notice`, `verbose`) and
//! refuses anything else, which tracing would read as a target and so log nothing.
//!
//! Windows: no Unix socket (`socket` set is a usage error, exit 2), TCP on
//! [`DEFAULT_TCP_PORT`](super::DEFAULT_TCP_PORT) unless `port` says otherwise, Ctrl-C or
//! Ctrl-Break for SIGINT/SIGTERM, and no open-file limit to fit (sockets are handles there).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

mod logging;

use super::listen::bind_tcp;
#[cfg(not(unix))]
use super::listen::DEFAULT_TCP_PORT;
#[cfg(unix)]
use super::listen::{bind_unix, default_socket_path, ensure_private_dir, remove_socket};
use super::signals::{host_stops, stop_requests, Signals};
use super::{run, Listener, ServerConfig};
use crate::store::{Config, Store};

/// Everything `tinykv serve` can be told; the CLI fills it from flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Unix socket path; `None` = the default socket (`default_socket_path`). Windows has no
    /// Unix sockets: there `None` is the only value [`serve`] accepts.
    pub socket: Option<PathBuf>,
    /// Permission bits of the socket file (Unix only).
    pub socket_perm: u32,
    /// TCP port; TCP is off when `None` (on Windows, where TCP is the only listener,
    /// `None` is [`DEFAULT_TCP_PORT`](super::DEFAULT_TCP_PORT)).
    pub port: Option<u16>,
    /// TCP address; loopback when `None`. A non-loopback address requires `requirepass`.
    pub bind: Option<IpAddr>,
    /// The store's configuration (caps, TTL default).
    pub store: Config,
    /// Server limits, auth and timeouts.
    pub server: ServerConfig,
    /// Worker threads; `None` = one per core (one in all on machines with two cores or fewer).
    /// One thread runs a current-thread runtime: every connection, timer and the accept loops
    /// share it, as in Redis, and nothing wakes another thread per request.
    pub threads: Option<usize>,
    /// Address of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`); off when `None`.
    /// It has no authentication, so a non-loopback address requires `metrics_public`.
    pub metrics_addr: Option<SocketAddr>,
    /// Allow `metrics_addr` on a non-loopback address.
    pub metrics_public: bool,
    /// How log lines look.
    pub log_format: LogFormat,
    /// A `tracing` filter (`info`, `debug`, `tinykv=debug`; Redis's `verbose`, `notice`,
    /// `warning` and `nothing` are aliases, unknown levels refuse to start); `None` = `RUST_LOG`,
    /// else `TINYKV_LOG`, else `info`.
    pub log_level: Option<String>,
    /// Who turns SIGINT and SIGTERM into a shutdown.
    pub signals: Signals,
}

/// How the daemon writes its logs (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (coloured when stderr is a terminal).
    #[default]
    Text,
    /// One JSON object per line, fields at the top level, for log shippers.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unknown log format '{s}' (expected text or json)")),
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            socket: None,
            socket_perm: 0o600,
            port: None,
            bind: None,
            store: Config::default(),
            server: ServerConfig::default(),
            threads: None,
            metrics_addr: None,
            metrics_public: false,
            log_format: LogFormat::Text,
            log_level: None,
            signals: Signals::Own,
        }
    }
}

/// Runs the daemon until it is shut down; see the module docs for exit codes.
pub fn serve(opts: ServeOptions) -> ExitCode {
    #[cfg(not(unix))]
    if let Some(path) = &opts.socket {
        say(
            &mut std::io::stderr(),
            format_args!(
                "tinykv serve: ERR --socket {}: Unix sockets are not supported on Windows; the \
                 daemon listens on TCP (--port N, {DEFAULT_TCP_PORT} by default)",
                path.display()
            ),
        );
        return ExitCode::from(2);
    }
    let json = opts.log_format == LogFormat::Json;
    if let Err(msg) = logging::init(opts.log_format, opts.log_level.as_deref()) {
        say(
            &mut std::io::stderr(),
            format_args!("tinykv serve: ERR {msg}"),
        );
        return ExitCode::from(2);
    }
    match serve_inner(opts) {
        Ok(code) => code,
        Err(msg) if json => {
            tracing::error!(error = %msg, "startup failed");
            ExitCode::from(1)
        }
        Err(msg) => {
            say(
                &mut std::io::stderr(),
                format_args!("tinykv serve: ERR {msg}"),
            );
            ExitCode::from(1)
        }
    }
}

/// Writes one line and flushes, ignoring errors: a daemon whose stdout or stderr was closed
/// (`tinykv serve | head -1`) must keep serving, where `println!` would panic.
fn say(out: &mut dyn Write, line: std::fmt::Arguments<'_>) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Says on stdout where the daemon listens: `{what} on {value}` (tools and tests read the bound
/// addresses there), or with `--log-format json` one JSON log line with message `what` and
/// `value` in `field`.
fn announce(json: bool, what: &str, field: &str, value: &str) {
    let line = if json {
        let fields = [(field, serde_json::Value::String(value.into()))];
        logging::json_line(tracing::Level::INFO, what, &fields, module_path!())
    } else {
        format!("{what} on {value}")
    };
    say(&mut std::io::stdout(), format_args!("{line}"));
}

/// Worker threads when `--threads` is not given: one per core, except on machines with two
/// cores or fewer, where one thread serves everything. There a client on the same machine needs
/// the other core, and a second tokio worker only adds cross-thread wakeups (measured with
/// redis-benchmark -P 1 -c 50: ~250-360 vs ~150 context switches per 1000 requests, and 8.6-10
/// vs 7.1-8.6 us of CPU per request). One thread also enables busy polling (`busy_poll.rs`).
fn default_threads() -> usize {
    match std::thread::available_parallelism().map_or(1, usize::from) {
        n if n <= 2 => 1,
        n => n,
    }
}

/// Descriptors kept for everything but clients (listeners, the runtime, stdio, rejections in
/// flight), as Redis's `CONFIG_MIN_RESERVED_FDS`.
#[cfg(unix)]
const RESERVED_FDS: u64 = 32;

/// Makes room for `max_clients` under RLIMIT_NOFILE, as Redis does: raises the soft limit toward
/// `max_clients + RESERVED_FDS` (up to the hard limit), and when that is not enough returns the
/// number of clients that fit (the limit minus the reserve, at least 1) and logs a warning.
/// Otherwise clients past the limit would hang unanswered while accept failed with EMFILE; with
/// the lower cap they get `-ERR max number of clients reached`.
#[cfg(unix)]
fn fit_fd_limit(max_clients: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return max_clients;
    }
    let want = (max_clients as u64).saturating_add(RESERVED_FDS);
    if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < want {
        let raised = libc::rlimit {
            rlim_cur: want.min(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we pass; failure leaves the limit as it was.
        if raised.rlim_cur > lim.rlim_cur
            && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0
        {
            lim.rlim_cur = raised.rlim_cur;
        }
    }
    if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur >= want {
        return max_clients;
    }
    let fits = usize::try_from(lim.rlim_cur.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(1);
    tracing::warn!(
        open_files_limit = lim.rlim_cur,
        requested_max_clients = max_clients,
        max_clients = fits,
        "the open-file limit (ulimit -n) is too low for --max-clients; serving at most \
         {fits} clients (the limit minus {RESERVED_FDS} reserved descriptors)"
    );
    fits
}

/// Windows has no open-file limit on sockets (they are handles): every client fits.
#[cfg(not(unix))]
fn fit_fd_limit(max_clients: usize) -> usize {
    max_clients
}

fn serve_inner(mut opts: ServeOptions) -> Result<ExitCode, String> {
    // TCP is a Windows daemon's only listener, so it is always on.
    #[cfg(not(unix))]
    {
        opts.port = Some(opts.port.unwrap_or(DEFAULT_TCP_PORT));
    }
    let json = opts.log_format == LogFormat::Json;
    let bind_ip = opts.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if opts.bind.is_some() && opts.port.is_none() {
        return Err("--bind needs --port (TCP is off without it)".into());
    }
    // A blank password would pass the guard below and then accept `AUTH ""`.
    if opts
        .server
        .requirepass
        .as_deref()
        .is_some_and(|p| p.trim().is_empty())
    {
        return Err("refusing an empty or blank --requirepass".into());
    }
    if !bind_ip.is_loopback() && opts.port.is_some() && opts.server.requirepass.is_none() {
        return Err(format!(
            "refusing to listen on non-loopback address {bind_ip} without --requirepass \
             (or --requirepass-file, or $TINYKV_PASSWORD)"
        ));
    }
    if let Some(addr) = opts.metrics_addr {
        if !addr.ip().is_loopback() && !opts.metrics_public {
            return Err(format!(
                "refusing to serve /metrics on non-loopback address {addr}: the endpoint has no \
                 authentication (pass --metrics-public to expose it anyway)"
            ));
        }
    }
    opts.server.max_clients = fit_fd_limit(opts.server.max_clients);
    let threads = opts.threads.unwrap_or_else(default_threads).max(1);
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let rt = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    let store = Arc::new(Store::new(opts.store.clone()).map_err(|e| e.to_string())?);
    #[cfg(unix)]
    let socket_path = opts.socket.clone().unwrap_or_else(default_socket_path);
    let opts_signals = opts.signals;
    let result = rt.block_on(async move {
        #[cfg(unix)]
        if opts.socket.is_none() {
            if let Some(dir) = socket_path.parent() {
                ensure_private_dir(dir).map_err(|e| e.to_string())?;
            }
        }
        // Handlers go in before the socket exists: once a client or supervisor can see the
        // daemon, a signal must mean "shut down gracefully", never the default "die".
        let mut stops = stop_requests(opts.signals)?;
        let mut listeners = Vec::new();
        #[cfg(unix)]
        let ident = {
            let unix = bind_unix(&socket_path, opts.socket_perm).map_err(|e| e.to_string())?;
            let ident = unix.ident();
            let unix_name = format!("unix:{}", socket_path.display());
            announce(json, "tinykv listening", "listener", &unix_name);
            listeners.push(Listener::Unix(unix));
            ident
        };
        if let Some(port) = opts.port {
            let tcp = bind_tcp(SocketAddr::new(bind_ip, port)).map_err(|e| e.to_string())?;
            let local = tcp.local_addr().map_err(|e| e.to_string())?;
            announce(
                json,
                "tinykv listening",
                "listener",
                &format!("tcp:{local}"),
            );
            listeners.push(Listener::Tcp(tcp));
        }
        if let Some(addr) = opts.metrics_addr {
            let http = bind_tcp(addr).map_err(|e| format!("--metrics-addr {addr}: {e}"))?;
            let local = http.local_addr().map_err(|e| e.to_string())?;
            let url = format!("http://{local}/metrics");
            announce(json, "tinykv metrics", "url", &url);
            listeners.push(Listener::Http(http));
        }
        // Bound but not yet accepting: clients wait in the backlog and `/readyz` is not served
        // until the snapshot is in the store.
        if let Some(path) = opts.server.persist.snapshot.as_deref() {
            super::persist::load_at_start(&store, path)?;
        }
        let (forced_tx, forced_rx) = oneshot::channel::<()>();
        let shutdown = async move {
            if stops.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
            tracing::info!(
                phase = "signal",
                "signal received; shutting down (send another to exit at once)"
            );
            tokio::spawn(async move {
                if stops.recv().await.is_some() {
                    let _ = forced_tx.send(());
                }
            });
        };
        let forced = tokio::select! {
            r = run(listeners, store, opts.server, shutdown) => {
                r.map_err(|e| e.to_string())?;
                false
            }
            Ok(()) = forced_rx => true,
        };
        if forced {
            if json {
                tracing::warn!(phase = "forced", "second signal; exiting now");
            } else {
                say(
                    &mut std::io::stderr(),
                    format_args!("tinykv serve: second signal; exiting now"),
                );
            }
            // Our listener may already be closed and a newer daemon bound on the same path.
            #[cfg(unix)]
            remove_socket(&socket_path, ident);
        }
        Ok::<_, String>(forced)
    });
    if opts_signals == Signals::Host {
        // Requests that come after this daemon ended are not meant for a later one.
        let mut stops = host_stops();
        stops.tx = None;
        stops.pending = 0;
    }
    if result.as_ref().is_ok_and(|forced| *forced) {
        // Connections still flushing are dropped with the runtime; nothing waits for them.
        rt.shutdown_background();
        return Ok(ExitCode::from(130));
    }
    rt.shutdown_timeout(Duration::from_millis(500));
    result?;
    if json {
        tracing::info!(phase = "exit", "shut down cleanly");
    } else {
        say(
            &mut std::io::stderr(),
            format_args!("tinykv serve: shut down cleanly"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
