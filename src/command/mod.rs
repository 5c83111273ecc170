//! Commands: a Redis-style argument vector in, a [`Reply`] out, with Redis's semantics and
//! error wording. Shared by the REPL, the daemon and the client. Invariant: this module depends
//! only on `store`; it never touches sockets, terminals or napi.
//!
//! [`table`] lists every command once; `execute` looks the name up there, checks the row's
//! arity, and hands it to its group's `run` (`strings.rs`, `keys.rs`, `server.rs`), which
//! matches on the row's [`Cmd`].

mod keys;
mod reply;
mod server;
mod strings;
pub mod table;

pub use reply::{quote, Reply};
pub use server::stats_reply;
pub use table::{lookup, Cmd, Spec};

use crate::store::{Error, Ns, NsGuard, Store};

/// Per-connection (or per-REPL) state: the selected namespace, held (see [`NsGuard`]) so its
/// id is not reused while the session may write to it; the hold is released when the session
/// selects another namespace or is dropped.
#[derive(Debug, Clone)]
pub struct Session {
    /// The namespace commands act on. Set it only through SELECT, which takes the hold.
    pub ns: Ns,
    /// Its name, for prompts and INFO.
    pub ns_name: String,
    /// The hold on `ns`; `None` for the default namespace, which is never freed.
    hold: Option<NsGuard>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            ns: Ns::DEFAULT,
            ns_name: "default".into(),
            hold: None,
        }
    }
}

impl Session {
    /// Select namespace `name` ("0" is the default namespace): take a hold on it, then
    /// release the previous one. SELECT's index range is checked by the command, not here.
    pub fn select(&mut self, store: &Store, name: &str) -> Result<(), CmdError> {
        let hold = store.acquire_namespace(name)?;
        self.ns = hold.ns();
        // As typed: after SELECT 0, CLIENT INFO says db=0, as Redis does.
        self.ns_name = name.to_owned();
        self.hold = Some(hold);
        Ok(())
    }
}

/// An error reply's text; converts from store errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub String);

impl From<Error> for CmdError {
    fn from(e: Error) -> Self {
        CmdError(e.to_string())
    }
}

/// The result of one command.
pub type CmdResult = Result<Reply, CmdError>;

/// The arguments of one command, with typed accessors that produce Redis's error replies.
pub(crate) struct Args<'a, A> {
    /// Lowercase command name, for error messages.
    pub(crate) name: &'a str,
    /// The command's row id, which the group's `run` matches on.
    pub(crate) cmd: Cmd,
    /// Arguments after the command name.
    pub(crate) rest: &'a [A],
}

impl<A: AsRef<[u8]>> Args<'_, A> {
    pub(crate) fn len(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn bytes(&self, i: usize) -> &[u8] {
        self.rest.get(i).map(|a| a.as_ref()).unwrap_or_default()
    }

    /// Argument `i` as a key or pattern: any bytes, as in Redis.
    pub(crate) fn key(&self, i: usize) -> &[u8] {
        self.bytes(i)
    }

    /// Argument `i` as UTF-8 text (namespace names, which INFO and CLIENT LIST show).
    pub(crate) fn str(&self, i: usize) -> Result<&str, CmdError> {
        std::str::from_utf8(self.bytes(i))
            .map_err(|_| CmdError("ERR namespace names must be valid UTF-8".into()))
    }

    /// Argument `i` as an integer, parsed as Redis's `string2ll` does: no `+`, no leading
    /// zeros, no spaces.
    pub(crate) fn int(&self, i: usize) -> Result<i64, CmdError> {
        crate::store::parse_i64(self.bytes(i))
            .ok_or_else(|| CmdError(Error::NotInteger.to_string()))
    }

    /// Is argument `i` the keyword `word` (any case)?
    pub(crate) fn is(&self, i: usize, word: &str) -> bool {
        self.bytes(i).eq_ignore_ascii_case(word.as_bytes())
    }

    pub(crate) fn arity_error(&self) -> CmdError {
        arity_error(self.name.as_bytes())
    }

    /// Require exactly `n` arguments.
    pub(crate) fn exactly(&self, n: usize) -> Result<(), CmdError> {
        if self.len() == n {
            Ok(())
        } else {
            Err(self.arity_error())
        }
    }

    /// Require at least `n` arguments.
    pub(crate) fn at_least(&self, n: usize) -> Result<(), CmdError> {
        if self.len() >= n {
            Ok(())
        } else {
            Err(self.arity_error())
        }
    }
}

/// Redis's arity error for the command named `name` (any case).
pub(crate) fn arity_error(name: &[u8]) -> CmdError {
    CmdError(format!(
        "ERR wrong number of arguments for '{}' command",
        String::from_utf8_lossy(name).to_lowercase()
    ))
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Self {
        Reply::Error(e.0)
    }
}

pub(crate) fn syntax_error() -> CmdError {
    CmdError("ERR syntax error".into())
}

/// Run one command. `argv[0]` is the command name, in any case. Never panics on any input.
#[inline]
pub fn execute<A: AsRef<[u8]>>(store: &Store, session: &mut Session, argv: &[A]) -> Reply {
    let spec = argv.first().and_then(|name| lookup(name.as_ref()));
    execute_spec(store, session, spec, argv)
}

/// [`execute`] for a caller that has already looked `argv[0]` up in the table (`spec` is
/// [`lookup`]'s answer for it), so the daemon looks a name up once. Rows `execute` does not
/// answer (the daemon's and the REPL's own) get the unknown-command error, as unknown names do.
#[inline]
pub fn execute_spec<A: AsRef<[u8]>>(
    store: &Store,
    session: &mut Session,
    spec: Option<&'static Spec>,
    argv: &[A],
) -> Reply {
    let Some(first) = argv.first() else {
        return Reply::Error("ERR empty command".into());
    };
    let rest = &argv[1..];
    let Some(spec) = spec.filter(|s| s.flags.has(table::Flags::EXEC)) else {
        return Reply::Error(unknown(first.as_ref(), rest).0);
    };
    let args = Args {
        name: spec.name,
        cmd: spec.cmd,
        rest,
    };
    if !spec.arity_ok(argv.len()) {
        return Reply::Error(args.arity_error().0);
    }
    let result = match spec.group {
        table::Group::Strings => strings::run(store, session.ns, &args),
        table::Group::Keys => keys::run(store, session.ns, &args),
        table::Group::Server => server::run(store, session, &args),
        table::Group::Daemon | table::Group::Repl => Err(unknown(first.as_ref(), rest)),
    };
    result.unwrap_or_else(|e| Reply::Error(e.0))
}

/// Redis's unknown-command error, quoting the first few arguments.
pub fn unknown<A: AsRef<[u8]>>(name: &[u8], rest: &[A]) -> CmdError {
    let quoted: String = rest
        .iter()
        .take(4)
        .map(|a| {
            format!(
                "'{}' ",
                String::from_utf8_lossy(&a.as_ref()[..a.as_ref().len().min(128)])
            )
        })
        .collect();
    let name = String::from_utf8_lossy(&name[..name.len().min(128)]);
    CmdError(format!(
        "ERR unknown command '{name}', with args beginning with: {quoted}"
    ))
}

#[cfg(test)]
mod tests;
