//! Persistence for the addon: `kv.save(path)`, `kv.load(path, { replace, skipExisting })` and
//! the constructor's `snapshot` and `saveInterval` options (a warm restart of an in-process
//! cache), in the daemon's snapshot format (`crate::persist`; `load` also reads JSONL).
//!
//! Invariants: a save is atomic on disk (never half-written); a load checks the whole file
//! before it writes anything, then writes all of it or nothing; errors are thrown as
//! `TinyKV.<method>: <message>` and never panic across into Node. The periodic saver holds the
//! store only weakly between saves, so `close()` and garbage collection still free it (the
//! thread ends at its next tick).
use super::class::TinyKV;
use super::raw::{Env as RawEnv, Js, JsResult, Kind, StrBuf, Type};
use crate::persist;
use crate::store::{OnConflict, Store};
use napi::bindgen_prelude::*;
use napi::Task;
use napi_derive::napi;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// What `kv.save(path)` wrote.
#[napi(object, js_name = "SaveResult")]
pub struct JsSaveResult {
    /// Entries in the file (every namespace of the store).
    pub keys: f64,
    /// The file's size in bytes.
    pub bytes: f64,
    /// How long the save took, in ms.
    pub duration_ms: f64,
}

/// Options for `kv.load(path, options)`.
#[napi(object, js_name = "LoadOptions")]
pub struct JsLoadOptions {
    /// Entries replace keys the store already holds. Default: such a key fails the load,
    /// which then writes nothing.
    pub replace: Option<bool>,
    /// Keys the store already holds are kept and the file's entries for them skipped.
    pub skip_existing: Option<bool>,
}

/// What `kv.load(path)` did.
#[napi(object, js_name = "LoadResult")]
pub struct JsLoadResult {
    /// Entries written.
    pub loaded: f64,
    /// Entries skipped because their expiry had passed.
    pub expired: f64,
    /// Entries skipped because the key existed (`skipExisting`).
    pub existing: f64,
    /// Entries evicted to stay under `maxEntries` / `maxMemory` while loading.
    pub evicted: f64,
    /// How long the load took, in ms.
    pub duration_ms: f64,
}

fn fail(method: &str, msg: impl std::fmt::Display) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("TinyKV.{method}: {msg}"))
}

/// Loads `path` into a fresh store if the file exists (the constructor's `snapshot`).
fn load_at_start(store: &Store, path: &Path) -> std::result::Result<(), String> {
    if !path.exists() {
        return Ok(());
    }
    persist::load(store, path, OnConflict::Replace)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Saves `store` to `path` every `every` while anything changed since the last save, until the
/// store is gone.
fn spawn_saver(store: Weak<Store>, path: PathBuf, every: Duration) {
    let changes = |s: &Store| {
        let st = s.stats();
        st.sets + st.deletes + st.expired + st.evicted
    };
    let first = store.upgrade().map(|s| changes(&s));
    let _ = std::thread::Builder::new()
        .name("tinykv-save".into())
        .spawn(move || {
            let mut saved = first;
            loop {
                std::thread::sleep(every);
                let Some(s) = store.upgrade() else { return };
                let now = changes(&s);
                if saved != Some(now) && persist::save(&s, &path).is_ok() {
                    saved = Some(now);
                }
            }
        });
}

/// The constructor's `snapshot` and `saveInterval` options: loads the snapshot into the new
/// store and starts the periodic saver. Errors are thrown naming the option.
pub(crate) fn start(env: RawEnv, store: &Arc<Store>, options: Js) -> JsResult<()> {
    let t = env.type_of(options);
    if t != Type::Object {
        return Ok(());
    }
    let throw = |kind, msg: String| env.throw(kind, &format!("new TinyKV: {msg}"));
    let mut pb = StrBuf::<4096>::new();
    let snapshot = match env.prop(options, c"snapshot") {
        None => None,
        Some(v) => match pb.read(env, v) {
            Some(s) if !s.is_empty() => Some(PathBuf::from(s)),
            _ => {
                let got = env.type_name(v);
                return Err(throw(
                    Kind::Type,
                    format!("options.snapshot must be a file path, got {got}"),
                ));
            }
        },
    };
    let every = match env.prop(options, c"saveInterval") {
        None => None,
        Some(v) => match env.double(v) {
            Some(ms) if ms >= 1.0 && ms.is_finite() => Some(Duration::from_millis(ms as u64)),
            Some(ms) => {
                return Err(throw(
                    Kind::Range,
                    format!("options.saveInterval must be at least 1 ms, got {ms}"),
                ))
            }
            None => {
                let got = env.type_name(v);
                return Err(throw(
                    Kind::Type,
                    format!("options.saveInterval must be a number of ms, got {got}"),
                ));
            }
        },
    };
    let Some(path) = snapshot else {
        if every.is_some() {
            return Err(throw(
                Kind::Type,
                "options.saveInterval needs options.snapshot".into(),
            ));
        }
        return Ok(());
    };
    if let Err(msg) = load_at_start(store, &path) {
        return Err(throw(Kind::Error, format!("options.snapshot: {msg}")));
    }
    if let Some(every) = every {
        spawn_saver(Arc::downgrade(store), path, every);
    }
    Ok(())
}

/// The work behind `saveAsync`: a walk and a file write on a libuv worker thread.
pub struct SaveTask {
    /// The store (`Store` is `Send + Sync`; the walk takes the same shard read locks as any
    /// reader).
    store: Arc<Store>,
    /// Where to write.
    path: PathBuf,
}

impl Task for SaveTask {
    type Output = persist::SaveReport;
    type JsValue = JsSaveResult;

    fn compute(&mut self) -> Result<persist::SaveReport> {
        let (store, path) = (&self.store, &self.path);
        // A panic must not unwind through libuv's thread pool.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| persist::save(store, path)))
            .map_err(|_| fail("saveAsync", "panicked; this is a bug"))?
            .map_err(|e| fail("saveAsync", e))
    }

    fn resolve(&mut self, _env: Env, r: persist::SaveReport) -> Result<JsSaveResult> {
        Ok(saved(&r))
    }
}

fn saved(r: &persist::SaveReport) -> JsSaveResult {
    JsSaveResult {
        keys: r.entries as f64,
        bytes: r.bytes as f64,
        duration_ms: r.duration.as_secs_f64() * 1000.0,
    }
}

#[napi]
impl TinyKV {
    /// Writes every entry of the store (all namespaces) to `path` as a snapshot: a temporary
    /// file beside it, fsynced, renamed over `path`, so the file is never half-written. Blocks
    /// while it walks the store (about 1 s per million entries); writers wait at most one slice
    /// of the table at a time. Load it with `kv.load(path)` or `new TinyKV({ snapshot: path })`.
    #[napi(catch_unwind)]
    pub fn save(&self, env: &Env, path: String) -> Result<JsSaveResult> {
        let store = self.store(env, "save")?;
        let r = persist::save(&store, Path::new(&path)).map_err(|e| fail("save", e))?;
        Ok(saved(&r))
    }

    /// `save` on a worker thread, so the event loop keeps running while the store is walked
    /// and the file written; resolves to the same result. Writes made meanwhile may or may not
    /// be in the file; every write made before the call is.
    #[napi(catch_unwind, ts_return_type = "Promise<SaveResult>")]
    pub fn save_async(&self, env: &Env, path: String) -> Result<AsyncTask<SaveTask>> {
        let store = self.store(env, "saveAsync")?;
        Ok(AsyncTask::new(SaveTask {
            store,
            path: PathBuf::from(path),
        }))
    }

    /// Loads a snapshot (from `kv.save`, SAVE or `tinykv backup`) or a JSONL file (from
    /// `tinykv export`) into the store. The whole file is read and checked first; then every
    /// entry is written, or on any error none is. Entries past their expiry are skipped;
    /// `maxEntries`/`maxMemory` evict by the policy as any write would, and under
    /// `'noeviction'` a load that does not fit throws and leaves the store as it was. A key
    /// the store already holds fails the load unless `replace` or `skipExisting` is set.
    #[napi(catch_unwind)]
    pub fn load(
        &self,
        env: &Env,
        path: String,
        options: Option<JsLoadOptions>,
    ) -> Result<JsLoadResult> {
        let store = self.store(env, "load")?;
        let mode = match options {
            Some(JsLoadOptions {
                replace: Some(true),
                skip_existing: Some(true),
            }) => return Err(fail("load", "replace and skipExisting exclude each other")),
            Some(JsLoadOptions {
                replace: Some(true),
                ..
            }) => OnConflict::Replace,
            Some(JsLoadOptions {
                skip_existing: Some(true),
                ..
            }) => OnConflict::Skip,
            _ => OnConflict::Fail,
        };
        let s = persist::load(&store, Path::new(&path), mode).map_err(|e| fail("load", e))?;
        Ok(JsLoadResult {
            loaded: s.report.loaded as f64,
            expired: s.report.expired as f64,
            existing: s.report.existing as f64,
            evicted: s.report.evicted as f64,
            duration_ms: s.duration.as_secs_f64() * 1000.0,
        })
    }
}
