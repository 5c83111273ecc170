//! Connection- and server-level commands the daemon answers itself (AUTH, HELLO, CLIENT, QUIT,
//! SHUTDOWN, INFO, COMMAND, CONFIG, and STATS, which adds the daemon's latencies: the rows of
//! `command::table` flagged `DAEMON`, whose names and arity come from there), the
//! authentication gate, and delegation of everything else to [`crate::command::execute_spec`].
//!
//! Invariant: these commands never touch the store directly except through `Store::stats` (INFO)
//! and `Store::config` (CONFIG GET); data commands go through `execute` only. They see the
//! connection only as its `state::ConnState`, and read arguments and word replies with
//! `command`'s helpers (`Args`, `Reply::ok`, `Reply::error`, `arity_error`), so nothing here
//! imports `connection`.

use bytes::BytesMut;

use super::clients::lock;
use super::info;
use super::persist;
use super::state::ConnState;
use crate::command::table::Flags;
use crate::command::{arity_error, execute_spec, stats_reply, unknown, Args, Cmd, Reply, Spec};
use crate::protocol::{encode_reply, encoded_len, Resp, REPLY_TOO_BIG};

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep serving.
    Continue,
    /// Flush replies and close (QUIT, protocol error).
    Close,
    /// Flush, close, and shut the server down (SHUTDOWN).
    Shutdown,
}

/// Runs one request and appends its reply (if any) to `out`, given its row of `command::table`
/// (looked up once, by the connection): rows flagged `DAEMON` are answered here, after the table's arity check;
/// everything else goes to `execute` with the row already found.
pub(crate) fn dispatch(
    st: &mut ConnState<'_>,
    spec: Option<&'static Spec>,
    argv: &[Vec<u8>],
    out: &mut BytesMut,
) -> Flow {
    let name = &argv[0];
    st.last_cmd.clear();
    st.last_cmd.extend_from_slice(name);
    let admin = spec.filter(|s| s.flags.has(Flags::DAEMON));
    let kind = admin.map(|s| s.cmd);
    if !st.authenticated && !matches!(kind, Some(Cmd::Auth | Cmd::Hello | Cmd::Quit)) {
        encode_reply(
            &Reply::Error("NOAUTH Authentication required.".into()),
            st.resp,
            out,
        );
        return Flow::Continue;
    }
    let (reply, flow) = match admin {
        None => {
            let reply = execute_spec(&st.shared.store, &mut st.session, spec, argv);
            if spec.is_some_and(|s| s.cmd == Cmd::Select) {
                *lock(&st.info.db) = st.session.ns_name.clone();
            }
            (Some(reply), Flow::Continue)
        }
        Some(s) if !s.arity_ok(argv.len()) => (Some(arity_error(&argv[0]).into()), Flow::Continue),
        Some(s) => {
            let args = Args {
                name: s.name,
                cmd: s.cmd,
                rest: &argv[1..],
            };
            match s.cmd {
                Cmd::Quit => (Some(Reply::ok()), Flow::Close),
                Cmd::Shutdown => shutdown(st, &args),
                Cmd::Save => {
                    let (p, store) = (&st.shared.persistence, &st.shared.store);
                    (Some(persist::save(p, store, &args)), Flow::Continue)
                }
                Cmd::Bgsave => {
                    let (p, store) = (&st.shared.persistence, &st.shared.store);
                    (Some(persist::bgsave(p, store, &args)), Flow::Continue)
                }
                Cmd::Lastsave => (
                    Some(persist::lastsave(&st.shared.persistence, &args)),
                    Flow::Continue,
                ),
                Cmd::Auth => (Some(auth(st, &args)), Flow::Continue),
                Cmd::Hello => (Some(hello(st, &args)), Flow::Continue),
                Cmd::Client => (Some(client(st, &args)), Flow::Continue),
                Cmd::Info => (Some(info::info(st, &args)), Flow::Continue),
                Cmd::Command => (Some(info::command(&args)), Flow::Continue),
                Cmd::Config => (Some(info::config(st, &args)), Flow::Continue),
                Cmd::Stats => (Some(stats(st, &args)), Flow::Continue),
                // A row flagged DAEMON with no handler here: unknown, as it would be to `execute`.
                _ => (
                    Some(Reply::Error(unknown(name, &argv[1..]).0)),
                    Flow::Continue,
                ),
            }
        }
    };
    if let Some(reply) = reply {
        encode_capped(&reply, st.resp, st.shared.config.max_output_buffer, out);
    }
    flow
}

/// Appends `reply`, or the too-large error if it alone is larger than the output cap `cap`
/// (0: none), so that no reply takes a connection's pending output past the cap. GET and MGET
/// are weighed as they are written (`connection/direct.rs`); this catches the rest (KEYS,
/// SCAN, CLIENT LIST, INFO, ...). Only replies that can be large are weighed.
fn encode_capped(reply: &Reply, proto: Resp, cap: usize, out: &mut BytesMut) {
    let can_be_large = matches!(reply, Reply::Array(_) | Reply::Map(_) | Reply::Bulk(_));
    if cap != 0 && can_be_large && encoded_len(reply, proto) > cap {
        encode_reply(&Reply::Error(REPLY_TOO_BIG.into()), proto, out);
    } else {
        encode_reply(reply, proto, out);
    }
}

/// STATS: the store's snapshot (as the REPL shows it) plus the daemon's per-command latency
/// percentiles, `latency.<cmd>.p50` / `.p99` / `.p999` in microseconds.
fn stats(st: &ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    if let Err(e) = args.exactly(0) {
        return e.into();
    }
    let mut reply = stats_reply(&st.shared.store.stats());
    if let Reply::Map(fields) = &mut reply {
        for (name, h) in st.shared.latency.snapshot() {
            for (label, q) in [("p50", 0.5), ("p99", 0.99), ("p999", 0.999)] {
                fields.push((
                    Reply::text(format!("latency.{name}.{label}")),
                    Reply::Double(h.quantile_us(q)),
                ));
            }
        }
    }
    reply
}

fn shutdown(st: &ConnState<'_>, args: &Args<'_, Vec<u8>>) -> (Option<Reply>, Flow) {
    for a in args.rest {
        let known = ["NOSAVE", "SAVE", "NOW", "FORCE"];
        if !known.iter().any(|k| a.eq_ignore_ascii_case(k.as_bytes())) {
            return (Some(Reply::error("ERR syntax error")), Flow::Continue);
        }
    }
    let has = |w: &[u8]| args.rest.iter().any(|a| a.eq_ignore_ascii_case(w));
    // The save itself runs after the connections close (`persist::save_on_shutdown`).
    persist::shutdown_choice(&st.shared.persistence, has(b"SAVE"), has(b"NOSAVE"));
    // Like Redis, no reply; the connection closes.
    (None, Flow::Shutdown)
}

/// Checks a password (and optional user, which must be `default`).
fn check_password(st: &ConnState<'_>, user: Option<&[u8]>, pass: &[u8]) -> Result<(), Reply> {
    let Some(expected) = st.shared.config.requirepass.as_deref() else {
        return Err(Reply::error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    };
    let user_ok = matches!(user, None | Some(b"default"));
    if user_ok && constant_time_eq(expected.as_bytes(), pass) {
        Ok(())
    } else {
        Err(Reply::error(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

/// Compares without an early exit, so response time does not leak how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

fn auth(st: &mut ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    let res = match args.len() {
        1 => check_password(st, None, args.bytes(0)),
        2 => check_password(st, Some(args.bytes(0)), args.bytes(1)),
        _ => return args.arity_error().into(),
    };
    match res {
        Ok(()) => {
            st.authenticated = true;
            Reply::ok()
        }
        Err(e) => e,
    }
}

/// HELLO [protover [AUTH user pass] [SETNAME name]]
fn hello(st: &mut ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    let argv = args.rest;
    let mut resp = st.resp;
    let mut i = 0;
    if let Some(v) = argv.first() {
        resp = match v.as_slice() {
            b"2" => Resp::V2,
            b"3" => Resp::V3,
            _ if crate::protocol::parse_i64(v).is_some() => {
                return Reply::error("NOPROTO unsupported protocol version")
            }
            _ => return Reply::error("ERR Protocol version is not an integer or out of range"),
        };
        i = 1;
    }
    let mut name = None;
    while i < argv.len() {
        let opt = &argv[i];
        if opt.eq_ignore_ascii_case(b"AUTH") && i + 2 < argv.len() {
            if let Err(e) = check_password(st, Some(&argv[i + 1]), &argv[i + 2]) {
                return e;
            }
            st.authenticated = true;
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && i + 1 < argv.len() {
            name = Some(&argv[i + 1]);
            i += 2;
        } else {
            return Reply::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    if !st.authenticated {
        return Reply::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        if let Err(e) = set_name(st, n) {
            return e;
        }
    }
    st.resp = resp;
    let s = |v: &str| Reply::Bulk(v.as_bytes().to_vec());
    Reply::Map(vec![
        (s("server"), s("redis")),
        (s("version"), s(info::REDIS_COMPAT_VERSION)),
        (s("proto"), Reply::Int(if resp == Resp::V3 { 3 } else { 2 })),
        (s("id"), Reply::Int(st.info.id as i64)),
        (s("mode"), s("standalone")),
        (s("role"), s("master")),
        (s("modules"), Reply::Array(vec![])),
    ])
}

fn set_name(st: &ConnState<'_>, name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(Reply::error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *lock(&st.info.name) = String::from_utf8_lossy(name).into_owned();
    Ok(())
}

fn client(st: &mut ConnState<'_>, args: &Args<'_, Vec<u8>>) -> Reply {
    let Some(sub) = args.rest.first() else {
        return args.arity_error().into();
    };
    let sub_up = String::from_utf8_lossy(sub).to_ascii_uppercase();
    let resp_num = if st.resp == Resp::V3 { 3 } else { 2 };
    match (sub_up.as_str(), args.len() + 1) {
        ("ID", 2) => Reply::Int(st.info.id as i64),
        ("GETNAME", 2) => {
            let name = lock(&st.info.name).clone();
            if name.is_empty() {
                Reply::Nil
            } else {
                Reply::Bulk(name.into_bytes())
            }
        }
        ("SETNAME", 3) => match set_name(st, args.bytes(1)) {
            Ok(()) => Reply::ok(),
            Err(e) => e,
        },
        ("LIST", 2) => {
            let mut text = String::new();
            for c in st.shared.clients.all() {
                let resp = if c.id == st.info.id { resp_num } else { 2 };
                text.push_str(&c.line(resp));
                text.push('\n');
            }
            Reply::Bulk(text.into_bytes())
        }
        ("INFO", 2) => Reply::Bulk(format!("{}\n", st.info.line(resp_num)).into_bytes()),
        // Client libraries announce themselves (ioredis, node-redis); accept and ignore.
        ("SETINFO", 4) => Reply::ok(),
        ("ID" | "GETNAME" | "SETNAME" | "LIST" | "INFO" | "SETINFO", _) => Reply::error(format!(
            "ERR wrong number of arguments for 'client|{}' command",
            sub_up.to_lowercase()
        )),
        _ => Reply::error(format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(sub)
        )),
    }
}
