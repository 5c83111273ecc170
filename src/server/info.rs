//! INFO, COMMAND and CONFIG: the introspection Redis tools expect before they do real work.
//!
//! redis-cli asks `COMMAND DOCS` for hints, redis-benchmark asks `CONFIG GET save` and
//! `appendonly`, ioredis's ready check reads `loading:` from INFO. The answers describe TinyKV
//! truthfully where a field has a meaning here, and use Redis's neutral value ("", "no", 0) where
//! it does not. COMMAND COUNT and LIST show the rows of `command::table` that the daemon
//! answers.

use std::sync::atomic::Ordering;

use super::latency;
use super::state::ConnState;
use crate::command::{table, Args, Reply};
use crate::store::{glob, EvictionPolicy};

/// The Redis version TinyKV reports to clients that gate features on it (its command set is a
/// subset of this version's).
pub(crate) const REDIS_COMPAT_VERSION: &str = "7.2.0";

/// INFO [section ...]
pub(crate) fn info(st: &ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    let all = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "cpu",
        "latencystats",
        "keyspace",
    ];
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 0 {
        wanted.extend(all);
    }
    for a in args.rest {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "all" | "everything" | "default" => wanted.extend(all),
            s => {
                if let Some(known) = all.iter().find(|k| **k == s) {
                    wanted.push(known);
                }
            }
        }
    }
    let mut out = String::new();
    for section in all.iter().filter(|s| wanted.contains(s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section_text(st, section, &mut out);
    }
    Reply::Bulk(out.into_bytes())
}

fn section_text(st: &ConnState<'_>, section: &str, out: &mut String) {
    let sh = st.shared;
    let stats = sh.store.stats();
    match section {
        "persistence" => super::persist::info(&sh.persistence, &sh.store, out),
        "server" => {
            out.push_str("# Server\r\n");
            let uptime = sh.started.elapsed().as_secs();
            kv(out, "redis_version", REDIS_COMPAT_VERSION);
            kv(out, "tinykv_version", env!("CARGO_PKG_VERSION"));
            kv(out, "redis_mode", "standalone");
            kv(out, "os", std::env::consts::OS);
            kv(out, "arch_bits", usize::BITS);
            kv(out, "process_id", std::process::id());
            kv(out, "tcp_port", sh.endpoints.port);
            kv(out, "unixsocket", &sh.endpoints.unixsocket);
            kv(out, "uptime_in_seconds", uptime);
            kv(out, "uptime_in_days", uptime / 86400);
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            kv(out, "connected_clients", sh.clients.len());
            kv(out, "maxclients", sh.config.max_clients);
            kv(out, "blocked_clients", 0);
        }
        "memory" => {
            out.push_str("# Memory\r\n");
            kv(out, "used_memory", stats.bytes);
            kv(out, "used_memory_human", human(stats.bytes));
            kv(out, "maxmemory", stats.max_memory.unwrap_or(0));
            kv(out, "maxmemory_human", human(stats.max_memory.unwrap_or(0)));
            kv(
                out,
                "maxmemory_policy",
                policy_name(sh.store.config().eviction_policy),
            );
            kv(out, "max_entries", stats.max_entries.unwrap_or(0));
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            kv(
                out,
                "total_connections_received",
                sh.total_connections.load(Ordering::Relaxed),
            );
            kv(out, "total_commands_processed", sh.clients.total_commands());
            kv(
                out,
                "rejected_connections",
                sh.rejected_connections.load(Ordering::Relaxed),
            );
            kv(out, "expired_keys", stats.expired);
            kv(out, "evicted_keys", stats.evicted);
            kv(
                out,
                "instantaneous_ops_per_sec",
                sh.ops_per_sec.load(Ordering::Relaxed),
            );
            kv(out, "keyspace_hits", stats.hits);
            kv(out, "keyspace_misses", stats.misses);
            kv(
                out,
                "keyspace_hit_ratio",
                format_args!("{:.4}", stats.hit_ratio()),
            );
            kv(out, "loading", 0);
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            let (own, children) = process_cpu_times();
            kv(out, "used_cpu_sys", format_args!("{:.6}", own.sys));
            kv(out, "used_cpu_user", format_args!("{:.6}", own.user));
            kv(
                out,
                "used_cpu_sys_children",
                format_args!("{:.6}", children.sys),
            );
            kv(
                out,
                "used_cpu_user_children",
                format_args!("{:.6}", children.user),
            );
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            for (name, h) in sh.latency.snapshot() {
                let key = format!("latency_percentiles_usec_{name}");
                kv(out, &key, latency::percentiles_text(&h));
            }
        }
        _ => {
            out.push_str("# Keyspace\r\n");
            for ns in &stats.namespaces {
                kv(
                    out,
                    &ns.name,
                    format_args!("keys={},bytes={}", ns.keys, ns.bytes),
                );
            }
        }
    }
}

/// CPU seconds spent in the kernel and in user space.
#[derive(Debug, Default, Clone, Copy)]
struct CpuTimes {
    sys: f64,
    user: f64,
}

/// The CPU times of the daemon (every thread) and of its waited-for children.
#[cfg(unix)]
fn process_cpu_times() -> (CpuTimes, CpuTimes) {
    (
        cpu_times(libc::RUSAGE_SELF),
        cpu_times(libc::RUSAGE_CHILDREN),
    )
}

/// The CPU times of the daemon (every thread, from `GetProcessTimes`; zeros if the call fails)
/// and zeros for its children: Windows keeps no totals of waited-for children, and the daemon
/// starts none.
#[cfg(windows)]
fn process_cpu_times() -> (CpuTimes, CpuTimes) {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};
    let zero = || FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero(), zero(), zero(), zero());
    // SAFETY: the pseudo-handle of our own process is always valid, and the call writes only
    // the four FILETIMEs it is given.
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    if ok == 0 {
        return (CpuTimes::default(), CpuTimes::default());
    }
    // FILETIME counts 100 ns ticks.
    let secs = |t: FILETIME| {
        ((u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime)) as f64 / 1e7
    };
    let own = CpuTimes {
        sys: secs(kernel),
        user: secs(user),
    };
    (own, CpuTimes::default())
}

/// `getrusage(who)`'s CPU times (`RUSAGE_SELF`: every thread of the daemon; `RUSAGE_CHILDREN`:
/// its waited-for children), or zeros if the call fails.
#[cfg(unix)]
fn cpu_times(who: libc::c_int) -> CpuTimes {
    // SAFETY: `getrusage` writes only the `rusage` it is given, which is plain data.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return CpuTimes::default();
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    CpuTimes {
        sys: secs(ru.ru_stime),
        user: secs(ru.ru_utime),
    }
}

/// Appends one `key:value` INFO line.
fn kv(out: &mut String, key: &str, value: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{key}:{value}\r\n");
}

/// The policy as Redis names it (`allkeys-lru`, `allkeys-lfu`, `volatile-ttl`, `noeviction`).
fn policy_name(p: EvictionPolicy) -> &'static str {
    p.redis_name()
}

/// Bytes in Redis's human form (`1.50M`).
fn human(n: u64) -> String {
    let units = [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)];
    for (u, size) in units {
        if n >= size {
            return format!("{:.2}{u}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

/// COMMAND [COUNT | LIST | DOCS ... | INFO ...]
pub(crate) fn command(args: &Args<'_, Vec<u8>>) -> Reply {
    let Some(sub) = args.rest.first() else {
        return Reply::Array(vec![]);
    };
    match String::from_utf8_lossy(sub).to_ascii_uppercase().as_str() {
        "COUNT" => Reply::Int(table::answered().len() as i64),
        "LIST" => Reply::Array(
            table::answered()
                .iter()
                .map(|c| Reply::Bulk(c.name.as_bytes().to_vec()))
                .collect(),
        ),
        // No docs or per-command info: tools treat an empty answer as "no hints".
        "DOCS" => Reply::Array(vec![]),
        "INFO" => Reply::Array(args.rest[1..].iter().map(|_| Reply::Nil).collect()),
        _ => Reply::error(format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(sub)
        )),
    }
}

/// CONFIG GET pattern [pattern ...] | CONFIG SET (refused) | CONFIG RESETSTAT
pub(crate) fn config(st: &ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    let Some(sub) = args.rest.first() else {
        return args.arity_error().into();
    };
    let sh = st.shared;
    match String::from_utf8_lossy(sub).to_ascii_uppercase().as_str() {
        "GET" if args.len() >= 2 => {
            let c = sh.store.config();
            let params: Vec<(&str, String)> = vec![
                ("save", String::new()),
                ("appendonly", "no".into()),
                ("databases", "16".into()),
                ("maxmemory", c.max_memory.unwrap_or(0).to_string()),
                ("maxmemory-policy", policy_name(c.eviction_policy).into()),
                ("maxclients", sh.config.max_clients.to_string()),
                (
                    "timeout",
                    sh.config
                        .idle_timeout
                        .map_or(0, |t| t.as_secs())
                        .to_string(),
                ),
                ("port", sh.endpoints.port.to_string()),
                ("unixsocket", sh.endpoints.unixsocket.clone()),
                ("proto-max-bulk-len", sh.config.limits.max_bulk.to_string()),
                (
                    "client-query-buffer-limit",
                    sh.config.limits.max_bulk.to_string(),
                ),
            ];
            let mut pairs = Vec::new();
            for (k, v) in params {
                let hit = args.rest[1..]
                    .iter()
                    .any(|p| glob::matches(&p.to_ascii_lowercase(), k.as_bytes()));
                if hit {
                    pairs.push((
                        Reply::Bulk(k.as_bytes().to_vec()),
                        Reply::Bulk(v.into_bytes()),
                    ));
                }
            }
            Reply::Map(pairs)
        }
        "SET" if args.len() >= 3 => Reply::error(format!(
            "ERR Unsupported CONFIG parameter: {}",
            String::from_utf8_lossy(args.bytes(1))
        )),
        "RESETSTAT" if args.len() == 1 => Reply::ok(),
        "GET" | "SET" | "RESETSTAT" => Reply::error(format!(
            "ERR wrong number of arguments for 'config|{}' command",
            String::from_utf8_lossy(sub).to_lowercase()
        )),
        _ => Reply::error(format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(sub)
        )),
    }
}
