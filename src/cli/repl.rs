//! The REPL: a pure evaluator ([`Repl::eval_line`]) over a [`Backend`], and the two drivers
//! around it: rustyline with history when stdin is a terminal, and a plain line reader with no
//! banner and no prompts when it is not. The same evaluator runs against an in-process store
//! ([`Local`]) and against a daemon (the `Client` backend in `cli::remote`), so the friendly
//! commands behave the same in both; the banner and the prompt say which one it is
//! (`in-process> `, `unix:/run/user/1000/tinykv.sock> `), because only a daemon keeps the data
//! after the REPL exits.

use super::help;
use crate::command::{execute, Reply, Session};
use crate::protocol::split_args;
use crate::store::Store;
use std::io::{BufRead, Write};

/// Where commands go: anything that turns an argument vector into a reply.
pub trait Backend {
    /// Run one command.
    fn call(&mut self, argv: Vec<Vec<u8>>) -> Reply;
    /// Where the data lives, short, for the prompt: `in-process` or the daemon's address.
    fn name(&self) -> String;
    /// Where the data lives, as a sentence for the banner.
    fn describe(&self) -> String;
}

/// An in-process store with its session.
#[derive(Debug)]
pub struct Local {
    /// The store commands act on.
    pub store: Store,
    /// The selected namespace.
    pub session: Session,
}

impl Backend for Local {
    fn call(&mut self, argv: Vec<Vec<u8>>) -> Reply {
        execute(&self.store, &mut self.session, &argv)
    }

    fn name(&self) -> String {
        "in-process".into()
    }

    fn describe(&self) -> String {
        "in-process store: data is gone when you exit (`tinykv serve` starts a daemon that \
         keeps it; `tinykv -s PATH` connects to one)"
            .into()
    }
}

/// What one line produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Text to print (without a trailing newline); empty for a blank line.
    pub text: String,
    /// True when the REPL should exit after printing.
    pub quit: bool,
}

/// REPL state: the backend and the namespace shown in the prompt.
pub struct Repl<B: Backend> {
    /// Where commands go.
    pub backend: B,
    /// Selected namespace name.
    pub namespace: String,
}

impl<B: Backend> Repl<B> {
    /// A REPL in namespace `default`.
    pub fn new(backend: B) -> Self {
        Repl {
            backend,
            namespace: "default".into(),
        }
    }

    /// The prompt, redis-cli's shape: where the data lives, then the namespace in brackets
    /// unless it is the default one: `in-process> `, `127.0.0.1:6379[sessions]> `.
    pub fn prompt(&self) -> String {
        let at = self.backend.name();
        if self.namespace == "default" {
            format!("{at}> ")
        } else {
            format!("{at}[{}]> ", self.namespace)
        }
    }

    /// The lines printed when the REPL starts on a terminal.
    pub fn banner(&self) -> String {
        format!(
            "TinyKV CLI, {}\nType HELP for commands\n",
            self.backend.describe()
        )
    }

    /// Evaluate one line. Never panics; errors become one `(error) ...` line.
    pub fn eval_line(&mut self, line: &str) -> Output {
        let said = |text: String| Output { text, quit: false };
        let args = match split_args(line.as_bytes()) {
            Some(a) if a.is_empty() => return said(String::new()),
            Some(a) => a,
            None => return said("(error) ERR unbalanced quotes in request".into()),
        };
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let rest = &args[1..];
        let text = match name.as_str() {
            "EXIT" | "QUIT" => {
                return Output {
                    text: "bye".into(),
                    quit: true,
                }
            }
            "HELP" => help::help(
                rest.first()
                    .map(|a| String::from_utf8_lossy(a).into_owned()),
            ),
            "LIST" if rest.is_empty() => self.list(),
            "EXISTS" if rest.len() == 1 => match self.call_named("EXISTS", rest) {
                Reply::Int(n) => (n > 0).to_string(),
                other => friendly(&other),
            },
            "DEL" => match self.call_named("DEL", rest) {
                Reply::Int(0) if rest.len() == 1 => "not found".into(),
                Reply::Int(1) if rest.len() == 1 => "deleted".into(),
                Reply::Int(n) => format!("deleted {n}"),
                other => friendly(&other),
            },
            "USE" | "SELECT" => match self.call_named("SELECT", rest) {
                Reply::Simple(s) => {
                    self.namespace = String::from_utf8_lossy(&rest[0]).into_owned();
                    s
                }
                other => friendly(&other),
            },
            "FLUSH" => match rest {
                [] => friendly(&self.call_named("FLUSHDB", rest)),
                [all] if all.eq_ignore_ascii_case(b"all") => {
                    friendly(&self.call_named("FLUSHALL", &[]))
                }
                _ => "(error) ERR usage: FLUSH [ALL]".into(),
            },
            "KEYS" => match self.call_named("KEYS", rest) {
                Reply::Array(mut items) => {
                    items.sort_by(|a, b| bulk_bytes(a).cmp(bulk_bytes(b)));
                    friendly(&Reply::Array(items))
                }
                other => friendly(&other),
            },
            _ => friendly(&self.backend.call(args)),
        };
        said(text)
    }

    fn call_named(&mut self, name: &str, rest: &[Vec<u8>]) -> Reply {
        let mut argv = Vec::with_capacity(rest.len() + 1);
        argv.push(name.as_bytes().to_vec());
        argv.extend(rest.iter().cloned());
        self.backend.call(argv)
    }

    /// `LIST`: every key in the namespace with its value, sorted by key.
    fn list(&mut self) -> String {
        let keys = match self.call_named("KEYS", &[b"*".to_vec()]) {
            Reply::Array(items) => items,
            other => return friendly(&other),
        };
        let mut keys: Vec<Vec<u8>> = keys.iter().map(|k| bulk_bytes(k).to_vec()).collect();
        if keys.is_empty() {
            return "(empty)".into();
        }
        keys.sort();
        let values = match self.call_named("MGET", &keys) {
            Reply::Array(items) => items,
            other => return friendly(&other),
        };
        keys.iter()
            .zip(values.iter())
            .filter(|(_, v)| !matches!(v, Reply::Nil))
            .map(|(k, v)| format!("{} = {}", String::from_utf8_lossy(k), friendly(v)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn bulk_bytes(r: &Reply) -> &[u8] {
    match r {
        Reply::Bulk(b) => b,
        _ => &[],
    }
}

/// Render a reply for people: raw text, plain numbers, `(nil)`, `(error) ...`, numbered lists.
pub fn friendly(r: &Reply) -> String {
    match r {
        Reply::Simple(s) => s.clone(),
        Reply::Error(e) => format!("(error) {e}"),
        Reply::Int(n) => n.to_string(),
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Nil | Reply::NilArray => "(nil)".into(),
        Reply::Double(d) => d.to_string(),
        Reply::Array(items) if items.is_empty() => "(empty)".into(),
        Reply::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, it)| format!("{}) {}", i + 1, friendly(it).replace('\n', "\n   ")))
            .collect::<Vec<_>>()
            .join("\n"),
        Reply::Map(pairs) if pairs.is_empty() => "(empty)".into(),
        Reply::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| format!("{}: {}", friendly(k), friendly(v)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Drive a REPL from a non-terminal reader: no banner, no prompts, one reply per command.
pub fn run_piped<B: Backend>(
    repl: &mut Repl<B>,
    input: impl BufRead,
    mut out: impl Write,
) -> std::io::Result<()> {
    for line in input.lines() {
        let o = repl.eval_line(&line?);
        if !o.text.is_empty() {
            writeln!(out, "{}", o.text)?;
        }
        if o.quit {
            break;
        }
    }
    out.flush()
}

/// Drive a REPL on a terminal with rustyline: banner, prompt, line editing and history.
pub fn run_terminal<B: Backend>(repl: &mut Repl<B>) -> Result<(), String> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new().map_err(|e| e.to_string())?;
    let history = history_path();
    if let Some(p) = &history {
        let _ = editor.load_history(p);
    }
    println!("{}", repl.banner());
    loop {
        match editor.readline(&repl.prompt()) {
            Ok(line) => {
                remember(&mut editor, &line);
                let o = repl.eval_line(&line);
                if !o.text.is_empty() {
                    println!("{}", o.text);
                }
                if o.quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                println!("bye");
                break;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    if let Some(p) = &history {
        let _ = editor.save_history(p);
    }
    Ok(())
}

/// Adds `line` to the editor's history (and so to the history file) unless it is blank or
/// carries a password ([`carries_secret`]).
fn remember(editor: &mut rustyline::DefaultEditor, line: &str) {
    if !line.trim().is_empty() && !carries_secret(line) {
        let _ = editor.add_history_entry(line);
    }
}

/// True for a line that would put a password in the history file, as redis-cli skips them:
/// `AUTH ...`, `HELLO ... AUTH ...`, `CONFIG SET requirepass|masterauth ...`. A line whose
/// quotes do not balance is judged by its words, so a typo does not leak it either.
pub fn carries_secret(line: &str) -> bool {
    let args: Vec<String> = match split_args(line.as_bytes()) {
        Some(a) => a
            .iter()
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
            .collect(),
        None => line
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_ascii_lowercase())
            .collect(),
    };
    match args.first().map(String::as_str) {
        Some("auth") => true,
        Some("hello") => args.iter().any(|a| a == "auth"),
        Some("config") => {
            args.get(1).is_some_and(|a| a == "set")
                && args
                    .iter()
                    .skip(2)
                    .any(|a| a == "requirepass" || a == "masterauth")
        }
        _ => false,
    }
}

/// `$TINYKV_HISTORY`, else `~/.tinykv_history` (on Windows `%USERPROFILE%` when `HOME` is unset).
fn history_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("TINYKV_HISTORY") {
        return Some(p.into());
    }
    let home = std::env::var_os("HOME");
    #[cfg(windows)]
    let home = home.or_else(|| std::env::var_os("USERPROFILE"));
    home.map(|h| std::path::Path::new(&h).join(".tinykv_history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_lines_stay_out_of_the_history() {
        let mut editor = rustyline::DefaultEditor::new().unwrap();
        for line in [
            "AUTH s3cret",
            "auth default s3cret",
            "  Auth \"s3 cret\"",
            "AUTH \"unbalanced",
            "HELLO 3 AUTH default s3cret",
            "hello 3 setname x auth default s3cret",
            "CONFIG SET requirepass s3cret",
            "SET k v",
            "GET auth",
            "HELLO 3",
            "   ",
        ] {
            remember(&mut editor, line);
        }
        let kept: Vec<&str> = editor.history().iter().map(String::as_str).collect();
        assert_eq!(kept, ["SET k v", "GET auth", "HELLO 3"]);
    }
}
