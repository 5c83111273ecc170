//! Stores shared by every JS thread of the process: `new TinyKV({ name })` opens the one store
//! registered under `name` (the first opener creates it), in the main thread or any
//! worker_thread, without copying: the store lives off the V8 heap, behind an `Arc`.
//!
//! Every store, named or not, sits in a [`Hub`] beside what its handles share across threads
//! (the getOrSet flights); a JS handle holds a [`HubHold`].
//!
//! Invariants: a named store stays registered exactly while its handle count is above zero;
//! the count changes only under the registry lock, so an opener never attaches to a store that
//! is being dropped, and the last `close()` (or the last handle collected, including at a
//! worker's teardown) unregisters it and frees it once nothing else holds it. An opener whose
//! options differ from the running store's gets an error naming each one and attaches to
//! nothing. No lock here is held while JS runs.
use super::args;
use super::get_or_set::Flights;
use super::raw::{Env, Js, JsResult, Kind, StrBuf};
use crate::store::{Clock, Config, ManualClock, Store};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, LazyLock};

/// The named stores of the process, by name.
static REGISTRY: LazyLock<Mutex<HashMap<String, Arc<Hub>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// One store and the state its handles share across threads.
pub(crate) struct Hub {
    /// The name it is registered under; `None` for a private store (no `name` option).
    pub(crate) name: Option<String>,
    /// The store. Handles keep their own clone of this `Arc` for the hot path.
    pub(crate) store: Arc<Store>,
    /// Open handles: each `TinyKV` made by the constructor (its namespace views count with it).
    /// Changed under the registry lock for a named store (see the module invariants).
    handles: AtomicUsize,
    /// getOrSet loads in flight, shared by every handle in every thread (dropped with the
    /// hub, which rejects their waiters; loads hold it weakly).
    pub(crate) flights: Arc<Flights>,
    /// The manual clock of a store the test hook made, which the tests advance.
    clock: Option<Arc<ManualClock>>,
}

/// A handle's share of a [`Hub`]: counted while it lives, released by `close()` or collection.
pub(crate) struct HubHold(Arc<Hub>);

impl HubHold {
    /// The hub this handle holds.
    pub(crate) fn hub(&self) -> &Arc<Hub> {
        &self.0
    }
}

impl Drop for HubHold {
    fn drop(&mut self) {
        let Some(name) = &self.0.name else {
            self.0.handles.fetch_sub(1, SeqCst);
            return;
        };
        let mut reg = REGISTRY.lock();
        if self.0.handles.fetch_sub(1, SeqCst) == 1
            && reg.get(name).is_some_and(|h| Arc::ptr_eq(h, &self.0))
        {
            reg.remove(name);
        }
        // The store itself is freed after the lock is released, when the last `Arc` drops.
    }
}

impl Hub {
    fn new(name: Option<String>, store: Store, clock: Option<Arc<ManualClock>>) -> Arc<Hub> {
        Arc::new(Hub {
            name,
            store: Arc::new(store),
            handles: AtomicUsize::new(0),
            flights: Arc::default(),
            clock,
        })
    }

    /// A new counted handle.
    fn hold(self: &Arc<Hub>) -> HubHold {
        self.handles.fetch_add(1, SeqCst);
        HubHold(self.clone())
    }
}

/// The `name` option: `None` when absent, else a valid store name (the namespace rules:
/// 1-256 bytes of well-formed text).
fn read_name(env: Env, options: Js) -> JsResult<Option<String>> {
    if env.is_nullish(options) {
        return Ok(None);
    }
    let Some(v) = env.prop(options, c"name") else {
        return Ok(None);
    };
    let mut nb = StrBuf::<256>::new();
    let name = args::name(env, &mut nb, v, format_args!("new TinyKV: options.name"))?;
    if name.is_empty() {
        return Err(env.throw(Kind::Range, "new TinyKV: options.name must not be empty"));
    }
    Ok(Some(name.to_string()))
}

/// The options that must match a running store's, in JS spelling.
const SHARED_OPTIONS: [&std::ffi::CStr; 4] = [
    c"maxEntries",
    c"maxMemory",
    c"defaultTtl",
    c"evictionPolicy",
];

/// The options an opener gave (`given[i]`: `SHARED_OPTIONS[i]` was passed) that differ from
/// the running store's, as `option (running: X, given: Y)` phrases. Reads no JS (it runs
/// under the registry lock).
fn conflicts(given: [bool; 4], running: &Config, asked: &Config) -> Vec<String> {
    let show = |v: Option<u64>| v.map_or("unbounded".to_string(), |n| n.to_string());
    let entries = |c: &Config| show(c.max_entries.map(|n| n as u64));
    let ttl = |c: &Config| {
        c.default_ttl_ms
            .map_or("none".to_string(), |n| n.to_string())
    };
    let policy = |c: &Config| c.eviction_policy.name().to_string();
    let values = [
        ("maxEntries", entries(running), entries(asked)),
        (
            "maxMemory",
            show(running.max_memory),
            show(asked.max_memory),
        ),
        ("defaultTtl", ttl(running), ttl(asked)),
        ("evictionPolicy", policy(running), policy(asked)),
    ];
    values
        .into_iter()
        .zip(given)
        .filter(|((_, a, b), given)| *given && a != b)
        .map(|((name, a, b), _)| format!("{name} (running: {a}, given: {b})"))
        .collect()
}

/// Opens the store the constructor's `options` ask for: a new private store, or the named
/// store (created with `config` by the first opener, attached to by later ones).
pub(crate) fn open(env: Env, options: Js, config: Config) -> JsResult<HubHold> {
    let make = |config: Config| {
        Store::new(config).map_err(|e| {
            super::error::throw_as(env, format_args!("new TinyKV"), &e);
            super::raw::Thrown
        })
    };
    let Some(name) = read_name(env, options)? else {
        return Ok(Hub::new(None, make(config)?, None).hold());
    };
    // Read before the lock: a property read can run JS (a getter), which must not run under it.
    let given = SHARED_OPTIONS.map(|p| env.prop(options, p).is_some());
    let mut reg = REGISTRY.lock();
    if let Some(hub) = reg.get(&name) {
        let bad = conflicts(given, hub.store.config(), &config);
        if !bad.is_empty() {
            drop(reg);
            return Err(env.throw(
                Kind::Range,
                &format!(
                    "new TinyKV: store '{name}' is already open with other options: {}; \
                     omit them or pass the running values",
                    bad.join(", ")
                ),
            ));
        }
        return Ok(hub.hold());
    }
    // A named store is there to be read from many threads.
    let config = Config {
        concurrent: true,
        ..config
    };
    let hub = Hub::new(Some(name.clone()), make(config)?, None);
    reg.insert(name, hub.clone());
    Ok(hub.hold())
}

/// One named store as `TinyKV.openStores()` lists it.
#[napi(object, js_name = "OpenStore")]
pub struct OpenStore {
    /// The name given to `new TinyKV({ name })`.
    pub name: String,
    /// Open handles on it, over every thread (namespace views count with their handle).
    pub handles: u32,
    /// Live entries, over every namespace.
    pub keys: f64,
}

/// The named stores of the process, sorted by name.
pub(crate) fn list() -> Vec<OpenStore> {
    let reg = REGISTRY.lock();
    let mut out: Vec<OpenStore> = reg
        .values()
        .map(|h| OpenStore {
            name: h.name.clone().unwrap_or_default(),
            handles: h.handles.load(SeqCst) as u32,
            keys: h.store.total_len() as f64,
        })
        .collect();
    drop(reg);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Test hook: registers store `name` on a manual clock starting at `startMs`, with no handle
/// yet (the first `new TinyKV({ name })` attaches to it; the last close frees it).
#[napi(js_name = "__testManualClockStore", skip_typescript)]
pub fn test_manual_clock_store(name: String, start_ms: f64) -> Result<()> {
    let clock = Arc::new(ManualClock::new(start_ms as u64));
    let config = Config {
        reaper_interval_ms: 0,
        concurrent: true,
        ..Config::default()
    };
    let store = Store::with_clock(config, clock.clone() as Arc<dyn Clock>)
        .map_err(|e| napi::Error::from_reason(e.to_string()))?;
    let mut reg = REGISTRY.lock();
    if reg.contains_key(&name) {
        return Err(napi::Error::from_reason(format!("store '{name}' is open")));
    }
    reg.insert(name.clone(), Hub::new(Some(name), store, Some(clock)));
    Ok(())
}

/// Test hook: moves the manual clock of store `name` forward by `ms`.
#[napi(js_name = "__testAdvanceClock", skip_typescript)]
pub fn test_advance_clock(name: String, ms: f64) -> Result<()> {
    let reg = REGISTRY.lock();
    match reg.get(&name).and_then(|h| h.clock.clone()) {
        Some(c) => {
            c.advance(ms as u64);
            Ok(())
        }
        None => Err(napi::Error::from_reason(format!(
            "store '{name}' has no manual clock"
        ))),
    }
}
