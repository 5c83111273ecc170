//! The state a daemon's requests run against: [`ServerState`], shared by every connection task
//! (store, config, the connected `Clients`, counters, latency totals), and [`ConnState`], one
//! connection's protocol state. They live apart from the connection loop so that the command
//! handlers (`admin`, `info`) and the observers (`latency`, `collector`, `http`) depend on this
//! file, not on each other or on `connection`.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::busy_poll::BusyPoll;
use super::clients::{ClientInfo, Clients};
use super::latency::{Latency, LocalLatency};
use super::persist::Persistence;
use super::ServerConfig;
use crate::command::Session;
use crate::protocol::Resp;
use crate::store::Store;

/// State every connection task shares.
#[derive(Debug)]
pub(crate) struct ServerState {
    /// The store all clients read and write.
    pub(crate) store: Arc<Store>,
    /// Limits and auth, fixed for the server's life.
    pub(crate) config: ServerConfig,
    /// Connected clients, for CLIENT LIST and INFO.
    pub(crate) clients: Clients,
    /// When the server started, for INFO's uptime.
    pub(crate) started: Instant,
    /// Connections accepted since start (INFO stats).
    pub(crate) total_connections: AtomicU64,
    /// Connections refused at `max_clients` (INFO stats).
    pub(crate) rejected_connections: AtomicU64,
    /// Woken by the SHUTDOWN command.
    pub(crate) shutdown_request: Notify,
    /// TCP port (0 if none) and Unix socket path, for INFO.
    pub(crate) endpoints: Endpoints,
    /// Per-command latency totals (INFO latencystats, STATS, /metrics).
    pub(crate) latency: Latency,
    /// True while the listeners accept; `/readyz` answers from it.
    pub(crate) ready: AtomicBool,
    /// Commands per second over the last sampling period (INFO instantaneous_ops_per_sec).
    pub(crate) ops_per_sec: AtomicU64,
    /// Connections report served requests here; the busy poller spins while they do.
    pub(crate) busy_poll: BusyPoll,
    /// Snapshot state (SAVE, BGSAVE, LASTSAVE, INFO persistence); shared with a BGSAVE thread.
    pub(crate) persistence: Arc<Persistence>,
}

/// Where the server listens, for INFO and CONFIG GET.
#[derive(Debug, Default, Clone)]
pub(crate) struct Endpoints {
    /// TCP port, 0 when TCP is off.
    pub(crate) port: u16,
    /// Unix socket path, empty when off.
    pub(crate) unixsocket: String,
}

/// Per-connection protocol state (everything except the byte buffers and the decoder, so
/// requests borrowed from the decoder can be dispatched against it).
pub(crate) struct ConnState<'a> {
    /// Server-wide state.
    pub shared: &'a ServerState,
    /// This client's entry in [`Clients`].
    pub info: &'a ClientInfo,
    /// Namespace selection.
    pub session: Session,
    /// Protocol version (HELLO).
    pub resp: Resp,
    /// False until AUTH succeeds when a password is set.
    pub authenticated: bool,
    /// Name of the last command, reused buffer (for CLIENT LIST's `cmd=`).
    pub last_cmd: Vec<u8>,
    /// Command durations not yet merged into the server's totals.
    pub latency: LocalLatency,
}
