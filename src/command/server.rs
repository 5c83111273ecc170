//! Session and keyspace-wide commands: PING, ECHO, SELECT, DBSIZE, FLUSHDB, FLUSHALL.

use super::{syntax_error, Args, CmdResult, Reply, Session};
use crate::store::Store;

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
            let name = a.str(0)?;
            session.ns = store.namespace(name)?;
            session.ns_name = name.to_owned();
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
        _ => Err(super::unknown(a.name.as_bytes(), a.rest)),
    }
}
