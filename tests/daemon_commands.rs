//! Every command the daemon serves, with its error cases, through a real socket; data-driven:
//! each case is a command line and the exact RESP bytes expected back.
#![cfg(unix)] // Unix only: a daemon on a Unix socket (tests/daemon_support).

mod daemon_support;

use daemon_support::*;
use tinykv::server::ServerConfig;

/// Runs `(command, expected reply)` cases in order on one connection (`*` in the expected text
/// matches any run of characters, for values like ids and TTLs).
fn script(c: &mut Raw<std::net::TcpStream>, cases: &[(&str, &str)]) {
    for (cmd, want) in cases {
        let argv = tinykv::protocol::split_args(cmd.as_bytes()).unwrap();
        let argv: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let got = c.cmd(&argv);
        assert!(
            wildcard(want, &got),
            "{cmd}: expected {want:?}, got {got:?}"
        );
    }
}

fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = match text.strip_prefix(parts[0]) {
        Some(r) => r,
        None => return false,
    };
    for (i, part) in parts[1..].iter().enumerate() {
        if i == parts.len() - 2 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn connection_commands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    script(
        &mut c,
        &[
            ("PING", "+PONG\r\n"),
            ("PING hi", "$2\r\nhi\r\n"),
            ("ECHO hello", "$5\r\nhello\r\n"),
            ("ECHO", "-ERR wrong number of arguments for 'echo' command\r\n"),
            ("CLIENT SETNAME worker-1", "+OK\r\n"),
            ("CLIENT GETNAME", "$8\r\nworker-1\r\n"),
            ("CLIENT SETNAME \"a b\"", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
            ("CLIENT ID", ":*\r\n"),
            ("CLIENT LIST", "$*\r\nid=* name=worker-1 *\n\r\n"),
            ("CLIENT INFO", "$*\r\nid=* name=worker-1 *\n\r\n"),
            ("CLIENT NOPE", "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n"),
            ("CLIENT", "-ERR wrong number of arguments for 'client' command\r\n"),
            ("AUTH x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"),
            ("HELLO 4", "-NOPROTO unsupported protocol version\r\n"),
            ("HELLO 2", "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n*"),
            ("HELLO 3", "%7\r\n$6\r\nserver\r\n*$5\r\nproto\r\n:3\r\n*"),
            ("GET missing", "_\r\n"),
            ("HELLO 2", "*14\r\n*"),
            ("GET missing", "$-1\r\n"),
            ("QUIT", "+OK\r\n"),
        ],
    );
    assert!(c.closed());
}

#[test]
fn server_commands() {
    let srv = TestServer::start();
    let mut c = srv.client();
    script(
        &mut c,
        &[
            ("SET a 1", "+OK\r\n"),
            ("GET a", "$1\r\n1\r\n"),
            ("GET nope", "$-1\r\n"),
            ("EXPIRE a 100", ":1\r\n"),
            ("INFO", "$*# Server\r\n*# Clients\r\nconnected_clients:1\r\n*# Memory\r\n*# Stats\r\n*keyspace_hits:1\r\nkeyspace_misses:1\r\n*# Keyspace\r\ndefault:keys=1,*"),
            ("INFO stats", "$*# Stats\r\n*expired_keys:0\r\nevicted_keys:0\r\n*"),
            ("INFO keyspace", "$*# Keyspace\r\ndefault:keys=1*"),
            ("DBSIZE", ":1\r\n"),
            ("CONFIG GET save", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
            ("CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"),
            ("CONFIG GET maxmemory*", "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n*"),
            ("CONFIG GET nosuch", "*0\r\n"),
            ("CONFIG SET maxmemory 1", "-ERR Unsupported CONFIG parameter: maxmemory\r\n"),
            ("CONFIG", "-ERR wrong number of arguments for 'config' command\r\n"),
            ("COMMAND DOCS", "*0\r\n"),
            ("COMMAND COUNT", ":*\r\n"),
            ("COMMAND", "*0\r\n"),
            // Database 0 is the default namespace; indexes stop at --databases (16).
            ("SELECT 0", "+OK\r\n"),
            ("DBSIZE", ":1\r\n"),
            ("SET b 2", "+OK\r\n"),
            ("CLIENT INFO", "$* db=0 *"),
            ("SELECT 15", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("SELECT 16", "-ERR DB index is out of range\r\n"),
            ("SELECT default", "+OK\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("FLUSHDB", "+OK\r\n"),
            ("SELECT 0", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("FLUSHALL", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("SHUTDOWN BOGUS", "-ERR syntax error\r\n"),
        ],
    );
}

#[test]
fn data_commands_through_the_daemon() {
    let srv = TestServer::start();
    let mut c = srv.client();
    script(
        &mut c,
        &[
            ("SET k v", "+OK\r\n"),
            ("SET k v2 NX", "$-1\r\n"),
            ("SET k v3 XX GET", "$1\r\nv\r\n"),
            (
                "SET k v EX 0",
                "-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                "SET k v EX x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("SET k v NX XX", "-ERR syntax error\r\n"),
            ("SET k v PX 100000", "+OK\r\n"),
            ("PTTL k", ":*\r\n"),
            ("SET k v KEEPTTL", "+OK\r\n"),
            ("PERSIST k", ":1\r\n"),
            ("TTL k", ":-1\r\n"),
            ("TTL nope", ":-2\r\n"),
            ("SETNX k x", ":0\r\n"),
            ("SETEX s 100 v", "+OK\r\n"),
            ("PSETEX p 100000 v", "+OK\r\n"),
            ("GETDEL s", "$1\r\nv\r\n"),
            ("GETDEL s", "$-1\r\n"),
            ("GETEX p PERSIST", "$1\r\nv\r\n"),
            ("MSET a 1 b 2", "+OK\r\n"),
            (
                "MSET a",
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            ("MGET a b zz", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"),
            ("MSETNX a 5 c 6", ":0\r\n"),
            ("APPEND a 23", ":3\r\n"),
            ("STRLEN a", ":3\r\n"),
            ("INCR a", ":124\r\n"),
            ("DECR a", ":123\r\n"),
            ("INCRBY a 10", ":133\r\n"),
            ("DECRBY a 3", ":130\r\n"),
            ("INCR k", "-ERR value is not an integer or out of range\r\n"),
            ("SET big 9223372036854775807", "+OK\r\n"),
            ("INCR big", "-ERR increment or decrement would overflow\r\n"),
            ("EXISTS a b zz", ":2\r\n"),
            ("TYPE a", "+string\r\n"),
            ("TYPE zz", "+none\r\n"),
            ("RENAME a a2", "+OK\r\n"),
            ("RENAME zz q", "-ERR no such key\r\n"),
            ("KEYS a*", "*1\r\n$2\r\na2\r\n"),
            (
                "SCAN 0 MATCH a* COUNT 100",
                "*2\r\n$1\r\n0\r\n*1\r\n$2\r\na2\r\n",
            ),
            ("EXPIRE b 100", ":1\r\n"),
            ("PEXPIRE b 100000", ":1\r\n"),
            ("EXPIREAT b 99999999999", ":1\r\n"),
            ("PEXPIREAT b 99999999999000", ":1\r\n"),
            ("EXPIRE nope 1", ":0\r\n"),
            ("DEL a2 b zz", ":2\r\n"),
            ("UNLINK k", ":1\r\n"),
            (
                "GET",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
        ],
    );
}

#[test]
fn auth_gates_everything_but_auth_hello_quit() {
    let cfg = ServerConfig {
        requirepass: Some("s3cret".into()),
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let mut c = srv.client();
    script(
        &mut c,
        &[
            ("GET a", "-NOAUTH Authentication required.\r\n"),
            ("PING", "-NOAUTH Authentication required.\r\n"),
            (
                "AUTH wrong",
                "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            ),
            (
                "AUTH other s3cret",
                "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            ),
            (
                "HELLO 3",
                "-NOAUTH HELLO must be called with the client already authenticated*",
            ),
            ("AUTH s3cret", "+OK\r\n"),
            ("PING", "+PONG\r\n"),
        ],
    );
    let mut c = srv.client();
    script(
        &mut c,
        &[
            ("HELLO 3 AUTH default s3cret SETNAME n", "%7\r\n*"),
            ("CLIENT GETNAME", "$1\r\nn\r\n"),
        ],
    );
    // A large frame before AUTH is refused outright.
    let mut c = srv.client();
    c.send(b"*1\r\n$100000\r\n");
    assert_eq!(
        c.read_to_end(),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    let mut c = srv.client();
    c.send(b"*11\r\n");
    assert_eq!(
        c.read_to_end(),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
}

#[test]
fn max_clients_refuses_the_extra_client() {
    let cfg = ServerConfig {
        max_clients: 2,
        ..ServerConfig::default()
    };
    let srv = TestServer::with_config(cfg);
    let mut a = srv.client();
    let mut b = srv.unix_client();
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    let mut c = srv.client();
    assert_eq!(c.read_to_end(), "-ERR max number of clients reached\r\n");
    drop(b);
    // The freed slot is reusable once the server has seen the close; poll for it.
    let served = (0..1000).any(|_| {
        let mut d = srv.client();
        d.send(b"PING\r\n");
        let _ = d.r.get_mut().shutdown(std::net::Shutdown::Write);
        d.read_to_end() == "+PONG\r\n"
    });
    assert!(served);
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
}

/// `serve --databases N` bounds SELECT's indexes, as Redis's `databases` does.
#[test]
fn serve_databases_bounds_select() {
    let d = DaemonProcess::start(&["--databases", "4"]);
    let mut c = d.client();
    script(
        &mut c,
        &[
            ("SELECT 3", "+OK\r\n"),
            ("SELECT 4", "-ERR DB index is out of range\r\n"),
            ("SELECT 15", "-ERR DB index is out of range\r\n"),
            ("SELECT cache", "+OK\r\n"),
            ("SELECT 0", "+OK\r\n"),
        ],
    );
}
