//! Who turns SIGINT and SIGTERM into a daemon shutdown, and the stream of stop requests
//! `serve` waits on.
//!
//! With [`Signals::Own`] (the cargo binary) the daemon installs tokio handlers. With
//! [`Signals::Host`] (the Node addon's `runCliAsync`, used by `npx tinykv serve`) it installs
//! none and the host calls [`request_shutdown`] per signal: inside Node, tokio's handler chains
//! to Node's, which re-raises the signal into tokio's again, forever.
//!
//! Invariant: each signal or request is one message on the stream; `serve` reads the first as
//! "shut down gracefully" and the second as "exit now".
//!
//! Windows has no SIGINT/SIGTERM to install handlers for: there the daemon's own handlers take
//! the console's Ctrl-C and Ctrl-Break events instead, one message each.

use tokio::sync::mpsc;

/// Who turns SIGINT and SIGTERM into a shutdown (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signals {
    /// The daemon installs its own handlers (the cargo binary).
    #[default]
    Own,
    /// The host process owns the signals and calls [`request_shutdown`] for each one.
    Host,
}

/// Stop requests from a host ([`Signals::Host`]): the running daemon's channel, and requests
/// that came before it registered (a signal during startup), which it takes over.
pub(super) struct HostStops {
    /// Requests not yet delivered to a daemon.
    pub(super) pending: u32,
    /// The running daemon's stop channel.
    pub(super) tx: Option<mpsc::UnboundedSender<()>>,
}

static HOST_STOPS: std::sync::Mutex<HostStops> = std::sync::Mutex::new(HostStops {
    pending: 0,
    tx: None,
});

pub(super) fn host_stops() -> std::sync::MutexGuard<'static, HostStops> {
    HOST_STOPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Asks the daemon running in this process with [`Signals::Host`] (or the one starting; a
/// request with no daemon is kept until one starts) to shut down, as a signal would: the first request is graceful, a second exits at once (130). Safe
/// to call from any thread, including a signal listener on Node's main thread.
pub fn request_shutdown() {
    let mut stops = host_stops();
    if let Some(tx) = &stops.tx {
        if tx.send(()).is_ok() {
            return;
        }
    }
    stops.pending += 1;
}

/// The stream of stop requests: one message per SIGINT/SIGTERM (or [`request_shutdown`]).
/// Must be called inside the runtime.
pub(super) fn stop_requests(signals: Signals) -> Result<mpsc::UnboundedReceiver<()>, String> {
    let (tx, rx) = mpsc::unbounded_channel();
    match signals {
        Signals::Own => own_handlers(tx)?,
        Signals::Host => {
            let mut stops = host_stops();
            for _ in 0..std::mem::take(&mut stops.pending) {
                let _ = tx.send(());
            }
            stops.tx = Some(tx);
        }
    }
    Ok(rx)
}

/// Installs the daemon's handlers: each SIGINT or SIGTERM sends one message on `tx`.
#[cfg(unix)]
fn own_handlers(tx: mpsc::UnboundedSender<()>) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    default_if_hosted(libc::SIGINT);
    default_if_hosted(libc::SIGTERM);
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sigint.recv() => {}
                _ = sigterm.recv() => {}
            }
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// Installs the daemon's handlers on Windows: each Ctrl-C or Ctrl-Break console event (what a
/// terminal, `GenerateConsoleCtrlEvent` or a process supervisor sends) is one message on `tx`.
#[cfg(windows)]
fn own_handlers(tx: mpsc::UnboundedSender<()>) -> Result<(), String> {
    use tokio::signal::windows::{ctrl_break, ctrl_c};
    let mut ctrl_c = ctrl_c().map_err(|e| e.to_string())?;
    let mut ctrl_break = ctrl_break().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = ctrl_c.recv() => {}
                _ = ctrl_break.recv() => {}
            }
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// Resets `sig` to its default action if a handler function is installed (a host such as Node
/// runs us in-process), before tokio installs its own: tokio chains to the handler it found, and
/// Node's re-raises the signal, which would loop forever. `SIG_IGN` is left alone.
#[cfg(unix)]
fn default_if_hosted(sig: libc::c_int) {
    // SAFETY: sigaction with a null new action only reads the current one into `old`.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
        return;
    }
    if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
        // SAFETY: installs the default action, which has no handler to be unsafe in.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}
