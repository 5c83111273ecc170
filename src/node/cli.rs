//! `runCli`: the cargo binary's command line, callable from JS so `npx tinykv` (bin/tinykv.js)
//! starts the same REPL. It runs synchronously on the calling thread and reads the process's
//! stdin and writes its stdout directly.
//!
//! `runCliAsync` and `requestShutdown` are for `npx tinykv serve`: the daemon runs on a libuv
//! worker thread and installs no signal handlers, so Node's main thread stays free to own SIGINT
//! and SIGTERM and forward each one with `requestShutdown()`. (Run synchronously inside Node,
//! tokio's handler would chain to Node's, which re-raises the signal: an endless loop.)
use crate::server::Signals;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the `tinykv` command line (the REPL, or a subcommand) with `args`, the arguments after
/// the program name (e.g. `process.argv.slice(2)`), and returns the exit code. Blocks until the
/// REPL ends (EXIT, end of input).
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    let argv =
        std::iter::once(OsString::from("tinykv")).chain(args.into_iter().map(OsString::from));
    exit_code_value(crate::cli::main(argv))
}

/// Runs the `tinykv` command line like `runCli`, but on a worker thread, and resolves to the exit
/// code. For `serve`, the daemon installs no SIGINT/SIGTERM handlers: the caller owns those
/// signals and calls `requestShutdown()` for each one (bin/tinykv.js does). Do not use it for the
/// REPL, which reads stdin.
#[napi(catch_unwind, ts_return_type = "Promise<number>")]
pub fn run_cli_async(args: Vec<String>) -> AsyncTask<CliTask> {
    AsyncTask::new(CliTask { args })
}

/// Asks the daemon started by `runCliAsync(['serve', ...])` in this process to shut down, as a
/// signal would: the first call stops it gracefully (its promise resolves to 0), a second exits
/// at once (130). A call while the daemon is still starting is kept and acted on once it runs.
#[napi(catch_unwind)]
pub fn request_shutdown() {
    crate::server::request_shutdown();
}

/// The work behind `runCliAsync`.
pub struct CliTask {
    /// Arguments after the program name.
    args: Vec<String>,
}

impl Task for CliTask {
    type Output = i32;
    type JsValue = i32;

    fn compute(&mut self) -> napi::Result<i32> {
        let args = std::mem::take(&mut self.args);
        // A panic must not unwind through libuv's thread pool.
        std::panic::catch_unwind(move || {
            let argv = std::iter::once(OsString::from("tinykv"))
                .chain(args.into_iter().map(OsString::from));
            exit_code_value(crate::cli::main_with(argv, Signals::Host))
        })
        .map_err(|_| napi::Error::from_reason("tinykv panicked; this is a bug"))
    }

    fn resolve(&mut self, _env: Env, code: i32) -> napi::Result<i32> {
        Ok(code)
    }
}

/// `ExitCode` hides its number; find it by comparison (it is one of 0..=255).
fn exit_code_value(code: ExitCode) -> i32 {
    if code == ExitCode::SUCCESS {
        return 0;
    }
    (1..=255u8)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, i32::from)
}

/// Test hook: panics inside Rust, through the raw-callback guard (`viaGuard`) or a napi-rs
/// `catch_unwind` export, so the tests can check that a panic surfaces as a JS Error.
#[napi(js_name = "__testPanic", catch_unwind, skip_typescript)]
pub fn test_panic(env: &napi::Env, via_guard: bool) -> napi::Result<()> {
    if via_guard {
        let v = super::raw::Env::of(env).guard(|| panic!("test panic via guard"));
        if v.is_null() {
            return Err(super::error::pending());
        }
        return Ok(());
    }
    panic!("test panic via catch_unwind")
}
