//! `getOrSet`: read-through with single flight across every thread that shares a store, and
//! stale-while-revalidate. The JS side (`js/get_or_set.js`) answers a fresh hit with a plain
//! `get` and calls the three natives here otherwise:
//!
//! - `claim(key, mode, ttl, staleTtl)`: under the store's flight lock, looks at the entry and
//!   the flights: a hit answers its value; a miss with no flight makes this caller the
//!   leader (a token); a miss with a flight registers a waiter and answers a promise; a stale
//!   entry answers its value and, when no refresh runs yet, a token to refresh it.
//! - `finish(token, value)` (the leader's loader resolved): writes the value, then ends the
//!   flight and wakes every waiter with it; `fail(token, message)`: ends it with an error.
//!
//! Waiters in any thread are woken through their own thread's [`Wake`] (an N-API threadsafe
//! function), never by polling; a waiter's promise keeps its event loop alive (the doorbell
//! is referenced only while it has waiters). Freshness under `staleTtl` is read from the
//! entry's own TTL: the entry is written with `ttl + staleTtl` and is stale once its remaining
//! time is at most `staleTtl`, so no side table is kept.
//!
//! Invariants: a flight is ended exactly once (by its token), after the value was written, so
//! a caller that claims after the end sees the value; the flight lock is never held while JS
//! runs; a leader's thread that exits or is terminated ends its flights with an error (an env
//! cleanup hook), and a store dropped with flights pending rejects their waiters: no waiter is
//! left hanging.
use super::args;
use super::ops::{self, View};
use super::raw::{at_teardown, Deferred, Env, Js, JsResult, KeyArg, Kind, Message, Thrown, Wake};
use crate::store::{SetOptions, Store, StoredKey, Ttl, Value, ValueRef};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};

/// Tokens and waiter ids, unique in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The loads in flight on one store, by stored key (namespace prefix and key bytes).
#[derive(Default)]
pub(crate) struct Flights {
    /// Guarded by a mutex no JS ever runs under.
    map: Mutex<HashMap<Vec<u8>, Flight>>,
}

/// One load in flight.
struct Flight {
    /// The leader's token: only it may end this flight.
    token: u64,
    /// Callers waiting for the result, in any thread.
    waiters: Vec<Waiter>,
}

/// A caller waiting on a flight: the doorbell of its thread and its promise's id there.
struct Waiter {
    /// Its thread's doorbell.
    wake: Arc<Wake<Woken>>,
    /// The key of its promise in that thread's `EnvState::pending`.
    id: u64,
}

/// How a flight ended.
enum Outcome {
    /// The bytes written to the store.
    Value(Vec<u8>),
    /// Why no value was written (the loader's error message, a teardown, a closed store).
    Failed(String),
}

/// What a waiter's getOrSet returns: a string, a Buffer, or `JSON.parse` of the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Buffer,
    Json,
}

impl Flights {
    /// Ends the flight of `key` if `token` still leads it, and wakes its waiters with `outcome`.
    fn end(&self, key: &[u8], token: u64, outcome: Outcome) {
        let flight = {
            let mut map = self.map.lock();
            match map.get(key) {
                Some(f) if f.token == token => map.remove(key),
                _ => None,
            }
        };
        if let Some(f) = flight {
            wake_all(f.waiters, Arc::new(outcome));
        }
    }
}

impl Drop for Flights {
    fn drop(&mut self) {
        let outcome = Arc::new(Outcome::Failed(
            "TinyKV.getOrSet: the store was closed before the load finished".into(),
        ));
        for (_, f) in self.map.get_mut().drain() {
            wake_all(f.waiters, outcome.clone());
        }
    }
}

fn wake_all(waiters: Vec<Waiter>, outcome: Arc<Outcome>) {
    for w in waiters {
        // A waiter whose thread is gone is simply skipped.
        w.wake.send(Woken {
            id: w.id,
            outcome: outcome.clone(),
        });
    }
}

/// The message that settles one waiter's promise on its own thread.
pub(crate) struct Woken {
    /// The waiter's promise id.
    id: u64,
    /// The flight's outcome, shared by its waiters.
    outcome: Arc<Outcome>,
}

impl Message for Woken {
    fn deliver(self, env: Env) {
        let Some(state) = ENVS.with(|m| m.borrow().get(&(env.raw() as usize)).cloned()) else {
            return;
        };
        let Some((deferred, mode)) = state.pending.borrow_mut().remove(&self.id) else {
            return;
        };
        if state.pending.borrow().is_empty() {
            state.wake.hold(env, false);
        }
        settle(env, deferred, mode, &self.outcome);
    }
}

/// Resolves a waiter with the value in its mode, or rejects it.
fn settle(env: Env, deferred: Deferred, mode: Mode, outcome: &Outcome) {
    let result = match outcome {
        Outcome::Value(bytes) => to_js(env, mode, bytes).map(|v| (true, v)),
        Outcome::Failed(msg) => env.error(msg).map(|e| (false, e)),
    };
    match result {
        Ok((ok, v)) => deferred.settle(env, ok, v),
        Err(Thrown) => {
            // JSON.parse threw (or V8 could not make the value): reject with that exception.
            let e = env
                .take_exception()
                .or_else(|| env.error("TinyKV.getOrSet failed").ok());
            if let Some(e) = e {
                deferred.settle(env, false, e);
            }
        }
    }
}

/// `bytes` as `mode` says.
fn to_js(env: Env, mode: Mode, bytes: &[u8]) -> JsResult {
    match mode {
        Mode::Text => env.string(bytes),
        Mode::Buffer => env.buffer(bytes),
        Mode::Json => {
            let text = env.string(bytes)?;
            let (json, parse) = ops::json_fn(env, c"parse")?;
            env.call(json, parse, &[text])
        }
    }
}

/// A load this thread leads.
struct Lead {
    /// The store; weak, so a load never keeps a closed store alive.
    store: Weak<Store>,
    /// The store's flights (its hub's); weak for the same reason.
    flights: Weak<Flights>,
    /// The stored key.
    key: Vec<u8>,
    /// The TTL to write with (`ttl + staleTtl`), if any.
    ttl_ms: Option<u64>,
    /// What the leader's getOrSet returns.
    mode: Mode,
}

/// What one JS thread (env) keeps for getOrSet.
struct EnvState {
    /// This thread's doorbell.
    wake: Arc<Wake<Woken>>,
    /// Waiters' promises by id, settled by `Woken::deliver`.
    pending: RefCell<HashMap<u64, (Deferred, Mode)>>,
    /// The loads this thread leads, by token: ended with an error if the thread goes away.
    led: RefCell<HashMap<u64, Lead>>,
}

thread_local! {
    /// Per-env state, by env pointer (a worker thread has one env; the key keeps it per env).
    static ENVS: RefCell<HashMap<usize, Rc<EnvState>>> = RefCell::new(HashMap::new());
}

/// This env's state, made (with its doorbell and teardown hook) on first use.
fn env_state(env: Env) -> JsResult<Rc<EnvState>> {
    let id = env.raw() as usize;
    if let Some(s) = ENVS.with(|m| m.borrow().get(&id).cloned()) {
        return Ok(s);
    }
    let state = Rc::new(EnvState {
        wake: Wake::new(env)?,
        pending: RefCell::new(HashMap::new()),
        led: RefCell::new(HashMap::new()),
    });
    // Registered after the doorbell's own hook, so it runs first (hooks run in reverse).
    at_teardown(
        env,
        Box::new(move || {
            let Some(state) = ENVS.with(|m| m.borrow_mut().remove(&id)) else {
                return;
            };
            let led = std::mem::take(&mut *state.led.borrow_mut());
            for (token, lead) in led {
                if let Some(flights) = lead.flights.upgrade() {
                    flights.end(
                        &lead.key,
                        token,
                        Outcome::Failed(
                            "TinyKV.getOrSet: the thread running the loader exited before it \
                             finished; call again to retry"
                                .into(),
                        ),
                    );
                }
            }
        }),
    )?;
    ENVS.with(|m| m.borrow_mut().insert(id, state.clone()));
    Ok(state)
}

/// The method name a mode's errors carry.
fn method(mode: Mode) -> &'static str {
    match mode {
        Mode::Text => "getOrSet",
        Mode::Buffer => "getOrSetBuffer",
        Mode::Json => "getOrSetJSON",
    }
}

/// What `claim` found under the flight lock.
enum Claim {
    Hit(Vec<u8>),
    Lead(u64),
    Wait(u64),
    StaleLead(Vec<u8>, u64),
    Stale(Vec<u8>),
}

/// The entry's bytes (an integer in decimal), or `None`.
fn read(store: &Store, key: StoredKey<'_>) -> Option<Vec<u8>> {
    store.get_with_key(key, |v| match v {
        ValueRef::Bytes(b) => b.to_vec(),
        ValueRef::Int(n) => n.to_string().into_bytes(),
    })
}

/// `fresh(key, staleTtl, mode)`: the fast path under `staleTtl`: the value if the entry is
/// there with more than `staleTtl` ms left (or no TTL), else `undefined` (the JS side then
/// claims, which also checks every argument).
pub(crate) fn fresh(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mut kb = KeyArg::new();
    let (Ok(key), Some(stale)) = (kb.read(env, a[0], view.ns), env.double(a[1])) else {
        return Ok(env.undefined());
    };
    let mode = if env.double(a[2]) == Some(1.0) {
        Mode::Buffer
    } else {
        Mode::Text
    };
    let g = view.shared.store.borrow();
    let Some(store) = g.as_deref() else {
        return Ok(env.undefined());
    };
    match store.ttl_key(key) {
        Ttl::Missing => return Ok(env.undefined()),
        Ttl::Remaining(r) if (r as f64) <= stale => return Ok(env.undefined()),
        _ => {}
    }
    match store.get_with_key(key, |v| match (v, mode) {
        (ValueRef::Bytes(b), Mode::Buffer) => env.buffer(b),
        (ValueRef::Bytes(b), _) => env.string(b),
        (ValueRef::Int(n), Mode::Buffer) => env.buffer(n.to_string().as_bytes()),
        (ValueRef::Int(n), _) => Ok(env.decimal_string(n)),
    }) {
        Some(v) => v,
        None => Ok(env.undefined()),
    }
}

/// `claim(key, mode, ttl, staleTtl)` -> `[0, value]` hit, `[1, token]` lead, `[2, promise]`
/// wait, `[3, value, token]` stale (refresh it), `[4, value]` stale (a refresh runs).
pub(crate) fn claim(env: Env, view: &View, a: &[Js]) -> JsResult {
    let mode = match env.double(a[1]) {
        Some(1.0) => Mode::Buffer,
        Some(2.0) => Mode::Json,
        _ => Mode::Text,
    };
    let m = method(mode);
    let mut kb = KeyArg::new();
    let key = args::key(env, &mut kb, a[0], view, m)?;
    let opt = |v: Js, what: &str| -> JsResult<Option<u64>> {
        if env.is_nullish(v) {
            return Ok(None);
        }
        args::ttl(env, v, format_args!("TinyKV.{m}: options.{what}")).map(Some)
    };
    let ttl = opt(a[2], "ttl")?;
    let stale = opt(a[3], "staleTtl")?;
    let (store, flights) = match view.shared.hub.borrow().as_ref() {
        Some(h) => (h.hub().store.clone(), h.hub().flights.clone()),
        None => return Err(ops::closed(env, m)),
    };
    let store = &store;
    let ttl = ttl.or(store.config().default_ttl_ms);
    if stale.is_some() && ttl.is_none() {
        return Err(env.throw(
            Kind::Range,
            &format!("TinyKV.{m}: options.staleTtl needs a ttl (or the store's defaultTtl)"),
        ));
    }
    let state = env_state(env)?;
    let claim = {
        let mut map = flights.map.lock();
        let found = match store.ttl_key(key) {
            Ttl::Missing => None,
            Ttl::Remaining(r) if stale.is_some_and(|s| r <= s) => read(store, key).map(Err),
            _ => read(store, key).map(Ok),
        };
        let id = || NEXT_ID.fetch_add(1, Relaxed);
        match (found, map.get_mut(key.bytes())) {
            (Some(Ok(v)), _) => Claim::Hit(v),
            (Some(Err(v)), Some(_)) => Claim::Stale(v),
            (None, Some(f)) => {
                let id = id();
                f.waiters.push(Waiter {
                    wake: state.wake.clone(),
                    id,
                });
                Claim::Wait(id)
            }
            (found, None) => {
                let token = id();
                let waiters = Vec::new();
                map.insert(key.bytes().to_vec(), Flight { token, waiters });
                match found {
                    Some(Err(v)) => Claim::StaleLead(v, token),
                    _ => Claim::Lead(token),
                }
            }
        }
    };
    let lead = |token: u64| {
        let l = Lead {
            store: Arc::downgrade(store),
            flights: Arc::downgrade(&flights),
            key: key.bytes().to_vec(),
            ttl_ms: ttl.map(|t| t.saturating_add(stale.unwrap_or(0))),
            mode,
        };
        state.led.borrow_mut().insert(token, l);
        env.number(token as f64)
    };
    let (code, first, second) = match claim {
        Claim::Hit(v) => (0, to_js(env, mode.text_or_buffer(), &v)?, None),
        Claim::Lead(token) => (1, lead(token), None),
        Claim::Wait(id) => {
            let (deferred, promise) = env.promise()?;
            let mut pending = state.pending.borrow_mut();
            if pending.is_empty() {
                state.wake.hold(env, true);
            }
            pending.insert(id, (deferred, mode));
            (2, promise, None)
        }
        Claim::StaleLead(v, token) => {
            (3, to_js(env, mode.text_or_buffer(), &v)?, Some(lead(token)))
        }
        Claim::Stale(v) => (4, to_js(env, mode.text_or_buffer(), &v)?, None),
    };
    let out = env.array(3)?;
    env.set_element(out, 0, env.number(code as f64))?;
    env.set_element(out, 1, first)?;
    if let Some(s) = second {
        env.set_element(out, 2, s)?;
    }
    Ok(out)
}

impl Mode {
    /// How `claim` hands a value to JS: JSON stays text (the JS side parses it).
    fn text_or_buffer(self) -> Mode {
        if self == Mode::Buffer {
            Mode::Buffer
        } else {
            Mode::Text
        }
    }
}

/// `finish(token, value)`: writes the leader's value (JSON already stringified), ends the
/// flight with it, and answers it in the leader's mode (`undefined` for JSON).
pub(crate) fn finish(env: Env, _view: &View, a: &[Js]) -> JsResult {
    let token = env.double(a[0]).unwrap_or(0.0) as u64;
    let state = env_state(env)?;
    let Some(lead) = state.led.borrow_mut().remove(&token) else {
        return Err(env.throw(Kind::Error, "TinyKV.getOrSet: this load already ended"));
    };
    let m = method(lead.mode);
    let (Some(store), Some(flights)) = (lead.store.upgrade(), lead.flights.upgrade()) else {
        return Err(ops::closed(env, m));
    };
    let end = |outcome| flights.end(&lead.key, token, outcome);
    let max = store.config().max_value_len;
    let value = match args::value(env, a[1], max, m) {
        Ok(v) => v,
        Err(t) => {
            end(Outcome::Failed(format!(
                "TinyKV.{m}: the loader returned a value TinyKV cannot store"
            )));
            return Err(t);
        }
    };
    let opts = SetOptions {
        ttl_ms: lead.ttl_ms,
        ..SetOptions::default()
    };
    let key = StoredKey::from_layout(&lead.key);
    if let Err(e) = store.set_key(key, value.view(), &opts) {
        let thrown = super::error::throw_store(env, m, &e);
        let (_, msg) = super::error::classify(&e);
        end(Outcome::Failed(format!("TinyKV.{m}: {msg}")));
        return Err(thrown);
    }
    let bytes = match value {
        Value::Bytes(b) => b,
        Value::Int(n) => n.to_string().into_bytes(),
    };
    let out = match lead.mode {
        Mode::Json => Ok(env.undefined()),
        mode => to_js(env, mode, &bytes),
    };
    end(Outcome::Value(bytes));
    out
}

/// `fail(token, message)`: the leader's loader threw; its waiters get `message`, nothing is
/// written. A token that already ended is ignored.
pub(crate) fn fail(env: Env, _view: &View, a: &[Js]) -> JsResult {
    let token = env.double(a[0]).unwrap_or(0.0) as u64;
    let state = env_state(env)?;
    let Some(lead) = state.led.borrow_mut().remove(&token) else {
        return Ok(env.undefined());
    };
    let mut sb = super::raw::StrBuf::<1024>::new();
    let msg = env
        .coerce_to_string(a[1])
        .and_then(|s| sb.read(env, s).map(str::to_string))
        .unwrap_or_default();
    if let Some(flights) = lead.flights.upgrade() {
        let m = method(lead.mode);
        flights.end(
            &lead.key,
            token,
            Outcome::Failed(format!("TinyKV.{m}: the loader failed: {msg}")),
        );
    }
    Ok(env.undefined())
}
