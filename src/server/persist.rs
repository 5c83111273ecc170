//! The daemon's snapshot: SAVE, BGSAVE, LASTSAVE, `INFO persistence`, the periodic save
//! (`--save-interval`), the save on shutdown (`--save-on-shutdown`, `SHUTDOWN SAVE`) and the
//! load at start (`--snapshot FILE`, before any client is accepted or `/readyz` says ready).
//! Formats and files are `crate::persist`'s; this file only decides when and reports.
//!
//! Invariants: at most one save runs at a time (SAVE and BGSAVE during a BGSAVE are refused, as
//! Redis refuses them); a BGSAVE runs on its own thread and holds writers up at most one table
//! slice at a time, so the daemon keeps serving; every save is atomic on disk (`persist::file`).
//! Point in time: every write acknowledged before a save began is in it, unless it was changed
//! again while the save ran (see `crate::persist`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::command::{Args, Reply};
use crate::persist;
use crate::store::{OnConflict, Store};

/// What `tinykv serve` was told about snapshots.
#[derive(Debug, Clone, Default)]
pub struct PersistOptions {
    /// The snapshot file: loaded at start if it exists, written by SAVE and BGSAVE. `None`
    /// turns persistence off (SAVE and BGSAVE then answer an error).
    pub snapshot: Option<PathBuf>,
    /// Start a BGSAVE this often when anything changed since the last save; `None` = never.
    pub save_interval: Option<Duration>,
    /// SAVE during a graceful shutdown (SHUTDOWN NOSAVE skips it, SHUTDOWN SAVE forces it).
    pub save_on_shutdown: bool,
}

/// The daemon's save state, shared by connections and the save thread.
#[derive(Debug, Default)]
pub(crate) struct Persistence {
    /// The options, fixed for the daemon's life.
    pub(crate) options: PersistOptions,
    /// True while a save (SAVE or BGSAVE) runs, so a second one is refused.
    in_progress: AtomicBool,
    /// True while the running save is a BGSAVE (INFO's `rdb_bgsave_in_progress`).
    background: AtomicBool,
    /// Unix seconds of the last successful save (or of the start), for LASTSAVE.
    last_save: AtomicU64,
    /// The store's change counter when the last successful save began.
    changes_at_save: AtomicU64,
    /// False after a failed BGSAVE, until one succeeds (`rdb_last_bgsave_status`).
    last_bgsave_ok: AtomicBool,
    /// Seconds the last BGSAVE took, or -1 before the first (as Redis's field), stored + 1.
    last_bgsave_secs: AtomicU64,
    /// Successful saves since start (`rdb_saves`).
    saves: AtomicU64,
    /// SHUTDOWN's word: 0 none, 1 SAVE, 2 NOSAVE.
    shutdown_choice: AtomicU64,
}

/// Changes counted for `rdb_changes_since_last_save`: every write and every removal.
fn changes(store: &Store) -> u64 {
    let s = store.stats();
    s.sets + s.deletes + s.expired + s.evicted
}

fn unix_now() -> u64 {
    persist::wall_ms() / 1000
}

impl Persistence {
    /// State for `options`, with LASTSAVE at the start time.
    pub(crate) fn new(options: PersistOptions) -> Persistence {
        Persistence {
            options,
            last_save: AtomicU64::new(unix_now()),
            last_bgsave_ok: AtomicBool::new(true),
            ..Persistence::default()
        }
    }

    /// Claims the one save slot; false if a save runs.
    fn claim(&self, background: bool) -> bool {
        let ok = self
            .in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if ok {
            self.background.store(background, Ordering::Release);
        }
        ok
    }

    /// Saves `store` to `path` with the slot claimed, records the result, frees the slot.
    fn run_save(&self, store: &Store, path: &Path, background: bool) -> Result<(), String> {
        let before = changes(store);
        let result = persist::save(store, path);
        match &result {
            Ok(r) => {
                self.changes_at_save.store(before, Ordering::Release);
                self.last_save.store(unix_now(), Ordering::Release);
                self.saves.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    path = %path.display(),
                    keys = r.entries,
                    bytes = r.bytes,
                    ms = r.duration.as_millis() as u64,
                    background,
                    "snapshot saved"
                );
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, background, "snapshot failed")
            }
        }
        if background {
            self.last_bgsave_ok.store(result.is_ok(), Ordering::Release);
            let secs = result.as_ref().map_or(0, |r| r.duration.as_secs());
            self.last_bgsave_secs.store(secs + 1, Ordering::Release);
        }
        self.background.store(false, Ordering::Release);
        self.in_progress.store(false, Ordering::Release);
        result.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// The error for SAVE/BGSAVE on a daemon started without `--snapshot`.
const NO_FILE: &str = "ERR no snapshot file: start tinykv serve with --snapshot FILE";
/// The error for a save while another runs.
const BUSY: &str = "ERR Background save already in progress";

/// SAVE: writes the snapshot now, blocking this connection until it is on disk.
pub(crate) fn save(p: &Persistence, store: &Store, args: &Args<'_, Vec<u8>>) -> Reply {
    if let Err(e) = args.exactly(0) {
        return e.into();
    }
    let Some(path) = p.options.snapshot.as_deref() else {
        return Reply::error(NO_FILE);
    };
    if !p.claim(false) {
        return Reply::error(BUSY);
    }
    match p.run_save(store, path, false) {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::Error(format!("ERR {e}")),
    }
}

/// BGSAVE [SCHEDULE]: starts a save on its own thread and answers at once.
pub(crate) fn bgsave(p: &Arc<Persistence>, store: &Arc<Store>, args: &Args<'_, Vec<u8>>) -> Reply {
    if args.len() > 1
        || args
            .rest
            .first()
            .is_some_and(|a| !a.eq_ignore_ascii_case(b"schedule"))
    {
        return Reply::error("ERR syntax error");
    }
    match start_bgsave(p, store) {
        Ok(()) => Reply::Simple("Background saving started".into()),
        Err(e) => Reply::Error(e.into()),
    }
}

/// Starts a background save; the error reply's text if none can start.
fn start_bgsave(p: &Arc<Persistence>, store: &Arc<Store>) -> Result<(), &'static str> {
    let Some(path) = p.options.snapshot.clone() else {
        return Err(NO_FILE);
    };
    if !p.claim(true) {
        return Err(BUSY);
    }
    let (state, store) = (Arc::clone(p), Arc::clone(store));
    let spawned = std::thread::Builder::new()
        .name("tinykv-bgsave".into())
        .spawn(move || {
            lower_priority();
            let _ = state.run_save(&store, &path, true);
        });
    if spawned.is_err() {
        p.background.store(false, Ordering::Release);
        p.in_progress.store(false, Ordering::Release);
        return Err("ERR cannot start a thread for the background save");
    }
    Ok(())
}

/// Gives the calling thread a lower CPU priority (nice 10), so on a busy machine the serving
/// thread wins the core over a background save (Redis's BGSAVE child competes the same way;
/// the scheduler favours the server here). Linux applies `setpriority` per thread.
#[cfg(unix)]
fn lower_priority() {
    // SAFETY: gettid takes no arguments; setpriority on our own thread id only changes its nice
    // value, and a failure (no permission) leaves it as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Gives the calling thread a lower CPU priority (below normal), as the Unix version's nice 10.
#[cfg(windows)]
fn lower_priority() {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, SetThreadPriority, THREAD_PRIORITY_BELOW_NORMAL,
    };
    // SAFETY: the pseudo-handle of the calling thread is always valid; a failure leaves its
    // priority as it was.
    unsafe { SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL) };
}

/// LASTSAVE: Unix time of the last successful save.
pub(crate) fn lastsave(p: &Persistence, args: &Args<'_, Vec<u8>>) -> Reply {
    if let Err(e) = args.exactly(0) {
        return e.into();
    }
    Reply::Int(p.last_save.load(Ordering::Acquire) as i64)
}

/// Records SHUTDOWN's SAVE or NOSAVE word for [`save_on_shutdown`].
pub(crate) fn shutdown_choice(p: &Persistence, save: bool, nosave: bool) {
    let v = if nosave {
        2
    } else if save {
        1
    } else {
        0
    };
    p.shutdown_choice.store(v, Ordering::Release);
}

/// The `# Persistence` section of INFO.
pub(crate) fn info(p: &Persistence, store: &Store, out: &mut String) {
    let line = |out: &mut String, k: &str, v: &dyn std::fmt::Display| {
        out.push_str(&format!("{k}:{v}\r\n"));
    };
    out.push_str("# Persistence\r\n");
    let dirty = changes(store).saturating_sub(p.changes_at_save.load(Ordering::Acquire));
    line(out, "rdb_changes_since_last_save", &dirty);
    let bg = p.in_progress.load(Ordering::Acquire) && p.background.load(Ordering::Acquire);
    line(out, "rdb_bgsave_in_progress", &u8::from(bg));
    line(
        out,
        "rdb_last_save_time",
        &p.last_save.load(Ordering::Acquire),
    );
    let ok = if p.last_bgsave_ok.load(Ordering::Acquire) {
        "ok"
    } else {
        "err"
    };
    line(out, "rdb_last_bgsave_status", &ok);
    let secs = p.last_bgsave_secs.load(Ordering::Acquire) as i64 - 1;
    line(out, "rdb_last_bgsave_time_sec", &secs);
    line(out, "rdb_saves", &p.saves.load(Ordering::Relaxed));
    let file = p
        .options
        .snapshot
        .as_deref()
        .map(|f| f.display().to_string());
    line(out, "snapshot_file", &file.unwrap_or_default());
    line(out, "aof_enabled", &0);
}

/// Every `interval`, starts a BGSAVE if anything changed since the last save; returns when
/// `stop` turns true.
pub(crate) async fn save_periodically(
    p: Arc<Persistence>,
    store: Arc<Store>,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        if changes(&store) > p.changes_at_save.load(Ordering::Acquire) {
            let _ = start_bgsave(&p, &store);
        }
    }
}

/// The save a graceful shutdown makes (with `--save-on-shutdown` or SHUTDOWN SAVE, not with
/// SHUTDOWN NOSAVE), after waiting for a running BGSAVE. Blocking: call it off the runtime.
pub(crate) fn save_on_shutdown(p: &Persistence, store: &Store) {
    let wanted = match p.shutdown_choice.load(Ordering::Acquire) {
        1 => true,
        2 => false,
        _ => p.options.save_on_shutdown,
    };
    let Some(path) = p.options.snapshot.as_deref().filter(|_| wanted) else {
        return;
    };
    while !p.claim(false) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = p.run_save(store, path, false);
}

/// Loads `path` into `store` at start, if it exists, and logs what it did; an unreadable or
/// invalid snapshot is an error (the daemon does not start on a file it cannot trust).
pub(crate) fn load_at_start(store: &Store, path: &Path) -> Result<(), String> {
    let stale = persist::file::remove_stale_temps(path);
    if stale > 0 {
        tracing::info!(path = %path.display(), files = stale, "removed temporary files of an interrupted save");
    }
    if !path.exists() {
        tracing::info!(path = %path.display(), "no snapshot yet; starting empty");
        return Ok(());
    }
    let s = persist::load(store, path, OnConflict::Replace)
        .map_err(|e| format!("cannot load snapshot: {e}"))?;
    tracing::info!(
        path = %path.display(),
        keys = s.report.loaded,
        skipped_expired = s.report.expired,
        evicted = s.report.evicted,
        ms = s.duration.as_millis() as u64,
        "snapshot loaded: {} keys, {} skipped (expired), in {:.3} s",
        s.report.loaded,
        s.report.expired,
        s.duration.as_secs_f64()
    );
    Ok(())
}
