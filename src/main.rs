//! The `tinykv` binary: the REPL, and (with `serve`) the daemon. All logic lives in the library.

fn main() -> std::process::ExitCode {
    tinykv::cli::main(std::env::args_os())
}
