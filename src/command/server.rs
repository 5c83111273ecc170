//! Session and keyspace-wide commands: PING, ECHO, SELECT, DBSIZE, FLUSHDB, FLUSHALL, STATS,
//! NAMESPACES.

use super::{syntax_error, Args, Cmd, CmdError, CmdResult, Reply, Session};
use crate::store::{Error, Stats, Store};

/// The STATS reply: one field per counter, then `ns.<name>.keys` / `ns.<name>.bytes`.
pub fn stats_reply(st: &Stats) -> Reply {
    let n = |v: u64| Reply::Int(v as i64);
    let cap = |v: Option<u64>| Reply::Int(v.map_or(0, |v| v as i64));
    let mut m = vec![
        ("keys", n(st.keys)),
        ("bytes", n(st.bytes)),
        ("hits", n(st.hits)),
        ("misses", n(st.misses)),
        (
            "hit_ratio",
            Reply::Double((st.hit_ratio() * 10_000.0).round() / 10_000.0),
        ),
        ("sets", n(st.sets)),
        ("deletes", n(st.deletes)),
        ("expired", n(st.expired)),
        ("evicted", n(st.evicted)),
        ("max_entries", cap(st.max_entries.map(|v| v as u64))),
        ("max_memory", cap(st.max_memory)),
    ]
    .into_iter()
    .map(|(k, v)| (Reply::text(k), v))
    .collect::<Vec<_>>();
    for ns in &st.namespaces {
        m.push((Reply::text(format!("ns.{}.keys", ns.name)), n(ns.keys)));
        m.push((Reply::text(format!("ns.{}.bytes", ns.name)), n(ns.bytes)));
    }
    Reply::Map(m)
}

/// SELECT's rule for numeric names: a name of digits (with an optional sign) is a Redis
/// database index. One Redis reads as an integer must be below `databases` ("0" is the default
/// namespace, "1".."15" namespaces of those names), else Redis's "DB index is out of range";
/// one Redis would not read as an integer ("01", "+1", past 64 bits) gets Redis's "not an
/// integer" error, so an index has one spelling. Any other name is a namespace name.
fn check_db_index(name: &str, databases: u32) -> Result<(), CmdError> {
    let digits = name.strip_prefix(['-', '+']).unwrap_or(name);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    match crate::store::parse_i64(name.as_bytes()) {
        Some(i) if (0..i64::from(databases)).contains(&i) => Ok(()),
        Some(_) => Err(CmdError("ERR DB index is out of range".into())),
        None => Err(CmdError(Error::NotInteger.to_string())),
    }
}

pub(crate) fn run<A: AsRef<[u8]>>(
    store: &Store,
    session: &mut Session,
    a: &Args<'_, A>,
) -> CmdResult {
    match a.cmd {
        Cmd::Ping => match a.len() {
            0 => Ok(Reply::Simple("PONG".into())),
            1 => Ok(Reply::Bulk(a.bytes(0).to_vec())),
            _ => Err(a.arity_error()),
        },
        Cmd::Echo => {
            a.exactly(1)?;
            Ok(Reply::Bulk(a.bytes(0).to_vec()))
        }
        Cmd::Select => {
            a.exactly(1)?;
            let name = a.str(0)?;
            check_db_index(name, store.config().databases)?;
            session.select(store, name)?;
            Ok(Reply::ok())
        }
        Cmd::Dbsize => {
            a.exactly(0)?;
            Ok(Reply::Int(store.len(session.ns) as i64))
        }
        Cmd::Flushdb | Cmd::Flushall => {
            if a.len() > 1 || (a.len() == 1 && !a.is(0, "async") && !a.is(0, "sync")) {
                return Err(syntax_error());
            }
            if a.cmd == Cmd::Flushdb {
                store.flush(session.ns);
            } else {
                store.flush_all();
            }
            Ok(Reply::ok())
        }
        Cmd::Stats => {
            a.exactly(0)?;
            Ok(stats_reply(&store.stats()))
        }
        Cmd::Namespaces => {
            a.exactly(0)?;
            let list = store.stats().namespaces;
            Ok(Reply::Map(
                list.into_iter()
                    .map(|n| (Reply::text(n.name), Reply::Int(n.keys as i64)))
                    .collect(),
            ))
        }
        _ => Err(super::unknown(a.name.as_bytes(), a.rest)),
    }
}
