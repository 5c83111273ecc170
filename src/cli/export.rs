//! `tinykv export [-s|-p|-u] [--namespace NS] [--pattern GLOB] [-o FILE]`: a running daemon's
//! entries as JSONL (`docs/jsonl.md`), on stdout or into a file that is replaced whole or not
//! at all. Parsing and wiring only; the reading is `transfer.rs`, the format `persist::jsonl`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use super::transfer::{read_entries, Conn};
use super::Failure;
use crate::persist::{file::AtomicFile, jsonl, progress};
use crate::store::ValueRef;

/// Write a running daemon's entries as JSONL, one entry per line.
#[derive(Debug, Parser)]
#[command(
    name = "tinykv export",
    bin_name = "tinykv export",
    disable_help_flag = true
)]
struct ExportArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Which daemon, and how to authenticate to it.
    #[command(flatten)]
    conn: Conn,
    /// Only this namespace [default: every namespace].
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Only keys matching this glob (`*`, `?`, `[a-z]`), as SCAN MATCH reads it.
    #[arg(long, value_name = "GLOB")]
    pattern: Option<String>,
    /// Write to FILE (replaced atomically when the export is complete) [default: stdout].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Entry point for `tinykv export ...` (`args` starts with the program name, then "export").
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args = args
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a);
    let a = match super::parse::<ExportArgs>(args, "tinykv export") {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report("tinykv export"),
    }
}

/// Where the lines go.
enum Sink {
    /// A file, committed when the export is complete.
    File(AtomicFile),
    /// Standard output.
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
}

impl Sink {
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.write_all(b),
            Sink::Stdout(o) => o.write_all(b),
        }
    }

    /// Flushes stdout, or makes the file the target's contents.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.commit(),
            Sink::Stdout(mut o) => o.flush(),
        }
    }
}

fn run(a: ExportArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let mut client = a.conn.connect()?;
    let io = |e: std::io::Error| Failure::Runtime(e.to_string());
    let mut out = match &a.output {
        Some(path) => Sink::File(AtomicFile::create(path).map_err(io)?),
        None => Sink::Stdout(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        )),
    };
    let bar = progress::bar(0, "export");
    let mut line = Vec::with_capacity(256);
    let n = read_entries(
        &mut client,
        a.namespace.as_deref(),
        a.pattern.as_deref(),
        &bar,
        |e| {
            line.clear();
            jsonl::write_line(
                &mut line,
                e.ns,
                e.key,
                ValueRef::Bytes(e.value),
                e.expires_at_ms,
            );
            out.write_all(&line).map_err(io)
        },
    )?;
    // A failure above dropped the file uncommitted: the old one, if any, is still there.
    out.finish().map_err(io)?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "tinykv export: {n} keys in {secs:.2} s ({:.0} keys/s)",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}
