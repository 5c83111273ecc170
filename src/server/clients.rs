//! [`Clients`], the set of connected clients, for CLIENT ID/LIST/INFO and INFO's clients section.
//!
//! Each connection registers a [`ClientInfo`] and holds the [`ClientGuard`] that unregisters it,
//! so a task that ends any way at all (EOF, error, panic, shutdown) leaves [`Clients`]. The hot
//! path touches only the connection's own entry (once per batch of requests); the
//! set's lock is taken on connect, disconnect and CLIENT LIST.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What CLIENT LIST shows about one connection.
#[derive(Debug)]
pub(crate) struct ClientInfo {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Peer address (`ip:port`, or `path:0` for the Unix socket, as Redis shows it).
    pub addr: String,
    /// Local address the client connected to.
    pub laddr: String,
    /// When the connection was accepted (age).
    pub created: Instant,
    /// Milliseconds after `created` of the last request batch (idle).
    pub last_active_ms: AtomicU64,
    /// CLIENT SETNAME's value; empty when unset.
    pub name: Mutex<String>,
    /// Current namespace (SELECT), shown as `db=`.
    pub db: Mutex<String>,
    /// Last command name as sent (`cmd=`, shown lower case); the buffer is reused.
    pub last_cmd: Mutex<Vec<u8>>,
    /// Commands this client has run; summed for INFO, so no counter is shared between threads.
    pub commands: AtomicU64,
}

impl ClientInfo {
    /// Records a batch of `processed` commands, the last one named `cmd`, finished at `now`.
    pub fn touch(&self, processed: u64, cmd: &[u8], now: Instant) {
        let ms = now.saturating_duration_since(self.created).as_millis() as u64;
        self.last_active_ms.store(ms, Ordering::Relaxed);
        self.commands.fetch_add(processed, Ordering::Relaxed);
        let mut last = lock(&self.last_cmd);
        last.clear();
        last.extend_from_slice(&cmd[..cmd.len().min(32)]);
    }

    /// One CLIENT LIST line (without the trailing newline).
    pub fn line(&self, resp: u8) -> String {
        let age = self.created.elapsed();
        let idle_ms =
            (age.as_millis() as u64).saturating_sub(self.last_active_ms.load(Ordering::Relaxed));
        format!(
            "id={} addr={} laddr={} name={} age={} idle={} flags=N db={} cmd={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            lock(&self.name),
            age.as_secs(),
            idle_ms / 1000,
            lock(&self.db),
            match String::from_utf8_lossy(&lock(&self.last_cmd)).to_lowercase() {
                c if c.is_empty() => "NULL".to_string(),
                c => c,
            },
            resp
        )
    }
}

/// Locks a mutex even if a panicking holder poisoned it (the data is plain strings).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// All connected clients.
#[derive(Debug, Default)]
pub(crate) struct Clients {
    /// Clients by id; ordered so CLIENT LIST is in connection order.
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    /// Last id handed out.
    next_id: AtomicU64,
    /// Commands run by clients that have disconnected.
    closed_commands: AtomicU64,
}

impl Clients {
    /// Registers a new connection; the guard unregisters it on drop.
    pub fn register(&self, addr: String, laddr: String, db: &str) -> ClientGuard<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            name: Mutex::new(String::new()),
            db: Mutex::new(db.to_string()),
            last_cmd: Mutex::new(Vec::new()),
            commands: AtomicU64::new(0),
        });
        lock(&self.clients).insert(id, Arc::clone(&info));
        ClientGuard {
            clients: self,
            info,
        }
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        lock(&self.clients).len()
    }

    /// Commands processed since start, by all clients past and present.
    pub fn total_commands(&self) -> u64 {
        let live: u64 = lock(&self.clients)
            .values()
            .map(|c| c.commands.load(Ordering::Relaxed))
            .sum();
        live + self.closed_commands.load(Ordering::Relaxed)
    }

    /// A snapshot of all clients.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        lock(&self.clients).values().cloned().collect()
    }
}

/// Keeps a client registered while it lives.
#[derive(Debug)]
pub(crate) struct ClientGuard<'a> {
    /// Where to unregister from.
    clients: &'a Clients,
    /// This client's entry.
    pub info: Arc<ClientInfo>,
}

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        lock(&self.clients.clients).remove(&self.info.id);
        let n = self.info.commands.load(Ordering::Relaxed);
        self.clients.closed_commands.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_registers_and_unregisters() {
        let r = Clients::default();
        let a = r.register("a:1".into(), "l:2".into(), "default");
        let b = r.register("b:1".into(), "l:2".into(), "0");
        assert_eq!((a.info.id, b.info.id), (1, 2));
        assert_eq!(r.len(), 2);
        *lock(&b.info.name) = "worker".into();
        let line = b.info.line(2);
        assert!(
            line.starts_with("id=2 addr=b:1 laddr=l:2 name=worker age=0 idle=0"),
            "{line}"
        );
        assert!(line.contains(" db=0 "), "{line}");
        drop(a);
        let ids: Vec<u64> = r.all().iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![2]);
    }
}
