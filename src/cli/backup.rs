//! `tinykv backup [-s|-p|-u] -o DIR` and `tinykv restore FILE [-s|-p|-u]`.
//!
//! A backup reads the daemon over RESP (`transfer.rs`), writes a timestamped snapshot
//! `DIR/tinykv-YYYYMMDDTHHMMSSmmmZ.snapshot` (atomically; the snapshot format carries its own
//! CRC-32) and beside it `... .snapshot.sha256` in `sha256sum` format, so `sha256sum -c` checks
//! it anywhere. What it holds is what SCAN guarantees: every key present for the whole backup,
//! with a value it held during it. A restore checks the SHA-256 file when there is one, then
//! reads and checks the whole snapshot (or JSONL file) before the first write, and loads it
//! with `--replace` semantics, all or nothing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use sha2::{Digest, Sha256};

use super::transfer::{read_entries, Conn};
use super::Failure;
use crate::persist::{self, file, progress, snapshot};
use crate::store::{OnConflict, ValueRef};

/// Write a timestamped snapshot of a running daemon, and its SHA-256, into a directory.
#[derive(Debug, Parser)]
#[command(
    name = "tinykv backup",
    bin_name = "tinykv backup",
    disable_help_flag = true
)]
struct BackupArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Which daemon, and how to authenticate to it.
    #[command(flatten)]
    conn: Conn,
    /// The directory to write the backup into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
}

/// Check a backup (its SHA-256 file, its checksum, every entry), then load it into a daemon.
#[derive(Debug, Parser)]
#[command(
    name = "tinykv restore",
    bin_name = "tinykv restore",
    disable_help_flag = true
)]
struct RestoreArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// The snapshot (or JSONL file) to restore.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Which daemon, and how to authenticate to it.
    #[command(flatten)]
    conn: Conn,
}

/// Lower-case hex of a SHA-256 over `parts`.
fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSmmmZ` for epoch ms `ms` (UTC; days to a civil date as in H. Hinnant's
/// `civil_from_days`).
pub(crate) fn stamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Entry point for `tinykv backup ...`.
pub fn backup_main(args: Vec<OsString>) -> ExitCode {
    let args = args
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a);
    let a = match super::parse::<BackupArgs>(args, "tinykv backup") {
        Ok(a) => a,
        Err(code) => return code,
    };
    match backup(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report("tinykv backup"),
    }
}

fn backup(a: &BackupArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let io = |e: std::io::Error| Failure::Runtime(e.to_string());
    let mut client = a.conn.connect()?;
    std::fs::create_dir_all(&a.output)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", a.output.display())))?;
    let bar = progress::bar(0, "backup");
    let mut w = snapshot::Writer::new();
    let mut last: Option<(String, u32)> = None;
    read_entries(&mut client, None, None, &bar, |e| {
        let idx = match &last {
            Some((ns, i)) if ns == e.ns => *i,
            _ => {
                let i = w.namespace(e.ns);
                last = Some((e.ns.to_string(), i));
                i
            }
        };
        let value = match crate::store::parse_i64(e.value) {
            Some(n) => ValueRef::Int(n),
            None => ValueRef::Bytes(e.value),
        };
        w.push(idx, e.key, value, e.expires_at_ms);
        Ok(())
    })?;
    bar.finish_and_clear();
    let now = persist::wall_ms();
    let snap = w.finish(now);
    let name = format!("tinykv-{}.snapshot", stamp(now));
    let path = a.output.join(&name);
    file::write_atomic(&path, &snap.parts()).map_err(io)?;
    let sum = format!("{}  {name}\n", sha256_hex(&snap.parts()));
    file::write_atomic(&sha_path(&path), &[sum.as_bytes()]).map_err(io)?;
    println!("{}", path.display());
    eprintln!(
        "tinykv backup: {} keys, {} bytes in {:.2} s",
        snap.entries,
        snap.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The SHA-256 file beside a backup.
fn sha_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".sha256");
    PathBuf::from(p)
}

/// Entry point for `tinykv restore ...`.
pub fn restore_main(args: Vec<OsString>) -> ExitCode {
    let args = args
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, a)| a);
    let a = match super::parse::<RestoreArgs>(args, "tinykv restore") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let start = Instant::now();
    match verify_sha(&a.file)
        .and_then(|()| super::import::load(&a.file, &a.conn, None, OnConflict::Replace, "restore"))
    {
        Ok(r) => {
            super::import::summary("tinykv restore", &r, start);
            ExitCode::SUCCESS
        }
        Err(f) => f.report("tinykv restore"),
    }
}

/// Checks `path` against `path.sha256` when that file exists.
fn verify_sha(path: &Path) -> Result<(), Failure> {
    let sha = sha_path(path);
    let Ok(text) = std::fs::read_to_string(&sha) else {
        return Ok(());
    };
    let want = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = file::read_all(path).map_err(|e| Failure::Runtime(e.to_string()))?;
    if sha256_hex(&[&bytes]) != want {
        return Err(Failure::Runtime(format!(
            "{}: SHA-256 does not match {}; the file is damaged, nothing was loaded",
            path.display(),
            sha.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_utc_calendar_times() {
        let cases = [
            (0, "19700101T000000000Z"),
            (951_782_400_123, "20000229T000000123Z"),
            (1_767_225_599_999, "20251231T235959999Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(super::stamp(ms), want);
        }
    }
}
