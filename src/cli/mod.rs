//! The `tinykv` command line: argument parsing and wiring only. `tinykv` with no arguments
//! opens the REPL on an in-process store. [`main`] is shared by the cargo binary and the Node
//! addon's `runCli`, so `npx tinykv` and `cargo run` behave the same.

pub mod help;
pub mod repl;
pub mod split;

use crate::command::Session;
use crate::store::{parse_memory_size, Config, Store};
use clap::Parser;
use repl::{Local, Repl};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

/// TinyKV: fast local application memory.
#[derive(Debug, Parser)]
#[command(name = "tinykv", version, about)]
struct Cli {
    /// Entry cap for the in-process REPL store (LRU eviction past it).
    #[arg(long, value_name = "N")]
    max_entries: Option<usize>,
    /// Byte cap for the in-process REPL store, e.g. 64mb.
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    /// A command to run once, e.g. `tinykv GET key`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<OsString>,
}

/// Run the CLI with `args` (including the program name); returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("tinykv: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let max_memory = cli
        .max_memory
        .as_deref()
        .map(parse_memory_size)
        .transpose()
        .map_err(|e| e.to_string())?;
    let config = Config {
        max_entries: cli.max_entries,
        max_memory,
        ..Config::default()
    };
    let store = Store::new(config).map_err(|e| e.to_string())?;
    let mut repl = Repl::new(Local {
        store,
        session: Session::default(),
    });
    if !cli.command.is_empty() {
        let line: Vec<String> = cli
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let argv = line.iter().map(|a| a.as_bytes().to_vec()).collect();
        let reply = repl::Backend::call(&mut repl.backend, argv);
        println!("{}", reply.to_cli_string());
        return Ok(if reply.is_error() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if std::io::stdin().is_terminal() {
        repl::run_terminal(&mut repl)?;
    } else {
        let stdin = std::io::stdin();
        repl::run_piped(&mut repl, stdin.lock(), std::io::stdout().lock())
            .map_err(|e| e.to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}
