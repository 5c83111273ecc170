//! The REPL through its pure evaluator (data-driven transcripts) and through the real binary
//! over a pipe.

mod common;

use tinykv::cli::repl::{Local, Repl};
use tinykv::command::Session;
use tinykv::store::{Config, Store};

fn repl() -> Repl<Local> {
    let store = Store::new(Config::default()).unwrap();
    Repl::new(Local {
        store,
        session: Session::default(),
    })
}

/// Run a transcript of `> command` lines each followed by its expected output lines.
fn transcript(t: &str) {
    let mut r = repl();
    let mut lines = t
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .peekable();
    while let Some(line) = lines.next() {
        let cmd = line
            .strip_prefix("> ")
            .unwrap_or_else(|| panic!("expected a command line, got {line:?}"));
        let mut expected = Vec::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("> ") {
                break;
            }
            expected.push(lines.next().unwrap_or_default());
        }
        let out = r.eval_line(cmd);
        assert_eq!(out.text.trim_end(), expected.join("\n"), "command: {cmd}");
        if out.quit {
            assert!(lines.peek().is_none(), "lines after EXIT");
        }
    }
}

#[test]
fn the_readme_session() {
    transcript(
        "
> SET name Shanil
OK
> GET name
Shanil
> EXISTS name
true
> LIST
name = Shanil
> DEL name
deleted
> GET name
(nil)
> EXIT
bye",
    );
}

#[test]
fn quoting_case_and_ttls() {
    transcript(
        r#"
> set greeting "hello world"
OK
> Get greeting
hello world
> SET t v PX 500
OK
> PTTL nope
-2
> TTL greeting
-1
> PERSIST t
1
> TTL t
-1
> EXPIRE t 100
1
> TTL t
100
> SET x 1 EX
(error) ERR syntax error
> SET a "unbalanced
(error) ERR unbalanced quotes in request
"#,
    );
}

#[test]
fn counters_batches_and_errors() {
    transcript(
        "
> INCR hits
1
> INCRBY hits 10
11
> DECR hits
10
> DECRBY hits 5
5
> INCRBY hits ten
(error) ERR value is not an integer or out of range
> GET hits
5
> MSET a 1 b 2
OK
> MGET a b c
1) 1
2) 2
3) (nil)
> KEYS ?
1) a
2) b
> DEL a b c
deleted 2
> DEL nope
not found
> EXISTS a
false
> FROB x
(error) ERR unknown command 'FROB', with args beginning with: 'x'
> GET
(error) ERR wrong number of arguments for 'get' command
> GET hits
5
",
    );
}

#[test]
fn namespaces_prompt_flush_and_stats() {
    let mut r = repl();
    assert_eq!(r.prompt(), "in-process> ");
    r.eval_line("SET k in-default");
    assert_eq!(r.eval_line("USE sessions").text, "OK");
    assert_eq!(r.prompt(), "in-process[sessions]> ");
    assert_eq!(r.eval_line("GET k").text, "(nil)");
    r.eval_line("SET s1 a");
    r.eval_line("SET s2 b");
    assert_eq!(r.eval_line("NAMESPACES").text, "default: 1\nsessions: 2");
    let stats = r.eval_line("STATS").text;
    assert!(stats.contains("keys: 3"), "{stats}");
    assert!(stats.contains("ns.sessions.keys: 2"), "{stats}");
    assert_eq!(r.eval_line("FLUSH").text, "OK");
    assert_eq!(r.eval_line("LIST").text, "(empty)");
    assert_eq!(r.eval_line("USE default").text, "OK");
    assert_eq!(r.eval_line("GET k").text, "in-default");
    assert_eq!(r.eval_line("FLUSH ALL").text, "OK");
    assert_eq!(r.eval_line("NAMESPACES").text, "(empty)");
    assert!(r.eval_line("HELP").text.contains("INCRBY"));
    assert!(r.eval_line("help set").text.starts_with("SET key value"));
    assert!(r.eval_line("HELP nope").text.starts_with("(error)"));
    assert_eq!(r.eval_line("   ").text, "");
}

#[test]
fn binary_over_a_pipe_prints_one_reply_per_command() {
    let out = common::run_with_stdin(
        env!("CARGO_BIN_EXE_tinykv"),
        &[],
        b"SET a 1\nGET a\nINCR a\nBOGUS\nGET a\nEXIT\nGET a\n",
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "OK\n1\n2\n(error) ERR unknown command 'BOGUS', with args beginning with: \n2\nbye\n"
    );
}

#[test]
fn the_banner_says_an_in_process_store_forgets_on_exit() {
    let banner = repl().banner();
    assert!(
        banner.starts_with("TinyKV CLI, in-process store"),
        "{banner}"
    );
    assert!(banner.contains("data is gone when you exit"), "{banner}");
    assert!(banner.contains("tinykv serve"), "{banner}");
}
