//! The Node.js addon (feature `node`): the only module that imports napi.
//!
//! - `class.rs`: the `TinyKV` class, the set options and every member's docs (-> `index.d.ts`).
//! - `options.rs`: the constructor's option bag and its reader (errors name the option).
//! - `stats.rs`: `stats()`, `info(key)` and `metrics()` (Prometheus text).
//! - `ops.rs`: each one-key operation, written once in safe Rust over `raw::Env`;
//!   `batch.rs`: mget, mset, keys; `args.rs`: reading and checking their arguments.
//! - `hot.rs`: the hot methods (get, set, has, delete, incr, decr, mget) as plain C callbacks,
//!   installed on each instance, bypassing napi-rs's per-call machinery; their JS wrappers
//!   are `js/set.js` and `js/mget.js`.
//! - `raw/`: the one wrapper around raw N-API (`Env`, `Js`, and why its calls are sound),
//!   stack-buffer string reading, value creation, throwing, panic guard, and `wake.rs`
//!   (threadsafe functions, promises, env cleanup hooks). Only it and `hot.rs`
//!   call `napi::sys`; everything else is safe Rust.
//! - `shared_stores.rs`: named stores shared by every thread of the process (a registry of
//!   `Hub`s with handle counts); `get_or_set/`: single-flight `getOrSet` across threads and
//!   stale-while-revalidate, its JS side in `js/get_or_set.js`.
//! - `error.rs`: the one mapping from the crate's `Error` to JS errors.
//! - `cli.rs`: `runCli`, which runs the same CLI as the cargo binary (the `npx tinykv` shim), and
//!   `runCliAsync`/`requestShutdown`, with which the shim runs `serve` while Node owns the signals.
//!
//! Invariants: no Rust panic unwinds into V8 (every entry point is guarded); a JS handle (a
//! `View`) is used only on its own JS thread, while the store behind it (`Arc<Store>`, `Send +
//! Sync`) may be shared by every thread through a named `Hub`; all per-thread state is per env
//! and released by env cleanup hooks; a closed handle throws instead of crashing.
#![deny(unsafe_op_in_unsafe_fn)]
mod args;
mod batch;
mod class;
mod cli;
mod error;
mod get_or_set;
mod hot;
mod ops;
mod options;
mod raw;
mod shared_stores;
mod stats;
