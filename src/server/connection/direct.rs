//! The reads the daemon answers straight from the store into the output buffer: GET and MGET.
//!
//! A stored value is copied once, under its shard's read lock, into the connection's output
//! buffer, instead of into a [`Reply`](crate::command::Reply) that is then encoded a second time.
//! The size of each piece of the reply is known before it is copied, so a reply larger than the
//! output cap (`--max-output-buffer`) is refused with [`TOO_BIG`] before it is built (it could
//! never be delivered within the cap), and one that fits the cap but not what is left of it is
//! put off until the buffer has drained ([`Outcome::Wait`]), so these replies never take the
//! buffer past the cap.
//!
//! This is the one place the daemon reads the store without going through `command`: a
//! deliberate exception for the two commands whose reply size is set by stored data.
//!
//! Invariant: only well-formed requests are served here. Anything else (wrong arity) is passed
//! on to [`crate::command::execute`], so every error reply has one source, and
//! what is served makes the same store calls as `command`'s GET and MGET (`Store::get_with`,
//! `Store::get_many_with`; integers read back as decimal text).

use bytes::BytesMut;

use crate::command::{Cmd, Spec};
use crate::protocol::{
    bulk_len, int_bulk_len, nil_len, write_bulk, write_int_bulk, write_int_line, write_nil, Resp,
};
use crate::server::state::ConnState;
use crate::store::ValueRef;

/// The error for a reply larger than the output cap.
pub(crate) const TOO_BIG: &str = crate::protocol::REPLY_TOO_BIG;

/// What [`serve`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Not served here: dispatch it as usual.
    Pass,
    /// Answered: the reply (or [`TOO_BIG`]) is in the output buffer.
    Done,
    /// Fits the cap but not what is left of it; nothing was written. Run it again once the
    /// output buffer is empty.
    Wait,
}

/// Why a reply stopped being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The reply alone is larger than the cap.
    TooBig,
    /// The reply does not fit beside what is already pending.
    Wait,
}

/// The output cap as seen by one reply that starts at `start` in the buffer.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Buffer length before the reply.
    start: usize,
    /// `--max-output-buffer` (`usize::MAX` when unlimited).
    cap: usize,
}

impl Budget {
    /// May `need` more bytes be appended to a buffer now `len` long?
    fn check(self, len: usize, need: usize) -> Result<(), Stop> {
        if (len - self.start).saturating_add(need) > self.cap {
            Err(Stop::TooBig)
        } else if self.start > 0 && len.saturating_add(need) > self.cap {
            Err(Stop::Wait)
        } else {
            Ok(())
        }
    }
}

/// Serves GET and MGET when `argv` is one of them and well-formed (see the module docs); the
/// caller has already checked authentication.
pub(crate) fn serve(
    st: &mut ConnState<'_>,
    spec: Option<&Spec>,
    argv: &[Vec<u8>],
    out: &mut BytesMut,
    cap: usize,
) -> Outcome {
    let name = argv[0].as_slice();
    let res = match spec.map(|s| s.cmd) {
        Some(Cmd::Get) if argv.len() == 2 => get(st, &argv[1], out, cap),
        Some(Cmd::Mget) if argv.len() >= 2 => mget(st, &argv[1..], out, cap),
        _ => return Outcome::Pass,
    };
    st.last_cmd.clear();
    st.last_cmd.extend_from_slice(name);
    res
}

fn get(st: &ConnState<'_>, key: &[u8], out: &mut BytesMut, cap: usize) -> Outcome {
    let budget = Budget {
        start: out.len(),
        cap,
    };
    let found = st
        .shared
        .store
        .get_with((st.session.ns, key), |v| put_value(budget, v, out));
    let res = match found {
        Some(res) => res,
        None => put_nil(budget, st.resp, out),
    };
    finish(budget, res, out)
}

fn mget(st: &ConnState<'_>, keys: &[Vec<u8>], out: &mut BytesMut, cap: usize) -> Outcome {
    let budget = Budget {
        start: out.len(),
        cap,
    };
    let resp = st.resp;
    write_int_line(b'*', keys.len() as i64, out);
    let mut res = budget.check(out.len(), 0);
    // `get_many_with` calls back for the keys found, in order; the misses between are nils.
    let mut next = 0;
    st.shared.store.get_many_with(st.session.ns, keys, |i, v| {
        if res.is_ok() {
            res = (next..i)
                .try_for_each(|_| put_nil(budget, resp, out))
                .and_then(|()| put_value(budget, v, out));
        }
        next = i + 1;
    });
    if res.is_ok() {
        res = (next..keys.len()).try_for_each(|_| put_nil(budget, resp, out));
    }
    finish(budget, res, out)
}

/// Appends one value as a bulk string if the budget allows it.
#[inline(always)]
fn put_value(budget: Budget, v: ValueRef<'_>, out: &mut BytesMut) -> Result<(), Stop> {
    match v {
        ValueRef::Bytes(b) => {
            budget.check(out.len(), bulk_len(b.len()))?;
            write_bulk(b, out);
        }
        ValueRef::Int(n) => {
            budget.check(out.len(), int_bulk_len(n))?;
            write_int_bulk(n, out);
        }
    }
    Ok(())
}

/// Appends a nil if the budget allows it.
fn put_nil(budget: Budget, resp: Resp, out: &mut BytesMut) -> Result<(), Stop> {
    budget.check(out.len(), nil_len(resp))?;
    write_nil(resp, out);
    Ok(())
}

/// Turns a stopped reply into [`TOO_BIG`] or [`Outcome::Wait`], dropping what was written of it.
fn finish(budget: Budget, res: Result<(), Stop>, out: &mut BytesMut) -> Outcome {
    match res {
        Ok(()) => Outcome::Done,
        Err(stop) => {
            out.truncate(budget.start);
            if stop == Stop::Wait {
                return Outcome::Wait;
            }
            out.extend_from_slice(b"-");
            out.extend_from_slice(TOO_BIG.as_bytes());
            out.extend_from_slice(b"\r\n");
            Outcome::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_what_cannot_fit_and_defers_what_does_not_fit_yet() {
        let b = Budget { start: 0, cap: 100 };
        assert_eq!(b.check(0, 100), Ok(()));
        assert_eq!(b.check(50, 51), Err(Stop::TooBig));
        let b = Budget {
            start: 60,
            cap: 100,
        };
        assert_eq!(b.check(60, 40), Ok(()));
        assert_eq!(b.check(60, 41), Err(Stop::Wait));
        assert_eq!(b.check(70, 91), Err(Stop::TooBig));
        let unlimited = Budget {
            start: 5,
            cap: usize::MAX,
        };
        assert_eq!(unlimited.check(10, usize::MAX), Ok(()));
    }
}
