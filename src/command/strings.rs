//! String and counter commands: GET, SET and its variants, MGET/MSET, APPEND, STRLEN, INCR...

use super::{syntax_error, Args, Cmd, CmdError, CmdResult, Reply};
use crate::store::{Error, Ns, SetOptions, Store, Value, ValueRef};

pub(crate) fn run<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    match a.cmd {
        Cmd::Get => {
            a.exactly(1)?;
            let found = store.get_with((ns, a.key(0)), |v| Reply::Bulk(bytes_of(v)));
            Ok(found.unwrap_or(Reply::Nil))
        }
        Cmd::Set => set(store, ns, a),
        Cmd::Setnx => {
            a.exactly(2)?;
            let opts = SetOptions {
                nx: true,
                ..SetOptions::default()
            };
            let done = store.set_ref((ns, a.key(0)), value(a, 1), &opts)?.written;
            Ok(Reply::Int(done as i64))
        }
        Cmd::Setex | Cmd::Psetex => {
            a.exactly(3)?;
            let n = a.int(1)?;
            let ms = expire_ms(store, n, a.cmd == Cmd::Setex, false, a.name)?;
            let opts = SetOptions {
                ttl_ms: Some(ms),
                ..SetOptions::default()
            };
            store.set_ref((ns, a.key(0)), value(a, 2), &opts)?;
            Ok(Reply::ok())
        }
        Cmd::Getset => {
            a.exactly(2)?;
            let opts = SetOptions {
                get: true,
                ..SetOptions::default()
            };
            Ok(bulk_or_nil(
                store.set_ref((ns, a.key(0)), value(a, 1), &opts)?.previous,
            ))
        }
        Cmd::Getdel => {
            a.exactly(1)?;
            Ok(bulk_or_nil(store.take(ns, a.key(0))))
        }
        Cmd::Getex => getex(store, ns, a),
        Cmd::Mget => {
            a.at_least(1)?;
            let keys: Vec<&[u8]> = (0..a.len()).map(|i| a.key(i)).collect();
            Ok(Reply::Array(
                store.mget(ns, &keys).into_iter().map(bulk_or_nil).collect(),
            ))
        }
        Cmd::Mset | Cmd::Msetnx => {
            if a.len() == 0 || !a.len().is_multiple_of(2) {
                return Err(a.arity_error());
            }
            let mut entries = Vec::with_capacity(a.len() / 2);
            for i in (0..a.len()).step_by(2) {
                entries.push((a.key(i), value(a, i + 1)));
            }
            if a.cmd == Cmd::Msetnx {
                if entries.iter().any(|(k, _)| store.exists((ns, k))) {
                    return Ok(Reply::Int(0));
                }
                store.mset(ns, &entries, &SetOptions::default())?;
                return Ok(Reply::Int(1));
            }
            store.mset(ns, &entries, &SetOptions::default())?;
            Ok(Reply::ok())
        }
        Cmd::Append => {
            a.exactly(2)?;
            Ok(Reply::Int(store.append(ns, a.key(0), a.bytes(1))? as i64))
        }
        Cmd::Strlen => {
            a.exactly(1)?;
            let len = store.get_with((ns, a.key(0)), |v| match v {
                ValueRef::Bytes(b) => b.len(),
                ValueRef::Int(n) => n.to_string().len(),
            });
            Ok(Reply::Int(len.unwrap_or(0) as i64))
        }
        Cmd::Incr | Cmd::Decr => {
            a.exactly(1)?;
            let delta = if a.cmd == Cmd::Incr { 1 } else { -1 };
            Ok(Reply::Int(store.incr_by((ns, a.key(0)), delta)?))
        }
        Cmd::Incrby => {
            a.exactly(2)?;
            Ok(Reply::Int(store.incr_by((ns, a.key(0)), a.int(1)?)?))
        }
        Cmd::Decrby => {
            a.exactly(2)?;
            let by = a.int(1)?;
            let delta = by
                .checked_neg()
                .ok_or_else(|| CmdError("ERR decrement would overflow".into()))?;
            Ok(Reply::Int(store.incr_by((ns, a.key(0)), delta)?))
        }
        _ => Err(super::unknown(a.name.as_bytes(), a.rest)),
    }
}

/// Argument `i` as a value, borrowed from the request (the store copies it into the entry).
fn value<'a, A: AsRef<[u8]>>(a: &'a Args<'_, A>, i: usize) -> ValueRef<'a> {
    ValueRef::Bytes(a.bytes(i))
}

/// A stored value's bytes for a reply: integers as decimal text.
fn bytes_of(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Bytes(b) => b.to_vec(),
        ValueRef::Int(n) => n.to_string().into_bytes(),
    }
}

/// A reply for an optional value: bulk bytes, or nil.
pub(crate) fn bulk_or_nil(v: Option<Value>) -> Reply {
    match v {
        Some(Value::Bytes(b)) => Reply::Bulk(b),
        Some(Value::Int(n)) => Reply::Bulk(n.to_string().into_bytes()),
        None => Reply::Nil,
    }
}

/// Convert a user-given expire time to ms as Redis 7's `getExpireMillisecondsOrReply` does:
/// positive, at most `i64::MAX` ms once in ms, and for a relative time, `now + ms` too (so
/// `PX 4611686018427387903` is fine and `PX 9223372036854775807` is not).
fn expire_ms(
    store: &Store,
    n: i64,
    seconds: bool,
    absolute: bool,
    cmd: &str,
) -> Result<u64, CmdError> {
    let ms = if seconds {
        n.checked_mul(1000)
    } else {
        Some(n)
    };
    let now = store.now_ms() as i64;
    match ms {
        Some(ms) if ms > 0 && (absolute || now.checked_add(ms).is_some()) => Ok(ms as u64),
        _ => Err(CmdError(format!(
            "ERR invalid expire time in '{cmd}' command"
        ))),
    }
}

/// The expiry options shared by SET and GETEX: EX, PX, EXAT, PXAT. Returns absolute or
/// relative ms through `opts`; `Ok(false)` if the word at `i` is not one of them.
fn expiry_option<A: AsRef<[u8]>>(
    store: &Store,
    a: &Args<'_, A>,
    i: usize,
    opts: &mut SetOptions,
) -> Result<bool, CmdError> {
    let word = a.bytes(i).to_ascii_lowercase();
    let (seconds, absolute) = match word.as_slice() {
        b"ex" => (true, false),
        b"px" => (false, false),
        b"exat" => (true, true),
        b"pxat" => (false, true),
        _ => return Ok(false),
    };
    if opts.ttl_ms.is_some() || opts.expire_at_ms.is_some() || opts.keep_ttl || i + 1 >= a.len() {
        return Err(syntax_error());
    }
    let ms = expire_ms(store, a.int(i + 1)?, seconds, absolute, a.name)?;
    if absolute {
        opts.expire_at_ms = Some(ms);
    } else {
        opts.ttl_ms = Some(ms);
    }
    Ok(true)
}

fn set<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    a.at_least(2)?;
    let mut opts = SetOptions::default();
    let mut i = 2;
    while i < a.len() {
        if expiry_option(store, a, i, &mut opts)? {
            i += 2;
            continue;
        }
        if a.is(i, "nx") && !opts.xx {
            opts.nx = true;
        } else if a.is(i, "xx") && !opts.nx {
            opts.xx = true;
        } else if a.is(i, "keepttl") && opts.ttl_ms.is_none() && opts.expire_at_ms.is_none() {
            opts.keep_ttl = true;
        } else if a.is(i, "get") {
            opts.get = true;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    let out = store.set_ref((ns, a.key(0)), value(a, 1), &opts)?;
    Ok(match (opts.get, out.written) {
        (true, _) => bulk_or_nil(out.previous),
        (false, true) => Reply::ok(),
        (false, false) => Reply::Nil,
    })
}

fn getex<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    a.at_least(1)?;
    let key = a.key(0);
    let mut opts = SetOptions::default();
    let mut persist = false;
    let mut i = 1;
    while i < a.len() {
        if expiry_option(store, a, i, &mut opts)? && !persist {
            i += 2;
        } else if a.is(i, "persist") && opts.ttl_ms.is_none() && opts.expire_at_ms.is_none() {
            persist = true;
            i += 1;
        } else {
            return Err(syntax_error());
        }
    }
    let Some(v) = store.get(ns, key) else {
        return Ok(Reply::Nil);
    };
    if persist {
        store.persist((ns, key));
    } else if let Some(at) = opts.expire_at_ms {
        store.expire_at((ns, key), at);
    } else if let Some(ms) = opts.ttl_ms {
        store.expire((ns, key), ms);
    }
    Ok(Reply::Bulk(v.to_bytes()))
}

impl From<Error> for Reply {
    fn from(e: Error) -> Self {
        Reply::Error(e.to_string())
    }
}
