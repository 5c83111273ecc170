//! `tinykv serve [flags]`: parses the daemon's flags into [`ServeOptions`] and runs it.
//! Parsing only; the daemon itself is `crate::server`.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::protocol::Limits;
use crate::server::{serve, LogFormat, PersistOptions, ServeOptions, ServerConfig, Signals};
use crate::store::{parse_memory_size, Config, EvictionPolicy};

#[cfg_attr(
    unix,
    doc = "Run the TinyKV daemon: Redis protocol (RESP2, RESP3 via HELLO 3) on a Unix socket, and on
TCP when --port is given."
)]
#[cfg_attr(
    not(unix),
    doc = "Run the TinyKV daemon: Redis protocol (RESP2, RESP3 via HELLO 3) on TCP (Windows has no
Unix sockets)."
)]
#[derive(Debug, Parser)]
#[command(name = "tinykv serve", bin_name = "tinykv serve", version)]
struct ServeArgs {
    /// Unix socket path [default: $XDG_RUNTIME_DIR/tinykv.sock, else /tmp/tinykv-$UID/tinykv.sock].
    #[cfg_attr(not(unix), doc = "Not on Windows, which has no Unix sockets.")]
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Permission bits of the socket file, in octal.
    #[arg(long, value_name = "MODE", default_value = "600", value_parser = parse_octal)]
    socket_perm: u32,
    /// Also listen on this TCP port (0 picks a free port).
    #[cfg_attr(not(unix), doc = "On Windows the only listener, on 6379 by default.")]
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// TCP address [default: 127.0.0.1]; a non-loopback address requires a password
    /// (--requirepass, --requirepass-file or $TINYKV_PASSWORD).
    #[arg(long, value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// Entry cap (entries past it are evicted by --eviction-policy).
    #[arg(long, value_name = "N")]
    max_entries: Option<usize>,
    /// Byte cap, e.g. 64mb or 1gb (binary units, as Redis reads them).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    /// What to evict at a cap: lru, lfu, volatile-ttl, noeviction (or allkeys-lru, allkeys-lfu).
    #[arg(long, value_name = "POLICY", default_value = "lru")]
    eviction_policy: String,
    /// SELECT accepts indexes below N, as Redis's `databases` (0 is the default namespace).
    #[arg(long, value_name = "N", default_value_t = 16)]
    databases: u32,
    /// Most simultaneous clients (at least 1; lowered at startup to fit the open-file limit).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_clients: u32,
    /// Require AUTH with this password (visible in `ps`: prefer --requirepass-file or
    /// $TINYKV_PASSWORD). An empty or blank password is refused.
    #[arg(long, value_name = "SECRET", conflicts_with = "requirepass_file")]
    requirepass: Option<String>,
    /// Require AUTH with the password in this file (one trailing newline is dropped).
    /// Without either flag, $TINYKV_PASSWORD is used when set.
    #[arg(long, value_name = "FILE")]
    requirepass_file: Option<PathBuf>,
    /// Close clients idle for this many seconds (0 = never).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    timeout: u64,
    /// Longest bulk argument, e.g. 512mb.
    #[arg(long, value_name = "SIZE", default_value = "512mb")]
    max_bulk_len: String,
    /// Longest inline request, e.g. 64kb.
    #[arg(long, value_name = "SIZE", default_value = "64kb")]
    max_inline_len: String,
    /// Most arguments in one request.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_MULTIBULK)]
    max_multibulk_len: usize,
    /// Pending reply bytes per client before it must read (0 = unlimited), e.g. 64mb.
    #[arg(long, value_name = "SIZE", default_value = "64mb")]
    max_output_buffer: String,
    /// After serving requests, poll for more without sleeping for this many microseconds, so a
    /// busy client does not have to wake the server for each request (0 = off, at most 1000000).
    /// Only with one thread (--threads 1, the default on 2 cores or fewer).
    #[arg(
        long,
        value_name = "MICROS",
        default_value_t = ServerConfig::DEFAULT_BUSY_POLL.as_micros() as u64,
        value_parser = clap::value_parser!(u64).range(0..=1_000_000)
    )]
    busy_poll_us: u64,
    /// Worker threads [default: one per core; one on machines with 2 cores or fewer].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Serve GET /metrics, /healthz and /readyz over HTTP on this address (port 0 picks one).
    /// The endpoint has no authentication: a non-loopback address requires --metrics-public.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics_addr: Option<SocketAddr>,
    /// Allow --metrics-addr on a non-loopback address (for a scraper on another host or outside
    /// a container); anyone who can reach it reads the store's counts and namespace names.
    #[arg(long)]
    metrics_public: bool,
    /// Log format on stderr: text or json (one object per line).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Log filter: a level (trace, debug, info, warn, error, off, or Redis's verbose, notice,
    /// warning, nothing) or TARGET=LEVEL pairs, e.g. tinykv=debug [default: $RUST_LOG, else
    /// $TINYKV_LOG, else info]. Unknown levels are refused.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Snapshot file: loaded at start when it exists (before clients are accepted), written by
    /// SAVE, BGSAVE, --save-interval and --save-on-shutdown (atomically: never half-written).
    #[arg(long, value_name = "FILE")]
    snapshot: Option<PathBuf>,
    /// With --snapshot: save in the background every SECS seconds when anything changed.
    #[arg(long, value_name = "SECS", requires = "snapshot",
          value_parser = clap::value_parser!(u64).range(1..))]
    save_interval: Option<u64>,
    /// With --snapshot: save during a graceful shutdown (SIGINT, SIGTERM, SHUTDOWN).
    #[arg(long, requires = "snapshot")]
    save_on_shutdown: bool,
}

fn parse_octal(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("'{s}' is not an octal permission mode like 600"))
}

fn size(s: &str) -> Result<usize, String> {
    let n = parse_memory_size(s).map_err(|e| e.to_string())?;
    usize::try_from(n).map_err(|_| format!("{s} is too large"))
}

/// The environment variable `tinykv serve` reads the password from when no flag gives one.
pub const PASSWORD_ENV: &str = "TINYKV_PASSWORD";

/// The daemon's password from, in order: `--requirepass`, `--requirepass-file` (clap refuses
/// both at once), then the environment variable `env`. An empty or blank result is an error, so
/// `--requirepass "$PASS"` with `PASS` unset never starts a daemon that accepts `AUTH ""`.
fn password(
    flag: Option<String>,
    file: Option<&std::path::Path>,
    env: &str,
) -> Result<Option<String>, String> {
    let (pass, source) = if let Some(p) = flag {
        (p, "--requirepass".to_string())
    } else if let Some(f) = file {
        let text = crate::cli::read_password_file(f)?;
        (text, format!("--requirepass-file {}", f.display()))
    } else {
        match std::env::var_os(env) {
            None => return Ok(None),
            Some(v) => (
                v.into_string()
                    .map_err(|_| format!("{env} is not valid UTF-8"))?,
                env.to_string(),
            ),
        }
    };
    if pass.trim().is_empty() {
        return Err(format!(
            "refusing an empty or blank password from {source} (is the variable behind it unset?)"
        ));
    }
    Ok(Some(pass))
}

/// Entry point for `tinykv serve ...` (`args` starts with the program name, then "serve").
/// `signals` says who turns SIGINT/SIGTERM into a shutdown.
pub fn main(args: Vec<OsString>, signals: Signals) -> ExitCode {
    let args = args
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a);
    let a = match super::parse::<ServeArgs>(args, "tinykv serve") {
        Ok(a) => a,
        Err(code) => return code,
    };
    match options(a) {
        Ok(opts) => serve(ServeOptions { signals, ..opts }),
        Err(msg) => super::Failure::Usage(msg).report("tinykv serve"),
    }
}

/// The text of `tinykv serve --help`, for `tinykv help serve`.
pub fn help_text() -> String {
    use clap::CommandFactory;
    ServeArgs::command().render_help().to_string()
}

fn options(a: ServeArgs) -> Result<ServeOptions, String> {
    let max_memory = a.max_memory.as_deref().map(parse_memory_size).transpose();
    let store = Config {
        max_entries: a.max_entries,
        max_memory: max_memory.map_err(|e| e.to_string())?,
        eviction_policy: a
            .eviction_policy
            .parse::<EvictionPolicy>()
            .map_err(|e| e.to_string())?,
        databases: a.databases,
        ..Config::default()
    };
    let limits = Limits {
        max_bulk: size(&a.max_bulk_len)?,
        max_inline: size(&a.max_inline_len)?,
        max_multibulk: a.max_multibulk_len,
    };
    let server = ServerConfig {
        max_clients: a.max_clients as usize,
        limits,
        max_output_buffer: size(&a.max_output_buffer)?,
        idle_timeout: (a.timeout > 0).then(|| Duration::from_secs(a.timeout)),
        requirepass: password(a.requirepass, a.requirepass_file.as_deref(), PASSWORD_ENV)?,
        busy_poll: Duration::from_micros(a.busy_poll_us),
        persist: PersistOptions {
            snapshot: a.snapshot,
            save_interval: a.save_interval.map(Duration::from_secs),
            save_on_shutdown: a.save_on_shutdown,
        },
        ..ServerConfig::default()
    };
    Ok(ServeOptions {
        socket: a.socket,
        socket_perm: a.socket_perm,
        port: a.port,
        bind: a.bind,
        store,
        server,
        threads: a.threads,
        metrics_addr: a.metrics_addr,
        metrics_public: a.metrics_public,
        log_format: a.log_format,
        log_level: a.log_level,
        signals: Signals::Own,
    })
}
