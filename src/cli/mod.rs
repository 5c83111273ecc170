//! The `tinykv` command line: argument parsing and wiring only. `tinykv` with no arguments
//! opens the REPL on an in-process store; `tinykv COMMAND ...` runs one command on a daemon (at
//! the default socket unless -s/-p/-u say otherwise), as `redis-cli COMMAND` does; `tinykv help`
//! and `--help` print help. [`main`] is shared by the cargo binary and the Node addon's
//! `runCli`, so `npx tinykv` and `cargo run` behave the same.
//!
//! Errors: every error the command line itself reports is one stderr line
//! `tinykv: ERR <message>` (`tinykv serve: ERR ...` for the daemon's), and the exit code says
//! its kind: 2 for a usage error (unknown flag, bad or conflicting values, unreadable password
//! file), 1 for a runtime error (no daemon, a failed connection or AUTH, an error reply).
//!
//! Windows has no Unix sockets: there the default daemon is TCP on 127.0.0.1 at
//! [`crate::server::DEFAULT_TCP_PORT`], and `-s PATH` or a `unix://` URL is a usage error.

mod backup;
mod export;
pub mod help;
mod import;
pub mod migrate;
pub mod output;
mod remote;
pub mod repl;
pub mod serve;
mod transfer;

use crate::client::{Address, Client, Target};
use crate::command::Session;
use crate::server::Signals;
use crate::store::{parse_memory_size, Config, Store};
use clap::{CommandFactory, Parser};
use output::Style;
use repl::{Local, Repl};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Where a command goes when no flag names a daemon, for `tinykv --help`.
#[cfg(unix)]
macro_rules! default_daemon {
    () => {
        "the default socket ($XDG_RUNTIME_DIR/tinykv.sock, else /tmp/tinykv-$UID/tinykv.sock)"
    };
}
#[cfg(not(unix))]
macro_rules! default_daemon {
    () => {
        "127.0.0.1:6379 (Windows has no Unix sockets)"
    };
}

/// TinyKV: fast local application memory.
#[derive(Debug, Parser)]
#[command(name = "tinykv", version, about, disable_help_flag = true)]
#[command(
    after_help = concat!("With no COMMAND, opens a REPL on an in-process store (its data is gone when it \
exits), or on the daemon -s/-p/-u name. A COMMAND goes to the daemon at ", default_daemon!(), " unless -s/-p/-u say \
otherwise.\n\n`tinykv help COMMAND` shows a command's usage (HELP in the REPL lists them); \
`tinykv serve --help` the daemon's flags.\n\nData in and out of a daemon: `tinykv export`, `import`, \
`backup` and `restore` (each with --help; the JSONL format is docs/jsonl.md).\n\nExit codes: 0 ok, 1 runtime error (no daemon, \
an error reply), 2 usage error.")
)]
struct Cli {
    /// Print help (`tinykv help` does too; -h is the host, as in redis-cli).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Talk to a daemon on this Unix socket.
    #[arg(short = 's', long = "socket", value_name = "PATH")]
    socket: Option<std::path::PathBuf>,
    /// Talk to a daemon on this TCP port.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    port: Option<u16>,
    /// Daemon host for -p [default: 127.0.0.1].
    #[arg(short = 'h', long = "host", value_name = "HOST")]
    host: Option<String>,
    /// Daemon URL: redis://[:PASSWORD@]HOST[:PORT][/DB] or unix://PATH[?db=DB]. DB 0 (or none)
    /// is the default namespace.
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
    /// Print a COMMAND's reply raw: values as they are, numbers bare, nil as an empty line
    /// [default when stdout is not a terminal].
    #[arg(long, overrides_with = "no_raw")]
    raw: bool,
    /// Print a COMMAND's reply formatted ("value", (integer) 1) even when stdout is not a
    /// terminal.
    #[arg(long, overrides_with = "raw")]
    no_raw: bool,
    /// Entry cap for the in-process REPL store (LRU eviction past it).
    #[arg(long, value_name = "N")]
    max_entries: Option<usize>,
    /// Byte cap for the in-process REPL store, e.g. 64mb.
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
    /// A command to run once on the daemon, e.g. `tinykv GET key`.
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// What went wrong, by kind; each kind has one exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The command line is wrong: exit 2.
    Usage(String),
    /// Doing what it asked failed: exit 1.
    Runtime(String),
}

impl Failure {
    /// Prints `{prog}: ERR {message}` on stderr and gives the kind's exit code.
    pub(crate) fn report(&self, prog: &str) -> ExitCode {
        let (msg, code) = match self {
            Failure::Usage(m) => (m, 2),
            Failure::Runtime(m) => (m, 1),
        };
        eprintln!("{prog}: ERR {msg}");
        ExitCode::from(code)
    }
}

/// Parse `args` with clap; on failure print clap's message in the `{prog}: ERR ...` style and
/// give the exit code (2 for a usage error, 0 for `--help` and `--version`).
pub(crate) fn parse<T: Parser>(
    args: impl IntoIterator<Item = OsString>,
    prog: &str,
) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|e| clap_exit(&e, prog))
}

/// Prints clap's `e` (help and version as they are, errors as `{prog}: ERR ...`) and gives its
/// exit code.
fn clap_exit(e: &clap::Error, prog: &str) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
    Failure::Usage(text.to_string()).report(prog)
}

/// True when clap's `e` is `-h` given without a value: `tinykv -h` asking for help.
fn is_bare_host_flag(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    e.kind() == ErrorKind::InvalidValue
        && matches!(
            e.get(ContextKind::InvalidArg),
            Some(ContextValue::String(a)) if a.starts_with("--host")
        )
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
    match args.get(1).and_then(|a| a.to_str()) {
        Some("serve") => return serve::main(args, signals),
        Some("export") => return export::main(args),
        Some("import") => return import::main(args),
        Some("backup") => return backup::backup_main(args),
        Some("restore") => return backup::restore_main(args),
        Some("migrate") => return migrate::main(args),
        _ => {}
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) if is_bare_host_flag(&e) => {
            return Failure::Usage(
                "-h needs a host, as in redis-cli (tinykv -h HOST -p PORT); for help use \
                 --help or `tinykv help`"
                    .into(),
            )
            .report("tinykv")
        }
        Err(e) => return clap_exit(&e, "tinykv"),
    };
    match run(cli) {
        Ok(code) => code,
        Err(f) => f.report("tinykv"),
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
fn flag_password(
    pass: &Option<String>,
    pass_file: &Option<std::path::PathBuf>,
) -> Result<Option<String>, Failure> {
    if let Some(p) = pass {
        return Ok(Some(p.clone()));
    }
    let Some(f) = pass_file else {
        return Ok(None);
    };
    let p = read_password_file(f).map_err(Failure::Usage)?;
    if p.is_empty() {
        return Err(Failure::Usage(format!(
            "password file {} is empty",
            f.display()
        )));
    }
    Ok(Some(p))
}

/// The daemon -s, -p/-h or -u name (at most one of them), `None` when none does.
fn named_target(
    socket: &Option<std::path::PathBuf>,
    port: Option<u16>,
    host: &Option<String>,
    url: &Option<String>,
) -> Result<Option<Target>, Failure> {
    let tcp = port.is_some() || host.is_some();
    if [socket.is_some(), tcp, url.is_some()]
        .iter()
        .filter(|b| **b)
        .count()
        > 1
    {
        return Err(Failure::Usage("use only one of -s, -p/-h and -u".into()));
    }
    Ok(if let Some(url) = url {
        Some(Target::parse_url(url).map_err(Failure::Usage)?)
    } else if let Some(path) = socket {
        if cfg!(not(unix)) {
            return Err(Failure::Usage(format!(
                "-s {}: Unix sockets are not supported on Windows; use -p PORT or -u \
                 redis://HOST:PORT",
                path.display()
            )));
        }
        Some(Target::new(Address::Unix(path.clone())))
    } else if tcp {
        let host = host.clone().unwrap_or_else(|| "127.0.0.1".into());
        Some(Target::new(Address::Tcp(
            host,
            port.unwrap_or(crate::server::DEFAULT_TCP_PORT),
        )))
    } else {
        None
    })
}

/// The daemon a command goes to when no flag names one: the default socket, or on Windows
/// (no Unix sockets) TCP on 127.0.0.1 at [`crate::server::DEFAULT_TCP_PORT`].
pub(crate) fn default_address() -> Address {
    #[cfg(unix)]
    let address = Address::Unix(crate::server::default_socket_path());
    #[cfg(not(unix))]
    let address = Address::Tcp("127.0.0.1".into(), crate::server::DEFAULT_TCP_PORT);
    address
}

/// Sets `target`'s password: `flag`'s (-a or --pass-file), else the URL's, else the
/// environment's ([`CLIENT_PASSWORD_ENV`]).
fn with_password(mut target: Target, flag: Option<String>) -> Target {
    if flag.is_some() {
        target.password = flag;
    } else if target.password.is_none() {
        target.password = env_password();
    }
    target
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
fn daemon_target(cli: &Cli) -> Result<Option<Target>, Failure> {
    let pass = flag_password(&cli.pass, &cli.pass_file)?;
    let target = match named_target(&cli.socket, cli.port, &cli.host, &cli.url)? {
        Some(t) => t,
        None if pass.is_some() => Target::new(default_address()),
        None => return Ok(None),
    };
    Ok(Some(with_password(target, pass)))
}

/// `tinykv help [TOPIC]`: the CLI's help, `serve`'s, or one command's usage.
fn help(topic: Option<&OsString>) -> Result<ExitCode, Failure> {
    let text = match topic.map(|t| t.to_string_lossy()) {
        None => Cli::command().render_help().to_string(),
        Some(t) if t == "serve" => serve::help_text(),
        Some(t) => {
            let text = help::help(Some(t.to_string()));
            if text.starts_with("(error) ") {
                return Err(Failure::Usage(format!(
                    "no help for '{t}'; `tinykv help` for the CLI, HELP in the REPL for commands"
                )));
            }
            text
        }
    };
    // A closed stdout (`tinykv help | head -3`) is not an error.
    let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if cli
        .command
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case("help"))
    {
        return help(cli.command.get(1));
    }
    let target = daemon_target(&cli)?;
    let repl_store = cli.max_entries.is_some() || cli.max_memory.is_some();
    if repl_store && (target.is_some() || !cli.command.is_empty()) {
        return Err(Failure::Usage(
            "--max-entries and --max-memory size the in-process REPL's store; a daemon's caps \
             are `tinykv serve` flags"
                .into(),
        ));
    }
    if !cli.command.is_empty() {
        let style = Style::pick(cli.raw, cli.no_raw, std::io::stdout().is_terminal());
        // A one-shot command goes to a daemon, the default one unless the flags name another:
        // an in-process store would lose the write the moment the command returned.
        let target = target.unwrap_or_else(|| {
            let mut t = Target::new(default_address());
            t.password = env_password();
            t
        });
        let client = connect(&target)?;
        return one_shot(client, &cli.command, style);
    }
    if let Some(target) = target {
        let mut repl = Repl::new(connect(&target)?);
        if let Some(db) = &target.db {
            repl.namespace = db.clone();
        }
        return run_repl(repl);
    }
    let max_memory = cli
        .max_memory
        .as_deref()
        .map(parse_memory_size)
        .transpose()
        .map_err(|e| Failure::Usage(format!("--max-memory: {e}")))?;
    let config = Config {
        max_entries: cli.max_entries,
        max_memory,
        ..Config::default()
    };
    let store = Store::new(config).map_err(|e| Failure::Usage(e.to_string()))?;
    run_repl(Repl::new(Local {
        store,
        session: Session::default(),
    }))
}

/// Connects to `target`; when it is the default socket and nothing listens there, says so and
/// how to start a daemon or name another.
#[cfg(unix)]
fn connect(target: &Target) -> Result<Client, Failure> {
    Client::connect(target).map_err(|e| {
        let at_default = match &target.address {
            Address::Unix(path) => *path == crate::server::default_socket_path(),
            Address::Tcp(..) => false,
        };
        let Address::Unix(path) = &target.address else {
            return Failure::Runtime(e);
        };
        if !at_default || !e.starts_with("could not connect") {
            return Failure::Runtime(e);
        }
        Failure::Runtime(format!(
            "no TinyKV daemon at the default socket {} ({}); start one with `tinykv serve`, or \
             name another with -s PATH, -p PORT or -u URL (`tinykv` with no command opens a \
             REPL on an in-process store)",
            path.display(),
            e.rsplit(": ")
                .next()
                .map(|why| why.split(" (os error").next().unwrap_or(why))
                .unwrap_or_default()
        ))
    })
}

/// Connects to `target`; when it is the default address and nothing listens there, says so and
/// how to start a daemon or name another (Windows: the default is TCP, not a socket).
#[cfg(not(unix))]
fn connect(target: &Target) -> Result<Client, Failure> {
    Client::connect(target).map_err(|e| {
        if target.address != default_address() || !e.starts_with("could not connect") {
            return Failure::Runtime(e);
        }
        Failure::Runtime(format!(
            "no TinyKV daemon at the default address {} ({}); start one with `tinykv serve`, or \
             name another with -p PORT or -u URL (`tinykv` with no command opens a REPL on an \
             in-process store)",
            target.address,
            e.rsplit(": ")
                .next()
                .map(|why| why.split(" (os error").next().unwrap_or(why))
                .unwrap_or_default()
        ))
    })
}

/// Runs one command and prints its reply in `style`; an error reply exits 1.
fn one_shot(mut client: Client, command: &[OsString], style: Style) -> Result<ExitCode, Failure> {
    // The bytes as given on Unix; on Windows, UTF-8 for any argument that is valid Unicode.
    let argv = command
        .iter()
        .map(|a| a.as_encoded_bytes().to_vec())
        .collect();
    let reply = repl::Backend::call(&mut client, argv);
    let mut out = std::io::stdout().lock();
    // A closed stdout (`tinykv GET k | head -0`) is not an error of the command.
    let _ = out.write_all(&style.render(&reply));
    let _ = out.flush();
    Ok(if reply.is_error() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The REPL against any backend: rustyline on a terminal, a line reader on a pipe.
fn run_repl<B: repl::Backend>(mut repl: Repl<B>) -> Result<ExitCode, Failure> {
    if std::io::stdin().is_terminal() {
        repl::run_terminal(&mut repl).map_err(Failure::Runtime)?;
    } else {
        let stdin = std::io::stdin();
        repl::run_piped(&mut repl, stdin.lock(), std::io::stdout().lock())
            .map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    Ok(ExitCode::SUCCESS)
}
