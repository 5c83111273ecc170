//! The command table: every command TinyKV knows, once. `execute` dispatches through it, the
//! daemon's admin commands take their names and arity from it, `COMMAND COUNT`/`LIST` and the
//! latency index list its daemon-answered rows, and the REPL's `HELP` prints it.
//!
//! Invariants:
//! - Rows answered by the daemon (`EXEC` or `DAEMON`) come first and REPL-only words last, so a
//!   row's index ([`Cmd`] as `usize`) is also its latency slot and `COMMANDS[..ANSWERED]` is
//!   what `COMMAND LIST` shows (a unit test holds the order).
//! - Lookup never allocates and never scans the list: the name is lower-cased on the stack and
//!   matched by a `match` generated from the rows (GET and SET are its first arms).
//! - Names are lower case and at most [`MAX_NAME`] bytes.

/// What answers a row, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    /// `command::execute` answers it (in the REPL's in-process store and in the daemon).
    pub const EXEC: Flags = Flags(1);
    /// The daemon answers it itself (`server/admin.rs`), before `execute` would.
    pub const DAEMON: Flags = Flags(2);
    /// A word of the REPL's own (`cli/repl.rs`), never sent to a store or a daemon.
    pub const REPL: Flags = Flags(4);

    /// Both sets of bits.
    pub const fn or(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// True when every bit of `other` is set here.
    pub const fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when the daemon answers the command (itself or through `execute`).
    pub const fn answered(self) -> bool {
        self.0 & (Self::EXEC.0 | Self::DAEMON.0) != 0
    }
}

/// The group of a row, which is also its handler: the module whose `run` answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `command/strings.rs`.
    Strings,
    /// `command/keys.rs`.
    Keys,
    /// `command/server.rs`.
    Server,
    /// `server/admin.rs` (the daemon only).
    Daemon,
    /// `cli/repl.rs` (the REPL only).
    Repl,
}

impl Group {
    /// The heading HELP shows above the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::Strings => "Strings and counters",
            Group::Keys => "Keys and expiry",
            Group::Server => "Namespaces and server",
            Group::Daemon => "Daemon only (tinykv -s / -p / -u)",
            Group::Repl => "REPL",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Its id; `cmd as usize` is the row's index.
    pub cmd: Cmd,
    /// Lower-case name, as `COMMAND LIST` and the latency labels show it.
    pub name: &'static str,
    /// Redis's arity, counting the name: `n` exactly n words, `-n` at least n.
    pub arity: i32,
    /// What answers it.
    pub flags: Flags,
    /// Its group and handler.
    pub group: Group,
    /// `HELP <command>`'s usage line.
    pub usage: &'static str,
    /// HELP's one-line summary.
    pub summary: &'static str,
}

impl Spec {
    /// True when `argc` words (the name included) fit the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let n = self.arity.unsigned_abs() as usize;
        if self.arity >= 0 {
            argc == n
        } else {
            argc >= n
        }
    }
}

/// The longest command name, in bytes; longer names are unknown without a lookup.
pub const MAX_NAME: usize = 16;

macro_rules! table {
    ($( $cmd:ident $name:literal $arity:literal [$($flag:ident)|+] $group:ident
        $usage:literal $summary:literal; )*) => {
        /// A command's id: one variant per row of [`COMMANDS`], in its order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Cmd { $($cmd),* }

        /// Every command, in [`Cmd`] order (answered rows first; see the module docs).
        pub static COMMANDS: &[Spec] = &[ $( Spec {
            cmd: Cmd::$cmd,
            name: $name,
            arity: $arity,
            flags: Flags(0) $(.or(Flags::$flag))+,
            group: Group::$group,
            usage: $usage,
            summary: $summary,
        } ),* ];

        /// The row of a lower-case name.
        #[inline]
        fn find_lower(name: &str) -> Option<&'static Spec> {
            match name {
                $( $name => Some(&COMMANDS[Cmd::$cmd as usize]), )*
                _ => None,
            }
        }
    };
}

table! {
    // Strings and counters.
    Get "get" 2 [EXEC] Strings "GET key" "read a value; (nil) if missing or expired";
    Set "set" -3 [EXEC] Strings
        "SET key value [EX seconds | PX ms | EXAT s | PXAT ms | KEEPTTL] [NX | XX] [GET]"
        "store a value, optionally with a TTL";
    Setnx "setnx" 3 [EXEC] Strings "SETNX key value"
        "store a value only if the key is missing (1 or 0)";
    Setex "setex" 4 [EXEC] Strings "SETEX key seconds value" "store a value with a TTL in seconds";
    Psetex "psetex" 4 [EXEC] Strings "PSETEX key ms value"
        "store a value with a TTL in milliseconds";
    Getset "getset" 3 [EXEC] Strings "GETSET key value" "store a value, reply with the old one";
    Getdel "getdel" 2 [EXEC] Strings "GETDEL key" "read a value and delete the key";
    Getex "getex" -2 [EXEC] Strings "GETEX key [EX seconds | PX ms | EXAT s | PXAT ms | PERSIST]"
        "read a value and set or remove its TTL";
    Mget "mget" -2 [EXEC] Strings "MGET key [key ...]" "read many keys";
    Mset "mset" -3 [EXEC] Strings "MSET key value [key value ...]" "write many keys";
    Msetnx "msetnx" -3 [EXEC] Strings "MSETNX key value [key value ...]"
        "write many keys only if none exists (1 or 0)";
    Append "append" 3 [EXEC] Strings "APPEND key value"
        "append to a value; replies with the new length";
    Strlen "strlen" 2 [EXEC] Strings "STRLEN key" "length of a value in bytes";
    Incr "incr" 2 [EXEC] Strings "INCR key" "add 1 to an integer (missing counts as 0)";
    Decr "decr" 2 [EXEC] Strings "DECR key" "subtract 1 from an integer";
    Incrby "incrby" 3 [EXEC] Strings "INCRBY key n" "add n to an integer";
    Decrby "decrby" 3 [EXEC] Strings "DECRBY key n" "subtract n from an integer";
    // Keys and expiry.
    Del "del" -2 [EXEC] Keys "DEL key [key ...]" "delete keys";
    Unlink "unlink" -2 [EXEC] Keys "UNLINK key [key ...]" "delete keys (as DEL)";
    Exists "exists" -2 [EXEC] Keys "EXISTS key [key ...]"
        "true if the key exists (a count for many keys)";
    Type "type" 2 [EXEC] Keys "TYPE key" "string, or none if missing";
    Keys "keys" 2 [EXEC] Keys "KEYS pattern" "keys matching a glob (*, ?, [a-z])";
    Scan "scan" -2 [EXEC] Keys "SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]"
        "iterate over keys a step at a time";
    Scanentries "scanentries" -2 [EXEC] Keys "SCANENTRIES cursor [MATCH pattern] [COUNT n]"
        "SCAN with each key's value and absolute expiry in ms (-1: none)";
    Rename "rename" 3 [EXEC] Keys "RENAME key newkey" "rename a key, replacing newkey";
    Renamenx "renamenx" 3 [EXEC] Keys "RENAMENX key newkey"
        "rename a key only if newkey is missing";
    Expire "expire" -3 [EXEC] Keys "EXPIRE key seconds [NX | XX | GT | LT]"
        "set a TTL on an existing key";
    Pexpire "pexpire" -3 [EXEC] Keys "PEXPIRE key ms [NX | XX | GT | LT]"
        "set a TTL in milliseconds";
    Expireat "expireat" -3 [EXEC] Keys "EXPIREAT key unix-seconds [NX | XX | GT | LT]"
        "expire a key at a Unix time";
    Pexpireat "pexpireat" -3 [EXEC] Keys "PEXPIREAT key unix-ms [NX | XX | GT | LT]"
        "expire a key at a Unix time in milliseconds";
    Ttl "ttl" 2 [EXEC] Keys "TTL key" "seconds left; -1 no TTL, -2 missing";
    Pttl "pttl" 2 [EXEC] Keys "PTTL key" "milliseconds left; -1 no TTL, -2 missing";
    Persist "persist" 2 [EXEC] Keys "PERSIST key" "remove a key's TTL";
    Expiretime "expiretime" 2 [EXEC] Keys "EXPIRETIME key"
        "the Unix time a key expires at; -1 no TTL, -2 missing";
    Pexpiretime "pexpiretime" 2 [EXEC] Keys "PEXPIRETIME key" "the same in milliseconds";
    Object "object" -2 [EXEC] Keys "OBJECT IDLETIME | FREQ | ENCODING | REFCOUNT key"
        "a key's access tracking, as Redis reports it";
    // Namespaces and server.
    Ping "ping" -1 [EXEC] Server "PING [message]" "PONG, or the message";
    Echo "echo" 2 [EXEC] Server "ECHO message" "the message";
    Select "select" 2 [EXEC] Server "SELECT namespace"
        "switch namespace (0-15 are Redis's databases)";
    Dbsize "dbsize" 1 [EXEC] Server "DBSIZE" "number of keys in the namespace";
    Flushdb "flushdb" -1 [EXEC] Server "FLUSHDB [ASYNC | SYNC]" "delete every key in the namespace";
    Flushall "flushall" -1 [EXEC] Server "FLUSHALL [ASYNC | SYNC]"
        "delete every key in every namespace";
    Stats "stats" 1 [EXEC | DAEMON] Server "STATS"
        "hits, misses, keys, bytes, evictions, expirations (a daemon adds latencies)";
    Namespaces "namespaces" 1 [EXEC] Server "NAMESPACES" "namespaces holding keys, with key counts";
    // Answered by the daemon alone.
    Auth "auth" -2 [DAEMON] Daemon "AUTH [user] password" "authenticate the connection";
    Hello "hello" -1 [DAEMON] Daemon "HELLO [2 | 3 [AUTH user password] [SETNAME name]]"
        "pick RESP2 or RESP3, optionally authenticating";
    Client "client" -2 [DAEMON] Daemon
        "CLIENT ID | GETNAME | SETNAME name | LIST | INFO | SETINFO attr value"
        "this connection and the others";
    Info "info" -1 [DAEMON] Daemon "INFO [section ...]"
        "server, clients, memory, persistence, stats, cpu, latency, keyspace";
    Config "config" -2 [DAEMON] Daemon "CONFIG GET pattern [pattern ...] | RESETSTAT"
        "read the daemon's settings";
    Command "command" -1 [DAEMON] Daemon "COMMAND [COUNT | LIST | INFO name ... | DOCS name ...]"
        "the commands the daemon answers";
    Quit "quit" -1 [DAEMON] Daemon "QUIT" "close the connection (in the REPL: leave)";
    Shutdown "shutdown" -1 [DAEMON] Daemon "SHUTDOWN [NOSAVE | SAVE | NOW | FORCE]"
        "stop the daemon (SAVE / NOSAVE: snapshot first or not)";
    Save "save" 1 [DAEMON] Daemon "SAVE" "write the snapshot now (serve --snapshot FILE)";
    Bgsave "bgsave" -1 [DAEMON] Daemon "BGSAVE [SCHEDULE]"
        "write the snapshot in the background";
    Lastsave "lastsave" 1 [DAEMON] Daemon "LASTSAVE"
        "Unix time of the last successful snapshot";
    // The REPL's own words (keep them last).
    List "list" 1 [REPL] Repl "LIST" "every key = value in the namespace";
    Use "use" 2 [REPL] Repl "USE namespace" "switch namespace (the prompt shows it)";
    Flush "flush" -1 [REPL] Repl "FLUSH [ALL]" "delete every key in this namespace, or in all";
    Help "help" -1 [REPL] Repl "HELP [command]" "this list, or one command's usage";
    Exit "exit" 1 [REPL] Repl "EXIT" "leave (also QUIT or Ctrl-D)";
}

/// Number of rows the daemon answers: `COMMANDS[..ANSWERED]`, in `COMMAND LIST` and the
/// latency index.
pub const ANSWERED: usize = Cmd::List as usize;

impl Cmd {
    /// The row.
    pub fn spec(self) -> &'static Spec {
        &COMMANDS[self as usize]
    }
}

/// The row named `name` (any case). No allocation: the name is lower-cased on the stack.
#[inline]
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    let mut buf = [0u8; MAX_NAME];
    let lower = buf.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).ok()?;
    find_lower(lower)
}

/// The rows the daemon answers, in `COMMAND LIST` order.
pub fn answered() -> &'static [Spec] {
    &COMMANDS[..ANSWERED]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_id_order_and_answered_rows_come_first() {
        for (i, s) in COMMANDS.iter().enumerate() {
            assert_eq!(s.cmd as usize, i, "{}", s.name);
            assert_eq!(s.flags.answered(), i < ANSWERED, "{}", s.name);
            assert_eq!(
                s.flags.has(Flags::REPL),
                s.group == Group::Repl,
                "{}",
                s.name
            );
            assert!(s.name.len() <= MAX_NAME, "{}", s.name);
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            let first = s.usage.split_whitespace().next();
            assert_eq!(
                first,
                Some(s.name.to_ascii_uppercase().as_str()),
                "{}",
                s.usage
            );
        }
    }

    #[test]
    fn lookup_any_case() {
        for s in COMMANDS {
            assert_eq!(lookup(s.name.as_bytes()).map(|r| r.cmd), Some(s.cmd));
            let up = s.name.to_ascii_uppercase();
            assert_eq!(lookup(up.as_bytes()).map(|r| r.cmd), Some(s.cmd));
        }
        assert!(lookup(b"").is_none());
        assert!(lookup(b"nosuch").is_none());
        assert!(lookup(&[b'g'; 40]).is_none());
        assert!(lookup(b"g\xffet").is_none());
    }

    #[test]
    fn arity() {
        let get = Cmd::Get.spec();
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let del = Cmd::Del.spec();
        assert!(del.arity_ok(2) && del.arity_ok(9) && !del.arity_ok(1));
    }
}
