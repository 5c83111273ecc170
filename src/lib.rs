//! TinyKV: fast local application memory.
//!
//! The crate is layered (see ARCHITECTURE.md): [`store`] is the engine, [`command`] turns
//! Redis-style argument vectors into store calls and replies, and [`cli`] wires the REPL. The
//! napi binding lives in `node` (feature `node`) and is the only module that knows of Node.
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod command;
pub mod error;
pub mod metrics;
pub mod migrate;
pub mod protocol;
pub mod server;
pub mod store;

pub use error::{Error, Result};
pub use store::{Config, Ns, SetOptions, Store, Ttl, Value};

#[cfg(feature = "node")]
mod node;
