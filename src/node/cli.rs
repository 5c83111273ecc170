//! `runCli`: the cargo binary's command line, callable from JS so `npx tinykv` (bin/tinykv.js)
//! starts the same REPL. It runs synchronously on the calling thread and reads the process's
//! stdin and writes its stdout directly.
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
