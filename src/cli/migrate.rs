//! `tinykv migrate`: its flags, the source and target they name, a progress bar on a terminal,
//! the summary on stdout and the JSON report. The work is [`crate::migrate`]'s.

use super::{parse, read_password_file, Failure};
use crate::migrate::redis_target::RedisTarget;
use crate::migrate::source::{DaemonSource, FileSource};
use crate::migrate::sql::{Postgres, Sqlite};
use crate::migrate::{self, OnConflict, Options, Target, Verify};
use clap::{Parser, ValueEnum};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Move a TinyKV daemon's data, TTLs intact, into Redis, a Redis Cluster, PostgreSQL or SQLite.
#[derive(Debug, Parser)]
#[command(name = "tinykv migrate", disable_help_flag = true)]
#[command(
    after_help = "SOURCE: a running daemon: unix:///PATH, a socket PATH, or \
redis://[:PASSWORD@]HOST:PORT (-s PATH says the same as --from PATH); or a file that \
`tinykv export` (JSONL) or a save (snapshot) wrote.\n\
TARGET: redis://HOST:PORT or rediss:// (one Redis or Valkey), redis-cluster://HOST:PORT[,HOST:PORT...] \
(a Redis Cluster, by its seed nodes), sqlite:PATH, postgres://USER@HOST:PORT/DB.\n\n\
TTLs travel as absolute times (PXAT on Redis, expires_at in a table); keys that expire before \
they are written are skipped and counted. Running the same migration again after a kill \
finishes it. Exit codes: 0 every key went as asked, 1 a target or source failed, a key failed, \
a conflict with --on-conflict fail, or a verify mismatch; 2 a usage error."
)]
struct Args {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// The daemon or file to read from (see SOURCE below).
    #[arg(long, value_name = "SOURCE", conflicts_with = "socket")]
    from: Option<String>,
    /// The daemon's Unix socket (the same as --from PATH).
    #[arg(short = 's', long = "socket", value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Where the data goes (see TARGET below).
    #[arg(long, value_name = "TARGET")]
    to: String,
    /// Only this namespace (repeatable; `default` is the default one).
    #[arg(long = "namespace", value_name = "NS")]
    namespaces: Vec<String>,
    /// Only keys matching this glob (Redis's rules).
    #[arg(long, value_name = "GLOB")]
    pattern: Option<String>,
    /// On Redis, a namespace's keys are written as NS + SEP + key (the default namespace's as
    /// they are).
    #[arg(long, value_name = "SEP", default_value = ":")]
    prefix_separator: String,
    /// What to do with a key the target already holds.
    #[arg(long, value_enum, default_value = "overwrite")]
    on_conflict: Conflict,
    /// Read everything, write nothing, report what would happen.
    #[arg(long)]
    dry_run: bool,
    /// After writing, read back N random written keys (or `all`) and compare value and TTL.
    #[arg(long, value_name = "N|all")]
    verify: Option<String>,
    /// Write the JSON report here (docs/migrating.md describes it).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// How far apart a read-back expiry may be from the source's, in ms, before --verify
    /// calls it a mismatch (a dual-writing app sets relative TTLs a few ms apart).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    ttl_tolerance: u64,
    /// Most entries per round trip (a batch also stops at 8 MiB of keys and values).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    batch_size: usize,
    /// The table, on PostgreSQL and SQLite.
    #[arg(long, value_name = "NAME", default_value = "tinykv_entries")]
    table: String,
    /// Read the source daemon's password from this file (else the URL's, else
    /// $TINYKV_PASSWORD).
    #[arg(long, value_name = "FILE")]
    from_pass_file: Option<PathBuf>,
    /// Read the target's password from this file (else the URL's).
    #[arg(long, value_name = "FILE")]
    to_pass_file: Option<PathBuf>,
}

/// `--on-conflict`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Conflict {
    /// Replace the target's value and TTL.
    Overwrite,
    /// Keep the target's; count the key as skipped.
    Skip,
    /// Keep the target's and stop; exit 1.
    Fail,
}

/// Runs `tinykv migrate` with `args` (`args[0]` is the program, `args[1]` is `migrate`).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let prog = "tinykv migrate";
    let parsed: Args = match parse(args.into_iter().skip(1), prog) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(parsed) {
        Ok(code) => code,
        Err(f) => f.report(prog),
    }
}

fn password(file: &Option<PathBuf>) -> Result<Option<String>, Failure> {
    file.as_deref()
        .map(read_password_file)
        .transpose()
        .map_err(Failure::Usage)
}

/// Where the entries come from.
enum From {
    /// A running daemon, as a URL the `redis` crate reads.
    Daemon(String),
    /// A JSONL export or a snapshot file.
    File(PathBuf),
}

/// The source `--from`/`-s` names: a URL or a socket is a daemon, a regular file is a file.
fn source(args: &Args) -> Result<From, Failure> {
    let from = match (&args.from, &args.socket) {
        (Some(f), _) => f.clone(),
        (None, Some(s)) => s.display().to_string(),
        (None, None) => {
            return Err(Failure::Usage(
                "name the source: --from SOURCE or -s PATH".into(),
            ))
        }
    };
    if from.contains("://") {
        return Ok(From::Daemon(from));
    }
    let path = std::path::Path::new(&from);
    match std::fs::metadata(path) {
        Ok(m) if is_socket(&m) => Ok(From::Daemon(format!("unix://{}", path.display()))),
        Ok(m) if m.is_file() => Ok(From::File(path.to_path_buf())),
        Ok(_) => Err(Failure::Usage(format!(
            "--from {from}: neither a socket nor a file"
        ))),
        Err(e) => Err(Failure::Usage(format!("--from {from}: {e}"))),
    }
}

/// True when `m` is a Unix socket's (never on Windows, which has none).
fn is_socket(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    let socket = std::os::unix::fs::FileTypeExt::is_socket(&m.file_type());
    #[cfg(not(unix))]
    let socket = {
        let _ = m;
        false
    };
    socket
}

/// Connects to the target named by `args.to`; every check of it happens here.
fn open_target(args: &Args) -> Result<Box<dyn Target>, Failure> {
    let pass = password(&args.to_pass_file)?;
    let to = args.to.as_str();
    let t: Box<dyn Target> = if let Some(path) = to.strip_prefix("sqlite:") {
        Box::new(Sqlite::open(path, &args.table).map_err(Failure::Runtime)?)
    } else if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        Box::new(Postgres::connect(to, pass.as_deref(), &args.table).map_err(Failure::Runtime)?)
    } else if let Some(seeds) = to.strip_prefix("redis-cluster://") {
        let seeds: Vec<String> = seeds
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| format!("redis://{s}"))
            .collect();
        if seeds.is_empty() {
            return Err(Failure::Usage(
                "--to redis-cluster:// needs HOST:PORT seeds".into(),
            ));
        }
        Box::new(
            RedisTarget::connect_cluster(&seeds, pass.as_deref(), &args.prefix_separator)
                .map_err(Failure::Runtime)?,
        )
    } else if is_redis(to) {
        Box::new(
            RedisTarget::connect(to, pass.as_deref(), &args.prefix_separator)
                .map_err(Failure::Runtime)?,
        )
    } else {
        return Err(Failure::Usage(format!(
            "--to {to}: use redis://, rediss://, unix:// (a Redis on a socket), redis-cluster://, sqlite:PATH or postgres://"
        )));
    };
    Ok(t)
}

/// True when `to` names Redis (one server or a cluster), where namespaces become prefixes.
fn is_redis(to: &str) -> bool {
    [
        "redis://",
        "rediss://",
        "unix://",
        "redis+unix://",
        "redis-cluster://",
    ]
    .iter()
    .any(|s| to.starts_with(s))
}

fn run(args: Args) -> Result<ExitCode, Failure> {
    let verify = match args.verify.as_deref() {
        None => Verify::Off,
        Some("all") => Verify::All,
        Some(n) => Verify::Sample(
            n.parse()
                .map_err(|_| Failure::Usage(format!("--verify {n}: a number of keys, or `all`")))?,
        ),
    };
    if args.batch_size == 0 {
        return Err(Failure::Usage("--batch-size must be at least 1".into()));
    }
    let from = source(&args)?;
    let from_pass = password(&args.from_pass_file)?.or_else(super::env_password);
    // The target first: a bad one fails before anything is read.
    let mut target = open_target(&args)?;
    let (total, reader): (u64, migrate::Batches) = match from {
        From::Daemon(url) => {
            let mut s = DaemonSource::connect(
                &url,
                from_pass.as_deref(),
                &args.namespaces,
                args.pattern.clone(),
                args.batch_size,
            )
            .map_err(Failure::Runtime)?;
            let total = s.total();
            (
                total,
                Box::new(migrate::read_ahead(move || s.next_batch(), 4)),
            )
        }
        From::File(path) => {
            let mut s = FileSource::open(
                &path,
                &args.namespaces,
                args.pattern.as_deref(),
                args.batch_size,
            )
            .map_err(Failure::Runtime)?;
            (s.total(), Box::new(move || s.next_batch()))
        }
    };
    let opts = Options {
        namespaces: args.namespaces.clone(),
        pattern: args.pattern.clone(),
        on_conflict: match args.on_conflict {
            Conflict::Overwrite => OnConflict::Overwrite,
            Conflict::Skip => OnConflict::Skip,
            Conflict::Fail => OnConflict::Fail,
        },
        dry_run: args.dry_run,
        verify,
        batch_size: args.batch_size,
        ttl_tolerance_ms: args.ttl_tolerance,
        prefix_separator: is_redis(&args.to).then(|| args.prefix_separator.clone()),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} keys {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let report = migrate::run(reader, target.as_mut(), &opts, |done| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report.map_err(Failure::Runtime)?;
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report.json()).unwrap_or_default();
        std::fs::write(path, text + "\n").map_err(|e| {
            Failure::Runtime(format!("cannot write report {}: {e}", path.display()))
        })?;
    }
    print!("{}", report.human());
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
