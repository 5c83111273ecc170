//! Session and keyspace-wide commands: PING, ECHO, SELECT, DBSIZE, FLUSHDB, FLUSHALL.

use super::{syntax_error, Args, CmdResult, Reply, Session};
use crate::store::{Stats, Store};

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

pub(crate) fn run<A: AsRef<[u8]>>(
    store: &Store,
    session: &mut Session,
    a: &Args<'_, A>,
) -> CmdResult {
    match a.name {
        "ping" => match a.len() {
            0 => Ok(Reply::Simple("PONG".into())),
            1 => Ok(Reply::Bulk(a.bytes(0).to_vec())),
            _ => Err(a.arity_error()),
        },
        "echo" => {
            a.exactly(1)?;
            Ok(Reply::Bulk(a.bytes(0).to_vec()))
        }
        "select" => {
            a.exactly(1)?;
            session.select(store, a.str(0)?)?;
            Ok(Reply::ok())
        }
        "dbsize" => {
            a.exactly(0)?;
            Ok(Reply::Int(store.len(session.ns) as i64))
        }
        "flushdb" | "flushall" => {
            if a.len() > 1 || (a.len() == 1 && !a.is(0, "async") && !a.is(0, "sync")) {
                return Err(syntax_error());
            }
            if a.name == "flushdb" {
                store.flush(session.ns);
            } else {
                store.flush_all();
            }
            Ok(Reply::ok())
        }
        "stats" => {
            a.exactly(0)?;
            Ok(stats_reply(&store.stats()))
        }
        "namespaces" => {
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
