//! The Node.js addon (feature `node`): the only module that imports napi.
//!
//! - `class.rs`: the `TinyKV` class, the set options and every member's docs (-> `index.d.ts`).
//! - `options.rs`: the constructor's option bag and its reader (errors name the option).
//! - `stats.rs`: `stats()`, `info(key)` and `metrics()` (Prometheus text).
//! - `ops.rs`: each operation, written once against raw N-API handles.
//! - `hot.rs`: the hot methods (get, set, has, delete, incr, decr, mget) as plain C callbacks,
//!   installed on each instance, bypassing napi-rs's per-call machinery.
//! - `raw.rs`: stack-buffer argument reading, value creation, throwing, panic guard.
//! - `error.rs`: the one mapping from the crate's `Error` to JS errors.
//! - `cli.rs`: `runCli`, which runs the same CLI as the cargo binary (the `npx tinykv` shim), and
//!   `runCliAsync`/`requestShutdown`, with which the shim runs `serve` while Node owns the signals.
//!
//! Invariants: no Rust panic unwinds into V8 (every entry point is guarded); a store is touched
//! only on the JS thread, through a `View`; a closed store throws instead of crashing.
mod class;
mod cli;
mod error;
mod hot;
mod ops;
mod options;
mod raw;
mod stats;
