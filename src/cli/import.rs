//! `tinykv import FILE [-s|-p|-u] [--namespace NS] [--replace | --skip-existing]`: loads a JSONL
//! file (or a snapshot) into a running daemon, all of it or nothing. The whole file is read and
//! checked (every line, and the daemon's limits) before the first write; entries already past
//! `expiresAt` are skipped and counted. Parsing and wiring only; the writing is `transfer.rs`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use super::transfer::{daemon_limits, write_entries, Conn};
use super::Failure;
use crate::persist::{self, file, progress, Input};
use crate::store::{check_batch, LoadReport, OnConflict};

/// Load a JSONL file (or a snapshot) into a running daemon: all of it, or on any error nothing.
#[derive(Debug, Parser)]
#[command(
    name = "tinykv import",
    bin_name = "tinykv import",
    disable_help_flag = true
)]
struct ImportArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// The file to load (`-` reads stdin).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Which daemon, and how to authenticate to it.
    #[command(flatten)]
    conn: Conn,
    /// Put every entry in this namespace, whatever its `ns` field says.
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Overwrite keys the daemon already holds [default: such a key fails the import, which
    /// then writes nothing].
    #[arg(long, conflicts_with = "skip_existing")]
    replace: bool,
    /// Keep keys the daemon already holds and skip the file's entries for them.
    #[arg(long)]
    skip_existing: bool,
}

/// Entry point for `tinykv import ...` (`args` starts with the program name, then "import").
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args = args
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a);
    let a = match super::parse::<ImportArgs>(args, "tinykv import") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let mode = if a.replace {
        OnConflict::Replace
    } else if a.skip_existing {
        OnConflict::Skip
    } else {
        OnConflict::Fail
    };
    let start = Instant::now();
    match load(&a.file, &a.conn, a.namespace.as_deref(), mode, "import") {
        Ok(r) => {
            summary("tinykv import", &r, start);
            ExitCode::SUCCESS
        }
        Err(f) => f.report("tinykv import"),
    }
}

/// Prints what a load did on stderr.
pub(crate) fn summary(prog: &str, r: &LoadReport, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{prog}: {} keys loaded, {} skipped (expired), {} skipped (existing) in {secs:.2} s \
         ({:.0} keys/s)",
        r.loaded,
        r.expired,
        r.existing,
        r.loaded as f64 / secs.max(1e-9)
    );
}

/// Reads, parses and checks `path` whole against the daemon's limits, then writes it (the
/// shared path of `import` and `restore`).
pub(crate) fn load(
    path: &std::path::Path,
    conn: &Conn,
    into_ns: Option<&str>,
    mode: OnConflict,
    what: &str,
) -> Result<LoadReport, Failure> {
    let mut client = conn.connect()?;
    let bytes = file::read_all(path).map_err(|e| Failure::Runtime(e.to_string()))?;
    let named =
        |m: String| Failure::Runtime(format!("{}: {m}; nothing was loaded", path.display()));
    let input: Input<'_> = persist::parse(&bytes, into_ns).map_err(|e| named(e.to_string()))?;
    let limits = daemon_limits(&mut client)?;
    check_batch(&input.batch, &limits).map_err(|e| named(input.describe(&e)))?;
    let bar = progress::bar(input.batch.entries.len() as u64, what);
    let r = write_entries(&mut client, &input, mode, persist::wall_ms(), &bar)?;
    bar.finish_and_clear();
    Ok(r)
}
