//! The `tinykv` command line as users type it, against a real `tinykv serve` on the default
//! socket path (XDG_RUNTIME_DIR points at a temp dir) and redis-cli as the reference: one-shot
//! commands reach the daemon, replies print like redis-cli's (raw into pipes, `--no-raw`),
//! usage errors exit 2 and runtime errors 1 with one `tinykv: ERR` style, `help` works, the
//! REPL says where its data lives, and database 0 in a URL is the default namespace.
#![cfg(unix)] // Unix only: the default socket and redis-cli -s.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tinykv::cli::repl::Repl;
use tinykv::client::{Address, Client, Target};

const BIN: &str = env!("CARGO_BIN_EXE_tinykv");

/// `tinykv serve --port 0` on the default socket under `dir`, killed on drop.
struct Daemon {
    child: Child,
    sock: PathBuf,
    port: u16,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0"])
            .env("XDG_RUNTIME_DIR", dir)
            .env_remove("TINYKV_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let port = loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "serve exited early");
            if let Some(a) = line.trim().strip_prefix("tinykv listening on tcp:") {
                break a.rsplit(':').next().unwrap().parse().unwrap();
            }
        };
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Daemon {
            child,
            sock: dir.join("tinykv.sock"),
            port,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tinykv ARGS` with XDG_RUNTIME_DIR=`dir`, no password variables, stdin and stdout not
/// terminals.
fn tinykv(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_RUNTIME_DIR", dir)
        .env_remove("TINYKV_PASSWORD")
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli (Debian's redis-tools) must be installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn one_shot_commands_go_to_the_daemon_at_the_default_socket() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let out = tinykv(dir.path(), &["SET", "x", "1"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "OK\n".into())
    );
    // The write is in the daemon, for any client.
    let sock = d.sock.to_str().unwrap();
    assert_eq!(redis_cli(&["-s", sock, "GET", "x"]), "1\n");
    let out = tinykv(dir.path(), &["SET", "neg", "-1"]);
    assert_eq!(text(&out.stdout), "OK\n", "{}", text(&out.stderr));
    assert_eq!(text(&tinykv(dir.path(), &["GET", "neg"]).stdout), "-1\n");
}

#[test]
fn one_shot_without_a_daemon_names_the_socket_and_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = tinykv(dir.path(), &["SET", "x", "1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(text(&out.stdout), "");
    let sock = dir.path().join("tinykv.sock");
    let want = format!(
        "tinykv: ERR no TinyKV daemon at the default socket {}",
        sock.display()
    );
    assert!(err.starts_with(&want), "{err}");
    assert!(err.contains("start one with `tinykv serve`"), "{err}");
}

#[test]
fn replies_print_like_redis_cli_raw_into_pipes_and_formatted_with_no_raw() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let sock = d.sock.to_str().unwrap();
    redis_cli(&["-s", sock, "SET", "s", "hello world"]);
    redis_cli(&["-s", sock, "SET", "n", "41"]);
    let commands: [&[&str]; 7] = [
        &["GET", "s"],
        &["GET", "nope"],
        &["MGET", "s", "nope", "n"],
        &["EXISTS", "s"],
        &["TTL", "s"],
        &["PING"],
        &["MGET", "nope"],
    ];
    for cmd in commands {
        for flag in [None, Some("--no-raw")] {
            let mut args: Vec<&str> = flag.into_iter().collect();
            args.extend_from_slice(cmd);
            let ours = tinykv(dir.path(), &args);
            assert_eq!(ours.status.code(), Some(0), "{args:?}");
            let theirs = redis_cli(&[&["-s", sock][..], &args].concat());
            assert_eq!(text(&ours.stdout), theirs, "{args:?}");
        }
    }
    assert_eq!(
        text(&tinykv(dir.path(), &["GET", "s"]).stdout),
        "hello world\n"
    );
    let out = tinykv(dir.path(), &["--no-raw", "INCR", "n"]);
    assert_eq!(text(&out.stdout), "(integer) 42\n");
    // The last of --raw/--no-raw wins.
    let out = tinykv(dir.path(), &["--no-raw", "--raw", "GET", "s"]);
    assert_eq!(text(&out.stdout), "hello world\n");
    // An error reply: its text, exit 1.
    let out = tinykv(dir.path(), &["FROB"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("ERR unknown command 'FROB'"));
}

#[test]
fn usage_errors_exit_2_runtime_errors_exit_1_in_one_style() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.sock");
    let missing = missing.to_str().unwrap();
    let cases: [(&[&str], i32, &str); 9] = [
        (&["--bogus"], 2, "unexpected argument '--bogus'"),
        (&["--bogus", "GET", "x"], 2, "unexpected argument '--bogus'"),
        (&["-h"], 2, "-h needs a host"),
        (&["-s", "a.sock", "-p", "1", "PING"], 2, "use only one of"),
        (&["-u", "nowhere", "PING"], 2, "invalid URL 'nowhere'"),
        (&["--max-entries", "3", "GET", "x"], 2, "in-process REPL"),
        (&["help", "nope"], 2, "no help for 'nope'"),
        (&["-s", missing, "PING"], 1, "could not connect to unix:"),
        (
            &["serve", "--log-level", "loud"],
            2,
            "unknown log level 'loud'",
        ),
    ];
    for (args, code, needle) in cases {
        let out = tinykv(dir.path(), args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        let prog = if args[0] == "serve" {
            "tinykv serve"
        } else {
            "tinykv"
        };
        assert!(err.starts_with(&format!("{prog}: ERR ")), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
}

#[test]
fn help_is_a_subcommand_and_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let flag = tinykv(dir.path(), &["--help"]);
    let sub = tinykv(dir.path(), &["help"]);
    assert_eq!(flag.status.code(), Some(0));
    assert_eq!(sub.status.code(), Some(0), "{}", text(&sub.stderr));
    assert!(text(&sub.stdout).contains("Usage: tinykv [OPTIONS] [COMMAND]..."));
    assert_eq!(text(&sub.stdout).trim_end(), text(&flag.stdout).trim_end());
    let get = tinykv(dir.path(), &["HELP", "get"]);
    assert!(
        text(&get.stdout).starts_with("GET key"),
        "{}",
        text(&get.stdout)
    );
    let serve = tinykv(dir.path(), &["help", "serve"]);
    assert!(text(&serve.stdout).contains("--log-level"));
}

#[test]
fn the_repl_prompt_and_banner_name_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let client = Client::connect(&Target::new(Address::Unix(d.sock.clone()))).unwrap();
    let mut repl = Repl::new(client);
    let at = format!("unix:{}", d.sock.display());
    assert_eq!(repl.prompt(), format!("{at}> "));
    assert!(
        repl.banner()
            .contains(&format!("connected to the daemon at {at}")),
        "{}",
        repl.banner()
    );
    assert_eq!(repl.eval_line("USE sessions").text, "OK");
    assert_eq!(repl.prompt(), format!("{at}[sessions]> "));
}

#[test]
fn url_database_0_is_the_default_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let port = d.port.to_string();
    let url = |db: &str| format!("redis://127.0.0.1:{port}/{db}");
    let out = tinykv(dir.path(), &["-u", &url("0"), "SET", "k", "zero"]);
    assert_eq!(text(&out.stdout), "OK\n", "{}", text(&out.stderr));
    let out = tinykv(dir.path(), &["-u", &url("3"), "SET", "k", "three"]);
    assert_eq!(text(&out.stdout), "OK\n", "{}", text(&out.stderr));
    // redis-cli (and ioredis) with no database, or -n 3, see the same keys.
    assert_eq!(redis_cli(&["-p", &port, "GET", "k"]), "zero\n");
    assert_eq!(redis_cli(&["-p", &port, "-n", "3", "GET", "k"]), "three\n");
}
