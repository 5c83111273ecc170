//! The `tinykv` command line: argument parsing and wiring only. `tinykv` with no arguments
//! opens the REPL on an in-process store. [`main`] is shared by the cargo binary and the Node
//! addon's `runCli`, so `npx tinykv` and `cargo run` behave the same.

pub mod help;
pub mod repl;
pub mod serve;

use crate::client::{Address, Client, Target};
use crate::command::Session;
use crate::server::Signals;
use crate::store::{parse_memory_size, Config, Store};
use clap::Parser;
use repl::{Local, Repl};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

/// TinyKV: fast local application memory.
#[derive(Debug, Parser)]
#[command(name = "tinykv", version, about, disable_help_flag = true)]
#[command(after_help = "Run `tinykv serve --help` for the daemon.")]
struct Cli {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Talk to a daemon on this Unix socket instead of an in-process store.
    #[arg(short = 's', long = "socket", value_name = "PATH")]
    socket: Option<std::path::PathBuf>,
    /// Talk to a daemon on this TCP port.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    port: Option<u16>,
    /// Daemon host for -p [default: 127.0.0.1].
    #[arg(short = 'h', long = "host", value_name = "HOST")]
    host: Option<String>,
    /// Daemon URL: redis://[:PASSWORD@]HOST[:PORT][/DB] or unix://PATH.
    #[arg(short = 'u', long = "url", value_name = "URL")]
    url: Option<String>,
    /// Password for AUTH on the daemon (visible in `ps`: prefer --pass-file, or
    /// $TINYKV_PASSWORD / $REDISCLI_AUTH, used when neither flag nor the URL gives one).
    #[arg(
        short = 'a',
        long = "pass",
        value_name = "PASSWORD",
        conflicts_with = "pass_file"
    )]
    pass: Option<String>,
    /// Read the password for AUTH from this file (one trailing newline is dropped).
    #[arg(long, value_name = "FILE")]
    pass_file: Option<std::path::PathBuf>,
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

/// Parse `args` with clap; on failure print clap's message and give the exit code (2 for a
/// usage error, 0 for `--help` and `--version`).
pub(crate) fn parse<T: Parser>(args: impl IntoIterator<Item = OsString>) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// Run the CLI with `args` (including the program name); returns the process exit code.
/// `tinykv serve` handles its own signals.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    main_with(args, Signals::Own)
}

/// [`main`], with `signals` saying who turns SIGINT/SIGTERM into a shutdown for `serve`
/// ([`Signals::Host`]: the caller, through [`crate::server::request_shutdown`]).
pub fn main_with(args: impl IntoIterator<Item = OsString>, signals: Signals) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "serve") {
        return serve::main(args, signals);
    }
    let cli = match parse::<Cli>(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("tinykv: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Reads a password file: its contents minus one trailing newline (`\n` or `\r\n`), as
/// `echo secret > file` writes it. Errors name the file.
pub(crate) fn read_password_file(path: &std::path::Path) -> Result<String, String> {
    let mut text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// Environment variables the client reads a password from, in order, when neither -a,
/// --pass-file nor the URL gives one (redis-cli reads `REDISCLI_AUTH`). Empty ones are skipped.
pub const CLIENT_PASSWORD_ENV: [&str; 2] = ["TINYKV_PASSWORD", "REDISCLI_AUTH"];

/// The password from -a or --pass-file (clap refuses both at once).
fn flag_password(cli: &Cli) -> Result<Option<String>, String> {
    if let Some(p) = &cli.pass {
        return Ok(Some(p.clone()));
    }
    let Some(f) = &cli.pass_file else {
        return Ok(None);
    };
    let p = read_password_file(f)?;
    if p.is_empty() {
        return Err(format!("password file {} is empty", f.display()));
    }
    Ok(Some(p))
}

/// The first non-empty variable of [`CLIENT_PASSWORD_ENV`].
fn env_password() -> Option<String> {
    CLIENT_PASSWORD_ENV
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|p| !p.is_empty())
}

/// The daemon `cli` names with -s/-p/-h/-u/-a/--pass-file, if any. Its password comes from
/// -a or --pass-file, else the URL, else the environment ([`CLIENT_PASSWORD_ENV`]); the
/// environment alone never turns the in-process REPL into a client.
fn daemon_target(cli: &Cli) -> Result<Option<Target>, String> {
    let pass = flag_password(cli)?;
    let tcp = cli.port.is_some() || cli.host.is_some();
    let mut target = if let Some(url) = &cli.url {
        if cli.socket.is_some() || tcp {
            return Err("use only one of -s, -p/-h and -u".into());
        }
        Target::parse_url(url)?
    } else if let Some(path) = &cli.socket {
        if tcp {
            return Err("use only one of -s, -p/-h and -u".into());
        }
        Target::new(Address::Unix(path.clone()))
    } else if tcp {
        let host = cli.host.clone().unwrap_or_else(|| "127.0.0.1".into());
        Target::new(Address::Tcp(host, cli.port.unwrap_or(6379)))
    } else if pass.is_some() {
        Target::new(Address::Unix(crate::server::default_socket_path()))
    } else {
        return Ok(None);
    };
    if pass.is_some() {
        target.password = pass;
    } else if target.password.is_none() {
        target.password = env_password();
    }
    Ok(Some(target))
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    if let Some(target) = daemon_target(&cli)? {
        let client = Client::connect(&target)?;
        return run_backend(Repl::new(client), cli.command);
    }
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
    let repl = Repl::new(Local {
        store,
        session: Session::default(),
    });
    run_backend(repl, cli.command)
}

/// One command (when `command` is not empty) or the REPL, against any backend.
fn run_backend<B: repl::Backend>(
    mut repl: Repl<B>,
    command: Vec<OsString>,
) -> Result<ExitCode, String> {
    if !command.is_empty() {
        let line: Vec<String> = command
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
