//! The shared half of getOrSet: a store's [`Flights`] (loads in flight, by stored key, each
//! with its waiters), how a flight ends ([`Outcome`]), and what each JS thread keeps
//! ([`EnvState`]: its doorbell, its waiters' promises, the loads it leads). A waiter is woken
//! on its own thread by a [`Woken`] message through that thread's [`Wake`]; a thread's
//! teardown ends the flights it leads with an error.
//!
//! Invariants: the flight lock is never held while JS runs or while a message is sent; a
//! flight ends once, by its token; dropping `Flights` (its store's hub is gone) rejects every
//! waiter, so none is left hanging.
use super::super::ops;
use super::super::raw::{at_teardown, Deferred, Env, JsResult, Message, Thrown, Wake};
use crate::store::Store;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};

/// Tokens and waiter ids, unique in the process.
pub(super) static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The loads in flight on one store, by stored key (namespace prefix and key bytes).
#[derive(Default)]
pub(crate) struct Flights {
    /// Guarded by a mutex no JS ever runs under.
    pub(super) map: Mutex<HashMap<Vec<u8>, Flight>>,
}

/// One load in flight.
pub(super) struct Flight {
    /// The leader's token: only it may end this flight.
    pub(super) token: u64,
    /// Callers waiting for the result, in any thread.
    pub(super) waiters: Vec<Waiter>,
}

/// A caller waiting on a flight: the doorbell of its thread and its promise's id there.
pub(super) struct Waiter {
    /// Its thread's doorbell.
    pub(super) wake: Arc<Wake<Woken>>,
    /// The key of its promise in that thread's `EnvState::pending`.
    pub(super) id: u64,
}

/// How a flight ended.
pub(super) enum Outcome {
    /// The bytes written to the store.
    Value(Vec<u8>),
    /// Why no value was written (the loader's error message, a teardown, a closed store).
    Failed(String),
}

/// What a waiter's getOrSet returns: a string, a Buffer, or `JSON.parse` of the text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Text,
    Buffer,
    Json,
}

impl Flights {
    /// Ends the flight of `key` if `token` still leads it, and wakes its waiters with `outcome`.
    pub(super) fn end(&self, key: &[u8], token: u64, outcome: Outcome) {
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
    pub(super) id: u64,
    /// The flight's outcome, shared by its waiters.
    pub(super) outcome: Arc<Outcome>,
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
pub(super) fn to_js(env: Env, mode: Mode, bytes: &[u8]) -> JsResult {
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
pub(super) struct Lead {
    /// The store; weak, so a load never keeps a closed store alive.
    pub(super) store: Weak<Store>,
    /// The store's flights (its hub's); weak for the same reason.
    pub(super) flights: Weak<Flights>,
    /// The stored key.
    pub(super) key: Vec<u8>,
    /// The TTL to write with (`ttl + staleTtl`), if any.
    pub(super) ttl_ms: Option<u64>,
    /// What the leader's getOrSet returns.
    pub(super) mode: Mode,
}

/// What one JS thread (env) keeps for getOrSet.
pub(super) struct EnvState {
    /// This thread's doorbell.
    pub(super) wake: Arc<Wake<Woken>>,
    /// Waiters' promises by id, settled by `Woken::deliver`.
    pub(super) pending: RefCell<HashMap<u64, (Deferred, Mode)>>,
    /// The loads this thread leads, by token: ended with an error if the thread goes away.
    pub(super) led: RefCell<HashMap<u64, Lead>>,
}

thread_local! {
    /// Per-env state, by env pointer (a worker thread has one env; the key keeps it per env).
    static ENVS: RefCell<HashMap<usize, Rc<EnvState>>> = RefCell::new(HashMap::new());
}

/// This env's state, made (with its doorbell and teardown hook) on first use.
pub(super) fn env_state(env: Env) -> JsResult<Rc<EnvState>> {
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

impl Mode {
    /// How `claim` hands a value to JS: JSON stays text (the JS side parses it).
    pub(super) fn text_or_buffer(self) -> Mode {
        if self == Mode::Buffer {
            Mode::Buffer
        } else {
            Mode::Text
        }
    }
}
