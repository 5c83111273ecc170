//! REPL help: the command table shown by HELP, and per-command usage for `HELP <command>`.

/// (command, usage, summary); also the source of the README's command table.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "SET",
        "SET key value [EX seconds | PX ms] [NX | XX] [KEEPTTL]",
        "store a value, optionally with a TTL",
    ),
    (
        "GET",
        "GET key",
        "read a value; (nil) if missing or expired",
    ),
    ("DEL", "DEL key [key ...]", "delete keys"),
    ("EXISTS", "EXISTS key", "true if the key exists"),
    ("LIST", "LIST", "every key = value in the namespace"),
    ("KEYS", "KEYS pattern", "keys matching a glob (*, ?, [a-z])"),
    ("TTL", "TTL key", "seconds left; -1 no TTL, -2 missing"),
    (
        "PTTL",
        "PTTL key",
        "milliseconds left; -1 no TTL, -2 missing",
    ),
    (
        "EXPIRE",
        "EXPIRE key seconds",
        "set a TTL on an existing key",
    ),
    ("PERSIST", "PERSIST key", "remove a key's TTL"),
    (
        "INCR",
        "INCR key",
        "add 1 to an integer (missing counts as 0)",
    ),
    ("DECR", "DECR key", "subtract 1 from an integer"),
    ("INCRBY", "INCRBY key n", "add n to an integer"),
    ("DECRBY", "DECRBY key n", "subtract n from an integer"),
    ("MGET", "MGET key [key ...]", "read many keys"),
    ("MSET", "MSET key value [key value ...]", "write many keys"),
    (
        "USE",
        "USE namespace",
        "switch namespace (the prompt shows it)",
    ),
    (
        "NAMESPACES",
        "NAMESPACES",
        "namespaces holding keys, with key counts",
    ),
    (
        "FLUSH",
        "FLUSH [ALL]",
        "delete every key in this namespace, or in all",
    ),
    (
        "STATS",
        "STATS",
        "hits, misses, keys, bytes, evictions, expirations",
    ),
    (
        "HELP",
        "HELP [command]",
        "this list, or one command's usage",
    ),
    ("EXIT", "EXIT", "leave (also QUIT or Ctrl-D)"),
];

/// The text for `HELP` or `HELP command`.
pub fn help(topic: Option<String>) -> String {
    match topic {
        None => {
            let mut s = String::from("Commands (case-insensitive; quote values with spaces):");
            for (name, _, summary) in COMMANDS {
                s.push_str(&format!("\n  {name:<11} {summary}"));
            }
            s.push_str("\nHELP <command> shows its usage. Other Redis string commands work too.");
            s
        }
        Some(t) => match COMMANDS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(&t)) {
            Some((_, usage, summary)) => format!("{usage}\n  {summary}"),
            None => format!("(error) ERR no help for '{t}'; type HELP for the list"),
        },
    }
}
