//! Request decoding: bytes in, argv frames out (multibulk `*N\r\n$L\r\n...` and inline lines).
//!
//! The decoder is incremental: arguments of a multibulk request are taken out of the buffer as
//! soon as each one is complete, so a request that arrives in many reads is parsed in linear time.
//! Argument buffers are reused from one request to the next, so a steady stream of small requests
//! allocates nothing; what is kept between requests is bounded (no buffer over
//! [`KEEP_ARG_CAPACITY`], at most [`KEEP_ARGS_BYTES`] in all, at most [`KEEP_ARGS`] buffers), and
//! anything over that is freed as soon as the next request starts, so one large request does not
//! pin its memory on an idle connection. Declared lengths are checked against [`Limits`] before
//! anything is buffered for them, and are never used to reserve memory.

use bytes::{Buf, BytesMut};

use super::{find_crlf, memchr, parse_i64, split_args, Limits, ProtocolError};

/// Argument buffers bigger than this are dropped after use instead of being kept for reuse, so
/// one large request does not pin its memory for the life of the connection.
const KEEP_ARG_CAPACITY: usize = 64 * 1024;

/// Most bytes (summed capacity) of argument buffers kept for reuse between requests.
const KEEP_ARGS_BYTES: usize = 256 * 1024;

/// Most argument buffers kept for reuse between requests (a request with a million small
/// arguments would otherwise leave a million buffers behind).
const KEEP_ARGS: usize = 1024;

/// Incremental RESP request decoder; one per connection.
#[derive(Debug, Default)]
pub struct Decoder {
    /// What a request may declare; swapped for tighter limits while a client is unauthenticated.
    limits: Limits,
    /// Argument buffers; `args[..argc]` is the request being assembled, the rest are spares.
    args: Vec<Vec<u8>>,
    /// How many arguments of the current request are complete.
    argc: usize,
    /// Summed capacity of `args`, so the spares can be trimmed to [`KEEP_ARGS_BYTES`].
    kept: usize,
    /// Some buffer in `args` grew past [`KEEP_ARG_CAPACITY`]; it is freed before the next request.
    oversized: bool,
    /// Bulk arguments still expected by the current multibulk request (0: between requests).
    pending: usize,
    /// False until a client on a password-protected server authenticates; until then Redis's
    /// tighter unauthenticated caps apply (10 arguments, 16 KiB each).
    unauthenticated: bool,
}

/// Most arguments per request from an unauthenticated client (Redis's value).
const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// Longest argument from an unauthenticated client (Redis's value).
const UNAUTH_MAX_BULK: i64 = 16 * 1024;

impl Decoder {
    /// A decoder that enforces `limits`.
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            ..Decoder::default()
        }
    }

    /// Switches the unauthenticated caps on (`false`) or off (`true`, the default).
    pub fn set_authenticated(&mut self, authenticated: bool) {
        self.unauthenticated = !authenticated;
    }

    /// Takes the next complete request out of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed (what was consumed so far is remembered).
    /// Empty requests (`*0`, `*-1`, blank inline lines) are skipped. After an error the
    /// connection must be closed: the stream cannot be resynchronised.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<&[Vec<u8>]>, ProtocolError> {
        let mut consumed = 0;
        let res = self.decode_slice(buf, &mut consumed);
        buf.advance(consumed);
        match res {
            Ok(true) => Ok(Some(&self.args[..self.argc])),
            Ok(false) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The sans-I/O core: parses from `buf`, adds what it used up to `consumed`, and says whether
    /// a request is complete (then it is `self.args[..self.argc]`).
    pub fn decode_slice(
        &mut self,
        buf: &[u8],
        consumed: &mut usize,
    ) -> Result<bool, ProtocolError> {
        loop {
            let rest = &buf[*consumed..];
            if self.pending == 0 {
                // Between requests: the previous one has been used, so its large buffers can go.
                self.release_spare();
                self.argc = 0;
                let Some(&first) = rest.first() else {
                    return Ok(false);
                };
                if first != b'*' {
                    match self.decode_inline(rest, consumed)? {
                        Some(complete) => return Ok(complete),
                        None => continue,
                    }
                }
                let Some(end) = find_crlf(rest) else {
                    if rest.len() > self.limits.max_inline {
                        return Err(ProtocolError::TooBigMultibulkCount);
                    }
                    return Ok(false);
                };
                let count =
                    parse_i64(&rest[1..end]).ok_or(ProtocolError::InvalidMultibulkLength)?;
                if count > 0 && count as u64 > self.limits.max_multibulk as u64 {
                    return Err(ProtocolError::InvalidMultibulkLength);
                }
                if self.unauthenticated && count > UNAUTH_MAX_MULTIBULK {
                    return Err(ProtocolError::UnauthenticatedMultibulkLength);
                }
                *consumed += end + 2;
                if count <= 0 {
                    continue;
                }
                self.pending = count as usize;
            }
            while self.pending > 0 {
                let rest = &buf[*consumed..];
                let Some(&first) = rest.first() else {
                    return Ok(false);
                };
                if first != b'$' {
                    return Err(ProtocolError::ExpectedDollar(first));
                }
                let Some(end) = find_crlf(rest) else {
                    if rest.len() > self.limits.max_inline {
                        return Err(ProtocolError::TooBigBulkCount);
                    }
                    return Ok(false);
                };
                let len = parse_i64(&rest[1..end]).ok_or(ProtocolError::InvalidBulkLength)?;
                if len < 0 || len as u64 > self.limits.max_bulk as u64 {
                    return Err(ProtocolError::InvalidBulkLength);
                }
                if self.unauthenticated && len > UNAUTH_MAX_BULK {
                    return Err(ProtocolError::UnauthenticatedBulkLength);
                }
                let len = len as usize;
                let start = end + 2;
                let Some(data) = rest.get(start..start + len + 2) else {
                    return Ok(false);
                };
                if &data[len..] != b"\r\n" {
                    return Err(ProtocolError::ExpectedCrlf);
                }
                self.push_arg(&data[..len]);
                *consumed += start + len + 2;
                self.pending -= 1;
            }
            return Ok(true);
        }
    }

    /// Parses one inline line from the start of `rest`: `Some(true)` complete, `Some(false)` need
    /// more bytes, `None` a blank line was skipped.
    fn decode_inline(
        &mut self,
        rest: &[u8],
        consumed: &mut usize,
    ) -> Result<Option<bool>, ProtocolError> {
        let Some(nl) = memchr(b'\n', rest) else {
            if rest.len() > self.limits.max_inline {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(Some(false));
        };
        if nl > self.limits.max_inline {
            return Err(ProtocolError::TooBigInline);
        }
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        let words = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
        *consumed += nl + 1;
        if words.is_empty() {
            return Ok(None);
        }
        for w in &words {
            self.push_arg(w);
        }
        Ok(Some(true))
    }

    /// The request [`Decoder::decode`] returned last, until the next call to `decode`: lets a
    /// caller that had to put a request off run it later without decoding it again.
    pub fn last_request(&self) -> &[Vec<u8>] {
        &self.args[..self.argc]
    }

    /// Appends one argument, reusing a spare buffer when there is one.
    fn push_arg(&mut self, data: &[u8]) {
        let cap = if let Some(slot) = self.args.get_mut(self.argc) {
            let before = slot.capacity();
            slot.clear();
            slot.extend_from_slice(data);
            self.kept += slot.capacity() - before;
            slot.capacity()
        } else {
            let arg = data.to_vec();
            let cap = arg.capacity();
            self.kept += cap;
            self.args.push(arg);
            cap
        };
        self.oversized |= cap > KEEP_ARG_CAPACITY;
        self.argc += 1;
    }

    /// Frees argument buffers beyond what may be kept between requests (see the module docs).
    /// Cheap when there is nothing to free: three comparisons.
    fn release_spare(&mut self) {
        if !self.oversized && self.kept <= KEEP_ARGS_BYTES && self.args.len() <= KEEP_ARGS {
            return;
        }
        self.args.truncate(KEEP_ARGS);
        let mut kept = 0;
        for slot in &mut self.args {
            if slot.capacity() > KEEP_ARG_CAPACITY || kept + slot.capacity() > KEEP_ARGS_BYTES {
                *slot = Vec::new();
            }
            kept += slot.capacity();
        }
        self.kept = kept;
        self.oversized = false;
    }

    /// Summed capacity of the argument buffers held (for tests).
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.args.iter().map(Vec::capacity).sum()
    }
}
