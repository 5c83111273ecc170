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
mod flights;

use super::args;
use super::ops::{self, View};
use super::raw::{Env, Js, JsResult, KeyArg, Kind};
use crate::store::{SetOptions, Store, StoredKey, Ttl, Value, ValueRef};
pub(crate) use flights::Flights;
use flights::{env_state, to_js, EnvState, Flight, Lead, Mode, Outcome, Waiter, NEXT_ID};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

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
    store.get_with(key, |v| match v {
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
    let fresh = |remaining: Option<u64>| remaining.is_none_or(|r| r as f64 > stale);
    match store.get_fresh_with(key, fresh, |v| match (v, mode) {
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
        let found = match store.ttl(key) {
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
    // The lead is recorded before anything that can fail, and ended if the answer cannot be
    // built, so no flight is ever left without a leader.
    let token = match claim {
        Claim::Lead(t) | Claim::StaleLead(_, t) => Some(t),
        _ => None,
    };
    if let Some(t) = token {
        let l = Lead {
            store: Arc::downgrade(store),
            flights: Arc::downgrade(&flights),
            key: key.bytes().to_vec(),
            ttl_ms: ttl.map(|t| t.saturating_add(stale.unwrap_or(0))),
            mode,
        };
        state.led.borrow_mut().insert(t, l);
    }
    let out = answer(env, &state, mode, claim);
    if let (Err(_), Some(t)) = (out, token) {
        state.led.borrow_mut().remove(&t);
        flights.end(
            key.bytes(),
            t,
            Outcome::Failed(format!(
                "TinyKV.{m}: the caller that was to load this key failed"
            )),
        );
    }
    out
}

/// `claim`'s answer array for what it found.
fn answer(env: Env, state: &EnvState, mode: Mode, claim: Claim) -> JsResult {
    let (code, first, second) = match claim {
        Claim::Hit(v) => (0, to_js(env, mode.text_or_buffer(), &v)?, None),
        Claim::Lead(token) => (1, env.number(token as f64), None),
        Claim::Wait(id) => {
            let (deferred, promise) = env.promise()?;
            let mut pending = state.pending.borrow_mut();
            if pending.is_empty() {
                state.wake.hold(env, true);
            }
            pending.insert(id, (deferred, mode));
            (2, promise, None)
        }
        Claim::StaleLead(v, token) => (
            3,
            to_js(env, mode.text_or_buffer(), &v)?,
            Some(env.number(token as f64)),
        ),
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
    if let Err(e) = store.set_ref(key, value.view(), &opts) {
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
