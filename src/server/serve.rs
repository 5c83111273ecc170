//! `tinykv serve`: wires options to a runtime, a store, listeners and signals, then [`run`]s.
//!
//! Exit codes: 0 after a graceful shutdown (SIGINT, SIGTERM or SHUTDOWN), 1 when startup fails
//! (bad options, socket in use, address in use), 130 when a second signal forces an exit.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use super::listen::{bind_tcp, bind_unix, default_socket_path, ensure_private_dir};
use super::{run, Listener, ServerConfig};
use crate::store::{Config, Store};

/// Everything `tinykv serve` can be told; the CLI fills it from flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Unix socket path; `None` = [`default_socket_path`].
    pub socket: Option<PathBuf>,
    /// Permission bits of the socket file.
    pub socket_perm: u32,
    /// TCP port; TCP is off when `None`.
    pub port: Option<u16>,
    /// TCP address; loopback when `None`. A non-loopback address requires `requirepass`.
    pub bind: Option<IpAddr>,
    /// The store's configuration (caps, TTL default).
    pub store: Config,
    /// Server limits, auth and timeouts.
    pub server: ServerConfig,
    /// Worker threads; `None` = one per core.
    pub threads: Option<usize>,
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
        }
    }
}

/// Runs the daemon until it is shut down; see the module docs for exit codes.
pub fn serve(opts: ServeOptions) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TINYKV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    match serve_inner(opts) {
        Ok(code) => code,
        Err(msg) => {
            say(&mut std::io::stderr(), format_args!("tinykv serve: {msg}"));
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

fn serve_inner(opts: ServeOptions) -> Result<ExitCode, String> {
    let bind_ip = opts.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if opts.bind.is_some() && opts.port.is_none() {
        return Err("--bind needs --port (TCP is off without it)".into());
    }
    if !bind_ip.is_loopback() && opts.port.is_some() && opts.server.requirepass.is_none() {
        return Err(format!(
            "refusing to listen on non-loopback address {bind_ip} without --requirepass"
        ));
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = opts.threads {
        builder.worker_threads(n.max(1));
    }
    let rt = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    let store = Arc::new(Store::new(opts.store.clone()).map_err(|e| e.to_string())?);
    let socket_path = opts.socket.clone().unwrap_or_else(default_socket_path);
    let result = rt.block_on(async move {
        if opts.socket.is_none() {
            if let Some(dir) = socket_path.parent() {
                ensure_private_dir(dir).map_err(|e| e.to_string())?;
            }
        }
        // Handlers go in before the socket exists: once a client or supervisor can see the
        // daemon, a signal must mean "shut down gracefully", never the default "die".
        let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut listeners = Vec::new();
        let unix = bind_unix(&socket_path, opts.socket_perm).map_err(|e| e.to_string())?;
        say(
            &mut std::io::stdout(),
            format_args!("tinykv listening on unix:{}", socket_path.display()),
        );
        listeners.push(Listener::Unix(unix));
        if let Some(port) = opts.port {
            let tcp = bind_tcp(SocketAddr::new(bind_ip, port)).map_err(|e| e.to_string())?;
            let local = tcp.local_addr().map_err(|e| e.to_string())?;
            say(
                &mut std::io::stdout(),
                format_args!("tinykv listening on tcp:{local}"),
            );
            listeners.push(Listener::Tcp(tcp));
        }
        let forced_path = socket_path.clone();
        let shutdown = async move {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            tracing::info!("signal received; shutting down (send another to exit at once)");
            tokio::spawn(async move {
                tokio::select! {
                    _ = sigint.recv() => {}
                    _ = sigterm.recv() => {}
                }
                say(
                    &mut std::io::stderr(),
                    format_args!("tinykv serve: second signal; exiting now"),
                );
                let _ = std::fs::remove_file(&forced_path);
                std::process::exit(130);
            });
        };
        run(listeners, store, opts.server, shutdown)
            .await
            .map_err(|e| e.to_string())
    });
    rt.shutdown_timeout(Duration::from_millis(500));
    result?;
    say(
        &mut std::io::stderr(),
        format_args!("tinykv serve: shut down cleanly"),
    );
    Ok(ExitCode::SUCCESS)
}
