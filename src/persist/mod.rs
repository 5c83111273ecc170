//! Persistence: the file formats and the file I/O, on top of the store's one walk
//! ([`Store::walk`]) and one bulk load ([`Store::load`]). The store knows nothing of formats.
//!
//! - `snapshot.rs` the binary snapshot (SAVE, BGSAVE, `kv.save`, backups): magic, version,
//!   CRC-32; `jsonl.rs` the JSONL interchange format (`export`/`import`, `docs/jsonl.md`).
//! - `file.rs` writes that are never half-done (temporary file, fsync, rename, fsync of the
//!   directory); `progress.rs` progress bars that stay quiet off a terminal.
//!
//! Invariants: a load reads and checks the whole input (format, checksum, every line or entry,
//! the store's limits) before it writes anything, and then writes all of it or nothing (see
//! `store/load.rs`). Either format loads anywhere a file is read: a snapshot is recognised by its
//! magic, anything else is read as JSONL.
//!
//! Point in time: a save walks the live table (no fork, no copy of the store first). Every
//! write acknowledged before the save began and not changed during it is in the file; a key
//! written, deleted or expired while the walk runs is there with its old value, its new value,
//! or not at all. Writers are held up at most one slice of the table (1024 buckets) at a time.

pub mod file;
pub mod jsonl;
pub mod progress;
pub mod snapshot;

use crate::store::{LoadBatch, LoadError, LoadReport, OnConflict, Store};
use std::path::Path;
use std::time::{Duration, Instant};

/// Why a save or a load failed; the message is meant for the user as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// Reading or writing a file failed (the message names the file).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The input is not a valid snapshot or JSONL file (the message says where and why).
    #[error("{0}")]
    Format(String),
    /// The store refused the input (a limit, a namespace name, an existing key, no room under
    /// noeviction); nothing was loaded.
    #[error("{0}")]
    Load(String),
}

/// What a save wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveReport {
    /// Entries in the file.
    pub entries: u64,
    /// The file's size.
    pub bytes: u64,
    /// How long the walk and the write took.
    pub duration: Duration,
}

/// What a load did, and how long it took (read, check and apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSummary {
    /// Entries loaded and skipped.
    pub report: LoadReport,
    /// Wall time of the whole load.
    pub duration: Duration,
}

/// A parsed input: the entries, and for JSONL each entry's line number.
#[derive(Debug)]
pub struct Input<'a> {
    /// The entries.
    pub batch: LoadBatch<'a>,
    /// `Some(lines)` for JSONL (`lines[i]` is entry i's line), `None` for a snapshot.
    pub lines: Option<Vec<u64>>,
}

impl Input<'_> {
    /// Where entry `index` is, for messages: `line N` (JSONL) or `entry N` (snapshot).
    pub fn place(&self, index: usize) -> String {
        match self.lines.as_ref().and_then(|l| l.get(index)) {
            Some(line) => format!("line {line}"),
            None => format!("entry {}", index + 1),
        }
    }

    /// A store's refusal as a message naming the line or entry at fault.
    pub fn describe(&self, e: &LoadError) -> String {
        let msg = e.error.to_string();
        let msg = msg.strip_prefix("ERR ").unwrap_or(&msg).to_string();
        match e.index {
            Some(i) => format!("{}: {msg}", self.place(i)),
            None => msg,
        }
    }
}

/// Parses a whole input, a snapshot or JSONL (see the module docs). `into_ns` puts every JSONL
/// entry in that namespace.
pub fn parse<'a>(bytes: &'a [u8], into_ns: Option<&str>) -> Result<Input<'a>, PersistError> {
    if snapshot::is_snapshot(bytes) {
        let mut batch = snapshot::decode(bytes).map_err(PersistError::Format)?;
        if let Some(ns) = into_ns {
            batch
                .namespaces
                .iter_mut()
                .for_each(|n| *n = ns.to_string());
        }
        return Ok(Input { batch, lines: None });
    }
    let p = jsonl::parse(bytes, into_ns).map_err(PersistError::Format)?;
    Ok(Input {
        batch: p.batch,
        lines: Some(p.lines),
    })
}

/// Writes a snapshot of every live entry of `store` to `path`, atomically (see `file.rs`).
pub fn save(store: &Store, path: &Path) -> Result<SaveReport, PersistError> {
    let start = Instant::now();
    let snap = snapshot::of_store(store);
    file::write_atomic(path, &snap.parts())?;
    Ok(SaveReport {
        entries: snap.entries,
        bytes: snap.len(),
        duration: start.elapsed(),
    })
}

/// Loads `bytes` (a snapshot or JSONL) into `store`: all of it or, on any error, nothing.
pub fn load_bytes(
    store: &Store,
    bytes: &[u8],
    on_conflict: OnConflict,
    into_ns: Option<&str>,
) -> Result<LoadReport, PersistError> {
    let input = parse(bytes, into_ns)?;
    store
        .load(&input.batch, on_conflict)
        .map_err(|e| PersistError::Load(input.describe(&e)))
}

/// Reads `path` and loads it into `store` (see [`load_bytes`]).
pub fn load(
    store: &Store,
    path: &Path,
    on_conflict: OnConflict,
) -> Result<LoadSummary, PersistError> {
    let start = Instant::now();
    let bytes = file::read_all(path)?;
    let report = load_bytes(store, &bytes, on_conflict, None)
        .map_err(|e| prefix(e, &path.display().to_string()))?;
    Ok(LoadSummary {
        report,
        duration: start.elapsed(),
    })
}

/// `e` with `what: ` in front of its message (I/O errors already name their file).
fn prefix(e: PersistError, what: &str) -> PersistError {
    match e {
        PersistError::Format(m) => PersistError::Format(format!("{what}: {m}")),
        PersistError::Load(m) => PersistError::Load(format!("{what}: {m}")),
        other => other,
    }
}

/// Epoch ms now, from the wall clock (for file names and `created` stamps).
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
