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
    let argv = std::iter::once(OsString::from("tinykv")).chain(args.into_iter().map(OsString::from));
    exit_code_value(crate::cli::main(argv))
}

/// `ExitCode` hides its number; find it by comparison (it is one of 0..=255).
fn exit_code_value(code: ExitCode) -> i32 {
    if code == ExitCode::SUCCESS {
        return 0;
    }
    (1..=255u8).find(|&n| ExitCode::from(n) == code).map_or(1, i32::from)
}
