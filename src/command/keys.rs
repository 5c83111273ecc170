//! Key and expiry commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, EXPIRE family, TTL, PERSIST.

use super::{syntax_error, Args, Cmd, CmdError, CmdResult, Reply};
use crate::store::{Ns, Store, Ttl};

pub(crate) fn run<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    match a.cmd {
        Cmd::Del | Cmd::Unlink => {
            a.at_least(1)?;
            let mut n = 0;
            for i in 0..a.len() {
                n += store.delete((ns, a.key(i))) as i64;
            }
            Ok(Reply::Int(n))
        }
        Cmd::Exists => {
            a.at_least(1)?;
            let mut n = 0;
            for i in 0..a.len() {
                n += store.exists((ns, a.key(i))) as i64;
            }
            Ok(Reply::Int(n))
        }
        Cmd::Type => {
            a.exactly(1)?;
            let t = if store.exists((ns, a.key(0))) {
                "string"
            } else {
                "none"
            };
            Ok(Reply::Simple(t.into()))
        }
        Cmd::Keys => {
            a.exactly(1)?;
            let keys = store.keys_bytes(ns, a.key(0));
            Ok(Reply::Array(keys.into_iter().map(Reply::Bulk).collect()))
        }
        Cmd::Scan => scan(store, ns, a),
        Cmd::Scanentries => scan_entries(store, ns, a),
        Cmd::Rename | Cmd::Renamenx => {
            a.exactly(2)?;
            let (from, to) = (a.key(0), a.key(1));
            if a.cmd == Cmd::Renamenx {
                if !store.exists((ns, from)) {
                    return Err(CmdError("ERR no such key".into()));
                }
                if store.exists((ns, to)) {
                    return Ok(Reply::Int(0));
                }
            }
            if !store.rename(ns, from, to)? {
                return Err(CmdError("ERR no such key".into()));
            }
            Ok(if a.cmd == Cmd::Renamenx {
                Reply::Int(1)
            } else {
                Reply::ok()
            })
        }
        Cmd::Expire | Cmd::Pexpire | Cmd::Expireat | Cmd::Pexpireat => expire(store, ns, a),
        Cmd::Ttl | Cmd::Pttl => {
            a.exactly(1)?;
            Ok(Reply::Int(match store.ttl((ns, a.key(0))) {
                Ttl::Missing => -2,
                Ttl::Persistent => -1,
                // Rounded to the nearest second, as Redis does.
                Ttl::Remaining(ms) if a.cmd == Cmd::Ttl => round_secs(ms),
                Ttl::Remaining(ms) => ms as i64,
            }))
        }
        Cmd::Expiretime | Cmd::Pexpiretime => {
            a.exactly(1)?;
            Ok(Reply::Int(match store.expires_at_ms((ns, a.key(0))) {
                None => -2,
                Some(None) => -1,
                Some(Some(at)) => {
                    if a.cmd == Cmd::Expiretime {
                        round_secs(at)
                    } else {
                        at as i64
                    }
                }
            }))
        }
        Cmd::Object => object(store, ns, a),
        Cmd::Persist => {
            a.exactly(1)?;
            Ok(Reply::Int(store.persist((ns, a.key(0))) as i64))
        }
        _ => Err(super::unknown(a.name.as_bytes(), a.rest)),
    }
}

/// Milliseconds to the nearest second, as Redis's TTL and EXPIRETIME report them
/// (`(ms + 500) / 1000`). Expiries are at most `i64::MAX`, so neither step overflows.
fn round_secs(ms: u64) -> i64 {
    (ms.saturating_add(500) / 1000) as i64
}

/// A SCAN cursor as Redis parses it (`strtoull`, base 10): an optional sign, where `-n` wraps
/// to `2^64 - n`; no leading space, nothing after the digits, nothing past `u64::MAX`. An
/// empty cursor is 0, as `strtoull` reads it.
pub(crate) fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        // strtoull reads no number and leaves the end at the start: fine only when empty.
        return b.is_empty().then_some(0);
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

/// SCAN's arguments after the cursor.
struct ScanArgs<'a> {
    cursor: u64,
    pattern: Option<&'a [u8]>,
    count: usize,
    /// A TYPE other than string: nothing matches.
    wrong_type: bool,
}

/// Parses `cursor [MATCH pattern] [COUNT n]`, and `[TYPE type]` when `typed`.
fn scan_args<'a, A: AsRef<[u8]>>(
    a: &'a Args<'_, A>,
    typed: bool,
) -> Result<ScanArgs<'a>, CmdError> {
    a.at_least(1)?;
    let cursor = parse_cursor(a.bytes(0)).ok_or_else(|| CmdError("ERR invalid cursor".into()))?;
    let (mut pattern, mut count, mut wrong_type) = (None, 10usize, false);
    let mut i = 1;
    while i < a.len() {
        if i + 1 >= a.len() {
            return Err(syntax_error());
        }
        if a.is(i, "match") {
            pattern = Some(a.key(i + 1));
        } else if a.is(i, "count") {
            let n = a.int(i + 1)?;
            if n < 1 {
                return Err(syntax_error());
            }
            count = n.min(1 << 20) as usize;
        } else if typed && a.is(i, "type") {
            wrong_type = !a.is(i + 1, "string");
        } else {
            return Err(syntax_error());
        }
        i += 2;
    }
    Ok(ScanArgs {
        cursor,
        pattern: pattern.filter(|p| *p != b"*"),
        count,
        wrong_type,
    })
}

fn scan<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    let s = scan_args(a, true)?;
    let (next, keys) = store.scan_bytes(ns, s.cursor, s.pattern, s.count);
    let keys = if s.wrong_type { Vec::new() } else { keys };
    Ok(Reply::Array(vec![
        Reply::text(next.to_string()),
        Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
    ]))
}

/// SCANENTRIES: a SCAN step whose second element is flat `key, value, expiry` triples (the
/// expiry as PEXPIRETIME gives it: absolute ms, -1 for none), so a reader of the whole store
/// (`tinykv migrate`) makes one request per step instead of a GET and a PEXPIRETIME per key.
fn scan_entries<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    let s = scan_args(a, false)?;
    let (next, entries) = store.scan_entries(ns, s.cursor, s.pattern, s.count);
    let mut flat = Vec::with_capacity(entries.len() * 3);
    for e in entries {
        flat.push(Reply::Bulk(e.key));
        flat.push(Reply::Bulk(e.value.to_bytes()));
        flat.push(Reply::Int(e.expires_at_ms.map_or(-1, |at| at as i64)));
    }
    Ok(Reply::Array(vec![
        Reply::text(next.to_string()),
        Reply::Array(flat),
    ]))
}

fn expire<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    a.at_least(2)?;
    let key = a.key(0);
    let n = a.int(1)?;
    let seconds = a.cmd == Cmd::Expire || a.cmd == Cmd::Expireat;
    let absolute = a.name.ends_with("at");
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 2..a.len() {
        match a.bytes(i).to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                return Err(CmdError(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(a.bytes(i))
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError(
            "ERR NX and XX, GT or LT options at the same time are not compatible".into(),
        ));
    }
    if gt && lt {
        return Err(CmdError(
            "ERR GT and LT options at the same time are not compatible".into(),
        ));
    }
    let invalid = || CmdError(format!("ERR invalid expire time in '{}' command", a.name));
    let ms = if seconds {
        n.checked_mul(1000).ok_or_else(invalid)?
    } else {
        n
    };
    let now = store.now_ms() as i64;
    let at = if absolute {
        ms
    } else {
        now.checked_add(ms).ok_or_else(invalid)?
    };
    let current = match store.ttl((ns, key)) {
        Ttl::Missing => return Ok(Reply::Int(0)),
        Ttl::Persistent => None,
        Ttl::Remaining(r) => Some(now + r as i64),
    };
    let allowed = match current {
        None => !xx && !gt,
        Some(cur) => !nx && (!gt || at > cur) && (!lt || at < cur),
    };
    if !allowed {
        return Ok(Reply::Int(0));
    }
    let done = if at <= now {
        store.delete((ns, key))
    } else {
        store.expire_at((ns, key), at as u64)
    };
    Ok(Reply::Int(done as i64))
}

/// OBJECT IDLETIME | FREQ | ENCODING | REFCOUNT key: access tracking, as Redis reports it.
fn object<A: AsRef<[u8]>>(store: &Store, ns: Ns, a: &Args<'_, A>) -> CmdResult {
    a.at_least(1)?;
    let sub = String::from_utf8_lossy(a.bytes(0)).to_ascii_lowercase();
    if sub == "help" {
        let lines = [
            "OBJECT <subcommand> [<arg> ...]",
            "ENCODING <key>",
            "FREQ <key>",
            "IDLETIME <key>",
            "REFCOUNT <key>",
        ];
        return Ok(Reply::Array(
            lines.iter().map(|l| Reply::Simple((*l).into())).collect(),
        ));
    }
    if !matches!(sub.as_str(), "idletime" | "freq" | "encoding" | "refcount") {
        return Err(CmdError(format!(
            "ERR unknown subcommand '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(a.bytes(0))
        )));
    }
    if a.len() != 2 {
        return Err(CmdError(format!(
            "ERR wrong number of arguments for 'object|{sub}' command"
        )));
    }
    let Some(info) = store.info(ns, a.key(1)) else {
        return Ok(Reply::Nil);
    };
    Ok(match sub.as_str() {
        "idletime" => Reply::Int((info.idle_ms / 1000) as i64),
        "freq" => Reply::Int(i64::from(info.frequency)),
        "encoding" => Reply::text(if info.is_int { "int" } else { "raw" }),
        _ => Reply::Int(1),
    })
}
